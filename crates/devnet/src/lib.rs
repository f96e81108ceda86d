//! Local Tandem devnets, for `tandem devnet`, the end-to-end tests and the benchmarks: anvil
//! ([`anvil`]) and solc ([`solc`]) from the repository's npm packages, contract deployments
//! (single sequencer and staked, [`deploy`]), the staked-set bootstrap ([`staked_set`]), the
//! one typed builder of `tandem node` arguments ([`node_args`]), ports for child processes
//! that no parallel test can take (`tandem-ports`), and child-process supervision with log files,
//! readiness waits and SIGTERM-then-SIGKILL stops ([`process`]).
//!
//! It depends on no role crate (node, prover, consensus), so their tests can use it as a
//! dev-dependency; values a role computes (the genesis state root) come in as parameters.

#![warn(missing_docs)]

pub mod anvil;
pub mod deploy;
pub mod error;
pub mod node_args;
pub mod process;
pub mod solc;
pub mod staked_set;

pub use deploy::{
    deploy_bytecode, deploy_devnet, deploy_devnet_with_verifier, deploy_staked_devnet, devnet_market_params, min_admin_delay, Deployment,
    ExodusParams, FaultProofs, ForcedInboxParams, StakedDeployment, StakedParams, COMMITTED_EXIT_VERIFIER_CHAIN_ID,
};
pub use error::DevnetError;
pub use node_args::{MemberArgs, NodeCommand, ZkArgs};
pub use process::{tail, wait_ready, Supervised};
pub use staked_set::{
    advance_time_by, advance_time_to, anvil_rpc, bootstrap_staked_set, next_epoch, StakedMember, StakedSet, StakedSetSpec,
};
pub use tandem_ports::{free_port, free_ports, PortError};
