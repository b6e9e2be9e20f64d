// 排队: the ordered queue. Reorder with the ↑/↓ buttons, with Alt+↑/Alt+↓
// on a focused row, or by dragging a row (HTML5 drag and drop); each move
// sends the whole new order (`reorder_queue`). The new order is shown at once
// while the command is on its way, and the server's order comes back if it is
// refused. Plus 申请发言: the venues' floor requests.

import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../lib/i18n/index.ts';
import { questionById, venueName, type SessionState } from '../lib/state.ts';
import { ActionStatus, Card, clock, ConfirmButton, useAction, useConsole } from './common.tsx';
import { mt } from './i18n.ts';
import { displayedQueue, dropTarget, moveBefore, moveBy, sameOrder, suggestedVenue } from './logic.ts';

export interface GrantRequest {
  question: number;
  venue: string;
  /** Changes on every request, so the same pick twice still refocuses the form. */
  nonce: number;
}

export function QueuePanel({ state, onGrant }: { state: SessionState; onGrant: (question: number, venue?: string) => void }) {
  const { conn, readOnly } = useConsole();
  const mm = mt().queue;
  const action = useAction(conn);
  const [pending, setPending] = useState<readonly number[] | null>(null);
  const [drag, setDrag] = useState<{ id: number; before: number | null | undefined } | null>(null);
  const [announce, setAnnounce] = useState('');
  const gen = useRef(0);
  const order = displayedQueue(state.queue, pending);
  const listRef = useRef<HTMLOListElement>(null);
  // Moving a row moves its DOM node, which can drop the focus: put it back.
  const focusAfter = useRef<{ id: number; what: 'row' | 'up' | 'down' } | null>(null);
  useEffect(() => {
    const f = focusAfter.current;
    if (!f) return;
    focusAfter.current = null;
    const li = listRef.current?.querySelector<HTMLElement>(`li[data-question="${f.id}"]`);
    if (!li) return;
    const b = f.what === 'row' ? null : li.querySelector<HTMLButtonElement>(`button[data-move="${f.what}"]`);
    const el = b && !b.disabled ? b : li;
    if (document.activeElement !== el) el.focus();
  });

  const commit = (next: readonly number[], moved: number, what: 'row' | 'up' | 'down' | null = null) => {
    if (sameOrder(next, order)) return;
    if (what) focusAfter.current = { id: moved, what };
    const my = ++gen.current;
    setPending(next);
    setAnnounce(mm.moved(moved, next.indexOf(moved) + 1));
    void action.run({ type: 'reorder_queue', order: [...next] }).then(() => {
      if (gen.current === my) setPending(null);
    });
  };

  const requestsFor = (id: number) => state.floorRequests.filter((r) => r.question === id);

  return (
    <Card id="queue" title={mm.title} class="queue" head={<span class="count-badge">{order.length}</span>}>
      {order.length === 0 ? (
        <p class="empty">{mm.empty}</p>
      ) : (
        <ol ref={listRef} class="queue-list plain" aria-describedby={readOnly ? undefined : 'queue-hint'} data-order={order.join(',')}>
          {order.map((id, i) => {
            const q = questionById(state, id);
            const text = q?.text ?? '';
            const reqs = requestsFor(id);
            const dropBefore = drag && drag.before === id && drag.id !== id;
            const dropAfterLast = drag && drag.before === null && i === order.length - 1 && drag.id !== id;
            return (
              <li
                key={id}
                data-question={id}
                class={`queue-row ${drag?.id === id ? 'dragging' : ''} ${dropBefore ? 'drop-before' : ''} ${dropAfterLast ? 'drop-after' : ''}`}
                tabIndex={readOnly ? undefined : 0}
                draggable={!readOnly}
                aria-label={mm.rowLabel(id, i + 1, text)}
                onKeyDown={(e) => {
                  if (readOnly || !e.altKey) return;
                  if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
                    e.preventDefault();
                    commit(moveBy(order, id, e.key === 'ArrowUp' ? -1 : 1), id, 'row');
                  }
                }}
                onDragStart={(e) => {
                  if (readOnly) return;
                  e.dataTransfer?.setData('text/plain', String(id));
                  if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
                  setDrag({ id, before: undefined });
                }}
                onDragOver={(e) => {
                  if (readOnly || !drag) return;
                  e.preventDefault();
                  if (e.dataTransfer) e.dataTransfer.dropEffect = 'move';
                  const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
                  const before = dropTarget(order, id, e.clientY > rect.top + rect.height / 2);
                  if (drag.before !== before) setDrag({ id: drag.id, before });
                }}
                onDrop={(e) => {
                  if (readOnly) return;
                  e.preventDefault();
                  const src = drag?.id ?? Number(e.dataTransfer?.getData('text/plain'));
                  const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
                  const before = dropTarget(order, id, e.clientY > rect.top + rect.height / 2);
                  setDrag(null);
                  if (Number.isInteger(src)) commit(moveBefore(order, src, before), src);
                }}
                onDragEnd={() => setDrag(null)}
              >
                <span class="queue-pos" aria-hidden="true">
                  {i + 1}
                </span>
                <span class="queue-body">
                  <span class="queue-line">
                    <span class="q-no">{t().common.questionNo(id)}</span>
                    <span class="muted small">{q ? q.venues.map((v) => venueName(state, v)).join('、') : ''}</span>
                    {q && (
                      <span class={`seconds ${q.seconds >= 3 ? 'seconds-hot' : q.seconds > 0 ? 'seconds-some' : ''}`} data-seconds={q.seconds}>
                        {mt().common.secondsSignal(q.seconds)}
                      </span>
                    )}
                    {reqs.length > 0 && <span class="tag tag-request">{mm.requested(reqs.map((r) => venueName(state, r.venue)).join('、'))}</span>}
                  </span>
                  <span class="queue-text">{text}</span>
                </span>
                {!readOnly && (
                  <span class="row-actions">
                    <button type="button" class="small icon" data-move="up" aria-label={mm.upLabel(id)} title={mm.up} disabled={i === 0} onClick={() => commit(moveBy(order, id, -1), id, 'up')}>
                      ↑
                    </button>
                    <button
                      type="button"
                      class="small icon"
                      data-move="down"
                      aria-label={mm.downLabel(id)}
                      title={mm.down}
                      disabled={i === order.length - 1}
                      onClick={() => commit(moveBy(order, id, 1), id, 'down')}
                    >
                      ↓
                    </button>
                    <QuickGrant state={state} question={id} venue={reqs[0]?.venue} onCustom={() => onGrant(id, reqs[0]?.venue)} />
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      )}
      {!readOnly && order.length > 1 && (
        <p id="queue-hint" class="muted small">
          {mm.keyboardHint}
        </p>
      )}
      <p class="visually-hidden" aria-live="polite">
        {announce}
      </p>
      {pending && action.busy && !action.retrying && <p class="muted small">{mm.saving}</p>}
      <ActionStatus action={action} conn={conn} />
    </Card>
  );
}

export function FloorRequests({ state, onGrant }: { state: SessionState; onGrant: (question: number, venue?: string) => void }) {
  const { readOnly } = useConsole();
  const mm = mt().requests;
  const list = state.floorRequests;
  return (
    <Card id="requests" title={mm.title} class="requests" head={<span class="count-badge">{list.length}</span>}>
      {list.length === 0 ? (
        <p class="empty">{mm.empty}</p>
      ) : (
        <ul class="plain request-list">
          {list.map((r) => {
            const q = questionById(state, r.question);
            return (
              <li key={`${r.question}-${r.venue}`} data-request={`${r.question}:${r.venue}`}>
                <span class="request-text">
                  <strong>{mm.item(venueName(state, r.venue), r.question)}</strong> <span class="muted small">{clock(r.at)}</span>
                  {q && <span class="queue-text">{q.text}</span>}
                </span>
                {!readOnly && (
                  <QuickGrant state={state} question={r.question} venue={r.venue} onCustom={() => onGrant(r.question, r.venue)} />
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

/**
 * 上席 as one confirmed action (issue 10): the dialog names the question,
 * the venue that asks and the answer time, and granting sends it at once.
 * "Other settings" fills the floor form instead (another venue, another time).
 */
export function QuickGrant({ state, question, venue, onCustom }: { state: SessionState; question: number; venue?: string; onCustom: () => void }) {
  const { conn } = useConsole();
  const mm = mt().queue;
  const m = t();
  const action = useAction(conn);
  const q = questionById(state, question);
  if (!q) return null;
  const asking = venue || suggestedVenue(q, state.floorRequests);
  const seconds = state.session.limits.answer_seconds;
  return (
    <>
      <ConfirmButton
        class="small"
        label={mm.grant}
        title={mm.grantConfirmTitle}
        message={mm.grantConfirm(m.common.questionNo(question), venueName(state, asking), Math.round(seconds / 60))}
        confirmLabel={mm.grant}
        disabled={!!state.floor || action.busy}
        onConfirm={() => void action.run({ type: 'grant_floor', question, venue: asking, answer_seconds: seconds })}
      />
      <button type="button" class="small" title={mm.grantCustom} disabled={!!state.floor} onClick={onCustom}>
        {mm.grantArrange}
      </button>
      <ActionStatus action={action} conn={conn} />
    </>
  );
}

