import { describe, expect, it } from 'vitest';
import type { CommandDto } from '../protocol.ts';
import { backoffDelay } from './backoff.ts';
import { question, snapshot } from './fixtures.test-util.ts';
import { defaultReconcile, Outbox, type OutboxEntry } from './outbox.ts';
import { applySnapshot } from './state.ts';
import type { KeyValueStore } from './storage.ts';

function memStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, get: (k) => data.get(k) ?? null, set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k) };
}

const ballot: CommandDto = { type: 'cast_ballot', ballot_id: 'b1-x-minzheng', evaluation: 1, unit: 'minzheng', rating: 'satisfied' };
const ask: CommandDto = { type: 'submit_question', topic: 'policy', unit: 'minzheng', text: ' 何时全覆盖？ ' };

describe('Outbox', () => {
  it('persists entries and survives a reload with the same ids', () => {
    const store = memStore();
    const a = new Outbox({ store, key: 'k' });
    const { entry } = a.add(ballot);
    a.add(ask);
    expect(a.size.value).toBe(2);
    expect(entry.id).toMatch(/^c-/);
    expect(entry.id.length).toBeLessThanOrEqual(64);

    const reloaded = new Outbox({ store, key: 'k' });
    expect(reloaded.entries.value.map((e) => e.id)).toEqual(a.entries.value.map((e) => e.id));
    expect(reloaded.entries.value[0].cmd).toEqual(ballot);
  });

  it('resends the SAME id on every new connection until answered', () => {
    const ob = new Outbox({ store: memStore(), key: 'k' });
    const { entry } = ob.add(ballot);
    expect(ob.due(1).map((e) => e.id)).toEqual([entry.id]);
    ob.markSent(entry.id, 1);
    expect(ob.due(1)).toEqual([]); // in flight on connection 1
    expect(ob.inFlight(1)).toBe(1);
    ob.connectionLost();
    expect(ob.due(2).map((e) => e.id)).toEqual([entry.id]);
    ob.markSent(entry.id, 2);
    expect(ob.get(entry.id)?.attempts).toBe(2);
  });

  it('drops an entry on its ack and resolves its promise', async () => {
    const store = memStore();
    const ob = new Outbox({ store, key: 'k' });
    const { entry, done } = ob.add(ballot);
    ob.markSent(entry.id, 1);
    const settled: string[] = [];
    ob.onSettled((e) => settled.push(e.id));
    expect(ob.handle({ type: 'ack', id: entry.id, seq: 5 })).toBe('settled');
    await expect(done).resolves.toEqual({ ok: true, ack: { type: 'ack', id: entry.id, seq: 5 } });
    expect(ob.size.value).toBe(0);
    expect(settled).toEqual([entry.id]);
    expect(store.data.has('k')).toBe(false);
  });

  it('keeps an entry on a retryable error and schedules a backoff', () => {
    let now = 1000;
    const ob = new Outbox({ store: memStore(), key: 'k', now: () => now, random: () => 0.5, retryBase: 1000 });
    const { entry } = ob.add(ballot);
    ob.markSent(entry.id, 1);
    expect(ob.handle({ type: 'error', id: entry.id, code: 'limit', message: 'slow down', retryable: true })).toBe('retry');
    expect(ob.size.value).toBe(1);
    const retryAt = ob.get(entry.id)?.retryAt ?? 0;
    expect(retryAt).toBe(1000 + 750);
    expect(ob.due(1, now)).toEqual([]);
    now = retryAt;
    expect(ob.due(1, now).map((e) => e.id)).toEqual([entry.id]); // same connection, same id
    ob.markSent(entry.id, 1);
    ob.handle({ type: 'error', id: entry.id, code: 'unavailable', message: 'x', retryable: true });
    expect(ob.get(entry.id)?.retries).toBe(2);
    expect((ob.get(entry.id)?.retryAt ?? 0) - now).toBe(1500); // doubled: 2000 → [1000, 2000]
  });

  it('drops an entry on a non-retryable error and reports it', async () => {
    const ob = new Outbox({ store: memStore(), key: 'k' });
    const { entry, done } = ob.add(ask);
    ob.markSent(entry.id, 1);
    ob.handle({ type: 'error', id: entry.id, code: 'invalid', message: 'too long', retryable: false });
    const outcome = await done;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.code).toBe('invalid');
    expect(ob.size.value).toBe(0);
  });

  it('ignores answers that are not its own (e.g. pings)', () => {
    const ob = new Outbox({ store: memStore(), key: 'k' });
    expect(ob.handle({ type: 'ack', id: 'ping-1', seq: 3 })).toBe('unknown');
  });

  it('add() with an existing id does not duplicate the entry', () => {
    const ob = new Outbox({ store: memStore(), key: 'k' });
    ob.add(ballot, 'same');
    ob.add(ballot, 'same');
    expect(ob.size.value).toBe(1);
  });

  it('adopts the outbox written by another tab (storage event)', () => {
    const store = memStore();
    const a = new Outbox({ store, key: 'k' });
    const b = new Outbox({ store, key: 'k' });
    a.add(ballot);
    window.dispatchEvent(new StorageEvent('storage', { key: 'k' }));
    expect(b.entries.value.map((e) => e.id)).toEqual(a.entries.value.map((e) => e.id));
    b.add(ask);
    window.dispatchEvent(new StorageEvent('storage', { key: 'k' }));
    expect(a.size.value).toBe(2);
  });

  it('survives corrupt storage', () => {
    const store = memStore();
    store.set('k', '{not json');
    expect(new Outbox({ store, key: 'k' }).size.value).toBe(0);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and jitters within [half, full]', () => {
    expect(backoffDelay(0, { base: 500, max: 15_000, random: () => 0 })).toBe(250);
    expect(backoffDelay(0, { base: 500, max: 15_000, random: () => 0.999999 })).toBe(500);
    expect(backoffDelay(3, { base: 500, max: 15_000, random: () => 0 })).toBe(2000);
    expect(backoffDelay(20, { base: 500, max: 15_000, random: () => 1 })).toBe(15_000);
    expect(backoffDelay(1000, { base: 500, max: 15_000, random: () => 0 })).toBe(7500);
  });
});

