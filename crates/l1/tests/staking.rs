//! The staked mode on a real L1 (anvil): the Rust digests equal the contract's, active sets
//! ranked as the contract ranks them, signed commits accepted above 2/3 of the stake and
//! refused at or below it, double-vote evidence slashing and paying the reporter, rewards
//! (funded pools and the per-batch emission), unbonding enforced by L1 time, and what the
//! deployment fixes (staking bound to its rollup, the admin delay, no owner power over the set).

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use sha2::Digest;
use tandem_chain::{batch_digest, sign_digest, vote_digest, BatchHeader, Lane, VoteType};
use tandem_devnet::anvil::test_anvil;
use tandem_devnet::{deploy_staked_devnet, StakedDeployment, StakedParams};
use tandem_l1::bindings::SequencerStaking::{self, SequencerStakingErrors};
use tandem_l1::{ContractRevert, L1Error, PrivateKeySigner, RollupClient, StakingClient};

const TOKEN: u128 = 1_000_000_000_000_000_000;
const EPOCH: u64 = 600;
const WINDOW: u64 = 100;
const UNBONDING: u64 = 1_000;
const TREASURY: Address = Address::repeat_byte(0x7e);

struct Devnet {
    _anvil: alloy::node_bindings::AnvilInstance,
    url: String,
    keys: Vec<PrivateKeySigner>,
    deployment: StakedDeployment,
    genesis: B256,
}

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(TOKEN)
}

async fn devnet() -> Devnet {
    devnet_with_emission(U256::ZERO).await
}

async fn devnet_with_emission(emission_per_batch: U256) -> Devnet {
    let anvil = test_anvil().expect("anvil (run `npm ci`)");
    let url = anvil.endpoint();
    let keys: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| PrivateKeySigner::from(k.clone())).collect();
    let params = StakedParams {
        treasury: TREASURY,
        min_stake: tokens(100),
        max_stake: tokens(10_000),
        epoch_length: EPOCH,
        unbonding_delay: UNBONDING,
        max_active: 4,
        max_stakers: 8,
        slash_bps: 1_000,
        reporter_bps: 3_000,
        challenge_window: WINDOW,
        emission_per_batch,
    };
    let genesis = keccak256("genesis");
    let deployment =
        deploy_staked_devnet(&url, keys[0].clone(), genesis, &params, &tandem_devnet::ExodusParams::unexercised(), tokens(1_000_000), None)
            .await
            .expect("deploy");
    Devnet { _anvil: anvil, url, keys, deployment, genesis }
}

/// Batch/vote signing key of sequencer `i` (distinct from its L1 account).
fn signing_key(i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&keccak256(format!("tandem.test.sequencer.{i}"))).expect("valid scalar")
}

impl Devnet {
    fn staking(&self, account: usize) -> StakingClient {
        StakingClient::new(&self.url, self.deployment.staking, Some(self.keys[account].clone())).expect("client")
    }

    /// Account `i` receives `amount` from the deployer and stakes it with `signing_key(i)`.
    async fn stake(&self, i: usize, amount: U256) -> StakingClient {
        let owner = RollupClient::new(&self.url, self.deployment.rollup, Some(self.keys[0].clone())).expect("client");
        owner.mint_dev_token(self.deployment.token, self.keys[i].address(), amount).await.expect("mint");
        let client = self.staking(i);
        client.stake(amount, signing_key(i).address(), format!("10.0.0.{i}:26656").as_bytes()).await.expect("stake");
        client
    }

    /// Time travel: `evm_increaseTime` + `evm_mine` until the latest block's timestamp is at
    /// least `target` (anvil's clock may run ahead of the wall clock after many blocks).
    async fn advance_to(&self, target: u64) {
        let provider = ProviderBuilder::new().connect_http(self.url.parse().expect("url"));
        loop {
            let now = self.latest_timestamp().await;
            if now >= target {
                return;
            }
            let _: serde_json::Value = provider.raw_request("evm_increaseTime".into(), (target - now,)).await.expect("increaseTime");
            let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.expect("mine");
        }
    }

    async fn mint(&self, to: usize, amount: U256) {
        let owner = RollupClient::new(&self.url, self.deployment.rollup, Some(self.keys[0].clone())).expect("client");
        owner.mint_dev_token(self.deployment.token, self.keys[to].address(), amount).await.expect("mint");
    }

    async fn latest_timestamp(&self) -> u64 {
        RollupClient::new(&self.url, self.deployment.rollup, None).expect("client").latest_timestamp().await.expect("timestamp")
    }

