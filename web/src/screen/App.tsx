// screen.html: the public screen (大屏), 1920×1080, projector or TV.
// Public state only: the server never sends a delegate id here; the only
// names shown are those of who speaks on the floor, as the hall announces
// them (issue 10). The old frame stays until the next state
// is applied (the connection never clears its state on a disconnect).

import type { CountsDto, QuestionDto } from '../protocol.ts';
import { speakerLine } from '../lib/speakers.ts';
import type { Connection } from '../lib/connection.ts';
import { t } from '../lib/i18n/index.ts';
import { floorQuestion, isPublic, presentTotals, questionById, questionCountsByVenue, topicName, unitName, venueName, venueStats, type SessionState } from '../lib/state.ts';
import { formatClock, serverNow, useNow } from '../lib/time.ts';
import { ConnectionBadge, Countdown, FatalScreen, Loading } from '../lib/ui.tsx';
import { AnnouncementBanner } from '../lib/announce-ui.tsx';
import { shortVenue } from './common.ts';
import { LiveEvaluation, Results } from './Evaluation.tsx';
import { unitRow } from './breakdown.ts';

export { shortVenue, speakerLine };

type Mode = 'evaluation' | 'results' | 'floor' | 'idle' | 'closed';

export function mode(state: SessionState): Mode {
  if (state.evaluations.some((e) => e.status === 'open')) return 'evaluation';
  if (state.floor) return 'floor';
  // Closed: the closing summary (with the results), not the last round alone.
  if (state.session.phase === 'closed' || state.session.phase === 'archived') return 'closed';
  const last = state.evaluations[state.evaluations.length - 1];
  if (last?.results) return 'results';
  return 'idle';
}

/** What the closing summary counts: questions answered on the floor, follow-ups, commitments. */
export function closingFigures(state: Pick<SessionState, 'questions'>): { asked: number; followUps: number; commitments: number } {
  const asked = state.questions.filter((q) => q.status === 'answered');
  return {
    asked: asked.length,
    followUps: asked.reduce((a, q) => a + q.follow_ups.length, 0),
    commitments: asked.reduce((a, q) => a + (q.answer?.commitments.length ?? 0) + q.follow_ups.reduce((b, f) => b + (f.answer?.commitments.length ?? 0), 0), 0),
  };
}

export function App({ conn }: { conn: Connection }) {
  if (conn.fatal.value) return <FatalScreen conn={conn} />;
  const state = conn.state.value;
  if (!state) return <Loading />;
  const m = mode(state);
  return (
    <div class={`screen mode-${m}`} data-mode={m}>
      <Header conn={conn} state={state} />
      <AnnouncementBanner state={state} audience="screen" />
      <main class="screen-main">
        {m === 'evaluation' && <LiveEvaluation state={state} />}
        {m === 'results' && <Results state={state} ev={state.evaluations[state.evaluations.length - 1]} />}
        {m === 'closed' && <Closing state={state} />}
        {(m === 'floor' || m === 'idle') && (
          <div class="split">
            {m === 'floor' ? <Floor state={state} /> : <Idle state={state} />}
            <VenueTable state={state} />
          </div>
        )}
      </main>
    </div>
  );
}

function Header({ conn, state }: { conn: Connection; state: SessionState }) {
  const m = t();
  const now = useNow(1000).value;
  return (
    <header class="screen-head">
      <div class="screen-title">
        <span class="screen-brand">{m.app.name}</span>
        <h1>{state.session.title}</h1>
      </div>
      <div class="screen-status">
        <span class="screen-phase">{m.phases[state.session.phase]}</span>
        <span class="screen-clock">{formatClock(serverNow(state.clockOffset, now), m.locale)}</span>
        <ConnectionBadge conn={conn} />
      </div>
    </header>
  );
}

