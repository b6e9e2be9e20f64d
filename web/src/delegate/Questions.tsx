// Public questions: on the floor, queued, approved (with 附议), answered.

import type { QuestionDto } from '../protocol.ts';
import type { Connection } from '../lib/connection.ts';
import { t } from '../lib/i18n/index.ts';
import { isPublic, type SessionState } from '../lib/state.ts';
import { AnswerView, QuestionBody } from './Floor.tsx';

function order(state: SessionState): QuestionDto[] {
  const rank = (q: QuestionDto) => {
    if (q.status === 'on_floor') return 0;
    if (q.status === 'queued') return 1 + state.queue.indexOf(q.id) / 10_000;
    if (q.status === 'approved') return 2;
    return 3;
  };
  return state.questions.filter(isPublic).sort((a, b) => rank(a) - rank(b) || a.id - b.id);
}

export function PublicQuestions({ conn, state }: { conn: Connection; state: SessionState }) {
  const m = t();
  const list = order(state);
  const me = state.you.delegate;
  const delegate = state.you.role === 'delegate';
  return (
    <section class="card" aria-labelledby="public-h">
      <h2 id="public-h">{m.delegate.public.title}</h2>
      {list.length === 0 && <p class="muted">{m.delegate.public.empty}</p>}
      <ul class="q-list">
        {list.map((q) => {
          const own = me !== undefined && (q.askers ?? []).includes(me);
          const seconding = conn.outbox.entries.value.some((e) => e.cmd.type === 'second_question' && e.cmd.question === q.id);
          const canSecond = delegate && !own && (q.status === 'approved' || q.status === 'queued') && state.session.phase !== 'closed';
          return (
            <li key={q.id} class="q-item" data-question={q.id}>
              <p>
                <span class={`tag status tag-${q.status}`}>{m.statuses[q.status]}</span> <span class="muted">{m.common.seconds(q.seconds)}</span>
                {own && <span class="tag"> {m.delegate.public.ownQuestion}</span>}
              </p>
              <QuestionBody state={state} q={q} />
              {q.answer && (
                <details>
                  <summary>{m.floor.answer}</summary>
                  <AnswerView state={state} answer={q.answer} />
                  {q.follow_ups.map((f) => (
                    <div key={f.id} class="follow-up">
                      <p>
                        <span class="tag">{m.floor.followUpNo(f.id)}</span>
                      </p>
                      <p class="pre">{f.text}</p>
                      {f.answer && <AnswerView state={state} answer={f.answer} />}
                    </div>
                  ))}
                </details>
              )}
              {canSecond && (
                <button
                  type="button"
                  class="small"
                  disabled={q.seconded_by_me === true || seconding}
                  aria-pressed={q.seconded_by_me === true}
                  onClick={() => void conn.send({ type: 'second_question', question: q.id })}
                >
                  {q.seconded_by_me ? m.delegate.public.seconded : seconding ? m.common.sending : m.delegate.public.second}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
