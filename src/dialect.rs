//! What differs between MySQL and MariaDB, in one place: the server's options for
//! binary logs and GTIDs, the dump flags that record where a dump stands in the
//! binary log, and how that position reads back from the dump.
//!
//! MariaDB 10.11 runs for real in the tests (real node); MySQL's side (5.7, 8.0, 8.4)
//! is covered by the unit tests below only.

pub mod gtid;
pub mod physical;
pub mod replication;

/// The server family an image runs, and for MySQL its version where the tag says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    MariaDB,
    /// `(major, minor, patch)`, or None for a tag without a version (`latest`, a digest):
    /// taken as the newest.
    MySQL(Option<(u32, u32, u32)>),
}

/// The binary log's base name in the datadir (`mysql-bin.000001`, `mysql-bin.index`),
/// the same on both servers, so that the archiver finds it.
pub const BINLOG_BASENAME: &str = "mysql-bin";

/// How long a server keeps a binary log the archiver has not purged: a week. The
/// archiver purges each log once it is confirmed in the bucket, so this only bounds
/// the disk a server uses while its archiving fails for that long (it says so with a
/// Warning long before). It is never shorter than an archiving interval (at most an
/// hour by validation).
pub const BINLOG_EXPIRE_SECONDS: u64 = 7 * 24 * 3600;

impl Dialect {
    /// The dialect of an image reference: MariaDB when its repository's name says so
    /// (`mariadb:10.11`, `bitnami/mariadb`, `registry/x/mariadb@sha256:…`), else MySQL.
    pub fn of_image(image: &str) -> Self {
        let without_digest = image.split('@').next().unwrap_or(image);
        let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
        let (repository, tag) = match last.split_once(':') {
            Some((repository, tag)) => (repository, Some(tag)),
            None => (last, None),
        };
        if repository.contains("mariadb") {
            return Dialect::MariaDB;
        }
        Dialect::MySQL(tag.and_then(version_of_tag))
    }

    fn mysql_at_least(self, wanted: (u32, u32, u32)) -> bool {
        match self {
            Dialect::MySQL(Some(version)) => version >= wanted,
            Dialect::MySQL(None) => true,
            Dialect::MariaDB => false,
        }
    }

    /// The server's options (after the image's `mysqld` command): row-based binary
    /// logs with GTIDs, a server id, and their expiry.
    pub fn server_args(self, server_id: u32) -> Vec<String> {
        let mut args = vec![
            "mysqld".to_string(),
            format!("--log-bin={BINLOG_BASENAME}"),
            format!("--log-bin-index={BINLOG_BASENAME}.index"),
            "--binlog-format=ROW".to_string(),
            format!("--server-id={server_id}"),
        ];
        match self {
            // GTIDs are always on in MariaDB; `binlog_expire_logs_seconds` since 10.6.
            Dialect::MariaDB => args.push(format!(
                "--binlog-expire-logs-seconds={BINLOG_EXPIRE_SECONDS}"
            )),
            Dialect::MySQL(_) => {
                args.push("--gtid-mode=ON".to_string());
                args.push("--enforce-gtid-consistency=ON".to_string());
                if self.mysql_at_least((8, 0, 1)) {
                    args.push(format!(
                        "--binlog-expire-logs-seconds={BINLOG_EXPIRE_SECONDS}"
                    ));
                } else {
                    args.push(format!(
                        "--expire-logs-days={}",
                        BINLOG_EXPIRE_SECONDS.div_ceil(24 * 3600)
                    ));
                }
            }
        }
        args
    }

    /// The client flag that connects over TLS without verifying the certificate: for
    /// the server's own probe on 127.0.0.1 (MariaDB's client uses TLS only when asked,
    /// MySQL's prefers it but is made to insist).
    pub fn local_tls_flag(self) -> &'static str {
        match self {
            Dialect::MariaDB => "--ssl",
            Dialect::MySQL(_) => "--ssl-mode=REQUIRED",
        }
    }

    /// The client flags that verify the server's certificate against `ca` and the name
    /// connected to.
    pub fn verify_tls_flags(self, ca: &str) -> [String; 2] {
        let verify = match self {
            Dialect::MariaDB => "--ssl-verify-server-cert",
            Dialect::MySQL(_) => "--ssl-mode=VERIFY_IDENTITY",
        };
        [format!("--ssl-ca={ca}"), verify.to_string()]
    }

    /// mysqldump's flags that write, as comments, where the dump stands in the binary
    /// log (file and position, and the GTID set), without making a restore set any
    /// replication or GTID state: a dump must load into any server, primary or new.
    pub fn dump_position_flags(self) -> Vec<&'static str> {
        match self {
            // `--gtid` adds `-- SET GLOBAL gtid_slave_pos='…'` at the end of the dump.
            Dialect::MariaDB => vec!["--master-data=2", "--gtid"],
            Dialect::MySQL(_) => {
                let position = if self.mysql_at_least((8, 0, 26)) {
                    "--source-data=2"
                } else {
                    "--master-data=2"
                };
                // A restore into a server with GTIDs of its own fails on a
                // `SET @@GLOBAL.GTID_PURGED`; COMMENTED (8.0.24) keeps it as a comment.
                let gtids = if self.mysql_at_least((8, 0, 24)) {
                    "--set-gtid-purged=COMMENTED"
                } else {
                    "--set-gtid-purged=OFF"
                };
                vec![position, gtids]
            }
        }
    }
}

