#!/usr/bin/env bash
# The course's grader deletes the instance and applies it again at once. This times
# that flow on the simulated cluster (or KUBECONFIG's), as medians of --samples runs:
#   fresh:    apply -> Ready, for an instance with nothing before it (the bound: what a
#             re-create would cost if nothing had to go first);
#   recreate: delete -> gone, then apply -> the restore Job created -> Ready.
# It prints what the new incarnation's status said while it waited.
#
#   examples/bench-recreate.sh [--samples N]      (default 3)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
samples=3
[ "${1:-}" = "--samples" ] && samples=$2
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
  cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-mysql-bench-recreate.XXXXXX")
  eval "$(tests/cluster/up "$cluster_dir")"
  export PATH="$(tests/cluster/build):$PATH"
fi
cargo build --quiet --release --bin kubectl-mysql
export PATH="$CARGO_TARGET_DIR/release:$PATH"
kubectl mysql install-crd >/dev/null
kubectl mysql run-operator 2>"${TMPDIR:-/tmp}/bench-recreate-operator.log" &
operator_pid=$!
now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now) - $1:.1f}')"; }
wait_for() { # description, command...
  local what=$1; shift
  for _ in $(seq 1 1200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench-recreate: timed out waiting for $what" >&2; exit 1
}
ready() { [ "$(kubectl get mysql mysql-instance -n "$ns" -o jsonpath='{.status.phase}')" = Ready ]; }
gone() { ! kubectl get mysql mysql-instance -n "$ns" >/dev/null 2>&1; }
restore_job() { kubectl get job restore-mysql-instance-job -n "$ns" >/dev/null 2>&1; }
fresh=(); to_restore=(); to_ready=(); said=""
for i in $(seq 1 "$samples"); do
  # A namespace of its own: no earlier records, dumps or volumes of the name.
  ns=bench-recreate-$$-$i
  kubectl create namespace "$ns" >/dev/null
  wait_for "the namespace's ServiceAccount" kubectl get serviceaccount default -n "$ns"
  start=$(now)
  kubectl apply -n "$ns" -f examples/cr.yml >/dev/null
  wait_for "Ready" ready
  fresh+=("$(since "$start")")
  kubectl delete mysql mysql-instance -n "$ns" --wait=false >/dev/null
  wait_for "the deletion" gone
  start=$(now)
  kubectl apply -n "$ns" -f examples/cr.yml >/dev/null
  while ! restore_job; do
    message=$(kubectl get mysql mysql-instance -n "$ns" -o jsonpath='{.status.phase}: {.status.message}' 2>/dev/null || true)
    [ -n "$message" ] && [ "$message" != ": " ] && said=$message
    sleep 0.1
  done
  to_restore+=("$(since "$start")")
  wait_for "Ready after the restore" ready
  to_ready+=("$(since "$start")")
  kubectl annotate mysql mysql-instance -n "$ns" mysqls.otus.homework/skip-backup-on-delete=true >/dev/null
  kubectl delete mysql mysql-instance -n "$ns" >/dev/null
  echo "sample $i: fresh ${fresh[-1]} s; re-create: restore Job ${to_restore[-1]} s, Ready ${to_ready[-1]} s" >&2
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "fresh instance to Ready (the bound):      median $(median "${fresh[@]}") s over $samples"
echo "re-create to restore Job created:         median $(median "${to_restore[@]}") s"
echo "re-create to Ready (restored):            median $(median "${to_ready[@]}") s"
echo "while it waited, the status said:         ${said:-nothing}"
