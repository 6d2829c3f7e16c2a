//! Directory records (ECMA-119 9.1): the 33-byte header, the identifier, and the System Use
//! area where Rock Ridge lives.
//!
//! A directory's extent is a run of records; a record never crosses a sector boundary (the rest
//! of a sector is zero-filled), and the first two records of every directory are `.` (identifier
//! `0x00`) and `..` (`0x01`). A file larger than one extent is several consecutive records with
//! the same identifier, all but the last flagged [`FileFlags::MULTI_EXTENT`].

use super::SECTOR_SIZE;
use super::bytes::{both16, both32, put, put_both16, put_both32, u8_at};
use super::datetime::DateTime;

/// Length of the fixed part of a directory record, before the identifier.
pub const HEADER_LEN: usize = 33;

/// The largest data length one extent can describe and still start the next extent of a
/// multi-extent file on a sector boundary: 4 GiB − 2 KiB.
pub const MAX_EXTENT_LEN: u32 = 0xFFFF_F800;

/// A contiguous run of sectors holding (part of) a file or directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Extent {
    /// First logical block (2048-byte sector).
    pub lba: u32,
    /// Length in bytes.
    pub len: u32,
}

impl Extent {
    /// Byte offset of the extent in the image.
    pub fn offset(&self) -> u64 {
        u64::from(self.lba) * SECTOR_SIZE
    }

    /// Sectors the extent occupies.
    pub fn blocks(&self) -> u64 {
        super::bytes::blocks(u64::from(self.len))
    }

    /// The first LBA after the extent.
    pub fn end_lba(&self) -> u64 {
        u64::from(self.lba) + self.blocks()
    }
}

/// The file flags byte of a directory record (ECMA-119 9.1.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileFlags(pub u8);

impl FileFlags {
    /// "Existence": the entry need not be shown to the user.
    pub const HIDDEN: u8 = 0x01;
    pub const DIRECTORY: u8 = 0x02;
    pub const ASSOCIATED: u8 = 0x04;
    pub const RECORD: u8 = 0x08;
    pub const PROTECTION: u8 = 0x10;
    /// This is not the final record of the file.
    pub const MULTI_EXTENT: u8 = 0x80;

    pub fn contains(self, flag: u8) -> bool {
        self.0 & flag == flag
    }

    pub fn is_dir(self) -> bool {
        self.contains(Self::DIRECTORY)
    }

    pub fn is_hidden(self) -> bool {
        self.contains(Self::HIDDEN)
    }

    pub fn is_multi_extent(self) -> bool {
        self.contains(Self::MULTI_EXTENT)
    }
}

/// One directory record, as on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryRecord {
    pub extended_attribute_len: u8,
    pub extent: Extent,
    pub recorded: DateTime,
    pub flags: FileFlags,
    pub file_unit_size: u8,
    pub interleave_gap: u8,
    pub volume_sequence: u16,
    /// The raw identifier: d-characters with `;1` in the primary tree, UCS-2BE in Joliet,
    /// `[0]` for `.` and `[1]` for `..`.
    pub identifier: Vec<u8>,
    /// The System Use area after the identifier (and its pad byte): SUSP / Rock Ridge entries.
    pub system_use: Vec<u8>,
}

/// Why a record could not be parsed (the caller adds where it was).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordProblem {
    /// The length byte is smaller than a header plus the identifier it announces.
    TooShort { len: usize, needed: usize },
    /// The record runs past the end of its sector.
    CrossesSector { len: usize, room: usize },
    /// The identifier is empty.
    EmptyIdentifier,
}

impl std::fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordProblem::TooShort { len, needed } => {
                write!(
                    f,
                    "record length {len} is shorter than the {needed} bytes its header needs"
                )
            }
            RecordProblem::CrossesSector { len, room } => {
                write!(
                    f,
                    "record length {len} runs past the end of its sector ({room} bytes left)"
                )
            }
            RecordProblem::EmptyIdentifier => write!(f, "the identifier is empty"),
        }
    }
}

impl DirectoryRecord {
    /// Parses the record at the start of `buf`, which holds the rest of the sector. Returns
    /// `Ok(None)` for a zero length byte (the zero fill at the end of a sector).
    pub fn parse(buf: &[u8]) -> Result<Option<(DirectoryRecord, usize)>, RecordProblem> {
        let len = usize::from(u8_at(buf, 0).unwrap_or(0));
        if len == 0 {
            return Ok(None);
        }
        if len > buf.len() {
            return Err(RecordProblem::CrossesSector {
                len,
                room: buf.len(),
            });
        }
        let too_short = RecordProblem::TooShort {
            len,
            needed: HEADER_LEN + 1,
        };
        if len < HEADER_LEN + 1 {
            return Err(too_short);
        }
        let record = buf.get(..len).ok_or(too_short.clone())?;
        let field = |o: Option<u32>| o.ok_or(too_short.clone());
        let name_len = usize::from(u8_at(record, 32).unwrap_or(0));
        if name_len == 0 {
            return Err(RecordProblem::EmptyIdentifier);
        }
        let name_end = HEADER_LEN + name_len;
        if name_end > len {
            return Err(RecordProblem::TooShort {
                len,
                needed: name_end,
            });
        }
        // The identifier is followed by a pad byte when its length is even.
        let su_start = (name_end + usize::from(name_len % 2 == 0)).min(len);
        let record = DirectoryRecord {
            extended_attribute_len: u8_at(record, 1).unwrap_or(0),
            extent: Extent {
                lba: field(both32(record, 2))?,
                len: field(both32(record, 10))?,
            },
            recorded: DateTime::parse_record(record.get(18..25).unwrap_or_default())
                .unwrap_or_default(),
            flags: FileFlags(u8_at(record, 25).unwrap_or(0)),
            file_unit_size: u8_at(record, 26).unwrap_or(0),
            interleave_gap: u8_at(record, 27).unwrap_or(0),
            volume_sequence: both16(record, 28).unwrap_or(1),
            identifier: record
                .get(HEADER_LEN..name_end)
                .unwrap_or_default()
                .to_vec(),
            system_use: record.get(su_start..).unwrap_or_default().to_vec(),
        };
        Ok(Some((record, len)))
    }

