import { describe, expect, it, vi } from 'vitest';
import { classifyUpload, MAX_FILE_BYTES, uploadEvidence } from './files.ts';

function response(status: number, body: unknown, json = true): Response {
  return new Response(json ? JSON.stringify(body) : String(body), { status, headers: { 'content-type': json ? 'application/json' : 'text/plain' } });
}

describe('evidence uploads', () => {
  it('tells the server’s refusals apart', () => {
    expect(classifyUpload(422, { code: 'invalid', message: 'the file is not a JPEG, PNG, WebP or PDF (recognised by its content)' })).toBe('wrong_type');
    expect(classifyUpload(422, { code: 'invalid', message: 'invalid: a file larger than 10485760 bytes' })).toBe('too_large');
    expect(classifyUpload(422, { code: 'invalid', message: 'invalid: too many files on one item (at most 20)' })).toBe('too_many');
    expect(classifyUpload(422, { code: 'invalid', message: 'invalid: the files of one item together larger than 52428800 bytes' })).toBe('too_many');
    // The HTTP layer cuts a body over 10 MiB with a plain-text 413.
    expect(classifyUpload(413, null)).toBe('too_large');
    expect(classifyUpload(409, { code: 'already_done', message: 'this file is already attached to assignment item 3' })).toBe('duplicate');
    expect(classifyUpload(403, { code: 'forbidden', message: 'not this unit’s item' })).toBe('other');
  });

  it('sends the file with the credential in the Authorization header only', async () => {
    const f = vi.fn(async () => response(201, { type: 'ack', id: '', seq: 42, result: { item: 3 } }));
    const file = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' });
    const out = await uploadEvidence({ session: 'xixia-2026', item: 3, file, name: '整改 照片.png', token: 'secret-token', fetchImpl: f as unknown as typeof fetch });
    expect(out).toEqual({ ok: true, seq: 42 });
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/sessions/xixia-2026/items/3/files?name=%E6%95%B4%E6%94%B9%20%E7%85%A7%E7%89%87.png');
    expect(url).not.toContain('secret-token');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer secret-token');
    expect(init.method).toBe('POST');
    expect(init.body).toBe(file);
  });

  it('refuses a file over 10 MiB before sending it', async () => {
    const f = vi.fn();
    const big = { size: MAX_FILE_BYTES + 1 } as Blob;
    expect(await uploadEvidence({ session: 's', item: 1, file: big, name: 'big.pdf', token: 't', fetchImpl: f as unknown as typeof fetch })).toEqual({ ok: false, problem: 'too_large' });
    expect(f).not.toHaveBeenCalled();
  });

  it('reports the wrong type, a 413 and a network failure', async () => {
    const file = new Blob(['hello']);
    const wrong = vi.fn(async () => response(422, { code: 'invalid', message: 'the file is not a JPEG, PNG, WebP or PDF (recognised by its content)' }));
    expect(await uploadEvidence({ session: 's', item: 1, file, name: 'a.txt', token: 't', fetchImpl: wrong as unknown as typeof fetch })).toMatchObject({ ok: false, problem: 'wrong_type', code: 'invalid', status: 422 });
    const cut = vi.fn(async () => response(413, 'length limit exceeded', false));
    expect(await uploadEvidence({ session: 's', item: 1, file, name: 'a.png', token: 't', fetchImpl: cut as unknown as typeof fetch })).toMatchObject({ ok: false, problem: 'too_large', status: 413 });
    const down = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(await uploadEvidence({ session: 's', item: 1, file, name: 'a.png', token: 't', fetchImpl: down as unknown as typeof fetch })).toEqual({ ok: false, problem: 'offline' });
  });
});
