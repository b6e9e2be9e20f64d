// Scenario 1: a whole session through the pages. An operator page, a delegate
// page and the screen, each in its own browser context; the moderator's side
// is driven over the WebSocket protocol.

import { expect, test } from '@playwright/test';
import { clearStage, ensurePhase, expectConnected, openPage, PHONE, SCREEN, shot, token, WsClient } from './helpers.ts';

const QUESTION = '白羽街道的老年助餐点只有两个，县民政局今年能否再建三个，覆盖所有社区？';
const FOLLOW_UP = '新建助餐点的运营补贴由谁承担？';

test('check-in, question, floor, answer, evaluation and revealed results', async ({ browser }) => {
  test.setTimeout(120_000);
  const mod = await WsClient.open(token('moderator'));
  await clearStage(mod);
  await ensurePhase(mod, 'check_in');

  const operator = await openPage(browser, '/delegate.html', token('operator:baiyu'), PHONE);
  const delegate = await openPage(browser, '/delegate.html', token('delegate:d036'), PHONE);
  const screen = await openPage(browser, '/screen.html', token('screen'), SCREEN);
  const op = operator.page;
  const dp = delegate.page;
  const sp = screen.page;

  // --- Who and where: the header says it.
  await expectConnected(op);
  await expect(op.locator('.who')).toContainText('白羽街道人大代表联络站');
  await expect(op.locator('.who')).toContainText('分会场联络员');
  await expect(dp.locator('.who')).toContainText('代表');
  await expect(dp.locator('.who')).toContainText('白羽街道人大代表联络站');
  const delegateName = mod.state!.delegates.find((d) => d.id === 'd036')!.name;
  await expect(dp.locator('.who-name')).toHaveText(delegateName);

  // --- The operator checks delegates in (the roster tab; the default during check-in).
  await op.getByRole('button', { name: '签到', exact: true }).click();
  for (const id of ['d036', 'd037', 'd038']) {
    const row = op.locator(`li[data-delegate="${id}"]`);
    await row.getByRole('button').click();
    await expect(row).toContainText('已签到');
  }
  await expect(op.locator('[data-presence]')).toHaveText(/已到 [3-9]\d* \/ 应到 15/);
  await expect(dp.locator('.who')).toContainText('已签到');
  await shot(op, 'operator-check-in');

  await ensurePhase(mod, 'questioning');

  // --- The delegate submits a question (with the character counter).
  await dp.getByRole('button', { name: '提问', exact: true }).click();
  await dp.getByLabel('议题').selectOption({ label: '项目建设' });
  await dp.getByLabel('应询单位').selectOption({ label: '县民政局' });
  await dp.getByLabel('问题内容').fill(QUESTION);
  await expect(dp.locator('#ask-count')).toContainText(`${[...QUESTION].length} / 500 字`);
  await dp.getByRole('button', { name: '提交问题' }).click();
  await expect(dp.locator('.q-item', { hasText: QUESTION }).locator('.status')).toHaveText('待审核');
  await expect(dp.getByLabel('问题内容')).toHaveValue('');

  const s1 = await mod.waitFor((s) => s.questions.some((q) => q.text === QUESTION));
  const qid = s1.questions.find((q) => q.text === QUESTION)!.id;
  expect(s1.questions.find((q) => q.id === qid)!.askers).toEqual(['d036']);

  // --- Another delegate's question (submitted by the moderator for d037), which d036 seconds.
  const other = await mod.must({ type: 'submit_question', on_behalf_of: 'd037', topic: 'funds', unit: 'caizheng', text: '养老服务补贴资金拨付为何常常滞后半年？' });
  const otherId = (other.result as { question: number }).question;
  await mod.must({ type: 'approve_question', question: otherId });
  await mod.must({ type: 'approve_question', question: qid });
  await expect(dp.locator('.q-item', { hasText: QUESTION }).locator('.status')).toHaveText('已通过');

  await dp.getByRole('button', { name: '问题', exact: true }).click();
  const otherItem = dp.locator(`.q-item[data-question="${otherId}"]`);
  await otherItem.getByRole('button', { name: '附议' }).click();
  await expect(otherItem.getByRole('button', { name: '已附议' })).toBeDisabled();
  await expect(otherItem).toContainText('附议 1');
  // One's own question cannot be seconded.
  await expect(dp.locator(`.q-item[data-question="${qid}"]`).getByRole('button', { name: '附议' })).toHaveCount(0);

  // --- The operator requests the floor for it; the moderator grants it.
  await op.getByRole('button', { name: '提问', exact: true }).click();
  const opItem = op.locator(`.q-item[data-question="${qid}"]`);
  await expect(opItem).toContainText(delegateName);
  await opItem.getByRole('button', { name: '申请发言' }).click();
  await expect(opItem.getByRole('button', { name: '已申请发言' })).toBeDisabled();
  await mod.waitFor((s) => s.floorRequests.some((r) => r.question === qid && r.venue === 'baiyu'));
  await mod.must({ type: 'grant_floor', venue: 'baiyu', question: qid, answer_seconds: 300 });

  // --- Delegate page and screen show what is on the floor.
  await dp.getByRole('button', { name: '现场', exact: true }).click();
  await expect(dp.locator('.floor .q-text')).toHaveText(QUESTION);
  await expect(dp.locator('.floor-venue')).toContainText('白羽街道人大代表联络站');
  await expect(dp.locator('.floor .countdown')).toHaveText(/[45]:\d\d$/);
  await expect(sp.locator('[data-floor-text]')).toHaveText(QUESTION);
  await expect(sp.locator('[data-floor-venue]')).toHaveText('白羽街道人大代表联络站');
  // Who asks is announced, as in the hall (issue 10).
  await expect(sp.locator('[data-floor-speakers]')).toContainText(delegateName);
  await expect(sp.locator('.floor-meta')).toContainText('县民政局');
  await expect(sp.locator('.screen-countdown')).toHaveText(/[45]:\d\d$/);

  // --- A follow-up from the delegate; the answers with a commitment.
  await dp.getByLabel('追问', { exact: true }).fill(FOLLOW_UP);
  await dp.getByRole('button', { name: '提交追问' }).click();
  const s2 = await mod.waitFor((s) => s.questions.find((q) => q.id === qid)!.follow_ups.length === 1);
  const fu = s2.questions.find((q) => q.id === qid)!.follow_ups[0];
  expect(fu.text).toBe(FOLLOW_UP);
  await mod.must({
    type: 'record_answer',
    unit: 'minzheng',
    official: '县民政局局长 王建华',
    summary: '今年在白羽街道新建助餐点三个，年底前覆盖全部社区。',
    commitments: [{ what: '白羽街道新建助餐点三个', unit: 'minzheng', due: '2026-12-31' }],
  });
  await mod.must({ type: 'record_answer', follow_up: fu.id, unit: 'caizheng', official: '县财政局副局长 李明', summary: '运营补贴由县级财政按人次补助。', commitments: [] });

  await expect(dp.locator('.floor .answer').first()).toContainText('今年在白羽街道新建助餐点三个');
  await expect(dp.locator('.floor .commitments')).toContainText('白羽街道新建助餐点三个');
  await expect(dp.locator('.floor .commitments')).toContainText('2026-12-31');
  await expect(dp.locator('.floor .follow-up')).toContainText('运营补贴由县级财政按人次补助');
  await expect(sp.locator('.floor-answer')).toContainText('今年在白羽街道新建助餐点三个');
  await expect(sp.locator('.floor-follow-ups')).toContainText(FOLLOW_UP);
  await expect(sp.locator('tr[data-venue="baiyu"] td[data-received]')).not.toHaveText('0');
  await shot(dp, 'delegate-floor');
  await shot(sp, 'screen-floor');

  await mod.must({ type: 'end_floor' });
  // Between items the screen keeps the commitments made so far.
  await expect(sp.locator('[data-commitments]')).toContainText('白羽街道新建助餐点三个');
  await expect(dp.locator('.floor-empty')).toBeVisible();
  await expect(sp.locator('tr[data-venue="baiyu"] td[data-answered]')).not.toHaveText('0');

  // --- Evaluation: every unit on one screen, one submit, receipts.
  await ensurePhase(mod, 'evaluation');
  const units = ['minzheng', 'caizheng', 'weijian'];
  const opened = await mod.must({ type: 'open_evaluation', units });
  const evId = (opened.result as { evaluation: number }).evaluation;

  await dp.getByRole('button', { name: '去测评' }).click();
  const form = dp.locator(`[data-evaluation="${evId}"]`);
  await expect(form.locator('fieldset')).toHaveCount(3);
  // Keyboard and screen-reader friendly: each unit is a group named by its legend.
  await form.getByRole('group', { name: '对 县民政局 的评价' }).getByLabel('满意', { exact: true }).check();
  await form.getByRole('group', { name: '对 县财政局 的评价' }).getByLabel('基本满意').check();
  // Submitting with a unit missing is refused with a message, nothing is sent.
  await form.getByRole('button', { name: /提交 3 张测评票/ }).click();
  await expect(form.getByRole('alert')).toHaveText('还有 1 个单位未评价');
  await expect(dp.locator('.conn')).toHaveAttribute('data-pending', '0');
  // Keyboard: focus the last group's first radio and move with the arrow keys.
  await form.getByRole('group', { name: '对 县卫生健康委员会 的评价' }).getByLabel('满意', { exact: true }).focus();
  await dp.keyboard.press('ArrowRight');
  await dp.keyboard.press('ArrowRight');
  await expect(form.getByRole('group', { name: '对 县卫生健康委员会 的评价' }).getByLabel('不满意')).toBeChecked();
  await form.getByRole('button', { name: /提交 3 张测评票/ }).click();

  await expect(form.locator('[data-receipt]')).toHaveCount(3);
  for (const li of await form.locator('[data-receipt]').all()) await expect(li.locator('code')).toHaveText(/^[0-9a-f]{16}$/);
  const myCode = (await form.locator('[data-receipt] code').first().textContent())!;
  await expect(form.locator('.done')).toHaveText('您已完成本轮测评，感谢参与');
  await expect(form.locator('fieldset:disabled')).toHaveCount(3);
  await shot(dp, 'delegate-evaluation');

  // More delegates of several venues vote over the protocol, for livelier charts.
  const voters = ['d037', 'd038', 'd039', 'd001', 'd002', 'd004', 'd011', 'd051', 'd052', 'd053', 'd066', 'd067', 'd068', 'd081', 'd082', 'd083', 'd084'];
  const choices = ['satisfied', 'basically_satisfied', 'satisfied', 'dissatisfied', 'satisfied', 'basically_satisfied', 'satisfied'] as const;
  for (const d of voters) if (!(d in mod.state!.checkedIn)) await mod.must({ type: 'check_in', delegate: d });
  let k = 0;
  for (const d of voters) {
    const c = await WsClient.open(token(`delegate:${d}`));
    for (const u of units) {
      await c.must({ type: 'cast_ballot', ballot_id: `e2e-${d}-${evId}-${u}`, evaluation: evId, unit: u, rating: choices[k++ % choices.length] });
    }
    c.close();
  }
  const voted = voters.length + 1;

  // Live turnout on the screen and on the operator's page.
  await expect(sp.locator('[data-mode="evaluation"]')).toBeVisible();
  await expect(sp.locator('[data-turnout]')).toHaveAttribute('data-turnout', new RegExp(`^${voted}/\\d+$`));
  await expect(sp.locator('[data-bars="turnout"] li')).toHaveCount(20);
  await op.getByRole('button', { name: '测评', exact: true }).click();
  await expect(op.locator('[data-turnout-venue="baiyu"]')).toContainText('已参评 4');
  await sp.waitForTimeout(1000); // let the gauge and bars finish animating
  await shot(sp, 'screen-evaluation');
  await shot(op, 'operator-evaluation');

  // --- Close: the results are revealed everywhere at once.
  await mod.must({ type: 'close_evaluation', evaluation: evId });
  await expect(sp.locator(`[data-results="${evId}"]`)).toBeVisible();
  await expect(sp.locator('[data-bars="venues"] li')).toHaveCount(20);
  // Every page shows the rates the server computed (rounded half up, basis points).
  const closed = await mod.waitFor((st) => st.evaluations.some((e) => e.id === evId && e.results !== undefined));
  const results = closed.evaluations.find((e) => e.id === evId)!.results!;
  expect(results.turnout.voted).toBe(voted);
  for (const u of results.units) {
    const bp = u.counts.satisfaction_rate_bp!;
    const text = `${(bp / 100).toFixed(2)}%`;
    await expect(sp.locator(`[data-bars="units"] [data-row="${u.unit}"] [data-rate]`)).toHaveText(text);
    await expect(dp.locator(`[data-evaluation="${evId}"] [data-result="${u.unit}"]`)).toContainText(text);
  }
  // Off the floor the screen names no delegate (on it, only who asks).
  await expect(sp.locator('body')).not.toContainText(delegateName);
  await shot(sp, 'screen-results');
  await dp.evaluate(() => window.scrollTo(0, 0));
  await shot(dp, 'delegate-results');

  // --- The receipt check (no login): the delegate's code is counted; a forged one is not found.
  const verify = await browser.newPage({ viewport: PHONE });
  await verify.goto(`/verify.html?session=${encodeURIComponent(closed.session.id)}`);
  await verify.getByLabel('回执码').fill(`${myCode.slice(0, 4)} ${myCode.slice(4, 8)} ${myCode.slice(8).toUpperCase()}`);
  await verify.getByRole('button', { name: '核验' }).click();
  const verdict = verify.locator('[data-outcome]');
  await expect(verdict).toHaveAttribute('data-outcome', 'counted');
  await expect(verdict).toContainText('已计入');
  await expect(verdict).toContainText(`第 ${evId} 轮满意度测评`);
  await expect(verdict.locator('[data-head]')).toHaveText(/^[0-9a-f]{64}$/);
  // Never the choice: the delegate chose 满意 for one unit and 不满意, 基本满意 for others.
  await expect(verdict).not.toContainText('不满意');
  await expect(verdict).not.toContainText('基本满意');
  await shot(verify, 'verify-counted');
  const forged = [...myCode].reverse().join('');
  await verify.getByLabel('回执码').fill(forged === myCode ? '0123456789abcdef' : forged);
  await verify.getByRole('button', { name: '核验' }).click();
  await expect(verdict).toHaveAttribute('data-outcome', 'not_found');
  await verify.getByLabel('回执码').fill('12345');
  await verify.getByRole('button', { name: '核验' }).click();
  await expect(verify.getByRole('alert')).toContainText('16 位');
  await verify.close();

  mod.close();
  for (const c of [operator, delegate, screen]) await c.context.close();
});
