// Chart options for the screen (pure: unit-testable without a canvas).

import type { CountsDto, Level } from '../protocol.ts';
import type { ChartOption } from './EChart.tsx';

export const COLORS = { satisfied: '#d32f2f', basically_satisfied: '#f5a623', dissatisfied: '#78909c' } as const;
const INK = '#f4f1ea';
/** Canvas text needs a real font list ("inherit" is not one): the page's own stack. */
export function fontFamily(): string {
  if (typeof document === 'undefined') return 'sans-serif';
  return getComputedStyle(document.body).fontFamily || 'sans-serif';
}
const GRID_LINE = 'rgba(255,255,255,0.12)';

export interface Row {
  label: string;
  counts: CountsDto;
}

export interface Labels {
  satisfied: string;
  basically_satisfied: string;
  dissatisfied: string;
  /** The satisfaction rate (or "—", or the suppressed note) of a row. */
  rate: (c: CountsDto) => string;
  /** Legend name of rows shown only as a total (fewer than 3 ballots). */
  suppressed: string;
}

/**
 * Aggregates breakdown cells (one venue or level over several units).
 * Suppressed cells (fewer than 3 ballots: only a total, protocol §10) give no
 * choices: they are left out; if every non-empty cell is suppressed the
 * result is a suppressed cell with the summed total.
 */
export function aggregateCells(cells: CountsDto[]): CountsDto {
  const visible = cells.filter((c) => !c.suppressed && c.total > 0);
  if (visible.length === 0) {
    const total = cells.reduce((a, c) => a + c.total, 0);
    return total > 0 ? { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total, suppressed: true } : { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 };
  }
  return sumCounts(visible);
}

/** Adds counts. */
export function sumCounts(list: CountsDto[]): CountsDto {
  const out = { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 };
  for (const c of list) {
    out.satisfied += c.satisfied;
    out.basically_satisfied += c.basically_satisfied;
    out.dissatisfied += c.dissatisfied;
    out.total += c.total;
  }
  return out.total > 0 ? { ...out, satisfaction_rate_bp: rateBp(out) } : out;
}

/** (满意 + 基本满意) / total in basis points, rounded half up, as the server does. */
export function rateBp(c: Pick<CountsDto, 'satisfied' | 'basically_satisfied' | 'total'>): number {
  return Math.floor(((c.satisfied + c.basically_satisfied) * 10_000 * 2 + c.total) / (2 * c.total));
}

const pct = (n: number, total: number) => (total > 0 ? Math.round((n / total) * 1000) / 10 : 0);

/**
 * Horizontal 100 % stacked bars: one row per unit / venue / level, segments
 * satisfied / basically / dissatisfied, the satisfaction rate at the end.
 */
