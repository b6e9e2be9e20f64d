import { describe, expect, it } from 'vitest';
import type { DelegateDto, ErrorDto, LimitsDto, QuestionDto } from '../protocol.ts';
import { question, snapshot, stats } from '../lib/fixtures.test-util.ts';
import { applyChange, applySnapshot } from '../lib/state.ts';
import { men, mzh } from './i18n.ts';
import {
  answerCommand,
  cellView,
  checkText,
  defaultEvaluationUnits,
  describeError,
  displayedQueue,
  dropTarget,
  emptyAnswer,
  emptyFilter,
  documentKey,
  documentList,
  documentPath,
  downloadName,
  EXPORT_TABLES,
  exportPath,
  filterInbox,
  floorCandidates,
  formatAgo,
  harmlessFailure,
  inboxCounts,
  isValidDue,
  mergeTargets,
  missingAnswers,
  moveBefore,
  moveBy,
  nextPhase,
  parseSeconds,
  phaseBlockers,
  shortVenueNames,
  STALE_MS,
  suggestedVenue,
  turnoutPct,
  validateAnswer,
  venueHealth,
  type AnswerDraft,
  openFacts,
  unaskedQuestions,
} from './logic.ts';

const LIMITS: LimitsDto = {
  question_chars: 500,
  reason_chars: 200,
  answer_chars: 4000,
  short_chars: 100,
  questions_per_delegate: 10,
  follow_ups_per_item: 20,
  commitments_per_answer: 2,
  answer_seconds: 300,
  max_answer_seconds: 3600,
  due_soon_days: 7,
};
const UNITS = [{ id: 'minzheng' }, { id: 'weijian' }];

const delegates: DelegateDto[] = [
  { id: 'd001', name: '赵安华', level: 'county', venue: 'main' },
  { id: 'd002', name: '钱秀英', level: 'township', venue: 'baiyu' },
  { id: 'd003', name: '孙立新', level: 'street_deliberation', venue: 'baiyu' },
];

describe('phases', () => {
  it('moves strictly forward and stops at closed', () => {
    expect(nextPhase('preparing')).toBe('check_in');
    expect(nextPhase('evaluation')).toBe('closed');
    expect(nextPhase('closed')).toBeNull();
  });
  it('names what blocks a phase change', () => {
    expect(phaseBlockers({ floor: null, evaluations: [] })).toEqual([]);
    expect(
      phaseBlockers({
        floor: { question: 1, venue: 'baiyu', granted_at: 0, countdown_started_at: 0, countdown_seconds: 300 },
        evaluations: [{ id: 1, units: ['minzheng'], status: 'open', opened_at: 0 }],
      }),
    ).toEqual(['floor', 'evaluation']);
  });
});

