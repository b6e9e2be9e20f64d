// A reconnecting WebSocket client for one page and one credential.
//
// - Token: read from the URL fragment `#token=…` (never sent to the server as
//   part of a page request), kept in localStorage per page so a reload works,
//   and removed from the address bar. It is sent only in the WebSocket URL.
// - Supervisor: exponential backoff with jitter; reconnects at once when the
//   browser comes back online or the page becomes visible again; an
//   application ping detects dead connections that TCP would keep "open".
// - Resume: `?epoch=<snapshot.epoch>&since=<last applied seq>`. The last state
//   (with its epoch) is cached in localStorage, so even a reload resumes
//   instead of downloading a snapshot, and the page has something to show
//   before the network answers. Without a valid epoch the client asks for a
//   snapshot: a seq from another incarnation of the session means nothing.
// - Close 4409 `replaced` (a newer connection of the same credential took
//   this one's place): the page stops and offers to reconnect here, rather
//   than two tabs replacing each other forever. Close 4400 `bad_request` (the
//   server could not read our resume parameters): forget the position and
//   connect for a snapshot; if even that is refused, stop and say so.
// - The old state stays on screen until the new snapshot or events are
//   applied: nothing is cleared on a disconnect.
// - Commands go through the persisted outbox (outbox.ts) and are (re)sent once
//   the connection is in sync (after the snapshot, or the resume's `stats`).

import { batch, computed, signal, type ReadonlySignal } from '@preact/signals';
import type { CommandDto, ServerMessage } from '../protocol.ts';
import { backoffDelay } from './backoff.ts';
import { defaultReconcile, Outbox, type OutboxEntry, type Outcome } from './outbox.ts';
import { applyMessage, resumePosition, type SessionState } from './state.ts';
import { fingerprint, readJson, storage as defaultStorage, writeJson, type KeyValueStore } from './storage.ts';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline';
export type FatalReason = 'no_token' | 'unauthorized' | 'revoked' | 'replaced' | 'bad_request';

/** A position in the session's history (docs/protocol.md §3). */
export interface ResumeFrom {
  epoch: string;
  seq: number;
}

/** The parts of `window.location` / `history` the connection needs (injectable for tests). */
export interface PageLocation {
  protocol: string;
  host: string;
  hash: string;
  replaceHash?: (hash: string) => void;
}

export interface ConnectionOptions {
  /** Page name: namespaces the stored token, outbox, drafts and state cache. */
  page: string;
  store?: KeyValueStore;
  location?: PageLocation;
  WebSocketImpl?: typeof WebSocket;
  /** Is the browser online (navigator.onLine)? */
  online?: () => boolean;
  reconcile?: (entry: OutboxEntry, state: SessionState) => 'done' | 'unknown';
  backoffBase?: number;
  backoffMax?: number;
  /** Send an application ping after this long without any message (ms). */
  pingAfterMs?: number;
  /** Give up on the socket after this long without any message (ms). */
  deadAfterMs?: number;
  /** Give up on a connection attempt that has not synced after this long (ms). */
  connectTimeoutMs?: number;
  /** Cache the last state in storage so a reload resumes (default true). */
  cacheState?: boolean;
  random?: () => number;
}

const MAX_IN_FLIGHT = 30;

/** Reads `#token=` from the fragment (then drops it from the address bar), else the stored token of this page. */
export function resolveToken(page: string, loc: PageLocation, store: KeyValueStore): string | null {
  const key = `wz:${page}:token`;
  const hash = loc.hash.startsWith('#') ? loc.hash.slice(1) : loc.hash;
  const fromHash = new URLSearchParams(hash).get('token');
  if (fromHash) {
    store.set(key, fromHash);
    loc.replaceHash?.('');
    return fromHash;
  }
  return store.get(key);
}

/** The WebSocket URL on the page's own origin. */
export function wsUrl(loc: Pick<PageLocation, 'protocol' | 'host'>, token: string, from: ResumeFrom | null): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = new URLSearchParams({ token });
  if (from !== null) {
    q.set('epoch', from.epoch);
    q.set('since', String(from.seq));
  }
  return `${scheme}//${loc.host}/ws?${q.toString()}`;
}

function browserLocation(): PageLocation {
  return {
    protocol: location.protocol,
    host: location.host,
    hash: location.hash,
    replaceHash: () => history.replaceState(null, '', location.pathname + location.search),
  };
}

