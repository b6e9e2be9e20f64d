//! The documents and spreadsheets a session leaves behind (issue 9), end to
//! end against the real server binary with the embedded store and the
//! demo's 320-delegate session: the live part with questions, answers,
//! commitments and a follow-up; an evaluation with 57 voters (one venue
//! with only two, whose cells must not be broken down); the assignment list
//! issued. Then the bulletin, a letter and the results report as HTML and
//! as PDF (printed by Chromium): `pdftotext` must find every question,
//! reply, unit and figure, `pdftoppm` a first page that is not blank; every
//! spreadsheet's xlsx must hold exactly the cells of its CSV; who may fetch
//! what; no document names a delegate; and `wenzheng report`, the server
//! stopped, writes every file, the same as the server serves.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use wz_e2e::{RawResponse, Server, http_raw};

const BIN: &str = env!("CARGO_BIN_EXE_wz-e2e-server");
const SESSION: &str = "xixia-2026";
const UNITS: [&str; 3] = ["minzheng", "weijian", "caizheng"];

/// What the test put into the session, to find again in the documents.
struct Scenario {
    texts: Vec<&'static str>,
    delegates: Vec<(String, String)>,
    results: Value,
}

fn rating(n: usize, u: usize) -> &'static str {
    ["satisfied", "basically_satisfied", "dissatisfied", "satisfied"][(n + u) % 4]
}

async fn drive(server: &Server) -> Scenario {
    let mut m = server.connect("moderator", None).await;
    let snap = m.next().await;
    let delegates: Vec<(String, String)> = snap["delegates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap().to_owned(), d["name"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(delegates.len(), 320);
    let venue_of: BTreeMap<String, String> = snap["delegates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap().to_owned(), d["venue"].as_str().unwrap().to_owned()))
        .collect();
    m.ok(json!({"type": "advance_phase", "to": "check_in"})).await;
    for (d, _) in &delegates {
        m.ok(json!({"type": "check_in", "delegate": d})).await;
    }
    m.ok(json!({"type": "advance_phase", "to": "questioning"})).await;
    let texts = floor(&mut m, &venue_of).await;
    let results = evaluate(server, &mut m, &venue_of).await;
    issue(server).await;
    Scenario { texts, delegates, results }
}

/// Three questions, two put on the floor and answered with a commitment
/// each, a follow-up answered too. Returns what the bulletin must print.
async fn floor(m: &mut wz_e2e::Client, venue_of: &BTreeMap<String, String>) -> Vec<&'static str> {
    let asks = [
        ("d001", "minzheng", "农村助餐服务覆盖率只有三成，何时实现全覆盖？"),
        ("d040", "weijian", "医养结合签约为何迟迟不落地？"),
        ("d100", "caizheng", "养老机构运营补贴何时按时发放？"),
    ];
    let mut qid = Vec::new();
    for (d, unit, text) in asks {
        let ack = m.ok(json!({"type": "submit_question", "on_behalf_of": d, "topic": "policy", "unit": unit, "text": text})).await;
        let q = ack["result"]["question"].as_u64().unwrap();
        m.ok(json!({"type": "approve_question", "question": q})).await;
        qid.push((q, venue_of[d].clone(), unit));
    }
    let answers = [
        ("县民政局局长", "今年年底覆盖率达到八成，明年全覆盖。", "新建农村助餐点42个", "2027-06-30"),
        ("县卫健委主任", "本月内完成全部签约。", "完成医养结合签约", "2027-03-31"),
    ];
    for ((q, venue, unit), (official, summary, what, due)) in qid.iter().zip(answers) {
        m.ok(json!({"type": "grant_floor", "venue": venue, "question": q})).await;
        m.ok(json!({"type": "record_answer", "unit": unit, "official": official, "summary": summary,
            "commitments": [{"what": what, "unit": unit, "due": due}]}))
            .await;
        if *q == qid[0].0 {
            let ack = m.ok(json!({"type": "add_follow_up", "on_behalf_of": "d002", "text": "助餐点的运营资金从哪里来？"})).await;
            let f = ack["result"]["follow_up"].as_u64().unwrap();
            m.ok(json!({"type": "record_answer", "follow_up": f, "unit": "caizheng", "official": "县财政局局长", "summary": "县财政每年安排专项资金。"}))
                .await;
        }
        m.ok(json!({"type": "end_floor"})).await;
    }
    let texts = vec![
        asks[0].2,
        asks[1].2,
        answers[0].1,
        answers[1].1,
        answers[0].2,
        answers[1].2,
        "助餐点的运营资金从哪里来？",
        "县财政每年安排专项资金。",
    ];
    texts
}

/// 57 voters: every delegate of three venues, ten of the main venue, two
/// of 丁河镇 (a cell under three ballots). Returns the revealed results.
async fn evaluate(server: &Server, m: &mut wz_e2e::Client, venue_of: &BTreeMap<String, String>) -> Value {
    m.ok(json!({"type": "advance_phase", "to": "evaluation"})).await;
    let ev = m.ok(json!({"type": "open_evaluation", "units": UNITS})).await["result"]["evaluation"].as_u64().unwrap();
    let mut voters: Vec<&String> =
        venue_of.iter().filter(|(_, v)| ["baiyu", "zijin", "lianhua"].contains(&v.as_str())).map(|(d, _)| d).collect();
    voters.extend(venue_of.iter().filter(|(_, v)| v.as_str() == "main").map(|(d, _)| d).take(10));
    voters.extend(venue_of.iter().filter(|(_, v)| v.as_str() == "dinghe").map(|(d, _)| d).take(2));
    assert_eq!(voters.len(), 57);
    for (n, d) in voters.iter().enumerate() {
        let mut c = server.connect(&format!("delegate:{d}"), None).await;
        c.next().await;
        for (u, unit) in UNITS.iter().enumerate() {
            c.ok(json!({"type": "cast_ballot", "ballot_id": format!("b-{d}-{u}"), "evaluation": ev, "unit": unit, "rating": rating(n, u)}))
                .await;
        }
    }
    let closed = m.ok(json!({"type": "close_evaluation", "evaluation": ev})).await;
    m.ok(json!({"type": "advance_phase", "to": "closed"})).await;
    closed["result"]["closed"]["results"].clone()
}

/// The office issues every draft with a deadline.
async fn issue(server: &Server) {
    let mut office = server.connect("office", None).await;
    let snap = office.next().await;
    for it in snap["items"].as_array().unwrap() {
        let id = it["id"].as_u64().unwrap();
        let edit = json!({"type": "edit_draft", "item": id, "lead": it["lead"], "co_units": [], "requirement": it["requirement"],
            "deadline": "2027-06-30", "priority": "normal"});
        office.ok(edit).await;
        office.ok(json!({"type": "issue_item", "item": id})).await;
    }
}

async fn get(server: &Server, path: &str, key: Option<&str>) -> RawResponse {
    let token = key.map(|k| server.token(k));
    http_raw(&server.addr, "GET", &format!("/api/sessions/{SESSION}/{path}"), token.as_deref(), None).await.unwrap()
}

/// Text without any whitespace: pdftotext wraps lines where the layout does.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/setup installs it)");
    assert!(out.status.success(), "pdftotext failed on {}", pdf.display());
    squash(&String::from_utf8(out.stdout).unwrap())
}

