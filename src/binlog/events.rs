//! Reading a closed binary log file's event headers (format v4, the only one MySQL 5+
//! and MariaDB write): when it starts and ends, and whether its events chain without
//! a hole, so that a damaged or cut file is never archived as whole.

use std::io::{Read, Seek, SeekFrom};

/// The magic number every binary log file starts with.
const MAGIC: &[u8; 4] = b"\xfebin";
/// timestamp(4) type(1) server_id(4) event_length(4) next_position(4) flags(2).
const HEADER_BYTES: usize = 19;
const FORMAT_DESCRIPTION_EVENT: u8 = 15;
const ROTATE_EVENT: u8 = 4;
const STOP_EVENT: u8 = 3;

/// What a binary log file holds, read from its event headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// When the server opened the file (its format description event), Unix seconds.
    pub first_time: i64,
    /// The newest event's time, Unix seconds: for a file the server closed by a
    /// rotation (a `FLUSH BINARY LOGS`), the moment of that rotation, so every
    /// transaction committed up to then is in this file or an earlier one.
    pub last_time: i64,
    pub events: u64,
}

/// Why a file cannot be archived as a whole binary log.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Damage {
    #[error("not a binary log (no magic number)")]
    NoMagic,
    #[error("the first event is not a format description")]
    NoFormatDescription,
    #[error("the event at byte {0} runs past the end of the file")]
    Truncated(u64),
    #[error("the event at byte {at} says the next one is at {says}, not {next}")]
    Unchained { at: u64, says: u64, next: u64 },
    #[error("the file ends without a rotate or stop event: the server did not close it")]
    NotClosed,
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Runs `read` (`summarize`, `find_gtid`) on the log file at `path`, buffered, off the
/// async runtime's threads: a log can be a gigabyte.
pub async fn read_file<T: Send + 'static>(
    path: &std::path::Path,
    read: impl FnOnce(std::io::BufReader<std::fs::File>, u64) -> T + Send + 'static,
) -> std::io::Result<T> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let handle = std::fs::File::open(&path)?;
        let length = handle.metadata()?.len();
        Ok(read(std::io::BufReader::new(handle), length))
    })
    .await
    .expect("reading a log does not panic")
}

/// One event's header, and where the event starts.
struct Header {
    at: u64,
    time: i64,
    kind: u8,
    server_id: u32,
    length: u64,
}

/// Walks the event headers of a binary log file of `length` bytes, checking that they
/// chain, and hands each to `each` with the reader at the event's body; `each` reads
/// at most `Header::length - HEADER_BYTES` bytes of it and says whether to go on. The
/// bodies are skipped, not read: a file of any size costs a few reads, not its size.
fn walk<R: Read + Seek>(
    file: &mut R,
    length: u64,
    mut each: impl FnMut(&Header, &mut R) -> std::io::Result<(u64, bool)>,
) -> Result<(), Damage> {
    let mut magic = [0u8; 4];
    if length < MAGIC.len() as u64 || file.read_exact(&mut magic).is_err() || &magic != MAGIC {
        return Err(Damage::NoMagic);
    }
    let mut at = MAGIC.len() as u64;
    let mut raw = [0u8; HEADER_BYTES];
    while at < length {
        if at + HEADER_BYTES as u64 > length || file.read_exact(&mut raw).is_err() {
            return Err(Damage::Truncated(at));
        }
        let header = Header {
            at,
            time: i64::from(u32_at(&raw, 0)),
            kind: raw[4],
            server_id: u32_at(&raw, 5),
            length: u64::from(u32_at(&raw, 9)),
        };
        let next = u64::from(u32_at(&raw, 13));
        if header.length < HEADER_BYTES as u64 || at + header.length > length {
            return Err(Damage::Truncated(at));
        }
        if at == MAGIC.len() as u64 && header.kind != FORMAT_DESCRIPTION_EVENT {
            return Err(Damage::NoFormatDescription);
        }
        // next_position is the offset of the event after this one (0 only in
        // relay logs' artificial events, which a server's own log has none of).
        let expected = at + header.length;
        if next != 0 && next != expected {
            return Err(Damage::Unchained {
                at,
                says: next,
                next: expected,
            });
        }
        let (read, go_on) = each(&header, file).map_err(|_| Damage::Truncated(at))?;
        if !go_on {
            return Ok(());
        }
        let rest = (header.length - HEADER_BYTES as u64 - read) as i64;
        if file.seek(SeekFrom::Current(rest)).is_err() {
            return Err(Damage::Truncated(at));
        }
        at = expected;
    }
    Ok(())
}

