//! How a stored object is compressed. A new dump is zstd (`.sql.zst`), compressed on
//! several cores; dumps stored before that are gzip (`.sql.gz`) and stay restorable and
//! verifiable; the archived binary logs stay gzip (`.gz`). The key says the format;
//! the object's first bytes (its magic number) decide on download, so a misnamed
//! object is still read right or refused in one line.

use std::io::Write;

/// The suffixes of dump keys: logical (zstd, then gzip of before) and physical
/// (MariaDB's stream, MySQL's clone).
pub const DUMP_SUFFIXES: [&str; 4] = [".sql.zst", ".sql.gz", ".xbstream.zst", ".clone.tar.zst"];

/// zstd's level for dumps: its default, which compresses SQL text about as well as
/// gzip's best at many times its speed.
const ZSTD_LEVEL: i32 = 3;
/// Worker threads beyond this gain little: the dump itself comes from one thread.
const MAX_ZSTD_WORKERS: u32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    /// The format a key names by its suffix.
    pub fn of_key(key: &str) -> Option<Self> {
        if key.ends_with(".zst") {
            Some(Self::Zstd)
        } else if key.ends_with(".gz") {
            Some(Self::Gzip)
        } else {
            None
        }
    }

    /// The format whose magic number `bytes` start with.
    pub fn of_magic(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0x1f, 0x8b, ..] => Some(Self::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Self::Zstd),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
        }
    }
}

/// The part of a dump key before its suffix (the file's stamp), when it has one.
pub fn strip_dump_suffix(file: &str) -> Option<&str> {
    DUMP_SUFFIXES.iter().find_map(|s| file.strip_suffix(s))
}

/// Compresses chunk by chunk into memory: each `write` returns the compressed bytes
/// ready so far, which the caller hashes and uploads.
pub enum Encoder {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

impl Encoder {
    pub fn new(compression: Compression) -> std::io::Result<Self> {
        Ok(match compression {
            // Fast: binary logs are small and archived every minute.
            Compression::Gzip => Self::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::fast(),
            )),
            Compression::Zstd => {
                let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), ZSTD_LEVEL)?;
                encoder.multithread(zstd_workers())?;
                // The frame carries its content's checksum: a damaged object fails to
                // decode even where no checksum object is kept beside it.
                encoder.include_checksum(true)?;
                Self::Zstd(encoder)
            }
        })
    }

    pub fn write(&mut self, input: &[u8]) -> std::io::Result<Vec<u8>> {
        Ok(match self {
            Self::Gzip(e) => {
                e.write_all(input)?;
                std::mem::take(e.get_mut())
            }
            Self::Zstd(e) => {
                e.write_all(input)?;
                std::mem::take(e.get_mut())
            }
        })
    }

    pub fn finish(self) -> std::io::Result<Vec<u8>> {
        match self {
            Self::Gzip(e) => e.finish(),
            Self::Zstd(e) => e.finish(),
        }
    }
}

/// The cores the compression may use: those the pod's CPU limit allows, at most
/// `MAX_ZSTD_WORKERS`.
fn zstd_workers() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores).map_or(MAX_ZSTD_WORKERS, |n| n.clamp(1, MAX_ZSTD_WORKERS))
}

/// Decompresses chunk by chunk into memory.
pub enum Decoder {
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    Zstd(zstd::stream::write::Decoder<'static, Vec<u8>>),
}

impl Decoder {
    pub fn new(compression: Compression) -> std::io::Result<Self> {
        Ok(match compression {
            Compression::Gzip => Self::Gzip(flate2::write::GzDecoder::new(Vec::new())),
            Compression::Zstd => Self::Zstd(zstd::stream::write::Decoder::new(Vec::new())?),
        })
    }

    pub fn write(&mut self, input: &[u8]) -> std::io::Result<Vec<u8>> {
        Ok(match self {
            Self::Gzip(d) => {
                d.write_all(input)?;
                std::mem::take(d.get_mut())
            }
            Self::Zstd(d) => {
                d.write_all(input)?;
                d.flush()?;
                std::mem::take(d.get_mut())
            }
        })
    }

