// delegate.html: the delegate (代表) and the venue operator (分会场联络员).
// `you.role` in the snapshot decides which. Phone first.

import { AnnouncementBanner } from '../lib/announce-ui.tsx';
import { signal } from '@preact/signals';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Connection } from '../lib/connection.ts';
import { createDrafts, type Drafts } from '../lib/drafts.ts';
import { t } from '../lib/i18n/index.ts';
import { venueName, type SessionState } from '../lib/state.ts';
import { ConnectionBadge, FatalScreen, LangSwitch, Loading, Notices, WrongPage } from '../lib/ui.tsx';
import { AskForm, MyQuestions } from './Ask.tsx';
import { EvaluationTab } from './Evaluation.tsx';
import { FloorView } from './Floor.tsx';
import { PublicQuestions } from './Questions.tsx';
import { CheckInBanner } from './CheckIn.tsx';
import { CHECK_IN_PHASES, venueRequests } from './checkin.ts';
import { Roster } from './Roster.tsx';

type Tab = 'checkIn' | 'live' | 'ask' | 'questions' | 'evaluation' | 'followUp';

/** Phases in which the follow-up tab is offered. */
function followUpPhase(state: SessionState): boolean {
  return state.session.phase === 'closed' || state.session.phase === 'archived';
}

// The follow-up (rating the units' answers after the session) is a chunk of
// its own, loaded once the session is closed: the live session's phones do
// not download it.
type FollowUpModule = typeof import('./FollowUp.tsx');
const followUpModule = signal<FollowUpModule | null>(null);
let followUpLoading = false;
function loadFollowUp(): void {
  if (followUpLoading) return;
  followUpLoading = true;
  import('./FollowUp.tsx').then(
    (mod) => (followUpModule.value = mod),
    () => (followUpLoading = false),
  );
}

function FollowUpLazy({ conn, state }: { conn: Connection; state: SessionState }) {
  const mod = followUpModule.value;
  if (!mod) {
    loadFollowUp();
    return <Loading />;
  }
  return <mod.FollowUpTab conn={conn} state={state} />;
}

export function App({ conn }: { conn: Connection }) {
  const drafts = useMemo(() => createDrafts(conn.store, conn.key('')), [conn]);
  if (conn.fatal.value) return <FatalScreen conn={conn} />;
  const state = conn.state.value;
  if (!state) {
    return (
      <>
        <header class="top">
          <div class="top-row">
            <span class="brand">{t().app.name}</span>
            <ConnectionBadge conn={conn} />
          </div>
        </header>
        <Loading />
      </>
    );
  }
  if (state.you.role !== 'delegate' && state.you.role !== 'venue_operator') return <WrongPage conn={conn} role={state.you.role} title={t().app.name} message={t().delegate.wrongPage} goTo={goToLabel(state.you.role)} />;
  return <Main conn={conn} state={state} drafts={drafts} />;
}

/** Another role's link on this page: the way to its own page. */
function goToLabel(role: string): string {
  const m = t().app;
  return role === 'screen' ? m.screen : role === 'office' ? m.office : role === 'unit' ? m.unit : m.moderator;
}

function Main({ conn, state, drafts }: { conn: Connection; state: SessionState; drafts: Drafts }) {
  const m = t();
  const operator = state.you.role === 'venue_operator';
  const openEval = state.evaluations.find((e) => e.status === 'open');
  const after = followUpPhase(state);
  const [tab, setTab] = useState<Tab>(() =>
    openEval ? 'evaluation' : after ? 'followUp' : operator && state.session.phase === 'check_in' ? 'checkIn' : 'live',
  );
  // An operator's page that is already open moves to 签到 when check-in
  // starts (that is the station's job then).
  const phase = state.session.phase;
  useEffect(() => {
    if (operator && phase === 'check_in') setTab('checkIn');
  }, [operator, phase]);
  // After the session the follow-up comes first; the live tabs stay for the record.
  const tabs: Tab[] = [
    ...(after ? (['followUp'] as Tab[]) : []),
    ...((operator ? ['checkIn', 'live', 'ask', 'questions', 'evaluation'] : ['live', 'ask', 'questions', 'evaluation']) as Tab[]),
  ];
  const venue = state.you.venue ? venueName(state, state.you.venue) : '';
  // Check-in requests waiting for this station (policy `confirmed`): a dot on 签到.
  const requests = operator && state.you.venue && CHECK_IN_PHASES.includes(phase) ? venueRequests(state, state.you.venue).length : 0;
  const me = state.you.delegate;
  const checkedIn = me !== undefined && me in state.checkedIn;

  return (
    <>
      <header class="top">
        <div class="top-row">
          <span class="brand">{m.app.name}</span>
          <span class="phase">{m.phases[state.session.phase]}</span>
          <ConnectionBadge conn={conn} />
          <LangSwitch />
        </div>
        <p class="session-title">{state.session.title}</p>
        <p class="who" data-role={state.you.role}>
          <span class="visually-hidden">{m.delegate.you}：</span>
          <strong class="who-name">{state.you.name}</strong>
          {operator ? null : <span> · {venue}</span>}
          <span class="role-badge">{m.roles[state.you.role]}</span>
          {!operator && checkedIn && <span class="ok small"> ✓ {m.delegate.checkedIn}</span>}
        </p>
        <nav class="tabs" aria-label={m.delegate.tabsLabel}>
          {tabs.map((k) => (
            <button
              key={k}
              type="button"
              class={`tab ${tab === k ? 'tab-active' : ''}`}
              aria-current={tab === k ? 'page' : undefined}
              onClick={() => setTab(k)}
              data-tab={k}
            >
              {m.delegate.tabs[k]}
              {k === 'evaluation' && openEval && <span class="dot" aria-hidden="true" />}
              {k === 'checkIn' && requests > 0 && (
                <>
                  <span class="dot" aria-hidden="true" data-requests={requests} />
                  <span class="visually-hidden">{m.delegate.roster.requests(requests)}</span>
                </>
              )}
            </button>
          ))}
        </nav>
      </header>
      <main class="content">
        {state.you.venue && (
          <AnnouncementBanner state={state} audience={{ venue: state.you.venue }} ackAs={operator ? { conn, venue: state.you.venue } : undefined} />
        )}
        {openEval && tab !== 'evaluation' && (
          <div class="banner" role="status">
            <span>{m.delegate.evaluation.openBanner}</span>
            <button type="button" class="small primary" onClick={() => setTab('evaluation')}>
              {m.delegate.evaluation.goVote}
            </button>
          </div>
        )}
        {!operator && <CheckInBanner conn={conn} state={state} />}
        {tab === 'checkIn' && operator && <Roster conn={conn} state={state} />}
        {tab === 'live' && <FloorView conn={conn} state={state} drafts={drafts} />}
        {tab === 'ask' && (
          <>
            <AskForm conn={conn} state={state} drafts={drafts} />
            <MyQuestions conn={conn} state={state} />
          </>
        )}
        {tab === 'questions' && <PublicQuestions conn={conn} state={state} />}
        {tab === 'evaluation' && <EvaluationTab conn={conn} state={state} drafts={drafts} />}
        {tab === 'followUp' && <FollowUpLazy conn={conn} state={state} />}
      </main>
      <Notices />
    </>
  );
}