impl Dialect {
    /// mysqlbinlog's flags for replaying archived logs into a server: MySQL skips a
    /// transaction whose GTID it has executed, which after a restore into the same
    /// server is every one of them, so its GTIDs are left out (`--skip-gtids`);
    /// MariaDB applies them as they come.
    pub fn replay_flags(self) -> Vec<&'static str> {
        match self {
            Dialect::MariaDB => vec![],
            Dialect::MySQL(_) => vec!["--skip-gtids"],
        }
    }
}

/// The MariaDB version (major, minor) a MariaDB image's tag says (`mariadb:10.11`,
/// `mariadb:10.11.6-jammy`); None for another image or a tag without one (`latest`).
pub fn mariadb_version_of_image(image: &str) -> Option<(u32, u32)> {
    if Dialect::of_image(image) != Dialect::MariaDB {
        return None;
    }
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let tag = last.split_once(':')?.1;
    let numeric = tag.split(['-', '_']).next()?;
    let mut parts = numeric.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// `8.4`, `8.0.29-oracle`, `5.7` → the version; `latest`, `lts`, `oracle` → None.
fn version_of_tag(tag: &str) -> Option<(u32, u32, u32)> {
    let numeric = tag.split(['-', '_']).next()?;
    let mut parts = numeric.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// One transaction's global id, in either dialect's form: MariaDB's
/// `DOMAIN-SERVER-SEQUENCE` (`0-1-57`) or MySQL's `SOURCE_UUID:NUMBER`
/// (`3e11fa47-71ca-11e1-9e33-c80aa9429562:57`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gtid {
    MariaDB {
        domain: u32,
        server: u32,
        sequence: u64,
    },
    MySQL {
        source: [u8; 16],
        number: u64,
    },
}

impl std::str::FromStr for Gtid {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let wrong = || {
            format!(
                "{text:?} is not a GTID: MariaDB's look like 0-1-57, MySQL's like 3e11fa47-71ca-11e1-9e33-c80aa9429562:57"
            )
        };
        if let Some((uuid, number)) = text.split_once(':') {
            let hex: String = uuid.chars().filter(|c| *c != '-').collect();
            if hex.len() != 32 {
                return Err(wrong());
            }
            let mut source = [0u8; 16];
            for (i, byte) in source.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| wrong())?;
            }
            let number = number.parse().map_err(|_| wrong())?;
            return Ok(Gtid::MySQL { source, number });
        }
        let mut parts = text.split('-');
        let (Some(domain), Some(server), Some(sequence), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(wrong());
        };
        Ok(Gtid::MariaDB {
            domain: domain.parse().map_err(|_| wrong())?,
            server: server.parse().map_err(|_| wrong())?,
            sequence: sequence.parse().map_err(|_| wrong())?,
        })
    }
}

impl std::fmt::Display for Gtid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gtid::MariaDB {
                domain,
                server,
                sequence,
            } => write!(f, "{domain}-{server}-{sequence}"),
            Gtid::MySQL { source, number } => {
                let hex: String = source.iter().map(|b| format!("{b:02x}")).collect();
                write!(
                    f,
                    "{}-{}-{}-{}-{}:{number}",
                    &hex[..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..]
                )
            }
        }
    }
}

impl Gtid {
    /// Whether a dump whose GTID set is `set` holds this transaction: MariaDB's set is
    /// the last sequence of each domain (`0-1-42,1-2-7`); MySQL's, intervals of each
    /// source (`uuid:1-42:50-60,uuid2:1-5`).
    pub fn in_set(&self, set: &str) -> bool {
        match self {
            Gtid::MariaDB {
                domain, sequence, ..
            } => set
                .split(',')
                .filter_map(|entry| entry.trim().parse::<Gtid>().ok())
                .any(|entry| {
                    matches!(entry, Gtid::MariaDB { domain: d, sequence: s, .. } if d == *domain && s >= *sequence)
                }),
            Gtid::MySQL { number, .. } => {
                let uuid = self.to_string();
                let uuid = uuid.split(':').next().unwrap_or_default();
                set.split(',').any(|entry| {
                    let mut parts = entry.trim().split(':');
                    parts.next().is_some_and(|u| u.eq_ignore_ascii_case(uuid))
                        && parts.any(|interval| {
                            let (low, high) = interval.split_once('-').unwrap_or((interval, interval));
                            matches!((low.parse::<u64>(), high.parse::<u64>()), (Ok(l), Ok(h)) if l <= *number && *number <= h)
                        })
                })
            }
        }
    }
}

