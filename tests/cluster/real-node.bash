# Sourced by `up --real-node`: a real node instead of kwok's simulated one. containerd
# and runc (Debian's) run the pods, the CNI bridge plugin wires them to a private bridge,
# CoreDNS answers for Services, and the kubelet built from the pinned module registers
# the node. Everything keeps its state under $dir; `down` stops and unmounts it.
#
# Uses from up: $here $bin $dir $pki $kubeconfig, start, fail, wait_for, free_port, log.

real_node_name=real-node-0

need_host_tools() {
  local missing=() tool
  for tool in containerd containerd-shim-runc-v2 ctr runc ip mount umount debootstrap iptables; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ -x /usr/lib/cni/bridge ] || missing+=("/usr/lib/cni/bridge")
  [ ${#missing[@]} = 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    fail "the real node needs root and these host tools: ${missing[*]}"
  fi
  log "installing containerd, runc and the CNI plugins from Debian (missing: ${missing[*]})"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containerd runc \
    containernetworking-plugins debootstrap iproute2 iptables >/dev/null \
    || fail "could not install containerd, runc and the CNI plugins"
}

# Takes a /24 of 10.244.0.0/16 that no interface on this machine uses yet and creates
# its bridge, kmysqlX for 10.244.X.0/24. Creating the bridge is what claims X, so two
# clusters starting at once (a CI run beside a developer's) never share one. Sets
# pod_third.
create_pod_bridge() {
  local third
  for third in $(seq 100 199); do
    ip -4 addr show | grep -q "inet 10\.244\.$third\." && continue
    if ip link add "kmysql$third" type bridge 2>/dev/null; then
      pod_third=$third
      echo "kmysql$third" > "$dir/node/bridge"
      return 0
    fi
  done
  fail "no free 10.244.X.0/24 for the pod bridge (or no permission to create a bridge)"
}

start_real_node() {
  [ "$(id -u)" = 0 ] || fail "the real node needs root (containerd, runc, mounts)"
  need_host_tools
  local images
  images=$("$here/images/build") || fail "could not build the node images"

  local node_dir=$dir/node
  local ctr_dir=$node_dir/containerd cni_dir=$node_dir/cni
  local sock=$ctr_dir/containerd.sock
  mkdir -p "$ctr_dir" "$cni_dir/net.d" "$cni_dir/ipam" "$node_dir/kubelet" "$node_dir/coredns"

  # The bridge is made here, not by the CNI plugin, so CoreDNS can listen on its address
  # before the first pod. Pods get no default route: they reach each other and the DNS
  # server on the bridge and nothing else.
  create_pod_bridge
  local third=$pod_third
  local bridge="kmysql$third" gateway="10.244.$third.1"
  log "pod network: bridge $bridge, 10.244.$third.0/24, DNS and node at $gateway"
  echo "kubectl-mysql-$third" > "$node_dir/cni-network"
  ip addr add "$gateway/24" dev "$bridge" || fail "could not address the bridge $bridge"
  ip link set "$bridge" up || fail "could not bring up the bridge $bridge"
  cat > "$cni_dir/net.d/10-kubectl-mysql.conflist" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "kubectl-mysql-$third",
  "plugins": [{
    "type": "bridge",
    "bridge": "$bridge",
    "isGateway": false,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "ranges": [[{"subnet": "10.244.$third.0/24", "rangeStart": "10.244.$third.10", "gateway": "$gateway"}]],
      "routes": [{"dst": "10.0.0.0/24"}],
      "dataDir": "$cni_dir/ipam"
    }
  }]
}
CNI

  cat > "$ctr_dir/config.toml" <<TOML
version = 2
root = "$ctr_dir/root"
state = "$ctr_dir/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$ctr_dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "kubectl-mysql.local/pause:3.10"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_cdi = false
  # The sandbox's root lacks CAP_SYS_RESOURCE, so no process may lower its OOM score
  # below containerd's own (runc fails on the pause container's -998 otherwise).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$cni_dir/net.d"
