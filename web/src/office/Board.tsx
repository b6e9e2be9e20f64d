// The assignment board (办理看板): overall figures and a row per unit, as the
// server computes them (`BoardDto`, replaced whole on every change).

import type { BoardCountsDto, CountsDto } from '../protocol.ts';
import { satisfactionBp } from '../lib/followup.ts';
import { t } from '../lib/i18n/index.ts';
import { unitName, type SessionState } from '../lib/state.ts';
import { ot } from './i18n.ts';

const FIGURES = ['issued', 'waiting', 'in_handling', 'answered', 'rectified', 'closed', 'overdue', 'due_soon', 'flagged'] as const;
type Figure = (typeof FIGURES)[number];

export function rateText(bp: number | undefined): string {
  return bp === undefined ? '—' : t().common.percent(bp);
}

/** 满意度 of follow-up ratings, or 样本不足 for a small cell. */
export function Satisfaction({ counts }: { counts: CountsDto }) {
  const b = ot().board;
  if (counts.total === 0) return <span class="muted">{b.noRatings}</span>;
  if (counts.suppressed) {
    return (
      <span class="insufficient" title={b.insufficientHint(counts.total)} data-suppressed="true">
        {b.insufficient}
        <span class="visually-hidden">（{b.insufficientHint(counts.total)}）</span>
      </span>
    );
  }
  return <span>{b.satisfactionCell(rateText(satisfactionBp(counts)), counts.satisfied, counts.basically_satisfied, counts.dissatisfied)}</span>;
}

function tone(f: Figure, n: number | undefined): string {
  if (!n) return '';
  if (f === 'overdue' || f === 'flagged') return 'fig-bad';
  if (f === 'due_soon') return 'fig-warn';
  return '';
}

export function Board({ state, onUnit }: { state: SessionState; onUnit: (unit: string) => void }) {
  const b = ot().board;
  const board = state.board;
  const o: BoardCountsDto = board.overall;
  return (
    <section class="card board" aria-labelledby="board-h" data-board>
      <div class="board-head">
        <h2 id="board-h">{b.title}</h2>
        {board.as_of && <span class="muted small">{b.asOf(board.as_of)}</span>}
      </div>
      <div class="board-top">
        <div class="big-rate" data-figure="rate">
          <span class="big-rate-value">{rateText(o.resolved_rate_bp)}</span>
          <span class="big-rate-label">
            {b.rate}
            <span class="muted small"> {b.rateHint}</span>
          </span>
        </div>
        <dl class="figures" data-board="overall">
          {FIGURES.map((f) => (
            <div key={f} class={`figure ${tone(f, o[f])}`} data-figure={f}>
              <dt>{b[f]}</dt>
              <dd>{o[f]}</dd>
            </div>
          ))}
          <div class="figure" data-figure="drafts">
            <dt>{b.drafts}</dt>
            <dd>{board.drafts}</dd>
          </div>
          <div class="figure figure-wide" data-figure="satisfaction">
            <dt>{b.satisfaction}</dt>
            <dd>
              <Satisfaction counts={o.ratings} />
            </dd>
          </div>
        </dl>
      </div>
      <div class="table-wrap">
        <table class="board-table">
          <caption>{b.byUnit}</caption>
          <thead>
            <tr>
              <th scope="col">{b.unit}</th>
              {FIGURES.map((f) => (
                <th key={f} scope="col">
                  {b[f]}
                </th>
              ))}
              <th scope="col">{b.rate}</th>
              <th scope="col">{b.satisfaction}</th>
            </tr>
          </thead>
          <tbody>
            {board.units.map((u) => {
              const name = unitName(state, u.unit);
              return (
                <tr key={u.unit} data-unit={u.unit}>
                  <th scope="row">
                    <button type="button" class="link-button" onClick={() => onUnit(u.unit)} title={b.showUnit(name)}>
                      {name}
                    </button>
                  </th>
                  {FIGURES.map((f) => (
                    <td key={f} class={tone(f, u.counts[f])} data-figure={f}>
                      {u.counts[f]}
                    </td>
                  ))}
                  <td data-figure="rate">{rateText(u.counts.resolved_rate_bp)}</td>
                  <td data-figure="satisfaction">
                    <Satisfaction counts={u.counts.ratings} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p class="muted small">{b.satisfactionLegend}</p>
    </section>
  );
}
