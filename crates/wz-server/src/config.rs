//! Command line and environment configuration.
//!
//! Every setting is a flag with an environment variable of the same meaning;
//! `wenzheng serve --help` documents each with its default.

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The hard ceiling for one WebSocket message, whatever the flag says.
pub const MAX_MESSAGE_CEILING: usize = 64 * 1024;

#[derive(Parser, Debug)]
#[command(name = "wenzheng", version, about = "Wenzheng 问政: real-time hub for multi-venue public questioning sessions")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once at start: the size of the `serve` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default when no subcommand is given).
    Serve(ServeArgs),
    /// Print join links from a credentials sheet written at session creation.
    Links(LinksArgs),
    /// Write printable join cards (QR code and join code per participant) from
    /// a credentials sheet: `<data-dir>/credentials/<session>-cards.html`.
    Cards(LinksArgs),
    /// Rewrite a session's stored claims and counters from its event log, after
    /// the start-up cross-check reported them inconsistent (stop the server first).
    Repair(RepairArgs),
    /// Check a stored session's record: the hash chain of its records from
    /// the header on, that every event replays, and that the stored claims
    /// and counters equal a recount of the log. Prints each session's chain
    /// head; exits non-zero naming the first bad entry.
    Verify(VerifyArgs),
    /// Write a session's public record (participation apart from choices,
    /// the chain's entries without content) for an outside party to check
    /// with `verify --file`.
    ExportRecord(ExportRecordArgs),
    /// Write every stored session (its header, event log, credential hashes,
    /// claims and counters, and evidence files) to one backup file, checked
    /// by a digest per session and one for the whole file. Works against a
    /// running server's Redis; the embedded store must be stopped (see
    /// docs/operations.md, "Back up and restore").
    Backup(BackupArgs),
    /// Check a backup file and write its sessions into a store: an empty one,
    /// or with --force one that holds other sessions. A stored session is
    /// never overwritten. Nothing is written unless the whole file checks.
    Restore(RestoreArgs),
    /// Write every document (bulletin, results report, a letter per unit;
    /// HTML, and PDF with --pdf) and spreadsheet (CSV and xlsx) of a stored
    /// session to a directory.
    Report(crate::cli_report::ReportArgs),
    /// Validate a session definition file (and optional delegates CSV) without starting anything.
    CheckDefinition {
        /// TOML or JSON session definition.
        file: PathBuf,
        /// Delegates CSV to merge into the definition.
        #[arg(long)]
        delegates_csv: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// Crash-safe single-file store (redb) under --data-dir.
    Embedded,
    /// Keeps nothing across restarts: for experiments only.
    Memory,
}

/// A session's check-in policy, as `--demo-check-in` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckInArg {
    /// Only the venue's operator or the moderator checks a delegate in.
    Operator,
    /// The delegate asks on the phone; the venue's operator confirms.
    Confirmed,
    /// The delegate checks themself in.
    #[value(name = "self")]
    SelfService,
}