describe('inbox filters', () => {
  const qs = [
    question(1, { status: 'pending', venues: ['baiyu'], askers: ['d002'], topic: 'policy', unit: 'minzheng', submitted_at: 30, text: '助餐点何时覆盖？' }),
    question(2, { status: 'pending', venues: ['main'], askers: ['d001'], topic: 'service', unit: 'weijian', submitted_at: 10, seconds: 0 }),
    question(3, { status: 'approved', venues: ['baiyu'], askers: ['d003'], topic: 'policy', unit: 'weijian', submitted_at: 20, seconds: 4 }),
    question(4, { status: 'approved', venues: ['main', 'baiyu'], askers: ['d001', 'd002'], submitted_at: 5, seconds: 1 }),
    question(5, { status: 'rejected', venues: ['main'], askers: ['d001'], reject_reason: '重复' }),
    question(6, { status: 'merged', venues: ['baiyu'], askers: ['d002'], merged_into: 1 }),
    question(7, { status: 'queued' }),
  ];

  it('counts each status view', () => {
    expect(inboxCounts(qs)).toEqual({ pending: 2, approved: 2, done: 2, all: 7 });
  });

  it('lists the pending questions, oldest first', () => {
    expect(filterInbox(qs, emptyFilter, delegates).map((q) => q.id)).toEqual([2, 1]);
  });

  it('filters by venue (any of the question’s venues), topic and unit', () => {
    const f = { ...emptyFilter, view: 'all' as const, venue: 'baiyu' };
    expect(filterInbox(qs, f, delegates).map((q) => q.id)).toEqual([4, 3, 1, 6, 7]);
    expect(filterInbox(qs, { ...f, topic: 'policy', unit: 'weijian' }, delegates).map((q) => q.id)).toEqual([3]);
  });

  it('filters by the level of any asker', () => {
    const f = { ...emptyFilter, view: 'all' as const, level: 'township' as const };
    expect(filterInbox(qs, f, delegates).map((q) => q.id).sort()).toEqual([1, 4, 6]);
    expect(filterInbox(qs, { ...f, level: 'province' }, delegates)).toEqual([]);
    // Without askers (not visible), a level filter matches nothing.
    expect(filterInbox([question(9, { status: 'pending' })], { ...emptyFilter, level: 'county' }, delegates)).toEqual([]);
  });

  it('searches the text, the number and the askers’ names', () => {
    expect(filterInbox(qs, { ...emptyFilter, text: '助餐' }, delegates).map((q) => q.id)).toEqual([1]);
    expect(filterInbox(qs, { ...emptyFilter, text: '赵安华' }, delegates).map((q) => q.id)).toEqual([2]);
    expect(filterInbox(qs, { ...emptyFilter, view: 'approved', text: '3' }, delegates).map((q) => q.id)).toEqual([3]);
  });

  it('sorts by seconds, most first', () => {
    expect(filterInbox(qs, { ...emptyFilter, view: 'approved', sort: 'seconds' }, delegates).map((q) => q.id)).toEqual([3, 4]);
  });

  it('offers only allowed merge targets, likely duplicates first', () => {
    const pending = qs[0];
    expect(mergeTargets(pending, qs).map((q) => q.id)).toEqual([4, 7, 3, 2]);
    // An approved (public) question only into a public one.
    expect(mergeTargets(qs[2], qs).map((q) => q.id)).toEqual([4, 7]);
    expect(mergeTargets(qs[4], qs)).toEqual([]);
  });
});

describe('queue reordering', () => {
  const order = [1, 2, 3, 4];
  it('moves up and down, clamped', () => {
    expect(moveBy(order, 3, -1)).toEqual([1, 3, 2, 4]);
    expect(moveBy(order, 3, 1)).toEqual([1, 2, 4, 3]);
    expect(moveBy(order, 1, -1)).toBe(order);
    expect(moveBy(order, 4, 1)).toBe(order);
    expect(moveBy(order, 9, 1)).toBe(order);
  });
  it('drops before a row or at the end', () => {
    expect(moveBefore(order, 4, 1)).toEqual([4, 1, 2, 3]);
    expect(moveBefore(order, 1, null)).toEqual([2, 3, 4, 1]);
    expect(moveBefore(order, 2, 3)).toBe(order); // already there
    expect(moveBefore(order, 2, 2)).toBe(order);
  });
  it('maps a drop on a row’s half to the row it lands before', () => {
    expect(dropTarget(order, 2, false)).toBe(2);
    expect(dropTarget(order, 2, true)).toBe(3);
    expect(dropTarget(order, 4, true)).toBeNull();
    expect(moveBefore(order, 1, dropTarget(order, 3, true))).toEqual([2, 3, 1, 4]);
  });
  it('shows a pending order only while it matches the server’s queue', () => {
    expect(displayedQueue([1, 2, 3], [3, 1, 2])).toEqual([3, 1, 2]);
    expect(displayedQueue([1, 2, 3, 4], [3, 1, 2])).toEqual([1, 2, 3, 4]); // a question was queued meanwhile
    expect(displayedQueue([1, 2], null)).toEqual([1, 2]);
  });
});

