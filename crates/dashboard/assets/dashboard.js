// Tandem dashboard: polls the node's read-only endpoint (/api/<JSON-RPC method>) and draws
// the page. Every text goes in through textContent, never as HTML.
"use strict";

const POLL_MS = 1000;
const BLOCKS_SHOWN = 30;
const BLOCKS_KEPT = 120;
const CHART_SECONDS = 300;
const BUCKET_SECONDS = 10;
const SVG_NS = "http://www.w3.org/2000/svg";

const state = {
  params: null,
  head: 0,
  blocks: new Map(),
  batches: new Map(),
  set: null,
  setServed: false,
};

class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function call(method, params = []) {
  const url = `/api/${method}?params=${encodeURIComponent(JSON.stringify(params))}`;
  const response = await fetch(url, { cache: "no-store" });
  let body;
  try {
    body = await response.json();
  } catch (e) {
    throw new ApiError(0, `the node answered HTTP ${response.status} without JSON`);
  }
  if (body.error) throw new ApiError(body.error.code, body.error.message);
  return body.result;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function badge(status) {
  return el("span", { class: `badge ${status}` }, status);
}

function short(hex) {
  return hex && hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}

// A decimal string of base units with 18 decimals, as whole units (trailing zeros dropped).
function units18(text) {
  const digits = String(text).replace(/^0+/, "") || "0";
  const padded = digits.padStart(19, "0");
  const whole = padded.slice(0, -18);
  const frac = padded.slice(-18).replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : whole;
}

function seconds(s) {
  if (s < 0) s = 0;
  if (s < 120) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function now() {
  return Date.now() / 1000;
}

function setStatus(text, isError) {
  const line = document.getElementById("status-line");
  line.textContent = text;
  line.classList.toggle("error", Boolean(isError));
}

// ---- polling ---------------------------------------------------------------------------

async function refresh() {
  if (!state.params) {
    const served = await (await fetch("/api", { cache: "no-store" })).json();
    state.setServed = served.methods.includes("tandem_sequencerSet");
    state.params = await call("tandem_chainParams");
    renderChainLine();
    renderChallengesAndMarket();
  }
  const head = await call("tandem_blockNumber");
  state.head = head;
  const first = Math.max(1, head - BLOCKS_KEPT + 1);
  const wanted = [];
  for (let n = head; n >= first; n--) {
    if (!state.blocks.has(n)) wanted.push(n);
  }
  await Promise.all(
    wanted.map(async (n) => {
      const block = await call("tandem_getBlock", [n]);
      if (block) state.blocks.set(n, block);
    }),
  );
  for (const n of [...state.blocks.keys()]) {
    if (n < first) {
      state.blocks.delete(n);
      state.batches.delete(n);
    }
  }
  const open = [...state.blocks.keys()].filter((n) => state.batches.get(n)?.status !== "final");
  await Promise.all(
    open.map(async (n) => {
      const batch = await call("tandem_getBatch", [n]);
      if (batch) state.batches.set(n, batch);
    }),
  );
  if (state.setServed) state.set = await call("tandem_sequencerSet");
  renderBlocks();
  renderChart();
  renderSet();
  const finals = [...state.batches.values()].filter((b) => b.status === "final").map((b) => b.number);
  const lastFinal = finals.length ? Math.max(...finals) : null;
  setStatus(
    `latest block ${head}${lastFinal !== null ? `, latest final batch ${lastFinal}` : ""} · updated ${new Date().toLocaleTimeString()}`,
    false,
  );
}

async function poll() {
  try {
    await refresh();
  } catch (e) {
    setStatus(`cannot reach the node: ${e.message} (retrying)`, true);
  }
  setTimeout(poll, POLL_MS);
}

// ---- rendering -------------------------------------------------------------------------

function renderChainLine() {
  const p = state.params;
  const zk = p.zkSlots ? `ZK lane on (${p.zkSlots} slots per proof)` : "ZK lane off";
  document.getElementById("chain-line").textContent =
    `chain ${p.chainId} on L1 chain ${p.l1ChainId} · rollup ${p.rollup} · challenge window ${p.challengeWindow} s · block time ${p.blockTimeMs} ms · ${zk}`;
}

function memberName(address) {
  const members = state.set?.sets?.[0]?.members ?? [];
  const i = members.findIndex((m) => m.signingKey.toLowerCase() === String(address).toLowerCase());
  return i >= 0 ? `member ${i} (${short(address)})` : short(address);
}

// The poster of a batch: a set member by its staker (L1) address, else the address.
function posterName(address) {
  const members = state.set?.sets?.[0]?.members ?? [];
  const i = members.findIndex((m) => m.staker.toLowerCase() === String(address).toLowerCase());
  return i >= 0 ? `member ${i}` : short(address);
}

// Who signed a batch, from its epoch's set and the signer bitmap.
function signersText(signers) {
  const set = state.set?.sets?.find((s) => s.epoch === signers.epoch);
  if (!set) return `signed by the set of epoch ${signers.epoch} (bitmap ${signers.signerBitmap})`;
  const bits = BigInt(signers.signerBitmap);
  const names = [];
  let signed = 0n;
  set.members.forEach((m, i) => {
    if ((bits >> BigInt(i)) & 1n) {
      names.push(i);
      signed += BigInt(m.stake);
    }
  });
  return `signed by members ${names.join(", ")} (${units18(signed)} of ${units18(set.totalStake)} staked, epoch ${signers.epoch})`;
}

function postedBy(batch) {
  if (!batch?.poster) return "";
  const who = posterName(batch.poster);
  return batch.signers ? `${who}; ${signersText(batch.signers)}` : who;
}

function finality(block, batch) {
  if (!batch) return "";
  if (batch.status === "final" && batch.finalizedAt) return seconds(batch.finalizedAt - block.timestamp);
  if (batch.status === "final") return "final";
  return `${seconds(now() - block.timestamp)} so far`;
}

function renderBlocks() {
  const body = document.querySelector("#blocks tbody");
  const rows = [];
  for (let n = state.head; n >= 1 && rows.length < BLOCKS_SHOWN; n--) {
    const block = state.blocks.get(n);
    if (!block) continue;
    const batch = state.batches.get(n);
    const proposer = block.consensus ? memberName(block.consensus.proposer) : "the sequencer";
    rows.push(
      el(
        "tr",
        { "data-block": n },
        el("td", { class: "num" }, n),
        el("td", { class: "num" }, seconds(now() - block.timestamp)),
        el("td", { class: "num" }, block.txHashes.length),
        el("td", { class: "num wide" }, block.priorityOps),
        el("td", { class: "wide" }, block.lane),
        el("td", { class: "batch-status" }, batch ? badge(batch.status) : "…"),
        el("td", { class: "num" }, finality(block, batch)),
        el("td", { class: "wide" }, batch ? batch.waitingFor : ""),
        el("td", { class: "wide mono" }, proposer),
        el("td", { class: "wide posted-by" }, postedBy(batch)),
      ),
    );
  }
  if (rows.length === 0) {
    rows.push(el("tr", {}, el("td", { colspan: 10, class: "inactive" }, "No blocks yet: blocks are produced when there is a deposit or a transaction to include.")));
  }
  body.replaceChildren(...rows);
}

function renderChart() {
  const box = document.getElementById("chart");
  const W = 600, H = 200, L = 50, R = 70, T = 10, B = 30;
  const t1 = now();
  const t0 = t1 - CHART_SECONDS;
  const buckets = new Array(CHART_SECONDS / BUCKET_SECONDS).fill(0);
  const dots = [];
  for (const block of state.blocks.values()) {
    if (block.timestamp < t0) continue;
    const i = Math.min(buckets.length - 1, Math.floor((block.timestamp - t0) / BUCKET_SECONDS));
    buckets[i] += block.opCount;
    const batch = state.batches.get(block.number);
    if (batch?.status === "final" && batch.finalizedAt) dots.push([block.timestamp, Math.max(0, batch.finalizedAt - block.timestamp)]);
  }
  const maxOps = Math.max(1, ...buckets);
  const maxLat = Math.max(1, ...dots.map((d) => d[1]));
  const x = (t) => L + ((t - t0) / CHART_SECONDS) * (W - L - R);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "ops per 10 s and finality latency" });
  chart.append(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#8a94a3" }));
  const bw = (W - L - R) / buckets.length;
  buckets.forEach((ops, i) => {
    if (!ops) return;
    const h = (ops / maxOps) * (H - T - B);
    chart.append(svg("rect", { x: L + i * bw + 1, y: H - B - h, width: bw - 2, height: h, fill: "#7fa7e0" }));
  });
  for (const [t, lat] of dots) {
    chart.append(svg("circle", { cx: x(t), cy: H - B - (lat / maxLat) * (H - T - B), r: 4, fill: "#1b7f3b" }));
  }
  chart.append(svg("text", { x: 4, y: T + 10, "font-size": 11, fill: "#1f5fbf" }, `${maxOps} ops`));
  chart.append(svg("text", { x: W - R + 6, y: T + 10, "font-size": 11, fill: "#1b7f3b" }, seconds(maxLat)));
  chart.append(svg("text", { x: L, y: H - 8, "font-size": 11, fill: "#5b6676" }, "−5 min"));
  chart.append(svg("text", { x: W - R - 24, y: H - 8, "font-size": 11, fill: "#5b6676" }, "now"));
  const total = buckets.reduce((a, b) => a + b, 0);
  const avg = dots.length ? dots.reduce((a, d) => a + d[1], 0) / dots.length : null;
  const legend = el(
    "p",
    { class: "legend" },
    `${total} ops in the last 5 minutes (${(total / CHART_SECONDS).toFixed(2)} ops/s); `,
    avg === null ? "no batch of that period final yet" : `${dots.length} batches final, mean time to finality ${seconds(avg)}`,
  );
  box.replaceChildren(chart, legend);
}

function renderSet() {
  const box = document.getElementById("set");
  if (!state.set) {
    box.replaceChildren(
      el("p", {}, "This node is a single sequencer: it orders every block and posts every batch with its own L1 key (no staked set, no consensus, no slashing)."),
    );
    return;
  }
  const s = state.set;
  const active = s.sets[0];
  const proposed = new Map();
  for (const block of state.blocks.values()) {
    const p = block.consensus?.proposer?.toLowerCase();
    if (p) proposed.set(p, (proposed.get(p) ?? 0) + 1);
  }
  const children = [
    el(
      "dl",
      {},
      el("dt", {}, "L1 epoch"), el("dd", {}, s.l1Epoch),
      el("dt", {}, "consensus height"), el("dd", {}, s.consensusHeight),
      el("dt", {}, "this node"), el("dd", { class: "mono" }, `${memberName(s.me)}, proposed ${s.heightsProposed} decided heights`),
      el("dt", {}, "slashings"), el("dd", {}, `${s.slashingsReported} equivocations reported by this node and slashed on L1`),
    ),
  ];
  if (active) {
    const total = BigInt(active.totalStake);
    const rows = active.members.map((m, i) => {
      const share = total > 0n ? Number((BigInt(m.stake) * 10000n) / total) / 100 : 0;
      const me = m.signingKey.toLowerCase() === s.me.toLowerCase();
      return el(
        "tr",
        { class: me ? "me" : "", "data-member": i },
        el("td", {}, i),
        el("td", { class: "num stake" }, units18(m.stake)),
        el("td", { class: "num" }, `${share}%`),
        el("td", { class: "num" }, proposed.get(m.signingKey.toLowerCase()) ?? 0),
        el("td", { class: "mono addr", title: m.staker }, short(m.staker)),
        el("td", { class: "mono addr wide", title: m.signingKey }, short(m.signingKey)),
      );
    });
    children.push(
      el("p", { class: "note" }, `Set of epoch ${active.epoch}: ${active.members.length} members, total stake ${units18(active.totalStake)} tokens (18 decimals). A batch needs signatures of more than 2/3 of it.`),
      el(
        "div",
        { class: "scroll" },
        el(
          "table",
          { id: "members" },
          el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "stake"), el("th", {}, "share"), el("th", { title: "blocks proposed among those shown" }, "blocks"), el("th", {}, "staker"), el("th", { class: "wide" }, "signing key"))),
          el("tbody", {}, ...rows),
        ),
      ),
    );
  }
  box.replaceChildren(...children);
}

