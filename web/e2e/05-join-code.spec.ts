// Joining by typing the short code from a printed card, for phones without a
// camera or a QR reader: the page without a link asks for the code, says at
// once when it is wrong, and sends a code of another role to its page.

import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { PHONE, joinCode, openPage, token } from './helpers.ts';

test('a delegate joins by typing the short code from the card, in lower case', async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await page.goto('/delegate.html');
  await expect(page.getByRole('alert').first()).toContainText('缺少入会凭证');
  const field = page.getByLabel('或输入入会卡上的入会码');
  // A wrong code is said in the app's words, and nothing else happens.
  await field.fill('zzzzz zzzzz');
  await page.getByRole('button', { name: '进入' }).click();
  await expect(page.locator('#join-code-problem')).toHaveText('入会码不正确，请对照入会卡核对后重新输入。');
  await expect(page).toHaveURL(/delegate\.html$/);
  // The right one, as a person types it: lower case, a space for the dash.
  await field.fill(joinCode('delegate:d017').toLowerCase().replace('-', ' '));
  await page.getByRole('button', { name: '进入' }).click();
  // The page now says who and where the delegate is.
  await expect(page.locator('header')).toContainText('代表');
  await expect(page.getByRole('status').first()).toContainText('已连接');
  // A reload keeps the code: no typing again.
  await page.reload();
  await expect(page.getByRole('status').first()).toContainText('已连接');
  await context.close();
});

test("a code typed on another role's page goes to that page", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await page.goto('/delegate.html');
  await page.getByLabel('或输入入会卡上的入会码').fill(joinCode('screen'));
  await page.getByRole('button', { name: '进入' }).click();
  await expect(page).toHaveURL(/screen\.html/);
  // The big screen shows the session, not the credential screen.
  await expect(page.getByText('积极应对人口老龄化').first()).toBeVisible();
  await expect(page.getByText('缺少入会凭证')).toHaveCount(0);
  await context.close();
});

test("a link opened on the wrong page leads to the right one without asking again", async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  // The moderator's link opened on the delegate page.
  await page.goto(`/delegate.html#token=${token('moderator')}`);
  await expect(page.getByRole('alert')).toContainText('不能在代表页面使用');
  await page.getByRole('link', { name: '主持人控制台' }).click();
  await expect(page).toHaveURL(/moderator\.html/);
  // Connected as the moderator: no "missing credential" screen.
  await expect(page.getByRole('status').first()).toContainText('已连接');
  await expect(page.getByText('缺少入会凭证')).toHaveCount(0);
  await context.close();
});

test("the moderator prints a township's join cards from the console", async ({ browser }) => {
  const { context, page } = await openPage(browser, '/moderator.html', token('moderator'), { width: 1440, height: 900 });
  await page.getByRole('button', { name: '文件与表格', exact: true }).click();
  const cards = page.locator('.join-cards');
  await cards.getByLabel('会场').selectOption({ label: '白羽街道人大代表联络站' });
  const [download] = await Promise.all([page.waitForEvent('download'), cards.getByRole('button', { name: /入会卡 · 白羽街道.* · 打印版/ }).click()]);
  const html = readFileSync(await download.path(), 'utf8');
  // The venue's operator and its delegates, each with the code to type.
  expect(html).toContain(joinCode('operator:baiyu'));
  expect(html).toContain('白羽街道');
  expect(html).not.toContain(joinCode('moderator'));
  expect(html).not.toContain('<script');
  await context.close();
});
