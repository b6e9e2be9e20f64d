import { afterEach, describe, expect, it } from 'vitest';
import { en } from './en.ts';
import { lang, setLang, t } from './index.ts';
import { zh } from './zh.ts';

type Tree = { [k: string]: unknown };

function shape(obj: Tree, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'function') out.push(`${path}()/${v.length}`);
    else if (v && typeof v === 'object') out.push(...shape(v as Tree, path));
    else out.push(`${path}:${typeof v}`);
  }
  return out.sort();
}

function leaves(obj: Tree): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object') for (const [p, x] of leaves(v as Tree)) out.push([`${k}.${p}`, x]);
    else out.push([k, v]);
  }
  return out;
}

describe('i18n', () => {
  afterEach(() => void setLang('zh'));

  it('en has every key of zh, with the same kinds and arities (and nothing extra)', () => {
    expect(shape(en as unknown as Tree)).toEqual(shape(zh as unknown as Tree));
  });

  it('no string is empty in zh; en strings are empty only where intended', () => {
    for (const [k, v] of leaves(zh as unknown as Tree)) if (typeof v === 'string') expect(v, k).not.toBe('');
    const emptyEn = leaves(en as unknown as Tree).filter(([, v]) => v === '').map(([k]) => k);
    expect(emptyEn).toEqual(['screen.people']);
  });

  it('every wire enum has a label', () => {
    for (const r of ['satisfied', 'basically_satisfied', 'dissatisfied'] as const) expect(t().ratings[r]).toBeTruthy();
    for (const c of ['bad_message', 'forbidden', 'not_found', 'invalid_state', 'already_done', 'invalid', 'limit', 'unavailable'] as const)
      expect(zh.errors[c] && en.errors[c]).toBeTruthy();
  });

  it('defaults to Simplified Chinese and switches (loading English on demand), persisting the choice', async () => {
    expect(lang.value).toBe('zh');
    expect(t().conn.connected).toBe('已连接');
    expect(t().conn.pending('离线', 3)).toBe('离线，3 条待发送');
    await setLang('en');
    expect(t().conn.connected).toBe('Connected');
    expect(localStorage.getItem('wz:lang')).toBe('en');
    expect(document.documentElement.lang).toBe('en');
  });
});
