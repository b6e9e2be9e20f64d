// moderator.html entry: the moderator console (and the auditor's read-only view).
import '../lib/base.css';
import './moderator.css';
import { boot } from '../lib/boot.tsx';
import { notify } from '../lib/notices.ts';
import { App } from './App.tsx';
import { failureText, inlineIds } from './common.tsx';
import { mt } from './i18n.ts';
import { harmlessFailure } from './logic.ts';

// Failures are shown next to the control that sent the command; any other
// failure (e.g. a command resent from the stored outbox after a reload, whose
// control is gone) becomes a notice, so no error is ever swallowed.
const conn = boot('moderator', App, { notifyFailures: false });
conn.outbox.onSettled((entry, outcome) => {
  if (outcome.ok || inlineIds.has(entry.id) || harmlessFailure(entry.cmd, outcome.error)) return;
  const mm = mt();
  notify(mm.errors.generic(mm.commands[entry.cmd.type] ?? entry.cmd.type, failureText(entry.cmd, outcome.error, conn.state.value)), 'error', 10_000);
});
