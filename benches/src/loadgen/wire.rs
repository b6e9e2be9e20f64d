//! The payload every published message carries, on both servers: an ASCII
//! text `wzb <seq> <sent µs> ` padded with `x` to the requested size, so it
//! needs no escaping inside our JSON events and is the whole body of an
//! nchan message. Receivers find it by its marker and read the two numbers
//! without parsing the JSON around it.

use std::time::{SystemTime, UNIX_EPOCH};

const MARK: &[u8] = b"wzb ";

/// Microseconds since the Unix epoch (the machine clock: publisher and
/// subscribers run on the same machine, so receive − send is a latency).
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// `wzb <seq> <sent_us> ` followed by `x` up to `size` bytes (never shorter
/// than the header itself).
pub fn payload(seq: u64, sent_us: u64, size: usize) -> String {
    let mut s = format!("wzb {seq} {sent_us} ");
    if s.len() < size {
        s.extend(std::iter::repeat_n('x', size - s.len()));
    }
    s
}

/// Finds the payload in a frame and returns `(seq, sent_us)`.
pub fn parse(frame: &[u8]) -> Option<(u64, u64)> {
    let at = find(frame, MARK)?;
    let mut fields = frame[at + MARK.len()..].splitn(3, |&b| b == b' ');
    let seq = number(fields.next()?)?;
    let sent = number(fields.next()?)?;
    // The send time must be followed by its space: a truncated frame is not a payload.
    fields.next()?;
    Some((seq, sent))
}

/// Whether a frame of our server is a broadcast event (not a snapshot,
/// `stats` or an ack); only those are parsed for a payload.
pub fn is_event(frame: &[u8]) -> bool {
    frame.starts_with(br#"{"type":"event""#)
}

/// The head of a frame of our server: its `type`, its `seq` and, in a
/// `snapshot`, its `epoch` (serde writes them first, in this order: see
/// `wz_protocol::server`). Only the first 256 bytes are read, so a large
/// snapshot costs nothing more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head<'a> {
    pub kind: &'a str,
    pub seq: Option<u64>,
    pub epoch: Option<&'a str>,
}

pub fn head(frame: &[u8]) -> Option<Head<'_>> {
    let rest = frame.strip_prefix(br#"{"type":""#)?;
    let end = rest.iter().position(|&b| b == b'"')?;
    let kind = std::str::from_utf8(&rest[..end]).ok()?;
    let near = &frame[..frame.len().min(256)];
    let seq = find(near, br#""seq":"#).and_then(|at| {
        let digits = &near[at + 6..];
        let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        number(&digits[..n])
    });
    let epoch = find(near, br#""epoch":""#).and_then(|at| {
        let v = &near[at + 9..];
        let n = v.iter().position(|&b| b == b'"')?;
        std::str::from_utf8(&v[..n]).ok()
    });
    Some(Head { kind, seq, epoch })
}

fn number(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(i) = hay[from..].iter().position(|&b| b == first) {
        let at = from + i;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_padding() {
        let p = payload(42, 1_767_225_615_000_123, 100);
        assert_eq!(p.len(), 100);
        assert!(p.ends_with('x'));
        assert_eq!(parse(p.as_bytes()), Some((42, 1_767_225_615_000_123)));
        // Never truncated below the header.
        let short = payload(7, 9, 3);
        assert_eq!(short, "wzb 7 9 ");
        assert_eq!(parse(short.as_bytes()), Some((7, 9)));
    }

    #[test]
    fn inside_an_event() {
        let text = payload(3, 1000, 40);
        let frame = format!(
            r#"{{"type":"event","seq":9,"at":1,"kind":"announcement_made","changes":[{{"entity":"announcement","announcement":{{"id":3,"text":"{text}","venues":[]}}}}]}}"#
        );
        assert!(is_event(frame.as_bytes()));
        assert_eq!(parse(frame.as_bytes()), Some((3, 1000)));
        assert!(!is_event(br#"{"type":"stats","seq":9}"#));
    }

    #[test]
    fn reads_heads() {
        let snap = br#"{"type":"snapshot","seq":25,"epoch":"5eed000020260001","server_time":1,"protocol":3}"#;
        assert_eq!(head(snap), Some(Head { kind: "snapshot", seq: Some(25), epoch: Some("5eed000020260001") }));
        let ack = br#"{"type":"ack","id":"a-3","seq":7,"result":{"announcement":3}}"#;
        assert_eq!(head(ack), Some(Head { kind: "ack", seq: Some(7), epoch: None }));
        let stats = br#"{"type":"stats","seq":0,"server_time":1}"#;
        assert_eq!(head(stats).unwrap().seq, Some(0));
        let err = br#"{"type":"error","code":"bad_message","message":"x","retryable":false}"#;
        assert_eq!(head(err), Some(Head { kind: "error", seq: None, epoch: None }));
        // A `seq` beyond the first 256 bytes is not looked for.
        let far = format!(r#"{{"type":"event","pad":"{}","seq":4}}"#, "x".repeat(300));
        assert_eq!(head(far.as_bytes()).unwrap().seq, None);
        assert_eq!(head(b"wzb 1 2 "), None);
        assert_eq!(head(br#"{"type":"snap"#), None);
    }

    #[test]
    fn rejects_what_is_not_a_payload() {
        assert_eq!(parse(b"hello world"), None);
        assert_eq!(parse(b"wzb 1"), None);
        assert_eq!(parse(b"wzb 1 2"), None, "truncated after the time");
        assert_eq!(parse(b"wzb a 2 "), None);
        assert_eq!(parse(b"wwzb 5 6 x"), Some((5, 6)));
        assert_eq!(parse(b"wzb 99999999999999999999999 1 "), None);
    }
}
