//! Turning the collected tree into a plan: identifiers checked and sorted, Rock Ridge entries
//! split between records and continuation areas, blocks allocated in a fixed order, and every
//! metadata block rendered. File data is not touched here except to checksum boot images that
//! get a boot-info-table.

use std::collections::{BTreeMap, VecDeque};

use super::tree::Kind;
use super::{Builder, Joliet, LoadSize, SystemAreaMode};
use crate::iso9660::datetime::DateTime;
use crate::iso9660::directory::{self, DirectoryRecord, Extent, FileFlags, MAX_EXTENT_LEN};
use crate::iso9660::eltorito::{
    self, BootCatalog, BootEntry, BootInfoTable, InfoChecksum, Section,
};
use crate::iso9660::path_table::{self, PathTableKind, PathTableRecord};
use crate::iso9660::rockridge::{self, Continuation, Posix};
use crate::iso9660::system_area::{Moved, Relocated};
use crate::iso9660::volume::{self, FIRST_DESCRIPTOR_LBA, VolumeDescriptor, VolumeKind};
use crate::iso9660::{Error, Result, SECTOR_SIZE, joliet, name};

/// A boot image given as a stream is held in memory for its boot-info-table up to this size.
const MAX_STREAMED_BOOT_IMAGE: u64 = 64 << 20;

/// One piece of metadata at a fixed block.
pub(crate) struct Block {
    pub lba: u32,
    pub bytes: Vec<u8>,
}

/// One file's data to copy.
pub(crate) struct FileSlot {
    pub node: usize,
    pub path: String,
    pub lba: u32,
    pub size: u64,
    /// The table to patch into the written copy.
    pub boot_info: Option<BootInfoTable>,
}

pub(crate) struct Plan {
    pub system_area: Vec<u8>,
    /// Descriptors, catalog, path tables, directories and continuation areas, in block order.
    pub metadata: Vec<Block>,
    /// File data in block order.
    pub files: Vec<FileSlot>,
    /// First block after the file data.
    pub data_end: u64,
    pub total_blocks: u64,
    /// Bytes that end exactly at the end of the image (the backup GPT).
    pub tail: Vec<u8>,
    pub catalog_lba: Option<u32>,
    pub relocated: Option<Relocated>,
}

/// System Use bytes of one record: what stays in the record, and the continuation area (an
/// index into `Names::areas`) for the rest.
#[derive(Clone, Default)]
struct Su {
    inline: Vec<u8>,
    area: Option<usize>,
}

impl Su {
    fn len(&self) -> usize {
        self.inline.len()
            + if self.area.is_some() {
                rockridge::CE_LEN
            } else {
                0
            }
    }
}

/// Everything known about one reachable node.
#[derive(Clone, Default)]
struct Info {
    path: String,
    parent: usize,
    is_dir: bool,
    in_joliet: bool,
    primary_id: Vec<u8>,
    joliet_id: Vec<u8>,
    /// Children in primary record order, and in Joliet record order.
    children: Vec<usize>,
    joliet_children: Vec<usize>,
    size: u64,
    /// Data (file) or directory extent LBA; the Joliet directory extent LBA.
    lba: u32,
    joliet_lba: u32,
    dir_len: u64,
    joliet_dir_len: u64,
    su: Su,
    su_dot: Su,
    su_dotdot: Su,
}

fn extent_count(size: u64) -> usize {
    size.div_ceil(u64::from(MAX_EXTENT_LEN)).max(1) as usize
}

fn extents(lba: u32, size: u64) -> Vec<Extent> {
    let per = u64::from(MAX_EXTENT_LEN) / SECTOR_SIZE;
    (0..extent_count(size))
        .map(|i| {
            let start = i as u64 * u64::from(MAX_EXTENT_LEN);
            Extent {
                lba: lba + (i as u64 * per) as u32,
                len: (size - start).min(u64::from(MAX_EXTENT_LEN)) as u32,
            }
        })
        .collect()
}

