//! Contract bindings generated from the committed forge artifacts in `contracts/artifacts/`
//! (so building never needs node or solc): `TandemRollup` (single-sequencer rollup), `DevToken`,
//! `ProverMarket` (the proof market),
//! `SequencerStaking` and `staked::StakedRollup` (the staked mode).

#![allow(missing_docs, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc, abi)]
    #[derive(Debug)]
    TandemRollup,
    "../../contracts/artifacts/TandemRollup.json"
);

alloy::sol!(
    #[sol(rpc, abi)]
    #[derive(Debug)]
    DevToken,
    "../../contracts/artifacts/DevToken.json"
);

alloy::sol!(
    #[sol(rpc, abi)]
    #[derive(Debug)]
    SequencerStaking,
    "../../contracts/artifacts/SequencerStaking.json"
);

/// `StakedRollup` in its own module: its ABI names `TandemRollup.BatchHeader` and the other
/// inherited structs again, which would otherwise collide with the `TandemRollup` binding.
pub mod staked {
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug)]
        StakedRollup,
        "../../contracts/artifacts/StakedRollup.json"
    );
}

/// The forced-withdrawal inbox (`contracts/src/ForcedWithdrawals.sol`, SPEC §16), in its own
/// module: `payFee` takes a `TandemRollup.StoredBatch`, which would collide with the
/// `TandemRollup` binding.
pub mod forced {
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug)]
        ForcedWithdrawals,
        "../../contracts/artifacts/ForcedWithdrawals.json"
    );
}

/// The dispute game (`contracts/src/DisputeGame.sol`, SPEC §17), in its own module: it takes
/// `TandemRollup.StoredBatch` and `BatchHeader`, which would collide with the `TandemRollup`
/// binding.
pub mod dispute {
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug)]
        DisputeGame,
        "../../contracts/artifacts/DisputeGame.json"
    );
}

alloy::sol!(
    #[sol(rpc, abi)]
    #[derive(Debug)]
    ProverMarket,
    "../../contracts/artifacts/ProverMarket.json"
);

/// The committed exit verifiers (`contracts/src/verifiers/ExitVerifier_D*.sol`, chain id
/// 31337001, INSECURE public seed): their creation code for deployments, and the interface.
pub mod exit_verifiers {
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug)]
        ExitVerifierD4,
        "../../contracts/artifacts/ExitVerifier_D4.json"
    );
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug)]
        ExitVerifierD24,
        "../../contracts/artifacts/ExitVerifier_D24.json"
    );
}
