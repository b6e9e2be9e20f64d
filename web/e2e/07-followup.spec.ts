// Scenario: the follow-up after the session (交办清单), through the new pages.
//
// The shared session is closed here if it is not yet (the close drafts the
// list from the earlier scenarios: 02's commitment, the question never
// reached, 01's answered question). Then, in order: the office edits and
// issues drafts on office.html and the board's figures follow; a unit on a
// desktop starts an item, uploads evidence (and is told why a wrong file is
// refused), asks for an extension that the office grants, and replies; a
// unit at phone size replies and notes; the delegate rates on delegate.html
// (不满意 + 申请重办) and the venue operator rates on behalf of an asker;
// progress.html shows it all without a credential; axe checks every new
// page; finally the office returns, closes and archives.
//
// The tests share pages and state, so they run serially in file order.

import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import type { ItemDto } from '../src/protocol.ts';
import { addDays } from '../src/lib/followup.ts';
import { BASE_URL, SESSION } from './env.ts';
import { clearStage, ensurePhase, expectConnected, openPage, PHONE, SCREEN, shot, token, WsClient } from './helpers.ts';

// The questions of the earlier scenarios (01 and 02).
const QUESTION = '白羽街道的老年助餐点只有两个，县民政局今年能否再建三个，覆盖所有社区？';
const UNASKED = '养老服务补贴资金拨付为何常常滞后半年？';
const XSS = '请问<img src=x onerror=window.__xss=1>和<script>window.__xss=1</script>怎么办？';

const DESKTOP = { width: 1440, height: 900 };
const UNIT_PHONE = { width: 360, height: 740 };

// A 1×1 PNG (the server recognises files by their content).
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a10000000049454e44ae426082',
  'hex',
);

test.describe.configure({ mode: 'serial' });

let mod: WsClient;
let office: WsClient; // the office's own view, to check what the pages did
let officeCtx: BrowserContext;
let officePage: Page;
let today = '';
const ids = { commitment: 0, unasked: 0, answer: 0 };

function questionId(text: string): number {
  const q = mod.state!.questions.find((x) => x.text === text);
  if (!q) throw new Error(`no question ${text}`);
  return q.id;
}

function item(id: number): ItemDto {
  const it = office.state!.items.find((i) => i.id === id);
  if (!it) throw new Error(`no item ${id}`);
  return it;
}

