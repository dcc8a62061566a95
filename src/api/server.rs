//! How the server's pod runs: its CPU and memory (and the InnoDB buffer pool that
//! follows the memory limit), the options users add to mysqld's, and where it may be
//! scheduled. The rules live here once; the Deployment template only renders them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, Node, NodeSelectorRequirement, Toleration};
use kube::KubeSchema;
use kube::ResourceExt;
use serde::{Deserialize, Serialize};

use super::validate;

/// A value written as a YAML number or a string (`2`, `500m`, `200`, `ON`), kept as
/// the text the server or the kubelet reads.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(from = "NumberOrText", into = "String")]
pub struct Scalar(pub String);

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Integer(i64),
    Float(f64),
    Text(String),
}

impl From<NumberOrText> for Scalar {
    fn from(value: NumberOrText) -> Self {
        Scalar(match value {
            NumberOrText::Integer(n) => n.to_string(),
            NumberOrText::Float(x) => x.to_string(),
            NumberOrText::Text(s) => s,
        })
    }
}

impl From<Scalar> for String {
    fn from(value: Scalar) -> Self {
        value.0
    }
}

impl From<&str> for Scalar {
    fn from(value: &str) -> Self {
        Scalar(value.to_string())
    }
}

impl schemars::JsonSchema for Scalar {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scalar".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "x-kubernetes-int-or-string": true })
    }
}

/// CPU and memory of the server's container (`spec.resources`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(validation = Rule::new("!has(self.requests) || !has(self.limits) || !has(self.requests.memory) || !has(self.limits.memory) || quantity(string(self.requests.memory)).compareTo(quantity(string(self.limits.memory))) <= 0").message("spec.resources.requests.memory must not exceed spec.resources.limits.memory"))]
#[x_kube(validation = Rule::new("!has(self.requests) || !has(self.limits) || !has(self.requests.cpu) || !has(self.limits.cpu) || quantity(string(self.requests.cpu)).compareTo(quantity(string(self.limits.cpu))) <= 0").message("spec.resources.requests.cpu must not exceed spec.resources.limits.cpu"))]
pub struct ServerResources {
    /// What the scheduler reserves on the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ResourceAmounts>,
    /// What the server may use at most; the InnoDB buffer pool is half the memory limit
    /// unless spec.mysqlConfig sets innodb_buffer_pool_size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceAmounts>,
}

/// An amount of CPU and of memory, as Kubernetes quantities.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceAmounts {
    /// Cores: `500m`, `2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))").message("a cpu amount must be a positive quantity such as 500m or 2"))]
    pub cpu: Option<Scalar>,
    /// Bytes: `512Mi`, `2Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("isQuantity(string(self)) && quantity(string(self)).compareTo(quantity('64Mi')) >= 0").message("a memory amount must be a quantity of at least 64Mi, such as 512Mi or 2Gi"))]
    pub memory: Option<Scalar>,
}

/// The resources of a server whose spec gives none: small enough for a laptop, with a
/// memory limit so that the buffer pool has a size that fits it.
pub fn default_resources() -> ServerResources {
    ServerResources {
        requests: Some(ResourceAmounts {
            cpu: Some("100m".into()),
            memory: Some("256Mi".into()),
        }),
        limits: Some(ResourceAmounts {
            cpu: None,
            memory: Some("1Gi".into()),
        }),
    }
}

impl ServerResources {
    /// The container's `resources`, as the pod template writes it.
    pub fn to_container(&self) -> serde_json::Value {
        let amounts = |a: &Option<ResourceAmounts>| {
            let a = a.as_ref()?;
            let mut map = serde_json::Map::new();
            for (key, value) in [("cpu", &a.cpu), ("memory", &a.memory)] {
                if let Some(value) = value {
                    map.insert(key.into(), serde_json::Value::String(value.0.clone()));
                }
            }
            (!map.is_empty()).then_some(serde_json::Value::Object(map))
        };
        let mut out = serde_json::Map::new();
        if let Some(requests) = amounts(&self.requests) {
            out.insert("requests".into(), requests);
        }
        if let Some(limits) = amounts(&self.limits) {
            out.insert("limits".into(), limits);
        }
        serde_json::Value::Object(out)
    }

    /// The memory limit in bytes, when there is one.
    pub fn memory_limit_bytes(&self) -> Option<u64> {
        let memory = self.limits.as_ref()?.memory.as_ref()?;
        validate::quantity_bytes(&memory.0)
    }