pub(crate) fn plan(b: &mut Builder) -> Result<Plan> {
    b.options.volume.check().map_err(|problem| Error::Options {
        what: "volume descriptor".into(),
        problem,
    })?;
    let time = DateTime::from_unix(b.options.timestamp);
    let joliet_on = b.options.joliet != Joliet::Off;
    let rr_on = b.options.rock_ridge;

    // ---- names: identifiers, collisions, order (iterative DFS from the root)
    let mut info: Vec<Info> = vec![Info::default(); b.tree.nodes.len()];
    info[0] = Info {
        path: "/".into(),
        is_dir: true,
        in_joliet: true,
        primary_id: vec![0],
        joliet_id: vec![0],
        ..Info::default()
    };
    let mut order = vec![0usize]; // reachable nodes, parents before children
    let mut i = 0;
    while let Some(&dir) = order.get(i) {
        i += 1;
        let Some(children) = b.tree.children(dir) else {
            continue;
        };
        let dir_path = info[dir].path.clone();
        let mut primary_seen: BTreeMap<String, String> = BTreeMap::new();
        let mut joliet_seen: BTreeMap<Vec<u8>, String> = BTreeMap::new();
        let mut kids = Vec::new();
        for (name, &child) in children {
            let node = &b.tree.nodes[child];
            let is_dir = matches!(node.kind, Kind::Dir(_));
            let path = if dir == 0 {
                format!("/{name}")
            } else {
                format!("{dir_path}/{name}")
            };
            let invalid = |problem: String| Error::InvalidName {
                path: path.clone(),
                problem,
            };
            let primary = match &node.attrs.iso_identifier {
                Some(id) => {
                    name::check_verbatim(id, is_dir).map_err(invalid)?;
                    id.clone()
                }
                None if is_dir => b.options.naming.dir_identifier(name).map_err(invalid)?,
                None => b.options.naming.file_identifier(name).map_err(invalid)?,
            };
            // ESXi's loader and most readers compare names without case and version.
            let key = name::display_name(&primary).to_ascii_uppercase();
            if let Some(first) = primary_seen.insert(key, name.clone()) {
                return Err(Error::NameCollision {
                    dir: dir_path,
                    first,
                    second: name.clone(),
                    identifier: primary,
                    namespace: "primary ISO 9660",
                });
            }
            let in_joliet = joliet_on && !matches!(node.kind, Kind::Symlink(_));
            let mut joliet_id = Vec::new();
            if in_joliet {
                let jname = node.attrs.joliet_name.as_deref().unwrap_or(name);
                joliet_id =
                    joliet::identifier(jname, is_dir, b.options.joliet == Joliet::LongNames)
                        .map_err(invalid)?;
                if let Some(first) = joliet_seen.insert(joliet_id.clone(), name.clone()) {
                    return Err(Error::NameCollision {
                        dir: dir_path,
                        first,
                        second: name.clone(),
                        identifier: joliet::decode(&joliet_id),
                        namespace: "Joliet",
                    });
                }
            }
            let size = match &node.kind {
                Kind::File(source) => source.len(),
                _ => 0,
            };
            info[child] = Info {
                path,
                parent: dir,
                is_dir,
                in_joliet,
                primary_id: primary.into_bytes(),
                joliet_id,
                size,
                ..Info::default()
            };
            kids.push(child);
            order.push(child);
        }
        let mut primary_order = kids.clone();
        primary_order
            .sort_by(|a, b| name::record_order(&info[*a].primary_id, &info[*b].primary_id));
        let mut joliet_order: Vec<usize> =
            kids.into_iter().filter(|k| info[*k].in_joliet).collect();
        joliet_order.sort_by(|a, b| joliet::record_order(&info[*a].joliet_id, &info[*b].joliet_id));
        info[dir].children = primary_order;
        info[dir].joliet_children = joliet_order;
    }
    let subdirs: Vec<u32> = info
        .iter()
        .map(|i| i.children.iter().filter(|c| info[**c].is_dir).count() as u32)
        .collect();

    // ---- boot catalog size (independent of where things land)
    let catalog_node = b.catalog.as_deref().and_then(|p| b.tree.find(p));
    let boot_nodes = boot_nodes(b)?;
    let catalog_template = catalog(b, &boot_nodes, &vec![0; b.tree.nodes.len()])?;
    if let Some(node) = catalog_node {
        info[node].size = catalog_template
            .as_ref()
            .map_or(0, |c| c.to_bytes().len() as u64);
    }

    // ---- Rock Ridge System Use, split between records and continuation areas
    let mut areas: Vec<Vec<u8>> = Vec::new();
    if rr_on {
        for &n in &order {
            let node = &b.tree.nodes[n];
            let posix = |n: usize| {
                let node = &b.tree.nodes[n];
                let mut p = node.attrs.posix.unwrap_or(match node.kind {
                    Kind::Dir(_) => Posix::default_dir(),
                    Kind::Symlink(_) => Posix::default_symlink(),
                    _ => Posix::default_file(),
                });
                if info[n].is_dir {
                    p.links = 2 + subdirs[n];
                }
                p
            };
            let own = posix(n);
            let mut split = |entries: Vec<Vec<u8>>, room: usize| -> Result<Su> {
                let (inline, rest) = rockridge::split(&entries, room);
                if rest.len() > SECTOR_SIZE as usize {
                    return Err(Error::InvalidName {
                        path: info[n].path.clone(),
                        problem: format!(
                            "its Rock Ridge entries need {} bytes; at most 2048 fit a continuation area",
                            rest.len()
                        ),
                    });
                }
                let area = (!rest.is_empty()).then(|| {
                    areas.push(rest);
                    areas.len() - 1
                });
                Ok(Su { inline, area })
            };
            let dot_room = 255 - DirectoryRecord::encoded_len(1, 0);
            let (mut su, mut su_dot, mut su_dotdot) = (Su::default(), Su::default(), Su::default());
            if info[n].is_dir {
                let mut dot = Vec::new();
                if n == 0 {
                    dot.push(rockridge::sp());
                }
                dot.extend([
                    rockridge::rr(false, false),
                    rockridge::px(&own),
                    rockridge::tf(&time),
                ]);
                if n == 0 {
                    dot.push(rockridge::er_rrip());
                }
                let dotdot = vec![
                    rockridge::rr(false, false),
                    rockridge::px(&posix(info[n].parent)),
                    rockridge::tf(&time),
                ];
                su_dot = split(dot, dot_room)?;
                su_dotdot = split(dotdot, dot_room)?;
            }
            if n != 0 {
                let link = match &node.kind {
                    Kind::Symlink(target) => Some(target.clone()),
                    _ => None,
                };
                let mut entries = vec![
                    rockridge::rr(true, link.is_some()),
                    rockridge::px(&own),
                    rockridge::tf(&time),
                ];
                entries.extend(rockridge::nm(&node.name));
                if let Some(target) = &link {
                    entries.extend(rockridge::sl(target));
                }
                su = split(
                    entries,
                    255 - DirectoryRecord::encoded_len(info[n].primary_id.len(), 0),
                )?;
            }
            info[n].su = su;
            info[n].su_dot = su_dot;
            info[n].su_dotdot = su_dotdot;
        }
    }

    // ---- directory sizes and path table order
    let dirs: Vec<usize> = breadth_first(&info, |i| &i.children);
    let joliet_dirs: Vec<usize> = if joliet_on {
        breadth_first(&info, |i| &i.joliet_children)
    } else {
        Vec::new()
    };
    if dirs.len() > usize::from(u16::MAX) {
        return Err(Error::Options {
            what: "tree".into(),
            problem: format!(
                "{} directories; path tables can number at most 65535",
                dirs.len()
            ),
        });
    }
    for &d in &dirs {
        let di = &info[d];
        let mut lens = vec![
            DirectoryRecord::encoded_len(1, di.su_dot.len()),
            DirectoryRecord::encoded_len(1, di.su_dotdot.len()),
        ];
        for &c in &di.children {
            let ci = &info[c];
            let count = if ci.is_dir { 1 } else { extent_count(ci.size) };
            lens.extend(std::iter::repeat_n(
                DirectoryRecord::encoded_len(ci.primary_id.len(), ci.su.len()),
                count,
            ));
        }
        let mut jlens = vec![DirectoryRecord::encoded_len(1, 0); 2];
        for &c in &di.joliet_children {
            let ci = &info[c];
            let count = if ci.is_dir { 1 } else { extent_count(ci.size) };
            jlens.extend(std::iter::repeat_n(
                DirectoryRecord::encoded_len(ci.joliet_id.len(), 0),
                count,
            ));
        }
        let (len, jlen) = (directory::extent_len(lens), directory::extent_len(jlens));
        info[d].dir_len = len;
        info[d].joliet_dir_len = jlen;
    }
    let table_len = |list: &[usize], joliet: bool| -> u64 {
        list.iter()
            .map(|&d| {
                let di = &info[d];
                PathTableRecord::encoded_len(if joliet {
                    di.joliet_id.len()
                } else {
                    di.primary_id.len()
                }) as u64
            })
            .sum()
    };
    let primary_table_len = table_len(&dirs, false);
    let joliet_table_len = table_len(&joliet_dirs, true);

    // ---- allocation, in a fixed order
    let mut alloc = Alloc {
        next: u64::from(FIRST_DESCRIPTOR_LBA) + 1,
    };
    let boot_record_lba = catalog_template.as_ref().map(|_| alloc.blocks(1));
    let svd_lba = joliet_on.then(|| alloc.blocks(1));
    let terminator_lba = alloc.blocks(1);
    let catalog_lba = catalog_template
        .as_ref()
        .map(|c| alloc.blocks(crate::iso9660::bytes::blocks(c.to_bytes().len() as u64)));
    let table_blocks = |len: u64| crate::iso9660::bytes::blocks(len).max(1);
    let pt_l = alloc.blocks(table_blocks(primary_table_len));
    let pt_m = alloc.blocks(table_blocks(primary_table_len));
    let (jpt_l, jpt_m) = if joliet_on {
        (
            alloc.blocks(table_blocks(joliet_table_len)),
            alloc.blocks(table_blocks(joliet_table_len)),
        )
    } else {
        (0, 0)
    };
    for &d in &dirs {
        info[d].lba = alloc.blocks(info[d].dir_len / SECTOR_SIZE) as u32;
    }
    for &d in &joliet_dirs {
        info[d].joliet_lba = alloc.blocks(info[d].joliet_dir_len / SECTOR_SIZE) as u32;
    }
    // Continuation areas packed into blocks, none crossing a block boundary.
    let mut area_at: Vec<Continuation> = Vec::with_capacity(areas.len());
    let mut ce_blocks: Vec<Vec<u8>> = Vec::new();
    let ce_start = alloc.next;
    for area in &areas {
        if ce_blocks
            .last()
            .is_none_or(|blk| blk.len() + area.len() > SECTOR_SIZE as usize)
        {
            ce_blocks.push(Vec::new());
        }
        let index = ce_blocks.len() - 1;
        if let Some(blk) = ce_blocks.last_mut() {
            area_at.push(Continuation {
                lba: (ce_start + index as u64) as u32,
                offset: blk.len() as u32,
                len: area.len() as u32,
            });
            blk.extend_from_slice(area);
        }
    }
    alloc.blocks(ce_blocks.len() as u64);
    if let (Some(node), Some(lba)) = (catalog_node, catalog_lba) {
        info[node].lba = lba as u32;
    }
    // File data in primary tree order (depth-first), empty files pointing at the next free block.
    let mut files = Vec::new();
    let mut stack = vec![0usize];
    while let Some(d) = stack.pop() {
        let children = std::mem::take(&mut info[d].children);
        for &c in &children {
            if info[c].is_dir || Some(c) == catalog_node {
                continue;
            }
            let blocks = crate::iso9660::bytes::blocks(info[c].size);
            let at = alloc.blocks(blocks);
            if at + blocks > u64::from(u32::MAX) {
                return Err(too_large(at + blocks));
            }
            info[c].lba = at as u32;
            if matches!(b.tree.nodes[c].kind, Kind::File(_)) && info[c].size > 0 {
                files.push(FileSlot {
                    node: c,
                    path: info[c].path.clone(),
                    lba: at as u32,
                    size: info[c].size,
                    boot_info: None,
                });
            }
        }
        stack.extend(children.iter().rev().filter(|c| info[**c].is_dir));
        info[d].children = children;
    }
    let data_end = alloc.next;
    alloc.blocks(u64::from(b.options.padding_blocks));

    // ---- system area
    let (system_area, relocated, tail) = match &b.system_area {
        SystemAreaMode::Zero => (vec![0u8; crate::iso9660::SYSTEM_AREA_LEN], None, Vec::new()),
        SystemAreaMode::Verbatim(area) => (area.as_bytes().to_vec(), None, Vec::new()),
        SystemAreaMode::Relocate { area, source_len } => {
            let mut total = alloc.next + area.tail_blocks();
            if area.mib_aligned(*source_len) {
                total = total.div_ceil(512) * 512;
            }
            alloc.next = total;
            let moved: Vec<Moved> = files
                .iter()
                .filter_map(|f| match &b.tree.nodes[f.node].kind {
                    Kind::File(source) => source.image_extent().map(|old| Moved {
                        old_lba: old.lba,
                        old_len: source.len(),
                        new_lba: f.lba,
                        new_len: f.size,
                    }),
                    _ => None,
                })
                .collect();
            let relocated = area.relocate(*source_len, total * SECTOR_SIZE, &moved);
            let tail = relocated.tail.clone();
            (relocated.area.as_bytes().to_vec(), Some(relocated), tail)
        }
    };
    let total_blocks = alloc.next;
    if total_blocks > u64::from(u32::MAX) {
        return Err(too_large(total_blocks));
    }

    // ---- boot catalog with real LBAs, boot-info-tables
    let lbas: Vec<u32> = info.iter().map(|i| i.lba).collect();
    let catalog = catalog(b, &boot_nodes, &lbas)?;
    for (image, node) in b.boot.iter().zip(&boot_nodes) {
        if !image.boot_info_table {
            continue;
        }
        let Some(slot) = files.iter_mut().find(|f| f.node == *node) else {
            continue;
        };
        if slot.boot_info.is_some() {
            continue;
        }
        let Kind::File(source) = &mut b.tree.nodes[*node].kind else {
            continue;
        };
        source.read_whole_for_patch(&slot.path, MAX_STREAMED_BOOT_IMAGE)?;
        let mut sum = InfoChecksum::default();
        let mut seen = 0u64;
        source.for_each_chunk(&slot.path, |chunk| {
            let skip = (BootInfoTable::CHECKSUM_FROM as u64)
                .saturating_sub(seen)
                .min(chunk.len() as u64) as usize;
            sum.update(chunk.get(skip..).unwrap_or_default());
            seen += chunk.len() as u64;
            Ok(())
        })?;
        slot.boot_info = Some(BootInfoTable {
            pvd_lba: FIRST_DESCRIPTOR_LBA,
            file_lba: slot.lba,
            file_len: u32::try_from(slot.size).map_err(|_| Error::Boot {
                problem: format!(
                    "{}: a boot image with a boot-info-table must be smaller than 4 GiB",
                    slot.path
                ),
            })?,
            checksum: sum.finish(),
        });
    }

    // ---- metadata blocks
    let mut metadata = Vec::new();
    let root = &info[0];
    let root_record = |lba: u32, len: u64, su: Vec<u8>| DirectoryRecord {
        extended_attribute_len: 0,
        extent: Extent {
            lba,
            len: len as u32,
        },
        recorded: time,
        flags: FileFlags(FileFlags::DIRECTORY),
        file_unit_size: 0,
        interleave_gap: 0,
        volume_sequence: 1,
        identifier: vec![0],
        system_use: su,
    };
    let su_bytes = |su: &Su| -> Vec<u8> {
        let mut bytes = su.inline.clone();
        if let Some(area) = su.area.and_then(|a| area_at.get(a)) {
            bytes.extend(rockridge::ce(area));
        }
        bytes
    };
    let descriptor =
        |kind: VolumeKind, root_lba: u32, root_len: u64, table_len: u64, l: u64, m: u64| {
            VolumeDescriptor {
                kind,
                ids: b.options.volume.clone(),
                volume_space_size: total_blocks as u32,
                volume_set_size: 1,
                volume_sequence_number: 1,
                logical_block_size: SECTOR_SIZE as u16,
                path_table_size: table_len as u32,
                path_table_l: l as u32,
                path_table_l_optional: 0,
                path_table_m: m as u32,
                path_table_m_optional: 0,
                root: root_record(root_lba, root_len, Vec::new()),
                created: Some(time),
                modified: Some(time),
                expires: None,
                effective: Some(time),
                file_structure_version: 1,
            }
        };
    let pvd = descriptor(
        VolumeKind::Primary,
        root.lba,
        root.dir_len,
        primary_table_len,
        pt_l,
        pt_m,
    );
    metadata.push(Block {
        lba: FIRST_DESCRIPTOR_LBA,
        bytes: pvd.to_sector().to_vec(),
    });
    if let (Some(lba), Some(catalog_lba)) = (boot_record_lba, catalog_lba) {
        metadata.push(Block {
            lba: lba as u32,
            bytes: eltorito::boot_record(catalog_lba as u32).to_vec(),
        });
    }
    if let Some(lba) = svd_lba {
        let svd = descriptor(
            VolumeKind::Joliet { level: 3 },
            root.joliet_lba,
            root.joliet_dir_len,
            joliet_table_len,
            jpt_l,
            jpt_m,
        );
        metadata.push(Block {
            lba: lba as u32,
            bytes: svd.to_sector().to_vec(),
        });
    }
    metadata.push(Block {
        lba: terminator_lba as u32,
        bytes: volume::terminator().to_vec(),
    });
    if let (Some(lba), Some(catalog)) = (catalog_lba, &catalog) {
        metadata.push(Block {
            lba: lba as u32,
            bytes: catalog.to_bytes(),
        });
    }
    let path_table = |list: &[usize], joliet: bool| -> Vec<PathTableRecord> {
        let number: BTreeMap<usize, u16> = list
            .iter()
            .enumerate()
            .map(|(i, &d)| (d, (i + 1) as u16))
            .collect();
        list.iter()
            .map(|&d| {
                let di = &info[d];
                PathTableRecord {
                    identifier: if joliet {
                        di.joliet_id.clone()
                    } else {
                        di.primary_id.clone()
                    },
                    extended_attribute_len: 0,
                    lba: if joliet { di.joliet_lba } else { di.lba },
                    parent: number.get(&di.parent).copied().unwrap_or(1),
                }
            })
            .collect()
    };
    let mut tables = vec![(path_table(&dirs, false), pt_l, pt_m)];
    if joliet_on {
        tables.push((path_table(&joliet_dirs, true), jpt_l, jpt_m));
    }
    for (table, l, m) in tables {
        for (lba, kind) in [(l, PathTableKind::L), (m, PathTableKind::M)] {
            metadata.push(Block {
                lba: lba as u32,
                bytes: path_table::write(&table, kind),
            });
        }
    }
    let record = |n: usize, joliet: bool| -> Vec<DirectoryRecord> {
        let ni = &info[n];
        let hidden = if b.tree.nodes[n].attrs.hidden {
            FileFlags::HIDDEN
        } else {
            0
        };
        let identifier = if joliet {
            ni.joliet_id.clone()
        } else {
            ni.primary_id.clone()
        };
        let system_use = if joliet { Vec::new() } else { su_bytes(&ni.su) };
        let base = DirectoryRecord {
            extended_attribute_len: 0,
            extent: Extent::default(),
            recorded: time,
            flags: FileFlags(hidden),
            file_unit_size: 0,
            interleave_gap: 0,
            volume_sequence: 1,
            identifier,
            system_use,
        };
        if ni.is_dir {
            let (lba, len) = if joliet {
                (ni.joliet_lba, ni.joliet_dir_len)
            } else {
                (ni.lba, ni.dir_len)
            };
            return vec![DirectoryRecord {
                extent: Extent {
                    lba,
                    len: len as u32,
                },
                flags: FileFlags(hidden | FileFlags::DIRECTORY),
                ..base
            }];
        }
        let parts = extents(ni.lba, ni.size);
        let last = parts.len() - 1;
        parts
            .into_iter()
            .enumerate()
            .map(|(i, extent)| DirectoryRecord {
                extent,
                flags: FileFlags(hidden | if i < last { FileFlags::MULTI_EXTENT } else { 0 }),
                ..base.clone()
            })
            .collect()
    };
    for joliet in [false, true] {
        let list = if joliet { &joliet_dirs } else { &dirs };
        for &d in list {
            let di = &info[d];
            let parent = &info[di.parent];
            let (lba, len, plba, plen, children) = if joliet {
                (
                    di.joliet_lba,
                    di.joliet_dir_len,
                    parent.joliet_lba,
                    parent.joliet_dir_len,
                    &di.joliet_children,
                )
            } else {
                (di.lba, di.dir_len, parent.lba, parent.dir_len, &di.children)
            };
            let mut bytes = Vec::with_capacity(len as usize);
            let (dot_su, dotdot_su) = if joliet {
                (Vec::new(), Vec::new())
            } else {
                (su_bytes(&di.su_dot), su_bytes(&di.su_dotdot))
            };
            directory::append_to_extent(&mut bytes, &root_record(lba, len, dot_su));
            let mut dotdot = root_record(plba, plen, dotdot_su);
            dotdot.identifier = vec![1];
            directory::append_to_extent(&mut bytes, &dotdot);
            for &c in children {
                for r in record(c, joliet) {
                    directory::append_to_extent(&mut bytes, &r);
                }
            }
            bytes.resize(len as usize, 0);
            metadata.push(Block { lba, bytes });
        }
    }
    for (i, blk) in ce_blocks.into_iter().enumerate() {
        metadata.push(Block {
            lba: (ce_start + i as u64) as u32,
            bytes: blk,
        });
    }
    metadata.sort_by_key(|m| m.lba);
    Ok(Plan {
        system_area,
        metadata,
        files,
        data_end,
        total_blocks,
        tail,
        catalog_lba: catalog_lba.map(|l| l as u32),
        relocated,
    })
}

