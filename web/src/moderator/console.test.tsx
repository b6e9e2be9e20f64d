// The console rendered against a real Connection over a fake WebSocket:
// commands leave through the outbox, errors show next to their control, the
// auditor gets no controls, and the heartbeat keeps pinging.

import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SnapshotDto } from '../protocol.ts';
import { FakeWS, memStore } from '../lib/fakews.test-util.ts';
import { Connection } from '../lib/connection.ts';
import { event, question, snapshot, stats } from '../lib/fixtures.test-util.ts';
import { App } from './App.tsx';

const MOD = { role: 'moderator' as const, name: '县人大代表联络站主会场', venue: 'main' };
const delegates = [
  { id: 'd001', name: '赵安华', level: 'county' as const, venue: 'main' },
  { id: 'd002', name: '钱秀英', level: 'township' as const, venue: 'baiyu' },
];

let conns: Connection[] = [];

function start(over: Partial<SnapshotDto> = {}): { conn: Connection; ws: FakeWS } {
  const conn = new Connection({
    page: 'moderator',
    store: memStore(),
    location: { protocol: 'http:', host: 'venue.local', hash: '#token=tok-mod' },
    WebSocketImpl: FakeWS as unknown as typeof WebSocket,
    online: () => true,
    random: () => 0.5,
    cacheState: false,
  });
  conns.push(conn);
  conn.start();
  const ws = FakeWS.last();
  ws.readyState = 1;
  ws.receive(snapshot(10, { you: MOD, delegates, ...over }));
  render(<App conn={conn} />);
  return { conn, ws };
}

/** The element, or a throw (so `waitFor` keeps waiting). */
function $(selector: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(selector);
  if (!el) throw new Error(`no ${selector}`);
  return el;
}

/** The last command of a type the page wrote to the socket. */
function sentOf(ws: FakeWS, type: string): Record<string, unknown> | undefined {
  return [...ws.sent].reverse().find((m) => m.type === type);
}

beforeEach(() => {
  FakeWS.all = [];
});

afterEach(() => {
  cleanup();
  for (const c of conns) c.stop();
  conns = [];
});

