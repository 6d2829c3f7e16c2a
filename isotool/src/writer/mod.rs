//! Writing ISO 9660 images: a [`Builder`] collects a tree of files — each from memory, a local
//! file, any reader, or an extent range of a source image — then [`Builder::finish`] lays it out
//! and streams it to a `Write` in one pass.
//!
//! The layout is a pure function of the tree and the [`Options`]: entries are sorted by their
//! recorded identifiers, blocks are allocated in a fixed order (descriptors, boot catalog, path
//! tables, directories, continuation areas, file data in tree order, padding), and every
//! timestamp is [`Options::timestamp`] — so the same inputs give the same bytes, whatever order
//! the files were added in. Memory grows with the number of entries, never with file sizes:
//! file data is copied with `std::io::copy`, which Linux turns into `copy_file_range(2)` when
//! both ends are files (`Source::Path`, `Source::Image`, and an output `File` or `&File`).
//!
//! Names: each entry has one name (a path component); its primary identifier follows
//! [`Options::naming`] (ESXi media: uppercase 8.3, `;1`), its Joliet and Rock Ridge names are the
//! name itself. A name that cannot be recorded is an error, and so are two names that would be
//! recorded alike — the builder never renames.
//!
//! ```no_run
//! use esxforge_isotool::writer::{Builder, BootImage, Options, Source};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut options = Options::esxi("ESXI-8.0U3-CUSTOM");
//! options.timestamp = 1_700_000_000;
//! let mut iso = Builder::new(options);
//! iso.add_file("ISOLINUX.BIN", Source::path("tree/ISOLINUX.BIN")?)?;
//! iso.add_file("EFIBOOT.IMG", Source::path("tree/EFIBOOT.IMG")?)?;
//! iso.add_file("EFI/BOOT/BOOT.CFG", Source::bytes("kernel=/b.b00\n"))?;
//! iso.set_boot_catalog("BOOT.CAT")?;
//! iso.add_boot_image(BootImage::bios("ISOLINUX.BIN"));
//! iso.add_boot_image(BootImage::uefi("EFIBOOT.IMG"));
//! let out = std::fs::File::create("out.iso")?;
//! let layout = iso.finish(&out)?;
//! println!("{} blocks", layout.blocks);
//! # Ok(()) }
//! ```

mod emit;
mod import;
mod layout;
mod source;
mod tree;

use std::io::Write;

pub use import::Imported;
pub use source::Source;
pub use tree::Attributes;

use crate::iso9660::eltorito::{Emulation, Platform};
use crate::iso9660::name::Naming;
use crate::iso9660::rockridge::Posix;
use crate::iso9660::system_area::SystemArea;
use crate::iso9660::volume::VolumeIds;
use crate::iso9660::{Error, Result, directory::MAX_EXTENT_LEN};
use tree::{Kind, Tree};

/// Whether to add a Joliet tree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Joliet {
    #[default]
    Off,
    /// Names of up to 64 UCS-2 characters (the Joliet specification).
    On,
    /// Names of up to 103 characters (`-joliet-long`; Windows reads them).
    LongNames,
}

/// How to build the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The text fields of the volume descriptors.
    pub volume: VolumeIds,
    /// Every timestamp of the image, in seconds since the Unix epoch.
    pub timestamp: i64,
    /// Rules for primary identifiers.
    pub naming: Naming,
    pub joliet: Joliet,
    pub rock_ridge: bool,
    /// Zero blocks after the data, as `mkisofs -pad` writes (150 blocks, 300 KiB, by default).
    pub padding_blocks: u32,
}

impl Default for Options {
    /// No Joliet, no Rock Ridge, ESXi naming, and the time from `SOURCE_DATE_EPOCH` when it is
    /// set and valid, else the current time.
    fn default() -> Self {
        Options {
            volume: VolumeIds::default(),
            timestamp: source_date_epoch().ok().flatten().unwrap_or_else(now),
            naming: Naming::ESXI,
            joliet: Joliet::Off,
            rock_ridge: false,
            padding_blocks: 150,
        }
    }
}