    /// Why these amounts are wrong, if they are (what the CRD's rules say, for the CLI
    /// and for an object that reached the operator without them).
    pub fn problem(&self) -> Option<String> {
        for (which, amounts) in [("requests", &self.requests), ("limits", &self.limits)] {
            let Some(amounts) = amounts else { continue };
            if let Some(cpu) = &amounts.cpu
                && validate::quantity_bytes(&cpu.0).is_none_or(|units| units == 0)
            {
                return Some(format!(
                    "spec.resources.{which}.cpu {:?} must be a positive quantity such as 500m or 2",
                    cpu.0
                ));
            }
            if let Some(memory) = &amounts.memory
                && validate::quantity_bytes(&memory.0).is_none_or(|b| b < MIN_MEMORY)
            {
                return Some(format!(
                    "spec.resources.{which}.memory {:?} must be a quantity of at least 64Mi, such as 512Mi or 2Gi",
                    memory.0
                ));
            }
        }
        let request = self.requests.as_ref()?.memory.as_ref()?;
        let limit = self.limits.as_ref()?.memory.as_ref()?;
        (validate::quantity_bytes(&request.0) > validate::quantity_bytes(&limit.0)).then(|| {
            "spec.resources.requests.memory must not exceed spec.resources.limits.memory"
                .to_string()
        })
    }
}

const MIB: u64 = 1 << 20;
/// The least memory a server gets (the CRD refuses less): MySQL 8.4 does not start in
/// much less.
const MIN_MEMORY: u64 = 64 * MIB;

/// The InnoDB buffer pool for a memory limit: half of it, leaving the rest to the
/// server's other buffers, connections and the page cache. From 256 MiB it is a whole
/// number of 128 MiB chunks (MySQL's default chunk, so the server keeps it exactly);
/// below, whole MiB.
pub fn buffer_pool_bytes(memory_limit: u64) -> u64 {
    const CHUNK: u64 = 128 * MIB;
    let half = memory_limit / 2;
    if half >= 2 * CHUNK {
        half / CHUNK * CHUNK
    } else {
        (half / MIB * MIB).max(32 * MIB)
    }
}

/// `spec.mysqlConfig`: mysqld options by name (`max_connections: 200`), added to the
/// server's command line after the image's option files, so they win over those.
pub type ServerSettings = BTreeMap<String, Scalar>;

/// What an option's name is once `-` and `_` are the same and the prefixes that change
/// how mysqld reads it (`loose-`, `skip-`, `enable-`, `disable-`, `maximum-`) are gone.
fn option_stem(key: &str) -> String {
    let mut stem = key.to_ascii_lowercase().replace('-', "_");
    for prefix in ["loose_", "maximum_", "skip_", "enable_", "disable_"] {
        if let Some(rest) = stem.strip_prefix(prefix) {
            stem = rest.to_string();
        }
    }
    stem
}

/// Options the operator sets itself, with why: backups, point-in-time recovery and
/// failover rely on them, or the pod's own wiring does.
pub const LOCKED_OPTIONS: [(&str, &str); 27] = [
    ("datadir", "the data volume is mounted there"),
    ("socket", "the probes and Jobs use the image's socket"),
    ("port", "the Service and every Job connect to 3306"),
    (
        "bind_address",
        "the Service reaches the server on every address",
    ),
    ("user", "the pod's security context chooses the user"),
    ("pid_file", "the image's entrypoint owns it"),
    ("networking", "the Service reaches the server over TCP"),
    (
        "log_bin",
        "backups and point-in-time recovery read the binary log",
    ),
    ("log_bin_index", "the archiver finds the binary logs by it"),
    (
        "log_bin_basename",
        "the archiver finds the binary logs by it",
    ),
    (
        "binlog_format",
        "replicas and point-in-time recovery replay row events",
    ),
    (
        "binlog_expire_logs_seconds",
        "the archiver purges binary logs once archived",
    ),
    (
        "expire_logs_days",
        "the archiver purges binary logs once archived",
    ),
    ("server_id", "each member's id is its index"),
    ("enforce_gtid_consistency", "failover compares GTIDs"),
    (
        "log_slave_updates",
        "a replica must be able to become the primary",
    ),
    (
        "log_replica_updates",
        "a replica must be able to become the primary",
    ),
    (
        "read_only",
        "the operator makes exactly one member writable",
    ),
    (
        "super_read_only",
        "the operator makes exactly one member writable",
    ),
    (
        "relay_log",
        "replicas keep their relay logs on the data volume",
    ),
    ("init_file", "it would run SQL as root at every start"),
    (
        "require_secure_transport",
        "spec.tls.requireSecureTransport sets it",
    ),
    (
        "ssl",
        "spec.tls says whether the server presents a certificate",
    ),
    (
        "ssl_cert",
        "spec.tls sets the certificate the server presents",
    ),
    (
        "ssl_key",
        "spec.tls sets the certificate the server presents",
    ),
    (
        "ssl_ca",
        "spec.tls sets the certificate the server presents",
    ),
    (
        "ssl_capath",
        "spec.tls sets the certificate the server presents",
    ),
];

