// 导出: the results and assignment CSVs and the results JSON. They need
// `Authorization: Bearer <token>`, which a plain link cannot send, so the page
// fetches them with the token and hands the file over through a Blob URL.

import { useState } from 'preact/hooks';
import type { SessionState } from '../lib/state.ts';
import { Card, useConsole } from './common.tsx';
import { mt } from './i18n.ts';
import { exportFileName, exportPath, type ExportKind } from './logic.ts';

const KINDS: ExportKind[] = ['resultsCsv', 'assignmentsCsv', 'resultsJson'];

type Status = { kind: 'idle' } | { kind: 'busy' } | { kind: 'done'; name: string } | { kind: 'error'; text: string };

export function Exports({ state }: { state: SessionState }) {
  const mm = mt().exports;
  return (
    <Card id="exports" title={mm.title} class="exports">
      <p class="muted small">{mm.hint}</p>
      <ul class="plain export-list">
        {KINDS.map((k) => (
          <ExportRow key={k} session={state.session.id} kind={k} />
        ))}
      </ul>
    </Card>
  );
}

function ExportRow({ session, kind }: { session: string; kind: ExportKind }) {
  const { conn } = useConsole();
  const mm = mt().exports;
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const path = exportPath(session, kind);
  const download = async () => {
    setStatus({ kind: 'busy' });
    try {
      const res = await fetch(path, { headers: conn.token ? { Authorization: `Bearer ${conn.token}` } : {}, cache: 'no-store', credentials: 'omit' });
      if (!res.ok) {
        const text = res.status === 404 || res.status === 405 ? mm.notAvailable : res.status === 401 || res.status === 403 ? mm.forbidden : mm.failed(String(res.status));
        setStatus({ kind: 'error', text });
        return;
      }
      const blob = await res.blob();
      const name = exportFileName(session, kind, res.headers.get('Content-Disposition'));
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.rel = 'noopener';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30_000);
      setStatus({ kind: 'done', name });
    } catch {
      setStatus({ kind: 'error', text: mm.network });
    }
  };
  return (
    <li data-export={kind}>
      <span class="export-name">{mm[kind]}</span>
      <code class="muted small">{path}</code>
      <button type="button" class="small" disabled={status.kind === 'busy'} onClick={() => void download()} aria-label={`${mm.download} · ${mm[kind]}`}>
        {status.kind === 'busy' ? mm.downloading : mm.download}
      </button>
      {status.kind === 'done' && (
        <span class="ok small" role="status">
          {mm.done(status.name)}
        </span>
      )}
      {status.kind === 'error' && (
        <span class="field-error" role="alert" data-export-error>
          {status.text}
        </span>
      )}
    </li>
  );
}
