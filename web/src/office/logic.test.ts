import { describe, expect, it } from 'vitest';
import { item } from '../lib/fixtures.test-util.ts';
import { draftProblems, editCommand, formOf, sameForm, toggleCoUnit, withLead, type DraftForm } from './logic.ts';

const ORDER = ['vice_county_head', 'minzheng', 'weijian', 'caizheng'];

describe('draft forms', () => {
  it('starts from the server’s draft and compares by value', () => {
    const f = formOf(item(1, { status: 'draft', co_units: ['caizheng'], deadline: undefined }));
    expect(f).toEqual({ lead: 'minzheng', co_units: ['caizheng'], requirement: '交办要求 1', deadline: '', priority: 'normal' });
    expect(sameForm(f, { ...f, co_units: ['caizheng'] })).toBe(true);
    expect(sameForm(f, { ...f, priority: 'supervised' })).toBe(false);
    expect(sameForm(f, { ...f, co_units: [] })).toBe(false);
  });

  it('never lists the lead as a co-handling unit, and keeps the session’s order', () => {
    const f: DraftForm = { lead: 'minzheng', co_units: [], requirement: 'x', deadline: '', priority: 'normal' };
    const a = toggleCoUnit(toggleCoUnit(f, 'caizheng', true, ORDER), 'vice_county_head', true, ORDER);
    expect(a.co_units).toEqual(['vice_county_head', 'caizheng']);
    expect(toggleCoUnit(a, 'minzheng', true, ORDER).co_units).toEqual(['vice_county_head', 'caizheng']);
    expect(toggleCoUnit(a, 'caizheng', false, ORDER).co_units).toEqual(['vice_county_head']);
    expect(withLead(a, 'caizheng')).toMatchObject({ lead: 'caizheng', co_units: ['vice_county_head'] });
  });

  it('checks what the server would refuse; issuing needs a deadline not in the past', () => {
    const ok: DraftForm = { lead: 'minzheng', co_units: [], requirement: '建三个助餐点', deadline: '2026-02-01', priority: 'normal' };
    expect(draftProblems(ok, '2026-01-10', true)).toEqual([]);
    expect(draftProblems({ ...ok, deadline: '' }, '2026-01-10', false)).toEqual([]);
    expect(draftProblems({ ...ok, deadline: '' }, '2026-01-10', true)).toEqual(['deadline_missing']);
    expect(draftProblems({ ...ok, deadline: '2026-01-09' }, '2026-01-10', false)).toEqual(['deadline_past']);
    expect(draftProblems({ ...ok, deadline: '2026-01-10' }, '2026-01-10', true)).toEqual([]);
    expect(draftProblems({ ...ok, requirement: '  ', lead: '' }, '2026-01-10', false)).toEqual(['lead', 'requirement']);
  });

  it('builds the edit command (trimmed, no empty deadline)', () => {
    expect(editCommand(4, { lead: 'minzheng', co_units: ['caizheng'], requirement: ' 要求 ', deadline: '', priority: 'supervised' })).toEqual({
      type: 'edit_draft',
      item: 4,
      lead: 'minzheng',
      co_units: ['caizheng'],
      requirement: '要求',
      deadline: undefined,
      priority: 'supervised',
    });
  });
});
