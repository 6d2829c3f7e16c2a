//! Taking over a source image for a remaster: its tree with data as extent copies, its boot
//! entries, its boot catalog's place and its system area.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek};
use std::sync::Arc;

use super::{Attributes, BootImage, Builder, LoadSize, Source};
use crate::iso9660::{Error, Result};
use crate::reader::{EntryKind, Image, Names};

/// What [`Builder::import`] took over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Files and directories added.
    pub entries: usize,
    /// Where the source's boot catalog was (now the builder's catalog path).
    pub catalog: Option<String>,
    /// The boot entries added, in catalog order.
    pub boot: Vec<BootImage>,
    /// Whether the source's system area was non-zero (and is now relocated into the output).
    pub system_area: bool,
}

impl Builder {
    /// Adds everything of a source image: each file as [`Source::Image`] extents of `file`
    /// (the same file `image` reads), primary identifiers kept verbatim, hidden flags kept; the
    /// boot catalog at its old path, every boot entry with its platform, emulation, load segment
    /// and size, and the boot-info-table where the source had one; and a non-zero system area,
    /// relocated to the new layout.
    ///
    /// When both the source and the output have Rock Ridge, entries are named by their Rock
    /// Ridge names and keep their attributes, symbolic links included; otherwise by their
    /// primary names, as a reader without Rock Ridge sees the source (a link is then the empty
    /// file the primary tree records). Joliet names are derived from the entry names, which is
    /// what `mkisofs -J -R` did to make them.
    ///
    /// Edit the tree afterwards ([`Builder::remove`], [`Builder::add_file`]), then
    /// [`Builder::finish`].
    pub fn import<R: Read + Seek>(
        &mut self,
        image: &mut Image<R>,
        file: &Arc<File>,
    ) -> Result<Imported> {
        let mut imported = Imported::default();
        let catalog_lba = image.boot_catalog_lba();
        let names = if self.options.rock_ridge && image.rock_ridge().is_some() {
            Names::RockRidge
        } else {
            Names::Primary
        };
        let mut by_lba: BTreeMap<u32, String> = BTreeMap::new();
        let entries: Vec<_> = image.walk(names)?.collect::<Result<_>>()?;
        for entry in entries {
            let attrs = Attributes {
                iso_identifier: Some(entry.identifier.clone()),
                joliet_name: None,
                hidden: entry.hidden,
                posix: if self.options.rock_ridge {
                    entry.posix()
                } else {
                    None
                },
            };
            match &entry.kind {
                EntryKind::Directory => self.add_dir_with(&entry.path, attrs)?,
                // Only Rock Ridge names show links, and only when the output records them.
                EntryKind::Symlink(target) => self.add_symlink_with(&entry.path, target, attrs)?,
                // An empty file may share the catalog's LBA; the catalog has a block.
                EntryKind::File if catalog_lba == Some(entry.lba()) && entry.size > 0 => {
                    self.set_boot_catalog_with(&entry.path, attrs)?;
                    imported.catalog = Some(entry.path.clone());
                }
                EntryKind::File => {
                    if entry.size > 0 {
                        by_lba
                            .entry(entry.lba())
                            .or_insert_with(|| entry.path.clone());
                    }
                    self.add_file_with(
                        &entry.path,
                        Source::image(file, entry.extents.clone()),
                        attrs,
                    )?;
                }
            }
            imported.entries += 1;
        }
        if let Some(catalog) = image.boot_catalog()? {
            for (index, entry) in catalog.entries.iter().enumerate() {
                let path = by_lba.get(&entry.load_rba).cloned().ok_or_else(|| Error::Boot {
                    problem: format!(
                        "boot entry {} of the source loads LBA {}, which is the start of no file in its tree; it cannot be carried over",
                        index + 1,
                        entry.load_rba
                    ),
                })?;
                let boot_info_table = match image.lookup(&path, names)? {
                    Some(file) => image.boot_info_table(&file)?.is_some(),
                    None => false,
                };
                let section_id = entry
                    .section
                    .and_then(|s| catalog.sections.get(s))
                    .map(|s| s.id.clone())
                    .unwrap_or_default();
                let boot = BootImage {
                    path,
                    platform: entry.platform,
                    emulation: entry.emulation,
                    bootable: entry.bootable,
                    load_segment: entry.load_segment,
                    system_type: entry.system_type,
                    load_size: LoadSize::Sectors(entry.sector_count),
                    boot_info_table,
                    section_id,
                };
                self.add_boot_image(boot.clone());
                imported.boot.push(boot);
            }
        }
        let area = image.system_area()?;
        if !area.is_zero() {
            self.relocate_system_area(area, image.len());
            imported.system_area = true;
        }
        Ok(imported)
    }
}
