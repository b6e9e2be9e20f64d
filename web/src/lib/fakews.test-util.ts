// A Connection over a fake WebSocket, for component tests of the pages.

import { cleanup } from '@testing-library/preact';
import { afterEach } from 'vitest';
import type { ServerMessage, SnapshotDto } from '../protocol.ts';
import { Connection } from './connection.ts';
import { snapshot } from './fixtures.test-util.ts';
import type { KeyValueStore } from './storage.ts';

export class FakeWS {
  static all: FakeWS[] = [];
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeWS.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
  }
  /** The network drops the socket. */
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  receive(msg: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  /** Every command of a type written to the socket, in order. */
  sentOf(type: string): Record<string, unknown>[] {
    return this.sent.filter((m) => m.type === type);
  }
  /** The last command of a type written to the socket. */
  lastSent(type: string): Record<string, unknown> | undefined {
    return [...this.sent].reverse().find((m) => m.type === type);
  }
  static last(): FakeWS {
    return FakeWS.all[FakeWS.all.length - 1];
  }
}

export function memStore(): KeyValueStore & { entries(): [string, string][] } {
  const data = new Map<string, string>();
  return { get: (k) => data.get(k) ?? null, set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k), entries: () => [...data.entries()] };
}

/** A started connection that has received `snapshot(seq, over)`. */
export function connected(page: string, over: Partial<SnapshotDto> = {}, seq = 10): { conn: Connection; ws: FakeWS } {
  const conn = new Connection({
    page,
    store: memStore(),
    location: { protocol: 'http:', host: 'venue.local', hash: `#token=tok-${page}` },
    WebSocketImpl: FakeWS as unknown as typeof WebSocket,
    online: () => true,
    random: () => 0.5,
    cacheState: false,
  });
  conn.start();
  const ws = FakeWS.last();
  ws.readyState = 1;
  ws.receive(snapshot(seq, over));
  return { conn, ws };
}

/**
 * The connections a test file opens (push each one): after every test the
 * page is unmounted, they are stopped and the fake sockets forgotten.
 */
export function openedConnections(): Connection[] {
  const conns: Connection[] = [];
  afterEach(() => {
    cleanup();
    for (const c of conns.splice(0)) c.stop();
    FakeWS.all = [];
  });
  return conns;
}
