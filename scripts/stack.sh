#!/usr/bin/env bash
# npm run up | down | logs — the whole system on this machine: Postgres, Redis, the moto S3+SQS
# emulator and the four services, detached, logs under .stack/logs/.
# STORAGE=rgw npm run up: on Ceph RGW instead of moto (a one-node throwaway cluster on RGW_PORT,
# default 5090), its events pushed to chunk-tracker over HTTP (docs/adr/0018).
# CDN=nginx npm run up: downloads and thumbnails through nginx as a caching CDN in front of the
# bucket, on CDN_PORT (default 8089; docs/delivery.md).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rgw.sh"

SERVICES=(upload-api sync-notifier chunk-tracker media-processor)
LOGS="$STACK_DIR/logs"
RUN="$STACK_DIR/run"
MOTO_PORT_OF() { node -e 'console.log(new URL(process.argv[1]).port || 80)' "$S3_ENDPOINT"; }

port_of() {
  case "$1" in
    upload-api) echo "$UPLOAD_API_PORT" ;; sync-notifier) echo "$SYNC_NOTIFIER_PORT" ;;
    chunk-tracker) echo "$CHUNK_TRACKER_PORT" ;; media-processor) echo "$MEDIA_PROCESSOR_PORT" ;;
  esac
}
on_rgw() { [ "${STORAGE:-moto}" = rgw ]; }
# Before load_env, so these win over .env's moto settings (a variable already set is kept).
rgw_env() {
  export RGW_PORT="${RGW_PORT:-5090}"
  export S3_ENDPOINT="http://127.0.0.1:$RGW_PORT" AWS_ACCESS_KEY_ID="${RGW_ACCESS_KEY_ID:-dev-rgw}"
  export AWS_SECRET_ACCESS_KEY="${RGW_SECRET_ACCESS_KEY:-dev-rgw-secret}" STORAGE_EVENTS=http-push
  export STORAGE_EVENTS_PUSH_SECRETS="${STORAGE_EVENTS_PUSH_SECRETS:-dev-push-secret-0123456789abcdef0123}"
  # The posture RGW 16 can hold (docs/storage-compatibility.md): no bucket encryption API, and
  # uploads refused under BlockPublicAcls (ceph tracker #49135).
  export S3_SSE="${S3_SSE:-none}" S3_BLOCK_PUBLIC_ACCESS="${S3_BLOCK_PUBLIC_ACCESS:-IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets}"
}
on_cdn() { [ "${CDN:-none}" = nginx ]; }
# Before load_env too: the CDN's settings for the local nginx (the bucket lets this address read variants).
cdn_env() {
  export CDN_PORT="${CDN_PORT:-8089}"
  export CDN_BASE_URL="${CDN_BASE_URL:-http://127.0.0.1:$CDN_PORT}" CDN_ORIGIN_SOURCE_CIDRS="${CDN_ORIGIN_SOURCE_CIDRS:-127.0.0.1/32}"
  export CDN_NGINX_SECRET="${CDN_NGINX_SECRET:-dev-secure-link-secret-0123456789abcdef}"
}
NGINX_DIR() { echo "$RUN/cdn"; }
cdn_up() { curl -s -o /dev/null "http://127.0.0.1:$CDN_PORT/"; }
ensure_cdn() {
  cdn_up && return
  ensure_nginx
  local conf; conf="$(node dist/libs/delivery/src/cli/nginx-conf.js "$(NGINX_DIR)")" || die "could not write the CDN's nginx.conf"
  log "starting nginx (CDN) on $CDN_PORT"
  # Workers as the user running the stack (a root master would make them www-data, who may not
  # reach a checkout under a private home): the cache must be theirs to write.
  "$(command -v nginx || echo /usr/sbin/nginx)" -c "$conf" -p "$(NGINX_DIR)" -e "$(NGINX_DIR)/error.log" -g "user $(id -un) $(id -gn);" \
    || die "nginx did not start (see $(NGINX_DIR)/error.log)"
  for _ in $(seq 1 50); do cdn_up && return; sleep 0.1; done
  die "nginx is not answering on $CDN_PORT (see $(NGINX_DIR)/error.log)"
}
storage_up() { if on_rgw; then rgw_up "$RGW_PORT"; else moto_up "$(MOTO_PORT_OF)"; fi; }
alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }
ready() { curl -fs -o /dev/null "http://127.0.0.1:$(port_of "$1")/health/ready"; }