/// Families of options the operator sets, by prefix.
pub const LOCKED_PREFIXES: [(&str, &str); 3] = [
    ("gtid_", "failover compares GTIDs"),
    (
        "rpl_semi_sync_",
        "a write is acknowledged only once a replica has it",
    ),
    ("defaults_", "the operator's options must not be replaced"),
];

/// The CEL pattern the CRD refuses locked options with (an option's stem matched in
/// lowercase with `-` as `_`); a unit test keeps it equal to the lists above. A macro,
/// so that the CRD's rule (a literal) is built from it by `concat!`.
macro_rules! locked_option_pattern {
    () => {
        "^(loose_)?(maximum_)?(skip_|enable_|disable_)?(datadir|socket|port|bind_address|user|pid_file|networking|log_bin|log_bin_index|log_bin_basename|binlog_format|binlog_expire_logs_seconds|expire_logs_days|server_id|enforce_gtid_consistency|log_slave_updates|log_replica_updates|read_only|super_read_only|relay_log|init_file|require_secure_transport|ssl|ssl_cert|ssl_key|ssl_ca|ssl_capath|gtid_.*|rpl_semi_sync_.*|defaults_.*)$"
    };
}
pub(crate) use locked_option_pattern;
pub const LOCKED_OPTION_PATTERN: &str = locked_option_pattern!();

/// Why the operator owns this option, if it does.
pub fn locked_option(key: &str) -> Option<&'static str> {
    let stem = option_stem(key);
    LOCKED_OPTIONS
        .iter()
        .find(|(name, _)| *name == stem)
        .or_else(|| {
            LOCKED_PREFIXES
                .iter()
                .find(|(prefix, _)| stem.starts_with(prefix))
        })
        .map(|(_, why)| *why)
}

/// An option name as mysqld takes it: a letter, then letters, digits, `_` and `-`.
fn valid_option_name(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && key.len() <= 64
}

/// Why these settings cannot be used, if they cannot.
pub fn settings_problem(settings: &ServerSettings) -> Option<String> {
    if settings.len() > MAX_SETTINGS {
        return Some(format!(
            "spec.mysqlConfig holds at most {MAX_SETTINGS} options"
        ));
    }
    options_problem(settings, |key| format!("spec.mysqlConfig.{key}"))
}

/// The options of a ConfigMap (`spec.mysqlConfigMapName`): each data key an option,
/// under the same rules as `spec.mysqlConfig`; or the one line that says why not.
pub fn config_map_settings(
    config_map: &str,
    data: &BTreeMap<String, String>,
) -> Result<ServerSettings, String> {
    if data.len() > MAX_CONFIG_MAP_SETTINGS {
        return Err(format!(
            "ConfigMap {config_map} (spec.mysqlConfigMapName) holds more than {MAX_CONFIG_MAP_SETTINGS} options"
        ));
    }
    let settings: ServerSettings = data
        .iter()
        .map(|(key, value)| (key.clone(), Scalar(value.trim().to_string())))
        .collect();
    match options_problem(&settings, |key| {
        format!("ConfigMap {config_map} (spec.mysqlConfigMapName) key {key}")
    }) {
        Some(problem) => Err(problem),
        None => Ok(settings),
    }
}

/// The server's settings: a ConfigMap's, then the spec's own, which win.
pub fn merge_settings(from_config_map: &ServerSettings, inline: &ServerSettings) -> ServerSettings {
    let mut merged = from_config_map.clone();
    // The same option may be spelt with '-' or '_': the inline one replaces it.
    merged.retain(|key, _| {
        !inline.keys().any(|own| {
            own.to_ascii_lowercase().replace('-', "_") == key.to_ascii_lowercase().replace('-', "_")
        })
    });
    merged.extend(inline.iter().map(|(k, v)| (k.clone(), v.clone())));
    merged
}

