//! What the reconcile tests of several kinds read of the Jobs a plan creates.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodSpec;

/// A Job's pod spec.
pub fn pod_spec(job: &Job) -> &PodSpec {
    job.spec.as_ref().unwrap().template.spec.as_ref().unwrap()
}

/// The names of a pod's init containers, in order.
pub fn init_names(pod: &PodSpec) -> Vec<&str> {
    pod.init_containers
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect()
}