impl Options {
    /// What VMware's own installer media look like: application id `ESXIMAGE`, uppercase 8.3
    /// names with `;1`, no Joliet, no Rock Ridge.
    pub fn esxi(volume_id: &str) -> Options {
        Options {
            volume: VolumeIds {
                volume_id: volume_id.into(),
                application_id: "ESXIMAGE".into(),
                ..VolumeIds::default()
            },
            ..Options::default()
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `SOURCE_DATE_EPOCH` (reproducible-builds.org): `Ok(None)` when unset, an error when set to
/// something other than a decimal number of seconds.
pub fn source_date_epoch() -> Result<Option<i64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(None),
        Ok(value) => value.trim().parse().map(Some).map_err(|_| Error::Options {
            what: "SOURCE_DATE_EPOCH".into(),
            problem: format!("{value:?} is not a number of seconds since 1970-01-01"),
        }),
    }
}

/// How many 512-byte sectors a boot entry tells the firmware to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadSize {
    Sectors(u16),
    /// The whole file, rounded up to 512 bytes (65535 sectors at most: the field's limit).
    WholeFile,
}

/// One El Torito boot entry. The first one added is the default entry; later ones go into
/// sections, one section per run of entries with the same platform.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BootImage {
    /// Path of the image file in the tree.
    pub path: String,
    pub platform: Platform,
    pub emulation: Emulation,
    pub bootable: bool,
    pub load_segment: u16,
    pub system_type: u8,
    pub load_size: LoadSize,
    /// Patch a boot-info-table into the image as written (the source is not changed).
    pub boot_info_table: bool,
    /// Id string of the section header (entries after the first), up to 28 bytes.
    pub section_id: Vec<u8>,
}

impl BootImage {
    /// BIOS isolinux as ESXi media have it: no emulation, 4 sectors, boot-info-table.
    pub fn bios(path: &str) -> BootImage {
        BootImage {
            path: path.into(),
            platform: Platform::X86,
            emulation: Emulation::NoEmulation,
            bootable: true,
            load_segment: 0,
            system_type: 0,
            load_size: LoadSize::Sectors(4),
            boot_info_table: true,
            section_id: Vec::new(),
        }
    }

    /// A UEFI FAT image (platform 0xEF, no emulation, the whole file).
    pub fn uefi(path: &str) -> BootImage {
        BootImage {
            platform: Platform::EFI,
            load_size: LoadSize::WholeFile,
            boot_info_table: false,
            ..BootImage::bios(path)
        }
    }
}

/// Where a file landed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacedFile {
    /// Path in the tree, `/`-separated, with a leading `/`.
    pub path: String,
    pub lba: u32,
    pub size: u64,
}

/// What [`Builder::finish`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Size of the image in 2048-byte blocks.
    pub blocks: u64,
    /// Every file that has data (the boot catalog included), in block order.
    pub files: Vec<PlacedFile>,
    pub boot_catalog_lba: Option<u32>,
    /// What was rewritten in a relocated system area.
    pub system_area_changed: Vec<String>,
    /// What in a relocated system area could not be tied to the new layout (left as it was).
    pub system_area_unmapped: Vec<String>,
}

/// How the system area is written.
#[derive(Clone, Debug, Default)]
pub(crate) enum SystemAreaMode {
    #[default]
    Zero,
    Verbatim(SystemArea),
    Relocate {
        area: SystemArea,
        source_len: u64,
    },
}

/// Collects a tree, boot entries and a system area, then writes the image in one pass.
pub struct Builder {
    options: Options,
    tree: Tree,
    boot: Vec<BootImage>,
    catalog: Option<String>,
    system_area: SystemAreaMode,
}