export class Connection {
  /** The session as this viewer sees it; null until the first snapshot (or cached state). */
  readonly state = signal<SessionState | null>(null);
  readonly status = signal<ConnectionStatus>('connecting');
  /**
   * Set when reconnecting on our own cannot help: no token, an unknown or
   * revoked credential, a request the server cannot read, or this connection
   * was replaced by a newer one of the same credential (`reconnectHere()`).
   */
  readonly fatal = signal<FatalReason | null>(null);
  /** The server's explanation that came with a fatal close, if any (shown as text). */
  readonly fatalDetail = signal<string | null>(null);
  readonly outbox: Outbox;
  /** Commands waiting to be sent or answered. */
  readonly pending: ReadonlySignal<number>;
  readonly token: string | null;
  /** Storage key prefix of this page and participant: `wz:<page>:<fingerprint>:`. */
  readonly prefix: string;
  readonly store: KeyValueStore;

  private readonly opts: Required<Omit<ConnectionOptions, 'store' | 'location' | 'WebSocketImpl' | 'online' | 'reconcile' | 'random'>>;
  private readonly loc: PageLocation;
  private readonly WS: typeof WebSocket;
  private readonly online: () => boolean;
  private readonly reconcile: (entry: OutboxEntry, state: SessionState) => 'done' | 'unknown';
  private readonly random: () => number;

  private ws: WebSocket | null = null;
  /** Counts sockets: messages of an older socket are ignored. */
  private socketGen = 0;
  /** Where the current socket resumed from (null: asked for a snapshot). */
  private resumedFrom: ResumeFrom | null = null;
  /** The server refused our position as malformed: ask for a snapshot next. */
  private skipResume = false;
  /** The last error without a command id (e.g. a malformed query), for a fatal close. */
  private lastUntargetedError: string | null = null;
  private synced = false;
  private everSynced = false;
  private attempt = 0;
  private lastRx = 0;
  private lastTx = 0;
  private lastPing = 0;
  private pingSeq = 0;
  private started = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private cacheTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly cleanups: Array<() => void> = [];

  constructor(options: ConnectionOptions) {
    this.store = options.store ?? defaultStorage;
    this.loc = options.location ?? browserLocation();
    this.WS = options.WebSocketImpl ?? globalThis.WebSocket;
    this.online = options.online ?? (() => (typeof navigator === 'undefined' ? true : navigator.onLine !== false));
    this.reconcile = options.reconcile ?? defaultReconcile;
    this.random = options.random ?? Math.random;
    this.opts = {
      page: options.page,
      backoffBase: options.backoffBase ?? 500,
      backoffMax: options.backoffMax ?? 15_000,
      pingAfterMs: options.pingAfterMs ?? 20_000,
      deadAfterMs: options.deadAfterMs ?? 35_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
      cacheState: options.cacheState ?? true,
    };
    this.token = resolveToken(options.page, this.loc, this.store);
    this.prefix = `wz:${options.page}:${this.token ? fingerprint(this.token) : 'none'}:`;
    this.outbox = new Outbox({ store: this.store, key: `${this.prefix}outbox`, random: this.random });
    this.pending = computed(() => this.outbox.size.value);
    if (this.opts.cacheState && this.token) {
      const cached = readJson<SessionState | null>(this.store, `${this.prefix}state`, null);
      // A state cached by a build before the follow-up has no items: resuming
      // from it would never bring them (they are in snapshots), so ignore it.
      if (cached && typeof cached.seq === 'number' && cached.session && Array.isArray(cached.items) && cached.board) this.state.value = cached;
    }
  }

