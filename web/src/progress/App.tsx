// progress.html: the public follow-up progress (问政事项办理进度). No
// credential: it reads `GET /api/sessions/{id}/progress`, which carries the
// public perspective only (no askers, no delegate ids, public files only).

import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ItemDto, ItemStatus, ProgressDto } from '../protocol.ts';
import { publicFileUrl } from '../lib/files.ts';
import { byDeadline, dateIn, kilobytes, satisfactionBp } from '../lib/followup.ts';
import { Deadline, namesOf, PriorityTag, ReplyBox, Sources, StatusTag, type Names } from '../lib/followup-ui.tsx';
import { t } from '../lib/i18n/index.ts';
import { ft } from '../lib/i18n/followup.ts';
import { formatClock, useNow } from '../lib/time.ts';
import { LangSwitch } from '../lib/ui.tsx';
import { EChart } from '../screen/EChart.tsx';
import { rateBars, rateGauge, statusStack, type StatusKey } from './charts.ts';
import { clockOffset, data, failed, load, receivedAt, resolveSession, startPolling } from './data.ts';
import { pt } from './i18n.ts';
import { SessionChoice } from '../lib/session-choice.tsx';

export function App() {
  const l = load.value;
  useEffect(() => {
    void resolveSession(location.search);
  }, []);
  useEffect(() => {
    if (l.kind !== 'ready') return;
    return startPolling(l.id);
  }, [l.kind === 'ready' ? l.id : '']);
  const p = pt();
  const d = data.value;
  return (
    <>
      <header class="p-top">
        <div class="p-top-row">
          <span class="brand">{t().app.name}</span>
          <h1 class="p-title">{p.title}</h1>
          <span class="grow" />
          <Freshness />
          <LangSwitch />
        </div>
        {d && <p class="p-session">{d.session.title}</p>}
      </header>
      <main class="p-main">
        {l.kind === 'loading' || (l.kind === 'ready' && !d && !failed.value) ? (
          <p class="card" aria-busy="true">
            {p.loading}
          </p>
        ) : l.kind === 'none' ? (
          <p class="card" role="alert">
            {failed.value ? p.loadFailed : p.noSession}
          </p>
        ) : l.kind === 'choose' ? (
          <SessionChoice class="card" sessions={l.sessions} label={p.chooseSession} />
        ) : !d ? (
          <p class="card" role="alert">
            {p.loadFailed}
          </p>
        ) : (
          <Progress d={d} />
        )}
      </main>
    </>
  );
}

function Freshness() {
  const p = pt();
  const at = receivedAt.value;
  if (!at) return null;
  const time = formatClock(at, t().locale);
  return (
    <span class={`p-fresh ${failed.value ? 'p-stale' : ''}`} role="status" data-stale={failed.value ? 'true' : 'false'}>
      {failed.value ? p.stale(time) : p.updated(time)}
    </span>
  );
}

