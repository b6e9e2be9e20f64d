import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { resolve } from 'node:path';
import { compression } from 'vite-plugin-compression2';
import { offlineShell } from './scripts/shell-plugin.ts';

// One package, seven HTML entries. Each page loads only its own chunks:
// ECharts is imported by the screen and the public progress page only, so it
// never reaches delegates' phones.
const backend = process.env.WZ_BACKEND ?? 'http://127.0.0.1:8080';

// Pages that get an offline app shell (src/sw/sw.ts): the ones that keep
// their last state and outbox in the browser, so a reload without network
// shows them. Each browser caches only the shells of the pages it opened.
const SHELL_PAGES = ['delegate.html', 'moderator.html', 'screen.html', 'office.html', 'unit.html'];

export default defineConfig({
  plugins: [
    preact(),
    // .gz and .br next to every text asset, for a server that serves
    // precompressed files (tower-http `ServeDir::precompressed_gzip/br`).
    compression({ algorithms: ['gzip', 'brotliCompress'], threshold: 512, logLevel: 'silent' }),
    // Writes the shell's manifest into dist/sw.js (and its .gz/.br) after the build.
    offlineShell({ worker: 'sw.js', pages: SHELL_PAGES }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts anywhere: the server's CSP is `script-src 'self'`.
    assetsInlineLimit: 0,
    // The screen's and the progress page's chunk carries tree-shaken ECharts (~500 kB raw, ~170 kB gzip): expected.
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        moderator: resolve(import.meta.dirname, 'moderator.html'),
        delegate: resolve(import.meta.dirname, 'delegate.html'),
        screen: resolve(import.meta.dirname, 'screen.html'),
        office: resolve(import.meta.dirname, 'office.html'),
        unit: resolve(import.meta.dirname, 'unit.html'),
        progress: resolve(import.meta.dirname, 'progress.html'),
        verify: resolve(import.meta.dirname, 'verify.html'),
        // The service worker: dist/sw.js at the site root (its scope is the whole site).
        sw: resolve(import.meta.dirname, 'src/sw/sw.ts'),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  server: {
    // `npm run dev` against a running `cargo run` (WZ_BACKEND to change it).
    proxy: {
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
      '/api': { target: backend },
    },
  },
});
