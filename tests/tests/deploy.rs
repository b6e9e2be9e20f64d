//! The deploy kit (`deploy/`, issue 13) is checked by the tools that will
//! read it: the nginx site passes `nginx -t` with a certificate this test
//! makes, the systemd units pass `systemd-analyze verify` without a single
//! complaint, and the example environment names only variables the server
//! reads and starts a server that is ready, and the Grafana dashboard asks
//! only for series the server exports.
//!
//! The compose file, the image's Dockerfile and the Kubernetes manifests
//! (`deploy/k8s/`) cannot be run here (no container engine, no cluster), so
//! they are read: every file parses as YAML, the objects refer to each other
//! correctly, the ports and probe paths are the ones the server serves, every
//! `WENZHENG_…` variable is a setting of `wenzheng serve`, and the Redis
//! ConfigMap is `deploy/redis.conf` to the byte. Then what they start is
//! started for real: Redis with the manifests' own command (the password on
//! its standard input), and the server with the manifests' environment, which
//! must be ready and answer 200 on every probe path they name. And
//! `deploy/redis.conf` passes the configuration guard of a running server
//! (and `appendonly no` does not). When `kubectl` or `kubernetes-validate`
//! is installed, the manifests also pass `kubectl kustomize` and a strict
//! schema check; the test does not need them.

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
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
        // A histogram's `_bucket`, `_count` and `_sum` belong to its name.
        let base = name.trim_end_matches("_bucket").trim_end_matches("_count").trim_end_matches("_sum");
        assert!(exported.contains(base), "the dashboard asks for {name}, which the server does not export");
    }
}

// ------------------------------------------------------------ compose, image, Kubernetes

/// Words that YAML 1.1 (which Kubernetes' and Compose's readers still follow
/// here) reads as booleans and YAML 1.2 as strings: never written unquoted.
const YAML11_BOOLEANS: [&str; 16] = ["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];

/// The documents of YAML `text` as JSON values (saphyr: YAML 1.2, a key given
/// twice is an error).
fn yaml_text(what: &str, text: &str) -> Vec<Value> {
    let docs = Yaml::load_from_str(text).unwrap_or_else(|e| panic!("{what} is not YAML: {e}"));
    docs.iter().map(|d| json_of(what, d)).collect()
}

/// The documents of a YAML file under deploy/.
fn yaml(file: &str) -> Vec<Value> {
    yaml_text(&format!("deploy/{file}"), &read(file))
}

fn json_of(what: &str, y: &Yaml) -> Value {
    match y {
        Yaml::Value(Scalar::Null) => Value::Null,
        Yaml::Value(Scalar::Boolean(b)) => Value::Bool(*b),
        Yaml::Value(Scalar::Integer(i)) => Value::from(*i),
        Yaml::Value(Scalar::FloatingPoint(f)) => Value::from(f.0),
        Yaml::Value(Scalar::String(s)) => {
            assert!(!YAML11_BOOLEANS.contains(&&**s), "{what}: `{s}` is a boolean to a YAML 1.1 reader; write true or false");
            Value::String(s.to_string())
        }
        Yaml::Sequence(items) => items.iter().map(|i| json_of(what, i)).collect(),
        Yaml::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match k {
                    Yaml::Value(Scalar::String(k)) => (k.to_string(), json_of(what, v)),
                    other => panic!("{what}: a key that is not a string: {other:?}"),
                })
                .collect(),
        ),
        other => panic!("{what}: {other:?} (no anchors, aliases or tags here)"),
    }
}

fn s<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str().unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

/// The manifest files of deploy/k8s/, the kustomization apart.
fn k8s_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(deploy("k8s"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".yaml") && f != "kustomization.yaml")
        .collect();
    files.sort();
    files
}

/// Every object of deploy/k8s/.
fn k8s() -> Vec<Value> {
    let mut out = Vec::new();
    for file in k8s_files() {
        for doc in yaml(&format!("k8s/{file}")) {
            for field in ["apiVersion", "kind"] {
                assert!(doc[field].is_string(), "deploy/k8s/{file}: an object without {field}");
            }
            assert!(doc["metadata"]["name"].is_string(), "deploy/k8s/{file}: an object without a name");
            assert!(doc["metadata"]["namespace"].is_null(), "deploy/k8s/{file}: the kustomization sets the namespace");
            out.push(doc);
        }
    }
    out
}

fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("deploy/k8s/ has no {kind} {name}"))
}

fn all<'a>(objects: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    objects.iter().filter(move |o| o["kind"] == kind)
}

fn containers(workload: &Value) -> &Vec<Value> {
    workload["spec"]["template"]["spec"]["containers"].as_array().expect("containers")
}

/// A ConfigMap's or Secret's value.
fn data<'a>(objects: &'a [Value], kind: &str, name: &str, key: &str) -> &'a str {
    let o = object(objects, kind, name);
    let v = if o["data"][key].is_string() { &o["data"][key] } else { &o["stringData"][key] };
    s(v, &format!("{kind} {name}'s {key}"))
}

