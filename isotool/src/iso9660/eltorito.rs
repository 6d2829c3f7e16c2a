//! El Torito bootable CD-ROM format (Phoenix/IBM, 1995): the Boot Record volume descriptor, the
//! boot catalog it points at, and the boot-info-table that `mkisofs -boot-info-table` patches
//! into a no-emulation boot image such as `ISOLINUX.BIN`.
//!
//! The catalog is a list of 32-byte entries: a validation entry (platform of the default entry,
//! an id string, a checksum that makes its 16-bit words sum to zero, the key `55 AA`), the
//! default entry, then sections — a header (platform, entry count, `0x90`, or `0x91` for the
//! last) followed by its entries. ESXi media have the default entry for BIOS (`ISOLINUX.BIN`,
//! no emulation, 4 sectors) and one section for UEFI (platform `0xEF`, `EFIBOOT.IMG`).

use super::bytes::{array, le16, le32, put};

/// `boot system identifier` of an El Torito Boot Record (zero-padded to 32 bytes).
pub const BOOT_SYSTEM_ID: &[u8] = b"EL TORITO SPECIFICATION";

/// Size of one catalog entry.
pub const ENTRY_LEN: usize = 32;

/// Largest catalog we read: 16 sectors, 1024 entries. Real catalogs use one sector.
pub const MAX_CATALOG_LEN: usize = 16 * 2048;

/// A platform id (validation entry and section headers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform(pub u8);

impl Platform {
    /// 80x86 PC BIOS.
    pub const X86: Platform = Platform(0);
    pub const POWER_PC: Platform = Platform(1);
    pub const MAC: Platform = Platform(2);
    /// UEFI.
    pub const EFI: Platform = Platform(0xEF);
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Platform::X86 => f.write_str("x86"),
            Platform::POWER_PC => f.write_str("PowerPC"),
            Platform::MAC => f.write_str("Mac"),
            Platform::EFI => f.write_str("EFI"),
            Platform(other) => write!(f, "{other:#04x}"),
        }
    }
}

/// Boot media type: how the BIOS presents the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Emulation {
    /// The image is loaded to memory and run (isolinux, EFI images).
    NoEmulation,
    Floppy1_2M,
    Floppy1_44M,
    Floppy2_88M,
    HardDisk,
}

impl Emulation {
    fn from_media_type(media: u8) -> Option<Emulation> {
        Some(match media & 0x0F {
            0 => Emulation::NoEmulation,
            1 => Emulation::Floppy1_2M,
            2 => Emulation::Floppy1_44M,
            3 => Emulation::Floppy2_88M,
            4 => Emulation::HardDisk,
            _ => return None,
        })
    }

    fn media_type(self) -> u8 {
        match self {
            Emulation::NoEmulation => 0,
            Emulation::Floppy1_2M => 1,
            Emulation::Floppy1_44M => 2,
            Emulation::Floppy2_88M => 3,
            Emulation::HardDisk => 4,
        }
    }
}

impl std::fmt::Display for Emulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Emulation::NoEmulation => "no emulation",
            Emulation::Floppy1_2M => "1.2M floppy",
            Emulation::Floppy1_44M => "1.44M floppy",
            Emulation::Floppy2_88M => "2.88M floppy",
            Emulation::HardDisk => "hard disk",
        })
    }
}

/// One boot entry: the default entry or a section entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BootEntry {
    /// The platform: the validation entry's for the default entry, else its section header's.
    pub platform: Platform,
    /// Boot indicator `0x88` (otherwise `0x00`, not bootable).
    pub bootable: bool,
    pub emulation: Emulation,
    /// Real-mode segment to load to; 0 means the traditional `0x7C0`.
    pub load_segment: u16,
    /// Partition type byte of a hard-disk image.
    pub system_type: u8,
    /// Number of 512-byte virtual sectors to load (no emulation).
    pub sector_count: u16,
    /// Start of the image, in 2048-byte blocks.
    pub load_rba: u32,
    /// Selection criteria type and vendor criteria (section entries only; zero otherwise).
    pub selection_criteria: u8,
    pub vendor_criteria: [u8; 19],
    /// Index into [`BootCatalog::sections`], `None` for the default entry.
    pub section: Option<usize>,
}

/// A section header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Section {
    pub platform: Platform,
    /// The 28-byte id string (trailing NULs and spaces removed).
    pub id: Vec<u8>,
}

/// A boot catalog.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BootCatalog {
    /// Platform of the validation entry (and thereby of the default entry).
    pub platform: Platform,
    /// The validation entry's 24-byte id string (manufacturer), trailing NULs removed.
    pub id: Vec<u8>,
    pub sections: Vec<Section>,
    /// The default entry first, then the section entries in catalog order.
    pub entries: Vec<BootEntry>,
}

