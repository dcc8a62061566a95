//! The binlog archiver: a sidecar of the server (the operator's own image) that, every
//! interval, closes the server's current binary log (`FLUSH BINARY LOGS`), uploads
//! each closed file the bucket does not have yet, and only then lets the server purge
//! it. A sidecar rather than a Job per interval: it reads the files where the server
//! writes them (the datadir, mounted read-only) on whatever node the server runs,
//! holds no claim another pod would wait for, and costs no pod start each interval
//! (a 5 s interval would otherwise be mostly pod starts).
//!
//! Its guarantees: a file is uploaded complete or not at all (one multipart upload,
//! checked against the file's own event chain first); a restart lists what the
//! bucket has and goes on from there; nothing is purged from the server before the
//! bucket confirmed it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use mysql_async::prelude::Queryable;

use super::events::{self, Damage};
use super::{archived_files, segment_key, sequence_of, timeline_prefix};
use crate::s3::{Store, StoreError};

/// Where the server listens and where its root password is (the credentials Secret's
/// `password`, mounted as a file): read on every connection, so a password change
/// reaches the archiver without a restart.
pub struct ServerAddress {
    pub host: String,
    pub port: u16,
    /// When given, the connection goes through it, not host and port.
    pub socket: Option<PathBuf>,
    pub password_file: PathBuf,
}

pub struct Archiver {
    pub store: Store,
    /// `PREFIX/NAMESPACE/INSTANCE/` (`s3::instance_prefix`).
    pub instance_prefix: String,
    pub timeline: String,
    /// Where the server's binary logs are (its datadir).
    pub datadir: PathBuf,
    pub interval: Duration,
    pub server: ServerAddress,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("the server: {0}")]
    Server(#[from] mysql_async::Error),
    #[error("reading the password file {0}: {1}")]
    Password(PathBuf, std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading {0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("{file} is not a whole binary log, so it is not archived: {damage}")]
    Damaged { file: String, damage: Damage },
}

/// What one round did.
#[derive(Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Round {
    pub uploaded: Vec<String>,
    pub uploaded_bytes: u64,
    /// The oldest file the server keeps after the round's purge.
    pub purged_to: Option<String>,
    /// The newest archived event's time: what a restore can reach.
    pub archived_until: Option<Timestamp>,
}

/// A binary log the server lists: its name and whether it is still being written.
struct ServerLog {
    name: String,
    closed: bool,
}

impl Archiver {
    /// Archives every interval until the process is stopped. A failed round (the server
    /// starting, the bucket unreachable) is logged and tried again at the next interval:
    /// the files stay on the server meanwhile.
    pub async fn run(&self) -> ! {
        let mut archived: Option<BTreeSet<String>> = None;
        let mut failures = 0u32;
        loop {
            let started = tokio::time::Instant::now();
            match self.round(&mut archived).await {
                Ok(round) => {
                    failures = 0;
                    tracing::info!(
                        uploaded = ?round.uploaded,
                        bytes = round.uploaded_bytes,
                        purged_to = round.purged_to.as_deref().unwrap_or("-"),
                        until = %round.archived_until.map(|t| t.to_string()).unwrap_or_default(),
                        "archived"
                    );
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(failures, "archiving failed, trying again: {e}");
                }
            }
            tokio::time::sleep_until(started + self.interval).await;
        }
    }

    /// One round: close the current file, upload the closed ones the bucket lacks,
    /// purge what the bucket holds. `archived` is what the bucket is known to hold
    /// (listed on the first round, then kept up to date by our own uploads).
    pub async fn round(
        &self,
        archived: &mut Option<BTreeSet<String>>,
    ) -> Result<Round, ArchiveError> {
        let mut server = self.connect().await?;
        server.query_drop("FLUSH BINARY LOGS").await?;
        let logs = server_logs(&mut server).await?;
        let archived = match archived {
            Some(known) => known,
            None => {
                let keys = self
                    .store
                    .list_keys(&timeline_prefix(&self.instance_prefix, &self.timeline))
                    .await?;
                archived.insert(archived_files(
                    &self.instance_prefix,
                    &self.timeline,
                    keys.iter().map(String::as_str),
                ))
            }
        };
        let mut round = Round::default();
        let missing: Vec<&ServerLog> = logs
            .iter()
            .filter(|l| l.closed && !archived.contains(&l.name))
            .collect();
        for log in missing {
            let (key, bytes, last) = self.upload(&log.name).await?;
            tracing::debug!(key, bytes, "uploaded");
            archived.insert(log.name.clone());
            round.uploaded.push(log.name.clone());
            round.uploaded_bytes += bytes;
            round.archived_until = Some(last);
        }
        if let Some(oldest_kept) = purge_point(&logs, archived) {
            let statement = format!("PURGE BINARY LOGS TO '{}'", oldest_kept.replace('\'', ""));
            server.query_drop(statement).await?;
            round.purged_to = Some(oldest_kept);
        }
        // Names the server no longer lists are never asked about again.
        archived.retain(|name| logs.iter().any(|l| &l.name == name));
        server.disconnect().await?;
        Ok(round)
    }

