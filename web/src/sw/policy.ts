// What the service worker (sw.ts) may touch, as pure functions of a URL and
// the build's manifest (unit-tested in policy.test.ts).
//
// Only the app shell's own files: the pages listed in the manifest and their
// build assets. Everything else (/ws, /api/…, /healthz, evidence files, other
// origins, non-GET) is never answered, never cached: the browser sends it as
// if there were no worker. Cache keys are paths only, so neither a query nor
// a fragment (`#token=…`) ever ends up in a cache. (Chromium does hand the
// worker a navigation's URL with its fragment: only the path is read.)

import type { ShellManifest } from './manifest.ts';

export const CACHE_PREFIX = 'wz-shell-';

/** The cache of one build. */
export function cacheName(version: string): string {
  return `${CACHE_PREFIX}${version}`;
}

/** Caches of other builds of the shell, to delete once this one is active (others' caches are left alone). */
export function staleCaches(names: readonly string[], current: string): string[] {
  return names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== current);
}

export type Route = { kind: 'page'; page: string; key: string } | { kind: 'asset'; key: string } | null;

/** How the worker answers a request: a shell page, a shell asset, or not at all (null). */
export function route(method: string, url: string, origin: string, manifest: ShellManifest): Route {
  if (method !== 'GET') return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.origin !== origin) return null;
  const path = u.pathname;
  if (path === '/ws' || path.startsWith('/api/')) return null;
  const page = path.slice(1);
  if (Object.hasOwn(manifest.pages, page)) return { kind: 'page', page, key: path };
  if (path.startsWith('/assets/') && Object.values(manifest.pages).some((files) => files.includes(path))) return { kind: 'asset', key: path };
  return null;
}

/** The shell page a window shows (from its URL's path), if it has one. */
export function shellPageOf(url: string, manifest: ShellManifest): string | null {
  try {
    const page = new URL(url).pathname.slice(1);
    return Object.hasOwn(manifest.pages, page) ? page : null;
  } catch {
    return null;
  }
}

/**
 * A page response may be used when it is a success; a server error (5xx) or
 * a network failure falls back to the cached shell.
 */
export function usableResponse(status: number): boolean {
  return status < 500;
}
