//! Drafting the list from the live session: what the office finds waiting
//! when the session closes (and whenever it asks before that).
//!
//! One draft per recorded commitment (承诺事项), with its unit and date; one
//! per answered question without any commitment (the answer is to be
//! confirmed in writing); one per approved question that never got its
//! answer on the floor (a written reply, 书面答复, is owed); and one per
//! follow-up the floor left unanswered. Each keeps its sources and askers.
//! Sources already in the list (in any item, merged drafts included) are not
//! drafted again, so drafting twice adds only what is new. A question's own
//! item (its written reply, or the confirmation of its answer) is drafted
//! once: a question drafted as unasked and answered on the floor later keeps
//! the draft it has (its commitments, being promises of their own, are
//! drafted as they come).

use super::{Assignments, DraftSpec, Source};
use crate::ids::{DelegateId, VenueId};
use crate::session::{Answer, Question, QuestionStatus, Session};
use std::collections::BTreeSet;

impl Assignments {
    /// The drafts `session` calls for that the list does not have yet, in
    /// question order.
    pub fn drafts_from(&self, session: &Session) -> Vec<DraftSpec> {
        let known: BTreeSet<&Source> = self.items.values().flat_map(|i| &i.sources).collect();
        let own_item = |q| known.iter().any(|s| matches!(s, Source::Unasked { question } | Source::Answer { question } if *question == q));
        let mut out = Vec::new();
        for q in session.questions() {
            for spec in drafts_of(session, q) {
                let new = spec.sources.iter().all(|s| match s {
                    Source::Unasked { question } | Source::Answer { question } => !own_item(*question),
                    other => !known.contains(other),
                });
                if new {
                    out.push(spec);
                }
            }
        }
        out
    }
}

/// The drafts one question calls for, whatever is already drafted.
fn drafts_of(session: &Session, q: &Question) -> Vec<DraftSpec> {
    let askers = askers_of(session, q);
    let draft = |source: Source, lead: &crate::ids::UnitId, requirement: &str, deadline| DraftSpec {
        sources: vec![source],
        askers: askers.clone(),
        lead: lead.clone(),
        requirement: requirement.to_owned(),
        deadline,
    };
    match q.status {
        QuestionStatus::Pending | QuestionStatus::Rejected | QuestionStatus::Merged => Vec::new(),
        // Approved but never answered on the floor: a written reply is owed.
        QuestionStatus::Approved | QuestionStatus::Queued | QuestionStatus::OnFloor if q.answer.is_none() => {
            let mut out = vec![draft(Source::Unasked { question: q.id }, &q.unit, &q.text, None)];
            out.extend(open_follow_ups(q, &draft));
            out
        }
        _ => {
            let mut out = Vec::new();
            let answers =
                q.answer.iter().map(|a| (None, a)).chain(q.follow_ups.iter().filter_map(|f| f.answer.as_ref().map(|a| (Some(f.id), a))));
            for (follow_up, a) in answers {
                out.extend(commitments(q, follow_up, a, &draft));
            }
            if out.is_empty()
                && let Some(a) = &q.answer
            {
                out.push(draft(Source::Answer { question: q.id }, &a.unit, &a.summary, None));
            }
            out.extend(open_follow_ups(q, &draft));
            out
        }
    }
}

type Draft<'a> = dyn Fn(Source, &crate::ids::UnitId, &str, Option<crate::ids::CalendarDate>) -> DraftSpec + 'a;

fn commitments(q: &Question, follow_up: Option<crate::ids::FollowUpId>, a: &Answer, draft: &Draft<'_>) -> Vec<DraftSpec> {
    a.commitments
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let index = u16::try_from(i).unwrap_or(u16::MAX);
            draft(Source::Commitment { question: q.id, follow_up, index }, &c.unit, &c.what, Some(c.due))
        })
        .collect()
}

/// Follow-ups without an answer: the unit owes one in writing. Their askers
/// are the follow-up's, not the question's.
fn open_follow_ups(q: &Question, draft: &Draft<'_>) -> Vec<DraftSpec> {
    q.follow_ups
        .iter()
        .filter(|f| f.answer.is_none())
        .map(|f| {
            let mut spec = draft(Source::FollowUp { question: q.id, follow_up: f.id }, &q.unit, &f.text, None);
            spec.askers = vec![(f.asker.clone(), f.venue.clone())];
            spec
        })
        .collect()
}

/// The question's askers with their venues (merging kept every asker).
fn askers_of(session: &Session, q: &Question) -> Vec<(DelegateId, VenueId)> {
    q.askers.iter().filter_map(|d| session.delegate(d).map(|x| (d.clone(), x.venue.clone()))).collect()
}