function renderChallengesAndMarket() {
  const p = state.params;
  document.getElementById("challenges").replaceChildren(
    p.disputeGame
      ? el(
          "p",
          {},
          `Active: dispute game ${p.disputeGame}. Within an optimistic batch's ${p.challengeWindow} s window anyone may challenge one of its chunks with a bond; a proof answers it (the bond pays the prover), an unanswered one reverts the batch and every batch after it (SPEC §17). The challenger's own tally: its /status URL (the devnet prints it).`,
        )
      : el(
          "p",
          { class: "inactive" },
          `Not active on this chain: the rollup has no dispute game. Optimistic batches become final when their ${p.challengeWindow} s challenge window passes; nothing can be challenged.`,
        ),
  );
  const market = document.getElementById("market");
  if (p.market) {
    market.replaceChildren(
      el("p", {}, `Active: market ${p.market}. Every ZK-lane batch escrows the fast-lane fees it collected as a proof job; its price rises from a floor to the escrow, provers lock jobs with collateral and are paid on L1 by the market (SPEC §15). A batch shows "final" once its proof is in.`),
      el("p", { class: "inactive" }, "Provers' wins, losses and earnings: tandem prover status --url <prover status URL> (the devnet prints one per prover); jobs, locks and payouts are the market's L1 events."),
    );
  } else {
    const zk = p.zkSlots ? "ZK-lane batches are proven without payment by whoever runs a prover." : "This chain has no ZK lane.";
    market.replaceChildren(el("p", { class: "inactive" }, `Not active on this chain: the rollup has no prover market. ${zk}`));
  }
}

