//! Reading one directory extent into entries: multi-extent chains joined, names decoded for the
//! namespace, Rock Ridge entries collected across continuation areas.

use std::io::{Read, Seek};

use super::{Entry, EntryKind, Image, Names};
use crate::iso9660::directory::{DirectoryRecord, Extent};
use crate::iso9660::rockridge::{Collector, Posix, RockRidge};
use crate::iso9660::{Error, Result, SECTOR_SIZE, joliet, name};

/// Continuation areas followed per record (real images use one).
pub(crate) const MAX_CONTINUATIONS: usize = 16;

/// Largest directory extent read: 32 MiB, about a million entries — far beyond any real image,
/// and a bound on what a corrupt length can make the reader do.
pub(crate) const MAX_DIR_LEN: u32 = 32 << 20;

/// Extents one multi-extent file may have (4 TiB of data).
const MAX_FILE_EXTENTS: usize = 1024;

pub(super) fn read<R: Read + Seek>(image: &mut Image<R>, dir: &Entry) -> Result<Vec<Entry>> {
    if !dir.is_dir() {
        return Err(Error::WrongKind {
            path: dir.path.clone(),
            problem: "is not a directory".into(),
        });
    }
    let extent = dir.extents.first().copied().unwrap_or_default();
    if extent.len > MAX_DIR_LEN {
        return Err(Error::Malformed {
            what: format!("directory {}", dir.path),
            lba: extent.lba.into(),
            problem: format!(
                "length {} bytes is absurd (the reader accepts up to {MAX_DIR_LEN})",
                extent.len
            ),
        });
    }
    image.check_extent(extent, &format!("directory {}", dir.path))?;

    let mut records: Vec<(DirectoryRecord, u32)> = Vec::new();
    let mut sector = vec![0u8; SECTOR_SIZE as usize];
    for index in 0..extent.blocks() {
        let lba = extent.lba + index as u32;
        let used = (u64::from(extent.len) - index * SECTOR_SIZE).min(SECTOR_SIZE) as usize;
        let buf = sector.get_mut(..used).unwrap_or_default();
        image.read_bytes(u64::from(lba) * SECTOR_SIZE, buf, || {
            format!("directory {}", dir.path)
        })?;
        let mut at = 0usize;
        while at < used {
            let rest = buf.get(at..).unwrap_or_default();
            match DirectoryRecord::parse(rest) {
                Ok(Some((record, len))) => {
                    records.push((record, lba));
                    at += len;
                }
                Ok(None) => break,
                Err(problem) => {
                    return Err(Error::Malformed {
                        what: format!("directory record at byte {at} of {}", dir.path),
                        lba: lba.into(),
                        problem: problem.to_string(),
                    });
                }
            }
        }
    }

    let mut entries = Vec::new();
    let mut pending: Option<(DirectoryRecord, u32, Vec<Extent>)> = None;
    for (record, lba) in records {
        if record.is_dot() || record.is_dotdot() {
            continue;
        }
        let (first, first_lba, mut extents) = match pending.take() {
            Some((first, first_lba, extents)) => {
                if first.identifier != record.identifier {
                    return Err(multi_extent_error(dir, &first, first_lba));
                }
                (first, first_lba, extents)
            }
            None => (record.clone(), lba, Vec::new()),
        };
        extents.push(record.extent);
        if extents.len() > MAX_FILE_EXTENTS {
            return Err(Error::Malformed {
                what: format!("multi-extent file in {}", dir.path),
                lba: first_lba.into(),
                problem: format!("more than {MAX_FILE_EXTENTS} extents"),
            });
        }
        if record.flags.is_multi_extent() {
            pending = Some((first, first_lba, extents));
            continue;
        }
        if let Some(entry) = entry(image, dir, first, first_lba, extents)? {
            entries.push(entry);
        }
    }
    if let Some((first, first_lba, _)) = pending {
        return Err(multi_extent_error(dir, &first, first_lba));
    }
    Ok(entries)
}

fn multi_extent_error(dir: &Entry, first: &DirectoryRecord, lba: u32) -> Error {
    Error::Malformed {
        what: format!("directory {}", dir.path),
        lba: lba.into(),
        problem: format!(
            "the multi-extent chain of {:?} ends without a final record",
            String::from_utf8_lossy(&first.identifier)
        ),
    }
}

