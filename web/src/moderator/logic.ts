// Pure logic of the moderator console: inbox filters, queue reordering, the
// venue health board, form validation, error wording. No DOM, no signals:
// everything here is unit-tested (logic.test.ts).

import type {
  CommandDto,
  CommitmentDto,
  CountsDto,
  EvaluationDto,
  DelegateDto,
  ErrorDto,
  Level,
  LimitsDto,
  Phase,
  QuestionDto,
  VenueStatsDto,
} from '../protocol.ts';
import { presentTotals, type SessionState } from '../lib/state.ts';
import type { ModeratorMessages } from './i18n.ts';

// ---------------------------------------------------------------------------
// Phases

export const PHASES: readonly Phase[] = ['preparing', 'check_in', 'questioning', 'evaluation', 'closed'];

export function nextPhase(p: Phase): Phase | null {
  const i = PHASES.indexOf(p);
  return i >= 0 && i < PHASES.length - 1 ? PHASES[i + 1] : null;
}

/** Why the server would refuse to change the phase now (protocol §4 `advance_phase`). */
export function phaseBlockers(state: Pick<SessionState, 'floor' | 'evaluations'>): Array<'floor' | 'evaluation'> {
  const out: Array<'floor' | 'evaluation'> = [];
  if (state.floor) out.push('floor');
  if (state.evaluations.some((e) => e.status === 'open')) out.push('evaluation');
  return out;
}

// ---------------------------------------------------------------------------
// Inbox

export type InboxView = 'pending' | 'approved' | 'done' | 'all';
export const INBOX_VIEWS: readonly InboxView[] = ['pending', 'approved', 'done', 'all'];

export interface InboxFilter {
  view: InboxView;
  venue: string;
  topic: string;
  unit: string;
  level: Level | '';
  text: string;
  sort: 'time' | 'seconds';
}

export const emptyFilter: InboxFilter = { view: 'pending', venue: '', topic: '', unit: '', level: '', text: '', sort: 'time' };

export function inView(q: QuestionDto, view: InboxView): boolean {
  switch (view) {
    case 'pending':
      return q.status === 'pending';
    case 'approved':
      return q.status === 'approved';
    case 'done':
      return q.status === 'rejected' || q.status === 'merged';
    case 'all':
      return true;
  }
}

export function inboxCounts(questions: readonly QuestionDto[]): Record<InboxView, number> {
  const out: Record<InboxView, number> = { pending: 0, approved: 0, done: 0, all: questions.length };
  for (const q of questions) {
    if (q.status === 'pending') out.pending += 1;
    else if (q.status === 'approved') out.approved += 1;
    else if (q.status === 'rejected' || q.status === 'merged') out.done += 1;
  }
  return out;
}