/// Hands out blocks in order.
struct Alloc {
    next: u64,
}

impl Alloc {
    fn blocks(&mut self, blocks: u64) -> u64 {
        let at = self.next;
        self.next += blocks;
        at
    }
}

fn too_large(blocks: u64) -> Error {
    Error::Options {
        what: "image".into(),
        problem: format!(
            "{blocks} blocks of 2048 bytes is more than ISO 9660's 32-bit block numbers address (8 TiB)"
        ),
    }
}

/// Directories in path table order: by level, then parent number, then identifier.
fn breadth_first(info: &[Info], children: impl Fn(&Info) -> &Vec<usize>) -> Vec<usize> {
    let mut out = Vec::new();
    let mut queue = VecDeque::from([0usize]);
    while let Some(d) = queue.pop_front() {
        out.push(d);
        queue.extend(children(&info[d]).iter().filter(|c| info[**c].is_dir));
    }
    out
}

/// The tree nodes of the boot images, checked.
fn boot_nodes(b: &Builder) -> Result<Vec<usize>> {
    b.boot
        .iter()
        .map(|image| {
            let node = b.tree.find(&image.path).ok_or_else(|| Error::Boot {
                problem: format!(
                    "boot image {} is not in the tree; add the file first",
                    image.path
                ),
            })?;
            let Kind::File(source) = &b.tree.nodes[node].kind else {
                return Err(Error::Boot {
                    problem: format!("boot image {} is not a file", image.path),
                });
            };
            if source.is_empty() {
                return Err(Error::Boot {
                    problem: format!("boot image {} is empty", image.path),
                });
            }
            if image.boot_info_table {
                if image.emulation != eltorito::Emulation::NoEmulation {
                    return Err(Error::Boot {
                        problem: format!(
                            "{}: a boot-info-table only goes into no-emulation images",
                            image.path
                        ),
                    });
                }
                if source.len() < BootInfoTable::CHECKSUM_FROM as u64 {
                    return Err(Error::Boot {
                        problem: format!(
                            "{}: {} bytes is too small to hold a boot-info-table",
                            image.path,
                            source.len()
                        ),
                    });
                }
            }
            if image.section_id.len() > 28 {
                return Err(Error::Boot {
                    problem: format!("{}: section id longer than 28 bytes", image.path),
                });
            }
            Ok(node)
        })
        .collect()
}

