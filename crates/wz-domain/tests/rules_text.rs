//! Text hygiene through `decide` (issue 7, item 14): every free text a client
//! sends is normalised (NFC, trimmed of whitespace and invisible characters,
//! CRLF → LF where lines are allowed); text with nothing visible, control
//! characters and bidi overrides are refused with `invalid` naming the code
//! point, and a refused command leaves the state untouched.

mod common;

use common::*;
use wz_domain::*;

const ZERO_WIDTH_ONLY: &str = "\u{200B}\u{200D}\u{FEFF}";

fn problem(e: &CommandError) -> Option<TextProblem> {
    match e {
        CommandError::Invalid(Invalid::Text { problem, .. }) => Some(*problem),
        _ => None,
    }
}

/// A session with question 1 (by d04) on the floor.
fn on_floor() -> Session {
    let mut s = questioning();
    let q = approved(&mut s, "d04", "村道何时修？");
    ok(&mut s, &moderator(), Command::GrantFloor { venue: vid(BAIYU), question: q, answer_seconds: None });
    s
}

#[test]
fn a_question_of_only_zero_width_characters_is_refused_as_empty() {
    let mut s = questioning();
    let e = err(&mut s, &delegate_viewer("d04"), submit_cmd(ZERO_WIDTH_ONLY));
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "text" }));
    assert_eq!(e.to_string(), "invalid: text must not be empty");
    // Zero-width characters and whitespace mixed, from an operator too.
    let e = err(
        &mut s,
        &operator(BAIYU),
        Command::SubmitQuestion {
            on_behalf_of: Some(did("d04")),
            topic: tid(TOPICS[0]),
            unit: uid(UNITS[0]),
            text: " \u{200B} \u{2060}\u{3000}\u{FEFF} ".into(),
        },
    );
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "text" }));
    assert_eq!(s.questions().count(), 0, "no blank public question");
}

#[test]
fn control_characters_in_a_question_are_refused_naming_the_code_point() {
    let mut s = questioning();
    let e = err(&mut s, &delegate_viewer("d04"), submit_cmd("村道\u{1B}[2J何时修？"));
    assert_eq!(problem(&e), Some(TextProblem::Control('\u{1B}')));
    assert_eq!(e.to_string(), "invalid: text contains the control character U+001B");
    let e = err(&mut s, &delegate_viewer("d04"), submit_cmd("村道\u{9B}何时修？"));
    assert_eq!(problem(&e), Some(TextProblem::Control('\u{9B}')), "C1 too");
}

#[test]
fn a_bidi_override_in_a_question_is_refused() {
    let mut s = questioning();
    let e = err(&mut s, &delegate_viewer("d04"), submit_cmd("村道\u{202E}修何时"));
    assert_eq!(problem(&e), Some(TextProblem::Bidi('\u{202E}')));
    assert_eq!(e.to_string(), "invalid: text contains the bidirectional formatting character U+202E");
    let e = err(&mut s, &delegate_viewer("d04"), submit_cmd("村道\u{2067}修何时\u{2069}"));
    assert_eq!(problem(&e), Some(TextProblem::Bidi('\u{2067}')), "isolates too");
}

#[test]
fn a_question_is_stored_nfc_trimmed_with_lf_and_counted_after_normalisation() {
    let mut s = questioning();
    // 500 × (e + combining acute) is 1,000 scalars in, 500 characters stored.
    let q = submit(&mut s, "d04", &format!("\u{200B} {}\r\n", "e\u{301}".repeat(500)));
    assert_eq!(s.question(q).unwrap().text, "\u{E9}".repeat(500));
    let q = submit(&mut s, "d04", "第一行\r\n第二行\r第三行");
    assert_eq!(s.question(q).unwrap().text, "第一行\n第二行\n第三行");
    let e = err(&mut s, &delegate_viewer("d04"), submit_cmd(&"问".repeat(501)));
    assert_eq!(e, CommandError::Invalid(Invalid::TooLong { field: "text", max: 500 }));
}

#[test]
fn edits_reasons_and_follow_ups_follow_the_same_rules() {
    let mut s = questioning();
    let q = submit(&mut s, "d04", "村道何时修？");
    let m = moderator();
    let e = err(&mut s, &m, Command::EditQuestion { question: q, text: ZERO_WIDTH_ONLY.into() });
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "text" }));
    let e = err(&mut s, &m, Command::EditQuestion { question: q, text: "村道\u{7}".into() });
    assert_eq!(problem(&e), Some(TextProblem::Control('\u{7}')));
    let e = err(&mut s, &m, Command::RejectQuestion { question: q, reason: "\u{FEFF}".into() });
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "reason" }));
    let e = err(&mut s, &m, Command::RejectQuestion { question: q, reason: "重复\u{202D}".into() });
    assert_eq!(problem(&e), Some(TextProblem::Bidi('\u{202D}')));
    ok(&mut s, &m, Command::RejectQuestion { question: q, reason: "与第2号\r\n重复".into() });
    assert_eq!(s.question(q).unwrap().reject_reason.as_deref(), Some("与第2号\n重复"));

    let mut s = on_floor();
    let follow = |text: &str| Command::AddFollowUp { on_behalf_of: None, text: text.into() };
    let e = err(&mut s, &delegate_viewer("d04"), follow(ZERO_WIDTH_ONLY));
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "text" }));
    let e = err(&mut s, &delegate_viewer("d04"), follow("还有\u{202E}问题"));
    assert_eq!(problem(&e), Some(TextProblem::Bidi('\u{202E}')));
    let e = err(&mut s, &delegate_viewer("d04"), follow("还有\u{0}问题"));
    assert_eq!(problem(&e), Some(TextProblem::Control('\u{0}')));
}

