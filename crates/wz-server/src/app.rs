//! The HTTP application: [`app`] builds the router, [`serve`] runs it.

use crate::config::ServeArgs;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::{any, get};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use metrics_exporter_prometheus::PrometheusHandle;
use std::future::Future;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa::openapi::path::ParameterIn;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wz_hub::Hub;
use wz_protocol::rest::ReadyDto;

/// Limits of the WebSocket endpoint.
#[derive(Clone, Debug)]
pub struct SocketLimits {
    pub max_message_bytes: usize,
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
    /// Consecutive rate-limited messages after which the connection is closed (4029).
    pub max_strikes: u32,
    /// Deadline of every write and flush to a client, and of the close
    /// handshake when the server ends a connection.
    pub write_timeout: Duration,
}

#[derive(Clone)]
pub struct AppState {
    pub hub: Hub,
    pub limits: SocketLimits,
    pub limiter: Arc<DefaultKeyedRateLimiter<String>>,
    pub metrics: Option<PrometheusHandle>,
    // Shared rather than owned: axum clones the state for every request,
    // and a reconnect storm is ten thousand requests (issue 11).
    pub web_dir: Arc<Path>,
    pub data_dir: Arc<Path>,
    pub admin_token: Option<Arc<str>>,
    /// Base URL for links; filled in once the listener is bound.
    pub public_url: Arc<std::sync::OnceLock<String>>,
    /// Browser origins that may open a WebSocket (replaced once the listener is bound).
    pub origins: Arc<crate::origin::OriginPolicy>,
    /// Failed join-code attempts per client address ([`crate::auth`]).
    pub attempts: Arc<crate::auth::Attempts>,
    /// Where connections' writers run (screens: on shards).
    pub writers: Arc<crate::writers::Writers>,
}

impl AppState {
    pub fn new(hub: Hub, args: &ServeArgs, metrics: Option<PrometheusHandle>) -> Self {
        let per_second = NonZeroU32::new(args.rate_per_second.max(1)).expect("max(1)");
        let burst = NonZeroU32::new(args.rate_burst.max(1)).expect("max(1)");
        Self {
            hub,
            limits: SocketLimits {
                max_message_bytes: args.max_message_bytes.clamp(1024, crate::config::MAX_MESSAGE_CEILING),
                ping_interval: Duration::from_secs(args.ping_seconds.max(1)),
                idle_timeout: Duration::from_secs(args.idle_seconds.max(5)),
                max_strikes: 100,
                write_timeout: Duration::from_secs(args.write_timeout_seconds.max(1)),
            },
            limiter: Arc::new(RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))),
            metrics,
            web_dir: Arc::from(args.web_dir.as_path()),
            data_dir: Arc::from(args.data_dir.as_path()),
            admin_token: args.admin_token.as_deref().map(Arc::from),
            public_url: Arc::new(std::sync::OnceLock::new()),
            origins: Arc::new(
                crate::origin::OriginPolicy::new(args.bind, args.public_url.as_deref(), &args.listener.allowed_origins).unwrap_or_default(),
            ),
            attempts: Arc::default(),
            writers: Arc::new(args.writer_shards.map_or_else(crate::writers::Writers::for_runtime, crate::writers::Writers::new)),
        }
    }

    pub fn base_url(&self) -> String {
        self.public_url.get().cloned().unwrap_or_default()
    }
}

/// Content-Security-Policy for every response: our own scripts only, and
/// WebSockets to ourselves. User text is rendered as text by the pages; this
/// is the second line of defence.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The routes the OpenAPI document describes, each registered from its
/// handler's `#[utoipa::path]` (utoipa-axum), so that serving a route and
/// describing it are one step. [`app`] adds what the document leaves out:
/// `/ws` (a WebSocket, docs/protocol.md sections 2 to 8), the JSON 404 of
/// every other `/api/…` path, and the web pages.
pub fn documented() -> OpenApiRouter<AppState> {
    use crate::{api, cards, files, reports};
    // Evidence uploads are the one body larger than the rest's 4 MiB.
    let uploads =
        OpenApiRouter::new().routes(routes!(files::upload)).layer(axum::extract::DefaultBodyLimit::max(crate::files::UPLOAD_BODY_LIMIT));
    OpenApiRouter::with_openapi(wz_protocol::openapi::ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(api::whoami))
        .routes(routes!(api::list_sessions, api::create_session))
        .routes(routes!(api::snapshot))
        .routes(routes!(api::venues))
        .routes(routes!(api::questions))
        .routes(routes!(api::results))
        .routes(routes!(api::import_delegates))
        .routes(routes!(reports::export))
        .routes(routes!(reports::session_document))
        .routes(routes!(reports::letter))
        .routes(routes!(api::reissue))
        .routes(routes!(api::public_record))
        .routes(routes!(cards::for_console))
        .routes(routes!(api::receipt_check))
        .routes(routes!(files::progress))
        .routes(routes!(files::download))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(4 * 1024 * 1024))
        .merge(uploads)
}

/// The OpenAPI document of [`documented`], with the answers a layer in
/// front of every route gives; built once.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static SPEC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    SPEC.get_or_init(|| {
        use wz_protocol::openapi::add_response;
        use wz_protocol::rest::RestErrorDto;
        let mut spec = documented().into_openapi();
        // `crate::auth::guard`: a join code presented too often from one address.
        let limited = "Too many wrong join codes from this address (`limit`, with `Retry-After`)";
        add_response::<RestErrorDto>(&mut spec, "429", limited, |_| true);
        // `ApiPath`: a segment that is not percent-encoded UTF-8, or not a number where one is due.
        let bad_path = "A path segment that is not of its type (`bad_message`)";
        add_response::<RestErrorDto>(&mut spec, "400", bad_path, |op| {
            op.parameters.iter().flatten().any(|p| matches!(p, utoipa::openapi::RefOr::T(p) if p.parameter_in == ParameterIn::Path))
        });
        spec
    })
}

