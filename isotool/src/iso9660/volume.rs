//! Volume descriptors (ECMA-119 8): the set of 2048-byte sectors from LBA 16 on that describe
//! the volume — the Primary Volume Descriptor (PVD), Supplementary ones (Joliet), El Torito's
//! Boot Record, and the Set Terminator that ends the set.

use super::bytes::{
    array, be32, both16, both32, le32, padded, put, put_both16, put_both32, text, u8_at,
};
use super::datetime::DateTime;
use super::directory::DirectoryRecord;
use super::{SECTOR_SIZE, joliet};

/// Standard identifier of every volume descriptor.
pub const STANDARD_ID: &[u8; 5] = b"CD001";

/// LBA of the first volume descriptor: the 32 KiB before it are the system area.
pub const FIRST_DESCRIPTOR_LBA: u32 = 16;

/// Volume descriptor type codes.
pub mod kind {
    pub const BOOT_RECORD: u8 = 0;
    pub const PRIMARY: u8 = 1;
    pub const SUPPLEMENTARY: u8 = 2;
    pub const PARTITION: u8 = 3;
    pub const TERMINATOR: u8 = 255;
}

/// The text fields of a PVD or SVD, decoded. Lengths on disk: system 32, volume 32 (Joliet 16
/// characters), volume set, publisher, preparer and application 128, the three file ids 37.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct VolumeIds {
    pub system_id: String,
    pub volume_id: String,
    pub volume_set_id: String,
    pub publisher_id: String,
    pub preparer_id: String,
    pub application_id: String,
    pub copyright_file_id: String,
    pub abstract_file_id: String,
    pub bibliographic_file_id: String,
}

impl VolumeIds {
    fn fields(&self) -> [(&'static str, &String, usize, usize); 9] {
        [
            ("system id", &self.system_id, 8, 32),
            ("volume id", &self.volume_id, 40, 32),
            ("volume set id", &self.volume_set_id, 190, 128),
            ("publisher id", &self.publisher_id, 318, 128),
            ("preparer id", &self.preparer_id, 446, 128),
            ("application id", &self.application_id, 574, 128),
            ("copyright file id", &self.copyright_file_id, 702, 37),
            ("abstract file id", &self.abstract_file_id, 739, 37),
            (
                "bibliographic file id",
                &self.bibliographic_file_id,
                776,
                37,
            ),
        ]
    }

    /// Checks that every field is printable ASCII and fits its place in the PVD.
    pub fn check(&self) -> Result<(), String> {
        for (name, value, _, len) in self.fields() {
            if value.len() > len {
                return Err(format!(
                    "{name} {value:?} has {} characters; the field holds {len}",
                    value.len()
                ));
            }
            if let Some(c) = value.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
                return Err(format!(
                    "{name} {value:?} contains {c:?}; use printable ASCII"
                ));
            }
        }
        Ok(())
    }
}

/// Which kind of volume a PVD/SVD-shaped descriptor describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VolumeKind {
    Primary,
    /// A Joliet SVD, with its UCS-2 level (1–3).
    Joliet {
        level: u8,
    },
    /// Another supplementary or enhanced descriptor (ISO 9660:1999 …), not read further.
    Supplementary,
}

/// A Primary or Supplementary Volume Descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeDescriptor {
    pub kind: VolumeKind,
    pub ids: VolumeIds,
    /// Size of the volume in logical blocks.
    pub volume_space_size: u32,
    pub volume_set_size: u16,
    pub volume_sequence_number: u16,
    pub logical_block_size: u16,
    pub path_table_size: u32,
    /// LBA of the little-endian (type L) path table.
    pub path_table_l: u32,
    pub path_table_l_optional: u32,
    /// LBA of the big-endian (type M) path table.
    pub path_table_m: u32,
    pub path_table_m_optional: u32,
    /// The root directory's record.
    pub root: DirectoryRecord,
    pub created: Option<DateTime>,
    pub modified: Option<DateTime>,
    pub expires: Option<DateTime>,
    pub effective: Option<DateTime>,
    pub file_structure_version: u8,
}

/// One entry of the descriptor set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Descriptor {
    Primary(VolumeDescriptor),
    Supplementary(VolumeDescriptor),
    /// A Boot Record; `catalog` is the El Torito catalog LBA, `None` for another boot system.
    BootRecord {
        catalog: Option<u32>,
    },
    Partition,
    Terminator,
    Unknown(u8),
}

