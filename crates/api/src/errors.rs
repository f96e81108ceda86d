//! The error codes of the API and the one error type the server answers with.

use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};

/// Code of a request whose params are malformed (JSON-RPC's "invalid params").
pub const INVALID_PARAMS: i32 = -32602;
/// Code of a request the chain's rules refuse; the message is the rule's reason.
pub const REFUSED: i32 = -32000;
/// Code of a failure inside the node (storage); the message says what failed.
pub const INTERNAL: i32 = -32603;

/// Why the server refused a call; each variant has one stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Malformed params ([`INVALID_PARAMS`]); the message names the problem.
    #[error("{0}")]
    InvalidParams(String),
    /// Refused by the rules ([`REFUSED`]); the message is the rule's reason.
    #[error("{0}")]
    Refused(String),
    /// The node failed ([`INTERNAL`]).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// An [`ApiError::Internal`] from any error.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    /// The JSON-RPC error code.
    pub fn code(&self) -> i32 {
        match self {
            ApiError::InvalidParams(_) => INVALID_PARAMS,
            ApiError::Refused(_) => REFUSED,
            ApiError::Internal(_) => INTERNAL,
        }
    }
}

impl From<ApiError> for ErrorObjectOwned {
    fn from(e: ApiError) -> Self {
        ErrorObject::owned(e.code(), e.to_string(), None::<()>)
    }
}
