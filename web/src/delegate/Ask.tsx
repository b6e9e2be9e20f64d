// Submitting a question (a delegate for themself, an operator on behalf of a
// delegate of the venue) and the list of one's own / the venue's questions,
// with the operator's floor requests (申请发言).

import type { QuestionDto } from '../protocol.ts';
import type { Connection } from '../lib/connection.ts';
import { emptyQuestionDraft, type Drafts } from '../lib/drafts.ts';
import { t } from '../lib/i18n/index.ts';
import { notify } from '../lib/notices.ts';
import { delegateName, type SessionState } from '../lib/state.ts';
import { charCount } from '../lib/ui.tsx';
import { QuestionBody } from './Floor.tsx';
import { DelegatePicker, NamedPicker } from './pickers.tsx';

const OPEN_FOR_QUESTIONS = ['preparing', 'check_in', 'questioning'];

export function AskForm({ conn, state, drafts }: { conn: Connection; state: SessionState; drafts: Drafts }) {
  const m = t();
  const operator = state.you.role === 'venue_operator';
  const draft = drafts.question.value;
  const max = state.session.limits.question_chars;
  const n = charCount(draft.text);
  const tooLong = n > max;
  const open = OPEN_FOR_QUESTIONS.includes(state.session.phase);
  const asker = operator ? draft.onBehalfOf : state.you.delegate;
  const asked = asker ? state.questions.filter((q) => q.askers?.[0] === asker).length : 0;
  const quota = state.session.limits.questions_per_delegate;
  const ready = open && draft.topic !== '' && draft.unit !== '' && n > 0 && !tooLong && (!operator || draft.onBehalfOf !== '');
  const set = (patch: Partial<typeof draft>) => (drafts.question.value = { ...drafts.question.value, ...patch });

  const submit = (e: Event) => {
    e.preventDefault();
    if (!ready) {
      notify(operator && !draft.onBehalfOf ? m.delegate.ask.needDelegate : m.delegate.ask.needFields, 'error');
      return;
    }
    const cmd = {
      type: 'submit_question' as const,
      ...(operator ? { on_behalf_of: draft.onBehalfOf } : {}),
      topic: draft.topic,
      unit: draft.unit,
      text: draft.text.trim(),
    };
    const online = conn.status.value === 'connected';
    void conn.send(cmd).then((o) => {
      if (o.ok) notify(m.delegate.ask.submitted);
    });
    if (!online) notify(m.delegate.ask.queuedOffline);
    // Keep topic/unit/delegate for the next question; clear only the text.
    drafts.question.value = { ...emptyQuestionDraft, topic: draft.topic, unit: draft.unit, onBehalfOf: draft.onBehalfOf };
  };

  return (
    <section class="card" aria-labelledby="ask-h">
      <h2 id="ask-h">{m.delegate.ask.title}</h2>
      {!open && <p class="hint">{m.delegate.ask.closedPhase}</p>}
      <form onSubmit={submit} class="ask-form" noValidate>
        {operator && (
          <>
            <p class="muted small">{m.delegate.ask.onBehalfHint}</p>
            <DelegatePicker id="ask-delegate" state={state} value={draft.onBehalfOf} onChange={(v) => set({ onBehalfOf: v })} />
          </>
        )}
        <NamedPicker id="ask-topic" label={m.common.topic} items={state.session.topics} value={draft.topic} onChange={(v) => set({ topic: v })} />
        <NamedPicker id="ask-unit" label={m.common.unit} items={state.session.units} value={draft.unit} onChange={(v) => set({ unit: v })} />
        <div class="field">
          <label for="ask-text">{m.delegate.ask.text}</label>
          <textarea
            id="ask-text"
            rows={5}
            placeholder={m.delegate.ask.placeholder}
            value={draft.text}
            onInput={(e) => set({ text: (e.currentTarget as HTMLTextAreaElement).value })}
            aria-describedby="ask-count"
          />
        </div>
        <div class="form-row">
          <span id="ask-count" class={tooLong ? 'count count-over' : 'count muted'} aria-live="polite">
            {tooLong ? m.common.tooLong(max) : m.common.charCount(n, max)}
            {asker ? ` · ${m.delegate.ask.quota(asked, quota)}` : ''}
          </span>
          <button type="submit" class="primary" disabled={!open || tooLong}>
            {m.delegate.ask.submit}
          </button>
        </div>
      </form>
    </section>
  );
}