TOML
  log "starting containerd ($sock)"
  start containerd containerd --config "$ctr_dir/config.toml"
  wait_for "containerd" 30 ctr --address "$sock" version

  local started=$SECONDS image archive
  for archive in "$images/pause.tar" "$images/mariadb.tar" ${KUBECTL_MYSQL_EXTRA_IMAGES:-}; do
    image=$(basename "$archive" .tar)
    ctr --address "$sock" -n k8s.io images import "$archive" >"$dir/logs/import-$image.log" 2>&1 \
      || fail "could not import the $image image (see $dir/logs/import-$image.log)"
  done
  log "imported the images in $((SECONDS - started)) s"

  # No kube-proxy, but pods that talk to the API server (the operator in the cluster)
  # find it as the kubernetes Service, 10.0.0.1:443: that one address is forwarded from
  # our bridge to the API server on loopback, as kube-proxy would.
  echo 1 > "/proc/sys/net/ipv4/conf/$bridge/route_localnet" \
    || fail "could not let $bridge route to loopback"
  local dnat=(PREROUTING -i "$bridge" -d 10.0.0.1 -p tcp --dport 443 -j DNAT --to-destination "127.0.0.1:$api_port")
  iptables -t nat -A "${dnat[@]}" || fail "could not forward the kubernetes Service to the API server"
  printf '%s\n' "${dnat[@]}" > "$node_dir/dnat"

  local dns_ready_port
  dns_ready_port=$(free_port)
  cat > "$node_dir/coredns/Corefile" <<COREFILE
.:53 {
  bind $gateway
  ready 127.0.0.1:$dns_ready_port
  errors
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig $kubeconfig kubectl-mysql-local
    pods insecure
    fallthrough in-addr.arpa ip6.arpa
  }
  cache 5
}
COREFILE
  log "starting CoreDNS on $gateway:53"
  start coredns "$bin/coredns" -conf "$node_dir/coredns/Corefile"
  wait_for "CoreDNS" 60 curl -fsS "http://127.0.0.1:$dns_ready_port/ready"

  local kubelet_port healthz_port
  kubelet_port=$(free_port)
  healthz_port=$(free_port)
  cat > "$node_dir/kubelet/config.yaml" <<KUBELET
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 and no systemd: pods go straight under containerd's
# cgroups, with no QoS hierarchy or node-allocatable enforcement to set up.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
protectKernelDefaults: false
address: $gateway
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz_port
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization:
  mode: Webhook
clusterDNS: [$gateway]
clusterDomain: cluster.local
resolvConf: ""
containerRuntimeEndpoint: unix://$sock
# The imported images can't be pulled again: never collect them, never evict for disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
localStorageCapacityIsolation: false
podLogsDir: $node_dir/pod-logs
serializeImagePulls: false
fileCheckFrequency: 5s
syncFrequency: 10s
KUBELET
  log "starting the kubelet ($real_node_name, https://$gateway:$kubelet_port)"
  start kubelet "$bin/kubelet" --config "$node_dir/kubelet/config.yaml" \
    --kubeconfig "$kubeconfig" --root-dir "$node_dir/kubelet/root" \
    --cert-dir "$node_dir/kubelet/pki" --hostname-override "$real_node_name" \
    --node-ip "$gateway" --node-labels "type=real"
  wait_for "the kubelet to register $real_node_name" 90 "${kubectl[@]}" get node "$real_node_name"
  wait_for "$real_node_name to be Ready" 120 "${kubectl[@]}" wait --for=condition=Ready \
    "node/$real_node_name" --timeout=1s
  echo "$real_node_name" > "$node_dir/node-name"
  start_local_path_provisioner
}