describe('the floor', () => {
  it('lists the queue in order, then approved questions', () => {
    const state = {
      questions: [question(1, { status: 'approved' }), question(2, { status: 'queued' }), question(3, { status: 'queued' }), question(4, { status: 'answered' })],
      queue: [3, 2],
    };
    expect(floorCandidates(state).map((q) => q.id)).toEqual([3, 2, 1]);
  });
  it('suggests the venue that asked for the floor', () => {
    const q = question(1, { venues: ['main', 'baiyu'] });
    expect(suggestedVenue(q, [])).toBe('main');
    expect(suggestedVenue(q, [{ question: 1, venue: 'baiyu' }])).toBe('baiyu');
    expect(suggestedVenue(q, [{ question: 2, venue: 'qiaotou' }])).toBe('main');
  });
  it('names the missing answers (一问再问)', () => {
    const answer = { unit: 'minzheng', official: '王', summary: '好', commitments: [], at: 1 };
    const fu = (id: number, answered: boolean) => ({ id, venue: 'baiyu', text: 't', by_operator: false, at: 1, ...(answered ? { answer } : {}) });
    expect(missingAnswers(question(1, { follow_ups: [fu(1, false)] }))).toEqual([{ kind: 'question' }, { kind: 'follow_up', id: 1 }]);
    expect(missingAnswers(question(1, { answer, follow_ups: [fu(1, true), fu(2, false)] }))).toEqual([{ kind: 'follow_up', id: 2 }]);
    expect(missingAnswers(question(1, { answer }))).toEqual([]);
  });
});

describe('countdown seconds and texts', () => {
  it('accepts whole seconds in 1…max', () => {
    expect(parseSeconds('300', 3600)).toBe(300);
    expect(parseSeconds(' 1 ', 3600)).toBe(1);
    expect(parseSeconds('0', 3600)).toBeNull();
    expect(parseSeconds('3601', 3600)).toBeNull();
    expect(parseSeconds('12.5', 3600)).toBeNull();
    expect(parseSeconds('-5', 3600)).toBeNull();
    expect(parseSeconds('', 3600)).toBeNull();
  });
  it('counts characters as the server does (trimmed, by code point)', () => {
    expect(checkText('  ', 10)).toBe('empty');
    expect(checkText('𠀀𠀀', 2)).toBeNull();
    expect(checkText('𠀀𠀀𠀀', 2)).toBe('tooLong');
  });
});

describe('answer form validation', () => {
  const ok: AnswerDraft = {
    unit: 'minzheng',
    official: ' 县民政局局长 王建华 ',
    summary: '年底覆盖率达到八成。',
    commitments: [{ what: '实现全覆盖', unit: 'minzheng', due: '2026-12-31' }],
  };
  it('accepts a complete answer and builds the command (trimmed)', () => {
    expect(validateAnswer(ok, LIMITS, UNITS)).toEqual({});
    expect(answerCommand(ok)).toEqual({
      type: 'record_answer',
      unit: 'minzheng',
      official: '县民政局局长 王建华',
      summary: '年底覆盖率达到八成。',
      commitments: [{ what: '实现全覆盖', unit: 'minzheng', due: '2026-12-31' }],
    });
    expect(answerCommand(ok, 3)).toMatchObject({ follow_up: 3 });
    expect(answerCommand(emptyAnswer('weijian')).commitments).toEqual([]);
  });
  it('marks every bad field', () => {
    const bad: AnswerDraft = {
      unit: '',
      official: 'x'.repeat(101),
      summary: ' ',
      commitments: [
        { what: '', unit: 'nope', due: '2026-02-30' },
        { what: 'ok', unit: 'weijian', due: '' },
        { what: 'ok', unit: 'weijian', due: '2026-01-01' },
      ],
    };
    expect(validateAnswer(bad, LIMITS, UNITS)).toEqual({
      unit: 'noUnit',
      official: 'tooLong',
      summary: 'empty',
      commitments: 'tooMany',
      'c0.what': 'empty',
      'c0.unit': 'noUnit',
      'c0.due': 'badDate',
      'c1.due': 'empty',
    });
  });
  it('knows real dates in 2000–2999', () => {
    expect(isValidDue('2026-12-31')).toBe(true);
    expect(isValidDue('2028-02-29')).toBe(true);
    expect(isValidDue('2100-02-29')).toBe(false);
    expect(isValidDue('2000-02-29')).toBe(true);
    expect(isValidDue('1999-12-31')).toBe(false);
    expect(isValidDue('3000-01-01')).toBe(false);
    expect(isValidDue('2026-13-01')).toBe(false);
    expect(isValidDue('2026-4-1')).toBe(false);
  });
});