impl From<CheckInArg> for wz_domain::CheckInPolicy {
    fn from(x: CheckInArg) -> Self {
        match x {
            CheckInArg::Operator => Self::Operator,
            CheckInArg::Confirmed => Self::Confirmed,
            CheckInArg::SelfService => Self::SelfService,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Parser, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "WENZHENG_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Directory of the embedded store and the credential sheets.
    #[arg(long, env = "WENZHENG_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Allow evaluations although Redis's persistence settings cannot guarantee
    /// that an acknowledged ballot survives a crash (development only: logged
    /// loudly and shown on the moderator console).
    #[arg(long, env = "WENZHENG_ALLOW_UNSAFE_REDIS")]
    pub allow_unsafe_redis: bool,
    /// Base URL used in printed join links (default: http://<bind>).
    #[arg(long, env = "WENZHENG_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Session definition (TOML or JSON) to create at start if it does not exist yet.
    #[arg(long, env = "WENZHENG_SESSION_FILE")]
    pub session_file: Option<PathBuf>,
    /// Delegates CSV (id,name,level,venue; UTF-8, BOM optional) added to --session-file.
    #[arg(long, env = "WENZHENG_DELEGATES_CSV", requires = "session_file")]
    pub delegates_csv: Option<PathBuf>,
    /// Do not seed the demo session when the store is empty.
    #[arg(long, env = "WENZHENG_NO_DEMO")]
    pub no_demo: bool,
    /// Check-in policy of the demo session when it is seeded (default:
    /// confirmed). A session already stored keeps its own.
    #[arg(long, env = "WENZHENG_DEMO_CHECK_IN", value_enum)]
    pub demo_check_in: Option<CheckInArg>,
    /// Built front end to serve (a placeholder page is served when it is missing).
    #[arg(long, env = "WENZHENG_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,
    /// Token that allows creating sessions over the REST API (disabled when unset).
    #[arg(long, env = "WENZHENG_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Log format.
    #[arg(long, env = "WENZHENG_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Largest accepted WebSocket message in bytes (at most 65536); larger ones close the connection with 1009.
    #[arg(long, env = "WENZHENG_MAX_MESSAGE_BYTES", default_value_t = MAX_MESSAGE_CEILING)]
    pub max_message_bytes: usize,
    /// Sustained messages per second allowed per credential.
    #[arg(long, env = "WENZHENG_RATE_PER_SECOND", default_value_t = 20)]
    pub rate_per_second: u32,
    /// Burst of messages allowed per credential above the sustained rate.
    #[arg(long, env = "WENZHENG_RATE_BURST", default_value_t = 60)]
    pub rate_burst: u32,
    /// Messages queued per connection before the client is closed as too slow (4008).
    #[arg(long, env = "WENZHENG_OUTBOUND_QUEUE", default_value_t = 1024)]
    pub outbound_queue: usize,
    /// Bytes queued per connection before the client is closed as too slow
    /// (4008); one message is always accepted into an empty queue.
    #[arg(long, env = "WENZHENG_OUTBOUND_QUEUE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub outbound_queue_bytes: usize,
    /// Seconds any single write or flush to a client may take before the
    /// connection is dropped (a client that stopped reading); also bounds the
    /// close handshake when the server ends a connection.
    #[arg(long, env = "WENZHENG_WRITE_TIMEOUT_SECONDS", default_value_t = 10)]
    pub write_timeout_seconds: u64,
    /// Tasks that run the public screens' writers (issue 11): 0 gives every
    /// screen a task of its own; by default two per runtime worker.
    #[arg(long, env = "WENZHENG_WRITER_SHARDS")]
    pub writer_shards: Option<usize>,
    /// Most commands written to the store in one group commit (1 disables
    /// group commit; for benchmarks).
    #[arg(long, env = "WENZHENG_MAX_BATCH", default_value_t = 256)]
    pub max_batch: usize,
    /// Open connections allowed per personal credential (moderator, venue
    /// operator, delegate): one more admits the newest and closes the oldest
    /// with 4409 `replaced`.
    #[arg(long, env = "WENZHENG_MAX_CONNECTIONS_PER_CREDENTIAL", default_value_t = 4)]
    pub max_connections_per_credential: usize,
    /// Open connections allowed per shared credential (the screen, used by every
    /// screen of every venue, and the auditor); same rule.
    #[arg(long, env = "WENZHENG_MAX_CONNECTIONS_PER_SHARED_CREDENTIAL", default_value_t = 200)]
    pub max_connections_per_shared_credential: usize,
    /// Seconds between WebSocket pings (keeps NAT and 4G middleboxes from dropping idle sockets).
    #[arg(long, env = "WENZHENG_PING_SECONDS", default_value_t = 25)]
    pub ping_seconds: u64,
    /// Seconds without any frame from a client before its connection is dropped.
    #[arg(long, env = "WENZHENG_IDLE_SECONDS", default_value_t = 90)]
    pub idle_seconds: u64,
    /// Events per session kept in memory (with their encodings) for clients
    /// that resume; an older position gets a snapshot instead.
    #[arg(long, env = "WENZHENG_RESUME_WINDOW", default_value_t = 10_000)]
    pub resume_window: usize,
    /// This node's id when several servers share one Redis (issue 12; letters,
    /// digits, `.`, `_`, `-`; unique per node, kept across its restarts).
    /// Each session then has one owner node at a time, holding a lease;
    /// the others forward their clients' commands to it and follow its log.
    /// Needs --redis-url. Without it the server is the only one on its store.
    #[arg(long, env = "WENZHENG_NODE_ID", requires = "redis_url", value_parser = parse_node_id)]
    pub node_id: Option<String>,
    /// Milliseconds a session's lease lasts unless its owner renews it (every
    /// third of it): how long a session waits for a new owner after its owner
    /// node died (see docs/operations.md, "Several nodes").
    #[arg(long, env = "WENZHENG_LEASE_MS", default_value_t = 3000, value_parser = clap::value_parser!(u64).range(300..=60_000))]
    pub lease_ms: u64,
    #[command(flatten)]
    pub listener: ListenerArgs,
}

/// A node id: 1 to 64 of `[A-Za-z0-9._-]` (it is part of a Redis key).
fn parse_node_id(s: &str) -> Result<String, String> {
    let ok = !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    match ok {
        true => Ok(s.to_owned()),
        false => Err("a node id is 1 to 64 letters, digits, '.', '_' or '-'".to_owned()),
    }
}

/// The listener's defences against connections that never authenticate
/// (see docs/operations.md, "Connections and their limits").
#[derive(clap::Args, Debug, Clone)]
pub struct ListenerArgs {
    /// Seconds a client has to send a request's headers; also how long an idle
    /// keep-alive connection is kept. Slower connections are closed.
    #[arg(long, env = "WENZHENG_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_timeout_seconds: u64,
    /// Seconds after its headers within which a request must be complete and
    /// answered (the body included; a WebSocket upgrade answers at once). Past
    /// it the client gets 408 and the connection is closed.
    #[arg(long, env = "WENZHENG_HANDSHAKE_TIMEOUT_SECONDS", default_value_t = 10)]
    pub handshake_timeout_seconds: u64,
    /// Most open connections (authenticated WebSockets included); more get 503.
    /// Keep the process's descriptor limit (LimitNOFILE) above it.
    #[arg(long, env = "WENZHENG_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Most connections not yet authenticated: accepted, but neither answered
    /// their first request nor became an authenticated WebSocket. More get 503.
    #[arg(long, env = "WENZHENG_MAX_UNAUTHENTICATED", default_value_t = 1024)]
    pub max_unauthenticated: usize,
    /// A browser origin (scheme://host[:port]) allowed to open WebSockets besides
    /// the server's own address and --public-url; repeatable (the variable is
    /// comma-separated). Other origins get 403.
    #[arg(long = "allowed-origin", env = "WENZHENG_ALLOWED_ORIGINS", value_delimiter = ',', value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
    /// A reverse proxy's address, or a range of them such as an ingress's
    /// pod network `10.42.0.0/16` (repeatable; the variable is
    /// comma-separated): requests from it are counted against the client
    /// address it passes in `X-Forwarded-For` when limiting wrong join codes.
    /// Without it every client behind the proxy would share one limit.
    #[arg(long = "trusted-proxy", env = "WENZHENG_TRUSTED_PROXIES", value_delimiter = ',', value_name = "IP[/BITS]", value_parser = parse_trusted_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// A trusted proxy: an address (a range of one) or a range in CIDR notation.
pub fn parse_trusted_proxy(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s} is neither an IP address nor a range such as 10.42.0.0/16"))
}

impl ServeArgs {
    pub fn public_url(&self, actual: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{actual}")).trim_end_matches('/').to_owned()
    }
}

/// Where sessions are kept.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// Which store keeps the sessions (ignored when --redis-url is given).
    #[arg(long, env = "WENZHENG_STORE", value_enum, default_value_t = StoreKind::Embedded)]
    pub store: StoreKind,
    /// Keep sessions in Redis instead (e.g. redis://127.0.0.1:6379/0 or
    /// redis+unix:///run/redis/redis.sock); see deploy/redis.conf.
    #[arg(long, env = "WENZHENG_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
}

/// Where a stored session is read from, for the offline subcommands: the
/// embedded store under `--data-dir`, or Redis with `--redis-url`.
#[derive(clap::Args, Debug, Clone)]
pub struct StoredAt {
    /// Data directory (embedded store).
    #[arg(long, env = "WENZHENG_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Parser, Debug, Clone)]
pub struct RepairArgs {
    #[command(flatten)]
    pub at: StoredAt,
    /// The session to repair.
    #[arg(long)]
    pub session: String,
}

#[derive(Parser, Debug, Clone)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub at: StoredAt,
    /// Only this session (default: every stored session).
    #[arg(long)]
    pub session: Option<String>,
    /// The chain head published for the session (the console, the
    /// bulletin): a record cut short or replaced fails against it.
    #[arg(long)]
    pub expect_head: Option<String>,
    /// Check an exported public record (`export-record`) instead of a store.
    #[arg(long, conflicts_with_all = ["session", "redis_url"])]
    pub file: Option<PathBuf>,
}

#[derive(Parser, Debug, Clone)]
pub struct ExportRecordArgs {
    #[command(flatten)]
    pub at: StoredAt,
    #[arg(long)]
    pub session: String,
    /// Where to write the public record (JSON).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Parser, Debug, Clone)]
pub struct BackupArgs {
    #[command(flatten)]
    pub at: StoredAt,
    /// Where to write the backup (a new file: an existing one is never replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Only this session (repeatable; default: every stored session).
    #[arg(long)]
    pub session: Vec<String>,
}

#[derive(Parser, Debug, Clone)]
pub struct RestoreArgs {
    /// The backup file (`wenzheng backup --out`).
    pub file: PathBuf,
    #[command(flatten)]
    pub at: StoredAt,
    /// Restore although the target store holds sessions the backup does not
    /// (they are kept). A session of the backup that the target holds with
    /// another record is refused all the same.
    #[arg(long)]
    pub force: bool,
    /// Only check the file: read it whole, replay and recount every session
    /// as `verify` does, in memory; no store is opened (the store's
    /// settings are ignored).
    #[arg(long, conflicts_with = "force")]
    pub check: bool,
}

#[derive(Parser, Debug, Clone)]
pub struct LinksArgs {
    /// Data directory the server uses.
    #[arg(long, env = "WENZHENG_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Session id (default: the only or first sheet found).
    #[arg(long)]
    pub session: Option<String>,
    /// Only participants whose key contains this text, e.g. `operator:`, `delegate:d017` or `baiyu`.
    #[arg(long)]
    pub filter: Option<String>,
    /// Rebuild the links for this base URL (e.g. the address phones reach the server at).
    #[arg(long)]
    pub base_url: Option<String>,
}
