// The satisfaction evaluation: one screen with every unit of the open
// evaluation (radio groups in fieldsets), one submit sending one cast_ballot
// per unit, receipts after the acks; turnout for operators; the revealed
// results after the close (CSS bars, no chart library on phones).

import { useState } from 'preact/hooks';
import type { CountsDto, EvaluationDto, Rating } from '../protocol.ts';
import type { Connection } from '../lib/connection.ts';
import { ballotId, setRating, type Drafts } from '../lib/drafts.ts';
import { t } from '../lib/i18n/index.ts';
import { notify } from '../lib/notices.ts';
import { ballotFor, delegateName, type SessionState, unitName, venueName, venueStats } from '../lib/state.ts';
import { Bar } from '../lib/ui.tsx';

export const RATINGS: Rating[] = ['satisfied', 'basically_satisfied', 'dissatisfied'];

export function EvaluationTab({ conn, state, drafts }: { conn: Connection; state: SessionState; drafts: Drafts }) {
  const m = t().delegate.evaluation;
  if (state.evaluations.length === 0) {
    return (
      <section class="card" aria-labelledby="ev-h">
        <h2 id="ev-h">{m.title}</h2>
        <p class="muted">{m.none}</p>
      </section>
    );
  }
  const list = [...state.evaluations].reverse();
  return (
    <>
      {list.map((ev) =>
        ev.status === 'open' ? (
          state.you.role === 'delegate' ? (
            <BallotForm key={ev.id} conn={conn} state={state} drafts={drafts} ev={ev} />
          ) : (
            <Turnout key={ev.id} state={state} ev={ev} />
          )
        ) : (
          <Results key={ev.id} state={state} ev={ev} />
        ),
      )}
    </>
  );
}

