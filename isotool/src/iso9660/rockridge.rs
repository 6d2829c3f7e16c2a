//! The System Use Sharing Protocol (SUSP, IEEE P1281) and the Rock Ridge Interchange Protocol
//! (RRIP, IEEE P1282) entries kept in the System Use area of directory records: POSIX names
//! (`NM`), attributes (`PX`), symbolic links (`SL`), timestamps (`TF`), deep-directory
//! relocation (`CL`, `PL`, `RE`) and continuation areas (`CE`) for what does not fit a record.
//!
//! Rock Ridge is present when the root directory's `.` record starts with an `SP` entry; its
//! `len_skp` says how many bytes to skip at the start of every other System Use area.

use super::bytes::{both32, u8_at};
use super::datetime::DateTime;

/// One SUSP entry: a two-letter signature, a version, and its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuspEntry<'a> {
    pub signature: [u8; 2],
    pub version: u8,
    pub data: &'a [u8],
}

/// Iterates over the entries of a System Use area; stops at padding or `ST`, reports an entry
/// whose length runs past the area.
pub fn entries(area: &[u8]) -> impl Iterator<Item = Result<SuspEntry<'_>, String>> {
    let mut rest = area;
    std::iter::from_fn(move || {
        // Fewer than 4 bytes cannot hold an entry: it is padding.
        let sig = [u8_at(rest, 0)?, u8_at(rest, 1)?];
        let len = usize::from(u8_at(rest, 2)?);
        let version = u8_at(rest, 3)?;
        if sig == [0, 0] || &sig == b"ST" {
            rest = &[];
            return None;
        }
        if len < 4 || len > rest.len() {
            let problem = format!(
                "System Use entry {:?} has length {len}, but {} bytes are left",
                String::from_utf8_lossy(&sig),
                rest.len()
            );
            rest = &[];
            return Some(Err(problem));
        }
        let (entry, tail) = rest.split_at(len);
        rest = tail;
        Some(Ok(SuspEntry {
            signature: sig,
            version,
            data: entry.get(4..).unwrap_or_default(),
        }))
    })
}

/// A continuation area (`CE`): more System Use entries at `offset` bytes into block `lba`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Continuation {
    pub lba: u32,
    pub offset: u32,
    pub len: u32,
}

/// POSIX attributes from `PX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Posix {
    /// `st_mode`: file type and permission bits.
    pub mode: u32,
    pub links: u32,
    pub uid: u32,
    pub gid: u32,
    /// File serial number (the 44-byte RRIP 1.12 form only).
    pub serial: Option<u32>,
}

impl Posix {
    pub const S_IFMT: u32 = 0o170_000;
    pub const S_IFDIR: u32 = 0o040_000;
    pub const S_IFREG: u32 = 0o100_000;
    pub const S_IFLNK: u32 = 0o120_000;

    /// Read-only defaults as `mkisofs -r` writes them.
    pub fn default_file() -> Posix {
        Posix {
            mode: Self::S_IFREG | 0o444,
            links: 1,
            uid: 0,
            gid: 0,
            serial: None,
        }
    }

    pub fn default_dir() -> Posix {
        Posix {
            mode: Self::S_IFDIR | 0o555,
            links: 2,
            uid: 0,
            gid: 0,
            serial: None,
        }
    }

    pub fn default_symlink() -> Posix {
        Posix {
            mode: Self::S_IFLNK | 0o777,
            links: 1,
            uid: 0,
            gid: 0,
            serial: None,
        }
    }
}

/// Timestamps from `TF`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Times {
    pub created: Option<DateTime>,
    pub modified: Option<DateTime>,
    pub accessed: Option<DateTime>,
    pub attributes_changed: Option<DateTime>,
}

/// What the Rock Ridge entries of one directory record say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RockRidge {
    /// The POSIX name from `NM` (bytes that are not UTF-8 shown as U+FFFD).
    pub name: Option<String>,
    pub posix: Option<Posix>,
    /// The target of a symbolic link, from `SL`.
    pub symlink: Option<String>,
    pub times: Times,
    /// `CL`: this file record stands for a directory relocated to this LBA.
    pub child_link: Option<u32>,
    /// `PL`: in a relocated directory's `..`, the LBA of its real parent.
    pub parent_link: Option<u32>,
    /// `RE`: this directory was relocated here and is to be hidden from the Rock Ridge tree.
    pub relocated: bool,
}

/// Flag bits of `NM` and `SL` (RRIP 4.1.3, 4.1.4).
const NM_CONTINUE: u8 = 0x01;
const SL_CONTINUE: u8 = 0x01;
const SL_CURRENT: u8 = 0x02;
const SL_PARENT: u8 = 0x04;
const SL_ROOT: u8 = 0x08;

