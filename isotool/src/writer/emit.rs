//! Streaming a plan to the output in block order: system area, metadata, file data, padding,
//! and the backup GPT at the very end.

use std::io::Write;

use super::layout::Plan;
use super::tree::Kind;
use super::{Builder, Layout, PlacedFile};
use crate::iso9660::eltorito::BootInfoTable;
use crate::iso9660::{Error, Result, SECTOR_SIZE};

static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// The output and how far into it we are. `io::copy` gets the bare `W`, so that std can use
/// `copy_file_range(2)` when `W` is a file; the position is tracked here instead of by a
/// counting wrapper, which would hide the file from std.
struct Out<W> {
    out: W,
    pos: u64,
    total: u64,
}

impl<W: Write> Out<W> {
    fn write(&mut self, bytes: &[u8], what: &str) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(Error::io(format!("writing {what}")))?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Zero-fills up to byte `to`.
    fn zeros_to(&mut self, to: u64, what: &str) -> Result<()> {
        if to < self.pos {
            return Err(Error::Options {
                what: "layout".into(),
                problem: format!(
                    "{what} would start at byte {to}, before byte {} already written (a builder bug)",
                    self.pos
                ),
            });
        }
        while self.pos < to {
            let n = (to - self.pos).min(ZEROS.len() as u64) as usize;
            self.write(ZEROS.get(..n).unwrap_or_default(), what)?;
        }
        Ok(())
    }
}

pub(crate) fn write<W: Write>(
    mut b: Builder,
    plan: Plan,
    out: W,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Layout> {
    let mut out = Out {
        out,
        pos: 0,
        total: plan.total_blocks * SECTOR_SIZE,
    };
    out.write(&plan.system_area, "the system area")?;
    for block in &plan.metadata {
        out.zeros_to(u64::from(block.lba) * SECTOR_SIZE, "metadata")?;
        out.write(&block.bytes, "metadata")?;
    }
    progress(out.pos, out.total);
    let mut placed = Vec::with_capacity(plan.files.len() + 1);
    if let Some(lba) = plan.catalog_lba {
        let path = b.catalog.clone().unwrap_or_default();
        let size = plan
            .metadata
            .iter()
            .find(|m| m.lba == lba)
            .map_or(0, |m| m.bytes.len() as u64);
        placed.push(PlacedFile {
            path: format!("/{}", path.trim_start_matches('/')),
            lba,
            size,
        });
    }
    for slot in &plan.files {
        out.zeros_to(u64::from(slot.lba) * SECTOR_SIZE, &slot.path)?;
        let Kind::File(source) = &mut b.tree.nodes[slot.node].kind else {
            continue;
        };
        let written = match &slot.boot_info {
            None => {
                let n = source.copy_to(&mut out.out, &slot.path)?;
                out.pos += n;
                n
            }
            Some(table) => write_patched(source, table, &mut out, &slot.path)?,
        };
        if written != slot.size {
            return Err(Error::SourceChanged {
                path: slot.path.clone(),
                expected: slot.size,
                found: written,
            });
        }
        placed.push(PlacedFile {
            path: slot.path.clone(),
            lba: slot.lba,
            size: slot.size,
        });
        progress(out.pos, out.total);
    }
    out.zeros_to(plan.data_end * SECTOR_SIZE, "the end of the file data")?;
    out.zeros_to(out.total - plan.tail.len() as u64, "padding")?;
    out.write(&plan.tail, "the backup GPT")?;
    out.out.flush().map_err(Error::io("flushing the image"))?;
    progress(out.pos, out.total);
    let (changed, unmapped) = plan
        .relocated
        .map(|r| (r.changed, r.unmapped))
        .unwrap_or_default();
    Ok(Layout {
        blocks: plan.total_blocks,
        files: placed,
        boot_catalog_lba: plan.catalog_lba,
        system_area_changed: changed,
        system_area_unmapped: unmapped,
    })
}

/// Writes a boot image with its boot-info-table patched in at offset 8.
fn write_patched<W: Write>(
    source: &super::Source,
    table: &BootInfoTable,
    out: &mut Out<W>,
    path: &str,
) -> Result<u64> {
    let patch = table.to_bytes();
    let range = BootInfoTable::OFFSET as u64..(BootInfoTable::OFFSET + BootInfoTable::LEN) as u64;
    let mut at = 0u64;
    let start = out.pos;
    source.for_each_chunk(path, |chunk| {
        let end = at + chunk.len() as u64;
        if at < range.end && end > range.start {
            let mut copy = chunk.to_vec();
            for (i, byte) in copy.iter_mut().enumerate() {
                let offset = at + i as u64;
                if range.contains(&offset) {
                    *byte = patch[(offset - range.start) as usize];
                }
            }
            out.write(&copy, path)?;
        } else {
            out.write(chunk, path)?;
        }
        at = end;
        Ok(())
    })?;
    Ok(out.pos - start)
}
