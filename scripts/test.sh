#!/usr/bin/env bash
# npm test: the tiers, starting whatever they need (Node 24, dependencies, Postgres, Redis,
# a test moto on its own port, ffmpeg, ClamAV, nginx, the build; Ceph RGW for the conformance tier).
# Usage: scripts/test.sh [all|unit|integration|conformance|e2e]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rgw.sh"

TIER="${1:-all}"
TEST_DIR="$STACK_DIR/test"
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
export TEST_MOTO_PORT="${TEST_MOTO_PORT:-5057}"
export TEST_MOTO_URL="http://127.0.0.1:$TEST_MOTO_PORT"
# The e2e tier's services run on a three-master Redis Cluster (started here, stopped after).
TEST_REDIS_CLUSTER_PORT="${TEST_REDIS_CLUSTER_PORT:-7101}"
# ... and reach Postgres through PgBouncer in transaction mode (started here, stopped after).
TEST_PGBOUNCER_PORT="${TEST_PGBOUNCER_PORT:-6433}"
# The conformance tier's S3, which enforces what moto does not (a throwaway Ceph RGW, scripts/rgw.sh;
# its mon and OSD take the next eleven ports). Started here, stopped after.
TEST_RGW_PORT="${TEST_RGW_PORT:-5078}"
export TEST_RGW_URL="http://127.0.0.1:$TEST_RGW_PORT"
export TEST_RGW_ACCESS_KEY_ID="${TEST_RGW_ACCESS_KEY_ID:-conformance-access-key}"
export TEST_RGW_SECRET_ACCESS_KEY="${TEST_RGW_SECRET_ACCESS_KEY:-conformance-secret-key}"

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
started_cluster=0
started_pgbouncer=0
started_rgw=0
cleanup() {
  if [ "$started_moto" = 1 ] && [ -f "$TEST_DIR/moto.pid" ]; then
    kill "$(cat "$TEST_DIR/moto.pid")" 2>/dev/null || true
    rm -f "$TEST_DIR/moto.pid"
  fi
  [ "$started_cluster" = 1 ] && stop_redis_cluster "$TEST_REDIS_CLUSTER_PORT"
  [ "$started_pgbouncer" = 1 ] && stop_pgbouncer "$TEST_DIR/pgbouncer"
  [ "$started_rgw" = 1 ] && stop_rgw "$TEST_RGW_PORT"
  true
}
trap cleanup EXIT

status=0
run_tier() { # name, jest args...
  local name="$1"; shift
  log "tier: $name"
  npx --no-install jest --selectProjects "$name" "$@" || status=1
}
# Ceph RGW, for the conformance tier and the e2e tier's run of the whole path on it.
prepare_rgw() {
  rgw_up "$TEST_RGW_PORT" || started_rgw=1
  ensure_rgw "$TEST_RGW_PORT" "$TEST_RGW_ACCESS_KEY_ID" "$TEST_RGW_SECRET_ACCESS_KEY"
}
run_conformance() {
  prepare_rgw
  run_tier conformance --runInBand
}

case "$TIER" in
  unit) run_tier unit ;;
  conformance) run_conformance ;;
  integration|e2e|all)
    moto_up "$TEST_MOTO_PORT" || started_moto=1
    prepare_services
    ensure_ffmpeg # the integration tier's video adapter test runs ffmpeg too
    ensure_clamav # the suites start clamd of their own (PrivateClamd) on test/fixtures/clamav
    ensure_nginx  # and nginx as a CDN of their own (PrivateNginx), from deploy/nginx/nginx.conf.template
    ensure_kubectl # k8s-manifests.int.ts renders the overlays with kubectl kustomize
    ensure_promtool # monitoring.int.ts checks the alert rules; metrics.e2e.ts the services' /metrics
    if [ "$TIER" != integration ]; then
      ensure_chromium
      # Uppy 5 for test/e2e/uppy.e2e.ts: an install of its own (npm aliasing breaks its peers).
      npm ci --prefix test/e2e/uppy/v5 --no-audit --no-fund --loglevel=error || die "could not install Uppy 5 (test/e2e/uppy/v5)"
      build || die "build failed"
      # The contract documents: generated from the build, linted (Redocly), their types checked
      # against the typed calls; the e2e tier checks every answer against them.
      node scripts/contract.mjs || die "the contract documents are invalid"
      redis_cluster_ok "$TEST_REDIS_CLUSTER_PORT" || started_cluster=1
      ensure_redis_cluster "$TEST_REDIS_CLUSTER_PORT" "$TEST_DIR/redis-cluster"
      export TEST_E2E_REDIS_URL="redis://127.0.0.1:$TEST_REDIS_CLUSTER_PORT" TEST_E2E_REDIS_CLUSTER=true
      pgbouncer_up "$TEST_PGBOUNCER_PORT" || started_pgbouncer=1
      ensure_pgbouncer "$TEST_PGBOUNCER_PORT" "$TEST_DIR/pgbouncer" "$TEST_POSTGRES_URL"
      export TEST_E2E_PGBOUNCER_PORT="$TEST_PGBOUNCER_PORT"
      prepare_rgw
    fi
    [ "$TIER" = all ] && run_tier unit
    # Outer tiers share one emulator and reset it between suites: one file at a time.
    # --forceExit: the drain-deadline test abandons a job handler on purpose (a real process
    # exits at that point); its timers would otherwise keep jest alive after the results.
    [ "$TIER" != e2e ] && run_tier integration --runInBand --forceExit
    [ "$TIER" = all ] && run_conformance
    [ "$TIER" != integration ] && run_tier e2e --runInBand --forceExit
    ;;
  *) die "usage: $0 [all|unit|integration|conformance|e2e]" ;;
esac

exit $status
