#!/usr/bin/env bash
# npm test: the three tiers, starting whatever they need (Node 24, dependencies, Postgres, Redis,
# a test moto on its own port, ffmpeg, the build). Usage: scripts/test.sh [all|unit|integration|e2e]
set -uo pipefail
. "$(dirname "$0")/lib.sh"

TIER="${1:-all}"
TEST_DIR="$STACK_DIR/test"
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
export TEST_MOTO_PORT="${TEST_MOTO_PORT:-5057}"
export TEST_MOTO_URL="http://127.0.0.1:$TEST_MOTO_PORT"

use_node
ensure_deps || die "dependency install failed"
# Jest >= 30.4.2 on Node >= 24.9 loads ESM-only packages through require(esm) with this flag
# (jestjs/jest#15651); without it, their CommonJS consumers fail under jest only.
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules --disable-warning=ExperimentalWarning"
cd "$ROOT"

prepare_services() {
  ensure_postgres "$TEST_POSTGRES_URL"
  ensure_redis "$TEST_REDIS_URL"
  ensure_moto "$TEST_MOTO_PORT" "$TEST_DIR/moto.pid" "$TEST_DIR/moto.log"
}

started_moto=0
cleanup() {
  if [ "$started_moto" = 1 ] && [ -f "$TEST_DIR/moto.pid" ]; then
    kill "$(cat "$TEST_DIR/moto.pid")" 2>/dev/null || true
    rm -f "$TEST_DIR/moto.pid"
  fi
}
trap cleanup EXIT

status=0
run_tier() { # name, jest args...
  local name="$1"; shift
  log "tier: $name"
  npx --no-install jest --selectProjects "$name" "$@" || status=1
}

case "$TIER" in
  unit) run_tier unit ;;
  integration|e2e|all)
    moto_up "$TEST_MOTO_PORT" || started_moto=1
    prepare_services
    ensure_ffmpeg # the integration tier's video adapter test runs ffmpeg too
    if [ "$TIER" != integration ]; then ensure_chromium; build || die "build failed"; fi
    [ "$TIER" = all ] && run_tier unit
    # Outer tiers share one emulator and reset it between suites: one file at a time.
    # --forceExit: the drain-deadline test abandons a job handler on purpose (a real process
    # exits at that point); its timers would otherwise keep jest alive after the results.
    [ "$TIER" != e2e ] && run_tier integration --runInBand --forceExit
    [ "$TIER" != integration ] && run_tier e2e --runInBand --forceExit
    ;;
  *) die "usage: $0 [all|unit|integration|e2e]" ;;
esac

exit $status
