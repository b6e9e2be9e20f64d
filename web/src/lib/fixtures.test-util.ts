// Test fixtures shaped like docs/protocol.md's examples.

import type { EventDto, ItemDto, QuestionDto, SnapshotDto, StatsDto } from '../protocol.ts';

/** The epoch of every fixture snapshot. */
export const EPOCH = '0123456789abcdef';

export function question(id: number, over: Partial<QuestionDto> = {}): QuestionDto {
  return {
    id,
    status: 'approved',
    topic: 'policy',
    unit: 'minzheng',
    text: `问题 ${id}`,
    venues: ['baiyu'],
    by_operator: false,
    submitted_at: 1_767_225_610_000 + id,
    seconds: 0,
    merged_from: [],
    follow_ups: [],
    ...over,
  };
}

export function stats(seq: number, over: Partial<StatsDto> = {}): StatsDto {
  return {
    seq,
    server_time: 1_767_225_600_000 + seq * 1000,
    venues: [
      { venue: 'main', present: 1, roster: 1 },
      { venue: 'baiyu', present: 1, roster: 2 },
    ],
    store_available: true,
    ...over,
  } as StatsDto;
}

export function snapshot(seq: number, over: Partial<SnapshotDto> = {}): { type: 'snapshot' } & SnapshotDto {
  return {
    type: 'snapshot',
    seq,
    epoch: EPOCH,
    server_time: 1_767_225_600_000 + seq * 1000,
    protocol: 1,
    you: { role: 'delegate', name: '钱秀英', venue: 'baiyu', delegate: 'd002' },
    session: {
      id: 'xixia-2026',
      title: '积极应对人口老龄化 加快发展养老服务 代表问政',
      theme: '积极应对人口老龄化 加快发展养老服务',
      phase: 'questioning',
      venues: [
        { id: 'main', name: '县人大代表联络站主会场', kind: 'main' },
        { id: 'baiyu', name: '白羽街道分会场', kind: 'sub' },
      ],
      units: [
        { id: 'minzheng', name: '县民政局' },
        { id: 'weijian', name: '县卫生健康委员会' },
      ],
      topics: [
        { id: 'policy', name: '养老政策' },
        { id: 'service', name: '养老服务' },
      ],
      limits: {
        question_chars: 500,
        reason_chars: 200,
        answer_chars: 4000,
        short_chars: 100,
        questions_per_delegate: 10,
        follow_ups_per_item: 20,
        commitments_per_answer: 20,
        answer_seconds: 300,
        max_answer_seconds: 3600,
        due_soon_days: 7,
      },
      time_zone: { name: 'Asia/Shanghai', utc_offset_minutes: 480 },
      check_in: 'operator',
    },
    delegates: [{ id: 'd002', name: '钱秀英', level: 'township', venue: 'baiyu' }],
    checked_in: ['d002'],
    check_in_requests: [],
    questions: [question(1)],
    queue: [],
    floor_requests: [],
    evaluations: [],
    ballots: [],
    items: [],
    announcements: [],
    board: {
      as_of: '2026-01-01',
      drafts: 0,
      overall: { issued: 0, waiting: 0, in_handling: 0, answered: 0, rectified: 0, closed: 0, overdue: 0, due_soon: 0, flagged: 0, ratings: { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 } },
      units: [],
    },
    stats: stats(seq),
    ...over,
  };
}

export function event(seq: number, kind: EventDto['kind'], changes: EventDto['changes']): { type: 'event' } & EventDto {
  return { type: 'event', seq, at: 1_767_225_600_000 + seq * 1000, kind, changes };
}

/** An assignment item (an issued one unless overridden). */
export function item(id: number, over: Partial<ItemDto> = {}): ItemDto {
  return {
    id,
    number: id,
    status: 'issued',
    priority: 'normal',
    lead: 'minzheng',
    co_units: [],
    requirement: `交办要求 ${id}`,
    deadline: '2026-01-20',
    sources: [{ kind: 'unasked', question: 1 }],
    askers: [{ venue: 'baiyu', delegate: 'd002' }],
    evidence: [],
    history: [{ from: 'draft', to: 'issued', at: 1_767_225_600_000, by: 'office' }],
    ratings: { counts: { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 } },
    flagged: false,
    ...over,
  };
}