/// Where a dump stands in its server's binary log: the first transaction after the
/// dump is at `file`:`position`, and `gtid_set` is every transaction the dump holds.
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct BinlogPosition {
    pub file: String,
    pub position: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtid_set: Option<String>,
}

/// The position a dump's comments record, in either dialect's words, from the
/// dump's first and last lines (MariaDB writes the GTID state at the end).
pub fn dump_position(head: &str, tail: &str) -> Option<BinlogPosition> {
    let (file, position) = head.lines().find_map(change_source_line)?;
    let gtid_set = tail
        .lines()
        .chain(head.lines())
        .find_map(gtid_line)
        .filter(|g| !g.is_empty());
    Some(BinlogPosition {
        file,
        position,
        gtid_set,
    })
}

/// `-- CHANGE MASTER TO MASTER_LOG_FILE='f', MASTER_LOG_POS=n;` or MySQL 8's
/// `-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='f', SOURCE_LOG_POS=n;`.
fn change_source_line(line: &str) -> Option<(String, u64)> {
    let line = line.strip_prefix("-- CHANGE ")?;
    let file = ["MASTER_LOG_FILE='", "SOURCE_LOG_FILE='"]
        .iter()
        .find_map(|k| line.split_once(k))
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(file, _)| file.to_string())?;
    let position = ["MASTER_LOG_POS=", "SOURCE_LOG_POS="]
        .iter()
        .find_map(|k| line.split_once(k))
        .map(|(_, rest)| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|digits| digits.parse().ok())?;
    Some((file, position))
}

/// MariaDB's `-- SET GLOBAL gtid_slave_pos='0-1-42';` or MySQL's commented
/// `/* SET @@GLOBAL.GTID_PURGED='+uuid:1-42'*/;` (a set may be spread over lines,
/// which `dump_position`'s caller joins: only the first line is read here).
fn gtid_line(line: &str) -> Option<String> {
    let rest = ["gtid_slave_pos='", "GTID_PURGED='"]
        .iter()
        .find_map(|k| line.split_once(k))?
        .1;
    let (set, _) = rest.split_once('\'')?;
    Some(set.trim_start_matches('+').replace([' ', '\n'], ""))
}

#[cfg(test)]
mod tests {

    #[test]
    fn tls_flags_in_each_dialect() {
        assert_eq!(
            Dialect::MariaDB.verify_tls_flags("/ca.crt"),
            ["--ssl-ca=/ca.crt", "--ssl-verify-server-cert"]
        );
        assert_eq!(
            Dialect::of_image("mysql:8.4").verify_tls_flags("/ca.crt"),
            ["--ssl-ca=/ca.crt", "--ssl-mode=VERIFY_IDENTITY"]
        );
        assert_eq!(Dialect::MariaDB.local_tls_flag(), "--ssl");
        assert_eq!(
            Dialect::of_image("mysql:8.4").local_tls_flag(),
            "--ssl-mode=REQUIRED"
        );
    }

    use super::*;

    #[test]
    fn the_image_names_the_dialect() {
        assert_eq!(Dialect::of_image("mariadb:10.11"), Dialect::MariaDB);
        assert_eq!(
            Dialect::of_image("kubectl-mysql.local/mariadb:10.11"),
            Dialect::MariaDB
        );
        assert_eq!(
            Dialect::of_image("docker.io/bitnami/mariadb@sha256:abc"),
            Dialect::MariaDB
        );
        assert_eq!(
            Dialect::of_image("mysql:8.4"),
            Dialect::MySQL(Some((8, 4, 0)))
        );
        assert_eq!(
            Dialect::of_image("arm64v8/mysql:8.0.29-oracle"),
            Dialect::MySQL(Some((8, 0, 29)))
        );
        assert_eq!(
            Dialect::of_image("mysql:5.7"),
            Dialect::MySQL(Some((5, 7, 0)))
        );
        assert_eq!(Dialect::of_image("mysql"), Dialect::MySQL(None));
        assert_eq!(Dialect::of_image("mysql:lts"), Dialect::MySQL(None));
        // A registry's port is not a tag.
        assert_eq!(
            Dialect::of_image("registry.local:5000/mysql"),
            Dialect::MySQL(None)
        );
    }

