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
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-mysql/target}
ns=bench-backup
cluster_dir=""
s3_dir=""
finish() {
  [ -n "$s3_dir" ] && tests/cluster/s3/down "$s3_dir" >/dev/null 2>&1
  if [ -n "$cluster_dir" ]; then
    tests/cluster/down "$cluster_dir" >/dev/null 2>&1
    rm -rf "/var/lib/kubectl-mysql/$ns"
  fi
  return 0
}
trap finish EXIT

echo "== building the operator and its image, starting the cluster and the S3 server" >&2
cargo build --release --quiet --bin kubectl-mysql
bin=$(tests/cluster/build)
export PATH="$CARGO_TARGET_DIR/release:$repo/completions:$bin:$PATH"
image_out=$(tests/cluster/images/build-operator "$CARGO_TARGET_DIR/release/kubectl-mysql")
KUBECTL_MYSQL_EXTRA_IMAGES=$(sed -n 1p <<<"$image_out")
operator_image=$(sed -n 2p <<<"$image_out")
export KUBECTL_MYSQL_EXTRA_IMAGES
cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-mysql-bench-backup.XXXXXX")
eval "$(tests/cluster/up --real-node "$cluster_dir")"
bridge=$(cat "$cluster_dir/node/bridge")
s3_dir=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-mysql-s3.XXXXXX")
eval "$(tests/cluster/s3/up "$s3_dir" "10.244.${bridge#kmysql}.1")"

kubectl create namespace "$ns" >/dev/null
kubectl mysql install-operator -n "$ns-operator" --image "$operator_image" \
  --watch-namespace "$ns" --wait --timeout 180s >/dev/null
kubectl create secret generic s3-keys -n "$ns" \
  --from-file=accessKeyId=<(printf %s "$KUBECTL_MYSQL_S3_ACCESS_KEY") \
  --from-file=secretAccessKey=<(printf %s "$KUBECTL_MYSQL_S3_SECRET_KEY") >/dev/null
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