/** A delegate's own questions, or the venue's questions for an operator (with 申请发言). */
export function MyQuestions({ conn, state }: { conn: Connection; state: SessionState }) {
  const m = t();
  const operator = state.you.role === 'venue_operator';
  const mine = operator
    ? state.questions.filter((q) => state.you.venue !== undefined && q.venues.includes(state.you.venue))
    : state.questions.filter((q) => state.you.delegate !== undefined && (q.askers ?? []).includes(state.you.delegate));
  const waiting = conn.outbox.entries.value.filter((e) => e.cmd.type === 'submit_question');
  return (
    <section class="card" aria-labelledby="mine-h">
      <h2 id="mine-h">{operator ? m.delegate.mine.venueTitle : m.delegate.mine.title}</h2>
      {operator && <p class="muted small">{m.delegate.floorRequest.hint}</p>}
      {mine.length === 0 && waiting.length === 0 && <p class="muted">{m.delegate.mine.empty}</p>}
      <ul class="q-list">
        {waiting.map((e) =>
          e.cmd.type === 'submit_question' ? (
            <li key={e.id} class="q-item q-waiting">
              <p>
                <span class="tag tag-pending">{m.common.waiting}</span>
                {e.cmd.on_behalf_of ? ` ${delegateName(state, e.cmd.on_behalf_of)}` : ''}
              </p>
              <p class="q-text pre">{e.cmd.text}</p>
            </li>
          ) : null,
        )}
        {[...mine].reverse().map((q) => (
          <MyQuestion key={q.id} conn={conn} state={state} q={q} operator={operator} />
        ))}
      </ul>
    </section>
  );
}

function MyQuestion({ conn, state, q, operator }: { conn: Connection; state: SessionState; q: QuestionDto; operator: boolean }) {
  const m = t();
  const requested = state.floorRequests.some((r) => r.question === q.id && r.venue === state.you.venue);
  const requesting = conn.outbox.entries.value.some((e) => e.cmd.type === 'request_floor' && e.cmd.question === q.id);
  const canRequest = operator && state.session.phase === 'questioning' && (q.status === 'approved' || q.status === 'queued');
  return (
    <li class="q-item" data-question={q.id}>
      <p>
        <span class={`tag status tag-${q.status}`}>{m.statuses[q.status]}</span> <span class="muted">{m.common.seconds(q.seconds)}</span>
        {q.by_operator && <span class="muted"> · {m.common.byOperator}</span>}
      </p>
      <QuestionBody state={state} q={q} />
      {operator && q.askers && q.askers.length > 0 && (
        <p class="muted small">
          {m.delegate.mine.askers}：{q.askers.map((a) => delegateName(state, a)).join('、')}
        </p>
      )}
      {q.status === 'rejected' && q.reject_reason && <p class="hint">{m.delegate.mine.rejected(q.reject_reason)}</p>}
      {q.status === 'merged' && q.merged_into !== undefined && <p class="hint">{m.delegate.mine.mergedInto(q.merged_into)}</p>}
      {q.status === 'on_floor' && operator && <p class="hint">{m.delegate.floorRequest.onFloor}</p>}
      {canRequest && (
        <button
          type="button"
          class={requested ? 'small' : 'small primary'}
          disabled={requested || requesting}
          onClick={() => void conn.send({ type: 'request_floor', question: q.id })}
        >
          {requested ? m.delegate.floorRequest.requested : requesting ? m.common.sending : m.delegate.floorRequest.request}
        </button>
      )}
    </li>
  );
}
