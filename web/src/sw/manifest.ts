// The offline app shell's manifest, computed at build time (scripts/shell-plugin.ts)
// and written into dist/sw.js: for each page that gets an offline shell, the
// files a reload without network needs (its HTML, the scripts and styles the
// HTML loads, and every chunk those import, lazily loaded ones included: the
// English catalogue, the delegate's follow-up tab). Pure: no Node, no DOM.

/** What the service worker knows about the build. */
export interface ShellManifest {
  /** Changes whenever any listed file's content changes: names the cache. */
  version: string;
  /** Page file name (`delegate.html`) → absolute paths (`/delegate.html`, `/assets/…`). */
  pages: Record<string, string[]>;
}

/** One output file of the build, as far as the shell cares. */
export interface BuiltFile {
  fileName: string;
  /** Static imports (chunks). */
  imports?: readonly string[];
  /** Dynamic imports (chunks loaded on demand). */
  dynamicImports?: readonly string[];
  /** CSS and other assets a chunk pulls in. */
  css?: readonly string[];
  assets?: readonly string[];
}

/** Same-origin files an HTML page loads by itself: `src="/…"` and `href="/…"` (not `//host`, not `data:`). */
export function htmlRefs(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/\b(?:src|href)\s*=\s*(["'])(\/(?!\/)[^"'#?]*)[^"']*\1/g)) {
    const path = m[2];
    if (!out.includes(path)) out.push(path);
  }
  return out;
}

/**
 * Every file a page needs: its HTML, what the HTML references, and the
 * closure over imports, dynamic imports, CSS and assets of those files.
 * Paths are absolute (`/assets/x.js`), sorted, without duplicates.
 */
export function pageFiles(page: string, html: string, files: ReadonlyMap<string, BuiltFile>): string[] {
  const seen = new Set<string>();
  const todo = htmlRefs(html).map((p) => p.slice(1));
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const f = files.get(name);
    if (!f) continue;
    for (const next of [...(f.imports ?? []), ...(f.dynamicImports ?? []), ...(f.css ?? []), ...(f.assets ?? [])]) {
      if (!seen.has(next)) todo.push(next);
    }
  }
  seen.delete(page);
  return [`/${page}`, ...[...seen].filter((n) => files.has(n)).sort().map((n) => `/${n}`)];
}

/**
 * The manifest for `pages` (each with its built HTML). `digest` hashes a
 * string (the build passes SHA-256); the version covers every listed file's
 * content through `contentOf`, so an HTML-only change still makes a new one.
 */
export function shellManifest(
  pages: ReadonlyArray<{ page: string; html: string }>,
  files: ReadonlyMap<string, BuiltFile>,
  contentOf: (fileName: string) => string,
  digest: (s: string) => string,
): ShellManifest {
  const out: Record<string, string[]> = {};
  for (const { page, html } of pages) out[page] = pageFiles(page, html, files);
  const all = [...new Set(Object.values(out).flat())].sort();
  const version = digest(all.map((p) => `${p}\n${digest(contentOf(p.slice(1)))}`).join('\n')).slice(0, 16);
  return { version, pages: out };
}
