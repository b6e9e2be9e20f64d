// Issue 10: reloading while offline used to show the browser's error page.
// The offline app shell (a service worker, src/sw/sw.ts) now serves the page
// itself, and the page shows its last state and its outbox from storage at
// once. Runs after 03-offline (or alone: it sets the stage itself); the
// last test, a new build replacing the worker, runs its own server.

import { expect, test, type Page } from '@playwright/test';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PORT } from './env.ts';
import { clearStage, ensurePhase, expectConnected, openPage, PHONE, serverReady, startOwnServer, token, WsClient } from './helpers.ts';

// The last test runs its own server (04-restart uses PORT + 1).
const shellPort = PORT + 2;
const shellBase = `http://127.0.0.1:${shellPort}`;
const shellDir = join(tmpdir(), `wz-e2e-shell-${shellPort}`);


/** Every URL in the page's origin's Cache Storage. */
async function cachedUrls(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const out: string[] = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const req of await cache.keys()) out.push(req.url);
    }
    return out;
  });
}

test('a delegate reloading without network gets the page, the last state and the outbox', async ({ browser }) => {
  const mod = await WsClient.open(token('moderator'));
  await clearStage(mod);
  await ensurePhase(mod, 'evaluation');
  if (!('d043' in mod.state!.checkedIn)) await mod.must({ type: 'check_in', delegate: 'd043' });
  const ev = (await mod.must({ type: 'open_evaluation', units: ['renshe', 'yibao'] })).result as { evaluation: number };

  const tok = token('delegate:d043');
  const { context, page } = await openPage(browser, '/delegate.html', tok, PHONE);
  await expectConnected(page);
  // The worker is active once it has cached this page's shell (install).
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const form = page.locator(`[data-evaluation="${ev.evaluation}"]`);
  await expect(form.locator('fieldset')).toHaveCount(2);

  // Offline: fill in and submit; the ballots wait in the outbox.
  await context.setOffline(true);
  await expect(page.locator('.conn')).toHaveAttribute('data-status', 'offline');
  await form.getByRole('group', { name: /县人力资源和社会保障局/ }).getByLabel('满意', { exact: true }).check();
  await form.getByRole('group', { name: /县医疗保障局/ }).getByLabel('基本满意').check();
  await form.getByRole('button', { name: /提交 2 张测评票/ }).click();
  await expect(page.locator('.conn')).toHaveText('离线，2 条待发送');

  // Reload, still without network: the page comes from the shell, not the server…
  const reloaded = await page.reload();
  expect(reloaded?.fromServiceWorker()).toBe(true);
  // …and shows the delegate's last state (the open ballot) and the outbox at once.
  await expect(page.locator('.conn')).toHaveText('离线，2 条待发送');
  await expect(form.locator('fieldset')).toHaveCount(2);
  await expect(form.locator('fieldset.ballot-pending')).toHaveCount(2);
  await expect(form.getByText('已提交，等待发送')).toHaveCount(2);

  // The shell keeps the build's files only: this page and its assets, no
  // API answer, no socket, no token.
  const urls = await cachedUrls(page);
  expect(urls).toContain(new URL('/delegate.html', page.url()).href);
  for (const url of urls) expect(new URL(url).pathname).toMatch(/^\/(delegate\.html|assets\/[^/]+)$/);
  expect(urls.join(' ')).not.toContain(tok);
  expect(urls.join(' ')).not.toContain('token');

  // Back online: the outbox is sent by itself, the receipts appear.
  await context.setOffline(false);
  await expect(form.locator('[data-receipt]')).toHaveCount(2);
  await expect(page.locator('.conn')).toHaveText('已连接');
  await expect(form.locator('[data-receipt="renshe"]')).toContainText('满意');
  await expect(form.locator('[data-receipt="yibao"]')).toContainText('基本满意');
  const s = await mod.waitFor((st) => st.stats.evaluation?.evaluation === ev.evaluation && st.stats.evaluation.turnout.voted === 1);
  expect(s.stats.evaluation!.ballots_by_unit.map((b) => b.ballots)).toEqual([1, 1]);

  await clearStage(mod);
  await context.close();
  mod.close();
});