describe('moderator console', () => {
  it('approves through the outbox and shows a refusal next to the question', async () => {
    const { ws } = start({ questions: [question(1, { status: 'pending', askers: ['d002'], text: '助餐点何时全覆盖？' })] });
    const item = (await screen.findByText('助餐点何时全覆盖？')).closest('li')!;
    expect(within(item).getByText(/钱秀英（乡镇人大代表）/)).toBeTruthy();
    fireEvent.click(within(item).getByRole('button', { name: '通过' }));
    await waitFor(() => expect(sentOf(ws, 'approve_question')).toMatchObject({ question: 1 }));
    const id = sentOf(ws, 'approve_question')!.id as string;
    expect(id).toMatch(/^c-/);
    ws.receive({ type: 'error', id, code: 'invalid_state', message: 'invalid state: question 1 is approved', retryable: false });
    const alert = await within(item).findByRole('alert');
    expect(alert.textContent).toContain('通过未成功：该问题已不是“待审核”状态');
  });

  it('requires a reason before rejecting', async () => {
    const { ws } = start({ questions: [question(1, { status: 'pending', askers: ['d002'] })] });
    const item = (await screen.findByText('问题 1')).closest('li')!;
    fireEvent.click(within(item).getByRole('button', { name: '驳回' }));
    fireEvent.click(within(item).getByRole('button', { name: '确认驳回' }));
    expect((await within(item).findByRole('alert')).textContent).toBe('请填写驳回理由');
    expect(sentOf(ws, 'reject_question')).toBeUndefined();
    fireEvent.input(within(item).getByLabelText('驳回理由（必填）'), { target: { value: '  与第2号问题重复 ' } });
    fireEvent.click(within(item).getByRole('button', { name: '确认驳回' }));
    await waitFor(() => expect(sentOf(ws, 'reject_question')).toMatchObject({ question: 1, reason: '与第2号问题重复' }));
  });

  it('reorders the queue with Alt+↓, at once, and restores the server order if refused', async () => {
    const { ws } = start({
      questions: [question(1, { status: 'queued' }), question(2, { status: 'queued' }), question(3, { status: 'queued' })],
      queue: [1, 2, 3],
    });
    const list = await waitFor(() => $('.queue-list'));
    expect(list.dataset.order).toBe('1,2,3');
    fireEvent.keyDown(list.querySelector('li[data-question="1"]')!, { key: 'ArrowDown', altKey: true });
    await waitFor(() => expect(sentOf(ws, 'reorder_queue')).toMatchObject({ order: [2, 1, 3] }));
    await waitFor(() => expect(list.dataset.order).toBe('2,1,3'));
    // The move buttons do the same.
    fireEvent.click(screen.getByRole('button', { name: '下移第2号问题' }));
    await waitFor(() => expect(sentOf(ws, 'reorder_queue')).toMatchObject({ order: [1, 2, 3] }));
    // Refused (the queue changed meanwhile): the server's order comes back, with the reason.
    for (const m of ws.sent.filter((x) => x.type === 'reorder_queue')) {
      ws.receive({ type: 'error', id: m.id as string, code: 'invalid_state', message: 'order', retryable: false });
    }
    await waitFor(() => expect(list.dataset.order).toBe('1,2,3'));
    expect((await screen.findAllByRole('alert'))[0].textContent).toContain('排队顺序已被更新');
  });

  it('says what is missing when ending the floor is refused', async () => {
    const { ws } = start({
      questions: [question(1, { status: 'on_floor', askers: ['d002'], follow_ups: [{ id: 4, venue: 'baiyu', asker: 'd002', text: '补贴由谁出？', by_operator: false, at: 1 }] })],
      floor: { question: 1, venue: 'baiyu', granted_at: 1, countdown_started_at: Date.now(), countdown_seconds: 300 },
    });
    expect((await screen.findByText(/尚缺：问题的答复、追问 4 的答复/)).textContent).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '结束本项' }));
    await waitFor(() => expect(sentOf(ws, 'end_floor')).toBeTruthy());
    ws.receive({ type: 'error', id: sentOf(ws, 'end_floor')!.id as string, code: 'invalid_state', message: 'not answered', retryable: false });
    const alert = await waitFor(() => $('.end-floor .action-error'));
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toContain('结束本项未成功');
    expect(alert.textContent).toContain('尚未记录答复：问题的答复、追问 4 的答复');
  });

  it('pauses the countdown, shows it standing still, gives a minute more and resumes', async () => {
    const { ws } = start({
      questions: [question(1, { status: 'on_floor' })],
      floor: { question: 1, venue: 'baiyu', granted_at: 1, countdown_started_at: Date.now(), countdown_seconds: 300 },
    });
    fireEvent.click(await screen.findByRole('button', { name: '暂停计时' }));
    await waitFor(() => expect(sentOf(ws, 'pause_countdown')).toBeTruthy());
    ws.receive(event(11, 'countdown_paused', [{ entity: 'floor', floor: { question: 1, venue: 'baiyu', granted_at: 1, countdown_started_at: 1, countdown_seconds: 300, paused_remaining: 95 } }]));
    ws.receive({ type: 'ack', id: sentOf(ws, 'pause_countdown')!.id as string, seq: 11 });
    const clock = await waitFor(() => $('[data-paused="true"]'));
    expect(clock.getAttribute('data-remaining')).toBe('95');
    expect(clock.textContent).toContain('1:35');
    fireEvent.click(screen.getByRole('button', { name: '加时 1 分钟' }));
    await waitFor(() => expect(sentOf(ws, 'extend_countdown')).toMatchObject({ seconds: 60 }));
    ws.receive({ type: 'ack', id: sentOf(ws, 'extend_countdown')!.id as string, seq: 12 });
    await waitFor(() => expect(screen.getByRole('button', { name: '继续计时' }).hasAttribute('disabled')).toBe(false));
    fireEvent.click(screen.getByRole('button', { name: '继续计时' }));
    await waitFor(() => expect(sentOf(ws, 'resume_countdown')).toBeTruthy());
  });

  it('上席 from the queue is one confirmed action naming the question, the venue and the time', async () => {
    const { ws } = start({
      session: { ...snapshot(1).session, phase: 'questioning' },
      questions: [question(1, { status: 'queued', venues: ['baiyu'] })],
      queue: [1],
    });
    const row = await waitFor(() => $('.queue-list li'));
    fireEvent.click(within(row as HTMLElement).getByRole('button', { name: '上席' }));
    const dialog = await screen.findByRole('dialog', { name: '确认上席' });
    expect(dialog.textContent).toContain('第1号问题由白羽街道分会场提问');
    expect(sentOf(ws, 'grant_floor')).toBeUndefined();
    fireEvent.click(within(dialog).getByRole('button', { name: '上席' }));
    await waitFor(() => expect(sentOf(ws, 'grant_floor')).toMatchObject({ question: 1, venue: 'baiyu' }));
  });

  it('validates the answer form, then sends the answer with its commitment', async () => {
    const { ws } = start({
      questions: [question(1, { status: 'on_floor', unit: 'minzheng' })],
      floor: { question: 1, venue: 'baiyu', granted_at: 1, countdown_started_at: Date.now(), countdown_seconds: 300 },
    });
    const form = (await waitFor(() => $('form[data-form="answer"]'))) as HTMLFormElement;
    fireEvent.click(within(form).getByRole('button', { name: '记录答复' }));
    expect((await within(form).findByRole('alert')).textContent).toBe('请先修正标出的内容');
    expect(sentOf(ws, 'record_answer')).toBeUndefined();
    fireEvent.input(within(form).getByLabelText('答复人（职务 姓名）'), { target: { value: '局长 王建华' } });
    fireEvent.input(within(form).getByLabelText('答复摘要'), { target: { value: '年底覆盖八成。' } });
    fireEvent.click(within(form).getByRole('button', { name: /添加承诺事项/ }));
    const row = await within(form).findByRole('group', { name: '承诺事项 1' });
    fireEvent.input(within(row).getByLabelText('事项'), { target: { value: '实现全覆盖' } });
    fireEvent.input(within(row).getByLabelText('完成时限'), { target: { value: '1999-12-31' } });
    fireEvent.click(within(form).getByRole('button', { name: '记录答复' }));
    await waitFor(() => expect(within(row).getByText('请输入有效日期（2000–2999 年）')).toBeTruthy());
    fireEvent.input(within(row).getByLabelText('完成时限'), { target: { value: '2026-12-31' } });
    fireEvent.click(within(form).getByRole('button', { name: '记录答复' }));
    await waitFor(() =>
      expect(sentOf(ws, 'record_answer')).toMatchObject({
        unit: 'minzheng',
        official: '局长 王建华',
        summary: '年底覆盖八成。',
        commitments: [{ what: '实现全覆盖', unit: 'minzheng', due: '2026-12-31' }],
      }),
    );
    expect(sentOf(ws, 'record_answer')!.follow_up).toBeUndefined();
  });

  it('keeps a command waiting while the store is unavailable, and says so', async () => {
    const { ws } = start({ questions: [question(1, { status: 'pending' })], stats: stats(10, { store_available: false }) });
    expect((await screen.findByText('存储不可用，操作将无法确认')).closest('[role="alert"]')).toBeTruthy();
    const item = screen.getByText('问题 1').closest('li')!;
    fireEvent.click(within(item).getByRole('button', { name: '通过' }));
    await waitFor(() => expect(sentOf(ws, 'approve_question')).toBeTruthy());
    ws.receive({ type: 'error', id: sentOf(ws, 'approve_question')!.id as string, code: 'unavailable', message: 'store', retryable: true });
    expect((await within(item).findByRole('status')).textContent).toBe('存储不可用，等待服务器确认（自动重试）');
    expect(within(item).queryByRole('alert')).toBeNull();
  });

  it('shows the server’s warnings as a banner', async () => {
    start({ stats: stats(10, { warnings: ['不安全的存储配置 unsafe store settings: fsync off'] }) });
    const banner = await screen.findByText(/不安全的存储配置/);
    expect(banner.closest('[data-banner="warnings"]')?.getAttribute('role')).toBe('alert');
  });

  it('flags a venue without a heartbeat for over a minute, and one without connections', async () => {
    const now = Date.now();
    const { ws } = start({
      server_time: now,
      stats: stats(10, {
        server_time: now,
        venues: [
          { venue: 'main', present: 1, roster: 1, connections: 1, last_seen: now - 5_000 } as never,
          { venue: 'baiyu', present: 1, roster: 2, connections: 3, last_seen: now - 75_000 } as never,
        ],
      }),
    });
    const main = await waitFor(() => $('#health tr[data-venue="main"]'));
    const baiyu = document.querySelector('#health tr[data-venue="baiyu"]') as HTMLElement;
    expect(main.dataset.problem).toBe('');
    expect(main.textContent).toMatch(/\d 秒前/);
    expect(baiyu.dataset.problem).toBe('stale');
    expect(baiyu.textContent).toContain('心跳超时');
    expect(baiyu.textContent).toContain('75 秒前');
    // A presence change keeps the heartbeat; a stats message with 0 connections flags it differently.
    ws.receive(event(11, 'checked_in', [{ entity: 'presence', venue: 'baiyu', present: 2, roster: 2 }]));
    await waitFor(() => expect(baiyu.querySelector('td[data-present]')!.textContent).toBe('2/2'));
    expect(baiyu.dataset.problem).toBe('stale');
    ws.receive({ type: 'stats', ...stats(12, { server_time: Date.now(), venues: [{ venue: 'main', present: 1, roster: 1, connections: 1 }, { venue: 'baiyu', present: 2, roster: 2, connections: 0 }] }) });
    await waitFor(() => expect(baiyu.dataset.problem).toBe('no_connection'));
    expect(baiyu.textContent).toContain('无连接');
  });

  it('shows turnout and ballots per unit while open, never a choice', async () => {
    start({
      session: { ...snapshot(1).session, phase: 'evaluation' },
      evaluations: [{ id: 1, units: ['minzheng'], status: 'open', opened_at: 1 }],
      stats: stats(10, {
        evaluation: {
          evaluation: 1,
          turnout: { voted: 5, eligible: 8, by_venue: [{ venue: 'main', voted: 3, eligible: 4 }, { venue: 'baiyu', voted: 2, eligible: 4 }] },
          ballots_by_unit: [{ unit: 'minzheng', ballots: 5 }],
        },
      }),
    });
    const live = await waitFor(() => $('#eval-live'));
    expect(live.querySelector('[data-turnout]')!.getAttribute('data-turnout')).toBe('5/8');
    expect(live.querySelector('[data-unit-ballots="minzheng"]')!.textContent).toContain('5');
    expect(live.querySelector('[data-sealed]')!.textContent).toContain('无记名');
    expect(live.querySelector('[data-matrix]')).toBeNull();
    expect(live.textContent).not.toMatch(/满意/);
  });

});

