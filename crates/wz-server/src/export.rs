//! CSV exports for the moderator and the auditor: the evaluation results
//! (测评结果) and the assignment list (交办清单) of answered questions and
//! their commitments, which becomes the follow-up work after the session.
//!
//! Both are built from the viewer's snapshot, so they can never contain more
//! than that viewer may see. UTF-8 with a BOM, so Excel on Chinese Windows
//! does not read them as GBK.

use serde_json::Value;
use std::collections::BTreeMap;

fn names(list: &Value) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| Some((x["id"].as_str()?.to_owned(), x["name"].as_str()?.to_owned())))
        .collect()
}

fn s(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    out.extend(w.into_inner().expect("writing to memory cannot fail"));
    out
}

fn rate(counts: &Value) -> String {
    counts["satisfaction_rate_bp"].as_u64().map(|bp| format!("{:.2}%", bp as f64 / 100.0)).unwrap_or_default()
}

const LEVELS: [(&str, &str); 5] = [
    ("province", "省人大代表"),
    ("city", "市人大代表"),
    ("county", "县人大代表"),
    ("township", "乡镇人大代表"),
    ("street_deliberation", "街道议政代表"),
];

/// One row per (closed evaluation, unit, scope): the total, each venue, each level.
pub fn results_csv(snapshot: &Value) -> Vec<u8> {
    let units = names(&snapshot["session"]["units"]);
    let venues = names(&snapshot["session"]["venues"]);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "测评 evaluation", "应询单位 unit", "范围 scope", "名称 name", "满意 satisfied", "基本满意 basically satisfied",
        "不满意 dissatisfied", "票数 ballots", "满意率 satisfaction rate", "应参评 eligible", "说明 note",
    ];
    w.write_record(header).expect("memory");
    for ev in snapshot["evaluations"].as_array().into_iter().flatten() {
        let Some(results) = ev.get("results") else { continue };
        let id = s(&ev["id"]);
        for u in results["units"].as_array().into_iter().flatten() {
            let unit = s(&u["unit"]);
            let unit_name = units.get(&unit).cloned().unwrap_or(unit.clone());
            let mut row = |scope: &str, name: String, c: &Value, eligible: String| {
                let note = if c["suppressed"] == true { "少于3票，不公布分项 fewer than 3 ballots" } else { "" };
                w.write_record([
                    id.clone(),
                    unit_name.clone(),
                    scope.to_owned(),
                    name,
                    s(&c["satisfied"]),
                    s(&c["basically_satisfied"]),
                    s(&c["dissatisfied"]),
                    s(&c["total"]),
                    rate(c),
                    eligible,
                    note.to_owned(),
                ])
                .expect("memory");
            };
            row("合计 total", String::new(), &u["counts"], s(&results["turnout"]["eligible"]));
            for v in u["by_venue"].as_array().into_iter().flatten() {
                let vid = s(&v["venue"]);
                let eligible = results["turnout"]["by_venue"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|t| t["venue"] == v["venue"])
                    .map(|t| s(&t["eligible"]))
                    .unwrap_or_default();
                row("会场 venue", venues.get(&vid).cloned().unwrap_or(vid), &v["counts"], eligible);
            }
            for l in u["by_level"].as_array().into_iter().flatten() {
                let lid = s(&l["level"]);
                let name = LEVELS.iter().find(|(k, _)| *k == lid).map(|(_, n)| (*n).to_owned()).unwrap_or(lid);
                row("代表层级 level", name, &l["counts"], s(&l["eligible"]));
            }
        }
    }
    finish(w)
}

/// The assignment list: one row per commitment of every answered question
/// (and one row for an answer without commitments), for the questions and for
/// their follow-ups.
pub fn assignments_csv(snapshot: &Value) -> Vec<u8> {
    let units = names(&snapshot["session"]["units"]);
    let venues = names(&snapshot["session"]["venues"]);
    let topics = names(&snapshot["session"]["topics"]);
    let name = |m: &BTreeMap<String, String>, v: &Value| {
        let k = s(v);
        m.get(&k).cloned().unwrap_or(k)
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "问题 question", "追问 follow-up", "会场 venues", "议题 topic", "应询单位 unit", "问题内容 text", "答复单位 answered by",
        "答复人 official", "答复摘要 summary", "承诺事项 commitment", "责任单位 responsible unit", "办结期限 deadline",
    ])
    .expect("memory");
    for q in snapshot["questions"].as_array().into_iter().flatten() {
        let venue_names: Vec<String> = q["venues"].as_array().into_iter().flatten().map(|v| name(&venues, v)).collect();
        let mut items: Vec<(String, &Value, &Value)> = Vec::new();
        if let Some(a) = q.get("answer") {
            items.push((String::new(), &q["text"], a));
        }
        for f in q["follow_ups"].as_array().into_iter().flatten() {
            if let Some(a) = f.get("answer") {
                items.push((s(&f["id"]), &f["text"], a));
            }
        }
        for (follow_up, text, a) in items {
            let base = [
                s(&q["id"]),
                follow_up,
                venue_names.join("、"),
                name(&topics, &q["topic"]),
                name(&units, &q["unit"]),
                s(text),
                name(&units, &a["unit"]),
                s(&a["official"]),
                s(&a["summary"]),
            ];
            let commitments = a["commitments"].as_array().cloned().unwrap_or_default();
            if commitments.is_empty() {
                let mut row = base.to_vec();
                row.extend([String::new(), String::new(), String::new()]);
                w.write_record(row).expect("memory");
            }
            for c in commitments {
                let mut row = base.to_vec();
                row.extend([s(&c["what"]), name(&units, &c["unit"]), s(&c["due"])]);
                w.write_record(row).expect("memory");
            }
        }
    }
    finish(w)
}