/** Does `q` pass every filter except the status view? */
export function matchesFilter(q: QuestionDto, f: InboxFilter, delegates: ReadonlyMap<string, DelegateDto>): boolean {
  if (f.venue && !q.venues.includes(f.venue)) return false;
  if (f.topic && q.topic !== f.topic) return false;
  if (f.unit && q.unit !== f.unit) return false;
  const askers = q.askers ?? [];
  if (f.level && !askers.some((a) => delegates.get(a)?.level === f.level)) return false;
  const needle = f.text.trim().toLowerCase();
  if (needle) {
    const hay = [q.text, q.original_text ?? '', String(q.id), ...askers.map((a) => delegates.get(a)?.name ?? a)].join('\n').toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}

/** The questions to list for a filter, sorted (oldest first, or most seconded first). */
export function filterInbox(questions: readonly QuestionDto[], f: InboxFilter, delegates: readonly DelegateDto[]): QuestionDto[] {
  const byId = new Map(delegates.map((d) => [d.id, d]));
  const out = questions.filter((q) => inView(q, f.view) && matchesFilter(q, f, byId));
  if (f.sort === 'seconds') out.sort((a, b) => b.seconds - a.seconds || a.submitted_at - b.submitted_at || a.id - b.id);
  else out.sort((a, b) => a.submitted_at - b.submitted_at || a.id - b.id);
  return out;
}

export function isFiltered(f: InboxFilter): boolean {
  return f.venue !== '' || f.topic !== '' || f.unit !== '' || f.level !== '' || f.text.trim() !== '';
}

const MERGEABLE = ['pending', 'approved', 'queued'];
const PUBLIC_MERGEABLE = ['approved', 'queued'];

/**
 * Questions `q` may be merged into (protocol §4 `merge_question`): another
 * pending, approved or queued question; a public one only into a public one.
 * Likely duplicates (same unit and topic) come first.
 */
export function mergeTargets(q: QuestionDto, questions: readonly QuestionDto[]): QuestionDto[] {
  if (!MERGEABLE.includes(q.status)) return [];
  const allowed = q.status === 'pending' ? MERGEABLE : PUBLIC_MERGEABLE;
  const score = (x: QuestionDto) => (x.unit === q.unit ? 2 : 0) + (x.topic === q.topic ? 1 : 0);
  return questions.filter((x) => x.id !== q.id && allowed.includes(x.status)).sort((a, b) => score(b) - score(a) || a.id - b.id);
}

// ---------------------------------------------------------------------------
// Queue

/** Moves `id` by `delta` places (clamped). Returns the same array when nothing moves. */
export function moveBy(order: readonly number[], id: number, delta: number): readonly number[] {
  const i = order.indexOf(id);
  if (i < 0) return order;
  const j = Math.max(0, Math.min(order.length - 1, i + delta));
  if (j === i) return order;
  const out = order.filter((x) => x !== id);
  out.splice(j, 0, id);
  return out;
}

/**
 * Moves `id` just before `beforeId` (or to the end when `beforeId` is null),
 * as a drop between rows does. Returns the same array when nothing moves.
 */
export function moveBefore(order: readonly number[], id: number, beforeId: number | null): readonly number[] {
  if (!order.includes(id) || id === beforeId) return order;
  const rest = order.filter((x) => x !== id);
  const at = beforeId === null ? rest.length : rest.indexOf(beforeId);
  if (at < 0) return order;
  rest.splice(at, 0, id);
  return sameOrder(rest, order) ? order : rest;
}

/** Where a drop on row `overId` lands: before it, or before the row after it when in its lower half. */
export function dropTarget(order: readonly number[], overId: number, lowerHalf: boolean): number | null {
  if (!lowerHalf) return overId;
  const i = order.indexOf(overId);
  return i >= 0 && i + 1 < order.length ? order[i + 1] : null;
}

export function sameOrder(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The same questions, possibly in another order (a pending reorder still applies). */
export function sameSet(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/** What the queue panel shows: the pending local order while it still matches the server's queue. */
export function displayedQueue(serverQueue: readonly number[], pending: readonly number[] | null): readonly number[] {
  return pending && sameSet(pending, serverQueue) ? pending : serverQueue;
}

/** Questions that may be put on the floor: the queue in order, then approved ones by id. */
export function floorCandidates(state: Pick<SessionState, 'questions' | 'queue'>): QuestionDto[] {
  const byId = new Map(state.questions.map((q) => [q.id, q]));
  const queued = state.queue.map((id) => byId.get(id)).filter((q): q is QuestionDto => !!q && q.status === 'queued');
  const approved = state.questions.filter((q) => q.status === 'approved');
  return [...queued, ...approved];
}

/** The venue to suggest for a question: one that requested the floor for it, else its first venue. */
export function suggestedVenue(q: QuestionDto, requests: ReadonlyArray<{ question: number; venue: string }>): string {
  const r = requests.find((x) => x.question === q.id && q.venues.includes(x.venue));
  return r?.venue ?? q.venues[0] ?? '';
}

// ---------------------------------------------------------------------------
// Venue health

/** A venue is flagged when its last heartbeat is older than this. */
export const STALE_MS = 60_000;

/** `stats.venues[]` with the heartbeat the server is adding (optional until every server sends it). */
export type VenueHealthDto = VenueStatsDto & { last_seen?: number };

export interface VenueHealthRow {
  venue: string;
  name: string;
  main: boolean;
  present: number;
  roster: number;
  connections?: number;
  lastSeen?: number;
  /** Milliseconds since the last heartbeat (server clock), if known. */
  agoMs?: number;
  problem: 'no_connection' | 'stale' | null;
  turnout?: { voted: number; eligible: number };
}

export function venueHealth(state: Pick<SessionState, 'session' | 'stats'>, serverNowMs: number): VenueHealthRow[] {
  const byVenue = new Map(state.stats.venues.map((v) => [v.venue, v as VenueHealthDto]));
  const turnout = new Map((state.stats.evaluation?.turnout.by_venue ?? []).map((t) => [t.venue, t]));
  return state.session.venues.map((v) => {
    const s = byVenue.get(v.id);
    const lastSeen = s?.last_seen;
    const agoMs = lastSeen !== undefined ? Math.max(0, serverNowMs - lastSeen) : undefined;
    let problem: VenueHealthRow['problem'] = null;
    if (s?.connections === 0) problem = 'no_connection';
    else if (agoMs !== undefined && agoMs > STALE_MS) problem = 'stale';
    const t = turnout.get(v.id);
    return {
      venue: v.id,
      name: v.name,
      main: v.kind === 'main',
      present: s?.present ?? 0,
      roster: s?.roster ?? 0,
      connections: s?.connections,
      lastSeen,
      agoMs,
      problem,
      turnout: t ? { voted: t.voted, eligible: t.eligible } : undefined,
    };
  });
}

/**
 * Short display names for a dense board: the suffix every sub-venue shares
 * (e.g. "人大代表联络站") is dropped when at least two share it and something
 * is left. The full name stays available (title, other panels).
 */
export function shortVenueNames(venues: ReadonlyArray<{ id: string; name: string; kind: string }>): Map<string, string> {
  const subs = venues.filter((v) => v.kind === 'sub').map((v) => Array.from(v.name));
  let suffix = 0;
  if (subs.length >= 2) {
    const min = Math.min(...subs.map((n) => n.length));
    while (suffix < min && subs.every((n) => n[n.length - 1 - suffix] === subs[0][subs[0].length - 1 - suffix])) suffix += 1;
    // Never eat a whole name.
    if (subs.some((n) => n.length - suffix < 1)) suffix = 0;
  }
  const out = new Map<string, string>();
  for (const v of venues) {
    const chars = Array.from(v.name);
    out.set(v.id, v.kind === 'sub' && suffix > 0 ? chars.slice(0, chars.length - suffix).join('') : v.name);
  }
  return out;
}

/** "N 秒前" / "N 分钟前" / "N 小时前". */
export function formatAgo(ms: number, m: ModeratorMessages['health']): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 120) return m.secondsAgo(s);
  if (s < 3600 * 2) return m.minutesAgo(Math.floor(s / 60));
  return m.hoursAgo(Math.floor(s / 3600));
}

// ---------------------------------------------------------------------------
// Validation

/** Characters as the server counts them (Unicode scalar values of the trimmed text). */
export function chars(text: string): number {
  return Array.from(text.trim()).length;
}

export type TextProblem = 'empty' | 'tooLong' | null;

export function checkText(text: string, max: number): TextProblem {
  const n = chars(text);
  if (n === 0) return 'empty';
  if (n > max) return 'tooLong';
  return null;
}

/** Whole seconds in 1…max, or null. */
export function parseSeconds(text: string, max: number): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 && n <= max ? n : null;
}

