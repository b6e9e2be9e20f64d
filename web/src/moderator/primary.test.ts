import { describe, expect, it } from 'vitest';
import type { EvaluationDto, Phase, SnapshotDto } from '../protocol.ts';
import { question, snapshot, stats } from '../lib/fixtures.test-util.ts';
import { applySnapshot } from '../lib/state.ts';
import { primaryAction } from './primary.ts';

const MOD = { role: 'moderator' as const, name: '主会场', venue: 'main' };

function state(phase: Phase, over: Partial<SnapshotDto> = {}) {
  const snap = snapshot(10, { you: MOD, questions: [], ...over });
  return applySnapshot({ ...snap, session: { ...snap.session, phase } });
}

const floor = { question: 2, venue: 'baiyu', granted_at: 0, countdown_started_at: 0, countdown_seconds: 300 };
const answer = { unit: 'minzheng', official: '局长', summary: '已答复', commitments: [], at: 0 };
const round = (id: number, status: EvaluationDto['status'], units = ['minzheng']): EvaluationDto => ({ id, units, status, opened_at: 0 });

describe('the primary action of each phase', () => {
  it('before and during check-in: move on to the next phase', () => {
    expect(primaryAction(state('preparing'))).toEqual({ kind: 'advance', to: 'check_in' });
    expect(primaryAction(state('check_in'))).toEqual({ kind: 'advance', to: 'questioning' });
  });

  it('questioning, floor free: the head of the queue goes on, with the venue that asked for the floor', () => {
    const s = state('questioning', {
      questions: [question(1), question(2, { status: 'queued', venues: ['main', 'baiyu'] }), question(3, { status: 'queued' })],
      queue: [2, 3],
      floor_requests: [{ question: 2, venue: 'baiyu', at: 0 }],
    });
    expect(primaryAction(s)).toEqual({ kind: 'grant', question: 2, venue: 'baiyu' });
  });

  it('questioning, nothing queued: the oldest approved question is next', () => {
    expect(primaryAction(state('questioning', { questions: [question(4, { status: 'pending' }), question(5)] }))).toEqual({ kind: 'grant', question: 5, venue: 'baiyu' });
  });

  it('questioning, a question on the floor: end the item, naming the answers still missing', () => {
    const q = question(2, { status: 'on_floor', follow_ups: [{ id: 7, venue: 'baiyu', text: '追问', at: 0, by_operator: false }] });
    expect(primaryAction(state('questioning', { questions: [q], floor }))).toEqual({
      kind: 'end_floor',
      question: 2,
      missing: [{ kind: 'question' }, { kind: 'follow_up', id: 7 }],
    });
    const done = question(2, { status: 'on_floor', answer, follow_ups: [{ id: 7, venue: 'baiyu', text: '追问', at: 0, by_operator: false, answer }] });
    expect(primaryAction(state('questioning', { questions: [done], floor }))).toEqual({ kind: 'end_floor', question: 2, missing: [] });
  });

  it('questioning, only questions awaiting review: review them', () => {
    const s = state('questioning', { questions: [question(1, { status: 'pending' }), question(2, { status: 'pending' }), question(3, { status: 'answered' })] });
    expect(primaryAction(s)).toEqual({ kind: 'review', pending: 2 });
  });

  it('questioning, nothing left to ask or review: on to the evaluation', () => {
    expect(primaryAction(state('questioning', { questions: [question(3, { status: 'answered', answer })] }))).toEqual({ kind: 'advance', to: 'evaluation' });
  });

  it('evaluation with a round open: close it, with the live turnout of that round', () => {
    const turnout = { voted: 11, eligible: 14, by_venue: [] };
    const s = state('evaluation', {
      evaluations: [round(1, 'closed'), round(2, 'open', ['weijian'])],
      stats: stats(10, { evaluation: { evaluation: 2, turnout, ballots_by_unit: [] } }),
    });
    expect(primaryAction(s)).toEqual({ kind: 'close_evaluation', evaluation: 2, turnout });
    // Stats of another round are not this round's turnout.
    const stale = state('evaluation', { evaluations: [round(2, 'open')], stats: stats(10, { evaluation: { evaluation: 1, turnout, ballots_by_unit: [] } }) });
    expect(primaryAction(stale)).toEqual({ kind: 'close_evaluation', evaluation: 2, turnout: null });
  });

  it('evaluation, no round yet: choose the units and open one', () => {
    const s = state('evaluation', { questions: [question(1, { status: 'answered', answer })] });
    expect(primaryAction(s)).toEqual({ kind: 'open_evaluation', units: 1 });
  });

  it('after a close: another round while answering units are unrated, else on to the close of the session', () => {
    const answered = [question(1, { status: 'answered', answer }), question(2, { status: 'answered', answer: { ...answer, unit: 'weijian' } })];
    expect(primaryAction(state('evaluation', { questions: answered, evaluations: [round(1, 'closed', ['minzheng'])] }))).toEqual({ kind: 'open_evaluation', units: 1 });
    expect(primaryAction(state('evaluation', { questions: answered, evaluations: [round(1, 'closed', ['minzheng', 'weijian'])] }))).toEqual({ kind: 'advance', to: 'closed' });
  });

  it('after the session: the documents', () => {
    expect(primaryAction(state('closed'))).toEqual({ kind: 'documents' });
    expect(primaryAction(state('archived'))).toEqual({ kind: 'documents' });
  });
});