/// The environment a container gets: its envFrom ConfigMaps and Secrets, then
/// its `env` in order, `$(VAR)` expanded, the pod's name for
/// `metadata.name`.
fn container_env(objects: &[Value], container: &Value, pod: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for from in container["envFrom"].as_array().into_iter().flatten() {
        let (kind, name) = match (&from["configMapRef"]["name"], &from["secretRef"]["name"]) {
            (Value::String(n), _) => ("ConfigMap", n),
            (_, Value::String(n)) => ("Secret", n),
            _ => panic!("envFrom {from}"),
        };
        let o = object(objects, kind, name);
        let map = if o["data"].is_object() { &o["data"] } else { &o["stringData"] };
        for (k, v) in map.as_object().unwrap() {
            env.push((k.clone(), s(v, k).to_owned()));
        }
    }
    for e in container["env"].as_array().into_iter().flatten() {
        let name = s(&e["name"], "env name").to_owned();
        let from = &e["valueFrom"];
        let value = if let Some(v) = e["value"].as_str() {
            let mut v = v.to_owned();
            for (k, known) in &env {
                v = v.replace(&format!("$({k})"), known);
            }
            assert!(!v.contains("$("), "{name}: {v} names a variable not set before it");
            v
        } else if from["fieldRef"]["fieldPath"] == "metadata.name" {
            pod.to_owned()
        } else if from["secretKeyRef"].is_object() {
            data(objects, "Secret", s(&from["secretKeyRef"]["name"], "secret"), s(&from["secretKeyRef"]["key"], "key")).to_owned()
        } else if from["configMapKeyRef"].is_object() {
            data(objects, "ConfigMap", s(&from["configMapKeyRef"]["name"], "map"), s(&from["configMapKeyRef"]["key"], "key")).to_owned()
        } else {
            panic!("env {e}")
        };
        env.retain(|(k, _)| *k != name);
        env.push((name, value));
    }
    env
}

fn get<'a>(env: &'a [(String, String)], key: &str) -> &'a str {
    env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("{key} is not set"))
}

/// The `sh -c` script of a container or service that starts Redis.
fn shell_script(command: &Value) -> &str {
    let c = command.as_array().expect("a command list");
    assert_eq!((c.len(), &c[0], &c[1]), (3, &Value::from("sh"), &Value::from("-c")), "{command}");
    s(&c[2], "the script")
}

/// The port of an `address:port`.
fn port_of(addr: &str) -> u16 {
    addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).unwrap_or_else(|| panic!("no port in {addr}"))
}

/// (port, path) of `http://127.0.0.1:<port>/<path>`.
fn local_url(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://127.0.0.1:").unwrap_or_else(|| panic!("{url} is not on the container's loopback"));
    let (port, path) = rest.split_once('/').unwrap_or((rest, ""));
    (port.parse().unwrap(), format!("/{path}"))
}

/// A Redis URL's (password, host, port): `redis://:<password>@<host>:<port>/<db>`.
fn redis_url(url: &str) -> (String, String, u16) {
    let rest = url.strip_prefix("redis://:").unwrap_or_else(|| panic!("{url}: not redis://:<password>@…"));
    let (password, rest) = rest.rsplit_once('@').unwrap();
    let (host, port) = rest.split('/').next().unwrap().rsplit_once(':').unwrap();
    (password.to_owned(), host.to_owned(), port.parse().unwrap())
}

/// `wenzheng serve --help`.
fn serve_help() -> String {
    let (ok, help) = run(Command::new(BIN).args(["serve", "--help"]));
    assert!(ok, "{help}");
    help
}

/// Whether `key` is a variable `serve` reads (`[env: K=…]`, or `[env: K]`
/// for a setting whose value is hidden).
fn is_setting(help: &str, key: &str) -> bool {
    help.contains(&format!("[env: {key}=")) || help.contains(&format!("[env: {key}]"))
}

/// The port `serve` listens on by default (`--bind`).
fn default_port(help: &str) -> u16 {
    let after = help.split("[env: WENZHENG_BIND=").nth(1).expect("--bind's variable");
    let default = after.split("[default: ").nth(1).expect("--bind's default").split(']').next().unwrap();
    port_of(default)
}

/// deploy/Dockerfile's instructions (continuation lines joined, comments out).
fn dockerfile() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut line = String::new();
    for l in read("Dockerfile").lines() {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(part) => line.push_str(part),
            None => {
                line.push_str(t);
                let (instruction, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
                out.push((instruction.to_ascii_uppercase(), rest.split_whitespace().collect::<Vec<_>>().join(" ")));
                line.clear();
            }
        }
    }
    out
}

fn instructions(docker: &[(String, String)], which: &str) -> Vec<String> {
    docker.iter().filter(|(i, _)| i == which).map(|(_, rest)| rest.clone()).collect()
}