export function stackedOption(rows: Row[], labels: Labels, unit: number): ChartOption {
  const keys = ['satisfied', 'basically_satisfied', 'dissatisfied'] as const;
  const font = Math.round(unit * 1.3);
  const anySuppressed = rows.some((r) => r.counts.suppressed);
  const series: object[] = keys.map((k) => ({
    name: labels[k],
    type: 'bar',
    stack: 'all',
    barMaxWidth: unit * 2.8,
    itemStyle: { color: COLORS[k] },
    label: {
      show: true,
      position: 'inside',
      color: '#fff',
      fontSize: Math.round(font * 0.9),
      formatter: (p: { dataIndex: number }) => (rows[p.dataIndex].counts[k] > 0 ? String(rows[p.dataIndex].counts[k]) : ''),
    },
    data: rows.map((r) => pct(r.counts[k], r.counts.total)),
  }));
  if (anySuppressed) {
    series.push({
      name: labels.suppressed,
      type: 'bar',
      stack: 'all',
      barMaxWidth: unit * 2.8,
      itemStyle: { color: 'rgba(255,255,255,0.18)' },
      data: rows.map((r) => (r.counts.suppressed ? 100 : 0)),
    });
  }
  // An invisible series carrying the rate label at the end of each bar.
  series.push({
    type: 'bar',
    stack: 'all',
    silent: true,
    itemStyle: { color: 'transparent' },
    label: { show: true, position: 'right', color: INK, fontSize: font, fontWeight: 'bold', formatter: (p: { dataIndex: number }) => labels.rate(rows[p.dataIndex].counts) },
    data: rows.map(() => 0),
  });
  return {
    animationDuration: 900,
    textStyle: { fontFamily: fontFamily(), color: INK },
    legend: { top: 0, left: 0, textStyle: { color: INK, fontSize: font }, itemWidth: font * 1.4, itemHeight: font * 0.9 },
    grid: { left: 8, right: unit * 9, top: font * 2.6, bottom: 4, containLabel: true },
    xAxis: { type: 'value', max: 100, axisLabel: { show: false }, splitLine: { lineStyle: { color: GRID_LINE } } },
    yAxis: {
      type: 'category',
      inverse: true,
      data: rows.map((r) => r.label),
      axisLabel: { color: INK, fontSize: font, interval: 0 },
      axisLine: { lineStyle: { color: GRID_LINE } },
      axisTick: { show: false },
    },
    series,
  };
}

/** Vertical bars of turnout (voted / eligible, %) per venue. */
export function turnoutOption(rows: Array<{ label: string; voted: number; eligible: number }>, unit: number): ChartOption {
  const font = Math.round(unit * 1.15);
  return {
    animationDuration: 500,
    textStyle: { fontFamily: fontFamily(), color: INK },
    grid: { left: 8, right: 8, top: font * 2.2, bottom: 4, containLabel: true },
    xAxis: {
      type: 'category',
      data: rows.map((r) => r.label),
      axisLabel: { color: INK, fontSize: font, interval: 0, rotate: rows.length > 10 ? 40 : 0 },
      axisLine: { lineStyle: { color: GRID_LINE } },
      axisTick: { show: false },
    },
    yAxis: { type: 'value', max: 100, axisLabel: { color: INK, fontSize: font, formatter: '{value}%' }, splitLine: { lineStyle: { color: GRID_LINE } } },
    series: [
      {
        type: 'bar',
        barMaxWidth: unit * 3,
        itemStyle: { color: '#f5c04a', borderRadius: [4, 4, 0, 0] },
        label: { show: true, position: 'top', color: INK, fontSize: font, formatter: (p: { dataIndex: number }) => `${rows[p.dataIndex].voted}/${rows[p.dataIndex].eligible}` },
        data: rows.map((r) => pct(r.voted, r.eligible)),
      },
    ],
  };
}

/** A gauge of the total turnout (%). */
export function gaugeOption(voted: number, eligible: number, unit: number, label: string): ChartOption {
  const value = pct(voted, eligible);
  return {
    animationDuration: 500,
    textStyle: { fontFamily: fontFamily(), color: INK },
    series: [
      {
        type: 'gauge',
        startAngle: 210,
        endAngle: -30,
        min: 0,
        max: 100,
        progress: { show: true, width: unit * 1.6, itemStyle: { color: '#f5c04a' } },
        axisLine: { lineStyle: { width: unit * 1.6, color: [[1, 'rgba(255,255,255,0.15)']] } },
        axisTick: { show: false },
        splitLine: { show: false },
        axisLabel: { show: false },
        pointer: { show: false },
        anchor: { show: false },
        title: { show: true, offsetCenter: [0, '38%'], color: INK, fontSize: unit * 1.4 },
        detail: { valueAnimation: true, offsetCenter: [0, '-5%'], fontSize: unit * 4.5, fontWeight: 'bold', color: '#fff', formatter: '{value}%' },
        data: [{ value, name: label }],
      },
    ],
  };
}

export const LEVEL_ORDER: Level[] = ['province', 'city', 'county', 'township', 'street_deliberation'];
