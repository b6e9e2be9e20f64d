// After the session: "我的问题办理情况". A delegate sees the items that came
// from their questions and rates each once it is answered, rectified or
// closed (满意 / 基本满意 / 不满意, a comment, and with 不满意 申请重办,
// which tells the office openly). The venue operator sees the venue's items
// and rates on behalf of an asker of the venue.
//
// The choice being made is a draft (persisted, never touched by updates);
// a rating is final once acknowledged and its receipt is shown: the
// delegate's from `ratings.mine`, the operator's from the ack (kept on this
// device, since the server shows an operator no individual rating).

import '../lib/followup.css';
import { useMemo, useState } from 'preact/hooks';
import { signal } from '@preact/signals';
import type { ItemDto, ItemRatingDto, Rating } from '../protocol.ts';
import type { Connection } from '../lib/connection.ts';
import { persistedSignal } from '../lib/drafts.ts';
import { dateIn, isResolved } from '../lib/followup.ts';
import { Deadline, EvidenceRow, formatWhen, namesOf, PriorityTag, RatingCounts, ReplyBox, Sources, StatusTag, useCommand, type Names } from '../lib/followup-ui.tsx';
import { t } from '../lib/i18n/index.ts';
import { ft } from '../lib/i18n/followup.ts';
import { notify } from '../lib/notices.ts';
import { delegateName, type SessionState } from '../lib/state.ts';
import { charCount } from '../lib/ui.tsx';
import { RATINGS } from './Evaluation.tsx';

interface RatingDraft {
  rating?: Rating;
  comment: string;
  rehandle: boolean;
  onBehalfOf: string;
}

const EMPTY: RatingDraft = { comment: '', rehandle: false, onBehalfOf: '' };
const COMMENT_CHARS = 500;

export function FollowUpTab({ conn, state }: { conn: Connection; state: SessionState }) {
  const f = ft().mine;
  const operator = state.you.role === 'venue_operator';
  // A delegate's own drafts and receipts survive a reload on their phone. An
  // operator's are another person's rating on a shared venue device: kept in
  // memory only, never in the browser's storage (the server's `rated` flag
  // says who has rated after a reload).
  const drafts = useMemo(
    () => (operator ? signal<Record<string, RatingDraft>>({}) : persistedSignal<Record<string, RatingDraft>>(conn.store, conn.key('draft:item-ratings'), {})),
    [conn, operator],
  );
  const receipts = useMemo(
    () => (operator ? signal<Record<string, HeldReceipt>>({}) : persistedSignal<Record<string, HeldReceipt>>(conn.store, conn.key('item-receipts'), {})),
    [conn, operator],
  );
  const names = useMemo(() => namesOf(state.session), [state.session]);
  const today = dateIn(state.session.time_zone, Date.now() + state.clockOffset);
  // Every issued item is public; the ones that are "mine" name me (or, for
  // an operator, an asker of the venue) among their askers.
  const mine = (i: ItemDto) =>
    (i.askers ?? []).some((a) => (operator ? a.venue === state.you.venue : a.delegate !== undefined && a.delegate === state.you.delegate));
  const items = state.items
    .filter((i) => i.status !== 'draft' && i.merged_into === undefined && mine(i))
    .sort((a, b) => (a.number ?? 1e9) - (b.number ?? 1e9) || a.id - b.id);
  const readOnly = state.session.phase === 'archived';
  return (
    <section class="card follow-up-tab" aria-labelledby="fu-h">
      <h2 id="fu-h">{operator ? f.venueTitle : f.title}</h2>
      <p class="muted">{f.intro}</p>
      {items.length === 0 && <p class="muted">{operator ? f.venueEmpty : f.empty}</p>}
      <ul class="q-list">
        {items.map((item) => (
          <FollowUpItem
            key={item.id}
            conn={conn}
            state={state}
            item={item}
            names={names}
            today={today}
            draft={drafts.value[String(item.id)] ?? EMPTY}
            setDraft={(d) => {
              const all = { ...drafts.value };
              if (d === null) delete all[String(item.id)];
              else all[String(item.id)] = d;
              drafts.value = all;
            }}
            receipts={receipts.value}
            addReceipt={(r) => (receipts.value = { ...receipts.value, [`${item.id}|${r.delegate}`]: r })}
            readOnly={readOnly}
          />
        ))}
      </ul>
    </section>
  );
}

