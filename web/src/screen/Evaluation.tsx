// The screen while a ballot is open and once a round is revealed.

import { useMemo } from 'preact/hooks';
import type { CountsDto, EvaluationDto, LiveEvaluationDto } from '../protocol.ts';
import { t } from '../lib/i18n/index.ts';
import { presentTotals, unitName, venueStats, type SessionState } from '../lib/state.ts';
import { breakdownRows, unitRow, type ShownRow } from './breakdown.ts';
import { Legend, RatingBars, TurnoutBars } from './Bars.tsx';
import { gaugeOption, LEVEL_ORDER } from './charts.ts';
import { EChart } from './EChart.tsx';
import { shortVenue, useUnit } from './common.ts';

const EMPTY: CountsDto = { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 };

/**
 * The last revealed round before the open one, if any: it stays on the
 * screen while the next round is open, until that round is revealed (issue
 * 10: the moderator chooses by closing the next round).
 */
export function previousRound(state: Pick<SessionState, 'evaluations'>): EvaluationDto | undefined {
  const open = state.evaluations.find((e) => e.status === 'open');
  if (!open) return undefined;
  return state.evaluations.filter((e) => e.results && e.id < open.id).pop();
}

export function unitRows(state: SessionState, ev: EvaluationDto): ShownRow[] {
  return (ev.results?.units ?? []).map((u) => unitRow(u.unit, unitName(state, u.unit), u.counts));
}

export function venueRows(state: SessionState, ev: EvaluationDto): ShownRow[] {
  const units = ev.results?.units ?? [];
  return breakdownRows(
    state.session.venues.map((v) => ({
      key: v.id,
      label: shortVenue(v),
      cells: units.map((u) => u.by_venue.find((x) => x.venue === v.id)?.counts ?? EMPTY),
      people: ev.results?.turnout.by_venue.find((x) => x.venue === v.id)?.voted,
    })),
  );
}

export function levelRows(ev: EvaluationDto): ShownRow[] {
  const m = t();
  const units = ev.results?.units ?? [];
  return breakdownRows(
    LEVEL_ORDER.map((l) => ({ key: l, label: m.levels[l], cells: units.map((u) => u.by_level.find((x) => x.level === l)?.counts ?? EMPTY) })),
  ).filter((r) => r.people > 0);
}

export function LiveEvaluation({ state }: { state: SessionState }) {
  const m = t();
  const unit = useUnit();
  const ev = state.evaluations.find((e) => e.status === 'open');
  const prev = previousRound(state);
  const live: LiveEvaluationDto | undefined = state.stats.evaluation && ev && state.stats.evaluation.evaluation === ev.id ? state.stats.evaluation : undefined;
  const voted = live?.turnout.voted ?? 0;
  const eligible = live?.turnout.eligible ?? presentTotals(state).present;
  const rows = state.session.venues.map((v) => {
    const tv = live?.turnout.by_venue.find((x) => x.venue === v.id);
    return { key: v.id, label: shortVenue(v), voted: tv?.voted ?? 0, eligible: tv?.eligible ?? venueStats(state, v.id)?.present ?? 0 };
  });
  const gauge = useMemo(() => gaugeOption(voted, eligible, unit, m.screen.turnoutTotal), [voted, eligible, unit, m]);
  return (
    <div class={`eval-grid${prev ? ' with-previous' : ''}`}>
      <section class="panel eval-live" aria-labelledby="se-h">
          <h2 id="se-h">
            {m.screen.evaluationLive}
            {ev && state.evaluations.length > 1 ? ` · ${m.screen.roundNo(ev.id)}` : ''}
          </h2>
          <EChart name="turnout-total" option={gauge} label={`${m.screen.turnoutTotal} ${voted}/${eligible}`} class="chart-gauge" />
          <p class="big-turnout" data-turnout={`${voted}/${eligible}`}>
            <span class="big-turnout-label">{m.screen.turnoutTotal}</span> {m.delegate.evaluation.turnoutOf(voted, eligible)}
          </p>
          {ev && live && (
            <ul class="unit-ballots">
              {ev.units.map((u) => (
                <li key={u} data-unit-ballots={u}>
                  <span>{unitName(state, u)}</span>
                  <strong>{m.screen.ratedBy(live.ballots_by_unit.find((b) => b.unit === u)?.ballots ?? 0)}</strong>
                </li>
              ))}
            </ul>
          )}
      </section>
      {prev && <PreviousResults state={state} ev={prev} />}
      <section class="panel" aria-labelledby="sev-h">
        <h2 id="sev-h">{m.screen.turnoutByVenue}</h2>
        <TurnoutBars rows={rows} />
      </section>
    </div>
  );
}

/** The last revealed round, compact, beside the open round's progress. */
function PreviousResults({ state, ev }: { state: SessionState; ev: EvaluationDto }) {
  const m = t();
  return (
    <section class="panel previous-results" aria-labelledby="sp-h" data-previous={ev.id}>
      <h2 id="sp-h">
        {m.screen.previousResults} · {m.screen.roundNo(ev.id)}
      </h2>
      <RatingBars rows={unitRows(state, ev)} count={m.screen.peopleN} name="previous" />
    </section>
  );
}

export function Results({ state, ev }: { state: SessionState; ev: EvaluationDto }) {
  const m = t();
  const r = ev.results;
  return (
    <div class="results-grid" data-results={ev.id}>
      <section class="panel results-units" aria-labelledby="sr-h">
        <h2 id="sr-h">
          {m.screen.resultsByUnit}
          {state.evaluations.filter((e) => e.results).length > 1 ? ` · ${m.screen.roundNo(ev.id)}` : ''}
          {r && <span class="results-turnout">{`${m.delegate.evaluation.turnout} ${m.delegate.evaluation.turnoutOf(r.turnout.voted, r.turnout.eligible)}`}</span>}
        </h2>
        <Legend />
        <RatingBars rows={unitRows(state, ev)} count={m.screen.peopleN} name="units" numbers />
        <p class="bars-note">{m.screen.smallCellRule}</p>
      </section>
      <section class="panel results-levels" aria-labelledby="srl-h">
        <h2 id="srl-h">{m.screen.resultsByLevel}</h2>
        <RatingBars rows={levelRows(ev)} count={m.screen.ratingsN} name="levels" />
        <p class="bars-note">{m.screen.byRatings}</p>
      </section>
      <section class="panel results-venues" aria-labelledby="srv-h">
        <h2 id="srv-h">{m.screen.resultsByVenue}</h2>
        <RatingBars rows={venueRows(state, ev)} count={m.screen.ratingsN} name="venues" />
      </section>
    </div>
  );
}
