// Issued items: filters (unit, status, priority, venue, topic, overdue,
// flagged, extension waiting) and one card per item with its details and
// the office's actions (publish files, decide extensions, return, close).

import type { Signal } from '@preact/signals';
import { useState } from 'preact/hooks';
import type { ItemDto } from '../protocol.ts';
import type { Connection } from '../lib/connection.ts';
import { EMPTY_FILTER, filterIssued, ITEM_STATUSES, itemVenues, pendingExtension, type ItemFilter } from '../lib/followup.ts';
import { CommandStatus, Deadline, EvidenceRow, formatWhen, History, PriorityTag, RatingCounts, ReplyBox, Sources, StatusTag, useCommand, type Names } from '../lib/followup-ui.tsx';
import { t } from '../lib/i18n/index.ts';
import { ft } from '../lib/i18n/followup.ts';
import { notify } from '../lib/notices.ts';
import type { SessionState } from '../lib/state.ts';
import { ot } from './i18n.ts';

export function ItemsPanel({
  conn,
  state,
  names,
  today,
  filter,
  readOnly,
}: {
  conn: Connection;
  state: SessionState;
  names: Names;
  today: string;
  filter: Signal<ItemFilter>;
  readOnly: boolean;
}) {
  const o = ot().filters;
  const f = filter.value;
  const all = state.items.filter((i) => i.status !== 'draft' && i.merged_into === undefined);
  const list = filterIssued(state.items, f, today, state.questions);
  const set = (patch: Partial<ItemFilter>) => (filter.value = { ...filter.value, ...patch });
  const active = JSON.stringify(f) !== JSON.stringify(EMPTY_FILTER);
  return (
    <section class="card" aria-labelledby="items-h">
      <h2 id="items-h" class="visually-hidden">
        {ot().tabs.items(all.length)}
      </h2>
      <fieldset class="filters">
        <legend>{o.title}</legend>
        <Select id="f-unit" label={o.unit} value={f.unit} onChange={(v) => set({ unit: v })} options={state.session.units.map((u) => [u.id, u.name])} />
        <Select
          id="f-status"
          label={o.status}
          value={f.status}
          onChange={(v) => set({ status: v as ItemFilter['status'] })}
          options={ITEM_STATUSES.filter((s) => s !== 'draft').map((s) => [s, ft().itemStatuses[s]])}
        />
        <Select
          id="f-priority"
          label={o.priority}
          value={f.priority}
          onChange={(v) => set({ priority: v as ItemFilter['priority'] })}
          options={(['normal', 'supervised'] as const).map((p) => [p, ft().priorities[p]])}
        />
        <Select id="f-venue" label={o.venue} value={f.venue} onChange={(v) => set({ venue: v })} options={state.session.venues.map((v) => [v.id, v.name])} />
        <Select id="f-topic" label={o.topic} value={f.topic} onChange={(v) => set({ topic: v })} options={state.session.topics.map((x) => [x.id, x.name])} />
        <div class="filter-checks">
          <label class="check">
            <input type="checkbox" checked={f.overdue} onChange={(e) => set({ overdue: (e.currentTarget as HTMLInputElement).checked })} />
            {o.overdue}
          </label>
          <label class="check">
            <input type="checkbox" checked={f.flagged} onChange={(e) => set({ flagged: (e.currentTarget as HTMLInputElement).checked })} />
            {o.flagged}
          </label>
          <label class="check">
            <input type="checkbox" checked={f.extension} onChange={(e) => set({ extension: (e.currentTarget as HTMLInputElement).checked })} />
            {o.extension}
          </label>
          <button type="button" class="small" disabled={!active} onClick={() => (filter.value = EMPTY_FILTER)}>
            {o.clear}
          </button>
        </div>
      </fieldset>
      <p class="muted small" role="status" data-count={list.length}>
        {o.count(list.length, all.length)}
      </p>
      {all.length === 0 ? <p class="muted">{o.none}</p> : list.length === 0 ? <p class="muted">{o.empty}</p> : null}
      <ul class="item-list plain">
        {list.map((item) => (
          <ItemCard key={item.id} conn={conn} state={state} names={names} today={today} item={item} readOnly={readOnly} />
        ))}
      </ul>
    </section>
  );
}

