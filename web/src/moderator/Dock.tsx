// The console's action bar (issue 10): pinned to the bottom of the window, it
// keeps the primary action of the current phase in view however long the
// panels above grow (primary.ts picks it). The actions are the console's own
// components, moved here from the panels (not copies): moving to the next
// phase, 上席 for the next question, 结束本项, 结束测评并揭晓结果 with the live
// turnout. Moving to the next phase is always here; it is the highlighted
// action only when it is the phase's primary one. The auditor sees the same
// facts without controls.

import { t } from '../lib/i18n/index.ts';
import { notify } from '../lib/notices.ts';
import { questionById, unitName, venueName, type SessionState } from '../lib/state.ts';
import { Countdown } from '../lib/ui.tsx';
import { ActionStatus, ConfirmButton, useAction, useConsole } from './common.tsx';
import { dt } from './dock-i18n.ts';
import { CloseEvaluation } from './Evaluation.tsx';
import { EndFloor } from './Floor.tsx';
import { mt } from './i18n.ts';
import { nextPhase, openFacts, phaseBlockers, turnoutPct, unaskedQuestions } from './logic.ts';
import { primaryAction, type PrimaryAction } from './primary.ts';
import { QuickGrant } from './Queue.tsx';

export type Tab = 'questioning' | 'evaluation' | 'exports';

interface DockProps {
  state: SessionState;
  /** The console's tab on show. */
  tab: Tab;
  /** Shows a tab of the console and moves the focus to `focus` (a selector) in it. */
  onTab: (tab: Tab, focus?: string) => void;
  /** Fills the floor form with a question (“安排上席”). */
  onGrant: (question: number, venue?: string) => void;
}

export function ActionDock({ state, tab, onTab, onGrant }: DockProps) {
  const { readOnly } = useConsole();
  const d = dt();
  const action = primaryAction(state);
  const next = nextPhase(state.session.phase);
  return (
    <div class="m-dock" role="region" aria-label={d.label} data-primary={action.kind}>
      <span class="dock-phase">{d.phase(t().phases[state.session.phase])}</span>
      <div class="dock-primary">
        <Primary state={state} tab={tab} action={action} onTab={onTab} onGrant={onGrant} />
      </div>
      {!readOnly && next && action.kind !== 'advance' && (
        <div class="dock-secondary">
          <AdvancePhase state={state} primary={false} />
        </div>
      )}
    </div>
  );
}

function Primary({ state, tab, action, onTab, onGrant }: DockProps & { action: PrimaryAction }) {
  const { readOnly } = useConsole();
  const d = dt();
  const m = t();
  switch (action.kind) {
    case 'advance': {
      const facts = openFacts(state, []);
      const context =
        state.session.phase === 'check_in'
          ? d.checkedIn(facts.checkedIn, facts.roster)
          : state.session.phase === 'questioning'
            ? d.nothingLeft
            : state.session.phase === 'evaluation'
              ? d.allRated
              : '';
      return (
        <>
          {context && <span class="dock-context">{context}</span>}
          {!readOnly && <AdvancePhase state={state} primary />}
        </>
      );
    }
    case 'review':
      return (
        <>
          <span class="dock-context">{d.review(action.pending)}</span>
          <button type="button" class="primary" onClick={() => onTab('questioning', '#inbox button[data-view="pending"]')}>
            {d.reviewButton}
          </button>
        </>
      );
    case 'grant': {
      const q = questionById(state, action.question);
      return (
        <>
          <span class="dock-context" data-next={action.question}>
            <span class="muted">{d.next}：</span>
            <strong>{m.common.questionNo(action.question)}</strong> · {venueName(state, action.venue)}
            {q && <span class="dock-text"> · {q.text}</span>}
          </span>
          {!readOnly && <QuickGrant state={state} question={action.question} venue={action.venue} onCustom={() => onGrant(action.question, action.venue)} />}
        </>
      );
    }
    case 'end_floor':
      return (
        <>
          <span class="dock-context" data-on-floor={action.question}>
            <span class="muted">{d.onFloor}：</span>
            <strong>{m.common.questionNo(action.question)}</strong>
            {state.floor && <> · {venueName(state, state.floor.venue)}</>}
          </span>
          {state.floor && <Countdown floor={state.floor} offset={state.clockOffset} class="dock-countdown" />}
          {!readOnly && <EndFloor missing={action.missing} />}
        </>
      );
    case 'open_evaluation':
      return (
        <>
          <span class="dock-context">{state.evaluations.length === 0 ? d.noRoundYet : d.unitsLeft(action.units)}</span>
          {!readOnly && (
            <button type="button" class="primary" onClick={() => onTab('evaluation', '#eval-open input[type="checkbox"]')}>
              {d.chooseUnits}
            </button>
          )}
        </>
      );
    case 'close_evaluation': {
      const mm = mt().evaluation;
      const tv = action.turnout;
      return (
        <>
          <span class="dock-context">
            <strong>{d.roundOpen(action.evaluation)}</strong>
            {tv && (
              <>
                {' · '}
                <span data-turnout={`${tv.voted}/${tv.eligible}`}>
                  {mm.turnoutOf(tv.voted, tv.eligible)} · {turnoutPct(tv.voted, tv.eligible)}
                </span>
              </>
            )}
            <span class="dock-text">
              {' · '}
              {state.evaluations.find((e) => e.id === action.evaluation)?.units.map((u) => unitName(state, u)).join('、')}
            </span>
          </span>
          {!readOnly && <CloseEvaluation evaluation={action.evaluation} />}
        </>
      );
    }
    case 'documents':
      return (
        <>
          <span class="dock-context">{d.afterSession}</span>
          {tab !== 'exports' && (
            <button type="button" onClick={() => onTab('exports')}>
              {d.documents}
            </button>
          )}
        </>
      );
  }
}

/** 进入下一阶段, confirmed, with what blocks it and the questions that will never be asked. */
function AdvancePhase({ state, primary }: { state: SessionState; primary: boolean }) {
  const { conn } = useConsole();
  const m = t();
  const mm = mt().phase;
  const action = useAction(conn);
  const phase = state.session.phase;
  const next = nextPhase(phase);
  if (!next) return null;
  const blockers = phaseBlockers(state);
  const unasked = unaskedQuestions(state.questions);
  return (
    <div class="phase-advance">
      <ConfirmButton
        class={primary ? 'primary' : ''}
        label={mm.advance(m.phases[next])}
        title={mm.confirmTitle}
        message={mm.confirm(m.phases[phase], m.phases[next])}
        confirmLabel={mm.ok}
        disabled={action.busy}
        onConfirm={() => void action.run({ type: 'advance_phase', to: next }).then((o) => o.ok && notify(mm.advanced(m.phases[next])))}
      >
        {blockers.length > 0 && (
          <ul class="hint-warn">
            {blockers.includes('floor') && <li>{mm.blockFloor}</li>}
            {blockers.includes('evaluation') && <li>{mm.blockEvaluation}</li>}
          </ul>
        )}
        {next === 'evaluation' && unasked.length > 0 && (
          <div class="hint-warn" data-unasked={unasked.length}>
            <p>{mm.unasked(unasked.length)}</p>
            <ul>
              {unasked.map((q) => (
                <li key={q.id}>
                  {m.common.questionNo(q.id)} · {q.text.length > 40 ? `${q.text.slice(0, 40)}…` : q.text}
                </li>
              ))}
            </ul>
          </div>
        )}
      </ConfirmButton>
      <ActionStatus action={action} conn={conn} />
    </div>
  );
}
