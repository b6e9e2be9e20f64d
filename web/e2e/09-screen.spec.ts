// The big screen in every phase of a session (issue 10), at 1920×1080: before
// it, check-in, questioning with nothing on the floor, the floor (who asks),
// between items, the evaluation phase before a ballot, a ballot on all six
// units, the results (people, hidden rows and why), round 2 open with round
// 1 still shown, and the closed session. In each: every visible text at
// least 24 px and the figures at least 28 px (web/README.md), labels not
// overlapping, no WCAG A/AA violation, and a screenshot (docs/screenshots/).
// These tests run their own server on another port and data directory, so
// the phases before questioning can be shown (the shared session is past
// them), with an admin token to create a session of ten units, and a larger
// burst for the moderator who checks sixty delegates in at once.

import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PORT } from './env.ts';
import { SCREEN, serverReady, shot, startOwnServer, token, WsClient } from './helpers.ts';
import type { Rating } from '../src/protocol.ts';

// 04-restart uses PORT + 1, 03-shell PORT + 2.
const port = PORT + 3;
const base = `http://127.0.0.1:${port}`;
const dir = join(tmpdir(), `wz-e2e-screen-${port}`);
const ADMIN = 'e2e-screen-admin';
const UNITS = ['vice_county_head', 'minzheng', 'weijian', 'caizheng', 'renshe', 'yibao'];
const MIN_TEXT = 24;
const MIN_FIGURE = 28;

function start(): ChildProcess {
  return startOwnServer(port, dir, ['--admin-token', ADMIN, '--rate-burst', '1000']);
}


/** Visible texts on the screen smaller than `min` px (computed font size), as "text (size)". */
async function smallTexts(page: Page, selector: string, min: number): Promise<string[]> {
  return page.evaluate(
    ([sel, min]) => {
      const out: string[] = [];
      for (const el of Array.from(document.querySelectorAll<HTMLElement>(sel))) {
        const own = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim() !== '');
        const box = el.getBoundingClientRect();
        if (!own || box.width === 0 || box.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
        const size = parseFloat(getComputedStyle(el).fontSize);
        const what = (el.textContent ?? '').trim().slice(0, 30);
        if (size < (min as number)) out.push(`${what} (${size}px)`);
        // Nothing cut off, at the edge of the screen or of its panel.
        if (box.bottom > innerHeight + 0.5 || box.right > innerWidth + 0.5) out.push(`${what} (off screen)`);
        const panel = el.closest('.panel')?.getBoundingClientRect();
        if (panel && (box.bottom > panel.bottom + 0.5 || box.right > panel.right + 0.5)) out.push(`${what} (cut off by its panel)`);
      }
      return out;
    },
    [selector, min] as const,
  );
}

/** The phase's checks: type sizes, nothing rotated, axe, and the screenshot (unless `shoot` is false). */
async function check(page: Page, name: string, shoot = true): Promise<void> {
  expect(await smallTexts(page, '.screen *', MIN_TEXT), `${name}: text under ${MIN_TEXT}px or off screen`).toEqual([]);
  const figures = '.bar-rate, .screen-countdown, .big-turnout, .unit-ballots strong, .closing-figures dd, .screen-clock';
  expect(await smallTexts(page, figures, MIN_FIGURE), `${name}: figures under ${MIN_FIGURE}px`).toEqual([]);
  const rotated = await page.evaluate(() => Array.from(document.querySelectorAll('.screen *')).filter((e) => /matrix|rotate/.test(getComputedStyle(e).transform)).length);
  expect(rotated, `${name}: rotated text`).toBe(0);
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.nodes[0]?.target.join(' ')}`), `${name}: axe`).toEqual([]);
  if (shoot) await shot(page, `screen-${name}`);
}

/** A notice to everyone across the top of the screen: the phase still fits. */
async function withBanner(mod: WsClient, page: Page, name: string, shoot = false): Promise<void> {
  const a = ((await mod.must({ type: 'announce', text: '休会五分钟，请代表们留在座位' })).result as { announcement: number }).announcement;
  await expect(page.locator(`[data-announcement="${a}"]`)).toBeVisible();
  await check(page, name, shoot);
  await mod.must({ type: 'clear_announcement', announcement: a });
  await expect(page.locator('[data-announcement]')).toHaveCount(0);
}

/** The labels of a list of bars do not overlap one another. */
async function expectNoOverlap(page: Page, selector: string): Promise<void> {
  const boxes = await page.locator(selector).evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ top: r.top, bottom: r.bottom })));
  for (let i = 1; i < boxes.length; i++) expect(boxes[i].top, `${selector} #${i}`).toBeGreaterThanOrEqual(boxes[i - 1].bottom - 0.5);
  // And all of them are on the screen (nothing cut off below 1080).
  expect(Math.max(...boxes.map((b) => b.bottom))).toBeLessThanOrEqual(SCREEN.height);
}

