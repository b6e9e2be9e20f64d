//! `docs/protocol.md` cannot drift from the code (issue 13): every JSON
//! example in it is JSON; every client message in it is one the server
//! parses and understands, and every server message one the code's types
//! read and write back exactly as shown (no field the code does not have,
//! none it always sends missing, no value it cannot produce).

use serde_json::Value;
use wz_protocol::client::ClientMessage;
use wz_protocol::server::ServerMessage;

const DOC: &str = include_str!("../../../docs/protocol.md");

/// Every value in every ```json block, with the line its block starts on.
fn examples() -> Vec<(usize, Result<Value, String>)> {
    let mut out = Vec::new();
    let mut lines = DOC.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if line.trim() != "```json" {
            continue;
        }
        let mut block = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim() == "```" {
                break;
            }
            block.push_str(l);
            block.push('\n');
        }
        let mut values = serde_json::Deserializer::from_str(&block).into_iter::<Value>();
        loop {
            match values.next() {
                None => break,
                Some(Ok(v)) => out.push((n + 1, Ok(v))),
                Some(Err(e)) => {
                    out.push((n + 1, Err(format!("{e}: {block}"))));
                    break;
                }
            }
        }
    }
    out
}

const SERVER_TYPES: [&str; 5] = ["snapshot", "event", "ack", "error", "stats"];

fn kind(v: &Value) -> Option<&str> {
    v.get("type").and_then(Value::as_str)
}

#[test]
fn every_example_is_json() {
    let bad: Vec<String> = examples().into_iter().filter_map(|(n, v)| v.err().map(|e| format!("line {n}: {e}"))).collect();
    assert!(bad.is_empty(), "JSON examples that do not parse:\n{}", bad.join("\n"));
}

/// Reads `v` as a `T` and writes it back: `None` (with the problem noted)
/// unless both work and give exactly `v`.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(n: usize, v: &Value, problems: &mut Vec<String>) -> Option<T> {
    match serde_json::from_value::<T>(v.clone()) {
        Err(e) => problems.push(format!("line {n}: the code cannot read it: {e}")),
        Ok(m) => match serde_json::to_value(&m).unwrap() {
            back if back == *v => return Some(m),
            back => problems.push(format!("line {n}: the code writes it otherwise:\n  doc:  {v}\n  code: {back}")),
        },
    }
    None
}

/// Fails with every problem, or when too few examples were found to trust it.
fn report(what: &str, seen: usize, at_least: usize, problems: &[String]) {
    assert!(seen >= at_least, "only {seen} {what}s found: is the document's format unchanged?");
    assert!(problems.is_empty(), "{} {what}(s) in docs/protocol.md disagree with the code:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn every_server_message_reads_and_writes_back_as_shown() {
    let (mut problems, mut seen) = (Vec::new(), 0);
    for (n, v) in examples() {
        let Ok(v) = v else { continue };
        if kind(&v).is_some_and(|k| SERVER_TYPES.contains(&k)) {
            seen += 1;
            round_trip::<ServerMessage>(n, &v, &mut problems);
        }
    }
    report("server message", seen, 10, &problems);
}

#[test]
fn every_client_message_is_one_the_server_takes() {
    let (mut problems, mut seen) = (Vec::new(), 0);
    for (n, v) in examples() {
        let Ok(v) = v else { continue };
        let Some(k) = kind(&v) else { continue };
        if SERVER_TYPES.contains(&k) || v.get("id").is_none() {
            // Server messages, and stored records (no client id).
            continue;
        }
        seen += 1;
        let Some(m) = round_trip::<ClientMessage>(n, &v, &mut problems) else { continue };
        // The name metrics count it under is its wire type.
        if m.command.type_name() != k {
            problems.push(format!("line {n}: type_name() says {:?}, the wire {k:?}", m.command.type_name()));
        }
        if let Err((code, why)) = m.command.into_domain() {
            problems.push(format!("line {n}: refused as {code:?}: {why}"));
        }
    }
    report("client message", seen, 30, &problems);
}
