// The outbox: every command waits here, persisted in localStorage, until the
// server answers it with an `ack` or a non-retryable `error`.
//
// - Each command gets a stable client id when it is added; every resend
//   (after a reconnect, a reload, a `limit` or `unavailable` error) uses the
//   SAME id.
// - `limit` / `unavailable` (retryable) keep the entry and schedule a resend
//   with exponential backoff + jitter.
// - The server remembers the id of every command that changed something and
//   answers a repeated id with the original ack (protocol §4), so resending a
//   command whose answer was lost (dropped connection, reload) never runs it
//   twice. Before resending, the connection asks `reconcile` whether the
//   resumed state already shows the command's effect (exact facts only, see
//   `defaultReconcile`) to save round trips on weak links.

import { computed, signal, type ReadonlySignal } from '@preact/signals';
import type { AckDto, CommandDto, ErrorDto } from '../protocol.ts';
import { backoffDelay } from './backoff.ts';
import type { SessionState } from './state.ts';
import { randomId, readJson, writeJson, type KeyValueStore } from './storage.ts';

export interface OutboxEntry {
  /** Command id on the wire: stable across resends and reloads. */
  id: string;
  cmd: CommandDto;
  /** Local time the command was created (ms). */
  createdAt: number;
  /** How many times it has been written to a socket. */
  attempts: number;
  /** Local time of the first send, if any (for reconciliation). */
  firstSentAt?: number;
  /** Not before this local time (after a retryable error). */
  retryAt?: number;
  /** Retryable errors in a row (drives the backoff). */
  retries: number;
  lastError?: ErrorDto['code'];
}

export type Outcome =
  | { ok: true; ack?: AckDto; reconciled?: boolean }
  | { ok: false; error: ErrorDto };

export type SettleListener = (entry: OutboxEntry, outcome: Outcome) => void;

export interface OutboxOptions {
  store: KeyValueStore;
  /** localStorage key (per page and participant). */
  key: string;
  now?: () => number;
  random?: () => number;
  /** Retry backoff for `limit` / `unavailable` (ms). */
  retryBase?: number;
  retryMax?: number;
  /** Follow changes made by other tabs (`storage` events). Default true. */
  syncTabs?: boolean;
}

export class Outbox {
  readonly entries = signal<OutboxEntry[]>([]);
  readonly size: ReadonlySignal<number> = computed(() => this.entries.value.length);

  private readonly store: KeyValueStore;
  private readonly key: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly retryBase: number;
  private readonly retryMax: number;
  /** id → connection epoch it was last sent on (in memory: a reload means "not sent on this connection"). */
  private readonly sentOn = new Map<string, number>();
  private readonly waiters = new Map<string, Array<(o: Outcome) => void>>();
  private readonly listeners = new Set<SettleListener>();

  constructor(opts: OutboxOptions) {
    this.store = opts.store;
    this.key = opts.key;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.retryBase = opts.retryBase ?? 1000;
    this.retryMax = opts.retryMax ?? 30_000;
    this.entries.value = this.load();
    // Another tab of the same page and participant changed the stored outbox:
    // adopt it, so neither tab overwrites the other's commands.
    if (typeof window !== 'undefined' && opts.syncTabs !== false) {
      window.addEventListener('storage', (e) => {
        if (e.key === this.key) this.entries.value = this.load();
      });
    }
  }

  private load(): OutboxEntry[] {
    const loaded = readJson<OutboxEntry[]>(this.store, this.key, []);
    return Array.isArray(loaded) ? loaded.filter((e) => e && typeof e.id === 'string' && e.cmd) : [];
  }