describe('defaultReconcile', () => {
  const sent = (cmd: CommandDto, firstSentAt: number): OutboxEntry => ({ id: 'c-1', cmd, createdAt: firstSentAt, firstSentAt, attempts: 1, retries: 0 });

  it('never guesses for commands without an exact fact: a question is resent (the server dedupes by id)', () => {
    const t0 = 1_767_225_600_000;
    const s = applySnapshot(snapshot(10, { questions: [question(7, { status: 'pending', text: '何时全覆盖？', askers: ['d002'], submitted_at: t0 })] }), t0);
    expect(defaultReconcile(sent(ask, t0), s)).toBe('unknown');
    expect(defaultReconcile(sent({ type: 'add_follow_up', text: 'x' }, t0), s)).toBe('unknown');
  });

  it('ballots: done when the ballot id is in the state', () => {
    const s = applySnapshot(
      snapshot(10, {
        ballots: [{ delegate: 'd002', venue: 'baiyu', receipt: { evaluation: 1, unit: 'minzheng', ballot_id: 'b1-x-minzheng', rating: 'satisfied', seq: 9, at: 1, code: 'c' } }],
      }),
    );
    expect(defaultReconcile(sent(ballot, 0), s)).toBe('done');
    expect(defaultReconcile(sent({ ...ballot, ballot_id: 'other' } as CommandDto, 0), s)).toBe('unknown');
  });

  it('a check-in request is done once the state shows it pending, or the delegate checked in', () => {
    const req: CommandDto = { type: 'request_check_in' };
    expect(defaultReconcile(sent(req, 0), applySnapshot(snapshot(10, { checked_in: [] })))).toBe('unknown');
    expect(defaultReconcile(sent(req, 0), applySnapshot(snapshot(10, { checked_in: [], check_in_requests: [{ delegate: 'd002', venue: 'baiyu', at: 1 }] })))).toBe('done');
    expect(defaultReconcile(sent(req, 0), applySnapshot(snapshot(10)))).toBe('done');
  });

  it('check-in, second and floor request are done when the state shows them', () => {
    const s = applySnapshot(snapshot(10, { questions: [question(1, { seconded_by_me: true })], floor_requests: [{ question: 1, venue: 'baiyu', at: 1 }] }));
    expect(defaultReconcile(sent({ type: 'check_in', delegate: 'd002' }, 0), s)).toBe('done');
    expect(defaultReconcile(sent({ type: 'second_question', question: 1 }, 0), s)).toBe('done');
    expect(defaultReconcile(sent({ type: 'request_floor', question: 1 }, 0), s)).toBe('done');
    expect(defaultReconcile(sent({ type: 'check_in', delegate: 'd003' }, 0), s)).toBe('unknown');
  });
});
