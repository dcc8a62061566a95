//! Volumes (pinned to a node), claims (adopted, never shrunk or fought over), the
//! Service and the Deployment.

use k8s_openapi::api::core::v1::{
    Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PersistentVolume,
    PersistentVolumeClaim, VolumeNodeAffinity,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::{Resource, ResourceExt};

use crate::api::{MySQL, Placement};
use crate::manifests::{self, Children};
use crate::names::InstanceNames;
use crate::reconcile::instance::snapshot::LiveVolumes;
use crate::reconcile::instance::status::{Observed, StorageState};
use crate::reconcile::{Result, Step};

use super::{Inputs, Kind, Plan, Write, is_owned_by, set_owner};

impl Inputs<'_> {
    /// Volumes, claims, Service and Deployment; a wait when something must go first
    /// (an earlier incarnation's volume being deleted, an object of our name that
    /// another owner left).
    pub(super) fn children(&self, plan: &mut Plan, observed: &mut Observed) -> Result<Step<()>> {
        let mut children = manifests::children(self.renderer, self.template_ctx)?;
        let live = &self.snapshot.volumes;
        let nodes: &[Node] = if creates_host_path_volume(self.instance, live) {
            self.snapshot.nodes.needed("the nodes")?
        } else {
            &[]
        };
        let node = volume_node(live, nodes, self.names(), &self.instance.spec.placement());
        observed.node = node.clone();
        if let Some(wait) = prepare_volumes(&mut children, live, node.as_deref(), plan) {
            return Ok(Step::wait(wait));
        }
        let claims = prepare_claims(&mut children, live, &self.owner.uid);
        if let Some(wait) = claims.wait {
            return Ok(Step::wait(wait));
        }
        if let Some(storage) = claims.storage {
            observed.storage = storage;
        }
        // The backup claim is deliberately not owned: it outlives the instance.
        set_owner(&mut children.data_pvc, self.owner);
        set_owner(&mut children.service, self.owner);
        set_owner(&mut children.deployment, self.owner);
        let live_pv = |pv: &PersistentVolume| live_unless_released(pv, live);
        if let Some(pv) = children.data_pv {
            let current = live_pv(&pv);
            plan.writes.push(Write::ApplyVolume(pv, current));
        }
        if let Some(pv) = children.backup_pv {
            let current = live_pv(&pv);
            plan.writes.push(Write::ApplyVolume(pv, current));
        }
        keep_provisioned_backup_volume(&mut children.backup_pvc, live, self.names(), plan);
        plan.writes
            .push(Write::ApplyClaim(children.data_pvc, live.data_pvc.clone()));
        plan.writes.push(Write::ApplyClaim(
            children.backup_pvc,
            live.backup_pvc.clone(),
        ));
        let uid = self.owner.uid.as_str();
        let service = self.snapshot.service.as_ref();
        let deployment = self.snapshot.deployment.as_ref();
        let replacing = [
            replace_unowned(service, Kind::Service, uid, plan),
            replace_unowned(deployment, Kind::Deployment, uid, plan),
        ];
        if let Some(wait) = replacing.into_iter().flatten().next() {
            return Ok(Step::wait(wait));
        }
        plan.writes
            .push(Write::ApplyService(children.service, service.cloned()));
        let policy = self.instance.spec.update_policy();
        let mut server = children.deployment;
        match super::rollout::announce(&mut server, deployment, policy, &mut plan.events) {
            Some(waits) => observed.pending_restart.push(waits),
            None => plan
                .writes
                .push(Write::ApplyDeployment(server, deployment.cloned())),
        }
        Ok(Step::Done(()))
    }
}

/// A hostPath volume of this instance does not exist yet: creating it means choosing
/// the node it lives on.
pub fn creates_host_path_volume(instance: &MySQL, live: &LiveVolumes) -> bool {
    let host_path_backup = live.backup_storage_class(instance).is_none();
    (host_path_backup && live.backup_pv.is_none())
        || (instance.spec.storage_class().is_none() && live.data_pv.is_none())
}

