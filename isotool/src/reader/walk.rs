//! Depth-first walk of a tree, bounded against loops and corrupt sizes.

use std::collections::HashSet;
use std::io::{Read, Seek};

use super::{Entry, Image, Names};
use crate::iso9660::{Error, Result};

/// Directory levels followed (ISO 9660 allows 8; Rock Ridge and xorriso go deeper).
pub const MAX_DEPTH: usize = 256;

/// Entries yielded by one walk: a bound on what a corrupt image can make the walk do.
pub const MAX_ENTRIES: usize = 4_000_000;

struct Frame {
    dir_lba: u32,
    entries: std::vec::IntoIter<Entry>,
}

/// Iterator over every entry below the root (not the root itself), depth-first, each
/// directory's entries sorted by name. After an error it ends.
pub struct Walk<'a, R> {
    image: &'a mut Image<R>,
    stack: Vec<Frame>,
    /// Every directory extent seen: in a sound image each directory has its own, so a second
    /// sighting is a loop or a hard-linked directory, and following it could repeat work forever.
    seen: HashSet<u32>,
    dir_bytes: u64,
    yielded: usize,
}

impl<'a, R: Read + Seek> Walk<'a, R> {
    pub(super) fn new(image: &'a mut Image<R>, names: Names) -> Result<Walk<'a, R>> {
        let root = image.root(names)?;
        let mut walk = Walk {
            image,
            stack: Vec::new(),
            seen: HashSet::new(),
            dir_bytes: 0,
            yielded: 0,
        };
        walk.enter(&root)?;
        Ok(walk)
    }

    fn enter(&mut self, dir: &Entry) -> Result<()> {
        let lba = dir.lba();
        if self.stack.iter().any(|f| f.dir_lba == lba) {
            return Err(Error::DirectoryLoop {
                path: dir.path.clone(),
                lba,
            });
        }
        if !self.seen.insert(lba) {
            return Err(Error::Malformed {
                what: format!("directory {}", dir.path),
                lba: lba.into(),
                problem: "its extent belongs to another directory as well".into(),
            });
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(Error::TooDeep {
                path: dir.path.clone(),
                limit: MAX_DEPTH,
            });
        }
        let mut entries = self.image.read_dir(dir)?;
        // Sound directories do not overlap, so together they are smaller than the image; more
        // means directories shared between parents, which could repeat work without end.
        self.dir_bytes += dir.size;
        if self.dir_bytes > self.image.len() {
            return Err(Error::Malformed {
                what: format!("directory {}", dir.path),
                lba: lba.into(),
                problem: "the directories read so far are larger than the whole image".into(),
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        self.stack.push(Frame {
            dir_lba: lba,
            entries: entries.into_iter(),
        });
        Ok(())
    }
}

impl<R: Read + Seek> Iterator for Walk<'_, R> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            let frame = self.stack.last_mut()?;
            let Some(entry) = frame.entries.next() else {
                self.stack.pop();
                continue;
            };
            self.yielded += 1;
            if self.yielded > MAX_ENTRIES {
                self.stack.clear();
                return Some(Err(Error::TooManyEntries {
                    path: entry.path,
                    limit: MAX_ENTRIES,
                }));
            }
            if entry.is_dir() {
                if let Err(e) = self.enter(&entry) {
                    self.stack.clear();
                    return Some(Err(e));
                }
            }
            return Some(Ok(entry));
        }
    }
}
