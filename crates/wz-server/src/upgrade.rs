//! The WebSocket handshake (RFC 6455 §4.2) on HTTP/1.1, done here instead of
//! by axum's `WebSocketUpgrade` so that the connection is a
//! [`tokio_tungstenite::WebSocketStream`] we own. Why: axum's `Message` has
//! no raw frames, and the writer sends a large message as fragments
//! (`ws::feed`), because tungstenite's write buffer keeps the capacity of the
//! largest frame it ever held: a screen that was sent a 100 kB snapshot kept
//! ~119 KiB resident for the rest of its life (issue 11, `loadgen --scenario
//! large`).
//!
//! The checks are axum's: GET, `Connection: upgrade`, `Upgrade: websocket`,
//! `Sec-WebSocket-Version: 13`, a `Sec-WebSocket-Key`, and a connection
//! hyper can upgrade. No subprotocol is negotiated (the product has one).
//! The server speaks HTTP/1.1 only (`listener`), so HTTP/2's extended
//! CONNECT is not needed.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::future::Future;
use tokio_tungstenite::WebSocketStream;
use tracing::debug;
use tungstenite::protocol::{Role, WebSocketConfig};

/// An upgraded connection.
pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// A request that asked to become a WebSocket, not yet answered.
pub struct WsUpgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// Why a request to `/ws` is not a WebSocket handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    MethodNotGet,
    NoConnectionUpgrade,
    NoUpgradeWebsocket,
    Version,
    NoKey,
    /// The request cannot be upgraded (e.g. it did not come over a
    /// connection hyper serves with upgrades).
    NotUpgradable,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let (status, why) = match self {
            Rejection::MethodNotGet => (StatusCode::METHOD_NOT_ALLOWED, "a WebSocket handshake must be a GET"),
            Rejection::NoConnectionUpgrade => (StatusCode::BAD_REQUEST, "the Connection header must include 'upgrade'"),
            Rejection::NoUpgradeWebsocket => (StatusCode::BAD_REQUEST, "the Upgrade header must be 'websocket'"),
            Rejection::Version => (StatusCode::BAD_REQUEST, "Sec-WebSocket-Version must be 13"),
            Rejection::NoKey => (StatusCode::BAD_REQUEST, "the Sec-WebSocket-Key header is missing"),
            Rejection::NotUpgradable => (StatusCode::UPGRADE_REQUIRED, "this connection cannot be upgraded to a WebSocket"),
        };
        (status, why).into_response()
    }
}

/// Whether any comma-separated token of `name` equals `token`, ignoring case.
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| t.trim().eq_ignore_ascii_case(token))
}

impl<S: Send + Sync> FromRequestParts<S> for WsUpgrade {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Rejection> {
        if parts.method != Method::GET {
            return Err(Rejection::MethodNotGet);
        }
        if !has_token(&parts.headers, header::CONNECTION, "upgrade") {
            return Err(Rejection::NoConnectionUpgrade);
        }
        if !has_token(&parts.headers, header::UPGRADE, "websocket") {
            return Err(Rejection::NoUpgradeWebsocket);
        }
        if parts.headers.get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
            return Err(Rejection::Version);
        }
        let key = parts.headers.get(header::SEC_WEBSOCKET_KEY).cloned().ok_or(Rejection::NoKey)?;
        let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or(Rejection::NotUpgradable)?;
        Ok(WsUpgrade { key, on_upgrade })
    }
}

impl WsUpgrade {
    /// Answers 101 and runs `callback` with the socket once hyper hands the
    /// connection over. As with axum, the upgraded connection runs in a task
    /// of its own (hyper's connection task ends at the upgrade); it ends when
    /// `callback` does, which the hub's shutdown brings about by closing
    /// every connection (1001).
    pub fn on_upgrade<C, F>(self, config: WebSocketConfig, callback: C) -> Response
    where
        C: FnOnce(Socket) -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let accept = tungstenite::handshake::derive_accept_key(self.key.as_bytes());
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(u) => u,
                Err(e) => {
                    debug!(error = %e, "WebSocket upgrade failed");
                    return;
                }
            };
            let socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
            callback(socket).await;
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = response.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::SEC_WEBSOCKET_ACCEPT, HeaderValue::from_str(&accept).expect("base64 is a valid header value"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn extract(method: Method, headers: &[(&str, &str)]) -> Result<WsUpgrade, Rejection> {
        let mut req = axum::http::Request::builder().method(method).uri("/ws");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let (mut parts, ()) = req.body(()).unwrap().into_parts();
        WsUpgrade::from_request_parts(&mut parts, &()).await
    }

    #[tokio::test]
    async fn a_request_that_is_not_a_handshake_is_refused_with_its_reason() {
        let good = [
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        assert_eq!(extract(Method::POST, &good).await.err(), Some(Rejection::MethodNotGet));
        assert_eq!(extract(Method::GET, &good[1..]).await.err(), Some(Rejection::NoConnectionUpgrade));
        let mut v12 = good;
        v12[2].1 = "12";
        assert_eq!(extract(Method::GET, &v12).await.err(), Some(Rejection::Version));
        assert_eq!(extract(Method::GET, &good[..3]).await.err(), Some(Rejection::NoKey));
        // A request built here has no connection behind it to upgrade.
        assert_eq!(extract(Method::GET, &good).await.err(), Some(Rejection::NotUpgradable));
        assert_eq!(Rejection::Version.into_response().status(), StatusCode::BAD_REQUEST);
        assert_eq!(Rejection::NotUpgradable.into_response().status(), StatusCode::UPGRADE_REQUIRED);
    }

    #[test]
    fn the_accept_key_is_rfc_6455s() {
        // RFC 6455 §1.3's example.
        assert_eq!(tungstenite::handshake::derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn connection_tokens_are_matched_whole_and_without_case() {
        let mut h = HeaderMap::new();
        h.append(header::CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        assert!(has_token(&h, header::CONNECTION, "upgrade"));
        let mut h = HeaderMap::new();
        h.append(header::CONNECTION, HeaderValue::from_static("upgraded"));
        assert!(!has_token(&h, header::CONNECTION, "upgrade"));
    }
}