    /// Advances to the start of the next epoch and materializes it; returns the epoch.
    async fn next_epoch(&self) -> u64 {
        let client = self.staking(0);
        let next = client.current_epoch().await.expect("epoch") + 1;
        let start = client.epoch_start(next).await.expect("start");
        self.advance_to(start).await;
        assert_eq!(client.sync_epoch().await.expect("sync"), next);
        next
    }
}

/// `seed` with its top 3 bits cleared: below the BN254 field modulus, as the rollup requires of
/// a committed state root (real roots are Poseidon outputs).
fn field_root(mut seed: B256) -> B256 {
    seed.0[0] &= 0x1f;
    seed
}

/// A consistent header for batch `number` after root `prev`, carrying one Noop op.
fn noop_batch(number: u64, prev: B256) -> (BatchHeader, Vec<u8>) {
    let data = vec![0u8];
    let header = BatchHeader {
        batch_number: number,
        prev_state_root: prev,
        new_state_root: field_root(keccak256(format!("root {number}"))),
        public_data_hash: B256::from(<[u8; 32]>::from(sha2::Sha256::digest(&data))),
        intermediate_roots_root: keccak256(format!("intermediate {number}")),
        priority_ops_count: 0,
        lane: Lane::Optimistic,
        op_count: 1,
        fee_account: 0,
    };
    (header, data)
}