function BallotForm({ conn, state, drafts, ev }: { conn: Connection; state: SessionState; drafts: Drafts; ev: EvaluationDto }) {
  const m = t();
  const me = state.you.delegate ?? '';
  const [problem, setProblem] = useState<string | null>(null);
  const eligible = me in state.checkedIn;
  const draft = drafts.ballots.value[String(ev.id)] ?? {};
  const pendingFor = (unit: string) =>
    conn.outbox.entries.value.find((e) => e.cmd.type === 'cast_ballot' && e.cmd.evaluation === ev.id && e.cmd.unit === unit);
  const units = ev.units.map((unit) => {
    const cast = ballotFor(state, ev.id, unit);
    const pending = pendingFor(unit);
    const pendingRating = pending && pending.cmd.type === 'cast_ballot' ? pending.cmd.rating : undefined;
    return { unit, cast, pending: pending !== undefined, value: cast?.receipt.rating ?? pendingRating ?? draft[unit] };
  });
  const open = units.filter((u) => !u.cast && !u.pending);
  const receipts = units.filter((u) => u.cast);
  const done = open.length === 0 && units.every((u) => u.cast);

  const submit = (e: Event) => {
    e.preventDefault();
    const missing = open.filter((u) => !u.value);
    if (missing.length > 0) {
      setProblem(m.delegate.evaluation.incomplete(missing.length));
      document.getElementById(`ev${ev.id}-${missing[0].unit}`)?.focus();
      return;
    }
    setProblem(null);
    const online = conn.status.value === 'connected';
    for (const u of open) {
      void conn.send({
        type: 'cast_ballot',
        ballot_id: ballotId(conn.store, conn.key(''), ev.id, u.unit),
        evaluation: ev.id,
        unit: u.unit,
        rating: u.value as Rating,
      });
    }
    if (!online) notify(m.delegate.evaluation.sentOffline);
  };

  return (
    <section class="card evaluation" aria-labelledby={`ev${ev.id}-h`} data-evaluation={ev.id}>
      <h2 id={`ev${ev.id}-h`}>
        {m.delegate.evaluation.title} <span class="tag tag-on_floor">{m.delegate.evaluation.open}</span>
      </h2>
      {!eligible && !done ? (
        <p class="hint" role="note">
          {m.delegate.evaluation.notEligible}
        </p>
      ) : done ? (
        <p class="done" role="status">
          {m.delegate.evaluation.done}
        </p>
      ) : (
        <p class="muted">{m.delegate.evaluation.instructions}</p>
      )}
      <form onSubmit={submit} noValidate>
        {units.map((u) => {
          const name = unitName(state, u.unit);
          const locked = !!u.cast || u.pending || !eligible;
          return (
            <fieldset key={u.unit} class={`ballot ${u.cast ? 'ballot-cast' : u.pending ? 'ballot-pending' : ''}`} disabled={locked} data-unit={u.unit}>
              <legend>
                <span class="visually-hidden">{m.delegate.evaluation.unitLegend(name)}</span>
                <span aria-hidden="true">{name}</span>
              </legend>
              <div class="ratings">
                {RATINGS.map((r, i) => (
                  <label key={r} class={`rating rating-${r}`}>
                    <input
                      type="radio"
                      id={i === 0 ? `ev${ev.id}-${u.unit}` : undefined}
                      name={`ev${ev.id}-${u.unit}`}
                      value={r}
                      checked={u.value === r}
                      onChange={() => {
                        drafts.ballots.value = setRating(drafts.ballots.value, ev.id, u.unit, r);
                        setProblem(null);
                      }}
                    />
                    <span>{m.ratings[r]}</span>
                  </label>
                ))}
              </div>
              {u.cast && (
                <p class="receipt-line">
                  ✓ {m.delegate.evaluation.receiptCode} <code class="mono">{u.cast.receipt.code}</code>
                </p>
              )}
              {u.pending && <p class="hint">{m.delegate.evaluation.pendingSend}</p>}
            </fieldset>
          );
        })}
        {problem && (
          <p class="error" role="alert">
            {problem}
          </p>
        )}
        {eligible && open.length > 0 && (
          <button type="submit" class="primary block">
            {m.delegate.evaluation.submitAll(open.length)}
          </button>
        )}
      </form>
      {receipts.length > 0 && (
        <div class="receipts" aria-labelledby={`ev${ev.id}-receipts`}>
          <h3 id={`ev${ev.id}-receipts`}>{m.delegate.evaluation.receipts}</h3>
          <ul>
            {receipts.map((u) =>
              u.cast ? (
                <li key={u.unit} data-receipt={u.unit}>
                  <span>{unitName(state, u.unit)}</span> · <span>{m.ratings[u.cast.receipt.rating]}</span> ·{' '}
                  <code class="mono">{u.cast.receipt.code}</code>
                </li>
              ) : null,
            )}
          </ul>
          <p class="muted small">{m.delegate.evaluation.receiptHint}</p>
        </div>
      )}
    </section>
  );
}

