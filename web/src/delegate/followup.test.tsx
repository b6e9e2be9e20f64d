// The delegate page after the session: the follow-up tab, the rating form
// (申请重办 only with 不满意), the receipt, and drafts that live updates
// never overwrite.

import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { connected, memStore, openedConnections } from '../lib/fakews.test-util.ts';
import { event, item, question, snapshot } from '../lib/fixtures.test-util.ts';
import { App } from './App.tsx';

const base = snapshot(10);
const closed = { ...base.session, phase: 'closed' as const };
const answered = item(3, {
  status: 'answered',
  reply: '已新建助餐点两个。',
  sources: [{ kind: 'unasked', question: 1 }],
  askers: [{ venue: 'baiyu', delegate: 'd002' }],
});

const conns = openedConnections();

function open(over: Parameters<typeof connected>[1]) {
  const r = connected('delegate', { session: closed, questions: [question(1, { text: '助餐点何时覆盖全部社区？' })], ...over });
  conns.push(r.conn);
  render(<App conn={r.conn} />);
  return r;
}

async function rateForm(): Promise<HTMLElement> {
  return waitFor(() => {
    const f = document.querySelector<HTMLElement>('[data-rate-form="3"]');
    if (!f) throw new Error('no form yet');
    return f;
  });
}

