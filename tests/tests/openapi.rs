//! The OpenAPI document (`GET /api/openapi.json`) against the real server,
//! the router's code and docs/protocol.md section 12 (issue 13): every
//! operation it describes is served, nothing else under `/api` is routed
//! past it, every `$ref` resolves, and the endpoint table of the protocol
//! reference names exactly its operations, so neither can drift.
//! `scripts/fuzz-api` (schemathesis) then holds real answers to it.

use serde_json::Value;
use std::collections::BTreeSet;
use wz_e2e::Server;

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const SESSION: &str = "xixia-2026";

/// Routes the router serves without describing them, and why: a
/// WebSocket (docs/protocol.md sections 2 to 8; OpenAPI cannot describe
/// its messages) and the JSON 404 of every other `/api/…` path.
const UNDOCUMENTED: [&str; 4] = ["/ws", "/api", "/api/", "/api/{*rest}"];

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `METHOD path` of every operation in the document.
fn operations(spec: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

/// A path with every segment that holds a parameter (`{id}`,
/// `bulletin.{html|pdf}`) written `{}`, and no query.
fn shape(path: &str) -> String {
    let path = path.split(['?', '[']).next().unwrap_or(path);
    path.split('/').map(|seg| if seg.contains('{') { "{}" } else { seg }).collect::<Vec<_>>().join("/")
}

/// The `METHOD path` of each row of the endpoint table of section 12.
fn documented_in_protocol_md() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("docs/protocol.md")).expect("docs/protocol.md");
    let start = text.find("\n## 12. ").expect("section 12");
    let end = start + text[start..].find("\n## 13. ").expect("section 13");
    let mut out = BTreeSet::new();
    for line in text[start..end].lines() {
        let Some(rest) = line.strip_prefix("| `") else { continue };
        let Some((endpoint, _)) = rest.split_once('`') else { continue };
        let Some((method, path)) = endpoint.split_once(' ') else { continue };
        if method.chars().all(|c| c.is_ascii_uppercase()) {
            out.insert(format!("{method} {}", shape(path)));
        }
    }
    out
}

/// Every `$ref` in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_every_route_and_protocol_md_names_its_operations() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    let r = wz_e2e::http_raw(&server.addr, "GET", "/api/openapi.json", None, None).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    let spec: Value = serde_json::from_slice(&r.body).expect("the document is JSON");
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    // Every reference resolves.
    let mut all = Vec::new();
    refs(&spec, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(spec["components"]["schemas"].get(name).is_some(), "$ref {r} does not resolve");
    }

    // Every operation has a success answer and is served: not the JSON
    // 404 of a path no endpoint serves, not a 405.
    let ops = operations(&spec);
    let moderator = server.token("moderator");
    for op in &ops {
        let (method, path) = op.split_once(' ').unwrap();
        let responses = spec["paths"][path][method.to_lowercase()]["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{op}: no 2xx answer described");
        let concrete = path.replace("{id}", SESSION).replace("{item}", "1").replace("{code}", "0123456789abcdef").replace("{file}", "x");
        let r = wz_e2e::http_raw(&server.addr, method, &concrete, Some(&moderator), None).await.unwrap();
        let body = String::from_utf8_lossy(&r.body);
        assert_ne!(r.status, 405, "{op}: not served ({body})");
        assert!(!(r.status == 404 && body.contains("no endpoint")), "{op}: not served ({body})");
        assert!(r.status < 500 || r.status == 503, "{op}: {} {body}", r.status);
    }

    // Nothing is routed past the document: the router's code registers
    // every other route from its handler's #[utoipa::path] (`routes!`).
    let app = std::fs::read_to_string(root().join("crates/wz-server/src/app.rs")).unwrap();
    for needle in [".route_service(", ".nest(", ".nest_service("] {
        assert!(!app.contains(needle), "app.rs adds routes with {needle}: describe them or list them in UNDOCUMENTED");
    }
    let routed: BTreeSet<&str> =
        app.match_indices(".route(\"").map(|(i, m)| &app[i + m.len()..]).map(|rest| &rest[..rest.find('"').unwrap()]).collect();
    assert_eq!(routed, BTreeSet::from(UNDOCUMENTED), "routes added to the router outside the OpenAPI document");
    for path in ["/api", "/api/nope"] {
        let r = wz_e2e::http_raw(&server.addr, "GET", path, None, None).await.unwrap();
        assert_eq!(r.status, 404, "{path}");
    }

    // docs/protocol.md section 12 names exactly these operations.
    let in_doc: BTreeSet<String> = ops.iter().map(|op| op.split_once(' ').map(|(m, p)| format!("{m} {}", shape(p))).unwrap()).collect();
    let in_md = documented_in_protocol_md();
    let missing: Vec<_> = in_doc.difference(&in_md).collect();
    let extra: Vec<_> = in_md.difference(&in_doc).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/protocol.md section 12 and /api/openapi.json differ:\n  not in protocol.md: {missing:?}\n  not in the OpenAPI document: {extra:?}"
    );
}

#[test]
fn a_segment_holding_a_parameter_is_one_shape() {
    assert_eq!(shape("/api/sessions/{id}/documents/bulletin.{html\\|pdf}"), "/api/sessions/{}/documents/{}");
    assert_eq!(shape("/api/sessions/{id}/cards[?venue=<venue>]"), "/api/sessions/{}/cards");
    assert_eq!(shape("/api/sessions/{id}/items/{item}/files?name=<file name>"), "/api/sessions/{}/items/{}/files");
    assert_eq!(shape("/healthz"), "/healthz");
}