impl Descriptor {
    /// Parses one descriptor sector. Errors describe the problem; the caller adds the LBA.
    pub fn parse(sector: &[u8]) -> Result<Descriptor, String> {
        if sector.get(1..6) != Some(&STANDARD_ID[..]) {
            return Err("no \"CD001\" standard identifier".into());
        }
        let kind = u8_at(sector, 0).unwrap_or(0);
        Ok(match kind {
            kind::BOOT_RECORD => Descriptor::BootRecord {
                catalog: super::eltorito::parse_boot_record(sector),
            },
            kind::PRIMARY => {
                Descriptor::Primary(VolumeDescriptor::parse(sector, VolumeKind::Primary)?)
            }
            kind::SUPPLEMENTARY => {
                let volume_kind = match sector.get(88..120).and_then(joliet::level) {
                    Some(level) => VolumeKind::Joliet { level },
                    None => VolumeKind::Supplementary,
                };
                Descriptor::Supplementary(VolumeDescriptor::parse(sector, volume_kind)?)
            }
            kind::PARTITION => Descriptor::Partition,
            kind::TERMINATOR => Descriptor::Terminator,
            other => Descriptor::Unknown(other),
        })
    }
}

impl VolumeDescriptor {
    fn parse(sector: &[u8], kind: VolumeKind) -> Result<VolumeDescriptor, String> {
        let short = || "descriptor shorter than a sector".to_string();
        let decode = |at: usize, len: usize| -> String {
            let field = sector.get(at..at + len).unwrap_or_default();
            match kind {
                // UCS-2 in a field of odd length: the last byte is padding.
                VolumeKind::Joliet { .. } => {
                    joliet::decode(field.get(..field.len() / 2 * 2).unwrap_or_default())
                        .trim_end_matches([' ', '\0'])
                        .to_string()
                }
                _ => text(field),
            }
        };
        let root_field: [u8; 34] = array(sector, 156).ok_or_else(short)?;
        let root = match DirectoryRecord::parse(&root_field) {
            Ok(Some((root, _))) => root,
            Ok(None) => return Err("the root directory record is empty".into()),
            Err(problem) => return Err(format!("root directory record: {problem}")),
        };
        if !root.flags.is_dir() {
            return Err("the root directory record is not flagged as a directory".into());
        }
        let date = |at: usize| sector.get(at..at + 17).and_then(DateTime::parse_volume);
        Ok(VolumeDescriptor {
            kind,
            ids: VolumeIds {
                system_id: decode(8, 32),
                volume_id: decode(40, 32),
                volume_set_id: decode(190, 128),
                publisher_id: decode(318, 128),
                preparer_id: decode(446, 128),
                application_id: decode(574, 128),
                copyright_file_id: decode(702, 37),
                abstract_file_id: decode(739, 37),
                bibliographic_file_id: decode(776, 37),
            },
            volume_space_size: both32(sector, 80).ok_or_else(short)?,
            volume_set_size: both16(sector, 120).ok_or_else(short)?,
            volume_sequence_number: both16(sector, 124).ok_or_else(short)?,
            logical_block_size: both16(sector, 128).ok_or_else(short)?,
            path_table_size: both32(sector, 132).ok_or_else(short)?,
            path_table_l: le32(sector, 140).ok_or_else(short)?,
            path_table_l_optional: le32(sector, 144).ok_or_else(short)?,
            path_table_m: be32(sector, 148).ok_or_else(short)?,
            path_table_m_optional: be32(sector, 152).ok_or_else(short)?,
            root,
            created: date(813),
            modified: date(830),
            expires: date(847),
            effective: date(864),
            file_structure_version: u8_at(sector, 881).unwrap_or(0),
        })
    }

