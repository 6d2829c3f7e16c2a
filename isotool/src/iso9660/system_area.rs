//! The system area (the first 32 KiB) of a hybrid image: an MBR partition table and a GPT that
//! let the same file boot from a USB stick, and how to move their pointers when a remaster
//! lays the files out anew.
//!
//! `xorriso -isohybrid-mbr … -isohybrid-gpt-basdat` (and syslinux's `isohybrid --uefi`) write:
//! an MBR whose boot code holds the 512-byte LBA of the El Torito BIOS image at byte 432, an MBR
//! partition covering the whole image, one of type `0xEF` over the EFI boot image, a GPT with the
//! same two partitions, and a backup GPT in the image's last 512-byte sectors. Copying those
//! 32 KiB verbatim into a relaid image leaves every pointer wrong. [`SystemArea::relocate`]
//! rewrites what it can identify — a partition that starts in the system area and ends at the
//! image's end grows or shrinks with the image; a partition, or the boot-code LBA, that starts
//! exactly at a file's old extent moves with that file — recomputes the GPT checksums, and
//! returns the backup GPT to write at the end. Anything else is left untouched and listed in
//! [`Relocated::unmapped`], because guessing would be worse than saying so.

use super::bytes::{le32, le64, put, u8_at};
use super::{SECTOR_SIZE, SYSTEM_AREA_LEN};

const MBR_TABLE: usize = 446;
const MBR_BOOT_LBA: usize = 432;
const GPT_HEADER: usize = 512;
/// Partitions starting before this 512-byte sector start "in the system area".
const SYSTEM_AREA_SECTORS: u64 = (SYSTEM_AREA_LEN / 512) as u64;
/// A partition ending within this many 512-byte sectors of the old image end is taken to cover
/// the image up to its end (xorriso leaves the backup GPT, up to 1 MiB of alignment, outside).
const END_SLACK_SECTORS: u64 = 4096;

/// The first 32 KiB of an image.
#[derive(Clone, PartialEq, Eq)]
pub struct SystemArea(Box<[u8; SYSTEM_AREA_LEN]>);

impl std::fmt::Debug for SystemArea {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemArea")
            .field("zero", &self.is_zero())
            .field("mbr", &self.mbr_partitions())
            .field("gpt", &self.gpt().is_some())
            .finish()
    }
}

impl Default for SystemArea {
    fn default() -> Self {
        SystemArea(Box::new([0; SYSTEM_AREA_LEN]))
    }
}

/// One MBR partition table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MbrPartition {
    /// 1–4.
    pub number: u8,
    pub status: u8,
    pub partition_type: u8,
    /// First 512-byte sector.
    pub start: u32,
    /// Length in 512-byte sectors.
    pub sectors: u32,
}

/// A file that moved: where its data was in the source image and where it is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Moved {
    pub old_lba: u32,
    pub old_len: u64,
    pub new_lba: u32,
    pub new_len: u64,
}

/// The result of [`SystemArea::relocate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relocated {
    pub area: SystemArea,
    /// Bytes to write so that they end exactly at the end of the image: the backup GPT's entry
    /// array and header. Empty when there is no GPT.
    pub tail: Vec<u8>,
    /// What was changed, one line each (for a report).
    pub changed: Vec<String>,
    /// What could not be tied to the new layout and was left as in the source.
    pub unmapped: Vec<String>,
}

struct Gpt {
    header_size: usize,
    entries_lba: u64,
    entries: usize,
    entry_size: usize,
    last_usable: u64,
}

