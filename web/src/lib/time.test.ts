import { describe, expect, it } from 'vitest';
import { clockOffset, formatCountdown, remainingMs, serverNow } from './time.ts';

describe('countdown math', () => {
  const floor = { countdown_started_at: 1_000_000, countdown_seconds: 180 };

  it('remaining = started + seconds*1000 − (local now + offset)', () => {
    // The server clock is 2 s ahead of ours.
    const offset = clockOffset(1_000_000 + 2000, 1_000_000);
    expect(offset).toBe(2000);
    expect(serverNow(offset, 1_000_000)).toBe(1_002_000);
    expect(remainingMs(floor, offset, 1_000_000)).toBe(178_000);
    expect(remainingMs(floor, 0, 1_000_000 + 180_000)).toBe(0);
    expect(remainingMs(floor, -500, 1_000_000 + 180_000)).toBe(500);
  });

  it('goes negative once overrun', () => {
    expect(remainingMs(floor, 0, 1_000_000 + 185_500)).toBe(-5500);
  });

  it('formats m:ss rounding up, h:mm:ss for long ones, and −m:ss overrun', () => {
    expect(formatCountdown(180_000)).toBe('3:00');
    expect(formatCountdown(179_001)).toBe('3:00');
    expect(formatCountdown(179_000)).toBe('2:59');
    expect(formatCountdown(999)).toBe('0:01');
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-5500)).toBe('−0:05');
    expect(formatCountdown(-65_000)).toBe('−1:05');
    expect(formatCountdown(3_600_000)).toBe('1:00:00');
    expect(formatCountdown(3_661_000)).toBe('1:01:01');
  });
});