/// The image's `ENV` variables.
fn dockerfile_env() -> Vec<(String, String)> {
    instructions(&dockerfile(), "ENV")
        .iter()
        .flat_map(|rest| rest.split_whitespace().map(|kv| kv.split_once('=').expect("ENV K=V")).map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// The URL of the image's HEALTHCHECK.
fn dockerfile_health_url() -> String {
    let check = instructions(&dockerfile(), "HEALTHCHECK").pop().expect("a HEALTHCHECK");
    let cmd: Vec<String> = serde_json::from_str(check.split_once("CMD ").expect("HEALTHCHECK … CMD [..]").1).expect("CMD in exec form");
    cmd.into_iter().find(|a| a.starts_with("http://")).expect("a URL")
}

fn compose() -> Value {
    let mut docs = yaml("compose.yaml");
    assert_eq!(docs.len(), 1, "one document");
    docs.pop().unwrap()
}

/// The URL a compose healthcheck asks (`["CMD", "curl", …, url]`).
fn compose_health_url(service: &Value) -> String {
    let test = service["healthcheck"]["test"].as_array().expect("a healthcheck in exec form");
    assert_eq!(test[0], "CMD");
    test.iter().filter_map(Value::as_str).find(|a| a.starts_with("http://")).expect("a URL").to_owned()
}

/// What the wenzheng service's environment is: the env file (the example's
/// lines), then `environment`, which wins.
fn compose_env(compose: &Value) -> Vec<(String, String)> {
    let service = &compose["services"]["wenzheng"];
    assert_eq!(service["env_file"], "compose.env", "the service reads compose.env, the example copied");
    let mut env: Vec<(String, String)> = read("compose.env.example")
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
        .map(|l| l.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).unwrap())
        .collect();
    for (k, v) in service["environment"].as_object().expect("environment as a map") {
        let v = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
        env.retain(|(key, _)| key != k);
        env.push((k.clone(), v));
    }
    env
}

/// The values of `KEY=value` lines of deploy/compose.env.example.
fn compose_env_example(key: &str) -> String {
    read("compose.env.example")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("compose.env.example sets no {key}"))
        .to_owned()
}

/// The `<setting> <value>` of deploy/redis.conf.
fn redis_conf(setting: &str) -> String {
    let text = read("redis.conf");
    let lines: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix(&format!("{setting} "))).collect();
    assert_eq!(lines.len(), 1, "deploy/redis.conf sets {setting} once");
    lines[0].trim().to_owned()
}

