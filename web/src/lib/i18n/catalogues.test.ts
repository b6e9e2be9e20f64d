// The page catalogues of the follow-up have the same shape in both languages
// (tsc checks the types; this checks nothing is empty and arities match).

import { describe, expect, it } from 'vitest';
import { oen, ozh } from '../../office/i18n.ts';
import { pen, pzh } from '../../progress/i18n.ts';
import { uen, uzh } from '../../unit/i18n.ts';
import { fen, fzh } from './followup.ts';

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

function strings(obj: Tree, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') out.push(...strings(v as Tree, path));
    else out.push([path, v]);
  }
  return out;
}

describe.each([
  ['follow-up', fzh, fen],
  ['office', ozh, oen],
  ['unit', uzh, uen],
  ['progress', pzh, pen],
] as const)('%s catalogue', (_name, zh, en) => {
  it('en has exactly the keys of zh, with the same arities', () => {
    expect(shape(en as unknown as Tree)).toEqual(shape(zh as unknown as Tree));
  });
  it('no string is empty', () => {
    for (const [k, v] of [...strings(zh as unknown as Tree), ...strings(en as unknown as Tree)]) if (typeof v === 'string') expect(v, k).not.toBe('');
  });
});
