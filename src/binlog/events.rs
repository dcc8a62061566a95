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

/// Reads every event header of a closed binary log file of `length` bytes, skipping
/// the events' bodies: a file of any size costs a few reads, not its size in memory.
pub fn summarize(mut file: impl Read + Seek, length: u64) -> Result<Summary, Damage> {
    let mut magic = [0u8; 4];
    if length < MAGIC.len() as u64 || file.read_exact(&mut magic).is_err() || &magic != MAGIC {
        return Err(Damage::NoMagic);
    }
    let mut at = MAGIC.len() as u64;
    let (mut first_time, mut last_time, mut events, mut last_type) = (None, 0i64, 0u64, None);
    let mut header = [0u8; HEADER_BYTES];
    while at < length {
        if at + HEADER_BYTES as u64 > length || file.read_exact(&mut header).is_err() {
            return Err(Damage::Truncated(at));
        }
        let time = i64::from(u32_at(&header, 0));
        let kind = header[4];
        let event_length = u64::from(u32_at(&header, 9));
        let next = u64::from(u32_at(&header, 13));
        if event_length < HEADER_BYTES as u64 || at + event_length > length {
            return Err(Damage::Truncated(at));
        }
        if events == 0 && kind != FORMAT_DESCRIPTION_EVENT {
            return Err(Damage::NoFormatDescription);
        }
        // next_position is the offset of the event after this one (0 only in
        // relay logs' artificial events, which a server's own log has none of).
        let expected = at + event_length;
        if next != 0 && next != expected {
            return Err(Damage::Unchained {
                at,
                says: next,
                next: expected,
            });
        }
        first_time.get_or_insert(time);
        last_time = last_time.max(time);
        events += 1;
        last_type = Some(kind);
        let body = (event_length - HEADER_BYTES as u64) as i64;
        if file.seek(SeekFrom::Current(body)).is_err() {
            return Err(Damage::Truncated(at));
        }
        at = expected;
    }
    if !matches!(last_type, Some(ROTATE_EVENT | STOP_EVENT)) {
        return Err(Damage::NotClosed);
    }
    Ok(Summary {
        first_time: first_time.unwrap_or_default(),
        last_time,
        events,
    })
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
