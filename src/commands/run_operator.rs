//! `kubectl mysql run-operator`: the controllers in the foreground, like `kopf run`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Secret, Service};
use kube::runtime::controller::{Config, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::api::{MySQL, MySQLBackup};
use crate::kubeclient::ClusterArgs;
use crate::names::{INSTANCE_LABEL, MANAGED_BY};
use crate::operator::{Caches, Context, Metrics, backup, instance};
use crate::render::Renderer;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Watch only this namespace (repeatable). Default: all namespaces.
    #[arg(short = 'n', long = "namespace", value_name = "NAMESPACE")]
    pub namespaces: Vec<String>,
    /// Watch all namespaces (the default when no -n is given).
    #[arg(short = 'A', long, conflicts_with = "namespaces")]
    pub all_namespaces: bool,
    /// How many objects may be reconciled at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: u16,
    /// Serve /healthz on this address (e.g. 127.0.0.1:8081).
    #[arg(long, value_name = "ADDR")]
    pub health_addr: Option<SocketAddr>,
    /// Serve Prometheus metrics on /metrics at this address.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}

pub async fn run(
    cluster: &ClusterArgs,
    renderer: Renderer,
    args: Args,
) -> anyhow::Result<ExitCode> {
    let metrics = Arc::new(Metrics::default());
    let connection = cluster.connect_counted(metrics.requests.clone()).await?;
    let client = connection.client;
    // Fail fast with a clear line rather than a watch that errors forever.
    super::require_crds(&client).await?;

    for addr in [args.health_addr, args.metrics_addr].into_iter().flatten() {
        tokio::spawn(serve_http(addr, metrics.clone()));
    }
    let scopes: Vec<Option<String>> = if args.namespaces.is_empty() {
        vec![None]
    } else {
        args.namespaces.iter().cloned().map(Some).collect()
    };
    tracing::info!(
        cluster = connection.cluster_url,
        namespaces = if args.namespaces.is_empty() {
            "all".to_string()
        } else {
            args.namespaces.join(",")
        },
        "operator started; Ctrl-C stops it after the reconciles in flight"
    );
    let renderer = Arc::new(renderer);
    let runs = scopes.into_iter().map(|scope| {
        let (caches, triggers) = watch_children(&client, scope.as_deref());
        let ctx = Arc::new(Context::new(
            client.clone(),
            renderer.clone(),
            metrics.clone(),
            caches,
        ));
        let client = client.clone();
        async move {
            tokio::join!(
                run_instances(
                    client.clone(),
                    scope.as_deref(),
                    ctx.clone(),
                    triggers,
                    args.concurrency
                ),
                run_backups(client, scope.as_deref(), ctx, args.concurrency)
            )
        }
    });
    futures::future::join_all(runs).await;
    tracing::info!("operator stopped");
    Ok(ExitCode::SUCCESS)
}

type Trigger<K> = futures::stream::BoxStream<'static, Result<K, watcher::Error>>;

/// The watch streams that both fill the caches and wake the instances.
struct Triggers {
    pvs: Trigger<PersistentVolume>,
    pvcs: Trigger<PersistentVolumeClaim>,
    services: Trigger<Service>,
    deployments: Trigger<Deployment>,
    backups: Trigger<MySQLBackup>,
}

/// One watch per kind, reflected into a cache; managedFields are dropped first, since
/// nothing reads them and they are half of an object's size.
fn reflected<K>(api: Api<K>, config: watcher::Config) -> (Store<K>, Trigger<K>)
where
    K: kube::Resource
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        .modify(|o: &mut K| o.meta_mut().managed_fields = None)
        .reflect(writer)
        .touched_objects()
        .boxed();
    (reader, stream)
}

fn watch_children(client: &Client, scope: Option<&str>) -> (Caches, Triggers) {
    let managed =
        watcher::Config::default().labels(&format!("app.kubernetes.io/managed-by={MANAGED_BY}"));
    let (pvs, pv_trigger) = reflected(
        Api::<PersistentVolume>::all(client.clone()),
        managed.clone(),
    );
    let (pvcs, pvc_trigger) = reflected(
        scoped::<PersistentVolumeClaim>(client.clone(), scope),
        managed.clone(),
    );
    let (services, service_trigger) =
        reflected(scoped::<Service>(client.clone(), scope), managed.clone());
    let (deployments, deployment_trigger) =
        reflected(scoped::<Deployment>(client.clone(), scope), managed);
    let (backups, backup_trigger) = reflected(
        scoped::<MySQLBackup>(client.clone(), scope),
        watcher::Config::default(),
    );
    (
        Caches {
            pvs,
            pvcs,
            services,
            deployments,
            backups,
        },
        Triggers {
            pvs: pv_trigger,
            pvcs: pvc_trigger,
            services: service_trigger,
            deployments: deployment_trigger,
            backups: backup_trigger,
        },
    )
}

