import { describe, expect, it, vi } from 'vitest';
import { registerShell, type ShellEnv } from './shell.ts';

function env(over: Partial<ShellEnv> = {}) {
  const register = vi.fn(() => Promise.resolve({} as ServiceWorkerRegistration));
  const later: Array<() => void> = [];
  const e: ShellEnv = { dev: false, secure: true, serviceWorker: { register }, afterLoad: (f) => later.push(f), ...over };
  return { e, register, load: () => later.forEach((f) => f()) };
}

describe('registering the offline shell', () => {
  it('registers /sw.js for the whole site, after the page has loaded', () => {
    const { e, register, load } = env();
    expect(registerShell(e)).toBe(true);
    expect(register).not.toHaveBeenCalled();
    load();
    expect(register).toHaveBeenCalledWith('/sw.js', { scope: '/' });
  });

  it('does nothing on the dev server, outside a secure context, or without service workers', () => {
    expect(registerShell(env({ dev: true }).e)).toBe(false);
    expect(registerShell(env({ secure: false }).e)).toBe(false);
    expect(registerShell(env({ serviceWorker: undefined }).e)).toBe(false);
  });

  it('a refused registration changes nothing', async () => {
    const register = vi.fn(() => Promise.reject(new Error('denied')));
    const { e, load } = env({ serviceWorker: { register } });
    registerShell(e);
    load();
    await Promise.resolve();
    expect(register).toHaveBeenCalledTimes(1);
  });
});
