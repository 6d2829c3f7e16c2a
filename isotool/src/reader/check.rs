//! Cross-checking the path tables against each other and against the directory tree.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek};

use super::{Image, Names};
use crate::iso9660::path_table::{self, PathTableKind, PathTableRecord};
use crate::iso9660::{Error, Result, SECTOR_SIZE, joliet, name};

/// Largest path table read (about 500 000 directories).
const MAX_PATH_TABLE_LEN: u32 = 8 << 20;

/// (parent LBA, identifier, LBA) of one directory.
type Link = (u32, String, u32);

pub(super) fn path_tables<R: Read + Seek>(image: &mut Image<R>, names: Names) -> Result<()> {
    let vd = match names {
        Names::Joliet => image.joliet.clone(),
        Names::Primary | Names::RockRidge => Some(image.primary.clone()),
    };
    let Some(vd) = vd else { return Ok(()) };
    let volume = if names == Names::Joliet {
        "Joliet"
    } else {
        "primary"
    };
    if vd.path_table_size > MAX_PATH_TABLE_LEN {
        return Err(Error::Malformed {
            what: format!("{volume} volume descriptor"),
            lba: vd.path_table_l.into(),
            problem: format!("path table size {} is absurd", vd.path_table_size),
        });
    }
    let mut tables = Vec::new();
    for (kind, lba) in [
        (PathTableKind::L, vd.path_table_l),
        (PathTableKind::M, vd.path_table_m),
    ] {
        let mut bytes = vec![0u8; vd.path_table_size as usize];
        image.read_bytes(u64::from(lba) * SECTOR_SIZE, &mut bytes, || {
            format!("the {volume} {kind}")
        })?;
        let records = path_table::parse(&bytes, kind).map_err(|problem| Error::Malformed {
            what: format!("{volume} {kind}"),
            lba: lba.into(),
            problem,
        })?;
        tables.push(records);
    }
    let (l, m) = (&tables[0], &tables[1]);
    if let Some(i) = (0..l.len().max(m.len())).find(|&i| l.get(i) != m.get(i)) {
        return Err(Error::PathTable {
            problem: format!(
                "{volume} type L and type M tables differ at record {}",
                i + 1
            ),
        });
    }

    let decode = |raw: &[u8]| match names {
        Names::Joliet => joliet::decode(raw),
        _ => name::decode_identifier(raw),
    };
    let from_table = links_from_table(l, &decode, volume)?;
    let tree_names = if names == Names::Joliet {
        Names::Joliet
    } else {
        Names::Primary
    };
    let root_lba = image.root(tree_names)?.lba();
    let mut lba_of: BTreeMap<String, u32> = BTreeMap::from([("/".to_string(), root_lba)]);
    let mut from_tree: BTreeMap<Link, String> = BTreeMap::new();
    for entry in image.walk(tree_names)? {
        let entry = entry?;
        if !entry.is_dir() {
            continue;
        }
        let parent_path = match entry.path.rsplit_once('/') {
            Some(("", _)) | None => "/".to_string(),
            Some((parent, _)) => parent.to_string(),
        };
        let parent = lba_of.get(&parent_path).copied().unwrap_or(root_lba);
        lba_of.insert(entry.path.clone(), entry.lba());
        from_tree.insert((parent, entry.identifier.clone(), entry.lba()), entry.path);
    }
    if l.first().map(|r| r.lba) != Some(root_lba) {
        return Err(Error::PathTable {
            problem: format!(
                "the {volume} path table's first record is not the root directory (LBA {root_lba})"
            ),
        });
    }
    if let Some(((_, _, lba), path)) = from_tree
        .iter()
        .find(|(link, _)| !from_table.contains(*link))
    {
        return Err(Error::PathTable {
            problem: format!(
                "{volume} directory {path} (LBA {lba}) is missing from the path tables or recorded differently"
            ),
        });
    }
    if let Some((parent, id, lba)) = from_table
        .iter()
        .find(|link| !from_tree.contains_key(*link))
    {
        return Err(Error::PathTable {
            problem: format!(
                "{volume} path table names directory {id:?} at LBA {lba} under LBA {parent}, which the directory tree does not have"
            ),
        });
    }
    Ok(())
}

fn links_from_table(
    records: &[PathTableRecord],
    decode: &dyn Fn(&[u8]) -> String,
    volume: &str,
) -> Result<BTreeSet<Link>> {
    let mut links = BTreeSet::new();
    for (i, r) in records.iter().enumerate().skip(1) {
        let parent = usize::from(r.parent)
            .checked_sub(1)
            .and_then(|p| records.get(p))
            .ok_or_else(|| Error::PathTable {
                problem: format!(
                    "{volume} path table record {} has parent number {}, which does not exist",
                    i + 1,
                    r.parent
                ),
            })?;
        links.insert((parent.lba, decode(&r.identifier), r.lba));
    }
    Ok(links)
}