fn scoped<K>(client: Client, scope: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match scope {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    }
}

fn by_instance_label<K: kube::Resource>(
    obj: &K,
    namespace: Option<String>,
) -> Option<ObjectRef<MySQL>> {
    let name = obj.labels().get(INSTANCE_LABEL)?;
    Some(ObjectRef::new(name).within(&namespace?))
}

async fn run_instances(
    client: Client,
    scope: Option<&str>,
    ctx: Arc<Context>,
    triggers: Triggers,
    concurrency: u16,
) {
    let controller = Controller::new(
        scoped::<MySQL>(client.clone(), scope),
        watcher::Config::default(),
    );
    let instances = controller.store();
    controller
        .owns_stream(triggers.deployments)
        .owns_stream(triggers.services)
        // Claims and volumes by label: the backup claim and the PVs are not owned by
        // the instance, and a change to them (a deleted claim, a Released volume) must
        // still wake it.
        .watches_stream(triggers.pvcs, |pvc| {
            by_instance_label(&pvc, pvc.namespace())
        })
        .watches_stream(triggers.pvs, |pv| {
            let namespace = pv.spec.as_ref()?.claim_ref.as_ref()?.namespace.clone();
            by_instance_label(&pv, namespace)
        })
        .watches_stream(triggers.backups, |b| {
            Some(ObjectRef::new(&b.spec.instance).within(&b.namespace()?))
        })
        .watches(
            scoped::<Job>(client.clone(), scope),
            watcher::Config::default().labels(INSTANCE_LABEL),
            |job| by_instance_label(&job, job.namespace()),
        )
        // Our credentials Secrets, and the users' Secrets that instances reference.
        .watches(
            scoped::<Secret>(client, scope),
            watcher::Config::default(),
            move |secret| {
                let namespace = secret.namespace().unwrap_or_default();
                let referencing: Vec<_> = instances
                    .state()
                    .iter()
                    .filter(|i| i.namespace().as_deref() == Some(namespace.as_str()))
                    .filter(|i| {
                        i.spec
                            .password_secret_ref
                            .as_ref()
                            .is_some_and(|r| r.name == secret.name_any())
                            || secret
                                .owner_references()
                                .iter()
                                .any(|o| Some(&o.uid) == i.metadata.uid.as_ref())
                    })
                    .map(|i| ObjectRef::from_obj(i.as_ref()))
                    .collect();
                referencing
            },
        )
        .with_config(Config::default().concurrency(concurrency))
        .shutdown_on_signal()
        .run(instance::reconcile, instance::error_policy, ctx)
        .for_each(|result| async move {
            if let Ok((object, _)) = result {
                tracing::debug!(instance = %object, "reconciled");
            }
        })
        .await;
}

async fn run_backups(client: Client, scope: Option<&str>, ctx: Arc<Context>, concurrency: u16) {
    Controller::new(
        scoped::<MySQLBackup>(client.clone(), scope),
        watcher::Config::default(),
    )
    .owns(
        scoped::<Job>(client, scope),
        watcher::Config::default().labels(INSTANCE_LABEL),
    )
    .with_config(Config::default().concurrency(concurrency))
    .shutdown_on_signal()
    .run(backup::reconcile, backup::error_policy, ctx)
    .for_each(|result| async move {
        if let Ok((object, _)) = result {
            tracing::debug!(backup = %object, "reconciled");
        }
    })
    .await;
}

/// A minimal HTTP endpoint: /healthz answers ok, /metrics the reconcile counters.
async fn serve_http(addr: SocketAddr, metrics: Arc<Metrics>) {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("cannot listen on {addr}: {e}");
            return;
        }
    };
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let n = stream.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let (code, body) = match path {
                "/healthz" | "/readyz" => ("200 OK", "ok\n".to_string()),
                "/metrics" => ("200 OK", metrics_text(&metrics)),
                _ => ("404 Not Found", "not found\n".to_string()),
            };
            let response = format!(
                "HTTP/1.1 {code}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}

fn metrics_text(metrics: &Metrics) -> String {
    let mut out = format!(
        "# TYPE kubectl_mysql_reconciles_total counter\nkubectl_mysql_reconciles_total {}\n# TYPE kubectl_mysql_reconcile_errors_total counter\nkubectl_mysql_reconcile_errors_total {}\n# TYPE kubectl_mysql_api_requests_total counter\n",
        metrics.reconciles.load(Ordering::Relaxed),
        metrics.failures.load(Ordering::Relaxed)
    );
    for (verb, count) in metrics.requests.snapshot() {
        out.push_str(&format!(
            "kubectl_mysql_api_requests_total{{verb=\"{verb}\"}} {count}\n"
        ));
    }
    out
}
