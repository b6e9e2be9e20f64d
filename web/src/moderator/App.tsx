// moderator.html: the moderator console (主持人控制台). The auditor opens the
// same page and gets the same console read-only (no action controls).
//
// Layout (desktop, 1440×900 and up): a header with the phases, the warning
// banners, the main area in tabs (问政 · 满意度测评 · 文件与表格), the venue
// health board always visible on the right, and the action bar pinned to the
// bottom with the current phase's primary action (Dock.tsx).

import { AnnouncePanel } from './Announce.tsx';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Connection } from '../lib/connection.ts';
import { persistedSignal } from '../lib/drafts.ts';
import { t } from '../lib/i18n/index.ts';
import type { SessionState } from '../lib/state.ts';
import { ConnectionBadge, FatalScreen, LangSwitch, Loading, Notices, WrongPage } from '../lib/ui.tsx';
import { ConsoleContext, useConsole, type Console } from './common.tsx';
import { ActionDock, type Tab } from './Dock.tsx';
import { EvaluationPanel } from './Evaluation.tsx';
import { Exports } from './Exports.tsx';
import { FloorControl } from './Floor.tsx';
import { HealthBoard } from './Health.tsx';
import { mt } from './i18n.ts';
import { Inbox } from './Inbox.tsx';
import { inboxCounts, nextPhase, PHASES, type AnswerDraft } from './logic.ts';
import { FloorRequests, QueuePanel, type GrantRequest } from './Queue.tsx';

const TABS: Tab[] = ['questioning', 'evaluation', 'exports'];

export function App({ conn }: { conn: Connection }) {
  const answerDrafts = useMemo(() => persistedSignal<Record<string, AnswerDraft>>(conn.store, conn.key('draft:answers'), {}), [conn]);
  if (conn.fatal.value) return <FatalScreen conn={conn} />;
  const state = conn.state.value;
  if (!state) {
    return (
      <>
        <header class="m-top">
          <div class="m-top-row">
            <span class="brand">{t().app.name}</span>
            <span class="m-title">{mt().title}</span>
            <span class="grow" />
            <ConnectionBadge conn={conn} />
            <LangSwitch />
          </div>
        </header>
        <Loading />
      </>
    );
  }
  if (state.you.role !== 'moderator' && state.you.role !== 'auditor') return <WrongPage conn={conn} role={state.you.role} title={mt().title} message={mt().wrongPage} goTo={goToLabel(state.you.role)} />;
  const ctx: Console = { conn, readOnly: state.you.role === 'auditor', answerDrafts };
  return (
    <ConsoleContext.Provider value={ctx}>
      <ConsoleView state={state} />
    </ConsoleContext.Provider>
  );
}

/** Another role's link in the console: the way to its own page. */
function goToLabel(role: string): string {
  const m = t();
  const mm = mt();
  return role === 'screen' ? mm.goScreen : role === 'office' ? m.app.office : role === 'unit' ? m.app.unit : mm.goDelegate;
}

