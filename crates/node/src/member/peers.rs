//! Peers: the members' registered addresses and JSON-RPC clients for their URLs.

use std::time::Duration;

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use tandem_consensus::Multiaddr;
use tandem_l1::Address;

use super::{lock, Member};

/// Why a registered network address does not parse.
#[derive(Debug, thiserror::Error)]
pub enum PeerAddressError {
    /// The bytes are not UTF-8.
    #[error("network address is not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// The `p2p=` value is not a multiaddr.
    #[error("p2p address {value:?}: {source}")]
    P2p {
        /// The value given.
        value: String,
        /// Why it does not parse.
        source: <Multiaddr as std::str::FromStr>::Err,
    },
    /// A field other than `p2p=…` or `rpc=http(s)://…`.
    #[error("network address field {0:?} is not p2p=… or rpc=http(s)://…")]
    Field(String),
    /// One of the two fields is missing.
    #[error("network address needs both p2p= and rpc=")]
    Incomplete,
}

/// A peer member as registered on L1: `p2p=<multiaddr>;rpc=<url>` (UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddress {
    /// Consensus P2P address.
    pub p2p: Multiaddr,
    /// JSON-RPC URL.
    pub rpc: String,
}

impl PeerAddress {
    /// The registered form.
    pub fn encode(&self) -> Vec<u8> {
        format!("p2p={};rpc={}", self.p2p, self.rpc).into_bytes()
    }

    /// Parses the registered form.
    pub fn decode(bytes: &[u8]) -> Result<Self, PeerAddressError> {
        let text = std::str::from_utf8(bytes).map_err(PeerAddressError::NotUtf8)?;
        let mut p2p = None;
        let mut rpc = None;
        for field in text.split(';') {
            match field.split_once('=') {
                Some(("p2p", v)) => {
                    p2p = Some(v.parse::<Multiaddr>().map_err(|source| PeerAddressError::P2p { value: v.to_string(), source })?)
                }
                Some(("rpc", v)) if v.starts_with("http://") || v.starts_with("https://") => rpc = Some(v.to_string()),
                _ => return Err(PeerAddressError::Field(field.to_string())),
            }
        }
        match (p2p, rpc) {
            (Some(p2p), Some(rpc)) => Ok(Self { p2p, rpc }),
            _ => Err(PeerAddressError::Incomplete),
        }
    }
}

impl Member {
    pub(super) fn client(&self, url: &str) -> Option<HttpClient> {
        let mut clients = lock(&self.http);
        if let Some(c) = clients.get(url) {
            return Some(c.clone());
        }
        let client = HttpClientBuilder::default().request_timeout(Duration::from_secs(5)).build(url).ok()?;
        clients.insert(url.to_string(), client.clone());
        Some(client)
    }

    pub(super) fn peer_urls(&self) -> Vec<(Address, String)> {
        let me = self.address();
        lock(&self.view).peers.iter().filter(|(k, _)| **k != me).map(|(k, u)| (*k, u.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_addresses_round_trip_and_refuse_junk() {
        let a = PeerAddress { p2p: "/ip4/127.0.0.1/tcp/27000".parse().expect("multiaddr"), rpc: "http://127.0.0.1:9000".into() };
        assert_eq!(PeerAddress::decode(&a.encode()).expect("decodes"), a);
        assert!(matches!(PeerAddress::decode(b"p2p=/ip4/1.2.3.4/tcp/1"), Err(PeerAddressError::Incomplete)));
        assert!(matches!(PeerAddress::decode(b"p2p=nonsense;rpc=http://x"), Err(PeerAddressError::P2p { .. })));
        assert!(matches!(PeerAddress::decode(b"rpc=ftp://x;p2p=/ip4/1.2.3.4/tcp/1"), Err(PeerAddressError::Field(_))));
        assert!(matches!(PeerAddress::decode(&[0xff, 0xfe]), Err(PeerAddressError::NotUtf8(_))));
    }
}
