//! Physical copies of the data directory, by dialect.
//!
//! - MariaDB: mariadb-backup reads the data directory from the server's volume and
//!   streams it (xbstream); a restore unpacks it (mbstream) and prepares it
//!   (`--prepare`). It runs for real in the tests.
//! - MySQL (8.0.17 and later): the clone plugin copies the data directory from inside
//!   the server (`CLONE LOCAL DATA DIRECTORY`) into a directory of the same volume
//!   outside the data directory; our image packs it (tar) into the same compression,
//!   checksum and storage as every dump, and removes it. A clone needs no prepare: the
//!   server recovers it on its first start. Covered by the unit tests only (no MySQL
//!   server runs here).

use serde::Serialize;

use super::Dialect;
use crate::s3::DumpKind;

/// Where a MySQL server's pod mounts its whole data volume when it takes physical
/// backups. The clone plugin writes only outside the data directory
/// (`ER_PATH_IN_DATADIR`), and older servers compare a plain string prefix, so the
/// path shares none with `/var/lib/mysql`.
pub const CLONE_VOLUME_MOUNT: &str = "/kubectl-mysql/data-volume";

/// The directory of the data volume clones are made in, one per backup, each removed
/// once stored (what a killed backup left goes with the next one).
pub const CLONES_DIR: &str = "clones";

/// The file our image adds to a clone's archive: the version of the server that made
/// it, which nothing in a clone records, and which the restore checks.
pub const VERSION_FILE: &str = "kubectl-mysql-server-version";

/// The first MySQL with the clone plugin.
const CLONE_SINCE: (u32, u32, u32) = (8, 0, 17);

/// What the physical Jobs' scripts run, in one dialect: the templates read these
/// instead of naming a server's programs.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct PhysicalTools {
    /// What its copies are stored as: `physical` (mariadb-backup's stream) or
    /// `clone` (the clone plugin's directory, packed by our image).
    pub kind: DumpKind,
    /// "MariaDB" or "MySQL", for messages (the kind's family).
    pub family: &'static str,
    /// The server program, started on a restored copy (no network) to set root's
    /// password and, for a clone, to recover it.
    pub server: &'static str,
    pub admin: &'static str,
    pub client: &'static str,
    /// MySQL: how a backup loads the clone plugin and clones.
    pub clone: Option<CloneStatements>,
}

/// The statements of a MySQL physical backup, run by the server's own client.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct CloneStatements {
    /// Prints 1 when the clone plugin is loaded.
    pub plugin_active: &'static str,
    /// Loads it for good (registered in `mysql.plugin`, which is InnoDB: a restored
    /// copy has it too). `INSTALL PLUGIN` has no `IF NOT EXISTS`, hence the query.
    pub install_plugin: &'static str,
}

impl CloneStatements {
    /// `CLONE LOCAL DATA DIRECTORY` into `dir` (the server's path, which must not
    /// exist yet), quoted as a string literal.
    pub fn clone_into(dir: &str) -> String {
        let quoted = dir.replace('\\', "\\\\").replace('\'', "''");
        format!("CLONE LOCAL DATA DIRECTORY = '{quoted}'")
    }
}

impl Dialect {
    /// How this dialect's physical copies are made and restored.
    pub fn physical(self) -> PhysicalTools {
        match self {
            Dialect::MariaDB => PhysicalTools {
                kind: DumpKind::Physical,
                family: DumpKind::Physical.family().unwrap_or_default(),
                server: "mariadbd",
                admin: "mariadb-admin",
                client: "mariadb",
                clone: None,
            },
            Dialect::MySQL(_) => PhysicalTools {
                kind: DumpKind::Clone,
                family: DumpKind::Clone.family().unwrap_or_default(),
                server: "mysqld",
                admin: "mysqladmin",
                client: "mysql",
                clone: Some(CloneStatements {
                    plugin_active: "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone' AND PLUGIN_STATUS = 'ACTIVE'",
                    install_plugin: "INSTALL PLUGIN clone SONAME 'mysql_clone.so'",
                }),
            },
        }
    }

