// Announcements on the pages (issue 10): the moderator announces and sees
// which venues have it; the operator page shows it and acknowledges it
// once; a delegate's page shows it and acknowledges nothing; a screen shows
// only those to everyone.

import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import type { AnnouncementDto } from '../protocol.ts';
import { connected, openedConnections } from './fakews.test-util.ts';
import { event } from './fixtures.test-util.ts';
import { App as DelegateApp } from '../delegate/App.tsx';
import { App as ModeratorApp } from '../moderator/App.tsx';
import { App as ScreenApp } from '../screen/App.tsx';

const conns = openedConnections();

const toAll: AnnouncementDto = { id: 1, text: '休会五分钟，请代表们留在座位', venues: [], at: 1_767_225_600_000 };
const toBaiyu: AnnouncementDto = { id: 2, text: '白羽街道请调整麦克风', venues: ['baiyu'], at: 1_767_225_601_000 };

describe('announcements', () => {
  it('the moderator announces to chosen venues and sees which venues have it', async () => {
    const r = connected('moderator', { you: { role: 'moderator', name: '主会场', venue: 'main' }, announcements: [{ ...toAll, seen: [{ venue: 'main', at: 1 }] }] });
    conns.push(r.conn);
    render(<ModeratorApp conn={r.conn} />);
    const card = within(await screen.findByRole('region', { name: '会场通知' }));
    const venues = r.conn.state.value!.session.venues;
    expect(card.getByText(`已收到 1 / ${venues.length} 个会场`)).toBeTruthy();
    // The form opens on demand (the venue board stays in view).
    expect(card.queryByLabelText('通知内容')).toBeNull();
    fireEvent.click(card.getByRole('button', { name: '发布通知' }));
    fireEvent.input(card.getByLabelText('通知内容'), { target: { value: '白羽街道请调整麦克风' } });
    fireEvent.click(card.getByLabelText('指定会场'));
    // Nothing chosen yet: the form says so and sends nothing.
    fireEvent.click(card.getByRole('button', { name: '发布' }));
    expect(card.getByRole('alert').textContent).toBe('请至少选择一个会场');
    expect(r.ws.lastSent('announce')).toBeUndefined();
    fireEvent.click(card.getByLabelText(venues.find((v) => v.id === 'baiyu')!.name));
    fireEvent.click(card.getByRole('button', { name: '发布' }));
    await waitFor(() => expect(r.ws.lastSent('announce')).toMatchObject({ text: '白羽街道请调整麦克风', venues: ['baiyu'] }));
  });

  it('the operator page shows what is addressed to its venue and acknowledges it once', async () => {
    const r = connected('delegate', { you: { role: 'venue_operator', name: '白羽街道分会场', venue: 'baiyu' }, announcements: [toAll] });
    conns.push(r.conn);
    render(<DelegateApp conn={r.conn} />);
    const banner = await screen.findByRole('alert', { name: '会场通知' });
    expect(banner.textContent).toContain('休会五分钟');
    await waitFor(() => expect(r.ws.lastSent('announcement_seen')).toMatchObject({ announcement: 1 }));
    // A newer one to this venue replaces it, and is acknowledged in turn.
    r.ws.receive(event(11, 'announcement_made', [{ entity: 'announcement', announcement: toBaiyu }]));
    await waitFor(() => expect(screen.getByRole('alert', { name: '会场通知' }).textContent).toContain('白羽街道请调整麦克风'));
    await waitFor(() => expect(r.ws.lastSent('announcement_seen')).toMatchObject({ announcement: 2 }));
    expect(r.ws.sentOf('announcement_seen')).toHaveLength(2);
    // Cleared: it leaves the page.
    r.ws.receive(event(12, 'announcement_cleared', [{ entity: 'announcement', announcement: { ...toBaiyu, cleared_at: 5 } }]));
    await waitFor(() => expect(screen.queryByRole('alert', { name: '会场通知' })).toBeNull());
  });

  it('a delegate sees it and sends nothing; another venue does not see one for baiyu', async () => {
    const r = connected('delegate', { you: { role: 'delegate', name: '孙建国', venue: 'zijin', delegate: 'd040' }, announcements: [toAll, toBaiyu] });
    conns.push(r.conn);
    render(<DelegateApp conn={r.conn} />);
    const banner = await screen.findByRole('alert', { name: '会场通知' });
    expect(banner.textContent).toContain('休会五分钟');
    expect(r.ws.lastSent('announcement_seen')).toBeUndefined();
  });

  it('a screen shows only announcements to everyone', async () => {
    const r = connected('screen', { you: { role: 'screen', name: 'screen' }, announcements: [toAll, toBaiyu] });
    conns.push(r.conn);
    render(<ScreenApp conn={r.conn} />);
    const banner = await screen.findByRole('alert', { name: '会场通知' });
    expect(banner.textContent).toContain('休会五分钟');
    expect(banner.textContent).not.toContain('麦克风');
  });
});
