#!/usr/bin/env bash
# The benchmark (issue: what the operator costs at 1, 100 and 1000 instances).
# Builds release binaries, starts the local control plane unless KUBECONFIG is set,
# runs examples/bench.rs and stops the plane. Arguments go to the benchmark:
#
#   examples/bench.sh [--sizes 100,1000] [--samples 20] [--steady-seconds 30] [--out FILE]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-mysql/target}
cargo build --release --quiet --bin kubectl-mysql --example bench
cluster_dir=""
trap '[ -n "$cluster_dir" ] && tests/cluster/down "$cluster_dir"' EXIT
if [ -z "${KUBECONFIG:-}" ]; then
  cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-mysql-bench.XXXXXX")
  eval "$(tests/cluster/up "$cluster_dir")"
fi
"$CARGO_TARGET_DIR/release/examples/bench" --out "$repo/examples/bench-results.json" "$@"
