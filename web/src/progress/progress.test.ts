import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProgressDto } from '../protocol.ts';
import { snapshot } from '../lib/fixtures.test-util.ts';
import { pctOf, percentText, rateBars, rateGauge, statusStack } from './charts.ts';
import { chooseSession, data, failed, load, poll, resolveSession } from './data.ts';

function progress(seq: number): ProgressDto {
  const s = snapshot(seq);
  return { session: s.session, seq, server_time: s.server_time, board: s.board, items: [], questions: [] };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => {
  data.value = null;
  failed.value = false;
  load.value = { kind: 'loading' };
});

describe('which session', () => {
  it('?session= wins, else the only listed one, else none', () => {
    expect(chooseSession('?session=abc', [])).toBe('abc');
    expect(chooseSession('', [{ id: 'xixia-2026', title: 't' }])).toBe('xixia-2026');
    expect(chooseSession('', [])).toBeNull();
    expect(chooseSession('', [{ id: 'a', title: 'a' }, { id: 'b', title: 'b' }])).toBeNull();
  });

  it('asks to choose among several, without a credential', async () => {
    const f = vi.fn(async () => json([{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }]));
    await resolveSession('', f as unknown as typeof fetch);
    expect(load.value).toEqual({ kind: 'choose', sessions: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] });
    const init = (f.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect(init.credentials).toBe('omit');
    expect(JSON.stringify(init.headers)).not.toContain('Authorization');
  });
});

describe('polling', () => {
  it('keeps the last data when a poll fails (no blank page), and says so', async () => {
    await poll('xixia-2026', (async () => json(progress(5))) as unknown as typeof fetch);
    expect(data.value?.seq).toBe(5);
    expect(failed.value).toBe(false);
    await poll('xixia-2026', (async () => {
      throw new TypeError('offline');
    }) as unknown as typeof fetch);
    expect(data.value?.seq).toBe(5);
    expect(failed.value).toBe(true);
    await poll('xixia-2026', (async () => json({}, 503)) as unknown as typeof fetch);
    expect(data.value?.seq).toBe(5);
  });

  it('keeps the same object while nothing changed (no chart redraw)', async () => {
    await poll('s', (async () => json(progress(7))) as unknown as typeof fetch);
    const first = data.value;
    await poll('s', (async () => json(progress(7))) as unknown as typeof fetch);
    expect(data.value).toBe(first);
    await poll('s', (async () => json(progress(8))) as unknown as typeof fetch);
    expect(data.value).not.toBe(first);
  });
});

describe('charts', () => {
  it('bars in percent, labels as written elsewhere (two decimals); a unit without a rate shows “—”', () => {
    expect(pctOf(6666)).toBe(66.7);
    expect(percentText(6666)).toBe('66.66%');
    const gauge = rateGauge(6666, '答复/整改率') as { series: Array<{ detail: { formatter: () => string } }> };
    expect(gauge.series[0].detail.formatter()).toBe('66.66%');
    expect(pctOf(undefined)).toBe(0);
    const opt = rateBars([
      { label: '县民政局', bp: 5000 },
      { label: '县财政局' },
    ]) as { series: Array<{ data: number[]; label: { formatter: (p: { dataIndex: number }) => string } }>; yAxis: { data: string[] } };
    expect(opt.yAxis.data).toEqual(['县民政局', '县财政局']);
    expect(opt.series[0].data).toEqual([50, 0]);
    expect(opt.series[0].label.formatter({ dataIndex: 0 })).toBe('50.00%');
    expect(opt.series[0].label.formatter({ dataIndex: 1 })).toBe('—');
  });

  it('stacks items by status per unit', () => {
    const counts = { waiting: 1, in_handling: 2, answered: 3, rectified: 0, closed: 4 };
    const names = { waiting: '已交办', in_handling: '办理中', answered: '已答复', rectified: '已整改', closed: '已办结' };
    const opt = statusStack([{ label: '县民政局', counts }], names) as { series: Array<{ name: string; data: number[] }> };
    expect(opt.series.map((s) => [s.name, s.data[0]])).toEqual([
      ['已交办', 1],
      ['办理中', 2],
      ['已答复', 3],
      ['已整改', 0],
      ['已办结', 4],
    ]);
  });
});
