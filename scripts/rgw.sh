#!/usr/bin/env bash
# Ceph's RADOS Gateway as a throwaway one-node cluster (one mon, one memstore OSD, one RGW): the
# S3 that enforces presigned-URL signatures, expiry and signed headers, which moto does not
# (docs/storage-compatibility.md). Sourced after scripts/lib.sh, not run.

RGW_PACKAGES=(radosgw ceph-mon ceph-osd ceph-mgr ceph-common)

rgw_packages_installed() {
  command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null \
    && command -v radosgw-admin >/dev/null && command -v monmaptool >/dev/null
}

# Debian's packages (about 70 s and 283 MB on a fresh machine). apt waits for a dpkg lock another
# install holds (DPkg::Lock::Timeout) instead of failing at once; the package lists are refreshed
# only when the first attempt cannot find the packages.
ensure_rgw_packages() {
  rgw_packages_installed && return
  log "installing Ceph RGW (apt: ${RGW_PACKAGES[*]})"
  local apt=(apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${RGW_PACKAGES[@]}")
  (DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null 2>&1 \
    || (apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null)) \
    || die "could not install ${RGW_PACKAGES[*]}"
  rgw_packages_installed || die "installed ${RGW_PACKAGES[*]} but radosgw/ceph-mon/ceph-osd are not on PATH"
}

# The cluster of RGW port PORT lives in one folder (config, mon store, logs, pids, admin sockets);
# the mon and the OSD's messengers take the next ports (PORT+1, PORT+2..PORT+11).
rgw_dir() { echo "${TMPDIR:-/tmp}/upload-platform-rgw-$1"; }
rgw_up() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null; }
rgw_ceph() { local dir="$1"; shift; timeout 30 ceph -c "$dir/ceph.conf" --connect-timeout 10 "$@"; }

# Resident memory of the cluster's daemons (mon, OSD, RGW), in MiB.
rgw_rss_mib() {
  local dir; dir="$(rgw_dir "$1")"
  local total=0 pidfile kib
  for pidfile in "$dir"/run/*.pid; do
    [ -f "$pidfile" ] || continue
    kib="$(awk '/^VmRSS:/ {print $2}' "/proc/$(cat "$pidfile")/status" 2>/dev/null)"
    total=$((total + ${kib:-0}))
  done
  echo $((total / 1024))
}

# A one-node throwaway cluster: one mon, one OSD on memstore (no disk, no kernel module), one RGW
# on 127.0.0.1:PORT with an S3 user ACCESS_KEY/SECRET. Idempotent: an RGW answering there is
# reused. Each setting below is needed (docs/storage-compatibility.md).
ensure_rgw() {
  local port="$1" access_key="$2" secret="$3"
  rgw_up "$port" && return
  ensure_rgw_packages
  local dir mon_port fsid osd_uuid osd_id started
  dir="$(rgw_dir "$port")"
  mon_port=$((port + 1))
  started=$(date +%s%N)
  stop_rgw "$port" 2>/dev/null
  rm -rf "$dir" && mkdir -p "$dir"/{run,log,mon,osd,rgw} || die "cannot create $dir"
  fsid="$(cat /proc/sys/kernel/random/uuid)"
  osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  log "starting Ceph RGW on $port (mon on $mon_port, data in $dir)"
  cat > "$dir/ceph.conf" <<CONF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$mon_port
public_addr = 127.0.0.1
# Without it the OSD listens on 0.0.0.0.
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_msgr2 = true
ms_bind_port_min = $((port + 2))
ms_bind_port_max = $((port + 11))
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_crush_chooseleaf_type = 0
osd_objectstore = memstore
# memstore holds the objects in RAM, 1 GiB by default; past 95% the OSD is full and every write
# hangs. The browser suites alone write some hundreds of MiB.
memstore_device_bytes = 4294967296
mon_data = $dir/mon/\$cluster-\$id
osd_data = $dir/osd/\$cluster-\$id
run_dir = $dir/run
admin_socket = $dir/run/\$cluster-\$name.asok
pid_file = $dir/run/\$name.pid
log_file = $dir/log/\$name.log
keyring = $dir/keyring
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$port
rgw_data = $dir/rgw
# Without it RGW hangs on "get_initial_auth_request returned -13" although auth is none.
ms_mon_client_mode = crc
# A deleted object's data is freed by RGW's garbage collector, 2 hours later by default: at once
# here, so what one suite deletes is room for the next.
rgw_gc_obj_min_wait = 0
rgw_gc_processor_period = 10
CONF
  local conf=(-c "$dir/ceph.conf")
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >"$dir/log/setup.log" 2>&1 \
    && ceph-mon "${conf[@]}" -i a --mkfs --monmap "$dir/monmap" >>"$dir/log/setup.log" 2>&1 \
    && ceph-mon "${conf[@]}" -i a >>"$dir/log/setup.log" 2>&1 \
    || die "the Ceph mon did not start (see $dir/log)"
  osd_id="$(rgw_ceph "$dir" osd new "$osd_uuid" 2>>"$dir/log/setup.log")" || die "ceph osd new failed (see $dir/log)"
  mkdir -p "$dir/osd/ceph-$osd_id"
  ceph-osd "${conf[@]}" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >>"$dir/log/setup.log" 2>&1 \
    && ceph-osd "${conf[@]}" -i "$osd_id" >>"$dir/log/setup.log" 2>&1 \
    || die "the Ceph OSD did not start (see $dir/log)"
  radosgw "${conf[@]}" -n client.rgw.a >>"$dir/log/setup.log" 2>&1 || die "radosgw did not start (see $dir/log)"
  local _
  for _ in $(seq 1 120); do rgw_up "$port" && break; sleep 0.5; done
  rgw_up "$port" || die "RGW did not answer on $port within 60 s (see $dir/log)"
  timeout 60 radosgw-admin "${conf[@]}" user create --uid=conformance --display-name=conformance \
    --access-key="$access_key" --secret="$secret" >>"$dir/log/setup.log" 2>&1 || die "radosgw-admin user create failed (see $dir/log)"
  log "RGW up on $port in $(( ($(date +%s%N) - started) / 1000000 )) ms (cold start), mon+osd+rgw RSS $(rgw_rss_mib "$port") MiB"
}

# Stops the cluster by the daemons' pids and removes its folder.
stop_rgw() {
  local port="$1" dir pidfile pid
  dir="$(rgw_dir "$port")"
  [ -d "$dir" ] || return 0
  [ -d "$dir/run" ] && log "stopping RGW on $port (mon+osd+rgw RSS $(rgw_rss_mib "$port") MiB)"
  for pidfile in "$dir"/run/*.pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
  true
}