impl Builder {
    pub fn new(options: Options) -> Builder {
        Builder {
            options,
            tree: Tree::new(),
            boot: Vec::new(),
            catalog: None,
            system_area: SystemAreaMode::Zero,
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Adds a directory and any missing parents.
    pub fn add_dir(&mut self, path: &str) -> Result<()> {
        self.tree.add_dir(path, Attributes::default())
    }

    /// Adds a directory with attributes (an existing directory gets them).
    pub fn add_dir_with(&mut self, path: &str, attrs: Attributes) -> Result<()> {
        self.tree.add_dir(path, attrs)
    }

    /// Adds a file; missing parent directories are created. Adding an existing path is an error.
    pub fn add_file(&mut self, path: &str, source: Source) -> Result<()> {
        self.add_file_with(path, source, Attributes::default())
    }

    pub fn add_file_with(&mut self, path: &str, source: Source, attrs: Attributes) -> Result<()> {
        let len = source.len();
        if len > u64::from(MAX_EXTENT_LEN) && !self.options.naming.level.allows_multi_extent() {
            return Err(Error::Options {
                what: path.into(),
                problem: format!(
                    "{len} bytes needs several extents, which only ISO level 3 allows (set naming.level to Level::Three)"
                ),
            });
        }
        self.tree.add_leaf(path, Kind::File(source), attrs)
    }

    /// Adds a symbolic link (recorded with Rock Ridge; an empty file in the primary tree, absent
    /// from Joliet).
    pub fn add_symlink(&mut self, path: &str, target: &str) -> Result<()> {
        if !self.options.rock_ridge {
            return Err(Error::Options {
                what: path.into(),
                problem: "symbolic links need Rock Ridge".into(),
            });
        }
        let attrs = Attributes {
            posix: Some(Posix::default_symlink()),
            ..Attributes::default()
        };
        self.tree
            .add_leaf(path, Kind::Symlink(target.into()), attrs)
    }

    /// Removes a file or a directory with everything below it.
    pub fn remove(&mut self, path: &str) -> Result<()> {
        self.tree.remove(path)
    }

    /// Whether the tree has an entry at `path` (exact names).
    pub fn contains(&self, path: &str) -> bool {
        self.tree.find(path).is_some()
    }

    /// Places the El Torito boot catalog at `path` (`BOOT.CAT` on ESXi media). Without a call,
    /// an image with boot entries gets `/BOOT.CAT`.
    pub fn set_boot_catalog(&mut self, path: &str) -> Result<()> {
        self.set_boot_catalog_with(path, Attributes::default())
    }

    pub fn set_boot_catalog_with(&mut self, path: &str, attrs: Attributes) -> Result<()> {
        if let Some(old) = self.catalog.take() {
            self.tree.remove(&old)?;
        }
        self.tree.add_leaf(path, Kind::Catalog, attrs)?;
        self.catalog = Some(path.into());
        Ok(())
    }

    /// Adds a boot entry (the first is the default entry).
    pub fn add_boot_image(&mut self, image: BootImage) {
        self.boot.push(image);
    }

    /// Writes these 32 KiB as the system area, unchanged.
    pub fn set_system_area(&mut self, area: SystemArea) {
        self.system_area = SystemAreaMode::Verbatim(area);
    }

    /// Writes the system area of a source image of `source_len` bytes, its MBR/GPT partitions and
    /// isohybrid boot pointer moved to where the files they point at land (see
    /// [`SystemArea::relocate`]); a backup GPT is written at the end of the image.
    pub fn relocate_system_area(&mut self, area: SystemArea, source_len: u64) {
        self.system_area = SystemAreaMode::Relocate { area, source_len };
    }

    /// Lays the image out and writes it to `out`.
    pub fn finish<W: Write>(self, out: W) -> Result<Layout> {
        self.finish_with_progress(out, &mut |_, _| {})
    }

    /// Like [`Builder::finish`], calling `progress(bytes_written, total_bytes)` after each piece.
    pub fn finish_with_progress<W: Write>(
        mut self,
        out: W,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Layout> {
        if !self.boot.is_empty() && self.catalog.is_none() {
            self.set_boot_catalog("BOOT.CAT")?;
        }
        let plan = layout::plan(&mut self)?;
        emit::write(self, plan, out, progress)
    }
}
