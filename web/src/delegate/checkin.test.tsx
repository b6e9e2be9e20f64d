// The check-in policy on the phone and at the station (issue 10): what the
// delegate's banner offers by policy, the request's life in the client
// store, and the station's 确认 / 拒绝.

import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { connected, openedConnections } from '../lib/fakews.test-util.ts';
import { event, snapshot } from '../lib/fixtures.test-util.ts';
import { applyChange, applySnapshot } from '../lib/state.ts';
import type { SnapshotDto } from '../protocol.ts';
import { HealthBoard } from '../moderator/Health.tsx';
import { App } from './App.tsx';
import { checkInStep, venueRequests } from './checkin.ts';

const conns = openedConnections();

const base = snapshot(10);
const DELEGATE = { role: 'delegate' as const, name: '钱秀英', venue: 'baiyu', delegate: 'd002' };
const OPERATOR = { role: 'venue_operator' as const, name: '白羽街道分会场', venue: 'baiyu' };

function at(policy: 'operator' | 'confirmed' | 'self', over: Partial<SnapshotDto> = {}): Partial<SnapshotDto> {
  return { you: DELEGATE, checked_in: [], session: { ...base.session, phase: 'check_in', check_in: policy }, ...over };
}

function open(over: Partial<SnapshotDto>) {
  const r = connected('delegate', over);
  conns.push(r.conn);
  render(<App conn={r.conn} />);
  return r;
}

describe('what the phone offers, by policy', () => {
  const step = (over: Partial<SnapshotDto>) => checkInStep(applySnapshot(snapshot(10, over)));

  it('operator: go to the desk; self: the button; confirmed: ask, then wait', () => {
    expect(step(at('operator')).kind).toBe('desk');
    expect(step(at('self')).kind).toBe('self');
    expect(step(at('confirmed'))).toEqual({ kind: 'request' });
    expect(step(at('confirmed', { check_in_requests: [{ delegate: 'd002', venue: 'baiyu', at: 1 }] })).kind).toBe('requested');
  });

  it('nothing once checked in, outside the check-in phases, or for an operator', () => {
    expect(step(at('confirmed', { checked_in: ['d002'] })).kind).toBe('none');
    expect(step(at('confirmed', { session: { ...base.session, phase: 'preparing', check_in: 'confirmed' } })).kind).toBe('none');
    expect(step(at('confirmed', { you: OPERATOR })).kind).toBe('none');
  });

  it('a decline comes with its reason until the delegate asks again', () => {
    let s = applySnapshot(snapshot(10, at('confirmed', { check_in_requests: [{ delegate: 'd002', venue: 'baiyu', at: 1 }] })));
    s = applyChange(s, { entity: 'check_in_declined', delegate: 'd002', venue: 'baiyu', reason: '请本人到签到处' });
    expect(checkInStep(s)).toEqual({ kind: 'request', declined: '请本人到签到处' });
    s = applyChange(s, { entity: 'check_in_request', delegate: 'd002', venue: 'baiyu', at: 5 });
    expect(checkInStep(s).kind).toBe('requested');
    s = applyChange(s, { entity: 'check_in', delegate: 'd002', venue: 'baiyu', at: 6 });
    expect(checkInStep(s).kind).toBe('none');
    expect(s.checkInRequests).toEqual({});
  });

  it('the station lists its own venue’s open requests, oldest first; the close drops them', () => {
    let s = applySnapshot(
      snapshot(10, {
        ...at('confirmed', { you: OPERATOR }),
        check_in_requests: [
          { delegate: 'd003', venue: 'baiyu', at: 9 },
          { delegate: 'd002', venue: 'baiyu', at: 4 },
          { delegate: 'd001', venue: 'main', at: 1 },
        ],
      }),
    );
    expect(venueRequests(s, 'baiyu').map((r) => r.delegate)).toEqual(['d002', 'd003']);
    s = applyChange(s, { entity: 'phase', phase: 'closed' });
    expect(venueRequests(s, 'baiyu')).toEqual([]);
  });
});