#[test]
fn the_compose_file_and_every_manifest_parse_and_refer_to_what_exists() {
    let compose = compose();
    let services = compose["services"].as_object().expect("services");
    assert_eq!(services.keys().collect::<Vec<_>>(), ["redis", "wenzheng"], "{services:?}");

    // The kustomization lists every manifest, and only those.
    let kustomization = yaml("k8s/kustomization.yaml").pop().unwrap();
    let mut listed: Vec<String> = kustomization["resources"].as_array().unwrap().iter().map(|r| s(r, "a resource").to_owned()).collect();
    listed.sort();
    assert_eq!(listed, k8s_files(), "deploy/k8s/kustomization.yaml's resources");

    let objects = k8s();
    let kinds: Vec<&str> = objects.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    for kind in ["Namespace", "ConfigMap", "Secret", "Deployment", "Service", "StatefulSet", "PodDisruptionBudget", "NetworkPolicy"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    assert_eq!(object(&objects, "Namespace", "wenzheng")["metadata"]["name"], kustomization["namespace"]);
    // Kubernetes takes only strings as ConfigMap and Secret values.
    for o in all(&objects, "ConfigMap").chain(all(&objects, "Secret")) {
        for field in ["data", "stringData"] {
            for (k, v) in o[field].as_object().into_iter().flatten() {
                assert!(v.is_string(), "{} {}: {k} is {v}, not a string", o["kind"], o["metadata"]["name"]);
            }
        }
    }
    // The Secret holds placeholders, and says so.
    for (k, v) in object(&objects, "Secret", "wenzheng")["stringData"].as_object().unwrap() {
        assert!(s(v, k).starts_with("CHANGE-ME"), "the Secret's {k} is a placeholder to replace");
    }
    assert!(read("k8s/wenzheng-secret.yaml").starts_with("# PLACEHOLDERS"), "the Secret says at the top what to replace");

    let workloads: Vec<&Value> = all(&objects, "Deployment").chain(all(&objects, "StatefulSet")).collect();
    let pods_of = |selector: &Value| -> Vec<&Value> {
        let selector = selector.as_object().expect("a selector");
        workloads.iter().copied().filter(|w| selector.iter().all(|(k, v)| &w["spec"]["template"]["metadata"]["labels"][k] == v)).collect()
    };
    for w in &workloads {
        let selected = pods_of(&w["spec"]["selector"]["matchLabels"]);
        assert_eq!(selected.len(), 1, "{}'s selector picks its own pods only", w["metadata"]["name"]);
    }
    // Each Service reaches the pods of one workload, on a port they have.
    for svc in all(&objects, "Service") {
        let name = &svc["metadata"]["name"];
        let pods = pods_of(&svc["spec"]["selector"]);
        assert_eq!(pods.len(), 1, "Service {name} selects one workload's pods");
        assert_ne!(svc["spec"]["sessionAffinity"], "ClientIP", "Service {name}: any node serves any client");
        for port in svc["spec"]["ports"].as_array().unwrap() {
            let target = &port["targetPort"];
            let found = containers(pods[0]).iter().flat_map(|c| c["ports"].as_array().unwrap()).any(|p| &p["name"] == target);
            assert!(found, "Service {name}'s targetPort {target} is no container port of its pods");
        }
    }
    // The StatefulSet's own Service is headless.
    let redis = object(&objects, "StatefulSet", "wenzheng-redis");
    let governing = object(&objects, "Service", s(&redis["spec"]["serviceName"], "serviceName"));
    assert_eq!(governing["spec"]["clusterIP"], "None", "the StatefulSet's serviceName is a headless Service");
    assert!(
        redis["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"].is_string(),
        "Redis keeps its data on a volume"
    );
    for pdb in all(&objects, "PodDisruptionBudget") {
        assert_eq!(pods_of(&pdb["spec"]["selector"]["matchLabels"]).len(), 1);
    }
    for np in all(&objects, "NetworkPolicy") {
        let guarded = pods_of(&np["spec"]["podSelector"]["matchLabels"]);
        assert_eq!(guarded, [redis], "the policy guards Redis");
        let from = pods_of(&np["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]);
        assert_eq!(from, [object(&objects, "Deployment", "wenzheng")], "only the server nodes reach Redis");
    }
    // Every ConfigMap, Secret and key a pod names exists; every volume it mounts is declared.
    for w in &workloads {
        let spec = &w["spec"]["template"]["spec"];
        let mut volumes: Vec<&str> = spec["volumes"].as_array().into_iter().flatten().map(|v| s(&v["name"], "volume")).collect();
        for claim in w["spec"]["volumeClaimTemplates"].as_array().into_iter().flatten() {
            volumes.push(s(&claim["metadata"]["name"], "claim"));
        }
        for v in spec["volumes"].as_array().into_iter().flatten() {
            if let Some(map) = v["configMap"]["name"].as_str() {
                object(&objects, "ConfigMap", map);
            }
        }
        for c in containers(w) {
            container_env(&objects, c, "a-pod");
            for m in c["volumeMounts"].as_array().into_iter().flatten() {
                assert!(volumes.contains(&s(&m["name"], "mount")), "{}: mounts {} which is no volume", w["metadata"]["name"], m["name"]);
            }
        }
    }

    // Where the tools are installed, they agree (the test does not need them).
    if let Some(kubectl) = on_path("kubectl") {
        let out = Command::new(kubectl).arg("kustomize").arg(deploy("k8s")).output().unwrap();
        assert!(out.status.success(), "kubectl kustomize deploy/k8s:\n{}", String::from_utf8_lossy(&out.stderr));
        let built = yaml_text("kubectl kustomize", &String::from_utf8(out.stdout).unwrap());
        assert_eq!(built.len(), objects.len(), "kubectl kustomize yields every object");
    }
    if let Some(validate) = on_path("kubernetes-validate") {
        let files: Vec<PathBuf> = k8s_files().iter().map(|f| deploy("k8s").join(f)).collect();
        let (ok, out) = run(Command::new(validate).args(["--strict", "--quiet"]).args(&files));
        assert!(ok, "kubernetes-validate --strict:\n{out}");
    }
}

/// An executable of that name on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

#[test]
fn the_redis_configmap_is_deploy_redis_conf_mounted_where_the_command_reads_it() {
    let objects = k8s();
    let shipped = read("redis.conf");
    assert_eq!(
        data(&objects, "ConfigMap", "wenzheng-redis", "redis.conf"),
        shipped,
        "deploy/k8s/redis-configmap.yaml differs from deploy/redis.conf"
    );
    let data_dir = redis_conf("dir");

    let redis = object(&objects, "StatefulSet", "wenzheng-redis");
    let c = &containers(redis)[0];
    let mounts = c["volumeMounts"].as_array().unwrap();
    let mounted_at = |volume: &str| mounts.iter().find(|m| m["name"] == volume).map(|m| s(&m["mountPath"], "mountPath").to_owned());
    let config = redis["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["configMap"]["name"] == "wenzheng-redis")
        .unwrap();
    let config_at = mounted_at(s(&config["name"], "volume")).expect("the ConfigMap is mounted");
    assert!(shell_script(&c["command"]).contains(&format!("redis-server {config_at}/redis.conf ")), "Redis reads the mounted file");
    assert_eq!(mounted_at("data").as_deref(), Some(data_dir.as_str()), "the volume is where redis.conf keeps the AOF");

    // Compose mounts the file itself, and its volume at the same place.
    let compose = compose();
    let service = &compose["services"]["redis"];
    let volumes: Vec<&str> = service["volumes"].as_array().unwrap().iter().map(|v| s(v, "volume")).collect();
    let file = volumes.iter().find_map(|v| v.strip_prefix("./redis.conf:")).expect("./redis.conf is mounted");
    let file = file.strip_suffix(":ro").expect("read-only");
    assert!(shell_script(&service["command"]).contains(&format!("redis-server {file} ")), "Redis reads the mounted file");
    assert!(volumes.contains(&format!("redis-data:{data_dir}").as_str()), "the volume is where redis.conf keeps the AOF: {volumes:?}");
    assert_eq!(service["working_dir"], data_dir.as_str(), "the image's entrypoint gives its working directory to the redis user");
}

#[test]
fn the_ports_probes_and_settings_are_the_servers() {
    let help = serve_help();
    let port = default_port(&help);
    assert_eq!(port, 8080, "serve's default port (the manifests' comments say 8080)");
    let objects = k8s();
    let compose = compose();
    let docker = dockerfile();

    // Kubernetes: the container port, each probe, the Service, the scrape annotation, the bind address.
    let server = object(&objects, "Deployment", "wenzheng");
    let c = &containers(server)[0];
    let ports = c["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["containerPort"], port);
    let named = &ports[0]["name"];
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        assert_eq!(&c[probe]["httpGet"]["port"], named, "{probe} asks the server's port");
    }
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    let service = object(&objects, "Service", "wenzheng");
    assert_eq!(&service["spec"]["ports"][0]["targetPort"], named);
    let annotations = &server["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/port"], port.to_string());
    let env = container_env(&objects, c, "wenzheng-7d4b9c6f5-x2x7q");
    assert_eq!(port_of(get(&env, "WENZHENG_BIND")), port);

    // Compose: the published container port, the healthcheck, the bind address.
    let wenzheng = &compose["services"]["wenzheng"];
    let published = s(&wenzheng["ports"][0], "ports");
    let (host, container) = published.rsplit_once(':').unwrap();
    assert_eq!(container.parse::<u16>().unwrap(), port);
    assert!(read("nginx-site.conf").contains(&format!("server {host} ")), "nginx-site.conf's first node is compose's {host}");
    assert_eq!(local_url(&compose_health_url(wenzheng)).0, port);
    assert_eq!(port_of(get(&compose_env(&compose), "WENZHENG_BIND")), port);

    // The image: EXPOSE, its bind address, its health check.
    assert_eq!(instructions(&docker, "EXPOSE"), [port.to_string()]);
    assert_eq!(port_of(get(&dockerfile_env(), "WENZHENG_BIND")), port);
    assert_eq!(local_url(&dockerfile_health_url()).0, port);

    // Every WENZHENG_… variable any of them sets is a setting of `serve`.
    let mut named: Vec<String> = Vec::new();
    for w in all(&objects, "Deployment") {
        for c in containers(w) {
            named.extend(container_env(&objects, c, "a-pod").into_iter().map(|(k, _)| k));
        }
    }
    named.extend(compose_env(&compose).into_iter().map(|(k, _)| k));
    named.extend(dockerfile_env().into_iter().map(|(k, _)| k));
    named.retain(|k| k.starts_with("WENZHENG_"));
    named.sort();
    named.dedup();
    assert!(named.len() >= 10, "{named:?}");
    for k in &named {
        assert!(is_setting(&help, k), "{k} is not a setting of `wenzheng serve`");
    }

    // Redis: the port redis.conf names is the one the Service, the container and every URL use.
    let redis_port: u16 = redis_conf("port").parse().unwrap();
    let redis = object(&objects, "StatefulSet", "wenzheng-redis");
    assert_eq!(containers(redis)[0]["ports"][0]["containerPort"], redis_port);
    let redis_service = object(&objects, "Service", "wenzheng-redis");
    assert_eq!(redis_service["spec"]["ports"][0]["port"], redis_port);
    let (password, host, url_port) = redis_url(get(&env, "WENZHENG_REDIS_URL"));
    assert_eq!((host.as_str(), url_port), (s(&redis_service["metadata"]["name"], "name"), redis_port));
    let redis_env = container_env(&objects, &containers(redis)[0], "wenzheng-redis-0");
    assert_eq!(password, get(&redis_env, "REDIS_PASSWORD"), "the server's URL carries the password Redis requires");
    let (password, host, url_port) = redis_url(&compose_env_example("WENZHENG_REDIS_URL"));
    assert_eq!((host.as_str(), url_port), ("redis", redis_port), "compose's URL names the redis service");
    assert_eq!(password, compose_env_example("REDIS_PASSWORD"), "compose.env.example's two passwords are one");
}

#[test]
fn the_pods_are_unprivileged_bounded_and_stop_in_time() {
    let objects = k8s();
    for w in all(&objects, "Deployment").chain(all(&objects, "StatefulSet")) {
        let name = &w["metadata"]["name"];
        let spec = &w["spec"]["template"]["spec"];
        assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{name}");
        assert!(spec["securityContext"]["runAsUser"].as_u64().is_some_and(|u| u > 0), "{name} runs as a user of its own");
        assert_eq!(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", "{name}");
        for c in containers(w) {
            let sc = &c["securityContext"];
            assert_eq!(
                (&sc["allowPrivilegeEscalation"], &sc["readOnlyRootFilesystem"]),
                (&Value::Bool(false), &Value::Bool(true)),
                "{name}"
            );
            assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]), "{name}");
            for bound in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    assert!(c["resources"][bound][resource].is_string(), "{name}: no {bound}.{resource}");
                }
            }
        }
    }
    // Several nodes, each with its pod's name as its id (and so the Redis URL it needs).
    let server = object(&objects, "Deployment", "wenzheng");
    assert!(server["spec"]["replicas"].as_u64().unwrap() >= 2, "several nodes");
    let c = &containers(server)[0];
    let env = container_env(&objects, c, "wenzheng-7d4b9c6f5-x2x7q");
    assert_eq!(get(&env, "WENZHENG_NODE_ID"), "wenzheng-7d4b9c6f5-x2x7q", "the node id is the pod's name");
    assert!(get(&env, "WENZHENG_REDIS_URL").starts_with("redis://"), "--node-id needs --redis-url");
    // Stopping: the preStop pause, then SIGTERM: the server's own bound for
    // its connections, and time for the last store write (3 s at most).
    let pause: u64 = s(&c["lifecycle"]["preStop"]["exec"]["command"][1], "the pause").parse().unwrap();
    let grace = server["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as_u64().unwrap();
    let bound = wz_server::listener::SHUTDOWN_GRACE.as_secs();
    assert!(grace >= pause + bound + 5, "terminationGracePeriodSeconds {grace} < {pause} s pause + {bound} s shutdown + 5 s");
    // Compose: the same bound, read-only, no capabilities.
    let compose = compose();
    let wenzheng = &compose["services"]["wenzheng"];
    let stop: u64 = s(&wenzheng["stop_grace_period"], "stop_grace_period").trim_end_matches('s').parse().unwrap();
    assert!(stop >= bound + 5, "stop_grace_period {stop} s");
    assert_eq!((&wenzheng["read_only"], &wenzheng["cap_drop"]), (&Value::Bool(true), &serde_json::json!(["ALL"])));
    assert_eq!(wenzheng["depends_on"]["redis"]["condition"], "service_healthy");
    assert_eq!(compose["networks"]["store"]["internal"], true, "Redis is reachable from the server only");
    assert!(compose["services"]["redis"]["ports"].is_null(), "Redis has no port on the host");
}

