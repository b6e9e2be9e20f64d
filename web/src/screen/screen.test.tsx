import { render } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';

// jsdom has no canvas: the gauge (the one chart left) is a plain box here.
vi.mock('./EChart.tsx', () => ({ EChart: ({ label }: { label: string }) => <div role="img" aria-label={label} /> }));
import { event, question, snapshot } from '../lib/fixtures.test-util.ts';
import { connected } from '../lib/fakews.test-util.ts';
import { applyEvent, applySnapshot } from '../lib/state.ts';
import { App, closingFigures, commitmentsMade, mode, rateText, shortVenue, speakerLine } from './App.tsx';
import { gaugeOption, MIN_FIGURE_PX, rateBp } from './charts.ts';
import { breakdownRows, unitRow } from './breakdown.ts';
import { previousRound } from './Evaluation.tsx';
import type { CountsDto, EvaluationDto } from '../protocol.ts';

const c = (satisfied: number, basically_satisfied: number, dissatisfied: number): CountsDto => {
  const total = satisfied + basically_satisfied + dissatisfied;
  return { satisfied, basically_satisfied, dissatisfied, total, ...(total ? { satisfaction_rate_bp: rateBp({ satisfied, basically_satisfied, total }) } : {}) };
};
/** A cell as the server sends it with fewer than 3 ballots: the total only. */
const hid = (total: number): CountsDto => ({ satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total, suppressed: true });

describe('screen charts', () => {
  it('rounds the satisfaction rate half up like the server', () => {
    expect(rateBp({ satisfied: 1, basically_satisfied: 1, total: 3 })).toBe(6667);
    expect(rateBp({ satisfied: 1, basically_satisfied: 0, total: 3 })).toBe(3333);
    expect(rateBp({ satisfied: 1, basically_satisfied: 0, total: 8 })).toBe(1250);
    expect(rateBp({ satisfied: 1, basically_satisfied: 0, total: 16 })).toBe(625); // 625.0
    expect(rateBp({ satisfied: 1, basically_satisfied: 0, total: 32 })).toBe(313); // 312.5 → 313
  });

  it('the gauge keeps the minimum figure size at 1920 px (unit 16), its label in the DOM', () => {
    const g = gaugeOption(3, 10, 16, '总参评率') as { series: Array<{ title: { show: boolean; fontSize?: number }; detail: { fontSize: number } }> };
    // The label is DOM text (read by the browser test), the figure on canvas.
    expect(g.series[0].title.show).toBe(false);
    expect(g.series[0].detail.fontSize).toBeGreaterThanOrEqual(MIN_FIGURE_PX);
  });
});