/// Why a catalog could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogProblem {
    /// Header id not 1 or key not `55 AA`.
    NoValidationEntry,
    /// The validation entry's words sum to this, not to zero.
    Checksum(u16),
    /// An entry is malformed; `entry` counts from 0 (the validation entry).
    Entry { entry: usize, problem: String },
    /// The catalog runs past the bytes given (or [`MAX_CATALOG_LEN`]).
    Truncated { entries: usize },
}

impl std::fmt::Display for CatalogProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CatalogProblem::NoValidationEntry => {
                f.write_str("no validation entry (header id 1 and key 55 AA) at its start")
            }
            CatalogProblem::Checksum(sum) => write!(
                f,
                "the validation entry checksum is wrong: its 16-bit words sum to {sum:#06x}, not 0"
            ),
            CatalogProblem::Entry { entry, problem } => write!(f, "entry {entry}: {problem}"),
            CatalogProblem::Truncated { entries } => {
                write!(
                    f,
                    "the catalog ends after {entries} entries, inside a section"
                )
            }
        }
    }
}

fn validation_sum(entry: &[u8; ENTRY_LEN]) -> u16 {
    entry.chunks_exact(2).fold(0u16, |sum, w| {
        sum.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    })
}

fn trim_id(field: &[u8]) -> Vec<u8> {
    let end = field
        .iter()
        .rposition(|&b| b != 0 && b != b' ')
        .map_or(0, |i| i + 1);
    field.get(..end).unwrap_or_default().to_vec()
}

impl BootCatalog {
    /// Parses a catalog from its first bytes (at most [`MAX_CATALOG_LEN`] are looked at).
    pub fn parse(buf: &[u8]) -> Result<BootCatalog, CatalogProblem> {
        let entry = |i: usize| -> Option<[u8; ENTRY_LEN]> {
            if (i + 1) * ENTRY_LEN > MAX_CATALOG_LEN {
                return None;
            }
            array(buf, i * ENTRY_LEN)
        };
        let validation = entry(0).ok_or(CatalogProblem::NoValidationEntry)?;
        if validation[0] != 1 || validation[30..] != [0x55, 0xAA] {
            return Err(CatalogProblem::NoValidationEntry);
        }
        let sum = validation_sum(&validation);
        if sum != 0 {
            return Err(CatalogProblem::Checksum(sum));
        }
        let platform = Platform(validation[1]);
        let default = entry(1).ok_or(CatalogProblem::Truncated { entries: 1 })?;
        let mut catalog = BootCatalog {
            platform,
            id: trim_id(&validation[4..28]),
            sections: Vec::new(),
            entries: vec![
                parse_entry(&default, platform, None)
                    .map_err(|problem| CatalogProblem::Entry { entry: 1, problem })?,
            ],
        };
        let mut i = 2;
        // Every pass consumes at least one entry and `entry()` stops at MAX_CATALOG_LEN.
        while let Some(header) = entry(i) {
            let last = match header[0] {
                0x90 => false,
                0x91 => true,
                // Anything else ends the catalog (tools leave the rest of the sector zero).
                _ => break,
            };
            let section = catalog.sections.len();
            let platform = Platform(header[1]);
            catalog.sections.push(Section {
                platform,
                id: trim_id(&header[4..]),
            });
            let count = usize::from(u16::from_le_bytes([header[2], header[3]]));
            i += 1;
            for _ in 0..count {
                let e = entry(i).ok_or(CatalogProblem::Truncated { entries: i })?;
                catalog.entries.push(
                    parse_entry(&e, platform, Some(section))
                        .map_err(|problem| CatalogProblem::Entry { entry: i, problem })?,
                );
                i += 1;
                // Skip extension entries (0x44) that this entry announces with bit 5.
                let mut more = e[1] & 0x20 != 0;
                while more {
                    let ext = entry(i).ok_or(CatalogProblem::Truncated { entries: i })?;
                    if ext[0] != 0x44 {
                        return Err(CatalogProblem::Entry {
                            entry: i,
                            problem: format!(
                                "expected an extension entry (0x44), found {:#04x}",
                                ext[0]
                            ),
                        });
                    }
                    more = ext[1] & 0x20 != 0;
                    i += 1;
                }
            }
            if last {
                break;
            }
        }
        Ok(catalog)
    }

    /// The default (initial) entry.
    pub fn default_entry(&self) -> Option<&BootEntry> {
        self.entries.first()
    }

