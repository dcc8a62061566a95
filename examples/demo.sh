#!/usr/bin/env bash
# The main job: the course's whole flow on a cluster, with nothing set up beforehand.
# Without KUBECONFIG it starts the local control plane (tests/cluster/up) and stops it
# at the end; with KUBECONFIG it uses that cluster (kind, k3d, minikube...).
# Where pods really run (a real cluster, or --real-node), it also does the course's
# data check: two rows written through kubectl exec survive delete and re-create.
#
#   examples/demo.sh                 # simulated node: fast, no container runs
#   examples/demo.sh --real-node     # local cluster with a real node and MariaDB (root)
#   examples/demo.sh --real-node --replicas 3   # automatic failover, watched (root)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
real_node=false
case "${1:-}" in
  --real-node) real_node=true ;;
  "") ;;
  *) echo "usage: examples/demo.sh [--real-node [--replicas 3]]" >&2; exit 2 ;;
esac
# With replicas, the demo is automatic failover's: examples/demo-failover.sh.
if [ "$real_node" = true ] && [ "${2:-}" = --replicas ]; then
  [ "${3:-}" = 3 ] || { echo "examples/demo.sh: the failover demo runs 3 members (--replicas 3)" >&2; exit 2; }
  exec "$repo/examples/demo-failover.sh"
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-mysql/target}
cluster_dir=""
operator_pid=""
finish() {
  [ -n "$operator_pid" ] && kill "$operator_pid" 2>/dev/null && wait "$operator_pid" 2>/dev/null
  if [ -n "$cluster_dir" ]; then
    tests/cluster/down "$cluster_dir"
    # The real node kept the instance's hostPath volumes on this machine; the cluster
    # they belonged to is gone.
    if [ "$real_node" = true ]; then
      rm -rf /var/lib/kubectl-mysql/default/mysql-instance
      rmdir /var/lib/kubectl-mysql/default /var/lib/kubectl-mysql 2>/dev/null || true
    fi
  fi
  return 0
}
trap finish EXIT
if [ -z "${KUBECONFIG:-}" ]; then
  echo "== no KUBECONFIG: starting the local control plane (first run builds it from Go modules)"
  cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-mysql-demo.XXXXXX")
  if [ "$real_node" = true ]; then
    eval "$(tests/cluster/up --real-node "$cluster_dir")"
  else
    eval "$(tests/cluster/up "$cluster_dir")"
  fi
  export PATH="$(tests/cluster/build):$PATH"
fi
cargo build --quiet --bin kubectl-mysql
export PATH="$CARGO_TARGET_DIR/debug:$repo/completions:$PATH"
step() { echo; echo "== $*"; }
# The course's CR; on the local real node its image is the one built here (no registry).
cr() {
  if [ "$real_node" = true ]; then
    sed 's|image: mysql:8.4|image: kubectl-mysql.local/mariadb:10.11|' examples/cr.yml
  else
    cat examples/cr.yml
  fi
}
# Pods run for real unless the only node is kwok's simulated one.
pods_run=true
if [ -z "$(kubectl get nodes -l type!=kwok -o name 2>/dev/null)" ]; then pods_run=false; fi
sql() { # password, statement: the course's own command line
  kubectl exec deploy/mysql-instance -- mysql -u root "-p$1" -e "$2" otus-database
}

step "kubectl mysql install-crd"
kubectl mysql install-crd
step "kubectl mysql run-operator (in the background, logs in $CARGO_TARGET_DIR/demo-operator.log)"
kubectl mysql run-operator > "$CARGO_TARGET_DIR/demo-operator.log" 2>&1 &
operator_pid=$!
step "kubectl apply -f examples/cr.yml"
cr | kubectl apply -f -
kubectl wait --for=jsonpath='{.status.phase}'=Ready mysql/mysql-instance --timeout=240s
kubectl mysql status mysql-instance
if [ "$pods_run" = true ]; then
  step "kubectl exec: the course's table and two rows"
  sql otuspassword "CREATE TABLE test (id smallint unsigned not null auto_increment, name varchar(20) not null, constraint pk_example primary key (id));"
  sql otuspassword "INSERT INTO test (id, name) VALUES (null, 'some data'); INSERT INTO test (id, name) VALUES (null, 'some data-2');"
fi
step "kubectl delete mysql mysql-instance: the operator backs it up first"
kubectl delete mysql mysql-instance --timeout=240s
kubectl get jobs backup-mysql-instance-job
kubectl get mysqlbackups
step "kubectl apply -f examples/cr.yml again: the operator restores the backup"
cr | kubectl apply -f -
kubectl wait --for=condition=Restored mysql/mysql-instance --timeout=240s
kubectl wait --for=jsonpath='{.status.phase}'=Ready mysql/mysql-instance --timeout=240s
kubectl get jobs
kubectl mysql status mysql-instance
if [ "$pods_run" = true ]; then
  step "kubectl exec: the course's check (2 rows came back)"
  sql otuspassword "select count(*) from test where name like 'some data%'"
fi
step "kubectl patch: a new password is applied by a Job"
kubectl patch mysql mysql-instance --type merge -p '{"spec":{"password":"a-new-password"}}'
kubectl wait --for=jsonpath='{.status.observedGeneration}'="$(kubectl get mysql mysql-instance -o jsonpath='{.metadata.generation}')" \
  mysql/mysql-instance --timeout=60s
kubectl wait --for=condition=PasswordSynced mysql/mysql-instance --timeout=240s
kubectl describe mysql mysql-instance | sed -n '/^Events:/,$p'
if [ "$pods_run" = true ]; then
  step "kubectl exec: the new password is accepted, the old one refused"
  sql a-new-password "select 'new password accepted'"
  if sql otuspassword "select 1" 2>/dev/null; then echo "the old password still works" >&2; exit 1; fi
  echo "old password refused"
fi
step "done"
