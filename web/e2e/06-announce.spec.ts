// Announcements (会场通知, issue 10), in real Chromium against the real
// server: the moderator announces to one venue and then to everyone; the
// venue operator's page and the big screen show what is addressed to them;
// the operator page acknowledges it and the moderator sees which venues
// have it; clearing takes it off every screen. Runs before 07 (which
// archives the session, after which nothing can be announced).

import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { expectConnected, openPage, PHONE, SCREEN, shot, token } from './helpers.ts';

test('announce to a venue and to everyone; seen by the venue; cleared everywhere', async ({ browser }) => {
  const mod = await openPage(browser, '/moderator.html', token('moderator'), { width: 1440, height: 900 });
  const op = await openPage(browser, '/delegate.html', token('operator:baiyu'), PHONE);
  const other = await openPage(browser, '/delegate.html', token('operator:zijin'), PHONE);
  const scr = await openPage(browser, '/screen.html', token('screen'), SCREEN);
  for (const p of [mod.page, op.page, other.page, scr.page]) await expectConnected(p);

  const card = mod.page.getByRole('region', { name: '会场通知' });
  // To 白羽街道 only.
  await card.getByRole('button', { name: '发布通知' }).click();
  await card.getByLabel('通知内容').fill('白羽街道请调整麦克风');
  await card.getByLabel('指定会场').check();
  await card.getByRole('checkbox', { name: /白羽街道/ }).check();
  await card.getByRole('button', { name: '发布' }).click();
  const banner = (p: typeof op.page) => p.getByRole('alert', { name: '会场通知' });
  await expect(banner(op.page)).toContainText('白羽街道请调整麦克风');
  await expect(banner(other.page)).toHaveCount(0);
  await expect(banner(scr.page)).toHaveCount(0);
  // The operator page acknowledged it: the moderator sees 1 of 1.
  const first = card.locator('.announce-item').first();
  await expect(first.locator('[data-seen]')).toHaveAttribute('data-seen', '1/1');

  // To everyone, from the presets: every page and the screen.
  await card.getByRole('button', { name: '发布通知' }).click();
  await card.getByRole('button', { name: '休会五分钟，请代表们留在座位' }).click();
  await card.getByLabel('全部会场和大屏').check();
  await card.getByRole('button', { name: '发布' }).click();
  for (const p of [op.page, other.page, scr.page]) await expect(banner(p)).toContainText('休会五分钟');
  const latest = card.locator('.announce-item').first();
  // At least the two operator pages that are open (白羽, 紫金) have seen it.
  await expect(latest.locator('[data-seen]')).toHaveAttribute('data-seen', /^([2-9]|1\d|20)\/20$/);
  await expect(latest).toContainText('已收到');
  await expect(latest).toContainText('未收到');
  await shot(scr.page, 'screen-announcement');
  await shot(op.page, 'operator-announcement');
  // The card passes axe with content in it.
  const axe = await new AxeBuilder({ page: mod.page }).include('#announce').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(axe.violations.map((v) => v.id)).toEqual([]);

  // Cleared (confirmed): off every screen; the venue's older one does not come back.
  await latest.getByRole('button', { name: '撤下' }).click();
  await mod.page.getByRole('dialog').getByRole('button', { name: '撤下' }).click();
  for (const p of [other.page, scr.page]) await expect(banner(p)).toHaveCount(0);
  await expect(banner(op.page)).toHaveCount(0);
  // The venue's announcement is still listed for the moderator; clear it too.
  await card.locator('.announce-item').first().getByRole('button', { name: '撤下' }).click();
  await mod.page.getByRole('dialog').getByRole('button', { name: '撤下' }).click();
  await expect(card.locator('.announce-item')).toHaveCount(0);

  for (const c of [mod, op, other, scr]) await c.context.close();
});
