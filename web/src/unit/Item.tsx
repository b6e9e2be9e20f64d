// One item in a unit's workspace: what it is and where it comes from, and
// what the unit does with it (start, reply, rectify, notes, evidence,
// extension). The lead unit replies and rectifies; a co-handling unit adds
// notes and evidence. Texts being typed are drafts (persisted per item).

import type { Signal } from '@preact/signals';
import { useState } from 'preact/hooks';
import type { ErrorCode, ItemDto } from '../protocol.ts';
import type { Connection } from '../lib/connection.ts';
import { ACCEPT, uploadEvidence, type UploadOutcome } from '../lib/files.ts';
import { addDays, isPending, itemVenues, lastReturn, pendingExtension } from '../lib/followup.ts';
import { CommandStatus, Deadline, EvidenceRow, formatWhen, History, PriorityTag, RatingCounts, ReplyBox, Sources, StatusTag, useCommand, type Names } from '../lib/followup-ui.tsx';
import { t } from '../lib/i18n/index.ts';
import { ft } from '../lib/i18n/followup.ts';
import { notify } from '../lib/notices.ts';
import type { SessionState } from '../lib/state.ts';
import { ut } from './i18n.ts';

type Form = 'reply' | 'rectify' | 'extension' | 'note';

export function UnitItem({
  conn,
  state,
  unit,
  item,
  names,
  today,
  texts,
  readOnly,
}: {
  conn: Connection;
  state: SessionState;
  unit: string;
  item: ItemDto;
  names: Names;
  today: string;
  texts: Signal<Record<string, string>>;
  readOnly: boolean;
}) {
  const m = t();
  const f = ft();
  const u = ut().item;
  const lead = item.lead === unit;
  const [form, setForm] = useState<Form | null>(null);
  const start = useCommand(conn);
  const ext = pendingExtension(item);
  const returned = lastReturn(item);
  const venues = itemVenues(item, state.questions);
  const closed = item.status === 'closed';
  const canReply = lead && isPending(item.status);
  const canRectify = lead && (isPending(item.status) || item.status === 'answered');
  const canExtend = lead && isPending(item.status) && !ext;
  const canWork = !closed;
  const toggle = (x: Form) => setForm(form === x ? null : x);
  const lastDecided = [...(item.extensions ?? [])].reverse().find((x) => x.granted !== undefined);

  return (
    <li class={`u-item card ${closed ? 'u-item-closed' : ''}`} data-item={item.id} data-number={item.number} data-status={item.status}>
      <div class="u-item-head">
        <h3 class="u-item-title">
          {item.number !== undefined ? f.itemNo(item.number) : f.draftNo(item.id)} <StatusTag status={item.status} /> <PriorityTag priority={item.priority} />
          {!lead && <span class="tag">{f.coHandled}</span>}
        </h3>
        <Deadline item={item} today={today} dueSoonDays={state.session.limits.due_soon_days} />
      </div>
      <p class="u-requirement pre">
        <span class="visually-hidden">{f.requirement}：</span>
        {item.requirement}
      </p>
      <p class="muted small">
        {f.lead} {names.unit(item.lead)}
        {item.co_units.length > 0 && ` · ${f.coUnits} ${item.co_units.map((x) => names.unit(x)).join('、')}`}
        {venues.length > 0 && ` · ${u.askers} ${venues.map((v) => names.venue(v)).join('、')}`}
      </p>
      {returned && (
        <p class="returned" role="note" data-returned>
          {f.returned(returned)}
        </p>
      )}
      {ext && (
        <p class="notice-box" data-extension-waiting>
          {u.extensionWaiting(ext.until)}
        </p>
      )}
      {!ext && lastDecided && isPending(item.status) && (
        <p class={lastDecided.granted ? 'done-box' : 'returned'} data-extension-decided={lastDecided.granted ? 'granted' : 'refused'}>
          {lastDecided.granted ? u.extensionGranted(lastDecided.until) : u.extensionRefused}
          {lastDecided.answer && <span>：{lastDecided.answer}</span>}
        </p>
      )}
      {!lead && !closed && <p class="muted small">{u.coHandledHint}</p>}

      <details class="u-sources" open={!closed}>
        <summary>{f.question}</summary>
        <Sources item={item} questions={state.questions} names={names} />
      </details>

      <ReplyBox item={item} />

      {!readOnly && lead && item.status === 'issued' && (
        <div class="button-row">
          <button type="button" class="primary" disabled={start.busy} onClick={() => void start.run({ type: 'start_handling', item: item.id }).then((r) => r.ok && notify(u.started))}>
            {u.start}
          </button>
          <CommandStatus cmd={start} />
        </div>
      )}

      {!readOnly && canWork && (
        <div class="u-actions" role="group" aria-label={f.itemNo(item.number ?? item.id)}>
          {canReply && (
            <button type="button" aria-expanded={form === 'reply'} onClick={() => toggle('reply')}>
              {u.write.reply}
            </button>
          )}
          {canRectify && (
            <button type="button" aria-expanded={form === 'rectify'} onClick={() => toggle('rectify')}>
              {u.write.rectify}
            </button>
          )}
          <button type="button" aria-expanded={form === 'note'} onClick={() => toggle('note')}>
            {u.write.note}
          </button>
          {canExtend && (
            <button type="button" aria-expanded={form === 'extension'} onClick={() => toggle('extension')}>
              {u.write.extension}
            </button>
          )}
        </div>
      )}
      {!readOnly && form === 'reply' && canReply && (
        <TextForm
          conn={conn}
          texts={texts}
          draftKey={`${item.id}:reply`}
          id={`reply-${item.id}`}
          title={u.replyTitle}
          label={u.replyLabel}
          placeholder={u.replyPlaceholder}
          submit={u.replySubmit}
          done={u.replied}
          toCommand={(text) => ({ type: 'reply_item', item: item.id, text })}
          onDone={() => setForm(null)}
        />
      )}
      {!readOnly && form === 'rectify' && canRectify && (
        <TextForm
          conn={conn}
          texts={texts}
          draftKey={`${item.id}:rectify`}
          id={`rectify-${item.id}`}
          title={u.rectifyTitle}
          label={u.rectifyLabel}
          placeholder={u.rectifyPlaceholder}
          submit={u.rectifySubmit}
          done={u.rectified}
          toCommand={(text) => ({ type: 'rectify_item', item: item.id, text })}
          onDone={() => setForm(null)}
        />
      )}
      {!readOnly && form === 'note' && canWork && (
        <TextForm
          conn={conn}
          texts={texts}
          draftKey={`${item.id}:note`}
          id={`note-${item.id}`}
          title={u.notesTitle}
          label={u.noteLabel}
          placeholder={u.notePlaceholder}
          submit={u.noteSubmit}
          done={null}
          rows={2}
          toCommand={(text) => ({ type: 'add_note', item: item.id, text })}
          onDone={() => setForm(null)}
        />
      )}
      {!readOnly && form === 'extension' && canExtend && (
        <ExtensionForm conn={conn} texts={texts} item={item} today={today} onDone={() => setForm(null)} />
      )}

      <div class="item-block">
        <h4>{u.evidenceTitle}</h4>
        {item.evidence.length === 0 ? (
          <p class="muted">{f.noEvidence}</p>
        ) : (
          <ul class="evidence-list">
            {item.evidence.map((e) => (
              <EvidenceRow key={e.id} session={state.session.id} file={e} token={conn.token} names={names} />
            ))}
          </ul>
        )}
        {!readOnly && canWork && <Upload conn={conn} session={state.session.id} item={item.id} />}
      </div>

      {(item.notes ?? []).length > 0 && (
        <div class="item-block">
          <h4>{u.notesTitle}</h4>
          <ul class="notes plain">
            {(item.notes ?? []).map((n, i) => (
              <li key={i}>
                <span class="muted small">
                  {formatWhen(n.at, m.locale)} · {names.unit(n.unit)}
                </span>
                <p class="pre">{n.text}</p>
              </li>
            ))}
          </ul>
        </div>
      )}

      <div class="item-block" data-ratings>
        <h4>{f.ratings}</h4>
        <RatingCounts counts={item.ratings.counts} />
        <p class="muted small">{u.ratingsHint}</p>
      </div>

      <details class="u-history">
        <summary>{u.historyTitle}</summary>
        <History item={item} names={names} />
        {(item.extensions ?? []).length > 0 && (
          <>
            <h4>{u.extensionHistory}</h4>
            <ul class="plain small">
              {(item.extensions ?? []).map((x, i) => (
                <li key={i}>
                  {x.until} · {x.reason}
                  {x.granted !== undefined && ` · ${x.granted ? u.extensionGranted(x.until) : u.extensionRefused}`}
                  {x.answer && ` · ${x.answer}`}
                </li>
              ))}
            </ul>
          </>
        )}
      </details>
    </li>
  );
}

