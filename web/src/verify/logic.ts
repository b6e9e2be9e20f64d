// The receipt check's logic: reading what a delegate typed, asking the
// server, and what the answer means. The server answers whether a ballot or
// a follow-up rating with this code is recorded and counted, never its
// choice; this page never sends or stores anything else (the code is not
// put in the address, so it stays out of the browser's history).

import type { ReceiptCheckDto } from '../protocol.ts';

/** A receipt code as typed: spaces, dashes and case do not matter. `null` if it cannot be one. */
export function normalizeCode(typed: string): string | null {
  const code = typed.replace(/[\s-]/g, '').toLowerCase();
  return /^[0-9a-f]{16}$/.test(code) ? code : null;
}

export type Outcome =
  | { kind: 'counted'; check: ReceiptCheckDto }
  | { kind: 'recorded'; check: ReceiptCheckDto }
  | { kind: 'not_found'; check: ReceiptCheckDto }
  | { kind: 'busy' }
  | { kind: 'failed' };

/** What the server's answer means for the person checking. */
export function outcomeOf(check: ReceiptCheckDto): Outcome {
  if (!check.found) return { kind: 'not_found', check };
  return check.counted ? { kind: 'counted', check } : { kind: 'recorded', check };
}

export async function checkReceipt(session: string, code: string, f: typeof fetch = fetch): Promise<Outcome> {
  try {
    const res = await f(`/api/sessions/${encodeURIComponent(session)}/receipts/${code}`, {
      credentials: 'omit',
      cache: 'no-store',
      headers: { Accept: 'application/json' },
    });
    if (res.status === 429) return { kind: 'busy' };
    if (!res.ok) return { kind: 'failed' };
    return outcomeOf((await res.json()) as ReceiptCheckDto);
  } catch {
    return { kind: 'failed' };
  }
}
