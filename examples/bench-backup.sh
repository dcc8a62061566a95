#!/usr/bin/env bash
# Times a backup to S3 and a restore from it of a database of about SIZE MB, on the
# local cluster with a real node (root): real MariaDB pods, the operator in the
# cluster, versitygw on the pod bridge. Prints each sample and the medians.
#
#   sudo examples/bench-backup.sh [--size-mb 100] [--samples 3]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
size_mb=100
samples=3
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) size_mb=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    *) echo "usage: examples/bench-backup.sh [--size-mb N] [--samples N]" >&2; exit 2 ;;
  esac
done
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
  storage_size: $((size_mb * 4 / 1024 + 2))Gi
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

sql() {
  kubectl exec -n "$ns" deploy/db -- mysql -u root -pbenchpassword -N -B -e "$1" bench
}
echo "== filling about $size_mb MB: rows of 1 KiB of random hex" >&2
payload="CONCAT($(for _ in $(seq 32); do printf 'MD5(RAND()),'; done | sed 's/,$//'))"
sql "CREATE TABLE filler (id int auto_increment primary key, payload varchar(1024) not null)"
sql "INSERT INTO filler (payload) VALUES ($payload)"
rows_wanted=$((size_mb * 1024))
rows=1
while [ "$rows" -lt "$rows_wanted" ]; do
  sql "INSERT INTO filler (payload) SELECT $payload FROM filler LIMIT $((rows_wanted - rows))"
  rows=$(sql "SELECT COUNT(*) FROM filler")
done
data_bytes=$(sql "SELECT SUM(data_length) FROM information_schema.tables WHERE table_schema = 'bench'")
echo "rows $rows, table data $data_bytes bytes" >&2

now() { date +%s.%N; }
backup_times=()
restore_times=()
for sample in $(seq "$samples"); do
  start=$(now)
  kubectl mysql backup db -n "$ns" --wait --timeout 30m >/dev/null
  end=$(now)
  record=$(kubectl get mysqlbackups -n "$ns" --sort-by=.metadata.creationTimestamp \
    -o jsonpath='{.items[-1:].metadata.name}')
  stored=$(kubectl get mysqlbackup "$record" -n "$ns" -o jsonpath='{.status.sizeBytes}')
  backup_s=$(awk "BEGIN { print $end - $start }")
  start=$(now)
  kubectl mysql restore db --from "$record" -y -n "$ns" --wait --timeout 30m >/dev/null
  end=$(now)
  restore_s=$(awk "BEGIN { print $end - $start }")
  count=$(sql "SELECT COUNT(*) FROM filler")
  [ "$count" = "$rows" ] || { echo "restored $count rows, expected $rows" >&2; exit 1; }
  printf 'sample %s: backup %.1f s (object %s bytes), restore %.1f s, %s rows back\n' \
    "$sample" "$backup_s" "$stored" "$restore_s" "$count"
  backup_times+=("$backup_s")
  restore_times+=("$restore_s")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf 'database: %s rows, %s bytes of table data; object: %s bytes (gzip)\n' "$rows" "$data_bytes" "$stored"
printf 'median of %s: backup %.1f s, restore %.1f s\n' "$samples" "$(median "${backup_times[@]}")" "$(median "${restore_times[@]}")"
