// Small components of the follow-up (交办事项) shared by the office console,
// the units' workspace, the delegate page and the public progress page.
// Text only: every user text is rendered as text.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { CommandDto, CountsDto, ErrorDto, EvidenceDto, ItemDto, ItemStatus, Priority, QuestionDto, SessionInfoDto } from '../protocol.ts';
export { WrongPage } from './ui.tsx';
import type { Connection } from './connection.ts';
import { downloadEvidence } from './files.ts';
import { actorName, deadlineState, kilobytes, sourceDetail } from './followup.ts';
import { t } from './i18n/index.ts';
import { ft } from './i18n/followup.ts';
export { pageOf } from './pages.ts';
import { commandLabel, errorText, notify } from './notices.ts';
import { newCommandId, type Outcome } from './outbox.ts';

// ---------------------------------------------------------------------------
// Commands whose outcome is shown next to the control that sent them

/** Ids of commands shown inline; every other failure becomes a notice (see `notifyOtherFailures`). */
export const inlineIds = new Set<string>();

/** Why a follow-up command was refused, in words (by command and stable code). */
export function describeFailure(cmd: CommandDto, error: Pick<ErrorDto, 'code'>): string {
  const e = ft().errors;
  const code = error.code;
  if (code === 'invalid_state' && cmd.type !== 'advance_phase' && cmd.type !== 'rate_item') return e.changed;
  switch (cmd.type) {
    case 'issue_item':
    case 'edit_draft':
    case 'draft_item':
    case 'decide_extension':
      if (code === 'invalid') return e[cmd.type];
      break;
    case 'request_extension':
      if (code === 'invalid') return e.request_extension;
      if (code === 'already_done') return e.extensionWaiting;
      if (code === 'forbidden') return e.notLead;
      break;
    case 'rate_item':
      if (code === 'already_done') return e.rated;
      if (code === 'invalid_state') return e.notYet;
      break;
    case 'advance_phase':
      if (code === 'invalid_state') return e.archiveOpen;
      break;
    case 'start_handling':
    case 'reply_item':
    case 'rectify_item':
      if (code === 'forbidden') return e.notLead;
      break;
  }
  const label = (ft().commands as Record<string, string>)[cmd.type] ?? commandLabel(cmd);
  return t().errors.failed(label, errorText(error));
}

/** For a page's `boot`: failures not shown inline become notices, so none is swallowed. */
export function notifyOtherFailures(conn: Connection): void {
  conn.outbox.onSettled((entry, outcome) => {
    if (outcome.ok || inlineIds.has(entry.id)) return;
    notify(describeFailure(entry.cmd, outcome.error), 'error', 10_000);
  });
}

export interface Command {
  /** Sends through the outbox; resolves with the outcome (never rejects). */
  run(cmd: CommandDto): Promise<Outcome>;
  /** Waiting in the outbox (to be sent, or for the answer). */
  busy: boolean;
  /** The words of the last failure, shown next to the control. */
  error: string | null;
  clear(): void;
}

