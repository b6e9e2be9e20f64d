// The progress page's data: which session, and polling its public progress
// (`GET /api/sessions/{id}/progress`, no credential; the server renders it
// once per change, so polling every 30 s is cheap).

import { signal } from '@preact/signals';
import type { ProgressDto } from '../protocol.ts';

export const POLL_MS = 30_000;

export interface SessionRef {
  id: string;
  title: string;
}

/** `?session=` wins; else the only session the server lists; else none (the page asks). */
export function chooseSession(search: string, listed: readonly SessionRef[]): string | null {
  const fromQuery = new URLSearchParams(search).get('session');
  if (fromQuery) return fromQuery;
  return listed.length === 1 ? listed[0].id : null;
}

export type Load = { kind: 'loading' } | { kind: 'choose'; sessions: SessionRef[] } | { kind: 'none' } | { kind: 'ready'; id: string };

export const load = signal<Load>({ kind: 'loading' });
export const data = signal<ProgressDto | null>(null);
/** Local time the last poll succeeded. */
export const receivedAt = signal(0);
/** Server clock minus local clock at the last poll (for "today" in the session's zone). */
export const clockOffset = signal(0);
/** The last poll failed (the data shown is older). */
export const failed = signal(false);

async function getJson<T>(url: string, f: typeof fetch): Promise<T> {
  const res = await f(url, { credentials: 'omit', cache: 'no-store', headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as T;
}

export async function resolveSession(search: string, f: typeof fetch = fetch): Promise<void> {
  const fromQuery = new URLSearchParams(search).get('session');
  if (fromQuery) {
    load.value = { kind: 'ready', id: fromQuery };
    return;
  }
  try {
    const listed = await getJson<SessionRef[]>('/api/sessions', f);
    const id = chooseSession(search, listed);
    load.value = id ? { kind: 'ready', id } : listed.length === 0 ? { kind: 'none' } : { kind: 'choose', sessions: listed };
  } catch {
    failed.value = true;
    load.value = { kind: 'none' };
  }
}

/** One poll: keeps the old data on failure (no blank page on a weak link). */
export async function poll(id: string, f: typeof fetch = fetch): Promise<void> {
  try {
    const next = await getJson<ProgressDto>(`/api/sessions/${encodeURIComponent(id)}/progress`, f);
    const cur = data.value;
    // The server renders once per change: an unchanged seq keeps the same object (no chart redraw).
    if (!cur || cur.seq !== next.seq || cur.board.as_of !== next.board.as_of) data.value = next;
    const now = Date.now();
    receivedAt.value = now;
    clockOffset.value = next.server_time - now;
    failed.value = false;
  } catch {
    failed.value = true;
  }
}

/** Polls now and every `POLL_MS` (and at once when the page becomes visible again); returns a stop function. */
export function startPolling(id: string, f: typeof fetch = fetch): () => void {
  void poll(id, f);
  const timer = setInterval(() => {
    if (typeof document === 'undefined' || document.visibilityState !== 'hidden') void poll(id, f);
  }, POLL_MS);
  const onVisible = () => {
    if (document.visibilityState === 'visible' && Date.now() - receivedAt.value > POLL_MS) void poll(id, f);
  };
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisible);
  return () => {
    clearInterval(timer);
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisible);
  };
}