// ---- lookup ----------------------------------------------------------------------------

function showResult(children, isError) {
  const box = document.getElementById("lookup-result");
  box.classList.toggle("error", Boolean(isError));
  box.replaceChildren(...children);
}

function fields(pairs) {
  const dl = el("dl");
  for (const [k, v] of pairs) {
    if (v === null || v === undefined) continue;
    dl.append(el("dt", {}, k), el("dd", {}, v));
  }
  return dl;
}

async function showTransaction(tx) {
  const batch = tx.batch ? await call("tandem_getBatch", [tx.batch]) : null;
  showResult([
    el("strong", {}, "Transaction "),
    badge(tx.status),
    fields([
      ["hash", el("span", { class: "mono" }, tx.hash)],
      ["block", tx.block !== null ? `included in block ${tx.block}` : "not in a block yet"],
      ["batch", batch ? el("span", {}, `batch ${batch.number} (${batch.lane} lane) `, badge(batch.status), ` waiting for: ${batch.waitingFor}`) : null],
      ["reason", tx.reason],
      ["withdrawal", tx.withdrawal ? `batch ${tx.withdrawal.batch}, index ${tx.withdrawal.index}` : null],
    ]),
  ]);
}

function showAccount(a) {
  const balances = Object.entries(a.balances).map(([token, amount]) =>
    token === "0" ? `ETH ${units18(amount)}` : `token ${token}: ${units18(amount)} (18 decimals)`,
  );
  showResult([
    el("strong", {}, `Account #${a.index}`),
    fields([
      ["public key", el("span", { class: "mono" }, a.publicKey)],
      ["nonce", a.pendingNonce !== null && a.pendingNonce !== a.nonce ? `${a.nonce} (next ${a.pendingNonce})` : a.nonce],
      ["balances", balances.length ? balances.join(", ") : "none"],
    ]),
  ]);
}