describe('the phone', () => {
  it('operator: says where to check in and offers no button', async () => {
    open(at('operator'));
    await screen.findByText('请到本会场签到处签到');
    expect(screen.queryByRole('button', { name: /签到/ })).toBeNull();
  });

  it('confirmed: the button asks; the phone waits, then shows the decline and its reason', async () => {
    const { ws } = open(at('confirmed'));
    fireEvent.click(await screen.findByRole('button', { name: '我已到场，申请签到' }));
    await waitFor(() => expect(ws.lastSent('request_check_in')).toBeTruthy());
    expect(ws.lastSent('check_in')).toBeUndefined();
    ws.receive(event(11, 'check_in_requested', [{ entity: 'check_in_request', delegate: 'd002', venue: 'baiyu', at: 1 }]));
    ws.receive({ type: 'ack', id: String(ws.lastSent('request_check_in')!.id), seq: 11 });
    await screen.findByText('已申请签到，等待工作人员确认');
    ws.receive(event(12, 'check_in_declined', [{ entity: 'check_in_declined', delegate: 'd002', venue: 'baiyu', reason: '请本人到签到处' }]));
    await screen.findByText('签到申请未通过：请本人到签到处');
    expect(screen.getByRole('button', { name: '我已到场，申请签到' })).toBeTruthy();
  });

  it('self: the button checks the delegate in, as before', async () => {
    const { ws } = open(at('self'));
    fireEvent.click(await screen.findByRole('button', { name: '我已到场，签到' }));
    await waitFor(() => expect(ws.lastSent('check_in')).toMatchObject({ delegate: 'd002' }));
  });
});

describe('the station', () => {
  const delegates = [
    { id: 'd002', name: '钱秀英', level: 'township' as const, venue: 'baiyu' },
    { id: 'd003', name: '孙立新', level: 'county' as const, venue: 'baiyu' },
  ];

  it('confirms a request with a check-in and declines one with a reason', async () => {
    const { ws } = open({
      ...at('confirmed', { you: OPERATOR }),
      delegates,
      check_in_requests: [
        { delegate: 'd002', venue: 'baiyu', at: 1 },
        { delegate: 'd003', venue: 'baiyu', at: 2 },
      ],
    });
    await screen.findByRole('heading', { name: '待确认的签到申请（2）' });
    fireEvent.click(screen.getByRole('button', { name: '确认 钱秀英' }));
    await waitFor(() => expect(ws.lastSent('check_in')).toMatchObject({ delegate: 'd002' }));
    const prompt = window.prompt;
    window.prompt = () => '本人未到场';
    try {
      fireEvent.click(screen.getByRole('button', { name: '拒绝 孙立新' }));
    } finally {
      window.prompt = prompt;
    }
    await waitFor(() => expect(ws.lastSent('decline_check_in')).toMatchObject({ delegate: 'd003', reason: '本人未到场' }));
    ws.receive(event(11, 'checked_in', [{ entity: 'check_in', delegate: 'd002', venue: 'baiyu', at: 3 }]));
    ws.receive(event(12, 'check_in_declined', [{ entity: 'check_in_declined', delegate: 'd003', venue: 'baiyu', reason: '本人未到场' }]));
    await waitFor(() => expect(screen.queryByRole('heading', { name: /待确认的签到申请/ })).toBeNull());
  });

  it('marks its 签到 tab while a request waits, so it is seen from any tab', async () => {
    const { ws } = open({ ...at('confirmed', { you: OPERATOR }), session: { ...base.session, phase: 'questioning', check_in: 'confirmed' }, delegates });
    const tab = await waitFor(() => {
      const el = document.querySelector('[data-tab="checkIn"]');
      if (!el) throw new Error('no tab');
      return el;
    });
    expect(tab.querySelector('[data-requests]')).toBeNull();
    ws.receive(event(11, 'check_in_requested', [{ entity: 'check_in_request', delegate: 'd003', venue: 'baiyu', at: 2 }]));
    await waitFor(() => expect(tab.querySelector('[data-requests]')?.getAttribute('data-requests')).toBe('1'));
    expect(tab.textContent).toContain('待确认的签到申请（1）');
  });

  it('a cancelled prompt declines nothing', async () => {
    const { ws } = open({ ...at('confirmed', { you: OPERATOR }), delegates, check_in_requests: [{ delegate: 'd003', venue: 'baiyu', at: 2 }] });
    const prompt = window.prompt;
    window.prompt = () => null;
    try {
      fireEvent.click(await screen.findByRole('button', { name: '拒绝 孙立新' }));
    } finally {
      window.prompt = prompt;
    }
    expect(ws.lastSent('decline_check_in')).toBeUndefined();
  });
});

describe('the console', () => {
  it('names the policy and counts pending requests on the venue board', async () => {
    const state = applySnapshot(
      snapshot(10, { ...at('confirmed', { you: { role: 'moderator', name: '主会场', venue: 'main' } }), check_in_requests: [{ delegate: 'd002', venue: 'baiyu', at: 1 }] }),
    );
    render(<HealthBoard state={state} />);
    const line = await waitFor(() => {
      const el = document.querySelector('[data-check-in-policy]');
      if (!el) throw new Error('no policy line');
      return el;
    });
    expect(line.getAttribute('data-check-in-policy')).toBe('confirmed');
    expect(line.textContent).toContain('签到方式：代表申请、联络员确认');
    expect(line.textContent).toContain('待确认申请 1');
  });
});
