// Scenario 2: weak township networks. A delegate goes offline in the middle
// of the ballot, keeps filling it in and submits; nothing is lost, and the
// receipts appear once the phone is back online. Then the same with a reload
// while the server cannot be reached: the outbox survives it.

import { expect, test } from '@playwright/test';
import { clearStage, ensurePhase, expectConnected, openPage, PHONE, token, WsClient } from './helpers.ts';

test('a delegate offline mid-ballot loses nothing', async ({ browser }) => {
  const mod = await WsClient.open(token('moderator'));
  await clearStage(mod);
  await ensurePhase(mod, 'evaluation');
  if (!('d040' in mod.state!.checkedIn)) await mod.must({ type: 'check_in', delegate: 'd040' });
  const units = ['renshe', 'yibao', 'vice_county_head'];
  const ev = (await mod.must({ type: 'open_evaluation', units })).result as { evaluation: number };

  const { context, page } = await openPage(browser, '/delegate.html', token('delegate:d040'), PHONE);
  await expectConnected(page);
  const form = page.locator(`[data-evaluation="${ev.evaluation}"]`);
  await expect(form.locator('fieldset')).toHaveCount(3);

  await form.getByRole('group', { name: /县人力资源和社会保障局/ }).getByLabel('基本满意').check();
  await context.setOffline(true);
  await expect(page.locator('.conn')).toHaveAttribute('data-status', 'offline');
  await expect(page.locator('.conn')).toHaveText('离线');

  // Still offline: keep filling in, then submit.
  await form.getByRole('group', { name: /县医疗保障局/ }).getByLabel('满意', { exact: true }).check();
  await form.getByRole('group', { name: /分管副县长/ }).getByLabel('不满意').check();
  await form.getByRole('button', { name: /提交 3 张测评票/ }).click();
  await expect(page.locator('.conn')).toHaveText('离线，3 条待发送');
  await expect(form.locator('fieldset.ballot-pending')).toHaveCount(3);
  await expect(form.getByText('已提交，等待发送')).toHaveCount(3);

  // Back online: the outbox is sent, the receipts appear.
  await context.setOffline(false);
  await expect(form.locator('[data-receipt]')).toHaveCount(3);
  await expect(page.locator('.conn')).toHaveText('已连接');
  await expect(form.locator('[data-receipt="renshe"]')).toContainText('基本满意');
  await expect(form.locator('[data-receipt="yibao"]')).toContainText('满意');
  await expect(form.locator('[data-receipt="vice_county_head"]')).toContainText('不满意');

  // Exactly one ballot per unit reached the count.
  const s = await mod.waitFor((st) => st.stats.evaluation?.evaluation === ev.evaluation && st.stats.evaluation.ballots_by_unit.every((b) => b.ballots === 1));
  expect(s.stats.evaluation!.turnout.voted).toBe(1);

  await context.close();
  mod.close();
});

test('the outbox survives a reload while the server is unreachable', async ({ browser }) => {
  const mod = await WsClient.open(token('moderator'));
  const evId = mod.state!.evaluations.find((e) => e.status === 'open')!.id;
  if (!('d042' in mod.state!.checkedIn)) await mod.must({ type: 'check_in', delegate: 'd042' });

  const { context, page } = await openPage(browser, '/delegate.html', token('delegate:d042'), PHONE);
  await expectConnected(page);
  const form = page.locator(`[data-evaluation="${evId}"]`);
  await expect(form.locator('fieldset')).toHaveCount(3);

  // The page itself loads, but the WebSocket cannot get through.
  let blocked = true;
  await page.routeWebSocket(/\/ws/, (ws) => {
    if (blocked) ws.close({ code: 1011 });
    else ws.connectToServer();
  });
  await page.reload();
  await expect(page.locator('.conn')).not.toHaveAttribute('data-status', 'connected');
  // The last state was cached: the ballot is there before the network answers.
  for (const g of await form.getByRole('group').all()) await g.getByLabel('满意', { exact: true }).check();
  await form.getByRole('button', { name: /提交 3 张测评票/ }).click();
  await expect(page.locator('.conn')).toHaveAttribute('data-pending', '3');

  // Reload again, still cut off: the three commands are still waiting.
  await page.reload();
  await expect(page.locator('.conn')).toHaveAttribute('data-pending', '3');
  await expect(form.locator('fieldset.ballot-pending')).toHaveCount(3);

  // Let the socket through: the client reconnects by itself and sends the
  // outbox with the same ids; the receipts appear.
  blocked = false;
  await expect(form.locator('[data-receipt]')).toHaveCount(3, { timeout: 40_000 });
  await expect(page.locator('.conn')).toHaveAttribute('data-pending', '0');
  const s = await mod.waitFor((st) => st.stats.evaluation?.turnout.voted === 2);
  expect(s.stats.evaluation!.ballots_by_unit.map((b) => b.ballots)).toEqual([2, 2, 2]);

  await clearStage(mod);
  await context.close();
  mod.close();
});
