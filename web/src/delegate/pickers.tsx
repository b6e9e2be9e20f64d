import { t } from '../lib/i18n/index.ts';
import type { SessionState } from '../lib/state.ts';

/** Operator: choose a delegate of the venue (checked-in first). */
export function DelegatePicker({ id, state, value, onChange }: { id: string; state: SessionState; value: string; onChange: (v: string) => void }) {
  const m = t();
  const venue = state.you.venue;
  const list = state.delegates.filter((d) => d.venue === venue);
  const present = list.filter((d) => d.id in state.checkedIn);
  const absent = list.filter((d) => !(d.id in state.checkedIn));
  return (
    <div class="field">
      <label for={id}>{m.delegate.ask.onBehalfOf}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)} required>
        <option value="">{m.common.choose}</option>
        {present.length > 0 && (
          <optgroup label={m.delegate.checkedIn}>
            {present.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}（{m.levels[d.level]}）
              </option>
            ))}
          </optgroup>
        )}
        {absent.length > 0 && (
          <optgroup label={m.delegate.roster.notCheckedIn}>
            {absent.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}（{m.levels[d.level]}）
              </option>
            ))}
          </optgroup>
        )}
      </select>
    </div>
  );
}

export function NamedPicker({
  id,
  label,
  items,
  value,
  onChange,
}: {
  id: string;
  label: string;
  items: Array<{ id: string; name: string }>;
  value: string;
  onChange: (v: string) => void;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)} required>
        <option value="">{t().common.choose}</option>
        {items.map((i) => (
          <option key={i.id} value={i.id}>
            {i.name}
          </option>
        ))}
      </select>
    </div>
  );
}
