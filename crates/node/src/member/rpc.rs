//! The member's JSON-RPC module.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use jsonrpsee::RpcModule;
use serde_json::{json, Value};

use super::forwarding::FORWARD_CHUNK;
use super::{lock, Member};
use crate::node::hex0x;
use crate::records::*;

/// The member's extra RPC methods: `tandem_batchSignature`, `tandem_forwardTransactions`,
/// `tandem_sequencerSet`, and `tandem_sendTransaction` (which also forwards).
pub(super) fn member_module(member: Arc<Member>) -> RpcModule<Arc<Member>> {
    let mut m = RpcModule::new(member);
    m.register_method("tandem_batchSignature", |params, member, _| {
        let number: u64 = params.one()?;
        let sig = member.batch_signature(number).map_err(crate::rpc::internal)?;
        Ok::<Option<String>, jsonrpsee::types::ErrorObjectOwned>(sig.map(|s| hex0x(&s)))
    })
    .expect("unique method name");
    m.register_method("tandem_forwardTransactions", |params, member, _| {
        let txs: Vec<String> = params.one()?;
        if txs.len() > FORWARD_CHUNK {
            return Err(crate::rpc::invalid_params(format!("at most {FORWARD_CHUNK} transactions per call")));
        }
        let mut accepted = 0u32;
        for text in &txs {
            let Ok(bytes) = crate::rpc::decode_hex(text, "transaction") else { continue };
            if member.node.submit(&bytes).is_ok() {
                accepted += 1;
            }
        }
        Ok(json!({ "received": txs.len(), "accepted": accepted }))
    })
    .expect("unique method name");
    m.register_method("tandem_sequencerSet", |_, member, _| {
        let view = lock(&member.view);
        let height = read_meta(&member.node.db, META_CONSENSUS_HEIGHT).ok().flatten().unwrap_or(0);
        let sets: Vec<Value> = view
            .sets
            .iter()
            .rev()
            .take(2)
            .map(|(e, s)| {
                json!({
                    "epoch": e,
                    "totalStake": s.total_stake.to_string(),
                    "members": s.members.iter().map(|m| json!({
                        "staker": m.staker.to_string(),
                        "signingKey": m.signing_key.to_string(),
                        "stake": m.stake.to_string(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok::<Value, jsonrpsee::types::ErrorObjectOwned>(json!({
            "me": member.address().to_string(),
            "consensusHeight": height,
            "heightsProposed": member.node.metrics.blocks_proposed.load(Ordering::Relaxed),
            "slashingsReported": member.node.metrics.slashings_reported.load(Ordering::Relaxed),
            "l1Epoch": view.current_epoch,
            "sets": sets,
        }))
    })
    .expect("unique method name");
    m
}

