// Accessibility of every page, checked with axe-core (WCAG 2 A and AA rules,
// colour contrast included) in the state the session is in by now (the
// scenarios before this one leave results revealed): labels on every
// control, names for every button, sufficient contrast on the big screen.

import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { expectConnected, openPage, PHONE, SCREEN, token } from './helpers.ts';

async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length}× ${v.help} — e.g. ${v.nodes[0]?.target.join(' ')}`);
}

for (const [name, path, principal, size] of [
  ['delegate', '/delegate.html', 'delegate:d040', PHONE],
  ['venue operator', '/delegate.html', 'operator:baiyu', PHONE],
  ['public screen', '/screen.html', 'screen', SCREEN],
  ['moderator console', '/moderator.html', 'moderator', { width: 1440, height: 900 }],
] as const) {
  test(`${name}: no WCAG A/AA violations`, async ({ browser }) => {
    const { context, page } = await openPage(browser, path, token(principal), size);
    await expectConnected(page);
    expect(await violations(page)).toEqual([]);
    await context.close();
  });
}

// The big screen opened without a token (issue 10: its 进入 button was
// white on white): the join form is readable and passes axe.
test('public screen without a token: a readable join form', async ({ browser }) => {
  const context = await browser.newContext({ viewport: SCREEN });
  const page = await context.newPage();
  await page.goto('/screen.html');
  const button = page.getByRole('button', { name: '进入' });
  await expect(button).toBeVisible();
  const [fg, bg] = await button.evaluate((b) => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]);
  expect(fg).not.toBe(bg);
  expect(await violations(page)).toEqual([]);
  await context.close();
});


// The start page with its join-code field, after a wrong code (the message
// is announced and tied to the field).
test('start page: the join-code field and its error pass axe', async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await page.goto('/');
  const field = page.getByLabel('或输入入会卡上的入会码');
  await field.fill('zzzzz-zzzzz');
  await page.getByRole('button', { name: '进入' }).click();
  await expect(page.locator('#join-code-problem')).toContainText('入会码不正确');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  expect(await violations(page)).toEqual([]);
  await context.close();
});
