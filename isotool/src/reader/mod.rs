//! Reading ISO 9660 images: volume descriptors, the three name trees, file data as a stream, the
//! El Torito boot catalog and boot-info-tables.
//!
//! [`Image::open`] reads only the volume descriptors and the root directory's first sector.
//! Directories are read one at a time ([`Image::read_dir`]), file data is streamed
//! ([`Image::open_file`], [`Image::copy_file`]) and never held whole in memory. Every length and
//! pointer read from the image is checked against the image's size before it is followed,
//! directory walks refuse loops and absurd depths, and every loop over on-disk data is bounded,
//! so a damaged or hostile image gives an [`Error`] naming the structure and its LBA or path —
//! never a panic or a hang.
//!
//! ```no_run
//! use esxforge_isotool::reader::{Image, Names};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut image = Image::open(std::fs::File::open("esxi.iso")?)?;
//! println!("volume {}", image.primary().ids.volume_id);
//! if let Some(cfg) = image.lookup("/EFI/BOOT/BOOT.CFG", Names::Primary)? {
//!     let mut text = String::new();
//!     std::io::Read::read_to_string(&mut image.open_file(&cfg)?, &mut text)?;
//! }
//! for entry in image.walk(Names::Primary)? {
//!     let entry = entry?;
//!     println!("{} {} bytes at LBA {}", entry.path, entry.size, entry.lba());
//! }
//! # Ok(()) }
//! ```

mod check;
mod dir;
mod entry;
mod file;
mod walk;

use std::io::{Read, Seek, SeekFrom};

pub use entry::{Entry, EntryKind, Names};
pub use file::FileReader;
pub use walk::Walk;

use crate::iso9660::directory::Extent;
use crate::iso9660::eltorito::{
    BootCatalog, BootEntry, BootInfoTable, InfoChecksum, MAX_CATALOG_LEN,
};
use crate::iso9660::rockridge;
use crate::iso9660::system_area::SystemArea;
use crate::iso9660::volume::{Descriptor, FIRST_DESCRIPTOR_LBA, VolumeDescriptor, VolumeKind};
use crate::iso9660::{Error, Result, SECTOR_SIZE, SYSTEM_AREA_LEN};

/// Volume descriptors read before giving up on finding a terminator.
const MAX_DESCRIPTORS: u32 = 64;

/// Rock Ridge as found on an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RockRidgeInfo {
    /// Bytes to skip at the start of each System Use area (`SP` `len_skp`).
    pub skip: u8,
    /// Extension identifiers from the root's `ER` entries (`RRIP_1991A`, `IEEE_P1282`, …).
    pub extensions: Vec<String>,
}

/// The boot-info-table of a boot image, as found and as checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootInfoStatus {
    /// The table's fields as recorded.
    pub table: BootInfoTable,
    /// `file_len` equals the file's size.
    pub length_ok: bool,
    /// The sum of the file's bytes from offset 64 to `file_len` (what `checksum` must be).
    pub computed_checksum: u32,
}

impl BootInfoStatus {
    /// The recorded checksum is the sum of the file's bytes.
    pub fn checksum_ok(&self) -> bool {
        self.computed_checksum == self.table.checksum
    }

    /// Everything in the table agrees with the file: the table was written for these bytes at
    /// this place.
    pub fn is_valid(&self) -> bool {
        self.length_ok && self.checksum_ok()
    }
}

/// An ISO 9660 image open for reading.
#[derive(Debug)]
pub struct Image<R> {
    inner: R,
    len: u64,
    primary: VolumeDescriptor,
    primary_lba: u32,
    joliet: Option<VolumeDescriptor>,
    catalog_lba: Option<u32>,
    rock_ridge: Option<RockRidgeInfo>,
}