function TextForm({
  conn,
  texts,
  draftKey,
  id,
  title,
  label,
  placeholder,
  submit,
  done,
  rows = 5,
  toCommand,
  onDone,
}: {
  conn: Connection;
  texts: Signal<Record<string, string>>;
  draftKey: string;
  id: string;
  title: string;
  label: string;
  placeholder: string;
  submit: string;
  done: string | null;
  rows?: number;
  toCommand: (text: string) => Parameters<Connection['send']>[0];
  onDone: () => void;
}) {
  const cmd = useCommand(conn);
  const [problem, setProblem] = useState<string | null>(null);
  const value = texts.value[draftKey] ?? '';
  const set = (v: string) => {
    const all = { ...texts.value };
    if (v === '') delete all[draftKey];
    else all[draftKey] = v;
    texts.value = all;
  };
  const send = (e: Event) => {
    e.preventDefault();
    const text = value.trim();
    if (text === '') {
      setProblem(ut().item.needText);
      document.getElementById(id)?.focus();
      return;
    }
    setProblem(null);
    void cmd.run(toCommand(text)).then((r) => {
      if (!r.ok) return;
      set('');
      if (done) notify(done);
      onDone();
    });
  };
  return (
    <form class="u-form" onSubmit={send} noValidate aria-label={title}>
      <div class="field">
        <label for={id}>{label}</label>
        <textarea id={id} rows={rows} placeholder={placeholder} value={value} onInput={(e) => set((e.currentTarget as HTMLTextAreaElement).value)} aria-invalid={problem !== null} />
      </div>
      {problem && (
        <p class="cmd-error" role="alert">
          {problem}
        </p>
      )}
      <div class="button-row">
        <button type="submit" class="primary" disabled={cmd.busy}>
          {submit}
        </button>
        <button type="button" onClick={onDone}>
          {ut().item.cancel}
        </button>
      </div>
      <CommandStatus cmd={cmd} />
    </form>
  );
}

