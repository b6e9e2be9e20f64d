// Console plumbing: the context every panel reads, the action hook that
// sends a command through the outbox and keeps its outcome next to the
// button that sent it, the confirmation dialog, and small display pieces.

import type { Signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useId, useRef, useState } from 'preact/hooks';
import type { CommandDto, ErrorDto, QuestionDto } from '../protocol.ts';
import type { Connection } from '../lib/connection.ts';
import { t } from '../lib/i18n/index.ts';
import { notify } from '../lib/notices.ts';
import { newCommandId, type Outcome } from '../lib/outbox.ts';
import { delegateName, topicName, unitName, venueName, type SessionState } from '../lib/state.ts';
import { formatClock } from '../lib/time.ts';
import { mt } from './i18n.ts';
import { describeError, harmlessFailure, type AnswerDraft } from './logic.ts';

export interface Console {
  conn: Connection;
  /** The auditor: everything is shown, nothing can be changed. */
  readOnly: boolean;
  /** Answer forms being filled in, by `answerKey` (persisted; never touched by server updates). */
  answerDrafts: Signal<Record<string, AnswerDraft>>;
}

export const ConsoleContext = createContext<Console | null>(null);

export function useConsole(): Console {
  const c = useContext(ConsoleContext);
  if (!c) throw new Error('ConsoleContext missing');
  return c;
}

/**
 * Ids of commands whose outcome is shown next to their control. Failures of
 * every other command (e.g. one loaded from the outbox after a reload, whose
 * control is gone) are shown as notices by main.tsx, so none is swallowed.
 */
export const inlineIds = new Set<string>();

/** The words for a failed command, for notices and inline errors. */
export function failureText(cmd: CommandDto, error: Pick<ErrorDto, 'code'>, state?: SessionState | null): string {
  const mm = mt();
  return describeError(cmd, error, mm, t().errors as unknown as Record<string, string>, state);
}

export interface Action {
  /** Sends through the outbox (same id on every retry); resolves with the outcome, never rejects. */
  run(cmd: CommandDto): Promise<Outcome>;
  /** In the outbox: waiting to be sent or answered. */
  busy: boolean;
  /** While waiting after a retryable error (`limit` / `unavailable`). */
  retrying: ErrorDto['code'] | undefined;
  failure: { cmd: CommandDto; error: ErrorDto } | null;
  clear(): void;
}

export function useAction(conn: Connection): Action {
  const [id, setId] = useState<string | null>(null);
  const [failure, setFailure] = useState<Action['failure']>(null);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  // Reading the outbox subscribes this component to it.
  const entry = id ? conn.outbox.entries.value.find((e) => e.id === id) : undefined;
  return {
    busy: entry !== undefined,
    retrying: entry?.lastError,
    failure,
    clear: () => setFailure(null),
    run(cmd) {
      const cid = newCommandId();
      inlineIds.add(cid);
      setId(cid);
      setFailure(null);
      return conn.send(cmd, cid).then((outcome) => {
        inlineIds.delete(cid);
        if (!outcome.ok && harmlessFailure(cmd, outcome.error)) return { ok: true } as Outcome;
        if (!outcome.ok) {
          if (mounted.current) setFailure({ cmd, error: outcome.error });
          else notify(mt().errors.generic(mt().commands[cmd.type] ?? t().commands.other, failureText(cmd, outcome.error, conn.state.value)), 'error', 10_000);
        }
        return outcome;
      });
    },
  };
}

/** Sending / retrying / failed, right next to the control that sent the command. */
export function ActionStatus({ action, conn }: { action: Action; conn: Connection }) {
  const mm = mt();
  if (action.failure) {
    const { cmd, error } = action.failure;
    return (
      <p class="action-error" role="alert" data-error={error.code} title={mm.common.serverSaid(error.message)}>
        <span>{mm.errors.generic(mm.commands[cmd.type] ?? t().commands.other, failureText(cmd, error, conn.state.value))}</span>
        <button type="button" class="link-button" onClick={action.clear} aria-label={t().common.close}>
          ×
        </button>
      </p>
    );
  }
  if (action.busy) {
    const text = action.retrying === 'unavailable' ? mm.common.retryingStore : action.retrying ? mm.common.retrying : mm.common.sending;
    return (
      <p class={`action-pending ${action.retrying ? 'action-retrying' : ''}`} role="status" data-retrying={action.retrying ?? ''}>
        {text}
      </p>
    );
  }
  return null;
}

