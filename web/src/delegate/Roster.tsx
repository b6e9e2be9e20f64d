// Operator: the venue's delegates with check-in buttons and present/roster counts.

import { useState } from 'preact/hooks';
import type { Connection } from '../lib/connection.ts';
import { t } from '../lib/i18n/index.ts';
import { venueName, venueStats, type SessionState } from '../lib/state.ts';
import { formatClock } from '../lib/time.ts';
import { Bar } from '../lib/ui.tsx';

import { CHECK_IN_PHASES } from './checkin.ts';
import { StationRequests } from './CheckIn.tsx';

export function Roster({ conn, state }: { conn: Connection; state: SessionState }) {
  const m = t();
  const [query, setQuery] = useState('');
  const [onlyAbsent, setOnlyAbsent] = useState(false);
  const venue = state.you.venue ?? '';
  const all = state.delegates.filter((d) => d.venue === venue);
  const stats = venueStats(state, venue);
  const present = stats?.present ?? all.filter((d) => d.id in state.checkedIn).length;
  const roster = stats?.roster ?? all.length;
  const open = CHECK_IN_PHASES.includes(state.session.phase);
  // Before the evaluation a check-in made by mistake can be taken back.
  const canUndo = state.session.phase === 'check_in' || state.session.phase === 'questioning';
  const pending = new Set(conn.outbox.entries.value.flatMap((e) => (e.cmd.type === 'check_in' ? [e.cmd.delegate] : [])));
  const q = query.trim().toLowerCase();
  const list = all.filter((d) => (!onlyAbsent || !(d.id in state.checkedIn)) && (q === '' || d.name.toLowerCase().includes(q) || d.id.toLowerCase().includes(q)));

  return (
    <section class="card" aria-labelledby="roster-h">
      <h2 id="roster-h">{m.delegate.roster.title}</h2>
      <p class="muted">{venueName(state, venue)}</p>
      <p class="big-number" data-presence={`${present}/${roster}`}>
        {m.delegate.roster.present(present, roster)}
      </p>
      <Bar value={present} max={roster} />
      {!open && <p class="hint">{m.delegate.roster.notOpen}</p>}
      {open && <StationRequests conn={conn} state={state} venue={venue} />}
      <div class="roster-tools">
        <label class="visually-hidden" for="roster-search">
          {m.delegate.roster.search}
        </label>
        <input id="roster-search" type="search" placeholder={m.delegate.roster.search} value={query} onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)} />
        <label class="check">
          <input type="checkbox" checked={onlyAbsent} onChange={(e) => setOnlyAbsent((e.currentTarget as HTMLInputElement).checked)} /> {m.delegate.roster.onlyAbsent}
        </label>
      </div>
      {list.length === 0 && <p class="muted">{m.delegate.roster.empty}</p>}
      <ul class="roster">
        {list.map((d) => {
          const at = state.checkedIn[d.id];
          const checked = at !== undefined;
          const waiting = pending.has(d.id);
          return (
            <li key={d.id} class={checked ? 'present' : ''} data-delegate={d.id}>
              <span class="who">
                <strong>{d.name}</strong> <span class="muted small">{m.levels[d.level]}</span>
              </span>
              {checked ? (
                <span class="ok">
                  ✓ {m.delegate.roster.checkedIn}
                  {at ? ` ${formatClock(at, m.locale)}` : ''}
                  {canUndo && (
                    <button
                      type="button"
                      class="small"
                      aria-label={`${m.delegate.roster.undo} ${d.name}`}
                      onClick={() => {
                        // A check-in taken back needs a reason: it is in the record.
                        const reason = window.prompt(m.delegate.roster.undoReason(d.name), m.delegate.roster.undoDefault)?.trim();
                        if (reason) void conn.send({ type: 'undo_check_in', delegate: d.id, reason });
                      }}
                    >
                      {m.delegate.roster.undo}
                    </button>
                  )}
                </span>
              ) : (
                <button
                  type="button"
                  class="small primary"
                  disabled={!open || waiting}
                  aria-label={`${m.delegate.roster.checkIn} ${d.name}`}
                  onClick={() => void conn.send({ type: 'check_in', delegate: d.id })}
                >
                  {waiting ? m.common.waiting : m.delegate.roster.checkIn}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
