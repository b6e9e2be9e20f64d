import { describe, expect, it } from 'vitest';
import type { ShellManifest } from './manifest.ts';
import { cacheName, route, shellPageOf, staleCaches, usableResponse } from './policy.ts';

const ORIGIN = 'http://127.0.0.1:8080';
const manifest: ShellManifest = {
  version: 'v2',
  pages: {
    'delegate.html': ['/delegate.html', '/assets/delegate-A.js', '/assets/ui-C.css'],
    'screen.html': ['/screen.html', '/assets/EChart-X.js'],
  },
};
const at = (path: string, method = 'GET') => route(method, `${ORIGIN}${path}`, ORIGIN, manifest);

describe('what the offline shell touches', () => {
  it('answers shell pages by their path only: a query or a #token never becomes part of a key', () => {
    expect(at('/delegate.html')).toEqual({ kind: 'page', page: 'delegate.html', key: '/delegate.html' });
    expect(at('/delegate.html#token=secret')).toEqual({ kind: 'page', page: 'delegate.html', key: '/delegate.html' });
    expect(at('/delegate.html?lang=en')).toEqual({ kind: 'page', page: 'delegate.html', key: '/delegate.html' });
  });

  it('answers the build assets of shell pages', () => {
    expect(at('/assets/delegate-A.js')).toEqual({ kind: 'asset', key: '/assets/delegate-A.js' });
    expect(at('/assets/EChart-X.js')).toEqual({ kind: 'asset', key: '/assets/EChart-X.js' });
    expect(at('/assets/unknown-Z.js')).toBeNull();
  });

  it('never touches the socket, the API, other pages, other origins or anything but GET', () => {
    for (const path of [
      '/ws?token=secret',
      '/api/sessions',
      '/api/sessions/xixia-2026/files/1',
      '/api/sessions/xixia-2026/progress',
      '/healthz',
      '/metrics',
      '/',
      '/index.html',
      '/progress.html',
      '/sw.js',
    ]) {
      expect(at(path), path).toBeNull();
    }
    expect(at('/delegate.html', 'POST')).toBeNull();
    expect(route('GET', 'https://elsewhere.example/delegate.html', ORIGIN, manifest)).toBeNull();
    expect(route('GET', 'not a url', ORIGIN, manifest)).toBeNull();
  });

  it('knows which shell page a window shows', () => {
    expect(shellPageOf(`${ORIGIN}/screen.html`, manifest)).toBe('screen.html');
    expect(shellPageOf(`${ORIGIN}/progress.html?session=x`, manifest)).toBeNull();
  });

  it('one cache per build; only its own older caches are stale', () => {
    expect(cacheName('v2')).toBe('wz-shell-v2');
    expect(staleCaches(['wz-shell-v1', 'wz-shell-v2', 'something-else'], 'wz-shell-v2')).toEqual(['wz-shell-v1']);
  });

  it('falls back to the cache on a server error, not on a client error', () => {
    expect(usableResponse(200)).toBe(true);
    expect(usableResponse(304)).toBe(true);
    expect(usableResponse(404)).toBe(true);
    expect(usableResponse(502)).toBe(false);
  });
});