function Progress({ d }: { d: ProgressDto }) {
  const p = pt();
  const f = ft();
  const names = useMemo(() => namesOf(d.session), [d.session]);
  const now = useNow(60_000).value;
  const today = dateIn(d.session.time_zone, now + clockOffset.value);
  const o = d.board.overall;
  const units = d.board.units.filter((u) => u.counts.issued > 0);
  const statusNames: Record<StatusKey, string> = {
    waiting: f.itemStatuses.issued,
    in_handling: f.itemStatuses.in_handling,
    answered: f.itemStatuses.answered,
    rectified: f.itemStatuses.rectified,
    closed: f.itemStatuses.closed,
  };
  const key = `${d.seq}|${d.board.as_of}|${t().locale}`;
  const gauge = useMemo(() => rateGauge(o.resolved_rate_bp, p.rate), [key]);
  const bars = useMemo(() => rateBars(units.map((u) => ({ label: names.unit(u.unit), bp: u.counts.resolved_rate_bp }))), [key]);
  const stack = useMemo(() => statusStack(units.map((u) => ({ label: names.unit(u.unit), counts: u.counts })), statusNames), [key]);
  if (o.issued === 0) {
    return (
      <section class="card">
        <p>{p.intro}</p>
        <p class="muted">{p.notYet}</p>
      </section>
    );
  }
  const chartHeight = `${Math.max(160, units.length * 44 + 40)}px`;
  return (
    <>
      <section class="card p-overview" aria-labelledby="ov-h" data-overall>
        <h2 id="ov-h">{p.overview}</h2>
        <p class="muted">{p.intro}</p>
        <div class="p-overview-grid">
          <div class="p-gauge">
            <EChart name="rate-overall" option={gauge} label={`${p.rate} ${o.resolved_rate_bp === undefined ? '—' : t().common.percent(o.resolved_rate_bp)}`} class="chart-gauge" />
            <p class="p-rate" data-rate={o.resolved_rate_bp ?? ''}>
              {p.rate} <strong>{o.resolved_rate_bp === undefined ? '—' : t().common.percent(o.resolved_rate_bp)}</strong>
              <span class="muted small"> {p.rateHint}</span>
            </p>
          </div>
          <dl class="p-figures">
            <Fig k="issued" label={p.figures.issued} n={o.issued} />
            <Fig k="pending" label={p.figures.pending} n={o.waiting + o.in_handling} />
            <Fig k="answered" label={p.figures.answered} n={o.answered} />
            <Fig k="rectified" label={p.figures.rectified} n={o.rectified} />
            <Fig k="closed" label={p.figures.closed} n={o.closed} />
            <Fig k="overdue" label={p.figures.overdue} n={o.overdue} bad={o.overdue > 0} />
          </dl>
        </div>
      </section>
      <div class="p-charts">
        <section class="card" aria-labelledby="rb-h">
          <h2 id="rb-h">{p.rateByUnit}</h2>
          <div style={{ height: chartHeight }}>
            <EChart name="rate-units" option={bars} label={p.rateByUnit} class="chart-fill" />
          </div>
        </section>
        <section class="card" aria-labelledby="sb-h">
          <h2 id="sb-h">{p.statusByUnit}</h2>
          <div style={{ height: chartHeight }}>
            <EChart name="status-units" option={stack} label={p.statusByUnit} class="chart-fill" />
          </div>
        </section>
      </div>
      <section class="card" aria-labelledby="sat-h">
        <h2 id="sat-h">{p.satisfactionByUnit}</h2>
        <div class="table-wrap">
          <table class="p-table">
            <thead>
              <tr>
                <th scope="col">{p.unit}</th>
                <th scope="col">{p.rate}</th>
                <th scope="col">{p.rateCol}</th>
                <th scope="col">{p.counts}</th>
              </tr>
            </thead>
            <tbody>
              {units.map((u) => {
                const c = u.counts.ratings;
                const sat = satisfactionBp(c);
                return (
                  <tr key={u.unit} data-unit={u.unit}>
                    <th scope="row">{names.unit(u.unit)}</th>
                    <td data-rate>{u.counts.resolved_rate_bp === undefined ? '—' : t().common.percent(u.counts.resolved_rate_bp)}</td>
                    <td data-satisfaction>{c.total === 0 ? p.noRatings : c.suppressed ? p.insufficient(c.total) : sat === undefined ? '—' : t().common.percent(sat)}</td>
                    <td>{c.total === 0 || c.suppressed ? '—' : `${c.satisfied} / ${c.basically_satisfied} / ${c.dissatisfied}`}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <p class="muted small">{p.satisfactionHint}</p>
      </section>
      <Items d={d} names={names} today={today} />
    </>
  );
}

function Fig({ k, label, n, bad }: { k: string; label: string; n: number; bad?: boolean }) {
  return (
    <div class={`p-fig ${bad ? 'p-fig-bad' : ''}`} data-figure={k}>
      <dt>{label}</dt>
      <dd>{n}</dd>
    </div>
  );
}

function Items({ d, names, today }: { d: ProgressDto; names: Names; today: string }) {
  const p = pt();
  const f = ft();
  const [unit, setUnit] = useState('');
  const [status, setStatus] = useState<ItemStatus | ''>('');
  const all = d.items.filter((i) => i.status !== 'draft' && i.merged_into === undefined);
  const list = all.filter((i) => (!unit || i.lead === unit || i.co_units.includes(unit)) && (!status || i.status === status)).sort(byDeadline(today));
  return (
    <section class="card" aria-labelledby="items-h">
      <h2 id="items-h">{p.items}</h2>
      <div class="p-filters">
        <div class="p-filter">
          <label for="pf-unit">{p.filterUnit}</label>
          <select id="pf-unit" value={unit} onChange={(e) => setUnit((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">{p.any}</option>
            {d.session.units.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </div>
        <div class="p-filter">
          <label for="pf-status">{p.filterStatus}</label>
          <select id="pf-status" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value as ItemStatus | '')}>
            <option value="">{p.any}</option>
            {(['issued', 'in_handling', 'answered', 'rectified', 'closed'] as const).map((s) => (
              <option key={s} value={s}>
                {f.itemStatuses[s]}
              </option>
            ))}
          </select>
        </div>
        <p class="muted small" role="status">
          {p.shown(list.length, all.length)}
        </p>
      </div>
      {list.length === 0 && <p class="muted">{p.empty}</p>}
      <ul class="p-items plain">
        {list.map((item) => (
          <PublicItem key={item.id} d={d} item={item} names={names} today={today} />
        ))}
      </ul>
    </section>
  );
}

function PublicItem({ d, item, names, today }: { d: ProgressDto; item: ItemDto; names: Names; today: string }) {
  const p = pt();
  const f = ft();
  return (
    <li class="p-item" data-item={item.id} data-number={item.number} data-status={item.status}>
      <div class="p-item-head">
        <h3>
          {item.number !== undefined ? f.itemNo(item.number) : f.draftNo(item.id)} <StatusTag status={item.status} /> <PriorityTag priority={item.priority} />
        </h3>
        <Deadline item={item} today={today} dueSoonDays={d.session.limits.due_soon_days} />
      </div>
      <p class="small">
        <span class="muted">{f.lead}</span> <strong data-lead>{names.unit(item.lead)}</strong>
        {item.co_units.length > 0 && (
          <>
            {' '}
            · <span class="muted">{f.coUnits}</span> {item.co_units.map((u) => names.unit(u)).join('、')}
          </>
        )}
      </p>
      <Sources item={item} questions={d.questions} names={names} />
      <p class="p-requirement pre">
        <span class="muted">{f.requirement}：</span>
        {item.requirement}
      </p>
      <ReplyBox item={item} noReply={p.noReply} />
      {item.evidence.length > 0 && (
        <div class="item-block">
          <h4>{p.publicEvidence}</h4>
          <ul class="evidence-list">
            {item.evidence.map((e) => (
              <li key={e.id} class="evidence-row" data-file={e.id}>
                <a href={publicFileUrl(d.session.id, e.id)} download={e.name} aria-label={p.download(e.name)}>
                  <span class="tag">{e.kind.toUpperCase()}</span> {e.name}
                </a>
                <span class="muted small">{f.fileSize(kilobytes(e.bytes))}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </li>
  );
}
