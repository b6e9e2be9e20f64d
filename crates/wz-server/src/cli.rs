//! Start-up: logging, store, hub, seeding, listener; and the small subcommands.

use crate::app::{AppState, bind, serve};
use crate::config::{Cli, Command, LinksArgs, LogFormat, RepairArgs, ServeArgs, StoreArgs, StoreKind};
use crate::listener::ListenerLimits;
use crate::origin::OriginPolicy;
use anyhow::{Context, bail};
use clap::Parser;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use tracing::{info, warn};
use wz_hub::{Credential, Hub, HubConfig, PrincipalKey};
use wz_protocol::definition::{SessionDefinition, parse_delegates_csv};
use wz_store::{DynStore, EmbeddedStore, MemoryStore};

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => {
            // `wenzheng` alone serves with defaults (and the environment).
            let args = ServeArgs::parse_from(["wenzheng"]);
            run_serve(args)
        }
        Some(Command::Serve(args)) => run_serve(args),
        Some(Command::Links(args)) => links(&args),
        Some(Command::Cards(args)) => cards(&args),
        Some(Command::Repair(args)) => repair(&args),
        Some(Command::Verify(args)) => {
            init_logging(LogFormat::Text);
            crate::cli_record::verify(&args)
        }
        Some(Command::ExportRecord(args)) => {
            init_logging(LogFormat::Text);
            crate::cli_record::export_record(&args)
        }
        Some(Command::Backup(args)) => {
            init_logging(LogFormat::Text);
            crate::cli_backup::backup(&args)
        }
        Some(Command::Restore(args)) => {
            init_logging(LogFormat::Text);
            crate::cli_backup::restore(&args)
        }
        Some(Command::Report(args)) => crate::cli_report::run(&args),
        Some(Command::CheckDefinition { file, delegates_csv }) => load_definition(&file, delegates_csv.as_deref()).map(|def| {
            let check_in = serde_json::to_value(wz_protocol::dto::CheckInPolicy::from(def.check_in)).unwrap_or_default();
            println!(
                "ok: session {} with {} venues, {} delegates, {} units, {} topics; check-in: {}",
                def.id,
                def.venues.len(),
                def.delegates.len(),
                def.units.len(),
                def.topics.len(),
                check_in.as_str().unwrap_or("?")
            );
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let problems = crate::settings::check(&args);
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        bail!("{} setting(s) cannot work; nothing was started:\n{}", problems.len(), lines.join("\n"));
    }
    init_logging(args.log_format);
    crate::alloc::start();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(serve_main(args))
}

/// Crates that log whole frames at `trace` (tungstenite: every message, so
/// question texts and join links): never logged, whatever `RUST_LOG` says.
const PAYLOAD_TARGETS: [&str; 2] = ["tungstenite", "tokio_tungstenite"];

fn init_logging(format: LogFormat) {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{EnvFilter, filter};
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let no_payloads =
        filter::filter_fn(|m| !(*m.level() == tracing::Level::TRACE && PAYLOAD_TARGETS.iter().any(|t| m.target().starts_with(t))));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(env).with(no_payloads);
    let _ = match format {
        LogFormat::Text => registry.with(fmt).try_init(),
        // Each line carries its span's fields under `span` (a WebSocket's
        // session, role, principal, venue and conn; a request's method and
        // route): the span an event names as its parent, else the current
        // one. No span list: it would repeat them, and list the current
        // spans rather than the parent the hub names.
        LogFormat::Json => registry.with(fmt.json().with_current_span(true).with_span_list(false)).try_init(),
    };
}

/// Reads a TOML/JSON definition, merging a delegates CSV if given.
pub fn load_definition(file: &Path, csv: Option<&Path>) -> anyhow::Result<wz_domain::SessionDef> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut def = match file.extension().and_then(|e| e.to_str()) {
        Some("json") => SessionDefinition::from_json(&text),
        _ => SessionDefinition::from_toml(&text),
    }
    .with_context(|| format!("parsing {}", file.display()))?;
    if let Some(csv) = csv {
        let bytes = std::fs::read(csv).with_context(|| format!("reading {}", csv.display()))?;
        def.delegates.extend(parse_delegates_csv(&bytes).with_context(|| format!("parsing {}", csv.display()))?);
    }
    def.into_domain().context("invalid session definition")
}