#[test]
fn answers_allow_lines_but_officials_and_commitments_are_one_line() {
    let mut s = on_floor();
    let m = moderator();
    let answer = |official: &str, summary: &str, what: &str| Command::RecordAnswer {
        follow_up: None,
        unit: uid(UNITS[0]),
        official: official.into(),
        summary: summary.into(),
        commitments: vec![CommitmentDraft { what: what.into(), unit: uid(UNITS[0]), due: CalendarDate::new(2026, 12, 31).unwrap() }],
    };
    let e = err(&mut s, &m, answer("张\n局长", "答复", "修路"));
    assert_eq!(problem(&e), Some(TextProblem::LineBreak('\n')));
    assert_eq!(e.to_string(), "invalid: official contains the line break U+000A (this text is one line)");
    let e = err(&mut s, &m, answer("张局长", "答复", "修路\u{202E}"));
    assert_eq!(problem(&e), Some(TextProblem::Bidi('\u{202E}')));
    assert!(e.to_string().starts_with("invalid: commitment "), "{e}");
    let e = err(&mut s, &m, answer("\u{200B}", "答复", "修路"));
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "official" }));
    let e = err(&mut s, &m, answer("张局长", "答复\u{1B}", "修路"));
    assert_eq!(problem(&e), Some(TextProblem::Control('\u{1B}')));
    let e = err(&mut s, &m, answer("张局长", ZERO_WIDTH_ONLY, "修路"));
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "summary" }));

    ok(&mut s, &m, answer(" 张局长\r\n", "一、年内开工\r\n二、明年通车\t", " 修路 "));
    let a = s.question(QuestionId(1)).unwrap().answer.clone().unwrap();
    assert_eq!(a.official, "张局长");
    assert_eq!(a.summary, "一、年内开工\n二、明年通车");
    assert_eq!(a.commitments[0].what, "修路");
}

#[test]
fn ballot_ids_are_checked_but_kept_verbatim() {
    let mut s = evaluating();
    let me = delegate_viewer("d04");
    let e = err(&mut s, &me, ballot("\u{200B}", 1, UNITS[0], Rating::Satisfied));
    assert_eq!(e, CommandError::Invalid(Invalid::Empty { field: "ballot_id" }));
    let e = err(&mut s, &me, ballot("b\u{1B}1", 1, UNITS[0], Rating::Satisfied));
    assert_eq!(problem(&e), Some(TextProblem::Control('\u{1B}')));
    // Not normalised: the receipt echoes exactly what the client sent.
    ok(&mut s, &me, ballot(" e\u{301} ", 1, UNITS[0], Rating::Satisfied));
    let ev = s.evaluation(EvaluationId(1)).unwrap();
    assert_eq!(ev.ballots[&(did("d04"), uid(UNITS[0]))].ballot_id.as_str(), " e\u{301} ");
}

#[test]
fn imported_delegate_names_are_cleaned_or_refused() {
    let mut s = session();
    let m = moderator();
    let import = |name: &str| Command::ImportDelegates {
        delegates: vec![Delegate { name: name.into(), ..delegate("n01", DelegateLevel::County, BAIYU) }],
    };
    let e = err(&mut s, &m, import("\u{3164}"));
    assert_eq!(e, CommandError::Invalid(Invalid::Definition(DefinitionError::EmptyName { kind: "delegate", id: "n01".into() })));
    let e = err(&mut s, &m, import("张\u{1B}三"));
    assert_eq!(e.to_string(), "invalid: delegate n01 name contains the control character U+001B");
    ok(&mut s, &m, import("\u{FEFF} Zoe\u{308} "));
    assert_eq!(s.delegate(&did("n01")).unwrap().name, "Zo\u{EB}");
}

#[test]
fn definition_texts_are_cleaned_by_normalize_and_checked_by_validate() {
    let mut d = def();
    d.title = "\u{200B}Cafe\u{301} 问政".into();
    d.theme = "\u{200B}".into();
    d.venues[1].name = " 白\u{2060}羽 ".into();
    d.normalize().unwrap();
    assert_eq!(d.title, "Caf\u{E9} 问政");
    assert_eq!(d.theme, "", "a theme with nothing visible is no theme");
    assert_eq!(d.venues[1].name, "白\u{2060}羽");
    d.validate().unwrap();

    let bad = |f: fn(&mut SessionDef)| {
        let mut d = def();
        f(&mut d);
        (d.clone().normalize().unwrap_err(), d.validate().unwrap_err())
    };
    let (a, b) = bad(|d| d.title = "\u{FEFF}\u{200D}".into());
    assert_eq!((a, b), (DefinitionError::EmptyTitle, DefinitionError::EmptyTitle));
    let (a, b) = bad(|d| d.title = "问政\u{202E}".into());
    assert_eq!(a, b);
    assert_eq!(a.to_string(), "title contains the bidirectional formatting character U+202E");
    let (a, _) = bad(|d| d.units[0].name = "交通\u{7F}局".into());
    assert_eq!(a.to_string(), format!("unit {} name contains the control character U+007F", UNITS[0]));
    let (a, _) = bad(|d| d.topics[0].name = "\u{200B}".into());
    assert_eq!(a, DefinitionError::EmptyName { kind: "topic", id: TOPICS[0].into() });
    let (a, _) = bad(|d| d.delegates[0].name = "赵\t安华".into());
    assert_eq!(a.to_string(), "delegate d01 name contains the control character U+0009");
}