describe('phases and rounds, confirmed with the facts', () => {
  it('moving to the evaluation lists the approved questions never asked', async () => {
    start({
      session: { ...snapshot(1).session, phase: 'questioning' },
      questions: [question(1, { status: 'queued', text: '养老院床位何时增加？' }), question(2, { status: 'answered' })],
      queue: [1],
    });
    fireEvent.click(await screen.findByRole('button', { name: /进入下一阶段：满意度测评/ }));
    const dialog = await screen.findByRole('dialog', { name: '确认切换阶段' });
    expect(dialog.textContent).toContain('还有 1 个已通过的问题没有上席问政');
    expect(dialog.textContent).toContain('养老院床位何时增加？');
  });

  it('opening a round with nobody checked in warns before anything is sent', async () => {
    const { ws } = start({
      session: { ...snapshot(1).session, phase: 'evaluation' },
      questions: [question(1, { status: 'answered' })],
      stats: stats(10, { venues: [{ venue: 'main', present: 0, roster: 1 }, { venue: 'baiyu', present: 0, roster: 2 }] }),
    });
    const form = await waitFor(() => $('form[data-form="open-evaluation"]'));
    fireEvent.click(within(form).getByRole('button', { name: '开始测评' }));
    const dialog = await screen.findByRole('dialog', { name: '确认开始测评' });
    expect(dialog.textContent).toContain('目前已签到 0 / 3 名代表');
    expect(dialog.textContent).toContain('还没有任何代表签到');
    expect(ws.lastSent('open_evaluation')).toBeUndefined();
  });
});