/** A real calendar date `YYYY-MM-DD` in 2000–2999 (protocol §4 `record_answer`). */
export function isValidDue(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 2000 || y > 2999 || mo < 1 || mo > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  return d <= days;
}

export interface CommitmentDraft {
  what: string;
  unit: string;
  due: string;
}

export interface AnswerDraft {
  unit: string;
  official: string;
  summary: string;
  commitments: CommitmentDraft[];
}

export function emptyAnswer(unit: string): AnswerDraft {
  return { unit, official: '', summary: '', commitments: [] };
}

export function emptyCommitment(unit: string): CommitmentDraft {
  return { what: '', unit, due: '' };
}

/** Field key → problem; an empty object means the draft can be sent. */
export type AnswerProblems = Record<string, 'empty' | 'tooLong' | 'badDate' | 'noUnit' | 'tooMany'>;

export function validateAnswer(d: AnswerDraft, limits: LimitsDto, units: ReadonlyArray<{ id: string }>): AnswerProblems {
  const out: AnswerProblems = {};
  const known = (u: string) => units.some((x) => x.id === u);
  if (!known(d.unit)) out.unit = 'noUnit';
  const off = checkText(d.official, limits.short_chars);
  if (off) out.official = off;
  const sum = checkText(d.summary, limits.answer_chars);
  if (sum) out.summary = sum;
  if (d.commitments.length > limits.commitments_per_answer) out.commitments = 'tooMany';
  d.commitments.forEach((c, i) => {
    const w = checkText(c.what, limits.short_chars);
    if (w) out[`c${i}.what`] = w;
    if (!known(c.unit)) out[`c${i}.unit`] = 'noUnit';
    if (c.due.trim() === '') out[`c${i}.due`] = 'empty';
    else if (!isValidDue(c.due)) out[`c${i}.due`] = 'badDate';
  });
  return out;
}

