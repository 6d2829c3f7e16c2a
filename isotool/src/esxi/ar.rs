//! The Unix `ar` archive a VIB is wrapped in: `!<arch>\n`, then per member a 60-byte header
//! (name, mtime, uid, gid, mode, size, "`\n") and the data, padded to an even length.
//!
//! VMware-built VIBs write names space-padded without a slash (`descriptor.xml  `) and zero
//! mtime/uid/gid/mode; GNU `ar` writes `descriptor.xml/` and real values. Both are read here,
//! and so are the ways `ar` tools record a name longer than 15 characters (a community payload
//! named `letsencrypt-esxi`, say): GNU's `//` name table with `/OFFSET` names, and BSD's
//! `#1/LENGTH` with the name before the data. Symbol tables (`/`, `/SYM64/`, `__.SYMDEF`), which
//! `ar s` adds, are skipped.
//!
//! Why not the `ar` crate: on crafted input it slices a GNU name table with an unchecked index (a
//! panic) and allocates whatever a header claims for name tables (10 GB from ten digits). This
//! reader checks every size and offset against the file length and bounds the name table.

use std::io::{Read, Seek, SeekFrom};

use super::Error;

const MAGIC: &[u8; 8] = b"!<arch>\n";
const HEADER_LEN: u64 = 60;
/// No VIB has more; bounds the index on hostile input.
const MAX_MEMBERS: usize = 4096;
/// A GNU name table holds a few names; a larger one is not a VIB's.
const MAX_NAME_TABLE: u64 = 64 << 10;

/// One member: its name and where its data lies in the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// Byte offset of the data in the archive.
    pub offset: u64,
    pub size: u64,
}

/// Reads the member index of the archive in `reader` (named `file` in errors). Data is not read.
pub fn index<R: Read + Seek>(file: &str, reader: &mut R) -> Result<Vec<Member>, Error> {
    let bad = |what: String| Error::Format {
        file: file.to_string(),
        what,
    };
    let io = Error::io(&file);
    let len = reader.seek(SeekFrom::End(0)).map_err(&io)?;
    reader.seek(SeekFrom::Start(0)).map_err(&io)?;
    let mut magic = [0u8; 8];
    let got = super::read_up_to(reader, &mut magic).map_err(&io)?;
    if magic.starts_with(b"!<arch>\r\n") || (got == 8 && &magic == b"!<arch>\r") {
        return Err(bad(
            "starts with `!<arch>\\r\\n`: the file was damaged by a text-mode (CRLF) transfer; \
             download it again in binary mode"
                .into(),
        ));
    }
    if got < 8 || &magic != MAGIC {
        return Err(bad(
            "not an ar archive (no `!<arch>` header); a VIB is an ar archive".into(),
        ));
    }
    let mut members = Vec::new();
    let mut long_names: Vec<u8> = Vec::new();
    let mut pos: u64 = 8;
    while pos < len {
        if members.len() >= MAX_MEMBERS {
            return Err(bad(format!("more than {MAX_MEMBERS} members")));
        }
        if len - pos < HEADER_LEN {
            return Err(bad(format!(
                "truncated: {} bytes at offset {pos} are too short for a member header",
                len - pos
            )));
        }
        let mut header = [0u8; HEADER_LEN as usize];
        reader.seek(SeekFrom::Start(pos)).map_err(&io)?;
        reader.read_exact(&mut header).map_err(&io)?;
        let (raw_name, rest) = header.split_at(16);
        let (fields, fmag) = rest.split_at(42);
        if fmag != b"`\n" {
            return Err(bad(format!(
                "member header at offset {pos} is corrupt (no \"`\\n\" terminator)"
            )));
        }
        let kind = member_kind(raw_name)
            .ok_or_else(|| bad(format!("member header at offset {pos} has a bad name")))?;
        let size_field = fields.get(32..42).unwrap_or_default();
        let size = std::str::from_utf8(size_field)
            .ok()
            .and_then(|s| s.trim_end().parse::<u64>().ok())
            .ok_or_else(|| {
                bad(format!(
                    "member at offset {pos} has a bad size field {:?}",
                    String::from_utf8_lossy(size_field)
                ))
            })?;
        let data = pos + HEADER_LEN;
        if size > len - data {
            return Err(bad(format!(
                "truncated: the member at offset {pos} claims {size} bytes but only {} remain",
                len - data
            )));
        }
        // Data is padded to an even length; a missing final pad byte is tolerated.
        let next = data + size + (size % 2);
        let (name, offset, size) = match kind {
            Kind::Symbols => {
                pos = next;
                continue;
            }
            Kind::NameTable => {
                if size > MAX_NAME_TABLE {
                    return Err(bad(format!(
                        "the GNU name table at offset {pos} is {size} bytes; a VIB's is a few"
                    )));
                }
                long_names.clear();
                reader
                    .by_ref()
                    .take(size)
                    .read_to_end(&mut long_names)
                    .map_err(&io)?;
                pos = next;
                continue;
            }
            Kind::Named(name) => (name, data, size),
            Kind::GnuLong(at) => {
                let name = gnu_long_name(&long_names, at).ok_or_else(|| {
                    bad(format!(
                        "member at offset {pos} names entry {at} of the GNU name table, which has none there"
                    ))
                })?;
                (name, data, size)
            }
            Kind::BsdLong(name_len) => {
                if name_len > size {
                    return Err(bad(format!(
                        "member at offset {pos} has a {name_len}-byte name but only {size} bytes"
                    )));
                }
                let mut raw = Vec::new();
                reader
                    .by_ref()
                    .take(name_len)
                    .read_to_end(&mut raw)
                    .map_err(&io)?;
                let name = plain_name(raw.split(|&b| b == 0).next().unwrap_or_default())
                    .ok_or_else(|| bad(format!("member at offset {pos} has a bad name")))?;
                if name.starts_with("__.SYMDEF") {
                    pos = next;
                    continue;
                }
                (name, data + name_len, size - name_len)
            }
        };
        members.push(Member { name, offset, size });
        pos = next;
    }
    Ok(members)
}