describe('the action bar', () => {
  it('keeps 结束测评并揭晓结果 with the live turnout, confirmed, and only there', async () => {
    const { ws } = start({
      session: { ...snapshot(1).session, phase: 'evaluation' },
      evaluations: [{ id: 1, units: ['minzheng'], status: 'open', opened_at: 1 }],
      stats: stats(10, { evaluation: { evaluation: 1, turnout: { voted: 5, eligible: 8, by_venue: [] }, ballots_by_unit: [{ unit: 'minzheng', ballots: 5 }] } }),
    });
    const dock = await screen.findByRole('region', { name: '当前操作' });
    expect(dock.dataset.primary).toBe('close_evaluation');
    expect(dock.textContent).toContain('第1轮测评进行中');
    expect(dock.querySelector('[data-turnout]')!.textContent).toBe('已参评 5 / 应参评 8 · 62.5%');
    expect(screen.getAllByRole('button', { name: '结束测评并揭晓结果' })).toHaveLength(1);
    fireEvent.click(within(dock).getByRole('button', { name: '结束测评并揭晓结果' }));
    const dialog = await screen.findByRole('dialog', { name: '确认结束测评' });
    expect(ws.lastSent('close_evaluation')).toBeUndefined();
    fireEvent.click(within(dialog).getByRole('button', { name: '结束测评并揭晓结果' }));
    await waitFor(() => expect(sentOf(ws, 'close_evaluation')).toMatchObject({ evaluation: 1 }));
  });

  it('offers the head of the queue; 安排上席 fills the floor form instead', async () => {
    start({
      questions: [question(1, { status: 'queued', text: '助餐点何时全覆盖？' }), question(2, { status: 'queued' })],
      queue: [1, 2],
    });
    const dock = await screen.findByRole('region', { name: '当前操作' });
    expect(dock.dataset.primary).toBe('grant');
    expect(dock.textContent).toContain('下一项：第1号问题 · 白羽街道分会场');
    expect(dock.textContent).toContain('助餐点何时全覆盖？');
    // Moving on is there too, but not the highlighted action.
    expect(within(dock).getByRole('button', { name: /进入下一阶段：满意度测评/ }).className).not.toContain('primary');
    fireEvent.click(within(dock).getByRole('button', { name: '安排上席' }));
    const form = await waitFor(() => $('form[data-form="grant"]'));
    await waitFor(() => expect(document.activeElement).toBe(within(form).getByRole('button', { name: '上席' })));
  });

  it('with no round open it leads to choosing the units, on the evaluation tab', async () => {
    start({ session: { ...snapshot(1).session, phase: 'evaluation' }, questions: [question(1, { status: 'answered' })] });
    const dock = await screen.findByRole('region', { name: '当前操作' });
    expect(dock.textContent).toContain('尚未开始测评');
    fireEvent.click(within(dock).getByRole('button', { name: '选择单位并开始测评' }));
    await waitFor(() => expect(document.activeElement).toBe($('#eval-open input[type="checkbox"]')));
  });

  it('after the session it leads to the documents', async () => {
    start({ session: { ...snapshot(1).session, phase: 'closed' } });
    const dock = await screen.findByRole('region', { name: '当前操作' });
    fireEvent.click(within(dock).getByRole('button', { name: '打开文件与表格' }));
    await waitFor(() => expect($('button[data-tab="exports"]').getAttribute('aria-current')).toBe('page'));
    expect(within(dock).queryByRole('button', { name: '打开文件与表格' })).toBeNull();
  });

  it('during check-in the highlighted action is moving on, with who has checked in', async () => {
    start({ session: { ...snapshot(1).session, phase: 'check_in' } });
    const dock = await screen.findByRole('region', { name: '当前操作' });
    expect(dock.textContent).toContain('已签到 2 / 3 名代表');
    expect(within(dock).getByRole('button', { name: '进入下一阶段：问政进行中' }).className).toContain('primary');
  });
});

