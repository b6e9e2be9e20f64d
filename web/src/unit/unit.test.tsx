// A unit's workspace against a fake socket: its items by deadline, what the
// lead unit and a co-handling unit may do, and the upload's messages.

import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connected, openedConnections } from '../lib/fakews.test-util.ts';
import { item, question, snapshot } from '../lib/fixtures.test-util.ts';
import { App } from './App.tsx';

const base = snapshot(10);
const UNIT = { role: 'unit' as const, name: '县民政局', unit: 'minzheng' };

const conns = openedConnections();
afterEach(() => vi.unstubAllGlobals());

function open() {
  // "Today" for the page is the server's date (12:00 in Shanghai).
  const r = connected('unit', {
    you: UNIT,
    server_time: Date.parse('2026-01-10T04:00:00Z'),
    session: { ...base.session, phase: 'closed' },
    questions: [question(1, { text: '助餐点何时覆盖？' })],
    items: [
      item(1, { deadline: '2026-03-01' }),
      item(2, { deadline: '2026-01-08', status: 'in_handling' }),
      item(3, { lead: 'caizheng', co_units: ['minzheng'], deadline: '2026-01-12' }),
      item(4, { lead: 'weijian' }),
    ],
  });
  conns.push(r.conn);
  render(<App conn={r.conn} />);
  return r;
}

describe('unit workspace', () => {
  it('downloads its own assignment letter with its credential, never in the address', async () => {
    const fetchMock = vi.fn(async () => new Response('<html></html>', { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => {} }));
    open();
    fireEvent.click(screen.getByRole('button', { name: '打印版' }));
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe(`/api/sessions/${base.session.id}/documents/letters/minzheng.html`);
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok-unit');
    expect(url).not.toContain('tok-unit');
  });

  it('lists its own and co-handled items by deadline, with badges', () => {
    open();
    const ids = [...document.querySelectorAll('li.u-item')].map((li) => li.getAttribute('data-item'));
    expect(ids).toEqual(['2', '3', '1']);
    expect(document.querySelector('li.u-item[data-item="2"] .badge-overdue')?.textContent).toBe('已逾期 2 天');
    expect(document.querySelector('li.u-item[data-item="3"] .badge-due-soon')?.textContent).toBe('2 天后到期');
    expect(document.querySelector('li.u-item[data-item="1"] .badge')).toBeNull();
  });

  it('the lead replies; a co-handling unit only adds notes and evidence', async () => {
    const { ws } = open();
    const co = within(document.querySelector<HTMLElement>('li.u-item[data-item="3"]')!);
    expect(co.queryByRole('button', { name: '写书面答复' })).toBeNull();
    expect(co.queryByRole('button', { name: '申请延期' })).toBeNull();
    expect(co.getByRole('button', { name: '添加进展' })).toBeTruthy();

    const own = within(document.querySelector<HTMLElement>('li.u-item[data-item="2"]')!);
    fireEvent.click(own.getByRole('button', { name: '写书面答复' }));
    fireEvent.click(own.getByRole('button', { name: '提交书面答复' }));
    expect(own.getByRole('alert').textContent).toBe('请填写内容');
    fireEvent.input(own.getByLabelText('书面答复内容'), { target: { value: '已建成。' } });
    fireEvent.click(own.getByRole('button', { name: '提交书面答复' }));
    await waitFor(() => expect(ws.lastSent('reply_item')).toMatchObject({ item: 2, text: '已建成。' }));
  });

  it('asks for an extension later than the deadline', async () => {
    const { ws } = open();
    const own = within(document.querySelector<HTMLElement>('li.u-item[data-item="1"]')!);
    fireEvent.click(own.getByRole('button', { name: '申请延期' }));
    fireEvent.input(own.getByLabelText('延期至'), { target: { value: '2026-02-01' } });
    fireEvent.click(own.getByRole('button', { name: '提交延期申请' }));
    expect(own.getByRole('alert').textContent).toBe('请选择 2026-03-02 或以后的日期');
    fireEvent.input(own.getByLabelText('延期至'), { target: { value: '2026-04-01' } });
    fireEvent.input(own.getByLabelText('延期理由'), { target: { value: '需要听证' } });
    fireEvent.click(own.getByRole('button', { name: '提交延期申请' }));
    await waitFor(() => expect(ws.lastSent('request_extension')).toMatchObject({ item: 1, until: '2026-04-01', reason: '需要听证' }));
  });

  it('says in Chinese why a file was refused', async () => {
    open();
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ code: 'invalid', message: 'the file is not a JPEG, PNG, WebP or PDF (recognised by its content)' }), { status: 422 }));
    vi.stubGlobal('fetch', fetchMock);
    const own = within(document.querySelector<HTMLElement>('li.u-item[data-item="1"]')!);
    const input = own.getByLabelText('上传佐证材料（照片或 PDF）') as HTMLInputElement;
    const file = new File(['hello'], 'a.txt', { type: 'text/plain' });
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    fireEvent.change(input);
    expect((await screen.findByRole('alert')).textContent).toBe('文件类型不支持：只能上传 JPG、PNG、WebP 图片或 PDF 文件。');
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/sessions/xixia-2026/items/1/files?name=a.txt');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok-unit');
  });
});
