import { describe, expect, it } from 'vitest';
import type { QuestionDto } from '../protocol.ts';
import { item, question } from './fixtures.test-util.ts';
import {
  addDays,
  byDeadline,
  canArchive,
  concerns,
  dateIn,
  daysBetween,
  deadlineState,
  EMPTY_FILTER,
  filterIssued,
  isDueSoon,
  isOverdue,
  itemTopics,
  itemVenues,
  lastReturn,
  matchesFilter,
  openDrafts,
  pendingExtension,
  satisfactionBp,
  sourceDetail,
} from './followup.ts';
import { applyEvent, applySnapshot } from './state.ts';
import { event, snapshot } from './fixtures.test-util.ts';

const TODAY = '2026-01-10';

describe('dates in the session zone', () => {
  it('takes the date of the server clock in the zone, not UTC', () => {
    const shanghai = { utc_offset_minutes: 480 };
    // 2026-01-09 20:30 UTC is already 2026-01-10 04:30 in Shanghai.
    expect(dateIn(shanghai, Date.UTC(2026, 0, 9, 20, 30))).toBe('2026-01-10');
    expect(dateIn(shanghai, Date.UTC(2026, 0, 9, 15, 59))).toBe('2026-01-09');
    expect(dateIn({ utc_offset_minutes: -300 }, Date.UTC(2026, 0, 10, 3, 0))).toBe('2026-01-09');
  });

  it('counts whole days across months and years', () => {
    expect(daysBetween('2026-01-10', '2026-01-17')).toBe(7);
    expect(daysBetween('2026-01-10', '2026-01-09')).toBe(-1);
    expect(daysBetween('2025-12-31', '2026-03-01')).toBe(60);
    expect(addDays('2026-02-27', 2)).toBe('2026-03-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});

describe('overdue and due soon (the server rule)', () => {
  it('overdue: deadline before today while issued or in handling', () => {
    expect(isOverdue(item(1, { deadline: '2026-01-09' }), TODAY)).toBe(true);
    expect(isOverdue(item(1, { deadline: '2026-01-09', status: 'in_handling' }), TODAY)).toBe(true);
    expect(isOverdue(item(1, { deadline: TODAY }), TODAY)).toBe(false);
    // Answered late is not overdue any more; drafts never are.
    expect(isOverdue(item(1, { deadline: '2026-01-01', status: 'answered' }), TODAY)).toBe(false);
    expect(isOverdue(item(1, { deadline: '2026-01-01', status: 'draft' }), TODAY)).toBe(false);
    expect(isOverdue(item(1, { deadline: undefined }), TODAY)).toBe(false);
    expect(isOverdue(item(1, { deadline: '2026-01-01', merged_into: 2 }), TODAY)).toBe(false);
  });

  it('due soon: pending and due today up to 7 days ahead', () => {
    expect(isDueSoon(item(1, { deadline: TODAY }), TODAY)).toBe(true);
    expect(isDueSoon(item(1, { deadline: '2026-01-17' }), TODAY)).toBe(true);
    expect(isDueSoon(item(1, { deadline: '2026-01-18' }), TODAY)).toBe(false);
    expect(isDueSoon(item(1, { deadline: '2026-01-09' }), TODAY)).toBe(false);
    expect(isDueSoon(item(1, { deadline: '2026-01-12', status: 'rectified' }), TODAY)).toBe(false);
  });

  it('deadline state for the badges', () => {
    expect(deadlineState(item(1, { deadline: '2026-01-07' }), TODAY)).toEqual({ kind: 'overdue', days: 3 });
    expect(deadlineState(item(1, { deadline: '2026-01-12' }), TODAY)).toEqual({ kind: 'due_soon', days: 2 });
    expect(deadlineState(item(1, { deadline: '2026-02-12' }), TODAY)).toEqual({ kind: 'ok', days: 33 });
    expect(deadlineState(item(1, { deadline: '2026-01-07', status: 'closed' }), TODAY)).toEqual({ kind: 'done' });
    expect(deadlineState(item(1, { deadline: undefined }), TODAY)).toEqual({ kind: 'none' });
  });

  it('orders a unit’s work: overdue, pending by deadline, answered, closed', () => {
    const list = [
      item(1, { status: 'closed', deadline: '2026-01-01' }),
      item(2, { status: 'answered', deadline: '2026-01-02' }),
      item(3, { deadline: '2026-03-01' }),
      item(4, { deadline: undefined }),
      item(5, { deadline: '2026-01-05', status: 'in_handling' }),
      item(6, { deadline: '2026-01-11' }),
    ];
    expect([...list].sort(byDeadline(TODAY)).map((i) => i.id)).toEqual([5, 6, 3, 4, 2, 1]);
  });
});

describe('item details', () => {
  it('finds the extension waiting for the office, and the last return’s reason', () => {
    const ext = { until: '2026-02-01', reason: '选址', requested_at: 1 };
    expect(pendingExtension(item(1, { extensions: [ext] }))).toEqual(ext);
    expect(pendingExtension(item(1, { extensions: [{ ...ext, granted: true, decided_at: 2 }] }))).toBeUndefined();
    expect(pendingExtension(item(1))).toBeUndefined();
    const back = item(1, {
      status: 'in_handling',
      history: [
        { from: 'draft', to: 'issued', at: 1, by: 'office' },
        { from: 'issued', to: 'answered', at: 2, by: 'unit:minzheng' },
        { from: 'answered', to: 'in_handling', at: 3, by: 'office', reason: '未落实' },
      ],
    });
    expect(lastReturn(back)).toBe('未落实');
    expect(lastReturn(item(1))).toBeUndefined();
  });

  it('resolves sources to the question, the answer, the commitment and the follow-up', () => {
    const answer = { unit: 'minzheng', official: '局长', summary: '年底前建成', commitments: [{ what: '新建三个助餐点', unit: 'minzheng', due: '2026-12-31' }], at: 1 };
    const q: QuestionDto = question(7, {
      text: '助餐点？',
      answer,
      follow_ups: [{ id: 1, venue: 'baiyu', text: '补贴谁出？', by_operator: false, at: 2, answer: { ...answer, summary: '财政', commitments: [{ what: '出台补贴办法', unit: 'caizheng', due: '2026-06-30' }] } }],
    });
    const c = sourceDetail({ kind: 'commitment', question: 7, index: 0 }, [q]);
    expect(c.question?.text).toBe('助餐点？');
    expect(c.commitment).toEqual({ what: '新建三个助餐点', unit: 'minzheng', due: '2026-12-31' });
    const fc = sourceDetail({ kind: 'commitment', question: 7, follow_up: 1, index: 0 }, [q]);
    expect(fc.followUp).toBe('补贴谁出？');
    expect(fc.commitment?.what).toBe('出台补贴办法');
    expect(fc.answer?.summary).toBe('财政');
    expect(sourceDetail({ kind: 'answer', question: 7 }, [q]).answer?.summary).toBe('年底前建成');
    expect(sourceDetail({ kind: 'unasked', question: 99 }, [q]).question).toBeUndefined();
  });

  it('venues from the askers (or the questions), topics from the questions', () => {
    const qs = [question(1, { topic: 'policy', venues: ['main', 'baiyu'] }), question(2, { topic: 'funds', venues: ['zijin'] })];
    const it2 = item(1, { sources: [{ kind: 'unasked', question: 1 }, { kind: 'answer', question: 2 }] });
    expect(itemTopics(it2, qs)).toEqual(['policy', 'funds']);
    expect(itemVenues(it2, qs)).toEqual(['baiyu']);
    expect(itemVenues({ ...it2, askers: undefined }, qs)).toEqual(['main', 'baiyu', 'zijin']);
  });

  it('satisfaction of follow-up ratings: none for an empty or suppressed cell', () => {
    expect(satisfactionBp({ satisfied: 2, basically_satisfied: 1, dissatisfied: 1, total: 4 })).toBe(7500);
    expect(satisfactionBp({ satisfied: 1, basically_satisfied: 1, dissatisfied: 1, total: 3, satisfaction_rate_bp: 6667 })).toBe(6667);
    expect(satisfactionBp({ satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 2, suppressed: true })).toBeUndefined();
    expect(satisfactionBp({ satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 })).toBeUndefined();
  });
});

describe('the office’s filters', () => {
  const qs = [question(1, { topic: 'policy' }), question(2, { topic: 'funds', venues: ['zijin'] })];
  const items = [
    item(1, { lead: 'minzheng', priority: 'supervised', deadline: '2026-01-05' }),
    item(2, { lead: 'caizheng', co_units: ['minzheng'], sources: [{ kind: 'answer', question: 2 }], askers: [{ venue: 'zijin' }], flagged: true, status: 'answered' }),
    item(3, { lead: 'weijian', extensions: [{ until: '2026-03-01', reason: 'x', requested_at: 1 }] }),
    item(4, { status: 'draft', number: undefined }),
    item(5, { status: 'draft', number: undefined, merged_into: 4 }),
  ];

  it('filters by unit (lead or co-handling), status, priority, venue, topic, overdue, flagged, extension', () => {
    const ids = (f: Partial<typeof EMPTY_FILTER>) => filterIssued(items, { ...EMPTY_FILTER, ...f }, TODAY, qs).map((i) => i.id);
    expect(ids({})).toEqual([2, 3, 1]); // flagged first, then waiting extensions, then by deadline
    expect(ids({ unit: 'minzheng' })).toEqual([2, 1]);
    expect(ids({ status: 'answered' })).toEqual([2]);
    expect(ids({ priority: 'supervised' })).toEqual([1]);
    expect(ids({ venue: 'zijin' })).toEqual([2]);
    expect(ids({ topic: 'funds' })).toEqual([2]);
    expect(ids({ overdue: true })).toEqual([1]);
    expect(ids({ flagged: true })).toEqual([2]);
    expect(ids({ extension: true })).toEqual([3]);
    expect(ids({ unit: 'minzheng', overdue: true })).toEqual([1]);
    expect(matchesFilter(items[0], { ...EMPTY_FILTER, unit: 'caizheng' }, TODAY, qs)).toBe(false);
  });

  it('drafts and archiving', () => {
    expect(openDrafts(items).map((i) => i.id)).toEqual([4]);
    expect(canArchive(items)).toBe(false);
    expect(canArchive([item(1, { status: 'closed' }), item(2, { status: 'draft' })])).toBe(true);
    expect(canArchive([item(2, { status: 'draft' })])).toBe(false);
    expect(concerns(items[1], 'minzheng')).toBe(true);
    expect(concerns(items[1], 'weijian')).toBe(false);
  });
});

describe('the session store keeps items and the board', () => {
  it('takes them from the snapshot (in id order) and replaces them from events', () => {
    let s = applySnapshot(snapshot(5, { items: [item(3), item(1)] }));
    expect(s.items.map((i) => i.id)).toEqual([1, 3]);
    s = applyEvent(s, event(6, 'item_moved', [{ entity: 'item', item: item(1, { status: 'in_handling' }) }, { entity: 'item', item: item(2) }]));
    expect(s.items.map((i) => [i.id, i.status])).toEqual([
      [1, 'in_handling'],
      [2, 'issued'],
      [3, 'issued'],
    ]);
    const board = { ...s.board, as_of: '2026-01-11', drafts: 4 };
    s = applyEvent(s, event(7, 'item_drafted', [{ entity: 'board', board }]));
    expect(s.board).toEqual(board);
  });
});
