//! Checks `serve`'s settings before anything starts.
//!
//! clap refuses what does not parse (a port that is not a number, an
//! unknown flag). This refuses what parses but cannot work: an idle timeout
//! shorter than the ping interval drops every quiet phone, a one-byte
//! message limit closes every client, a short admin token can be guessed.
//! Each problem names the flag *and* its environment variable (an operator
//! may have set either) and says what to do; all problems are reported at
//! once, so a unit file is fixed in one edit, not one restart per mistake.
//! Nothing here prints a secret's value.

use crate::config::{MAX_MESSAGE_CEILING, ServeArgs};
use clap::CommandFactory;

/// One setting that cannot work, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `--idle-seconds (WENZHENG_IDLE_SECONDS)`.
    pub setting: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

/// All problems of `args` (empty when every setting can work).
pub fn check(args: &ServeArgs) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut bad = |id: &str, message: String| out.push(Problem { setting: name(id), message });
    let l = &args.listener;
    if !(1024..=MAX_MESSAGE_CEILING).contains(&args.max_message_bytes) {
        bad("max_message_bytes", format!("is {}; it must be 1024 to {MAX_MESSAGE_CEILING} (the default)", args.max_message_bytes));
    }
    at_least(&mut bad, "rate_per_second", args.rate_per_second as u64, 1, "a delegate must be able to send at all");
    at_least(&mut bad, "rate_burst", args.rate_burst as u64, 1, "a delegate must be able to send at all");
    at_least(&mut bad, "outbound_queue", args.outbound_queue as u64, 16, "a smaller queue closes clients on an ordinary burst");
    at_least(&mut bad, "outbound_queue_bytes", args.outbound_queue_bytes as u64, 64 * 1024, "one snapshot may be tens of KiB");
    at_least(&mut bad, "write_timeout_seconds", args.write_timeout_seconds, 1, "0 would drop every client");
    at_least(&mut bad, "max_batch", args.max_batch as u64, 1, "1 disables group commit");
    at_least(&mut bad, "max_connections_per_credential", args.max_connections_per_credential as u64, 1, "0 would refuse everyone");
    at_least(
        &mut bad,
        "max_connections_per_shared_credential",
        args.max_connections_per_shared_credential as u64,
        1,
        "0 would refuse every screen",
    );
    at_least(&mut bad, "resume_window", args.resume_window as u64, 1, "0 would send a snapshot on every reconnect");
    at_least(&mut bad, "ping_seconds", args.ping_seconds, 1, "the default is 25");
    if args.idle_seconds < 5 || args.idle_seconds <= args.ping_seconds {
        bad(
            "idle_seconds",
            format!(
                "is {}; it must be at least 5 and more than --ping-seconds ({}), or a quiet phone is dropped before it is pinged (the default is 90)",
                args.idle_seconds, args.ping_seconds
            ),
        );
    }
    at_least(&mut bad, "header_timeout_seconds", l.header_timeout_seconds, 1, "0 would close every connection");
    at_least(&mut bad, "handshake_timeout_seconds", l.handshake_timeout_seconds, 1, "0 would close every connection");
    at_least(&mut bad, "max_connections", l.max_connections as u64, 1, "0 would refuse everyone");
    if l.max_unauthenticated == 0 || l.max_unauthenticated > l.max_connections {
        bad("max_unauthenticated", format!("is {}; it must be 1 to --max-connections ({})", l.max_unauthenticated, l.max_connections));
    }
    if let Some(token) = &args.admin_token {
        // The value itself is never printed.
        if token.trim().chars().count() < 16 {
            bad("admin_token", "is shorter than 16 characters; use a long random value, e.g. the output of `openssl rand -hex 32`".into());
        }
    }
    if let Some(url) = &args.store.redis_url {
        // The URL may hold a password: only its scheme is named.
        if !["redis://", "rediss://", "redis+unix://", "unix://"].iter().any(|s| url.starts_with(s)) {
            bad("redis_url", "is not a Redis URL; it starts with redis://, rediss:// or redis+unix://".into());
        }
    }
    // The origin policy's own parser, once per setting, so both are reported.
    let origins = [("public_url", args.public_url.as_deref(), &[][..]), ("allowed_origins", None, &l.allowed_origins[..])];
    for (id, public_url, extra) in origins {
        if let Err(e) = crate::origin::OriginPolicy::new(args.bind, public_url, extra) {
            bad(id, e.split_once(": ").map_or(e.as_str(), |(_, why)| why).to_owned());
        }
    }
    for (id, file) in [("session_file", &args.session_file), ("delegates_csv", &args.delegates_csv)] {
        if let Some(file) = file.as_ref().filter(|f| !f.is_file()) {
            bad(id, format!("{} is not a file that can be read", file.display()));
        }
    }
    out
}

