//! The follow-up after the session (issue 8), end to end against the real
//! server binary with the embedded store and the demo's 320-delegate
//! session: the session closes and the assignment list is drafted (the
//! unasked approved questions included); the office edits and issues it;
//! three units reply, rectify with an evidence file and get an extension;
//! the askers rate; one item is returned after a request to handle it
//! again and handled again; the board's figures equal an independent count
//! of the items; then kill -9 and a restart keep every item, note, file
//! and rating. Once with the embedded store, once with Redis (killed too).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use wz_e2e::{Client, Server, http_raw};
use wz_store::testing::RedisServer;

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const SESSION: &str = "xixia-2026";

/// A small but real PDF (ASCII only), as a scanned reply would be.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

fn items(snapshot: &Value) -> BTreeMap<u64, Value> {
    snapshot["items"].as_array().unwrap().iter().map(|i| (i["id"].as_u64().unwrap(), i.clone())).collect()
}

/// Waits until the client has seen item `id` in a state `pred` accepts.
async fn item_change(c: &mut Client, id: u64, pred: impl Fn(&Value) -> bool) -> Value {
    let v = c.change("item", |ch| ch["item"]["id"] == id && pred(&ch["item"])).await;
    v["changes"].as_array().unwrap().iter().find(|ch| ch["entity"] == "item" && ch["item"]["id"] == id).unwrap()["item"].clone()
}

/// The board's figures recounted from the items, as the office sees them.
fn recount(items: &BTreeMap<u64, Value>, unit: Option<&str>) -> Value {
    let mut c: BTreeMap<&str, u64> = BTreeMap::new();
    for i in items.values() {
        let status = i["status"].as_str().unwrap();
        if status == "draft" || i.get("merged_into").is_some() || unit.is_some_and(|u| i["lead"] != u) {
            continue;
        }
        *c.entry("issued").or_default() += 1;
        let key = match status {
            "issued" => "waiting",
            other => other,
        };
        *c.entry(key).or_default() += 1;
        if i["flagged"] == true {
            *c.entry("flagged").or_default() += 1;
        }
    }
    let resolved =
        c.get("answered").copied().unwrap_or(0) + c.get("rectified").copied().unwrap_or(0) + c.get("closed").copied().unwrap_or(0);
    let issued = c.get("issued").copied().unwrap_or(0);
    json!({
        "issued": issued,
        "waiting": c.get("waiting").copied().unwrap_or(0),
        "in_handling": c.get("in_handling").copied().unwrap_or(0),
        "answered": c.get("answered").copied().unwrap_or(0),
        "rectified": c.get("rectified").copied().unwrap_or(0),
        "closed": c.get("closed").copied().unwrap_or(0),
        "flagged": c.get("flagged").copied().unwrap_or(0),
        "resolved_rate_bp": (resolved * 10_000).checked_div(issued).map_or(Value::Null, |r| json!(r)),
    })
}

fn figures(counts: &Value) -> Value {
    json!({
        "issued": counts["issued"], "waiting": counts["waiting"], "in_handling": counts["in_handling"],
        "answered": counts["answered"], "rectified": counts["rectified"], "closed": counts["closed"],
        "flagged": counts["flagged"],
        "resolved_rate_bp": counts.get("resolved_rate_bp").cloned().unwrap_or(Value::Null),
    })
}

fn assert_board_matches(snapshot: &Value) {
    let items = items(snapshot);
    assert_eq!(figures(&snapshot["board"]["overall"]), recount(&items, None), "overall");
    for u in snapshot["board"]["units"].as_array().unwrap() {
        let unit = u["unit"].as_str().unwrap();
        assert_eq!(figures(&u["counts"]), recount(&items, Some(unit)), "unit {unit}");
    }
}

/// Delegate ids of the demo are d001…d320.
fn names_a_delegate(text: &str) -> bool {
    text.as_bytes().windows(5).any(|w| w[0] == b'"' && w[1] == b'd' && w[2..].iter().all(u8::is_ascii_digit))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assignment_list_from_close_to_rectified_survives_kill_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    follow_up(dir.path(), &[], None).await;
}

