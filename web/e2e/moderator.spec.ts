// The moderator console in a real browser, against the real server.
//
// The shared server of the other scenarios only moves forward through the
// phases, and they leave it in `evaluation`. This scenario needs the whole
// session from `preparing`, so it starts its own server (the same binary and
// `dist/` that e2e/start-server.sh built) on its own port and fresh data dir.
// Delegates and venue operators are driven over the WebSocket protocol; the
// moderator only through the page.

import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shot, token, WsClient } from './helpers.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PORT = Number(process.env.WZ_E2E_MODERATOR_PORT ?? 18491);
const BASE = `http://127.0.0.1:${PORT}`;
const DATA = join(tmpdir(), `wz-e2e-moderator-${PORT}`);
const BIN = process.env.WZ_E2E_BIN ?? join(here, '..', '..', 'target', 'debug', 'wenzheng');
const WEB = join(here, '..', 'dist');
const SESSION = 'xixia-2026';

// Delegates and operators use the shared protocol client, pointed at this scenario's server.
const Ws = { open: (t: string) => WsClient.open(t, BASE) };
type Ws = WsClient;

/** This scenario's credential for `principal`, from its own server's sheet. */
function tok(principal: string): string {
  return token(principal, DATA);
}

async function delegate(id: string): Promise<Ws> {
  return Ws.open(tok(`delegate:${id}`));
}

async function ask(id: string, topic: string, unit: string, text: string): Promise<number> {
  const d = await delegate(id);
  const ack = await d.must({ type: 'submit_question', topic, unit, text });
  d.close();
  return (ack.result as { question: number }).question;
}

// ---------------------------------------------------------------------------

let server: ChildProcess | undefined;
let serverLog = '';
let context: BrowserContext;
let page: Page;
let mod: Ws; // the moderator's own view, to check what the page did
const open: Ws[] = []; // operator connections kept open (the health board counts them)

async function ready(): Promise<boolean> {
  try {
    return (await fetch(`${BASE}/readyz`)).ok;
  } catch {
    return false;
  }
}

