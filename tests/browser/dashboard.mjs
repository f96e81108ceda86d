// Drives headless Chromium (Debian's package, through npm playwright-core) against a running
// devnet's dashboard and fails on the first expectation the page does not meet. Run by
// crates/cli/tests/devnet.rs; by hand:
//
//   DASHBOARD_URL=http://127.0.0.1:8745/ TX_HASH=0x… TX_BLOCK=2 EXPECT_STAKES=400,300,200,100 \
//     node tests/browser/dashboard.mjs
//
// Environment: DASHBOARD_URL, TX_HASH and TX_BLOCK (a wallet transfer and its block),
// EXPECT_STAKES (a sequencer set's stakes in whole tokens, in the set's order; empty for a
// single sequencer), EXPECT_MARKET (the rollup's prover market address; empty: the page must
// say the chain has none), optional
// SCREENSHOT_DIR (writes dashboard.png and dashboard-phone.png there), CHROMIUM (default
// /usr/bin/chromium), FINAL_TIMEOUT_MS (how long the transfer's batch may take to turn final
// on the page; default 60000).
import { chromium } from "playwright-core";
import { existsSync } from "node:fs";
import { join } from "node:path";

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const url = need("DASHBOARD_URL");
const txHash = need("TX_HASH");
const txBlock = need("TX_BLOCK");
const stakes = (process.env.EXPECT_STAKES || "").split(",").filter((s) => s !== "");
const staked = stakes.length > 0;
const expectMarket = process.env.EXPECT_MARKET || "";
const screenshots = process.env.SCREENSHOT_DIR;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const finalTimeout = Number(process.env.FINAL_TIMEOUT_MS || 60000);
const origin = new URL(url).origin;

if (!existsSync(executablePath)) {
  throw new Error(`no Chromium at ${executablePath}: ./scripts/test.sh installs Debian's chromium package (or set CHROMIUM)`);
}

// Playwright gives every launch a fresh temporary profile (its --user-data-dir).
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const problems = [];