export function answerCommand(d: AnswerDraft, followUp?: number): Extract<CommandDto, { type: 'record_answer' }> {
  const commitments: CommitmentDto[] = d.commitments.map((c) => ({ what: c.what.trim(), unit: c.unit, due: c.due.trim() }));
  const base = { type: 'record_answer' as const, unit: d.unit, official: d.official.trim(), summary: d.summary.trim(), commitments };
  return followUp === undefined ? base : { ...base, follow_up: followUp };
}

/** Draft key of an answer form: the question itself, or one of its follow-ups. */
export function answerKey(question: number, followUp?: number): string {
  return followUp === undefined ? `q${question}` : `q${question}f${followUp}`;
}

// ---------------------------------------------------------------------------
// The floor

export type Missing = { kind: 'question' } | { kind: 'follow_up'; id: number };

/** Answers still missing before `end_floor` is accepted (一问再问). */
export function missingAnswers(q: QuestionDto | undefined): Missing[] {
  if (!q) return [];
  const out: Missing[] = [];
  if (!q.answer) out.push({ kind: 'question' });
  for (const f of q.follow_ups) if (!f.answer) out.push({ kind: 'follow_up', id: f.id });
  return out;
}

export function describeMissing(missing: readonly Missing[], m: ModeratorMessages['errors']): string {
  return missing.map((x) => (x.kind === 'question' ? m.missingQuestion : m.missingFollowUp(x.id))).join('、');
}

// ---------------------------------------------------------------------------
// Errors

/**
 * The words for a failed command: a message specific to the command and code
 * when there is one, else the shared wording of the code. For `end_floor`,
 * what is still missing is named.
 */
export function describeError(
  cmd: CommandDto,
  error: Pick<ErrorDto, 'code'>,
  mm: ModeratorMessages,
  generic: Record<string, string>,
  state?: SessionState | null,
): string {
  const specific = mm.errors.byCommand[cmd.type]?.[error.code];
  let text = specific ?? generic[error.code] ?? error.code;
  if (cmd.type === 'end_floor' && error.code === 'invalid_state' && state) {
    const q = state.floor ? state.questions.find((x) => x.id === state.floor!.question) : undefined;
    const missing = missingAnswers(q);
    if (missing.length > 0) text = `${text} ${mm.errors.missing(describeMissing(missing, mm.errors))}`;
  }
  return text;
}

/** Is this failure really a success? Closing a closed evaluation is harmless (older servers say `already_done`). */
export function harmlessFailure(cmd: CommandDto, error: Pick<ErrorDto, 'code'>): boolean {
  return (cmd.type === 'close_evaluation' || cmd.type === 'advance_phase') && error.code === 'already_done';
}

// ---------------------------------------------------------------------------
// Evaluation numbers

export type CellView = { kind: 'suppressed'; total: number } | { kind: 'empty' } | { kind: 'counts'; counts: CountsDto; rate: string };

/** How to show one count cell: suppressed small cells (fewer than 3 ballots) as "<3". */
export function cellView(c: CountsDto | undefined): CellView {
  if (!c || c.total === 0) return { kind: 'empty' };
  if (c.suppressed) return { kind: 'suppressed', total: c.total };
  return { kind: 'counts', counts: c, rate: formatBp(c.satisfaction_rate_bp) };
}

export function formatBp(bp: number | undefined): string {
  return bp === undefined ? '—' : `${(bp / 100).toFixed(2)}%`;
}

/** Turnout as a percentage with one decimal ("—" with nobody eligible). */
export function turnoutPct(voted: number, eligible: number): string {
  return eligible > 0 ? `${((voted / eligible) * 100).toFixed(1)}%` : '—';
}