    async fn connect(&self) -> Result<mysql_async::Conn, ArchiveError> {
        let password = tokio::fs::read_to_string(&self.server.password_file)
            .await
            .map_err(|e| ArchiveError::Password(self.server.password_file.clone(), e))?;
        let options = mysql_async::OptsBuilder::default()
            .ip_or_hostname(self.server.host.clone())
            .tcp_port(self.server.port)
            .socket(
                self.server
                    .socket
                    .as_ref()
                    .map(|path| path.to_string_lossy().into_owned()),
            )
            .prefer_socket(false)
            .user(Some("root"))
            .pass(Some(password));
        Ok(mysql_async::Conn::new(options).await?)
    }

    /// Uploads one closed file after checking its event chain: the key, the stored
    /// bytes and the file's last event time.
    async fn upload(&self, file: &str) -> Result<(String, u64, Timestamp), ArchiveError> {
        let path = self.datadir.join(file);
        let summary = events::read_file(&path, events::summarize)
            .await
            .map_err(|e| ArchiveError::File(path.clone(), e))?
            .map_err(|damage| ArchiveError::Damaged {
                file: file.to_string(),
                damage,
            })?;
        let time = |s: i64| Timestamp::from_second(s).unwrap_or_default();
        let (first, last) = (time(summary.first_time), time(summary.last_time));
        let key = segment_key(&self.instance_prefix, &self.timeline, file, first, last);
        let stored = self.store.upload_file(&path, &key).await?;
        Ok((key, stored.size_bytes, last))
    }
}

async fn server_logs(server: &mut mysql_async::Conn) -> Result<Vec<ServerLog>, ArchiveError> {
    // MariaDB answers two columns, MySQL 8 three: only the name is read.
    let rows: Vec<mysql_async::Row> = server.query("SHOW BINARY LOGS").await?;
    let names: Vec<String> = rows
        .into_iter()
        .filter_map(|row| row.get::<String, _>(0))
        .collect();
    let count = names.len();
    Ok(names
        .into_iter()
        .enumerate()
        .map(|(i, name)| ServerLog {
            name,
            closed: i + 1 < count,
        })
        .collect())
}

/// The file to purge the server's logs up to (`PURGE BINARY LOGS TO` keeps it and
/// everything after): the oldest file the bucket does not hold. None when that is
/// already the server's oldest (nothing to purge) or when a file the bucket lacks
/// would go.
fn purge_point(logs: &[ServerLog], archived: &BTreeSet<String>) -> Option<String> {
    let first_missing = logs.iter().position(|l| !archived.contains(&l.name))?;
    if first_missing == 0 {
        return None;
    }
    // Files are purged in order: the ones before `first_missing` are all archived.
    let keep = &logs[first_missing].name;
    sequence_of(keep)?;
    Some(keep.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(names: &[&str]) -> Vec<ServerLog> {
        let count = names.len();
        names
            .iter()
            .enumerate()
            .map(|(i, n)| ServerLog {
                name: n.to_string(),
                closed: i + 1 < count,
            })
            .collect()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn only_what_the_bucket_holds_is_purged() {
        let server = logs(&["mysql-bin.000003", "mysql-bin.000004", "mysql-bin.000005"]);
        // Both closed files archived: purge up to the active one.
        assert_eq!(
            purge_point(&server, &set(&["mysql-bin.000003", "mysql-bin.000004"])),
            Some("mysql-bin.000005".into())
        );
        // The oldest is not archived (an upload failed): nothing goes, not even the
        // archived file after it.
        assert_eq!(purge_point(&server, &set(&["mysql-bin.000004"])), None);
        // Only the oldest archived: it alone goes.
        assert_eq!(
            purge_point(&server, &set(&["mysql-bin.000003"])),
            Some("mysql-bin.000004".into())
        );
        // Nothing archived yet.
        assert_eq!(purge_point(&server, &set(&[])), None);
    }
}
