import { describe, expect, it } from 'vitest';
import { checkJoinCode, currentPage } from './join.ts';

function answering(status: number, body: unknown = {}, headers: Record<string, string> = {}): typeof fetch {
  return (async (_url: string, init?: RequestInit) => {
    expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer k7m2q 8xrt4');
    return new Response(JSON.stringify(body), { status, headers });
  }) as unknown as typeof fetch;
}

describe('checkJoinCode', () => {
  it('stays on the page the code belongs to', async () => {
    const f = answering(200, { session: 's', principal: 'delegate:d017', role: 'delegate', page: 'delegate.html' });
    expect(await checkJoinCode('k7m2q 8xrt4', 'delegate.html', f)).toEqual({ kind: 'here' });
  });
  it("goes to another role's page keeping the code", async () => {
    const f = answering(200, { session: 's', principal: 'moderator', role: 'moderator', page: 'moderator.html' });
    expect(await checkJoinCode('k7m2q 8xrt4', 'delegate.html', f)).toEqual({ kind: 'go', href: 'moderator.html#token=k7m2q%208xrt4' });
  });
  it('says a wrong code is wrong and how long to wait after too many', async () => {
    expect(await checkJoinCode('k7m2q 8xrt4', 'delegate.html', answering(401))).toEqual({ kind: 'wrong' });
    expect(await checkJoinCode('k7m2q 8xrt4', 'delegate.html', answering(429, {}, { 'Retry-After': '5' }))).toEqual({ kind: 'too_many', seconds: 5 });
  });
  it('tells a network failure apart', async () => {
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    expect(await checkJoinCode('k7m2q 8xrt4', 'delegate.html', down)).toEqual({ kind: 'offline' });
  });
  it('names the page from the path', () => {
    expect(currentPage('/delegate.html')).toBe('delegate.html');
    expect(currentPage('/')).toBe('index.html');
  });
});
