// What the screen may show of a round's results (issue 10: "votes are
// people"). Pure: unit-testable without a browser.
//
// A unit's ballots are one per delegate, so a unit's total is people (人).
// A venue's or a level's row adds its cells over the round's units, so its
// total is person-ratings (人次), not people; the people behind it are the
// venue's voters (turnout) or, for a level, the largest of its cells (each
// voter rates a unit at most once).
//
// The small-cell rule (fewer than 3) is applied to people, on every row the
// audience sees, and a hidden row shows no number at all, only why it is
// hidden:
// - `few`: fewer than 3 people behind the row;
// - `partial`: 3 or more people, but at least one of its cells (one unit at
//   this venue / level) had fewer than 3 and came without a split, so the
//   row's split would be incomplete;
// - `complementary`: hidden so that the hidden rows together hold at least 3
//   people; otherwise a unit's totals minus the shown rows would give the
//   split of one or two people (secondary suppression).

import type { CountsDto } from '../protocol.ts';
import { sumCounts } from './charts.ts';

export const MIN_PEOPLE = 3;

export type Hidden = 'few' | 'partial' | 'complementary';

export interface ShownRow {
  key: string;
  label: string;
  /** The split to show (zeros when hidden or empty). */
  counts: CountsDto;
  /** People behind the row (0: nobody rated here). */
  people: number;
  hidden?: Hidden;
}

const ZERO: CountsDto = { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 };

/** A unit's row: its total is people; fewer than 3 shows no split. */
export function unitRow(key: string, label: string, c: CountsDto): ShownRow {
  if (c.total > 0 && c.total < MIN_PEOPLE) return { key, label, counts: ZERO, people: c.total, hidden: 'few' };
  return { key, label, counts: c, people: c.total };
}

/**
 * Rows of a breakdown (venues or levels) over a round's units. `cells` are
 * the row's cells, one per unit, as the server sends them (a suppressed
 * cell has only its total); `people` the row's voters if known (venues:
 * the turnout), else the largest cell total is used.
 */
export function breakdownRows(entries: Array<{ key: string; label: string; cells: CountsDto[]; people?: number }>): ShownRow[] {
  const rows: ShownRow[] = entries.map(({ key, label, cells, people }) => {
    const p = people ?? cells.reduce((a, c) => Math.max(a, c.total), 0);
    const rated = cells.some((c) => c.total > 0);
    if (!rated) return { key, label, counts: ZERO, people: 0 };
    if (p < MIN_PEOPLE) return { key, label, counts: ZERO, people: p, hidden: 'few' };
    if (cells.some((c) => c.suppressed)) return { key, label, counts: ZERO, people: p, hidden: 'partial' };
    return { key, label, counts: sumCounts(cells), people: p };
  });
  // Secondary suppression: the hidden rows together must hold 0 or ≥ 3 people.
  for (;;) {
    const hiddenPeople = rows.filter((r) => r.hidden).reduce((a, r) => a + r.people, 0);
    if (hiddenPeople === 0 || hiddenPeople >= MIN_PEOPLE) break;
    const shown = rows.filter((r) => !r.hidden && r.people > 0).sort((a, b) => a.people - b.people);
    if (shown.length === 0) break;
    const r = shown[0];
    r.hidden = 'complementary';
    r.counts = ZERO;
  }
  return rows;
}

/** Whole percent (one decimal) of a part, for bar widths. */
export function share(n: number, total: number): number {
  return total > 0 ? Math.round((n / total) * 1000) / 10 : 0;
}