#[test]
fn the_image_builds_the_server_and_the_pages_and_runs_unprivileged() {
    let docker = dockerfile();
    let root = deploy("..");
    // Multi-stage: the pages, the binary, then a runtime stage that only copies them.
    let stages = instructions(&docker, "FROM");
    assert!(stages.len() >= 3, "{stages:?}");
    let build = instructions(&docker, "RUN").into_iter().find(|r| r.contains("cargo build")).expect("cargo build");
    assert!(build.contains("--release") && build.contains("--locked") && build.contains("-p wz-server --bin wenzheng"), "{build}");
    assert!(read("../crates/wz-server/Cargo.toml").contains("[[bin]]\nname = \"wenzheng\""), "the binary is `wenzheng`");
    assert!(instructions(&docker, "RUN").iter().any(|r| r.contains("npm ci") || r.contains("npm run build")), "the pages are built");
    let copies = instructions(&docker, "COPY");
    let pages = copies.iter().find_map(|c| c.strip_prefix("--from=web /src/web/dist ")).expect("the pages are copied from the web stage");
    assert_eq!(get(&dockerfile_env(), "WENZHENG_WEB_DIR"), pages, "the server serves the copied pages");
    assert!(copies.iter().any(|c| c.starts_with("--from=server ")), "the binary is copied from the build stage");
    // Every source the build copies exists.
    for c in &copies {
        if c.starts_with("--from") {
            continue;
        }
        let words: Vec<&str> = c.split_whitespace().collect();
        for src in &words[..words.len() - 1] {
            assert!(root.join(src).exists(), "COPY {src}: no such path in the repository");
        }
    }
    // Not root, by number.
    let user = instructions(&docker, "USER").pop().expect("USER");
    let uid: u32 = user.split(':').next().unwrap().parse().expect("a numeric USER");
    assert_ne!(uid, 0);
    assert_eq!(instructions(&docker, "ENTRYPOINT"), [r#"["/usr/local/bin/wenzheng"]"#]);
    // The toolchain is one the workspace builds with.
    let rust = instructions(&docker, "ARG")
        .into_iter()
        .find_map(|a| a.strip_prefix("RUST_VERSION=").map(str::to_owned))
        .expect("ARG RUST_VERSION");
    let minimum =
        read("../Cargo.toml").lines().find_map(|l| l.strip_prefix("rust-version = ").map(|v| v.trim_matches('"').to_owned())).unwrap();
    let version = |v: &str| v.split('.').map(|n| n.parse::<u32>().unwrap()).collect::<Vec<_>>();
    assert!(version(&rust) >= version(&minimum), "Rust {rust} < the workspace's {minimum}");

    // Compose builds this file from the repository's root, and the context leaves out build output and secrets.
    let compose = compose();
    let build = &compose["services"]["wenzheng"]["build"];
    let context = deploy(s(&build["context"], "context"));
    assert_eq!(context, root);
    assert!(context.join(s(&build["dockerfile"], "dockerfile")).canonicalize().unwrap() == deploy("Dockerfile"));
    let ignore = std::fs::read_to_string(root.join(".dockerignore")).expect("a .dockerignore at the root");
    for left_out in ["target", ".git", "**/node_modules", "deploy/compose.env"] {
        assert!(ignore.lines().any(|l| l == left_out), ".dockerignore leaves out {left_out}");
    }
}

/// A Redis started by a manifest's own `sh -c` script, with deploy/redis.conf
/// copied to a temporary directory (its `dir` pointed there) and a unix
/// socket instead of TCP. Killed on drop.
struct ScriptedRedis {
    child: std::process::Child,
    socket: PathBuf,
    dir: tempfile::TempDir,
}

impl ScriptedRedis {
    /// `config_at` is where the manifest mounts deploy/redis.conf.
    fn start(script: &str, config_at: &str, env: &[(String, String)]) -> Self {
        let dir = tempfile::Builder::new().prefix("wz-redis-").tempdir_in("/tmp").unwrap();
        let conf = dir.path().join("redis.conf");
        let text: String = read("redis.conf")
            .lines()
            .map(|l| if l.starts_with("dir ") { format!("dir {}\n", dir.path().display()) } else { format!("{l}\n") })
            .collect();
        std::fs::write(&conf, text).unwrap();
        let socket = dir.path().join("redis.sock");
        assert!(script.contains(config_at), "{script}");
        let mut script =
            script.replacen(config_at, &format!("{} --port 0 --unixsocket {} --unixsocketperm 700", conf.display(), socket.display()), 1);
        if let Some(bin) = std::env::var_os("WZ_REDIS_SERVER") {
            script = script.replace("exec redis-server ", &format!("exec {} ", bin.to_string_lossy()));
        }
        let log = std::fs::File::create(dir.path().join("redis.log")).unwrap();
        let child = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("sh");
        Self { child, socket, dir }
    }

    /// Sends `commands` and returns what comes back, once `replies` lines have.
    fn ask(&self, commands: &str, replies: usize) -> Option<String> {
        let mut s = std::os::unix::net::UnixStream::connect(&self.socket).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(commands.as_bytes()).ok()?;
        let mut got = String::new();
        let mut buf = [0u8; 512];
        while got.matches("\r\n").count() < replies {
            let n = s.read(&mut buf).ok().filter(|n| *n > 0)?;
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        Some(got)
    }

    /// Waits until Redis answers PING after AUTH with `password`.
    fn wait_ready(&mut self, password: &str) {
        let started = Instant::now();
        loop {
            if let Some(reply) = self.ask(&format!("AUTH {password}\r\nPING\r\n"), 2) {
                assert_eq!(reply, "+OK\r\n+PONG\r\n", "AUTH with the manifest's password");
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Redis exited with {status}:\n{}", std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default());
            }
            assert!(started.elapsed() < Duration::from_secs(10), "Redis did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's URL for it, with the password.
    fn url(&self, password: &str) -> String {
        format!("redis+unix://{}?pass={password}", self.socket.display())
    }
}

impl Drop for ScriptedRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Redis as `script` does, and the server with `env` (its Redis URL,
/// which names a host of the cluster or the compose network, replaced by
/// the local Redis's with the same password); checks the server is ready
/// on deploy/redis.conf and answers 200 on every path in `probes`.
async fn start_as_deployed(
    script: &str,
    config_at: &str,
    redis_env: &[(String, String)],
    env: &[(String, String)],
    probes: &[String],
) -> Value {
    let password = redis_url(get(env, "WENZHENG_REDIS_URL")).0;
    let mut redis = ScriptedRedis::start(script, config_at, redis_env);
    redis.wait_ready(&password);
    assert!(redis.ask("PING\r\n", 1).unwrap().starts_with("-NOAUTH"), "Redis requires the password");
    let dir = tempfile::tempdir().unwrap();
    let url = redis.url(&password);
    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(k, v)| match k.as_str() {
            "WENZHENG_REDIS_URL" => (k.as_str(), url.as_str()),
            // Not built here: the server's placeholder page answers instead.
            "WENZHENG_WEB_DIR" => (k.as_str(), "/nonexistent/wenzheng-web"),
            _ => (k.as_str(), v.as_str()),
        })
        .collect();
    // `Server` passes --bind 127.0.0.1:0 and --data-dir, which win over the environment.
    let server = Server::start_with(BIN, dir.path(), &[], &env, None).await.unwrap();
    for path in probes {
        let (status, body) = server.http("GET", path, None, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        // A path no endpoint serves gets the web app's page, with 200 too.
        assert!(!body.trim_start().to_ascii_lowercase().starts_with("<!doctype html"), "GET {path} is the web app's page, not an endpoint");
    }
    let (status, body) = server.http("GET", "/readyz", None, None).await;
    assert_eq!(status, 200, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((&ready["store"], &ready["store_problems"]), (&Value::from("redis"), &serde_json::json!([])), "{ready}");
    drop(server);
    drop(redis);
    ready
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_started_as_the_manifests_start_it_is_ready_and_answers_every_probe() {
    let objects = k8s();
    let redis = &containers(object(&objects, "StatefulSet", "wenzheng-redis"))[0];
    let redis_env = container_env(&objects, redis, "wenzheng-redis-0");
    let server = object(&objects, "Deployment", "wenzheng");
    let c = &containers(server)[0];
    let pod = "wenzheng-7d4b9c6f5-x2x7q";
    let env = container_env(&objects, c, pod);
    let mut probes: Vec<String> =
        ["startupProbe", "livenessProbe", "readinessProbe"].iter().map(|p| s(&c[p]["httpGet"]["path"], p).to_owned()).collect();
    probes.push(s(&server["spec"]["template"]["metadata"]["annotations"]["prometheus.io/path"], "scrape path").to_owned());
    let ready = start_as_deployed(shell_script(&redis["command"]), "/etc/wenzheng/redis.conf", &redis_env, &env, &probes).await;
    assert_eq!(ready["node"], pod, "one of several nodes, named after its pod: {ready}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_as_compose_starts_it_is_ready_and_answers_every_probe() {
    let compose = compose();
    let redis = &compose["services"]["redis"];
    assert_eq!(redis["env_file"], "compose.env");
    // Compose reads `$$` as `$`; the image's entrypoint only drops root.
    let script =
        shell_script(&redis["command"]).replace("$$", "$").replace("exec docker-entrypoint.sh redis-server ", "exec redis-server ");
    let redis_env = vec![("REDIS_PASSWORD".to_owned(), compose_env_example("REDIS_PASSWORD"))];
    let probes = [local_url(&compose_health_url(&compose["services"]["wenzheng"])).1, local_url(&dockerfile_health_url()).1];
    let ready = start_as_deployed(&script, "/etc/wenzheng/redis.conf", &redis_env, &compose_env(&compose), &probes).await;
    assert!(ready["node"].is_null(), "one server, no node id: {ready}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_redis_conf_passes_the_configuration_guard_and_appendonly_no_does_not() {
    let dir = tempfile::Builder::new().prefix("wz-redis-").tempdir_in("/tmp").unwrap();
    // Redis applies `dir` as it reads the file: point that line here, keep every other.
    let text: String = read("redis.conf")
        .lines()
        .map(|l| if l.starts_with("dir ") { format!("dir {}\n", dir.path().display()) } else { format!("{l}\n") })
        .collect();
    let config = dir.path().join("redis.conf");
    std::fs::write(&config, text).unwrap();
    let redis = RedisServer::start_with_config(dir.path(), &config, &[]);
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, data.path(), &["--redis-url", &redis.url(), "--no-demo"]).await.unwrap();
    let readyz = || async {
        let (status, body) = server.http("GET", "/readyz", None, None).await;
        (status, serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("{e}: {body}")))
    };
    let (status, ready) = readyz().await;
    assert_eq!((status, &ready["ready"], &ready["store_problems"]), (200, &Value::Bool(true), &serde_json::json!([])), "{ready}");

    // The same Redis without its append-only file: not ready, and says why.
    redis.config_set("appendonly", "no");
    let (status, ready) = readyz().await;
    assert_eq!((status, &ready["ready"], &ready["store_reachable"]), (503, &Value::Bool(false), &Value::Bool(true)), "{ready}");
    let problems = ready["store_problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{ready}");
    assert!(s(&problems[0], "problem").starts_with("appendonly is no; evaluations need appendonly yes"), "{ready}");

    // Set back as shipped: ready again at once (read live, no restart).
    redis.config_set("appendonly", "yes");
    let (status, ready) = readyz().await;
    assert_eq!((status, &ready["store_problems"]), (200, &serde_json::json!([])), "{ready}");
}