function ConsoleView({ state }: { state: SessionState }) {
  const { conn, readOnly } = useConsole();
  const m = t();
  const mm = mt();
  const phase = state.session.phase;
  const [tab, setTab] = useState<Tab>(() => (phase === 'evaluation' || phase === 'closed' ? 'evaluation' : 'questioning'));
  // Entering the evaluation phase brings its controls forward.
  useEffect(() => {
    if (phase === 'evaluation') setTab('evaluation');
  }, [phase]);
  const [grant, setGrant] = useState<GrantRequest | null>(null);
  // A pick is used up once something is on the floor.
  const onFloor = state.floor?.question;
  useEffect(() => {
    if (onFloor !== undefined) setGrant(null);
  }, [onFloor]);
  // The action bar's links into the panels: show the tab, then focus the control.
  const [focusAfter, setFocusAfter] = useState<string | null>(null);
  useEffect(() => {
    if (!focusAfter) return;
    setFocusAfter(null);
    document.querySelector<HTMLElement>(focusAfter)?.focus();
  }, [focusAfter]);
  const onTab = (k: Tab, focus?: string) => {
    setTab(k);
    if (focus) setFocusAfter(focus);
  };
  const onGrant = (question: number, venue?: string) => {
    setTab('questioning');
    setGrant({ question, venue: venue ?? '', nonce: Date.now() + Math.random() });
  };
  const counts = inboxCounts(state.questions);
  const openEval = state.evaluations.some((e) => e.status === 'open');
  const warnings = state.stats.warnings ?? [];

  return (
    <div class={`mod ${readOnly ? 'mod-readonly' : ''}`} data-role={state.you.role}>
      <a class="skip-link" href="#main">
        {mm.skipToMain}
      </a>
      <header class="m-top">
        <div class="m-top-row">
          <span class="brand">{m.app.name}</span>
          <h1 class="m-title">{mm.title}</h1>
          <span class="m-session" title={state.session.title}>
            {state.session.title}
          </span>
          <span class="grow" />
          <span class="role-badge" data-readonly={readOnly ? 'true' : 'false'}>
            {m.roles[state.you.role]}
            {readOnly ? ` · ${mm.readOnly}` : ''}
          </span>
          <ConnectionBadge conn={conn} />
          <LangSwitch />
        </div>
        <PhaseBar state={state} />
      </header>

      {state.stats.store_available === false && (
        <div class="banner banner-bad" role="alert" data-banner="store">
          <strong>{mm.storeDown}</strong>
          <span>{mm.storeDownHint}</span>
        </div>
      )}
      {warnings.length > 0 && (
        <div class="banner banner-warn" role="alert" data-banner="warnings">
          <strong>{mm.warningsTitle}</strong>
          <ul>
            {warnings.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
        </div>
      )}
      {readOnly && (
        <div class="banner banner-info" role="note">
          {mm.readOnlyHint}
        </div>
      )}
      {state.stats.chain_head && (
        <p class="m-chain small" data-chain-head={state.stats.chain_head} title={mm.chainHeadHint}>
          {mm.chainHead} <span class="mono">#{state.stats.seq}</span> <code class="mono">{state.stats.chain_head}</code>
        </p>
      )}

      <div class="m-layout">
        <main id="main" class="m-main" tabIndex={-1}>
          <nav class="m-tabs" aria-label={mm.tabs.label}>
            {TABS.map((k) => (
              <button key={k} type="button" class={`m-tab ${tab === k ? 'm-tab-active' : ''}`} aria-current={tab === k ? 'page' : undefined} onClick={() => setTab(k)} data-tab={k}>
                {mm.tabs[k]}
                {k === 'questioning' && counts.pending > 0 && (
                  <span class="tab-badge" title={mm.inbox.views.pending}>
                    {counts.pending}
                    <span class="visually-hidden"> {mm.inbox.views.pending}</span>
                  </span>
                )}
                {k === 'evaluation' && openEval && <span class="dot" aria-hidden="true" />}
              </button>
            ))}
          </nav>
          {tab === 'questioning' && (
            <div class="q-grid">
              <div class="q-col-left">
                <Inbox state={state} />
              </div>
              <div class="q-col-right">
                <FloorControl state={state} request={grant} />
                <QueuePanel state={state} onGrant={onGrant} />
                <FloorRequests state={state} onGrant={onGrant} />
              </div>
            </div>
          )}
          {tab === 'evaluation' && <EvaluationPanel state={state} />}
          {tab === 'exports' && <Exports state={state} />}
        </main>
        <aside class="m-aside" aria-label={mm.health.title}>
          <AnnouncePanel state={state} />
          <HealthBoard state={state} />
        </aside>
      </div>
      <ActionDock state={state} tab={tab} onTab={onTab} onGrant={onGrant} />
      <Notices />
    </div>
  );
}

/** Where the session is; moving on is in the action bar (Dock.tsx). */
function PhaseBar({ state }: { state: SessionState }) {
  const m = t();
  const mm = mt().phase;
  const phase = state.session.phase;
  const current = PHASES.indexOf(phase);
  return (
    <div class="phase-bar">
      <ol class="phase-steps" aria-label={mm.title}>
        {PHASES.map((p, i) => (
          <li key={p} class={i < current ? 'done' : i === current ? 'current' : ''} aria-current={i === current ? 'step' : undefined} data-phase={p}>
            <span class="step-no" aria-hidden="true">
              {i + 1}
            </span>
            <span class="visually-hidden">{mm.step(i + 1, '')}</span>
            {m.phases[p]}
          </li>
        ))}
      </ol>
      {!nextPhase(phase) && <span class="small">{mm.finished}</span>}
    </div>
  );
}
