import { describe, expect, it } from 'vitest';
import type { EvaluationDto } from '../protocol.ts';
import { EPOCH, event, question, snapshot, stats } from './fixtures.test-util.ts';
import {
  applyEvent,
  applyMessage,
  applySnapshot,
  applyStats,
  currentEvaluation,
  floorQuestion,
  questionCountsByVenue,
  resumePosition,
  type SessionState,
} from './state.ts';

const at = 1_767_225_600_000;

function base(seq = 10): SessionState {
  return applySnapshot(snapshot(seq), at + seq * 1000);
}

describe('applySnapshot', () => {
  it('replaces everything and records seq and the clock offset', () => {
    const s = applySnapshot(snapshot(10, { floor: { question: 1, venue: 'baiyu', granted_at: 1, countdown_started_at: 2, countdown_seconds: 300 } }), at + 10_000 - 250);
    expect(s.seq).toBe(10);
    expect(s.clockOffset).toBe(250);
    expect(s.you.delegate).toBe('d002');
    expect(s.checkedIn).toEqual({ d002: 0 });
    expect(s.floor?.question).toBe(1);
    expect(floorQuestion(s)?.id).toBe(1);
  });

  it('a later snapshot replaces the state even with a lower seq (server restart)', () => {
    let s: SessionState | null = base(50);
    s = applyMessage(s, snapshot(5, { questions: [] }));
    expect(s?.seq).toBe(5);
    expect(s?.questions).toEqual([]);
  });

  it('floor is null when the snapshot omits it', () => {
    expect(base().floor).toBeNull();
  });

  it('keeps the epoch; a snapshot of another epoch replaces it', () => {
    let s: SessionState | null = base(50);
    expect(s.epoch).toBe(EPOCH);
    s = applyMessage(s, snapshot(2, { epoch: 'fedcba9876543210' }));
    expect(s?.epoch).toBe('fedcba9876543210');
    expect(s?.seq).toBe(2);
  });
});

describe('resumePosition', () => {
  it('is (epoch, seq) of a state, advanced by events, stats and acks', () => {
    let s: SessionState | null = base(10);
    expect(resumePosition(s)).toEqual({ epoch: EPOCH, seq: 10 });
    s = applyMessage(s, event(12, 'phase_changed', [{ entity: 'phase', phase: 'evaluation' }]));
    s = applyMessage(s, { type: 'ack', id: 'x', seq: 13 });
    expect(resumePosition(s)).toEqual({ epoch: EPOCH, seq: 13 });
  });

  it('is null without a state, without an epoch, or with an unusable one', () => {
    expect(resumePosition(null)).toBeNull();
    const s = base(10);
    expect(resumePosition({ ...s, epoch: undefined })).toBeNull();
    expect(resumePosition({ ...s, epoch: 'ABCDEF0123456789' })).toBeNull();
    expect(resumePosition({ ...s, seq: 1.5 })).toBeNull();
    expect(resumePosition({ ...s, seq: -1 })).toBeNull();
  });
});

