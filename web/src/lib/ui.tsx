// Small shared components: connection badge, language switch, notices,
// the fatal-credential screen. Text only; no HTML from data, ever.

import type { ComponentChildren } from 'preact';
import type { FloorDto, Role } from '../protocol.ts';
import { formatCountdown, remainingMs, useNow } from './time.ts';
import type { Connection } from './connection.ts';
import { lang, setLang, t } from './i18n/index.ts';
import { dismiss, notices } from './notices.ts';
import { checkJoinCode, currentPage } from './join.ts';
import { linkOf } from './pages.ts';
import { useState } from 'preact/hooks';

/** "已连接 / 重连中 / 离线，N 条待发送" as a live region. */
export function ConnectionBadge({ conn }: { conn: Connection }) {
  const m = t().conn;
  const status = conn.status.value;
  const pending = conn.pending.value;
  // Connected, but the server's store does not answer: nothing can be acknowledged.
  const degraded = status === 'connected' && conn.state.value?.stats.store_available === false;
  const label = degraded ? m.storeDown : m[status];
  const text = pending > 0 ? m.pending(label, pending) : label;
  return (
    <span class={`conn conn-${degraded ? 'degraded' : status}`} role="status" aria-live="polite" data-status={status} data-pending={pending}>
      <span class="conn-dot" aria-hidden="true" />
      {text}
    </span>
  );
}

export function LangSwitch() {
  const m = t().lang;
  const other = lang.value === 'zh' ? 'en' : 'zh';
  return (
    <button type="button" class="lang-switch" onClick={() => setLang(other)} aria-label={`${m.label}: ${m[other]}`} lang={other === 'zh' ? 'zh-CN' : 'en'}>
      {m[other]}
    </button>
  );
}

export function Notices() {
  const list = notices.value;
  return (
    <div class="notices" aria-live="assertive">
      {list.map((n) => (
        <div key={n.id} class={`notice notice-${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button type="button" class="notice-close" onClick={() => dismiss(n.id)} aria-label={t().common.close}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

/**
 * Full-page message when the credential is missing, unknown or revoked, with
 * a field to type the join code printed on the participant's card (the same
 * token the card's QR code carries): joining works without a camera. When the
 * connection was replaced by a newer one of the same credential (4409), or
 * the server could not read the request (4400), a button reconnects here.
 */
export function FatalScreen({ conn }: { conn: Connection }) {
  const reason = conn.fatal.value;
  if (!reason) return null;
  const m = t().conn;
  if (reason === 'replaced' || reason === 'bad_request') {
    // The credential is fine: offer to connect again from here.
    const detail = conn.fatalDetail.value;
    return (
      <main class="fatal">
        <h1>{t().app.name}</h1>
        <p role="alert">{m.fatal[reason]}</p>
        {detail ? <p class="fatal-detail">{detail}</p> : null}
        <button type="button" onClick={() => conn.reconnectHere()}>
          {m.reconnectHere}
        </button>
      </main>
    );
  }
  return (
    <main class="fatal">
      <h1>{t().app.name}</h1>
      <p role="alert">{m.fatal[reason]}</p>
      <JoinCodeForm />
    </main>
  );
}

/**
 * The field for the code printed on the participant's card (a short join
 * code, or the whole token the QR code carries): joining works without a
 * camera. The server says first whose code it is, so a wrong one is said
 * here and a code of another page goes there.
 */
export function JoinCodeForm() {
  const m = t().conn;
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const join = async (e: Event) => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem('code') as HTMLInputElement | null;
    const code = input?.value.trim() ?? '';
    if (!code) {
      setProblem(m.joinWrong);
      return;
    }
    setBusy(true);
    const outcome = await checkJoinCode(code, currentPage(location.pathname));
    setBusy(false);
    switch (outcome.kind) {
      case 'here':
        // The same path as opening the card's link: the code goes in the fragment.
        location.hash = `token=${encodeURIComponent(code)}`;
        location.reload();
        return;
      case 'go':
        location.assign(outcome.href);
        return;
      case 'wrong':
        setProblem(m.joinWrong);
        return;
      case 'too_many':
        setProblem(m.joinTooMany(outcome.seconds));
        return;
      case 'offline':
        setProblem(m.joinOffline);
    }
  };
  return (
    <form class="join-code" onSubmit={join} noValidate>
      <label for="join-code">{m.joinCode}</label>
      <input
        id="join-code"
        name="code"
        autocomplete="off"
        autocapitalize="characters"
        spellcheck={false}
        aria-describedby="join-code-hint join-code-problem"
        aria-invalid={problem ? 'true' : undefined}
      />
      <p id="join-code-hint" class="join-code-hint">
        {m.joinCodeHint}
      </p>
      <p id="join-code-problem" class="join-code-problem" role="alert">
        {busy ? m.joinChecking : problem}
      </p>
      <button type="submit" disabled={busy}>
        {m.join}
      </button>
    </form>
  );
}

export function Loading() {
  return (
    <main class="loading" aria-busy="true">
      <p>{t().conn.loading}</p>
    </main>
  );
}

/** A horizontal proportion bar (CSS only: no chart library on phones). */
export function Bar({ value, max, label, tone }: { value: number; max: number; label?: string; tone?: string }) {
  const pct = max > 0 ? Math.min(100, (value / max) * 100) : 0;
  return (
    <span class={`bar ${tone ? `bar-${tone}` : ''}`} role="img" aria-label={label ?? `${value} / ${max}`}>
      <span class="bar-fill" style={{ width: `${pct}%` }} />
    </span>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id ? `${id}-h` : undefined} id={id}>
      <h2 id={id ? `${id}-h` : undefined}>{title}</h2>
      {children}
    </section>
  );
}

/** Characters as the server counts them: Unicode scalar values of the trimmed text. */
export function charCount(text: string): number {
  return Array.from(text.trim()).length;
}

/** A live answer countdown for the floor, corrected by the server clock offset. */
export function Countdown({ floor, offset, class: cls }: { floor: FloorDto; offset: number; class?: string }) {
  const now = useNow(250).value;
  const ms = remainingMs(floor, offset, now);
  const over = ms < 0;
  const paused = floor.paused_remaining !== undefined;
  return (
    <span
      class={`countdown ${over ? 'countdown-over' : ms <= 30_000 ? 'countdown-low' : ''} ${paused ? 'countdown-paused' : ''} ${cls ?? ''}`}
      data-remaining={Math.round(ms / 1000)}
      data-paused={paused ? 'true' : undefined}
    >
      <span class="visually-hidden">{over ? t().floor.overtime : t().floor.countdown}</span>
      <span>{formatCountdown(ms)}</span>
      {paused && <span class="countdown-paused-tag"> {t().floor.paused}</span>}
    </span>
  );
}

/** A join link of another role opened on this page: say so, and link to the right page. */
export function WrongPage({ conn, role, title, message, goTo }: { conn: Connection; role: Role; title: string; message: (role: string) => string; goTo: string }) {
  return (
    <main class="fatal">
      <h1>{title}</h1>
      <p>
        <ConnectionBadge conn={conn} />
      </p>
      <p role="alert">{message(t().roles[role])}</p>
      <p>
        <a href={linkOf(role, conn.token)}>{goTo}</a>
      </p>
    </main>
  );
}