/// Opens the configured store. For Redis, also checks its persistence
/// settings: returns the problems that make acknowledged ballots unsafe.
pub(crate) async fn open_store(args: &StoreArgs, data_dir: &Path) -> anyhow::Result<(DynStore, Vec<String>)> {
    if let Some(url) = &args.redis_url {
        let redis = wz_store::RedisStore::connect(url).await.context("connecting to Redis")?;
        let problems = redis.persistence().await.context("reading Redis persistence settings")?.problems();
        return Ok((Arc::new(redis), problems));
    }
    Ok(match args.store {
        StoreKind::Embedded => {
            (Arc::new(EmbeddedStore::open(data_dir).with_context(|| format!("opening the store in {}", data_dir.display()))?), Vec::new())
        }
        StoreKind::Memory => {
            warn!("memory store: nothing survives a restart");
            (Arc::new(MemoryStore::new()), Vec::new())
        }
    })
}

async fn serve_main(args: ServeArgs) -> anyhow::Result<()> {
    let (store, problems) = open_store(&args.store, &args.data_dir).await?;
    let mut config = HubConfig {
        outbound_queue: args.outbound_queue.max(16),
        outbound_queue_bytes: args.outbound_queue_bytes.max(64 * 1024),
        max_batch: args.max_batch.max(1),
        resume_window: args.resume_window.max(1),
        ..HubConfig::default()
    };
    config.max_connections_per_credential = args.max_connections_per_credential.max(1);
    config.max_connections_per_shared_credential = args.max_connections_per_shared_credential.max(1);
    config.node = args.node_id.clone();
    config.lease_ttl = std::time::Duration::from_millis(args.lease_ms);
    if let Some(node) = &args.node_id {
        info!(node = %node, lease_ms = args.lease_ms, "one of several nodes on this Redis");
    }
    if !problems.is_empty() {
        let why = problems.join("; ");
        if args.allow_unsafe_redis {
            warn!("UNSAFE: evaluations allowed although {why}");
        } else {
            warn!("evaluations are paused: {why} (see deploy/redis.conf, or --allow-unsafe-redis for development)");
        }
    }
    // The hub re-reads the settings with every health probe; these are the
    // ones it starts with, so there is no moment without the guard.
    config.store_problems = problems;
    config.allow_unsafe_store = args.allow_unsafe_redis;
    // Store write latency as a histogram with buckets (not the exporter's
    // default summary): buckets add up across nodes, quantiles do not.
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full("wz_store_append_seconds".into()),
            &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
        )
        .ok()
        .and_then(|b| b.install_recorder().ok());
    let hub = Hub::new(store.clone(), config);
    let loaded = hub.load_all().await.context("loading stored sessions")?;
    info!(sessions = loaded, store = store.kind(), "store loaded");
    for (id, why) in hub.refused() {
        // Also on stdout: whoever starts the server must see it.
        println!("  session {id} is NOT served: its stored record does not hold ({why}); run `wenzheng verify --session {id}`");
    }

    let listener = bind(args.bind).with_context(|| format!("binding {}", args.bind))?;
    let addr = listener.local_addr()?;
    let mut state = AppState::new(hub.clone(), &args, metrics);
    let base = args.public_url(addr);
    let _ = state.public_url.set(base.clone());
    let origins = OriginPolicy::new(addr, args.public_url.as_deref(), &args.listener.allowed_origins).map_err(anyhow::Error::msg)?;
    info!(allowed = ?origins.allowed().collect::<Vec<_>>(), "browser origins allowed to open WebSockets");
    state.origins = Arc::new(origins);
    let limits = ListenerLimits::from_args(&args.listener);
    warn_if_descriptors_short(limits.max_connections);

    // Create the configured session, or the demo when the store is empty.
    let mut created = Vec::new();
    if let Some(file) = &args.session_file {
        let def = load_definition(file, args.delegates_csv.as_deref())?;
        if !hub.sessions().iter().any(|s| s.id == def.id) {
            created.push((def.clone(), hub.create_session(def).await?));
        }
    } else if loaded == 0 && !args.no_demo {
        let mut def = crate::demo::definition();
        if let Some(policy) = args.demo_check_in {
            def.check_in = policy.into();
        }
        created.push((def.clone(), hub.create_session(def).await?));
    }
    for (def, creds) in &created {
        let session = wz_domain::Session::new(def.clone());
        let who = |k: &PrincipalKey| crate::sheet::who(&session, k);
        let sheet = crate::sheet::append(&args.data_dir, &def.id, &who, creds, &base)?;
        info!(session = %def.id, sheet = %sheet.display(), "session created; join links written");
    }

    print_banner(&args, addr, &base, &hub, &created);
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        info!("shutting down");
    };
    serve(listener, state, limits, shutdown).await?;
    Ok(())
}

/// Every connection is a descriptor: with a soft limit below the cap,
/// accepts fail (and are retried) before the cap is reached.
fn warn_if_descriptors_short(max_connections: usize) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse::<usize>().ok());
    if let Some(soft) = soft
        && soft < max_connections + 64
    {
        warn!(
            descriptors = soft,
            max_connections, "the descriptor limit is below --max-connections + 64: raise it (LimitNOFILE=, ulimit -n) or lower the cap"
        );
    }
}

