// unit.html: a respondent unit's workspace (承办单位). Its own items (lead)
// and the ones it co-handles, by deadline with overdue / due-soon badges;
// per item the sources, the reply, the rectification, notes, evidence
// upload, an extension request, and the askers' ratings as counts only.
// Phone first (360 px) and fine on a desktop.

import type { Signal } from '@preact/signals';
import { useMemo, useState } from 'preact/hooks';
import type { Connection } from '../lib/connection.ts';
import { persistedSignal } from '../lib/drafts.ts';
import { byDeadline, concerns, dateIn, satisfactionBp } from '../lib/followup.ts';
import { downloadWithCredential } from '../lib/files.ts';
import { namesOf, WrongPage } from '../lib/followup-ui.tsx';
import { t } from '../lib/i18n/index.ts';
import type { SessionState } from '../lib/state.ts';
import { useNow } from '../lib/time.ts';
import { ConnectionBadge, FatalScreen, LangSwitch, Loading, Notices } from '../lib/ui.tsx';
import { ut } from './i18n.ts';
import { UnitItem } from './Item.tsx';

export function App({ conn }: { conn: Connection }) {
  const texts = useMemo(() => persistedSignal<Record<string, string>>(conn.store, conn.key('draft:texts'), {}), [conn]);
  if (conn.fatal.value) return <FatalScreen conn={conn} />;
  const state = conn.state.value;
  if (!state) {
    return (
      <>
        <Header conn={conn} state={null} />
        <Loading />
      </>
    );
  }
  if (state.you.role !== 'unit' || !state.you.unit) {
    return <WrongPage conn={conn} role={state.you.role} title={ut().title} message={ut().wrongPage} goTo={ut().goTo} />;
  }
  return <Workspace conn={conn} state={state} unit={state.you.unit} texts={texts} />;
}

function Header({ conn, state }: { conn: Connection; state: SessionState | null }) {
  const m = t();
  return (
    <header class="u-top">
      <div class="u-top-row">
        <span class="brand">{m.app.name}</span>
        <span class="u-title">{ut().title}</span>
        <ConnectionBadge conn={conn} />
        <LangSwitch />
      </div>
      {state && (
        <p class="u-who">
          <strong class="who-name">{state.you.name}</strong> <span class="role-badge">{m.roles[state.you.role]}</span>
          <span class="u-session">{state.session.title}</span>
        </p>
      )}
    </header>
  );
}

function Workspace({ conn, state, unit, texts }: { conn: Connection; state: SessionState; unit: string; texts: Signal<Record<string, string>> }) {
  const u = ut();
  const m = t();
  const now = useNow(60_000).value;
  const today = dateIn(state.session.time_zone, now + state.clockOffset);
  const names = useMemo(() => namesOf(state.session), [state.session]);
  const [showClosed, setShowClosed] = useState(false);
  const mine = state.items.filter((i) => i.status !== 'draft' && i.merged_into === undefined && concerns(i, unit)).sort(byDeadline(today));
  const open = mine.filter((i) => i.status !== 'closed');
  const closed = mine.filter((i) => i.status === 'closed');
  const counts = state.board.units.find((x) => x.unit === unit)?.counts;
  const archived = state.session.phase === 'archived';
  const sat = counts ? satisfactionBp(counts.ratings) : undefined;
  return (
    <>
      <Header conn={conn} state={state} />
      <main class="u-main">
        {archived && (
          <div class="banner" role="note" data-archived>
            {u.archivedBanner}
          </div>
        )}
        {counts && counts.issued > 0 && (
          <section class="card u-summary" aria-labelledby="sum-h">
            <h2 id="sum-h">{u.summary.title}</h2>
            <dl class="u-figures">
              <div data-figure="pending">
                <dt>{u.summary.pending}</dt>
                <dd>{counts.waiting + counts.in_handling}</dd>
              </div>
              <div data-figure="overdue" class={counts.overdue > 0 ? 'fig-bad' : ''}>
                <dt>{u.summary.overdue}</dt>
                <dd>{counts.overdue}</dd>
              </div>
              <div data-figure="due_soon" class={counts.due_soon > 0 ? 'fig-warn' : ''}>
                <dt>{u.summary.dueSoon}</dt>
                <dd>{counts.due_soon}</dd>
              </div>
              <div data-figure="rate">
                <dt>{u.summary.rate}</dt>
                <dd>{counts.resolved_rate_bp === undefined ? '—' : m.common.percent(counts.resolved_rate_bp)}</dd>
              </div>
              <div data-figure="satisfaction">
                <dt>{u.summary.satisfaction}</dt>
                <dd>{counts.ratings.suppressed ? u.summary.insufficient : sat === undefined ? '—' : m.common.percent(sat)}</dd>
              </div>
            </dl>
          </section>
        )}
        {mine.length > 0 && <LetterLinks conn={conn} state={state} unit={unit} />}
        <section aria-labelledby="list-h">
          <h2 id="list-h" class="u-list-title">
            {u.list.title} <span class="muted small">{u.list.sortHint}</span>
          </h2>
          {mine.length === 0 && <p class="card muted">{state.session.phase === 'closed' || archived ? u.list.empty : u.notYet}</p>}
          <ul class="u-items plain">
            {open.map((item) => (
              <UnitItem key={item.id} conn={conn} state={state} unit={unit} item={item} names={names} today={today} texts={texts} readOnly={archived} />
            ))}
          </ul>
          {closed.length > 0 && (
            <>
              <label class="check">
                <input type="checkbox" checked={showClosed} onChange={(e) => setShowClosed((e.currentTarget as HTMLInputElement).checked)} />
                {u.list.showClosed(closed.length)}
              </label>
              {showClosed && (
                <ul class="u-items plain">
                  {closed.map((item) => (
                    <UnitItem key={item.id} conn={conn} state={state} unit={unit} item={item} names={names} today={today} texts={texts} readOnly />
                  ))}
                </ul>
              )}
            </>
          )}
        </section>
      </main>
      <Notices />
    </>
  );
}

/** The unit's own assignment letter (交办函), print version or PDF, fetched with its credential. */
function LetterLinks({ conn, state, unit }: { conn: Connection; state: SessionState; unit: string }) {
  const u = ut();
  const [failed, setFailed] = useState(false);
  const name = state.session.units.find((x) => x.id === unit)?.name ?? unit;
  const get = (ext: 'html' | 'pdf') => {
    setFailed(false);
    const path = `/api/sessions/${encodeURIComponent(state.session.id)}/documents/letters/${encodeURIComponent(unit)}.${ext}`;
    void downloadWithCredential({ path, name: `交办函-${name}.${ext}`, token: conn.token }).then((ok) => setFailed(!ok));
  };
  return (
    <p class="u-letter">
      <span>{u.letter.title}</span>{' '}
      <button type="button" class="small" onClick={() => get('html')}>
        {u.letter.print}
      </button>{' '}
      <button type="button" class="small" onClick={() => get('pdf')}>
        PDF
      </button>
      {failed && (
        <span class="small err" role="alert">
          {' '}
          {u.letter.failed}
        </span>
      )}
    </p>
  );
}