async function vote(delegates: string[], evaluation: number, units: (d: string) => string[], rating: (i: number) => Rating): Promise<void> {
  let k = 0;
  for (const d of delegates) {
    const c = await WsClient.open(token(`delegate:${d}`, dir), base);
    for (const u of units(d)) await c.must({ type: 'cast_ballot', ballot_id: `s-${d}-${evaluation}-${u}`, evaluation, unit: u, rating: rating(k++) });
    c.close();
  }
}

test('the big screen is right in every phase, with six units and twenty venues', async ({ browser }) => {
  test.setTimeout(240_000);
  rmSync(dir, { recursive: true, force: true });
  const server = start();
  try {
    await serverReady(base);
    const mod = await WsClient.open(token('moderator', dir), base);
    const context = await browser.newContext({ viewport: SCREEN, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(`${base}/screen.html#token=${token('screen', dir)}`);
    await expect(page.locator('.conn')).toHaveAttribute('data-status', 'connected');

    // Before the session: the theme and all 20 venues.
    await expect(page.locator('[data-idle="preparing"]')).toBeVisible();
    await expect(page.locator('table.venues tbody tr')).toHaveCount(20);
    await expectNoOverlap(page, 'table.venues tbody th');
    await check(page, 'before');

    // Check-in: the venues' counts arrive.
    await mod.must({ type: 'advance_phase', to: 'check_in' });
    const main = ['d001', 'd002', 'd004', 'd011', 'd012'];
    const baiyu = ['d036', 'd037', 'd038', 'd039'];
    const zijin = ['d051', 'd052'];
    const lianhua = ['d066', 'd067', 'd068'];
    const voters = [...main, ...baiyu, ...zijin, ...lianhua];
    for (const d of voters) await mod.must({ type: 'check_in', delegate: d });
    await expect(page.locator('[data-present]')).toHaveAttribute('data-present', `${voters.length}/320`);
    await expect(page.locator('tr[data-venue="baiyu"] td').nth(2)).toHaveText('4/15');
    await expect(page.locator('[data-checkin]')).toHaveAttribute('data-checkin', `${voters.length}/320`);
    await expect(page.locator('[data-checkin] dd').nth(1)).toHaveText('4 / 20');
    await check(page, 'check-in');

    // Questioning, nothing on the floor: the queue.
    await mod.must({ type: 'advance_phase', to: 'questioning' });
    const ask = async (who: string, unit: string, text: string) => {
      const q = (await mod.must({ type: 'submit_question', on_behalf_of: who, topic: 'policy', unit, text })).result as { question: number };
      await mod.must({ type: 'approve_question', question: q.question });
      await mod.must({ type: 'queue_question', question: q.question });
      return q.question;
    };
    const q1 = await ask('d036', 'minzheng', '农村互助幸福院建成后运营经费从哪里来？如何保证不“建而不用”？');
    await ask('d051', 'weijian', '医养结合机构的医保结算什么时候能够覆盖到乡镇一级？');
    await expect(page.locator('[data-idle="questioning"] .idle-queue li')).toHaveCount(2);
    await check(page, 'questioning');

    // The floor: who asks is announced (level and name), as in the hall.
    const asker = mod.state!.delegates.find((d) => d.id === 'd036')!;
    await mod.must({ type: 'grant_floor', venue: 'baiyu', question: q1 });
    await expect(page.locator('[data-floor-speakers]')).toHaveText(`市人大代表 ${asker.name} 提问`);
    await mod.must({
      type: 'record_answer',
      unit: 'minzheng',
      official: '县民政局局长',
      summary: '运营经费由县财政按床位补贴，年底前出台管理办法。',
      commitments: [{ what: '出台农村互助幸福院运营管理办法', unit: 'minzheng', due: '2026-12-31' }],
    });
    await expect(page.locator('.floor-commitments li')).toHaveCount(1);
    await check(page, 'floor');
    await withBanner(mod, page, 'floor with a notice');

    // Between items: the commitments made so far stay on the screen.
    await mod.must({ type: 'end_floor' });
    await expect(page.locator('[data-commitments="1"]')).toBeVisible();
    await expect(page.locator('[data-floor-speakers]')).toHaveCount(0);
    await check(page, 'between');

    // The evaluation phase before a ballot opens.
    await mod.must({ type: 'advance_phase', to: 'evaluation' });
    await expect(page.locator('[data-idle="evaluation"]')).toBeVisible();
    await check(page, 'evaluation-idle');

    // A ballot on all six units: turnout per venue, people per unit.
    const ev1 = ((await mod.must({ type: 'open_evaluation', units: UNITS })).result as { evaluation: number }).evaluation;
    const ratings: Rating[] = ['satisfied', 'basically_satisfied', 'satisfied', 'dissatisfied', 'satisfied'];
    // d068 of 莲花街道 rates one unit only: that venue's other cells have 2.
    await vote(voters, ev1, (d) => (d === 'd068' ? ['minzheng'] : UNITS), (i) => ratings[i % ratings.length]);
    await expect(page.locator('[data-turnout]').first()).toHaveAttribute('data-turnout', `${voters.length}/${voters.length}`);
    await expect(page.locator('[data-bars="turnout"] li')).toHaveCount(20);
    await expect(page.locator('[data-unit-ballots="minzheng"] strong')).toHaveText('14 人已评');
    await expect(page.locator('[data-unit-ballots="weijian"] strong')).toHaveText('13 人已评');
    await expectNoOverlap(page, '[data-bars="turnout"] .bar-label');
    await expectNoOverlap(page, '.unit-ballots li');
    await check(page, 'evaluation');
    await withBanner(mod, page, 'evaluation with a notice');

    // After the close: what is counted is said (人, 人次), small rows say why they are hidden.
    await mod.must({ type: 'close_evaluation', evaluation: ev1 });
    await expect(page.locator(`[data-results="${ev1}"]`)).toBeVisible();
    const units = page.locator('[data-bars="units"] li');
    await expect(units).toHaveCount(6);
    await expect(page.locator('[data-bars="units"] [data-row="minzheng"] .bar-count')).toHaveText('14 人');
    await expect(page.locator('[data-bars="units"] [data-row="weijian"] .bar-count')).toHaveText('13 人');
    await expect(page.locator('[data-bars="venues"] li')).toHaveCount(20);
    await expect(page.locator('[data-bars="venues"] [data-row="zijin"]')).toContainText('不足3人，不公开');
    await expect(page.locator('[data-bars="venues"] [data-row="lianhua"]')).toContainText('部分单位不足3人，不公开');
    await expect(page.locator('[data-bars="venues"] [data-row="main"] .bar-count')).toHaveText('30 人次');
    await expect(page.locator('.screen-main')).not.toContainText(/\d+\s*票/);
    await expectNoOverlap(page, '[data-bars="units"] .bar-label');
    await expectNoOverlap(page, '[data-bars="venues"] .bar-label');
    await check(page, 'results');
    await withBanner(mod, page, 'announcement', true);

    // Round 2 on the same units: round 1 stays until round 2 is revealed.
    const ev2 = ((await mod.must({ type: 'open_evaluation', units: UNITS })).result as { evaluation: number }).evaluation;
    await expect(page.locator('[data-mode="evaluation"]')).toBeVisible();
    await expect(page.locator(`[data-previous="${ev1}"] li`)).toHaveCount(6);
    await expect(page.locator(`[data-previous="${ev1}"] [data-row="minzheng"] .bar-count`)).toHaveText('14 人');
    await expectNoOverlap(page, `[data-previous="${ev1}"] .bar-label`);
    await check(page, 'previous-round');
    await vote(main, ev2, () => UNITS, () => 'satisfied');
    await mod.must({ type: 'close_evaluation', evaluation: ev2 });
    await expect(page.locator(`[data-results="${ev2}"]`)).toBeVisible();
    await expect(page.locator('[data-bars="units"] [data-row="minzheng"] .bar-count')).toHaveText('5 人');

    // The session closed: the closing summary with both rounds.
    await mod.must({ type: 'advance_phase', to: 'closed' });
    await expect(page.locator('[data-closing]')).toBeVisible();
    await expect(page.locator('[data-closing] [data-round]')).toHaveCount(2);
    await check(page, 'closed');
    mod.close();
    await context.close();
  } finally {
    server.kill('SIGKILL');
  }
});

// Ten units with long names and 20 venues of 3 delegates: one screen holds
// them all, labels on the left, nothing overlapping or cut off.
const TEN_UNITS = [
  '县发展和改革委员会',
  '县教育局',
  '县民政局',
  '县财政局',
  '县人力资源和社会保障局',
  '县自然资源局',
  '县住房和城乡建设局',
  '县农业农村局',
  '县卫生健康委员会',
  '县市场监督管理局',
];

function tenUnitSession(): object {
  const venues = [{ id: 'main', name: '县人大代表联络站主会场', kind: 'main' }];
  for (let i = 1; i < 20; i++) venues.push({ id: `v${i}`, name: `测试${i}镇人大代表联络站`, kind: 'sub' });
  const levels = ['county', 'township', 'street_deliberation'];
  const delegates = venues.flatMap((v, i) => levels.map((level, j) => ({ id: `d${String(i * 3 + j + 1).padStart(3, '0')}`, name: `代表${i * 3 + j + 1}`, level, venue: v.id })));
  return {
    id: 'ten-units',
    title: '十个应询单位的代表问政',
    theme: '十个应询单位的满意度测评',
    venues,
    units: TEN_UNITS.map((name, i) => ({ id: `u${i + 1}`, name })),
    topics: [{ id: 'policy', name: '政策' }],
    delegates,
  };
}

test('ten units and twenty venues fit the screen, results and the round kept beside the next', async ({ browser }) => {
  test.setTimeout(240_000);
  rmSync(dir, { recursive: true, force: true });
  const server = start();
  try {
    await serverReady(base);
    const res = await fetch(`${base}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(tenUnitSession()) });
    expect(res.status).toBe(201);
    const tokens = new Map(((await res.json()) as { credentials: Array<{ principal: string; token: string }> }).credentials.map((c) => [c.principal, c.token]));
    const mod = await WsClient.open(tokens.get('moderator')!, base);
    const delegates = mod.state!.delegates.map((d) => d.id);
    expect(delegates).toHaveLength(60);
    await mod.must({ type: 'advance_phase', to: 'check_in' });
    for (const d of delegates) await mod.must({ type: 'check_in', delegate: d });
    await mod.must({ type: 'advance_phase', to: 'questioning' });
    await mod.must({ type: 'advance_phase', to: 'evaluation' });
    const units = TEN_UNITS.map((_, i) => `u${i + 1}`);
    const ev = ((await mod.must({ type: 'open_evaluation', units })).result as { evaluation: number }).evaluation;
    const ratings: Rating[] = ['satisfied', 'basically_satisfied', 'dissatisfied', 'satisfied'];
    let k = 0;
    for (const d of delegates) {
      const c = await WsClient.open(tokens.get(`delegate:${d}`)!, base);
      for (const u of units) await c.must({ type: 'cast_ballot', ballot_id: `t-${d}-${u}`, evaluation: ev, unit: u, rating: ratings[k++ % ratings.length] });
      c.close();
    }
    await mod.must({ type: 'close_evaluation', evaluation: ev });

    const context = await browser.newContext({ viewport: SCREEN, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(`${base}/screen.html#token=${tokens.get('screen')}`);
    await expect(page.locator(`[data-results="${ev}"]`)).toBeVisible();
    await expect(page.locator('[data-bars="units"] li')).toHaveCount(10);
    await expect(page.locator('[data-bars="units"] .bar-count').first()).toHaveText('60 人');
    await expect(page.locator('[data-bars="venues"] li')).toHaveCount(20);
    await expect(page.locator('[data-bars="levels"] li')).toHaveCount(3);
    for (const sel of ['[data-bars="units"] li', '[data-bars="venues"] li', '[data-bars="levels"] li']) await expectNoOverlap(page, sel);
    await check(page, 'results-10-units');

    // Round 2 open: round 1's ten units stay beside it.
    await mod.must({ type: 'open_evaluation', units });
    await expect(page.locator(`[data-previous="${ev}"] li`)).toHaveCount(10);
    await expect(page.locator('.unit-ballots li')).toHaveCount(10);
    for (const sel of [`[data-previous="${ev}"] li`, '.unit-ballots li', '[data-bars="turnout"] li']) await expectNoOverlap(page, sel);
    await check(page, 'previous-round-10-units');
    mod.close();
    await context.close();
  } finally {
    server.kill('SIGKILL');
  }
});