describe('follow-up on the delegate page', () => {
  it('opens on 办理情况 after the close and shows the item with its question and reply', async () => {
    open({ items: [answered] });
    expect(await screen.findByRole('heading', { name: '我的问题办理情况' })).toBeTruthy();
    expect(screen.getByText('助餐点何时覆盖全部社区？')).toBeTruthy();
    expect(screen.getByText('已新建助餐点两个。')).toBeTruthy();
    expect(document.querySelector('[aria-current="page"]')?.textContent).toContain('办理情况');
  });

  it("lists only the items this delegate asked, also when another's arrives live", async () => {
    // Every issued item is public: another delegate's reaches this page too,
    // in its public rendering (no askers), and must not join "mine".
    const others = item(4, { status: 'issued', requirement: '别人的事项', sources: [{ kind: 'unasked', question: 1 }], askers: undefined });
    const { ws } = open({ items: [answered, others] });
    expect(await screen.findByText('已新建助餐点两个。')).toBeTruthy();
    ws.receive(event(11, 'item_moved', [{ entity: 'item', item: { ...others, status: 'answered', reply: '别人的答复' } }]));
    await waitFor(() => expect(conns[0].state.value?.items.find((i) => i.id === 4)?.status).toBe('answered'));
    expect(screen.queryByText('别人的事项')).toBeNull();
    expect(screen.queryByText('别人的答复')).toBeNull();
    expect(document.querySelectorAll('[data-item]').length).toBe(1);
  });

  it('offers 申请重办 only with 不满意, and sends it with the rating', async () => {
    const { ws } = open({ items: [answered] });
    const form = await rateForm();
    const f = within(form);
    fireEvent.click(f.getByRole('button', { name: '提交评价' }));
    expect(f.getByRole('alert').textContent).toBe('请选择满意、基本满意或不满意');
    expect(ws.lastSent('rate_item')).toBeUndefined();

    fireEvent.click(f.getByLabelText('满意'));
    expect(f.queryByLabelText('申请重办')).toBeNull();
    fireEvent.click(f.getByLabelText('不满意'));
    const rehandle = f.getByLabelText('申请重办') as HTMLInputElement;
    expect(form.textContent).toContain('公开告诉人大办');
    fireEvent.click(rehandle);
    fireEvent.input(f.getByLabelText('意见（可不填）'), { target: { value: '第三个还没开工' } });
    // A live update of the item does not touch what is being filled in.
    ws.receive(event(11, 'item_evidence_added', [{ entity: 'item', item: { ...answered, evidence: [] } }]));
    expect((f.getByLabelText('不满意') as HTMLInputElement).checked).toBe(true);
    expect((f.getByLabelText('申请重办') as HTMLInputElement).checked).toBe(true);

    fireEvent.click(f.getByRole('button', { name: '提交评价' }));
    await waitFor(() => expect(ws.lastSent('rate_item')).toBeTruthy());
    expect(ws.lastSent('rate_item')).toMatchObject({ type: 'rate_item', item: 3, rating: 'dissatisfied', rehandle: true, comment: '第三个还没开工' });
    expect(ws.lastSent('rate_item')!.on_behalf_of).toBeUndefined();
  });

  it('choosing another rating after 不满意 drops 申请重办', async () => {
    const { ws } = open({ items: [answered] });
    const f = within(await rateForm());
    fireEvent.click(f.getByLabelText('不满意'));
    fireEvent.click(f.getByLabelText('申请重办'));
    fireEvent.click(f.getByLabelText('基本满意'));
    fireEvent.click(f.getByRole('button', { name: '提交评价' }));
    await waitFor(() => expect(ws.lastSent('rate_item')).toMatchObject({ rating: 'basically_satisfied', rehandle: false }));
  });

  it('shows the receipt once rated, and no form', async () => {
    const mine = { delegate: 'd002', rating: 'satisfied' as const, by_operator: false, rehandle: false, at: 1_767_225_600_000 };
    open({ items: [{ ...answered, ratings: { counts: { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 1, suppressed: true }, mine } }] });
    const receipt = await waitFor(() => {
      const r = document.querySelector<HTMLElement>('.fu-receipt');
      if (!r) throw new Error('no receipt');
      return r;
    });
    expect(receipt.textContent).toContain('您的评价：满意');
    expect(document.querySelector('[data-rate-form]')).toBeNull();
    expect(document.body.textContent).toContain('1 人评价 · 样本不足');
  });

  it('waits for the unit’s answer before offering the rating', async () => {
    open({ items: [{ ...answered, status: 'in_handling', reply: undefined }] });
    expect(await screen.findByText('承办单位答复后才能评价')).toBeTruthy();
    expect(document.querySelector('[data-rate-form]')).toBeNull();
  });

  it('the venue operator rates on behalf of an asker of the venue', async () => {
    const { ws } = open({
      you: { role: 'venue_operator', name: '白羽街道分会场', venue: 'baiyu' },
      items: [answered],
    });
    expect(await screen.findByRole('heading', { name: '本会场问题办理情况' })).toBeTruthy();
    const f = within(await rateForm());
    expect((f.getByLabelText('提问代表') as HTMLSelectElement).value).toBe('d002');
    fireEvent.click(f.getByLabelText('满意'));
    fireEvent.click(f.getByRole('button', { name: '提交评价' }));
    await waitFor(() => expect(ws.lastSent('rate_item')).toMatchObject({ item: 3, on_behalf_of: 'd002', rating: 'satisfied', rehandle: false }));
    const sent = ws.lastSent('rate_item')!;
    ws.receive({
      type: 'ack',
      id: sent.id as string,
      seq: 12,
      result: { item_receipt: { item: 3, rating: { delegate: 'd002', rating: 'satisfied', by_operator: true, rehandle: false, at: 1_767_225_600_000 }, code: '0f1e2d3c4b5a6978' } },
    });
    const receipt = await waitFor(() => {
      const r = document.querySelector<HTMLElement>('.fu-receipt');
      if (!r) throw new Error('no receipt');
      return r;
    });
    expect(receipt.textContent).toContain('已为 钱秀英 提交评价：满意');
    expect(receipt.textContent).toContain('联络员代为评价');
    expect(receipt.querySelector('[data-receipt-code]')!.textContent).toBe('0f1e2d3c4b5a6978');
    // Another person's rating never lands in the shared device's storage.
    const kept = JSON.stringify((conns[conns.length - 1].store as ReturnType<typeof memStore>).entries());
    expect(kept).not.toContain('0f1e2d3c4b5a6978');
    expect(kept).not.toContain('satisfied');
  });
});
