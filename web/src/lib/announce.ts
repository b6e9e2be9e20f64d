// Announcements (会场通知, docs/protocol.md §4): which one a page shows.
// Everyone receives every announcement; a page shows the newest one
// addressed to it that is not cleared: a venue's pages (operator,
// delegate) those to everyone and to their venue, a screen only those to
// everyone.

import type { AnnouncementDto } from '../protocol.ts';

/** Who is looking: a venue's page, or a public screen. */
export type Audience = { venue: string } | 'screen';

export function addresses(a: AnnouncementDto, who: Audience): boolean {
  if (a.venues.length === 0) return true;
  return who !== 'screen' && a.venues.includes(who.venue);
}

/** The announcement to show now, if any: the newest addressed and not cleared. */
export function current(all: readonly AnnouncementDto[] | undefined, who: Audience): AnnouncementDto | null {
  const list = all ?? [];
  for (let i = list.length - 1; i >= 0; i--) {
    const a = list[i];
    if (addresses(a, who)) return a.cleared_at === undefined ? a : null;
  }
  return null;
}

/** Has this venue already acknowledged it (as far as this page knows)? */
export function seenBy(a: AnnouncementDto, venue: string): boolean {
  return (a.seen ?? []).some((s) => s.venue === venue);
}
