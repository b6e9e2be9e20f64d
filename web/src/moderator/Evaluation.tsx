// 满意度测评: open an evaluation for chosen units, follow the live turnout
// (per venue and total) and the live per-unit counts (moderator and auditor
// only; small cells come suppressed and show as "<3"), close it (results are
// revealed everywhere at once; the button is in the console's action bar,
// Dock.tsx), and read the results per unit, venue, level.

import { useState } from 'preact/hooks';
import type { CountsDto, EvaluationDto, Level, LiveEvaluationDto, TurnoutDto, UnitCountsDto } from '../protocol.ts';
import { t } from '../lib/i18n/index.ts';
import { notify } from '../lib/notices.ts';
import { unitName, venueName, type SessionState } from '../lib/state.ts';
import { Bar } from '../lib/ui.tsx';
import { ActionStatus, Card, clock, ConfirmButton, useAction, useConsole } from './common.tsx';
import { mt } from './i18n.ts';
import { cellView, defaultEvaluationUnits, openFacts, turnoutPct } from './logic.ts';

export function EvaluationPanel({ state }: { state: SessionState }) {
  const { readOnly } = useConsole();
  const mm = mt().evaluation;
  const open = state.evaluations.find((e) => e.status === 'open');
  const [picked, setPicked] = useState<number | null>(null);
  const shown = (picked !== null ? state.evaluations.find((e) => e.id === picked) : undefined) ?? open ?? state.evaluations[state.evaluations.length - 1];
  const canOpen = !readOnly && state.session.phase === 'evaluation' && !open;
  return (
    <div class="eval-panel">
      {state.evaluations.length === 0 && !canOpen && (
        <Card id="eval-none" title={mm.title}>
          <p class="muted">{state.session.phase === 'evaluation' ? mm.noneYet : mm.notYet}</p>
        </Card>
      )}
      {canOpen && <OpenForm state={state} />}
      {state.evaluations.length > 1 && (
        <div class="seg" role="group" aria-label={mm.rounds}>
          {state.evaluations.map((e) => (
            <button key={e.id} type="button" class="small" aria-pressed={shown?.id === e.id} onClick={() => setPicked(e.id)} data-round={e.id}>
              {mm.roundNo(e.id)} · {e.status === 'open' ? mm.open : mm.closed}
            </button>
          ))}
        </div>
      )}
      {shown && (shown.status === 'open' ? <LiveView state={state} ev={shown} /> : <ResultsView state={state} ev={shown} />)}
    </div>
  );
}

function OpenForm({ state }: { state: SessionState }) {
  const { conn } = useConsole();
  const mm = mt().evaluation;
  const action = useAction(conn);
  const [units, setUnits] = useState<string[]>(() => defaultEvaluationUnits(state));
  const [problem, setProblem] = useState<string | null>(null);
  const toggle = (id: string, on: boolean) => setUnits(on ? state.session.units.map((u) => u.id).filter((u) => u === id || units.includes(u)) : units.filter((u) => u !== id));
  const submit = (e: Event) => {
    e.preventDefault();
    if (units.length === 0) setProblem(mm.needUnit);
  };
  const facts = openFacts(state, units);
  const names = (ids: readonly string[]) => ids.map((u) => unitName(state, u)).join('、');
  const open = () => {
    setProblem(null);
    void action.run({ type: 'open_evaluation', units });
  };
  return (
    <Card id="eval-open" title={mm.openTitle}>
      <form onSubmit={submit} noValidate data-form="open-evaluation">
        <fieldset class="unit-picks">
          <legend>{mm.chooseUnits}</legend>
          {state.session.units.map((u) => (
            <label key={u.id} class="check">
              <input type="checkbox" checked={units.includes(u.id)} onChange={(e) => toggle(u.id, (e.currentTarget as HTMLInputElement).checked)} data-unit={u.id} />
              <span>{u.name}</span>
            </label>
          ))}
        </fieldset>
        {problem && (
          <p class="field-error" role="alert">
            {problem}
          </p>
        )}
        {units.length === 0 ? (
          <button type="submit" class="primary">
            {mm.openButton}
          </button>
        ) : (
          <ConfirmButton
            class="primary"
            label={mm.openButton}
            title={mm.openConfirmTitle}
            message={mm.openFacts(names(units), facts.checkedIn, facts.roster)}
            confirmLabel={mm.openButton}
            disabled={action.busy}
            onConfirm={open}
          >
            {(facts.checkedIn === 0 || facts.again.length > 0) && (
              <ul class="hint-warn" data-open-warnings>
                {facts.checkedIn === 0 && <li>{mm.noneCheckedIn}</li>}
                {facts.again.length > 0 && <li>{mm.again(names(facts.again))}</li>}
              </ul>
            )}
          </ConfirmButton>
        )}
        <ActionStatus action={action} conn={conn} />
      </form>
    </Card>
  );
}

