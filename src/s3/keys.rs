//! Where dumps lie in a bucket: keys a person can read (prefix, namespace, instance,
//! time). Pure: no client.

/// What a backup object holds, as its key says (for the templates: `logical`,
/// `physical`, `clone`).
#[derive(serde::Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DumpKind {
    /// mysqldump's SQL (`.sql.zst`; `.sql.gz` before zstd).
    Logical,
    /// mariadb-backup's stream of the data directory (`.xbstream.zst`).
    Physical,
    /// MySQL's clone of the data directory, packed as a tar (`.clone.tar.zst`).
    Clone,
}

impl DumpKind {
    /// The suffix of a new object of this kind.
    pub fn suffix(self) -> &'static str {
        match self {
            DumpKind::Logical => ".sql.zst",
            DumpKind::Physical => ".xbstream.zst",
            DumpKind::Clone => ".clone.tar.zst",
        }
    }

    /// Whether objects of this kind are copies of the data directory (restored with
    /// the server stopped, into the same version).
    pub fn is_physical(self) -> bool {
        self.family().is_some()
    }

    /// The server family a physical copy of this kind is made by and restores into.
    pub fn family(self) -> Option<&'static str> {
        match self {
            DumpKind::Logical => None,
            DumpKind::Physical => Some("MariaDB"),
            DumpKind::Clone => Some("MySQL"),
        }
    }

    /// The kind of a physical copy, by its key or file name; None for anything else.
    pub fn physical_of_key(key: &str) -> Option<Self> {
        Self::of_key(key).filter(|kind| kind.is_physical())
    }

    pub fn of_key(key: &str) -> Option<Self> {
        if key.ends_with(".xbstream.zst") {
            Some(DumpKind::Physical)
        } else if key.ends_with(".clone.tar.zst") {
            Some(DumpKind::Clone)
        } else if key.ends_with(".sql.zst") || key.ends_with(".sql.gz") {
            Some(DumpKind::Logical)
        } else {
            None
        }
    }
}
pub(super) const CHECKSUM_SUFFIX: &str = ".sha256";

/// The key of a dump of `instance` in `namespace` taken at `at`:
/// `PREFIX/NAMESPACE/INSTANCE/YYYYMMDD-HHMMSS.sql.zst` (`.xbstream.zst`, physical).
pub fn dump_key(
    prefix: &str,
    namespace: &str,
    instance: &str,
    at: jiff::Timestamp,
    kind: DumpKind,
) -> String {
    let stamp = at.strftime("%Y%m%d-%H%M%S");
    format!(
        "{}{stamp}{}",
        instance_prefix(prefix, namespace, instance),
        kind.suffix()
    )
}

/// Where every dump of `instance` lies: `PREFIX/NAMESPACE/INSTANCE/`.
pub fn instance_prefix(prefix: &str, namespace: &str, instance: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        format!("{namespace}/{instance}/")
    } else {
        format!("{prefix}/{namespace}/{instance}/")
    }
}

/// The namespace and instance of a dump's key `PREFIX/NAMESPACE/INSTANCE/TIME.sql.zst`
/// (or `.sql.gz`, a dump stored before zstd).
pub fn instance_of_key<'a>(prefix: &str, key: &'a str) -> Option<(&'a str, &'a str)> {
    let prefix = prefix.trim_matches('/');
    let rest = if prefix.is_empty() {
        key
    } else {
        key.strip_prefix(prefix)?.strip_prefix('/')?
    };
    let mut parts = rest.split('/');
    let (namespace, instance, file) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && super::format::strip_dump_suffix(file).is_some())
        .then_some((namespace, instance))
}

pub fn checksum_key(key: &str) -> String {
    format!("{key}{CHECKSUM_SUFFIX}")
}

/// The last part of a key: the name a dump's checksum line gives it.
pub(super) fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_as_namespace_instance_time() {
        let at: jiff::Timestamp = "2026-11-24T10:15:00Z".parse().unwrap();
        assert_eq!(
            dump_key("/backups/", "shop", "db", at, DumpKind::Logical),
            "backups/shop/db/20261124-101500.sql.zst"
        );
        assert_eq!(
            dump_key("", "shop", "db", at, DumpKind::Physical),
            "shop/db/20261124-101500.xbstream.zst"
        );
        assert_eq!(
            DumpKind::of_key("a/b/t.xbstream.zst"),
            Some(DumpKind::Physical)
        );
        assert_eq!(
            DumpKind::of_key("a/b/t.clone.tar.zst"),
            Some(DumpKind::Clone)
        );
        assert_eq!(
            dump_key("", "shop", "db", at, DumpKind::Clone),
            "shop/db/20261124-101500.clone.tar.zst"
        );
        assert!(DumpKind::Clone.is_physical() && DumpKind::Physical.is_physical());
        assert!(!DumpKind::Logical.is_physical());
        assert_eq!(DumpKind::Physical.family(), Some("MariaDB"));
        assert_eq!(DumpKind::Clone.family(), Some("MySQL"));
        assert_eq!(
            DumpKind::physical_of_key("a/t.clone.tar.zst"),
            Some(DumpKind::Clone)
        );
        assert_eq!(DumpKind::physical_of_key("a/t.sql.zst"), None);
        assert_eq!(DumpKind::of_key("a/b/t.sql.gz"), Some(DumpKind::Logical));
        assert_eq!(DumpKind::of_key("a/b/t.sql"), None);
        assert_eq!(instance_prefix("a/b", "shop", "db"), "a/b/shop/db/");
        assert_eq!(checksum_key("shop/db/x.sql.gz"), "shop/db/x.sql.gz.sha256");
        let key = dump_key("backups", "shop", "db", at, DumpKind::Logical);
        assert_eq!(instance_of_key("backups/", &key), Some(("shop", "db")));
        assert_eq!(
            instance_of_key("", "shop/db/t.sql.gz"),
            Some(("shop", "db"))
        );
        assert_eq!(instance_of_key("other", &key), None);
        assert_eq!(
            instance_of_key("backups", "backups/shop/db/t.sql.gz.sha256"),
            None
        );
        assert_eq!(
            instance_of_key("backups", "backups/a/shop/db/t.sql.gz"),
            None
        );
    }
}