describe('applyEvent', () => {
  it('upserts a question by id and keeps id order', () => {
    let s = base();
    s = applyEvent(s, event(11, 'question_submitted', [{ entity: 'question', question: question(3, { status: 'pending' }) }]));
    s = applyEvent(s, event(12, 'question_submitted', [{ entity: 'question', question: question(2) }]));
    expect(s.questions.map((q) => q.id)).toEqual([1, 2, 3]);
    s = applyEvent(s, event(13, 'question_approved', [{ entity: 'question', question: question(3, { status: 'approved', text: '新' }) }]));
    expect(s.questions.find((q) => q.id === 3)).toMatchObject({ status: 'approved', text: '新' });
    expect(s.questions).toHaveLength(3);
    expect(s.seq).toBe(13);
  });

  it('replaces a question wholesale (never merges fields)', () => {
    let s = applySnapshot(snapshot(10, { questions: [question(1, { seconded_by_me: true, reject_reason: 'x' })] }));
    s = applyEvent(s, event(11, 'question_edited', [{ entity: 'question', question: question(1) }]));
    expect(s.questions[0].seconded_by_me).toBeUndefined();
    expect(s.questions[0].reject_reason).toBeUndefined();
  });

  it('applies queue, floor, floor_requests, phase', () => {
    let s = base();
    s = applyEvent(s, event(11, 'question_queued', [{ entity: 'queue', order: [1] }]));
    s = applyEvent(s, event(12, 'floor_requested', [{ entity: 'floor_requests', requests: [{ question: 1, venue: 'baiyu', at: 5 }] }]));
    expect(s.queue).toEqual([1]);
    expect(s.floorRequests).toHaveLength(1);
    const floor = { question: 1, venue: 'baiyu', granted_at: 6, countdown_started_at: 6, countdown_seconds: 300 };
    s = applyEvent(s, event(13, 'floor_granted', [
      { entity: 'question', question: question(1, { status: 'on_floor' }) },
      { entity: 'floor', floor },
      { entity: 'queue', order: [] },
      { entity: 'floor_requests', requests: [] },
    ]));
    expect(s.floor).toEqual(floor);
    expect(s.queue).toEqual([]);
    expect(s.floorRequests).toEqual([]);
    s = applyEvent(s, event(14, 'floor_ended', [{ entity: 'question', question: question(1, { status: 'answered' }) }, { entity: 'floor', floor: null }]));
    expect(s.floor).toBeNull();
    s = applyEvent(s, event(15, 'phase_changed', [{ entity: 'phase', phase: 'evaluation' }]));
    expect(s.session.phase).toBe('evaluation');
  });

  it('applies check_in, presence (into stats) and roster', () => {
    let s = base();
    s = applyEvent(s, event(11, 'checked_in', [
      { entity: 'check_in', delegate: 'd003', venue: 'baiyu', at: 99 },
      { entity: 'presence', venue: 'baiyu', present: 2, roster: 2 },
    ]));
    expect(s.checkedIn.d003).toBe(99);
    expect(s.stats.venues.find((v) => v.venue === 'baiyu')).toEqual({ venue: 'baiyu', present: 2, roster: 2 });
    s = applyEvent(s, event(12, 'delegates_imported', [
      { entity: 'roster', delegates: [{ id: 'd009', name: '吴芳', level: 'township', venue: 'baiyu' }, { id: 'd002', name: '钱秀英2', level: 'city', venue: 'baiyu' }] },
      { entity: 'presence', venue: 'qiaotou', present: 0, roster: 3 },
    ]));
    expect(s.delegates.map((d) => d.id)).toEqual(['d002', 'd009']);
    expect(s.delegates[0].name).toBe('钱秀英2');
    expect(s.stats.venues.map((v) => v.venue)).toEqual(['main', 'baiyu', 'qiaotou']);
  });

  it('presence keeps the moderator-only connections count', () => {
    let s = applySnapshot(snapshot(10, { stats: stats(10, { venues: [{ venue: 'baiyu', present: 0, roster: 2, connections: 3 }] }) }));
    s = applyEvent(s, event(11, 'checked_in', [{ entity: 'presence', venue: 'baiyu', present: 1, roster: 2 }]));
    expect(s.stats.venues[0]).toEqual({ venue: 'baiyu', present: 1, roster: 2, connections: 3 });
  });

  it('upserts evaluations by id and ballots by (evaluation, unit)', () => {
    const ev: EvaluationDto = { id: 1, units: ['minzheng', 'weijian'], status: 'open', opened_at: 1 };
    let s = base();
    s = applyEvent(s, event(11, 'evaluation_opened', [{ entity: 'evaluation', evaluation: ev }]));
    const receipt = { evaluation: 1, unit: 'minzheng', ballot_id: 'b1', rating: 'satisfied' as const, seq: 12, at: 2, code: 'abcd' };
    s = applyEvent(s, event(12, 'ballot_cast', [{ entity: 'ballot', ballot: { delegate: 'd002', venue: 'baiyu', receipt } }]));
    s = applyEvent(s, event(13, 'ballot_cast', [{ entity: 'ballot', ballot: { delegate: 'd002', venue: 'baiyu', receipt: { ...receipt, unit: 'weijian', ballot_id: 'b2', seq: 13 } } }]));
    expect(s.ballots).toHaveLength(2);
    expect(currentEvaluation(s)?.status).toBe('open');
    s = applyEvent(s, event(14, 'evaluation_closed', [{ entity: 'evaluation', evaluation: { ...ev, status: 'closed', closed_at: 3 } }]));
    expect(s.evaluations).toHaveLength(1);
    expect(currentEvaluation(s)?.status).toBe('closed');
  });

  it('ignores duplicate events (seq <= last applied) and returns the same object', () => {
    let s = base();
    const e = event(11, 'question_approved', [{ entity: 'question', question: question(1, { text: 'A' }) }]);
    s = applyEvent(s, e);
    const again = applyEvent(s, e);
    expect(again).toBe(s);
    const older = applyEvent(s, event(9, 'question_approved', [{ entity: 'question', question: question(1, { text: 'old' }) }]));
    expect(older).toBe(s);
    expect(s.questions[0].text).toBe('A');
  });

  it('out-of-order: an event older than the snapshot is ignored, gaps are fine', () => {
    let s = base(20);
    s = applyEvent(s, event(15, 'question_approved', [{ entity: 'question', question: question(1, { text: 'stale' }) }]));
    expect(s.questions[0].text).toBe('问题 1');
    // A client sees only what it may see: seq values can skip.
    s = applyEvent(s, event(27, 'question_approved', [{ entity: 'question', question: question(1, { text: 'new' }) }]));
    expect(s.seq).toBe(27);
    s = applyEvent(s, event(25, 'question_approved', [{ entity: 'question', question: question(1, { text: 'late' }) }]));
    expect(s.questions[0].text).toBe('new');
  });

  it('ignores unknown change entities (a newer server)', () => {
    const s = base();
    const next = applyEvent(s, event(11, 'phase_changed', [{ entity: 'announcement', text: 'x' } as never]));
    expect(next.seq).toBe(11);
    expect(next.questions).toBe(s.questions);
  });

  it('never mutates the previous state', () => {
    const s = base();
    const frozen = JSON.stringify(s);
    applyEvent(s, event(11, 'question_submitted', [{ entity: 'question', question: question(2) }]));
    applyEvent(s, event(12, 'checked_in', [{ entity: 'check_in', delegate: 'd1', venue: 'main', at: 1 }, { entity: 'presence', venue: 'main', present: 2, roster: 2 }]));
    expect(JSON.stringify(s)).toBe(frozen);
  });
});

