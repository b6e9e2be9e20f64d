// Helpers for the end-to-end tests: join tokens from the credential sheet,
// a small Node WebSocket client that drives the moderator's side of the
// session (the moderator console is not part of these pages), and phases.

import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { AckDto, CommandDto, ErrorDto, Phase, ServerMessage } from '../src/protocol.ts';
import { applyMessage, type SessionState } from '../src/lib/state.ts';
import { BASE_URL, DATA_DIR, SESSION } from './env.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(here, '..', '..', 'docs', 'screenshots');

export interface Credential {
  principal: string;
  name: string;
  token: string;
  link: string;
  /** The short join code printed on the card (issue 10). */
  code: string;
}

/** Parses `<data dir>/credentials/xixia-2026.csv` (BOM; principal,name,token,link). */
export function credentials(dataDir: string = DATA_DIR): Map<string, Credential> {
  const raw = readFileSync(join(dataDir, 'credentials', `${SESSION}.csv`), 'utf8').replace(/^\uFEFF/, '');
  const [header, ...lines] = raw.split(/\r?\n/).filter((l) => l.trim() !== '');
  const cols = header.split(',');
  const out = new Map<string, Credential>();
  for (const line of lines) {
    const cells = parseCsvLine(line);
    const rec = Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? ''])) as unknown as Credential;
    out.set(rec.principal, rec);
  }
  return out;
}

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** The short join code the card prints for `principal`. */
export function joinCode(principal: string, dataDir: string = DATA_DIR): string {
  const c = credentials(dataDir).get(principal);
  if (!c?.code) throw new Error(`no join code for ${principal}`);
  return c.code;
}

export function token(principal: string, dataDir: string = DATA_DIR): string {
  const c = credentials(dataDir).get(principal);
  if (!c) throw new Error(`no credential for ${principal}`);
  return c.token;
}

type Answer = ({ type: 'ack' } & AckDto) | ({ type: 'error' } & ErrorDto);

/** A protocol client in Node, keeping the session state with the web's own store. */
export class WsClient {
  state: SessionState | null = null;
  private ws!: WebSocket;
  private n = 0;
  private readonly answers = new Map<string, (a: Answer) => void>();
  private readonly watchers = new Set<() => void>();

  static async open(tok: string, base: string = BASE_URL): Promise<WsClient> {
    const c = new WsClient();
    c.ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(tok)}`);
    c.ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ServerMessage;
      c.state = applyMessage(c.state, msg);
      if ((msg.type === 'ack' || msg.type === 'error') && msg.id) {
        const f = c.answers.get(msg.id);
        c.answers.delete(msg.id);
        f?.(msg);
      }
      for (const w of [...c.watchers]) w();
    });
    await c.waitFor((s) => s !== null, 10_000);
    return c;
  }

  send(cmd: CommandDto): Promise<Answer> {
    const id = `e2e-${++this.n}-${Date.now()}`;
    return new Promise((resolve) => {
      this.answers.set(id, resolve);
      this.ws.send(JSON.stringify({ id, ...cmd }));
    });
  }

  /** Sends a command and fails the test unless it is acknowledged. */
  async must(cmd: CommandDto): Promise<AckDto> {
    const a = await this.send(cmd);
    if (a.type !== 'ack') throw new Error(`${cmd.type} refused: ${a.code} ${a.message}`);
    return a;
  }

  waitFor(pred: (s: SessionState) => boolean, timeoutMs = 15_000): Promise<SessionState> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.state && pred(this.state)) {
          clearTimeout(timer);
          this.watchers.delete(check);
          resolve(this.state);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error('timed out waiting for the session state'));
      }, timeoutMs);
      if (!check()) this.watchers.add(check);
    });
  }

  close(): void {
    this.ws.close();
  }
}

const PHASES: Phase[] = ['preparing', 'check_in', 'questioning', 'evaluation', 'closed'];

/** Moves the session forward until it is at least in `phase` (phases only move forward). */
export async function ensurePhase(mod: WsClient, phase: Phase): Promise<void> {
  for (;;) {
    const cur = mod.state!.session.phase;
    if (PHASES.indexOf(cur) >= PHASES.indexOf(phase)) return;
    const next = PHASES[PHASES.indexOf(cur) + 1];
    await mod.must({ type: 'advance_phase', to: next });
    await mod.waitFor((s) => s.session.phase === next);
  }
}

/** Empties the floor (answers whatever is unanswered) and closes an open evaluation. */
export async function clearStage(mod: WsClient): Promise<void> {
  const s = mod.state!;
  if (s.floor) {
    const q = s.questions.find((x) => x.id === s.floor!.question)!;
    if (!q.answer) await mod.must({ type: 'record_answer', unit: q.unit, official: '工作人员', summary: '已答复。', commitments: [] });
    for (const f of q.follow_ups) if (!f.answer) await mod.must({ type: 'record_answer', follow_up: f.id, unit: q.unit, official: '工作人员', summary: '已答复。', commitments: [] });
    await mod.must({ type: 'end_floor' });
  }
  const open = mod.state!.evaluations.find((e) => e.status === 'open');
  if (open) await mod.must({ type: 'close_evaluation', evaluation: open.id });
}

export const PHONE = { width: 390, height: 844 };
export const SCREEN = { width: 1920, height: 1080 };

/** A browser context of its own (separate storage) with a page at the given size. */
export async function openPage(browser: Browser, path: string, tok: string, size: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: size, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${path}] page error:`, e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`[${path}] console:`, m.text());
  });
  await page.goto(`${path}#token=${tok}`);
  return { context, page };
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Transient notices would cover the content: dismiss them first.
  await page.evaluate(() => document.querySelectorAll<HTMLButtonElement>('.notice-close').forEach((b) => b.click()));
  await page.locator('.notice').first().waitFor({ state: 'detached', timeout: 2000 }).catch(() => undefined);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Waits until the page's connection badge says "已连接" with nothing pending. */
export async function expectConnected(page: Page): Promise<void> {
  await expect(page.locator('.conn').first()).toHaveAttribute('data-status', 'connected');
}

/**
 * Starts a server of the test's own (`wenzheng serve` on `port`, its data in
 * `dataDir`, pages from `webDir`), for the specs that restart it or need a
 * session of their own. Kill it with `.kill('SIGKILL')`.
 */
export function startOwnServer(port: number, dataDir: string, extra: string[] = [], webDir = 'dist'): ChildProcess {
  return spawn('../target/debug/wenzheng', ['serve', '--bind', `127.0.0.1:${port}`, '--data-dir', dataDir, '--web-dir', webDir, ...extra], { stdio: 'ignore' });
}

/** Polls `base`'s `/readyz` (a process coming up, not a message: nothing to await) for up to 20 s. */
export async function serverReady(base: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${base} did not start`);
}
