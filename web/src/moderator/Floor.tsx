// 发言控制: grant the floor to (venue, question) with an answer time, the
// server-authoritative countdown and its restart, the follow-ups (追问) with
// their answer state, the answer forms (答复: unit, official, summary,
// commitments 承诺事项) for the question and each follow-up, and ending the
// item (the server refuses while an answer is missing: 一问再问), which the
// console's action bar (Dock.tsx) keeps in view.

import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { AnswerDto, FollowUpDto, QuestionDto } from '../protocol.ts';
import { t } from '../lib/i18n/index.ts';
import { notify } from '../lib/notices.ts';
import { delegateName, floorQuestion, questionById, unitName, venueName, type SessionState } from '../lib/state.ts';
import { Countdown } from '../lib/ui.tsx';
import { ActionStatus, Card, clock, QuestionMeta, QuestionText, useAction, useConsole } from './common.tsx';
import { mt } from './i18n.ts';
import {
  answerCommand,
  answerKey,
  chars,
  describeMissing,
  emptyAnswer,
  emptyCommitment,
  floorCandidates,
  parseSeconds,
  suggestedVenue,
  validateAnswer,
  type AnswerDraft,
  type AnswerProblems,
  type Missing,
} from './logic.ts';
import type { GrantRequest } from './Queue.tsx';

export function FloorControl({ state, request }: { state: SessionState; request: GrantRequest | null }) {
  const { readOnly } = useConsole();
  const mm = mt().floor;
  const floor = state.floor;
  const q = floorQuestion(state);
  if (!floor || !q) {
    return (
      <Card id="floor" title={mm.title} class="floor-ctl floor-free">
        <p class="floor-empty" data-floor="">
          {mm.empty}
        </p>
        {!readOnly && <GrantForm state={state} request={request} />}
      </Card>
    );
  }
  return (
    <Card
      id="floor"
      title={mm.title}
      class="floor-ctl floor-on"
      head={
        <span class="floor-clock">
          <span class="muted small">{mm.countdown}</span>
          <Countdown floor={floor} offset={state.clockOffset} class="big-countdown" />
        </span>
      }
    >
      <div data-floor={q.id}>
        <p class="floor-venue">
          <span class="tag tag-on_floor">{mm.onFloor}</span> <span class="muted">{mm.askedFrom}</span> <strong data-floor-venue>{venueName(state, floor.venue)}</strong>{' '}
          <span class="muted small">{mm.grantedAt(clock(floor.granted_at))}</span>
        </p>
        <QuestionMeta state={state} q={q} status={false} />
        <QuestionText state={state} q={q} />
        {!readOnly && <RestartCountdown state={state} />}

        <div class="answer-block" data-answer-for="question">
          <h3>
            {mm.answer} <AnswerTag answered={!!q.answer} />
          </h3>
          {q.answer ? <AnswerView state={state} answer={q.answer} /> : readOnly ? null : <AnswerForm state={state} q={q} />}
        </div>

        <div class="follow-ups">
          <h3>
            {mm.followUps} <span class="count-badge">{q.follow_ups.length}</span>
          </h3>
          {q.follow_ups.length === 0 ? (
            <p class="muted small">{mm.followUpsEmpty}</p>
          ) : (
            <ol class="plain">
              {q.follow_ups.map((f) => (
                <FollowUpItem key={f.id} state={state} q={q} f={f} />
              ))}
            </ol>
          )}
        </div>

      </div>
    </Card>
  );
}

function AnswerTag({ answered }: { answered: boolean }) {
  const mm = mt().floor;
  return <span class={`tag ${answered ? 'tag-answered' : 'tag-pending'}`}>{answered ? mm.answered : mm.noAnswer}</span>;
}

