// Drafts (草稿): edit (lead, co-handling units, requirement, deadline,
// priority), merge, issue; draft from the session now; a new draft by hand.
//
// What the office types lives in `forms` (persisted, per draft), never in
// the server's items: a live update cannot overwrite an edit in progress.

import type { Signal } from '@preact/signals';
import { useState } from 'preact/hooks';
import type { ItemDto, Priority } from '../protocol.ts';
import type { Connection } from '../lib/connection.ts';
import { itemVenues, openDrafts } from '../lib/followup.ts';
import { CommandStatus, Sources, useCommand, type Names } from '../lib/followup-ui.tsx';
import { ft } from '../lib/i18n/followup.ts';
import { notify } from '../lib/notices.ts';
import type { SessionState } from '../lib/state.ts';
import { ot } from './i18n.ts';
import { draftProblems, editCommand, formOf, sameForm, toggleCoUnit, withLead, type DraftForm, type DraftProblem } from './logic.ts';

export function DraftsPanel({
  conn,
  state,
  names,
  today,
  forms,
  readOnly,
}: {
  conn: Connection;
  state: SessionState;
  names: Names;
  today: string;
  forms: Signal<Record<string, DraftForm>>;
  readOnly: boolean;
}) {
  const d = ot().drafts;
  const drafts = openDrafts(state.items);
  const fromSession = useCommand(conn);
  return (
    <section class="card" aria-labelledby="drafts-h">
      <h2 id="drafts-h">{d.title}</h2>
      <p class="muted">{d.intro}</p>
      {!readOnly && (
        <div class="drafts-tools">
          <div>
            <button
              type="button"
              disabled={fromSession.busy}
              onClick={() =>
                void fromSession.run({ type: 'draft_assignments' }).then((r) => {
                  if (!r.ok) return;
                  const res = r.ack?.result;
                  const n = res && 'drafted' in res ? res.drafted.count : 0;
                  notify(n > 0 ? d.drafted(n) : d.draftedNone);
                })
              }
            >
              {d.fromSession}
            </button>
            <span class="muted small"> {d.fromSessionHint}</span>
            <CommandStatus cmd={fromSession} />
          </div>
          <NewDraft conn={conn} state={state} today={today} />
        </div>
      )}
      {drafts.length === 0 && <p class="muted">{d.empty}</p>}
      <ul class="item-list plain">
        {drafts.map((item) => (
          <DraftCard key={item.id} conn={conn} state={state} names={names} today={today} item={item} others={drafts.filter((x) => x.id !== item.id)} forms={forms} readOnly={readOnly} />
        ))}
      </ul>
    </section>
  );
}

function problemText(p: DraftProblem, today: string): string {
  const d = ot().drafts;
  switch (p) {
    case 'lead':
      return d.needLead;
    case 'requirement':
      return d.needRequirement;
    case 'deadline_missing':
      return d.needDeadline;
    case 'deadline_past':
      return d.pastDeadline(today);
  }
}

