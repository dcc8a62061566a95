#!/usr/bin/env bash
# Automatic failover's figures on the local cluster with a real node (root): a primary
# and two semi-synchronous replicas (real MariaDB pods), the operator in the cluster,
# a client pod committing a numbered row through the Service every 50 ms and
# recording each acknowledged commit. Each run takes the current primary down from the
# host and prints, per run and as median and max:
#
#   - writes refused: from the primary's death to the first commit acknowledged again
#     through the Service (the longest gap between two acknowledged commits around it),
#     beside the bound `spec.failover.after` + 10 s;
#   - acknowledged rows lost: acknowledged commits missing from the new primary (must
#     be 0 in every run);
#   - the old primary's return: from its server being back to all three members
#     streaming again (rejoined as a replica, or set aside and seeded afresh).
#
# The runs alternate two deaths: a crash (`kill -9` of mysqld: it restarts at once and
# is replaced because a replica holds every transaction) and a freeze (SIGSTOP, as a
# hung server or a node cut off: it answers nothing, and is replaced after `after`;
# SIGCONT once the failover is done, so that it wakes up after it).
#
#   sudo examples/bench-failover.sh [--runs 10] [--after 5s]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
runs=10
after=5s
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --after) after=$2; shift 2 ;;
    *) echo "usage: examples/bench-failover.sh [--runs N] [--after 5s]" >&2; exit 2 ;;
  esac
done
ns=bench-failover
# shellcheck source=examples/real-node-setup.bash
source "$repo/examples/real-node-setup.bash"

kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: otus.homework/v1
kind: MySQL
metadata:
  name: trio
  annotations: {mysqls.otus.homework/skip-backup-on-delete: "true"}
spec:
  image: kubectl-mysql.local/mariadb:10.11
  database: bench
  password: benchpassword
  storage_size: 2Gi
  replicas: 3
  failover: {after: $after}
EOF
streaming() {
  kubectl wait -n "$ns" mysql/trio --for=jsonpath='{.status.health}'=Healthy --timeout=600s >/dev/null
}
kubectl wait -n "$ns" mysql/trio --for=condition=Ready --timeout=300s >/dev/null
streaming
# The client: the server's own image, its password from the instance's Secret (never
# argv), committing through the Service `trio`.
kubectl apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  containers:
  - name: writer
    image: kubectl-mysql.local/mariadb:10.11
    command: [sleep, infinity]
    env:
    - name: MYSQL_PWD
      valueFrom: {secretKeyRef: {name: trio-credentials, key: password}}
EOF
kubectl wait -n "$ns" pod/writer --for=condition=Ready --timeout=120s >/dev/null
kubectl exec -n "$ns" writer -- mysql -h trio -u root bench -e 'CREATE TABLE w (id INT PRIMARY KEY)'
writer_log=$(mktemp)
kubectl exec -n "$ns" writer -- sh -c '
  i=1
  while [ ! -e /tmp/stop ]; do
    if mysql -h trio -u root --connect-timeout=1 -e "INSERT INTO w VALUES ($i)" bench 2>/dev/null; then
      echo "ok $i $(date +%s.%N)"
    fi
    i=$((i+1)); sleep 0.05
  done' >"$writer_log" &
writer=$!

primary_pod() {
  kubectl get pods -n "$ns" -l mysqls.otus.homework/instance=trio,mysqls.otus.homework/role=primary \
    -o jsonpath='{.items[0].metadata.name}'
}
mysqld_pid() { # pod: the host PID of its mariadbd (in its server container's cgroup)
  local id p
  id=$(kubectl get pod -n "$ns" "$1" -o jsonpath='{.status.containerStatuses[?(@.name=="mysql")].containerID}')
  id=${id#*://}
  for p in $(pgrep -x mariadbd); do
    if grep -q "$id" "/proc/$p/cgroup" 2>/dev/null; then echo "$p"; return; fi
  done
  return 1
}
count() { kubectl get mysql trio -n "$ns" -o jsonpath='{.status.failover.count}'; }

results=$(mktemp)
for run in $(seq "$runs"); do
  kind=crash
  [ $((run % 2)) = 0 ] && kind=freeze
  before=$(count)
  before=${before:-0}
  pod=$(primary_pod)
  pid=$(mysqld_pid "$pod")
  sleep 3
  killed=$(date +%s.%N)
  if [ "$kind" = crash ]; then kill -9 "$pid"; else kill -STOP "$pid"; fi
  until [ "$(count)" -gt "$before" ] 2>/dev/null; do sleep 0.5; done
  back=$(date +%s.%N)
  [ "$kind" = freeze ] && kill -CONT "$pid"
  new_primary=$(kubectl get mysql trio -n "$ns" -o jsonpath='{.status.primary}')
  streaming
  rejoined=$(date +%s.%N)
  echo "run $run $kind $pod $killed $back $rejoined $new_primary" >>"$results"
  echo "== run $run ($kind of $pod): failed over to $new_primary" >&2
done
kubectl exec -n "$ns" writer -- touch /tmp/stop
wait "$writer" || true
present=$(mktemp)
kubectl exec -n "$ns" writer -- mysql -h trio -u root -N -B -e 'SELECT id FROM w' bench >"$present"
python3 - "$writer_log" "$results" "$present" "$after" <<'PY'
import statistics, sys
log, results, present, after = sys.argv[1:5]
acks = [(int(l.split()[1]), float(l.split()[2])) for l in open(log) if l.startswith("ok ")]
times = [t for _, t in acks]
have = {int(l) for l in open(present) if l.strip()}
lost = [i for i, _ in acks if i not in have]
after_s = int(after[:-1]) * (60 if after.endswith("m") else 1)
rows = []
for line in open(results):
    _, run, kind, pod, killed, back, rejoined, new = line.split()
    killed, back, rejoined = float(killed), float(back), float(rejoined)
    around = [t for t in times if killed - 1 <= t <= back + 30]
    gaps = [(b - a, b) for a, b in zip(around, around[1:]) if b > killed]
    resumed = max(gaps)[1] if gaps else float("nan")
    rows.append((run, kind, resumed - killed, rejoined - back))
    print(f"run {run:>2} {kind:<6}: writes refused {resumed - killed:5.1f} s; all three streaming again {rejoined - back:5.1f} s after the failover")
for kind in ("crash", "freeze", None):
    sel = [r for r in rows if kind is None or r[1] == kind]
    if not sel:
        continue
    refused = [r[2] for r in sel]
    rejoin = [r[3] for r in sel]
    label = kind or "all"
    print(f"{label:<6} ({len(sel)} runs): writes refused median {statistics.median(refused):.1f} s, max {max(refused):.1f} s; rejoin median {statistics.median(rejoin):.1f} s, max {max(rejoin):.1f} s")
print(f"bound: spec.failover.after + 10 s = {after_s + 10} s")
print(f"acknowledged rows lost: {len(lost)} of {len(acks)} acknowledged{(' ' + str(lost[:10])) if lost else ''}")
PY