/// Collects the entries of one record, across its continuation areas.
#[derive(Debug, Default)]
pub struct Collector {
    name: Option<Vec<u8>>,
    link: Option<Vec<String>>,
    link_continues: bool,
    rr: RockRidge,
}

impl Collector {
    /// Adds the entries of one System Use area (the record's own, or a continuation area) and
    /// returns the continuation area to read next, if any.
    pub fn add_area(&mut self, area: &[u8]) -> Result<Option<Continuation>, String> {
        let mut next = None;
        for entry in entries(area) {
            let entry = entry?;
            let d = entry.data;
            let short = || {
                format!(
                    "{} entry too short",
                    String::from_utf8_lossy(&entry.signature)
                )
            };
            match &entry.signature {
                b"CE" => {
                    next = Some(Continuation {
                        lba: both32(d, 0).ok_or_else(short)?,
                        offset: both32(d, 8).ok_or_else(short)?,
                        len: both32(d, 16).ok_or_else(short)?,
                    });
                }
                b"NM" => {
                    let flags = u8_at(d, 0).ok_or_else(short)?;
                    // CURRENT/PARENT/HOST names carry no text; only plain names are kept.
                    if flags & !NM_CONTINUE == 0 {
                        self.name
                            .get_or_insert_default()
                            .extend_from_slice(d.get(1..).unwrap_or_default());
                    }
                }
                b"PX" => {
                    self.rr.posix = Some(Posix {
                        mode: both32(d, 0).ok_or_else(short)?,
                        links: both32(d, 8).ok_or_else(short)?,
                        uid: both32(d, 16).ok_or_else(short)?,
                        gid: both32(d, 24).ok_or_else(short)?,
                        serial: both32(d, 32),
                    });
                }
                b"SL" => self.add_link(d.get(1..).ok_or_else(short)?)?,
                b"TF" => self.rr.times = parse_tf(d).ok_or_else(short)?,
                b"CL" => self.rr.child_link = Some(both32(d, 0).ok_or_else(short)?),
                b"PL" => self.rr.parent_link = Some(both32(d, 0).ok_or_else(short)?),
                b"RE" => self.rr.relocated = true,
                _ => {}
            }
        }
        Ok(next)
    }

    fn add_link(&mut self, mut components: &[u8]) -> Result<(), String> {
        let link = self.link.get_or_insert_default();
        while !components.is_empty() {
            let flags = u8_at(components, 0).ok_or("SL component truncated")?;
            let len = usize::from(u8_at(components, 1).ok_or("SL component truncated")?);
            let text = components
                .get(2..2 + len)
                .ok_or("SL component runs past its entry")?;
            components = components.get(2 + len..).unwrap_or_default();
            let piece = if flags & SL_CURRENT != 0 {
                ".".to_string()
            } else if flags & SL_PARENT != 0 {
                "..".to_string()
            } else if flags & SL_ROOT != 0 {
                String::new()
            } else {
                String::from_utf8_lossy(text).into_owned()
            };
            match link.last_mut() {
                Some(last) if self.link_continues => last.push_str(&piece),
                _ => link.push(piece),
            }
            self.link_continues = flags & SL_CONTINUE != 0;
        }
        Ok(())
    }

    /// The collected attributes.
    pub fn finish(mut self) -> RockRidge {
        self.rr.name = self.name.map(|n| String::from_utf8_lossy(&n).into_owned());
        self.rr.symlink = self.link.map(|parts| match parts.as_slice() {
            [root] if root.is_empty() => "/".to_string(),
            _ => parts.join("/"),
        });
        self.rr
    }
}

fn parse_tf(d: &[u8]) -> Option<Times> {
    let flags = u8_at(d, 0)?;
    let long = flags & 0x80 != 0;
    let size = if long { 17 } else { 7 };
    let mut at = 1;
    let mut times = Times::default();
    let mut next = |present: bool| -> Option<Option<DateTime>> {
        if !present {
            return Some(None);
        }
        let field = d.get(at..at + size)?;
        at += size;
        Some(if long {
            DateTime::parse_volume(field)
        } else {
            DateTime::parse_record(field)
        })
    };
    times.created = next(flags & 0x01 != 0)?;
    times.modified = next(flags & 0x02 != 0)?;
    times.accessed = next(flags & 0x04 != 0)?;
    times.attributes_changed = next(flags & 0x08 != 0)?;
    Some(times)
}

