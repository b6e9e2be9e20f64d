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
 * The screen's minimum size of figures at 1920 px wide (1 unit = 16 px; text
 * is 24 px, see web/README.md). The gauge is the only chart left on canvas,
 * so its figure is checked here rather than in the browser.
 */
export const MIN_FIGURE_PX = 28;

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
        // The label is DOM text under the gauge: inside, it collides with the
        // figure when ten units leave the gauge small.
        title: { show: false },
        detail: { valueAnimation: true, offsetCenter: [0, 0], fontSize: Math.max(unit * 3.2, MIN_FIGURE_PX), fontWeight: 'bold', color: '#fff', formatter: '{value}%' },
        data: [{ value, name: label }],
      },
    ],
  };
}

export const LEVEL_ORDER: Level[] = ['province', 'city', 'county', 'township', 'street_deliberation'];
