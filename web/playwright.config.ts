import { defineConfig } from '@playwright/test';
import { ADMIN_TOKEN, BASE_URL, DATA_DIR, PORT } from './e2e/env.ts';

// End-to-end tests against the real server (see e2e/start-server.sh).
// The scenarios share one server and one session whose phases only move
// forward, so they run in file order on one worker:
// 01 XSS (questioning) → 02 whole session (check-in … evaluation, results) → 03 offline ballots
// → … → 07 the follow-up (closes the session, office/unit/delegate/progress pages, archive).
export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's chromium (apt-get install chromium fonts-wqy-microhei); never `npx playwright install`.
      executablePath: process.env.WZ_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: 'sh e2e/start-server.sh',
    url: `${BASE_URL}/readyz`,
    reuseExistingServer: false,
    timeout: 600_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: { WZ_E2E_PORT: String(PORT), WZ_E2E_DATA_DIR: DATA_DIR, WZ_E2E_ADMIN_TOKEN: ADMIN_TOKEN },
  },
});