/// `len_skp` of an `SP` entry at the very start of the root's `.` System Use area, or `None`
/// when the image has no SUSP.
pub fn sp_skip(root_dot_system_use: &[u8]) -> Option<u8> {
    let e = entries(root_dot_system_use).next()?.ok()?;
    (&e.signature == b"SP" && e.data.get(..2) == Some(&[0xBE, 0xEF][..]))
        .then(|| u8_at(e.data, 2))?
}

/// The extension identifiers of the `ER` entries in an area (`RRIP_1991A`, `IEEE_P1282`, …).
pub fn extension_ids(area: &[u8]) -> Vec<String> {
    entries(area)
        .filter_map(Result::ok)
        .filter(|e| &e.signature == b"ER")
        .filter_map(|e| {
            let id_len = usize::from(u8_at(e.data, 0)?);
            Some(String::from_utf8_lossy(e.data.get(4..4 + id_len)?).into_owned())
        })
        .collect()
}

/// `true` when an `ER` list names Rock Ridge.
pub fn is_rock_ridge(extension_ids: &[String]) -> bool {
    extension_ids
        .iter()
        .any(|id| matches!(id.as_str(), "RRIP_1991A" | "IEEE_P1282" | "IEEE_1282"))
}

// ---- writing

/// Length of a `CE` entry.
pub const CE_LEN: usize = 28;

fn entry(signature: &[u8; 2], data: &[u8]) -> Vec<u8> {
    let mut e = Vec::with_capacity(4 + data.len());
    e.extend_from_slice(signature);
    e.push((4 + data.len()) as u8);
    e.push(1);
    e.extend_from_slice(data);
    e
}

fn both32_bytes(v: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&v.to_le_bytes());
    b[4..].copy_from_slice(&v.to_be_bytes());
    b
}

/// `SP`: SUSP is in use, no bytes skipped.
pub fn sp() -> Vec<u8> {
    entry(b"SP", &[0xBE, 0xEF, 0])
}

/// `ER` for RRIP 1991A, the extension every Rock Ridge reader knows.
pub fn er_rrip() -> Vec<u8> {
    const ID: &[u8] = b"RRIP_1991A";
    const DESC: &[u8] =
        b"THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
    const SRC: &[u8] = b"PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";
    let mut d = vec![ID.len() as u8, DESC.len() as u8, SRC.len() as u8, 1];
    d.extend_from_slice(ID);
    d.extend_from_slice(DESC);
    d.extend_from_slice(SRC);
    entry(b"ER", &d)
}

/// `RR` (RRIP 1.09): which Rock Ridge entries this record carries.
pub fn rr(has_name: bool, has_link: bool) -> Vec<u8> {
    let mut flags = 0x01 | 0x80; // PX, TF
    if has_link {
        flags |= 0x04;
    }
    if has_name {
        flags |= 0x08;
    }
    entry(b"RR", &[flags])
}

/// `PX` in the 36-byte RRIP 1991A form.
pub fn px(p: &Posix) -> Vec<u8> {
    let mut d = Vec::with_capacity(32);
    for v in [p.mode, p.links, p.uid, p.gid] {
        d.extend_from_slice(&both32_bytes(v));
    }
    entry(b"PX", &d)
}

/// `TF` with modification, access and attribute-change times all `time`.
pub fn tf(time: &DateTime) -> Vec<u8> {
    let mut d = vec![0x02 | 0x04 | 0x08];
    for _ in 0..3 {
        d.extend_from_slice(&time.to_record());
    }
    entry(b"TF", &d)
}

/// `NM` entries for `name`, split with the CONTINUE flag when longer than one entry holds.
pub fn nm(name: &str) -> Vec<Vec<u8>> {
    let bytes = name.as_bytes();
    let chunks: Vec<&[u8]> = bytes.chunks(250).collect();
    let last = chunks.len().saturating_sub(1);
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut d = vec![if i < last { NM_CONTINUE } else { 0 }];
            d.extend_from_slice(chunk);
            entry(b"NM", &d)
        })
        .collect()
}