fn options_problem(settings: &ServerSettings, name: impl Fn(&str) -> String) -> Option<String> {
    settings.iter().find_map(|(key, value)| {
        if !valid_option_name(key) {
            return Some(format!(
                "{} is not a server option name (a letter, then letters, digits, '_' and '-')",
                name(&format!("{key:?}"))
            ));
        }
        if let Some(why) = locked_option(key) {
            return Some(format!(
                "{} is set by the operator and cannot be changed: {why}",
                name(key)
            ));
        }
        (value.0.is_empty() || value.0.contains(['\n', '\r']))
            .then(|| format!("{} must be one line of text, not empty", name(key)))
    })
}

/// mysqld's options for these settings and this memory limit: each setting as
/// `--name=value`, and the buffer pool from the limit unless a setting names it.
pub fn option_args(settings: &ServerSettings, memory_limit: Option<u64>) -> Vec<String> {
    let mut args: Vec<String> = settings
        .iter()
        .map(|(key, value)| format!("--{key}={}", value.0))
        .collect();
    let pool_is_set = settings
        .keys()
        .any(|k| option_stem(k) == "innodb_buffer_pool_size");
    if let Some(limit) = memory_limit.filter(|_| !pool_is_set) {
        args.push(format!(
            "--innodb-buffer-pool-size={}",
            buffer_pool_bytes(limit)
        ));
    }
    args
}

/// Where the server's pod may run (`spec.nodeSelector`, `spec.tolerations`,
/// `spec.affinity`): the scheduler applies them to the pod, and a new hostPath volume
/// is pinned only to a node they allow.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Placement<'a> {
    pub node_selector: Option<&'a BTreeMap<String, String>>,
    pub tolerations: &'a [Toleration],
    pub affinity: Option<&'a Affinity>,
}

impl Placement<'_> {
    /// Whether the server's pod could run on this node: its labels match the selector
    /// and the required node affinity, and every taint that keeps pods off is
    /// tolerated.
    pub fn allows(&self, node: &Node) -> bool {
        let labels = node.labels();
        let selected = self
            .node_selector
            .is_none_or(|s| s.iter().all(|(k, v)| labels.get(k) == Some(v)));
        let terms = self
            .affinity
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(|r| r.node_selector_terms.as_slice());
        let affine = terms.is_none_or(|terms| {
            terms.iter().any(|term| {
                term.match_expressions
                    .iter()
                    .flatten()
                    .all(|e| requirement_matches(e, labels))
            })
        });
        let taints = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or_default();
        let tolerated = taints
            .iter()
            .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
            .all(|taint| self.tolerations.iter().any(|t| tolerates(t, taint)));
        selected && affine && tolerated
    }
}

fn requirement_matches(e: &NodeSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let value = labels.get(&e.key);
    let values = e.values.as_deref().unwrap_or_default();
    let number = |s: &str| s.parse::<i64>().ok();
    match e.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(have), Some(bound)) = (
                value.and_then(|v| number(v)),
                values.first().and_then(|v| number(v)),
            ) else {
                return false;
            };
            if e.operator == "Gt" {
                have > bound
            } else {
                have < bound
            }
        }
        _ => false,
    }
}

fn tolerates(toleration: &Toleration, taint: &k8s_openapi::api::core::v1::Taint) -> bool {
    let effect = toleration
        .effect
        .as_deref()
        .is_none_or(|e| e.is_empty() || e == taint.effect);
    let key = toleration
        .key
        .as_deref()
        .is_none_or(|k| k.is_empty() || k == taint.key);
    let value = match toleration.operator.as_deref() {
        Some("Exists") => true,
        _ => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
    };
    effect && key && value
}

/// `spec.tls`: the server presents a certificate, and every Job that talks to it
/// verifies it against the CA and the server's name.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TlsSpec {
    /// A Secret in the instance's namespace with `tls.crt`, `tls.key` and `ca.crt`
    /// (cert-manager's, or made by hand); when absent the operator issues one from a
    /// CA of the instance's own (`NAME-tls`, `NAME-tls-ca`) and renews it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Refuse connections without TLS (`require_secure_transport`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_secure_transport: Option<bool>,
}

impl TlsSpec {
    pub fn required(&self) -> bool {
        self.require_secure_transport == Some(true)
    }
}

/// Where the server's certificate is mounted in its container.
pub const TLS_DIR: &str = "/etc/mysql-tls";

