// 会场通知: the moderator tells every venue and screen, or chosen venues,
// something ("休会五分钟"). The card sits above the venue board, on every
// tab, and lists what is on screen now with which venues have seen it.

import { useState } from 'preact/hooks';
import type { AnnouncementDto } from '../protocol.ts';
import type { SessionState } from '../lib/state.ts';
import { ActionStatus, clock, ConfirmButton, useAction, useConsole } from './common.tsx';
import { mt } from './i18n.ts';
import { shortVenueNames } from './logic.ts';

const MAX_CHARS = 200;

export function AnnouncePanel({ state }: { state: SessionState }) {
  const { conn, readOnly } = useConsole();
  const ma = mt().announce;
  const action = useAction(conn);
  const [text, setText] = useState('');
  const [some, setSome] = useState(false);
  const [venues, setVenues] = useState<string[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  // The form opens on demand, so the venue board below stays in view.
  const [writing, setWriting] = useState(false);
  const active = [...(state.announcements ?? [])].filter((a) => a.cleared_at === undefined).reverse();
  const submit = (e: Event) => {
    e.preventDefault();
    const t = text.trim();
    if (t === '') return setProblem(ma.empty);
    if (some && venues.length === 0) return setProblem(ma.chooseVenue);
    setProblem(null);
    void action.run({ type: 'announce', text: t, venues: some ? venues : undefined }).then((o) => {
      if (o.ok) {
        setText('');
        setVenues([]);
        setSome(false);
        setWriting(false);
      }
    });
  };
  return (
    <section class="card announce" aria-labelledby="announce-h" id="announce">
      <div class="card-head">
        <h2 id="announce-h">{ma.title}</h2>
        {!readOnly && (
          <button type="button" class="small" aria-expanded={writing} aria-controls="announce-form" onClick={() => setWriting(!writing)}>
            {writing ? mt().common.cancel : ma.write}
          </button>
        )}
      </div>
      {!readOnly && writing && (
        <form id="announce-form" onSubmit={submit} noValidate>
          <div class="presets" role="group" aria-label={ma.presetsLabel}>
            {ma.presets.map((p) => (
              <button key={p} type="button" class="small" onClick={() => setText(p)}>
                {p}
              </button>
            ))}
          </div>
          <label for="announce-text">{ma.text}</label>
          <textarea id="announce-text" rows={2} maxLength={MAX_CHARS} value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
          <fieldset class="announce-to">
            <legend class="visually-hidden">{ma.venuesLabel}</legend>
            <label class="check">
              <input type="radio" name="announce-to" checked={!some} onChange={() => setSome(false)} /> {ma.toAll}
            </label>
            <label class="check">
              <input type="radio" name="announce-to" checked={some} onChange={() => setSome(true)} /> {ma.toSome}
            </label>
            {some && (
              <div class="announce-venues" role="group" aria-label={ma.venuesLabel}>
                {state.session.venues.map((v) => (
                  <label key={v.id} class="check">
                    <input
                      type="checkbox"
                      checked={venues.includes(v.id)}
                      onChange={(e) => {
                        const on = (e.currentTarget as HTMLInputElement).checked;
                        setVenues(on ? [...venues, v.id] : venues.filter((x) => x !== v.id));
                      }}
                    />{' '}
                    {v.name}
                  </label>
                ))}
              </div>
            )}
          </fieldset>
          {problem && (
            <p class="action-error" role="alert">
              {problem}
            </p>
          )}
          <button type="submit" class="primary" disabled={action.busy}>
            {ma.send}
          </button>
          <ActionStatus action={action} conn={conn} />
        </form>
      )}
      {active.length === 0 ? (
        <p class="muted small">{ma.none}</p>
      ) : (
        <ul class="plain announce-list">
          {active.map((a) => (
            <ActiveAnnouncement key={a.id} state={state} a={a} readOnly={readOnly} />
          ))}
        </ul>
      )}
    </section>
  );
}

function ActiveAnnouncement({ state, a, readOnly }: { state: SessionState; a: AnnouncementDto; readOnly: boolean }) {
  const { conn } = useConsole();
  const ma = mt().announce;
  const action = useAction(conn);
  const short = shortVenueNames(state.session.venues);
  const name = (id: string) => short.get(id) ?? id;
  const addressed = a.venues.length === 0 ? state.session.venues.map((v) => v.id) : a.venues;
  const seen = new Set((a.seen ?? []).map((s) => s.venue));
  const missing = addressed.filter((v) => !seen.has(v));
  return (
    <li class="announce-item" data-announcement={a.id}>
      <p class="pre announce-item-text">{a.text}</p>
      <p class="small muted">
        {clock(a.at)} · {a.venues.length === 0 ? ma.toEveryone : ma.toVenues(a.venues.map(name).join('、'))}
      </p>
      <p class="small" data-seen={`${seen.size}/${addressed.length}`}>
        <strong>{ma.seen(seen.size, addressed.length)}</strong>
        {missing.length > 0 && <span class="muted"> · {ma.notYet(missing.map(name).join('、'))}</span>}
      </p>
      {!readOnly && (
        <ConfirmButton
          class="small"
          label={ma.clear}
          title={ma.clear}
          message={ma.clearConfirm}
          confirmLabel={ma.clear}
          onConfirm={() => void action.run({ type: 'clear_announcement', announcement: a.id })}
        />
      )}
      <ActionStatus action={action} conn={conn} />
    </li>
  );
}
