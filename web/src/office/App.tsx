// office.html: the congress office's console (人大办交办督办) for the
// follow-up after the session: the board, the issued items, the drafts,
// and the archive at the end. Desktop first (1280 px and up), usable narrower.

import type { Signal } from '@preact/signals';
import { useMemo, useState } from 'preact/hooks';
import type { Connection } from '../lib/connection.ts';
import { persistedSignal } from '../lib/drafts.ts';
import { canArchive, dateIn, EMPTY_FILTER, openDrafts, type ItemFilter } from '../lib/followup.ts';
import { CommandStatus, namesOf, useCommand, WrongPage } from '../lib/followup-ui.tsx';
import { t } from '../lib/i18n/index.ts';
import { notify } from '../lib/notices.ts';
import type { SessionState } from '../lib/state.ts';
import { useNow } from '../lib/time.ts';
import { ConnectionBadge, FatalScreen, LangSwitch, Loading, Notices } from '../lib/ui.tsx';
import { Board } from './Board.tsx';
import { DraftsPanel } from './Drafts.tsx';
import { ot } from './i18n.ts';
import { ItemsPanel } from './Items.tsx';
import type { DraftForm } from './logic.ts';

type Tab = 'items' | 'drafts';

export function App({ conn }: { conn: Connection }) {
  const forms = useMemo(() => persistedSignal<Record<string, DraftForm>>(conn.store, conn.key('draft:items'), {}), [conn]);
  const filter = useMemo(() => persistedSignal<ItemFilter>(conn.store, conn.key('filter'), EMPTY_FILTER), [conn]);
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
  if (state.you.role !== 'office') {
    return <WrongPage conn={conn} role={state.you.role} title={ot().title} message={ot().wrongPage} goTo={ot().goTo} />;
  }
  return <Console conn={conn} state={state} forms={forms} filter={filter} />;
}

function Header({ conn, state }: { conn: Connection; state: SessionState | null }) {
  const m = t();
  return (
    <header class="o-top">
      <div class="o-top-row">
        <span class="brand">{m.app.name}</span>
        <h1 class="o-title">{ot().title}</h1>
        {state && (
          <span class="o-session" title={state.session.title}>
            {state.session.title}
          </span>
        )}
        <span class="grow" />
        {state && (
          <span class="phase-chip" data-phase={state.session.phase}>
            {m.phases[state.session.phase]}
          </span>
        )}
        {state && <span class="role-badge">{m.roles[state.you.role]}</span>}
        <ConnectionBadge conn={conn} />
        <LangSwitch />
      </div>
    </header>
  );
}

function Console({
  conn,
  state,
  forms,
  filter,
}: {
  conn: Connection;
  state: SessionState;
  forms: Signal<Record<string, DraftForm>>;
  filter: Signal<ItemFilter>;
}) {
  const o = ot();
  const now = useNow(60_000).value;
  const today = dateIn(state.session.time_zone, now + state.clockOffset);
  const names = useMemo(() => namesOf(state.session), [state.session]);
  const drafts = openDrafts(state.items);
  const issued = state.items.filter((i) => i.status !== 'draft' && i.merged_into === undefined);
  const [tab, setTab] = useState<Tab>(() => (issued.length === 0 && drafts.length > 0 ? 'drafts' : 'items'));
  const phase = state.session.phase;
  const archived = phase === 'archived';
  const followUp = phase === 'closed' || archived;
  const onUnit = (unit: string) => {
    filter.value = { ...EMPTY_FILTER, unit };
    setTab('items');
    document.getElementById('items-tab')?.focus();
  };
  return (
    <div class="office" data-role="office">
      <a class="skip-link" href="#main">
        {o.skipToMain}
      </a>
      <Header conn={conn} state={state} />
      <main id="main" class="o-main" tabIndex={-1}>
        {!followUp && (
          <div class="banner" role="note">
            {o.notYet}
          </div>
        )}
        {archived && (
          <div class="banner banner-info" role="note" data-archived>
            {o.archivedBanner}
          </div>
        )}
        <Board state={state} onUnit={onUnit} />
        <nav class="o-tabs" aria-label={o.tabs.label}>
          <button type="button" id="items-tab" class={`o-tab ${tab === 'items' ? 'o-tab-active' : ''}`} aria-current={tab === 'items' ? 'page' : undefined} onClick={() => setTab('items')} data-tab="items">
            {o.tabs.items(issued.length)}
          </button>
          <button type="button" class={`o-tab ${tab === 'drafts' ? 'o-tab-active' : ''}`} aria-current={tab === 'drafts' ? 'page' : undefined} onClick={() => setTab('drafts')} data-tab="drafts">
            {o.tabs.drafts(drafts.length)}
          </button>
        </nav>
        {tab === 'items' && <ItemsPanel conn={conn} state={state} names={names} today={today} filter={filter} readOnly={archived} />}
        {tab === 'drafts' && <DraftsPanel conn={conn} state={state} names={names} today={today} forms={forms} readOnly={archived} />}
        {phase === 'closed' && canArchive(state.items) && <Archive conn={conn} drafts={drafts.length} />}
      </main>
      <Notices />
    </div>
  );
}

function Archive({ conn, drafts }: { conn: Connection; drafts: number }) {
  const a = ot().archive;
  const cmd = useCommand(conn);
  const [confirming, setConfirming] = useState(false);
  return (
    <section class="card archive" aria-labelledby="archive-h">
      <h2 id="archive-h">{a.title}</h2>
      <p>{a.hint}</p>
      {drafts > 0 && <p class="hint">{a.draftsLeft(drafts)}</p>}
      {!confirming ? (
        <button type="button" class="primary" disabled={cmd.busy} onClick={() => setConfirming(true)}>
          {a.button}
        </button>
      ) : (
        <div class="confirm" role="group" aria-label={a.button}>
          <p>{a.confirm}</p>
          <div class="button-row">
            <button
              type="button"
              class="primary"
              onClick={() => {
                setConfirming(false);
                void cmd.run({ type: 'advance_phase', to: 'archived' }).then((r) => r.ok && notify(a.done));
              }}
            >
              {ot().item.confirm}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              {ot().item.cancel}
            </button>
          </div>
        </div>
      )}
      <CommandStatus cmd={cmd} />
    </section>
  );
}
