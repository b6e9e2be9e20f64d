//! `/metrics` during a short session (issue 13): the series an operator
//! watches move as they should: messages in and out, commands by type and
//! result (accepted, refused by the session, not understood), ballots
//! acknowledged, the log's length, connections by role and by venue, a
//! connection closed by the per-credential cap, group commits, store writes
//! and whether the store is up.

use serde_json::json;
use std::time::Duration;
use wz_e2e::Server;

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const SESSION: &str = "xixia-2026";

/// The value of the series whose line starts with `series ` (name and labels as printed).
fn value(metrics: &str, series: &str) -> f64 {
    find(metrics, series).unwrap_or_else(|| panic!("no series {series} in:\n{metrics}"))
}

fn find(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' '))).map(|v| v.trim().parse().unwrap())
}

async fn scrape(server: &Server) -> String {
    let (status, text) = server.http("GET", "/metrics", None, None).await;
    assert_eq!(status, 200);
    text
}

/// Scrapes until `series` has `want`, for at most 10 s. A connection's end
/// is counted when the server's side of it is done, which no message tells
/// a client: the writer may end the TCP stream before the reader's side
/// counts why (a client awaiting the end still raced the count).
async fn until_value(server: &Server, series: &str, want: f64) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(server).await;
        if find(&text, series) == Some(want) || tokio::time::Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_series_move_during_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    let mut m = server.connect("moderator", None).await;
    let snapshot = m.next().await;
    let venue_of = |d: &str| {
        let ds = snapshot["delegates"].as_array().unwrap();
        ds.iter().find(|x| x["id"] == d).unwrap()["venue"].as_str().unwrap().to_owned()
    };
    let mut operator = server.connect("operator:baiyu", None).await;
    operator.next().await;
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    let mut voters = Vec::new();
    for d in ["d001", "d002", "d003"] {
        let mut c = server.connect(&format!("delegate:{d}"), None).await;
        c.next().await;
        c.ok(json!({"type": "check_in", "delegate": d})).await;
        voters.push((d, c));
    }
    // Refused by the session (a delegate may not move the phase), and not
    // understood at all (answered by the connection itself).
    let refused = voters[0].1.call(json!({"type": "advance_phase", "to": "questioning"})).await.unwrap_err();
    assert_eq!(refused["code"], "forbidden");
    voters[1].1.send_raw("{\"type\": \"cast_ballot\"".into()).await;
    assert_eq!(voters[1].1.until(|v| v["type"] == "error").await["code"], "bad_message");
    // One connection more than a personal credential's cap (4): the oldest
    // is closed with 4409.
    let mut phones = Vec::new();
    for _ in 0..5 {
        let mut c = server.connect("delegate:d010", None).await;
        c.next().await;
        phones.push(c);
    }
    assert_eq!(phones[0].closed().await.map(|c| c.0), Some(4409));

    m.ok(json!({"type": "advance_phase", "to": "questioning"})).await;
    m.ok(json!({"type": "advance_phase", "to": "evaluation"})).await;
    m.ok(json!({"type": "open_evaluation", "units": ["minzheng"]})).await;
    for (d, c) in voters.iter_mut() {
        c.ok(json!({"type": "cast_ballot", "ballot_id": format!("b-{d}"), "evaluation": 1, "unit": "minzheng", "rating": "satisfied"}))
            .await;
    }
    let last = m.ok(json!({"type": "close_evaluation", "evaluation": 1})).await["seq"].as_u64().unwrap();
    // The connection gauges are set when stats go out: await the stats of
    // the closed session (not one queued before the close).
    m.until(|v| v["type"] == "stats" && v["seq"].as_u64() >= Some(last)).await;

    let text = until_value(&server, r#"wz_ws_closed_total{reason="replaced"}"#, 1.0).await;
    // Commands by type and result.
    assert_eq!(value(&text, r#"wz_commands_by_type_total{type="cast_ballot",result="ok"}"#), 3.0);
    assert_eq!(value(&text, r#"wz_commands_by_type_total{type="check_in",result="ok"}"#), 3.0);
    assert_eq!(value(&text, r#"wz_commands_by_type_total{type="advance_phase",result="ok"}"#), 3.0);
    assert_eq!(value(&text, r#"wz_commands_by_type_total{type="advance_phase",result="forbidden"}"#), 1.0);
    // 3 check-ins, 3 ballots, the moderator's 3 phases, the open and the close.
    assert_eq!(value(&text, "wz_acks_total"), 11.0);
    assert_eq!(value(&text, r#"wz_errors_total{code="forbidden"}"#), 1.0);
    assert_eq!(value(&text, r#"wz_errors_total{code="bad_message"}"#), 1.0);
    assert_eq!(value(&text, "wz_ballots_total"), 3.0);
    // Messages: every command above came in (11 acknowledged, 2 not);
    // out went at least a snapshot per connection and an answer per command.
    assert_eq!(value(&text, r#"wz_ws_messages_total{direction="in"}"#), 13.0);
    let connections = 2.0 + 3.0 + 5.0;
    assert!(value(&text, r#"wz_ws_messages_total{direction="out"}"#) >= 13.0 + connections, "{text}");
    // The per-credential cap closed one connection, and nothing else ended.
    assert_eq!(value(&text, "wz_connections_replaced_total"), 1.0);
    assert_eq!(value(&text, r#"wz_ws_closed_total{reason="replaced"}"#), 1.0, "awaited above");
    assert_eq!(find(&text, r#"wz_ws_closed_total{reason="slow_consumer"}"#), None, "{text}");
    // The log and the connections: 3 voters and the 4 phones of d010.
    assert_eq!(value(&text, &format!(r#"wz_log_events{{session="{SESSION}"}}"#)), last as f64);
    assert_eq!(value(&text, &format!(r#"wz_connections_by_role{{session="{SESSION}",role="delegate"}}"#)), 7.0);
    assert_eq!(value(&text, &format!(r#"wz_connections_by_role{{session="{SESSION}",role="moderator"}}"#)), 1.0);
    assert_eq!(value(&text, &format!(r#"wz_connections_by_role{{session="{SESSION}",role="venue_operator"}}"#)), 1.0);
    let mut by_venue = std::collections::BTreeMap::<String, f64>::new();
    for d in ["d001", "d002", "d003"] {
        *by_venue.entry(venue_of(d)).or_default() += 1.0;
    }
    *by_venue.entry(venue_of("d010")).or_default() += 4.0;
    *by_venue.entry("baiyu".into()).or_default() += 1.0;
    for (venue, n) in &by_venue {
        assert_eq!(value(&text, &format!(r#"wz_connections_by_venue{{session="{SESSION}",venue="{venue}"}}"#)), *n, "{venue}");
    }
    // Every venue of the session has its series, 0 when nobody is connected.
    let venues = text.lines().filter(|l| l.starts_with(&format!(r#"wz_connections_by_venue{{session="{SESSION}","#))).count();
    assert_eq!(venues, 20, "{text}");
    assert_eq!(value(&text, "wz_store_up"), 1.0);
    assert!(value(&text, "wz_group_commit_records_count") >= 1.0, "{text}");
    assert!(value(&text, "wz_store_append_seconds_count") >= last as f64 / 256.0, "{text}");
}
