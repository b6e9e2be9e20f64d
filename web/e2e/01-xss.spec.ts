// Scenario 3: user text is rendered as text. A question carrying markup shows
// literally on the delegate page and on the screen, and nothing runs.

import { expect, test } from '@playwright/test';
import { clearStage, ensurePhase, openPage, PHONE, SCREEN, token, WsClient } from './helpers.ts';

const PAYLOAD = '请问<img src=x onerror=window.__xss=1>和<script>window.__xss=1</script>怎么办？';

test('markup in a question is shown literally and never runs', async ({ browser }) => {
  const mod = await WsClient.open(token('moderator'));
  await clearStage(mod);
  await ensurePhase(mod, 'questioning');

  const delegate = await openPage(browser, '/delegate.html', token('delegate:d041'), PHONE);
  const screen = await openPage(browser, '/screen.html', token('screen'), SCREEN);
  let dialogs = 0;
  for (const p of [delegate.page, screen.page]) p.on('dialog', (d) => (dialogs++, void d.dismiss()));

  const page = delegate.page;
  await page.getByRole('button', { name: '提问', exact: true }).click();
  await page.getByLabel('议题').selectOption({ label: '养老服务' });
  await page.getByLabel('应询单位').selectOption({ label: '县民政局' });
  await page.getByLabel('问题内容').fill(PAYLOAD);
  await page.getByRole('button', { name: '提交问题' }).click();

  // The delegate's own list shows the text literally, while pending.
  const mine = page.locator('.q-item', { hasText: '请问' });
  await expect(mine.locator('.q-text')).toHaveText(PAYLOAD);
  await expect(mine.locator('.status')).toHaveText('待审核');

  const s = await mod.waitFor((st) => st.questions.some((q) => q.text === PAYLOAD));
  const q = s.questions.find((x) => x.text === PAYLOAD)!;
  await mod.must({ type: 'approve_question', question: q.id });
  await mod.must({ type: 'grant_floor', venue: 'baiyu', question: q.id, answer_seconds: 120 });

  // Screen: on the floor, literally.
  await expect(screen.page.locator('[data-floor-text]')).toHaveText(PAYLOAD);
  await expect(screen.page.locator('[data-floor-text] img, [data-floor-text] script')).toHaveCount(0);
  // Delegate: live tab.
  await page.getByRole('button', { name: '现场', exact: true }).click();
  await expect(page.locator('.floor .q-text')).toHaveText(PAYLOAD);
  await expect(page.locator('.floor img, .floor script')).toHaveCount(0);

  for (const p of [page, screen.page]) {
    expect(await p.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
  }
  expect(dialogs).toBe(0);

  await clearStage(mod);
  mod.close();
  await delegate.context.close();
  await screen.context.close();
});
