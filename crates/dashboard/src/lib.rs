//! Tandem's web dashboard: one page (HTML, CSS and JavaScript embedded in the binary, so it
//! needs no CDN and no network at run time) and a read-only HTTP endpoint beside it that
//! answers the page's questions with the node's own JSON-RPC methods, called in process.
//!
//! Read-only by construction: the endpoint answers `GET` only, and only the methods in
//! [`READ_METHODS`] (reads of chain parameters, blocks, batches, transactions, accounts,
//! withdrawals and the sequencer set). `tandem_sendTransaction`, `tandem_forwardTransactions`
//! and every other method are refused before the node sees the call, so nothing reached
//! through the dashboard's port can change state. The page is served with a
//! `Content-Security-Policy` that lets it load and fetch from its own origin only.
//!
//! `GET /api` lists the read methods this node serves; `GET /api/<method>?params=<JSON array>`
//! answers `{"result": …}` or `{"error": {"code",
//! "message"}}`: HTTP 200 for a result and for the method's own refusals (JSON-RPC `-32602`,
//! `-32000`: bad input is an answer, as in JSON-RPC over HTTP), 404 for a method the
//! dashboard does not serve, 400 for a query that is not a JSON array, 500 when the node fails
//! (`-32603`).

use std::net::SocketAddr;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use jsonrpsee::core::server::MethodsError;
use jsonrpsee::Methods;
use serde_json::{json, Value};

/// The JSON-RPC methods the dashboard may call: reads only. Invariant: none of them changes
/// the node's state or signs anything.
pub const READ_METHODS: [&str; 8] = [
    "tandem_chainParams",
    "tandem_blockNumber",
    "tandem_getBlock",
    "tandem_getBatch",
    "tandem_getTransaction",
    "tandem_getAccount",
    "tandem_getWithdrawal",
    "tandem_sequencerSet",
];

/// Longest `params` query the endpoint reads (a hash or an account reference is ~70 bytes).
const MAX_QUERY_BYTES: usize = 1024;

/// JSON-RPC's "method not found" code, for a method the dashboard does not serve.
const METHOD_NOT_SERVED: i32 = -32601;
/// JSON-RPC's "invalid params" code.
const INVALID_PARAMS: i32 = -32602;
/// JSON-RPC's "internal error" code.
const INTERNAL: i32 = -32603;

const INDEX_HTML: &str = include_str!("../assets/index.html");
const DASHBOARD_JS: &str = include_str!("../assets/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("../assets/dashboard.css");

/// Only the page's own origin: no CDN, no other host, no inline script.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Why the dashboard could not start.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The listen address cannot be bound or read back.
    #[error("dashboard on {addr}: {source}")]
    Bind {
        /// Where it was to listen.
        addr: SocketAddr,
        /// Why it could not.
        #[source]
        source: std::io::Error,
    },
}

/// The dashboard's routes over `methods` (the node's JSON-RPC methods; the dashboard calls
/// only those in [`READ_METHODS`]).
pub fn router(methods: impl Into<Methods>) -> Router {
    let methods: Methods = methods.into();
    Router::new()
        .route("/", get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }))
        .route("/dashboard.js", get(|| async { asset(DASHBOARD_JS, "text/javascript; charset=utf-8") }))
        .route("/dashboard.css", get(|| async { asset(DASHBOARD_CSS, "text/css; charset=utf-8") }))
        .route("/api", get(served))
        .route("/api/{method}", get(api))
        .with_state(methods)
}

