// Page bootstrap: one Connection per page, started once, rendered into #app.

import { render, type ComponentType } from 'preact';
import { Connection, type ConnectionOptions } from './connection.ts';
import { notifyFailure } from './notices.ts';
import { registerShell } from './shell.ts';

export interface BootOptions extends Partial<Omit<ConnectionOptions, 'page'>> {
  /** Show failed commands (including ones loaded from storage after a reload) as notices. Default true. */
  notifyFailures?: boolean;
}

export function boot(page: string, App: ComponentType<{ conn: Connection }>, options: BootOptions = {}): Connection {
  const conn = new Connection({ page, ...options });
  if (options.notifyFailures !== false) {
    conn.outbox.onSettled((entry, outcome) => {
      notifyFailure(entry.cmd, outcome);
    });
  }
  const root = document.getElementById('app');
  if (root) render(<App conn={conn} />, root);
  conn.start();
  // The offline app shell, once the token is out of the address bar (the Connection took it).
  registerShell();
  return conn;
}
