// Prints what each page of dist/ downloads on first load (HTML, CSS, JS with
// its static imports; lazy chunks such as the English catalogue listed
// apart), raw and gzip. Run after `npm run build`: `npm run size`.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const br = (buf) => brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const kb = (n) => (n / 1024).toFixed(1).padStart(7);

function staticImports(file, seen) {
  if (seen.has(file)) return;
  seen.add(file);
  const src = readFileSync(join(dist, file), 'utf8');
  for (const m of src.matchAll(/(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?["'](\.\/[^"']+\.js)["']/g)) {
    staticImports(join('assets', m[1].slice(2)), seen);
  }
}

const pages = readdirSync(dist).filter((f) => f.endsWith('.html')).sort();
console.log('page            files   raw kB  gzip kB    br kB   (lazy, gzip kB)');
for (const page of pages) {
  const html = readFileSync(join(dist, page), 'utf8');
  const files = new Set([page]);
  const js = new Set();
  for (const m of html.matchAll(/(?:src|href)="\/?(assets\/[^"]+)"/g)) {
    if (m[1].endsWith('.css')) files.add(m[1]);
    if (m[1].endsWith('.js')) staticImports(m[1], js);
  }
  for (const f of js) files.add(f);
  let raw = 0;
  let zipped = 0;
  let brotli = 0;
  const lazy = new Set();
  for (const f of files) {
    const buf = readFileSync(join(dist, f));
    raw += buf.length;
    zipped += gz(buf);
    brotli += br(buf);
    if (f.endsWith('.js')) for (const m of buf.toString().matchAll(/import\(["'`](\.\/[^"'`]+\.js)["'`]\)/g)) lazy.add(join('assets', m[1].slice(2)));
  }
  const lazyKb = [...lazy].filter((f) => !files.has(f)).map((f) => `${f.replace(/^assets\//, '')} ${(gz(readFileSync(join(dist, f))) / 1024).toFixed(1)}`);
  console.log(`${page.padEnd(16)}${String(files.size).padStart(5)}${kb(raw)}  ${kb(zipped)}  ${kb(brotli)}   ${lazyKb.join(', ')}`);
}
