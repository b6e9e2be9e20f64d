// The follow-up after the session (交办清单): pure helpers shared by the
// office console, the units' workspace, the delegate page and the public
// progress page. No DOM, no I/O: unit-tested in followup.test.ts.
//
// Dates: deadlines are `YYYY-MM-DD` in the session's time zone; "today" is
// the date of the server's clock in that zone (the server's own rule, so the
// badges agree with the board's figures).

import type { CountsDto, ItemDto, ItemStatus, QuestionDto, SourceDto, TimeZoneDto } from '../protocol.ts';

/** Days before the deadline an item counts as "due soon" (the server's rule). */
export const DUE_SOON_DAYS = 7;

export const ITEM_STATUSES: readonly ItemStatus[] = ['draft', 'issued', 'in_handling', 'answered', 'rectified', 'closed'];

/** `YYYY-MM-DD` of the instant `ms` (Unix ms) in the session's zone. */
export function dateIn(tz: Pick<TimeZoneDto, 'utc_offset_minutes'>, ms: number): string {
  return new Date(ms + tz.utc_offset_minutes * 60_000).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (both `YYYY-MM-DD`; negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  const a = Date.parse(`${from}T00:00:00Z`);
  const b = Date.parse(`${to}T00:00:00Z`);
  return Math.round((b - a) / 86_400_000);
}

/** The date `days` after `date`. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Issued or in handling: the deadline still binds the unit. */
export function isPending(status: ItemStatus): boolean {
  return status === 'issued' || status === 'in_handling';
}

/** Answered, rectified or closed: what the rate counts, and when askers may rate. */
export function isResolved(status: ItemStatus): boolean {
  return status === 'answered' || status === 'rectified' || status === 'closed';
}

/** Past its deadline and not yet answered. */
export function isOverdue(item: Pick<ItemDto, 'status' | 'deadline' | 'merged_into'>, today: string): boolean {
  return item.merged_into === undefined && isPending(item.status) && item.deadline !== undefined && item.deadline < today;
}

/** Not overdue, still pending, and due within `days` days of today. */
export function isDueSoon(item: Pick<ItemDto, 'status' | 'deadline' | 'merged_into'>, today: string, days: number = DUE_SOON_DAYS): boolean {
  if (item.merged_into !== undefined || !isPending(item.status) || item.deadline === undefined) return false;
  const left = daysBetween(today, item.deadline);
  return left >= 0 && left <= days;
}

export type DeadlineState =
  | { kind: 'none' }
  | { kind: 'overdue'; days: number }
  | { kind: 'due_soon'; days: number }
  | { kind: 'ok'; days: number }
  /** Answered or later: the deadline no longer binds. */
  | { kind: 'done' };

/** What to show next to an item's deadline. */
export function deadlineState(item: Pick<ItemDto, 'status' | 'deadline' | 'merged_into'>, today: string, dueSoonDays: number = DUE_SOON_DAYS): DeadlineState {
  if (item.deadline === undefined) return { kind: 'none' };
  if (!isPending(item.status)) return item.status === 'draft' ? { kind: 'ok', days: daysBetween(today, item.deadline) } : { kind: 'done' };
  const days = daysBetween(today, item.deadline);
  if (isOverdue(item, today)) return { kind: 'overdue', days: -days };
  if (isDueSoon(item, today, dueSoonDays)) return { kind: 'due_soon', days };
  return { kind: 'ok', days };
}

/**
 * A unit's working order: pending items first, overdue before the rest,
 * then by deadline (none last), then by number; answered and rectified
 * next; closed last.
 */
export function byDeadline(today: string): (a: ItemDto, b: ItemDto) => number {
  const group = (i: ItemDto) => (isPending(i.status) ? (isOverdue(i, today) ? 0 : 1) : i.status === 'closed' ? 3 : 2);
  return (a, b) =>
    group(a) - group(b) ||
    (a.deadline ?? '9999-99-99').localeCompare(b.deadline ?? '9999-99-99') ||
    (a.number ?? a.id + 1e6) - (b.number ?? b.id + 1e6) ||
    a.id - b.id;
}

/** The extension request the office has not decided yet. */
export function pendingExtension(item: ItemDto): NonNullable<ItemDto['extensions']>[number] | undefined {
  const list = item.extensions ?? [];
  const last = list[list.length - 1];
  return last && last.granted === undefined ? last : undefined;
}

/** The reason of the last return (退回) if the item is back in handling because of it. */
export function lastReturn(item: ItemDto): string | undefined {
  const last = item.history[item.history.length - 1];
  return last && last.to === 'in_handling' && (last.from === 'answered' || last.from === 'rectified') && last.reason ? last.reason : undefined;
}

/** Does `unit` lead or co-handle the item? */
export function concerns(item: Pick<ItemDto, 'lead' | 'co_units'>, unit: string): boolean {
  return item.lead === unit || item.co_units.includes(unit);
}

/** The questions an item comes from (deduplicated, in source order). */
export function sourceQuestions(item: Pick<ItemDto, 'sources'>, questions: readonly QuestionDto[]): QuestionDto[] {
  const out: QuestionDto[] = [];
  for (const s of item.sources) {
    const q = questions.find((x) => x.id === s.question);
    if (q && !out.includes(q)) out.push(q);
  }
  return out;
}

/** The topic ids of an item (from its source questions). */
export function itemTopics(item: Pick<ItemDto, 'sources'>, questions: readonly QuestionDto[]): string[] {
  return [...new Set(sourceQuestions(item, questions).map((q) => q.topic))];
}

/** The askers' venues of an item (where the perspective sees them), else its source questions' venues. */
export function itemVenues(item: Pick<ItemDto, 'sources' | 'askers'>, questions: readonly QuestionDto[]): string[] {
  if (item.askers && item.askers.length > 0) return [...new Set(item.askers.map((a) => a.venue))];
  return [...new Set(sourceQuestions(item, questions).flatMap((q) => q.venues))];
}

/** What a source refers to on the floor: the question, and the answer / commitment / follow-up text. */
export interface SourceDetail {
  source: SourceDto;
  question?: QuestionDto;
  /** The commitment (承诺事项) for a commitment source. */
  commitment?: { what: string; unit: string; due: string };
  /** The follow-up's text for a follow-up (or a commitment made in a follow-up's answer). */
  followUp?: string;
  /** The answer given on the floor (to the question or to the follow-up). */
  answer?: { summary: string; official: string; unit: string };
}

export function sourceDetail(source: SourceDto, questions: readonly QuestionDto[]): SourceDetail {
  const question = questions.find((q) => q.id === source.question);
  const out: SourceDetail = { source, question };
  if (!question) return out;
  const fu = source.follow_up !== undefined ? question.follow_ups.find((f) => f.id === source.follow_up) : undefined;
  if (fu) out.followUp = fu.text;
  const answer = source.follow_up !== undefined ? fu?.answer : question.answer;
  if (answer) {
    out.answer = { summary: answer.summary, official: answer.official, unit: answer.unit };
    if (source.kind === 'commitment' && source.index !== undefined) {
      const c = answer.commitments[source.index];
      if (c) out.commitment = { what: c.what, unit: c.unit, due: c.due };
    }
  }
  return out;
}

/** (满意 + 基本满意) / total of follow-up ratings, in basis points; undefined when suppressed or empty. */
export function satisfactionBp(c: CountsDto): number | undefined {
  if (c.suppressed || c.total === 0) return undefined;
  if (c.satisfaction_rate_bp !== undefined) return c.satisfaction_rate_bp;
  return Math.floor(((c.satisfied + c.basically_satisfied) * 20_000 + c.total) / (2 * c.total));
}

/** `office` or `unit:<id>` → who, in words. */
export function actorName(by: string, unitName: (id: string) => string, officeName: string): string {
  if (by === 'office') return officeName;
  if (by.startsWith('unit:')) return unitName(by.slice(5));
  return by;
}

/** Human-readable file size in KB (one decimal below 10 KB). */
export function kilobytes(bytes: number): string {
  const kb = bytes / 1024;
  return kb < 10 ? kb.toFixed(1) : String(Math.round(kb));
}

// ---------------------------------------------------------------------------
// Filtering the office's list

export interface ItemFilter {
  /** Lead or co-handling unit ('' = any). */
  unit: string;
  /** '' = any. */
  status: ItemStatus | '';
  priority: ItemDto['priority'] | '';
  /** An asker's venue ('' = any). */
  venue: string;
  /** A source question's topic ('' = any). */
  topic: string;
  overdue: boolean;
  flagged: boolean;
  /** Only items with an extension request waiting for a decision. */
  extension: boolean;
}

export const EMPTY_FILTER: ItemFilter = { unit: '', status: '', priority: '', venue: '', topic: '', overdue: false, flagged: false, extension: false };

export function matchesFilter(item: ItemDto, f: ItemFilter, today: string, questions: readonly QuestionDto[]): boolean {
  if (f.unit && !concerns(item, f.unit)) return false;
  if (f.status && item.status !== f.status) return false;
  if (f.priority && item.priority !== f.priority) return false;
  if (f.overdue && !isOverdue(item, today)) return false;
  if (f.flagged && !item.flagged) return false;
  if (f.extension && !pendingExtension(item)) return false;
  if (f.venue && !itemVenues(item, questions).includes(f.venue)) return false;
  if (f.topic && !itemTopics(item, questions).includes(f.topic)) return false;
  return true;
}

/** Issued items (not drafts, not merged) matching the filter, in the office's order: flagged first, then by deadline. */
export function filterIssued(items: readonly ItemDto[], f: ItemFilter, today: string, questions: readonly QuestionDto[]): ItemDto[] {
  const order = byDeadline(today);
  return items
    .filter((i) => i.status !== 'draft' && i.merged_into === undefined && matchesFilter(i, f, today, questions))
    .sort((a, b) => Number(b.flagged) - Number(a.flagged) || Number(!!pendingExtension(b)) - Number(!!pendingExtension(a)) || order(a, b));
}

/** Drafts not merged into another, in id order. */
export function openDrafts(items: readonly ItemDto[]): ItemDto[] {
  return items.filter((i) => i.status === 'draft' && i.merged_into === undefined);
}

/** May the office archive the follow-up? Every issued item closed, and at least one issued. */
export function canArchive(items: readonly ItemDto[]): boolean {
  const issued = items.filter((i) => i.status !== 'draft' && i.merged_into === undefined);
  return issued.length > 0 && issued.every((i) => i.status === 'closed');
}