describe('the auditor', () => {
  it('gets the same console with no controls', async () => {
    start({
      you: { role: 'auditor', name: 'auditor' },
      questions: [question(1, { status: 'pending', askers: ['d002'] }), question(2, { status: 'queued' })],
      queue: [2],
      floor_requests: [{ question: 2, venue: 'baiyu', at: 1 }],
    });
    await screen.findByText('问题 1');
    expect(document.querySelector('.role-badge')!.textContent).toBe('审计 · 只读');
    for (const name of ['通过', '驳回', '合并', '编辑', '排队', '安排上席', '上席']) expect(screen.queryByRole('button', { name })).toBeNull();
    expect(screen.queryByRole('button', { name: /进入下一阶段/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /下移|上移/ })).toBeNull();
    expect(document.querySelector('form')).toBeNull();
    expect(document.querySelector('.queue-list li[draggable="true"]')).toBeNull();
  });

  it('sends another role to its own page, keeping the credential', async () => {
    start({ you: { role: 'delegate', name: '钱秀英', venue: 'baiyu', delegate: 'd002' } });
    expect((await screen.findByRole('alert')).textContent).toContain('不能在主持人控制台使用');
    // The link carries the credential in the fragment, as a card's link does.
    expect(screen.getByRole('link').getAttribute('href')).toBe('delegate.html#token=tok-mod');
  });
});

describe('the heartbeat', () => {
  it('pings every 20 s even while the server keeps talking', () => {
    vi.useFakeTimers();
    try {
      const conn = new Connection({
        page: 'moderator',
        store: memStore(),
        location: { protocol: 'http:', host: 'venue.local', hash: '#token=tok-hb' },
        WebSocketImpl: FakeWS as unknown as typeof WebSocket,
        online: () => true,
        random: () => 0.5,
        cacheState: false,
      });
      conn.start();
      const ws = FakeWS.last();
      ws.readyState = 1;
      ws.receive(snapshot(10, { you: MOD }));
      for (let i = 1; i <= 10; i++) {
        vi.advanceTimersByTime(2500);
        ws.receive({ type: 'stats', ...stats(10 + i) });
      }
      // 25 s of a chatty server: still one ping, so the venue's last_seen stays fresh.
      expect(ws.sent.filter((m) => m.type === 'ping').length).toBeGreaterThanOrEqual(1);
      conn.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