function FollowUpItem({
  conn,
  state,
  item,
  names,
  today,
  draft,
  setDraft,
  receipts,
  addReceipt,
  readOnly,
}: {
  conn: Connection;
  state: SessionState;
  item: ItemDto;
  names: Names;
  today: string;
  draft: RatingDraft;
  setDraft: (d: RatingDraft | null) => void;
  receipts: Record<string, HeldReceipt>;
  addReceipt: (r: HeldReceipt) => void;
  readOnly: boolean;
}) {
  const f = ft();
  const operator = state.you.role === 'venue_operator';
  // The operator's askers of this venue (named for the operator), with the receipts this device holds.
  const askers = operator ? (item.askers ?? []).filter((a) => a.venue === state.you.venue && a.delegate).map((a) => a.delegate!) : [];
  const operatorReceipts = askers.map((d) => receipts[`${item.id}|${d}`]).filter((r): r is HeldReceipt => r !== undefined);
  const mine = item.ratings.mine;
  const resolved = isResolved(item.status);
  // The server says which of the venue's askers have rated (never what), so
  // a form is not offered again on another device.
  const ratedByServer = new Set((item.askers ?? []).filter((a) => a.rated && a.delegate).map((a) => a.delegate!));
  const unrated = operator ? askers.filter((d) => !receipts[`${item.id}|${d}`] && !ratedByServer.has(d)) : mine ? [] : ['self'];
  return (
    <li class="q-item fu-item" data-item={item.id} data-number={item.number} data-status={item.status}>
      <p class="fu-head">
        <strong>{item.number !== undefined ? f.itemNo(item.number) : f.draftNo(item.id)}</strong> <StatusTag status={item.status} /> <PriorityTag priority={item.priority} />
      </p>
      <p class="small">
        <span class="muted">{f.lead}</span> {names.unit(item.lead)} · <Deadline item={item} today={today} dueSoonDays={state.session.limits.due_soon_days} />
      </p>
      <Sources item={item} questions={state.questions} names={names} />
      <p class="pre">
        <span class="muted">{f.requirement}：</span>
        {item.requirement}
      </p>
      <ReplyBox item={item} />
      {item.evidence.length > 0 && (
        <div class="item-block">
          <h4>{f.evidence}</h4>
          <ul class="evidence-list">
            {item.evidence.map((e) => (
              <EvidenceRow key={e.id} session={state.session.id} file={e} token={conn.token} names={names} />
            ))}
          </ul>
        </div>
      )}
      <p class="small">
        <span class="muted">{f.ratings}：</span>
        <RatingCounts counts={item.ratings.counts} />
      </p>
      {mine && <Receipt r={mine} state={state} self />}
      {operatorReceipts.map((r) => (
        <Receipt key={r.delegate} r={r} state={state} self={false} />
      ))}
      {!readOnly && unrated.length > 0 && (resolved ? <RateForm conn={conn} state={state} item={item} askers={askers.filter((d) => unrated.includes(d))} draft={draft} setDraft={setDraft} addReceipt={addReceipt} /> : <p class="muted small">{f.mine.waitAnswer}</p>)}
    </li>
  );
}

/** A rating this device sent, with its receipt code (absent for one kept by an older version). */
type HeldReceipt = ItemRatingDto & { code?: string };

function Receipt({ r, state, self }: { r: HeldReceipt; state: SessionState; self: boolean }) {
  const m = t();
  const f = ft().mine;
  const when = formatWhen(r.at, m.locale);
  return (
    <div class="done fu-receipt" role="status" data-receipt={r.delegate} data-rating={r.rating}>
      <p>
        <strong>{f.receipt}</strong> · {self ? f.receiptLine(m.ratings[r.rating], when) : f.receiptBehalf(delegateName(state, r.delegate), m.ratings[r.rating], when)}
      </p>
      {r.code && (
        <p class="receipt-line small">
          {m.delegate.evaluation.receiptCode} <code class="mono" data-receipt-code>{r.code}</code>
        </p>
      )}
      {r.comment && <p class="pre fu-comment">{r.comment}</p>}
      {(r.rehandle || r.by_operator) && (
        <p class="small">
          {r.rehandle && <span class="tag tag-on_floor">{f.rehandleSent}</span>} {r.by_operator && <span class="tag">{f.byOperator}</span>}
        </p>
      )}
    </div>
  );
}

