// Chart options of the public progress page (pure: unit-testable without a
// canvas). Light theme, the same ECharts build as the big screen. No
// animation: a public page polled every 30 s should not replay its charts,
// and what is on screen is always the final figure.

import type { BoardCountsDto } from '../protocol.ts';
import type { ChartOption } from '../screen/EChart.tsx';
import { fontFamily } from '../screen/charts.ts';

const INK = '#1f2328';
const SOFT = '#57606a';
const LINE = '#d8dee4';
export const STATUS_COLORS = {
  waiting: '#8cc8f0',
  in_handling: '#0969da',
  answered: '#2da44e',
  rectified: '#116329',
  closed: '#24292f',
} as const;
export type StatusKey = keyof typeof STATUS_COLORS;
export const STATUS_KEYS: readonly StatusKey[] = ['waiting', 'in_handling', 'answered', 'rectified', 'closed'];

/** Percent with one decimal from basis points (0 when absent): a bar's length. */
export function pctOf(bp: number | undefined): number {
  return bp === undefined ? 0 : Math.round(bp / 10) / 10;
}

/** The figure as written everywhere else (two decimals, like the board and the big screen), or "—". */
export function percentText(bp: number | undefined): string {
  return bp === undefined ? '—' : `${(bp / 100).toFixed(2)}%`;
}

/** A gauge of the overall answered/rectified rate. */
export function rateGauge(bp: number | undefined, label: string): ChartOption {
  return {
    animation: false,
    textStyle: { fontFamily: fontFamily(), color: INK },
    series: [
      {
        type: 'gauge',
        startAngle: 210,
        endAngle: -30,
        min: 0,
        max: 100,
        progress: { show: true, width: 18, itemStyle: { color: '#b71c1c' } },
        axisLine: { lineStyle: { width: 18, color: [[1, '#eaeef2']] } },
        axisTick: { show: false },
        splitLine: { show: false },
        axisLabel: { show: false },
        pointer: { show: false },
        anchor: { show: false },
        title: { show: true, offsetCenter: [0, '48%'], color: SOFT, fontSize: 14 },
        detail: { offsetCenter: [0, '-8%'], fontSize: 28, fontWeight: 'bold', color: INK, formatter: () => percentText(bp) },
        data: [{ value: pctOf(bp), name: label }],
      },
    ],
  };
}

/** Horizontal bars: the answered/rectified rate per unit (units without items are left out by the caller). */
export function rateBars(rows: Array<{ label: string; bp?: number }>): ChartOption {
  return {
    animation: false,
    textStyle: { fontFamily: fontFamily(), color: INK },
    grid: { left: 8, right: 64, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', max: 100, axisLabel: { color: SOFT, formatter: '{value}%' }, splitLine: { lineStyle: { color: LINE } } },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.label), axisLabel: { color: INK, fontSize: 13, interval: 0 }, axisTick: { show: false }, axisLine: { lineStyle: { color: LINE } } },
    series: [
      {
        type: 'bar',
        barMaxWidth: 22,
        itemStyle: { color: '#b71c1c', borderRadius: [0, 4, 4, 0] },
        label: { show: true, position: 'right', color: INK, formatter: (p: { dataIndex: number }) => percentText(rows[p.dataIndex].bp) },
        data: rows.map((r) => pctOf(r.bp)),
      },
    ],
  };
}

/** Horizontal stacked bars: items per status and unit. */
export function statusStack(rows: Array<{ label: string; counts: Pick<BoardCountsDto, StatusKey> }>, names: Record<StatusKey, string>): ChartOption {
  return {
    animation: false,
    textStyle: { fontFamily: fontFamily(), color: INK },
    legend: { top: 0, left: 0, textStyle: { color: INK, fontSize: 12 } },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1, axisLabel: { color: SOFT }, splitLine: { lineStyle: { color: LINE } } },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.label), axisLabel: { color: INK, fontSize: 13, interval: 0 }, axisTick: { show: false }, axisLine: { lineStyle: { color: LINE } } },
    series: STATUS_KEYS.map((k) => ({
      name: names[k],
      type: 'bar',
      stack: 'all',
      barMaxWidth: 22,
      itemStyle: { color: STATUS_COLORS[k] },
      label: { show: true, color: '#fff', formatter: (p: { value: number }) => (p.value > 0 ? String(p.value) : '') },
      data: rows.map((r) => r.counts[k]),
    })),
  };
}