function ExtensionForm({ conn, texts, item, today, onDone }: { conn: Connection; texts: Signal<Record<string, string>>; item: ItemDto; today: string; onDone: () => void }) {
  const u = ut().item;
  const cmd = useCommand(conn);
  const [problem, setProblem] = useState<string | null>(null);
  const min = item.deadline && item.deadline >= today ? addDays(item.deadline, 1) : today;
  const untilKey = `${item.id}:ext-until`;
  const reasonKey = `${item.id}:ext-reason`;
  const until = texts.value[untilKey] ?? '';
  const reason = texts.value[reasonKey] ?? '';
  const set = (k: string, v: string) => {
    const all = { ...texts.value };
    if (v === '') delete all[k];
    else all[k] = v;
    texts.value = all;
  };
  const send = (e: Event) => {
    e.preventDefault();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(until) || until < min) {
      setProblem(u.needDate(min));
      document.getElementById(`ext-until-${item.id}`)?.focus();
      return;
    }
    if (reason.trim() === '') {
      setProblem(u.needReason);
      document.getElementById(`ext-reason-${item.id}`)?.focus();
      return;
    }
    setProblem(null);
    void cmd.run({ type: 'request_extension', item: item.id, until, reason: reason.trim() }).then((r) => {
      if (!r.ok) return;
      set(untilKey, '');
      set(reasonKey, '');
      notify(u.extensionSent);
      onDone();
    });
  };
  return (
    <form class="u-form" onSubmit={send} noValidate aria-label={u.extensionTitle}>
      <div class="field">
        <label for={`ext-until-${item.id}`}>{u.extensionUntil}</label>
        <input id={`ext-until-${item.id}`} type="date" min={min} value={until} onInput={(e) => set(untilKey, (e.currentTarget as HTMLInputElement).value)} />
      </div>
      <div class="field">
        <label for={`ext-reason-${item.id}`}>{u.extensionReason}</label>
        <textarea id={`ext-reason-${item.id}`} rows={2} value={reason} onInput={(e) => set(reasonKey, (e.currentTarget as HTMLTextAreaElement).value)} />
      </div>
      {problem && (
        <p class="cmd-error" role="alert">
          {problem}
        </p>
      )}
      <div class="button-row">
        <button type="submit" class="primary" disabled={cmd.busy}>
          {u.extensionSubmit}
        </button>
        <button type="button" onClick={onDone}>
          {u.cancel}
        </button>
      </div>
      <CommandStatus cmd={cmd} />
    </form>
  );
}

