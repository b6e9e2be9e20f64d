import { render } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { event, question, snapshot } from '../lib/fixtures.test-util.ts';
import { connected } from '../lib/fakews.test-util.ts';
import { applyEvent, applySnapshot } from '../lib/state.ts';
import { App, closingFigures, commitmentsMade, mode, rateText, shortVenue } from './App.tsx';
import { aggregateCells, rateBp, stackedOption, sumCounts } from './charts.ts';

describe('screen charts', () => {
  it('rounds the satisfaction rate half up like the server', () => {
    expect(rateBp({ satisfied: 1, basically_satisfied: 1, total: 3 })).toBe(6667);
    expect(rateBp({ satisfied: 1, basically_satisfied: 0, total: 3 })).toBe(3333);
    expect(rateBp({ satisfied: 1, basically_satisfied: 0, total: 8 })).toBe(1250);
    expect(rateBp({ satisfied: 1, basically_satisfied: 0, total: 16 })).toBe(625); // 625.0
    expect(rateBp({ satisfied: 1, basically_satisfied: 0, total: 32 })).toBe(313); // 312.5 → 313
  });

  it('aggregates cells, leaving out suppressed ones', () => {
    const a = { satisfied: 3, basically_satisfied: 1, dissatisfied: 1, total: 5, satisfaction_rate_bp: 8000 };
    const hidden = { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 2, suppressed: true };
    expect(aggregateCells([a, hidden])).toEqual(sumCounts([a]));
    expect(aggregateCells([hidden, hidden])).toEqual({ satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 4, suppressed: true });
    expect(aggregateCells([])).toMatchObject({ total: 0 });
    expect(rateText(hidden)).toContain('2 票');
    expect(rateText(a)).toBe('80.00%');
  });

  it('builds 100 % stacked bars with the rate label at the end', () => {
    const rows = [{ label: '县民政局', counts: { satisfied: 2, basically_satisfied: 1, dissatisfied: 1, total: 4, satisfaction_rate_bp: 7500 } }];
    const opt = stackedOption(rows, { satisfied: '满意', basically_satisfied: '基本满意', dissatisfied: '不满意', rate: () => '75.00%', suppressed: 'x' }, 16) as {
      series: Array<{ data: number[] }>;
    };
    expect(opt.series.slice(0, 3).map((s) => s.data[0])).toEqual([50, 25, 25]);
    expect(opt.series).toHaveLength(4); // three ratings + the rate label
  });
});

describe('screen', () => {
  it('picks what to show from the state', () => {
    let s = applySnapshot(snapshot(10));
    expect(mode(s)).toBe('idle');
    s = applyEvent(s, event(11, 'floor_granted', [{ entity: 'floor', floor: { question: 1, venue: 'baiyu', granted_at: 1, countdown_started_at: 1, countdown_seconds: 300 } }]));
    expect(mode(s)).toBe('floor');
    s = applyEvent(s, event(12, 'floor_ended', [{ entity: 'floor', floor: null }]));
    s = applyEvent(s, event(13, 'evaluation_opened', [{ entity: 'evaluation', evaluation: { id: 1, units: ['minzheng'], status: 'open', opened_at: 1 } }]));
    expect(mode(s)).toBe('evaluation');
    const results = { turnout: { voted: 0, eligible: 0, by_venue: [] }, units: [] };
    s = applyEvent(s, event(14, 'evaluation_closed', [{ entity: 'evaluation', evaluation: { id: 1, units: ['minzheng'], status: 'closed', opened_at: 1, closed_at: 2, results } }]));
    expect(mode(s)).toBe('results');
    // Once the session is closed: the closing summary, not the last round alone.
    s = applyEvent(s, event(15, 'phase_changed', [{ entity: 'phase', phase: 'closed' }]));
    expect(mode(s)).toBe('closed');
  });

  it('before a ballot opens in the evaluation phase it says so and lists no queued question', () => {
    const over = { you: { role: 'screen' as const, name: 'screen' }, session: { ...snapshot(10).session, phase: 'evaluation' as const }, questions: [question(1, { status: 'queued' })], queue: [1] };
    expect(mode(applySnapshot(snapshot(10, over)))).toBe('idle');
    const { conn } = connected('screen', over);
    const r = render(<App conn={conn} />);
    conn.stop();
    expect(r.container.querySelector('[data-idle="evaluation"] h2')?.textContent).toBe('问政环节已结束，满意度测评即将开始');
    expect(r.container.querySelector('.idle-queue')).toBeNull();
  });

  it('keeps every commitment made on the floor, newest first', () => {
    const a = (at: number, what: string) => ({ unit: 'minzheng', official: 'o', summary: 's', at, commitments: [{ what, unit: 'minzheng', due: '2026-12-31' }] });
    const q1 = question(1, { status: 'answered', answer: a(1, '先做的承诺') } as never);
    const q2 = question(2, { status: 'answered', answer: a(5, '后做的承诺'), follow_ups: [{ id: 1, venue: 'baiyu', text: 't', at: 6, answer: a(7, '追问后的承诺') }] } as never);
    expect(commitmentsMade({ questions: [q1, q2] }).map((c) => c.what)).toEqual(['追问后的承诺', '后做的承诺', '先做的承诺']);
  });

  it('the closing summary counts what was asked, followed up and committed', () => {
    const answered = question(1, {
      status: 'answered',
      answer: { unit: 'minzheng', official: 'o', summary: 's', at: 1, commitments: [{ what: 'w', unit: 'minzheng', due: '2026-12-31' }] },
      follow_ups: [{ id: 1, venue: 'baiyu', text: '追问', at: 1 }],
    } as never);
    expect(closingFigures({ questions: [answered, question(2, { status: 'queued' })] })).toEqual({ asked: 1, followUps: 1, commitments: 1 });
  });

  it('shortens venue names for the table and charts', () => {
    expect(shortVenue({ id: 'main', name: '县人大代表联络站主会场', kind: 'main' })).toBe('主会场');
    expect(shortVenue({ id: 'baiyu', name: '白羽街道人大代表联络站', kind: 'sub' })).toBe('白羽街道');
    expect(shortVenue({ id: 'x', name: '桥头镇分会场', kind: 'sub' })).toBe('桥头镇');
  });

  it('renders markup in user text as text', () => {
    const evil = '<img src=x onerror=window.__xss=1><script>window.__xss=1</script>';
    const { container } = render(<p>{question(1, { text: evil }).text}</p>);
    expect(container.querySelector('img, script')).toBeNull();
    expect(container.textContent).toBe(evil);
  });
});
