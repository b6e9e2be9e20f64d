// Scenario: what the session leaves behind (issue 9). The bulletin's print
// HTML opens in the browser with the moderator's credential: its headings,
// a question asked on the floor (escaped: the XSS question of 01 shows as
// text and runs nothing), the chain head, and the print media with its
// `@page` rules (A4, page numbers) printing to a PDF. Then the console's
// 文件与表格 panel lists every document and spreadsheet by name, without an
// address, passes axe (WCAG 2 A/AA), and downloads with the credential.
//
// After 07 the session is closed (or archived); run alone, this file puts a
// question on the floor first so the bulletin has one.

import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { BASE_URL, SESSION } from './env.ts';
import { clearStage, ensurePhase, openPage, shot, token, WsClient } from './helpers.ts';

const OWN_QUESTION = '养老服务中心的夜间照护何时开放？';

/** The text of a question answered on the floor (asking one if there is none yet). */
async function askedQuestion(): Promise<string> {
  const mod = await WsClient.open(token('moderator'));
  try {
    const answered = mod.state!.questions.find((q) => q.answer);
    if (answered) return answered.text;
    await ensurePhase(mod, 'questioning');
    await clearStage(mod);
    const ack = await mod.must({ type: 'submit_question', on_behalf_of: 'd001', topic: 'services', unit: 'minzheng', text: OWN_QUESTION });
    const q = (ack.result as { question: number }).question;
    await mod.must({ type: 'approve_question', question: q });
    await mod.must({ type: 'grant_floor', venue: 'main', question: q });
    await mod.must({ type: 'record_answer', unit: 'minzheng', official: '县民政局局长', summary: '年内开放。', commitments: [] });
    await mod.must({ type: 'end_floor' });
    return OWN_QUESTION;
  } finally {
    mod.close();
  }
}

test('the bulletin prints from the browser: headings, questions, chain head, @page', async ({ browser }) => {
  const question = await askedQuestion();
  const context = await browser.newContext({ extraHTTPHeaders: { Authorization: `Bearer ${token('moderator')}` } });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/api/sessions/${SESSION}/documents/bulletin.html`);
  await expect(page.locator('h1.masthead')).toHaveText('人大工作信息');
  await expect(page.getByRole('heading', { name: /问政实录/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: /满意度测评结果/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: /交办事项办理情况/ })).toBeVisible();
  await expect(page.locator('[data-question]').filter({ hasText: question }).first()).toBeVisible();
  await expect(page.locator('[data-chain-head]')).toHaveText(/^[0-9a-f]{64}$/);
  // What people typed is text: the XSS question of 01 (if asked) ran nothing.
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(await page.locator('script').count()).toBe(0);

  // Print media: the screen padding goes, the page rules apply.
  const padding = () => page.evaluate(() => getComputedStyle(document.body).paddingTop);
  expect(await padding()).not.toBe('0px');
  await page.emulateMedia({ media: 'print' });
  expect(await padding()).toBe('0px');
  const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  await context.close();
});

test('the console lists documents and spreadsheets by name and downloads them', async ({ browser }) => {
  const { context, page } = await openPage(browser, '/moderator.html', token('moderator'), { width: 1440, height: 900 });
  await page.getByRole('button', { name: '文件与表格', exact: true }).click();
  const panel = page.locator('#exports');
  await expect(panel.getByRole('heading', { name: '文件与表格' })).toBeVisible();
  const docs = panel.locator('[data-list="documents"] li .export-name');
  await expect(docs).toHaveText(['人大工作信息', '测评结果报告', '交办函 · 分管副县长', '交办函 · 县民政局', '交办函 · 县卫生健康委员会', '交办函 · 县财政局', '交办函 · 县人力资源和社会保障局', '交办函 · 县医疗保障局']);
  await expect(panel.locator('[data-list="spreadsheets"] li .export-name')).toHaveText(['问题清单', '答复与承诺', '测评结果', '交办清单']);
  // Names, never addresses.
  await expect(panel).not.toContainText('/api/');
  await shot(page, 'moderator-documents');
  const axe = await new AxeBuilder({ page }).include('#exports').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  const row = panel.locator('li[data-doc="assignments"]');
  const [xlsx] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: '交办清单 · Excel' }).click()]);
  expect(xlsx.suggestedFilename()).toBe(`${SESSION}-交办清单.xlsx`);
  const letter = panel.locator('li[data-doc="letter:minzheng"]');
  const [html] = await Promise.all([page.waitForEvent('download'), letter.getByRole('button', { name: '交办函 · 县民政局 · 打印版' }).click()]);
  expect(html.suggestedFilename()).toBe(`${SESSION}-交办函-县民政局.html`);
  await context.close();
});