const CODES: readonly ErrorCode[] = ['bad_message', 'forbidden', 'not_found', 'invalid_state', 'already_done', 'invalid', 'limit', 'unavailable'];

function codeText(code: string | undefined, status: number | undefined): string {
  const known = CODES.find((c) => c === code);
  return known ? t().errors[known] : `HTTP ${status ?? '?'}`;
}

/** Uploads the chosen file at once; the list updates from the server's event. */
function Upload({ conn, session, item }: { conn: Connection; session: string; item: number }) {
  const u = ut().item;
  const up = ft().upload;
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const id = `upload-${item}`;
  const onChange = async (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file || !conn.token) return;
    setBusy(true);
    setResult(null);
    const out: UploadOutcome = await uploadEvidence({ session, item, file, name: file.name, token: conn.token });
    setBusy(false);
    input.value = '';
    if (out.ok) {
      setResult({ ok: true, text: up.done(file.name) });
      return;
    }
    const text =
      out.problem === 'wrong_type'
        ? up.wrongType
        : out.problem === 'too_large'
          ? up.tooLarge
          : out.problem === 'too_many'
            ? up.tooMany
            : out.problem === 'duplicate'
              ? up.duplicate
            : out.problem === 'offline'
              ? up.offline
              : up.failed(codeText(out.code, out.status));
    setResult({ ok: false, text });
  };
  return (
    <div class="upload">
      <label for={id} class="upload-label">
        {u.uploadLabel}
      </label>
      <input id={id} type="file" accept={ACCEPT} disabled={busy} onChange={(e) => void onChange(e)} aria-describedby={`${id}-hint`} />
      <p id={`${id}-hint`} class="muted small">
        {up.hint}
      </p>
      {busy && (
        <p class="muted" role="status">
          {up.uploading}
        </p>
      )}
      {result &&
        (result.ok ? (
          <p class="done-box" role="status" data-upload="ok">
            {result.text}
          </p>
        ) : (
          <p class="cmd-error" role="alert" data-upload="error">
            {result.text}
          </p>
        ))}
    </div>
  );
}
