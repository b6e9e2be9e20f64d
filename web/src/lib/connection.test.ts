import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection, resolveToken, wsUrl, type PageLocation } from './connection.ts';
import { EPOCH, event, question, snapshot, stats } from './fixtures.test-util.ts';
import { FakeWS } from './fakews.test-util.ts';
import type { KeyValueStore } from './storage.ts';

function memStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, get: (k) => data.get(k) ?? null, set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k) };
}

function loc(hash = '#token=tok-A'): PageLocation & { replaced: string[] } {
  const replaced: string[] = [];
  return { protocol: 'http:', host: 'venue.local:8080', hash, replaceHash: (h) => replaced.push(h), replaced };
}

function make(store = memStore(), location = loc(), online = () => true) {
  const conn = new Connection({
    page: 'delegate',
    store,
    location,
    online,
    WebSocketImpl: FakeWS as unknown as typeof WebSocket,
    random: () => 0.5,
  });
  return conn;
}

beforeEach(() => {
  FakeWS.all = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('token', () => {
  it('reads #token=, stores it per page, and removes it from the address bar', () => {
    const store = memStore();
    const l = loc('#token=abc%2Bdef');
    expect(resolveToken('delegate', l, store)).toBe('abc+def');
    expect(store.get('wz:delegate:token')).toBe('abc+def');
    expect(l.replaced).toEqual(['']);
    // A reload without the fragment uses the stored token.
    expect(resolveToken('delegate', loc(''), store)).toBe('abc+def');
    expect(resolveToken('screen', loc(''), store)).toBeNull();
  });

  it('puts the token only in the same-origin WebSocket URL, with the epoch and since', () => {
    expect(wsUrl({ protocol: 'http:', host: 'h:1' }, 'a b', null)).toBe('ws://h:1/ws?token=a+b');
    expect(wsUrl({ protocol: 'https:', host: 'h' }, 't', { epoch: EPOCH, seq: 42 })).toBe(`wss://h/ws?token=t&epoch=${EPOCH}&since=42`);
  });

  it('without a token the connection is fatal and opens no socket', () => {
    const conn = make(memStore(), loc(''));
    conn.start();
    expect(conn.fatal.value).toBe('no_token');
    expect(FakeWS.all).toHaveLength(0);
    conn.stop();
  });
});

describe('Connection', () => {
  it('connects, applies the snapshot, becomes connected, and resumes with epoch and since after a drop', () => {
    const conn = make();
    conn.start();
    expect(conn.status.value).toBe('connecting');
    const ws = FakeWS.last();
    expect(ws.url).toBe('ws://venue.local:8080/ws?token=tok-A');
    ws.open();
    ws.receive(snapshot(10));
    expect(conn.status.value).toBe('connected');
    ws.receive(event(12, 'question_approved', [{ entity: 'question', question: question(1, { text: '新' }) }]));
    expect(conn.state.value?.seq).toBe(12);

    ws.drop();
    expect(conn.status.value).toBe('reconnecting');
    // The old state stays on screen while reconnecting.
    expect(conn.state.value?.questions[0].text).toBe('新');
    vi.advanceTimersByTime(1000);
    const ws2 = FakeWS.last();
    expect(ws2).not.toBe(ws);
    expect(ws2.url).toBe(`ws://venue.local:8080/ws?token=tok-A&epoch=${EPOCH}&since=12`);
    ws2.open();
    ws2.receive({ type: 'stats', ...stats(14) });
    expect(conn.status.value).toBe('connected');
    expect(conn.state.value?.seq).toBe(14);
    conn.stop();
  });

  it('backs off exponentially with jitter and turns offline after repeated failures', () => {
    const conn = make();
    conn.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = FakeWS.all.length;
      FakeWS.last().drop();
      let waited = 0;
      while (FakeWS.all.length === before) {
        vi.advanceTimersByTime(50);
        waited += 50;
      }
      delays.push(waited);
    }
    // random 0.5 → 3/4 of 500·2ⁿ
    expect(delays).toEqual([400, 750, 1500, 3000, 6000]);
    FakeWS.last().drop();
    expect(conn.status.value).toBe('offline');
    conn.stop();
  });

  it('sends queued commands only once in sync, and resends the same id after a reconnect', () => {
    const conn = make();
    conn.start();
    let ws = FakeWS.last();
    ws.open();
    const done = conn.send({ type: 'cast_ballot', ballot_id: 'b1', evaluation: 1, unit: 'minzheng', rating: 'satisfied' });
    expect(ws.sent).toHaveLength(0); // not in sync yet
    expect(conn.pending.value).toBe(1);
    ws.receive(snapshot(10));
    expect(ws.sent).toHaveLength(1);
    const id = ws.sent[0].id;
    expect(ws.sent[0]).toMatchObject({ type: 'cast_ballot', ballot_id: 'b1' });

    ws.drop();
    vi.advanceTimersByTime(1000);
    ws = FakeWS.last();
    ws.open();
    ws.receive({ type: 'stats', ...stats(10) });
    expect(ws.sent.map((m) => m.id)).toEqual([id]);

    const receipt = { evaluation: 1, unit: 'minzheng', ballot_id: 'b1', rating: 'satisfied' as const, seq: 11, at: 1, code: 'abc' };
    ws.receive({ type: 'event', seq: 11, at: 1, kind: 'ballot_cast', changes: [{ entity: 'ballot', ballot: { delegate: 'd002', venue: 'baiyu', receipt } }] });
    ws.receive({ type: 'ack', id: String(id), seq: 11, result: { receipt } });
    expect(conn.pending.value).toBe(0);
    expect(conn.state.value?.ballots).toHaveLength(1);
    return expect(done).resolves.toMatchObject({ ok: true });
  });

  it('keeps the outbox across a reload and sends it with the same id', () => {
    const store = memStore();
    const a = make(store);
    a.start();
    a.send({ type: 'check_in', delegate: 'd002' });
    const id = a.outbox.entries.value[0].id;
    a.stop();

    const b = make(store, loc(''));
    b.start();
    const ws = FakeWS.last();
    ws.open();
    ws.receive(snapshot(3, { checked_in: [] }));
    expect(ws.sent.map((m) => m.id)).toEqual([id]);
    b.stop();
  });

  it('resends a question whose ack was lost, with the same id (the server answers it with the original ack)', () => {
    const conn = make();
    conn.start();
    let ws = FakeWS.last();
    ws.open();
    ws.receive(snapshot(10, { questions: [] }));
    conn.send({ type: 'submit_question', topic: 'policy', unit: 'minzheng', text: '何时？' });
    const id = ws.sent[0].id;
    ws.drop(); // the ack was lost with the connection
    vi.advanceTimersByTime(1000);
    ws = FakeWS.last();
    ws.open();
    ws.receive(event(11, 'question_submitted', [{ entity: 'question', question: question(5, { status: 'pending', text: '何时？', askers: ['d002'] }) }]));
    ws.receive({ type: 'stats', ...stats(11) });
    expect(ws.sent.map((m) => m.id)).toEqual([id]);
    ws.receive({ type: 'ack', id: String(id), seq: 11, result: { question: 5 } });
    expect(conn.pending.value).toBe(0);
    conn.stop();
  });

  it('does not resend a ballot the resumed state already shows', () => {
    const conn = make();
    conn.start();
    let ws = FakeWS.last();
    ws.open();
    ws.receive(snapshot(10));
    conn.send({ type: 'cast_ballot', ballot_id: 'b9', evaluation: 1, unit: 'minzheng', rating: 'dissatisfied' });
    ws.drop();
    vi.advanceTimersByTime(1000);
    ws = FakeWS.last();
    ws.open();
    const receipt = { evaluation: 1, unit: 'minzheng', ballot_id: 'b9', rating: 'dissatisfied' as const, seq: 11, at: 1, code: 'abc' };
    ws.receive(event(11, 'ballot_cast', [{ entity: 'ballot', ballot: { delegate: 'd002', venue: 'baiyu', receipt } }]));
    ws.receive({ type: 'stats', ...stats(11) });
    expect(ws.sent).toHaveLength(0);
    expect(conn.pending.value).toBe(0);
    conn.stop();
  });

  it('stops on 1008 unauthorized and forgets the token', () => {
    const store = memStore();
    const conn = make(store);
    conn.start();
    FakeWS.last().drop(1008);
    expect(conn.fatal.value).toBe('unauthorized');
    expect(store.get('wz:delegate:token')).toBeNull();
    vi.advanceTimersByTime(60_000);
    expect(FakeWS.all).toHaveLength(1);
    conn.stop();
  });

  it('stops on 4010 revoked', () => {
    const conn = make();
    conn.start();
    FakeWS.last().drop(4010);
    expect(conn.fatal.value).toBe('revoked');
    conn.stop();
  });

  it('retries a rate-limited command with the same id after a backoff', () => {
    const conn = make();
    conn.start();
    const ws = FakeWS.last();
    ws.open();
    ws.receive(snapshot(10));
    conn.send({ type: 'second_question', question: 1 });
    const id = ws.sent[0].id as string;
    ws.receive({ type: 'error', id, code: 'limit', message: 'slow', retryable: true });
    expect(conn.pending.value).toBe(1);
    vi.advanceTimersByTime(2000);
    expect(ws.sent.map((m) => m.id)).toEqual([id, id]);
    ws.receive({ type: 'error', id, code: 'already_done', message: 'x', retryable: false });
    expect(conn.pending.value).toBe(0);
    conn.stop();
  });

  it('pings when idle and drops a silent socket', () => {
    const conn = make();
    conn.start();
    const ws = FakeWS.last();
    ws.open();
    ws.receive(snapshot(10));
    vi.advanceTimersByTime(21_000);
    expect(ws.sent.some((m) => m.type === 'ping')).toBe(true);
    vi.advanceTimersByTime(15_000);
    expect(conn.status.value).not.toBe('connected');
    vi.advanceTimersByTime(2000);
    expect(FakeWS.all.length).toBeGreaterThan(1);
    conn.stop();
  });

  it('caches the state with its epoch so a reload shows it at once and resumes from (epoch, seq)', () => {
    const store = memStore();
    const a = make(store);
    a.start();
    const ws = FakeWS.last();
    ws.open();
    ws.receive(snapshot(10));
    a.stop();
    const b = make(store, loc(''));
    expect(b.state.value?.seq).toBe(10);
    expect(b.state.value?.epoch).toBe(EPOCH);
    b.start();
    expect(FakeWS.last().url).toContain(`epoch=${EPOCH}&since=10`);
    b.stop();
  });

  it('does not resume from a cached state without an epoch (cached by an older build)', () => {
    const store = memStore();
    const a = make(store);
    a.start();
    FakeWS.last().open();
    FakeWS.last().receive(snapshot(10));
    a.stop();
    const key = [...store.data.keys()].find((k) => k.endsWith(':state'))!;
    const cached = JSON.parse(store.get(key)!);
    delete cached.epoch;
    store.set(key, JSON.stringify(cached));
    const b = make(store, loc(''));
    expect(b.state.value?.seq).toBe(10); // still shown at once
    b.start();
    expect(FakeWS.last().url).toBe('ws://venue.local:8080/ws?token=tok-A');
    b.stop();
  });

  it('takes a snapshot of another epoch as the whole new state and resumes in it', () => {
    const conn = make();
    conn.start();
    let ws = FakeWS.last();
    ws.open();
    ws.receive(snapshot(40, { questions: [question(1), question(2)] }));
    ws.drop();
    vi.advanceTimersByTime(1000);
    ws = FakeWS.last();
    ws.open();
    // The session was created again: its history restarts under a new epoch.
    ws.receive(snapshot(3, { epoch: 'fedcba9876543210', questions: [] }));
    expect(conn.state.value?.seq).toBe(3);
    expect(conn.state.value?.questions).toEqual([]);
    ws.drop();
    vi.advanceTimersByTime(1000);
    expect(FakeWS.last().url).toContain('epoch=fedcba9876543210&since=3');
    conn.stop();
  });

  it('on 4409 replaced stops reconnecting, keeps the token and the state, and reconnects here on request', () => {
    const store = memStore();
    const conn = make(store);
    conn.start();
    const ws = FakeWS.last();
    ws.open();
    ws.receive(snapshot(10));
    ws.drop(4409);
    expect(conn.fatal.value).toBe('replaced');
    vi.advanceTimersByTime(60_000);
    expect(FakeWS.all).toHaveLength(1); // no tug of war with the newer tab
    expect(store.get('wz:delegate:token')).toBe('tok-A');
    expect(conn.state.value?.seq).toBe(10);
    conn.reconnectHere();
    expect(conn.fatal.value).toBeNull();
    expect(FakeWS.all).toHaveLength(2);
    expect(FakeWS.last().url).toContain(`epoch=${EPOCH}&since=10`);
    conn.stop();
  });

  it('on 4400 bad_request drops its position and asks for a snapshot; stops with the reason if that is refused too', () => {
    const conn = make();
    conn.start();
    let ws = FakeWS.last();
    ws.open();
    ws.receive(snapshot(10));
    ws.drop();
    vi.advanceTimersByTime(1000);
    ws = FakeWS.last();
    expect(ws.url).toContain('since=10');
    ws.open();
    ws.receive({ type: 'error', code: 'bad_message', message: 'the `since` parameter must be a whole number', retryable: false });
    ws.drop(4400);
    expect(conn.fatal.value).toBeNull();
    vi.advanceTimersByTime(1000);
    ws = FakeWS.last();
    expect(ws.url).toBe('ws://venue.local:8080/ws?token=tok-A');
    ws.open();
    ws.receive({ type: 'error', code: 'bad_message', message: 'the `epoch` parameter is given more than once', retryable: false });
    ws.drop(4400);
    expect(conn.fatal.value).toBe('bad_request');
    expect(conn.fatalDetail.value).toContain('`epoch`');
    const sockets = FakeWS.all.length;
    vi.advanceTimersByTime(60_000);
    expect(FakeWS.all).toHaveLength(sockets);
    conn.stop();
  });

  it('keeps participants apart: another token gets its own outbox', () => {
    const store = memStore();
    const a = make(store);
    a.send({ type: 'check_in', delegate: 'd002' });
    const b = make(store, loc('#token=tok-B'));
    expect(b.pending.value).toBe(0);
    expect(a.key('x')).not.toBe(b.key('x'));
  });
});
