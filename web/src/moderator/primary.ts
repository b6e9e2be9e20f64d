// The primary action of the session's current phase (issue 10: “结束测评并揭晓
// 结果” was at the bottom, below two 20-row tables). The console's action bar
// (Dock.tsx) keeps it in view; the actions themselves are the console's own
// (the same commands, handlers and confirmations). Pure: unit-tested in
// primary.test.ts.

import type { Phase, TurnoutDto } from '../protocol.ts';
import type { SessionState } from '../lib/state.ts';
import { defaultEvaluationUnits, floorCandidates, missingAnswers, nextPhase, suggestedVenue, type Missing } from './logic.ts';

export type PrimaryAction =
  /** Move the session on (check-in → questioning, …). */
  | { kind: 'advance'; to: Phase }
  /** Questions wait for review and none can go on the floor yet. */
  | { kind: 'review'; pending: number }
  /** The floor is free: the next question (head of the queue, else the oldest approved) goes on. */
  | { kind: 'grant'; question: number; venue: string }
  /** A question is on the floor: end it once every answer is recorded. */
  | { kind: 'end_floor'; question: number; missing: Missing[] }
  /** No round open and units still to rate: choose them and open a round. */
  | { kind: 'open_evaluation'; units: number }
  /** A round is open: close it and reveal the results, with the live turnout. */
  | { kind: 'close_evaluation'; evaluation: number; turnout: TurnoutDto | null }
  /** The live session is over: the documents and spreadsheets. */
  | { kind: 'documents' };

type State = Pick<SessionState, 'session' | 'questions' | 'queue' | 'floor' | 'floorRequests' | 'evaluations' | 'stats'>;

export function primaryAction(state: State): PrimaryAction {
  const phase = state.session.phase;
  switch (phase) {
    case 'preparing':
    case 'check_in':
      return { kind: 'advance', to: nextPhase(phase)! };
    case 'questioning':
      return questioningAction(state);
    case 'evaluation':
      return evaluationAction(state);
    case 'closed':
    case 'archived':
      return { kind: 'documents' };
  }
}

function questioningAction(state: State): PrimaryAction {
  const floor = state.floor;
  if (floor) {
    const q = state.questions.find((x) => x.id === floor.question);
    return { kind: 'end_floor', question: floor.question, missing: missingAnswers(q) };
  }
  const next = floorCandidates(state)[0];
  if (next) return { kind: 'grant', question: next.id, venue: suggestedVenue(next, state.floorRequests) };
  const pending = state.questions.filter((q) => q.status === 'pending').length;
  if (pending > 0) return { kind: 'review', pending };
  return { kind: 'advance', to: 'evaluation' };
}

function evaluationAction(state: State): PrimaryAction {
  const open = state.evaluations.find((e) => e.status === 'open');
  if (open) {
    const live = state.stats.evaluation;
    return { kind: 'close_evaluation', evaluation: open.id, turnout: live && live.evaluation === open.id ? live.turnout : null };
  }
  // Before the first round every unit may be chosen; after one, only units
  // that answered and were not rated yet are offered by default.
  const units = defaultEvaluationUnits(state).length;
  if (state.evaluations.length === 0 || units > 0) return { kind: 'open_evaluation', units };
  return { kind: 'advance', to: 'closed' };
}