/// A backup volume a class provisioned must outlive the namespace like a hostPath one:
/// it is made Retain and labelled with the instance once bound (the class's own policy
/// is usually Delete). While there is no claim, one an earlier incarnation's claim left
/// is freed and the new claim bound to it, so that its dumps are found.
fn keep_provisioned_backup_volume(
    claim: &mut PersistentVolumeClaim,
    live: &LiveVolumes,
    names: &InstanceNames,
    plan: &mut Plan,
) {
    let Some(pv) = &live.provisioned_backup_pv else {
        return;
    };
    if pv.metadata.deletion_timestamp.is_some() {
        return;
    }
    let name = pv.name_any();
    if live.backup_pvc.is_none() {
        if let Some(spec) = claim.spec.as_mut() {
            spec.volume_name = Some(name.clone());
            spec.storage_class_name = pv.spec.as_ref().and_then(|s| s.storage_class_name.clone());
        }
        if let Some(released) = ReleasedVolume::of(pv, None) {
            plan.writes.push(Write::FreeReleasedVolume(released));
        }
    }
    let retained = pv
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        == Some("Retain");
    let labelled = crate::api::keys::operator_labels(&names.name)
        .iter()
        .all(|(k, v)| pv.labels().get(k) == Some(v));
    if !retained || !labelled {
        plan.writes.push(Write::KeepVolume(name));
    }
}

/// The label a hostPath volume is pinned by: the kubelet sets it on every node.
pub const NODE_LABEL: &str = "kubernetes.io/hostname";

/// The node an existing volume is pinned to.
pub fn pinned_node(pv: &PersistentVolume) -> Option<String> {
    let terms = &pv
        .spec
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_expressions.iter().flatten())
        .find(|e| e.key == NODE_LABEL && e.operator == "In")
        .and_then(|e| e.values.as_ref()?.first().cloned())
}

/// Where this instance's hostPath volumes live: where an existing one already is, or,
/// for a first volume, one of the nodes that can run the server's pod, chosen by the
/// instance's name so that instances spread and a retry chooses the same one.
fn volume_node(
    live: &LiveVolumes,
    nodes: &[Node],
    names: &InstanceNames,
    placement: &Placement,
) -> Option<String> {
    let existing = [&live.backup_pv, &live.data_pv]
        .into_iter()
        .flatten()
        .find_map(pinned_node);
    if existing.is_some() {
        return existing;
    }
    let mut eligible: Vec<String> = nodes
        .iter()
        .filter(|n| can_run_pods(n, placement))
        .filter_map(|n| n.labels().get(NODE_LABEL).cloned())
        .collect();
    eligible.sort();
    if eligible.is_empty() {
        return None;
    }
    let key = manifests::sha256_hex(format!("{}/{}", names.namespace, names.name).as_bytes());
    let index = u64::from_str_radix(&key[..12], 16).unwrap_or(0) as usize % eligible.len();
    Some(eligible.swap_remove(index))
}

/// Whether a new volume may go to this node: it is ready, not cordoned, and the
/// server's pod may run there (its selector, affinity and tolerations).
pub(super) fn can_run_pods(node: &Node, placement: &Placement) -> bool {
    let spec = node.spec.as_ref();
    let cordoned = spec.and_then(|s| s.unschedulable).unwrap_or(false);
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    ready && !cordoned && placement.allows(node)
}

/// Pins a new hostPath volume to `node`: the scheduler then puts every pod that mounts
/// it (the server, the backup and restore Jobs) on that node, whose disk holds it.
pub(super) fn pin(pv: &mut PersistentVolume, node: &str) {
    let requirement = NodeSelectorRequirement {
        key: NODE_LABEL.into(),
        operator: "In".into(),
        values: Some(vec![node.to_string()]),
    };
    if let Some(spec) = pv.spec.as_mut() {
        spec.node_affinity = Some(VolumeNodeAffinity {
            required: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: Some(vec![requirement]),
                    match_fields: None,
                }],
            }),
        });
    }
}

/// The live PV to compare an apply with; none for a Released one, which is freed and
/// so changes.
fn live_unless_released(pv: &PersistentVolume, live: &LiveVolumes) -> Option<PersistentVolume> {
    let name = pv.name_any();
    [&live.data_pv, &live.backup_pv]
        .into_iter()
        .flatten()
        .find(|l| l.name_any() == name && !is_released(l))
        .cloned()
}