/** Units to preselect when opening an evaluation: those that answered, else all. */
export function defaultEvaluationUnits(state: Pick<SessionState, 'questions' | 'session'> & Partial<Pick<SessionState, 'evaluations'>>): string[] {
  const answered = new Set<string>();
  for (const q of state.questions) {
    if (q.answer) answered.add(q.answer.unit);
    for (const f of q.follow_ups) if (f.answer) answered.add(f.answer.unit);
  }
  // A unit already rated in a round is not ticked again: a second round on
  // the same units is a deliberate choice, never a click on the defaults.
  const done = evaluatedUnits(state.evaluations ?? []);
  if (done.size > 0) return state.session.units.map((u) => u.id).filter((u) => answered.has(u) && !done.has(u));
  const ordered = state.session.units.map((u) => u.id).filter((u) => answered.has(u));
  return ordered.length > 0 ? ordered : state.session.units.map((u) => u.id);
}

/** Units some earlier round already rated (open or closed). */
export function evaluatedUnits(evaluations: readonly EvaluationDto[]): Set<string> {
  return new Set(evaluations.flatMap((e) => e.units));
}

/** The facts the moderator confirms before opening a round. */
export interface OpenFacts {
  checkedIn: number;
  roster: number;
  /** Chosen units an earlier round already rated. */
  again: string[];
}

export function openFacts(state: Pick<SessionState, 'stats' | 'evaluations'>, units: readonly string[]): OpenFacts {
  const { present: checkedIn, roster } = presentTotals(state);
  const done = evaluatedUnits(state.evaluations);
  return { checkedIn, roster, again: units.filter((u) => done.has(u)) };
}

/** Questions that will not be asked on the floor if the session moves on:
 * approved or queued, never on the floor. They become written-reply items. */
export function unaskedQuestions(questions: readonly QuestionDto[]): QuestionDto[] {
  return questions.filter((q) => q.status === 'approved' || q.status === 'queued');
}

// ---------------------------------------------------------------------------
// Documents and spreadsheets (文件与表格)

/** A printable document: the bulletin, the results report, or one unit's letter. */
export type DocumentRef = { kind: 'bulletin' } | { kind: 'resultsReport' } | { kind: 'letter'; unit: string };
export type DocumentFormat = 'html' | 'pdf';
/** The spreadsheet exports, as the server names them. */
export type ExportTable = 'questions' | 'answers' | 'results' | 'assignments';
export const EXPORT_TABLES: readonly ExportTable[] = ['questions', 'answers', 'results', 'assignments'];
export type ExportFormat = 'csv' | 'xlsx';

/** Every document of a session, in the order the panel lists them: one letter per unit of the definition. */
export function documentList(units: ReadonlyArray<{ id: string }>): DocumentRef[] {
  return [{ kind: 'bulletin' }, { kind: 'resultsReport' }, ...units.map((u) => ({ kind: 'letter' as const, unit: u.id }))];
}

export function documentPath(session: string, doc: DocumentRef, format: DocumentFormat): string {
  const s = encodeURIComponent(session);
  switch (doc.kind) {
    case 'bulletin':
      return `/api/sessions/${s}/documents/bulletin.${format}`;
    case 'resultsReport':
      return `/api/sessions/${s}/documents/results-report.${format}`;
    case 'letter':
      return `/api/sessions/${s}/documents/letters/${encodeURIComponent(doc.unit)}.${format}`;
  }
}

export function exportPath(session: string, table: ExportTable, format: ExportFormat): string {
  return `/api/sessions/${encodeURIComponent(session)}/export/${table}.${format}`;
}

/** The join cards of one venue (`null`: everyone's), from the credential sheet. */
export function cardsPath(session: string, venue: string | null): string {
  const base = `/api/sessions/${encodeURIComponent(session)}/cards`;
  return venue ? `${base}?venue=${encodeURIComponent(venue)}` : base;
}

/** A stable key for a download row (and its `data-doc` attribute). */
export function documentKey(doc: DocumentRef): string {
  return doc.kind === 'letter' ? `letter:${doc.unit}` : doc.kind;
}

/** The download's file name: from Content-Disposition (`filename*` first) when given, else `fallback`. */
export function downloadName(disposition: string | null, fallback: string): string {
  if (disposition) {
    const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
    if (star) {
      try {
        return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
      } catch {
        /* fall through */
      }
    }
    const plain = /filename\s*=\s*"?([^";]+)"?/.exec(disposition);
    if (plain) return plain[1].trim();
  }
  return fallback;
}