export function useCommand(conn: Connection): Command {
  const [id, setId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const busy = id !== null && conn.outbox.entries.value.some((e) => e.id === id);
  return {
    busy,
    error,
    clear: () => setError(null),
    run(cmd) {
      const cid = newCommandId();
      inlineIds.add(cid);
      setId(cid);
      setError(null);
      return conn.send(cmd, cid).then((outcome) => {
        inlineIds.delete(cid);
        if (!outcome.ok) {
          const text = describeFailure(cmd, outcome.error);
          if (mounted.current) setError(text);
          else notify(text, 'error', 10_000);
        }
        return outcome;
      });
    },
  };
}

/** The inline failure (role=alert) or "sending…" of a command. */
export function CommandStatus({ cmd }: { cmd: Command }) {
  if (cmd.error) {
    return (
      <p class="cmd-error" role="alert">
        {cmd.error}
      </p>
    );
  }
  if (cmd.busy) return <p class="cmd-pending muted small" role="status">{t().common.sending}</p>;
  return null;
}

/** Names of the session's units, venues and topics. */
export interface Names {
  unit(id: string): string;
  venue(id: string): string;
  topic(id: string): string;
}

export function namesOf(session: SessionInfoDto): Names {
  return {
    unit: (id) => session.units.find((u) => u.id === id)?.name ?? id,
    venue: (id) => session.venues.find((v) => v.id === id)?.name ?? id,
    topic: (id) => session.topics.find((x) => x.id === id)?.name ?? id,
  };
}

/** `MM-DD HH:mm` (or with the year when not this year) in the viewer's locale. */
export function formatWhen(ms: number, locale: string): string {
  const d = new Date(ms);
  const sameYear = d.getFullYear() === new Date().getFullYear();
  return new Intl.DateTimeFormat(locale, {
    year: sameYear ? undefined : 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(d);
}

export function StatusTag({ status }: { status: ItemStatus }) {
  return (
    <span class={`tag item-status item-status-${status}`} data-status={status}>
      {ft().itemStatuses[status]}
    </span>
  );
}

export function PriorityTag({ priority }: { priority: Priority }) {
  if (priority !== 'supervised') return null;
  return <span class="tag tag-supervised">{ft().priorities.supervised}</span>;
}

/** The deadline with an overdue / due-soon badge; "due soon" is the session's `limits.due_soon_days`. */
export function Deadline({ item, today, dueSoonDays }: { item: Pick<ItemDto, 'status' | 'deadline' | 'merged_into'>; today: string; dueSoonDays: number }) {
  const m = ft();
  if (!item.deadline) return <span class="deadline muted">{m.noDeadline}</span>;
  const st = deadlineState(item, today, dueSoonDays);
  return (
    <span class="deadline" data-deadline={item.deadline} data-deadline-state={st.kind}>
      <span class="muted">{m.deadline}</span> <span class="mono">{item.deadline}</span>
      {st.kind === 'overdue' && <span class="badge badge-overdue">{m.overdue(st.days)}</span>}
      {st.kind === 'due_soon' && <span class="badge badge-due-soon">{st.days === 0 ? m.dueToday : m.dueSoon(st.days)}</span>}
    </span>
  );
}

/** Where an item comes from: the question(s), the answer on the floor, the commitment or the open follow-up. */
export function Sources({ item, questions, names }: { item: ItemDto; questions: readonly QuestionDto[]; names: Names }) {
  const m = t();
  const f = ft();
  return (
    <ul class="sources plain">
      {item.sources.map((s, i) => {
        const d = sourceDetail(s, questions);
        return (
          <li key={i} class="source" data-source-kind={s.kind} data-question={s.question}>
            <p class="source-head">
              <span class="tag">{m.common.questionNo(s.question)}</span> <span class="muted">{f.sourceKinds[s.kind]}</span>
              {d.question && (
                <span class="muted">
                  {' '}
                  · {names.topic(d.question.topic)} · {d.question.venues.map((v) => names.venue(v)).join('、')}
                </span>
              )}
            </p>
            {d.question && <p class="source-question pre">{d.question.text}</p>}
            {d.followUp !== undefined && (
              <p class="source-follow-up pre">
                <strong>{f.followUp}：</strong>
                {d.followUp}
              </p>
            )}
            {d.answer && (
              <p class="source-answer pre">
                <strong>{f.answerOnFloor}</strong>（{names.unit(d.answer.unit)} · {d.answer.official}）：{d.answer.summary}
              </p>
            )}
            {d.commitment && (
              <p class="source-commitment pre">
                <strong>{f.commitment}：</strong>
                {d.commitment.what}
                <span class="muted">（{m.floor.due(d.commitment.due)}）</span>
              </p>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** Status changes, oldest first, with who made them and the reason of a return. */
export function History({ item, names }: { item: ItemDto; names: Names }) {
  const m = t();
  const f = ft();
  if (item.history.length === 0) return null;
  return (
    <ol class="history">
      {item.history.map((h, i) => (
        <li key={i} data-to={h.to}>
          <span class="mono muted">{formatWhen(h.at, m.locale)}</span> <span>{f.transition(f.itemStatuses[h.from], f.itemStatuses[h.to])}</span>{' '}
          <span class="muted">· {actorName(h.by, names.unit, f.by.office)}</span>
          {h.reason && <p class="history-reason pre">{h.reason}</p>}
        </li>
      ))}
    </ol>
  );
}

/** A file with a download button (fetched with the credential, then saved from a blob). */
export function EvidenceRow({ session, file, token, names, children }: { session: string; file: EvidenceDto; token: string | null; names: Names; children?: ComponentChildren }) {
  const m = t();
  const f = ft();
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    const ok = await downloadEvidence({ session, id: file.id, name: file.name, token });
    setBusy(false);
    if (!ok) notify(f.downloadFailed, 'error');
  };
  return (
    <li class="evidence-row" data-file={file.id} data-public={file.public ? 'true' : 'false'}>
      <span class="evidence-name">
        <span class="tag">{file.kind.toUpperCase()}</span> {file.name}
      </span>
      <span class="muted small">
        {f.fileSize(kilobytes(file.bytes))} · {names.unit(file.unit)} · {formatWhen(file.at, m.locale)} ·{' '}
        <span class={file.public ? 'ok' : ''}>{file.public ? f.publicFile : f.privateFile}</span>
      </span>
      <span class="evidence-actions">
        <button type="button" class="small" disabled={busy} onClick={() => void download()} aria-label={`${f.download} ${file.name}`}>
          {busy ? f.downloading : f.download}
        </button>
        {children}
      </span>
    </li>
  );
}

/** Follow-up rating counts (never who chose what); fewer than 3 ratings: only the total (样本不足). */
/**
 * The unit's written reply and its rectification. With `noReply`, the
 * heading shows even before there is a reply (the office, the public page);
 * without it, nothing is shown until there is one.
 */

export function ReplyBox({ item, noReply, class: extra }: { item: Pick<ItemDto, 'reply' | 'rectification'>; noReply?: string; class?: string }) {
  const f = ft();
  if (!item.reply && !item.rectification && noReply === undefined) return null;
  return (
    <div class={extra ? `reply-box ${extra}` : 'reply-box'}>
      {(item.reply || noReply !== undefined) && <h4>{f.reply}</h4>}
      {item.reply ? (
        <p class="pre" data-reply>
          {item.reply}
        </p>
      ) : (
        noReply !== undefined && <p class="muted">{noReply}</p>
      )}
      {item.rectification && (
        <>
          <h4>{f.rectification}</h4>
          <p class="pre" data-rectification>
            {item.rectification}
          </p>
        </>
      )}
    </div>
  );
}

export function RatingCounts({ counts }: { counts: CountsDto }) {
  const f = ft();
  if (counts.total === 0) return <span class="muted rating-counts">{f.noRatings}</span>;
  if (counts.suppressed) return <span class="rating-counts" data-suppressed="true">{f.suppressed(counts.total)}</span>;
  return (
    <span class="rating-counts">
      {f.ratingCounts(counts.satisfied, counts.basically_satisfied, counts.dissatisfied)}
      <span class="muted"> · {f.ratingsTotal(counts.total)}</span>
    </span>
  );
}