  /** Queues a command; the promise resolves once it is settled (never rejects). */
  add(cmd: CommandDto, id: string = newCommandId()): { entry: OutboxEntry; done: Promise<Outcome> } {
    const existing = this.entries.value.find((e) => e.id === id);
    const entry: OutboxEntry = existing ?? { id, cmd, createdAt: this.now(), attempts: 0, retries: 0 };
    if (!existing) this.commit([...this.entries.value, entry]);
    const done = new Promise<Outcome>((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
    return { entry, done };
  }

  get(id: string): OutboxEntry | undefined {
    return this.entries.value.find((e) => e.id === id);
  }

  /** Entries to write on connection `conn` now, in creation order. */
  due(conn: number, now: number = this.now()): OutboxEntry[] {
    return this.entries.value.filter((e) => this.sentOn.get(e.id) !== conn && (e.retryAt === undefined || e.retryAt <= now));
  }

  /** How many entries were written to connection `conn` and await their answer. */
  inFlight(conn: number): number {
    let n = 0;
    for (const c of this.sentOn.values()) if (c === conn) n += 1;
    return n;
  }

  /** Earliest local time at which a currently waiting entry becomes due (after a retryable error). */
  nextRetryAt(): number | undefined {
    let min: number | undefined;
    for (const e of this.entries.value) if (e.retryAt !== undefined && (min === undefined || e.retryAt < min)) min = e.retryAt;
    return min;
  }

  /** Records that `id` was written to connection `conn`. */
  markSent(id: string, conn: number): void {
    const now = this.now();
    this.sentOn.set(id, conn);
    this.update(id, (e) => ({ ...e, attempts: e.attempts + 1, firstSentAt: e.firstSentAt ?? now, retryAt: undefined }));
  }

  /** Was this entry ever written to a socket (so its fate is unknown after a drop)? */
  wasSent(entry: OutboxEntry): boolean {
    return entry.attempts > 0;
  }

  /**
   * Handles the server's answer to a command. Returns what happened:
   * `settled` (removed), `retry` (kept, backoff scheduled) or `unknown`
   * (not one of ours, e.g. a ping).
   */
  handle(msg: ({ type: 'ack' } & AckDto) | ({ type: 'error' } & ErrorDto)): 'settled' | 'retry' | 'unknown' {
    if (msg.id === undefined) return 'unknown';
    const entry = this.get(msg.id);
    if (!entry) return 'unknown';
    if (msg.type === 'ack') {
      this.settle(entry, { ok: true, ack: msg });
      return 'settled';
    }
    if (msg.retryable) {
      this.sentOn.delete(entry.id);
      const retries = entry.retries + 1;
      const delay = backoffDelay(retries - 1, { base: this.retryBase, max: this.retryMax, random: this.random });
      this.update(entry.id, (e) => ({ ...e, retries, lastError: msg.code, retryAt: this.now() + delay }));
      return 'retry';
    }
    this.settle(entry, { ok: false, error: msg });
    return 'settled';
  }

  /** Removes an entry the state shows as done (reconciliation after a drop). */
  reconciled(id: string): void {
    const entry = this.get(id);
    if (entry) this.settle(entry, { ok: true, reconciled: true });
  }

  /** Drops an entry without an answer (e.g. the user cancelled it). */
  cancel(id: string, error: ErrorDto): void {
    const entry = this.get(id);
    if (entry) this.settle(entry, { ok: false, error });
  }

  /** The connection died: nothing is in flight on any live connection any more. */
  connectionLost(): void {
    this.sentOn.clear();
  }

  /** Listens to every settlement, including those of entries loaded from storage. */
  onSettled(listener: SettleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private settle(entry: OutboxEntry, outcome: Outcome): void {
    this.sentOn.delete(entry.id);
    this.commit(this.entries.value.filter((e) => e.id !== entry.id));
    for (const l of this.listeners) l(entry, outcome);
    const ws = this.waiters.get(entry.id);
    this.waiters.delete(entry.id);
    if (ws) for (const w of ws) w(outcome);
  }

  private update(id: string, f: (e: OutboxEntry) => OutboxEntry): void {
    this.commit(this.entries.value.map((e) => (e.id === id ? f(e) : e)));
  }

  private commit(next: OutboxEntry[]): void {
    this.entries.value = next;
    if (next.length === 0) this.store.remove(this.key);
    else writeJson(this.store, this.key, next);
  }
}

/** A fresh command id (≤ 64 characters as the protocol requires). */
export function newCommandId(): string {
  return `c-${randomId()}`.slice(0, 64);
}

/**
 * Does the state already show, exactly, the effect of a command whose answer
 * was lost with its connection? Then there is no need to resend it.
 *
 * Resending is always safe: the server remembers the id of every command
 * that changed something and answers a repeated id with the original ack
 * (protocol §4), and a ballot is idempotent by its `ballot_id` (§11). This
 * only saves round trips on a weak link, so it checks exact facts only:
 * a ballot with the same `ballot_id`, a check-in, one's own second, the
 * venue's floor request. Everything else: `unknown` (resend).
 */
export function defaultReconcile(entry: OutboxEntry, state: SessionState): 'done' | 'unknown' {
  const cmd = entry.cmd;
  switch (cmd.type) {
    case 'cast_ballot':
      return state.ballots.some((b) => b.receipt.ballot_id === cmd.ballot_id && b.receipt.evaluation === cmd.evaluation && b.receipt.unit === cmd.unit)
        ? 'done'
        : 'unknown';
    case 'check_in':
      return cmd.delegate in state.checkedIn ? 'done' : 'unknown';
    case 'request_check_in': {
      const me = state.you.delegate;
      return me !== undefined && (me in state.checkedIn || me in (state.checkInRequests ?? {})) ? 'done' : 'unknown';
    }
    case 'second_question':
      return state.you.role === 'delegate' && state.questions.some((q) => q.id === cmd.question && q.seconded_by_me) ? 'done' : 'unknown';
    case 'request_floor':
      return state.floorRequests.some((r) => r.question === cmd.question && r.venue === state.you.venue) ? 'done' : 'unknown';
    case 'rate_item':
      // A delegate's own follow-up rating is in the resumed item (`ratings.mine`).
      return state.you.role === 'delegate' && (state.items ?? []).some((i) => i.id === cmd.item && i.ratings.mine !== undefined) ? 'done' : 'unknown';
    default:
      return 'unknown';
  }
}