/// The server's options for TLS from the mounted Secret.
pub fn tls_args(tls: &TlsSpec) -> Vec<String> {
    let mut args = vec![
        format!("--ssl-cert={TLS_DIR}/tls.crt"),
        format!("--ssl-key={TLS_DIR}/tls.key"),
        format!("--ssl-ca={TLS_DIR}/ca.crt"),
    ];
    if tls.required() {
        args.push("--require-secure-transport=ON".to_string());
    }
    args
}

/// `spec.mysqlConfig`'s schema: at most 32 options, each a number or text (the bound
/// keeps the CRD's rules within the API server's cost budget).
pub fn settings_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "nullable": true,
        "maxProperties": MAX_SETTINGS,
        "additionalProperties": { "x-kubernetes-int-or-string": true }
    })
}

/// The most options `spec.mysqlConfig` holds.
pub const MAX_SETTINGS: usize = 32;

/// The most options a `spec.mysqlConfigMapName` ConfigMap holds (checked by the
/// operator, not by the CRD, so not bound by its cost budget).
pub const MAX_CONFIG_MAP_SETTINGS: usize = 256;

/// The schema of a Kubernetes type taken whole (affinity, tolerations): the API
/// server validates it where the pod is made, and the CRD stays small.
pub fn any_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "object", "x-kubernetes-preserve-unknown-fields": true })
}

