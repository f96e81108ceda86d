//! Evidence reporting: the engine's double votes go to L1 for slashing.

use tandem_chain::VoteType;
use tandem_consensus::DoubleVote;
use tracing::{info, warn};

use super::{lock, Member};
use crate::metrics::Metrics;

impl Member {
    /// Sends the engine's evidence to L1 (this member is the reporter and gets the reward).
    pub(super) async fn report_evidence(&self) {
        let pending: Vec<DoubleVote> = std::mem::take(&mut *lock(&self.evidence));
        for e in pending {
            let vote_type = if e.vote_type == 0 { VoteType::Prevote } else { VoteType::Precommit };
            match self.staking.report_double_vote(e.height, e.round, vote_type, e.first.0, &e.first.1 .0, e.second.0, &e.second.1 .0).await
            {
                Ok(report) => {
                    Metrics::inc(&self.node.metrics.slashings_reported);
                    info!(offender = %e.signer, staker = %report.staker, slashed = %report.slashed, reward = %report.reporter_reward, l1_tx = %report.tx, "double vote slashed on L1");
                }
                Err(err) => warn!(offender = %e.signer, height = e.height, error = %err, "double-vote report refused (already slashed?)"),
            }
        }
    }
}
