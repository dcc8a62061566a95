#!/usr/bin/env bash
# The main job: the course's whole flow on a cluster, with nothing set up beforehand.
# Without KUBECONFIG it starts the local control plane (tests/cluster/up) and stops it
# at the end; with KUBECONFIG it uses that cluster (kind, k3d, minikube...).
#
#   examples/demo.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-mysql/target}
cluster_dir=""
operator_pid=""
finish() {
  [ -n "$operator_pid" ] && kill "$operator_pid" 2>/dev/null && wait "$operator_pid" 2>/dev/null
  [ -n "$cluster_dir" ] && tests/cluster/down "$cluster_dir"
  return 0
}
trap finish EXIT
if [ -z "${KUBECONFIG:-}" ]; then
  echo "== no KUBECONFIG: starting the local control plane (first run builds it from Go modules)"
  cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-mysql-demo.XXXXXX")
  eval "$(tests/cluster/up "$cluster_dir")"
  export PATH="$(tests/cluster/build):$PATH"
fi
cargo build --quiet --bin kubectl-mysql
export PATH="$CARGO_TARGET_DIR/debug:$repo/completions:$PATH"
step() { echo; echo "== $*"; }

step "kubectl mysql install-crd"
kubectl mysql install-crd
step "kubectl mysql run-operator (in the background, logs in $CARGO_TARGET_DIR/demo-operator.log)"
kubectl mysql run-operator > "$CARGO_TARGET_DIR/demo-operator.log" 2>&1 &
operator_pid=$!
step "kubectl apply -f examples/cr.yml"
kubectl apply -f examples/cr.yml
kubectl wait --for=jsonpath='{.status.phase}'=Ready mysql/mysql-instance --timeout=120s
kubectl mysql status mysql-instance
step "kubectl delete mysql mysql-instance: the operator backs it up first"
kubectl delete -f examples/cr.yml --timeout=120s
kubectl get jobs backup-mysql-instance-job
kubectl get mysqlbackups
step "kubectl apply -f examples/cr.yml again: the operator restores the backup"
kubectl apply -f examples/cr.yml
kubectl wait --for=condition=Restored mysql/mysql-instance --timeout=120s
kubectl wait --for=jsonpath='{.status.phase}'=Ready mysql/mysql-instance --timeout=120s
kubectl get jobs
kubectl mysql status mysql-instance
step "kubectl patch: a new password is applied by a Job"
kubectl patch mysql mysql-instance --type merge -p '{"spec":{"password":"a-new-password"}}'
kubectl wait --for=condition=PasswordSynced mysql/mysql-instance --timeout=120s
kubectl describe mysql mysql-instance | sed -n '/^Events:/,$p'
step "done"
