// The screen reconnects by itself after a server restart (kill -9), and keeps
// showing the last frame while the server is away (no blank flash).
// This test runs its own server on another port and data directory.

import { expect, test } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PORT } from './env.ts';
import { ensurePhase, SCREEN, serverReady, startOwnServer, token, WsClient } from './helpers.ts';

const port = PORT + 1;
const base = `http://127.0.0.1:${port}`;
const dir = join(tmpdir(), `wz-e2e-restart-${port}`);

function start(): ChildProcess {
  return startOwnServer(port, dir);
}


test('the screen survives a server restart without going blank', async ({ browser }) => {
  rmSync(dir, { recursive: true, force: true });
  let server = start();
  try {
    await serverReady(base);
    const mod = await WsClient.open(token('moderator', dir), base);
    await ensurePhase(mod, 'questioning');
    const text = '重启之后大屏还在吗？';
    const q = (await mod.must({ type: 'submit_question', on_behalf_of: 'd036', topic: 'policy', unit: 'minzheng', text })).result as { question: number };
    await mod.must({ type: 'approve_question', question: q.question });
    await mod.must({ type: 'grant_floor', venue: 'baiyu', question: q.question });
    mod.close();

    const context = await browser.newContext({ viewport: SCREEN });
    const page = await context.newPage();
    await page.goto(`${base}/screen.html#token=${token('screen', dir)}`);
    await expect(page.locator('[data-floor-text]')).toHaveText(text);
    await expect(page.locator('.conn')).toHaveAttribute('data-status', 'connected');

    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    await expect(page.locator('.conn')).not.toHaveAttribute('data-status', 'connected');
    // The last frame stays on screen while the server is away.
    await expect(page.locator('[data-floor-text]')).toHaveText(text);

    server = start();
    await serverReady(base);
    await expect(page.locator('.conn')).toHaveAttribute('data-status', 'connected', { timeout: 30_000 });
    await expect(page.locator('[data-floor-text]')).toHaveText(text);

    // And it is live again: an answer recorded after the restart shows up.
    const mod2 = await WsClient.open(token('moderator', dir), base);
    await mod2.must({ type: 'record_answer', unit: 'minzheng', official: '县民政局局长', summary: '重启后的答复。', commitments: [] });
    await expect(page.locator('.floor-answer')).toContainText('重启后的答复。');
    mod2.close();
    await context.close();
  } finally {
    server.kill('SIGKILL');
  }
});