/// `SL` entries for a symbolic link to `target`.
pub fn sl(target: &str) -> Vec<Vec<u8>> {
    let mut components = Vec::new();
    if target.starts_with('/') {
        components.push(vec![SL_ROOT, 0]);
    }
    for part in target.split('/').filter(|p| !p.is_empty()) {
        match part {
            "." => components.push(vec![SL_CURRENT, 0]),
            ".." => components.push(vec![SL_PARENT, 0]),
            _ => {
                let chunks: Vec<&[u8]> = part.as_bytes().chunks(240).collect();
                let last = chunks.len() - 1;
                for (i, chunk) in chunks.iter().enumerate() {
                    let mut c = vec![if i < last { SL_CONTINUE } else { 0 }, chunk.len() as u8];
                    c.extend_from_slice(chunk);
                    components.push(c);
                }
            }
        }
    }
    // Pack components into entries of at most 255 bytes (4 header + 1 flags + components).
    let mut groups: Vec<Vec<u8>> = vec![Vec::new()];
    for c in components {
        if groups.last().is_some_and(|g| g.len() + c.len() > 250) {
            groups.push(Vec::new());
        }
        if let Some(g) = groups.last_mut() {
            g.extend_from_slice(&c);
        }
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mut d = vec![if i < last { SL_CONTINUE } else { 0 }];
            d.extend_from_slice(g);
            entry(b"SL", &d)
        })
        .collect()
}

/// `CE` pointing at a continuation area.
pub fn ce(c: &Continuation) -> Vec<u8> {
    let mut d = Vec::with_capacity(24);
    for v in [c.lba, c.offset, c.len] {
        d.extend_from_slice(&both32_bytes(v));
    }
    entry(b"CE", &d)
}

/// Splits entries between a record with `room` bytes of System Use space and a continuation
/// area: as many whole entries as fit stay in the record with room left for a `CE`, the rest
/// move to the continuation area (returned second; empty when everything fits).
pub fn split(entries: &[Vec<u8>], room: usize) -> (Vec<u8>, Vec<u8>) {
    let total: usize = entries.iter().map(Vec::len).sum();
    if total <= room {
        return (entries.concat(), Vec::new());
    }
    let mut inline = Vec::new();
    let mut rest = Vec::new();
    for e in entries {
        if rest.is_empty() && inline.len() + e.len() + CE_LEN <= room {
            inline.extend_from_slice(e);
        } else {
            rest.extend_from_slice(e);
        }
    }
    (inline, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(areas: &[&[u8]]) -> RockRidge {
        let mut c = Collector::default();
        for a in areas {
            c.add_area(a).unwrap();
        }
        c.finish()
    }

    #[test]
    fn written_entries_read_back() {
        let t = DateTime::from_unix(1_700_000_000);
        let long = "n".repeat(300);
        let mut area = Vec::new();
        area.extend(rr(true, true));
        area.extend(px(&Posix::default_symlink()));
        area.extend(tf(&t));
        for e in nm(&long).into_iter().chain(sl("/usr/../lib/./x")) {
            area.extend(e);
        }
        let rr = collect(&[&area]);
        assert_eq!(rr.name.as_deref(), Some(long.as_str()));
        assert_eq!(rr.symlink.as_deref(), Some("/usr/../lib/./x"));
        assert_eq!(rr.posix, Some(Posix::default_symlink()));
        assert_eq!(rr.times.modified, Some(t));
    }

    #[test]
    fn long_link_components_continue_across_entries() {
        let target = format!("{}/b", "a".repeat(600));
        let mut area = Vec::new();
        for e in sl(&target) {
            assert!(e.len() <= 255);
            area.extend(e);
        }
        assert_eq!(collect(&[&area]).symlink.as_deref(), Some(target.as_str()));
    }

    #[test]
    fn sp_and_er_are_detected() {
        let mut area = sp();
        area.extend(er_rrip());
        assert_eq!(sp_skip(&area), Some(0));
        assert!(is_rock_ridge(&extension_ids(&area)));
        assert_eq!(sp_skip(&px(&Posix::default_dir())), None);
    }

    #[test]
    fn continuation_is_returned_and_bad_lengths_are_errors() {
        let c = Continuation {
            lba: 40,
            offset: 100,
            len: 237,
        };
        let mut col = Collector::default();
        assert_eq!(col.add_area(&ce(&c)), Ok(Some(c)));
        assert!(Collector::default().add_area(b"NM\xff\x01abc").is_err());
        assert!(Collector::default().add_area(b"NM\x02\x01abc").is_err());
        assert_eq!(Collector::default().add_area(b"\0\0\0\0garbage"), Ok(None));
    }

    #[test]
    fn split_keeps_room_for_ce() {
        let entries = vec![vec![1; 100], vec![2; 100], vec![3; 100]];
        let (inline, rest) = split(&entries, 300);
        assert_eq!((inline.len(), rest.len()), (300, 0));
        let (inline, rest) = split(&entries, 250);
        assert_eq!((inline.len(), rest.len()), (200, 100));
        let (inline, rest) = split(&entries, 120);
        assert_eq!((inline.len(), rest.len()), (0, 300));
    }
}