    #[test]
    fn every_server_logs_rows_with_gtids_and_an_id() {
        let mariadb = Dialect::MariaDB.server_args(1);
        assert_eq!(mariadb[0], "mysqld");
        for wanted in [
            "--log-bin=mysql-bin",
            "--binlog-format=ROW",
            "--server-id=1",
            "--binlog-expire-logs-seconds=604800",
        ] {
            assert!(
                mariadb.iter().any(|a| a == wanted),
                "{wanted} in {mariadb:?}"
            );
        }
        assert!(!mariadb.iter().any(|a| a.starts_with("--gtid-mode")));
        let mysql = Dialect::of_image("mysql:8.4").server_args(3);
        for wanted in [
            "--gtid-mode=ON",
            "--enforce-gtid-consistency=ON",
            "--server-id=3",
            "--binlog-expire-logs-seconds=604800",
        ] {
            assert!(mysql.iter().any(|a| a == wanted), "{wanted} in {mysql:?}");
        }
        // 5.7 has no binlog_expire_logs_seconds.
        let old = Dialect::of_image("mysql:5.7").server_args(1);
        assert!(old.iter().any(|a| a == "--expire-logs-days=7"), "{old:?}");
        assert!(!old.iter().any(|a| a.starts_with("--binlog-expire")));
    }

    #[test]
    fn dumps_record_their_position_in_each_dialects_words() {
        assert_eq!(
            Dialect::MariaDB.dump_position_flags(),
            ["--master-data=2", "--gtid"]
        );
        assert_eq!(
            Dialect::of_image("mysql:8.4").dump_position_flags(),
            ["--source-data=2", "--set-gtid-purged=COMMENTED"]
        );
        assert_eq!(
            Dialect::of_image("mysql:8.0.20").dump_position_flags(),
            ["--master-data=2", "--set-gtid-purged=OFF"]
        );
    }

    #[test]
    fn a_replay_into_the_same_mysql_server_leaves_gtids_out() {
        assert!(Dialect::MariaDB.replay_flags().is_empty());
        assert_eq!(
            Dialect::of_image("mysql:8.4").replay_flags(),
            ["--skip-gtids"]
        );
    }

    #[test]
    fn gtids_parse_and_are_found_in_a_dumps_set() {
        let mariadb: Gtid = "0-1-57".parse().unwrap();
        assert_eq!(mariadb.to_string(), "0-1-57");
        assert!(mariadb.in_set("0-1-57"));
        assert!(mariadb.in_set("1-2-3,0-1-60"));
        assert!(!mariadb.in_set("0-1-56"));
        assert!(!mariadb.in_set("1-1-99"));
        let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let mysql: Gtid = format!("{uuid}:57").parse().unwrap();
        assert_eq!(mysql.to_string(), format!("{uuid}:57"));
        assert!(mysql.in_set(&format!("{uuid}:1-60")));
        assert!(mysql.in_set(&format!(
            "aaaaaaaa-71ca-11e1-9e33-c80aa9429562:1-5,{}:1-10:50-57",
            uuid.to_uppercase()
        )));
        assert!(!mysql.in_set(&format!("{uuid}:1-56:58-60")));
        for wrong in ["", "0-1", "a-b-c", "xyz:5", "0-1-2-3"] {
            assert!(wrong.parse::<Gtid>().is_err(), "{wrong}");
        }
    }

    /// The lines MariaDB 10.11's mariadb-dump wrote (`--master-data=2 --gtid`, copied
    /// from a real dump) and MySQL 8.4's mysqldump writes (`--source-data=2
    /// --set-gtid-purged=COMMENTED`, from its manual).
    #[test]
    fn a_dumps_position_reads_back() {
        let mariadb_head = "-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;\n\n\
            -- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=994;\n";
        let mariadb_tail = "-- The deferred gtid setting for slave corresponding to the master-data CHANGE-MASTER follows\n\
            --\n\n-- SET GLOBAL gtid_slave_pos='0-1-4';\n-- Dump completed on 2026-12-04 20:10:00\n";
        assert_eq!(
            dump_position(mariadb_head, mariadb_tail),
            Some(BinlogPosition {
                file: "mysql-bin.000001".into(),
                position: 994,
                gtid_set: Some("0-1-4".into()),
            })
        );
        let mysql_head = "/* SET @@GLOBAL.GTID_PURGED='+3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5'*/;\n\
            --\n-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=157;\n";
        assert_eq!(
            dump_position(mysql_head, "-- Dump completed\n"),
            Some(BinlogPosition {
                file: "binlog.000002".into(),
                position: 157,
                gtid_set: Some("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5".into()),
            })
        );
        // A dump taken without binary logs says nothing: no position.
        assert_eq!(
            dump_position("-- MariaDB dump\n", "-- Dump completed\n"),
            None
        );
    }
}