function RateForm({
  conn,
  state,
  item,
  askers,
  draft,
  setDraft,
  addReceipt,
}: {
  conn: Connection;
  state: SessionState;
  item: ItemDto;
  askers: string[];
  draft: RatingDraft;
  setDraft: (d: RatingDraft | null) => void;
  addReceipt: (r: HeldReceipt) => void;
}) {
  const m = t();
  const f = ft().mine;
  const operator = state.you.role === 'venue_operator';
  const cmd = useCommand(conn);
  const [problem, setProblem] = useState<string | null>(null);
  const p = `rate-${item.id}`;
  const onBehalfOf = operator ? (askers.includes(draft.onBehalfOf) ? draft.onBehalfOf : askers.length === 1 ? askers[0] : '') : '';
  const chars = charCount(draft.comment);
  const submit = (e: Event) => {
    e.preventDefault();
    if (operator && !onBehalfOf) {
      setProblem(t().delegate.ask.needDelegate);
      document.getElementById(`${p}-who`)?.focus();
      return;
    }
    if (!draft.rating) {
      setProblem(f.needRating);
      document.getElementById(`${p}-satisfied`)?.focus();
      return;
    }
    if (chars > COMMENT_CHARS) {
      setProblem(m.common.tooLong(COMMENT_CHARS));
      return;
    }
    setProblem(null);
    const online = conn.status.value === 'connected';
    const comment = draft.comment.trim();
    void cmd
      .run({
        type: 'rate_item',
        item: item.id,
        on_behalf_of: operator ? onBehalfOf : undefined,
        rating: draft.rating,
        comment: comment === '' ? undefined : comment,
        rehandle: draft.rating === 'dissatisfied' && draft.rehandle,
      })
      .then((r) => {
        if (!r.ok) {
          if (operator && r.error.code === 'already_done') {
            cmd.clear();
            setProblem(f.alreadyRated);
          }
          return;
        }
        const res = r.ack?.result;
        if (res && 'item_receipt' in res) addReceipt({ ...res.item_receipt.rating, code: res.item_receipt.code });
        setDraft(null);
      });
    if (!online) notify(f.sentOffline);
  };
  const legend = operator && onBehalfOf ? f.rateFor(delegateName(state, onBehalfOf)) : f.chooseRating;
  return (
    <form class="fu-rate" onSubmit={submit} noValidate aria-labelledby={`${p}-h`} data-rate-form={item.id}>
      <h3 id={`${p}-h`}>{f.rate}</h3>
      {operator && (
        <div class="field">
          <label for={`${p}-who`}>{f.asker}</label>
          <select id={`${p}-who`} value={onBehalfOf} onChange={(e) => setDraft({ ...draft, onBehalfOf: (e.currentTarget as HTMLSelectElement).value })} required>
            <option value="">{m.common.choose}</option>
            {askers.map((d) => (
              <option key={d} value={d}>
                {delegateName(state, d)}
              </option>
            ))}
          </select>
        </div>
      )}
      <fieldset class="ballot" disabled={cmd.busy}>
        <legend>{legend}</legend>
        <div class="ratings">
          {RATINGS.map((r) => (
            <label key={r} class={`rating rating-${r}`}>
              <input
                type="radio"
                id={`${p}-${r}`}
                name={p}
                value={r}
                checked={draft.rating === r}
                onChange={() => setDraft({ ...draft, rating: r, rehandle: r === 'dissatisfied' ? draft.rehandle : false })}
              />
              {m.ratings[r]}
            </label>
          ))}
        </div>
        {draft.rating === 'dissatisfied' && (
          <div class="fu-rehandle">
            <label class="check">
              <input type="checkbox" checked={draft.rehandle} onChange={(e) => setDraft({ ...draft, rehandle: (e.currentTarget as HTMLInputElement).checked })} aria-describedby={`${p}-rh`} />
              {f.rehandle}
            </label>
            <p id={`${p}-rh`} class="hint small">
              {f.rehandleHint}
            </p>
          </div>
        )}
        <div class="field">
          <label for={`${p}-comment`}>{f.comment}</label>
          <textarea
            id={`${p}-comment`}
            rows={3}
            placeholder={f.commentPlaceholder}
            value={draft.comment}
            onInput={(e) => setDraft({ ...draft, comment: (e.currentTarget as HTMLTextAreaElement).value })}
            aria-describedby={`${p}-count`}
          />
          <p id={`${p}-count`} class={`small ${chars > COMMENT_CHARS ? 'count-over' : 'muted'}`}>
            {m.common.charCount(chars, COMMENT_CHARS)}
          </p>
        </div>
      </fieldset>
      <p class="muted small">{f.secretHint}</p>
      {(problem || cmd.error) && (
        <p class="error" role="alert">
          {problem ?? cmd.error}
        </p>
      )}
      <button type="submit" class="primary block" disabled={cmd.busy}>
        {cmd.busy ? m.common.waiting : f.submit}
      </button>
    </form>
  );
}