/// Chinese line breaking (禁则): no printed line begins with closing
/// punctuation. `pdftotext -raw` gives the lines in the order they were
/// printed, each as the printer broke it.
fn assert_no_line_starts_with_closing_punctuation(pdf: &Path, name: &str) {
    let out = Command::new("pdftotext").args(["-enc", "UTF-8", "-raw"]).arg(pdf).arg("-").output().expect("pdftotext");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = 0;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        lines += 1;
        let first = line.chars().next().unwrap();
        assert!(!"，。、；：？！）》」』】〕”’…".contains(first), "{name}: a line starts with {first:?}: {line}");
    }
    assert!(lines > 10, "{name}: {lines} lines");
}

/// Every font of the PDF is embedded, the CJK one among them (`pdffonts`).
fn assert_fonts_embedded(pdf: &Path) {
    let out = Command::new("pdffonts").arg(pdf).output().expect("pdffonts (poppler-utils)");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("WenQuanYiMicroHei"), "the CJK font is embedded: {text}");
    for line in text.lines().skip(2) {
        // name, type, encoding, emb, sub, uni, object, generation: `emb` is 5th from the end.
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[f.len() - 5], "yes", "a font is not embedded: {line}");
    }
}

/// The share of dark pixels on page 1, rendered at 50 dpi in grey.
fn ink_on_first_page(pdf: &Path, dir: &Path) -> f64 {
    let prefix = dir.join("page");
    let ok = Command::new("pdftoppm")
        .args(["-r", "50", "-gray", "-f", "1", "-l", "1"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm")
        .success();
    assert!(ok, "pdftoppm failed");
    let pgm = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "pgm"))
        .unwrap();
    let bytes = std::fs::read(&pgm).unwrap();
    std::fs::remove_file(&pgm).unwrap();
    // P5\n<w> <h>\n255\n<w*h bytes>
    let mut fields = 0;
    let mut at = 0;
    while fields < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields += 1;
    }
    let pixels = &bytes[at + 1..];
    pixels.iter().filter(|p| **p < 160).count() as f64 / pixels.len() as f64
}