/// Whether `result` is the staking contract's custom error `variant` (decoded from the ABI).
macro_rules! reverted_with {
    ($result:expr, $variant:ident) => {
        matches!($result, Err(L1Error::Reverted(ContractRevert::Staking(SequencerStakingErrors::$variant(_)))))
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_digests_equal_the_contracts() {
    let net = devnet().await;
    let d = &net.deployment;
    let staking = SequencerStaking::new(d.staking, ProviderBuilder::new().connect_http(net.url.parse().expect("url")));
    assert_eq!(d.l1_chain_id, 31337);
    for (batch, header) in [(1u64, keccak256("a")), (u64::MAX, B256::ZERO), (77, B256::repeat_byte(0xff))] {
        let on_chain = staking.batchDigest(0, batch, header).call().await.expect("batchDigest");
        assert_eq!(batch_digest(d.l1_chain_id, d.rollup, 0, batch, header), on_chain, "batch {batch}");
    }
    let votes = [
        (0u64, 0u32, VoteType::Prevote, B256::ZERO),
        (12, 3, VoteType::Precommit, keccak256("block")),
        (u64::MAX, u32::MAX, VoteType::Precommit, B256::repeat_byte(0xee)),
    ];
    for (height, round, vote_type, value) in votes {
        let on_chain = staking.voteDigest(height, round, vote_type as u8, value).call().await.expect("voteDigest");
        assert_eq!(vote_digest(d.l1_chain_id, d.rollup, height, round, vote_type, value), on_chain, "vote {height}/{round}");
    }
    // Another rollup or chain is another digest.
    assert_ne!(batch_digest(d.l1_chain_id, d.staking, 0, 1, keccak256("a")), batch_digest(d.l1_chain_id, d.rollup, 0, 1, keccak256("a")));
    assert_ne!(batch_digest(1, d.rollup, 0, 1, keccak256("a")), batch_digest(d.l1_chain_id, d.rollup, 0, 1, keccak256("a")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_set_is_ranked_by_stake_then_lower_address_with_network_addresses() {
    let net = devnet().await;
    let stakes = [(1usize, 300u64), (2, 100), (3, 200), (4, 200)];
    for (i, amount) in stakes {
        net.stake(i, tokens(amount)).await;
    }
    let client = net.staking(1);
    assert_eq!(client.active_set(0).await.expect("epoch 0").members, vec![], "stakes count from the next epoch");
    let epoch = net.next_epoch().await;
    let set = client.active_set(epoch).await.expect("set");

    let mut expected: Vec<(Address, U256)> = stakes.iter().map(|(i, s)| (net.keys[*i].address(), tokens(*s))).collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let ranked: Vec<(Address, U256)> = set.members.iter().map(|m| (m.staker, m.stake)).collect();
    assert_eq!(ranked, expected, "stake descending, ties by lower address");
    assert_eq!(set.total_stake, tokens(800));
    for m in &set.members {
        let i = stakes.iter().find(|(i, _)| net.keys[*i].address() == m.staker).expect("a staker").0;
        assert_eq!(m.signing_key, signing_key(i).address());
    }

    let peers = client.member_peers(epoch).await.expect("peers");
    assert_eq!(peers.len(), 4);
    for (peer, member) in peers.iter().zip(&set.members) {
        assert_eq!((peer.staker, peer.signing_key), (member.staker, member.signing_key), "same order as the set");
        let i = stakes.iter().find(|(i, _)| net.keys[*i].address() == peer.staker).expect("a staker").0;
        assert_eq!(peer.network_address, format!("10.0.0.{i}:26656").into_bytes());
    }
    let info = client.staker_info(net.keys[1].address()).await.expect("info");
    assert!(info.registered);
    assert_eq!((info.active_stake, info.unbonding), (tokens(300), U256::ZERO));

    // Rewards: funded in this epoch, claimable pro rata after it.
    let funder = net.staking(5);
    let owner = RollupClient::new(&net.url, net.deployment.rollup, Some(net.keys[0].clone())).expect("client");
    owner.mint_dev_token(net.deployment.token, net.keys[5].address(), tokens(80)).await.expect("mint");
    assert_eq!(funder.fund_rewards(tokens(80)).await.expect("fund"), epoch);
    assert!(reverted_with!(&client.claim_reward(epoch).await, EpochNotOver));
    net.next_epoch().await;
    assert_eq!(client.pending_reward(epoch, net.keys[1].address()).await.expect("pending"), tokens(30), "300/800 of 80");
    let before = client.token_balance(net.keys[1].address()).await.expect("balance");
    assert_eq!(client.claim_reward(epoch).await.expect("claim"), tokens(30));
    assert_eq!(client.token_balance(net.keys[1].address()).await.expect("balance"), before + tokens(30));
    assert_eq!(client.pending_reward(epoch, net.keys[1].address()).await.expect("pending"), U256::ZERO, "paid once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_commit_needs_more_than_two_thirds_of_the_stake() {
    let net = devnet().await;
    // 100, 100, 100, 300 of 600: 2/3 is exactly 400.
    for (i, amount) in [(1usize, 100u64), (2, 100), (3, 100), (4, 300)] {
        net.stake(i, tokens(amount)).await;
    }
    net.next_epoch().await;
    let d = &net.deployment;
    let submitter = RollupClient::new(&net.url, d.rollup, Some(net.keys[5].clone())).expect("client");
    let (header, data) = noop_batch(1, net.genesis);
    let digest = batch_digest(d.l1_chain_id, d.rollup, 0, 1, header.hash());
    let sign = |who: &[usize]| -> Vec<[u8; 65]> { who.iter().map(|i| sign_digest(&signing_key(*i), digest)).collect() };

    // Exactly 2/3 (300 + 100) and less (100 + 100) are refused.
    let refused = submitter.commit_batch_signed(&header, &data, 0, sign(&[4, 1])).await;
    assert!(reverted_with!(&refused, InsufficientSignedStake), "{refused:?}");
    let refused = submitter.commit_batch_signed(&header, &data, 0, sign(&[2, 3])).await;
    assert!(reverted_with!(&refused, InsufficientSignedStake), "{refused:?}");
    // A non-member's signature is refused by name.
    let refused = submitter.commit_batch_signed(&header, &data, 0, sign(&[4, 1, 2, 9])).await;
    assert!(reverted_with!(&refused, NotActiveMember), "{refused:?}");
    // The same signer twice never reaches L1.
    let refused = submitter.commit_batch_signed(&header, &data, 0, sign(&[4, 1, 4])).await;
    assert!(
        matches!(refused, Err(L1Error::Signatures(tandem_chain::SignatureSetError::DuplicateSigner(a))) if a == signing_key(4).address()),
        "{refused:?}"
    );
    assert_eq!(submitter.last_committed_batch().await.expect("tip"), 0);

    // 500 of 600, handed over in an order that is not the signers' address order.
    let mut signers = vec![3usize, 4, 1];
    signers.sort_by_key(|i| std::cmp::Reverse(signing_key(*i).address()));
    submitter.commit_batch_signed(&header, &data, 0, sign(&signers)).await.expect("accepted above 2/3");
    assert_eq!(submitter.last_committed_batch().await.expect("tip"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_vote_evidence_slashes_and_pays_the_reporter() {
    let net = devnet().await;
    for (i, amount) in [(1usize, 1_000u64), (2, 1_000), (3, 1_000)] {
        net.stake(i, tokens(amount)).await;
    }
    net.next_epoch().await;
    let d = &net.deployment;
    let reporter = net.staking(6);
    let value_a = keccak256("value A");
    let value_b = keccak256("value B");
    let vote = |value| sign_digest(&signing_key(2), vote_digest(d.l1_chain_id, d.rollup, 9, 1, VoteType::Precommit, value));
    let (sig_a, sig_b) = (vote(value_a), vote(value_b));

    let report = reporter.report_double_vote(9, 1, VoteType::Precommit, value_a, &sig_a, value_b, &sig_b).await.expect("slashed");
    assert_eq!(report.staker, net.keys[2].address());
    assert_eq!(report.slashed, tokens(100), "10% of 1000");
    assert_eq!(report.reporter_reward, tokens(30), "30% of the slash");
    assert_eq!(reporter.token_balance(net.keys[6].address()).await.expect("balance"), tokens(30));
    assert_eq!(reporter.token_balance(TREASURY).await.expect("balance"), tokens(70));
    assert_eq!(reporter.staker_info(net.keys[2].address()).await.expect("info").active_stake, tokens(900));

    // The same offence is slashed once.
    let again = reporter.report_double_vote(9, 1, VoteType::Precommit, value_b, &sig_b, value_a, &sig_a).await;
    assert!(reverted_with!(&again, VoteEvidenceAlreadyUsed), "{again:?}");
    // Two votes of different signers are no evidence.
    let other = sign_digest(&signing_key(3), vote_digest(d.l1_chain_id, d.rollup, 10, 0, VoteType::Prevote, value_b));
    let mine = sign_digest(&signing_key(2), vote_digest(d.l1_chain_id, d.rollup, 10, 0, VoteType::Prevote, value_a));
    let refused = reporter.report_double_vote(10, 0, VoteType::Prevote, value_a, &mine, value_b, &other).await;
    assert!(reverted_with!(&refused, SignerMismatch), "{refused:?}");

    // A batch double sign by the same key is a separate offence.
    let (ha, hb) = (keccak256("header A"), keccak256("header B"));
    let sa = sign_digest(&signing_key(2), batch_digest(d.l1_chain_id, d.rollup, 0, 9, ha));
    let sb = sign_digest(&signing_key(2), batch_digest(d.l1_chain_id, d.rollup, 0, 9, hb));
    let report = reporter.report_double_sign(0, 9, ha, &sa, hb, &sb).await.expect("slashed");
    assert_eq!(report.slashed, tokens(90), "10% of the remaining 900");
    assert_eq!(reporter.token_balance(net.keys[6].address()).await.expect("balance"), tokens(30) + tokens(27));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdraw_is_refused_before_the_unbonding_delay_and_pays_after() {
    let net = devnet().await;
    let staker = net.stake(1, tokens(500)).await;
    let who = net.keys[1].address();
    assert_eq!(staker.token_balance(who).await.expect("balance"), U256::ZERO);
    assert!(reverted_with!(&staker.unstake(tokens(450)).await, BelowMinStake), "50 left would be below the minimum");
    // A transaction refused at gas estimation must not stall the client's next one (nonce gap).
    staker.unstake(tokens(500)).await.expect("unstake all");
    let info = staker.staker_info(who).await.expect("info");
    assert!(!info.registered);
    assert_eq!((info.active_stake, info.unbonding), (U256::ZERO, tokens(500)));
    assert_eq!(info.unbonding_end, net.latest_timestamp().await + UNBONDING, "the unstake block + the delay");

    let early = staker.withdraw().await;
    assert!(reverted_with!(&early, UnbondingNotOver), "{early:?}");
    net.advance_to(info.unbonding_end - 100).await;
    assert!(reverted_with!(&staker.withdraw().await, UnbondingNotOver));
    net.advance_to(info.unbonding_end).await;
    staker.withdraw().await.expect("paid after the delay");
    assert_eq!(staker.token_balance(who).await.expect("balance"), tokens(500));
    assert!(reverted_with!(&staker.withdraw().await, NothingToWithdraw), "paid once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emission_accrues_per_signed_batch_and_members_claim_their_share() {
    let net = devnet_with_emission(tokens(5)).await;
    for (i, amount) in [(1usize, 100u64), (2, 300), (3, 600)] {
        net.stake(i, tokens(amount)).await;
    }
    let funder = net.staking(5);
    assert_eq!(funder.emission_per_batch().await.expect("parameter"), tokens(5));
    net.mint(5, tokens(12)).await;
    assert_eq!(funder.fund_emission(tokens(12)).await.expect("fund"), tokens(12), "new reserve");
    assert_eq!(funder.emission_reserve().await.expect("reserve"), tokens(12));
    let epoch = net.next_epoch().await;

    let d = &net.deployment;
    let submitter = RollupClient::new(&net.url, d.rollup, Some(net.keys[6].clone())).expect("client");
    let mut prev = net.genesis;
    // (signers, pool after the commit, reserve after): 5 per batch until the reserve runs
    // dry (2 left for batch 3), then nothing, and the commit still goes through. Batch 2 is
    // signed by members 2 and 3 only (900 of 1000): the pool is the whole set's anyway.
    let expected = [(&[1usize, 2, 3][..], 5u64, 7u64), (&[2, 3], 10, 2), (&[3, 1, 2], 12, 0), (&[1, 2, 3], 12, 0)];
    for (n, (signers, pool, reserve)) in (1u64..).zip(expected) {
        let (header, data) = noop_batch(n, prev);
        let digest = batch_digest(d.l1_chain_id, d.rollup, 0, n, header.hash());
        let signatures = signers.iter().map(|i| sign_digest(&signing_key(*i), digest)).collect();
        submitter.commit_batch_signed(&header, &data, 0, signatures).await.expect("signed commit");
        prev = header.new_state_root;
        assert_eq!(funder.reward_pool(epoch).await.expect("pool"), tokens(pool), "pool after batch {n}");
        assert_eq!(funder.emission_reserve().await.expect("reserve"), tokens(reserve), "reserve after batch {n}");
    }
    assert_eq!(submitter.last_committed_batch().await.expect("tip"), 4, "the empty-reserve commit went through");
    // The staking contract holds exactly the stakes and the (unclaimed) pool.
    assert_eq!(funder.token_balance(d.staking).await.expect("balance"), tokens(1_000) + tokens(12));

    let member = net.staking(1);
    assert!(reverted_with!(&member.claim_reward(epoch).await, EpochNotOver));
    net.next_epoch().await;
    let share = tokens(12) * U256::from(100) / U256::from(1_000);
    assert_eq!(member.pending_reward(epoch, net.keys[1].address()).await.expect("pending"), share, "100/1000 of 12");
    let before = member.token_balance(net.keys[1].address()).await.expect("balance");
    assert_eq!(member.claim_reward(epoch).await.expect("claim"), share);
    assert_eq!(member.token_balance(net.keys[1].address()).await.expect("balance"), before + share);
    assert_eq!(net.staking(3).claim_reward(epoch).await.expect("claim"), tokens(12) * U256::from(6) / U256::from(10), "60%");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emission_reserve_is_refused_without_an_emission() {
    let net = devnet().await;
    let funder = net.staking(5);
    assert_eq!(funder.emission_per_batch().await.expect("parameter"), U256::ZERO);
    net.mint(5, tokens(1)).await;
    assert!(reverted_with!(&funder.fund_emission(tokens(1)).await, EmissionDisabled));
    assert_eq!(funder.emission_reserve().await.expect("reserve"), U256::ZERO);
}

/// No admin shortcut (SPEC §13) as deployed: staking is bound to its rollup at deployment, the
/// rollup's admin delay is the contract's floor (which the Rust mirror equals), the owner
/// cannot replace the staked set, and a dust top-up is refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_fixes_the_binding_and_admin_delay_and_refuses_set_changes_by_owner_or_dust() {
    let net = devnet().await;
    let (owner_provider, _) = tandem_l1::connect(&net.url, Some(net.keys[0].clone())).expect("provider");
    let staking = SequencerStaking::new(net.deployment.staking, owner_provider.clone());
    assert_eq!(staking.rollup().call().await.expect("rollup"), net.deployment.rollup, "bound at deployment");
    let rollup = tandem_l1::bindings::staked::StakedRollup::new(net.deployment.rollup, owner_provider);
    let floor = rollup.minAdminDelay(WINDOW).call().await.expect("floor");
    assert_eq!(floor, U256::from(tandem_devnet::min_admin_delay(WINDOW)), "the Rust mirror equals the contract's floor");
    assert_eq!(rollup.adminDelay().call().await.expect("delay"), tandem_devnet::min_admin_delay(WINDOW));

    let refused = rollup.proposeSequencer(net.keys[0].address()).send().await.map_err(tandem_l1::contract_error);
    assert!(
        matches!(
            refused,
            Err(L1Error::Reverted(ContractRevert::StakedRollup(
                tandem_l1::bindings::staked::StakedRollup::StakedRollupErrors::SequencerFixedInStakedMode(_)
            )))
        ),
        "{refused:?}"
    );

    let client = net.stake(1, tokens(500)).await;
    net.mint(1, U256::from(1u64)).await;
    let refused = client.stake(U256::from(1u64), Address::ZERO, b"").await;
    assert!(reverted_with!(&refused, StakeChangeTooSmall), "{refused:?}");
}