/// The same, for a list of them.
pub fn any_objects(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeSpec, Taint};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn the_buffer_pool_is_half_the_limit_in_whole_chunks() {
        assert_eq!(buffer_pool_bytes(1 << 30), 512 * MIB);
        assert_eq!(buffer_pool_bytes(768 * MIB), 384 * MIB);
        // 900 MiB: half is 450, down to 384 (three chunks).
        assert_eq!(buffer_pool_bytes(900 * MIB), 384 * MIB);
        assert_eq!(buffer_pool_bytes(256 * MIB), 128 * MIB);
        assert_eq!(buffer_pool_bytes(64 * MIB), 32 * MIB);
    }

    #[test]
    fn settings_become_options_and_the_pool_follows_the_limit_unless_set() {
        let mut settings = ServerSettings::new();
        settings.insert("max_connections".into(), "200".into());
        assert_eq!(
            option_args(&settings, Some(1 << 30)),
            [
                "--max_connections=200",
                "--innodb-buffer-pool-size=536870912"
            ]
        );
        settings.insert("innodb-buffer-pool-size".into(), "1G".into());
        assert_eq!(
            option_args(&settings, Some(1 << 30)),
            ["--innodb-buffer-pool-size=1G", "--max_connections=200"]
        );
        assert!(option_args(&ServerSettings::new(), None).is_empty());
    }

    #[test]
    fn options_the_operator_owns_are_refused_in_every_spelling() {
        for key in [
            "datadir",
            "server-id",
            "SERVER_ID",
            "loose-server-id",
            "skip-log-bin",
            "disable_log_bin",
            "log-bin",
            "gtid_mode",
            "gtid-strict-mode",
            "rpl_semi_sync_master_enabled",
            "read_only",
            "skip-networking",
            "defaults-extra-file",
            "init_file",
        ] {
            let settings = ServerSettings::from([(key.to_string(), Scalar::from("1"))]);
            let problem = settings_problem(&settings).unwrap_or_default();
            assert!(problem.contains("set by the operator"), "{key}: {problem}");
        }
        for key in [
            "max_connections",
            "innodb_log_file_size",
            "binlog_cache_size",
            "sort_buffer_size",
        ] {
            let settings = ServerSettings::from([(key.to_string(), Scalar::from("1"))]);
            assert_eq!(settings_problem(&settings), None, "{key}");
        }
        let bad_name = ServerSettings::from([("max connections".to_string(), Scalar::from("1"))]);
        assert!(
            settings_problem(&bad_name)
                .unwrap()
                .contains("not a server option name")
        );
        let two_lines = ServerSettings::from([("sql_mode".to_string(), Scalar::from("A\nB"))]);
        assert!(settings_problem(&two_lines).unwrap().contains("one line"));
    }

    #[test]
    fn a_config_maps_options_follow_the_same_rules_and_the_spec_wins() {
        let data = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let settings = config_map_settings(
            "tuning",
            &data(&[("max-connections", " 300\n"), ("wait_timeout", "600")]),
        )
        .unwrap();
        assert_eq!(settings["max-connections"], Scalar::from("300"));
        let locked = config_map_settings("tuning", &data(&[("log_bin", "OFF")])).unwrap_err();
        assert_eq!(
            locked,
            "ConfigMap tuning (spec.mysqlConfigMapName) key log_bin is set by the operator and cannot be changed: backups and point-in-time recovery read the binary log"
        );
        let empty = config_map_settings("tuning", &data(&[("sql_mode", "")])).unwrap_err();
        assert!(empty.contains("one line of text, not empty"), "{empty}");
        let many: BTreeMap<String, String> = (0..=MAX_CONFIG_MAP_SETTINGS)
            .map(|i| (format!("option_{i}"), "1".to_string()))
            .collect();
        assert!(config_map_settings("tuning", &many).is_err());

        let inline = ServerSettings::from([("max_connections".to_string(), Scalar::from("50"))]);
        let merged = merge_settings(&settings, &inline);
        assert_eq!(
            option_args(&merged, None),
            ["--max_connections=50", "--wait_timeout=600"]
        );
    }

    #[test]
    fn the_crd_pattern_is_the_lists() {
        let names: Vec<String> = LOCKED_OPTIONS
            .iter()
            .map(|(n, _)| n.to_string())
            .chain(LOCKED_PREFIXES.iter().map(|(p, _)| format!("{p}.*")))
            .collect();
        let expected = format!(
            "^(loose_)?(maximum_)?(skip_|enable_|disable_)?({})$",
            names.join("|")
        );
        assert_eq!(LOCKED_OPTION_PATTERN, expected);
    }

    #[test]
    fn numbers_and_text_read_the_same() {
        let from_yaml: BTreeMap<String, Scalar> =
            serde_json::from_str(r#"{"a": 200, "b": "ON", "c": 0.5}"#).unwrap();
        assert_eq!(from_yaml["a"].0, "200");
        assert_eq!(from_yaml["b"].0, "ON");
        assert_eq!(from_yaml["c"].0, "0.5");
        assert_eq!(serde_json::to_value(&from_yaml["a"]).unwrap(), "200");
    }

    #[test]
    fn resources_render_and_are_checked() {
        let defaults = default_resources();
        assert_eq!(defaults.memory_limit_bytes(), Some(1 << 30));
        assert_eq!(
            defaults.to_container(),
            serde_json::json!({"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}})
        );
        assert_eq!(defaults.problem(), None);
        let inverted = ServerResources {
            requests: Some(ResourceAmounts {
                cpu: None,
                memory: Some("2Gi".into()),
            }),
            limits: Some(ResourceAmounts {
                cpu: None,
                memory: Some("1Gi".into()),
            }),
        };
        assert!(inverted.problem().unwrap().contains("must not exceed"));
        let tiny = ServerResources {
            requests: None,
            limits: Some(ResourceAmounts {
                cpu: Some("0".into()),
                memory: None,
            }),
        };
        assert!(tiny.problem().unwrap().contains("cpu"));
    }

    fn node(labels: &[(&str, &str)], taints: Vec<Taint>) -> Node {
        Node {
            metadata: ObjectMeta {
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            spec: Some(NodeSpec {
                taints: Some(taints),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn placement_follows_selector_affinity_and_taints() {
        let db_node = node(&[("disk", "ssd")], vec![]);
        let plain = node(&[], vec![]);
        let tainted = node(
            &[("disk", "ssd")],
            vec![Taint {
                key: "dedicated".into(),
                value: Some("db".into()),
                effect: "NoSchedule".into(),
                ..Default::default()
            }],
        );
        let selector = BTreeMap::from([("disk".to_string(), "ssd".to_string())]);
        let selected = Placement {
            node_selector: Some(&selector),
            ..Default::default()
        };
        assert!(selected.allows(&db_node));
        assert!(!selected.allows(&plain));
        assert!(!selected.allows(&tainted));
        let toleration = [Toleration {
            key: Some("dedicated".into()),
            operator: Some("Equal".into()),
            value: Some("db".into()),
            effect: Some("NoSchedule".into()),
            ..Default::default()
        }];
        let tolerant = Placement {
            node_selector: Some(&selector),
            tolerations: &toleration,
            affinity: None,
        };
        assert!(tolerant.allows(&tainted));
        let affinity: Affinity = serde_json::from_value(serde_json::json!({"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["ssd"]}]}
        ]}}}))
        .unwrap();
        let elsewhere = Placement {
            affinity: Some(&affinity),
            ..Default::default()
        };
        assert!(elsewhere.allows(&plain));
        assert!(!elsewhere.allows(&db_node));
        assert!(Placement::default().allows(&plain));
    }
}
