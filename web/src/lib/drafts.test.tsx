import { fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AskForm } from '../delegate/Ask.tsx';
import { EvaluationTab } from '../delegate/Evaluation.tsx';
import { Connection, type PageLocation } from './connection.ts';
import { ballotId, createDrafts, persistedSignal, setRating } from './drafts.ts';
import { event, question, snapshot, stats } from './fixtures.test-util.ts';
import type { ServerMessage } from '../protocol.ts';
import type { KeyValueStore } from './storage.ts';

function memStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, get: (k) => data.get(k) ?? null, set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k) };
}

class FakeWS {
  static last: FakeWS;
  readyState = 1;
  sent: Array<Record<string, unknown>> = [];
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeWS.last = this;
  }
  send(d: string) {
    this.sent.push(JSON.parse(d));
  }
  close() {}
  receive(m: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
}

function connect(store = memStore()) {
  const location: PageLocation = { protocol: 'http:', host: 'h', hash: '#token=tok' };
  const conn = new Connection({ page: 'delegate', store, location, WebSocketImpl: FakeWS as unknown as typeof WebSocket, cacheState: false });
  conn.start();
  return conn;
}

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval'] }));
afterEach(() => vi.useRealTimers());

describe('drafts', () => {
  it('persistedSignal saves every change and reloads it', () => {
    const store = memStore();
    const a = persistedSignal(store, 'k', { text: '' });
    a.value = { text: '写了一半' };
    expect(persistedSignal(store, 'k', { text: '' }).value).toEqual({ text: '写了一半' });
  });

  it('live updates never touch drafts (signals)', () => {
    const conn = connect();
    const drafts = createDrafts(conn.store, conn.key(''));
    drafts.question.value = { topic: 'policy', unit: 'minzheng', text: '正在输入的问题', onBehalfOf: '' };
    drafts.ballots.value = setRating({}, 1, 'minzheng', 'satisfied');
    const ws = FakeWS.last;
    ws.receive(snapshot(10));
    ws.receive(event(11, 'question_approved', [{ entity: 'question', question: question(1, { text: '改了' }) }]));
    ws.receive(snapshot(20, { questions: [] })); // e.g. after a server restart
    ws.receive({ type: 'stats', ...stats(21) });
    expect(drafts.question.value.text).toBe('正在输入的问题');
    expect(drafts.ballots.value['1']).toEqual({ minzheng: 'satisfied' });
    conn.stop();
  });

  it('a question being typed survives live updates in the rendered form', async () => {
    const conn = connect();
    FakeWS.last.receive(snapshot(10));
    const drafts = createDrafts(conn.store, conn.key(''));
    const Form = () => (conn.state.value ? <AskForm conn={conn} state={conn.state.value} drafts={drafts} /> : null);
    render(<Form />);
    const box = screen.getByLabelText('问题内容') as HTMLTextAreaElement;
    fireEvent.input(box, { target: { value: '农村助餐点' } });
    expect(box.value).toBe('农村助餐点');
    expect(screen.getByText('已提问 0 / 10', { exact: false })).toBeTruthy();
    // Live updates arrive while typing: questions, phase, stats, a new snapshot.
    FakeWS.last.receive(event(11, 'question_submitted', [{ entity: 'question', question: question(2) }]));
    FakeWS.last.receive({ type: 'stats', ...stats(12) });
    FakeWS.last.receive(snapshot(13, { questions: [question(1), question(2), question(3, { askers: ['d002'] })] }));
    await Promise.resolve();
    // The form did re-render with the new state (own question count) …
    expect(screen.getByText('已提问 1 / 10', { exact: false })).toBeTruthy();
    // … and the text being typed is untouched.
    const after = screen.getByLabelText('问题内容') as HTMLTextAreaElement;
    expect(after.value).toBe('农村助餐点');
    expect(screen.getByText('5 / 500 字', { exact: false })).toBeTruthy();
    conn.stop();
  });

  it('a ballot being filled in survives live updates in the rendered form', async () => {
    const conn = connect();
    const ev = { id: 1, units: ['minzheng', 'weijian'], status: 'open' as const, opened_at: 1 };
    FakeWS.last.receive(snapshot(10, { session: { ...snapshot(10).session, phase: 'evaluation' }, evaluations: [ev] }));
    const drafts = createDrafts(conn.store, conn.key(''));
    const Tab = () => (conn.state.value ? <EvaluationTab conn={conn} state={conn.state.value} drafts={drafts} /> : null);
    render(<Tab />);
    const group = screen.getByRole('group', { name: '对 县民政局 的评价' });
    const radio = group.querySelector('input[value="basically_satisfied"]') as HTMLInputElement;
    fireEvent.click(radio);
    expect(drafts.ballots.value['1']).toEqual({ minzheng: 'basically_satisfied' });
    // Live stats and a fresh snapshot (same evaluation) arrive.
    FakeWS.last.receive({ type: 'stats', ...stats(11, { evaluation: { evaluation: 1, turnout: { voted: 5, eligible: 9, by_venue: [] }, ballots_by_unit: [] } }) });
    FakeWS.last.receive(snapshot(12, { session: { ...snapshot(12).session, phase: 'evaluation', units: [...snapshot(12).session.units, { id: 'caizheng', name: '县财政局' }] }, evaluations: [{ ...ev, units: [...ev.units, 'caizheng'] }] }));
    await Promise.resolve();
    // Re-rendered with the new state (a third unit) …
    expect(screen.getAllByRole('group')).toHaveLength(3);
    // … and the choice being made is still there.
    const again = screen.getByRole('group', { name: '对 县民政局 的评价' }).querySelector('input[value="basically_satisfied"]') as HTMLInputElement;
    expect(again.checked).toBe(true);
    conn.stop();
  });

  it('ballot ids are stable per (evaluation, unit), ≤ 64 characters, and distinct across units', () => {
    const store = memStore();
    const a = ballotId(store, 'p:', 1, 'minzheng');
    expect(ballotId(store, 'p:', 1, 'minzheng')).toBe(a);
    expect(ballotId(store, 'p:', 1, 'weijian')).not.toBe(a);
    expect(ballotId(store, 'p:', 2, 'minzheng')).not.toBe(a);
    expect(ballotId(store, 'p:', 1, 'x'.repeat(80)).length).toBeLessThanOrEqual(64);
  });
});