    /// Why this dialect's server cannot make physical copies, if it cannot.
    pub fn physical_copy_problem(self, image: &str) -> Option<String> {
        match self {
            Dialect::MySQL(Some(version)) if version < CLONE_SINCE => Some(format!(
                "needs MariaDB or MySQL 8.0.17 or later (the clone plugin); {image} backs up logically"
            )),
            _ => None,
        }
    }

    /// The (major, minor) version an image's tag says, in either family; None for a
    /// tag without one (`latest`). A physical copy restores into the same one.
    pub fn version_of_image(image: &str) -> Option<(u32, u32)> {
        match Dialect::of_image(image) {
            Dialect::MariaDB => super::mariadb_version_of_image(image),
            Dialect::MySQL(version) => version.map(|(major, minor, _)| (major, minor)),
        }
    }
}

/// A clone's directory as the server sees it (under `CLONE_VOLUME_MOUNT`) and as a
/// Job that mounts the data volume at `/volume` sees it.
pub fn clone_dirs(backup: &str) -> (String, String) {
    (
        format!("{CLONE_VOLUME_MOUNT}/{CLONES_DIR}/{backup}"),
        format!("/volume/{CLONES_DIR}/{backup}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_family_names_its_own_programs_and_format() {
        let mariadb = Dialect::MariaDB.physical();
        assert_eq!(
            (mariadb.kind, mariadb.family),
            (DumpKind::Physical, "MariaDB")
        );
        assert_eq!(
            (mariadb.server, mariadb.admin, mariadb.client),
            ("mariadbd", "mariadb-admin", "mariadb")
        );
        assert!(mariadb.clone.is_none());
        let mysql = Dialect::of_image("mysql:8.4").physical();
        assert_eq!((mysql.kind, mysql.family), (DumpKind::Clone, "MySQL"));
        assert_eq!(
            (mysql.server, mysql.admin, mysql.client),
            ("mysqld", "mysqladmin", "mysql")
        );
        let clone = mysql.clone.unwrap();
        assert!(clone.install_plugin.contains("mysql_clone.so"));
        assert!(clone.plugin_active.contains("PLUGIN_NAME = 'clone'"));
    }

    #[test]
    fn the_clone_lands_outside_the_data_directory_even_by_string_prefix() {
        let (server, job) = clone_dirs("db-20261206-101500");
        assert_eq!(
            server,
            "/kubectl-mysql/data-volume/clones/db-20261206-101500"
        );
        assert_eq!(job, "/volume/clones/db-20261206-101500");
        assert!(!server.starts_with("/var/lib/mysql"));
        assert_eq!(
            CloneStatements::clone_into(&server),
            "CLONE LOCAL DATA DIRECTORY = '/kubectl-mysql/data-volume/clones/db-20261206-101500'"
        );
        assert_eq!(
            CloneStatements::clone_into("/x/it's"),
            "CLONE LOCAL DATA DIRECTORY = '/x/it''s'"
        );
    }

    #[test]
    fn mysql_before_the_clone_plugin_is_refused_and_mariadb_never() {
        for image in ["mysql:5.7", "mysql:8.0.16"] {
            let problem = Dialect::of_image(image)
                .physical_copy_problem(image)
                .unwrap();
            assert!(problem.contains("8.0.17"), "{problem}");
        }
        for image in ["mysql:8.0.17", "mysql:8.4", "mysql:latest", "mariadb:10.11"] {
            assert_eq!(
                Dialect::of_image(image).physical_copy_problem(image),
                None,
                "{image}"
            );
        }
    }

    #[test]
    fn an_image_says_its_version_in_either_family() {
        assert_eq!(Dialect::version_of_image("mysql:8.4.3"), Some((8, 4)));
        assert_eq!(Dialect::version_of_image("mysql:8.4"), Some((8, 4)));
        assert_eq!(
            Dialect::version_of_image("mariadb:10.11.6-jammy"),
            Some((10, 11))
        );
        assert_eq!(Dialect::version_of_image("mysql:latest"), None);
    }
}