/// The catalog for the boot entries, with the file LBAs in `lbas` (by node).
fn catalog(b: &Builder, nodes: &[usize], lbas: &[u32]) -> Result<Option<BootCatalog>> {
    let Some(first) = b.boot.first() else {
        return Ok(None);
    };
    let mut catalog = BootCatalog {
        platform: first.platform,
        id: Vec::new(),
        sections: Vec::new(),
        entries: Vec::new(),
    };
    for (i, (image, &node)) in b.boot.iter().zip(nodes).enumerate() {
        let size = match &b.tree.nodes[node].kind {
            Kind::File(source) => source.len(),
            _ => 0,
        };
        let sector_count = match image.load_size {
            LoadSize::Sectors(n) => n,
            LoadSize::WholeFile => size.div_ceil(512).min(u64::from(u16::MAX)) as u16,
        };
        let section = if i == 0 {
            None
        } else {
            let same = catalog
                .sections
                .last()
                .is_some_and(|s: &Section| s.platform == image.platform)
                && catalog.entries.last().is_some_and(|e| e.section.is_some());
            if !same {
                catalog.sections.push(Section {
                    platform: image.platform,
                    id: image.section_id.clone(),
                });
            }
            Some(catalog.sections.len() - 1)
        };
        catalog.entries.push(BootEntry {
            platform: image.platform,
            bootable: image.bootable,
            emulation: image.emulation,
            load_segment: image.load_segment,
            system_type: image.system_type,
            sector_count,
            load_rba: lbas.get(node).copied().unwrap_or(0),
            selection_criteria: 0,
            vendor_criteria: [0; 19],
            section,
        });
    }
    Ok(Some(catalog))
}