/// `GET /api/openapi.json`
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json", body = Object))
)]
async fn openapi_json() -> impl IntoResponse {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| serde_json::to_string(openapi()).expect("the OpenAPI document always serialises"));
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], json.as_str())
}

/// `GET /healthz`
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The process is alive: `ok`", content_type = "text/plain", body = String, example = "ok"))
)]
async fn healthz() -> &'static str {
    "ok"
}

pub fn app(state: AppState) -> Router {
    // The build writes .br/.gz next to every asset: weak township links get
    // the compressed bytes without the server compressing on every request.
    let static_files = ServeDir::new(&state.web_dir).precompressed_br().precompressed_gzip().fallback(get(placeholder).with_state(()));
    let static_files = tower::ServiceBuilder::new().layer(axum::middleware::from_fn(cache_control)).service(static_files);
    let (documented, _) = documented().split_for_parts();
    documented
        .route("/ws", get(crate::ws::upgrade).route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::origin::check)))
        // A mistyped API call gets a JSON error, never the web app's page.
        .route("/api", any(crate::api::no_such_endpoint))
        .route("/api/", any(crate::api::no_such_endpoint))
        .route("/api/{*rest}", any(crate::api::no_such_endpoint))
        .method_not_allowed_fallback(crate::api::method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::guard))
        .fallback_service(static_files)
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .with_state(state)
}

/// Hashed assets never change; pages must be revalidated so a new build is
/// picked up at once.
async fn cache_control(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let immutable = req.uri().path().starts_with("/assets/");
    let mut res = next.run(req).await;
    if res.status().is_success() {
        let value = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// `GET /readyz`
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready: the store answered a probe just now and keeps acknowledged ballots (`Cache-Control: no-store`)", body = ReadyDto),
        (status = 503, description = "Not ready, with the same body: why", body = ReadyDto),
    )
)]
async fn readyz(axum::extract::State(st): axum::extract::State<AppState>) -> impl IntoResponse {
    const PROBE: std::time::Duration = std::time::Duration::from_secs(1);
    let store = st.hub.store();
    // A write probe (`Store::ping`): reachable is not enough, the store must take writes.
    let probe = tokio::time::timeout(PROBE, store.ping()).await;
    let reachable = matches!(probe, Ok(Ok(())));
    let mut problems = match reachable {
        // Read now, not the probe's last reading: an operator fixing a
        // setting sees it take effect at once.
        true => match tokio::time::timeout(PROBE, store.persistence_problems()).await {
            Ok(Ok(p)) => p,
            _ => st.hub.store_problems(),
        },
        false => st.hub.store_problems(),
    };
    match probe {
        Ok(Ok(())) => {}
        Ok(Err(e)) => problems.push(format!("the store refused the write probe: {e}")),
        Err(_) => problems.push(format!("the store did not answer the write probe within {} s", PROBE.as_secs())),
    }
    let sessions = st.hub.sessions();
    let ready = reachable && (problems.is_empty() || st.hub.allows_unsafe_store());
    let dto = ReadyDto {
        ready,
        store: store.kind().to_owned(),
        store_reachable: reachable,
        store_problems: problems,
        sessions: sessions.len(),
        refused: st.hub.refused().into_iter().map(|(id, _)| id).collect(),
        node: st.hub.node().map(str::to_owned),
        owns: sessions.iter().filter(|s| st.hub.owns(&s.id)).map(|s| s.id.clone()).collect(),
    };
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(dto))
}

/// `GET /metrics`
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text (docs/operations.md lists the series)", content_type = "text/plain", body = String),
        (status = 404, description = "Metrics are disabled", content_type = "text/plain", body = String),
    )
)]
async fn metrics(axum::extract::State(st): axum::extract::State<AppState>) -> impl IntoResponse {
    match &st.metrics {
        Some(h) => {
            // Read at scrape time: the soak test watches it for leaked tasks.
            metrics::gauge!("wz_tokio_alive_tasks").set(tokio::runtime::Handle::current().metrics().num_alive_tasks() as f64);
            // A leak shows as allocated growing; retention only as resident.
            if let Some(heap) = crate::alloc::heap() {
                metrics::gauge!("wz_heap_allocated_bytes").set(heap.allocated as f64);
                metrics::gauge!("wz_heap_resident_bytes").set(heap.resident as f64);
            }
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.render()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "metrics are disabled").into_response(),
    }
}

async fn placeholder() -> impl IntoResponse {
    (
        StatusCode::OK,
        Html(concat!(
            "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>问政 Wenzheng</title>",
            "<h1>问政 Wenzheng</h1><p>服务器正在运行。前端页面尚未构建（在 web/ 中运行 npm run build）。</p>",
            "<p>The server is running. The web pages have not been built (run <code>npm run build</code> in <code>web/</code>).</p>",
            "<ul><li>/moderator.html — 主持人控制台 moderator console</li><li>/delegate.html — 分会场与代表 venue &amp; delegate</li>",
            "<li>/screen.html — 大屏 public screen</li><li>/api/sessions — REST</li></ul></html>"
        )),
    )
}

/// Serves `app` on `listener` with the listener's `limits` until `shutdown`
/// completes, then closes every WebSocket with `going_away` (1001) and waits
/// (bounded) for every connection to end (see [`crate::listener`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    limits: crate::listener::ListenerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = state.hub.clone();
    crate::listener::run(listener, app(state), limits, async move {
        shutdown.await;
        hub.shutdown().await;
    })
    .await
}

/// Binds with a large accept backlog (tokio's default is 128): a whole
/// county's phones reconnect at once after a network blip.
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}
