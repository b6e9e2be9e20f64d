// The announcement banner (会场通知): shown at the top of the delegate and
// operator page and across the big screen until it is replaced or cleared.
// An operator page acknowledges each announcement addressed to its venue
// once it is on screen (the moderator sees which venues have it).

import { useEffect, useRef } from 'preact/hooks';
import type { AnnouncementDto } from '../protocol.ts';
import type { Connection } from './connection.ts';
import { current, seenBy, type Audience } from './announce.ts';
import { t } from './i18n/index.ts';
import { venueName, type SessionState } from './state.ts';

export function AnnouncementBanner({ state, audience, ackAs }: { state: SessionState; audience: Audience; ackAs?: { conn: Connection; venue: string } }) {
  const a = current(state.announcements, audience);
  useAcknowledge(a, ackAs);
  if (!a) return null;
  const m = t().announcement;
  const names = a.venues.map((v) => venueName(state, v)).join('、');
  return (
    <section class="announcement" role="alert" aria-label={m.label} data-announcement={a.id}>
      <p class="announcement-head">
        {m.label} · <span class="small">{a.venues.length === 0 ? m.toAll : m.toVenues(names)}</span>
      </p>
      <p class="announcement-text pre">{a.text}</p>
    </section>
  );
}

/** Sends `announcement_seen` once per announcement this page shows its venue. */
function useAcknowledge(a: AnnouncementDto | null, ackAs: { conn: Connection; venue: string } | undefined) {
  const sent = useRef(new Set<number>());
  useEffect(() => {
    if (!a || !ackAs || seenBy(a, ackAs.venue) || sent.current.has(a.id)) return;
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return;
    sent.current.add(a.id);
    void ackAs.conn.send({ type: 'announcement_seen', announcement: a.id });
  }, [a?.id, ackAs?.venue, a && ackAs ? seenBy(a, ackAs.venue) : true]);
}
