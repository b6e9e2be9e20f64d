// 问题审核: the question inbox. Filters (status, venue, topic, unit, asker
// level, text), and per question: approve (通过), reject with a required
// reason (驳回), merge into another question (合并), edit the wording (编辑),
// queue an approved question (排队). Errors stay next to the question.

import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { Level, QuestionDto } from '../protocol.ts';
import { t } from '../lib/i18n/index.ts';
import { notify } from '../lib/notices.ts';
import type { SessionState } from '../lib/state.ts';
import { ActionStatus, Card, clock, QuestionMeta, QuestionText, useAction, useConsole } from './common.tsx';
import { mt } from './i18n.ts';
import { chars, checkText, emptyFilter, filterInbox, inboxCounts, INBOX_VIEWS, isFiltered, mergeTargets, type InboxFilter } from './logic.ts';

const LEVELS: Level[] = ['province', 'city', 'county', 'township', 'street_deliberation'];

export function Inbox({ state }: { state: SessionState }) {
  const m = t();
  const mm = mt().inbox;
  const [filter, setFilter] = useState<InboxFilter>(emptyFilter);
  const counts = inboxCounts(state.questions);
  const list = filterInbox(state.questions, filter, state.delegates);
  const set = (patch: Partial<InboxFilter>) => setFilter({ ...filter, ...patch });
  const sel = (e: Event) => (e.currentTarget as HTMLSelectElement).value;
  return (
    <Card
      id="inbox"
      title={mm.title}
      class="inbox"
      head={
        <span class="count-badge" data-pending={counts.pending}>
          {mm.views.pending} {counts.pending}
        </span>
      }
    >
      <div class="seg" role="group" aria-label={mm.viewsLabel}>
        {INBOX_VIEWS.map((v) => (
          <button key={v} type="button" class="small" aria-pressed={filter.view === v} data-view={v} onClick={() => set({ view: v })}>
            {mm.views[v]} <span class="seg-n">{counts[v]}</span>
          </button>
        ))}
      </div>
      <fieldset class="filters">
        <legend class="visually-hidden">{mm.filters}</legend>
        <FilterSelect label={mm.venue} name="venue" value={filter.venue} all={mt().common.all} options={state.session.venues} onChange={(v) => set({ venue: v })} />
        <FilterSelect label={mm.topic} name="topic" value={filter.topic} all={mt().common.all} options={state.session.topics} onChange={(v) => set({ topic: v })} />
        <FilterSelect label={mm.unit} name="unit" value={filter.unit} all={mt().common.all} options={state.session.units} onChange={(v) => set({ unit: v })} />
        <FilterSelect
          label={mm.level}
          name="level"
          value={filter.level}
          all={mt().common.all}
          options={LEVELS.map((l) => ({ id: l, name: m.levels[l] }))}
          onChange={(v) => set({ level: v as Level | '' })}
        />
        <label class="filter-search">
          <span>{mm.search}</span>
          <input type="search" value={filter.text} placeholder={mm.searchPlaceholder} onInput={(e) => set({ text: (e.currentTarget as HTMLInputElement).value })} />
        </label>
        <label>
          <span>{mm.sort}</span>
          <select value={filter.sort} onChange={(e) => set({ sort: sel(e) as InboxFilter['sort'] })}>
            <option value="time">{mm.sortTime}</option>
            <option value="seconds">{mm.sortSeconds}</option>
          </select>
        </label>
        {isFiltered(filter) && (
          <button type="button" class="small" onClick={() => setFilter({ ...emptyFilter, view: filter.view, sort: filter.sort })}>
            {mm.clear}
          </button>
        )}
      </fieldset>
      <p class="muted small" aria-live="polite" data-shown={list.length}>
        {mm.shown(list.length, counts[filter.view])}
      </p>
      {list.length === 0 ? (
        <p class="empty">{mm.empty}</p>
      ) : (
        <ol class="q-list plain">
          {list.map((q) => (
            <InboxItem key={q.id} state={state} q={q} />
          ))}
        </ol>
      )}
    </Card>
  );
}

type Mode = null | 'reject' | 'merge' | 'edit';