async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length}× ${v.help} — e.g. ${v.nodes[0]?.target.join(' ')}`);
}

async function figure(page: Page, name: string): Promise<string> {
  return (await page.locator(`[data-board="overall"] [data-figure="${name}"] dd`).textContent()) ?? '';
}

/** Scrolls so that the element's top is just below the sticky header. */
async function scrollTo(page: Page, selector: string): Promise<void> {
  await page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const header = document.querySelector('header');
    if (el) window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - (header?.getBoundingClientRect().height ?? 0) - 12);
  }, selector);
}

async function openUnit(browser: Browser, unit: string, size: { width: number; height: number }) {
  const u = await openPage(browser, '/unit.html', token(`unit:${unit}`), size);
  await expectConnected(u.page);
  return u;
}

/**
 * When this file runs alone (not after 01 and 02), asks what they asked, as
 * they did: 02's question answered with a commitment, its other question
 * never reached, 01's question answered without one.
 */
async function seedIfAlone(): Promise<void> {
  const s = mod.state!;
  if (s.session.phase === 'closed' || s.session.phase === 'archived' || s.questions.some((q) => q.text === QUESTION)) return;
  await ensurePhase(mod, 'questioning');
  const ask = async (delegate: string, topic: string, unit: string, text: string) => {
    const q = ((await mod.must({ type: 'submit_question', on_behalf_of: delegate, topic, unit, text })).result as { question: number }).question;
    await mod.must({ type: 'approve_question', question: q });
    return q;
  };
  const answerOnFloor = async (q: number, unit: string, summary: string, commitments: Array<{ what: string; unit: string; due: string }>) => {
    await mod.must({ type: 'grant_floor', venue: 'baiyu', question: q });
    await mod.must({ type: 'record_answer', unit, official: '工作人员', summary, commitments });
    await mod.must({ type: 'end_floor' });
  };
  await answerOnFloor(await ask('d041', 'services', 'minzheng', XSS), 'minzheng', '已答复。', []);
  const q = await ask('d036', 'projects', 'minzheng', QUESTION);
  await ask('d037', 'funds', 'caizheng', UNASKED);
  await answerOnFloor(q, 'minzheng', '今年在白羽街道新建助餐点三个。', [{ what: '白羽街道新建助餐点三个', unit: 'minzheng', due: '2099-12-31' }]);
}

test.beforeAll(async ({ browser }) => {
  mod = await WsClient.open(token('moderator'));
  await clearStage(mod);
  await seedIfAlone();
  await ensurePhase(mod, 'closed');
  office = await WsClient.open(token('office'));
  await office.waitFor((s) => s.items.length > 0);
  today = office.state!.board.as_of;
  expect(today).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  const find = (q: number, kind: string) => office.state!.items.find((i) => i.sources.some((s) => s.question === q && s.kind === kind))?.id ?? 0;
  ids.commitment = find(questionId(QUESTION), 'commitment');
  ids.unasked = find(questionId(UNASKED), 'unasked');
  ids.answer = find(questionId(XSS), 'answer');
  expect(ids.commitment && ids.unasked && ids.answer, JSON.stringify(ids)).toBeTruthy();
  ({ context: officeCtx, page: officePage } = await openPage(browser, '/office.html', token('office'), DESKTOP));
  await expectConnected(officePage);
});

test.afterAll(async () => {
  await officeCtx?.close();
  office?.close();
  mod?.close();
});

test('office: drafts are edited, merged and issued; the board follows', async () => {
  const p = officePage;
  await p.getByRole('button', { name: /^草稿（\d+）$/ }).click();

  // 02's commitment: a near deadline (due soon), supervised, with a co-handling unit.
  const card = p.locator(`.draft-card[data-item="${ids.commitment}"]`);
  await expect(card.locator('.source-question')).toHaveText(QUESTION);
  await expect(card.locator('.source-commitment')).toContainText('白羽街道新建助餐点三个');
  const due = addDays(today, 5);
  await card.getByLabel('办理时限').fill(due);
  await card.getByLabel('重点督办').check();
  await card.getByLabel('县财政局').check();
  await card.getByLabel('交办要求').fill('白羽街道新建助餐点三个，年底前覆盖全部社区');
  await expect(card).toContainText('有未保存的修改');
  await card.getByRole('button', { name: '保存修改' }).click();
  await office.waitFor(() => item(ids.commitment).priority === 'supervised' && item(ids.commitment).deadline === due);
  expect(item(ids.commitment).co_units).toEqual(['caizheng']);
  await expect(card).not.toContainText('有未保存的修改');

  const issuedBefore = office.state!.board.overall.issued;
  await card.getByRole('button', { name: '交办', exact: true }).click();
  await expect(card).toHaveCount(0);
  await office.waitFor(() => item(ids.commitment).status === 'issued');
  expect(item(ids.commitment).number).toBeGreaterThan(0);

  // Issuing without a deadline is stopped before anything is sent.
  const unasked = p.locator(`.draft-card[data-item="${ids.unasked}"]`);
  await unasked.getByRole('button', { name: '交办', exact: true }).click();
  await expect(unasked.getByRole('alert')).toContainText('交办前请填写办理时限');
  await unasked.getByLabel('办理时限').fill(addDays(today, 20));
  await unasked.getByRole('button', { name: '保存并交办' }).click();
  await expect(unasked).toHaveCount(0);

  // 01's question: its markup is shown as text, never run.
  const answer = p.locator(`.draft-card[data-item="${ids.answer}"]`);
  await expect(answer.locator('.source-question')).toHaveText(XSS);
  await expect(answer.locator('img, script')).toHaveCount(0);
  await answer.getByLabel('办理时限').fill(addDays(today, 30));
  await answer.getByRole('button', { name: '保存并交办' }).click();
  await expect(answer).toHaveCount(0);
  expect(await p.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();

  // Drafting again adds nothing that is already there.
  await p.getByRole('button', { name: '根据会议记录生成草稿' }).click();
  await expect(p.locator('.notice').last()).toHaveText(/没有需要新增的草稿|新增 \d+ 条草稿/);

  // Two drafts by hand, one merged into the other.
  for (const text of ['核查各乡镇助餐点运营补贴发放情况', '核查助餐点补贴（重复）']) {
    await p.getByRole('button', { name: '新增草稿' }).first().click();
    const form = p.locator('form.new-draft');
    await form.getByLabel('牵头单位').selectOption({ label: '县医疗保障局' });
    await form.getByLabel('交办要求').fill(text);
    await form.getByRole('button', { name: '新增草稿' }).click();
    await expect(form).toHaveCount(0);
    await office.waitFor((s) => s.items.some((i) => i.requirement === text));
  }
  const keep = office.state!.items.find((i) => i.requirement === '核查各乡镇助餐点运营补贴发放情况')!.id;
  const dup = office.state!.items.find((i) => i.requirement === '核查助餐点补贴（重复）')!.id;
  const dupCard = p.locator(`.draft-card[data-item="${dup}"]`);
  await dupCard.getByLabel('并入草稿').selectOption(String(keep));
  await dupCard.getByRole('button', { name: '合并' }).click();
  await expect(dupCard).toHaveCount(0);
  await office.waitFor(() => item(dup).merged_into === keep);
  await expect(p.locator(`.draft-card[data-item="${keep}"] .source`)).toHaveCount(0);

  // The board: three more issued, one of them due soon, none overdue.
  await p.getByRole('button', { name: /^交办事项（\d+）$/ }).click();
  const board = (await office.waitFor((s) => s.board.overall.issued === issuedBefore + 3)).board.overall;
  await expect(p.locator('[data-board="overall"] [data-figure="issued"] dd')).toHaveText(String(board.issued));
  await expect(p.locator('[data-board="overall"] [data-figure="waiting"] dd')).toHaveText(String(board.waiting));
  await expect(p.locator('[data-board="overall"] [data-figure="due_soon"] dd')).toHaveText(String(board.due_soon));
  expect(board.due_soon).toBeGreaterThanOrEqual(1);
  expect(await figure(p, 'overdue')).toBe(String(board.overdue));
  await expect(p.locator('tr[data-unit="minzheng"] td[data-figure="issued"]')).toHaveText('2');
  await expect(p.locator('tr[data-unit="caizheng"] td[data-figure="issued"]')).toHaveText('1');

  // Filters: supervised items only, then by unit (lead or co-handling) from the board's row.
  await p.getByLabel('优先级').selectOption({ label: '重点督办' });
  await expect(p.locator('.item-card')).toHaveCount(1);
  await expect(p.locator(`.item-card[data-item="${ids.commitment}"] [data-deadline-state="due_soon"]`)).toContainText('5 天后到期');
  await p.getByRole('button', { name: '清除筛选' }).click();
  await p.locator('tr[data-unit="caizheng"]').getByRole('button').click();
  await expect(p.getByLabel('承办单位')).toHaveValue('caizheng');
  await expect(p.locator('.item-card')).toHaveCount(2);
  await p.getByRole('button', { name: '清除筛选' }).click();
  await expect(p.locator('.item-card')).toHaveCount(board.issued);
});

test('unit on a desktop: start, evidence (and a refused file), extension granted by the office, reply', async ({ browser }) => {
  const { context, page } = await openUnit(browser, 'minzheng', { width: 1280, height: 800 });
  const card = page.locator(`li.u-item[data-item="${ids.commitment}"]`);
  // By deadline: the due-soon commitment comes first.
  await expect(page.locator('li.u-item').first()).toHaveAttribute('data-item', String(ids.commitment));
  await expect(card.locator('[data-deadline-state="due_soon"]')).toContainText('5 天后到期');
  await expect(card.locator('.source-question')).toHaveText(QUESTION);
  await expect(page.locator(`li.u-item[data-item="${ids.answer}"] .source-question`)).toHaveText(XSS);

  await card.getByRole('button', { name: '开始办理' }).click();
  await expect(card.locator('.item-status')).toHaveText('办理中');

  // Evidence: a PNG is accepted; a text file is refused with a clear reason.
  const input = card.getByLabel('上传佐证材料（照片或 PDF）');
  await input.setInputFiles({ name: '助餐点选址.png', mimeType: 'image/png', buffer: PNG });
  await expect(card.locator('[data-upload="ok"]')).toHaveText('已上传：助餐点选址.png');
  await expect(card.locator('.evidence-row')).toContainText('助餐点选址.png');
  await input.setInputFiles({ name: '说明.txt', mimeType: 'text/plain', buffer: Buffer.from('不是图片') });
  await expect(card.locator('[data-upload="error"]')).toHaveText('文件类型不支持：只能上传 JPG、PNG、WebP 图片或 PDF 文件。');
  await office.waitFor(() => item(ids.commitment).evidence.length === 1);

  // Extension: asked here, granted on the office's page.
  const until = addDays(item(ids.commitment).deadline!, 10);
  await card.getByRole('button', { name: '申请延期' }).click();
  await card.getByLabel('延期至').fill(until);
  await card.getByLabel('延期理由').fill('第三个助餐点选址需要社区听证');
  await card.getByRole('button', { name: '提交延期申请' }).click();
  await expect(card.locator('[data-extension-waiting]')).toHaveText(`延期申请（延至 ${until}）等待人大办审批`);

  const officeCard = officePage.locator(`.item-card[data-item="${ids.commitment}"]`);
  await expect(officeCard.locator('.badge-extension')).toHaveText('延期待审批');
  // Refusing needs an answer: stopped before sending.
  await officeCard.getByRole('button', { name: '不同意' }).click();
  await expect(officeCard.getByRole('alert')).toHaveText('不同意延期时须填写答复意见');
  await officeCard.getByLabel('答复意见（同意时可不填）').fill('同意，请抓紧听证');
  await officeCard.getByRole('button', { name: '同意延期' }).click();
  await expect(officeCard.locator('[data-extension-pending]')).toHaveCount(0);

  await expect(card.locator('[data-extension-decided="granted"]')).toContainText(`人大办已同意延期至 ${until}`);
  await expect(card.locator('.deadline')).toHaveAttribute('data-deadline', until);

  // A progress note, then the written reply.
  await card.getByRole('button', { name: '添加进展' }).click();
  await card.getByLabel('新增办理进展').fill('已完成两处选址');
  await card.getByRole('button', { name: '提交进展' }).click();
  await expect(card.locator('.notes')).toContainText('已完成两处选址');
  await card.getByRole('button', { name: '写书面答复' }).click();
  await card.getByLabel('书面答复内容').fill('白羽街道已新建助餐点两个，第三个年底前建成。');
  await card.getByRole('button', { name: '提交书面答复' }).click();
  await expect(card.locator('.item-status')).toHaveText('已答复');
  await expect(card.locator('[data-reply]')).toHaveText('白羽街道已新建助餐点两个，第三个年底前建成。');
  await scrollTo(page, `li.u-item[data-item="${ids.commitment}"]`);
  await shot(page, 'unit-desktop');
  await context.close();
});

test('unit at phone size: reply to its own item, a note on a co-handled one', async ({ browser }) => {
  const { context, page } = await openUnit(browser, 'caizheng', UNIT_PHONE);
  const own = page.locator(`li.u-item[data-item="${ids.unasked}"]`);
  const co = page.locator(`li.u-item[data-item="${ids.commitment}"]`);
  await expect(own.locator('.source-question')).toHaveText(UNASKED);
  await expect(co.getByText('协办', { exact: true })).toBeVisible();
  // A co-handling unit neither replies nor rectifies.
  await expect(co.getByRole('button', { name: '写书面答复' })).toHaveCount(0);

  await own.getByRole('button', { name: '写书面答复' }).click();
  await own.getByLabel('书面答复内容').fill('补贴资金已改为按季度预拨，今年起不再滞后。');
  await own.getByRole('button', { name: '提交书面答复' }).click();
  await expect(own.locator('.item-status')).toHaveText('已答复');

  await co.getByRole('button', { name: '添加进展' }).click();
  await co.getByLabel('新增办理进展').fill('已测算新增助餐点运营补贴');
  await co.getByRole('button', { name: '提交进展' }).click();
  await expect(co.locator('.notes')).toContainText('已测算新增助餐点运营补贴');

  // Nothing is wider than the phone.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(UNIT_PHONE.width);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'unit-phone');
  await context.close();
});

test('delegate rates the outcome on delegate.html; the operator rates on behalf of an asker', async ({ browser }) => {
  const { context, page } = await openPage(browser, '/delegate.html', token('delegate:d036'), PHONE);
  await expectConnected(page);
  await expect(page.getByRole('heading', { name: '我的问题办理情况' })).toBeVisible();
  const card = page.locator(`li.fu-item[data-item="${ids.commitment}"]`);
  await expect(card.locator('[data-reply]')).toHaveText('白羽街道已新建助餐点两个，第三个年底前建成。');
  await expect(card.locator('.evidence-row')).toContainText('助餐点选址.png');
  const form = card.locator('form.fu-rate');
  await form.getByRole('button', { name: '提交评价' }).click();
  await expect(form.getByRole('alert')).toHaveText('请选择满意、基本满意或不满意');
  // 申请重办 is offered only with 不满意, with what it means.
  await expect(form.getByLabel('申请重办')).toHaveCount(0);
  await form.getByLabel('不满意').check();
  await expect(form.locator('.fu-rehandle')).toContainText('公开告诉人大办');
  await form.getByLabel('申请重办').check();
  await form.getByLabel('意见（可不填）').fill('第三个助餐点还没有开工');
  await scrollTo(page, `li.fu-item[data-item="${ids.commitment}"] .reply-box`);
  await shot(page, 'delegate-rating');
  await form.getByRole('button', { name: '提交评价' }).click();
  const receipt = card.locator('.fu-receipt');
  await expect(receipt).toContainText('评价已提交');
  await expect(receipt).toContainText('您的评价：不满意');
  await expect(receipt).toContainText('已申请重办');
  await expect(card.locator('form.fu-rate')).toHaveCount(0);
  await context.close();

  // The office sees it flagged (not who rated what), first in the list.
  await office.waitFor(() => item(ids.commitment).flagged);
  const officeCard = officePage.locator(`.item-card[data-item="${ids.commitment}"]`);
  await expect(officeCard).toHaveClass(/item-flagged/);
  await expect(officeCard.locator('.badge-flagged')).toHaveText('代表申请重办');
  await expect(officePage.locator('.item-card').first()).toHaveAttribute('data-item', String(ids.commitment));
  await expect(officePage.locator('[data-board="overall"] [data-figure="flagged"] dd')).toHaveText('1');
  await expect(officePage.locator('tr[data-unit="minzheng"] td[data-figure="satisfaction"]')).toHaveText(/样本不足/);

  // The venue operator rates for the asker of the other item (d037, same venue).
  const op = await openPage(browser, '/delegate.html', token('operator:baiyu'), PHONE);
  await expectConnected(op.page);
  await expect(op.page.getByRole('heading', { name: '本会场问题办理情况' })).toBeVisible();
  const opCard = op.page.locator(`li.fu-item[data-item="${ids.unasked}"]`);
  const opForm = opCard.locator('form.fu-rate');
  const name = mod.state!.delegates.find((d) => d.id === 'd037')!.name;
  await expect(opForm.getByLabel('提问代表')).toHaveValue('d037');
  await opForm.getByLabel('满意', { exact: true }).check();
  await opForm.getByRole('button', { name: '提交评价' }).click();
  await expect(opCard.locator('.fu-receipt')).toContainText(`已为 ${name} 提交评价：满意`);
  await expect(opCard.locator('.fu-receipt')).toContainText('联络员代为评价');
  await office.waitFor(() => item(ids.unasked).ratings.counts.total === 1);
  expect(item(ids.unasked).flagged).toBe(false);
  await op.context.close();

  // The board and the top of the list (the flagged item first) in one picture.
  await officePage.setViewportSize({ width: DESKTOP.width, height: 1500 });
  await officePage.evaluate(() => window.scrollTo(0, 0));
  await shot(officePage, 'office-board');
  await officePage.setViewportSize(DESKTOP);
});

test('progress.html without a credential: rates, charts, replies, public evidence, no names', async ({ browser, request }) => {
  // The office publishes the evidence file first.
  const officeCard = officePage.locator(`.item-card[data-item="${ids.commitment}"]`);
  await officeCard.getByRole('button', { name: '详情' }).click();
  await officeCard.getByRole('button', { name: '公开 助餐点选址.png' }).click();
  await office.waitFor(() => item(ids.commitment).evidence[0].public);
  await expect(officeCard.getByRole('button', { name: '取消公开 助餐点选址.png' })).toBeVisible();
  // The office downloads it with its credential (fetch with the Authorization header, then a blob).
  const [download] = await Promise.all([officePage.waitForEvent('download'), officeCard.getByRole('button', { name: '下载 助餐点选址.png' }).click()]);
  expect(download.suggestedFilename()).toBe('助餐点选址.png');
  expect(readFileSync((await download.path())!).equals(PNG)).toBe(true);

  const progress = await (await request.get(`/api/sessions/${SESSION}/progress`)).json();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[progress] page error:', e.message));
  await page.goto('/progress.html');
  const rate = progress.board.overall.resolved_rate_bp as number;
  await expect(page.locator('.p-rate strong')).toHaveText(`${(rate / 100).toFixed(2)}%`);
  await expect(page.locator('[data-figure="issued"] dd')).toHaveText(String(progress.board.overall.issued));
  for (const chart of ['rate-overall', 'rate-units', 'status-units']) await expect(page.locator(`[data-chart="${chart}"] canvas`)).toHaveCount(1);
  const card = page.locator(`li.p-item[data-item="${ids.commitment}"]`);
  await expect(card.locator('.source-question')).toHaveText(QUESTION);
  await expect(card.locator('[data-reply]')).toHaveText('白羽街道已新建助餐点两个，第三个年底前建成。');
  await expect(card.locator('[data-lead]')).toHaveText('县民政局');
  const link = card.getByRole('link', { name: '下载 助餐点选址.png' });
  const href = await link.getAttribute('href');
  const file = await request.get(href!);
  expect(file.status()).toBe(200);
  expect(Buffer.from(await file.body()).equals(PNG)).toBe(true);
  await expect(page.locator(`li.p-item[data-item="${ids.answer}"] .source-question`)).toHaveText(XSS);
  await expect(page.locator('.p-item img, .p-item script')).toHaveCount(0);
  // No delegate's name anywhere.
  for (const id of ['d036', 'd037', 'd041']) {
    const n = mod.state!.delegates.find((d) => d.id === id)!.name;
    await expect(page.locator('body')).not.toContainText(n);
  }
  // The same with the session named in the address.
  await page.goto(`/progress.html?session=${SESSION}`);
  await expect(page.locator(`li.p-item[data-item="${ids.commitment}"]`)).toBeVisible();
  await expect(page.locator('[data-chart="rate-units"] canvas')).toHaveCount(1);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'progress');
  await context.close();
});

test('the new pages have no WCAG A/AA violations', async ({ browser }) => {
  expect(await violations(officePage)).toEqual([]);
  await officePage.getByRole('button', { name: /^草稿（\d+）$/ }).click();
  await expect(officePage.locator('.draft-card').first()).toBeVisible();
  expect(await violations(officePage)).toEqual([]);
  await officePage.getByRole('button', { name: /^交办事项（\d+）$/ }).click();

  for (const [unit, size] of [
    ['minzheng', { width: 1280, height: 800 }],
    ['caizheng', UNIT_PHONE],
  ] as const) {
    const { context, page } = await openUnit(browser, unit, size);
    await expect(page.locator('li.u-item').first()).toBeVisible();
    expect(await violations(page), unit).toEqual([]);
    await context.close();
  }

  for (const principal of ['delegate:d036', 'operator:baiyu']) {
    const { context, page } = await openPage(browser, '/delegate.html', token(principal), PHONE);
    await expectConnected(page);
    await expect(page.locator('li.fu-item').first()).toBeVisible();
    expect(await violations(page), principal).toEqual([]);
    await context.close();
  }

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto('/progress.html');
  await expect(page.locator('li.p-item').first()).toBeVisible();
  expect(await violations(page), 'progress').toEqual([]);
  await context.close();

  // The big screen once the session is closed: the closing summary with
  // every round's results (issue 10), readable and accessible.
  const scr = await openPage(browser, '/screen.html', token('screen'), SCREEN);
  await expectConnected(scr.page);
  const closing = scr.page.locator('[data-closing]');
  await expect(closing).toContainText('本次代表问政活动已结束');
  await expect(closing.locator('[data-figure="asked"] dd')).not.toHaveText('0');
  await expect(closing.locator('.closing-rates li').first()).toContainText('%');
  expect(await violations(scr.page), 'screen, closed').toEqual([]);
  await shot(scr.page, 'screen-closed');
  await scr.context.close();
});

test('office: return with a reason, close every item, archive', async ({ browser }) => {
  const p = officePage;
  const card = p.locator(`.item-card[data-item="${ids.commitment}"]`);
  if ((await card.getByRole('button', { name: '收起' }).count()) === 0) await card.getByRole('button', { name: '详情' }).click();
  // A return needs a reason.
  await card.getByRole('button', { name: '退回' }).click();
  await expect(card.getByRole('alert')).toHaveText('请填写退回理由');
  await card.getByLabel('退回理由').fill('代表申请重办：第三个助餐点尚未开工，请继续办理');
  await card.getByRole('button', { name: '退回' }).click();
  await expect(card.locator('.item-status')).toHaveText('办理中');

  // The unit sees why, and reports the rectification.
  const unit = await openUnit(browser, 'minzheng', { width: 1280, height: 800 });
  const ucard = unit.page.locator(`li.u-item[data-item="${ids.commitment}"]`);
  await expect(ucard.locator('[data-returned]')).toHaveText('人大办退回：代表申请重办：第三个助餐点尚未开工，请继续办理');
  await ucard.getByRole('button', { name: '报整改情况' }).click();
  await ucard.getByLabel('整改情况说明').fill('第三个助餐点已开工，预计月底投入运营。');
  await ucard.getByRole('button', { name: '提交整改情况' }).click();
  await expect(ucard.locator('.item-status')).toHaveText('已整改');
  await unit.context.close();

  // The other two items: the unit replies over the protocol; the office closes all three on the page.
  const minzheng = await WsClient.open(token('unit:minzheng'));
  await minzheng.must({ type: 'reply_item', item: ids.answer, text: '已按现场答复落实。' });
  minzheng.close();
  for (const id of [ids.commitment, ids.unasked, ids.answer]) {
    const c = p.locator(`.item-card[data-item="${id}"]`);
    await expect(c.locator('.item-status')).toHaveText(/已答复|已整改/);
    if ((await c.getByRole('button', { name: '收起' }).count()) === 0) await c.getByRole('button', { name: '详情' }).click();
    await c.getByRole('button', { name: '办结' }).click();
    await c.getByRole('group', { name: '办结' }).getByRole('button', { name: '确定' }).click();
    await expect(c.locator('.item-status')).toHaveText('已办结');
  }
  const closed = await office.waitFor((s) => s.board.overall.closed === s.board.overall.issued);
  await expect(p.locator('[data-board="overall"] [data-figure="closed"] dd')).toHaveText(String(closed.board.overall.closed));

  // Everything issued is closed: the follow-up can be archived (the merged-into draft was never issued).
  const archive = p.locator('section.archive');
  await expect(archive).toContainText('还有 1 条草稿未交办');
  await archive.getByRole('button', { name: '结束办理并归档' }).click();
  await archive.getByRole('group').getByRole('button', { name: '确定' }).click();
  await expect(p.locator('[data-archived]')).toHaveText('办理已结束并归档，交办清单只读。');
  await office.waitFor((s) => s.session.phase === 'archived');
  await expect(p.locator('.o-tabs')).toBeVisible();
  await expect(p.getByRole('button', { name: '办结' })).toHaveCount(0);

  // The public page says so too.
  const res = await fetch(`${BASE_URL}/api/sessions/${SESSION}/progress`);
  expect((await res.json()).session.phase).toBe('archived');
});