    /// The catalog as written to disk, padded with zeros to whole 2048-byte sectors.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut validation = [0u8; ENTRY_LEN];
        validation[0] = 1;
        validation[1] = self.platform.0;
        put(&mut validation, 4, &self.id[..self.id.len().min(24)]);
        validation[30] = 0x55;
        validation[31] = 0xAA;
        let sum = validation_sum(&validation);
        put(&mut validation, 28, &0u16.wrapping_sub(sum).to_le_bytes());
        out.extend_from_slice(&validation);
        for entry in self.entries.iter().filter(|e| e.section.is_none()).take(1) {
            out.extend_from_slice(&entry_bytes(entry));
        }
        for (index, section) in self.sections.iter().enumerate() {
            let members: Vec<&BootEntry> = self
                .entries
                .iter()
                .filter(|e| e.section == Some(index))
                .collect();
            let mut header = [0u8; ENTRY_LEN];
            header[0] = if index + 1 == self.sections.len() {
                0x91
            } else {
                0x90
            };
            header[1] = section.platform.0;
            put(&mut header, 2, &(members.len() as u16).to_le_bytes());
            put(&mut header, 4, &section.id[..section.id.len().min(28)]);
            out.extend_from_slice(&header);
            for entry in members {
                out.extend_from_slice(&entry_bytes(entry));
            }
        }
        out.resize(out.len().div_ceil(2048).max(1) * 2048, 0);
        out
    }
}

fn parse_entry(
    e: &[u8; ENTRY_LEN],
    platform: Platform,
    section: Option<usize>,
) -> Result<BootEntry, String> {
    let bootable = match e[0] {
        0x88 => true,
        0x00 => false,
        other => {
            return Err(format!(
                "boot indicator {other:#04x} is neither 0x88 nor 0x00"
            ));
        }
    };
    let emulation = Emulation::from_media_type(e[1]).ok_or_else(|| {
        format!(
            "boot media type {:#04x} is not an emulation El Torito defines",
            e[1]
        )
    })?;
    Ok(BootEntry {
        platform,
        bootable,
        emulation,
        load_segment: le16(e, 2).unwrap_or(0),
        system_type: e[4],
        sector_count: le16(e, 6).unwrap_or(0),
        load_rba: le32(e, 8).unwrap_or(0),
        selection_criteria: if section.is_some() { e[12] } else { 0 },
        vendor_criteria: if section.is_some() {
            array(e, 13).unwrap_or([0; 19])
        } else {
            [0; 19]
        },
        section,
    })
}

fn entry_bytes(entry: &BootEntry) -> [u8; ENTRY_LEN] {
    let mut e = [0u8; ENTRY_LEN];
    e[0] = if entry.bootable { 0x88 } else { 0 };
    e[1] = entry.emulation.media_type();
    put(&mut e, 2, &entry.load_segment.to_le_bytes());
    e[4] = entry.system_type;
    put(&mut e, 6, &entry.sector_count.to_le_bytes());
    put(&mut e, 8, &entry.load_rba.to_le_bytes());
    if entry.section.is_some() {
        e[12] = entry.selection_criteria;
        put(&mut e, 13, &entry.vendor_criteria);
    }
    e
}

/// The El Torito Boot Record volume descriptor's catalog pointer, or `None` when the
/// descriptor is some other boot system's.
pub fn parse_boot_record(sector: &[u8]) -> Option<u32> {
    let id = sector.get(7..39)?;
    (trim_id(id) == BOOT_SYSTEM_ID).then(|| le32(sector, 71))?
}

/// The Boot Record volume descriptor pointing at a catalog at `catalog_lba`.
pub fn boot_record(catalog_lba: u32) -> [u8; 2048] {
    let mut s = [0u8; 2048];
    s[0] = 0;
    put(&mut s, 1, b"CD001");
    s[6] = 1;
    put(&mut s, 7, BOOT_SYSTEM_ID);
    put(&mut s, 71, &catalog_lba.to_le_bytes());
    s
}

/// The boot-info-table, 56 bytes at offset 8 of a no-emulation boot image: where the PVD and the
/// image are, the image length, and a checksum of the image from offset 64 on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BootInfoTable {
    /// LBA of the primary volume descriptor (always 16).
    pub pvd_lba: u32,
    /// LBA of the boot image itself.
    pub file_lba: u32,
    /// Length of the boot image in bytes.
    pub file_len: u32,
    /// Sum of the image's 32-bit little-endian words from offset 64 to its end.
    pub checksum: u32,
}

impl BootInfoTable {
    /// Offset of the table in the image.
    pub const OFFSET: usize = 8;
    /// Length of the table (16 bytes of fields, 40 reserved).
    pub const LEN: usize = 56;
    /// Where the checksummed part of the image starts.
    pub const CHECKSUM_FROM: usize = 64;