function GrantForm({ state, request }: { state: SessionState; request: GrantRequest | null }) {
  const { conn } = useConsole();
  const mm = mt().floor;
  const m = t();
  const action = useAction(conn);
  const candidates = floorCandidates(state);
  const max = state.session.limits.max_answer_seconds;
  const [qid, setQid] = useState<string>('');
  const [venue, setVenue] = useState<string>('');
  const [seconds, setSeconds] = useState<string>(String(state.session.limits.answer_seconds));
  const [problem, setProblem] = useState<string | null>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);

  // A pick from the queue or the floor requests fills the form and moves focus to it.
  useEffect(() => {
    if (!request) return;
    setQid(String(request.question));
    const q = questionById(state, request.question);
    setVenue(request.venue || (q ? suggestedVenue(q, state.floorRequests) : ''));
    setProblem(null);
    buttonRef.current?.focus();
  }, [request?.nonce]);

  // Default: the head of the queue.
  const chosen = candidates.find((c) => String(c.id) === qid) ?? candidates[0];
  const venues = chosen?.venues ?? [];
  const chosenVenue = venue && venues.includes(venue) ? venue : chosen ? suggestedVenue(chosen, state.floorRequests) : '';
  const questioning = state.session.phase === 'questioning';

  const submit = (e: Event) => {
    e.preventDefault();
    if (!chosen) {
      setProblem(mm.chooseQuestion);
      return;
    }
    const s = parseSeconds(seconds, max);
    if (s === null) {
      setProblem(mm.secondsInvalid(max));
      return;
    }
    setProblem(null);
    void action.run({ type: 'grant_floor', venue: chosenVenue, question: chosen.id, answer_seconds: s });
  };

  if (candidates.length === 0) return <p class="muted small">{mm.noCandidates}</p>;
  return (
    <form class="grant-form" onSubmit={submit} noValidate data-form="grant">
      <h3>{mm.grantTitle}</h3>
      {!questioning && <p class="hint-warn small">{mm.notQuestioning}</p>}
      <div class="field">
        <label for="grant-question">{mm.question}</label>
        <select id="grant-question" value={chosen ? String(chosen.id) : ''} onChange={(e) => setQid((e.currentTarget as HTMLSelectElement).value)}>
          {candidates.map((c) => (
            <option key={c.id} value={String(c.id)}>
              {m.common.questionNo(c.id)}（{m.statuses[c.status]}）：{Array.from(c.text).slice(0, 36).join('')}
            </option>
          ))}
        </select>
      </div>
      <div class="field-row">
        <div class="field">
          <label for="grant-venue">{mm.venue}</label>
          <select id="grant-venue" value={chosenVenue} onChange={(e) => setVenue((e.currentTarget as HTMLSelectElement).value)}>
            {venues.map((v) => (
              <option key={v} value={v}>
                {venueName(state, v)}
              </option>
            ))}
          </select>
        </div>
        <div class="field field-narrow">
          <label for="grant-seconds">{mm.seconds}</label>
          <input
            id="grant-seconds"
            type="number"
            inputMode="numeric"
            min={1}
            max={max}
            step={1}
            value={seconds}
            aria-invalid={problem === mm.secondsInvalid(max)}
            onInput={(e) => setSeconds((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button ref={buttonRef} type="submit" class="primary" disabled={action.busy} data-action="grant">
          {mm.grant}
        </button>
      </div>
      {problem && (
        <p class="field-error" role="alert">
          {problem}
        </p>
      )}
      <ActionStatus action={action} conn={conn} />
    </form>
  );
}

function RestartCountdown({ state }: { state: SessionState }) {
  const { conn } = useConsole();
  const mm = mt().floor;
  const action = useAction(conn);
  const max = state.session.limits.max_answer_seconds;
  const [seconds, setSeconds] = useState(String(state.session.limits.answer_seconds));
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    const s = parseSeconds(seconds, max);
    if (s === null) {
      setProblem(mm.secondsInvalid(max));
      return;
    }
    setProblem(null);
    void action.run({ type: 'start_countdown', seconds: s });
  };
  return (
    <form class="restart-form" onSubmit={submit} noValidate data-form="countdown">
      <label for="restart-seconds">{mm.restartSeconds}</label>
      <input
        id="restart-seconds"
        type="number"
        inputMode="numeric"
        min={1}
        max={max}
        step={1}
        value={seconds}
        aria-invalid={problem !== null}
        onInput={(e) => setSeconds((e.currentTarget as HTMLInputElement).value)}
      />
      <button type="submit" class="small" disabled={action.busy}>
        {mm.restart}
      </button>
      {state.floor?.paused_remaining === undefined ? (
        <button type="button" class="small" disabled={action.busy} onClick={() => void action.run({ type: 'pause_countdown' })}>
          {mm.pause}
        </button>
      ) : (
        <button type="button" class="small primary" disabled={action.busy} onClick={() => void action.run({ type: 'resume_countdown' })}>
          {mm.resume}
        </button>
      )}
      <button type="button" class="small" disabled={action.busy} onClick={() => void action.run({ type: 'extend_countdown', seconds: 60 })}>
        {mm.plusMinute}
      </button>
      {problem && (
        <span class="field-error" role="alert">
          {problem}
        </span>
      )}
      <ActionStatus action={action} conn={conn} />
    </form>
  );
}

function FollowUpItem({ state, q, f }: { state: SessionState; q: QuestionDto; f: FollowUpDto }) {
  const { readOnly } = useConsole();
  const mm = mt().floor;
  const [open, setOpen] = useState(false);
  return (
    <li class="follow-up" data-follow-up={f.id} data-answered={f.answer ? 'true' : 'false'}>
      <p class="fu-head">
        <span class="tag">{mm.followUpNo(f.id)}</span> <span>{venueName(state, f.venue)}</span>
        {f.asker && <span class="muted"> · {delegateName(state, f.asker)}</span>}
        <span class="muted small"> · {clock(f.at)}</span> <AnswerTag answered={!!f.answer} />
      </p>
      <p class="pre fu-text">{f.text}</p>
      {f.answer ? (
        <AnswerView state={state} answer={f.answer} />
      ) : readOnly ? null : open ? (
        <>
          <AnswerForm state={state} q={q} followUp={f.id} />
          <button type="button" class="small link-button" onClick={() => setOpen(false)}>
            {mm.hideForm}
          </button>
        </>
      ) : (
        <button type="button" class="small" onClick={() => setOpen(true)} aria-label={mm.recordFor(mm.followUpNo(f.id))}>
          {mm.recordAnswer}
        </button>
      )}
    </li>
  );
}

export function AnswerView({ state, answer }: { state: SessionState; answer: AnswerDto }) {
  const m = t().floor;
  const ma = mt().answer;
  return (
    <div class="answer">
      <p class="answer-head">
        <strong>{unitName(state, answer.unit)}</strong> · <span class="muted">{m.official}</span> {answer.official} <span class="muted small">· {clock(answer.at)}</span>
      </p>
      <p class="pre">{answer.summary}</p>
      {answer.commitments.length > 0 && (
        <div class="commitments">
          <h4>{m.commitments}</h4>
          <ol>
            {answer.commitments.map((c, i) => (
              <li key={i}>
                <span>{c.what}</span>{' '}
                <span class="muted">
                  （{unitName(state, c.unit)} · {ma.dueShort(c.due)}）
                </span>
              </li>
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}

/** The answer form of the question on the floor (no `followUp`) or of one follow-up. */
function AnswerForm({ state, q, followUp }: { state: SessionState; q: QuestionDto; followUp?: number }) {
  const { conn, answerDrafts } = useConsole();
  const ma = mt().answer;
  const mf = mt().floor;
  const m = t();
  const action = useAction(conn);
  const key = answerKey(q.id, followUp);
  const limits = state.session.limits;
  const units = state.session.units;
  const d: AnswerDraft = answerDrafts.value[key] ?? emptyAnswer(q.unit);
  const set = (next: AnswerDraft) => {
    answerDrafts.value = { ...answerDrafts.value, [key]: next };
  };
  const [showProblems, setShowProblems] = useState(false);
  const problems: AnswerProblems = validateAnswer(d, limits, units);
  const formRef = useRef<HTMLFormElement>(null);
  const p = (k: string) => (showProblems ? problems[k] : undefined);
  const prefix = `ans-${key}`;

  const submit = (e: Event) => {
    e.preventDefault();
    if (Object.keys(problems).length > 0) {
      setShowProblems(true);
      // Focus the first invalid field once it is marked.
      setTimeout(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), 0);
      return;
    }
    setShowProblems(false);
    void action.run(answerCommand(d, followUp)).then((o) => {
      if (o.ok) {
        const rest = { ...answerDrafts.value };
        delete rest[key];
        answerDrafts.value = rest;
        notify(ma.recorded);
      }
    });
  };

  const problemText = (k: string, max?: number): string | null => {
    const x = p(k);
    if (!x) return null;
    if (x === 'empty') return ma.empty;
    if (x === 'tooLong') return ma.tooLong(max ?? 0);
    if (x === 'badDate') return ma.badDate;
    if (x === 'noUnit') return ma.noUnit;
    return ma.tooMany(limits.commitments_per_answer);
  };

  const title = followUp === undefined ? mf.recordFor(mf.answer) : mf.recordFor(mf.followUpNo(followUp));
  return (
    <form ref={formRef} class="answer-form" onSubmit={submit} noValidate aria-label={title} data-form={followUp === undefined ? 'answer' : `answer-${followUp}`}>
      <div class="field-row">
        <div class="field">
          <label for={`${prefix}-unit`}>{ma.unit}</label>
          <select id={`${prefix}-unit`} value={d.unit} aria-invalid={!!p('unit')} onChange={(e) => set({ ...d, unit: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">{m.common.choose}</option>
            {units.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
          <FieldError text={problemText('unit')} />
        </div>
        <div class="field">
          <label for={`${prefix}-official`}>{ma.official}</label>
          <input
            id={`${prefix}-official`}
            type="text"
            value={d.official}
            aria-invalid={!!p('official')}
            onInput={(e) => set({ ...d, official: (e.currentTarget as HTMLInputElement).value })}
          />
          <FieldError text={problemText('official', limits.short_chars)} />
        </div>
      </div>
      <div class="field">
        <label for={`${prefix}-summary`}>{ma.summary}</label>
        <textarea
          id={`${prefix}-summary`}
          rows={3}
          value={d.summary}
          aria-invalid={!!p('summary')}
          aria-describedby={`${prefix}-summary-count`}
          onInput={(e) => set({ ...d, summary: (e.currentTarget as HTMLTextAreaElement).value })}
        />
        <span id={`${prefix}-summary-count`} class={chars(d.summary) > limits.answer_chars ? 'count count-over' : 'count muted'}>
          {mt().inbox.charCount(chars(d.summary), limits.answer_chars)}
        </span>
        <FieldError text={problemText('summary', limits.answer_chars)} />
      </div>
      <fieldset class="commitments-edit">
        <legend>{ma.commitments}</legend>
        {d.commitments.map((c, i) => {
          const cp = `${prefix}-c${i}`;
          const setC = (patch: Partial<typeof c>) => set({ ...d, commitments: d.commitments.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
          return (
            <div class="commitment-row" key={i} role="group" aria-label={ma.commitmentNo(i + 1)} data-commitment={i}>
              <div class="field grow">
                <label for={`${cp}-what`}>{ma.what}</label>
                <input id={`${cp}-what`} type="text" value={c.what} aria-invalid={!!p(`c${i}.what`)} onInput={(e) => setC({ what: (e.currentTarget as HTMLInputElement).value })} />
                <FieldError text={problemText(`c${i}.what`, limits.short_chars)} />
              </div>
              <div class="field">
                <label for={`${cp}-unit`}>{ma.cunit}</label>
                <select id={`${cp}-unit`} value={c.unit} aria-invalid={!!p(`c${i}.unit`)} onChange={(e) => setC({ unit: (e.currentTarget as HTMLSelectElement).value })}>
                  <option value="">{m.common.choose}</option>
                  {units.map((u) => (
                    <option key={u.id} value={u.id}>
                      {u.name}
                    </option>
                  ))}
                </select>
                <FieldError text={problemText(`c${i}.unit`)} />
              </div>
              <div class="field field-date">
                <label for={`${cp}-due`}>{ma.due}</label>
                <input
                  id={`${cp}-due`}
                  type="date"
                  min="2000-01-01"
                  max="2999-12-31"
                  value={c.due}
                  aria-invalid={!!p(`c${i}.due`)}
                  onInput={(e) => setC({ due: (e.currentTarget as HTMLInputElement).value })}
                  onChange={(e) => setC({ due: (e.currentTarget as HTMLInputElement).value })}
                />
                <FieldError text={problemText(`c${i}.due`)} />
              </div>
              <button type="button" class="small icon" aria-label={ma.removeLabel(i + 1)} title={ma.remove} onClick={() => set({ ...d, commitments: d.commitments.filter((_, j) => j !== i) })}>
                ×
              </button>
            </div>
          );
        })}
        <FieldError text={problemText('commitments')} />
        <button
          type="button"
          class="small"
          disabled={d.commitments.length >= limits.commitments_per_answer}
          onClick={() => set({ ...d, commitments: [...d.commitments, emptyCommitment(d.unit || q.unit)] })}
        >
          + {ma.add}
        </button>
      </fieldset>
      <div class="form-row">
        {showProblems && Object.keys(problems).length > 0 && (
          <span class="field-error" role="alert">
            {ma.fix}
          </span>
        )}
        <span class="grow" />
        <button type="submit" class="primary" disabled={action.busy}>
          {ma.submit}
        </button>
      </div>
      <ActionStatus action={action} conn={conn} />
    </form>
  );
}

function FieldError({ text }: { text: string | null }) {
  return text ? <span class="field-error">{text}</span> : null;
}

/**
 * 结束本项: the primary action while a question is on the floor, kept in view
 * by the console's action bar (Dock.tsx). The server refuses while an
 * answer is missing; the bar says which before it is clicked.
 */
export function EndFloor({ missing }: { missing: readonly Missing[] }) {
  const { conn } = useConsole();
  const mm = mt().floor;
  const action = useAction(conn);
  const hint = useId();
  return (
    <div class="end-floor">
      {missing.length > 0 && (
        <span id={hint} class="hint-warn small" data-missing title={mm.endHint}>
          {mm.missingNow(describeMissing(missing, mt().errors))}
        </span>
      )}
      <button
        type="button"
        class="primary"
        disabled={action.busy}
        data-action="end-floor"
        aria-describedby={missing.length > 0 ? hint : undefined}
        onClick={() => void action.run({ type: 'end_floor' }).then((o) => o.ok && notify(mm.ended))}
      >
        {mm.end}
      </button>
      <ActionStatus action={action} conn={conn} />
    </div>
  );
}
