// Server clock and countdowns.
//
// offset = server_time − local time at receipt (from `snapshot` and `stats`).
// Time left on the floor = countdown_started_at + countdown_seconds × 1000 − (Date.now() + offset).

import { signal, type ReadonlySignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import type { FloorDto } from '../protocol.ts';

/** Server clock minus local clock, from a `server_time` received at local time `receivedAt`. */
export function clockOffset(serverTime: number, receivedAt: number): number {
  return serverTime - receivedAt;
}

/** The server's "now", estimated from the local clock and the offset. */
export function serverNow(offset: number, localNow: number = Date.now()): number {
  return localNow + offset;
}

/** Milliseconds left on the floor's countdown (negative once overrun). */
export function remainingMs(
  floor: Pick<FloorDto, 'countdown_started_at' | 'countdown_seconds' | 'paused_remaining'>,
  offset: number,
  localNow: number = Date.now(),
): number {
  // Paused: the seconds that were left, standing still.
  if (floor.paused_remaining !== undefined) return floor.paused_remaining * 1000;
  return floor.countdown_started_at + floor.countdown_seconds * 1000 - serverNow(offset, localNow);
}

/**
 * `m:ss` (or `h:mm:ss`) of a remaining time, rounding up so that "0:00" is
 * shown only when the time is really up; overrun is shown with a leading "−"
 * and counts up.
 */
export function formatCountdown(ms: number): string {
  const over = ms < 0;
  const total = over ? Math.floor(-ms / 1000) : Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const body = h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
  return over ? `−${body}` : body;
}

/** Local clock, updated every `intervalMs` while at least one component uses it. */
const nowSignal = signal(Date.now());
let users = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/** Hook: subscribes the component to a ticking clock (250 ms by default). */
export function useNow(intervalMs = 250): ReadonlySignal<number> {
  useEffect(() => {
    users += 1;
    if (timer === undefined) {
      nowSignal.value = Date.now();
      timer = setInterval(() => {
        nowSignal.value = Date.now();
      }, intervalMs);
    }
    return () => {
      users -= 1;
      if (users === 0 && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    };
  }, [intervalMs]);
  return nowSignal;
}

/** Formats a server timestamp as local wall-clock time (HH:mm). */
export function formatClock(ms: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(ms));
}