fn is_released(pv: &PersistentVolume) -> bool {
    pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released")
}

/// A volume of ours still bound, by uid, to a claim that is gone. Freeing it (the uid
/// forgotten, the claim's name kept) lets the claim of that name bind it again.
///
/// Only the dead claim's uid may be forgotten: the volume controller binds the new
/// claim by writing its uid a moment before it writes the phase, so a volume can read
/// Released while it already holds the live claim's uid. Forgetting that uid would
/// leave the new claim bound to a volume that no longer names it, which the volume
/// controller marks Lost for good.
#[derive(Clone, Debug, PartialEq)]
pub struct ReleasedVolume {
    /// The PersistentVolume.
    pub name: String,
    /// The claim it names, `(namespace, name)`.
    pub claim: (String, String),
    /// The uid of the claim it was bound to, which must still be there when it is freed.
    pub dead_claim_uid: String,
}

impl ReleasedVolume {
    /// The volume if it is Released and bound to a claim other than `live_claim`: not
    /// one whose uid was already forgotten, not one bound to the claim that exists.
    pub fn of(pv: &PersistentVolume, live_claim: Option<&PersistentVolumeClaim>) -> Option<Self> {
        if !is_released(pv) {
            return None;
        }
        let claim_ref = pv.spec.as_ref()?.claim_ref.as_ref()?;
        let uid = claim_ref.uid.clone()?;
        if live_claim.and_then(|c| c.metadata.uid.as_deref()) == Some(uid.as_str()) {
            return None;
        }
        Some(Self {
            name: pv.name_any(),
            claim: (claim_ref.namespace.clone()?, claim_ref.name.clone()?),
            dead_claim_uid: uid,
        })
    }
}

/// Makes the rendered volumes safe to apply against what exists: waits while an
/// earlier incarnation's PV is still being deleted, frees a Released PV of ours, keeps
/// the immutable hostPath, capacity and node of an existing PV, and pins a new one.
fn prepare_volumes(
    children: &mut Children,
    live: &LiveVolumes,
    node: Option<&str>,
    plan: &mut Plan,
) -> Option<String> {
    let mut volumes = Vec::new();
    if let Some(pv) = children.backup_pv.as_mut() {
        volumes.push((pv, live.backup_pv.as_ref(), live.backup_pvc.as_ref()));
    }
    if let Some(pv) = children.data_pv.as_mut() {
        volumes.push((pv, live.data_pv.as_ref(), live.data_pvc.as_ref()));
    }
    for (pv, existing, claim) in volumes {
        let Some(existing) = existing else {
            if let Some(node) = node {
                pin(pv, node);
            }
            continue;
        };
        let name = pv.name_any();
        if existing.metadata.deletion_timestamp.is_some() {
            return Some(format!(
                "PersistentVolume {name} of an earlier instance is still being deleted"
            ));
        }
        if let Some(released) = ReleasedVolume::of(existing, claim) {
            plan.writes.push(Write::FreeReleasedVolume(released));
        }
        if let (Some(spec), Some(existing_spec)) = (pv.spec.as_mut(), existing.spec.as_ref()) {
            spec.host_path = existing_spec.host_path.clone();
            spec.capacity = existing_spec.capacity.clone();
            spec.node_affinity = existing_spec.node_affinity.clone();
        }
    }
    None
}

/// What the claims allow: a wait, or a size that cannot be had.
#[derive(Default)]
struct ClaimsOutcome {
    wait: Option<String>,
    storage: Option<StorageState>,
}