/// Builds the entry for one record (the first of its chain). `None` for a relocated directory,
/// which the Rock Ridge tree shows at its `CL` instead.
fn entry<R: Read + Seek>(
    image: &mut Image<R>,
    dir: &Entry,
    record: DirectoryRecord,
    record_lba: u32,
    mut extents: Vec<Extent>,
) -> Result<Option<Entry>> {
    let identifier = match dir.names {
        Names::Joliet => joliet::decode(&record.identifier),
        Names::Primary | Names::RockRidge => name::decode_identifier(&record.identifier),
    };
    let rock_ridge = match (&image.rock_ridge, dir.names) {
        (Some(info), Names::Primary | Names::RockRidge) => Some(collect_rock_ridge(
            image,
            &record,
            info.skip,
            &dir.path,
            &identifier,
        )?),
        _ => None,
    };
    let mut kind = if record.flags.is_dir() {
        EntryKind::Directory
    } else {
        EntryKind::File
    };
    let mut name = name::display_name(&identifier).to_string();
    if let (Names::RockRidge, Some(rr)) = (dir.names, &rock_ridge) {
        if rr.relocated {
            return Ok(None);
        }
        if let Some(nm) = &rr.name {
            name.clone_from(nm);
        }
        if let Some(target) = &rr.symlink {
            kind = EntryKind::Symlink(target.clone());
        } else if rr
            .posix
            .is_some_and(|p| p.mode & Posix::S_IFMT == Posix::S_IFLNK)
        {
            kind = EntryKind::Symlink(String::new());
        }
        if let Some(child) = rr.child_link {
            kind = EntryKind::Directory;
            extents = vec![relocated_dir_extent(image, child, &dir.path, &name)?];
        }
    }
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(Error::Malformed {
            what: format!("directory record in {}", dir.path),
            lba: record_lba.into(),
            problem: format!("the name {name:?} cannot be a path component"),
        });
    }
    let size = extents.iter().map(|e| u64::from(e.len)).sum();
    let path = if dir.path == "/" {
        format!("/{name}")
    } else {
        format!("{}/{name}", dir.path)
    };
    Ok(Some(Entry {
        name,
        path,
        identifier,
        kind,
        extents,
        size,
        hidden: record.flags.is_hidden(),
        recorded: record.recorded,
        rock_ridge,
        interleaved: record.file_unit_size != 0 || record.interleave_gap != 0,
        names: dir.names,
        record_lba,
    }))
}

fn collect_rock_ridge<R: Read + Seek>(
    image: &mut Image<R>,
    record: &DirectoryRecord,
    skip: u8,
    dir_path: &str,
    identifier: &str,
) -> Result<RockRidge> {
    let path = format!("{}/{}", dir_path.trim_end_matches('/'), identifier);
    let malformed = |lba: u32, problem: String| Error::Malformed {
        what: format!("Rock Ridge entries of {path}"),
        lba: lba.into(),
        problem,
    };
    let mut collector = Collector::default();
    let area = record
        .system_use
        .get(usize::from(skip)..)
        .unwrap_or_default();
    let mut next = collector
        .add_area(area)
        .map_err(|p| malformed(record.extent.lba, p))?;
    let mut hops = 0;
    while let Some(ce) = next.take() {
        hops += 1;
        if hops > MAX_CONTINUATIONS {
            return Err(malformed(
                ce.lba,
                format!("more than {MAX_CONTINUATIONS} continuation areas (a CE loop?)"),
            ));
        }
        let area = image.continuation_area(ce, &path)?;
        next = collector
            .add_area(&area)
            .map_err(|p| malformed(ce.lba, p))?;
    }
    Ok(collector.finish())
}

/// The extent of a directory relocated by Rock Ridge: its own `.` record says how long it is.
fn relocated_dir_extent<R: Read + Seek>(
    image: &mut Image<R>,
    lba: u32,
    dir_path: &str,
    name: &str,
) -> Result<Extent> {
    let mut sector = vec![0u8; SECTOR_SIZE as usize];
    let what = || format!("relocated directory {dir_path}/{name}");
    image.read_bytes(u64::from(lba) * SECTOR_SIZE, &mut sector, what)?;
    match DirectoryRecord::parse(&sector) {
        Ok(Some((dot, _))) if dot.is_dot() && dot.extent.lba == lba => Ok(dot.extent),
        _ => Err(Error::Malformed {
            what: what(),
            lba: lba.into(),
            problem: "the Rock Ridge child link (CL) does not point at a directory's \".\" record"
                .into(),
        }),
    }
}
