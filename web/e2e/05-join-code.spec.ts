// Joining by typing the code from a printed card, for phones without a camera
// or a QR reader: the page without a link asks for the code.

import { expect, test } from '@playwright/test';
import { PHONE, token } from './helpers.ts';

test('a delegate joins by typing the code from the card', async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await page.goto('/delegate.html');
  await expect(page.getByRole('alert')).toContainText('缺少入会凭证');
  await page.getByLabel('或输入入会卡上的入会码').fill(token('delegate:d017'));
  await page.getByRole('button', { name: '进入' }).click();
  // The page now says who and where the delegate is.
  await expect(page.locator('header')).toContainText('代表');
  await expect(page.getByRole('status').first()).toContainText('已连接');
  await context.close();
});