/// Serves the dashboard on `addr` in a background task; returns the bound address.
pub async fn serve(methods: impl Into<Methods>, addr: SocketAddr) -> Result<SocketAddr, DashboardError> {
    let app = router(methods);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| DashboardError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(|source| DashboardError::Bind { addr, source })?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "dashboard server stopped");
        }
    });
    Ok(local)
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn answer(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn refusal(status: StatusCode, code: i32, message: impl Into<String>) -> Response {
    answer(status, json!({ "error": { "code": code, "message": message.into() } }))
}

/// Why a query string's `params` were refused (the message goes back to the page).
#[derive(Debug, thiserror::Error)]
enum ParamsError {
    #[error("the query is longer than {MAX_QUERY_BYTES} bytes")]
    TooLong,
    #[error("params must be a JSON array")]
    NotAnArray,
    #[error("params are not JSON: {0}")]
    NotJson(serde_json::Error),
}

/// The `params` of the query string as a JSON array (`[]` when absent).
fn params_of(query: Option<&str>) -> Result<Value, ParamsError> {
    let Some(query) = query else { return Ok(json!([])) };
    if query.len() > MAX_QUERY_BYTES {
        return Err(ParamsError::TooLong);
    }
    let Some((_, text)) = form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "params") else {
        return Ok(json!([]));
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(items)) => Ok(Value::Array(items)),
        Ok(_) => Err(ParamsError::NotAnArray),
        Err(e) => Err(ParamsError::NotJson(e)),
    }
}

/// `GET /api`: the read methods this node serves (a single sequencer has no
/// `tandem_sequencerSet`), so the page asks only for what exists.
async fn served(State(methods): State<Methods>) -> Response {
    let served: Vec<&str> = READ_METHODS.iter().copied().filter(|m| methods.method_names().any(|n| n == *m)).collect();
    answer(StatusCode::OK, json!({ "methods": served }))
}

async fn api(State(methods): State<Methods>, Path(method): Path<String>, RawQuery(query): RawQuery) -> Response {
    if !READ_METHODS.contains(&method.as_str()) {
        return refusal(
            StatusCode::NOT_FOUND,
            METHOD_NOT_SERVED,
            format!("{method} is not served by the dashboard: it is read-only and answers only {}", READ_METHODS.join(", ")),
        );
    }
    if !methods.method_names().any(|m| m == method) {
        return refusal(StatusCode::NOT_FOUND, METHOD_NOT_SERVED, format!("this node does not serve {method}"));
    }
    let params = match params_of(query.as_deref()) {
        Ok(p) => p,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, INVALID_PARAMS, e.to_string()),
    };
    match methods.call::<_, Value>(&method, params_to_rpc(params)).await {
        Ok(result) => answer(StatusCode::OK, json!({ "result": result })),
        Err(MethodsError::JsonRpc(e)) => {
            let status = if e.code() == INTERNAL { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
            // jsonrpsee puts the reason for "Invalid params" in `data`; the page shows both.
            let detail = e.data().and_then(|d| serde_json::from_str::<String>(d.get()).ok());
            let message = match detail {
                Some(detail) => format!("{}: {detail}", e.message()),
                None => e.message().to_string(),
            };
            refusal(status, e.code(), message)
        }
        Err(e) => refusal(StatusCode::BAD_REQUEST, INVALID_PARAMS, e.to_string()),
    }
}

