#!/usr/bin/env bash
# Point-in-time recovery's figures on the local cluster with a real node (root): real
# MariaDB pods, the operator in the cluster, versitygw on the pod bridge, sysbench
# (Debian's) on the host writing through the pod's address. Prints:
#
#   - RPO: for every 100 ms of a steady sysbench write load, how long until a commit
#     of that moment was confirmed in the bucket (the segment holding it uploaded: the
#     object's time on the S3 server's disk), median and p99, beside the bound the
#     design gives (the archiving interval);
#   - the archiver's CPU and peak memory over the load (its process on the node);
#   - the time to restore the dump plus the load's binary logs (--to-time the load's
#     end) beside the bound measured in the same run: the same dump restored alone.
#
#   sudo examples/bench-pitr.sh [--size-mb 100] [--load-seconds 600] [--interval 5s]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
size_mb=100
load_seconds=600
interval=5s
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) size_mb=$2; shift 2 ;;
    --load-seconds) load_seconds=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    *) echo "usage: examples/bench-pitr.sh [--size-mb N] [--load-seconds N] [--interval 5s]" >&2; exit 2 ;;
  esac
done
command -v sysbench >/dev/null || apt-get install -y sysbench >/dev/null
ns=bench-pitr
# shellcheck source=examples/real-node-setup.bash
source "$repo/examples/real-node-setup.bash"
kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: otus.homework/v1
kind: MySQL
metadata:
  name: db
spec:
  image: kubectl-mysql.local/mariadb:10.11
  database: bench
  password: benchpassword
  storage_size: $((size_mb * 8 / 1024 + 4))Gi
  backup:
    storage:
      s3:
        endpoint: $KUBECTL_MYSQL_S3_ENDPOINT
        bucket: $KUBECTL_MYSQL_S3_BUCKET
        prefix: bench
        forcePathStyle: true
        credentialsSecret: {name: s3-keys}
    pointInTime: {enabled: true, interval: $interval}
EOF
kubectl wait -n "$ns" mysql/db --for=condition=Ready --timeout=300s >/dev/null
pod_ip=$(kubectl get pods -n "$ns" -l app=db -o jsonpath='{.items[0].status.podIP}')
uid=$(kubectl get mysql db -n "$ns" -o jsonpath='{.metadata.uid}')
timeline=$(printf %s "$uid" | tr -cd 'a-zA-Z0-9' | cut -c1-8)
segments="$KUBECTL_MYSQL_S3_DATA/$KUBECTL_MYSQL_S3_BUCKET/bench/$ns/db/binlog/$timeline"

# sysbench's tables: 1 KiB-ish rows, as many as make about size_mb.
tables=4
table_rows=$((size_mb * 1024 * 1024 / 4 / 230))
sb=(sysbench --db-driver=mysql --mysql-host="$pod_ip" --mysql-user=root
  --mysql-password=benchpassword --mysql-db=bench --tables=$tables --table-size=$table_rows)
echo "== sysbench prepare: $tables tables of $table_rows rows (about $size_mb MB)" >&2
"${sb[@]}" oltp_read_write prepare >/dev/null
kubectl mysql backup db -n "$ns" --wait --timeout 30m >/dev/null
record=$(kubectl get mysqlbackups -n "$ns" --sort-by=.metadata.creationTimestamp \
  -o jsonpath='{.items[-1:].metadata.name}')

archiver_pid=$(pgrep -f 'object-store.*archive-binlogs' | head -n 1)
ticks=$(getconf CLK_TCK)
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cpu_before=$(cpu_of "$archiver_pid")
echo "== sysbench oltp_write_only for $load_seconds s, archiving every $interval" >&2
load_start=$(date +%s.%N)
"${sb[@]}" --threads=2 --time="$load_seconds" --report-interval=0 oltp_write_only run \
  | grep -E 'transactions:|queries:' >&2
load_end=$(date +%s.%N)
cpu_after=$(cpu_of "$archiver_pid")
archiver_rss_kib=$(awk '/VmHWM/ { print $2 }' "/proc/$archiver_pid/status")
target=$(date -u -d "@${load_end%.*}" +%Y-%m-%dT%H:%M:%SZ)

# Wait for the archive to cover the load's end, then read each segment's last event
# time (from its key) and when it was confirmed (the object's time on disk).
waited=0
until [ "$(kubectl get mysql db -n "$ns" -o jsonpath='{.status.recoverableUntil}')" \> "$target" ]; do
  [ "$waited" -lt 300 ] || { echo "the archive did not reach $target in 300 s" >&2; exit 1; }
  sleep 1
  waited=$((waited + 1))
done
python3 - "$segments" "$load_start" "$load_end" "$interval" <<'PY'
import os, sys, datetime
folder, start, end, interval = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
done = []
for name in os.listdir(folder):
    if not name.endswith(".gz"):
        continue
    last = name[:-3].rsplit("_", 1)[1]
    last = datetime.datetime.strptime(last, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    done.append((last, os.stat(os.path.join(folder, name)).st_mtime))
done.sort()
rpo = []
t = start
while t < end:
    # The first segment whose events reach t holds a commit made at t.
    confirmed = next((c for last, c in done if last + 1 > t), None)
    if confirmed is not None:
        rpo.append(confirmed - t)
    t += 0.1
rpo.sort()
median = rpo[len(rpo) // 2]
p99 = rpo[min(len(rpo) - 1, int(len(rpo) * 0.99))]
print(f"RPO over {len(rpo)} moments of the load: median {median:.1f} s, p99 {p99:.1f} s, max {rpo[-1]:.1f} s (bound: the interval, {interval}, plus one upload)")
PY
printf 'archiver: CPU %.1f s over %.0f s of load (%.1f %% of a core), peak RSS %s KiB\n' \
  "$(awk "BEGIN { print ($cpu_after - $cpu_before) / $ticks }")" \
  "$(awk "BEGIN { print $load_end - $load_start }")" \
  "$(awk "BEGIN { print 100 * ($cpu_after - $cpu_before) / $ticks / ($load_end - $load_start) }")" \
  "$archiver_rss_kib"
archived_bytes=$(du -cb "$segments"/*.gz | tail -n 1 | cut -f1)
echo "binary logs archived: $(ls "$segments" | grep -c '\.gz$') segments, $archived_bytes bytes (gzip)"

now() { date +%s.%N; }
start=$(now)
kubectl mysql restore db --from "$record" -y -n "$ns" --wait --timeout 60m >/dev/null
end=$(now)
printf 'bound: the dump alone restored in %.1f s\n' "$(awk "BEGIN { print $end - $start }")"
start=$(now)
kubectl mysql restore db --to-time "$target" -y -n "$ns" --wait --timeout 60m >/dev/null
end=$(now)
printf 'restore to %s (the dump, then %s s of load replayed) in %.1f s\n' \
  "$target" "$load_seconds" "$(awk "BEGIN { print $end - $start }")"