function LiveView({ state, ev }: { state: SessionState; ev: EvaluationDto }) {
  const mm = mt().evaluation;
  const live: LiveEvaluationDto | undefined = state.stats.evaluation?.evaluation === ev.id ? state.stats.evaluation : undefined;
  return (
    <Card
      id="eval-live"
      title={`${mm.roundNo(ev.id)} · ${mm.open}`}
      class="eval-live"
      head={<span class="muted small">{mm.openedAt(clock(ev.opened_at))}</span>}
    >
      <p class="muted small">
        {mm.unit}：{ev.units.map((u) => unitName(state, u)).join('、')}
      </p>
      {live ? (
        <>
          <TurnoutBlock state={state} turnout={live.turnout} />
          <h3>{mm.ballotsByUnit}</h3>
          <ul class="plain ballots-by-unit">
            {live.ballots_by_unit.map((b) => (
              <li key={b.unit} data-unit-ballots={b.unit}>
                <span>{unitName(state, b.unit)}</span> <strong>{b.ballots}</strong>
              </li>
            ))}
          </ul>
          <p class="muted small" data-sealed>{mm.sealed}</p>
        </>
      ) : (
        <p class="muted">{t().conn.loading}</p>
      )}
    </Card>
  );
}

/**
 * 结束测评并揭晓结果, confirmed: the primary action while a round is open,
 * kept in view by the console's action bar (Dock.tsx).
 */
export function CloseEvaluation({ evaluation }: { evaluation: number }) {
  const { conn } = useConsole();
  const mm = mt().evaluation;
  const action = useAction(conn);
  return (
    <>
      <ConfirmButton
        class="primary"
        label={mm.close}
        title={mm.closeConfirmTitle}
        message={mm.closeConfirm}
        confirmLabel={mm.close}
        disabled={action.busy}
        onConfirm={() => void action.run({ type: 'close_evaluation', evaluation }).then((o) => o.ok && notify(mm.closedNotice(evaluation)))}
      />
      <ActionStatus action={action} conn={conn} />
    </>
  );
}

function ResultsView({ state, ev }: { state: SessionState; ev: EvaluationDto }) {
  const mm = mt().evaluation;
  const r = ev.results;
  return (
    <Card
      id="eval-results"
      title={`${mm.roundNo(ev.id)} · ${mm.results}`}
      class="eval-results"
      head={<span class="muted small">{ev.closed_at !== undefined ? mm.closedAt(clock(ev.closed_at)) : ''}</span>}
    >
      <div data-results={ev.id}>
        {r ? (
          <>
            <TurnoutBlock state={state} turnout={r.turnout} />
            <UnitsTable state={state} units={r.units} />
            <RateMatrix state={state} units={r.units} dim="venue" />
            <RateMatrix state={state} units={r.units} dim="level" />
          </>
        ) : (
          <p class="muted">{mm.closed}</p>
        )}
      </div>
    </Card>
  );
}