impl<R: Read + Seek> Image<R> {
    /// Opens an image: reads the volume descriptor set and detects Rock Ridge.
    pub fn open(mut inner: R) -> Result<Image<R>> {
        let len = inner
            .seek(SeekFrom::End(0))
            .map_err(Error::io("finding the image's size"))?;
        let mut primary = None;
        let mut joliet = None;
        let mut catalog_lba = None;
        let mut sector = vec![0u8; SECTOR_SIZE as usize];
        for lba in FIRST_DESCRIPTOR_LBA..FIRST_DESCRIPTOR_LBA + MAX_DESCRIPTORS {
            if u64::from(lba + 1) * SECTOR_SIZE > len {
                if primary.is_some() {
                    break;
                }
                return Err(Error::NotIso {
                    reason: format!(
                        "the image has {len} bytes, too short for a volume descriptor at LBA {lba}"
                    ),
                });
            }
            read_exact_at(
                &mut inner,
                u64::from(lba) * SECTOR_SIZE,
                &mut sector,
                || format!("reading the volume descriptor at LBA {lba}"),
            )?;
            let descriptor = match Descriptor::parse(&sector) {
                Ok(d) => d,
                Err(problem) if lba == FIRST_DESCRIPTOR_LBA => {
                    return Err(Error::NotIso {
                        reason: format!("LBA 16: {problem}"),
                    });
                }
                // A set without terminator: what follows is data.
                Err(_) if primary.is_some() => break,
                Err(problem) => {
                    return Err(Error::Malformed {
                        what: "volume descriptor".into(),
                        lba: lba.into(),
                        problem,
                    });
                }
            };
            match descriptor {
                Descriptor::Primary(pvd) if primary.is_none() => primary = Some((pvd, lba)),
                Descriptor::Supplementary(svd)
                    if joliet.is_none() && matches!(svd.kind, VolumeKind::Joliet { .. }) =>
                {
                    joliet = Some(svd);
                }
                Descriptor::BootRecord {
                    catalog: Some(catalog),
                } if catalog_lba.is_none() => catalog_lba = Some(catalog),
                Descriptor::Terminator => break,
                _ => {}
            }
        }
        let (primary, primary_lba) = primary.ok_or_else(|| Error::NotIso {
            reason: "no primary volume descriptor before the set terminator".into(),
        })?;
        for (descriptor, what) in [(Some(&primary), "primary"), (joliet.as_ref(), "Joliet")] {
            let Some(d) = descriptor else { continue };
            if u64::from(d.logical_block_size) != SECTOR_SIZE {
                return Err(Error::Unsupported {
                    what: format!("{what} volume descriptor"),
                    problem: format!(
                        "logical block size {} (only 2048 is read)",
                        d.logical_block_size
                    ),
                });
            }
        }
        let mut image = Image {
            inner,
            len,
            primary,
            primary_lba,
            joliet,
            catalog_lba,
            rock_ridge: None,
        };
        image.rock_ridge = image.detect_rock_ridge()?;
        Ok(image)
    }

    /// Size of the image in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the image has no bytes (never true for an opened image).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The Primary Volume Descriptor.
    pub fn primary(&self) -> &VolumeDescriptor {
        &self.primary
    }

    /// The Joliet Supplementary Volume Descriptor, if the image has one.
    pub fn joliet(&self) -> Option<&VolumeDescriptor> {
        self.joliet.as_ref()
    }

    /// Rock Ridge, if the image has it.
    pub fn rock_ridge(&self) -> Option<&RockRidgeInfo> {
        self.rock_ridge.as_ref()
    }

    /// The richest names the image has: Rock Ridge, else Joliet, else primary.
    pub fn best_names(&self) -> Names {
        if self.rock_ridge.is_some() {
            Names::RockRidge
        } else if self.joliet.is_some() {
            Names::Joliet
        } else {
            Names::Primary
        }
    }

    /// Whether the image has the names `names` asks for.
    pub fn has_names(&self, names: Names) -> bool {
        match names {
            Names::Primary => true,
            Names::RockRidge => self.rock_ridge.is_some(),
            Names::Joliet => self.joliet.is_some(),
        }
    }

    /// The first 32 KiB: MBR, GPT or whatever the platform put there.
    pub fn system_area(&mut self) -> Result<SystemArea> {
        let mut bytes = Box::new([0u8; SYSTEM_AREA_LEN]);
        self.read_bytes(0, &mut bytes[..], || "the system area".into())?;
        Ok(SystemArea::new(bytes))
    }