function DraftCard({
  conn,
  state,
  names,
  today,
  item,
  others,
  forms,
  readOnly,
}: {
  conn: Connection;
  state: SessionState;
  names: Names;
  today: string;
  item: ItemDto;
  others: ItemDto[];
  forms: Signal<Record<string, DraftForm>>;
  readOnly: boolean;
}) {
  const f = ft();
  const d = ot().drafts;
  const save = useCommand(conn);
  const issue = useCommand(conn);
  const merge = useCommand(conn);
  const [problems, setProblems] = useState<DraftProblem[]>([]);
  const [mergeInto, setMergeInto] = useState('');
  const server = formOf(item);
  const form = forms.value[String(item.id)] ?? server;
  const dirty = !sameForm(form, server);
  const unitOrder = state.session.units.map((u) => u.id);
  const p = `draft-${item.id}`;
  const venues = itemVenues(item, state.questions);

  const set = (next: DraftForm) => {
    const all = { ...forms.value };
    if (sameForm(next, server)) delete all[String(item.id)];
    else all[String(item.id)] = next;
    forms.value = all;
  };
  const forget = () => {
    const all = { ...forms.value };
    delete all[String(item.id)];
    forms.value = all;
  };
  const doSave = async (): Promise<boolean> => {
    const found = draftProblems(form, today, false);
    setProblems(found);
    if (found.length > 0) return false;
    const r = await save.run(editCommand(item.id, form));
    if (r.ok) forget();
    return r.ok;
  };
  const doIssue = async () => {
    const found = draftProblems(form, today, true);
    setProblems(found);
    if (found.length > 0) return;
    if (dirty && !(await doSave())) return;
    const r = await issue.run({ type: 'issue_item', item: item.id });
    if (r.ok) {
      const n = conn.state.value?.items.find((x) => x.id === item.id)?.number;
      notify(n !== undefined ? d.issued(n) : d.saved);
    }
  };
  const busy = save.busy || issue.busy || merge.busy;

  return (
    <li class={`draft-card ${dirty ? 'draft-dirty' : ''}`} data-item={item.id}>
      <div class="item-head">
        <h3 class="item-title">
          {f.draftNo(item.id)}
          {dirty && <span class="badge badge-due-soon">{d.unsaved}</span>}
        </h3>
        {venues.length > 0 && (
          <span class="muted small">
            {f.askedFrom} {venues.map((v) => names.venue(v)).join('、')}
          </span>
        )}
      </div>
      <Sources item={item} questions={state.questions} names={names} />
      <form
        class="draft-form"
        onSubmit={(e) => {
          e.preventDefault();
          void doSave();
        }}
        noValidate
      >
        <fieldset disabled={readOnly}>
          <legend class="visually-hidden">{f.draftNo(item.id)}</legend>
          <div class="draft-grid">
            <div class="field">
              <label for={`${p}-lead`}>{d.lead}</label>
              <select id={`${p}-lead`} value={form.lead} onChange={(e) => set(withLead(form, (e.currentTarget as HTMLSelectElement).value))}>
                {state.session.units.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for={`${p}-deadline`}>{d.deadline}</label>
              <input
                id={`${p}-deadline`}
                type="date"
                min={today}
                value={form.deadline}
                onInput={(e) => set({ ...form, deadline: (e.currentTarget as HTMLInputElement).value })}
                aria-invalid={problems.includes('deadline_missing') || problems.includes('deadline_past')}
              />
            </div>
            <fieldset class="field radios">
              <legend class="label">{d.priority}</legend>
              {(['normal', 'supervised'] as Priority[]).map((pr) => (
                <label key={pr} class="check">
                  <input type="radio" name={`${p}-priority`} value={pr} checked={form.priority === pr} onChange={() => set({ ...form, priority: pr })} />
                  {f.priorities[pr]}
                </label>
              ))}
            </fieldset>
          </div>
          <fieldset class="field co-units">
            <legend class="label">{d.coUnits}</legend>
            {state.session.units
              .filter((u) => u.id !== form.lead)
              .map((u) => (
                <label key={u.id} class="check">
                  <input
                    type="checkbox"
                    value={u.id}
                    checked={form.co_units.includes(u.id)}
                    onChange={(e) => set(toggleCoUnit(form, u.id, (e.currentTarget as HTMLInputElement).checked, unitOrder))}
                  />
                  {u.name}
                </label>
              ))}
          </fieldset>
          <div class="field">
            <label for={`${p}-req`}>{d.requirement}</label>
            <textarea
              id={`${p}-req`}
              rows={3}
              value={form.requirement}
              onInput={(e) => set({ ...form, requirement: (e.currentTarget as HTMLTextAreaElement).value })}
              aria-invalid={problems.includes('requirement')}
            />
          </div>
          {problems.length > 0 && (
            <ul class="cmd-error plain" role="alert">
              {problems.map((x) => (
                <li key={x}>{problemText(x, today)}</li>
              ))}
            </ul>
          )}
          {!readOnly && (
            <div class="button-row">
              <button type="submit" disabled={!dirty || busy}>
                {d.save}
              </button>
              {dirty && (
                <button type="button" class="small" onClick={forget}>
                  {d.reset}
                </button>
              )}
              <button type="button" class="primary" disabled={busy} onClick={() => void doIssue()}>
                {dirty ? d.saveAndIssue : d.issue}
              </button>
            </div>
          )}
        </fieldset>
      </form>
      <CommandStatus cmd={save} />
      <CommandStatus cmd={issue} />
      {!readOnly && others.length > 0 && (
        <div class="merge-row">
          <div class="field">
            <label for={`${p}-merge`}>{d.mergeInto}</label>
            <select id={`${p}-merge`} value={mergeInto} onChange={(e) => setMergeInto((e.currentTarget as HTMLSelectElement).value)}>
              <option value="">{d.chooseDraft}</option>
              {others.map((o) => (
                <option key={o.id} value={String(o.id)}>
                  {f.draftNo(o.id)} · {names.unit(o.lead)} · {o.requirement.slice(0, 24)}
                </option>
              ))}
            </select>
          </div>
          <button
            type="button"
            class="small"
            disabled={mergeInto === '' || busy}
            title={d.mergeHint}
            onClick={() => {
              const into = Number(mergeInto);
              void merge.run({ type: 'merge_drafts', into, from: item.id }).then((r) => {
                if (r.ok) {
                  forget();
                  notify(d.merged(into));
                }
              });
            }}
          >
            {d.merge}
          </button>
          <CommandStatus cmd={merge} />
        </div>
      )}
    </li>
  );
}

function NewDraft({ conn, state, today }: { conn: Connection; state: SessionState; today: string }) {
  const d = ot().drafts;
  const cmd = useCommand(conn);
  const [open, setOpen] = useState(false);
  const [lead, setLead] = useState('');
  const [requirement, setRequirement] = useState('');
  const [deadline, setDeadline] = useState('');
  const [problems, setProblems] = useState<DraftProblem[]>([]);
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        {d.newTitle}
      </button>
    );
  }
  const submit = (e: Event) => {
    e.preventDefault();
    const found = draftProblems({ lead, co_units: [], requirement, deadline, priority: 'normal' }, today, false);
    setProblems(found);
    if (found.length > 0) return;
    void cmd.run({ type: 'draft_item', lead, requirement: requirement.trim(), deadline: deadline === '' ? undefined : deadline }).then((r) => {
      if (!r.ok) return;
      const res = r.ack?.result;
      if (res && 'item' in res) notify(d.created(res.item));
      setRequirement('');
      setDeadline('');
      setOpen(false);
    });
  };
  return (
    <form class="new-draft" onSubmit={submit} noValidate aria-labelledby="new-draft-h">
      <h3 id="new-draft-h">{d.newTitle}</h3>
      <div class="draft-grid">
        <div class="field">
          <label for="new-lead">{d.lead}</label>
          <select id="new-lead" value={lead} onChange={(e) => setLead((e.currentTarget as HTMLSelectElement).value)} aria-invalid={problems.includes('lead')}>
            <option value="">{d.chooseDraft}</option>
            {state.session.units.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="new-deadline">{d.deadline}</label>
          <input id="new-deadline" type="date" min={today} value={deadline} onInput={(e) => setDeadline((e.currentTarget as HTMLInputElement).value)} />
        </div>
      </div>
      <div class="field">
        <label for="new-req">{d.requirement}</label>
        <textarea id="new-req" rows={2} value={requirement} onInput={(e) => setRequirement((e.currentTarget as HTMLTextAreaElement).value)} aria-invalid={problems.includes('requirement')} />
      </div>
      {problems.length > 0 && (
        <ul class="cmd-error plain" role="alert">
          {problems.map((x) => (
            <li key={x}>{problemText(x, today)}</li>
          ))}
        </ul>
      )}
      <div class="button-row">
        <button type="submit" class="primary" disabled={cmd.busy}>
          {d.newButton}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          {ot().item.cancel}
        </button>
      </div>
      <CommandStatus cmd={cmd} />
    </form>
  );
}
