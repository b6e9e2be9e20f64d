// The client-side session store: pure functions from (state, server message)
// to a new state. Never mutates its input, so signals see a new object on
// every change and the previous frame stays intact until the next one is
// complete (no blank flash on reconnect).
//
// Rule from docs/protocol.md §3: every change carries the new complete state
// of one entity; replace your copy by id, never patch or merge.

import type {
  AnnouncementDto,
  BallotDto,
  BoardDto,
  ChangeDto,
  CheckInRequestDto,
  DelegateDto,
  EvaluationDto,
  EventDto,
  FloorDto,
  FloorRequestDto,
  ItemDto,
  QuestionDto,
  ServerMessage,
  SessionInfoDto,
  SnapshotDto,
  StatsDto,
  VenueStatsDto,
  YouDto,
} from '../protocol.ts';

export interface SessionState {
  /** Highest sequence number applied (from a snapshot, event, ack or stats): resume from here. */
  seq: number;
  /**
   * The session's incarnation from the last snapshot (docs/protocol.md §3): a
   * resume names it with `seq`. Missing in a state cached by an older build;
   * such a state is shown but not resumed from.
   */
  epoch?: string;
  /** Server clock minus local clock (ms) at the last snapshot/stats. */
  clockOffset: number;
  protocol: number;
  you: YouDto;
  session: SessionInfoDto;
  /** Roster entries this viewer may see, in roster order. */
  delegates: DelegateDto[];
  /** Checked-in delegate id → check-in time (0 when only known from a snapshot). */
  checkedIn: Record<string, number>;
  /**
   * Pending check-in requests (policy `confirmed`) this viewer may see, by
   * delegate id. Missing in a state cached by an older build.
   */
  checkInRequests?: Record<string, CheckInRequestDto>;
  /**
   * Requests declined since this page loaded, by delegate id: the reason
   * (`''` when none was given). Cleared by a new request or a check-in.
   */
  checkInDeclined?: Record<string, string>;
  /** Questions this viewer may see, in id order. */
  questions: QuestionDto[];
  queue: number[];
  floorRequests: FloorRequestDto[];
  floor: FloorDto | null;
  /** Evaluations in id order. */
  evaluations: EvaluationDto[];
  /** The viewer's own ballots (a delegate's; nobody else receives one). */
  ballots: BallotDto[];
  /** Latest stats; presence changes are folded into `stats.venues`. */
  stats: StatsDto;
  /** Assignment items (交办事项) this viewer may see, in id order (drafts: the office only). */
  items: ItemDto[];
  /** The assignment board's figures (replaced whole by `board` changes). */
  board: BoardDto;
  /** Announcements (会场通知) in id order: the snapshot's last ones, then every change. */
  announcements: AnnouncementDto[];
}

/** Builds a fresh state from a snapshot: replaces everything. */
export function applySnapshot(snap: SnapshotDto, receivedAt: number = Date.now()): SessionState {
  const checkedIn: Record<string, number> = {};
  for (const id of snap.checked_in) checkedIn[id] = 0;
  const checkInRequests: Record<string, CheckInRequestDto> = {};
  for (const r of snap.check_in_requests ?? []) checkInRequests[r.delegate] = r;
  return {
    seq: Math.max(snap.seq, snap.stats?.seq ?? 0),
    epoch: snap.epoch,
    clockOffset: snap.server_time - receivedAt,
    protocol: snap.protocol,
    you: snap.you,
    session: snap.session,
    delegates: snap.delegates,
    checkedIn,
    checkInRequests,
    checkInDeclined: {},
    questions: [...snap.questions].sort((a, b) => a.id - b.id),
    queue: snap.queue,
    floorRequests: snap.floor_requests,
    floor: snap.floor ?? null,
    evaluations: [...snap.evaluations].sort((a, b) => a.id - b.id),
    ballots: snap.ballots,
    stats: snap.stats,
    items: [...(snap.items ?? [])].sort((a, b) => a.id - b.id),
    board: snap.board ?? emptyBoard(),
    announcements: [...(snap.announcements ?? [])].sort((a, b) => a.id - b.id),
  };
}

/** A board with nothing on it (before the server sent one). */
export function emptyBoard(): BoardDto {
  const zero = { satisfied: 0, basically_satisfied: 0, dissatisfied: 0, total: 0 };
  return {
    as_of: '',
    drafts: 0,
    overall: { issued: 0, waiting: 0, in_handling: 0, answered: 0, rectified: 0, closed: 0, overdue: 0, due_soon: 0, flagged: 0, ratings: zero },
    units: [],
  };
}

