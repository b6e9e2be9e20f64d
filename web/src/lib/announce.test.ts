import { describe, expect, it } from 'vitest';
import type { AnnouncementDto } from '../protocol.ts';
import { current, seenBy } from './announce.ts';

const a = (id: number, over: Partial<AnnouncementDto> = {}): AnnouncementDto => ({ id, text: `通知 ${id}`, venues: [], at: id, ...over });

describe('which announcement a page shows', () => {
  it('the newest addressed to it, until it is cleared or replaced', () => {
    const all = [a(1), a(2, { venues: ['baiyu'] })];
    expect(current(all, { venue: 'baiyu' })?.id).toBe(2);
    expect(current(all, { venue: 'zijin' })?.id).toBe(1);
    expect(current(all, 'screen')?.id).toBe(1);
    // Cleared: the page shows nothing (not an older one coming back).
    const cleared = [a(1), a(2, { venues: ['baiyu'], cleared_at: 9 })];
    expect(current(cleared, { venue: 'baiyu' })).toBeNull();
    expect(current(cleared, { venue: 'zijin' })?.id).toBe(1);
    // A screen never shows one addressed to chosen venues.
    expect(current([a(3, { venues: ['baiyu'] })], 'screen')).toBeNull();
    expect(current(undefined, 'screen')).toBeNull();
  });

  it('knows whether its venue has acknowledged one', () => {
    expect(seenBy(a(1, { seen: [{ venue: 'baiyu', at: 5 }] }), 'baiyu')).toBe(true);
    expect(seenBy(a(1), 'baiyu')).toBe(false);
  });
});