function Select({ id, label, value, onChange, options }: { id: string; label: string; value: string; onChange: (v: string) => void; options: Array<[string, string]> }) {
  return (
    <div class="filter">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
        <option value="">{ot().filters.any}</option>
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}

function ItemCard({ conn, state, names, today, item, readOnly }: { conn: Connection; state: SessionState; names: Names; today: string; item: ItemDto; readOnly: boolean }) {
  const m = t();
  const f = ft();
  const o = ot().item;
  const [open, setOpen] = useState(false);
  const ext = pendingExtension(item);
  const venues = itemVenues(item, state.questions);
  const detailsId = `item-${item.id}-details`;
  return (
    <li class={`item-card ${item.flagged ? 'item-flagged' : ''}`} data-item={item.id} data-number={item.number} data-status={item.status}>
      <div class="item-head">
        <h3 class="item-title">
          <span class="item-no">{item.number !== undefined ? f.itemNo(item.number) : f.draftNo(item.id)}</span> <StatusTag status={item.status} />{' '}
          <PriorityTag priority={item.priority} />
          {item.flagged && <span class="badge badge-flagged">{f.flagged}</span>}
          {ext && <span class="badge badge-extension">{o.pendingExtension}</span>}
        </h3>
        <Deadline item={item} today={today} dueSoonDays={state.session.limits.due_soon_days} />
      </div>
      <p class="item-units">
        <span class="muted">{f.lead}</span> <strong>{names.unit(item.lead)}</strong>
        {item.co_units.length > 0 && (
          <>
            {' '}
            · <span class="muted">{f.coUnits}</span> {item.co_units.map((u) => names.unit(u)).join('、')}
          </>
        )}
        {venues.length > 0 && (
          <>
            {' '}
            · <span class="muted">{o.askers}</span> {venues.map((v) => names.venue(v)).join('、')}
          </>
        )}
      </p>
      <p class="item-requirement pre">{item.requirement}</p>
      {item.flagged && (
        <p class="returned" role="note">
          {o.flaggedHint}
        </p>
      )}
      {ext && !readOnly && <ExtensionDecision conn={conn} item={item} />}
      <button type="button" class="small" aria-expanded={open} aria-controls={detailsId} onClick={() => setOpen(!open)}>
        {open ? o.hide : o.details}
      </button>
      {open && (
        <div class="item-details" id={detailsId}>
          <div class="item-block">
            <h4>{f.question}</h4>
            <Sources item={item} questions={state.questions} names={names} />
          </div>
          <ReplyBox item={item} noReply={o.noReply} class="item-block" />
          <div class="item-block">
            <h4>{o.notes}</h4>
            {(item.notes ?? []).length === 0 ? (
              <p class="muted">{o.noNotes}</p>
            ) : (
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
            )}
          </div>
          <Evidence conn={conn} state={state} names={names} item={item} readOnly={readOnly} />
          {(item.extensions ?? []).length > 0 && (
            <div class="item-block">
              <h4>{o.extensions}</h4>
              <ul class="plain">
                {(item.extensions ?? []).map((x, i) => (
                  <li key={i} data-extension={i}>
                    {o.extensionLine(x.until, x.reason)}{' '}
                    {x.granted !== undefined && <span class={x.granted ? 'ok' : 'error-text'}>{x.granted ? o.granted : o.refused}</span>}
                    {x.answer && <span class="muted"> · {x.answer}</span>}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <div class="item-block">
            <h4>{f.ratings}</h4>
            <RatingCounts counts={item.ratings.counts} /> <span class="muted small">{o.ratingsHint}</span>
          </div>
          <div class="item-block">
            <h4>{f.history}</h4>
            <History item={item} names={names} />
          </div>
          {!readOnly && (item.status === 'answered' || item.status === 'rectified') && <ReturnOrClose conn={conn} item={item} />}
        </div>
      )}
    </li>
  );
}

function Evidence({ conn, state, names, item, readOnly }: { conn: Connection; state: SessionState; names: Names; item: ItemDto; readOnly: boolean }) {
  const f = ft();
  return (
    <div class="item-block">
      <h4>{f.evidence}</h4>
      {item.evidence.length === 0 ? (
        <p class="muted">{f.noEvidence}</p>
      ) : (
        <ul class="evidence-list">
          {item.evidence.map((e) => (
            <EvidenceRow key={e.id} session={state.session.id} file={e} token={conn.token} names={names}>
              {!readOnly && <PublishToggle conn={conn} item={item.id} file={e.id} name={e.name} isPublic={e.public} />}
            </EvidenceRow>
          ))}
        </ul>
      )}
    </div>
  );
}

function PublishToggle({ conn, item, file, name, isPublic }: { conn: Connection; item: number; file: string; name: string; isPublic: boolean }) {
  const o = ot().item;
  const cmd = useCommand(conn);
  return (
    <>
      <button
        type="button"
        class="small"
        aria-pressed={isPublic}
        aria-label={o.publishLabel(name, isPublic)}
        disabled={cmd.busy}
        onClick={() => void cmd.run({ type: 'publish_evidence', item, file, public: !isPublic })}
      >
        {isPublic ? o.unpublish : o.publish}
      </button>
      <CommandStatus cmd={cmd} />
    </>
  );
}

function ExtensionDecision({ conn, item }: { conn: Connection; item: ItemDto }) {
  const o = ot().item;
  const ext = pendingExtension(item)!;
  const cmd = useCommand(conn);
  const [answer, setAnswer] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const id = `ext-${item.id}-answer`;
  const decide = (grant: boolean) => {
    const text = answer.trim();
    if (!grant && text === '') {
      setProblem(o.answerRequired);
      document.getElementById(id)?.focus();
      return;
    }
    setProblem(null);
    void cmd.run({ type: 'decide_extension', item: item.id, grant, answer: text === '' ? undefined : text }).then((r) => r.ok && setAnswer(''));
  };
  return (
    <div class="notice-box extension-decision" data-extension-pending>
      <p>
        <strong>{o.pendingExtension}</strong>：{o.extensionLine(ext.until, ext.reason)}
      </p>
      <div class="field">
        <label for={id}>{o.answerOptional}</label>
        <textarea id={id} rows={2} value={answer} onInput={(e) => setAnswer((e.currentTarget as HTMLTextAreaElement).value)} aria-invalid={problem !== null} />
      </div>
      {problem && (
        <p class="cmd-error" role="alert">
          {problem}
        </p>
      )}
      <div class="button-row">
        <button type="button" class="primary small" disabled={cmd.busy} onClick={() => decide(true)}>
          {o.grant}
        </button>
        <button type="button" class="small" disabled={cmd.busy} onClick={() => decide(false)}>
          {o.refuse}
        </button>
      </div>
      <CommandStatus cmd={cmd} />
    </div>
  );
}

function ReturnOrClose({ conn, item }: { conn: Connection; item: ItemDto }) {
  const o = ot().item;
  const ret = useCommand(conn);
  const close = useCommand(conn);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const id = `ret-${item.id}-reason`;
  const doReturn = () => {
    if (reason.trim() === '') {
      setProblem(o.returnNeedsReason);
      document.getElementById(id)?.focus();
      return;
    }
    setProblem(null);
    void ret.run({ type: 'return_item', item: item.id, reason: reason.trim() }).then((r) => r.ok && setReason(''));
  };
  return (
    <div class="item-actions">
      <div class="item-block">
        <h4>{o.returnTitle}</h4>
        <div class="field">
          <label for={id}>{o.returnReason}</label>
          <textarea id={id} rows={2} value={reason} onInput={(e) => setReason((e.currentTarget as HTMLTextAreaElement).value)} aria-invalid={problem !== null} />
        </div>
        {problem && (
          <p class="cmd-error" role="alert">
            {problem}
          </p>
        )}
        <button type="button" class="small" disabled={ret.busy} onClick={doReturn}>
          {o.returnButton}
        </button>
        <CommandStatus cmd={ret} />
      </div>
      <div class="item-block">
        {!confirming ? (
          <button type="button" class="primary" disabled={close.busy} onClick={() => setConfirming(true)}>
            {o.close}
          </button>
        ) : (
          <div class="confirm" role="group" aria-label={o.close}>
            <p>{o.closeConfirm}</p>
            <div class="button-row">
              <button
                type="button"
                class="primary"
                onClick={() => {
                  setConfirming(false);
                  void close.run({ type: 'close_item', item: item.id }).then((r) => r.ok && notify(`${ft().itemNo(item.number ?? item.id)} · ${ft().itemStatuses.closed}`));
                }}
              >
                {o.confirm}
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                {o.cancel}
              </button>
            </div>
          </div>
        )}
        <CommandStatus cmd={close} />
      </div>
    </div>
  );
}
