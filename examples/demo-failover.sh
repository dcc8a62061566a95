#!/usr/bin/env bash
# Automatic failover, as a user would watch it, on the local real node (root; no
# Docker): a 3-member instance, a client committing numbered rows through the Service
# `mysql-instance`, the primary's mysqld killed with SIGKILL, and
# `kubectl mysql status --watch` showing the failover. Ends with the client's pause
# and its count of acknowledged rows lost (0).
#
#   sudo examples/demo-failover.sh          # also: examples/demo.sh --real-node --replicas 3
#
# With KUBECONFIG set it uses that cluster, if its nodes are this machine (the kill is
# sent from the host).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-mysql/target}
cluster_dir=""
operator_pid=""
watch_pid=""
finish() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
  [ -n "$operator_pid" ] && kill "$operator_pid" 2>/dev/null && wait "$operator_pid" 2>/dev/null
  if [ -n "$cluster_dir" ]; then
    tests/cluster/down "$cluster_dir"
    rm -rf /var/lib/kubectl-mysql/default/mysql-instance
  fi
  return 0
}
trap finish EXIT
if [ -z "${KUBECONFIG:-}" ]; then
  echo "== no KUBECONFIG: starting the local control plane with a real node"
  cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-mysql-demo.XXXXXX")
  eval "$(tests/cluster/up --real-node "$cluster_dir")"
  export PATH="$(tests/cluster/build):$PATH"
fi
cargo build --quiet --bin kubectl-mysql
export PATH="$CARGO_TARGET_DIR/debug:$repo/completions:$PATH"
step() { echo; echo "== $*"; }

step "kubectl mysql install-crd; kubectl mysql run-operator (logs in $CARGO_TARGET_DIR/demo-failover-operator.log)"
kubectl mysql install-crd
kubectl mysql run-operator > "$CARGO_TARGET_DIR/demo-failover-operator.log" 2>&1 &
operator_pid=$!

step "the course's CR with replicas: 3 and failover after 10s"
{
  sed 's|image: mysql:8.4|image: kubectl-mysql.local/mariadb:10.11|' examples/cr.yml
  printf '  replicas: 3\n  failover:\n    after: 10s\n'
} | kubectl apply -f -
kubectl wait mysql/mysql-instance --for=condition=Ready --timeout=300s
kubectl wait mysql/mysql-instance --for=jsonpath='{.status.health}'=Healthy --timeout=600s
kubectl mysql status mysql-instance

step "a client committing a numbered row through the Service every 100 ms"
kubectl apply -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: demo-writer}
spec:
  containers:
  - name: writer
    image: kubectl-mysql.local/mariadb:10.11
    command: [sleep, infinity]
    env:
    - name: MYSQL_PWD
      valueFrom: {secretKeyRef: {name: mysql-instance-credentials, key: password}}
EOF
kubectl wait pod/demo-writer --for=condition=Ready --timeout=120s
kubectl exec demo-writer -- mysql -h mysql-instance -u root otus-database \
  -e 'CREATE TABLE IF NOT EXISTS demo (id INT PRIMARY KEY)'
writer_log=$(mktemp)
kubectl exec demo-writer -- sh -c '
  i=1
  while [ ! -e /tmp/stop ]; do
    if mysql -h mysql-instance -u root --connect-timeout=1 -e "INSERT INTO demo VALUES ($i)" otus-database 2>/dev/null
    then echo "ok $i $(date +%s.%N)"; else echo "refused $i $(date +%s.%N)"; fi
    i=$((i+1)); sleep 0.1
  done' >"$writer_log" &
writer_pid=$!
sleep 5
echo "$(grep -c '^ok' "$writer_log") rows acknowledged so far"

step "kubectl mysql status mysql-instance --watch (in the background)"
kubectl mysql status mysql-instance --watch &
watch_pid=$!
sleep 2

pod=$(kubectl get pods -l mysqls.otus.homework/instance=mysql-instance,mysqls.otus.homework/role=primary \
  -o jsonpath='{.items[0].metadata.name}')
id=$(kubectl get pod "$pod" -o jsonpath='{.status.containerStatuses[?(@.name=="mysql")].containerID}')
id=${id#*://}
pid=""
for p in $(pgrep -x mariadbd); do grep -q "$id" "/proc/$p/cgroup" && pid=$p; done
step "kill -9 of the primary's mysqld ($pod, pid $pid on this host)"
killed=$(date +%s.%N)
kill -9 "$pid"
until [ "$(kubectl get mysql mysql-instance -o jsonpath='{.status.failover.count}')" = 1 ]; do sleep 0.5; done
kubectl wait mysql/mysql-instance --for=jsonpath='{.status.health}'=Healthy --timeout=600s
sleep 3
kill "$watch_pid" 2>/dev/null; watch_pid=""

step "the failover, as the operator recorded it"
kubectl mysql status mysql-instance
kubectl get events --field-selector involvedObject.name=mysql-instance \
  -o custom-columns=REASON:.reason,MESSAGE:.message | grep -E "Failover|FailedOver|PrimaryChanged|SetAside" || true

step "the client's view"
kubectl exec demo-writer -- touch /tmp/stop
wait "$writer_pid" 2>/dev/null || true
present=$(mktemp)
kubectl exec demo-writer -- mysql -h mysql-instance -u root -N -B -e 'SELECT id FROM demo' otus-database >"$present"
python3 - "$writer_log" "$present" "$killed" <<'PY'
import sys
log, present, killed = sys.argv[1], sys.argv[2], float(sys.argv[3])
acks = [(int(l.split()[1]), float(l.split()[2])) for l in open(log) if l.startswith("ok ")]
refused = sum(1 for l in open(log) if l.startswith("refused "))
have = {int(l) for l in open(present) if l.strip()}
times = [t for _, t in acks]
gaps = [(b - a, b) for a, b in zip(times, times[1:]) if b > killed]
resumed = max(gaps)[1] if gaps else float("nan")
lost = [i for i, _ in acks if i not in have]
print(f"writes refused for {resumed - killed:.1f} s after the kill ({refused} attempts refused)")
print(f"acknowledged rows lost: {len(lost)} of {len(acks)}")
sys.exit(1 if lost else 0)
PY
kubectl delete pod demo-writer --wait=false >/dev/null
