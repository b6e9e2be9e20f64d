// The offline app shell (issue 10): a reload without network still loads the
// page, and the page shows its last state and its outbox from its own storage
// (src/lib/connection.ts, src/lib/outbox.ts). This worker only keeps the
// build's static files; it never sees or keeps session data, tokens or API
// answers (policy.ts decides what it touches).
//
// - A page's shell (its HTML and every file it loads) is cached when the page
//   is opened: at install for the windows that are open then (the page that
//   registered the worker), later on each navigation to a shell page. A
//   browser only ever downloads the shells of the pages it opened: delegates'
//   phones never fetch the big screen's charts.
// - Pages: network first (a new build is picked up at once, as before),
//   the cached shell when the network fails, answers 5xx, or takes longer
//   than NETWORK_WAIT_MS. Build assets (hashed names): cache first.
// - One cache per build (`wz-shell-<version>`); a new build's worker caches
//   the pages the old one had, takes over at once, and deletes the old caches.
//
// Built by vite.config.ts as dist/sw.js; scripts/shell-plugin.ts writes the
// manifest in place of the placeholder below.

// Type-checked with the worker's globals: tsconfig.sw.json.

import type { ShellManifest } from './manifest.ts';
import { cacheName, route, shellPageOf, staleCaches, usableResponse } from './policy.ts';

declare const self: ServiceWorkerGlobalScope;

const manifest = JSON.parse('__WZ_SHELL_MANIFEST__') as ShellManifest;
const CACHE = cacheName(manifest.version);
/** A page request that has not answered by then is served from the cache (weak mobile links). */
const NETWORK_WAIT_MS = 4000;

/** Caches every file of `page`, all or nothing. The HTML is revalidated so it matches this build. */
async function cachePage(cache: Cache, page: string): Promise<void> {
  const files = manifest.pages[page] ?? [];
  await cache.addAll(files.map((path) => new Request(path, { cache: path.endsWith('.html') ? 'no-cache' : 'default' })));
}

async function isCached(cache: Cache, page: string): Promise<boolean> {
  return (await cache.match(`/${page}`)) !== undefined;
}

/** Pages to cache at install: those open in a window, and those an older build had cached. */
async function pagesToInstall(): Promise<Set<string>> {
  const pages = new Set<string>();
  for (const client of await self.clients.matchAll({ type: 'window', includeUncontrolled: true })) {
    const page = shellPageOf(client.url, manifest);
    if (page) pages.add(page);
  }
  for (const old of staleCaches(await caches.keys(), CACHE)) {
    const cache = await caches.open(old);
    for (const page of Object.keys(manifest.pages)) if (await isCached(cache, page)) pages.add(page);
  }
  return pages;
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      for (const page of await pagesToInstall()) await cachePage(cache, page);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      await Promise.all(staleCaches(await caches.keys(), CACHE).map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  );
});

/** Network first; the cached shell when the network fails, answers 5xx or is too slow. */
async function pageResponse(network: Promise<Response>, key: string): Promise<Response> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slow = new Promise<'slow'>((resolve) => {
    timer = setTimeout(() => resolve('slow'), NETWORK_WAIT_MS);
  });
  try {
    const first = await Promise.race([network, slow]);
    if (first !== 'slow' && usableResponse(first.status)) return first;
    const cached = await caches.match(key, { cacheName: CACHE });
    if (cached) return cached;
    return first === 'slow' ? await network : first;
  } catch {
    return (await caches.match(key, { cacheName: CACHE })) ?? Response.error();
  } finally {
    clearTimeout(timer);
  }
}

/** A page opened with the network: keep its shell for the next time without (once per build). */
async function keepPage(network: Promise<Response>, page: string): Promise<void> {
  try {
    if (!(await network).ok) return;
    const cache = await caches.open(CACHE);
    if (!(await isCached(cache, page))) await cachePage(cache, page);
  } catch {
    /* offline, or the build changed meanwhile: the next visit tries again */
  }
}

async function assetResponse(request: Request, key: string): Promise<Response> {
  const cached = await caches.match(key, { cacheName: CACHE });
  return cached ?? fetch(request);
}

self.addEventListener('fetch', (event) => {
  const r = route(event.request.method, event.request.url, self.location.origin, manifest);
  if (!r) return; // not ours: the browser handles it as if there were no worker
  if (r.kind === 'asset') {
    event.respondWith(assetResponse(event.request, r.key));
    return;
  }
  const network = fetch(event.request);
  event.respondWith(pageResponse(network, r.key));
  event.waitUntil(keepPage(network, r.page));
});
