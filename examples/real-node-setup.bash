# Sourced by the real-node benchmarks (bench-backup.sh, bench-pitr.sh) with $repo and
# $ns set: builds the release binary and the operator's image, starts the local cluster
# with a real node and the S3 server on its pod bridge, installs the operator watching
# $ns and puts the S3 keys in $ns (Secret s3-keys, from files, never argv). Everything
# goes when the script exits. Sets $operator_image, $cluster_dir, $s3_dir and the
# KUBECTL_MYSQL_S3_* variables.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-mysql/target}
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
cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-mysql-$ns.XXXXXX")
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
