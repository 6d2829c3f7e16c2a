//! Writing kickstarts: one file per host, `<host>.ks.cfg`, mode 0600, each written to a
//! temporary file in the output folder and renamed into place when complete, so a reader
//! (or a crash) never sees half a file. Hosts are rendered and written on every core.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::inventory::{Host, Inventory};

use super::{RenderError, Renderer};

/// Called after each host is written, from any thread.
pub type RenderProgress<'a> = &'a (dyn Fn() + Sync);

/// The kickstart file name of a host.
pub fn file_name(host: &str) -> String {
    format!("{host}.ks.cfg")
}

/// Render `hosts` of `inventory` into `dir` (created if missing); the paths written, in the
/// order of `hosts`. On an error no further host is started, and the error of the first
/// failing host (in `hosts` order) is returned; files already written are complete.
pub fn write_all(
    renderer: &Renderer,
    inventory: &Inventory,
    hosts: &[&Host],
    dir: &Path,
    progress: RenderProgress<'_>,
) -> Result<Vec<PathBuf>, RenderError> {
    let err = |source| RenderError::Write {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    // `tempfile_in` makes a relative folder absolute with a `getcwd` per file; once is enough.
    let dir = &std::path::absolute(dir).map_err(err)?;
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 16)
        .min(hosts.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failures: Mutex<Vec<(usize, RenderError)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                // Hosts are taken one at a time: a slow one (a clear password to hash)
                // does not hold up a whole chunk.
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(host) = hosts.get(i) else { break };
                    let done = renderer
                        .render(host, &inventory.salt_seed)
                        .and_then(|text| write_one(dir, &host.name, &text));
                    match done {
                        Ok(()) => progress(),
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            if let Ok(mut f) = failures.lock() {
                                f.push((i, e));
                            }
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some((_, e)) = failures.into_iter().min_by_key(|(i, _)| *i) {
        return Err(e);
    }
    Ok(hosts.iter().map(|h| dir.join(file_name(&h.name))).collect())
}

/// Write one host's kickstart into `dir` atomically. `tempfile` creates the file with mode 0600.
pub fn write_one(dir: &Path, host: &str, text: &str) -> Result<(), RenderError> {
    let path = dir.join(file_name(host));
    let err = |source| RenderError::Write {
        path: path.clone(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".esxforge-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    tmp.persist(&path).map_err(|e| err(e.error))?;
    Ok(())
}