impl SystemArea {
    /// Wraps 32 KiB read from the start of an image.
    pub fn new(bytes: Box<[u8; SYSTEM_AREA_LEN]>) -> SystemArea {
        SystemArea(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; SYSTEM_AREA_LEN] {
        &self.0
    }

    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|&b| b == 0)
    }

    /// The used MBR partition entries, when the area ends its first sector with `55 AA`.
    pub fn mbr_partitions(&self) -> Vec<MbrPartition> {
        if self.0[510..512] != [0x55, 0xAA] {
            return Vec::new();
        }
        (0..4u8)
            .filter_map(|i| {
                let at = MBR_TABLE + 16 * usize::from(i);
                let p = MbrPartition {
                    number: i + 1,
                    status: u8_at(&self.0[..], at)?,
                    partition_type: u8_at(&self.0[..], at + 4)?,
                    start: le32(&self.0[..], at + 8)?,
                    sectors: le32(&self.0[..], at + 12)?,
                };
                (p.partition_type != 0 || p.sectors != 0).then_some(p)
            })
            .collect()
    }

    /// The 512-byte LBA stored in the isohybrid MBR boot code (byte 432), if non-zero.
    pub fn boot_code_lba(&self) -> Option<u64> {
        (self.0[510..512] == [0x55, 0xAA])
            .then(|| le64(&self.0[..], MBR_BOOT_LBA))
            .flatten()
            .filter(|&lba| lba != 0)
    }

    fn gpt(&self) -> Option<Gpt> {
        if self.0.get(GPT_HEADER..GPT_HEADER + 8) != Some(&b"EFI PART"[..]) {
            return None;
        }
        let h = &self.0[GPT_HEADER..];
        let header_size = le32(h, 12)? as usize;
        let entries = le32(h, 80)? as usize;
        let entry_size = le32(h, 84)? as usize;
        let entries_lba = le64(h, 72)?;
        let gpt = Gpt {
            header_size,
            entries_lba,
            entries,
            entry_size,
            last_usable: le64(h, 48)?,
        };
        let array_end = (entries_lba as usize)
            .checked_mul(512)?
            .checked_add(entries.checked_mul(entry_size)?)?;
        let sane = (92..=512).contains(&header_size)
            && entry_size >= 128
            && entry_size % 8 == 0
            && array_end <= SYSTEM_AREA_LEN
            && header_crc(h, header_size) == le32(h, 16);
        sane.then_some(gpt)
    }

    /// Whether the area holds a GPT this module can rewrite.
    pub fn has_gpt(&self) -> bool {
        self.gpt().is_some()
    }

    /// Blocks to reserve at the end of the new image for the backup GPT.
    pub fn tail_blocks(&self) -> u64 {
        self.gpt().map_or(0, |g| {
            let sectors = (g.entries * g.entry_size).div_ceil(512) as u64 + 1;
            (sectors * 512).div_ceil(SECTOR_SIZE)
        })
    }

    /// Whether the source image (of `source_len` bytes) was padded to whole MiB for an MBR
    /// partition covering it (xorriso's `cyl-align-on`); a relaid image should be padded alike.
    pub fn mib_aligned(&self, source_len: u64) -> bool {
        source_len % (1 << 20) == 0
            && self.mbr_partitions().iter().any(|p| {
                u64::from(p.start) < SYSTEM_AREA_SECTORS
                    && u64::from(p.start) + u64::from(p.sectors) == source_len / 512
            })
    }

    /// Rewrites the partition tables for an image relaid from a `source_len`-byte source into a
    /// `new_len`-byte image, in which the files in `moved` now live elsewhere.
    pub fn relocate(&self, source_len: u64, new_len: u64, moved: &[Moved]) -> Relocated {
        let mut out = Relocated {
            area: self.clone(),
            tail: Vec::new(),
            changed: Vec::new(),
            unmapped: Vec::new(),
        };
        let old_total = source_len / 512;
        let new_total = new_len / 512;
        let plan = Plan {
            old_total,
            new_total,
            moved,
        };
        let parts = self.mbr_partitions();
        for p in &parts {
            let at = MBR_TABLE + 16 * usize::from(p.number - 1);
            match plan.map(u64::from(p.start), u64::from(p.sectors)) {
                Some((start, sectors)) if (start, sectors) == (u64::from(p.start), u64::from(p.sectors)) => {}
                Some((start, sectors)) => {
                    let (Ok(start32), Ok(sectors32)) = (u32::try_from(start), u32::try_from(sectors)) else {
                        out.unmapped.push(format!("MBR partition {}: new place beyond 2 TiB", p.number));
                        continue;
                    };
                    let area = &mut out.area.0[..];
                    if chs_matches(area, at, u64::from(p.start), u64::from(p.sectors)) {
                        put(area, at + 1, &chs(start));
                        put(area, at + 5, &chs(start + sectors.saturating_sub(1)));
                    }
                    put(area, at + 8, &start32.to_le_bytes());
                    put(area, at + 12, &sectors32.to_le_bytes());
                    out.changed.push(format!(
                        "MBR partition {} (type {:#04x}): sectors {}+{} → {}+{}",
                        p.number, p.partition_type, p.start, p.sectors, start, sectors
                    ));
                }
                None => out.unmapped.push(format!(
                    "MBR partition {} (type {:#04x}, sectors {}+{}) matches no file and does not cover the image; left as in the source",
                    p.number, p.partition_type, p.start, p.sectors
                )),
            }
        }
        if let Some(lba) = self.boot_code_lba() {
            match moved.iter().find(|m| u64::from(m.old_lba) * 4 == lba) {
                Some(m) => {
                    let new = u64::from(m.new_lba) * 4;
                    put(&mut out.area.0[..], MBR_BOOT_LBA, &new.to_le_bytes());
                    if new != lba {
                        out.changed.push(format!("MBR boot code: boot image sector {lba} → {new}"));
                    }
                }
                None => out.unmapped.push(format!(
                    "MBR boot code points at sector {lba}, which is no file's start; left as in the source"
                )),
            }
        }
        if let Some(gpt) = self.gpt() {
            self.relocate_gpt(&gpt, &plan, &mut out);
        } else if self.0.get(GPT_HEADER..GPT_HEADER + 8) == Some(&b"EFI PART"[..]) {
            out.unmapped
                .push("GPT header is damaged (bad CRC or sizes); left as in the source".into());
        }
        if self.0[..2] == *b"ER" {
            out.unmapped
                .push("Apple partition map found; it is not relocated".into());
        }
        out
    }

    fn relocate_gpt(&self, gpt: &Gpt, plan: &Plan<'_>, out: &mut Relocated) {
        let array_len = gpt.entries * gpt.entry_size;
        let array_sectors = array_len.div_ceil(512) as u64;
        let backup_lba = plan.new_total.saturating_sub(1);
        let new_last_usable = backup_lba.saturating_sub(array_sectors + 1);
        let old_last_usable = gpt.last_usable;
        let array_at = gpt.entries_lba as usize * 512;
        let area = &mut out.area.0;
        for i in 0..gpt.entries {
            let at = array_at + i * gpt.entry_size;
            let (Some(first), Some(last)) = (le64(&area[..], at + 32), le64(&area[..], at + 40))
            else {
                continue;
            };
            if area[at..at + 16].iter().all(|&b| b == 0) || last < first {
                continue;
            }
            let len = last - first + 1;
            let mapped =
                if first < SYSTEM_AREA_SECTORS && last + END_SLACK_SECTORS >= old_last_usable {
                    // Keep the distance to the last usable sector.
                    let gap = old_last_usable.saturating_sub(last);
                    Some((
                        first,
                        (new_last_usable.saturating_sub(gap) + 1).saturating_sub(first),
                    ))
                } else {
                    plan.file(first, len)
                };
            match mapped {
                Some((f, l)) if (f, l) == (first, len) => {}
                Some((f, l)) => {
                    let end = (f + l).saturating_sub(1);
                    put(&mut area[..], at + 32, &f.to_le_bytes());
                    put(&mut area[..], at + 40, &end.to_le_bytes());
                    out.changed.push(format!("GPT partition {}: sectors {first}–{last} → {f}–{end}", i + 1));
                }
                None => out.unmapped.push(format!(
                    "GPT partition {} (sectors {first}–{last}) matches no file and does not cover the image; left as in the source",
                    i + 1
                )),
            }
        }
        let entries_crc = crc32fast::hash(&area[array_at..array_at + array_len]);
        let h = GPT_HEADER;
        put(&mut area[..], h + 32, &backup_lba.to_le_bytes());
        put(&mut area[..], h + 48, &new_last_usable.to_le_bytes());
        put(&mut area[..], h + 88, &entries_crc.to_le_bytes());
        let crc = header_crc(&area[h..], gpt.header_size).unwrap_or(0);
        put(&mut area[..], h + 16, &crc.to_le_bytes());
        out.changed.push(format!(
            "GPT header: backup at sector {backup_lba}, last usable {new_last_usable}"
        ));

        // The backup: the entry array, then a header that points back at the primary.
        let mut tail = vec![0u8; (array_sectors as usize + 1) * 512];
        tail[..array_len].copy_from_slice(&area[array_at..array_at + array_len]);
        let backup = &mut tail[array_sectors as usize * 512..];
        backup[..gpt.header_size].copy_from_slice(&area[h..h + gpt.header_size]);
        put(backup, 24, &backup_lba.to_le_bytes());
        put(backup, 32, &1u64.to_le_bytes());
        put(backup, 72, &(backup_lba - array_sectors).to_le_bytes());
        let crc = header_crc(backup, gpt.header_size).unwrap_or(0);
        put(backup, 16, &crc.to_le_bytes());
        out.tail = tail;
    }
}