    /// The descriptor as a sector.
    pub fn to_sector(&self) -> Box<[u8; SECTOR_SIZE as usize]> {
        let mut s = Box::new([0u8; SECTOR_SIZE as usize]);
        s[0] = match self.kind {
            VolumeKind::Primary => kind::PRIMARY,
            _ => kind::SUPPLEMENTARY,
        };
        put(&mut s[..], 1, STANDARD_ID);
        s[6] = 1;
        if let VolumeKind::Joliet { .. } = self.kind {
            put(&mut s[..], 88, &joliet::ESCAPE_LEVEL_3);
        }
        for (_, value, at, len) in self.ids.fields() {
            let field = match self.kind {
                VolumeKind::Joliet { .. } => joliet::field(value, len),
                _ => padded(value.as_bytes(), len, b' '),
            };
            put(&mut s[..], at, &field);
        }
        put_both32(&mut s[..], 80, self.volume_space_size);
        put_both16(&mut s[..], 120, self.volume_set_size);
        put_both16(&mut s[..], 124, self.volume_sequence_number);
        put_both16(&mut s[..], 128, self.logical_block_size);
        put_both32(&mut s[..], 132, self.path_table_size);
        put(&mut s[..], 140, &self.path_table_l.to_le_bytes());
        put(&mut s[..], 144, &self.path_table_l_optional.to_le_bytes());
        put(&mut s[..], 148, &self.path_table_m.to_be_bytes());
        put(&mut s[..], 152, &self.path_table_m_optional.to_be_bytes());
        let mut root = Vec::with_capacity(34);
        self.root.write(&mut root);
        put(&mut s[..], 156, &root);
        let date = |d: &Option<DateTime>| d.map_or(DateTime::UNSPECIFIED_VOLUME, |d| d.to_volume());
        put(&mut s[..], 813, &date(&self.created));
        put(&mut s[..], 830, &date(&self.modified));
        put(&mut s[..], 847, &date(&self.expires));
        put(&mut s[..], 864, &date(&self.effective));
        s[881] = self.file_structure_version;
        s
    }
}

/// The Volume Descriptor Set Terminator.
pub fn terminator() -> [u8; SECTOR_SIZE as usize] {
    let mut s = [0u8; SECTOR_SIZE as usize];
    s[0] = kind::TERMINATOR;
    put(&mut s, 1, STANDARD_ID);
    s[6] = 1;
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iso9660::directory::{Extent, FileFlags};

    fn pvd(kind: VolumeKind) -> VolumeDescriptor {
        VolumeDescriptor {
            kind,
            ids: VolumeIds {
                volume_id: "ESXI-8.0U3".into(),
                application_id: "ESXIMAGE".into(),
                ..VolumeIds::default()
            },
            volume_space_size: 1234,
            volume_set_size: 1,
            volume_sequence_number: 1,
            logical_block_size: 2048,
            path_table_size: 10,
            path_table_l: 19,
            path_table_l_optional: 0,
            path_table_m: 20,
            path_table_m_optional: 0,
            root: DirectoryRecord {
                extended_attribute_len: 0,
                extent: Extent { lba: 22, len: 2048 },
                recorded: DateTime::from_unix(0),
                flags: FileFlags(FileFlags::DIRECTORY),
                file_unit_size: 0,
                interleave_gap: 0,
                volume_sequence: 1,
                identifier: vec![0],
                system_use: Vec::new(),
            },
            created: Some(DateTime::from_unix(1_700_000_000)),
            modified: Some(DateTime::from_unix(1_700_000_000)),
            expires: None,
            effective: Some(DateTime::from_unix(1_700_000_000)),
            file_structure_version: 1,
        }
    }

    #[test]
    fn primary_and_joliet_round_trip() {
        for kind in [VolumeKind::Primary, VolumeKind::Joliet { level: 3 }] {
            let d = pvd(kind);
            let parsed = Descriptor::parse(&d.to_sector()[..]).unwrap();
            match (kind, parsed) {
                (VolumeKind::Primary, Descriptor::Primary(p)) => assert_eq!(p, d),
                (VolumeKind::Joliet { .. }, Descriptor::Supplementary(p)) => assert_eq!(p, d),
                (_, other) => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn terminator_and_garbage() {
        assert_eq!(Descriptor::parse(&terminator()), Ok(Descriptor::Terminator));
        assert!(Descriptor::parse(&[0; 2048]).unwrap_err().contains("CD001"));
        let mut bad = pvd(VolumeKind::Primary).to_sector();
        bad[156] = 5; // root record length
        assert!(
            Descriptor::parse(&bad[..])
                .unwrap_err()
                .contains("root directory record")
        );
        assert!(Descriptor::parse(&bad[..100]).is_err());
    }

    #[test]
    fn ids_are_checked() {
        let mut ids = VolumeIds {
            volume_id: "X".repeat(33),
            ..VolumeIds::default()
        };
        assert!(ids.check().unwrap_err().contains("volume id"));
        ids.volume_id = "ESXI\n".into();
        assert!(ids.check().is_err());
        ids.volume_id = "ESXI-8.0".into();
        assert!(ids.check().is_ok());
    }
}