function Floor({ state }: { state: SessionState }) {
  const m = t();
  const floor = state.floor;
  const q = floorQuestion(state);
  if (!floor || !q) return <Idle state={state} />;
  const followUps = q.follow_ups.slice(-2);
  return (
    <section class="panel floor-panel" aria-labelledby="sf-h">
      <div class="floor-head">
        <h2 id="sf-h">{m.screen.onFloor}</h2>
        <div class="floor-count">
          <span class="floor-count-label">{m.screen.countdown}</span>
          <Countdown floor={floor} offset={state.clockOffset} class="screen-countdown" />
        </div>
      </div>
      <p class="floor-venue" data-floor-venue={floor.venue}>
        {venueName(state, floor.venue)}
      </p>
      {(floor.speakers?.length ?? 0) > 0 && (
        <p class="floor-speakers" data-floor-speakers>
          {m.screen.speakers(speakerLine(floor.speakers!))}
        </p>
      )}
      <p class="floor-meta">
        <span class="chip">{m.common.questionNo(q.id)}</span>
        <span class="chip">
          {m.common.topic}：{topicName(state, q.topic)}
        </span>
        <span class="chip">
          {m.common.unit}：{unitName(state, q.unit)}
        </span>
      </p>
      <p class="floor-text" data-floor-text>
        {q.text}
      </p>
      {q.answer && (
        <div class="floor-answer">
          <p class="floor-answer-head">
            {m.floor.answer} · {q.answer.official}
          </p>
          <p class="floor-answer-text">{q.answer.summary}</p>
          {q.answer.commitments.length > 0 && (
            <ul class="floor-commitments">
              {q.answer.commitments.map((c, i) => (
                <li key={i}>
                  {c.what}
                  <span class="due"> · {m.floor.due(c.due)}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {followUps.length > 0 && (
        <ul class="floor-follow-ups">
          {followUps.map((f) => (
            <li key={f.id}>
              <span class="chip chip-gold">
                {m.floor.followUpNo(f.id)} · {venueName(state, f.venue)}
              </span>
              <span class="fu-text">{f.text}</span>
              {f.answer && <span class="fu-answer">{f.answer.summary}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Idle({ state }: { state: SessionState }) {
  const m = t();
  const phase = state.session.phase;
  // The queue is the questioning's: before it and after it, it is not shown
  // (in the evaluation phase an unasked question is no longer coming).
  const next = (phase === 'questioning' || phase === 'check_in' ? state.queue : [])
    .map((id) => questionById(state, id))
    .filter((q): q is QuestionDto => q !== undefined)
    .slice(0, 4);
  const heading = phase === 'questioning' ? m.screen.waiting : phase === 'evaluation' ? m.screen.evaluationSoon : phase === 'check_in' ? m.screen.checkingIn : m.screen.idle;
  return (
    <section class="panel idle-panel" aria-labelledby="si-h" data-idle={phase}>
      <h2 id="si-h">{heading}</h2>
      <p class="idle-theme">{state.session.theme}</p>
      {phase === 'check_in' && <CheckInFigures state={state} />}
      {next.length > 0 && (
        <>
          <h3>{m.screen.queue}</h3>
          <ol class="idle-queue">
            {next.map((q) => (
              <li key={q.id}>
                <span class="chip">{q.venues.map((v) => venueName(state, v)).join('、')}</span>
                <span class="chip">{unitName(state, q.unit)}</span>
                <span class="iq-text">{q.text}</span>
              </li>
            ))}
          </ol>
        </>
      )}
      <CommitmentsBoard state={state} />
    </section>
  );
}

/** During check-in: how many have arrived, and at how many venues. */
function CheckInFigures({ state }: { state: SessionState }) {
  const m = t();
  const { present, roster } = presentTotals(state);
  const venues = state.stats.venues.filter((v) => v.present > 0).length;
  return (
    <dl class="closing-figures checkin-figures" data-checkin={`${present}/${roster}`}>
      <div>
        <dt>{m.screen.checkedIn}</dt>
        <dd>
          {present} / {roster}
        </dd>
      </div>
      <div>
        <dt>{m.screen.venuesArrived}</dt>
        <dd>
          {venues} / {state.session.venues.length}
        </dd>
      </div>
    </dl>
  );
}

/** Every commitment made on the floor so far, newest first (issue 10: they
 * used to vanish with the item). */
export function commitmentsMade(state: Pick<SessionState, 'questions'>): Array<{ what: string; unit: string; due: string; question: number }> {
  const out: Array<{ what: string; unit: string; due: string; question: number; at: number }> = [];
  for (const q of state.questions) {
    for (const a of [q.answer, ...q.follow_ups.map((f) => f.answer)]) {
      for (const c of a?.commitments ?? []) out.push({ what: c.what, unit: c.unit, due: c.due, question: q.id, at: a!.at });
    }
  }
  return out.sort((x, y) => y.at - x.at).map(({ at: _at, ...c }) => c);
}

function CommitmentsBoard({ state }: { state: SessionState }) {
  const m = t();
  const all = commitmentsMade(state);
  if (all.length === 0) return null;
  return (
    <div class="commitments-board" data-commitments={all.length}>
      <h3>{m.screen.commitmentsBoard(all.length)}</h3>
      <ul class="plain">
        {all.slice(0, 6).map((c, i) => (
          <li key={i}>
            <span class="chip">{unitName(state, c.unit)}</span> {c.what} <span class="due">· {m.floor.due(c.due)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** 本次代表问政活动已结束: what was asked and answered, the commitments, and every round's results. */
function Closing({ state }: { state: SessionState }) {
  const m = t();
  const f = closingFigures(state);
  const rounds = state.evaluations.filter((e) => e.results);
  return (
    <section class="panel closing-panel" aria-labelledby="sc-h" data-closing>
      <h2 id="sc-h">{m.screen.closed}</h2>
      <p class="idle-theme">{state.session.theme}</p>
      <dl class="closing-figures">
        <div data-figure="asked">
          <dt>{m.screen.closingAsked}</dt>
          <dd>{f.asked}</dd>
        </div>
        <div data-figure="follow-ups">
          <dt>{m.screen.closingFollowUps}</dt>
          <dd>{f.followUps}</dd>
        </div>
        <div data-figure="commitments">
          <dt>{m.screen.closingCommitments}</dt>
          <dd>{f.commitments}</dd>
        </div>
      </dl>
      {rounds.map((e) => (
        <div key={e.id} class="closing-results" data-round={e.id}>
          <h3>
            {m.screen.results}
            {rounds.length > 1 ? ` · ${m.screen.roundNo(e.id)}` : ''}
          </h3>
          <ul class="plain closing-rates">
            {e.results!.units.map((u) => (
              <li key={u.unit} data-result={u.unit}>
                <span>{unitName(state, u.unit)}</span>{' '}
                <strong>
                  {rateText(u.counts)}
                  {unitRow('', '', u.counts).hidden ? '' : ` · ${m.screen.peopleN(u.counts.total)}`}
                </strong>
              </li>
            ))}
          </ul>
        </div>
      ))}
      <p class="closing-next">{m.screen.closingNext}</p>
    </section>
  );
}

function VenueTable({ state }: { state: SessionState }) {
  const m = t();
  const counts = questionCountsByVenue(state);
  // A question with several venues counts once in the totals.
  const publicQs = state.questions.filter(isPublic);
  const received = publicQs.length;
  const answered = publicQs.filter((q) => q.status === 'answered').length;
  const { present, roster } = presentTotals(state);
  return (
    <section class="panel venues-panel" aria-labelledby="sv-h">
      <h2 id="sv-h">{m.screen.venues}</h2>
      <p class="venues-total" data-totals={`${received}/${answered}`}>
        {m.screen.totals(received, answered)}
      </p>
      {roster > 0 && (
        <p class="venues-total" data-present={`${present}/${roster}`}>
          {m.screen.presentTotal(present, roster)}
        </p>
      )}
      <table class="venues">
        <thead>
          <tr>
            <th scope="col">{m.common.venue}</th>
            <th scope="col">{m.screen.received}</th>
            <th scope="col">{m.screen.answered}</th>
            <th scope="col">{m.screen.present}</th>
          </tr>
        </thead>
        <tbody>
          {state.session.venues.map((v) => {
            const c = counts.get(v.id) ?? { received: 0, answered: 0 };
            const p = venueStats(state, v.id);
            return (
              <tr key={v.id} class={state.floor?.venue === v.id ? 'on-floor' : ''} data-venue={v.id}>
                <th scope="row">{shortVenue(v)}</th>
                <td data-received={c.received}>{c.received}</td>
                <td data-answered={c.answered}>{c.answered}</td>
                <td>{p ? `${p.present}/${p.roster}` : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

/** A unit's satisfaction rate as shown everywhere on the screen, or why there is none (fewer than 3 people). */
export function rateText(c: CountsDto): string {
  const m = t();
  if (c.suppressed || unitRow('', '', c).hidden) return m.screen.hiddenFew;
  return c.satisfaction_rate_bp === undefined ? m.common.noRate : m.common.percent(c.satisfaction_rate_bp);
}
