//! Failed credential attempts, limited per client address.
//!
//! A join code (issue 10) has 50 bits, which is plenty against guessing only
//! if guesses are slow. Every request that presents a join code (as a
//! `Bearer` header, or `?token=` on `/ws`) which names nobody is a failed
//! attempt of its client address; [`FAILURE_BURST`] failures in a row are
//! allowed, then one more every [`DRAIN_EVERY`] (a leaky bucket). A client
//! over the limit gets 429 with `Retry-After` for every request presenting a
//! code, right or wrong, until a place drains (answering a right code would
//! tell a guesser which guess was right): so guessing from one address runs
//! at 10 a minute at most (2^50 codes: forever).
//!
//! Only failures count, and only codes: a 43-character token (a QR link) is
//! never limited, as guessing 256 bits is hopeless anyway. A whole township
//! behind one NAT address can join and reconnect as often as it likes; a row
//! of mistyped codes slows that address's code logins for seconds, never
//! locks it out. Requests presenting no credential (the public pages) are not
//! affected.
//!
//! The address is the TCP peer's, or behind a `--trusted-proxy` the last
//! address of `X-Forwarded-For` that is not a trusted proxy
//! ([`ClientAddr::of`]).
//!
//! With several nodes (issue 12), a credential issued on another node a
//! moment ago may not be known here yet: before a request with an unknown
//! credential goes on (to be refused), the node catches up with the notices
//! (`Hub::catch_up`, at most a second), so a card reissued or a session
//! created through one node works at once through any other. At most
//! `wz_hub::MAX_CATCH_UPS` requests wait so at once; more are refused
//! without waiting, so made-up tokens cannot turn into Redis reads.

use crate::app::AppState;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use wz_protocol::ErrorCode;

/// Failed attempts an address may make in a row.
pub const FAILURE_BURST: u32 = 20;
/// After the burst, one more failed attempt per this long.
pub const DRAIN_EVERY: Duration = Duration::from_secs(6);
/// Addresses tracked at once; past it, drained ones are forgotten, and if
/// none is, a new address is not tracked (memory stays bounded under a flood
/// of addresses; each of them still gets its own burst only).
const MAX_CLIENTS: usize = 65_536;

/// The client's address, in every request's extensions (set by the
/// listener; a request served without it counts as [`Ipv4Addr::UNSPECIFIED`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The peer, or, when the peer is a trusted proxy, the nearest address
    /// in `X-Forwarded-For` that is not one.
    pub fn of(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> Self {
        let is_proxy = |a: &IpAddr| trusted.iter().any(|n| n.contains(a));
        if !is_proxy(&peer) {
            return Self(peer);
        }
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
        let hops: Vec<IpAddr> = forwarded.filter_map(|a| a.trim().parse().ok()).collect();
        Self(hops.into_iter().rev().find(|a| !is_proxy(a)).unwrap_or(peer))
    }
}

/// The failed-attempt buckets, one per address: the time at which the
/// bucket is empty again (the generic cell rate algorithm's "theoretical
/// arrival time").
#[derive(Debug, Default)]
pub struct Attempts {
    empty_at: Mutex<HashMap<IpAddr, Instant>>,
}

impl Attempts {
    /// `Err(wait)` while `client` may not present credentials.
    pub fn allowed(&self, client: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let map = self.empty_at.lock().unwrap_or_else(|e| e.into_inner());
        let Some(&empty_at) = map.get(&client) else { return Ok(()) };
        // One more failure must still fit in the bucket.
        let full_after = DRAIN_EVERY * (FAILURE_BURST - 1);
        match empty_at.checked_duration_since(now + full_after) {
            Some(wait) if !wait.is_zero() => Err(wait),
            _ => Ok(()),
        }
    }

    /// Records a failed attempt of `client`.
    pub fn failed(&self, client: IpAddr) {
        let now = Instant::now();
        let mut map = self.empty_at.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_CLIENTS && !map.contains_key(&client) {
            map.retain(|_, t| *t > now);
            if map.len() >= MAX_CLIENTS {
                return;
            }
        }
        let t = map.entry(client).or_insert(now);
        *t = (*t).max(now) + DRAIN_EVERY;
    }
}