    /// LBA of the El Torito boot catalog, if the image has a boot record.
    pub fn boot_catalog_lba(&self) -> Option<u32> {
        self.catalog_lba
    }

    /// The El Torito boot catalog, if the image has a boot record; an error if the catalog it
    /// points at is damaged (checksum, entries, or past the end of the image).
    pub fn boot_catalog(&mut self) -> Result<Option<BootCatalog>> {
        let Some(lba) = self.catalog_lba else {
            return Ok(None);
        };
        let start = u64::from(lba) * SECTOR_SIZE;
        let available = self.len.saturating_sub(start).min(MAX_CATALOG_LEN as u64);
        if available < 64 {
            return Err(Error::PastEnd {
                what: "boot catalog".into(),
                lba: lba.into(),
                len: 64,
                image_len: self.len,
            });
        }
        let mut buf = vec![0u8; available as usize];
        self.read_bytes(start, &mut buf, || format!("the boot catalog at LBA {lba}"))?;
        BootCatalog::parse(&buf)
            .map(Some)
            .map_err(|problem| Error::Malformed {
                what: "boot catalog".into(),
                lba: lba.into(),
                problem: problem.to_string(),
            })
    }

    /// The root directory in a namespace.
    pub fn root(&self, names: Names) -> Result<Entry> {
        let descriptor = match names {
            Names::Joliet => self.joliet.as_ref().ok_or_else(|| Error::WrongKind {
                path: "/".into(),
                problem: "the image has no Joliet tree".into(),
            })?,
            Names::RockRidge if self.rock_ridge.is_none() => {
                return Err(Error::WrongKind {
                    path: "/".into(),
                    problem: "the image has no Rock Ridge names".into(),
                });
            }
            Names::Primary | Names::RockRidge => &self.primary,
        };
        let root = &descriptor.root;
        Ok(Entry {
            name: String::new(),
            path: "/".into(),
            identifier: String::new(),
            kind: EntryKind::Directory,
            extents: vec![root.extent],
            size: root.extent.len.into(),
            hidden: false,
            recorded: root.recorded,
            rock_ridge: None,
            interleaved: false,
            names,
            record_lba: self.primary_lba,
        })
    }

    /// The entries of a directory (without `.` and `..`), in on-disk order.
    pub fn read_dir(&mut self, dir: &Entry) -> Result<Vec<Entry>> {
        dir::read(self, dir)
    }

