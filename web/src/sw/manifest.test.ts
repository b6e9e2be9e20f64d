import { describe, expect, it } from 'vitest';
import { htmlRefs, pageFiles, shellManifest, type BuiltFile } from './manifest.ts';

const HTML = `<!doctype html><html><head>
<link rel="icon" href="data:," />
<script type="module" crossorigin src="/assets/delegate-A.js"></script>
<link rel="modulepreload" crossorigin href="/assets/ui-B.js">
<link rel="stylesheet" crossorigin href="/assets/ui-C.css">
<a href="//elsewhere.example/x.js">x</a><a href="/screen.html#token=abc">screen</a>
</head><body><div id="app"></div></body></html>`;

const files = new Map<string, BuiltFile>(
  [
    { fileName: 'delegate.html' },
    { fileName: 'screen.html' },
    { fileName: 'assets/delegate-A.js', imports: ['assets/ui-B.js'], dynamicImports: ['assets/en-D.js', 'assets/FollowUp-E.js'], css: ['assets/delegate-F.css'] },
    { fileName: 'assets/ui-B.js', css: ['assets/ui-C.css'] },
    { fileName: 'assets/ui-C.css' },
    { fileName: 'assets/delegate-F.css' },
    { fileName: 'assets/en-D.js' },
    { fileName: 'assets/FollowUp-E.js', imports: ['assets/ui-B.js', 'assets/followup-G.js'], css: ['assets/followup-H.css'] },
    { fileName: 'assets/followup-G.js' },
    { fileName: 'assets/followup-H.css' },
    { fileName: 'assets/EChart-X.js' },
  ].map((f) => [f.fileName, f]),
);

describe('the offline shell manifest', () => {
  it('takes same-origin files from the HTML, without fragments, other hosts or data URLs', () => {
    expect(htmlRefs(HTML)).toEqual(['/assets/delegate-A.js', '/assets/ui-B.js', '/assets/ui-C.css', '/screen.html']);
  });

  it('follows imports, lazy chunks and their CSS, but not links to other pages', () => {
    const html = HTML.replace('<a href="/screen.html#token=abc">screen</a>', '');
    expect(pageFiles('delegate.html', html, files)).toEqual([
      '/delegate.html',
      '/assets/FollowUp-E.js',
      '/assets/delegate-A.js',
      '/assets/delegate-F.css',
      '/assets/en-D.js',
      '/assets/followup-G.js',
      '/assets/followup-H.css',
      '/assets/ui-B.js',
      '/assets/ui-C.css',
    ]);
  });

  it('gives each page its own files: the delegate never gets the charts', () => {
    const m = shellManifest(
      [
        { page: 'delegate.html', html: '<script src="/assets/delegate-A.js"></script>' },
        { page: 'screen.html', html: '<script src="/assets/EChart-X.js"></script>' },
      ],
      files,
      (name) => name,
      (s) => `h${s.length}`,
    );
    expect(m.pages['delegate.html']).not.toContain('/assets/EChart-X.js');
    expect(m.pages['screen.html']).toEqual(['/screen.html', '/assets/EChart-X.js']);
  });

  it('gets a new version when any listed file changes, the HTML included', () => {
    const digest = (s: string) => String([...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7));
    const pages = [{ page: 'delegate.html', html: '<script src="/assets/delegate-A.js"></script>' }];
    const v = (html: string) => shellManifest(pages, files, (name) => (name === 'delegate.html' ? html : name), digest).version;
    expect(v('<title>a</title>')).toBe(v('<title>a</title>'));
    expect(v('<title>a</title>')).not.toBe(v('<title>b</title>'));
  });
});