  /** Starts connecting (and listening to online/offline/visibility events). */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (!this.token) {
      this.fatal.value = 'no_token';
      this.status.value = 'offline';
      return;
    }
    if (typeof window !== 'undefined') {
      const onOnline = () => this.reconnectNow();
      const onOffline = () => {
        this.status.value = 'offline';
        // Do not wait for TCP to notice: the outbox keeps everything.
        this.dropSocket();
        this.scheduleReconnect();
      };
      const onVisible = () => {
        if (document.visibilityState === 'visible' && !this.synced) this.reconnectNow();
      };
      const onHide = () => this.saveState();
      window.addEventListener('online', onOnline);
      window.addEventListener('offline', onOffline);
      document.addEventListener('visibilitychange', onVisible);
      window.addEventListener('pagehide', onHide);
      this.cleanups.push(() => {
        window.removeEventListener('online', onOnline);
        window.removeEventListener('offline', onOffline);
        document.removeEventListener('visibilitychange', onVisible);
        window.removeEventListener('pagehide', onHide);
      });
    }
    this.watchdog = setInterval(() => this.checkAlive(), 1000);
    this.connect();
  }

  /** Closes the socket and stops reconnecting. */
  stop(): void {
    this.started = false;
    for (const c of this.cleanups.splice(0)) c();
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    this.saveState();
    this.dropSocket();
  }

  /** Queues a command in the outbox and sends it as soon as possible. */
  send(cmd: CommandDto, id?: string): Promise<Outcome> {
    const { done } = this.outbox.add(cmd, id);
    this.flush();
    return done;
  }

  /** A storage key for this page and participant (drafts, ballot ids…). */
  key(name: string): string {
    return this.prefix + name;
  }

  /** Forces an immediate reconnect attempt (resets the backoff). */
  reconnectNow(): void {
    if (!this.started || this.fatal.value) return;
    this.attempt = 0;
    if (this.synced) return;
    clearTimeout(this.reconnectTimer);
    this.dropSocket();
    this.connect();
  }

  // -------------------------------------------------------------------------

  private connect(): void {
    if (!this.token || this.fatal.value) return;
    clearTimeout(this.reconnectTimer);
    const gen = ++this.socketGen;
    this.synced = false;
    this.status.value = !this.everSynced && this.attempt === 0 ? 'connecting' : this.online() && this.attempt <= 3 ? 'reconnecting' : 'offline';
    const from = this.skipResume ? null : resumePosition(this.state.value);
    this.resumedFrom = from;
    this.lastUntargetedError = null;
    let ws: WebSocket;
    try {
      ws = new this.WS(wsUrl(this.loc, this.token, from));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.lastRx = Date.now();
    this.lastTx = Date.now();
    this.lastPing = 0;
    ws.onmessage = (ev: MessageEvent) => {
      if (gen !== this.socketGen) return;
      this.onMessage(ev.data);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (gen !== this.socketGen) return;
      this.onClose(ev.code);
    };
    ws.onerror = () => {
      /* a close event follows */
    };
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: ServerMessage;
    try {
      msg = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    this.lastRx = Date.now();
    batch(() => {
      this.state.value = applyMessage(this.state.value, msg, this.lastRx);
      if (msg.type === 'ack' || msg.type === 'error') this.outbox.handle(msg);
      if (msg.type === 'error' && msg.id === undefined) this.lastUntargetedError = msg.message;
      if (msg.type === 'snapshot') this.skipResume = false;
      if (!this.synced && (msg.type === 'snapshot' || (msg.type === 'stats' && this.state.value))) {
        this.synced = true;
        this.everSynced = true;
        this.attempt = 0;
        this.status.value = 'connected';
        this.reconcileOutbox();
      }
    });
    if (msg.type === 'snapshot') this.saveState();
    else this.saveStateSoon();
    this.flush();
  }

  private onClose(code: number): void {
    this.ws = null;
    this.synced = false;
    this.outbox.connectionLost();
    if (code === 1008) {
      this.fail('unauthorized');
      return;
    }
    if (code === 4010) {
      this.fail('revoked');
      return;
    }
    if (code === 4409) {
      // Another tab or device of this credential is newer. Reconnecting on
      // our own would replace it in turn, forever: stop, keep the token and
      // the cached state, and let the user choose this page (reconnectHere).
      this.stopFor('replaced');
      return;
    }
    if (code === 4400) {
      if (this.resumedFrom !== null) {
        // Our cached position was unreadable to the server: drop it and ask for a snapshot.
        this.skipResume = true;
        this.scheduleReconnect();
      } else {
        this.stopFor('bad_request', this.lastUntargetedError);
      }
      return;
    }
    if (code === 4029) this.attempt = Math.max(this.attempt, 4);
    this.scheduleReconnect();
  }

  /** Stops reconnecting for `reason`, keeping the token and the cached state. */
  private stopFor(reason: FatalReason, detail: string | null = null): void {
    this.saveState(); // before `fatal` is set: saveState skips fatal connections
    batch(() => {
      this.fatal.value = reason;
      this.fatalDetail.value = detail;
      this.status.value = 'offline';
    });
  }

  /** After `replaced` (or `bad_request`): connect again from this page. */
  reconnectHere(): void {
    if (!this.started || !this.token) return;
    if (this.fatal.value !== 'replaced' && this.fatal.value !== 'bad_request') return;
    batch(() => {
      this.fatal.value = null;
      this.fatalDetail.value = null;
    });
    this.attempt = 0;
    this.dropSocket();
    this.connect();
  }

  private fail(reason: FatalReason): void {
    batch(() => {
      this.fatal.value = reason;
      this.status.value = 'offline';
    });
    // The credential is dead: forget it and whatever this page cached for it.
    this.store.remove(`wz:${this.opts.page}:token`);
    this.store.remove(`${this.prefix}state`);
  }

  private scheduleReconnect(): void {
    if (!this.started || this.fatal.value) return;
    clearTimeout(this.reconnectTimer);
    const delay = backoffDelay(this.attempt, { base: this.opts.backoffBase, max: this.opts.backoffMax, random: this.random });
    this.attempt += 1;
    this.status.value = this.online() && this.attempt <= 3 ? 'reconnecting' : 'offline';
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private dropSocket(): void {
    const ws = this.ws;
    this.ws = null;
    this.synced = false;
    this.socketGen += 1; // ignore whatever the old socket still says
    this.outbox.connectionLost();
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      ws.onerror = null;
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
  }

  private checkAlive(): void {
    const ws = this.ws;
    if (!ws) return;
    const now = Date.now();
    const idle = now - this.lastRx;
    if (!this.synced) {
      if (idle > this.opts.connectTimeoutMs) {
        this.dropSocket();
        this.scheduleReconnect();
      }
      return;
    }
    if (idle > this.opts.deadAfterMs) {
      this.dropSocket();
      this.scheduleReconnect();
      return;
    }
    // Also ping after as long without sending anything: the server counts a
    // venue's heartbeat (`stats.venues[].last_seen`, on the moderator's venue
    // board) from client messages only, and a lively session never goes quiet.
    const quiet = now - this.lastTx;
    if ((idle > this.opts.pingAfterMs || quiet > this.opts.pingAfterMs) && now - this.lastPing > this.opts.pingAfterMs) {
      this.lastPing = now;
      this.pingSeq += 1;
      this.rawSend({ id: `ping-${this.pingSeq}`, type: 'ping' });
    }
  }

  /** Before the first flush on a new connection: drop entries the state already shows as done. */
  private reconcileOutbox(): void {
    const state = this.state.value;
    if (!state) return;
    for (const entry of this.outbox.entries.value) {
      if (this.outbox.wasSent(entry) && this.reconcile(entry, state) === 'done') this.outbox.reconciled(entry.id);
    }
  }

  private flush(): void {
    clearTimeout(this.retryTimer);
    if (!this.synced || !this.ws) return;
    const inFlight = this.outbox.inFlight(this.socketGen);
    const due = this.outbox.due(this.socketGen).slice(0, Math.max(0, MAX_IN_FLIGHT - inFlight));
    for (const entry of due) {
      if (!this.rawSend({ id: entry.id, ...entry.cmd })) break;
      this.outbox.markSent(entry.id, this.socketGen);
    }
    const next = this.outbox.nextRetryAt();
    if (next !== undefined) this.retryTimer = setTimeout(() => this.flush(), Math.max(0, next - Date.now()) + 10);
  }

  private rawSend(msg: object): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return false;
    try {
      ws.send(JSON.stringify(msg));
      this.lastTx = Date.now();
      return true;
    } catch {
      return false;
    }
  }

  private saveStateSoon(): void {
    if (!this.opts.cacheState || this.cacheTimer !== undefined) return;
    this.cacheTimer = setTimeout(() => {
      this.cacheTimer = undefined;
      this.saveState();
    }, 2000);
  }

  private saveState(): void {
    if (!this.opts.cacheState || !this.token || this.fatal.value) return;
    if (this.state.value) writeJson(this.store, `${this.prefix}state`, this.state.value);
  }
}
