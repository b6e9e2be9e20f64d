//! The kernel's listen-queue counters (`/proc/net/netstat`, `TcpExt`): how
//! many connections a listening socket could not take because its accept
//! queue was full (`ListenOverflows`) and how many were dropped on the way
//! in for any reason, overflows included (`ListenDrops`). They count for the
//! whole network namespace, so a storm reads their change.

/// The two counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Listen {
    pub overflows: u64,
    pub drops: u64,
}

impl Listen {
    /// What changed from `before` to `self` (a counter never goes back; a
    /// wrapped one reads 0).
    pub fn since(&self, before: &Listen) -> Listen {
        Listen { overflows: self.overflows.saturating_sub(before.overflows), drops: self.drops.saturating_sub(before.drops) }
    }
}

/// Reads the counters from the text of `/proc/net/netstat`: a `TcpExt:`
/// line of names followed by a `TcpExt:` line of values.
pub fn parse(text: &str) -> Option<Listen> {
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let names: Vec<&str> = lines.next()?.split_whitespace().skip(1).collect();
    let values: Vec<&str> = lines.next()?.split_whitespace().skip(1).collect();
    if names.len() != values.len() {
        return None;
    }
    let get = |name: &str| -> Option<u64> {
        let i = names.iter().position(|n| *n == name)?;
        values[i].parse().ok()
    };
    Some(Listen { overflows: get("ListenOverflows")?, drops: get("ListenDrops")? })
}

/// The counters now; `None` where `/proc/net/netstat` is missing.
pub fn read() -> Option<Listen> {
    parse(&std::fs::read_to_string("/proc/net/netstat").ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPBacklogDrop\n\
                          TcpExt: 3 0 1234 1240 0\n\
                          IpExt: InNoRoutes InTruncatedPkts\n\
                          IpExt: 0 0\n";

    #[test]
    fn parses_tcpext() {
        let l = parse(SAMPLE).unwrap();
        assert_eq!(l, Listen { overflows: 1234, drops: 1240 });
        let later = Listen { overflows: 1300, drops: 1310 };
        assert_eq!(later.since(&l), Listen { overflows: 66, drops: 70 });
        assert_eq!(l.since(&later), Listen::default());
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("TcpExt: ListenOverflows\n"), None, "no values");
        assert_eq!(parse("TcpExt: ListenOverflows ListenDrops\nTcpExt: 1\n"), None, "names and values differ");
        assert_eq!(parse("TcpExt: ListenOverflows\nTcpExt: 1\n"), None, "ListenDrops missing");
    }

    #[test]
    fn reads_this_machine() {
        // Linux always has the file; elsewhere this is None.
        if std::path::Path::new("/proc/net/netstat").exists() {
            assert!(read().is_some());
        }
    }
}
