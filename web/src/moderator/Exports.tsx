// 文件与表格 Documents: the bulletin (人大工作信息), the evaluation results
// report, one assignment letter per unit, and the spreadsheets (CSV and
// Excel), listed by name. They need `Authorization: Bearer <token>`, which a
// plain link cannot send, so the page fetches them with the credential and
// hands the file over through a Blob URL. No API path is shown to a person.

import { useState } from 'preact/hooks';
import type { SessionState } from '../lib/state.ts';
import { Card, useConsole } from './common.tsx';
import { JoinCards } from './Cards.tsx';
import { mt, type ModeratorMessages } from './i18n.ts';
import {
  documentKey,
  documentList,
  documentPath,
  downloadName,
  EXPORT_TABLES,
  exportPath,
  type DocumentRef,
  type ExportTable,
} from './logic.ts';

type Status = { kind: 'idle' } | { kind: 'busy' } | { kind: 'done'; name: string } | { kind: 'error'; text: string };

/** One downloadable file of a row: its button label, address and fallback name. */
interface Variant {
  label: string;
  path: string;
  fallback: string;
}

export function Exports({ state }: { state: SessionState }) {
  const { readOnly } = useConsole();
  const mm = mt().exports;
  const session = state.session.id;
  const unitName = (id: string) => state.session.units.find((u) => u.id === id)?.name ?? id;
  const docName = (d: DocumentRef) => (d.kind === 'letter' ? mm.letter(unitName(d.unit)) : mm[d.kind]);
  return (
    <Card id="exports" title={mm.title} class="exports">
      <p class="muted small">{mm.hint}</p>
      <h3>{mm.documents}</h3>
      <ul class="plain export-list" data-list="documents">
        {documentList(state.session.units).map((d) => (
          <DownloadRow
            key={documentKey(d)}
            rowKey={documentKey(d)}
            name={docName(d)}
            variants={(['html', 'pdf'] as const).map((f) => ({ label: mm[f], path: documentPath(session, d, f), fallback: `${docName(d)}.${f}` }))}
          />
        ))}
      </ul>
      <h3>{mm.spreadsheets}</h3>
      <ul class="plain export-list" data-list="spreadsheets">
        {EXPORT_TABLES.map((t: ExportTable) => (
          <DownloadRow
            key={t}
            rowKey={t}
            name={mm[t]}
            variants={(['csv', 'xlsx'] as const).map((f) => ({ label: mm[f], path: exportPath(session, t, f), fallback: `${mm[t]}.${f}` }))}
          />
        ))}
      </ul>
      {!readOnly && <JoinCards state={state} />}
    </Card>
  );
}

function failure(status: number, body: { code?: string } | null, mm: ModeratorMessages['exports']): string {
  if (body?.code === 'pdf_unavailable') return mm.pdfUnavailable;
  if (status === 404 || status === 405) return mm.notAvailable;
  if (status === 401 || status === 403) return mm.forbidden;
  return mm.failed(String(status));
}

export function DownloadRow({ rowKey, name, variants }: { rowKey: string; name: string; variants: Variant[] }) {
  const { conn } = useConsole();
  const mm = mt().exports;
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const download = async (v: Variant) => {
    setStatus({ kind: 'busy' });
    try {
      const res = await fetch(v.path, { headers: conn.token ? { Authorization: `Bearer ${conn.token}` } : {}, cache: 'no-store', credentials: 'omit' });
      if (!res.ok) {
        const body = (await res.json().catch(() => null)) as { code?: string } | null;
        setStatus({ kind: 'error', text: failure(res.status, body, mm) });
        return;
      }
      const blob = await res.blob();
      const file = downloadName(res.headers.get('Content-Disposition'), v.fallback);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = file;
      a.rel = 'noopener';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30_000);
      setStatus({ kind: 'done', name: file });
    } catch {
      setStatus({ kind: 'error', text: mm.network });
    }
  };
  return (
    <li data-doc={rowKey}>
      <span class="export-name">{name}</span>
      {variants.map((v) => (
        <button
          key={v.label}
          type="button"
          class="small"
          disabled={status.kind === 'busy'}
          onClick={() => void download(v)}
          aria-label={`${name} · ${v.label}`}
        >
          {v.label}
        </button>
      ))}
      {status.kind === 'busy' && <span class="muted small">{mm.downloading}</span>}
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
