// Vite plugin for the offline app shell (src/sw/sw.ts): once the build is
// written, computes each shell page's files from the bundle
// (src/sw/manifest.ts) and writes the manifest into dist/sw.js in place of
// its placeholder, with fresh .gz/.br next to it (the server serves the
// precompressed files). The worker's bytes thus change with every build that
// changes a shell file, which is how browsers notice a new build.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { shellManifest, type BuiltFile } from '../src/sw/manifest.ts';

const PLACEHOLDER = /(["'`])__WZ_SHELL_MANIFEST__\1/g;

interface Meta {
  importedCss?: Set<string>;
  importedAssets?: Set<string>;
}

export function offlineShell(options: { worker: string; pages: readonly string[] }): Plugin {
  return {
    name: 'wz-offline-shell',
    apply: 'build',
    writeBundle(out, bundle) {
      const dir = out.dir ?? 'dist';
      const files = new Map<string, BuiltFile>();
      const content = new Map<string, string>();
      for (const f of Object.values(bundle)) {
        if (/\.(gz|br)$/.test(f.fileName)) continue;
        if (f.type === 'chunk') {
          const meta = (f as { viteMetadata?: Meta }).viteMetadata;
          files.set(f.fileName, {
            fileName: f.fileName,
            imports: f.imports,
            dynamicImports: f.dynamicImports,
            css: [...(meta?.importedCss ?? [])],
            assets: [...(meta?.importedAssets ?? [])],
          });
          content.set(f.fileName, f.code);
        } else {
          files.set(f.fileName, { fileName: f.fileName });
          content.set(f.fileName, typeof f.source === 'string' ? f.source : Buffer.from(f.source).toString('base64'));
        }
      }
      const worker = bundle[options.worker];
      if (!worker || worker.type !== 'chunk') throw new Error(`offline shell: ${options.worker} is not in the bundle`);
      if (worker.imports.length > 0 || worker.dynamicImports.length > 0) {
        throw new Error(`offline shell: ${options.worker} must be one self-contained script, but imports ${[...worker.imports, ...worker.dynamicImports].join(', ')}`);
      }
      const pages = options.pages.map((page) => {
        const html = content.get(page);
        if (html === undefined) throw new Error(`offline shell: ${page} is not in the bundle`);
        return { page, html };
      });
      const digest = (s: string) => createHash('sha256').update(s).digest('hex');
      const manifest = shellManifest(pages, files, (name) => content.get(name) ?? '', digest);
      // A JS string literal holding the JSON, for the worker's JSON.parse.
      const literal = JSON.stringify(JSON.stringify(manifest));
      const path = join(dir, options.worker);
      const code = readFileSync(path, 'utf8');
      let n = 0;
      const next = code.replace(PLACEHOLDER, () => {
        n++;
        return literal;
      });
      if (n !== 1) throw new Error(`offline shell: expected one manifest placeholder in ${options.worker}, found ${n}`);
      writeFileSync(path, next);
      writeFileSync(`${path}.gz`, gzipSync(next, { level: 9 }));
      writeFileSync(`${path}.br`, brotliCompressSync(next, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    },
  };
}