async function showBlock(n) {
  const block = await call("tandem_getBlock", [n]);
  if (!block) {
    showResult([`No block ${n} on this chain yet (the latest is ${state.head}).`], true);
    return;
  }
  const batch = await call("tandem_getBatch", [n]);
  showResult([
    el("strong", {}, `Block ${n}`),
    fields([
      ["time", new Date(block.timestamp * 1000).toLocaleString()],
      ["ops", `${block.opCount} (${block.priorityOps} deposits, ${block.txHashes.length} transactions)`],
      ["lane", block.lane],
      ["batch", batch ? el("span", {}, badge(batch.status), ` waiting for: ${batch.waitingFor}`) : null],
      ["proposer", block.consensus ? `${memberName(block.consensus.proposer)}, height ${block.consensus.height} round ${block.consensus.round}, epoch ${block.consensus.epoch}` : null],
      ["state root", el("span", { class: "mono" }, block.stateRoot)],
      ["transactions", block.txHashes.length ? el("span", { class: "mono" }, block.txHashes.join(" ")) : "none"],
      ["L1 commit", batch?.l1CommitTx ? el("span", { class: "mono" }, batch.l1CommitTx) : null],
      ["posted by", batch?.poster ? postedBy(batch) : null],
    ]),
  ]);
}

async function lookup(text) {
  const q = text.trim();
  if (q === "") {
    showResult(["Enter a block number, a transaction hash, an account (#index) or a packed public key."], true);
    return;
  }
  if (/^\d+$/.test(q)) return showBlock(Number(q));
  if (q.startsWith("#")) {
    if (!/^#\d+$/.test(q)) {
      showResult([`Malformed account: an account is # followed by its index in digits (e.g. #3); “${q}” is not.`], true);
      return;
    }
    const account = await call("tandem_getAccount", [q]);
    if (!account) showResult([`No account ${q} on this chain.`], true);
    else showAccount(account);
    return;
  }
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
    const tx = await call("tandem_getTransaction", [q]);
    if (tx) return showTransaction(tx);
    const account = await call("tandem_getAccount", [q]);
    if (account) return showAccount(account);
    showResult([`Unknown: no transaction and no account with hash or key ${q} on this chain.`], true);
    return;
  }
  if (q.startsWith("0x")) {
    showResult([`Malformed: a transaction hash or packed public key is 0x followed by 64 hex digits; “${q}” has ${q.length - 2} characters after 0x${/^0x[0-9a-fA-F]*$/.test(q) ? "" : " and some are not hex"}.`], true);
    return;
  }
  showResult([`Not understood: “${q}”. Enter a block number (12), a transaction hash or packed public key (0x + 64 hex digits) or an account (#3).`], true);
}

document.getElementById("lookup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = document.getElementById("lookup-input").value;
  lookup(text).catch((e) => showResult([`The node refused the lookup: ${e.message}`], true));
});

poll();
