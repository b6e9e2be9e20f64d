// 入会卡 Join cards from the console (issue 10): a venue's operator and
// delegates (or everyone), printed from the credential sheet the server
// wrote, each with its QR link and short join code. The page holds live
// credentials: the hint says to delete it once printed. The moderator only
// (the auditor's console is read-only and gets no credentials).

import { useState } from 'preact/hooks';
import { venueName, type SessionState } from '../lib/state.ts';
import { DownloadRow } from './Exports.tsx';
import { mt } from './i18n.ts';
import { cardsPath } from './logic.ts';

export function JoinCards({ state }: { state: SessionState }) {
  const mm = mt().exports;
  const venues = state.session.venues;
  const [venue, setVenue] = useState<string>(venues.find((v) => v.kind !== 'main')?.id ?? '');
  const name = venue ? venueName(state, venue) : mm.cardsAll;
  return (
    <section class="join-cards" aria-labelledby="join-cards-title">
      <h3 id="join-cards-title">{mm.cards}</h3>
      <p class="muted small">{mm.cardsHint}</p>
      <label class="join-cards-venue">
        {mm.cardsVenue}{' '}
        <select value={venue} onChange={(e) => setVenue((e.currentTarget as HTMLSelectElement).value)}>
          {venues.map((v) => (
            <option key={v.id} value={v.id}>
              {v.name}
            </option>
          ))}
          <option value="">{mm.cardsAll}</option>
        </select>
      </label>
      <ul class="plain export-list" data-list="cards">
        <DownloadRow
          key={venue}
          rowKey={`cards-${venue || 'all'}`}
          name={`${mm.cards} · ${name}`}
          variants={[{ label: mm.html, path: cardsPath(state.session.id, venue || null), fallback: `${mm.cards}-${venue || 'all'}.html` }]}
        />
      </ul>
    </section>
  );
}
