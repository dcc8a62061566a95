//! `spec.tls`: which Secret the server presents, and when the operator issues it.

use kube::Resource;

use crate::api::MySQL;
use crate::api::keys::{CERTIFICATE_NAMES_ANNOTATION, CERTIFICATE_NOT_AFTER_ANNOTATION};
use crate::reconcile::Step;
use crate::reconcile::instance::snapshot::Snapshot;
use crate::render::{InstanceContext, TlsContext};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::{Plan, Write};

/// A server certificate to issue: for `hosts`, with `fingerprint` (of the hosts) kept
/// on its Secret, owned by the instance.
#[derive(Clone, Debug)]
pub struct CertificateRequest {
    pub hosts: Vec<String>,
    pub fingerprint: String,
    pub owner: Option<OwnerReference>,
}

/// What the server's pod gets of TLS (into `template`), after issuing its certificate
/// when the operator owns it and it is missing, for other names or near its end.
/// Waits while the Secret the server would mount does not exist.
pub(super) fn certificate(
    instance: &MySQL,
    snapshot: &Snapshot,
    now: jiff::Timestamp,
    plan: &mut Plan,
    template: &mut InstanceContext,
) -> Step<()> {
    match certificate_context(instance, snapshot, now, plan) {
        Step::Done(tls) => {
            template.tls = tls;
            Step::Done(())
        }
        Step::Wait(why) => Step::Wait(why),
    }
}

fn certificate_context(
    instance: &MySQL,
    snapshot: &Snapshot,
    now: jiff::Timestamp,
    plan: &mut Plan,
) -> Step<Option<TlsContext>> {
    let names = &snapshot.names;
    let Some(secret) = instance.spec.tls_secret(names) else {
        return Step::Done(None);
    };
    let live = snapshot.tls_certificate.as_ref();
    if instance.spec.issues_certificate() {
        let hosts = crate::tls::server_names(names, instance.spec.members());
        let wanted = crate::tls::names_fingerprint(&hosts);
        let annotation = |key: &str| live.and_then(|c| c.annotations.get(key).map(String::as_str));
        if crate::tls::needs_reissue(
            annotation(CERTIFICATE_NAMES_ANNOTATION),
            annotation(CERTIFICATE_NOT_AFTER_ANNOTATION),
            &wanted,
            now,
        ) {
            plan.writes
                .push(Write::IssueCertificate(CertificateRequest {
                    hosts,
                    fingerprint: wanted,
                    owner: instance.controller_owner_ref(&()),
                }));
        }
    }
    match live {
        Some(certificate) => Step::Done(Some(TlsContext {
            secret,
            certificate_version: certificate.version.clone(),
        })),
        None if instance.spec.issues_certificate() => Step::wait(format!(
            "issuing the server's certificate (Secret {secret})"
        )),
        None => Step::wait(format!(
            "the Secret {secret} of spec.tls.secretName (tls.crt, tls.key, ca.crt) is missing"
        )),
    }
}