# A real dynamic provisioner behind the StorageClass `local-path`: rancher's
# local-path-provisioner (built from its Go module), here a process beside the control
# plane. For each claim it makes a directory on the node (0777, through a helper pod in
# the server's image) and a PV for it; deleting the claim removes both.
start_local_path_provisioner() {
  local provisioner lp_dir=$node_dir/local-path
  provisioner=$("$here/build-provisioner") || fail "could not build local-path-provisioner"
  mkdir -p "$lp_dir/volumes"
  cat > "$lp_dir/config.json" <<JSON
{"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["$lp_dir/volumes"]}]}
JSON
  cat > "$lp_dir/helperPod.yaml" <<'POD'
apiVersion: v1
kind: Pod
metadata:
  name: helper-pod
spec:
  containers:
  - name: helper-pod
    image: kubectl-mysql.local/mariadb:10.11
    imagePullPolicy: Never
POD
  "${kubectl[@]}" apply -f - >/dev/null <<MANIFESTS || fail "could not create the local-path StorageClass"
apiVersion: v1
kind: Namespace
metadata:
  name: local-path-storage
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: local-path-provisioner-service-account
  namespace: local-path-storage
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-path-config
  namespace: local-path-storage
data:
  setup: |-
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "\$VOL_DIR"
  teardown: |-
    #!/bin/sh
    set -eu
    rm -rf "\$VOL_DIR"
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
MANIFESTS
  log "starting local-path-provisioner (StorageClass local-path, volumes in $lp_dir/volumes)"
  start local-path-provisioner "$provisioner" start --kubeconfig "$kubeconfig" \
    --config "$lp_dir/config.json" --helper-pod-file "$lp_dir/helperPod.yaml" \
    --namespace local-path-storage --helper-image kubectl-mysql.local/mariadb:10.11
  wait_for "local-path-provisioner to start its controller" 60 \
    grep -q "Starting provisioner controller" "$dir/logs/local-path-provisioner.log"
}

# --- used by down ------------------------------------------------------------------

ctr_in() { ctr --address "$dir/node/containerd/containerd.sock" -n k8s.io "$@"; }

# While the control plane still answers, the kubelet tears pods down the proper way
# (containers, sandbox, CNI DEL); whatever is left after that is killed through
# containerd, and the network namespaces of its sandboxes are removed by path.
stop_real_node_pods() {
  local kubectl=() node bin
  node=$(cat "$dir/node/node-name" 2>/dev/null || echo "$real_node_name")
  # The binaries up used, from its record.
  bin=$(cat "$dir/bin-path" 2>/dev/null) || bin=""
  if [ -f "$dir/kubeconfig" ] && [ -x "$bin/kubectl" ]; then
    kubectl=("$bin/kubectl" --kubeconfig "$dir/kubeconfig" --request-timeout=5s)
    if "${kubectl[@]}" cordon "$node" >/dev/null 2>&1; then
      "${kubectl[@]}" delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1
      local i
      for ((i = 0; i < 120; i++)); do
        [ -z "$("${kubectl[@]}" get pods -A --field-selector "spec.nodeName=$node" -o name 2>/dev/null)" ] && break
        sleep 0.5
      done
    fi
  fi
  [ -S "$dir/node/containerd/containerd.sock" ] || return 0
  # The kubelet must not start anything again while the rest is killed.
  pkill -TERM -f -- "--root-dir $dir/node/kubelet/root" 2>/dev/null
  local id netns
  for id in $(ctr_in containers ls -q 2>/dev/null); do
    netns=$(ctr_in containers info "$id" 2>/dev/null \
      | python3 -c 'import json,sys
for ns in json.load(sys.stdin).get("Spec",{}).get("linux",{}).get("namespaces",[]):
    if ns.get("type")=="network" and ns.get("path"): print(ns["path"])' 2>/dev/null)
    ctr_in tasks kill -s SIGKILL "$id" >/dev/null 2>&1
    ctr_in tasks delete -f "$id" >/dev/null 2>&1
    ctr_in containers delete "$id" >/dev/null 2>&1
    if [ -n "$netns" ] && [ -e "$netns" ]; then
      umount "$netns" 2>/dev/null
      rm -f "$netns"
    fi
  done
}

# After the processes are gone: shims still bound to our containerd, the mounts under
# DIR (deepest first), and the pod bridge.
release_real_node_host_state() {
  pkill -KILL -f -- "-address $dir/node/containerd/containerd.sock" 2>/dev/null
  local mounts
  mounts=$(awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  local m
  for m in $mounts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  if [ -f "$dir/node/dnat" ]; then
    local rule=()
    mapfile -t rule < "$dir/node/dnat"
    iptables -t nat -D "${rule[@]}" 2>/dev/null
  fi
  if [ -f "$dir/node/bridge" ]; then
    ip link del "$(cat "$dir/node/bridge")" 2>/dev/null
  fi
  # Paths the kubelet and libcni don't let us move: the kubelet's links to our pod logs,
  # and the CNI result cache of our network.
  local link
  for link in /var/log/containers/*.log; do
    case "$(readlink "$link" 2>/dev/null)" in "$dir"/*) rm -f "$link" ;; esac
  done
  if [ -f "$dir/node/cni-network" ]; then
    rm -f /var/lib/cni/results/"$(cat "$dir/node/cni-network")"-*
  fi
}
