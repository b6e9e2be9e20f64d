// Drafts: what a user is typing or filling in, kept apart from server state.
//
// Live updates only ever replace `Connection.state`; drafts live in their own
// signals (persisted per page and participant), so a snapshot, an event or a
// reconnect can never overwrite a question being typed or a ballot being
// filled in. A draft is cleared only by its own form (after a submit).

import { effect, signal, type Signal } from '@preact/signals';
import type { Rating } from '../protocol.ts';
import { randomId, readJson, writeJson, type KeyValueStore } from './storage.ts';

/** A signal whose value is saved under `key` on every change (and loaded from it at creation). */
export function persistedSignal<T>(store: KeyValueStore, key: string, initial: T): Signal<T> {
  const s = signal<T>(readJson<T>(store, key, initial));
  let first = true;
  effect(() => {
    const v = s.value;
    if (first) {
      first = false;
      return;
    }
    writeJson(store, key, v);
  });
  return s;
}

export interface QuestionDraft {
  topic: string;
  unit: string;
  text: string;
  /** Operators: the delegate the question is asked for. */
  onBehalfOf: string;
}

export const emptyQuestionDraft: QuestionDraft = { topic: '', unit: '', text: '', onBehalfOf: '' };

/** Ratings being filled in, per evaluation id and unit id. */
export type BallotDrafts = Record<string, Record<string, Rating>>;

export interface Drafts {
  question: Signal<QuestionDraft>;
  followUp: Signal<{ text: string; onBehalfOf: string }>;
  ballots: Signal<BallotDrafts>;
}

/** The drafts of one page and participant (`prefix` from `Connection.key('')`). */
export function createDrafts(store: KeyValueStore, prefix: string): Drafts {
  return {
    question: persistedSignal<QuestionDraft>(store, `${prefix}draft:question`, { ...emptyQuestionDraft }),
    followUp: persistedSignal(store, `${prefix}draft:follow-up`, { text: '', onBehalfOf: '' }),
    ballots: persistedSignal<BallotDrafts>(store, `${prefix}draft:ballots`, {}),
  };
}

/** Sets one rating in the ballot drafts (returns a new object: signals compare by identity). */
export function setRating(drafts: BallotDrafts, evaluation: number, unit: string, rating: Rating): BallotDrafts {
  const key = String(evaluation);
  return { ...drafts, [key]: { ...(drafts[key] ?? {}), [unit]: rating } };
}

/**
 * A stable ballot id per (evaluation, unit) for this participant on this
 * device: created once, stored, and reused by every retry and after a
 * reload, so a resend is idempotent on the server (protocol §11).
 */
export function ballotId(store: KeyValueStore, prefix: string, evaluation: number, unit: string): string {
  const key = `${prefix}ballot-ids`;
  const ids = readJson<Record<string, string>>(store, key, {});
  const k = `${evaluation}|${unit}`;
  const existing = ids[k];
  if (existing) return existing;
  const id = `b${evaluation}-${randomId().replace(/-/g, '').slice(0, 16)}-${unit}`.slice(0, 64);
  writeJson(store, key, { ...ids, [k]: id });
  return id;
}