    /// Finds a path (`/`-separated; a leading `/` optional). Primary names match as ESXi's loader
    /// matches them: ASCII case-insensitive, `;1` optional. Rock Ridge and Joliet names match
    /// exactly.
    pub fn lookup(&mut self, path: &str, names: Names) -> Result<Option<Entry>> {
        let mut current = self.root(names)?;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !current.is_dir() {
                return Ok(None);
            }
            let entries = self.read_dir(&current)?;
            let found = entries.into_iter().find(|e| match names {
                Names::Primary => crate::iso9660::name::loader_eq(&e.identifier, part),
                Names::RockRidge | Names::Joliet => e.name == part,
            });
            match found {
                Some(e) => current = e,
                None => return Ok(None),
            }
        }
        Ok(Some(current))
    }

    /// Every entry of a tree, depth-first, each directory's entries sorted by name. Loops,
    /// absurd depths and entry counts end the walk with an error.
    pub fn walk(&mut self, names: Names) -> Result<Walk<'_, R>> {
        Walk::new(self, names)
    }

    /// A reader of a file's data (all its extents in order).
    pub fn open_file(&mut self, entry: &Entry) -> Result<FileReader<'_, R>> {
        FileReader::new(self, entry)
    }

    /// Copies a file's data into `out` and returns the number of bytes copied. With a `File`
    /// (or `&File`) on both sides this is `copy_file_range(2)` on Linux: the data does not pass
    /// through user space.
    pub fn copy_file<W: std::io::Write + ?Sized>(
        &mut self,
        entry: &Entry,
        out: &mut W,
    ) -> Result<u64> {
        self.check_readable(entry)?;
        let mut copied = 0;
        for extent in &entry.extents {
            copied += self.copy_extent(*extent, out, &entry.path)?;
        }
        Ok(copied)
    }

    /// Copies one extent's bytes into `out` (see [`Image::copy_file`]).
    pub fn copy_extent<W: std::io::Write + ?Sized>(
        &mut self,
        extent: Extent,
        out: &mut W,
        what: &str,
    ) -> Result<u64> {
        self.check_extent(extent, what)?;
        self.inner
            .seek(SeekFrom::Start(extent.offset()))
            .map_err(Error::io(format!("seeking to {what}")))?;
        let want = u64::from(extent.len);
        let copied = std::io::copy(&mut (&mut self.inner).take(want), out)
            .map_err(Error::io(format!("copying {what} (LBA {})", extent.lba)))?;
        if copied != want {
            return Err(Error::PastEnd {
                what: what.into(),
                lba: extent.lba.into(),
                len: want,
                image_len: self.len,
            });
        }
        Ok(copied)
    }

    /// The entry whose data starts at `lba`, searched in the primary tree (for boot images).
    pub fn find_by_lba(&mut self, lba: u32) -> Result<Option<Entry>> {
        for entry in self.walk(Names::Primary)? {
            let entry = entry?;
            if !entry.is_dir() && entry.lba() == lba && entry.size > 0 {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    /// The boot-info-table of a boot image file, if it has one, checked against the file's bytes.
    ///
    /// A table is recognised by its LBA fields: the 56 bytes at offset 8 name LBA 16 as the PVD
    /// and the file's own LBA. Whether it is right is then decided by its length and checksum,
    /// the checksum computed by streaming the file ([`BootInfoStatus::is_valid`]). xorriso
    /// reports only valid tables; this also returns one whose LBAs match and whose checksum does
    /// not — a table left in an `isolinux.bin` copied out of another image, say — because isolinux
    /// refuses to run with it and `iso verify` must say why.
    pub fn boot_info_table(&mut self, boot_file: &Entry) -> Result<Option<BootInfoStatus>> {
        if boot_file.size < BootInfoTable::CHECKSUM_FROM as u64 {
            return Ok(None);
        }
        let mut reader = self.open_file(boot_file)?;
        let mut head = [0u8; BootInfoTable::CHECKSUM_FROM];
        reader
            .read_exact(&mut head)
            .map_err(Error::io(format!("reading {}", boot_file.path)))?;
        let Some(table) = BootInfoTable::parse(&head) else {
            return Ok(None);
        };
        if table.pvd_lba != FIRST_DESCRIPTOR_LBA || table.file_lba != boot_file.lba() {
            return Ok(None);
        }
        let length_ok = u64::from(table.file_len) == boot_file.size;
        let mut sum = InfoChecksum::default();
        let mut rest = u64::from(table.file_len)
            .min(boot_file.size)
            .saturating_sub(64);
        let mut buf = vec![0u8; 64 * 1024];
        while rest > 0 {
            let n = buf.len().min(rest as usize);
            let chunk = buf.get_mut(..n).unwrap_or_default();
            reader
                .read_exact(chunk)
                .map_err(Error::io(format!("reading {}", boot_file.path)))?;
            sum.update(chunk);
            rest -= n as u64;
        }
        Ok(Some(BootInfoStatus {
            table,
            length_ok,
            computed_checksum: sum.finish(),
        }))
    }

    /// The file a boot entry loads, if its load RBA is the start of a file.
    pub fn boot_image_file(&mut self, entry: &BootEntry) -> Result<Option<Entry>> {
        self.find_by_lba(entry.load_rba)
    }

    /// Checks that the type L and type M path tables agree with each other and with the
    /// directory tree, for the primary volume and (if present) the Joliet volume.
    pub fn check_path_tables(&mut self) -> Result<()> {
        check::path_tables(self, Names::Primary)?;
        if self.joliet.is_some() {
            check::path_tables(self, Names::Joliet)?;
        }
        Ok(())
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    // ---- internals shared by the submodules

    fn detect_rock_ridge(&mut self) -> Result<Option<RockRidgeInfo>> {
        let root = self.primary.root.extent;
        self.check_extent(
            Extent {
                lba: root.lba,
                len: root.len.min(SECTOR_SIZE as u32),
            },
            "the root directory",
        )?;
        let mut sector = vec![0u8; SECTOR_SIZE as usize];
        self.read_bytes(root.offset(), &mut sector, || "the root directory".into())?;
        let Ok(Some((dot, _))) = crate::iso9660::directory::DirectoryRecord::parse(&sector) else {
            return Ok(None);
        };
        let Some(skip) = rockridge::sp_skip(&dot.system_use) else {
            return Ok(None);
        };
        // ER usually sits in a continuation area of the root's `.` record.
        let mut extensions = rockridge::extension_ids(&dot.system_use);
        let mut collector = rockridge::Collector::default();
        let mut next = collector.add_area(&dot.system_use).ok().flatten();
        for _ in 0..dir::MAX_CONTINUATIONS {
            let Some(ce) = next.take() else { break };
            let Ok(area) = self.continuation_area(ce, "/") else {
                break;
            };
            extensions.extend(rockridge::extension_ids(&area));
            next = collector.add_area(&area).ok().flatten();
        }
        let has_rrip = rockridge::is_rock_ridge(&extensions)
            || rockridge::entries(&dot.system_use)
                .filter_map(|e| e.ok())
                .any(|e| matches!(&e.signature, b"RR" | b"PX" | b"NM"));
        Ok(has_rrip.then_some(RockRidgeInfo { skip, extensions }))
    }

    /// Reads a continuation area after checking it lies inside the image and one sector.
    fn continuation_area(&mut self, ce: rockridge::Continuation, path: &str) -> Result<Vec<u8>> {
        if u64::from(ce.offset) + u64::from(ce.len) > SECTOR_SIZE {
            return Err(Error::Malformed {
                what: format!("Rock Ridge continuation area of {path}"),
                lba: ce.lba.into(),
                problem: format!(
                    "offset {} + length {} runs past its sector",
                    ce.offset, ce.len
                ),
            });
        }
        let start = u64::from(ce.lba) * SECTOR_SIZE + u64::from(ce.offset);
        let mut area = vec![0u8; ce.len as usize];
        self.read_bytes(start, &mut area, || {
            format!("the Rock Ridge continuation area of {path}")
        })?;
        Ok(area)
    }

    fn check_extent(&self, extent: Extent, what: &str) -> Result<()> {
        if extent.offset() + u64::from(extent.len) > self.len {
            return Err(Error::PastEnd {
                what: what.into(),
                lba: extent.lba.into(),
                len: extent.len.into(),
                image_len: self.len,
            });
        }
        Ok(())
    }

    fn check_readable(&self, entry: &Entry) -> Result<()> {
        if entry.is_dir() {
            return Err(Error::WrongKind {
                path: entry.path.clone(),
                problem: "is a directory".into(),
            });
        }
        if entry.interleaved {
            return Err(Error::Unsupported {
                what: entry.path.clone(),
                problem: "interleaved file (file unit size / interleave gap set); not read".into(),
            });
        }
        for extent in &entry.extents {
            self.check_extent(*extent, &entry.path)?;
        }
        Ok(())
    }

    /// Fills `buf` from byte `offset`, or reports what was being read when the image ends first.
    fn read_bytes(&mut self, offset: u64, buf: &mut [u8], what: impl Fn() -> String) -> Result<()> {
        if offset + buf.len() as u64 > self.len {
            return Err(Error::PastEnd {
                what: what(),
                lba: offset / SECTOR_SIZE,
                len: buf.len() as u64,
                image_len: self.len,
            });
        }
        read_exact_at(&mut self.inner, offset, buf, || {
            format!("reading {}", what())
        })
    }
}

fn read_exact_at<R: Read + Seek>(
    inner: &mut R,
    offset: u64,
    buf: &mut [u8],
    what: impl Fn() -> String,
) -> Result<()> {
    inner
        .seek(SeekFrom::Start(offset))
        .map_err(|source| Error::Io {
            context: what(),
            source,
        })?;
    inner.read_exact(buf).map_err(|source| Error::Io {
        context: what(),
        source,
    })
}
