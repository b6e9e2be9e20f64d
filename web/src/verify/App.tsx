// verify.html: the receipt check (回执核验). A delegate types the receipt
// code their phone showed; the page asks `GET /api/sessions/{id}/receipts/{code}`
// and says whether that ballot (or follow-up rating) is recorded and
// counted, with the record's chain head. Nothing else is shown or kept.

import { useEffect, useState } from 'preact/hooks';
import type { ProgressDto } from '../protocol.ts';
import { t } from '../lib/i18n/index.ts';
import { LangSwitch } from '../lib/ui.tsx';
import { load, resolveSession } from '../progress/data.ts';
import { checkReceipt, normalizeCode, type Outcome } from './logic.ts';
import { vt } from './i18n.ts';
import { SessionChoice } from '../lib/session-choice.tsx';

export function App() {
  const l = load.value;
  useEffect(() => {
    void resolveSession(location.search);
  }, []);
  const v = vt();
  return (
    <>
      <header class="v-top">
        <span class="brand">{t().app.name}</span>
        <h1>{v.title}</h1>
        <span class="grow" />
        <LangSwitch />
      </header>
      <main class="v-main">
        <p class="v-intro">{v.intro}</p>
        {l.kind === 'loading' ? (
          <p aria-busy="true">…</p>
        ) : l.kind === 'none' ? (
          <p role="alert">{v.noSession}</p>
        ) : l.kind === 'choose' ? (
          <SessionChoice sessions={l.sessions} label={v.chooseSession} />
        ) : (
          <Check session={l.id} />
        )}
      </main>
    </>
  );
}

/** Unit names for the answer, from the public progress data (best effort). */
function useUnitNames(session: string): Record<string, string> {
  const [names, setNames] = useState<Record<string, string>>({});
  useEffect(() => {
    fetch(`/api/sessions/${encodeURIComponent(session)}/progress`, { credentials: 'omit' })
      .then((r) => (r.ok ? (r.json() as Promise<ProgressDto>) : null))
      .then((p) => {
        if (p) setNames(Object.fromEntries(p.session.units.map((u) => [u.id, u.name])));
      })
      .catch(() => {});
  }, [session]);
  return names;
}

function Check({ session }: { session: string }) {
  const v = vt();
  const [typed, setTyped] = useState('');
  const [bad, setBad] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const units = useUnitNames(session);
  const submit = (e: Event) => {
    e.preventDefault();
    const code = normalizeCode(typed);
    setBad(code === null);
    setOutcome(null);
    if (code === null) return;
    setBusy(true);
    void checkReceipt(session, code).then((o) => {
      setOutcome(o);
      setBusy(false);
    });
  };
  return (
    <>
      <form class="v-form" onSubmit={submit} noValidate>
        <label for="v-code">{v.code}</label>
        <input
          id="v-code"
          name="code"
          inputMode="text"
          autocomplete="off"
          autocapitalize="off"
          spellcheck={false}
          maxLength={40}
          class="mono"
          value={typed}
          aria-describedby="v-code-hint"
          aria-invalid={bad}
          onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)}
        />
        <p id="v-code-hint" class="muted small">
          {v.codeHint}
        </p>
        <button class="primary" type="submit" disabled={busy}>
          {busy ? v.checking : v.check}
        </button>
      </form>
      {bad && (
        <p class="v-result v-bad" role="alert">
          {v.badCode}
        </p>
      )}
      {outcome && <Result outcome={outcome} units={units} />}
    </>
  );
}

function Result({ outcome, units }: { outcome: Outcome; units: Record<string, string> }) {
  const v = vt();
  if (outcome.kind === 'busy' || outcome.kind === 'failed') {
    return (
      <p class="v-result v-bad" role="alert" data-outcome={outcome.kind}>
        {outcome.kind === 'busy' ? v.busy : v.failed}
      </p>
    );
  }
  const c = outcome.check;
  const what =
    c.kind === 'ballot' && c.evaluation !== undefined
      ? v.ballot(c.evaluation, units[c.unit ?? ''] ?? c.unit ?? '')
      : c.kind === 'item_rating' && c.item !== undefined
        ? v.itemRating(c.item)
        : null;
  const text = outcome.kind === 'counted' ? v.counted : outcome.kind === 'recorded' ? v.recorded : v.notFound;
  return (
    <section class={`v-result v-${outcome.kind}`} role="status" data-outcome={outcome.kind}>
      <p class="v-verdict">
        <strong>{text}</strong>
      </p>
      {what && <p>{what}</p>}
      <p class="small">
        {v.head} <code class="mono v-head" data-head>{c.head}</code>
      </p>
      <p class="muted small">{v.headHint}</p>
    </section>
  );
}