describe('venue health', () => {
  const base = applySnapshot(
    snapshot(10, {
      you: { role: 'moderator', name: '主会场', venue: 'main' },
      stats: stats(10, {
        venues: [
          { venue: 'main', present: 1, roster: 1, connections: 2, last_seen: 1_000_000 } as never,
          { venue: 'baiyu', present: 1, roster: 2, connections: 0 },
        ],
      }),
    }),
  );

  it('flags no connection, and a heartbeat older than 60 s', () => {
    const fresh = venueHealth(base, 1_000_000 + STALE_MS);
    expect(fresh.map((r) => [r.venue, r.problem, r.agoMs])).toEqual([
      ['main', null, STALE_MS],
      ['baiyu', 'no_connection', undefined],
    ]);
    expect(venueHealth(base, 1_000_000 + STALE_MS + 1)[0].problem).toBe('stale');
  });

  it('treats last_seen and connections as optional', () => {
    const plain = { ...base, stats: { ...base.stats, venues: [{ venue: 'main', present: 0, roster: 1 }] } };
    const rows = venueHealth(plain, 5);
    expect(rows[0]).toMatchObject({ venue: 'main', problem: null, connections: undefined, lastSeen: undefined });
    expect(rows[1]).toMatchObject({ venue: 'baiyu', present: 0, roster: 0, problem: null });
  });

  it('adds the current evaluation’s turnout per venue', () => {
    const withEval = {
      ...base,
      stats: { ...base.stats, evaluation: { evaluation: 1, turnout: { voted: 1, eligible: 2, by_venue: [{ venue: 'baiyu', voted: 1, eligible: 1 }] }, ballots_by_unit: [] } },
    };
    expect(venueHealth(withEval, 0)[1].turnout).toEqual({ voted: 1, eligible: 1 });
  });

  it('keeps connections and last_seen across a presence change', () => {
    const next = applyChange(base, { entity: 'presence', venue: 'main', present: 1, roster: 1 });
    expect(next.stats.venues[0]).toMatchObject({ connections: 2, last_seen: 1_000_000 });
  });

  it('says how long ago, in words', () => {
    expect(formatAgo(0, mzh.health)).toBe('0 秒前');
    expect(formatAgo(59_999, mzh.health)).toBe('59 秒前');
    expect(formatAgo(119_000, mzh.health)).toBe('119 秒前');
    expect(formatAgo(185_000, mzh.health)).toBe('3 分钟前');
    expect(formatAgo(3 * 3600_000, mzh.health)).toBe('3 小时前');
    expect(formatAgo(-5, men.health)).toBe('0 s ago');
  });

  it('shortens sub-venue names by their common suffix', () => {
    const names = shortVenueNames([
      { id: 'main', name: '县人大代表联络站主会场', kind: 'main' },
      { id: 'baiyu', name: '白羽街道人大代表联络站', kind: 'sub' },
      { id: 'dinghe', name: '丁河镇人大代表联络站', kind: 'sub' },
    ]);
    expect([...names.values()]).toEqual(['县人大代表联络站主会场', '白羽街道', '丁河镇']);
    // One sub-venue, or nothing left: unchanged.
    expect(shortVenueNames([{ id: 'a', name: '甲分会场', kind: 'sub' }]).get('a')).toBe('甲分会场');
    expect([...shortVenueNames([{ id: 'a', name: '分会场', kind: 'sub' }, { id: 'b', name: '乙分会场', kind: 'sub' }]).values()]).toEqual(['分会场', '乙分会场']);
  });
});

