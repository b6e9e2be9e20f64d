// The township delegate and the venue operator (issue 10): the phone says
// what is going on in every phase; an operator page that is open when
// check-in starts moves to 签到; a follow-up without a chosen delegate gets
// the app's message, not the browser's; English says "Seconded by".

import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { connected, openedConnections } from '../lib/fakews.test-util.ts';
import { event, question, snapshot } from '../lib/fixtures.test-util.ts';
import { en } from '../lib/i18n/en.ts';
import { App } from './App.tsx';

const conns = openedConnections();

const base = snapshot(10);
const OPERATOR = { role: 'venue_operator' as const, name: '白羽街道分会场', venue: 'baiyu' };
const DELEGATE = { role: 'delegate' as const, name: '钱秀英', venue: 'baiyu', delegate: 'd002' };

function open(over: Parameters<typeof connected>[1]) {
  const r = connected('delegate', over);
  conns.push(r.conn);
  render(<App conn={r.conn} />);
  return r;
}

describe('the phone in every phase', () => {
  it('says the evaluation is under way instead of "wait for the next question"', async () => {
    open({ you: DELEGATE, session: { ...base.session, phase: 'evaluation' } });
    const idle = await waitFor(() => {
      const el = document.querySelector('[data-idle]');
      if (!el) throw new Error('no idle text');
      return el;
    });
    expect(idle.textContent).toBe('问政环节已结束，现在进行满意度测评');
  });

  it('an open operator page moves to 签到 when check-in starts', async () => {
    const { ws } = open({ you: OPERATOR, session: { ...base.session, phase: 'preparing' } });
    await waitFor(() => expect(document.querySelector('[data-tab="live"]')?.getAttribute('aria-current')).toBe('page'));
    ws.receive(event(11, 'phase_changed', [{ entity: 'phase', phase: 'check_in' }]));
    await waitFor(() => expect(document.querySelector('[data-tab="checkIn"]')?.getAttribute('aria-current')).toBe('page'));
  });

  it('a follow-up with no delegate chosen gets the app message and sends nothing', async () => {
    const q = question(1, { status: 'on_floor', venues: ['baiyu'] });
    const { ws } = open({
      you: OPERATOR,
      session: { ...base.session, phase: 'questioning' },
      questions: [q],
      floor: { question: 1, venue: 'baiyu', granted_at: 1, countdown_started_at: 1, countdown_seconds: 120 },
    });
    const form = await waitFor(() => {
      const f = document.querySelector<HTMLFormElement>('form.follow-up-form');
      if (!f) throw new Error('no follow-up form');
      return f;
    });
    expect(form.noValidate).toBe(true);
    fireEvent.input(form.querySelector('textarea')!, { target: { value: '再追问一句' } });
    fireEvent.submit(form);
    expect(await screen.findByText('请选择代表')).toBeTruthy();
    expect(ws.lastSent('add_follow_up')).toBeUndefined();
  });
});

describe('English', () => {
  it('says "Seconded by" next to a count, not "seconds"', () => {
    expect(en.common.seconds(0)).toBe('Seconded by 0');
  });
});

describe('the station during the evaluation', () => {
  it('names who at the venue has not voted yet, never what anyone chose', async () => {
    open({
      you: OPERATOR,
      session: { ...base.session, phase: 'evaluation' },
      delegates: [
        { id: 'd002', name: '钱秀英', level: 'township', venue: 'baiyu' },
        { id: 'd003', name: '孙丽', level: 'county', venue: 'baiyu' },
      ],
      checked_in: ['d002', 'd003'],
      evaluations: [{ id: 1, units: ['minzheng'], status: 'open', opened_at: 1 }],
      stats: {
        ...base.stats,
        evaluation: {
          evaluation: 1,
          turnout: { voted: 1, eligible: 2, by_venue: [{ venue: 'baiyu', voted: 1, eligible: 2 }] },
          ballots_by_unit: [{ unit: 'minzheng', ballots: 1 }],
          not_voted: ['d003'],
        },
      },
    });
    const line = await waitFor(() => {
      const el = document.querySelector('[data-not-voted]');
      if (!el) throw new Error('no list');
      return el;
    });
    expect(line.textContent).toBe('尚未参评（请提醒）：孙丽');
  });
});

describe('undoing a check-in made by mistake', () => {
  it('the operator takes it back with a reason; the roster follows the change', async () => {
    const { ws } = open({
      you: OPERATOR,
      session: { ...base.session, phase: 'check_in' },
      delegates: [{ id: 'd002', name: '钱秀英', level: 'township', venue: 'baiyu' }],
      checked_in: ['d002'],
    });
    const prompt = window.prompt;
    window.prompt = () => '点错了人';
    try {
      fireEvent.click(await screen.findByRole('button', { name: '撤销签到 钱秀英' }));
    } finally {
      window.prompt = prompt;
    }
    await waitFor(() => expect(ws.lastSent('undo_check_in')).toMatchObject({ delegate: 'd002', reason: '点错了人' }));
    ws.receive(event(11, 'check_in_undone', [{ entity: 'check_in_undone', delegate: 'd002', venue: 'baiyu', reason: '点错了人' }]));
    await waitFor(() => expect(screen.getByRole('button', { name: '签到 钱秀英' })).toBeTruthy());
  });
});
