//! Contract bindings generated from the committed forge artifacts in `contracts/artifacts/`
//! (so building never needs node or solc).

#![allow(missing_docs, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    TandemRollup,
    "../../contracts/artifacts/TandemRollup.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    DevToken,
    "../../contracts/artifacts/DevToken.json"
);