/// Adopts a claim bound elsewhere (the course's NAME-pvc on NAME-pv) instead of
/// fighting over immutable fields, and keeps a size the claim cannot grow to.
fn prepare_claims(children: &mut Children, live: &LiveVolumes, uid: &str) -> ClaimsOutcome {
    let mut outcome = ClaimsOutcome::default();
    for (is_data, existing) in [(true, &live.data_pvc), (false, &live.backup_pvc)] {
        let Some(existing) = existing else { continue };
        if existing.metadata.deletion_timestamp.is_some() {
            outcome.wait = Some(format!(
                "PersistentVolumeClaim {} of an earlier instance is still being deleted",
                existing.name_any()
            ));
            return outcome;
        }
        // An earlier incarnation's data claim, which the garbage collector removes
        // once it sees its owner gone (up to half a minute after the CRD is new to
        // it): adopting it would start this incarnation on the earlier one's volume.
        if is_data && owned_by_another_instance(existing, uid) {
            outcome.wait = Some(format!(
                "PersistentVolumeClaim {} of an earlier instance is waiting for the garbage collector",
                existing.name_any()
            ));
            return outcome;
        }
        let claim = if is_data {
            &mut children.data_pvc
        } else {
            &mut children.backup_pvc
        };
        let bound_elsewhere = volume_name(existing) != volume_name(claim);
        adopt(claim, existing);
        if is_data && bound_elsewhere {
            // Bound by someone else (the course's operator): our own PV would stay
            // unused.
            children.data_pv = None;
        }
        if let Some(storage) = keep_unresizable_size(claim, existing, is_data) {
            outcome.storage = Some(storage);
        }
    }
    outcome
}

fn owned_by_another_instance(claim: &PersistentVolumeClaim, uid: &str) -> bool {
    claim
        .owner_references()
        .iter()
        .any(|o| o.kind == "MySQL" && o.uid != uid)
}

fn volume_name(claim: &PersistentVolumeClaim) -> Option<&str> {
    claim.spec.as_ref()?.volume_name.as_deref()
}

fn adopt(claim: &mut PersistentVolumeClaim, existing: &PersistentVolumeClaim) {
    let (Some(spec), Some(current)) = (claim.spec.as_mut(), existing.spec.as_ref()) else {
        return;
    };
    if current.volume_name.is_some() {
        spec.volume_name = current.volume_name.clone();
    }
    spec.storage_class_name = current.storage_class_name.clone();
}

/// A hostPath claim (and the backup claim) cannot grow: it keeps its size, and the
/// data claim says why.
fn keep_unresizable_size(
    claim: &mut PersistentVolumeClaim,
    existing: &PersistentVolumeClaim,
    is_data: bool,
) -> Option<StorageState> {
    let current = requested_storage(existing)?;
    let wanted = requested_storage(claim)?;
    if current == wanted {
        return None;
    }
    let dynamic = claim
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .is_some_and(|s| !s.is_empty());
    if dynamic && is_data {
        return None;
    }
    set_requested_storage(claim, &current);
    is_data.then(|| StorageState::CannotResize {
        current,
        message: "a statically provisioned (hostPath) volume cannot be expanded; use storageClassName with an expandable class".into(),
    })
}

fn requested_storage(claim: &PersistentVolumeClaim) -> Option<String> {
    let requests = claim.spec.as_ref()?.resources.as_ref()?.requests.as_ref()?;
    requests.get("storage").map(|q| q.0.clone())
}

fn set_requested_storage(claim: &mut PersistentVolumeClaim, size: &str) {
    if let Some(requests) = claim
        .spec
        .as_mut()
        .and_then(|s| s.resources.as_mut())
        .and_then(|r| r.requests.as_mut())
    {
        requests.insert("storage".into(), Quantity(size.into()));
    }
}

/// A Service or Deployment of our name that this instance does not own (left by the
/// course's operator, or by an earlier incarnation) may carry fields that server-side
/// apply would never remove, such as `--ignore-db-dir`. It holds no data, so it is
/// deleted and created afresh rather than merged. Some(wait) while that happens.
fn replace_unowned<K: Resource>(
    live: Option<&K>,
    kind: Kind,
    uid: &str,
    plan: &mut Plan,
) -> Option<String> {
    let live = live?;
    if is_owned_by(live, uid) {
        return None;
    }
    let name = live.meta().name.clone().unwrap_or_default();
    if live.meta().deletion_timestamp.is_none() {
        plan.writes.push(Write::Delete(kind, name.clone()));
    }
    Some(format!("{name} left by an earlier owner is being replaced"))
}
