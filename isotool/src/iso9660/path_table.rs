//! Path tables (ECMA-119 9.4): every directory of the volume listed once, by level, with its
//! extent and the 1-based number of its parent, so that a reader can find a deep directory
//! without walking the tree. A volume carries two copies, little-endian (type L) and big-endian
//! (type M), which must agree with each other and with the directory records.

use super::bytes::{be16, be32, le16, le32, u8_at};

/// Byte order of a path table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathTableKind {
    /// Type L, little-endian.
    L,
    /// Type M, big-endian.
    M,
}

impl std::fmt::Display for PathTableKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PathTableKind::L => "type L path table",
            PathTableKind::M => "type M path table",
        })
    }
}

/// One path table record.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PathTableRecord {
    /// Directory identifier as in its directory record (`[0]` for the root).
    pub identifier: Vec<u8>,
    pub extended_attribute_len: u8,
    /// LBA of the directory's extent.
    pub lba: u32,
    /// 1-based number of the parent directory's record (the root is its own parent, 1).
    pub parent: u16,
}

impl PathTableRecord {
    /// Bytes this record takes on disk.
    pub fn encoded_len(identifier_len: usize) -> usize {
        8 + identifier_len + identifier_len % 2
    }
}

/// Parses a path table of `size` bytes (the volume descriptor's path table size).
pub fn parse(table: &[u8], kind: PathTableKind) -> Result<Vec<PathTableRecord>, String> {
    let mut records = Vec::new();
    let mut at = 0usize;
    while at < table.len() {
        let len = usize::from(u8_at(table, at).unwrap_or(0));
        if len == 0 {
            return Err(format!(
                "record {} at byte {at} has an empty identifier",
                records.len() + 1
            ));
        }
        let truncated = || {
            format!(
                "record {} at byte {at} runs past the table's end",
                records.len() + 1
            )
        };
        let (lba, parent) = match kind {
            PathTableKind::L => (le32(table, at + 2), le16(table, at + 6)),
            PathTableKind::M => (be32(table, at + 2), be16(table, at + 6)),
        };
        let identifier = table
            .get(at + 8..at + 8 + len)
            .ok_or_else(truncated)?
            .to_vec();
        records.push(PathTableRecord {
            identifier,
            extended_attribute_len: u8_at(table, at + 1).ok_or_else(truncated)?,
            lba: lba.ok_or_else(truncated)?,
            parent: parent.ok_or_else(truncated)?,
        });
        at += PathTableRecord::encoded_len(len);
    }
    Ok(records)
}

/// The table as written to disk (not padded to a sector).
pub fn write(records: &[PathTableRecord], kind: PathTableKind) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        out.push(r.identifier.len() as u8);
        out.push(r.extended_attribute_len);
        match kind {
            PathTableKind::L => {
                out.extend_from_slice(&r.lba.to_le_bytes());
                out.extend_from_slice(&r.parent.to_le_bytes());
            }
            PathTableKind::M => {
                out.extend_from_slice(&r.lba.to_be_bytes());
                out.extend_from_slice(&r.parent.to_be_bytes());
            }
        }
        out.extend_from_slice(&r.identifier);
        if r.identifier.len() % 2 == 1 {
            out.push(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<PathTableRecord> {
        vec![
            PathTableRecord {
                identifier: vec![0],
                extended_attribute_len: 0,
                lba: 20,
                parent: 1,
            },
            PathTableRecord {
                identifier: b"EFI".to_vec(),
                extended_attribute_len: 0,
                lba: 21,
                parent: 1,
            },
            PathTableRecord {
                identifier: b"BOOT".to_vec(),
                extended_attribute_len: 0,
                lba: 22,
                parent: 2,
            },
        ]
    }

    #[test]
    fn both_kinds_round_trip() {
        for kind in [PathTableKind::L, PathTableKind::M] {
            let bytes = write(&sample(), kind);
            assert_eq!(bytes.len(), 10 + 12 + 12);
            assert_eq!(parse(&bytes, kind).unwrap(), sample());
        }
        assert_ne!(
            write(&sample(), PathTableKind::L),
            write(&sample(), PathTableKind::M)
        );
    }

    #[test]
    fn truncated_and_empty_records_are_errors() {
        let bytes = write(&sample(), PathTableKind::L);
        assert!(
            parse(&bytes[..bytes.len() - 3], PathTableKind::L)
                .unwrap_err()
                .contains("record 3")
        );
        assert!(
            parse(&[0; 8], PathTableKind::L)
                .unwrap_err()
                .contains("empty identifier")
        );
    }
}