fn at_least(bad: &mut impl FnMut(&str, String), id: &str, value: u64, min: u64, why: &str) {
    if value < min {
        bad(id, format!("is {value}; it must be at least {min} ({why})"));
    }
}

/// `--flag (ENV_VAR)` of the argument with this id, from clap's own
/// definition, so a renamed flag cannot leave a stale name here.
fn name(id: &str) -> String {
    let cmd = ServeArgs::command();
    let Some(arg) = cmd.get_arguments().find(|a| a.get_id() == id) else {
        return id.to_owned();
    };
    let flag = arg.get_long().map_or_else(|| id.to_owned(), |l| format!("--{l}"));
    match arg.get_env() {
        Some(env) => format!("{flag} ({})", env.to_string_lossy()),
        None => flag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> ServeArgs {
        ServeArgs::try_parse_from(std::iter::once("wenzheng").chain(extra.iter().copied())).expect("parses")
    }

    #[test]
    fn defaults_have_no_problem() {
        assert_eq!(check(&args(&[])), vec![]);
    }

    #[test]
    fn each_problem_names_the_flag_and_the_variable() {
        let p = check(&args(&["--idle-seconds", "10", "--ping-seconds", "20", "--max-message-bytes", "10"]));
        let settings: Vec<_> = p.iter().map(|p| p.setting.as_str()).collect();
        assert_eq!(settings, ["--max-message-bytes (WENZHENG_MAX_MESSAGE_BYTES)", "--idle-seconds (WENZHENG_IDLE_SECONDS)"], "{p:?}");
        assert!(p[1].message.contains("more than --ping-seconds (20)"), "{}", p[1]);
    }

    #[test]
    fn every_checked_setting_is_a_real_flag() {
        // `name` falls back to the bare id for an unknown one: no message may show one.
        let all = args(&[
            "--max-message-bytes=1",
            "--rate-per-second=0",
            "--rate-burst=0",
            "--outbound-queue=0",
            "--outbound-queue-bytes=0",
            "--write-timeout-seconds=0",
            "--max-batch=0",
            "--max-connections-per-credential=0",
            "--max-connections-per-shared-credential=0",
            "--resume-window=0",
            "--ping-seconds=0",
            "--idle-seconds=0",
            "--header-timeout-seconds=0",
            "--handshake-timeout-seconds=0",
            "--max-connections=0",
            "--max-unauthenticated=0",
            "--admin-token=short",
            "--redis-url=http://x",
            "--public-url=ftp://x",
            "--allowed-origin=nonsense",
            "--session-file=/nonexistent/session.toml",
        ]);
        let p = check(&all);
        assert_eq!(p.len(), 21, "{p:#?}");
        for p in &p {
            assert!(p.setting.starts_with("--") && p.setting.contains("(WENZHENG_"), "{p}");
        }
    }

    #[test]
    fn secrets_are_not_printed() {
        let p = check(&args(&["--admin-token", "tiny-secret", "--redis-url", "http://user:pw@host"]));
        let text = format!("{p:?}");
        assert!(!text.contains("tiny-secret") && !text.contains("pw@"), "{text}");
    }
}