    /// Reads the table from the first 64 bytes of an image (whether or not one was written).
    pub fn parse(head: &[u8]) -> Option<BootInfoTable> {
        Some(BootInfoTable {
            pvd_lba: le32(head, 8)?,
            file_lba: le32(head, 12)?,
            file_len: le32(head, 16)?,
            checksum: le32(head, 20)?,
        })
    }

    /// The 56 bytes to write at [`Self::OFFSET`].
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut t = [0u8; Self::LEN];
        put(&mut t, 0, &self.pvd_lba.to_le_bytes());
        put(&mut t, 4, &self.file_lba.to_le_bytes());
        put(&mut t, 8, &self.file_len.to_le_bytes());
        put(&mut t, 12, &self.checksum.to_le_bytes());
        t
    }
}

/// Running boot-info-table checksum: feed the image bytes from offset 64 on, in order.
#[derive(Clone, Debug, Default)]
pub struct InfoChecksum {
    sum: u32,
    word: [u8; 4],
    filled: usize,
}

impl InfoChecksum {
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.word[self.filled] = b;
            self.filled += 1;
            if self.filled == 4 {
                self.sum = self.sum.wrapping_add(u32::from_le_bytes(self.word));
                self.filled = 0;
            }
        }
    }

    /// The checksum, a trailing partial word padded with zeros.
    pub fn finish(mut self) -> u32 {
        if self.filled > 0 {
            self.word[self.filled..].fill(0);
            self.sum = self.sum.wrapping_add(u32::from_le_bytes(self.word));
        }
        self.sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(platform: Platform, section: Option<usize>, rba: u32, count: u16) -> BootEntry {
        BootEntry {
            platform,
            bootable: true,
            emulation: Emulation::NoEmulation,
            load_segment: 0,
            system_type: 0,
            sector_count: count,
            load_rba: rba,
            selection_criteria: 0,
            vendor_criteria: [0; 19],
            section,
        }
    }

    fn esxi_like() -> BootCatalog {
        BootCatalog {
            platform: Platform::X86,
            id: Vec::new(),
            sections: vec![Section {
                platform: Platform::EFI,
                id: Vec::new(),
            }],
            entries: vec![
                entry(Platform::X86, None, 1058, 4),
                entry(Platform::EFI, Some(0), 34, 4096),
            ],
        }
    }

    #[test]
    fn catalog_round_trips() {
        let cat = esxi_like();
        let bytes = cat.to_bytes();
        assert_eq!(bytes.len(), 2048);
        assert_eq!(bytes[64], 0x91);
        assert_eq!(BootCatalog::parse(&bytes).unwrap(), cat);
    }

    #[test]
    fn wrong_checksum_and_key_are_reported() {
        let mut bytes = esxi_like().to_bytes();
        bytes[4] ^= 1;
        assert!(matches!(
            BootCatalog::parse(&bytes),
            Err(CatalogProblem::Checksum(_))
        ));
        bytes[4] ^= 1;
        bytes[31] = 0;
        assert_eq!(
            BootCatalog::parse(&bytes),
            Err(CatalogProblem::NoValidationEntry)
        );
        assert_eq!(
            BootCatalog::parse(&[]),
            Err(CatalogProblem::NoValidationEntry)
        );
    }

    #[test]
    fn bad_entries_and_truncation_are_reported() {
        let mut bytes = esxi_like().to_bytes();
        bytes[65 + 32] = 9; // media type of the section entry
        assert!(matches!(
            BootCatalog::parse(&bytes),
            Err(CatalogProblem::Entry { entry: 3, .. })
        ));
        let mut bytes = esxi_like().to_bytes();
        bytes[66] = 200; // the section claims 200 entries; zero entries follow to the sector end
        assert!(matches!(
            BootCatalog::parse(&bytes[..2048]),
            Err(CatalogProblem::Truncated { .. })
        ));
        assert!(matches!(
            BootCatalog::parse(&bytes[..96]),
            Err(CatalogProblem::Truncated { .. })
        ));
    }

    #[test]
    fn info_checksum_matches_word_sum() {
        let data: Vec<u8> = (0..1003u32).map(|i| (i * 7) as u8).collect();
        let mut c = InfoChecksum::default();
        c.update(&data[..5]);
        c.update(&data[5..]);
        let mut padded = data.clone();
        padded.resize(1004, 0);
        let want = padded.chunks(4).fold(0u32, |s, w| {
            s.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        });
        assert_eq!(c.finish(), want);
    }

    #[test]
    fn boot_record_round_trips() {
        assert_eq!(parse_boot_record(&boot_record(33)), Some(33));
        assert_eq!(parse_boot_record(&[0; 2048]), None);
    }
}
