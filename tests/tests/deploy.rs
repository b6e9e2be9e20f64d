//! The deploy kit (`deploy/`, issue 13) is checked by the tools that will
//! read it: the nginx site passes `nginx -t` with a certificate this test
//! makes, the systemd units pass `systemd-analyze verify` without a single
//! complaint, and the example environment names only variables the server
//! reads and starts a server that is ready, and the Grafana dashboard asks
//! only for series the server exports. (`deploy/redis.conf` passes the
//! persistence guard against a real redis-server: wz-store's Redis tests.)

use std::path::{Path, PathBuf};
use std::process::Command;
use wz_e2e::Server;
use wz_store::testing::RedisServer;

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");

fn deploy(file: &str) -> PathBuf {
    // Normalized: systemd refuses a path with `..` in it.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("deploy")
        .join(file)
        .canonicalize()
        .unwrap_or_else(|e| panic!("deploy/{file}: {e}"))
}

fn read(file: &str) -> String {
    std::fs::read_to_string(deploy(file)).unwrap_or_else(|e| panic!("deploy/{file}: {e}"))
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (run scripts/setup)"));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn the_nginx_site_passes_nginx_t_and_proxies_the_servers_routes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, out) = run(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=wenzheng.test"])
        .arg("-keyout")
        .arg(d.join("privkey.pem"))
        .arg("-out")
        .arg(d.join("fullchain.pem")));
    assert!(ok, "openssl: {out}");
    let site = read("nginx-site.conf");
    for path in ["/etc/ssl/wenzheng/fullchain.pem", "/etc/ssl/wenzheng/privkey.pem"] {
        assert!(site.contains(path), "the site names its certificate at {path}");
    }
    let site = site.replace("/etc/ssl/wenzheng", &d.display().to_string());
    std::fs::write(d.join("site.conf"), site.as_bytes()).unwrap();
    let main = format!(
        "events {{ worker_connections 8192; }}\npid {0}/nginx.pid;\nerror_log {0}/error.log;\nhttp {{\n  access_log off;\n  include {0}/site.conf;\n}}\n",
        d.display()
    );
    std::fs::write(d.join("nginx.conf"), main).unwrap();
    let (ok, out) = run(Command::new("nginx").arg("-t").arg("-p").arg(d).arg("-c").arg(d.join("nginx.conf")));
    assert!(ok, "nginx -t: {out}");
    // It proxies what the server serves: the WebSocket at /ws, and the
    // node the example environment binds.
    assert!(site_has(&read("nginx-site.conf"), "location = /ws"));
    let bind = env_example().into_iter().find(|(k, _)| k == "WENZHENG_BIND").expect("the example binds").1;
    assert!(read("nginx-site.conf").contains(&format!("server {bind} ")), "the upstream lists the example's {bind}");
}

fn site_has(site: &str, what: &str) -> bool {
    site.lines().any(|l| l.trim_start().starts_with(what))
}

#[test]
fn the_systemd_units_pass_systemd_analyze_verify() {
    let dir = tempfile::tempdir().unwrap();
    // The units name where things are installed; here they are elsewhere.
    let server = read("wenzheng.service")
        .replace("ExecStart=/usr/local/bin/wenzheng", &format!("ExecStart={BIN}"))
        .replace("EnvironmentFile=/etc/wenzheng/wenzheng.env", &format!("EnvironmentFile={}", deploy("wenzheng.env.example").display()));
    let redis = read("wenzheng-redis.service").replace("/etc/wenzheng/redis.conf", &deploy("redis.conf").display().to_string());
    for (name, text) in [("wenzheng.service", server), ("wenzheng-redis.service", redis)] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (ok, out) = run(Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&path));
        assert!(ok && out.trim().is_empty(), "systemd-analyze verify {name}:\n{out}");
    }
    let unit = read("wenzheng.service");
    for hardening in ["NoNewPrivileges=yes", "ProtectSystem=strict", "User=wenzheng", "Restart=on-failure", "StateDirectory=wenzheng"] {
        assert!(unit.lines().any(|l| l == hardening), "wenzheng.service has {hardening}");
    }
}

/// The `KEY=value` lines of deploy/wenzheng.env.example (comments skipped).
fn env_example() -> Vec<(String, String)> {
    read("wenzheng.env.example")
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_environment_names_real_settings_and_starts_a_ready_server() {
    // Every variable, commented-out ones included, is one `serve` reads.
    let (ok, help) = run(Command::new(BIN).args(["serve", "--help"]));
    assert!(ok, "{help}");
    let named: Vec<String> = read("wenzheng.env.example")
        .lines()
        .filter_map(|l| l.trim_start().trim_start_matches('#').split_once('=').map(|(k, _)| k.trim().to_owned()))
        .filter(|k| k.starts_with("WENZHENG_"))
        .collect();
    assert!(named.len() >= 8, "{named:?}");
    for k in &named {
        assert!(help.contains(&format!("[env: {k}")), "{k} is not a setting of `wenzheng serve`");
    }
    // Started with it (its Redis, paths and port replaced by the test's), the server is ready.
    let redis = RedisServer::start_temp(&[]);
    let dir = tempfile::tempdir().unwrap();
    let url = redis.url();
    let mut env: Vec<(String, String)> = env_example();
    for (k, v) in env.iter_mut() {
        match k.as_str() {
            "WENZHENG_REDIS_URL" => *v = url.clone(),
            "WENZHENG_WEB_DIR" => *v = dir.path().join("web").display().to_string(),
            _ => {}
        }
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // `Server` passes --bind 127.0.0.1:0 and --data-dir, which win over the file.
    let server = Server::start_with(BIN, dir.path(), &[], &env, None).await.unwrap();
    let (status, body) = server.http("GET", "/readyz", None, None).await;
    assert_eq!(status, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((ready["store"].as_str(), ready["sessions"].as_u64()), (Some("redis"), Some(0)), "no demo: {ready}");
}

/// Every `wz_…` name in `text`.
fn series_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("wz_") {
        let name: String = rest[i..].chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_').collect();
        rest = &rest[i + name.len()..];
        out.insert(name);
    }
    out
}

/// The names the server's code emits: `counter!("wz_…"`, `gauge!(…)`, `histogram!(…)`.
fn exported() -> std::collections::BTreeSet<String> {
    fn walk(dir: &Path, out: &mut std::collections::BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for kind in ["counter!(\"", "gauge!(\"", "histogram!(\""] {
                    for (i, _) in text.match_indices(kind) {
                        let name: String = text[i + kind.len()..].chars().take_while(|c| *c != '"').collect();
                        out.insert(name);
                    }
                }
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("crates"), &mut out);
    out
}

#[test]
fn the_grafana_dashboard_uses_only_series_the_server_exports() {
    let dashboard: serde_json::Value = serde_json::from_str(&read("grafana-dashboard.json")).expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10, "{} panels", panels.len());
    let exprs: Vec<String> = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().expect("every target has a PromQL expr").to_owned())
        .chain(dashboard["templating"]["list"].as_array().unwrap().iter().filter_map(|v| v["query"].as_str().map(str::to_owned)))
        .collect();
    let exported = exported();
    assert!(exported.contains("wz_acks_total") && exported.contains("wz_store_up"), "{exported:?}");
    for name in exprs.iter().flat_map(|e| series_names(e)) {
        // A summary's `_count` and `_sum` belong to its name.
        let base = name.trim_end_matches("_count").trim_end_matches("_sum");
        assert!(exported.contains(base), "the dashboard asks for {name}, which the server does not export");
    }
}