/**
 * Applies one event. Events with `seq <= state.seq` were already applied
 * (a duplicate, or covered by a snapshot) and return the same state object.
 */
export function applyEvent(state: SessionState, ev: EventDto): SessionState {
  if (ev.seq <= state.seq) return state;
  let next: SessionState = { ...state, seq: ev.seq };
  for (const change of ev.changes) next = applyChange(next, change);
  return next;
}

/** Applies one change entity (an upsert by id, or a whole-value replacement). */
export function applyChange(state: SessionState, change: ChangeDto): SessionState {
  switch (change.entity) {
    case 'phase':
      // At the close, check-in is over: unanswered requests lapse (as on the server).
      return {
        ...state,
        session: { ...state.session, phase: change.phase },
        ...(change.phase === 'closed' ? { checkInRequests: {} } : {}),
      };
    case 'roster':
      return { ...state, delegates: upsertAll(state.delegates, change.delegates, (d) => d.id) };
    case 'check_in':
      // A check-in settles the delegate's request, if there was one.
      return {
        ...state,
        checkedIn: { ...state.checkedIn, [change.delegate]: change.at },
        checkInRequests: without(state.checkInRequests, change.delegate),
        checkInDeclined: without(state.checkInDeclined, change.delegate),
      };
    case 'check_in_request':
      return {
        ...state,
        checkInRequests: { ...state.checkInRequests, [change.delegate]: { delegate: change.delegate, venue: change.venue, at: change.at } },
        checkInDeclined: without(state.checkInDeclined, change.delegate),
      };
    case 'check_in_declined':
      return {
        ...state,
        checkInRequests: without(state.checkInRequests, change.delegate),
        checkInDeclined: { ...state.checkInDeclined, [change.delegate]: change.reason ?? '' },
      };
    case 'check_in_undone': {
      const { [change.delegate]: _gone, ...checkedIn } = state.checkedIn;
      return { ...state, checkedIn };
    }
    case 'presence': {
      // Keep the staff-only fields the change does not carry (`connections`,
      // `last_seen`…) until the next stats message replaces them.
      const old = state.stats.venues.find((v) => v.venue === change.venue);
      const entry: VenueStatsDto = { ...old, venue: change.venue, present: change.present, roster: change.roster };
      return { ...state, stats: { ...state.stats, venues: upsert(state.stats.venues, entry, (v) => v.venue) } };
    }
    case 'question':
      return { ...state, questions: upsertSorted(state.questions, change.question) };
    case 'queue':
      return { ...state, queue: change.order };
    case 'floor_requests':
      return { ...state, floorRequests: change.requests };
    case 'floor':
      return { ...state, floor: change.floor };
    case 'evaluation':
      return { ...state, evaluations: upsertSorted(state.evaluations, change.evaluation) };
    case 'ballot':
      return {
        ...state,
        ballots: upsert(state.ballots, change.ballot, (b) => `${b.delegate}|${b.receipt.evaluation}|${b.receipt.unit}`),
      };
    case 'item':
      return { ...state, items: upsertSorted(state.items ?? [], change.item) };
    case 'board':
      return { ...state, board: change.board };
    case 'announcement':
      return { ...state, announcements: upsertSorted(state.announcements ?? [], change.announcement) };
    default:
      // An entity this client does not know (a newer server): ignore it.
      return state;
  }
}

/**
 * Stats are conflated: the latest wins. A stats message older than the one
 * we hold is ignored. It also advances `seq` (safe to resume from, §3).
 */
export function applyStats(state: SessionState, stats: StatsDto, receivedAt: number = Date.now()): SessionState {
  if (stats.seq < state.stats.seq) return state;
  return {
    ...state,
    seq: Math.max(state.seq, stats.seq),
    clockOffset: stats.server_time - receivedAt,
    stats,
  };
}

/** An ack's `seq` is safe to resume from: every event up to it was queued before the ack. */
export function noteSeq(state: SessionState, seq: number): SessionState {
  return seq > state.seq ? { ...state, seq } : state;
}

/**
 * Applies any server message. Before the first snapshot (`state` null), only
 * a snapshot can create a state; everything else is ignored.
 */
export function applyMessage(state: SessionState | null, msg: ServerMessage, receivedAt: number = Date.now()): SessionState | null {
  switch (msg.type) {
    case 'snapshot':
      return applySnapshot(msg, receivedAt);
    case 'event':
      return state ? applyEvent(state, msg) : state;
    case 'stats':
      return state ? applyStats(state, msg, receivedAt) : state;
    case 'ack':
      return state ? noteSeq(state, msg.seq) : state;
    default:
      return state;
  }
}

