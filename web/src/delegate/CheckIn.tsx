// The delegate's check-in banner (issue 10): what the phone says and offers
// before the delegate is checked in, by the session's check-in policy.

import type { Connection } from '../lib/connection.ts';
import { t } from '../lib/i18n/index.ts';
import { delegateName, type SessionState } from '../lib/state.ts';
import { formatClock } from '../lib/time.ts';
import { checkInStep, venueRequests } from './checkin.ts';

export function CheckInBanner({ conn, state }: { conn: Connection; state: SessionState }) {
  const m = t();
  const step = checkInStep(state);
  const me = state.you.delegate;
  if (step.kind === 'none' || !me) return null;
  const sending = conn.outbox.entries.value.some((e) => e.cmd.type === 'check_in' || e.cmd.type === 'request_check_in');
  return (
    <div class="banner banner-warn" role="status" data-check-in={step.kind}>
      <span>{m.delegate.notCheckedIn}</span>
      {step.kind === 'desk' && <strong>{m.delegate.checkInAtDesk}</strong>}
      {step.kind === 'requested' && <strong>{m.delegate.checkInRequested}</strong>}
      {step.kind === 'request' && step.declined !== undefined && <strong data-declined>{m.delegate.checkInDeclined(step.declined)}</strong>}
      {step.kind === 'self' && (
        <button type="button" class="small primary" disabled={sending} onClick={() => void conn.send({ type: 'check_in', delegate: me })}>
          {sending ? m.common.waiting : m.delegate.checkInSelf}
        </button>
      )}
      {step.kind === 'request' && (
        <button type="button" class="small primary" disabled={sending} onClick={() => void conn.send({ type: 'request_check_in' })}>
          {sending ? m.common.waiting : m.delegate.checkInRequest}
        </button>
      )}
    </div>
  );
}

/**
 * The station's pending check-in requests (policy `confirmed`), oldest
 * first, on top of its roster: 确认 checks the delegate in, 拒绝 declines
 * with an optional reason the delegate sees.
 */
export function StationRequests({ conn, state, venue }: { conn: Connection; state: SessionState; venue: string }) {
  const m = t();
  const requests = venueRequests(state, venue);
  if (requests.length === 0) return null;
  const name = (id: string) => delegateName(state, id);
  const sending = new Set(
    conn.outbox.entries.value.flatMap((e) => (e.cmd.type === 'check_in' || e.cmd.type === 'decline_check_in' ? [e.cmd.delegate] : [])),
  );
  return (
    <section class="check-in-requests" aria-labelledby="check-in-requests-h">
      <h3 id="check-in-requests-h">{m.delegate.roster.requests(requests.length)}</h3>
      <ul class="roster">
        {requests.map((r) => (
          <li key={r.delegate} data-request={r.delegate}>
            <span class="who">
              <strong>{name(r.delegate)}</strong> <span class="muted small">{m.delegate.roster.requestedAt(formatClock(r.at, m.locale))}</span>
            </span>
            <span class="actions">
              <button
                type="button"
                class="small primary"
                disabled={sending.has(r.delegate)}
                aria-label={`${m.delegate.roster.confirm} ${name(r.delegate)}`}
                onClick={() => void conn.send({ type: 'check_in', delegate: r.delegate })}
              >
                {m.delegate.roster.confirm}
              </button>{' '}
              <button
                type="button"
                class="small"
                disabled={sending.has(r.delegate)}
                aria-label={`${m.delegate.roster.decline} ${name(r.delegate)}`}
                onClick={() => {
                  // Cancelling the prompt keeps the request; an empty reason is none.
                  const reason = window.prompt(m.delegate.roster.declineReason(name(r.delegate)), '');
                  if (reason === null) return;
                  const text = reason.trim();
                  void conn.send({ type: 'decline_check_in', delegate: r.delegate, ...(text ? { reason: text } : {}) });
                }}
              >
                {m.delegate.roster.decline}
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
