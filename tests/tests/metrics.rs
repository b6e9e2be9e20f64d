//! `/metrics` during a short session (issue 13): the series an operator
//! watches move as they should: commands by type, ballots acknowledged,
//! the log's length, connections by role, group commits, store writes and
//! whether the store is up.

use serde_json::json;
use wz_e2e::Server;

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");

/// The value of the series whose line starts with `series ` (name and labels as printed).
fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no series {series} in:\n{metrics}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_series_move_during_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BIN, dir.path(), &[]).await.unwrap();
    let mut m = server.connect("moderator", None).await;
    m.next().await;
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    let mut voters = Vec::new();
    for d in ["d001", "d002", "d003"] {
        let mut c = server.connect(&format!("delegate:{d}"), None).await;
        c.next().await;
        c.ok(json!({"type": "check_in", "delegate": d})).await;
        voters.push((d, c));
    }
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

    let (status, text) = server.http("GET", "/metrics", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(value(&text, r#"wz_commands_by_type_total{type="cast_ballot"}"#), 3.0);
    assert_eq!(value(&text, r#"wz_commands_by_type_total{type="check_in"}"#), 3.0);
    assert_eq!(value(&text, "wz_ballots_total"), 3.0);
    assert_eq!(value(&text, r#"wz_log_events{session="xixia-2026"}"#), last as f64);
    assert_eq!(value(&text, r#"wz_connections_by_role{session="xixia-2026",role="delegate"}"#), 3.0);
    assert_eq!(value(&text, r#"wz_connections_by_role{session="xixia-2026",role="moderator"}"#), 1.0);
    assert_eq!(value(&text, "wz_store_up"), 1.0);
    assert!(value(&text, "wz_group_commit_records_count") >= 1.0, "{text}");
    assert!(value(&text, "wz_store_append_seconds_count") >= last as f64 / 256.0, "{text}");
    // 3 check-ins, 3 ballots, the moderator's 3 phases, the open and the close.
    assert_eq!(value(&text, "wz_acks_total"), 11.0);
}