/// The credential a request presents: `Authorization: Bearer …`, else `?token=`.
/// Only join codes are limited (see the module documentation).
fn presented(req: &Request) -> Option<String> {
    if let Some(b) = crate::api::bearer(req.headers()) {
        return Some(b);
    }
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(req.uri()).ok()?;
    pairs.into_iter().find(|(k, _)| k == "token").map(|(_, v)| v)
}

/// The middleware in front of every route (see the module documentation).
pub async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let Some(credential) = presented(&req) else { return next.run(req).await };
    let code = wz_hub::JoinCode::parse(&credential).is_some();
    let client = req.extensions().get::<ClientAddr>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0);
    if code && let Err(wait) = st.attempts.allowed(client) {
        metrics::counter!("wz_credential_attempts_refused_total").increment(1);
        return too_many(wait);
    }
    if st.hub.authenticate(&credential).is_none() {
        // Several nodes: it may have been issued on another node a moment
        // ago (a new session, a reissued card); this node learns of it by a
        // notice. A single node answers at once.
        st.hub.catch_up().await;
        if code && st.hub.authenticate(&credential).is_none() {
            metrics::counter!("wz_credential_attempts_failed_total").increment(1);
            st.attempts.failed(client);
        }
    }
    next.run(req).await
}

fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs() + 1;
    let msg = format!("入会码错误次数过多，请 {seconds} 秒后再试。Too many wrong join codes from this address; try again in {seconds} s.");
    let mut res = crate::api::ApiError(StatusCode::TOO_MANY_REQUESTS, ErrorCode::Limit, msg).into_response();
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));
    const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 8));

    #[tokio::test(start_paused = true)]
    async fn twenty_failures_then_one_per_six_seconds_per_address() {
        let a = Attempts::default();
        for _ in 0..FAILURE_BURST {
            assert_eq!(a.allowed(HOME), Ok(()));
            a.failed(HOME);
        }
        let wait = a.allowed(HOME).unwrap_err();
        assert!(wait <= DRAIN_EVERY, "{wait:?}");
        assert_eq!(a.allowed(OTHER), Ok(()), "another address is not affected");
        tokio::time::advance(wait).await;
        assert_eq!(a.allowed(HOME), Ok(()), "one place drained");
        a.failed(HOME);
        assert!(a.allowed(HOME).is_err());
        tokio::time::advance(DRAIN_EVERY * FAILURE_BURST).await;
        assert_eq!(a.allowed(HOME), Ok(()));
    }

    #[test]
    fn a_trusted_proxy_passes_on_the_client_and_nobody_else_can() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 10.0.0.7"));
        let trusted = [ipnet::IpNet::from(proxy)];
        assert_eq!(ClientAddr::of(proxy, &h, &trusted).0, HOME, "the hop the proxy saw");
        assert_eq!(ClientAddr::of(OTHER, &h, &trusted).0, OTHER, "an untrusted peer cannot claim an address");
        assert_eq!(ClientAddr::of(proxy, &HeaderMap::new(), &trusted).0, proxy);
    }

    #[test]
    fn proxies_named_by_a_range_are_trusted_and_skipped() {
        // An ingress whose pods move (Kubernetes): its proxies are a range.
        let pods = crate::config::parse_trusted_proxy("10.42.0.0/16").unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 10.42.7.1"));
        let ingress: IpAddr = "10.42.3.5".parse().unwrap();
        let client: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(ClientAddr::of(ingress, &h, &[pods]).0, client, "the client, past both proxies of the range");
        assert_eq!(ClientAddr::of(OTHER, &h, &[pods]).0, OTHER, "outside the range: not a proxy");
        assert_eq!(crate::config::parse_trusted_proxy("10.0.0.7").unwrap().prefix_len(), 32, "an address is a range of one");
        assert!(crate::config::parse_trusted_proxy("10.0.0.0/33").is_err());
    }
}