fn rate(bp: &Value) -> String {
    let bp = bp.as_u64().unwrap();
    format!("{}.{:02}%", bp / 100, bp % 100)
}

fn assert_names_no_delegate(what: &str, text: &str, head: &str, s: &Scenario) {
    let text = text.replace(head, "");
    for (id, name) in &s.delegates {
        assert!(!text.contains(name.as_str()), "{what} names delegate {id}");
        let idw = format!("{id}\"");
        assert!(!text.contains(&idw) && !text.contains(&format!(">{id}<")) && !text.contains(&format!(",{id},")), "{what} carries {id}");
    }
    assert!(!text.contains("#token=") && !text.contains("token="), "{what} carries a join link");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_and_spreadsheets_of_the_320_delegate_session() {
    assert!(
        Path::new(&std::env::var("WZ_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())).is_file(),
        "the PDF documents need Chromium: run scripts/setup (apt-get install chromium fonts-wqy-microhei poppler-utils)"
    );
    let dir = tempfile::tempdir().unwrap();
    // The moderator checks all 320 in: above the per-credential rate limit.
    let mut server = Server::start(BIN, &dir.path().join("data"), &["--rate-per-second", "2000", "--rate-burst", "2000"]).await.unwrap();
    let s = drive(&server).await;

    let head = print_html(&server).await;
    let texts = pdfs(&server, &s, &head, dir.path()).await;
    check_texts(&texts, &s, &head);
    spreadsheets(&server, &s, &head).await;
    access(&server).await;
    let results_csv = get(&server, "export/results.csv", Some("moderator")).await.body;
    server.kill().await;
    command_line(dir.path(), &s, &head, &results_csv);
}

/// The bulletin's print HTML; returns the chain head it prints.
async fn print_html(server: &Server) -> String {
    // ---- the print HTML -----------------------------------------------------------
    let bulletin = get(server, "documents/bulletin.html", Some("moderator")).await;
    assert_eq!(bulletin.status, 200);
    assert_eq!(bulletin.header("content-type").as_deref(), Some("text/html; charset=utf-8"));
    assert!(
        bulletin.header("content-disposition").unwrap().contains("filename*=UTF-8''xixia-2026-%E4%BA%BA%E5%A4%A7"),
        "a Chinese file name"
    );
    let html = String::from_utf8(bulletin.body).unwrap();
    let head = html.split("data-chain-head>").nth(1).and_then(|r| r.split('<').next()).unwrap().to_owned();
    assert_eq!(head.len(), 64, "the chain head is printed");
    assert!(!html.contains("<script"), "no script in a document");

    head
}

/// The three documents as HTML and PDF; returns each PDF's text (no whitespace).
async fn pdfs(server: &Server, s: &Scenario, head: &str, dir: &Path) -> BTreeMap<&'static str, String> {
    // ---- the PDFs ----------------------------------------------------------------------
    let docs =
        [("bulletin", "documents/bulletin"), ("letter", "documents/letters/minzheng"), ("results-report", "documents/results-report")];
    let mut texts = BTreeMap::new();
    for (name, path) in docs {
        let html = get(server, &format!("{path}.html"), Some("moderator")).await;
        assert_eq!(html.status, 200, "{name}");
        let html = String::from_utf8(html.body).unwrap();
        assert_names_no_delegate(name, &html, head, s);
        let started = Instant::now();
        let pdf = get(server, &format!("{path}.pdf"), Some("office")).await;
        let took = started.elapsed();
        assert_eq!(pdf.status, 200, "{name}: {}", String::from_utf8_lossy(&pdf.body));
        assert_eq!(pdf.header("content-type").as_deref(), Some("application/pdf"));
        assert!(pdf.body.starts_with(b"%PDF-"), "{name}");
        eprintln!("figure: {name}.pdf {} KiB in {} ms", pdf.body.len().div_ceil(1024), took.as_millis());
        let file = dir.join(format!("{name}.pdf"));
        std::fs::write(&file, &pdf.body).unwrap();
        // WZ_DOCUMENTS_OUT=<dir> keeps the PDFs to look at.
        if let Some(out) = std::env::var_os("WZ_DOCUMENTS_OUT") {
            std::fs::copy(&file, Path::new(&out).join(format!("{name}.pdf"))).unwrap();
        }
        let ink = ink_on_first_page(&file, dir);
        assert!(ink > 0.005, "{name}: the first page is blank ({ink:.4} dark)");
        assert_fonts_embedded(&file);
        assert_no_line_starts_with_closing_punctuation(&file, name);
        texts.insert(name, pdf_text(&file));
    }

    texts
}

/// Every question, reply, unit and figure is in the PDFs.
fn check_texts(texts: &BTreeMap<&'static str, String>, s: &Scenario, head: &str) {
    // Every question asked, reply, commitment and follow-up, in the bulletin.
    let b = &texts["bulletin"];
    for t in &s.texts {
        assert!(b.contains(&squash(t)), "the bulletin lacks {t}");
    }
    for unit in ["县民政局", "县卫生健康委员会", "县财政局"] {
        assert!(b.contains(unit) && texts["results-report"].contains(unit), "{unit}");
    }
    assert!(b.contains("应到代表320名，签到320名"));
    let t = &s.results["turnout"];
    assert_eq!((t["voted"].as_u64(), t["eligible"].as_u64()), (Some(57), Some(320)));
    assert!(b.contains("应参评代表320名，实际参评57名，参评率17.81%"), "{b}");
    assert!(texts["results-report"].contains("应参评代表共320名"));
    for u in s.results["units"].as_array().unwrap() {
        let c = &u["counts"];
        let row = format!(
            "{}{}{}{}{}",
            c["satisfied"],
            c["basically_satisfied"],
            c["dissatisfied"],
            c["total"],
            rate(&c["satisfaction_rate_bp"])
        );
        assert!(b.contains(&row) && texts["results-report"].contains(&row), "unit {}: {row}", u["unit"]);
        // 丁河镇: two ballots, no rate; 白羽街道: fifteen, broken down.
        let dinghe = u["by_venue"].as_array().unwrap().iter().find(|v| v["venue"] == "dinghe").unwrap();
        assert_eq!(dinghe["counts"]["suppressed"], true);
        assert!(texts["results-report"].contains("丁河镇人大代表联络站—（2）"), "the small cell is printed without a rate");
        let baiyu = u["by_venue"].as_array().unwrap().iter().find(|v| v["venue"] == "baiyu").unwrap();
        assert!(
            texts["results-report"].contains(&format!("白羽街道人大代表联络站{}（15）", rate(&baiyu["counts"]["satisfaction_rate_bp"])))
        );
    }
    for name in ["bulletin", "results-report"] {
        assert!(texts[name].contains(head), "{name} prints the chain head");
    }
    let letter = &texts["letter"];
    assert!(letter.contains("交办函") && letter.contains("第2号") && letter.contains("县民政局："), "{letter}");
    assert!(letter.contains("新建农村助餐点42个") && letter.contains("2027-06-30"));
    assert!(letter.contains("unit.html") && !letter.contains("token"));
}

/// `wenzheng report` on the stopped server's store writes every file, the same as served.
fn command_line(dir: &Path, s: &Scenario, head: &str, results_csv: &[u8]) {
    let out = dir.join("report");
    let run = Command::new(BIN)
        .args(["report", "--session", SESSION, "--data-dir"])
        .arg(dir.join("data"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "wenzheng report: {}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains(head), "it prints the chain head");
    let files: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(files.len(), 2 + 6 + 8, "bulletin, report, six letters (HTML), four spreadsheets (CSV and xlsx): {files:?}");
    let bulletin = std::fs::read_to_string(out.join("人大工作信息.html")).unwrap();
    assert!(bulletin.contains(head) && bulletin.contains(s.texts[0]));
    assert_eq!(std::fs::read(out.join("测评结果.csv")).unwrap(), results_csv, "the CLI writes what the server serves");
    assert!(out.join("交办函-县民政局.html").is_file() && out.join("交办清单.xlsx").is_file());
}

/// Every export: the xlsx holds exactly the CSV's cells.
async fn spreadsheets(server: &Server, s: &Scenario, head: &str) {
    use calamine::{Data, Reader, Xlsx};
    for table in ["questions", "answers", "results", "assignments"] {
        let csv = get(server, &format!("export/{table}.csv"), Some("auditor")).await;
        assert_eq!(csv.status, 200, "{table}");
        assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
        assert!(csv.body.starts_with(b"\xEF\xBB\xBF"), "{table}: BOM");
        let text = String::from_utf8(csv.body[3..].to_vec()).unwrap();
        assert_names_no_delegate(table, &text, head, s);
        let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| {
                r.unwrap()
                    .iter()
                    .map(|c| {
                        if c.starts_with("'=") || c.starts_with("'+") || c.starts_with("'-") || c.starts_with("'@") {
                            c[1..].to_owned()
                        } else {
                            c.to_owned()
                        }
                    })
                    .collect()
            })
            .collect();
        assert!(rows.len() > 1, "{table} has rows");
        let xlsx = get(server, &format!("export/{table}.xlsx"), Some("moderator")).await;
        assert_eq!(xlsx.status, 200);
        assert_eq!(xlsx.header("content-type").as_deref(), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.body)).unwrap();
        let sheet = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&sheet).unwrap();
        assert_eq!(range.height(), rows.len(), "{table}: rows");
        for (r, (xrow, crow)) in range.rows().zip(&rows).enumerate() {
            assert_eq!(xrow.len(), crow.len(), "{table} row {r}: columns");
            for (c, (x, want)) in xrow.iter().zip(crow).enumerate() {
                let got = match x {
                    Data::String(s) => s.clone(),
                    Data::Float(f) if want.ends_with('%') => format!("{:.2}%", f * 100.0),
                    Data::Float(f) => format!("{f}"),
                    Data::Int(i) => i.to_string(),
                    Data::Empty => String::new(),
                    other => panic!("{table} ({r}, {c}): unexpected {other:?}"),
                };
                assert_eq!(&got, want, "{table} cell ({r}, {c})");
            }
        }
    }
    // The old routes keep working; assignments.csv lists the items now.
    let list = String::from_utf8(get(server, "export/assignments.csv", Some("moderator")).await.body).unwrap();
    assert!(list.contains("交办编号") && list.contains("新建农村助餐点42个") && list.contains("已交办"));
}

/// Who may fetch what.
async fn access(server: &Server) {
    assert_eq!(get(server, "documents/letters/minzheng.html", Some("unit:minzheng")).await.status, 200, "a unit reads its own letter");
    assert_eq!(get(server, "documents/letters/weijian.html", Some("unit:minzheng")).await.status, 403);
    assert_eq!(get(server, "documents/bulletin.html", Some("unit:minzheng")).await.status, 403);
    assert_eq!(get(server, "export/results.csv", Some("unit:minzheng")).await.status, 403);
    assert_eq!(get(server, "documents/bulletin.html", Some("screen")).await.status, 403);
    assert_eq!(get(server, "documents/bulletin.html", Some("delegate:d001")).await.status, 403);
    let anonymous = get(server, "documents/bulletin.html", None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(serde_json::from_slice::<Value>(&anonymous.body).unwrap()["code"], "forbidden");
    let missing = get(server, "documents/letters/nobody.html", Some("moderator")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(serde_json::from_slice::<Value>(&missing.body).unwrap()["code"], "not_found");
    assert_eq!(get(server, "export/ballots.csv", Some("moderator")).await.status, 404);
    assert_eq!(get(server, "documents/bulletin.docx", Some("moderator")).await.status, 404);
}

/// Without a browser to print with, a PDF is 503 `pdf_unavailable`, and
/// the print HTML still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_chromium_a_pdf_is_unavailable_and_the_html_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("WZ_CHROMIUM", "/nonexistent/chromium")];
    let server = Server::start_with(BIN, dir.path(), &[], &env, None).await.unwrap();
    let pdf = get(&server, "documents/bulletin.pdf", Some("moderator")).await;
    assert_eq!(pdf.status, 503);
    let body: Value = serde_json::from_slice(&pdf.body).unwrap();
    assert_eq!(body["code"], "pdf_unavailable");
    assert_eq!(get(&server, "documents/bulletin.html", Some("moderator")).await.status, 200);
}
