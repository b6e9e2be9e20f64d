// The office console against a fake socket: the board's figures with the
// small-cell rule, drafts edited and issued in order, edits that survive
// live updates, and flagged items first.

import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import type { BoardDto } from '../protocol.ts';
import { connected, openedConnections } from '../lib/fakews.test-util.ts';
import { event, item, question, snapshot } from '../lib/fixtures.test-util.ts';
import { App } from './App.tsx';

const base = snapshot(10);
const OFFICE = { role: 'office' as const, name: 'office' };
const zero = { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 };
const counts = { issued: 0, waiting: 0, in_handling: 0, answered: 0, rectified: 0, closed: 0, overdue: 0, due_soon: 0, flagged: 0, ratings: zero };
const board: BoardDto = {
  as_of: '2026-01-10',
  drafts: 1,
  overall: { ...counts, issued: 2, waiting: 1, answered: 1, flagged: 1, resolved_rate_bp: 5000, ratings: { ...zero, total: 2, suppressed: true } },
  units: [
    { unit: 'minzheng', counts: { ...counts, issued: 1, answered: 1, flagged: 1, resolved_rate_bp: 10000, ratings: { satisfied: 2, basically_satisfied: 1, dissatisfied: 1, total: 4, satisfaction_rate_bp: 7500 } } },
    { unit: 'weijian', counts: { ...counts, issued: 1, waiting: 1, resolved_rate_bp: 0, ratings: { ...zero, total: 1, suppressed: true } } },
  ],
};
const draft = item(5, { status: 'draft', number: undefined, deadline: undefined, requirement: '书面答复', history: [] });

const conns = openedConnections();

function open() {
  const r = connected('office', {
    you: OFFICE,
    session: { ...base.session, phase: 'closed' },
    questions: [question(1)],
    items: [item(1, { lead: 'weijian' }), item(2, { status: 'answered', flagged: true }), draft],
    board,
  });
  conns.push(r.conn);
  render(<App conn={r.conn} />);
  return r;
}

describe('office console', () => {
  it('shows the board: rate, figures, satisfaction or 样本不足 per unit', () => {
    open();
    expect(document.querySelector('[data-figure="rate"]')?.textContent).toContain('50.00%');
    expect(document.querySelector('[data-board="overall"] [data-figure="flagged"] dd')?.textContent).toBe('1');
    expect(document.querySelector('tr[data-unit="minzheng"] [data-figure="satisfaction"]')?.textContent).toBe('75.00%（2/1/1）');
    expect(document.querySelector('tr[data-unit="weijian"] [data-figure="satisfaction"]')?.textContent).toContain('样本不足');
    // Flagged first, marked.
    const first = document.querySelector('.item-card');
    expect(first?.getAttribute('data-item')).toBe('2');
    expect(first?.classList.contains('item-flagged')).toBe(true);
  });

  it('saves then issues a draft, in that order, and keeps an edit through live updates', async () => {
    const { ws } = open();
    fireEvent.click(screen.getByRole('button', { name: '草稿（1）' }));
    const card = document.querySelector<HTMLElement>('.draft-card[data-item="5"]')!;
    const c = within(card);
    // Issuing without a deadline is stopped here.
    fireEvent.click(c.getByRole('button', { name: '交办' }));
    expect(c.getByRole('alert').textContent).toContain('交办前请填写办理时限');
    expect(ws.lastSent('issue_item')).toBeUndefined();

    fireEvent.input(c.getByLabelText('办理时限'), { target: { value: '2099-01-31' } });
    fireEvent.input(c.getByLabelText('交办要求'), { target: { value: '请书面答复并说明时间表' } });
    // Another change to the same draft arrives: the edit stays.
    ws.receive(event(11, 'item_draft_edited', [{ entity: 'item', item: { ...draft, priority: 'supervised' } }]));
    expect((c.getByLabelText('交办要求') as HTMLTextAreaElement).value).toBe('请书面答复并说明时间表');

    fireEvent.click(c.getByRole('button', { name: '保存并交办' }));
    await waitFor(() => expect(ws.lastSent('edit_draft')).toBeTruthy());
    expect(ws.lastSent('edit_draft')).toMatchObject({ item: 5, deadline: '2099-01-31', requirement: '请书面答复并说明时间表', lead: 'minzheng' });
    expect(ws.lastSent('issue_item')).toBeUndefined();
    const edit = ws.lastSent('edit_draft')!;
    ws.receive(event(12, 'item_draft_edited', [{ entity: 'item', item: { ...draft, deadline: '2099-01-31', requirement: '请书面答复并说明时间表' } }]));
    ws.receive({ type: 'ack', id: edit.id as string, seq: 12 });
    await waitFor(() => expect(ws.lastSent('issue_item')).toMatchObject({ item: 5 }));
  });

  it('drafting from the session says how many drafts it added', async () => {
    const { ws } = open();
    fireEvent.click(screen.getByRole('button', { name: '草稿（1）' }));
    fireEvent.click(screen.getByRole('button', { name: '根据会议记录生成草稿' }));
    await waitFor(() => expect(ws.lastSent('draft_assignments')).toBeTruthy());
    ws.receive({ type: 'ack', id: ws.lastSent('draft_assignments')!.id as string, seq: 11, result: { drafted: { first: 6, count: 2 } } });
    expect(await screen.findByText('新增 2 条草稿')).toBeTruthy();
  });

  it('refusing an extension needs an answer', async () => {
    const r = connected('office', {
      you: OFFICE,
      session: { ...base.session, phase: 'closed' },
      items: [item(1, { extensions: [{ until: '2026-03-01', reason: '选址', requested_at: 1 }] })],
      board,
    });
    conns.push(r.conn);
    render(<App conn={r.conn} />);
    const card = within(document.querySelector<HTMLElement>('.item-card[data-item="1"]')!);
    fireEvent.click(card.getByRole('button', { name: '不同意' }));
    expect(card.getByRole('alert').textContent).toBe('不同意延期时须填写答复意见');
    expect(r.ws.lastSent('decide_extension')).toBeUndefined();
    fireEvent.click(card.getByRole('button', { name: '同意延期' }));
    await waitFor(() => expect(r.ws.lastSent('decide_extension')).toMatchObject({ item: 1, grant: true }));
  });
});