/// What a person (or a test) reads first, on stdout. Join links carry live
/// tokens, so they are printed only to a terminal: when stdout is a pipe or a
/// file it is likely a log (systemd's journal), and the banner says where the
/// links are and how to print them instead.
fn print_banner(args: &ServeArgs, addr: std::net::SocketAddr, base: &str, hub: &Hub, created: &[(wz_domain::SessionDef, Vec<Credential>)]) {
    use std::io::IsTerminal;
    let interactive = std::io::stdout().is_terminal();
    // The bound address, always: scripts and tests read it from this line.
    let own = format!("http://{addr}");
    println!("Wenzheng 问政 listening on {own}");
    if base != own {
        println!("  public URL (join links): {base}");
    }
    match &args.store.redis_url {
        Some(_) => println!("  store: {}", hub.store().kind()),
        None => println!("  store: {} ({})", hub.store().kind(), args.data_dir.display()),
    }
    for s in hub.sessions() {
        println!("  session {}: {}", s.id, s.title);
        let sheet = crate::sheet::path(&args.data_dir, &s.id);
        if !interactive {
            if sheet.exists() {
                println!("{}", links_hint(&sheet, &args.data_dir, false));
            }
            continue;
        }
        let rows = created
            .iter()
            .find(|(d, _)| d.id == s.id)
            .map(|(_, creds)| {
                creds
                    .iter()
                    .map(|c| (c.key.to_string(), crate::sheet::link(base, &c.key, &c.token), c.code().to_string()))
                    .collect::<Vec<_>>()
            })
            .or_else(|| {
                // Rebuild links from the tokens: the port may differ from the first run.
                let rows = crate::sheet::read(&sheet).ok()?;
                Some(
                    rows.into_iter()
                        .filter_map(|r| Some((r[0].clone(), crate::sheet::link(base, &PrincipalKey::parse(&r[0])?, &r[2]), r[6].clone())))
                        .collect(),
                )
            });
        if let Some(rows) = rows {
            // A delegate of the printed operator's venue, so that the README's
            // walk-through (the operator checks the delegate in) works with
            // the pair printed.
            let pair = paired_delegate(created.iter().find(|(d, _)| d.id == s.id).map(|(d, _)| d), &sheet, PAIRED_VENUE);
            let pair_label = pair.as_deref().map(|k| format!("delegate 代表 ({}, same venue)", &k["delegate:".len()..]));
            let fixed = [
                ("moderator", "moderator console 主持人".to_owned()),
                ("screen", "public screen 大屏".to_owned()),
                ("operator:baiyu", "venue operator 分会场 (白羽街道)".to_owned()),
            ];
            let after = [
                ("office", "congress office 人大办 (after the session)".to_owned()),
                ("unit:minzheng", "respondent unit 承办单位 (县民政局)".to_owned()),
            ];
            let paired = pair.as_deref().zip(pair_label);
            for (key, label) in fixed.into_iter().chain(paired).chain(after) {
                if let Some((_, link, code)) = rows.iter().find(|(k, _, _)| k == key) {
                    println!("    {label}: {link}  (join code 入会码 {code})");
                }
            }
            println!("    public progress page 办理进度 (no credential): {base}/progress.html");
            println!("{}", links_hint(&sheet, &args.data_dir, true));
        }
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

/// The venue whose operator and delegate the banner prints as a pair.
const PAIRED_VENUE: &str = "baiyu";

/// The first delegate of `venue`: from the definition just created, or from
/// the sheet's venue column on a later start.
fn paired_delegate(def: Option<&wz_domain::SessionDef>, sheet: &Path, venue: &str) -> Option<String> {
    if let Some(def) = def {
        return def.delegates.iter().find(|d| d.venue.0 == venue).map(|d| format!("delegate:{}", d.id.0));
    }
    let rows = crate::sheet::read(sheet).ok()?;
    rows.into_iter().find(|r| r[0].starts_with("delegate:") && r[4] == venue).map(|r| r[0].clone())
}

/// Where the join links are, with a command that prints them as typed.
fn links_hint(sheet: &Path, data_dir: &Path, interactive: bool) -> String {
    let command = format!("{} links --data-dir {}", self_command(), shell_word(&data_dir.display().to_string()));
    if interactive {
        format!("    every join link: {command}   ({})", sheet.display())
    } else {
        format!(
            "    join links are not printed here (stdout is not a terminal and may be a log); they are in {} (mode 0600); print them with: {command}",
            sheet.display()
        )
    }
}

/// How to run this binary again from the current directory: its name when it
/// is on the PATH, else its path (relative when below the current directory).
fn self_command() -> String {
    let Ok(exe) = std::env::current_exe() else { return "wenzheng".into() };
    if let (Some(name), Some(path)) = (exe.file_name(), std::env::var_os("PATH"))
        && std::env::split_paths(&path).any(|d| d.join(name) == exe)
    {
        return shell_word(&name.to_string_lossy());
    }
    let shown = match std::env::current_dir().ok().and_then(|cwd| exe.strip_prefix(cwd).ok().map(Path::to_path_buf)) {
        Some(rel) if rel.components().count() > 1 => rel,
        Some(rel) => Path::new(".").join(rel),
        None => exe,
    };
    shell_word(&shown.display().to_string())
}

/// Quotes a word for a POSIX shell when it needs it.
fn shell_word(w: &str) -> String {
    if !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+:=@%".contains(&b)) {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

fn repair(args: &RepairArgs) -> anyhow::Result<()> {
    init_logging(LogFormat::Text);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let (store, _) = open_store(&args.at.store, &args.at.data_dir).await?;
        let fixed = Hub::repair(&store, &args.session).await?;
        println!(
            "session {}: claims and counters rewritten from the log ({fixed} problem(s) were found); restart the server",
            args.session
        );
        Ok(())
    })
}

fn cards(args: &LinksArgs) -> anyhow::Result<()> {
    let sheet = find_sheet(args)?;
    let rows: Vec<[String; 7]> = crate::sheet::read(&sheet)
        .with_context(|| format!("reading {}", sheet.display()))?
        .into_iter()
        .filter(|r| args.filter.as_deref().is_none_or(|f| crate::sheet::matches(r, f)))
        .collect();
    // Without --base-url the links keep the address the sheet was written with.
    let base = match &args.base_url {
        Some(b) => b.trim_end_matches('/').to_owned(),
        None => rows
            .first()
            .and_then(|r| {
                r[3].split_once("/moderator.html")
                    .or_else(|| r[3].split_once("/delegate.html"))
                    .or_else(|| r[3].split_once("/screen.html"))
                    .map(|(b, _)| b.to_owned())
            })
            .unwrap_or_default(),
    };
    let session = sheet.file_stem().and_then(|s| s.to_str()).unwrap_or("session");
    let html = crate::cards::page(session, &rows, &base)?;
    let out = sheet.with_file_name(format!("{session}-cards.html"));
    // Live tokens inside: readable by the operator only, like the sheet.
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write as _;
    opts.open(&out).and_then(|mut f| f.write_all(html.as_bytes())).with_context(|| format!("writing {}", out.display()))?;
    println!("{} cards written to {} (print it, then delete it and the sheet)", rows.len(), out.display());
    Ok(())
}

fn find_sheet(args: &LinksArgs) -> anyhow::Result<std::path::PathBuf> {
    let dir = args.data_dir.join("credentials");
    let sheet = match &args.session {
        Some(s) => crate::sheet::path(&args.data_dir, s),
        None => {
            let mut sheets: Vec<_> = std::fs::read_dir(&dir)
                .with_context(|| format!("no credential sheets in {} (has the server created a session?)", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "csv"))
                .collect();
            sheets.sort();
            match sheets.into_iter().next() {
                Some(p) => p,
                None => bail!("no credential sheets in {}", dir.display()),
            }
        }
    };
    Ok(sheet)
}

fn links(args: &LinksArgs) -> anyhow::Result<()> {
    let sheet = find_sheet(args)?;
    let rows = crate::sheet::read(&sheet).with_context(|| format!("reading {}", sheet.display()))?;
    for r in rows {
        if args.filter.as_deref().is_none_or(|f| crate::sheet::matches(&r, f)) {
            let link = match (&args.base_url, PrincipalKey::parse(&r[0])) {
                (Some(base), Some(k)) => crate::sheet::link(base.trim_end_matches('/'), &k, &r[2]),
                _ => r[3].clone(),
            };
            println!("{}\t{}\t{}\t{}\t{}", r[0], r[1], r[5], r[6], link);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_links_hint_runs_as_typed_and_carries_no_token() {
        let hint = links_hint(Path::new("data/credentials/xixia-2026.csv"), Path::new("my data"), false);
        assert!(hint.contains("data/credentials/xixia-2026.csv"), "{hint}");
        assert!(hint.ends_with(" links --data-dir 'my data'"), "{hint}");
        assert!(!hint.contains("token"), "{hint}");
        // The test binary is below the workspace: a relative path with a slash runs as typed.
        let cmd = self_command();
        assert!(cmd.contains('/') || !cmd.contains(' '), "{cmd}");
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("./data"), "./data");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
