import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Evaluated by the runner and by every worker: must be deterministic.
export const PORT = Number(process.env.WZ_E2E_PORT ?? 18473);
export const BASE_URL = `http://127.0.0.1:${PORT}`;
export const DATA_DIR = process.env.WZ_E2E_DATA_DIR ?? join(tmpdir(), `wz-e2e-${PORT}`);
export const SESSION = 'xixia-2026';
// Lets a spec create a session of its own over REST (POST /api/sessions):
// a test server's fixed token, not a secret.
export const ADMIN_TOKEN = process.env.WZ_E2E_ADMIN_TOKEN ?? 'e2e-admin-token-not-a-secret';
