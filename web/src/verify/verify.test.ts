import { describe, expect, it } from 'vitest';
import { checkReceipt, normalizeCode, outcomeOf } from './logic.ts';
import type { ReceiptCheckDto } from '../protocol.ts';

const HEAD = 'ab'.repeat(32);
const answer = (x: Partial<ReceiptCheckDto>): ReceiptCheckDto => ({ code: '0123456789abcdef', found: false, counted: false, head: HEAD, ...x });

describe('the receipt check', () => {
  it('reads a code as typed: spaces, dashes and case do not matter', () => {
    expect(normalizeCode(' 0123 4567-89AB cdef ')).toBe('0123456789abcdef');
    expect(normalizeCode('0123456789abcde')).toBeNull();
    expect(normalizeCode('0123456789abcdeg')).toBeNull();
    expect(normalizeCode('')).toBeNull();
  });

  it('says counted, recorded or not found, and nothing of a choice', () => {
    expect(outcomeOf(answer({ found: true, counted: true, kind: 'ballot', evaluation: 1, unit: 'minzheng' })).kind).toBe('counted');
    expect(outcomeOf(answer({ found: true, counted: false, kind: 'ballot', evaluation: 2, unit: 'minzheng' })).kind).toBe('recorded');
    expect(outcomeOf(answer({})).kind).toBe('not_found');
  });

  it('asks the server once, without a credential, and tells a busy server from a failed one', async () => {
    const asked: [string, RequestInit | undefined][] = [];
    const ok = (async (url: string, init?: RequestInit) => {
      asked.push([url, init]);
      return new Response(JSON.stringify(answer({ found: true, counted: true, kind: 'item_rating', item: 3 })), { status: 200 });
    }) as typeof fetch;
    const o = await checkReceipt('xixia-2026', '0123456789abcdef', ok);
    expect(o.kind).toBe('counted');
    expect(asked).toHaveLength(1);
    expect(asked[0][0]).toBe('/api/sessions/xixia-2026/receipts/0123456789abcdef');
    expect(asked[0][1]?.credentials).toBe('omit');
    const busy = (async () => new Response('{}', { status: 429 })) as typeof fetch;
    expect((await checkReceipt('s', '0123456789abcdef', busy)).kind).toBe('busy');
    const down = (async () => {
      throw new Error('offline');
    }) as typeof fetch;
    expect((await checkReceipt('s', '0123456789abcdef', down)).kind).toBe('failed');
  });
});
