//! What the reader hands out for each name on the image.

use crate::iso9660::datetime::DateTime;
use crate::iso9660::directory::Extent;
use crate::iso9660::rockridge::{Posix, RockRidge};

/// Which names to read: the trees of an image differ only in names (and Rock Ridge attributes);
/// file data is shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Names {
    /// The primary tree's identifiers, `;1` and a trailing `.` removed (`BOOT.CFG`). This is what
    /// ESXi's UEFI loader sees.
    Primary,
    /// The primary tree with Rock Ridge `NM` names where present (else the primary name), and
    /// relocated deep directories put back where they belong.
    RockRidge,
    /// The Joliet tree's UCS-2 names.
    Joliet,
}

impl std::fmt::Display for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Names::Primary => "primary ISO 9660",
            Names::RockRidge => "Rock Ridge",
            Names::Joliet => "Joliet",
        })
    }
}

/// What kind of thing an entry is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    File,
    Directory,
    /// A Rock Ridge symbolic link and its target.
    Symlink(String),
}

/// One file, directory or symbolic link of the tree, with the extents holding its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name in the namespace it was read with.
    pub name: String,
    /// Its full path from the root, `/`-separated, starting with `/` (the root is `/`).
    pub path: String,
    /// The identifier exactly as recorded (`BOOT.CFG;1`; Joliet identifiers decoded from
    /// UCS-2), for a remaster that keeps the source's identifiers.
    pub identifier: String,
    pub kind: EntryKind,
    /// The data: one extent, or several for a multi-extent file (4 GiB and more).
    pub extents: Vec<Extent>,
    /// Length of the data in bytes (the sum of the extents).
    pub size: u64,
    /// The "existence" (hidden) flag.
    pub hidden: bool,
    /// The recording time of its directory record.
    pub recorded: DateTime,
    /// Rock Ridge attributes, when the image has Rock Ridge (in every namespace but Joliet).
    pub rock_ridge: Option<RockRidge>,
    /// File unit size and interleave gap; non-zero means an interleaved file, which is not read.
    pub(crate) interleaved: bool,
    pub(crate) names: Names,
    /// LBA of the sector holding (the first of) its directory record(s), for messages.
    pub record_lba: u32,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Directory
    }

    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::File
    }

    /// The namespace this entry was read with.
    pub fn names(&self) -> Names {
        self.names
    }

    /// The first LBA of its data (0 for an empty file some tools record that way).
    pub fn lba(&self) -> u32 {
        self.extents.first().map_or(0, |e| e.lba)
    }

    /// POSIX attributes from Rock Ridge, if recorded.
    pub fn posix(&self) -> Option<Posix> {
        self.rock_ridge.as_ref().and_then(|rr| rr.posix)
    }

    /// Modification time: Rock Ridge's when recorded, else the directory record's.
    pub fn modified(&self) -> DateTime {
        self.rock_ridge
            .as_ref()
            .and_then(|rr| rr.times.modified)
            .unwrap_or(self.recorded)
    }
}
