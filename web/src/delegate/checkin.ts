// What the delegate's phone offers for check-in (issue 10), by the session's
// check-in policy: pure, so it is unit-tested without a page.

import type { SessionState } from '../lib/state.ts';

/** The phases in which delegates are checked in (late arrivals too). */
export const CHECK_IN_PHASES = ['check_in', 'questioning', 'evaluation'];

export type CheckInStep =
  /** Nothing to show: checked in, not a delegate, or check-in is not open. */
  | { kind: 'none' }
  /** Policy `operator`: go to the venue's check-in desk (no button). */
  | { kind: 'desk' }
  /** Policy `self`: the button checks the delegate in. */
  | { kind: 'self' }
  /** Policy `confirmed`: the button asks; `declined` is the last refusal's reason. */
  | { kind: 'request'; declined?: string }
  /** Policy `confirmed`, asked: waiting for the station. */
  | { kind: 'requested' };

export function checkInStep(state: SessionState): CheckInStep {
  const me = state.you.delegate;
  if (state.you.role !== 'delegate' || !me || me in state.checkedIn) return { kind: 'none' };
  if (!CHECK_IN_PHASES.includes(state.session.phase)) return { kind: 'none' };
  // A server from before check-in policies let delegates check themselves in.
  const policy = state.session.check_in ?? 'self';
  if (policy === 'operator') return { kind: 'desk' };
  if (policy === 'self') return { kind: 'self' };
  if (state.checkInRequests?.[me]) return { kind: 'requested' };
  const declined = state.checkInDeclined?.[me];
  return declined === undefined ? { kind: 'request' } : { kind: 'request', declined };
}

/** The pending requests of `venue`, oldest first (the station's queue). */
export function venueRequests(state: SessionState, venue: string) {
  return Object.values(state.checkInRequests ?? {})
    .filter((r) => r.venue === venue && !(r.delegate in state.checkedIn))
    .sort((a, b) => a.at - b.at || a.delegate.localeCompare(b.delegate));
}
