#!/usr/bin/env bash
# Backups and restores to S3 beside the bounds the server itself sets, measured in the
# same run on the same server and data, on the local cluster with a real node (root):
# real MariaDB pods, the operator in the cluster, versitygw on the pod bridge, tables
# made by sysbench (Debian's) from the host. For each size it prints:
#
#   - the dump bound: bare `mysqldump --single-transaction … > /dev/null` in the pod;
#   - the load bound: bare `mysql < dump.sql` into an empty database of the server;
#   - the disk bound: the datadir read and written back (`tar -c … | tar -x`);
#   - ours: `kubectl mysql backup --wait` and `kubectl mysql restore --from … -y --wait`,
#     as ratios of those bounds, with the rows counted after every restore;
#   - the peak extra node disk while a backup runs (every emptyDir on the node, sampled),
#     as a fraction of the database;
#   - sysbench oltp_write_only's throughput while a backup runs, as a fraction of its
#     throughput around it; that backup is then restored and its tables counted (the
#     load keeps every table at its prepared count, so a consistent snapshot counts exactly).
#
# Each method (logical: mysqldump; physical: mariadb-backup's copy of the data
# directory) on the same data, the instance patched between them. Medians of
# --samples; all figures also go to examples/bench-backup-results.json.
#
#   sudo examples/bench-backup.sh [--sizes 100M,1G,4G] [--methods logical,physical] [--samples 3]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
sizes=100M,1G
methods=logical,physical
samples=3
out=$repo/examples/bench-backup-results.json
usage="usage: examples/bench-backup.sh [--sizes 100M,1G,4G] [--methods logical,physical] [--samples N] [--out FILE]"
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --methods) methods=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
megabytes() {
  case "$1" in
    *G) echo $((${1%G} * 1024)) ;;
    *M) echo "${1%M}" ;;
    *) echo "bench-backup: a size is like 100M or 4G, not $1" >&2; exit 2 ;;
  esac
}
largest=0
for size in ${sizes//,/ }; do
  mb=$(megabytes "$size")
  [ "$mb" -gt "$largest" ] && largest=$mb
done
command -v sysbench >/dev/null || apt-get install -y sysbench >/dev/null
ns=bench-backup
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
  storage_size: $((largest * 6 / 1024 + 4))Gi
  backup:
    storage:
      s3:
        endpoint: $KUBECTL_MYSQL_S3_ENDPOINT
        bucket: $KUBECTL_MYSQL_S3_BUCKET
        prefix: bench
        forcePathStyle: true
        credentialsSecret: {name: s3-keys}
EOF
kubectl wait -n "$ns" mysql/db --for=condition=Ready --timeout=300s >/dev/null
pods_dir="$cluster_dir/node/kubelet/root/pods"
results=$(mktemp "${TMPDIR:-/tmp}/bench-backup.XXXXXX")

# In the server's container, logged in by the credentials Secret's option file.
in_pod() { kubectl exec -n "$ns" deploy/db -c mysql -- sh -c "$1"; }
client='--defaults-extra-file=/etc/mysql-credentials/client.cnf --user=root'
sql() { in_pod "mysql $client -N -B -e \"$1\" bench"; }
# Seconds a command takes (a bound's run; its output is dropped).
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  awk "BEGIN { print $end - $start }"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
newest_record() {
  kubectl get mysqlbackups -n "$ns" --sort-by=.metadata.creationTimestamp \
    -o jsonpath='{.items[-1:].metadata.name}'
}
emptydir_bytes() {
  local total=0 dir
  for dir in "$pods_dir"/*/volumes/kubernetes.io~empty-dir/*; do
    [ -d "$dir" ] && total=$((total + $(du -sb "$dir" 2>/dev/null | cut -f1)))
  done
  echo "$total"
}
# Runs a backup while sampling the node's emptyDirs; prints "SECONDS PEAK_EXTRA_BYTES".
backup_watched() {
  local base peak_file sampler start end
  base=$(emptydir_bytes)
  peak_file=$(mktemp)
  echo 0 > "$peak_file"
  (
    peak=0
    while :; do
      now=$(($(emptydir_bytes) - base))
      [ "$now" -gt "$peak" ] && { peak=$now; echo "$peak" > "$peak_file"; }
      sleep 0.2
    done
  ) &
  sampler=$!
  start=$(date +%s.%N)
  kubectl mysql backup db -n "$ns" --wait --timeout 60m >/dev/null
  end=$(date +%s.%N)
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  echo "$(awk "BEGIN { print $end - $start }") $(cat "$peak_file")"
  rm -f "$peak_file"
}
restore_checked() { # record, expected rows: prints the seconds
  local start end rows
  start=$(date +%s.%N)
  kubectl mysql restore db --from "$1" -y -n "$ns" --wait --timeout 60m >/dev/null
  # A physical restore restarts the server: the restore ends when it serves again.
  kubectl wait -n "$ns" mysql/db --for=condition=Ready --timeout=600s >/dev/null
  end=$(date +%s.%N)
  rows=$(sql "SELECT SUM(c) FROM ($count_union) AS t")
  [ "$rows" = "$2" ] || { echo "bench-backup: restored $rows rows, expected $2" >&2; exit 1; }
  free_space
  forget "$1"
  awk "BEGIN { print $end - $start }"
}

# What the run itself piles up on the node, removed as it goes (a 4G run fills a disk
# otherwise): the binary logs of the loads (the server keeps them a week), the data
# directories physical restores set aside, and each backup once restored (deleting its
# record deletes its object).
free_space() {
  sql "PURGE BINARY LOGS BEFORE NOW()" >/dev/null
  find "/var/lib/kubectl-mysql/$ns" -maxdepth 6 -type d -name 'set-aside-*' -prune \
    -exec rm -rf {} + 2>/dev/null || true
}
forget() { kubectl delete mysqlbackup "$1" -n "$ns" --timeout=300s >/dev/null; }

# The server's address now: a physical restore starts a new pod.
server_ip() { kubectl get pods -n "$ns" -l app=db -o jsonpath='{.items[0].status.podIP}'; }
tables=4
for size in ${sizes//,/ }; do
  mb=$(megabytes "$size")
  # sysbench's rows take about 230 bytes each with their index.
  table_rows=$((mb * 1024 * 1024 / tables / 230))
  sb=(sysbench --db-driver=mysql --mysql-user=root
    --mysql-password=benchpassword --mysql-db=bench --tables=$tables --table-size=$table_rows)
  echo "== $size: sysbench prepare, $tables tables of $table_rows rows" >&2
  "${sb[@]}" --mysql-host="$(server_ip)" oltp_read_write cleanup >/dev/null
  "${sb[@]}" --mysql-host="$(server_ip)" oltp_read_write prepare >/dev/null
  free_space
  rows=$((tables * table_rows))
  count_union=$(for i in $(seq "$tables"); do printf 'SELECT COUNT(*) AS c FROM sbtest%s UNION ALL ' "$i"; done | sed 's/ UNION ALL $//')
  db_bytes=$(sql "SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = 'bench'")
  dump_flags="$client --single-transaction --routines --triggers --events --hex-blob --no-tablespaces --default-character-set=utf8mb4 bench"
  in_pod "mysqldump $dump_flags > /tmp/bound.sql"
  dump_bytes=$(in_pod "wc -c < /tmp/bound.sql")
  echo "   database $db_bytes bytes, dump $dump_bytes bytes" >&2
  # The bounds, once a sample, the same for both methods.
  dump_b=() load_b=() disk_b=()
  for sample in $(seq "$samples"); do
    dump_b+=("$(seconds in_pod "mysqldump $dump_flags > /dev/null")")
    load_b+=("$(seconds in_pod "mysql $client -e 'DROP DATABASE IF EXISTS bound; CREATE DATABASE bound' && mysql $client bound < /tmp/bound.sql && mysql $client -e 'DROP DATABASE bound'")")
    disk_b+=("$(seconds in_pod "rm -rf /tmp/disk-bound && mkdir /tmp/disk-bound && tar -cf - -C /var/lib/mysql . | tar -xf - -C /tmp/disk-bound && rm -rf /tmp/disk-bound")")
    printf '   bounds %s: dump %.1f s, load %.1f s, disk %.1f s\n' "$sample" "${dump_b[-1]}" "${load_b[-1]}" "${disk_b[-1]}" >&2
    free_space
  done
  in_pod "rm -f /tmp/bound.sql"
  for method in ${methods//,/ }; do
  kubectl patch mysql db -n "$ns" --type=merge -p "{\"spec\":{\"backup\":{\"method\":\"$method\"}}}" >/dev/null
  backup_t=() restore_t=() peaks=()
  for sample in $(seq "$samples"); do
    read -r backup_s peak < <(backup_watched)
    record=$(newest_record)
    restore_s=$(restore_checked "$record" "$rows")
    printf '   %s sample %s: backup %.1f s (peak extra disk %s bytes), restore %.1f s, %s rows back\n' \
      "$method" "$sample" "$backup_s" "$peak" "$restore_s" "$rows" >&2
    backup_t+=("$backup_s") restore_t+=("$restore_s") peaks+=("$peak")
  done

  # A backup under a steady write load: throughput while it runs against around it.
  load_seconds=$(awk "BEGIN { printf \"%d\", $(median "${backup_t[@]}") * 2 + 30 }")
  echo "   sysbench oltp_write_only for $load_seconds s, a backup from its 10th second" >&2
  report=$(mktemp)
  "${sb[@]}" --mysql-host="$(server_ip)" --threads=2 --time="$load_seconds" --report-interval=1 oltp_write_only run > "$report" &
  load=$!
  sleep 10 # the load's own warm-up before the backup; not a synchronisation
  during_from=$(date +%s)
  kubectl mysql backup db -n "$ns" --wait --timeout 60m >/dev/null
  during_to=$(date +%s)
  load_started=$((during_from - 10))
  wait "$load"
  loaded_record=$(newest_record)
  under_load=$(python3 - "$report" "$load_started" "$during_from" "$during_to" <<'PY'
import re, sys, statistics
report, started, frm, to = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
during, around = [], []
for line in open(report):
    m = re.match(r"\[ (\d+)s \].* tps: ([\d.]+)", line)
    if not m:
        continue
    at = started + int(m.group(1))
    # The first seconds warm up; the second after each edge is left out.
    if int(m.group(1)) <= 3:
        continue
    if frm + 1 < at < to:
        during.append(float(m.group(2)))
    elif at < frm or at > to + 1:
        around.append(float(m.group(2)))
print(f"{statistics.median(during) / statistics.median(around):.3f} {statistics.median(during):.0f} {statistics.median(around):.0f}")
PY
)
  rm -f "$report"
  read -r load_ratio tps_during tps_around <<<"$under_load"
  loaded_restore_s=$(restore_checked "$loaded_record" "$rows")
  echo "   $method under load: ${tps_during} tps during the backup, ${tps_around} around it (ratio $load_ratio); its restore ${loaded_restore_s} s, $rows rows exact" >&2

  printf '%s %s s3 %s %s %s %s %s %s %s %s %s\n' "$size" "$method" \
    "$(median "${backup_t[@]}")" "$(median "${restore_t[@]}")" \
    "$(median "${dump_b[@]}")" "$(median "${load_b[@]}")" "$(median "${disk_b[@]}")" \
    "$(median "${peaks[@]}")" "$db_bytes" "$rows" "$load_ratio" >> "$results"
  done
done

python3 - "$results" "$out" "$samples" <<'PY'
import json, sys
rows, out, samples = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = []
print(f"\nmedians of {samples}; ratios are ours over the bound measured in the same run")
print(f"{'size':>5} {'method':>8} {'backup s':>9} {'dump bound':>10} {'ratio':>6} {'restore s':>10} {'load bound':>10} {'ratio':>6} {'disk bound':>10} {'peak disk':>9} {'tps kept':>8}")
for line in open(rows):
    size, method, storage, b, r, db, lb, kb, peak, dbytes, nrows, kept = line.split()
    b, r, db, lb, kb, peak, dbytes = map(float, (b, r, db, lb, kb, peak, dbytes))
    fraction = peak / dbytes
    print(f"{size:>5} {method:>8} {b:>9.1f} {db:>10.1f} {b / db:>6.2f} {r:>10.1f} {lb:>10.1f} {r / lb:>6.2f} {kb:>10.1f} {fraction:>9.3f} {float(kept):>8.2f}")
    runs.append({
        "size": size, "method": method, "storage": storage,
        "backup_s": round(b, 1), "restore_s": round(r, 1),
        "dump_bound_s": round(db, 1), "load_bound_s": round(lb, 1), "disk_bound_s": round(kb, 1),
        "peak_extra_disk_fraction": round(fraction, 4), "rows_checked": int(nrows),
        "database_bytes": int(dbytes), "throughput_kept_under_backup": float(kept),
    })
json.dump({"samples": samples, "runs": runs}, open(out, "w"), indent=2)
print(f"wrote {out}")
PY
rm -f "$results"
