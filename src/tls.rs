//! The server certificates the operator issues when `spec.tls` names no Secret: a CA
//! of the instance's own (`NAME-tls-ca`) signs a server certificate (`NAME-tls`) for
//! every name a client reaches the server by. Issued again when the names change or
//! the certificate nears its end; the CA is kept.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};

use crate::names::InstanceNames;

/// How long an issued server certificate is valid.
pub const CERTIFICATE_DAYS: i64 = 365;
/// A server certificate with less left than this is issued again.
pub const RENEW_DAYS_BEFORE: i64 = 30;
/// How long the CA is valid.
const CA_DAYS: i64 = 3650;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("could not make a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
}

/// What a client may reach the server by: the Service in its every form, each
/// member's address, the replicas' Service, and the server's own pod (`localhost`,
/// 127.0.0.1: the probe and the tools in the server's container).
pub fn server_names(names: &InstanceNames, members: u32) -> Vec<String> {
    let ns = &names.namespace;
    let mut hosts = vec![names.service()];
    if members > 1 {
        hosts.extend((0..members).map(|index| names.member_service(index)));
        hosts.push(format!("{}-replicas", names.name));
    }
    let mut all = Vec::new();
    for host in hosts {
        all.push(host.clone());
        all.push(format!("{host}.{ns}"));
        all.push(format!("{host}.{ns}.svc"));
        all.push(format!("{host}.{ns}.svc.cluster.local"));
    }
    all.push("localhost".to_string());
    all.push("127.0.0.1".to_string());
    all
}

/// A short fingerprint of a name list, kept on the Secret to see when it changed.
pub fn names_fingerprint(names: &[String]) -> String {
    crate::manifests::sha256_hex(names.join(",").as_bytes())[..16].to_string()
}

/// A CA and its key, as PEM.
#[derive(Clone, Debug)]
pub struct CertificateAuthority {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A server certificate, its key and the CA that signed it, as PEM, and its end.
#[derive(Clone, Debug)]
pub struct ServerCertificate {
    pub cert_pem: String,
    pub key_pem: String,
    pub ca_pem: String,
    pub not_after: jiff::Timestamp,
}

/// The day of `t` (UTC), as a certificate's validity counts it.
fn ymd(t: jiff::Timestamp) -> (i32, u8, u8) {
    let d = t.to_zoned(jiff::tz::TimeZone::UTC).date();
    (i32::from(d.year()), d.month() as u8, d.day() as u8)
}

/// Sets a certificate's validity from `from` to `until`, by whole days.
fn valid(params: &mut CertificateParams, from: jiff::Timestamp, until: jiff::Timestamp) {
    let (y, m, d) = ymd(from);
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = ymd(until);
    params.not_after = rcgen::date_time_ymd(y, m, d);
}

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    // Positive, as DER integers for serials must be.
    bytes[0] &= 0x7f;
    SerialNumber::from_slice(&bytes)
}

/// The CA's parameters, the same each time: a leaf is signed by an issuer rebuilt
/// from them and the stored key.
fn ca_params(names: &InstanceNames, now: jiff::Timestamp) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "kubectl-mysql");
    dn.push(
        DnType::CommonName,
        format!("kubectl-mysql CA {}/{}", names.namespace, names.name),
    );
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    valid(
        &mut params,
        now - jiff::SignedDuration::from_hours(24),
        now + jiff::SignedDuration::from_hours(24 * CA_DAYS),
    );
    params
}

/// A new CA for the instance.
pub fn new_ca(
    names: &InstanceNames,
    now: jiff::Timestamp,
) -> Result<CertificateAuthority, TlsError> {
    let key = KeyPair::generate()?;
    let mut params = ca_params(names, now);
    params.serial_number = Some(random_serial());
    let cert = params.self_signed(&key)?;
    Ok(CertificateAuthority {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A server certificate for `hosts`, signed by `ca`.
pub fn issue_server(
    ca: &CertificateAuthority,
    names: &InstanceNames,
    hosts: &[String],
    now: jiff::Timestamp,
) -> Result<ServerCertificate, TlsError> {
    let ca_key = KeyPair::from_pem(&ca.key_pem)?;
    let issuer = Issuer::new(ca_params(names, now), ca_key);
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(hosts.to_vec())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, names.service());
    params.distinguished_name = dn;
    params.serial_number = Some(random_serial());
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let not_after = now + jiff::SignedDuration::from_hours(24 * CERTIFICATE_DAYS);
    valid(
        &mut params,
        now - jiff::SignedDuration::from_hours(24),
        not_after,
    );
    let cert = params.signed_by(&key, &issuer)?;
    Ok(ServerCertificate {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        ca_pem: ca.cert_pem.clone(),
        not_after,
    })
}

/// Whether an issued certificate must be issued again: for other names, or near its
/// end (its Secret's annotations say both).
pub fn needs_reissue(
    issued_for: Option<&str>,
    not_after: Option<&str>,
    wanted: &str,
    now: jiff::Timestamp,
) -> bool {
    let ends = not_after.and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let near_end = ends
        .is_none_or(|end| end - jiff::SignedDuration::from_hours(24 * RENEW_DAYS_BEFORE) <= now);
    issued_for != Some(wanted) || near_end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_cover_the_service_members_and_the_pod_itself() {
        let names = InstanceNames::new("db", "ns");
        let one = server_names(&names, 1);
        for name in [
            "db",
            "db.ns.svc",
            "db.ns.svc.cluster.local",
            "localhost",
            "127.0.0.1",
        ] {
            assert!(one.contains(&name.to_string()), "{name}");
        }
        let three = server_names(&names, 3);
        assert!(
            three.contains(&"db-member-2.ns.svc".to_string()),
            "{three:?}"
        );
        assert!(
            three.contains(&"db-member-0.ns.svc".to_string()),
            "{three:?}"
        );
        assert!(three.contains(&"db-replicas".to_string()));
        assert_ne!(names_fingerprint(&one), names_fingerprint(&three));
    }

    #[test]
    fn a_ca_signs_server_certificates_and_is_kept() {
        let names = InstanceNames::new("db", "ns");
        let now: jiff::Timestamp = "2026-12-05T08:00:00Z".parse().unwrap();
        let ca = new_ca(&names, now).unwrap();
        assert!(ca.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(ca.key_pem.contains("PRIVATE KEY"));
        let hosts = server_names(&names, 1);
        let first = issue_server(&ca, &names, &hosts, now).unwrap();
        let second = issue_server(&ca, &names, &hosts, now).unwrap();
        assert_ne!(
            first.cert_pem, second.cert_pem,
            "a new key and serial each time"
        );
        assert_eq!(first.ca_pem, ca.cert_pem);
        assert_eq!(
            first.not_after,
            now + jiff::SignedDuration::from_hours(24 * 365)
        );
    }

    #[test]
    fn reissue_for_new_names_or_near_the_end() {
        let now: jiff::Timestamp = "2026-12-05T08:00:00Z".parse().unwrap();
        let later = "2027-06-01T00:00:00Z";
        assert!(!needs_reissue(Some("a"), Some(later), "a", now));
        assert!(needs_reissue(Some("a"), Some(later), "b", now));
        assert!(needs_reissue(
            Some("a"),
            Some("2026-12-20T00:00:00Z"),
            "a",
            now
        ));
        assert!(needs_reissue(None, None, "a", now));
    }
}
