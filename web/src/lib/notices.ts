// Short messages for the user (an outcome of a command, an error), shown by
// <Notices/> and dismissed after a while. Text only: rendered as text.

import { signal } from '@preact/signals';
import type { CommandDto, ErrorDto } from '../protocol.ts';
import { t } from './i18n/index.ts';
import type { Outcome } from './outbox.ts';

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export const notices = signal<Notice[]>([]);
let next = 1;

export function notify(text: string, kind: Notice['kind'] = 'info', ttlMs = 6000): void {
  const id = next++;
  notices.value = [...notices.value.slice(-4), { id, kind, text }];
  if (ttlMs > 0) setTimeout(() => dismiss(id), ttlMs);
}

export function dismiss(id: number): void {
  notices.value = notices.value.filter((n) => n.id !== id);
}

/** The user-facing name of a command. */
export function commandLabel(cmd: CommandDto): string {
  const c = t().commands;
  return (c as Record<string, string>)[cmd.type] ?? c.other;
}

/** The user-facing reason of an error (by stable code; the server's message is for logs). */
export function errorText(error: Pick<ErrorDto, 'code'>): string {
  return t().errors[error.code] ?? error.code;
}

/** Shows a failed outcome as an error notice. Returns true when it was a failure. */
export function notifyFailure(cmd: CommandDto, outcome: Outcome): boolean {
  if (outcome.ok) return false;
  notify(t().errors.failed(commandLabel(cmd), errorText(outcome.error)), 'error', 10_000);
  return true;
}
