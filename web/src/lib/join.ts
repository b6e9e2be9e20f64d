// Joining by typing the short join code from a printed card (issue 10): the
// page asks the server whose code it is (`GET /api/whoami`) before keeping
// it, so a wrong code is said at once, in the app's words, and a code of
// another role's page goes to that page with the code kept.

import { linkOf } from './pages.ts';

export type JoinOutcome =
  | { kind: 'here' }
  | { kind: 'go'; href: string }
  | { kind: 'wrong' }
  | { kind: 'too_many'; seconds: number }
  | { kind: 'offline' };

/** What to do with `typed` (a join code, or a whole token) on page `here` (e.g. `delegate.html`). */
export async function checkJoinCode(typed: string, here: string, fetchFn: typeof fetch = fetch): Promise<JoinOutcome> {
  let res: Response;
  try {
    res = await fetchFn('/api/whoami', { headers: { Authorization: `Bearer ${typed}` }, cache: 'no-store' });
  } catch {
    return { kind: 'offline' };
  }
  if (res.status === 429) {
    const seconds = Number(res.headers.get('Retry-After'));
    return { kind: 'too_many', seconds: Number.isFinite(seconds) && seconds > 0 ? seconds : 6 };
  }
  if (res.status === 401) return { kind: 'wrong' };
  if (!res.ok) return { kind: 'offline' };
  const who = (await res.json()) as { role: string; page: string };
  return who.page === here ? { kind: 'here' } : { kind: 'go', href: linkOf(who.role, typed) };
}

/** This page's file name (`/` is the start page). */
export function currentPage(pathname: string): string {
  const last = pathname.split('/').pop() ?? '';
  return last === '' ? 'index.html' : last;
}