describe('applyStats', () => {
  it('latest wins; an older stats message is ignored', () => {
    let s = base(10);
    s = applyStats(s, stats(14, { venues: [{ venue: 'main', present: 9, roster: 9 }] }), at + 14_000);
    expect(s.stats.seq).toBe(14);
    expect(s.seq).toBe(14);
    const older = applyStats(s, stats(12, { venues: [] }));
    expect(older).toBe(s);
  });

  it('updates the clock offset', () => {
    const s = applyStats(base(10), stats(11), at + 11_000 + 400);
    expect(s.clockOffset).toBe(-400);
  });
});

describe('applyMessage', () => {
  it('ignores everything but a snapshot before the first snapshot', () => {
    expect(applyMessage(null, event(1, 'phase_changed', [{ entity: 'phase', phase: 'check_in' }]))).toBeNull();
    expect(applyMessage(null, { type: 'stats', ...stats(3) })).toBeNull();
  });

  it('acks advance seq (safe resume point); errors change nothing', () => {
    let s: SessionState | null = base(10);
    s = applyMessage(s, { type: 'ack', id: 'x', seq: 12 });
    expect(s?.seq).toBe(12);
    const same = applyMessage(s, { type: 'error', id: 'y', code: 'invalid', message: 'm', retryable: false });
    expect(same).toBe(s);
  });

  it('resume: snapshot at N then the missed events and stats equals a fresh snapshot', () => {
    const q2 = question(2, { status: 'queued' });
    const full = applySnapshot(snapshot(13, { questions: [question(1), q2], queue: [2], stats: stats(13) }), at);
    let resumed: SessionState | null = applySnapshot(snapshot(10), at);
    for (const m of [
      event(11, 'question_approved', [{ entity: 'question', question: question(2) }]),
      event(12, 'question_queued', [{ entity: 'question', question: q2 }, { entity: 'queue', order: [2] }]),
      event(11, 'question_approved', [{ entity: 'question', question: question(2) }]), // duplicate on the wire
      { type: 'stats' as const, ...stats(13) },
    ]) {
      resumed = applyMessage(resumed, m, at);
    }
    expect(resumed?.questions).toEqual(full.questions);
    expect(resumed?.queue).toEqual(full.queue);
    expect(resumed?.seq).toBe(full.seq);
  });
});

describe('selectors', () => {
  it('counts public questions received / answered per venue', () => {
    const s = applySnapshot(
      snapshot(10, {
        questions: [
          question(1, { status: 'answered', venues: ['baiyu'] }),
          question(2, { status: 'queued', venues: ['baiyu', 'main'] }),
          question(3, { status: 'pending', venues: ['main'] }),
          question(4, { status: 'rejected', venues: ['main'] }),
        ],
      }),
    );
    const c = questionCountsByVenue(s);
    expect(c.get('baiyu')).toEqual({ received: 2, answered: 1 });
    expect(c.get('main')).toEqual({ received: 1, answered: 0 });
  });
});
