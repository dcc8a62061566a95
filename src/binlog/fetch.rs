//! What a restore to a time downloads: the archived binary logs from the dump's
//! position to the target, each checked against its checksum, all of them before the
//! server is touched. A missing or damaged segment fails the restore here.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::window::{ChainError, chain_to};
use super::{parse_segment_key, timeline_prefix};
use crate::s3::{Store, StoreError};

/// Where a replay starts (the dump's position) and the time it goes to.
pub struct ReplayFrom {
    /// `PREFIX/NAMESPACE/INSTANCE/` (`s3::instance_prefix`).
    pub instance_prefix: String,
    pub timeline: String,
    /// The file the dump's position is in.
    pub file: String,
    pub target: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no restore to {target}: {source}")]
    Chain {
        target: Timestamp,
        source: ChainError,
    },
    #[error("writing {0}: {1}")]
    File(PathBuf, std::io::Error),
}

/// The name of the file in `dir` that lists the downloaded logs in replay order.
pub const ORDER_FILE: &str = "order";

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
    let chain = chain_to(&segments, &from.timeline, &from.file, from.target).map_err(|source| {
        FetchError::Chain {
            target: from.target,
            source,
        }
    })?;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| FetchError::File(dir.to_path_buf(), e))?;
    let mut order = String::new();
    for segment in &chain {
        let path = dir.join(&segment.file);
        store.download_dump(&segment.key, &path).await?;
        order.push_str(&format!("{}\n", path.display()));
    }
    let order_path = dir.join(ORDER_FILE);
    tokio::fs::write(&order_path, order)
        .await
        .map_err(|e| FetchError::File(order_path, e))?;
    Ok(chain.into_iter().map(|s| s.file).collect())
}