/// What a member's 16-byte name field says.
enum Kind {
    /// A symbol table (`/`, `/SYM64/`, `__.SYMDEF`): not a VIB member.
    Symbols,
    /// GNU's table of long names (`//`).
    NameTable,
    Named(String),
    /// GNU `/OFFSET`: the name is at OFFSET in the name table.
    GnuLong(u64),
    /// BSD `#1/LENGTH`: the name is the first LENGTH bytes of the data.
    BsdLong(u64),
}

fn member_kind(raw: &[u8]) -> Option<Kind> {
    let field = std::str::from_utf8(raw).ok()?.trim_end_matches(' ');
    let number = |digits: &str| {
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse::<u64>().ok())
            .flatten()
    };
    Some(match field {
        "/" | "/SYM64/" => Kind::Symbols,
        "//" => Kind::NameTable,
        _ if field.starts_with("__.SYMDEF") => Kind::Symbols,
        _ => {
            if let Some(digits) = field.strip_prefix("#1/") {
                Kind::BsdLong(number(digits)?)
            } else if let Some(digits) = field.strip_prefix('/') {
                Kind::GnuLong(number(digits)?)
            } else {
                Kind::Named(plain_name(field.as_bytes())?)
            }
        }
    })
}

/// The entry at `at` of a GNU name table: up to its `/\n` (or `\n`) terminator.
fn gnu_long_name(table: &[u8], at: u64) -> Option<String> {
    let rest = table.get(usize::try_from(at).ok()?..)?;
    let end = rest.iter().position(|&b| b == b'\n')?;
    plain_name(rest.get(..end)?)
}

