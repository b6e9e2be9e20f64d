#!/bin/sh
# Started by playwright.config.ts (webServer): builds the server and the pages,
# then runs the real server on a fresh data directory (the demo session is
# seeded because the store is empty; its join links land in
# <data dir>/credentials/xixia-2026.csv).
set -eu
cd "$(dirname "$0")/.."            # web/
: "${WZ_E2E_PORT:?}" "${WZ_E2E_DATA_DIR:?}" "${WZ_E2E_ADMIN_TOKEN:?}"
# WZ_E2E_SKIP_CARGO=1 reuses ../target/debug/wenzheng as it is (e.g. while the
# Rust crates are mid-edit); WZ_E2E_SKIP_BUILD=1 skips both builds.
if [ "${WZ_E2E_SKIP_BUILD:-}" != "1" ]; then
  if [ "${WZ_E2E_SKIP_CARGO:-}" != "1" ]; then
    (cd .. && cargo build -p wz-server)
  fi
  npm run build
fi
rm -rf "$WZ_E2E_DATA_DIR"
mkdir -p "$WZ_E2E_DATA_DIR"
# The admin token lets a spec create a session of its own (09: a check-in
# policy other than the demo's, in a phase of its own).
exec ../target/debug/wenzheng serve --bind "127.0.0.1:$WZ_E2E_PORT" --data-dir "$WZ_E2E_DATA_DIR" --web-dir dist \
  --admin-token "$WZ_E2E_ADMIN_TOKEN"
