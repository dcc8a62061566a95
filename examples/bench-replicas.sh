#!/usr/bin/env bash
# Replicas' figures on the local cluster with a real node (root): real MariaDB pods,
# the operator in the cluster, sysbench (Debian's) on the host writing to the
# primary's pod address. Prints:
#
#   - write throughput of sysbench oltp_write_only on one server and on a primary with
#     two semi-synchronous replicas (what semi-sync costs), each beside the other;
#   - the replicas' lag (Seconds_Behind_Master, sampled every second) under that load:
#     median and p99;
#   - the write pause of `kubectl mysql switchover` under a steady writer going
#     through the Service (a client in the cluster committing every 50 ms): the
#     longest gap between two acknowledged commits around each switchover, median of
#     --switchovers, beside the writer's own gap with no switchover (the bound).
#
#   sudo examples/bench-replicas.sh [--load-seconds 60] [--switchovers 5]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
load_seconds=60
switchovers=5
while [ $# -gt 0 ]; do
  case "$1" in
    --load-seconds) load_seconds=$2; shift 2 ;;
    --switchovers) switchovers=$2; shift 2 ;;
    *) echo "usage: examples/bench-replicas.sh [--load-seconds N] [--switchovers N]" >&2; exit 2 ;;
  esac
done
command -v sysbench >/dev/null || apt-get install -y sysbench >/dev/null
ns=bench-replicas
# shellcheck source=examples/real-node-setup.bash
source "$repo/examples/real-node-setup.bash"

instance() { # name replicas
  kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: otus.homework/v1
kind: MySQL
metadata:
  name: $1
  annotations: {mysqls.otus.homework/skip-backup-on-delete: "true"}
spec:
  image: kubectl-mysql.local/mariadb:10.11
  database: bench
  password: benchpassword
  storage_size: 4Gi
  replicas: $2
EOF
  kubectl wait -n "$ns" "mysql/$1" --for=condition=Ready --timeout=300s >/dev/null
  if [ "$2" -gt 1 ]; then
    kubectl wait -n "$ns" "mysql/$1" --for=condition=Replicating --timeout=600s >/dev/null
  fi
}
pod_ip() { # deployment
  local selector
  selector=$(kubectl get deployment "$1" -n "$ns" -o jsonpath='{.spec.selector.matchLabels}' \
    | python3 -c 'import json,sys; print(",".join(f"{k}={v}" for k, v in json.load(sys.stdin).items()))')
  kubectl get pods -n "$ns" -l "$selector" -o jsonpath='{.items[0].status.podIP}'
}
sb() { # host, then sysbench's arguments
  local host=$1
  shift
  sysbench --db-driver=mysql --mysql-host="$host" --mysql-user=root \
    --mysql-password=benchpassword --mysql-db=bench --tables=4 --table-size=20000 "$@"
}
tps() { # host: sysbench oltp_write_only for load_seconds, its transactions a second
  sb "$1" --threads=4 --time="$load_seconds" --report-interval=0 oltp_write_only run \
    | awk '/transactions:/ { gsub("[(]", "", $3); print $3 }'
}

echo "== one server: sysbench oltp_write_only, 4 threads, $load_seconds s" >&2
instance single 1
single_ip=$(pod_ip single)
sb "$single_ip" oltp_write_only prepare >/dev/null
single_tps=$(tps "$single_ip")

echo "== a primary and two semi-synchronous replicas: the same load" >&2
instance trio 3
trio_ip=$(pod_ip trio)
sb "$trio_ip" oltp_write_only prepare >/dev/null
lag_file=$(mktemp)
(
  replica_ips=("$(pod_ip trio-member-1)" "$(pod_ip trio-member-2)")
  end=$((SECONDS + load_seconds))
  while [ $SECONDS -lt $end ]; do
    for ip in "${replica_ips[@]}"; do
      MYSQL_PWD=benchpassword mysql -h "$ip" -u root -e 'SHOW SLAVE STATUS\G' 2>/dev/null \
        | awk '/Seconds_Behind_Master:/ { print $2 }' >>"$lag_file"
    done
    sleep 1
  done
) &
sampler=$!
trio_tps=$(tps "$trio_ip")
wait "$sampler"
printf 'write throughput (oltp_write_only, 4 threads, %s s): one server %s tps, primary + 2 semi-sync replicas %s tps (%.0f %% of one server)\n' \
  "$load_seconds" "$single_tps" "$trio_tps" "$(awk "BEGIN { print 100 * $trio_tps / $single_tps }")"
python3 - "$lag_file" <<'PY'
import sys
lags = sorted(int(l) for l in open(sys.argv[1]) if l.strip().isdigit())
if not lags:
    print("replica lag: no sample")
else:
    print(f"replica lag under that load ({len(lags)} samples of Seconds_Behind_Master): median {lags[len(lags)//2]} s, p99 {lags[min(len(lags)-1, int(len(lags)*0.99))]} s, max {lags[-1]} s")
PY

echo "== switchovers under a steady writer through the Service" >&2
MYSQL_PWD=benchpassword mysql -h "$trio_ip" -u root bench -e 'CREATE TABLE w (id INT PRIMARY KEY, at DOUBLE)'
writer_log=$(mktemp)
kubectl exec -n "$ns" deploy/trio-member-2 -c mysql -- sh -c '
  rm -f /tmp/stop-writer; i=1
  while [ ! -e /tmp/stop-writer ]; do
    if mysql --defaults-extra-file=/etc/mysql-credentials/client.cnf --user=root -h trio \
      --connect-timeout=1 -e "INSERT INTO w VALUES ($i, 0)" bench 2>/dev/null; then
      echo "ok $i $(date +%s.%N)"
    fi
    i=$((i+1)); sleep 0.05
  done' >"$writer_log" &
writer=$!
sleep 10
marks=()
target=1
for _ in $(seq "$switchovers"); do
  marks+=("$(date +%s.%N)")
  kubectl mysql switchover trio -n "$ns" --to "$target" --timeout 300s >/dev/null
  marks+=("$(date +%s.%N)")
  sleep 10
  # The writer runs in member 2's pod: member 2 is never the target.
  target=$((target == 1 ? 0 : 1))
done
kubectl exec -n "$ns" deploy/trio-member-2 -c mysql -- touch /tmp/stop-writer
wait "$writer" || true
python3 - "$writer_log" "${marks[@]}" <<'PY'
import sys
acks = [float(l.split()[2]) for l in open(sys.argv[1]) if l.startswith("ok ")]
marks = [float(m) for m in sys.argv[2:]]
pauses = []
for start, end in zip(marks[0::2], marks[1::2]):
    around = [t for t in acks if start - 2 <= t <= end + 2]
    gaps = [b - a for a, b in zip(around, around[1:])]
    pauses.append(max(gaps) if gaps else float("nan"))
quiet = [b - a for a, b in zip(acks, acks[1:]) if not any(s - 2 <= a <= e + 2 for s, e in zip(marks[0::2], marks[1::2]))]
quiet.sort()
pauses_sorted = sorted(pauses)
print(f"switchover write pause ({len(pauses)} switchovers, longest gap between acknowledged commits): median {pauses_sorted[len(pauses)//2]:.2f} s, each {', '.join(f'{p:.2f}' for p in pauses)} s")
print(f"bound: the writer's own gap between commits with no switchover: median {quiet[len(quiet)//2]:.3f} s, max {quiet[-1]:.3f} s ({len(acks)} commits acknowledged)")
PY
