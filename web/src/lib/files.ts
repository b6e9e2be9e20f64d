// Evidence files over REST (the WebSocket carries no bytes):
//
//   POST /api/sessions/{id}/items/{item}/files?name=…  (Authorization: Bearer <token>, body = the file)
//   GET  /api/sessions/{id}/files/{sha256}              (Authorization optional: public files need none)
//
// The token goes in the Authorization header of a same-origin request only,
// never in a URL (so never in a log, a history entry or a Referer).

import type { ErrorCode } from '../protocol.ts';

/** The server's per-file limit (10 MiB); checked here too, so a phone does not send 10 MB for nothing. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** What the server recognises (by content); used for the file picker's `accept` only. */
export const ACCEPT = 'image/jpeg,image/png,image/webp,application/pdf,.jpg,.jpeg,.png,.webp,.pdf';

export type UploadProblem = 'wrong_type' | 'too_large' | 'too_many' | 'duplicate' | 'offline' | 'other';

export type UploadOutcome = { ok: true; seq?: number } | { ok: false; problem: UploadProblem; code?: ErrorCode | string; message?: string; status?: number };

/**
 * Classifies a refused upload. The server answers 422 `invalid` for a file
 * that is not JPEG/PNG/WebP/PDF, too large, or one too many for the item
 * (its message says which), 409 `already_done` for the same file again; a
 * body over 10 MiB is cut by the HTTP layer with a plain-text 413.
 */
export function classifyUpload(status: number, body: { code?: string; message?: string } | null): UploadProblem {
  if (status === 413) return 'too_large';
  // The same file (same content) again on the same item.
  if (body?.code === 'already_done') return 'duplicate';
  const msg = (body?.message ?? '').toLowerCase();
  if (body?.code === 'invalid') {
    if (msg.includes('jpeg') || msg.includes('not a ') || msg.includes('recognised')) return 'wrong_type';
    if (msg.includes('too many') || msg.includes('files of one item')) return 'too_many';
    if (msg.includes('larger') || msg.includes('too large') || msg.includes('bytes')) return 'too_large';
  }
  return 'other';
}

export async function uploadEvidence(opts: {
  session: string;
  item: number;
  file: Blob & { name?: string };
  name: string;
  token: string;
  fetchImpl?: typeof fetch;
}): Promise<UploadOutcome> {
  const { session, item, file, name, token } = opts;
  if (file.size > MAX_FILE_BYTES) return { ok: false, problem: 'too_large' };
  const f = opts.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await f(`/api/sessions/${encodeURIComponent(session)}/items/${item}/files?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' },
      body: file,
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    return { ok: false, problem: 'offline' };
  }
  type Body = { code?: string; message?: string; seq?: number };
  let body: Body | null = null;
  try {
    body = (await res.json()) as Body;
  } catch {
    body = null;
  }
  if (res.ok) return { ok: true, seq: body?.seq };
  return { ok: false, problem: classifyUpload(res.status, body), code: body?.code, message: body?.message, status: res.status };
}

/**
 * Downloads an evidence file: fetched with the credential (when there is
 * one), then saved from a blob URL under its own name.
 */
export async function downloadEvidence(opts: { session: string; id: string; name: string; token?: string | null; fetchImpl?: typeof fetch }): Promise<boolean> {
  const path = `/api/sessions/${encodeURIComponent(opts.session)}/files/${encodeURIComponent(opts.id)}`;
  return downloadWithCredential({ path, name: opts.name || 'evidence', token: opts.token, fetchImpl: opts.fetchImpl });
}

/**
 * Fetches `path` with the credential (when there is one) and saves it from a
 * blob URL as `name`: a link cannot carry the Authorization header, and the
 * token must never go into an address.
 */
export async function downloadWithCredential(opts: { path: string; name: string; token?: string | null; fetchImpl?: typeof fetch }): Promise<boolean> {
  const f = opts.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await f(opts.path, {
      headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    return false;
  }
  if (!res.ok) return false;
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = opts.name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
  return true;
}

/** The public download address of a public file (no credential needed). */
export function publicFileUrl(session: string, id: string): string {
  return `/api/sessions/${encodeURIComponent(session)}/files/${encodeURIComponent(id)}`;
}