/** Where to resume from: the cached (epoch, seq), or null when the state cannot vouch for one. */
export function resumePosition(state: SessionState | null): { epoch: string; seq: number } | null {
  if (!state || typeof state.epoch !== 'string' || !/^[0-9a-f]{16}$/.test(state.epoch)) return null;
  if (!Number.isSafeInteger(state.seq) || state.seq < 0) return null;
  return { epoch: state.epoch, seq: state.seq };
}

// ---------------------------------------------------------------------------
// Selectors (pure; used by every page)

export function venueName(state: SessionState, id: string): string {
  return state.session.venues.find((v) => v.id === id)?.name ?? id;
}
export function unitName(state: SessionState, id: string): string {
  return state.session.units.find((u) => u.id === id)?.name ?? id;
}
export function topicName(state: SessionState, id: string): string {
  return state.session.topics.find((t) => t.id === id)?.name ?? id;
}
export function delegateName(state: SessionState, id: string): string {
  return state.delegates.find((d) => d.id === id)?.name ?? id;
}
export function questionById(state: SessionState, id: number): QuestionDto | undefined {
  return state.questions.find((q) => q.id === id);
}
export function floorQuestion(state: SessionState): QuestionDto | undefined {
  return state.floor ? questionById(state, state.floor.question) : undefined;
}
/** Public statuses: the question has been approved and everyone may see it. */
export const PUBLIC_STATUSES = ['approved', 'queued', 'on_floor', 'answered'] as const;
export function isPublic(q: QuestionDto): boolean {
  return (PUBLIC_STATUSES as readonly string[]).includes(q.status);
}
/** The evaluation to show: the open one, else the latest. */
export function currentEvaluation(state: SessionState): EvaluationDto | undefined {
  return state.evaluations.find((e) => e.status === 'open') ?? state.evaluations[state.evaluations.length - 1];
}
export function itemById(state: SessionState, id: number): ItemDto | undefined {
  return state.items.find((i) => i.id === id);
}
export function ballotFor(state: SessionState, evaluation: number, unit: string): BallotDto | undefined {
  return state.ballots.find((b) => b.receipt.evaluation === evaluation && b.receipt.unit === unit);
}
/** Checked in and on the roster, over every venue. */
export function presentTotals(state: Pick<SessionState, 'stats'>): { present: number; roster: number } {
  return state.stats.venues.reduce((a, v) => ({ present: a.present + v.present, roster: a.roster + v.roster }), { present: 0, roster: 0 });
}
export function venueStats(state: SessionState, venue: string): VenueStatsDto | undefined {
  return state.stats.venues.find((v) => v.venue === venue);
}
/** Public questions received / answered per venue (a question counts for each of its venues). */
export function questionCountsByVenue(state: SessionState): Map<string, { received: number; answered: number }> {
  const out = new Map<string, { received: number; answered: number }>();
  for (const v of state.session.venues) out.set(v.id, { received: 0, answered: 0 });
  for (const q of state.questions) {
    if (!isPublic(q)) continue;
    for (const v of q.venues) {
      const c = out.get(v) ?? { received: 0, answered: 0 };
      c.received += 1;
      if (q.status === 'answered') c.answered += 1;
      out.set(v, c);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------

function upsert<T>(list: T[], item: T, key: (t: T) => string): T[] {
  const k = key(item);
  const i = list.findIndex((x) => key(x) === k);
  if (i < 0) return [...list, item];
  const copy = list.slice();
  copy[i] = item;
  return copy;
}

function upsertAll<T>(list: T[], items: T[], key: (t: T) => string): T[] {
  let out = list;
  for (const item of items) out = upsert(out, item, key);
  return out;
}

function upsertSorted<T extends { id: number }>(list: T[], item: T): T[] {
  const i = list.findIndex((x) => x.id === item.id);
  if (i >= 0) {
    const copy = list.slice();
    copy[i] = item;
    return copy;
  }
  const copy = [...list, item];
  if (list.length > 0 && list[list.length - 1].id > item.id) copy.sort((a, b) => a.id - b.id);
  return copy;
}

/** `record` without `key` (a new object; `{}` for a missing record). */
function without<T>(record: Record<string, T> | undefined, key: string): Record<string, T> {
  const { [key]: _gone, ...rest } = record ?? {};
  return rest;
}