function Turnout({ state, ev }: { state: SessionState; ev: EvaluationDto }) {
  const m = t();
  const live = state.stats.evaluation?.evaluation === ev.id ? state.stats.evaluation : undefined;
  const venue = state.you.venue;
  const mine = live?.turnout.by_venue.find((v) => v.venue === venue);
  const present = venue ? venueStats(state, venue) : undefined;
  return (
    <section class="card evaluation" aria-labelledby={`ev${ev.id}-h`} data-evaluation={ev.id}>
      <h2 id={`ev${ev.id}-h`}>
        {m.delegate.evaluation.title} <span class="tag tag-on_floor">{m.delegate.evaluation.open}</span>
      </h2>
      {venue && (
        <div class="turnout">
          <h3>
            {m.delegate.evaluation.venueTurnout} · {venueName(state, venue)}
          </h3>
          <p class="big-number" data-turnout-venue={venue}>
            {m.delegate.evaluation.turnoutOf(mine?.voted ?? 0, mine?.eligible ?? present?.present ?? 0)}
          </p>
          <Bar value={mine?.voted ?? 0} max={mine?.eligible ?? 0} />
          {live?.not_voted && (
            <p class="not-voted" data-not-voted={live.not_voted.length}>
              {live.not_voted.length === 0
                ? m.delegate.evaluation.allVoted
                : m.delegate.evaluation.notVoted(live.not_voted.map((d) => delegateName(state, d)).join('、'))}
            </p>
          )}
        </div>
      )}
      {live && (
        <div class="turnout">
          <h3>{m.delegate.evaluation.turnoutAll}</h3>
          <p>{m.delegate.evaluation.turnoutOf(live.turnout.voted, live.turnout.eligible)}</p>
          <Bar value={live.turnout.voted} max={live.turnout.eligible} />
          <h3>{m.delegate.evaluation.ballotsByUnit}</h3>
          <ul class="plain">
            {live.ballots_by_unit.map((b) => (
              <li key={b.unit}>
                {unitName(state, b.unit)}：{b.ballots}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function rate(c: CountsDto): string {
  const m = t().common;
  if (c.suppressed) return m.suppressed(c.total);
  return c.satisfaction_rate_bp === undefined ? m.noRate : m.percent(c.satisfaction_rate_bp);
}

function Results({ state, ev }: { state: SessionState; ev: EvaluationDto }) {
  const m = t();
  const r = ev.results;
  return (
    <section class="card evaluation" aria-labelledby={`ev${ev.id}-h`} data-evaluation={ev.id}>
      <h2 id={`ev${ev.id}-h`}>
        {m.delegate.evaluation.results} <span class="tag">{m.delegate.evaluation.evaluationNo(ev.id)}</span>
      </h2>
      {!r ? (
        <p class="muted">{m.delegate.evaluation.closed}</p>
      ) : (
        <>
          <p>
            {m.delegate.evaluation.turnout}：{m.delegate.evaluation.turnoutOf(r.turnout.voted, r.turnout.eligible)}
          </p>
          <ul class="results plain">
            {r.units.map((u) => (
              <li key={u.unit} class="result" data-result={u.unit}>
                <h3>
                  {unitName(state, u.unit)} <span class="rate">{m.delegate.evaluation.satisfactionRate} {rate(u.counts)}</span>
                </h3>
                {RATINGS.map((k) => (
                  <div key={k} class="result-row">
                    <span class="result-label">{m.ratings[k]}</span>
                    <Bar value={u.counts[k]} max={u.counts.total} tone={k === 'basically_satisfied' ? 'basically' : k} />
                    <span class="result-n">{u.counts[k]}</span>
                  </div>
                ))}
                <p class="muted small">
                  {m.delegate.evaluation.total} {u.counts.total}
                  {state.you.venue &&
                    u.by_venue
                      .filter((v) => v.venue === state.you.venue)
                      .map((v) => ` · ${venueName(state, v.venue)} ${rate(v.counts)}`)
                      .join('')}
                </p>
              </li>
            ))}
          </ul>
        </>
      )}
      <OwnReceipts state={state} ev={ev} />
    </section>
  );
}

/** A delegate's receipts of a closed evaluation (kept visible after the reveal). */
function OwnReceipts({ state, ev }: { state: SessionState; ev: EvaluationDto }) {
  const m = t();
  const mine = state.ballots.filter((b) => b.receipt.evaluation === ev.id);
  if (state.you.role !== 'delegate' || mine.length === 0) return null;
  return (
    <div class="receipts">
      <h3>{m.delegate.evaluation.receipts}</h3>
      <ul>
        {mine.map((b) => (
          <li key={b.receipt.unit} data-receipt={b.receipt.unit}>
            <span>{unitName(state, b.receipt.unit)}</span> · <span>{m.ratings[b.receipt.rating]}</span> · <code class="mono">{b.receipt.code}</code>
          </li>
        ))}
      </ul>
      <p class="small">
        <a href={`verify.html?session=${encodeURIComponent(state.session.id)}`} target="_blank" rel="noopener">
          {m.delegate.evaluation.verifyReceipts}
        </a>
      </p>
    </div>
  );
}
