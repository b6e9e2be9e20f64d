// 会场状态: the venue health board. One row per venue, always visible, so
// a venue that drops off (no connection, or no heartbeat for 60 s) stands
// out at a glance: red row plus a worded flag (not colour alone).

import { t } from '../lib/i18n/index.ts';
import type { SessionState } from '../lib/state.ts';
import { serverNow, useNow } from '../lib/time.ts';
import { mt } from './i18n.ts';
import { formatAgo, shortVenueNames, venueHealth } from './logic.ts';

export function HealthBoard({ state }: { state: SessionState }) {
  const mm = mt().health;
  const now = useNow(1000).value;
  const rows = venueHealth(state, serverNow(state.clockOffset, now));
  const short = shortVenueNames(state.session.venues);
  const down = rows.filter((r) => r.problem !== null).length;
  const online = rows.filter((r) => (r.connections ?? 0) > 0).length;
  const showTurnout = state.stats.evaluation !== undefined;
  const present = rows.reduce((a, r) => a + r.present, 0);
  const roster = rows.reduce((a, r) => a + r.roster, 0);
  const requests = Object.keys(state.checkInRequests ?? {}).length;
  return (
    <section class="card health" aria-labelledby="health-h" id="health">
      <div class="card-head">
        <h2 id="health-h">{mm.title}</h2>
      </div>
      <p class={`health-summary ${down > 0 ? 'health-bad' : ''}`} data-down={down}>
        <span role="status">{mm.summary(online, rows.length, down)}</span>
        <span class="muted"> · {mm.totalPresent(present, roster)}</span>
        {state.session.check_in && (
          <span class="muted" data-check-in-policy={state.session.check_in}>
            {' '}
            · {mm.checkInPolicy[state.session.check_in]}
            {requests > 0 && ` · ${mm.pendingRequests(requests)}`}
          </span>
        )}
      </p>
      <table class="health-table">
        <caption class="visually-hidden">{mm.title}</caption>
        <thead>
          <tr>
            <th scope="col">{mm.venue}</th>
            <th scope="col" class="num">
              {mm.connections}
            </th>
            <th scope="col" class="num">
              {mm.checkedIn}
            </th>
            <th scope="col" class="num">
              {mm.lastSeen}
            </th>
            {showTurnout && (
              <th scope="col" class="num">
                {mm.turnout}
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.venue} data-venue={r.venue} data-problem={r.problem ?? ''} class={r.problem ? 'venue-down' : ''}>
              <th scope="row">
                <span class="v-name" title={r.name}>
                  {r.main ? t().common.mainVenue : (short.get(r.venue) ?? r.name)}
                </span>
                {r.problem && (
                  <span class="v-flag">
                    <span aria-hidden="true">⚠ </span>
                    {r.problem === 'no_connection' ? mm.noConnection : mm.stale}
                  </span>
                )}
              </th>
              <td class="num" data-connections={r.connections ?? ''}>
                {r.connections ?? mm.never}
              </td>
              <td class="num" data-present>
                {r.present}/{r.roster}
              </td>
              <td class="num" data-last-seen={r.lastSeen ?? ''}>
                {r.agoMs !== undefined ? formatAgo(r.agoMs, mm) : mm.never}
              </td>
              {showTurnout && (
                <td class="num" data-turnout>
                  {r.turnout ? `${r.turnout.voted}/${r.turnout.eligible}` : mm.never}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small">{mm.staleHint}</p>
    </section>
  );
}