struct Plan<'a> {
    old_total: u64,
    new_total: u64,
    moved: &'a [Moved],
}

impl Plan<'_> {
    /// New (start, length) in 512-byte sectors for an MBR partition, or `None` if unknown.
    fn map(&self, start: u64, len: u64) -> Option<(u64, u64)> {
        let end = start + len;
        if start < SYSTEM_AREA_SECTORS
            && end + END_SLACK_SECTORS >= self.old_total
            && end <= self.old_total
        {
            let gap = self.old_total - end;
            return Some((
                start,
                self.new_total.saturating_sub(gap).saturating_sub(start),
            ));
        }
        self.file(start, len)
    }

    /// A partition that starts where a moved file started, with the file's length (in 512-byte
    /// sectors, or in whole blocks) if it had it.
    fn file(&self, start: u64, len: u64) -> Option<(u64, u64)> {
        let m = self
            .moved
            .iter()
            .find(|m| u64::from(m.old_lba) * 4 == start)?;
        let new_len = if len == m.old_len.div_ceil(512) {
            m.new_len.div_ceil(512)
        } else if len == m.old_len.div_ceil(SECTOR_SIZE) * 4 {
            m.new_len.div_ceil(SECTOR_SIZE) * 4
        } else {
            len
        };
        Some((u64::from(m.new_lba) * 4, new_len))
    }
}

