// The office console's pure logic: draft forms (what the office is editing,
// kept apart from the server's items) and their checks before sending.

import type { CommandDto, ItemDto, Priority } from '../protocol.ts';

export interface DraftForm {
  lead: string;
  co_units: string[];
  requirement: string;
  /** `YYYY-MM-DD` or '' (none yet). */
  deadline: string;
  priority: Priority;
}

export function formOf(item: ItemDto): DraftForm {
  return { lead: item.lead, co_units: [...item.co_units], requirement: item.requirement, deadline: item.deadline ?? '', priority: item.priority };
}

export function sameForm(a: DraftForm, b: DraftForm): boolean {
  return (
    a.lead === b.lead &&
    a.requirement === b.requirement &&
    a.deadline === b.deadline &&
    a.priority === b.priority &&
    a.co_units.length === b.co_units.length &&
    a.co_units.every((u, i) => b.co_units[i] === u)
  );
}

/** A new lead is never also a co-handling unit. */
export function withLead(form: DraftForm, lead: string): DraftForm {
  return { ...form, lead, co_units: form.co_units.filter((u) => u !== lead) };
}

/** Toggles a co-handling unit, keeping the session's unit order. */
export function toggleCoUnit(form: DraftForm, unit: string, on: boolean, order: readonly string[]): DraftForm {
  if (unit === form.lead) return form;
  const set = new Set(form.co_units);
  if (on) set.add(unit);
  else set.delete(unit);
  return { ...form, co_units: order.filter((u) => set.has(u)) };
}

export type DraftProblem = 'lead' | 'requirement' | 'deadline_missing' | 'deadline_past';

/** What the server would refuse, checked before sending (issuing needs a deadline). */
export function draftProblems(form: DraftForm, today: string, forIssue: boolean): DraftProblem[] {
  const out: DraftProblem[] = [];
  if (!form.lead) out.push('lead');
  if (form.requirement.trim() === '') out.push('requirement');
  if (form.deadline === '') {
    if (forIssue) out.push('deadline_missing');
  } else if (!/^\d{4}-\d{2}-\d{2}$/.test(form.deadline) || form.deadline < today) out.push('deadline_past');
  return out;
}

export function editCommand(item: number, form: DraftForm): CommandDto {
  return {
    type: 'edit_draft',
    item,
    lead: form.lead,
    co_units: form.co_units,
    requirement: form.requirement.trim(),
    deadline: form.deadline === '' ? undefined : form.deadline,
    priority: form.priority,
  };
}
