// screen.html: the public screen (大屏), 1920×1080, projector or TV.
// Public state only: the server never sends a delegate identity here, and
// nothing identifying is displayed. The old frame stays until the next state
// is applied (the connection never clears its state on a disconnect).

import { useEffect, useMemo, useState } from 'preact/hooks';
import type { CountsDto, EvaluationDto, LiveEvaluationDto, QuestionDto, VenueDto } from '../protocol.ts';
import type { Connection } from '../lib/connection.ts';
import { t } from '../lib/i18n/index.ts';
import { floorQuestion, isPublic, questionById, questionCountsByVenue, topicName, unitName, venueName, venueStats, type SessionState } from '../lib/state.ts';
import { formatClock, serverNow, useNow } from '../lib/time.ts';
import { ConnectionBadge, Countdown, FatalScreen, Loading } from '../lib/ui.tsx';
import { aggregateCells, gaugeOption, LEVEL_ORDER, stackedOption, turnoutOption, type Labels, type Row } from './charts.ts';
import { EChart } from './EChart.tsx';
import { AnnouncementBanner } from '../lib/announce-ui.tsx';

/** 1 "unit" = 1/120 of the viewport width (16 px at 1920): charts scale with the screen. */
function useUnit(): number {
  const [u, setU] = useState(() => (typeof window === 'undefined' ? 16 : window.innerWidth / 120));
  useEffect(() => {
    const on = () => setU(window.innerWidth / 120);
    window.addEventListener('resize', on);
    return () => window.removeEventListener('resize', on);
  }, []);
  return u;
}

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
                  <span class="muted"> · {m.floor.due(c.due)}</span>
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
  const heading = phase === 'questioning' ? m.screen.waiting : phase === 'evaluation' ? m.screen.evaluationSoon : m.screen.idle;
  return (
    <section class="panel idle-panel" aria-labelledby="si-h" data-idle={phase}>
      <h2 id="si-h">{heading}</h2>
      <p class="idle-theme">{state.session.theme}</p>
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
            <span class="chip">{unitName(state, c.unit)}</span> {c.what} <span class="muted">· {m.floor.due(c.due)}</span>
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
                <span>{unitName(state, u.unit)}</span> <strong>{rateText(u.counts)}</strong>
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
  return (
    <section class="panel venues-panel" aria-labelledby="sv-h">
      <h2 id="sv-h">{m.screen.venues}</h2>
      <p class="venues-total" data-totals={`${received}/${answered}`}>
        {m.screen.totals(received, answered)}
      </p>
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

const EMPTY: CountsDto = { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 };

/** "白羽街道人大代表联络站" → "白羽街道" on the crowded table and charts; the main venue is "主会场". */
export function shortVenue(v: VenueDto): string {
  if (v.kind === 'main') return t().common.mainVenue;
  return v.name.replace(/(人大代表联络站|联络站)(分会场)?$/, '').replace(/分会场$/, '') || v.name;
}

/** The satisfaction rate as shown everywhere (or why there is none). */
export function rateText(c: CountsDto): string {
  const m = t().common;
  if (c.suppressed) return m.suppressed(c.total);
  return c.satisfaction_rate_bp === undefined ? m.noRate : m.percent(c.satisfaction_rate_bp);
}

function LiveEvaluation({ state }: { state: SessionState }) {
  const m = t();
  const unit = useUnit();
  const ev = state.evaluations.find((e) => e.status === 'open');
  const live: LiveEvaluationDto | undefined = state.stats.evaluation && ev && state.stats.evaluation.evaluation === ev.id ? state.stats.evaluation : undefined;
  const voted = live?.turnout.voted ?? 0;
  const eligible = live?.turnout.eligible ?? state.stats.venues.reduce((a, v) => a + v.present, 0);
  const rows = state.session.venues.map((v) => {
    const tv = live?.turnout.by_venue.find((x) => x.venue === v.id);
    return { label: shortVenue(v), voted: tv?.voted ?? 0, eligible: tv?.eligible ?? venueStats(state, v.id)?.present ?? 0 };
  });
  const gauge = useMemo(() => gaugeOption(voted, eligible, unit, m.screen.turnoutTotal), [voted, eligible, unit, m]);
  const bars = useMemo(() => turnoutOption(rows, unit), [JSON.stringify(rows), unit]);
  return (
    <div class="eval-grid">
      <section class="panel" aria-labelledby="se-h">
        <h2 id="se-h">{m.screen.evaluationLive}</h2>
        <EChart name="turnout-total" option={gauge} label={`${m.screen.turnoutTotal} ${voted}/${eligible}`} class="chart-gauge" />
        <p class="big-turnout" data-turnout={`${voted}/${eligible}`}>
          {m.delegate.evaluation.turnoutOf(voted, eligible)}
        </p>
        {ev && live && (
          <ul class="unit-ballots">
            {ev.units.map((u) => (
              <li key={u}>
                <span>{unitName(state, u)}</span>
                <strong>
                  {live.ballots_by_unit.find((b) => b.unit === u)?.ballots ?? 0} {m.screen.votes}
                </strong>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="panel" aria-labelledby="sev-h">
        <h2 id="sev-h">{m.screen.turnoutByVenue}</h2>
        <EChart name="turnout-venues" option={bars} label={m.screen.turnoutByVenue} class="chart-wide" />
      </section>
    </div>
  );
}

function Results({ state, ev }: { state: SessionState; ev: EvaluationDto }) {
  const m = t();
  const unit = useUnit();
  const r = ev.results;
  const labels: Labels = {
    satisfied: m.ratings.satisfied,
    basically_satisfied: m.ratings.basically_satisfied,
    dissatisfied: m.ratings.dissatisfied,
    rate: (c: CountsDto) => (c.suppressed ? m.common.suppressedTiny(c.total) : rateText(c)),
    suppressed: m.common.suppressedShort,
  };
  const byUnit: Row[] = (r?.units ?? []).map((u) => ({ label: unitName(state, u.unit), counts: u.counts }));
  const byVenue: Row[] = state.session.venues.map((v) => ({
    label: shortVenue(v),
    counts: aggregateCells((r?.units ?? []).map((u) => u.by_venue.find((x) => x.venue === v.id)?.counts ?? EMPTY)),
  }));
  const byLevel: Row[] = LEVEL_ORDER.map((l) => ({
    label: m.levels[l],
    counts: aggregateCells((r?.units ?? []).map((u) => u.by_level.find((x) => x.level === l)?.counts ?? EMPTY)),
  })).filter((row) => row.counts.total > 0);
  const key = `${ev.id}|${m.locale}|${unit}`;
  const unitsOpt = useMemo(() => stackedOption(byUnit, labels, unit), [key]);
  const venuesOpt = useMemo(() => stackedOption(byVenue, labels, unit * 0.8), [key]);
  const levelsOpt = useMemo(() => stackedOption(byLevel, labels, unit), [key]);
  return (
    <div class="results-grid" data-results={ev.id}>
      <section class="panel results-units" aria-labelledby="sr-h">
        <h2 id="sr-h">
          {m.screen.resultsByUnit}
          {r && <span class="results-turnout">{`${m.delegate.evaluation.turnout} ${m.delegate.evaluation.turnoutOf(r.turnout.voted, r.turnout.eligible)}`}</span>}
        </h2>
        <ul class="rate-cards">
          {byUnit.map((row, i) => (
            <li key={i} data-result={r?.units[i].unit}>
              <span class="rc-name">{row.label}</span>
              <span class="rc-rate">{labels.rate(row.counts)}</span>
              <span class="rc-counts">
                {m.ratings.satisfied} {row.counts.satisfied} · {m.ratings.basically_satisfied} {row.counts.basically_satisfied} · {m.ratings.dissatisfied}{' '}
                {row.counts.dissatisfied}
              </span>
            </li>
          ))}
        </ul>
        <EChart name="results-units" option={unitsOpt} label={m.screen.resultsByUnit} class="chart-units" />
      </section>
      <section class="panel results-levels" aria-labelledby="srl-h">
        <h2 id="srl-h">{m.screen.resultsByLevel}</h2>
        <EChart name="results-levels" option={levelsOpt} label={m.screen.resultsByLevel} class="chart-levels" />
      </section>
      <section class="panel results-venues" aria-labelledby="srv-h">
        <h2 id="srv-h">{m.screen.resultsByVenue}</h2>
        <EChart name="results-venues" option={venuesOpt} label={m.screen.resultsByVenue} class="chart-venues" />
      </section>
    </div>
  );
}