/// The same on Redis: the items and the evidence file live in Redis, and
/// both the hub and Redis are killed (-9) before the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assignment_list_survives_kill_of_the_hub_and_of_redis() {
    let (dir, redis_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut redis = RedisServer::start(redis_dir.path(), &[]);
    let url = redis.url();
    follow_up(dir.path(), &["--redis-url", url.as_str()], Some(&mut redis)).await;
}

async fn follow_up(dir: &Path, args: &[&str], redis: Option<&mut RedisServer>) {
    let mut server = Server::start(BIN, dir, args).await.unwrap();

    // ---- the live part, briefly: four questions, two answered -------------
    let mut m = server.connect("moderator", None).await;
    let snap = m.next().await;
    assert_eq!(snap["delegates"].as_array().unwrap().len(), 320);
    let venue_of: BTreeMap<String, String> = snap["delegates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap().to_owned(), d["venue"].as_str().unwrap().to_owned()))
        .collect();
    // Askers at the main venue and at three townships.
    let askers = ["d001", "d040", "d100", "d200"];
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    let mut ds: BTreeMap<&str, Client> = BTreeMap::new();
    for d in askers {
        let mut c = server.connect(&format!("delegate:{d}"), None).await;
        c.next().await;
        c.ok(json!({"type": "check_in", "delegate": d})).await;
        ds.insert(d, c);
    }
    m.ok(json!({"type": "advance_phase", "to": "questioning"})).await;
    let questions = [
        ("d001", "minzheng", "农村助餐服务覆盖率只有三成，何时实现全覆盖？"),
        ("d040", "weijian", "医养结合签约为何迟迟不落地？"),
        ("d100", "caizheng", "养老机构运营补贴何时按时发放？"),
        ("d200", "renshe", "养老护理员培训补贴能否提高？"),
    ];
    let mut qid = BTreeMap::new();
    for (d, unit, text) in questions {
        let ack = ds.get_mut(d).unwrap().ok(json!({"type": "submit_question", "topic": "policy", "unit": unit, "text": text})).await;
        let q = ack["result"]["question"].as_u64().unwrap();
        m.ok(json!({"type": "approve_question", "question": q})).await;
        qid.insert(d, q);
    }
    // q1 on the floor: answered with two commitments (minzheng, weijian).
    m.ok(json!({"type": "grant_floor", "venue": venue_of["d001"], "question": qid["d001"]})).await;
    m.ok(json!({"type": "record_answer", "unit": "minzheng", "official": "县民政局局长", "summary": "年底覆盖率达到八成。",
    "commitments": [
        {"what": "实现农村助餐服务全覆盖", "unit": "minzheng", "due": "2027-06-30"},
        {"what": "助餐点纳入医疗巡诊", "unit": "weijian", "due": "2027-03-31"}
    ]}))
    .await;
    m.ok(json!({"type": "end_floor"})).await;
    // q2 on the floor: answered without a commitment (to confirm in writing).
    m.ok(json!({"type": "grant_floor", "venue": venue_of["d040"], "question": qid["d040"]})).await;
    m.ok(json!({"type": "record_answer", "unit": "weijian", "official": "县卫健委主任", "summary": "本月内完成签约。"})).await;
    m.ok(json!({"type": "end_floor"})).await;
    // q3 and q4 never reach the floor: written replies are owed.
    m.ok(json!({"type": "advance_phase", "to": "evaluation"})).await;
    m.ok(json!({"type": "advance_phase", "to": "closed"})).await;

    // ---- the office finds the drafts ------------------------------------------
    let mut office = server.connect("office", None).await;
    let snap = office.next().await;
    assert_eq!(snap["you"]["role"], "office");
    assert_eq!(snap["session"]["phase"], "closed");
    let drafts = items(&snap);
    let kinds: Vec<(&str, u64)> =
        drafts.values().map(|i| (i["sources"][0]["kind"].as_str().unwrap(), i["sources"][0]["question"].as_u64().unwrap())).collect();
    assert_eq!(
        kinds,
        [
            ("commitment", qid["d001"]),
            ("commitment", qid["d001"]),
            ("answer", qid["d040"]),
            ("unasked", qid["d100"]),
            ("unasked", qid["d200"])
        ],
        "one draft per commitment, per answer to confirm and per unasked question"
    );
    assert!(drafts.values().all(|i| i["status"] == "draft"));
    assert_eq!(snap["board"]["drafts"], 5);
    // Units see no drafts.
    let mut minzheng = server.connect("unit:minzheng", None).await;
    assert_eq!(minzheng.next().await["items"], json!([]));

    // The office edits: deadlines, a co-handling unit, a supervised item; the
    // two unasked questions go to caizheng as one item.
    let edit = |item: u64, lead: &str, co: &[&str], req: &str, deadline: &str, priority: &str| json!({"type": "edit_draft", "item": item, "lead": lead, "co_units": co, "requirement": req, "deadline": deadline, "priority": priority});
    office.ok(edit(1, "minzheng", &["weijian"], "实现农村助餐服务全覆盖", "2027-06-30", "supervised")).await;
    office.ok(edit(2, "weijian", &[], "助餐点纳入医疗巡诊", "2027-03-31", "normal")).await;
    office.ok(edit(3, "weijian", &[], "书面确认医养结合签约进展", "2027-01-31", "normal")).await;
    office.ok(edit(4, "caizheng", &["renshe"], "书面答复补贴发放与培训补贴", "2027-02-28", "normal")).await;
    office.ok(json!({"type": "merge_drafts", "into": 4, "from": 5})).await;
    // A deadline in the past is refused.
    let e = office.call(edit(1, "minzheng", &[], "x", "2020-01-01", "normal")).await.unwrap_err();
    assert_eq!(e["code"], "invalid");
    for item in 1..=4 {
        let ack = office.ok(json!({"type": "issue_item", "item": item})).await;
        assert_eq!(ack["result"]["item"], item);
    }
    // Issued: the unit sees its item, numbered.
    let it = item_change(&mut minzheng, 1, |i| i["status"] == "issued").await;
    assert_eq!(it["number"], 1);
    assert_eq!(it["priority"], "supervised");
    assert!(it["askers"].as_array().unwrap().iter().all(|a| a.get("delegate").is_none()), "units see venues, not delegates");

    // ---- three units handle their items ------------------------------------------
    let mut weijian = server.connect("unit:weijian", None).await;
    let w = weijian.next().await;
    let concerns = |i: &&Value| i["lead"] == "weijian" || i["co_units"].as_array().unwrap().contains(&json!("weijian"));
    let mine: Vec<u64> = w["items"].as_array().unwrap().iter().filter(concerns).map(|i| i["id"].as_u64().unwrap()).collect();
    assert_eq!(mine, [1, 2, 3], "its own items and the one it co-handles");
    // Another unit's item is there as the public sees it: no working papers.
    let other = w["items"].as_array().unwrap().iter().find(|i| i["id"] == 4).expect("every issued item is public");
    assert!(other.get("notes").is_none() && other.get("extensions").is_none());
    let mut caizheng = server.connect("unit:caizheng", None).await;
    caizheng.next().await;

    // Another unit on minzheng's item: forbidden, and nothing changes.
    let e = weijian.call(json!({"type": "reply_item", "item": 1, "text": "越权答复"})).await.unwrap_err();
    assert_eq!(e["code"], "forbidden");
    let e = caizheng.call(json!({"type": "add_note", "item": 1, "text": "x"})).await.unwrap_err();
    assert_eq!(e["code"], "forbidden");
    // The office does not write a unit's reply; a delegate does not close.
    assert_eq!(office.call(json!({"type": "reply_item", "item": 1, "text": "x"})).await.unwrap_err()["code"], "forbidden");
    let d001 = ds.get_mut("d001").unwrap();
    assert_eq!(d001.call(json!({"type": "close_item", "item": 1})).await.unwrap_err()["code"], "forbidden");
    // Rating before the reply: invalid_state.
    let e = d001.call(json!({"type": "rate_item", "item": 1, "rating": "satisfied"})).await.unwrap_err();
    assert_eq!(e["code"], "invalid_state");

    // minzheng: starts, notes, attaches the evidence, rectifies.
    minzheng.ok(json!({"type": "start_handling", "item": 1})).await;
    minzheng.ok(json!({"type": "add_note", "item": 1, "text": "已召开推进会，排定42个助餐点"})).await;
    weijian.ok(json!({"type": "add_note", "item": 1, "text": "卫健委配合开展食品安全检查"})).await;
    let upload = |item: u64, name: &str| format!("/api/sessions/{SESSION}/items/{item}/files?name={name}");
    let mz_token = server.token("unit:minzheng");
    // A script named .jpg is refused by its content; another unit may not attach.
    let r = http_raw(&server.addr, "POST", &upload(1, "photo.jpg"), Some(&mz_token), Some(("image/jpeg", b"<script>alert(1)</script>")))
        .await
        .unwrap();
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    // Too large: refused with the same JSON error as every other refusal.
    let big = vec![b'%'; 10 * 1024 * 1024 + 1];
    let r = http_raw(&server.addr, "POST", &upload(1, "big.pdf"), Some(&mz_token), Some(("application/pdf", &big))).await.unwrap();
    assert_eq!(r.status, 413);
    assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap()["code"], "invalid");
    let r = http_raw(&server.addr, "POST", &upload(1, "x.pdf"), Some(&server.token("unit:caizheng")), Some(("application/pdf", PDF)))
        .await
        .unwrap();
    assert_eq!(r.status, 403);
    let r = http_raw(
        &server.addr,
        "POST",
        &upload(1, "%E6%95%B4%E6%94%B9%E6%8A%A5%E5%91%8A.pdf"),
        Some(&mz_token),
        Some(("application/pdf", PDF)),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let it = item_change(&mut minzheng, 1, |i| !i["evidence"].as_array().unwrap().is_empty()).await;
    let file = it["evidence"][0].clone();
    assert_eq!((file["name"].as_str(), file["kind"].as_str(), file["public"].as_bool()), (Some("整改报告.pdf"), Some("pdf"), Some(false)));
    let file_path = format!("/api/sessions/{SESSION}/files/{}", file["id"].as_str().unwrap());
    // The unit downloads it as an attachment; the public cannot, yet.
    let r = http_raw(&server.addr, "GET", &file_path, Some(&mz_token), None).await.unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, PDF));
    assert_eq!(r.header("content-type").as_deref(), Some("application/pdf"));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(r.header("content-disposition").unwrap().starts_with("attachment;"), "{:?}", r.headers);
    assert_eq!(http_raw(&server.addr, "GET", &file_path, None, None).await.unwrap().status, 404);
    assert_eq!(http_raw(&server.addr, "GET", &file_path, Some(&server.token("unit:caizheng")), None).await.unwrap().status, 404);
    minzheng.ok(json!({"type": "rectify_item", "item": 1, "text": "42个助餐点已全部开放。"})).await;

    // weijian: asks for more time on item 2; the office grants it; replies.
    let e = weijian.call(json!({"type": "request_extension", "item": 2, "until": "2027-03-01", "reason": "早于原期限"})).await.unwrap_err();
    assert_eq!(e["code"], "invalid", "an extension must be later than the deadline");
    weijian.ok(json!({"type": "request_extension", "item": 2, "until": "2027-05-31", "reason": "巡诊医生招聘延迟"})).await;
    let e = office.call(json!({"type": "decide_extension", "item": 2, "grant": false})).await.unwrap_err();
    assert_eq!(e["code"], "invalid", "refusing needs an answer");
    office.ok(json!({"type": "decide_extension", "item": 2, "grant": true})).await;
    let it = item_change(&mut weijian, 2, |i| i["deadline"] == "2027-05-31").await;
    assert_eq!(it["extensions"][0]["granted"], true);
    weijian.ok(json!({"type": "reply_item", "item": 2, "text": "巡诊已覆盖全部助餐点。"})).await;
    weijian.ok(json!({"type": "reply_item", "item": 3, "text": "已与两家养老机构完成签约。"})).await;

    // caizheng: the written reply owed for the two unasked questions.
    caizheng.ok(json!({"type": "reply_item", "item": 4, "text": "补贴已于本月足额发放；培训补贴标准明年提高。"})).await;

    // ---- the askers rate ----------------------------------------------------------
    let d001 = ds.get_mut("d001").unwrap();
    let ack = d001.ok(json!({"type": "rate_item", "item": 1, "rating": "satisfied", "comment": "很好"})).await;
    assert_eq!(ack["result"]["item_receipt"]["rating"]["rating"], "satisfied");
    // The rater checks the rating by its receipt code, with no credential;
    // the answer says counted, never the choice.
    let code = ack["result"]["item_receipt"]["code"].as_str().unwrap().to_owned();
    let (status, body) = server.http("GET", &format!("/api/sessions/{SESSION}/receipts/{code}"), None, None).await;
    assert_eq!(status, 200, "{body}");
    let check: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (check["found"].as_bool(), check["kind"].as_str(), check["item"].as_u64()),
        (Some(true), Some("item_rating"), Some(1)),
        "{check}"
    );
    assert!(!body.contains("satisfied") && !body.contains("d001"), "{body}");
    let e = d001.call(json!({"type": "rate_item", "item": 1, "rating": "dissatisfied"})).await.unwrap_err();
    assert_eq!(e["code"], "already_done", "a rating is final");
    // Not an asker of item 3.
    let e = ds.get_mut("d200").unwrap().call(json!({"type": "rate_item", "item": 3, "rating": "satisfied"})).await.unwrap_err();
    assert_eq!(e["code"], "forbidden");
    // d001 is dissatisfied with item 2 and asks for it to be handled again.
    let d001 = ds.get_mut("d001").unwrap();
    d001.ok(json!({"type": "rate_item", "item": 2, "rating": "dissatisfied", "comment": "偏远村仍未巡诊", "rehandle": true})).await;
    let it = item_change(&mut office, 2, |i| i["flagged"] == true).await;
    assert_eq!(it["ratings"]["counts"]["suppressed"], true, "one rating: counts only as a total");
    assert!(it["ratings"].get("mine").is_none() && it["ratings"].get("by").is_none());
    // d040's venue operator rates item 3 on their behalf.
    let mut op = server.connect(&format!("operator:{}", venue_of["d040"]), None).await;
    op.next().await;
    op.ok(json!({"type": "rate_item", "item": 3, "on_behalf_of": "d040", "rating": "basically_satisfied"})).await;
    // The screen and the units never learn who chose what.
    let w = weijian.until_ping().await;
    for msg in &w {
        for ch in msg["changes"].as_array().into_iter().flatten() {
            if ch["entity"] == "item" {
                assert!(ch["item"]["ratings"].get("mine").is_none() && ch["item"]["ratings"].get("by").is_none());
            }
        }
    }

    // ---- returned, handled again, closed ----------------------------------------
    office.ok(json!({"type": "return_item", "item": 2, "reason": "偏远村尚未巡诊，请重办"})).await;
    let it = item_change(&mut weijian, 2, |i| i["status"] == "in_handling").await;
    assert_eq!(it["history"].as_array().unwrap().last().unwrap()["reason"], "偏远村尚未巡诊，请重办");
    weijian.ok(json!({"type": "rectify_item", "item": 2, "text": "偏远村巡诊已开展。"})).await;
    office.ok(json!({"type": "publish_evidence", "item": 1, "file": file["id"], "public": true})).await;
    office.ok(json!({"type": "close_item", "item": 1})).await;
    // The office cannot archive while items are open.
    let e = office.call(json!({"type": "advance_phase", "to": "archived"})).await.unwrap_err();
    assert_eq!(e["code"], "invalid_state");

    // ---- the board equals an independent count ----------------------------------
    let (status, body) = server.http("GET", &format!("/api/sessions/{SESSION}"), Some(&server.token("office")), None).await;
    assert_eq!(status, 200);
    let before: Value = serde_json::from_str(&body).unwrap();
    assert_board_matches(&before);
    assert_eq!(before["board"]["overall"]["issued"], 4);
    assert_eq!(before["board"]["overall"]["resolved_rate_bp"], 10_000, "every issued item is answered, rectified or closed");
    // The public progress page: no credential, no delegate, the public file only.
    let (status, progress) = server.http("GET", &format!("/api/sessions/{SESSION}/progress"), None, None).await;
    assert_eq!(status, 200);
    assert!(!names_a_delegate(&progress), "{progress}");
    let progress: Value = serde_json::from_str(&progress).unwrap();
    let mut office_figures = before["board"]["overall"].clone();
    office_figures.as_object_mut().unwrap().remove("flagged");
    assert_eq!(progress["board"]["overall"], office_figures, "the same figures, but the office's count of flagged items");
    assert_eq!(progress["items"].as_array().unwrap().len(), 4);
    assert_eq!(progress["questions"].as_array().unwrap().len(), 4);
    let r = http_raw(&server.addr, "GET", &file_path, None, None).await.unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, PDF), "published: the public may download it");

    // ---- kill -9 and restart ----------------------------------------------------------
    drop((m, office, minzheng, weijian, caizheng, op, ds));
    server.kill().await;
    if let Some(r) = redis {
        r.restart();
    }
    let server = Server::start(BIN, dir, args).await.unwrap();
    let (status, body) = server.http("GET", &format!("/api/sessions/{SESSION}"), Some(&server.token("office")), None).await;
    assert_eq!(status, 200);
    let after: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(after["items"], before["items"], "every item, note, file and rating survives");
    assert_eq!(after["board"], before["board"]);
    let r = http_raw(&server.addr, "GET", &file_path, Some(&server.token("unit:minzheng")), None).await.unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, PDF));
    // The credentials still work after the restart: d001's own rating is theirs.
    let mut d001 = server.connect("delegate:d001", None).await;
    let s = d001.next().await;
    let mine: Vec<&Value> = s["items"].as_array().unwrap().iter().filter_map(|i| i["ratings"].get("mine")).collect();
    assert_eq!(mine.len(), 2);
    // And the follow-up goes on: close the rest, archive, then read-only.
    let mut office = server.connect("office", None).await;
    office.next().await;
    for item in 2..=4 {
        office.ok(json!({"type": "close_item", "item": item})).await;
    }
    office.ok(json!({"type": "advance_phase", "to": "archived"})).await;
    let e = d001.call(json!({"type": "rate_item", "item": 3, "rating": "satisfied"})).await.unwrap_err();
    assert_eq!(e["code"], "invalid_state");

    // ---- the record: its chain head, and `verify` against it -------------------
    let (status, body) = server.http("GET", &format!("/api/sessions/{SESSION}"), Some(&server.token("moderator")), None).await;
    assert_eq!(status, 200);
    let snap: Value = serde_json::from_str(&body).unwrap();
    let head = snap["stats"]["chain_head"].as_str().expect("the moderator sees the chain head").to_owned();
    assert_eq!(head.len(), 64);
    drop((d001, office));
    let mut server = server;
    server.terminate().await;
    let verify = |expect: &str| {
        let mut cmd = std::process::Command::new(BIN);
        cmd.args(["verify", "--data-dir"]).arg(dir).args(args).args(["--session", SESSION, "--expect-head", expect]);
        cmd.env("RUST_LOG", "warn").output().expect("verify runs")
    };
    let ok = verify(&head);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{out} {}", String::from_utf8_lossy(&ok.stderr));
    assert!(out.contains(&head) && out.contains("the record holds"), "{out}");
    let other = verify(&"0".repeat(64));
    assert!(!other.status.success(), "another head is refused");
    assert!(String::from_utf8_lossy(&other.stderr).contains("not 0000"), "{}", String::from_utf8_lossy(&other.stderr));
}