function InboxItem({ state, q }: { state: SessionState; q: QuestionDto }) {
  const { conn, readOnly } = useConsole();
  const mm = mt().inbox;
  const action = useAction(conn);
  const [mode, setMode] = useState<Mode>(null);
  const toggle = (m: Mode) => {
    action.clear();
    setMode(mode === m ? null : m);
  };
  const canModerate = q.status === 'pending';
  const canEdit = ['pending', 'approved', 'queued'].includes(q.status);
  const done = (o: { ok: boolean }) => {
    if (o.ok) setMode(null);
  };
  return (
    <li class={`q-card q-${q.status}`} data-question={q.id} data-status={q.status}>
      <QuestionMeta state={state} q={q} />
      <QuestionText state={state} q={q} />
      <p class="q-foot muted small">
        <span>{mm.submittedAt(clock(q.submitted_at))}</span>
        {q.merged_from.length > 0 && <span> · {mm.mergedFrom(q.merged_from.map((n) => mt().common.questionShort(n)).join('、'))}</span>}
        {q.merged_into !== undefined && <span> · {mm.mergedInto(q.merged_into)}</span>}
      </p>
      {q.reject_reason !== undefined && <p class="q-reason">{mm.rejected(q.reject_reason)}</p>}
      {!readOnly && (canModerate || canEdit) && (
        <div class="q-actions">
          {canModerate && (
            <button type="button" class="small primary" disabled={action.busy} onClick={() => void action.run({ type: 'approve_question', question: q.id }).then((o) => o.ok && notify(mm.approved(q.id)))}>
              {mm.approve}
            </button>
          )}
          {q.status === 'approved' && (
            <button type="button" class="small primary" disabled={action.busy} onClick={() => void action.run({ type: 'queue_question', question: q.id })}>
              {mm.queue}
            </button>
          )}
          {canModerate && (
            <button type="button" class="small" aria-expanded={mode === 'reject'} onClick={() => toggle('reject')}>
              {mm.reject}
            </button>
          )}
          <button type="button" class="small" aria-expanded={mode === 'merge'} onClick={() => toggle('merge')}>
            {mm.merge}
          </button>
          <button type="button" class="small" aria-expanded={mode === 'edit'} onClick={() => toggle('edit')}>
            {mm.edit}
          </button>
        </div>
      )}
      {!readOnly && mode === 'reject' && (
        <RejectForm q={q} max={state.session.limits.reason_chars} busy={action.busy} onCancel={() => setMode(null)} onSubmit={(reason) => void action.run({ type: 'reject_question', question: q.id, reason }).then(done)} />
      )}
      {!readOnly && mode === 'merge' && (
        <MergeForm state={state} q={q} busy={action.busy} onCancel={() => setMode(null)} onSubmit={(into) => void action.run({ type: 'merge_question', question: q.id, into }).then(done)} />
      )}
      {!readOnly && mode === 'edit' && (
        <EditForm q={q} max={state.session.limits.question_chars} busy={action.busy} onCancel={() => setMode(null)} onSubmit={(text) => void action.run({ type: 'edit_question', question: q.id, text }).then(done)} />
      )}
      <ActionStatus action={action} conn={conn} />
    </li>
  );
}

function Counter({ id, text, max }: { id: string; text: string; max: number }) {
  const mm = mt().inbox;
  const n = chars(text);
  return (
    <span id={id} class={n > max ? 'count count-over' : 'count muted'}>
      {n > max ? mm.tooLong(max) : mm.charCount(n, max)}
    </span>
  );
}