function TurnoutBlock({ state, turnout }: { state: SessionState; turnout: TurnoutDto }) {
  const mm = mt().evaluation;
  return (
    <div class="turnout">
      <p class="turnout-total" data-turnout={`${turnout.voted}/${turnout.eligible}`}>
        <span class="muted">{mm.turnout}</span> <strong class="big-number">{turnoutPct(turnout.voted, turnout.eligible)}</strong>{' '}
        <span>{mm.turnoutOf(turnout.voted, turnout.eligible)}</span>
      </p>
      <Bar value={turnout.voted} max={turnout.eligible} label={mm.turnoutOf(turnout.voted, turnout.eligible)} />
      <details class="turnout-venues">
        <summary>{mm.byVenue}</summary>
        <table class="data-table">
          <thead>
            <tr>
              <th scope="col">{mm.venue}</th>
              <th scope="col" class="num">
                {mm.voted}
              </th>
              <th scope="col" class="num">
                {mm.eligible}
              </th>
              <th scope="col" class="num">
                {mm.turnout}
              </th>
              <th scope="col" class="bar-col">
                <span class="visually-hidden">{mm.turnout}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {turnout.by_venue.map((v) => (
              <tr key={v.venue} data-turnout-venue={v.venue}>
                <th scope="row">{venueName(state, v.venue)}</th>
                <td class="num">{v.voted}</td>
                <td class="num">{v.eligible}</td>
                <td class="num">{turnoutPct(v.voted, v.eligible)}</td>
                <td class="bar-col">
                  <Bar value={v.voted} max={v.eligible} label={mm.turnoutOf(v.voted, v.eligible)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}

function CountCells({ c }: { c: CountsDto | undefined }) {
  const mm = mt().evaluation;
  const v = cellView(c);
  if (v.kind === 'suppressed') {
    return (
      <>
        <td class="num suppressed" colSpan={3} title={mm.suppressedLabel} data-suppressed>
          {mm.suppressed}
          <span class="visually-hidden">{mm.suppressedLabel}</span>
        </td>
        <td class="num">{v.total}</td>
        <td class="num suppressed">{mm.suppressed}</td>
      </>
    );
  }
  if (v.kind === 'empty') {
    return (
      <>
        <td class="num">0</td>
        <td class="num">0</td>
        <td class="num">0</td>
        <td class="num">0</td>
        <td class="num">—</td>
      </>
    );
  }
  return (
    <>
      <td class="num">{v.counts.satisfied}</td>
      <td class="num">{v.counts.basically_satisfied}</td>
      <td class="num">{v.counts.dissatisfied}</td>
      <td class="num">{v.counts.total}</td>
      <td class="num rate">{v.rate}</td>
    </>
  );
}

function CountHead({ first }: { first: string }) {
  const r = t().ratings;
  const mm = mt().evaluation;
  return (
    <thead>
      <tr>
        <th scope="col">{first}</th>
        <th scope="col" class="num">
          {r.satisfied}
        </th>
        <th scope="col" class="num">
          {r.basically_satisfied}
        </th>
        <th scope="col" class="num">
          {r.dissatisfied}
        </th>
        <th scope="col" class="num">
          {mm.total}
        </th>
        <th scope="col" class="num">
          {mm.rate}
        </th>
      </tr>
    </thead>
  );
}

/** One row per unit, and per unit a disclosure with its venue and level rows. */
function UnitsTable({ state, units }: { state: SessionState; units: UnitCountsDto[] }) {
  const mm = mt().evaluation;
  const levels = t().levels;
  return (
    <>
      <table class="data-table units-table">
        <CountHead first={mm.unit} />
        <tbody>
          {units.map((u) => (
            <tr key={u.unit} data-result={u.unit}>
              <th scope="row">{unitName(state, u.unit)}</th>
              <CountCells c={u.counts} />
            </tr>
          ))}
        </tbody>
      </table>
      {units.map((u) => (
        <details key={u.unit} class="unit-detail" data-detail={u.unit}>
          <summary>{mm.detailUnit(unitName(state, u.unit))}</summary>
          <table class="data-table">
            <CountHead first={mm.venue} />
            <tbody>
              {u.by_venue.map((v) => (
                <tr key={v.venue} data-venue={v.venue}>
                  <th scope="row">{venueName(state, v.venue)}</th>
                  <CountCells c={v.counts} />
                </tr>
              ))}
            </tbody>
          </table>
          <table class="data-table">
            <CountHead first={mm.level} />
            <tbody>
              {u.by_level.map((l) => (
                <tr key={l.level} data-level={l.level}>
                  <th scope="row">
                    {levels[l.level]}
                    {l.eligible !== undefined && <span class="muted small">（{mm.eligible} {l.eligible}）</span>}
                  </th>
                  <CountCells c={l.counts} />
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}
    </>
  );
}

/** Satisfaction rates: venues (or levels) × units; small cells "<3". */
function RateMatrix({ state, units, dim }: { state: SessionState; units: UnitCountsDto[]; dim: 'venue' | 'level' }) {
  const mm = mt().evaluation;
  const levels = t().levels;
  const rows: Array<{ key: string; label: string }> =
    dim === 'venue'
      ? state.session.venues.map((v) => ({ key: v.id, label: v.name }))
      : (['province', 'city', 'county', 'township', 'street_deliberation'] as Level[]).map((l) => ({ key: l, label: levels[l] }));
  const cell = (u: UnitCountsDto, key: string) =>
    dim === 'venue' ? u.by_venue.find((x) => x.venue === key)?.counts : u.by_level.find((x) => x.level === key)?.counts;
  return (
    <div class="matrix-wrap">
      <table class="data-table matrix" data-matrix={dim}>
        <caption>{dim === 'venue' ? mm.byVenueRates : mm.byLevelRates}</caption>
        <thead>
          <tr>
            <th scope="col">{dim === 'venue' ? mm.venue : mm.level}</th>
            {units.map((u) => (
              <th key={u.unit} scope="col" class="num">
                {unitName(state, u.unit)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-row={r.key}>
              <th scope="row">{r.label}</th>
              {units.map((u) => {
                const v = cellView(cell(u, r.key));
                return (
                  <td key={u.unit} class={`num ${v.kind === 'suppressed' ? 'suppressed' : ''}`} title={v.kind === 'suppressed' ? mm.suppressedLabel : undefined} data-cell={`${r.key}:${u.unit}`}>
                    {v.kind === 'suppressed' ? mm.suppressed : v.kind === 'empty' ? '—' : v.rate}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
