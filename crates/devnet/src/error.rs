//! What can go wrong running a devnet.

use std::path::PathBuf;
use std::time::Duration;
use tandem_l1::L1Error;

/// A devnet failure. Each variant says what to do about it where there is something to do.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// The anvil binary is not where `npm ci` puts it.
    #[error("anvil not found at {0}: run `npm ci` at the repository root")]
    AnvilMissing(PathBuf),
    /// anvil did not start.
    #[error("starting anvil: {0}")]
    AnvilStart(String),
    /// An anvil-specific JSON-RPC call (`evm_mine`, `anvil_setBalance`, …) failed.
    #[error("anvil {method}: {message}")]
    AnvilRpc {
        /// The method.
        method: &'static str,
        /// The error as the endpoint reported it.
        message: String,
    },
    /// The npm solc failed or produced no such contract.
    #[error("solc: {0}")]
    Solc(String),
    /// An L1 call failed (reverts decoded, see [`tandem_l1::ContractRevert`]).
    #[error(transparent)]
    L1(#[from] L1Error),
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A supervised child process exited.
    #[error("{name} exited ({status}); last lines of {}:\n{tail}", log.display())]
    Exited {
        /// The process's name.
        name: String,
        /// Its exit status.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
    },
    /// A readiness condition did not hold in time.
    #[error("{what}: not ready within {} s", timeout.as_secs())]
    NotReady {
        /// What was awaited.
        what: String,
        /// How long.
        timeout: Duration,
    },
    /// No port could be handed out.
    #[error(transparent)]
    Port(#[from] tandem_ports::PortError),
    /// L1 moved on while an epoch was being materialized.
    #[error("syncEpoch materialized epoch {materialized}, not {expected}: L1 time moved on unexpectedly")]
    EpochMoved {
        /// The epoch the bootstrap moved L1 to.
        expected: u64,
        /// The epoch `syncEpoch` stored.
        materialized: u64,
    },
}

impl DevnetError {
    /// A [`DevnetError::Io`] for `what`, to pass to `map_err`.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}