/// Reads every event header of a closed binary log file of `length` bytes.
pub fn summarize(mut file: impl Read + Seek, length: u64) -> Result<Summary, Damage> {
    let (mut first_time, mut last_time, mut events, mut last_type) = (None, 0i64, 0u64, None);
    walk(&mut file, length, |header, _| {
        first_time.get_or_insert(header.time);
        last_time = last_time.max(header.time);
        events += 1;
        last_type = Some(header.kind);
        Ok((0, true))
    })?;
    if !matches!(last_type, Some(ROTATE_EVENT | STOP_EVENT)) {
        return Err(Damage::NotClosed);
    }
    Ok(Summary {
        first_time: first_time.unwrap_or_default(),
        last_time,
        events,
    })
}

/// MariaDB's GTID event: sequence(8) domain(4) after the header.
const MARIADB_GTID_EVENT: u8 = 162;
/// MySQL's GTID_LOG_EVENT: flags(1) source uuid(16) number(8) after the header.
const MYSQL_GTID_EVENT: u8 = 33;

/// Where the transaction `gtid` starts in a binary log file: the offset of its GTID
/// event, which a replay stops at (`mysqlbinlog --stop-position`) to leave it and all
/// after it out. None when the file does not hold it.
pub fn find_gtid(
    mut file: impl Read + Seek,
    length: u64,
    gtid: &crate::dialect::Gtid,
) -> Result<Option<u64>, Damage> {
    use crate::dialect::Gtid;
    let mut found = None;
    walk(&mut file, length, |header, body| {
        let here = match (header.kind, gtid) {
            (
                MARIADB_GTID_EVENT,
                Gtid::MariaDB {
                    domain,
                    server,
                    sequence,
                },
            ) => {
                let mut post = [0u8; 12];
                body.read_exact(&mut post)?;
                let seq = u64::from_le_bytes(post[..8].try_into().expect("8 bytes"));
                let dom = u32_at(&post, 8);
                (
                    dom == *domain && seq == *sequence && header.server_id == *server,
                    12,
                )
            }
            (MYSQL_GTID_EVENT, Gtid::MySQL { source, number }) => {
                let mut post = [0u8; 25];
                body.read_exact(&mut post)?;
                let gno = u64::from_le_bytes(post[17..25].try_into().expect("8 bytes"));
                (post[1..17] == source[..] && gno == *number, 25)
            }
            _ => (false, 0),
        };
        if here.0 {
            found = Some(header.at);
        }
        Ok((here.1, !here.0))
    })?;
    Ok(found)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Summary, Damage> {
        summarize(std::io::Cursor::new(bytes), bytes.len() as u64)
    }

    /// An event of `kind` at `at` in a file, `body` bytes after its header.
    fn event(kind: u8, time: u32, at: usize, body: usize) -> Vec<u8> {
        let length = (HEADER_BYTES + body) as u32;
        let mut e = Vec::new();
        e.extend(time.to_le_bytes());
        e.push(kind);
        e.extend(1u32.to_le_bytes());
        e.extend(length.to_le_bytes());
        e.extend((at as u32 + length).to_le_bytes());
        e.extend(0u16.to_le_bytes());
        e.extend(std::iter::repeat_n(0u8, body));
        e
    }

    /// A closed file: a format description at `start`, `queries` events one second
    /// apart, and a rotation at the last one's time.
    pub(crate) fn closed_file(start: u32, queries: u32) -> Vec<u8> {
        let mut file = MAGIC.to_vec();
        file.extend(event(FORMAT_DESCRIPTION_EVENT, start, file.len(), 100));
        for i in 1..=queries {
            file.extend(event(2, start + i, file.len(), 40));
        }
        file.extend(event(ROTATE_EVENT, start + queries, file.len(), 24));
        file
    }

    #[test]
    fn a_closed_file_says_when_it_starts_and_ends() {
        let file = closed_file(1_000, 5);
        assert_eq!(
            read(&file),
            Ok(Summary {
                first_time: 1_000,
                last_time: 1_005,
                events: 7
            })
        );
    }

    /// A MariaDB GTID event for `domain-server-sequence`.
    fn mariadb_gtid(at: usize, server: u32, domain: u32, sequence: u64) -> Vec<u8> {
        let mut e = event(MARIADB_GTID_EVENT, 1, at, 13);
        e[5..9].copy_from_slice(&server.to_le_bytes());
        e[HEADER_BYTES..HEADER_BYTES + 8].copy_from_slice(&sequence.to_le_bytes());
        e[HEADER_BYTES + 8..HEADER_BYTES + 12].copy_from_slice(&domain.to_le_bytes());
        e
    }

    #[test]
    fn a_transaction_is_found_by_its_gtid() {
        let mut file = MAGIC.to_vec();
        file.extend(event(FORMAT_DESCRIPTION_EVENT, 1, file.len(), 100));
        for sequence in 5..=7 {
            file.extend(mariadb_gtid(file.len(), 1, 0, sequence));
            file.extend(event(2, 1, file.len(), 40));
        }
        file.extend(event(ROTATE_EVENT, 2, file.len(), 24));
        let find = |gtid: &str| {
            find_gtid(
                std::io::Cursor::new(&file),
                file.len() as u64,
                &gtid.parse().unwrap(),
            )
        };
        // The third event of the file: after the description and one transaction.
        let second = (MAGIC.len() + HEADER_BYTES + 100 + 2 * HEADER_BYTES + 13 + 40) as u64;
        assert_eq!(find("0-1-6"), Ok(Some(second)));
        assert_eq!(find("0-1-9"), Ok(None));
        assert_eq!(find("1-1-6"), Ok(None), "another domain");
        assert_eq!(find("0-2-6"), Ok(None), "another server");
        assert_eq!(
            find("3e11fa47-71ca-11e1-9e33-c80aa9429562:6"),
            Ok(None),
            "a MySQL id in a MariaDB log"
        );
    }

    #[test]
    fn a_damaged_file_is_refused() {
        let file = closed_file(1_000, 3);
        assert_eq!(read(b"nope"), Err(Damage::NoMagic));
        assert_eq!(
            read(&file[..file.len() - 5]),
            Err(Damage::Truncated((file.len() - 24 - HEADER_BYTES) as u64))
        );
        let mut open = MAGIC.to_vec();
        open.extend(event(FORMAT_DESCRIPTION_EVENT, 1, 4, 100));
        open.extend(event(2, 2, open.len(), 40));
        assert_eq!(read(&open), Err(Damage::NotClosed));
        let mut unchained = file.clone();
        // The second event's next_position, off by one.
        let second = MAGIC.len() + HEADER_BYTES + 100;
        unchained[second + 13] ^= 1;
        assert!(matches!(read(&unchained), Err(Damage::Unchained { .. })));
        let mut no_description = MAGIC.to_vec();
        no_description.extend(event(ROTATE_EVENT, 1, 4, 24));
        assert_eq!(read(&no_description), Err(Damage::NoFormatDescription));
    }
}
