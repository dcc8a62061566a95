//! Proves the local control plane is a real one (issue: control plane).

mod common;

use std::time::Duration;

use common::{cluster, eventually, namespace};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::core::DynamicObject;
use kube::discovery::ApiResource;
use serde_json::json;

fn from<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn deployment_pod_runs_on_the_kwok_node() {
    let client = cluster().await;
    let ns = namespace(&client, "smoke-deploy").await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    deployments.create(&PostParams::default(), &from(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
          "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    }))).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let pod = eventually(Duration::from_secs(60), "a Running pod", || async {
        pods.list(&ListParams::default().labels("app=web"))
            .await
            .ok()?
            .items
            .into_iter()
            .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
    })
    .await;
    assert_eq!(pod.spec.unwrap().node_name.as_deref(), Some("kwok-node-0"));
    eventually(
        Duration::from_secs(60),
        "the Deployment to be available",
        || async {
            let d = deployments.get("web").await.ok()?;
            (d.status?.available_replicas? >= 1).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn job_completes() {
    let client = cluster().await;
    let ns = namespace(&client, "smoke-job").await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns);
    jobs.create(&PostParams::default(), &from(json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}}
    }))).await.unwrap();
    eventually(Duration::from_secs(60), "the Job to complete", || async {
        let job = jobs.get("once").await.ok()?;
        job.status?
            .conditions?
            .iter()
            .any(|c| c.type_ == "Complete" && c.status == "True")
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn owned_object_is_garbage_collected() {
    let client = cluster().await;
    let ns = namespace(&client, "smoke-gc").await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let owner = maps
        .create(
            &PostParams::default(),
            &from(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}})),
        )
        .await
        .unwrap();
    let uid = owner.metadata.uid.unwrap();
    maps.create(&PostParams::default(), &from(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "owned", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}}))).await.unwrap();
    maps.delete("owner", &DeleteParams::default())
        .await
        .unwrap();
    eventually(
        Duration::from_secs(60),
        "the owned ConfigMap to be collected",
        || async { matches!(maps.get_opt("owned").await, Ok(None)).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn static_host_path_pv_binds_to_the_claim_that_names_it() {
    let client = cluster().await;
    let ns = namespace(&client, "smoke-pv").await;
    let pv_name = format!("{ns}-pv");
    let pvs: Api<PersistentVolume> = Api::all(client.clone());
    pvs.create(&PostParams::default(), &from(json!({
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name},
        "spec": {"storageClassName": "", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "hostPath": {"path": format!("/tmp/{ns}")}}
    }))).await.unwrap();
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
    pvcs.create(&PostParams::default(), &from(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "claim"},
        "spec": {"storageClassName": "", "volumeName": pv_name, "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    }))).await.unwrap();
    eventually(Duration::from_secs(60), "the claim to bind", || async {
        (pvcs.get("claim").await.ok()?.status?.phase.as_deref() == Some("Bound")).then_some(())
    })
    .await;
    let _ = pvs.delete(&pv_name, &DeleteParams::default()).await;
}

#[tokio::test]
async fn crd_with_status_subresource_and_cel_rule_rejects_a_bad_object() {
    let client = cluster().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd: CustomResourceDefinition = from(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.smoke.test"},
        "spec": {"group": "smoke.test", "scope": "Namespaced",
          "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
          "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
              "spec": {"type": "object", "properties": {"size": {"type": "integer"}},
                       "x-kubernetes-validations": [{"rule": "self.size > 0", "message": "size must be positive"}]},
              "status": {"type": "object", "properties": {"seen": {"type": "boolean"}}}}}}}]}
    }));
    let _ = crds.create(&PostParams::default(), &crd).await;
    eventually(
        Duration::from_secs(30),
        "the CRD to be established",
        || async {
            let crd = crds.get("widgets.smoke.test").await.ok()?;
            crd.status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
                .then_some(())
        },
    )
    .await;
    let ns = namespace(&client, "smoke-crd").await;
    let resource = ApiResource {
        group: "smoke.test".into(),
        version: "v1".into(),
        api_version: "smoke.test/v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
    };
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
    let bad: DynamicObject = from(
        json!({"apiVersion": "smoke.test/v1", "kind": "Widget", "metadata": {"name": "bad"}, "spec": {"size": 0}}),
    );
    let error = eventually(
        Duration::from_secs(30),
        "the CEL rule to be enforced",
        || async {
            match widgets.create(&PostParams::default(), &bad).await {
                Err(kube::Error::Api(e)) if e.code == 422 => Some(e.message),
                _ => None,
            }
        },
    )
    .await;
    assert!(error.contains("size must be positive"), "{error}");
    let good: DynamicObject = from(
        json!({"apiVersion": "smoke.test/v1", "kind": "Widget", "metadata": {"name": "good"}, "spec": {"size": 1}, "status": {"seen": true}}),
    );
    let created = widgets.create(&PostParams::default(), &good).await.unwrap();
    // With the status subresource, status is ignored on create.
    assert!(
        created.data.get("status").is_none(),
        "status written through the main resource"
    );
}