    /// The rest of the output; an error when the input ended inside a frame (a
    /// truncated object).
    pub fn finish(self) -> std::io::Result<Vec<u8>> {
        match self {
            Self::Gzip(d) => d.finish(),
            Self::Zstd(d) => d.finish(),
        }
    }
}

/// A decoder that learns its format from the first bytes it is given (the object's
/// magic number): what a download and the restore's decompression use, so that a dump
/// of either format is read, whatever its key says.
#[derive(Default)]
pub struct SniffingDecoder(Option<Decoder>);

impl SniffingDecoder {
    pub fn write(&mut self, input: &[u8]) -> std::io::Result<Vec<u8>> {
        let decoder = match &mut self.0 {
            Some(decoder) => decoder,
            None => {
                let compression = Compression::of_magic(input)
                    .ok_or_else(|| std::io::Error::other("neither zstd nor gzip"))?;
                self.0.insert(Decoder::new(compression)?)
            }
        };
        decoder.write(input)
    }

    /// The rest of the output; an error for a truncated object, or for no bytes at all.
    pub fn finish(self) -> std::io::Result<Vec<u8>> {
        match self.0 {
            Some(decoder) => decoder.finish(),
            None => Err(std::io::Error::other("the object is empty")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(compression: Compression, text: &[u8]) -> Vec<u8> {
        let mut encoder = Encoder::new(compression).unwrap();
        let mut stored = Vec::new();
        for chunk in text.chunks(1000) {
            stored.extend(encoder.write(chunk).unwrap());
        }
        stored.extend(encoder.finish().unwrap());
        assert_eq!(Compression::of_magic(&stored), Some(compression));
        let mut decoder = Decoder::new(compression).unwrap();
        let mut back = Vec::new();
        for chunk in stored.chunks(777) {
            back.extend(decoder.write(chunk).unwrap());
        }
        back.extend(decoder.finish().unwrap());
        back
    }

    #[test]
    fn both_formats_round_trip_in_chunks() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("INSERT INTO t VALUES ({i});\n").into_bytes())
            .collect();
        assert_eq!(round_trip(Compression::Zstd, &text), text);
        assert_eq!(round_trip(Compression::Gzip, &text), text);
    }

    #[test]
    fn a_truncated_zstd_object_fails_to_finish() {
        let mut encoder = Encoder::new(Compression::Zstd).unwrap();
        let mut stored = encoder.write(&[b'x'; 100_000]).unwrap();
        stored.extend(encoder.finish().unwrap());
        let mut decoder = Decoder::new(Compression::Zstd).unwrap();
        decoder.write(&stored[..stored.len() - 10]).unwrap();
        assert!(decoder.finish().is_err());
    }

    #[test]
    fn the_key_and_the_magic_number_say_the_format() {
        assert_eq!(
            Compression::of_key("a/b/x.sql.zst"),
            Some(Compression::Zstd)
        );
        assert_eq!(Compression::of_key("a/b/x.sql.gz"), Some(Compression::Gzip));
        assert_eq!(
            Compression::of_key("a/b/mysql-bin.000001_x_y.gz"),
            Some(Compression::Gzip)
        );
        assert_eq!(Compression::of_key("a/b/x.sql"), None);
        assert_eq!(Compression::of_magic(b"-- MySQL dump"), None);
        assert_eq!(Compression::of_magic(&[0x1f]), None);
        assert_eq!(
            strip_dump_suffix("20261205-101500.sql.zst"),
            Some("20261205-101500")
        );
        assert_eq!(
            strip_dump_suffix("20261205-101500.sql.gz"),
            Some("20261205-101500")
        );
        assert_eq!(strip_dump_suffix("20261205-101500.sql"), None);
        assert_eq!(
            strip_dump_suffix("20261205-101500.xbstream.zst"),
            Some("20261205-101500")
        );
    }
}