/// A JSON array as jsonrpsee's positional params.
fn params_to_rpc(params: Value) -> jsonrpsee::core::params::ArrayParams {
    let mut rpc = jsonrpsee::core::params::ArrayParams::new();
    if let Value::Array(items) = params {
        for item in items {
            // Inserting an already-parsed JSON value cannot fail to serialize.
            rpc.insert(item).expect("a JSON value serializes");
        }
    }
    rpc
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonrpsee::RpcModule;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Raw HTTP/1.1 `verb path` against `addr`: (status, headers and body text).
    async fn http(addr: SocketAddr, verb: &str, path: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let request = format!("{verb} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut text = String::new();
        stream.read_to_string(&mut text).await.expect("read");
        let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status line");
        (status, text)
    }

    /// A module with a read method and a state-changing one that counts its calls.
    fn module(writes: Arc<AtomicUsize>) -> RpcModule<()> {
        let mut module = RpcModule::new(());
        module
            .register_method("tandem_getBlock", |params, _, _| {
                let number: u64 = params.one()?;
                Ok::<_, jsonrpsee::types::ErrorObjectOwned>(json!({ "number": number }))
            })
            .expect("register");
        for name in ["tandem_sendTransaction", "tandem_sendTransactions", "tandem_forwardTransactions", "tandem_batchSignature"] {
            let writes = writes.clone();
            module
                .register_method(name, move |_, _, _| {
                    writes.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, jsonrpsee::types::ErrorObjectOwned>(json!("done"))
                })
                .expect("register");
        }
        module
    }

    #[tokio::test]
    async fn serves_the_page_and_reads_but_never_writes() {
        let writes = Arc::new(AtomicUsize::new(0));
        let addr = serve(module(writes.clone()), "127.0.0.1:0".parse().expect("addr")).await.expect("serve");

        let (status, page) = http(addr, "GET", "/").await;
        assert_eq!(status, 200);
        assert!(page.contains("<title>Tandem dashboard</title>") && page.contains("content-security-policy"), "{page}");
        assert!(!page.contains("http://") && !page.contains("https://"), "the page names no other host");
        for asset in ["/dashboard.js", "/dashboard.css"] {
            assert_eq!(http(addr, "GET", asset).await.0, 200, "{asset}");
        }

        let (status, body) = http(addr, "GET", "/api").await;
        assert_eq!(status, 200);
        assert!(body.contains(r#"{"methods":["tandem_getBlock"]}"#), "{body}");
        let (status, body) = http(addr, "GET", "/api/tandem_getBlock?params=%5B7%5D").await;
        assert_eq!(status, 200);
        assert!(body.contains(r#"{"result":{"number":7}}"#), "{body}");

        // Every way to reach a state-changing method is refused, and it never runs.
        for path in [
            "/api/tandem_sendTransaction?params=%5B%220x00%22%5D",
            "/api/tandem_sendTransactions?params=%5B%5B%220x00%22%5D%5D",
            "/api/tandem_forwardTransactions?params=%5B%5B%5D%5D",
            "/api/tandem_batchSignature?params=%5B1%5D",
        ] {
            let (status, body) = http(addr, "GET", path).await;
            assert_eq!(status, 404, "{path}: {body}");
            assert!(body.contains("is not served by the dashboard: it is read-only"), "{body}");
        }
        for verb in ["POST", "PUT", "DELETE"] {
            assert_eq!(http(addr, verb, "/api/tandem_getBlock").await.0, 405, "{verb}");
            assert_eq!(http(addr, verb, "/").await.0, 405, "{verb} /");
        }
        assert_eq!(writes.load(Ordering::SeqCst), 0);

        // Bad input gets a clear, typed answer.
        let (status, body) = http(addr, "GET", "/api/tandem_getBlock?params=%7B%7D").await;
        assert_eq!(status, 400);
        assert!(body.contains("params must be a JSON array"), "{body}");
        let (status, body) = http(addr, "GET", "/api/tandem_getBlock?params=%5B%22x%22%5D").await;
        assert_eq!(status, 200, "a refusal by the method is an answer: {body}");
        assert!(body.contains(r#""code":-32602"#) && body.contains("Invalid params: invalid type"), "{body}");
        let (status, body) = http(addr, "GET", "/api/tandem_getAccount?params=%5B%22%231%22%5D").await;
        assert_eq!(status, 404);
        assert!(body.contains("this node does not serve tandem_getAccount"), "{body}");
        let long = format!("/api/tandem_getBlock?params={}", "1".repeat(MAX_QUERY_BYTES + 1));
        assert_eq!(http(addr, "GET", &long).await.0, 400);
        assert_eq!(http(addr, "GET", "/nothing-here").await.0, 404);
    }

    #[test]
    fn read_methods_never_name_a_state_changing_method() {
        for write in ["tandem_sendTransaction", "tandem_sendTransactions", "tandem_forwardTransactions", "tandem_batchSignature"] {
            assert!(!READ_METHODS.contains(&write), "{write}");
        }
    }
}