    /// `.`, the record of a directory for itself.
    pub fn is_dot(&self) -> bool {
        self.identifier == [0]
    }

    /// `..`, the record of a directory for its parent.
    pub fn is_dotdot(&self) -> bool {
        self.identifier == [1]
    }

    /// The on-disk length of a record with these identifier and System Use lengths.
    pub fn encoded_len(identifier_len: usize, system_use_len: usize) -> usize {
        HEADER_LEN + identifier_len + usize::from(identifier_len % 2 == 0) + system_use_len
    }

    /// Appends the record to `out`. The caller keeps the total under 256 bytes.
    pub fn write(&self, out: &mut Vec<u8>) {
        let len = Self::encoded_len(self.identifier.len(), self.system_use.len());
        debug_assert!(len <= 255, "directory record of {len} bytes");
        let mut header = [0u8; HEADER_LEN];
        header[0] = len as u8;
        header[1] = self.extended_attribute_len;
        put_both32(&mut header, 2, self.extent.lba);
        put_both32(&mut header, 10, self.extent.len);
        put(&mut header, 18, &self.recorded.to_record());
        header[25] = self.flags.0;
        header[26] = self.file_unit_size;
        header[27] = self.interleave_gap;
        put_both16(&mut header, 28, self.volume_sequence);
        header[32] = self.identifier.len() as u8;
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.identifier);
        if self.identifier.len() % 2 == 0 {
            out.push(0);
        }
        out.extend_from_slice(&self.system_use);
    }
}

/// Appends `record` to a directory being built, moving to the next sector first when it would
/// cross a sector boundary (ECMA-119 6.8.1.1).
pub fn append_to_extent(dir: &mut Vec<u8>, record: &DirectoryRecord) {
    let len = DirectoryRecord::encoded_len(record.identifier.len(), record.system_use.len());
    let used = dir.len() % SECTOR_SIZE as usize;
    if used + len > SECTOR_SIZE as usize {
        dir.resize(dir.len() + SECTOR_SIZE as usize - used, 0);
    }
    record.write(dir);
}

/// The byte length of a directory extent holding records of these lengths, laid out as
/// [`append_to_extent`] lays them out.
pub fn extent_len(record_lens: impl IntoIterator<Item = usize>) -> u64 {
    let sector = SECTOR_SIZE as usize;
    let mut total: u64 = 0;
    let mut used = 0usize;
    for len in record_lens {
        if used + len > sector {
            total += sector as u64;
            used = 0;
        }
        used += len;
    }
    // A directory always occupies whole sectors.
    total + if used > 0 { sector as u64 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(identifier: &[u8], system_use: &[u8]) -> DirectoryRecord {
        DirectoryRecord {
            extended_attribute_len: 0,
            extent: Extent {
                lba: 1234,
                len: 5678,
            },
            recorded: DateTime::from_unix(1_700_000_000),
            flags: FileFlags(FileFlags::MULTI_EXTENT),
            file_unit_size: 0,
            interleave_gap: 0,
            volume_sequence: 1,
            identifier: identifier.to_vec(),
            system_use: system_use.to_vec(),
        }
    }

    #[test]
    fn records_round_trip_with_and_without_pad_byte() {
        for id in [&b"BOOT.CFG;1"[..], b"A.B;1", &[0], &[1]] {
            let rec = sample(id, b"PX\x05\x01X");
            let mut out = Vec::new();
            rec.write(&mut out);
            assert_eq!(out.len(), DirectoryRecord::encoded_len(id.len(), 5));
            let (back, len) = DirectoryRecord::parse(&out).unwrap().unwrap();
            assert_eq!(len, out.len());
            assert_eq!(back, rec);
        }
    }

    #[test]
    fn bad_lengths_are_problems_not_panics() {
        assert_eq!(DirectoryRecord::parse(&[0; 10]), Ok(None));
        assert!(matches!(
            DirectoryRecord::parse(&[20; 40]),
            Err(RecordProblem::TooShort { len: 20, .. })
        ));
        assert!(matches!(
            DirectoryRecord::parse(&[200; 40]),
            Err(RecordProblem::CrossesSector { len: 200, room: 40 })
        ));
        let mut rec = Vec::new();
        sample(b"LONGNAME.TXT;1", b"").write(&mut rec);
        rec[32] = 200; // identifier longer than the record
        assert!(matches!(
            DirectoryRecord::parse(&rec),
            Err(RecordProblem::TooShort { .. })
        ));
    }

    #[test]
    fn extent_len_moves_records_that_would_cross_a_sector() {
        assert_eq!(extent_len([34, 34]), 2048);
        assert_eq!(extent_len(std::iter::repeat_n(254, 8)), 2048);
        assert_eq!(extent_len(std::iter::repeat_n(254, 9)), 4096);
        let mut dir = Vec::new();
        for _ in 0..9 {
            append_to_extent(&mut dir, &sample(&[b'X'; 221], b""));
        }
        assert_eq!(dir.len(), 2048 + 254);
    }

    #[test]
    fn max_extent_len_is_sector_aligned() {
        assert_eq!(u64::from(MAX_EXTENT_LEN) % SECTOR_SIZE, 0);
        assert_eq!(MAX_EXTENT_LEN, 0xFFFF_F800);
    }
}