describe('errors in words', () => {
  const codes = { invalid_state: '当前状态下不能进行此操作', forbidden: '无权进行此操作' } as Record<string, string>;
  const err = (code: ErrorDto['code']) => ({ code });

  it('prefers the command’s own wording, else the code’s', () => {
    expect(describeError({ type: 'reorder_queue', order: [1] }, err('invalid_state'), mzh, codes)).toContain('排队顺序已被更新');
    expect(describeError({ type: 'approve_question', question: 1 }, err('forbidden'), mzh, codes)).toBe('无权进行此操作');
    expect(describeError({ type: 'ping' }, err('limit'), mzh, {})).toBe('limit');
  });

  it('names what is missing when ending the floor is refused', () => {
    const state = applySnapshot(
      snapshot(5, {
        you: { role: 'moderator', name: '主会场', venue: 'main' },
        questions: [question(1, { status: 'on_floor', follow_ups: [{ id: 2, venue: 'baiyu', text: '追问', by_operator: false, at: 1 }] })],
        floor: { question: 1, venue: 'baiyu', granted_at: 0, countdown_started_at: 0, countdown_seconds: 300 },
      }),
    );
    const text = describeError({ type: 'end_floor' }, err('invalid_state'), mzh, codes, state);
    expect(text).toContain('不能结束本项');
    expect(text).toContain('尚未记录答复：问题的答复、追问 2 的答复');
  });

  it('treats closing a closed evaluation as done', () => {
    expect(harmlessFailure({ type: 'close_evaluation', evaluation: 1 }, err('already_done'))).toBe(true);
    expect(harmlessFailure({ type: 'close_evaluation', evaluation: 1 }, err('not_found'))).toBe(false);
    expect(harmlessFailure({ type: 'approve_question', question: 1 }, err('already_done'))).toBe(false);
  });
});

describe('evaluation numbers', () => {
  it('shows suppressed cells as "<3", empty ones as empty', () => {
    expect(cellView({ satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 2, suppressed: true })).toEqual({ kind: 'suppressed', total: 2 });
    expect(cellView({ satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 })).toEqual({ kind: 'empty' });
    expect(cellView(undefined)).toEqual({ kind: 'empty' });
    const c = { satisfied: 1, basically_satisfied: 1, dissatisfied: 1, total: 3, satisfaction_rate_bp: 6667 };
    expect(cellView(c)).toEqual({ kind: 'counts', counts: c, rate: '66.67%' });
  });
  it('formats turnout', () => {
    expect(turnoutPct(3, 5)).toBe('60.0%');
    expect(turnoutPct(0, 0)).toBe('—');
  });
  it('preselects the units that answered, else all', () => {
    const s = applySnapshot(snapshot(1));
    expect(defaultEvaluationUnits(s)).toEqual(['minzheng', 'weijian']);
    const answered = { ...s, questions: [question(1, { answer: { unit: 'weijian', official: 'a', summary: 'b', commitments: [], at: 1 } })] };
    expect(defaultEvaluationUnits(answered)).toEqual(['weijian']);
  });
});

