//! Which browser pages may open a WebSocket here.
//!
//! A browser sends `Origin` with every WebSocket upgrade; a page on another
//! site could otherwise drive a participant's socket (cross-site WebSocket
//! hijacking). Credentials are not held by the browser (the token is in the
//! page's fragment), so this is defence in depth. Allowed: the server's own
//! address (and `localhost` for a loopback or all-interfaces bind), the
//! origin of `--public-url`, and every `--allowed-origin`, compared exactly
//! as `scheme://host:port` (scheme and host lower-cased, the default port
//! written out). A request without `Origin` is not from a browser page and
//! is allowed. Everything else gets 403 before the upgrade.

use crate::app::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeSet;
use std::net::SocketAddr;

#[derive(Clone, Debug, Default)]
pub struct OriginPolicy {
    allowed: BTreeSet<String>,
}

impl OriginPolicy {
    /// The policy for a server bound to `own`. Fails, naming the flag, on a
    /// `--public-url` or `--allowed-origin` that is not an http(s) origin.
    pub fn new(own: SocketAddr, public_url: Option<&str>, extra: &[String]) -> Result<Self, String> {
        let mut allowed = BTreeSet::new();
        let port = own.port();
        let mut hosts = vec![SocketAddr::new(own.ip(), port).to_string()];
        if own.ip().is_loopback() || own.ip().is_unspecified() {
            hosts.extend([format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")]);
        }
        for h in hosts {
            allowed.extend(normalize(&format!("http://{h}"), true));
        }
        if let Some(url) = public_url {
            allowed.insert(normalize(url, true).ok_or_else(|| format!("--public-url {url}: not an http(s) URL"))?);
        }
        for o in extra.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
            allowed.insert(
                normalize(o, false).ok_or_else(|| format!("--allowed-origin {o}: not an origin (scheme://host[:port], http or https)"))?,
            );
        }
        Ok(Self { allowed })
    }

    /// Whether a request with these headers may upgrade.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let mut origins = headers.get_all(header::ORIGIN).iter();
        match (origins.next(), origins.next()) {
            (None, _) => true,
            (Some(o), None) => o.to_str().ok().and_then(|o| normalize(o, false)).is_some_and(|o| self.allowed.contains(&o)),
            // Two Origin headers: no browser sends that.
            (Some(_), Some(_)) => false,
        }
    }

    /// The allowed origins, for the start-up log.
    pub fn allowed(&self) -> impl Iterator<Item = &str> {
        self.allowed.iter().map(String::as_str)
    }
}

/// `scheme://host:port` of an http(s) origin; `None` for anything else
/// (`null`, another scheme, user info, or, unless `with_path`, a path).
fn normalize(text: &str, with_path: bool) -> Option<String> {
    let uri: Uri = text.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = uri.authority()?;
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    if !with_path && uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
        return None;
    }
    let port = authority.port_u16().unwrap_or(default_port);
    Some(format!("{scheme}://{}:{port}", authority.host().to_ascii_lowercase()))
}

/// Middleware on `/ws`: 403 for a browser page of another origin.
pub async fn check(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if st.origins.allows(req.headers()) {
        return next.run(req).await;
    }
    metrics::counter!("wz_ws_origin_refused_total").increment(1);
    (
        StatusCode::FORBIDDEN,
        "此网页的来源不允许连接本服务器。This page's origin may not open a WebSocket here; the server allows its own address, --public-url and --allowed-origin.\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_origin(o: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        h
    }

    #[test]
    fn exact_origins_only() {
        let p =
            OriginPolicy::new("0.0.0.0:8080".parse().unwrap(), Some("https://wz.example.org/wenzheng/"), &["http://LOCALHOST:5173".into()])
                .unwrap();
        for ok in [
            "https://wz.example.org",
            "https://wz.example.org:443",
            "HTTPS://WZ.example.org",
            "http://localhost:5173",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
        ] {
            assert!(p.allows(&with_origin(ok)), "{ok}");
        }
        for bad in [
            "null",
            "",
            "http://wz.example.org",
            "https://wz.example.org:8443",
            "https://wz.example.org.evil.example",
            "https://user@wz.example.org",
            "https://wz.example.org/x",
            "ws://wz.example.org",
            "http://localhost:5174",
            "http://10.0.0.1:8080",
        ] {
            assert!(!p.allows(&with_origin(bad)), "{bad}");
        }
        assert!(p.allows(&HeaderMap::new()), "no Origin: not a browser page");
        let mut two = with_origin("https://wz.example.org");
        two.append(header::ORIGIN, HeaderValue::from_static("https://wz.example.org"));
        assert!(!p.allows(&two));
    }

    #[test]
    fn a_specific_bind_allows_that_address_only() {
        let p = OriginPolicy::new("192.168.1.5:8080".parse().unwrap(), None, &[]).unwrap();
        assert!(p.allows(&with_origin("http://192.168.1.5:8080")));
        assert!(!p.allows(&with_origin("http://localhost:8080")));
        assert_eq!(p.allowed().collect::<Vec<_>>(), ["http://192.168.1.5:8080"]);
    }

    #[test]
    fn malformed_configuration_is_refused_with_the_flag() {
        for bad in ["evil.example", "http://a.example/path", "ftp://a.example", "*", "null"] {
            let e = OriginPolicy::new("127.0.0.1:0".parse().unwrap(), None, &[bad.into()]).unwrap_err();
            assert!(e.contains("--allowed-origin"), "{e}");
        }
        assert!(OriginPolicy::new("127.0.0.1:0".parse().unwrap(), Some("wz.example.org"), &[]).unwrap_err().contains("--public-url"));
    }
}
