// What is on the floor: question, venue, unit, countdown, answers,
// commitments, follow-ups; plus the follow-up form.

import { speakerLine } from '../lib/speakers.ts';
import type { AnswerDto, FollowUpDto, QuestionDto } from '../protocol.ts';
import type { Connection } from '../lib/connection.ts';
import type { Drafts } from '../lib/drafts.ts';
import { t } from '../lib/i18n/index.ts';
import { notify } from '../lib/notices.ts';
import { floorQuestion, topicName, unitName, venueName, type SessionState } from '../lib/state.ts';
import { charCount, Countdown } from '../lib/ui.tsx';
import { DelegatePicker } from './pickers.tsx';

export function AnswerView({ state, answer }: { state: SessionState; answer: AnswerDto }) {
  const m = t().floor;
  return (
    <div class="answer">
      <p class="answer-head">
        <strong>{m.answer}</strong> · {unitName(state, answer.unit)} · <span class="muted">{m.official}</span> {answer.official}
      </p>
      <p class="pre">{answer.summary}</p>
      {answer.commitments.length > 0 && (
        <div class="commitments">
          <h4>{m.commitments}</h4>
          <ol>
            {answer.commitments.map((c, i) => (
              <li key={i}>
                <span>{c.what}</span> <span class="muted">
                  （{unitName(state, c.unit)} · {m.due(c.due)}）
                </span>
              </li>
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}

function FollowUpView({ state, f }: { state: SessionState; f: FollowUpDto }) {
  const m = t().floor;
  return (
    <li class="follow-up">
      <p>
        <span class="tag">{m.followUpNo(f.id)}</span> <span class="muted">{venueName(state, f.venue)}</span>
      </p>
      <p class="pre">{f.text}</p>
      {f.answer ? <AnswerView state={state} answer={f.answer} /> : <p class="muted">{m.noAnswerYet}</p>}
    </li>
  );
}

export function QuestionBody({ state, q }: { state: SessionState; q: QuestionDto }) {
  const m = t();
  return (
    <>
      <p class="q-meta">
        <span class="tag">{m.common.questionNo(q.id)}</span> <span>{q.venues.map((v) => venueName(state, v)).join('、')}</span> ·{' '}
        <span>{topicName(state, q.topic)}</span> · <span>{unitName(state, q.unit)}</span>
      </p>
      <p class="q-text pre">{q.text}</p>
    </>
  );
}

export function FloorView({ conn, state, drafts }: { conn: Connection; state: SessionState; drafts: Drafts }) {
  const m = t();
  const floor = state.floor;
  const q = floorQuestion(state);
  if (!floor || !q) {
    return (
      <section class="card floor floor-empty" aria-labelledby="floor-h">
        <h2 id="floor-h">{m.floor.title}</h2>
        <p>{m.floor.empty}</p>
        <p class="muted" data-idle={state.session.phase}>{m.floor.idle[state.session.phase]}</p>
      </section>
    );
  }
  return (
    <section class="card floor" aria-labelledby="floor-h">
      <div class="floor-top">
        <h2 id="floor-h">{m.floor.title}</h2>
        <Countdown floor={floor} offset={state.clockOffset} />
      </div>
      <p class="floor-venue">
        <span class="muted">{m.floor.askedFrom}</span> <strong>{venueName(state, floor.venue)}</strong>
        {floor.speakers?.length ? <span data-floor-speakers> · {speakerLine(floor.speakers)}</span> : null}
      </p>
      <QuestionBody state={state} q={q} />
      {q.answer ? <AnswerView state={state} answer={q.answer} /> : <p class="muted">{m.floor.noAnswerYet}</p>}
      {q.follow_ups.length > 0 && (
        <div class="follow-ups">
          <h3>{m.floor.followUps}</h3>
          <ol class="plain">
            {q.follow_ups.map((f) => (
              <FollowUpView key={f.id} state={state} f={f} />
            ))}
          </ol>
        </div>
      )}
      <FollowUpForm conn={conn} state={state} drafts={drafts} />
    </section>
  );
}

function FollowUpForm({ conn, state, drafts }: { conn: Connection; state: SessionState; drafts: Drafts }) {
  const m = t();
  const operator = state.you.role === 'venue_operator';
  if (state.session.phase !== 'questioning' || !state.floor) return null;
  const draft = drafts.followUp.value;
  const max = state.session.limits.question_chars;
  const n = charCount(draft.text);
  const tooLong = n > max;
  const canSend = n > 0 && !tooLong && (!operator || draft.onBehalfOf !== '');
  const submit = (e: Event) => {
    e.preventDefault();
    if (operator && draft.onBehalfOf === '') return notify(m.delegate.ask.needDelegate, 'error');
    if (!canSend) return;
    const cmd = operator
      ? { type: 'add_follow_up' as const, on_behalf_of: draft.onBehalfOf, text: draft.text.trim() }
      : { type: 'add_follow_up' as const, text: draft.text.trim() };
    void conn.send(cmd).then((o) => {
      if (o.ok) notify(m.delegate.followUp.submitted);
    });
    drafts.followUp.value = { text: '', onBehalfOf: draft.onBehalfOf };
  };
  return (
    <form class="follow-up-form" onSubmit={submit} noValidate>
      <h3>
        <label for="follow-up-text">{m.delegate.followUp.title}</label>
      </h3>
      {operator && (
        <DelegatePicker
          id="follow-up-delegate"
          state={state}
          value={draft.onBehalfOf}
          onChange={(v) => (drafts.followUp.value = { ...drafts.followUp.value, onBehalfOf: v })}
        />
      )}
      <textarea
        id="follow-up-text"
        rows={3}
        placeholder={m.delegate.followUp.placeholder}
        value={draft.text}
        onInput={(e) => (drafts.followUp.value = { ...drafts.followUp.value, text: (e.currentTarget as HTMLTextAreaElement).value })}
        aria-describedby="follow-up-count"
      />
      <div class="form-row">
        <span id="follow-up-count" class={tooLong ? 'count count-over' : 'count muted'} aria-live="polite">
          {tooLong ? m.common.tooLong(max) : m.common.charCount(n, max)}
        </span>
        <button type="submit" class="primary" disabled={!canSend}>
          {m.delegate.followUp.submit}
        </button>
      </div>
    </form>
  );
}