print_summary() {
  cat <<MSG

  upload-api       http://127.0.0.1:$UPLOAD_API_PORT      (OpenAPI UI: /docs, JSON: /docs/openapi.json)
  sync-notifier    http://127.0.0.1:$SYNC_NOTIFIER_PORT
  chunk-tracker    http://127.0.0.1:$CHUNK_TRACKER_PORT      (health and metrics only)
  media-processor  http://127.0.0.1:$MEDIA_PROCESSOR_PORT      (health and metrics only)
  $(if on_rgw; then echo "S3 (Ceph RGW)    $S3_ENDPOINT   bucket \"$S3_BUCKET\", events pushed to chunk-tracker"; else echo "S3 + SQS (moto)  $S3_ENDPOINT   bucket \"$S3_BUCKET\", queue $SQS_QUEUE_URL"; fi)$(if on_cdn; then printf '\n  %s' "CDN (nginx)      $CDN_BASE_URL   downloads and thumbnails (X-Cache: MISS/HIT)"; fi)
  Every service:   /health/live  /health/ready  /metrics

  Dev credentials: Authorization: Bearer $ADMIN_TOKEN   (admin token, /v1/admin/*)
  Logs: npm run logs     Stop: npm run down

  Next, in your shell: . $(env_file_shown)   (API_URL, SYNC_URL, ADMIN_TOKEN, API_KEY; README "Using it")
MSG
}

# The file a shell sources to use this stack (README, "Using it"): the URLs, the admin token and a
# dev tenant's API key, made once and kept while it works (scripts/stack-env.mjs). down leaves it,
# so the next up reuses the tenant rather than making another.
ENV_FILE="$STACK_DIR/env"
env_file_shown() { # relative to where npm was run from (INIT_CWD) if inside it
  local from="${INIT_CWD:-$PWD}"
  local shown="$ENV_FILE"
  case "$ENV_FILE" in "$from"/*/*) shown="${ENV_FILE#"$from"/}" ;; "$from"/*) shown="./${ENV_FILE#"$from"/}" ;; esac
  echo "$shown" # with a slash: `. name` alone would look the name up on the PATH first
}
write_env_file() {
  API_URL="http://127.0.0.1:$UPLOAD_API_PORT" SYNC_URL="http://127.0.0.1:$SYNC_NOTIFIER_PORT" ADMIN_TOKEN="$ADMIN_TOKEN" \
    node "$ROOT/scripts/stack-env.mjs" "$ENV_FILE" || die "could not write $ENV_FILE"
}

up() {
  use_node
  ensure_deps
  on_rgw && rgw_env
  on_cdn && cdn_env
  load_env
  on_rgw && export STORAGE_EVENTS_PUSH_URL="http://127.0.0.1:$CHUNK_TRACKER_PORT/v1/storage-events"
  mkdir -p "$LOGS" "$RUN"
  local missing=()
  for s in "${SERVICES[@]}"; do alive "$s" && ready "$s" || missing+=("$s"); done
  if [ ${#missing[@]} -eq 0 ] && storage_up && { ! on_cdn || cdn_up; }; then
    log "already up; nothing to do"
    write_env_file
    print_summary
    return
  fi
  ensure_postgres
  ensure_database
  ensure_redis
  if on_rgw; then
    rgw_up "$RGW_PORT" || echo "$RGW_PORT" > "$RUN/rgw-port"
    ensure_rgw "$RGW_PORT" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
  else
    ensure_moto "$(MOTO_PORT_OF)" "$RUN/moto.pid" "$LOGS/moto.log"
  fi
  ensure_ffmpeg
  ensure_clamd "${CLAMD_PORT:-3310}" "$RUN/clamd"
  build
  migrate
  bootstrap_storage >/dev/null
  on_cdn && ensure_cdn
  for s in "${missing[@]}"; do
    if alive "$s"; then continue; fi  # running but not ready yet: wait for it below
    log "starting $s"
    setsid nohup node $NODE_SERVICE_FLAGS "dist/apps/$s/src/main.js" >>"$LOGS/$s.log" 2>&1 &
    echo $! > "$RUN/$s.pid"
  done
  local deadline=$((SECONDS + 90))
  for s in "${SERVICES[@]}"; do
    until ready "$s"; do
      alive "$s" || die "$s exited; last log lines:$(printf '\n'; tail -n 20 "$LOGS/$s.log")"
      [ $SECONDS -lt $deadline ] || die "$s not ready after 90 s; see $LOGS/$s.log"
      sleep 0.5
    done
    log "$s ready"
  done
  write_env_file
  print_summary
}

stop_pid() { # name pidfile
  local pid; pid="$(cat "$2")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $1"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "$1 did not stop in 30 s; killing"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$2"
}

down() {
  for s in "${SERVICES[@]}"; do [ -f "$RUN/$s.pid" ] && stop_pid "$s" "$RUN/$s.pid"; done
  [ -f "$RUN/moto.pid" ] && stop_pid moto "$RUN/moto.pid"
  [ -f "$RUN/clamd/clamd.pid" ] && stop_pid clamd "$RUN/clamd/clamd.pid"
  [ -f "$(NGINX_DIR)/nginx.pid" ] && stop_pid "nginx (CDN)" "$(NGINX_DIR)/nginx.pid"
  if [ -f "$RUN/rgw-port" ]; then stop_rgw "$(cat "$RUN/rgw-port")"; rm -f "$RUN/rgw-port"; fi
  if [ -f "$STACK_DIR/started-redis" ]; then
    log "stopping the Redis that up started"; redis-cli -p "$(cat "$STACK_DIR/started-redis")" shutdown nosave >/dev/null 2>&1 || true
    rm -f "$STACK_DIR/started-redis"
  fi
  if [ -f "$STACK_DIR/started-postgres" ]; then
    log "stopping the Postgres that up started"; pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main stop || true
    rm -f "$STACK_DIR/started-postgres"
  fi
  log "down"
}

logs() {
  mkdir -p "$LOGS"
  exec tail -n 50 -F "$LOGS"/*.log
}

case "${1:-}" in
  up) up ;; down) down ;; logs) logs ;;
  *) echo "usage: $0 up|down|logs" >&2; exit 2 ;;
esac