test('the console reloads without network with its last state; a page opened later gets its shell too', async ({ browser }) => {
  const mod = await WsClient.open(token('moderator'));
  const tok = token('moderator');
  const { context, page } = await openPage(browser, '/moderator.html', tok, { width: 1366, height: 768 });
  await expectConnected(page);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const title = mod.state!.session.title;
  await expect(page.locator('.m-session')).toHaveText(title);

  // The join link opened again while the worker is active: the navigation,
  // #token=… included, goes through the worker, which keeps nothing of it.
  const again = await context.newPage();
  const res = await again.goto(`/moderator.html#token=${tok}`);
  expect(res?.fromServiceWorker()).toBe(true);
  await expectConnected(again);
  await again.close();
  const urls = await cachedUrls(page);
  for (const url of urls) expect(new URL(url).pathname).toMatch(/^\/(moderator\.html|assets\/[^/]+)$/);
  expect(urls.join(' ')).not.toContain(tok);
  expect(urls.join(' ')).not.toContain('token');

  await context.setOffline(true);
  const reloaded = await page.reload();
  expect(reloaded?.fromServiceWorker()).toBe(true);
  await expect(page.locator('h1')).toHaveText('主持人控制台');
  await expect(page.locator('.m-session')).toHaveText(title);
  await expect(page.locator('.conn').first()).toHaveAttribute('data-status', 'offline');

  await context.setOffline(false);
  await expectConnected(page);

  // A page first opened later, with the worker active: its shell is kept
  // as it loads, and it too reloads without network.
  const screen = await context.newPage();
  await screen.goto(`/screen.html#token=${token('screen')}`);
  await expectConnected(screen);
  await expect.poll(async () => (await cachedUrls(screen)).some((u) => new URL(u).pathname === '/screen.html')).toBe(true);
  await context.setOffline(true);
  expect((await screen.reload())?.fromServiceWorker()).toBe(true);
  await expect(screen.locator('.conn').first()).toHaveAttribute('data-status', 'offline');
  await context.close();
  mod.close();
});

test('a new build: its worker takes over, caches the same pages and deletes the old cache', async ({ browser }) => {
  // A server of its own, serving a copy of dist/ that gets "deployed" anew below.
  rmSync(shellDir, { recursive: true, force: true });
  cpSync('dist', join(shellDir, 'web'), { recursive: true });
  const server = startOwnServer(shellPort, join(shellDir, 'data'), [], join(shellDir, 'web'));
  try {
    await serverReady(shellBase);
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await page.goto(`${shellBase}/screen.html#token=${token('screen', join(shellDir, 'data'))}`);
    await expectConnected(page);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    const [old] = await page.evaluate(() => caches.keys());
    expect(old).toMatch(/^wz-shell-[0-9a-f]{16}$/);

    // A new build is deployed: the same files under another version.
    const sw = join(shellDir, 'web', 'sw.js');
    writeFileSync(sw, readFileSync(sw, 'utf8').replace(/\\"version\\":\\"[0-9a-f]{16}\\"/, '\\"version\\":\\"feedfacefeedface\\"'));
    rmSync(`${sw}.gz`);
    rmSync(`${sw}.br`);
    // The browser checks for it (as at every page load); the new worker
    // installs and takes over at once (no waiting for the page to close).
    await page.evaluate(async () => {
      const r = (await navigator.serviceWorker.getRegistration())!;
      await r.update();
      const w = r.installing ?? r.waiting ?? r.active!;
      if (w.state !== 'activated') {
        await new Promise<void>((resolve) => w.addEventListener('statechange', () => w.state === 'activated' && resolve()));
      }
    });
    expect(await page.evaluate(() => caches.keys())).toEqual(['wz-shell-feedfacefeedface']);
    expect(await cachedUrls(page)).toContain(`${shellBase}/screen.html`);

    // And it serves the screen without network.
    await context.setOffline(true);
    const reloaded = await page.reload();
    expect(reloaded?.fromServiceWorker()).toBe(true);
    await expect(page.locator('.conn').first()).toHaveAttribute('data-status', 'offline');
    await context.close();
  } finally {
    server.kill('SIGKILL');
  }
});
