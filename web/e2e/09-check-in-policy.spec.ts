// Issue 10: the check-in policy `confirmed` in real browsers. A session of
// its own (created over REST with the test server's admin token, so the
// demo's phases do not matter): the delegate asks on the phone, the station
// declines with a reason, the delegate asks again, the station confirms, and
// the phone says checked in.

import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { expectConnected, openPage, PHONE, shot, WsClient } from './helpers.ts';
import { ADMIN_TOKEN } from './env.ts';

const DEFINITION = {
  id: 'check-in-e2e',
  title: '签到方式演示',
  check_in: 'confirmed',
  venues: [
    { id: 'main', name: '县人大代表联络站主会场', kind: 'main' },
    { id: 'baiyu', name: '白羽街道人大代表联络站', kind: 'sub' },
  ],
  units: [{ id: 'minzheng', name: '县民政局' }],
  topics: [{ id: 'policy', name: '养老政策' }],
  delegates: [
    { id: 'p001', name: '钱秀英', level: 'township', venue: 'baiyu' },
    { id: 'p002', name: '孙立新', level: 'county', venue: 'baiyu' },
  ],
};

test('confirmed: the delegate asks, the station declines with a reason, then confirms', async ({ browser, request }) => {
  const res = await request.post('/api/sessions', { data: DEFINITION, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status()).toBe(201);
  const created = (await res.json()) as { credentials: { principal: string; token: string }[] };
  const tok = (p: string) => created.credentials.find((c) => c.principal === p)!.token;

  const mod = await WsClient.open(tok('moderator'));
  expect(mod.state!.session.check_in).toBe('confirmed');
  await mod.must({ type: 'advance_phase', to: 'check_in' });

  const { page: dp } = await openPage(browser, '/delegate.html', tok('delegate:p001'), PHONE);
  const { page: op } = await openPage(browser, '/delegate.html', tok('operator:baiyu'), PHONE);
  await expectConnected(dp);
  await expectConnected(op);

  // The phone asks instead of checking in.
  const banner = dp.locator('[data-check-in]');
  await expect(banner).toContainText('您尚未签到');
  await dp.getByRole('button', { name: '我已到场，申请签到' }).click();
  await expect(banner).toContainText('已申请签到，等待工作人员确认');
  await expect(dp.getByRole('button', { name: '我已到场，申请签到' })).toHaveCount(0);

  // The station sees the request on top of its roster and declines it, with a reason.
  await expect(op.locator('[data-tab="checkIn"]')).toHaveAttribute('aria-current', 'page');
  const asked = op.locator('li[data-request="p001"]');
  await expect(asked).toContainText('钱秀英');
  await expect(op.locator('#check-in-requests-h')).toHaveText('待确认的签到申请（1）');
  await shot(op, 'operator-check-in-requests');
  // The new parts of both pages pass axe (WCAG 2 A and AA, as 06-a11y).
  for (const page of [op, dp]) {
    const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  }
  op.once('dialog', (d) => void d.accept('请本人到签到处'));
  await asked.getByRole('button', { name: '拒绝 钱秀英' }).click();
  await expect(asked).toHaveCount(0);
  await expect(banner).toContainText('签到申请未通过：请本人到签到处');

  // Asked again, and confirmed this time.
  await dp.getByRole('button', { name: '我已到场，申请签到' }).click();
  await expect(banner).toContainText('已申请签到，等待工作人员确认');
  await op.locator('li[data-request="p001"]').getByRole('button', { name: '确认 钱秀英' }).click();
  await expect(op.locator('li[data-request="p001"]')).toHaveCount(0);
  await expect(op.locator('li[data-delegate="p001"]')).toContainText('已签到');
  await expect(dp.locator('.who')).toContainText('已签到');
  await expect(banner).toHaveCount(0);
  await mod.waitFor((s) => 'p001' in s.checkedIn);
  mod.close();
});