fn header_crc(header: &[u8], size: usize) -> Option<u32> {
    let mut copy = header.get(..size)?.to_vec();
    copy.get_mut(16..20)?.fill(0);
    Some(crc32fast::hash(&copy))
}

/// CHS address of a 512-byte sector in the 64-head, 32-sector geometry isohybrid uses;
/// beyond cylinder 1023 the conventional `FE FF FF`.
fn chs(lba: u64) -> [u8; 3] {
    let (heads, sectors) = (64u64, 32u64);
    let cylinder = lba / (heads * sectors);
    if cylinder > 1023 {
        return [0xFE, 0xFF, 0xFF];
    }
    let head = (lba / sectors) % heads;
    let sector = lba % sectors + 1;
    [
        head as u8,
        (sector as u8) | (((cylinder >> 8) as u8) << 6),
        cylinder as u8,
    ]
}

/// Whether an entry's CHS fields were written for the isohybrid geometry (else they are left
/// alone: `FE FF FF` markers, or another tool's geometry).
fn chs_matches(area: &[u8], at: usize, start: u64, sectors: u64) -> bool {
    area.get(at + 1..at + 4) == Some(&chs(start)[..])
        && area.get(at + 5..at + 8) == Some(&chs(start + sectors.saturating_sub(1))[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A system area shaped like xorriso's `-isohybrid-gpt-basdat` output for a 6144-sector
    /// image with the EFI image at block 34 (1 MiB) and isolinux at block 1058.
    fn hybrid() -> SystemArea {
        let mut a = [0u8; SYSTEM_AREA_LEN];
        put(&mut a, MBR_BOOT_LBA, &(1058u64 * 4).to_le_bytes());
        let mut entry = |n: usize, status: u8, kind: u8, start: u32, len: u32, geometry: bool| {
            let at = MBR_TABLE + 16 * n;
            a[at] = status;
            a[at + 4] = kind;
            if geometry {
                put(&mut a, at + 1, &chs(u64::from(start)));
                put(&mut a, at + 5, &chs(u64::from(start + len - 1)));
            } else {
                put(&mut a, at + 1, &[0xFE, 0xFF, 0xFF]);
                put(&mut a, at + 5, &[0xFE, 0xFF, 0xFF]);
            }
            put(&mut a, at + 8, &start.to_le_bytes());
            put(&mut a, at + 12, &len.to_le_bytes());
        };
        entry(0, 0x80, 0x00, 0, 6144, true);
        entry(1, 0x00, 0xEF, 136, 4096, false);
        a[510] = 0x55;
        a[511] = 0xAA;
        let h = GPT_HEADER;
        put(&mut a, h, b"EFI PART");
        put(&mut a, h + 8, &0x10000u32.to_le_bytes());
        put(&mut a, h + 12, &92u32.to_le_bytes());
        put(&mut a, h + 24, &1u64.to_le_bytes());
        put(&mut a, h + 32, &6143u64.to_le_bytes());
        put(&mut a, h + 40, &64u64.to_le_bytes());
        put(&mut a, h + 48, &6080u64.to_le_bytes());
        put(&mut a, h + 72, &2u64.to_le_bytes());
        put(&mut a, h + 80, &248u32.to_le_bytes());
        put(&mut a, h + 84, &128u32.to_le_bytes());
        for (i, (first, last)) in [(0u64, 6079u64), (136, 4231)].into_iter().enumerate() {
            let at = 1024 + 128 * i;
            put(&mut a, at, &[0xA2; 16]);
            put(&mut a, at + 32, &first.to_le_bytes());
            put(&mut a, at + 40, &last.to_le_bytes());
        }
        let crc = crc32fast::hash(&a[1024..1024 + 248 * 128]);
        put(&mut a, h + 88, &crc.to_le_bytes());
        let crc = header_crc(&a[h..], 92).unwrap();
        put(&mut a, h + 16, &crc.to_le_bytes());
        SystemArea::new(Box::new(a))
    }

    #[test]
    fn partitions_follow_the_files_and_the_image_size() {
        let area = hybrid();
        assert!(area.has_gpt());
        assert!(area.mib_aligned(6144 * 512));
        assert_eq!(area.tail_blocks(), 16);
        let moved = [
            Moved {
                old_lba: 34,
                old_len: 2 << 20,
                new_lba: 40,
                new_len: 2 << 20,
            },
            Moved {
                old_lba: 1058,
                old_len: 38912,
                new_lba: 30,
                new_len: 38912,
            },
        ];
        let r = area.relocate(6144 * 512, 8192 * 512, &moved);
        assert_eq!(r.unmapped, Vec::<String>::new());
        let parts = r.area.mbr_partitions();
        assert_eq!((parts[0].start, parts[0].sectors), (0, 8192));
        assert_eq!((parts[1].start, parts[1].sectors), (160, 4096));
        assert_eq!(r.area.boot_code_lba(), Some(120));
        assert!(r.area.has_gpt(), "primary header CRC recomputed");
        let a = r.area.as_bytes();
        assert_eq!(
            le64(a, 1024 + 40),
            Some(8127),
            "whole-image GPT partition keeps its gap"
        );
        assert_eq!(le64(a, 1024 + 128 + 32), Some(160));
        assert_eq!(le64(a, GPT_HEADER + 32), Some(8191));
        // The backup header is the last sector of the tail and points back at LBA 1.
        assert_eq!(r.tail.len(), 63 * 512);
        let backup = &r.tail[62 * 512..];
        assert_eq!(&backup[..8], b"EFI PART");
        assert_eq!(le64(backup, 24), Some(8191));
        assert_eq!(le64(backup, 32), Some(1));
        assert_eq!(le64(backup, 72), Some(8191 - 62));
        assert_eq!(header_crc(backup, 92), le32(backup, 16));
    }

    #[test]
    fn unknown_partitions_are_reported_not_guessed() {
        let r = hybrid().relocate(6144 * 512, 8192 * 512, &[]);
        assert_eq!(r.unmapped.len(), 3, "{:?}", r.unmapped);
        assert!(r.unmapped.iter().any(|u| u.contains("MBR partition 2")));
        assert!(r.unmapped.iter().any(|u| u.contains("boot code")));
        assert!(r.unmapped.iter().any(|u| u.contains("GPT partition 2")));
    }

    #[test]
    fn a_zero_area_has_nothing_to_move() {
        let r = SystemArea::default().relocate(1 << 20, 2 << 20, &[]);
        assert!(r.changed.is_empty() && r.unmapped.is_empty() && r.tail.is_empty());
        assert_eq!(SystemArea::default().tail_blocks(), 0);
    }

    #[test]
    fn damaged_gpt_is_left_alone() {
        let mut bytes = hybrid().as_bytes().to_owned();
        bytes[GPT_HEADER + 16] ^= 1;
        let area = SystemArea::new(Box::new(bytes));
        assert!(!area.has_gpt());
        let r = area.relocate(6144 * 512, 6144 * 512, &[]);
        assert!(
            r.unmapped
                .iter()
                .any(|u| u.contains("GPT header is damaged"))
        );
    }
}