/** A button that asks for confirmation in a modal dialog before `onConfirm`. */
export function ConfirmButton({
  label,
  title,
  message,
  confirmLabel,
  onConfirm,
  disabled,
  class: cls,
  children,
}: {
  label: string;
  title: string;
  message: string;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
  class?: string;
  children?: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const uid = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      if (typeof d.showModal === 'function') d.showModal();
      else d.setAttribute('open', '');
    } else if (!open && d.open) {
      if (typeof d.close === 'function') d.close();
      else d.removeAttribute('open');
    }
  }, [open]);
  return (
    <>
      <button type="button" class={cls} disabled={disabled} onClick={() => setOpen(true)}>
        {label}
      </button>
      <dialog ref={ref} class="confirm" aria-labelledby={`${uid}-t`} aria-describedby={`${uid}-d`} onClose={() => setOpen(false)}>
        {open && (
          <form
            method="dialog"
            onSubmit={(e) => {
              e.preventDefault();
              setOpen(false);
              onConfirm();
            }}
          >
            <h2 id={`${uid}-t`}>{title}</h2>
            <p id={`${uid}-d`}>{message}</p>
            {children}
            <div class="confirm-actions">
              <button type="button" onClick={() => setOpen(false)} autoFocus>
                {mt().common.cancel}
              </button>
              <button type="submit" class="primary">
                {confirmLabel}
              </button>
            </div>
          </form>
        )}
      </dialog>
    </>
  );
}

export function clock(ms: number): string {
  return formatClock(ms, t().locale);
}

/** "张三（县人大代表）、李四（议政代表）" */
export function askerNames(state: SessionState, q: QuestionDto): string {
  const levels = t().levels;
  return (q.askers ?? [])
    .map((id) => {
      const d = state.delegates.find((x) => x.id === id);
      return d ? `${d.name}（${levels[d.level]}）` : delegateName(state, id);
    })
    .join('、');
}

/** Number, status, venues, topic, unit and seconds of a question. */
export function QuestionMeta({ state, q, status = true }: { state: SessionState; q: QuestionDto; status?: boolean }) {
  const m = t();
  const mm = mt();
  return (
    <p class="q-meta">
      <span class="q-no">{m.common.questionNo(q.id)}</span>
      {status && <span class={`tag tag-${q.status}`}>{m.statuses[q.status]}</span>}
      <span>{q.venues.map((v) => venueName(state, v)).join('、')}</span>
      <span class="sep">·</span>
      <span>{topicName(state, q.topic)}</span>
      <span class="sep">·</span>
      <span>{unitName(state, q.unit)}</span>
      <span class={`seconds ${q.seconds >= 3 ? 'seconds-hot' : q.seconds > 0 ? 'seconds-some' : ''}`} title={mm.common.secondsLabel} data-seconds={q.seconds}>
        {mm.common.secondsSignal(q.seconds)}
      </span>
    </p>
  );
}

/** Text, edited wording and askers of a question. */
export function QuestionText({ state, q }: { state: SessionState; q: QuestionDto }) {
  const mm = mt();
  return (
    <>
      <p class="q-text pre">{q.text}</p>
      {q.original_text !== undefined && (
        <p class="q-original">
          <span class="tag">{mm.inbox.edited}</span> <span class="muted">{mm.inbox.original}：</span>
          <span class="pre">{q.original_text}</span>
        </p>
      )}
      {(q.askers?.length ?? 0) > 0 && (
        <p class="q-askers muted">
          {mm.common.askers(askerNames(state, q))}
          {q.by_operator && <span class="tag">{mm.inbox.byOperator}</span>}
        </p>
      )}
    </>
  );
}

export function Card({ id, title, children, class: cls, head }: { id: string; title: string; children: ComponentChildren; class?: string; head?: ComponentChildren }) {
  return (
    <section class={`card ${cls ?? ''}`} aria-labelledby={`${id}-h`} id={id}>
      <div class="card-head">
        <h2 id={`${id}-h`}>{title}</h2>
        {head}
      </div>
      {children}
    </section>
  );
}
