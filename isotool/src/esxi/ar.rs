//! The Unix `ar` archive a VIB is wrapped in: `!<arch>\n`, then per member a 60-byte header
//! (name, mtime, uid, gid, mode, size, "`\n") and the data, padded to an even length.
//!
//! VMware-built VIBs write names space-padded without a slash (`descriptor.xml  `) and zero
//! mtime/uid/gid/mode; GNU `ar` writes `descriptor.xml/` and real values. Both are read here.
//!
//! Why not the `ar` crate: it reads both name styles, but on crafted input it slices a GNU name
//! table with an unchecked index (a panic) and allocates whatever a header claims for name
//! tables (10 GB from ten digits). A VIB needs none of those extensions, so this reader indexes
//! plain members only, checks every size against the file length, and never allocates from a
//! header field.

use std::io::{Read, Seek, SeekFrom};

use super::Error;

const MAGIC: &[u8; 8] = b"!<arch>\n";
const HEADER_LEN: u64 = 60;
/// No VIB has more; bounds the index on hostile input.
const MAX_MEMBERS: usize = 4096;

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
    let io = |source: std::io::Error| Error::Io {
        file: file.to_string(),
        source,
    };
    let len = reader.seek(SeekFrom::End(0)).map_err(io)?;
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut magic = [0u8; 8];
    let got = super::read_up_to(reader, &mut magic).map_err(io)?;
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
        reader.seek(SeekFrom::Start(pos)).map_err(io)?;
        reader.read_exact(&mut header).map_err(io)?;
        let (raw_name, rest) = header.split_at(16);
        let (fields, fmag) = rest.split_at(42);
        if fmag != b"`\n" {
            return Err(bad(format!(
                "member header at offset {pos} is corrupt (no \"`\\n\" terminator)"
            )));
        }
        let name = member_name(raw_name)
            .ok_or_else(|| bad(format!("member header at offset {pos} has a bad name")))?;
        let size_field = fields.get(32..42).unwrap_or_default();
        let size = std::str::from_utf8(size_field)
            .ok()
            .and_then(|s| s.trim_end().parse::<u64>().ok())
            .ok_or_else(|| {
                bad(format!(
                    "member {name:?} at offset {pos} has a bad size field {:?}",
                    String::from_utf8_lossy(size_field)
                ))
            })?;
        let offset = pos + HEADER_LEN;
        if size > len - offset {
            return Err(bad(format!(
                "truncated: member {name:?} claims {size} bytes but only {} remain",
                len - offset
            )));
        }
        members.push(Member { name, offset, size });
        // Data is padded to an even length; a missing final pad byte is tolerated.
        pos = offset + size + (size % 2);
    }
    Ok(members)
}

/// A member name as either style writes it, or `None` for names a VIB never has (GNU/BSD
/// long-name and symbol tables, empty or non-ASCII names).
fn member_name(raw: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(raw).ok()?.trim_end_matches(' ');
    let name = name.strip_suffix('/').unwrap_or(name);
    let ok = !name.is_empty()
        && !name.starts_with('/')
        && !name.starts_with("#1/")
        && name.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| name.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Cursor;

    /// An archive in VMware's style (`gnu == false`) or GNU's.
    pub(crate) fn archive(members: &[(&str, &[u8])], gnu: bool) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for (name, data) in members {
            let name = if gnu {
                format!("{name}/")
            } else {
                name.to_string()
            };
            let (mtime, mode) = if gnu {
                ("1700000000", "100644")
            } else {
                ("0", "0")
            };
            out.extend(
                format!(
                    "{name:<16}{mtime:<12}{:<6}{:<6}{mode:<8}{:<10}`\n",
                    0,
                    0,
                    data.len()
                )
                .bytes(),
            );
            out.extend_from_slice(data);
            if data.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
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