describe('votes are people (issue 10)', () => {
  it('a unit rated by fewer than 3 people shows no split and no number, and says why', () => {
    expect(unitRow('minzheng', '县民政局', c(1, 1, 0))).toMatchObject({ hidden: 'few', counts: { total: 0 } });
    expect(unitRow('minzheng', '县民政局', c(2, 1, 0))).toMatchObject({ counts: { total: 3 }, people: 3 });
    expect(rateText(c(1, 1, 0))).toBe('不足3人，不公开');
    expect(rateText(hid(2))).toBe('不足3人，不公开');
    expect(rateText(c(3, 1, 1))).toBe('80.00%');
  });

  it('a venue of 2 voters over 3 units is hidden as "fewer than 3", not "6 票"', () => {
    const rows = breakdownRows([
      { key: 'main', label: '主会场', cells: [c(3, 1, 1), c(2, 2, 1), c(1, 1, 3)], people: 5 },
      { key: 'baiyu', label: '白羽街道', cells: [c(2, 1, 1), c(1, 1, 2), c(4, 0, 0)], people: 4 },
      { key: 'zijin', label: '紫金街道', cells: [hid(2), hid(2), hid(2)], people: 2 },
      { key: 'none', label: '丁河镇', cells: [c(0, 0, 0), c(0, 0, 0), c(0, 0, 0)], people: 0 },
    ]);
    const zijin = rows.find((r) => r.key === 'zijin')!;
    expect(zijin).toMatchObject({ hidden: 'few', counts: { total: 0 } });
    // 2 hidden people alone could be worked out from the units' totals: the
    // smallest shown venue is hidden with them.
    expect(rows.find((r) => r.key === 'baiyu')).toMatchObject({ hidden: 'complementary', counts: { total: 0 } });
    // The rest add up over the units: person-ratings (人次), not people.
    expect(rows.find((r) => r.key === 'main')).toMatchObject({ people: 5, counts: { satisfied: 6, basically_satisfied: 4, dissatisfied: 5, total: 15 } });
    expect(rows.find((r) => r.key === 'main')?.hidden).toBeUndefined();
    expect(rows.find((r) => r.key === 'none')).toMatchObject({ people: 0, counts: { total: 0 } });
    expect(rows.find((r) => r.key === 'none')?.hidden).toBeUndefined();
  });

  it('a row with a cell hidden by the server is hidden as a whole ("partial"), never shown incomplete', () => {
    const rows = breakdownRows([
      { key: 'main', label: '主会场', cells: [c(3, 1, 1), hid(2)], people: 5 },
      { key: 'baiyu', label: '白羽街道', cells: [c(2, 1, 1), c(1, 1, 2)], people: 4 },
    ]);
    expect(rows.map((r) => r.hidden)).toEqual(['partial', undefined]);
  });

  it('levels count their people as the largest cell; hidden rows of 3 or more people need no partner', () => {
    const rows = breakdownRows([
      { key: 'county', label: '县人大代表', cells: [hid(1), hid(1)] },
      { key: 'township', label: '乡镇人大代表', cells: [hid(2), hid(2)] },
      { key: 'city', label: '市人大代表', cells: [c(3, 0, 0), c(2, 1, 0)] },
    ]);
    expect(rows.map((r) => [r.key, r.people, r.hidden])).toEqual([
      ['county', 1, 'few'],
      ['township', 2, 'few'],
      ['city', 3, undefined],
    ]);
  });

  it('announces who asks by level and name', () => {
    expect(speakerLine([{ name: '张三', level: 'county' }, { name: '李四', level: 'township' }])).toBe('县人大代表 张三、乡镇人大代表 李四');
  });

  it('keeps the last revealed round while the next round is open', () => {
    const results = { turnout: { voted: 0, eligible: 0, by_venue: [] }, units: [] };
    const r1: EvaluationDto = { id: 1, units: ['minzheng'], status: 'closed', opened_at: 1, closed_at: 2, results };
    const r2: EvaluationDto = { id: 2, units: ['minzheng'], status: 'open', opened_at: 3 };
    expect(previousRound({ evaluations: [r1, r2] })?.id).toBe(1);
    expect(previousRound({ evaluations: [r1] })).toBeUndefined();
    expect(previousRound({ evaluations: [{ ...r1, status: 'open', closed_at: undefined, results: undefined }] })).toBeUndefined();
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

  it('names who asks when the floor is granted', () => {
    const floor = { question: 1, venue: 'baiyu', granted_at: 1, countdown_started_at: 1, countdown_seconds: 300, speakers: [{ name: '张三', level: 'county' as const }] };
    const { conn } = connected('screen', { you: { role: 'screen' as const, name: 'screen' }, questions: [question(1, { status: 'on_floor' })], floor });
    const r = render(<App conn={conn} />);
    conn.stop();
    expect(r.container.querySelector('[data-floor-speakers]')?.textContent).toBe('县人大代表 张三 提问');
  });

  it('shows a round\'s results by people, hides small rows with the reason, and keeps them while round 2 is open', () => {
    const cells = (main: CountsDto, baiyu: CountsDto) => [
      { venue: 'main', counts: main },
      { venue: 'baiyu', counts: baiyu },
    ];
    const unit = (id: string) => ({ unit: id, counts: c(4, 1, 2), by_venue: cells(c(3, 1, 1), hid(2)), by_level: [{ level: 'county' as const, counts: c(4, 1, 2) }] });
    const results = { turnout: { voted: 7, eligible: 9, by_venue: [{ venue: 'main', voted: 5, eligible: 6 }, { venue: 'baiyu', voted: 2, eligible: 3 }] }, units: [unit('minzheng'), unit('weijian')] };
    const r1: EvaluationDto = { id: 1, units: ['minzheng', 'weijian'], status: 'closed', opened_at: 1, closed_at: 2, results };
    const screen = { you: { role: 'screen' as const, name: 'screen' }, session: { ...snapshot(10).session, phase: 'evaluation' as const } };
    let { conn } = connected('screen', { ...screen, evaluations: [r1] });
    let r = render(<App conn={conn} />);
    conn.stop();
    const text = r.container.textContent ?? '';
    expect(r.container.querySelector('[data-bars="units"] [data-row="minzheng"] .bar-count')?.textContent).toBe('7 人');
    expect(r.container.querySelector('[data-bars="venues"] [data-row="baiyu"]')?.textContent).toContain('不足3人，不公开');
    // The main venue alone would give away baiyu's two: hidden with it.
    expect(r.container.querySelector('[data-bars="venues"] [data-row="main"]')?.textContent).toContain('为防推算，不公开');
    expect(text).not.toMatch(/\d+\s*票/);
    r.unmount();
    ({ conn } = connected('screen', { ...screen, evaluations: [r1, { id: 2, units: ['minzheng'], status: 'open', opened_at: 3 }] }));
    r = render(<App conn={conn} />);
    conn.stop();
    expect(r.container.querySelector('[data-mode]')?.getAttribute('data-mode')).toBe('evaluation');
    expect(r.container.querySelector('[data-previous="1"] h2')?.textContent).toBe('上一轮测评结果 · 第1轮');
    expect(r.container.querySelector('[data-previous="1"] [data-row="minzheng"] .bar-count')?.textContent).toBe('7 人');
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