async function startServer(): Promise<void> {
  if (await ready()) throw new Error(`port ${PORT} is taken (a server left over?): set WZ_E2E_MODERATOR_PORT`);
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  server = spawn(BIN, ['serve', '--bind', `127.0.0.1:${PORT}`, '--data-dir', DATA, '--web-dir', WEB], { stdio: ['ignore', 'ignore', 'pipe'] });
  server.stderr?.on('data', (d) => (serverLog = (serverLog + String(d)).slice(-4000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (await ready() && existsSync(join(DATA, 'credentials', `${SESSION}.csv`))) return;
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`moderator e2e server did not start:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function openConsole(browser: Browser, principal: string): Promise<{ context: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const p = await ctx.newPage();
  p.on('pageerror', (e) => console.error(`[moderator ${principal}] page error:`, e.message));
  p.on('console', (m) => {
    if (m.type() === 'error') console.error(`[moderator ${principal}] console:`, m.text());
  });
  await p.goto(`${BASE}/moderator.html#token=${tok(principal)}`);
  await expect(p.locator('.conn').first()).toHaveAttribute('data-status', 'connected');
  return { context: ctx, page: p };
}

/** Clicks the phase button and confirms in the dialog. */
async function advance(p: Page, to: string): Promise<void> {
  await p.getByRole('button', { name: `进入下一阶段：${to}` }).click();
  const dialog = p.getByRole('dialog', { name: '确认切换阶段' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('阶段只能前进，不能回退');
  await dialog.getByRole('button', { name: '确定切换' }).click();
  await expect(p.locator('.phase-steps li[aria-current="step"]')).toHaveText(new RegExp(`${to}$`));
}

const card = (id: number) => page.locator(`#inbox li[data-question="${id}"]`);
/** The action bar at the bottom: the current phase's primary action. */
const dock = () => page.getByRole('region', { name: '当前操作' });

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  await startServer();
  mod = await Ws.open(tok('moderator'));
  ({ context, page } = await openConsole(browser, 'moderator'));
});

test.afterAll(async () => {
  server?.kill('SIGTERM');
  for (const c of open) c.close();
  mod?.close();
  await context?.close().catch(() => undefined);
});

// Question ids, filled in as the scenario goes.
const Q: Record<string, number> = {};

test('phases advance with a confirmation; the venue board shows who is connected', async () => {
  await expect(page.locator('h1')).toHaveText('主持人控制台');
  await expect(page.locator('.phase-steps li[aria-current="step"]')).toHaveText(/准备中$/);

  // Cancelling the dialog changes nothing.
  await page.getByRole('button', { name: '进入下一阶段：签到' }).click();
  await page.getByRole('dialog').getByRole('button', { name: '取消' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  expect(mod.state!.session.phase).toBe('preparing');

  await advance(page, '签到');
  await mod.waitFor((s) => s.session.phase === 'check_in');

  // Operators of two venues connect; delegates are checked in.
  for (const v of ['baiyu', 'zijin']) open.push(await Ws.open(tok(`operator:${v}`)));
  const present = ['d001', 'd002', 'd003', 'd004', 'd036', 'd037', 'd038', 'd039', 'd040', 'd041', 'd042', 'd051', 'd052', 'd053'];
  for (const d of present) await mod.must({ type: 'check_in', delegate: d });

  const board = page.locator('#health');
  await expect(board.locator('tr[data-venue="baiyu"] td[data-present]')).toHaveText('7/15');
  await expect(board.locator('tr[data-venue="baiyu"] td[data-connections]')).not.toHaveText('0');
  await expect(board.locator('tr[data-venue="baiyu"]')).toHaveAttribute('data-problem', '');
  // A venue nobody connected from stands out, in words too.
  await expect(board.locator('tr[data-venue="dinghe"]')).toHaveAttribute('data-problem', 'no_connection');
  await expect(board.locator('tr[data-venue="dinghe"]')).toContainText('无连接');
  // The moderator's own console is not the main venue's station: without
  // its operator the main venue shows no connection; with it, it does.
  await expect(board.locator('tr[data-venue="main"]')).toHaveAttribute('data-problem', 'no_connection');
  open.push(await Ws.open(tok('operator:main')));
  await expect(board.locator('tr[data-venue="main"] td[data-connections]')).toHaveText('1');
  await expect(board.locator('tr[data-venue="main"] td[data-last-seen]')).toHaveText(/^\d+ 秒前$/);

  await advance(page, '问政进行中');
  await mod.waitFor((s) => s.session.phase === 'questioning');
});

test('the inbox: filters, approve, reject with a reason, merge, edit', async () => {
  Q.a = await ask('d036', 'projects', 'minzheng', '白羽街道只有两个老年助餐点，县民政局今年能否再建三个，覆盖所有社区？');
  Q.b = await ask('d037', 'projects', 'minzheng', '白羽街道助餐点太少，老人吃饭要走很远，能不能多建几个？');
  Q.c = await ask('d051', 'funds', 'caizheng', '养老服务补贴资金拨付为什么总是滞后半年，财政局能不能按季度拨付到位？');
  Q.d = await ask('d052', 'services', 'minzheng', '希望在紫金街道修建一个篮球场。');
  Q.e = await ask('d001', 'medical', 'weijian', '县医院与养老机构的医养结合签约为何迟迟不落地？');

  const inbox = page.locator('#inbox');
  await expect(inbox.locator('button[data-view="pending"]')).toContainText('5');
  await expect(card(Q.a)).toContainText('白羽街道只有两个老年助餐点');
  const levelNames = { province: '省人大代表', city: '市人大代表', county: '县人大代表', township: '乡镇人大代表', street_deliberation: '议政代表' };
  const d036 = mod.state!.delegates.find((d) => d.id === 'd036')!;
  await expect(card(Q.a).locator('.q-askers')).toContainText(`${d036.name}（${levelNames[d036.level]}）`);

  // Filters: venue, unit, level, text.
  await inbox.locator('select[data-filter="venue"]').selectOption({ label: '紫金街道人大代表联络站' });
  await expect(inbox.locator('li[data-question]')).toHaveCount(2);
  await inbox.locator('select[data-filter="unit"]').selectOption({ label: '县财政局' });
  await expect(inbox.locator('li[data-question]')).toHaveCount(1);
  await expect(card(Q.c)).toBeVisible();
  await inbox.getByRole('button', { name: '清除筛选' }).click();
  await expect(inbox.locator('li[data-question]')).toHaveCount(5);
  const d001Level = mod.state!.delegates.find((d) => d.id === 'd001')!.level;
  await inbox.locator('select[data-filter="level"]').selectOption(d001Level);
  await expect(card(Q.e)).toBeVisible();
  await inbox.getByRole('button', { name: '清除筛选' }).click();
  await inbox.getByLabel('查找').fill('篮球场');
  await expect(inbox.locator('li[data-question]')).toHaveCount(1);
  await inbox.getByRole('button', { name: '清除筛选' }).click();

  // Approve.
  await card(Q.a).getByRole('button', { name: '通过' }).click();
  await expect(card(Q.a)).toHaveCount(0); // left the pending view
  await mod.waitFor((s) => s.questions.find((q) => q.id === Q.a)!.status === 'approved');

  // Reject: the reason is required.
  await card(Q.d).getByRole('button', { name: '驳回' }).click();
  await card(Q.d).getByRole('button', { name: '确认驳回' }).click();
  await expect(card(Q.d).getByRole('alert')).toHaveText('请填写驳回理由');
  expect(mod.state!.questions.find((q) => q.id === Q.d)!.status).toBe('pending');
  await card(Q.d).getByLabel('驳回理由（必填）').fill('不属于本次问政主题（养老服务）');
  await card(Q.d).getByRole('button', { name: '确认驳回' }).click();
  await expect(card(Q.d)).toHaveCount(0);
  await mod.waitFor((s) => s.questions.find((q) => q.id === Q.d)!.reject_reason === '不属于本次问政主题（养老服务）');

  // Merge the duplicate into the approved question.
  await card(Q.b).getByRole('button', { name: '合并' }).click();
  await card(Q.b).getByLabel('并入问题').selectOption(String(Q.a));
  await card(Q.b).getByRole('button', { name: '确认合并' }).click();
  await expect(card(Q.b)).toHaveCount(0);
  const merged = await mod.waitFor((s) => s.questions.find((q) => q.id === Q.a)!.merged_from.includes(Q.b));
  expect(merged.questions.find((q) => q.id === Q.a)!.askers).toEqual(['d036', 'd037']);

  // Edit the wording: the original is kept and shown.
  const original = mod.state!.questions.find((q) => q.id === Q.c)!.text;
  const edited = '养老服务补贴资金为何拨付滞后，能否按季度拨付到位？';
  await card(Q.c).getByRole('button', { name: '编辑' }).click();
  await card(Q.c).getByLabel('问题内容').fill(edited);
  await card(Q.c).getByRole('button', { name: '保存修改' }).click();
  await expect(card(Q.c).locator('.q-text')).toHaveText(edited);
  await expect(card(Q.c).locator('.q-original')).toContainText(original);
  await card(Q.c).getByRole('button', { name: '通过' }).click();
  await card(Q.e).getByRole('button', { name: '通过' }).click();
  await expect(inbox.locator('button[data-view="pending"]')).toContainText('0');

  // The handled view shows the reason and the merge.
  await inbox.locator('button[data-view="done"]').click();
  await expect(card(Q.d)).toContainText('驳回理由：不属于本次问政主题（养老服务）');
  await expect(card(Q.b)).toContainText(`已并入第${Q.a}号问题`);

  // Seconding is a signal on the approved question.
  const d038 = await delegate('d038');
  await d038.must({ type: 'second_question', question: Q.a });
  d038.close();
  await inbox.locator('button[data-view="approved"]').click();
  await expect(card(Q.a).locator('.seconds')).toHaveText('附议 1');
  await expect(card(Q.a)).toContainText(`合并自：${Q.b}号`);
});

test('the queue: queue, reorder by keyboard, buttons and drag; floor requests', async () => {
  for (const id of [Q.a, Q.c, Q.e]) {
    await card(id).getByRole('button', { name: '排队' }).click();
    await expect(card(id)).toHaveCount(0);
  }
  await expect(page.locator('.queue-list')).toHaveAttribute('data-order', `${Q.a},${Q.c},${Q.e}`);

  // Keyboard: Alt+↑ on a focused row.
  const row = (id: number) => page.locator(`.queue-list li[data-question="${id}"]`);
  await row(Q.e).focus();
  await page.keyboard.press('Alt+ArrowUp');
  await expect(row(Q.e)).toBeFocused();
  await mod.waitFor((s) => s.queue.join(',') === `${Q.a},${Q.e},${Q.c}`);

  // Buttons.
  await page.getByRole('button', { name: `下移第${Q.a}号问题` }).click();
  await mod.waitFor((s) => s.queue.join(',') === `${Q.e},${Q.a},${Q.c}`);
  await expect(page.locator('.queue-list')).toHaveAttribute('data-order', `${Q.e},${Q.a},${Q.c}`);

  // Drag and drop: Q.c onto the top half of the first row.
  await row(Q.c).dragTo(row(Q.e), { targetPosition: { x: 30, y: 4 } });
  await mod.waitFor((s) => s.queue.join(',') === `${Q.c},${Q.e},${Q.a}`);
  await expect(page.locator('.queue-list')).toHaveAttribute('data-order', `${Q.c},${Q.e},${Q.a}`);

  // 白羽 asks for the floor for its question.
  await open[0].must({ type: 'request_floor', question: Q.a });
  await expect(page.locator(`#requests li[data-request="${Q.a}:baiyu"]`)).toContainText(`白羽街道人大代表联络站 申请就第${Q.a}号问题发言`);
  await expect(row(Q.a)).toContainText('申请发言：白羽街道人大代表联络站');
});

test('the floor: grant, countdown, follow-up, answers with a commitment, end', async () => {
  // More questions arrive meanwhile (they stay pending for the screenshot).
  Q.f = await ask('d039', 'training', 'renshe', '护理员培训补贴标准多年未调整，人社局有没有提高的计划？');
  Q.g = await ask('d053', 'operations', 'minzheng', '紫金街道日间照料中心运营经费不足，民政局如何支持？');

  await page.locator(`#requests li[data-request="${Q.a}:baiyu"]`).getByRole('button', { name: '安排上席' }).click();
  const grant = page.locator('form[data-form="grant"]');
  await expect(grant.getByLabel('问题')).toHaveValue(String(Q.a));
  await expect(grant.getByLabel('提问会场')).toHaveValue('baiyu');
  await expect(grant.getByRole('button', { name: '上席' })).toBeFocused();
  await grant.getByLabel('答复时长（秒）').fill('0');
  await grant.getByRole('button', { name: '上席' }).click();
  await expect(grant.getByRole('alert')).toHaveText('请输入 1 至 3600 之间的整数秒数');
  await grant.getByLabel('答复时长（秒）').fill('240');
  await grant.getByRole('button', { name: '上席' }).click();

  const floor = page.locator('#floor');
  await expect(floor.locator(`[data-floor="${Q.a}"]`)).toBeVisible();
  await expect(floor.locator('.q-text')).toHaveText(mod.state!.questions.find((q) => q.id === Q.a)!.text);
  await expect(floor.locator('[data-floor-venue]')).toHaveText('白羽街道人大代表联络站');
  await expect(floor.locator('.countdown')).toHaveText(/(4:00|3:[45]\d)$/);
  // The granted question left the queue and its request.
  await expect(page.locator(`.queue-list li[data-question="${Q.a}"]`)).toHaveCount(0);
  await expect(page.locator('#requests li')).toHaveCount(0);

  // A new countdown.
  await floor.getByLabel('计时秒数').fill('120');
  await floor.getByRole('button', { name: '重新计时' }).click();
  await expect(floor.locator('.countdown')).toHaveText(/(2:00|1:5\d)$/);
  // Paused it stands still (and says so), a minute more, resumed.
  await floor.getByRole('button', { name: '暂停计时' }).click();
  await expect(floor.locator('.countdown')).toHaveAttribute('data-paused', 'true');
  const held = await floor.locator('.countdown').getAttribute('data-remaining');
  await floor.getByRole('button', { name: '加时 1 分钟' }).click();
  await expect(floor.locator('.countdown')).toHaveAttribute('data-remaining', String(Number(held) + 60));
  await floor.getByRole('button', { name: '继续计时' }).click();
  await expect(floor.locator('.countdown')).not.toHaveAttribute('data-paused', 'true');

  // Ending before the answers are recorded is refused, and said so.
  await expect(dock()).toHaveAttribute('data-primary', 'end_floor');
  await dock().getByRole('button', { name: '结束本项' }).click();
  const err = dock().locator('.end-floor .action-error');
  await expect(err).toContainText('结束本项未成功');
  await expect(err).toContainText('尚未记录答复：问题的答复');
  await expect(err).toHaveAttribute('data-error', 'invalid_state');

  // A follow-up from a delegate of the venue.
  const d040 = await delegate('d040');
  const fuAck = await d040.must({ type: 'add_follow_up', text: '新建助餐点的运营补贴由谁承担？' });
  d040.close();
  const fu = (fuAck.result as { follow_up: number }).follow_up;
  const fuItem = floor.locator(`li[data-follow-up="${fu}"]`);
  await expect(fuItem).toContainText('新建助餐点的运营补贴由谁承担？');
  await expect(fuItem).toContainText('待答复');

  // The answer form validates before sending.
  const form = floor.locator('form[data-form="answer"]');
  await form.getByRole('button', { name: '记录答复' }).click();
  await expect(form.getByRole('alert')).toHaveText('请先修正标出的内容');
  await expect(form.getByLabel('答复人（职务 姓名）')).toBeFocused();
  await form.getByLabel('答复人（职务 姓名）').fill('县民政局局长 王建华');
  await form.getByLabel('答复摘要').fill('今年在白羽街道新建助餐点三个，年底前覆盖全部社区。');
  await form.getByRole('button', { name: '添加承诺事项' }).click();
  const c0 = form.getByRole('group', { name: '承诺事项 1' });
  await c0.getByLabel('事项', { exact: true }).fill('白羽街道新建助餐点三个');
  await c0.getByLabel('完成时限').fill('2026-12-31');

  // The screenshot: the top of the console with the floor, the pending questions and the venues.
  await page.locator('#inbox button[data-view="pending"]').click();
  await expect(card(Q.f)).toBeVisible();
  // The refusal from above floats over the bar until dismissed.
  await dock().locator('.action-error').getByRole('button', { name: '关闭' }).click();
  await expect(dock().locator('.action-error')).toHaveCount(0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(0, 0);
  await shot(page, 'moderator');

  await form.getByRole('button', { name: '记录答复' }).click();
  await expect(floor.locator('[data-answer-for="question"] .answer')).toContainText('今年在白羽街道新建助餐点三个');
  await expect(floor.locator('[data-answer-for="question"] .commitments')).toContainText('白羽街道新建助餐点三个');
  await expect(floor.locator('[data-answer-for="question"] .commitments')).toContainText('2026-12-31');
  const answered = await mod.waitFor((s) => s.questions.find((q) => q.id === Q.a)!.answer !== undefined);
  expect(answered.questions.find((q) => q.id === Q.a)!.answer!.commitments).toEqual([{ what: '白羽街道新建助餐点三个', unit: 'minzheng', due: '2026-12-31' }]);

  // Still one answer missing: the hint names it.
  await expect(dock().locator('[data-missing]')).toContainText(`追问 ${fu} 的答复`);

  // The follow-up's answer, by another unit.
  await fuItem.getByRole('button', { name: `记录答复：追问 ${fu}` }).click();
  const fform = fuItem.locator(`form[data-form="answer-${fu}"]`);
  await fform.getByLabel('答复单位').selectOption({ label: '县财政局' });
  await fform.getByLabel('答复人（职务 姓名）').fill('县财政局副局长 李明');
  await fform.getByLabel('答复摘要').fill('运营补贴由县级财政按服务人次补助。');
  await fform.getByRole('button', { name: '记录答复' }).click();
  await expect(fuItem).toContainText('已答复');
  await expect(fuItem.locator('.answer')).toContainText('运营补贴由县级财政按服务人次补助');

  // User text is text: markup in a question shows literally and never runs.
  const payload = '请问<img src=x onerror="window.__xss=1">和<script>window.__xss=1</script>怎么办？';
  Q.h = await ask('d041', 'services', 'minzheng', payload);
  await expect(card(Q.h).locator('.q-text')).toHaveText(payload);
  await expect(page.locator('#inbox img, #inbox script')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();

  // A laptop screen, the follow-up's answer form open below the question's:
  // 结束本项 is in view without scrolling, and stays there at the bottom.
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.evaluate(() => window.scrollTo(0, 0));
  const end = dock().getByRole('button', { name: '结束本项' });
  await expect(end).toBeInViewport();
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await expect(end).toBeInViewport();
  await end.click();
  await expect(floor.locator('.floor-empty')).toHaveText('发言席空闲');
  await page.setViewportSize({ width: 1440, height: 900 });
  await mod.waitFor((s) => s.floor === null && s.questions.find((q) => q.id === Q.a)!.status === 'answered');
});

test('the evaluation: open for chosen units, live turnout, close and results', async () => {
  // The floor is empty and nothing is open: on to the evaluation phase.
  await advance(page, '满意度测评');
  await expect(page.locator('.m-tab-active')).toHaveText(/满意度测评/);

  const openForm = page.locator('form[data-form="open-evaluation"]');
  // Preselected: the units that answered.
  await expect(openForm.locator('input[data-unit="minzheng"]')).toBeChecked();
  await expect(openForm.locator('input[data-unit="caizheng"]')).toBeChecked();
  await expect(openForm.locator('input[data-unit="weijian"]')).not.toBeChecked();
  await openForm.getByLabel('县卫生健康委员会').check();
  await openForm.getByRole('button', { name: '开始测评' }).click();
  // Confirmed with the facts: how many have checked in, out of how many.
  const confirm = page.getByRole('dialog', { name: '确认开始测评' });
  await expect(confirm).toContainText(/目前已签到 \d+ \/ 320 名代表/);
  await confirm.getByRole('button', { name: '开始测评' }).click();
  const ev = await mod.waitFor((s) => s.evaluations.some((e) => e.status === 'open'));
  const evId = ev.evaluations.find((e) => e.status === 'open')!.id;
  expect(ev.evaluations.find((e) => e.id === evId)!.units).toEqual(['minzheng', 'weijian', 'caizheng']);

  // Six voters at 白羽, two at 紫金 (a small cell), three at the main venue.
  const votes: Array<[string, 'satisfied' | 'basically_satisfied' | 'dissatisfied']> = [
    ['d036', 'satisfied'],
    ['d037', 'satisfied'],
    ['d038', 'basically_satisfied'],
    ['d039', 'dissatisfied'],
    ['d040', 'satisfied'],
    ['d041', 'basically_satisfied'],
    ['d051', 'satisfied'],
    ['d052', 'dissatisfied'],
    ['d001', 'satisfied'],
    ['d002', 'basically_satisfied'],
    ['d003', 'satisfied'],
  ];
  for (const [d, rating] of votes) {
    const c = await delegate(d);
    for (const unit of ['minzheng', 'weijian', 'caizheng']) {
      await c.must({ type: 'cast_ballot', ballot_id: `m-${d}-${evId}-${unit}`, evaluation: evId, unit, rating });
    }
    c.close();
  }

  const live = page.locator('#eval-live');
  await expect(live.locator('[data-turnout]')).toHaveAttribute('data-turnout', `${votes.length}/14`);
  await expect(live.locator('[data-turnout]')).toContainText(`已参评 ${votes.length} / 应参评 14`);
  await expect(page.locator('#health tr[data-venue="baiyu"] td[data-turnout]')).toHaveText('6/7');
  await expect(live.locator('[data-unit-ballots="minzheng"]')).toContainText('11');
  // A secret ballot: no choice, no rate, before the reveal, even here.
  await expect(live.locator('[data-sealed]')).toContainText('无记名');
  await expect(live.locator('[data-matrix]')).toHaveCount(0);

  // Issue 10: on a laptop, with the per-venue turnout table and the venue
  // board full (20 rows each), 结束测评并揭晓结果 is in view without
  // scrolling, next to the live turnout; and still after scrolling down.
  await page.setViewportSize({ width: 1366, height: 768 });
  await live.locator('.turnout-venues summary').click();
  await expect(live.locator('tr[data-turnout-venue]')).toHaveCount(20);
  await expect(page.locator('#health tr[data-venue]')).toHaveCount(20);
  await page.evaluate(() => window.scrollTo(0, 0));
  // The round's card alone is taller than the window…
  expect(await live.evaluate((el) => el.getBoundingClientRect().bottom)).toBeGreaterThan(768);
  // …and the action is in view all the same.
  const close = dock().getByRole('button', { name: '结束测评并揭晓结果' });
  await expect(close).toBeInViewport();
  await expect(dock().locator('[data-turnout]')).toHaveText(`已参评 ${votes.length} / 应参评 14 · ${((votes.length / 14) * 100).toFixed(1)}%`);
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await expect(close).toBeInViewport();

  // Close, confirmed: the results appear.
  await close.click();
  const dialog = page.getByRole('dialog', { name: '确认结束测评' });
  await expect(dialog).toContainText('同时揭晓');
  await dialog.getByRole('button', { name: '结束测评并揭晓结果' }).click();
  const results = page.locator(`[data-results="${evId}"]`);
  await expect(results).toBeVisible();
  const closed = await mod.waitFor((s) => s.evaluations.some((e) => e.id === evId && e.results !== undefined));
  const r = closed.evaluations.find((e) => e.id === evId)!.results!;
  for (const u of r.units) {
    const bp = u.counts.satisfaction_rate_bp!;
    await expect(results.locator(`tr[data-result="${u.unit}"] .rate`)).toHaveText(`${(bp / 100).toFixed(2)}%`);
  }
  await expect(results.locator('[data-matrix="venue"] td[data-cell="zijin:minzheng"]')).toHaveText('<3');
  await expect(results.locator('[data-matrix="level"]')).toBeVisible();
  await page.setViewportSize({ width: 1440, height: 900 });

  // Closing again is harmless (the same results, or `already_done` on an older server).
  const again = await mod.send({ type: 'close_evaluation', evaluation: evId });
  expect(again.type === 'ack' || again.code === 'already_done').toBe(true);
});

test('documents and spreadsheets are downloaded with the credential', async () => {
  await page.getByRole('button', { name: '文件与表格', exact: true }).click();
  const results = page.locator('li[data-doc="results"]');
  const [csv] = await Promise.all([page.waitForEvent('download'), results.getByRole('button', { name: '测评结果 · CSV' }).click()]);
  expect(csv.suggestedFilename()).toBe(`${SESSION}-测评结果.csv`);
  const body = readFileSync((await csv.path())!, 'utf8');
  expect(body.startsWith('\uFEFF测评轮次')).toBe(true);
  const report = page.locator('li[data-doc="resultsReport"]');
  const [html] = await Promise.all([page.waitForEvent('download'), report.getByRole('button', { name: '测评结果报告 · 打印版' }).click()]);
  expect(html.suggestedFilename()).toMatch(/测评结果报告\.html$/);
});

test('English on request', async () => {
  await page.getByRole('button', { name: /English/ }).click();
  await expect(page.locator('h1')).toHaveText('Moderator console');
  await expect(page.getByRole('button', { name: 'Documents', exact: true })).toBeVisible();
  await page.getByRole('button', { name: /中文/ }).click();
  await expect(page.locator('h1')).toHaveText('主持人控制台');
});

test('the auditor sees the same console, read-only', async ({ browser }) => {
  const a = await openConsole(browser, 'auditor');
  const p = a.page;
  await expect(p.locator('.role-badge')).toContainText('审计');
  await expect(p.locator('.role-badge')).toContainText('只读');
  await expect(p.locator('.phase-steps li[aria-current="step"]')).toHaveText(/满意度测评$/);
  await expect(p.locator('#health tr[data-venue]')).toHaveCount(20);
  await expect(p.locator('[data-results]')).toBeVisible();
  await p.locator('button[data-tab="questioning"]').click();
  await p.locator('#inbox button[data-view="all"]').click();
  await expect(p.locator('#inbox li[data-question]')).toHaveCount(8);
  // No action controls anywhere.
  for (const name of ['通过', '驳回', '合并', '编辑', '排队', '上席', '结束本项', '记录答复']) {
    await expect(p.getByRole('button', { name, exact: true })).toHaveCount(0);
  }
  await expect(p.getByRole('button', { name: /进入下一阶段/ })).toHaveCount(0);
  await expect(p.locator('form')).toHaveCount(0);
  await a.context.close();
});