/// A page that records console errors, uncaught exceptions and any request that leaves the
/// dashboard's origin (refused: the page must need no network).
async function openPage(viewport) {
  const context = await browser.newContext({ viewport });
  await context.route("**/*", (route) => {
    const target = route.request().url();
    if (new URL(target).origin !== origin) {
      problems.push(`request outside the dashboard's origin: ${target}`);
      return route.abort();
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`uncaught exception: ${e.message}`));
  await page.goto(url, { waitUntil: "load" });
  return page;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function lookup(page, text) {
  await page.fill("#lookup-input", text);
  await page.click("#lookup-form button");
}

async function resultContains(page, text) {
  await page.waitForFunction(
    (t) => document.getElementById("lookup-result").textContent.includes(t),
    text,
    { timeout: 10000 },
  ).catch(async () => {
    const shown = await page.textContent("#lookup-result");
    throw new Error(`the lookup result should contain ${JSON.stringify(text)}; it shows ${JSON.stringify(shown)}`);
  });
}

try {
  const page = await openPage({ width: 1280, height: 900 });
  const title = await page.title();
  check(title === "Tandem dashboard", `title is ${JSON.stringify(title)}`);

  // The sequencer set: its members and their stakes, in the set's order (or the single
  // sequencer, said as such).
  if (staked) {
    await page.waitForSelector("#members tbody tr", { timeout: 20000 });
    const shownStakes = await page.$$eval("#members tbody td.stake", (cells) => cells.map((c) => c.textContent));
    check(JSON.stringify(shownStakes) === JSON.stringify(stakes), `member stakes shown ${JSON.stringify(shownStakes)}, expected ${JSON.stringify(stakes)}`);
    console.log(`members and stakes shown: ${shownStakes.join(", ")}`);
  } else {
    await page.waitForFunction(() => document.getElementById("set").textContent.includes("This node is a single sequencer"), null, { timeout: 20000 });
    console.log("single sequencer shown");
  }

  // The prover market panel: the market's address when the rollup has one, else "not active".
  const marketText = () => document.getElementById("market").textContent;
  if (expectMarket) {
    await page.waitForFunction((m) => document.getElementById("market").textContent.includes(`Active: market ${m}`), expectMarket, { timeout: 20000 });
    console.log(`prover market ${expectMarket} shown`);
  } else {
    await page.waitForFunction(() => document.getElementById("market").textContent.includes("Not active on this chain: the rollup has no prover market"), null, { timeout: 20000 });
    check(!(await page.evaluate(marketText)).includes("Active: market"), "no market shown on a chain without one");
    console.log("no prover market shown");
  }

  // The wallet's transfer: in the latest blocks, and found by its hash.
  const row = `#blocks tr[data-block="${txBlock}"]`;
  await page.waitForSelector(row, { timeout: 20000 });
  const txs = await page.textContent(`${row} td:nth-child(3)`);
  check(txs === "1", `block ${txBlock} shows ${txs} transactions, expected 1`);
  const proposer = await page.textContent(`${row} td:nth-child(9)`);
  check(staked ? /^member \d/.test(proposer) : proposer === "the sequencer", `block ${txBlock}'s proposer shows ${JSON.stringify(proposer)}`);
  await lookup(page, txHash);
  await resultContains(page, `included in block ${txBlock}`);
  console.log(`transfer ${txHash} shown in block ${txBlock}, proposed by ${proposer}`);

  // Its batch turns final on the page, without a reload.
  await page
    .waitForFunction((r) => document.querySelector(`${r} .batch-status`)?.textContent === "final", row, { timeout: finalTimeout })
    .catch(async () => {
      throw new Error(`batch ${txBlock} is not final on the page after ${finalTimeout} ms; it shows ${await page.textContent(`${row} .batch-status`)}`);
    });
  const posted = await page.textContent(`${row} td.posted-by`);
  const postedShape = staked ? /^member \d; signed by members [\d, ]+ \(/ : /^0x[0-9a-fA-F]{6}…[0-9a-fA-F]{4}$/;
  check(postedShape.test(posted), `batch ${txBlock}'s poster and signers show ${JSON.stringify(posted)}`);
  const latency = await page.textContent(`${row} td:nth-child(7)`);
  check(/^\d+ s$|min/.test(latency), `batch ${txBlock}'s time to finality shows ${JSON.stringify(latency)}`);
  console.log(`batch ${txBlock} final on the page, ${latency} after its block; posted by ${posted}`);
  await lookup(page, txHash);
  await resultContains(page, "nothing: final");
  if (screenshots) await page.screenshot({ path: join(screenshots, "dashboard.png") });

  // Bad input: a clear message, never a blank result.
  await lookup(page, `0x${"00".repeat(31)}01`);
  await resultContains(page, "Unknown: no transaction and no account");
  await lookup(page, "#abc");
  await resultContains(page, "Malformed account");
  await lookup(page, "0x1234");
  await resultContains(page, "Malformed: a transaction hash or packed public key is 0x followed by 64 hex digits");
  await lookup(page, "#99999999999");
  await resultContains(page, "The node refused the lookup: Invalid params");
  await lookup(page, "hello");
  await resultContains(page, "Not understood");
  check(await page.$eval("#lookup-result", (e) => e.classList.contains("error")), "errors are shown as errors");
  console.log("unknown hash and malformed input show clear messages");

  // Read-only: the dashboard's endpoint refuses state-changing methods and other verbs.
  // (Asked from here, not from the page: the browser logs every 4xx as a console error.)
  const send = await fetch(new URL(`/api/tandem_sendTransaction?params=${encodeURIComponent('["0x00"]')}`, url));
  const post = await fetch(new URL("/api/tandem_getBlock?params=%5B1%5D", url), { method: "POST" });
  const refused = { send: send.status, sendBody: await send.text(), post: post.status };
  check(refused.send === 404 && refused.sendBody.includes("read-only"), `sendTransaction through the dashboard: ${JSON.stringify(refused)}`);
  check(refused.post === 405, `POST to the dashboard: ${refused.post}`);
  console.log("state-changing calls refused (404 for sendTransaction, 405 for POST)");

  // A phone-sized screen: the same page, no sideways scrolling.
  const phone = await openPage({ width: 390, height: 844 });
  if (staked) await phone.waitForSelector("#members tbody tr", { timeout: 20000 });
  await phone.waitForSelector(row, { timeout: 20000 });
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `the page is ${width} px wide on a 390 px screen`);
  if (screenshots) await phone.screenshot({ path: join(screenshots, "dashboard-phone.png"), fullPage: true });
  console.log("phone width: fits in 390 px");

  check(problems.length === 0, `the page had problems:\n${problems.join("\n")}`);
  console.log("all dashboard checks passed");
} finally {
  await browser.close();
}