/// A member name, its GNU `/` terminator removed, or `None` for names a VIB never has (empty,
/// non-ASCII, with spaces or control characters).
fn plain_name(raw: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(raw).ok()?;
    let name = name.strip_suffix('/').unwrap_or(name);
    let ok =
        !name.is_empty() && !name.starts_with('/') && name.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| name.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Cursor;

    /// An archive written by the `ar` crate (an implementation we did not write; this module
    /// only reads): VMware's style (`gnu == false`: space-padded names, every field zero) or
    /// GNU's (`name/`, a real mtime and mode).
    pub(crate) fn archive(members: &[(&str, &[u8])], gnu: bool) -> Vec<u8> {
        let header = |name: &str, data: &[u8]| {
            let mut h = ::ar::Header::new(name.as_bytes().to_vec(), data.len() as u64);
            if gnu {
                h.set_mtime(1_700_000_000);
                h.set_mode(0o100644);
            }
            h
        };
        if gnu {
            let names = members.iter().map(|(n, _)| n.as_bytes().to_vec()).collect();
            let mut b = ::ar::GnuBuilder::new(Vec::new(), names);
            for (name, data) in members {
                b.append(&header(name, data), *data).unwrap();
            }
            b.into_inner().unwrap()
        } else {
            let mut b = ::ar::Builder::new(Vec::new());
            for (name, data) in members {
                b.append(&header(name, data), *data).unwrap();
            }
            b.into_inner().unwrap()
        }
    }

    #[test]
    fn reads_both_name_styles() {
        for gnu in [false, true] {
            let a = archive(
                &[
                    ("descriptor.xml", b"<vib/>"),
                    ("sig.pkcs7", b""),
                    ("net-ixgb", b"abc"),
                ],
                gnu,
            );
            let m = index("x.vib", &mut Cursor::new(&a)).unwrap();
            let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
            assert_eq!(names, ["descriptor.xml", "sig.pkcs7", "net-ixgb"]);
            let last = &m[2];
            assert_eq!(&a[last.offset as usize..][..3], b"abc");
        }
    }

    /// Names longer than 15 characters as GNU `ar` (a `//` table) and BSD `ar` (`#1/LEN`) write
    /// them, read back with the data where it is; a symbol table (`ar s`) is skipped.
    #[test]
    fn reads_long_names_both_ways_and_skips_symbol_tables() {
        let long = "letsencrypt-esxi-payload";
        for gnu in [false, true] {
            let a = archive(
                &[
                    ("descriptor.xml", b"<vib/>"),
                    (long, b"abc"),
                    ("sig.pkcs7", b"s"),
                ],
                gnu,
            );
            assert!(
                a.windows(4)
                    .any(|w| w == if gnu { b"//  " } else { b"#1/2" })
            );
            let m = index("x.vib", &mut Cursor::new(&a)).unwrap();
            let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
            assert_eq!(names, ["descriptor.xml", long, "sig.pkcs7"], "gnu: {gnu}");
            assert_eq!(&a[m[1].offset as usize..][..m[1].size as usize], b"abc");
            assert_eq!(&a[m[2].offset as usize..][..m[2].size as usize], b"s");
        }
        let mut a = MAGIC.to_vec();
        a.extend_from_slice(
            format!("{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n", "/", 0, 0, 0, 0, 4).as_bytes(),
        );
        a.extend_from_slice(b"\0\0\0\0");
        a.extend_from_slice(&archive(&[("descriptor.xml", b"<vib/>")], true)[8..]);
        let m = index("x.vib", &mut Cursor::new(&a)).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].name, "descriptor.xml");
    }

    #[test]
    fn bad_long_names_are_clear_errors() {
        // A GNU name pointing past its table, and a BSD name longer than the member.
        let mut a = archive(&[("a-very-long-member-name", b"abc")], true);
        let at = a.windows(3).rposition(|w| w == b"/0 ").unwrap();
        a[at + 1..at + 3].copy_from_slice(b"99");
        let e = index("x.vib", &mut Cursor::new(&a))
            .unwrap_err()
            .to_string();
        assert!(e.contains("GNU name table"), "{e}");
        let mut a = archive(&[("a-very-long-member-name", b"abc")], false);
        let at = a.windows(4).position(|w| w == b"#1/2").unwrap();
        a[at + 3] = b'9';
        let e = index("x.vib", &mut Cursor::new(&a))
            .unwrap_err()
            .to_string();
        assert!(e.contains("name but only"), "{e}");
    }

    #[test]
    fn crlf_damage_truncation_and_garbage_are_clear_errors() {
        let crlf = b"!<arch>\r\ndescriptor.xml".to_vec();
        assert!(
            index("x.vib", &mut Cursor::new(&crlf))
                .unwrap_err()
                .to_string()
                .contains("binary mode")
        );
        let mut a = archive(&[("descriptor.xml", b"<vib/>0123456789")], false);
        a.truncate(a.len() - 4);
        assert!(
            index("x.vib", &mut Cursor::new(&a))
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        let e = index("x.vib", &mut Cursor::new(b"PK\x03\x04"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not an ar archive") && e.starts_with("x.vib"),
            "{e}"
        );
        let mut a = archive(&[("a", b"xx")], false);
        a[8 + 48] = b'z';
        assert!(index("x.vib", &mut Cursor::new(&a)).is_err());
        let mut a = archive(&[("//", b"xx")], true);
        a[8] = b'/';
        assert!(index("x.vib", &mut Cursor::new(&a)).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut data = MAGIC.to_vec();
            data.extend(bytes);
            let _ = index("x", &mut Cursor::new(&data));
        }
    }
}