describe('documents and spreadsheets', () => {
  it('lists the bulletin, the report and a letter per unit, in definition order', () => {
    const docs = documentList([{ id: 'minzheng' }, { id: 'weijian' }]);
    expect(docs.map(documentKey)).toEqual(['bulletin', 'resultsReport', 'letter:minzheng', 'letter:weijian']);
    expect(documentList([])).toEqual([{ kind: 'bulletin' }, { kind: 'resultsReport' }]);
  });
  it('builds the paths', () => {
    expect(documentPath('xixia-2026', { kind: 'bulletin' }, 'pdf')).toBe('/api/sessions/xixia-2026/documents/bulletin.pdf');
    expect(documentPath('xixia-2026', { kind: 'resultsReport' }, 'html')).toBe('/api/sessions/xixia-2026/documents/results-report.html');
    expect(documentPath('a b', { kind: 'letter', unit: 'min/zheng' }, 'html')).toBe('/api/sessions/a%20b/documents/letters/min%2Fzheng.html');
    expect(exportPath('xixia-2026', 'results', 'csv')).toBe('/api/sessions/xixia-2026/export/results.csv');
    expect(exportPath('xixia-2026', 'assignments', 'xlsx')).toBe('/api/sessions/xixia-2026/export/assignments.xlsx');
    expect(EXPORT_TABLES).toEqual(['questions', 'answers', 'results', 'assignments']);
  });
  it('takes the file name from Content-Disposition when given', () => {
    expect(downloadName(null, 's-results.csv')).toBe('s-results.csv');
    expect(downloadName('attachment; filename="x-results.csv"', 'f')).toBe('x-results.csv');
    expect(downloadName("attachment; filename=a.csv; filename*=UTF-8''%E4%BA%A4%E5%8A%9E.csv", 'f')).toBe('交办.csv');
    expect(downloadName("inline; filename*=UTF-8''%E0%A4%A", 'fallback.pdf')).toBe('fallback.pdf');
  });
});

describe('before opening a round and before the evaluation phase', () => {
  const units = [
    { id: 'minzheng', name: '县民政局' },
    { id: 'weijian', name: '县卫生健康委员会' },
  ];
  const answered = (unit: string) => ({ unit, official: 'o', summary: 's', commitments: [], at: 1 });
  const q = (id: number, status: QuestionDto['status'], unit = 'minzheng') =>
    ({ id, status, unit, topic: 't', text: `问题${id}`, venues: ['main'], seconds: 0, follow_ups: [], submitted_at: 1, ...(status === 'answered' ? { answer: answered(unit) } : {}) }) as unknown as QuestionDto;

  it('does not tick a unit an earlier round already rated', () => {
    const state = { session: { units } as never, questions: [q(1, 'answered', 'minzheng'), q(2, 'answered', 'weijian')] };
    expect(defaultEvaluationUnits(state)).toEqual(['minzheng', 'weijian']);
    const after = { ...state, evaluations: [{ id: 1, units: ['minzheng', 'weijian'], status: 'closed', opened_at: 1 }] as never };
    expect(defaultEvaluationUnits(after)).toEqual([]);
  });

  it('says how many have checked in and which chosen units were rated before', () => {
    const stats = { venues: [{ venue: 'main', present: 0, roster: 10 }, { venue: 'baiyu', present: 0, roster: 5 }] } as never;
    const evaluations = [{ id: 1, units: ['minzheng'], status: 'closed', opened_at: 1 }] as never;
    expect(openFacts({ stats, evaluations }, ['minzheng', 'weijian'])).toEqual({ checkedIn: 0, roster: 15, again: ['minzheng'] });
  });

  it('lists the approved and queued questions never asked on the floor', () => {
    const qs = [q(1, 'answered'), q(2, 'approved'), q(3, 'queued'), q(4, 'pending'), q(5, 'rejected'), q(6, 'on_floor')];
    expect(unaskedQuestions(qs).map((x) => x.id)).toEqual([2, 3]);
  });
});


describe('the two directions of a merge read differently', () => {
  it('says "merged from" on the question that took others in, "merged into" on the one taken in', () => {
    expect(mzh.inbox.mergedFrom('第3号')).not.toContain('已并入');
    expect(mzh.inbox.mergedFrom('第3号')).toContain('合并自');
    expect(mzh.inbox.mergedInto(1)).toBe('本题已并入第1号问题');
    expect(men.inbox.mergedFrom('#3')).toContain('Merged from');
  });
});