function RejectForm({ q, max, busy, onSubmit, onCancel }: { q: QuestionDto; max: number; busy: boolean; onSubmit: (r: string) => void; onCancel: () => void }) {
  const mm = mt().inbox;
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const id = `reject-${q.id}`;
  const submit = (e: Event) => {
    e.preventDefault();
    const p = checkText(reason, max);
    if (p) {
      setProblem(p === 'empty' ? mm.reasonEmpty : mm.tooLong(max));
      ref.current?.focus();
      return;
    }
    setProblem(null);
    onSubmit(reason.trim());
  };
  return (
    <form class="inline-form" onSubmit={submit} noValidate data-form="reject">
      <label for={id}>{mm.rejectReason}</label>
      <div class="presets" role="group" aria-label={mm.rejectPresetLabel}>
        {mm.rejectPresets.map((p) => (
          <button key={p} type="button" class="chip" onClick={() => setReason(p)}>
            {p}
          </button>
        ))}
      </div>
      <textarea
        id={id}
        ref={ref}
        rows={2}
        value={reason}
        required
        aria-invalid={problem !== null}
        aria-describedby={`${id}-count ${id}-err`}
        onInput={(e) => setReason((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <FormActions id={id} problem={problem} busy={busy} tone="danger" confirm={mm.rejectConfirm} onCancel={onCancel}>
        <Counter id={`${id}-count`} text={reason} max={max} />
      </FormActions>
    </form>
  );
}

function MergeForm({ state, q, busy, onSubmit, onCancel }: { state: SessionState; q: QuestionDto; busy: boolean; onSubmit: (into: number) => void; onCancel: () => void }) {
  const mm = mt().inbox;
  const m = t();
  const targets = mergeTargets(q, state.questions);
  const [into, setInto] = useState<string>('');
  const [problem, setProblem] = useState<string | null>(null);
  const id = `merge-${q.id}`;
  if (targets.length === 0) {
    return (
      <div class="inline-form">
        <p class="muted">{mm.mergeNone}</p>
        <button type="button" class="small" onClick={onCancel}>
          {mt().common.cancel}
        </button>
      </div>
    );
  }
  const submit = (e: Event) => {
    e.preventDefault();
    if (!into) {
      setProblem(mm.mergeChoose);
      return;
    }
    onSubmit(Number(into));
  };
  return (
    <form class="inline-form" onSubmit={submit} noValidate data-form="merge">
      <label for={id}>{mm.mergeInto}</label>
      <select id={id} value={into} onChange={(e) => setInto((e.currentTarget as HTMLSelectElement).value)} aria-describedby={`${id}-hint ${id}-err`} aria-invalid={problem !== null}>
        <option value="">{m.common.choose}</option>
        {targets.map((x) => (
          <option key={x.id} value={String(x.id)}>
            {m.common.questionNo(x.id)}（{m.statuses[x.status]}）：{Array.from(x.text).slice(0, 40).join('')}
          </option>
        ))}
      </select>
      <p id={`${id}-hint`} class="muted small">
        {mm.mergeHint}
      </p>
      <FormActions id={id} problem={problem} busy={busy} tone="primary" confirm={mm.mergeConfirm} onCancel={onCancel} />
    </form>
  );
}

function EditForm({ q, max, busy, onSubmit, onCancel }: { q: QuestionDto; max: number; busy: boolean; onSubmit: (text: string) => void; onCancel: () => void }) {
  const mm = mt().inbox;
  const [text, setText] = useState(q.text);
  const [problem, setProblem] = useState<string | null>(null);
  const id = `edit-${q.id}`;
  const submit = (e: Event) => {
    e.preventDefault();
    const p = checkText(text, max);
    if (p) {
      setProblem(p === 'empty' ? mm.textEmpty : mm.tooLong(max));
      return;
    }
    onSubmit(text.trim());
  };
  return (
    <form class="inline-form" onSubmit={submit} noValidate data-form="edit">
      <label for={id}>{mm.editText}</label>
      <textarea
        id={id}
        rows={3}
        value={text}
        aria-invalid={problem !== null}
        aria-describedby={`${id}-count ${id}-hint ${id}-err`}
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <p id={`${id}-hint`} class="muted small">
        {mm.editHint}
      </p>
      <FormActions id={id} problem={problem} busy={busy} tone="primary" confirm={mm.editSave} onCancel={onCancel}>
        <Counter id={`${id}-count`} text={text} max={max} />
      </FormActions>
    </form>
  );
}

/** One labelled filter: "all" plus the given options, by id. */
function FilterSelect(props: {
  label: string;
  name: string;
  value: string;
  all: string;
  options: readonly { id: string; name: string }[];
  onChange: (value: string) => void;
}) {
  return (
    <label>
      <span>{props.label}</span>
      <select value={props.value} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)} data-filter={props.name}>
        <option value="">{props.all}</option>
        {props.options.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A form's last row: its error (announced), then cancel and confirm. */
function FormActions(props: {
  id: string;
  problem: string | null;
  busy: boolean;
  tone: 'primary' | 'danger';
  confirm: string;
  onCancel: () => void;
  children?: ComponentChildren;
}) {
  return (
    <div class="form-row">
      {props.children}
      <span id={`${props.id}-err`} class="field-error" role={props.problem ? 'alert' : undefined}>
        {props.problem}
      </span>
      <span class="grow" />
      <button type="button" class="small" onClick={props.onCancel}>
        {mt().common.cancel}
      </button>
      <button type="submit" class={`small ${props.tone}`} disabled={props.busy}>
        {props.confirm}
      </button>
    </div>
  );
}
