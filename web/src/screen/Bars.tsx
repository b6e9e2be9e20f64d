// Horizontal bars drawn in the DOM (issue 10): labels on the left that wrap,
// never rotated or overlapping, for 6–10 units and all 20 venues, at the
// screen's minimum type sizes (web/README.md), which a browser test reads.

import { t } from '../lib/i18n/index.ts';
import { COLORS } from './charts.ts';
import { share, type ShownRow } from './breakdown.ts';

const KEYS = ['satisfied', 'basically_satisfied', 'dissatisfied'] as const;

/** 满意 / 基本满意 / 不满意: what the colours mean. */
export function Legend() {
  const m = t();
  return (
    <p class="bars-legend">
      {KEYS.map((k) => (
        <span key={k}>
          <i class="swatch" style={{ background: COLORS[k] }} aria-hidden="true" />
          {m.ratings[k]}
        </span>
      ))}
    </p>
  );
}

/**
 * One row per unit / venue / level: label, the 100 % stacked split, the
 * satisfaction rate and what is counted (`count`: 人 or 人次). A hidden row
 * says why and shows no number.
 */
export function RatingBars({ rows, count, name, numbers }: { rows: ShownRow[]; count: (n: number) => string; name: string; numbers?: boolean }) {
  const m = t();
  return (
    <ul class={`bars bars-${name}`} data-bars={name}>
      {rows.map((r) => (
        <li key={r.key} data-row={r.key} data-hidden={r.hidden ?? ''}>
          <span class="bar-label">{r.label}</span>
          {r.hidden ? (
            <span class="bar-hidden">{r.hidden === 'few' ? m.screen.hiddenFew : r.hidden === 'partial' ? m.screen.hiddenPartial : m.screen.hiddenComplementary}</span>
          ) : r.counts.total === 0 ? (
            <span class="bar-hidden">{m.screen.noRatings}</span>
          ) : (
            <>
              <span class="bar-track" aria-hidden="true">
                {KEYS.map((k) => {
                  const w = share(r.counts[k], r.counts.total);
                  return w > 0 ? (
                    <span key={k} class={`bar-seg seg-${k}`} style={{ width: `${w}%`, background: COLORS[k] }}>
                      {numbers && w >= 8 ? r.counts[k] : ''}
                    </span>
                  ) : null;
                })}
              </span>
              <strong class="bar-rate" data-rate>
                {r.counts.satisfaction_rate_bp === undefined ? m.common.noRate : m.common.percent(r.counts.satisfaction_rate_bp)}
              </strong>
              <span class="bar-count" data-count={r.counts.total}>
                {count(r.counts.total)}
              </span>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Turnout per venue: voted of eligible people, a bar per venue. */
export function TurnoutBars({ rows }: { rows: Array<{ key: string; label: string; voted: number; eligible: number }> }) {
  return (
    <ul class="bars bars-turnout" data-bars="turnout">
      {rows.map((r) => (
        <li key={r.key} data-row={r.key}>
          <span class="bar-label">{r.label}</span>
          <span class="bar-track" aria-hidden="true">
            <span class="bar-seg seg-turnout" style={{ width: `${share(r.voted, r.eligible)}%` }} />
          </span>
          <span class="bar-count" data-venue-turnout={`${r.voted}/${r.eligible}`}>
            {r.voted}/{r.eligible}
          </span>
        </li>
      ))}
    </ul>
  );
}
