// Small helpers shared by the screen's views.

import { useEffect, useState } from 'preact/hooks';
import type { VenueDto } from '../protocol.ts';
import { t } from '../lib/i18n/index.ts';

/** 1 "unit" = 1/120 of the viewport width (16 px at 1920): charts scale with the screen. */
export function useUnit(): number {
  const [u, setU] = useState(() => (typeof window === 'undefined' ? 16 : window.innerWidth / 120));
  useEffect(() => {
    const on = () => setU(window.innerWidth / 120);
    window.addEventListener('resize', on);
    return () => window.removeEventListener('resize', on);
  }, []);
  return u;
}

/** "白羽街道人大代表联络站" → "白羽街道" on the crowded table and charts; the main venue is "主会场". */
export function shortVenue(v: VenueDto): string {
  if (v.kind === 'main') return t().common.mainVenue;
  return v.name.replace(/(人大代表联络站|联络站)(分会场)?$/, '').replace(/分会场$/, '') || v.name;
}
