//! The member's side of the JSON-RPC API: `tandem_api::MemberApi`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use alloy::primitives::Bytes;
use jsonrpsee::core::RpcResult;
use jsonrpsee::RpcModule;
use tandem_api::{ApiError, BatchSignature, EpochSetView, ForwardReceipt, MemberApiServer, SequencerSetView, SetMemberView, Stake};

use super::forwarding::FORWARD_CHUNK;
use super::{lock, Member};
use crate::records::*;

/// The server of [`MemberApiServer`] over a member.
struct MemberRpc(Arc<Member>);

impl MemberApiServer for MemberRpc {
    fn batch_signature(&self, number: u64) -> RpcResult<Option<BatchSignature>> {
        let signature = self.0.batch_signature(number).map_err(crate::rpc::internal)?;
        Ok(signature.map(BatchSignature::from))
    }

    fn forward_transactions(&self, txs: Vec<Bytes>) -> RpcResult<ForwardReceipt> {
        if txs.len() > FORWARD_CHUNK {
            return Err(ApiError::InvalidParams(format!("at most {FORWARD_CHUNK} transactions per call")).into());
        }
        let inputs: Vec<&[u8]> = txs.iter().map(|tx| tx.as_ref()).collect();
        let accepted = self.0.node.submit_batch(&inputs, crate::node::Admission::Forwarded).iter().filter(|r| r.is_ok()).count();
        Ok(ForwardReceipt { received: txs.len() as u32, accepted: accepted as u32 })
    }

    fn sequencer_set(&self) -> RpcResult<SequencerSetView> {
        let member = &self.0;
        let view = lock(&member.view);
        let height = read_meta(&member.node.db, META_CONSENSUS_HEIGHT).ok().flatten().unwrap_or(0);
        let sets = view
            .sets
            .iter()
            .rev()
            .take(2)
            .map(|(epoch, set)| EpochSetView {
                epoch: *epoch,
                total_stake: Stake(set.total_stake),
                members: set
                    .members
                    .iter()
                    .map(|m| SetMemberView { staker: m.staker, signing_key: m.signing_key, stake: Stake(m.stake) })
                    .collect(),
            })
            .collect();
        Ok(SequencerSetView {
            me: member.address(),
            consensus_height: height,
            heights_proposed: member.node.metrics.blocks_proposed.load(Ordering::Relaxed),
            slashings_reported: member.node.metrics.slashings_reported.load(Ordering::Relaxed),
            l1_epoch: view.current_epoch,
            sets,
        })
    }
}

/// The member's extra RPC methods (`tandem_api::MemberApi`).
pub(super) fn member_module(member: Arc<Member>) -> RpcModule<Arc<Member>> {
    let mut module = RpcModule::new(member.clone());
    module.merge(MemberRpc(member).into_rpc()).expect("unique method names");
    module
}
