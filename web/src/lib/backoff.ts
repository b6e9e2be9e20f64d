export interface BackoffOptions {
  /** First delay (ms). */
  base: number;
  /** Largest delay (ms). */
  max: number;
  /** Random number in [0, 1): injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": half of the capped exponential
 * delay is fixed, the other half random, so a township's phones that lost
 * the same connection at the same moment do not all come back at once.
 * `attempt` counts from 0.
 */
export function backoffDelay(attempt: number, { base, max, random = Math.random }: BackoffOptions): number {
  const capped = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.round(capped / 2 + random() * (capped / 2));
}
