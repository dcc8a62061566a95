//! What a restore to a time downloads: the archived binary logs from the dump's
//! position to the target, each checked against its checksum, all of them before the
//! server is touched. A missing or damaged segment fails the restore here.

use std::path::{Path, PathBuf};

use super::events::{find_gtid, read_file};
use super::window::{ChainError, chain_to, run_from};
use super::{ReplayTarget, Segment, parse_segment_key, timeline_prefix};
use crate::dialect::Gtid;
use crate::s3::{Store, StoreError};

/// Where a replay starts (the dump's position) and where it stops.
pub struct ReplayFrom {
    /// `PREFIX/NAMESPACE/INSTANCE/` (`s3::instance_prefix`).
    pub instance_prefix: String,
    pub timeline: String,
    /// The file the dump's position is in.
    pub file: String,
    pub target: ReplayTarget,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no restore to {target}: {source}")]
    Chain {
        target: ReplayTarget,
        source: ChainError,
    },
    #[error(
        "the transaction {gtid} is not in the archived binary logs from {from} on; nothing was changed"
    )]
    GtidNotArchived { gtid: Gtid, from: String },
    #[error("{file} from the bucket is not a whole binary log: {damage}")]
    Damaged {
        file: String,
        damage: super::events::Damage,
    },
    #[error("writing {0}: {1}")]
    File(PathBuf, std::io::Error),
}

/// The name of the file in `dir` that lists the downloaded logs in replay order.
pub const ORDER_FILE: &str = "order";
/// For a replay before a GTID: the file in `dir` holding the offset in the last log
/// where the replay stops (`mysqlbinlog --stop-position`).
pub const STOP_POSITION_FILE: &str = "stop-position";

/// Downloads (and verifies) every segment the replay needs into `dir`, then writes
/// `dir/order`: their paths, one a line, in order. Returns the file names.
pub async fn fetch_chain(
    store: &Store,
    from: &ReplayFrom,
    dir: &Path,
) -> Result<Vec<String>, FetchError> {
    let keys = store
        .list_keys(&timeline_prefix(&from.instance_prefix, &from.timeline))
        .await?;
    let segments: Vec<_> = keys
        .iter()
        .filter_map(|k| parse_segment_key(&from.instance_prefix, k))
        .collect();
    let chain_error = |source| FetchError::Chain {
        target: from.target,
        source,
    };
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| FetchError::File(dir.to_path_buf(), e))?;
    let mut fetched = Vec::new();
    let mut order = String::new();
    match from.target {
        ReplayTarget::Time(target) => {
            let chain =
                chain_to(&segments, &from.timeline, &from.file, target).map_err(chain_error)?;
            for segment in &chain {
                order.push_str(&format!(
                    "{}\n",
                    download(store, segment, dir).await?.display()
                ));
                fetched.push(segment.file.clone());
            }
        }
        ReplayTarget::BeforeGtid(gtid) => {
            let run = run_from(&segments, &from.timeline, &from.file).map_err(chain_error)?;
            let mut stop = None;
            for segment in run {
                let path = download(store, segment, dir).await?;
                order.push_str(&format!("{}\n", path.display()));
                fetched.push(segment.file.clone());
                if let Some(offset) = gtid_offset(&path, gtid, &segment.file).await? {
                    stop = Some(offset);
                    break;
                }
            }
            let offset = stop.ok_or_else(|| FetchError::GtidNotArchived {
                gtid,
                from: from.file.clone(),
            })?;
            let path = dir.join(STOP_POSITION_FILE);
            tokio::fs::write(&path, offset.to_string())
                .await
                .map_err(|e| FetchError::File(path, e))?;
        }
    }
    let order_path = dir.join(ORDER_FILE);
    tokio::fs::write(&order_path, order)
        .await
        .map_err(|e| FetchError::File(order_path, e))?;
    Ok(fetched)
}

/// Downloads one segment into `dir` under its file name, checked against its checksum.
async fn download(store: &Store, segment: &Segment, dir: &Path) -> Result<PathBuf, FetchError> {
    let path = dir.join(&segment.file);
    store.download_dump(&segment.key, &path).await?;
    Ok(path)
}

/// Where `gtid` starts in the downloaded log at `path`, if there.
async fn gtid_offset(path: &Path, gtid: Gtid, file: &str) -> Result<Option<u64>, FetchError> {
    read_file(path, move |log, length| find_gtid(log, length, &gtid))
        .await
        .map_err(|e| FetchError::File(path.to_path_buf(), e))?
        .map_err(|damage| FetchError::Damaged {
            file: file.to_string(),
            damage,
        })
}
