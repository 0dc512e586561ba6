#!/usr/bin/env bash
# npm run bench: starts what the benchmarks need (like npm test) and runs them. Results are
# printed and kept in .stack/bench/results.json; docs/benchmarks.md records a reference run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
BENCH_MOTO_PORT="${BENCH_MOTO_PORT:-5059}"
export TEST_MOTO_URL="http://127.0.0.1:$BENCH_MOTO_PORT"
use_node
ensure_deps
cd "$ROOT"
ensure_postgres "$TEST_POSTGRES_URL"
ensure_redis "$TEST_REDIS_URL"
ensure_clamav # the media benchmark's scan runs a clamd of its own
ensure_ffmpeg # and its poster extraction runs ffmpeg
started=0
moto_up "$BENCH_MOTO_PORT" || started=1
ensure_moto "$BENCH_MOTO_PORT" "$STACK_DIR/bench/moto.pid" "$STACK_DIR/bench/moto.log"
trap '[ "$started" = 1 ] && kill "$(cat "$STACK_DIR/bench/moto.pid")" 2>/dev/null; true' EXIT
build
node --enable-source-maps dist/bench/run.js "$@"
