// "Which session?": the list of sessions the public pages (progress.html,
// verify.html) offer when the address names none and the server has several.

import type { SessionRef } from '../progress/data.ts';

export function SessionChoice({ sessions, label, class: cls }: { sessions: readonly SessionRef[]; label: string; class?: string }) {
  return (
    <nav class={cls} aria-label={label}>
      <h2>{label}</h2>
      <ul>
        {sessions.map((s) => (
          <li key={s.id}>
            <a href={`?session=${encodeURIComponent(s.id)}`}>{s.title}</a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
