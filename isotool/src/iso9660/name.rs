//! Primary-volume identifiers (ECMA-119 7.5, 7.6): the character sets, the interchange levels,
//! and the mapping from a file name to the identifier recorded on disk.
//!
//! ESXi's UEFI loader reads only these names (no Joliet, no Rock Ridge), case-insensitively, with
//! `;1` and a trailing `.` stripped, so ESXi media use [`Naming::ESXI`]: level 1 (8.3),
//! d-characters only, and names that do not fit are an error rather than quietly shortened.
//! Whatever the mapping, two names that end up as the same identifier are an error for the
//! builder to report: this module never invents a `~1`-style rename.

/// ISO 9660 interchange level of the primary names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Level {
    /// 8.3 file names, 8-character directory names.
    #[default]
    One,
    /// Up to 30 characters of name plus extension, 31 for directories.
    Two,
    /// Level 2 names, and files may span several extents (files of 4 GiB and more).
    Three,
}

impl Level {
    /// Files of 4 GiB − 2 KiB and more need several extents, which only level 3 allows.
    pub fn allows_multi_extent(self) -> bool {
        self == Level::Three
    }
}

/// Characters a primary identifier may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Charset {
    /// d-characters: `A`–`Z`, `0`–`9`, `_` (ECMA-119 7.4.1).
    #[default]
    DCharacters,
    /// Any printable ASCII except `/` and `;`, lower case and further dots included (what
    /// `mkisofs -relaxed-filenames -allow-lowercase -allow-multidot` writes).
    Relaxed,
}

/// What to do with a name that does not fit the level and character set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// Refuse it with an error naming the rule it breaks.
    #[default]
    Strict,
    /// Upper-case it, replace characters outside the set with `_` and cut the name and extension
    /// to the level's lengths, as `mkisofs` does (but collisions stay errors).
    Translate,
}

/// How the builder turns names into primary identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Naming {
    pub level: Level,
    pub charset: Charset,
    pub mapping: Mapping,
    /// Append `;1` to file identifiers (ECMA-119 requires it; every mastering tool writes it).
    pub version_suffix: bool,
}

impl Default for Naming {
    fn default() -> Self {
        Naming::ESXI
    }
}

/// Maximum identifier length in bytes that still fits a directory record with room for a
/// Rock Ridge continuation entry.
pub const MAX_IDENTIFIER_LEN: usize = 200;

impl Naming {
    /// VMware's own media: uppercase 8.3 d-character names with `;1`, nothing mapped.
    pub const ESXI: Naming = Naming {
        level: Level::One,
        charset: Charset::DCharacters,
        mapping: Mapping::Strict,
        version_suffix: true,
    };

    /// The identifier of a file called `name`, or why it cannot have one.
    pub fn file_identifier(&self, name: &str) -> Result<String, String> {
        check_component(name)?;
        let (stem, ext) = match name.rfind('.') {
            Some(dot) if dot > 0 || self.charset == Charset::Relaxed => {
                (&name[..dot], Some(&name[dot + 1..]))
            }
            _ => (name, None),
        };
        let (stem, ext) = match self.mapping {
            Mapping::Strict => {
                self.check_chars(stem, false)?;
                if let Some(ext) = ext {
                    self.check_chars(ext, false)?;
                }
                (stem.to_string(), ext.unwrap_or_default().to_string())
            }
            Mapping::Translate => {
                let (stem, ext) = (
                    self.translate(stem),
                    self.translate(ext.unwrap_or_default()),
                );
                let (stem_max, ext_max) = match self.level {
                    Level::One => (8, 3),
                    Level::Two | Level::Three => (30 - ext.len().min(29), 29),
                };
                (cut(&stem, stem_max), cut(&ext, ext_max))
            }
        };
        if stem.is_empty() && ext.is_empty() {
            return Err("the name has neither a name nor an extension part".into());
        }
        match self.level {
            Level::One if stem.len() > 8 || ext.len() > 3 => {
                return Err(format!(
                    "{name:?} is not an 8.3 name (ISO level 1): {} characters before the dot (max 8), {} after (max 3)",
                    stem.len(),
                    ext.len()
                ));
            }
            Level::Two | Level::Three if stem.len() + ext.len() > 30 => {
                return Err(format!(
                    "{name:?} is longer than ISO level 2/3 allows (30 characters of name and extension)"
                ));
            }
            _ => {}
        }
        let mut id = format!("{stem}.{ext}");
        if self.version_suffix {
            id.push_str(";1");
        }
        Ok(id)
    }

    /// The identifier of a directory called `name`, or why it cannot have one.
    pub fn dir_identifier(&self, name: &str) -> Result<String, String> {
        check_component(name)?;
        let id = match self.mapping {
            Mapping::Strict => {
                self.check_chars(name, true)?;
                name.to_string()
            }
            Mapping::Translate => {
                let id = self.translate(name);
                cut(&id, if self.level == Level::One { 8 } else { 31 })
            }
        };
        let max = if self.level == Level::One { 8 } else { 31 };
        if id.len() > max {
            return Err(format!(
                "directory name {name:?} has {} characters; ISO level {} allows {max}",
                id.len(),
                if self.level == Level::One { 1 } else { 2 }
            ));
        }
        Ok(id)
    }

    fn allowed(&self, c: char, dir: bool) -> bool {
        match self.charset {
            Charset::DCharacters => is_d_char(c),
            Charset::Relaxed => c.is_ascii_graphic() && c != '/' && c != ';' && !(dir && c == '.'),
        }
    }

    fn check_chars(&self, part: &str, dir: bool) -> Result<(), String> {
        match part.chars().find(|&c| !self.allowed(c, dir)) {
            None => Ok(()),
            Some(c) => Err(format!(
                "{c:?} is not allowed in {} names ({}); {}",
                if dir { "directory" } else { "file" },
                match self.charset {
                    Charset::DCharacters => "d-characters: A-Z, 0-9 and _",
                    Charset::Relaxed => "printable ASCII except / and ;",
                },
                if c.is_ascii_lowercase() && self.charset == Charset::DCharacters {
                    "use upper case"
                } else {
                    "rename it"
                }
            )),
        }
    }

    fn translate(&self, part: &str) -> String {
        part.chars()
            .map(|c| match self.charset {
                Charset::DCharacters => c.to_ascii_uppercase(),
                Charset::Relaxed => c,
            })
            .map(|c| if self.allowed(c, true) { c } else { '_' })
            .collect()
    }
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Rules every name obeys in every namespace.
fn check_component(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("{name:?} is not a usable file name"));
    }
    if name.contains(['/', '\0']) {
        return Err(format!("{name:?} contains '/' or NUL"));
    }
    Ok(())
}

/// `A`–`Z`, `0`–`9` or `_`.
pub fn is_d_char(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'
}

/// d-characters plus space and ``!"%&'()*+,-./:;<=>?`` (ECMA-119 7.4.1, used in volume ids).
pub fn is_a_char(c: char) -> bool {
    is_d_char(c) || " !\"%&'()*+,-./:;<=>?".contains(c)
}

/// Checks an identifier given verbatim (for example copied from a source image): printable
/// ASCII without `/`, a version only on files, and a length that fits a directory record.
pub fn check_verbatim(identifier: &str, dir: bool) -> Result<(), String> {
    if identifier.is_empty() || identifier.len() > MAX_IDENTIFIER_LEN {
        return Err(format!(
            "identifier {identifier:?} must have 1 to {MAX_IDENTIFIER_LEN} characters"
        ));
    }
    if let Some(c) = identifier
        .chars()
        .find(|c| !(c.is_ascii_graphic() || *c == ' ') || *c == '/')
    {
        return Err(format!("identifier {identifier:?} contains {c:?}"));
    }
    if dir && identifier.contains(';') {
        return Err(format!(
            "directory identifier {identifier:?} contains a ';' version"
        ));
    }
    Ok(())
}

/// A primary identifier as text: ASCII as is, other bytes as `\xNN` (a hostile image cannot put
/// control characters into names or messages).
pub fn decode_identifier(raw: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(raw.len());
    for &b in raw {
        if (0x20..0x7f).contains(&b) {
            text.push(char::from(b));
        } else {
            let _ = write!(text, "\\x{b:02x}");
        }
    }
    text
}

/// The name a reader shows for an identifier: the `;version` and then a trailing `.` removed
/// (`README.;1` → `README`, `BOOT.CFG;1` → `BOOT.CFG`).
pub fn display_name(identifier: &str) -> &str {
    let name = identifier
        .rsplit_once(';')
        .map_or(identifier, |(name, _)| name);
    name.strip_suffix('.')
        .filter(|n| !n.is_empty())
        .unwrap_or(name)
}

/// Whether the ESXi loader (`fsw_iso9660`) would take `a` and `b` for the same name: ASCII
/// case-insensitive after [`display_name`].
pub fn loader_eq(a: &str, b: &str) -> bool {
    display_name(a).eq_ignore_ascii_case(display_name(b))
}

/// The order of directory records (ECMA-119 9.3): by name, then extension, each compared as if
/// padded with spaces, then by version, highest first.
pub fn record_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    fn parts(id: &[u8]) -> (&[u8], &[u8], &[u8]) {
        let (name, version) = match id.iter().rposition(|&b| b == b';') {
            Some(i) => (&id[..i], &id[i + 1..]),
            None => (id, &[][..]),
        };
        match name.iter().rposition(|&b| b == b'.') {
            Some(i) => (&name[..i], &name[i + 1..], version),
            None => (name, &[][..], version),
        }
    }
    let (an, ae, av) = parts(a);
    let (bn, be, bv) = parts(b);
    padded_cmp(an, bn)
        .then_with(|| padded_cmp(ae, be))
        .then_with(|| padded_cmp(bv, av))
}

/// Compares as if the shorter were padded with spaces (ECMA-119 9.3 and 6.9.1).
pub fn padded_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let len = a.len().max(b.len());
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(b' ');
    (0..len)
        .map(|i| at(a, i).cmp(&at(b, i)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esxi_names_pass_and_others_are_refused_with_a_reason() {
        let n = Naming::ESXI;
        assert_eq!(n.file_identifier("BOOT.CFG").unwrap(), "BOOT.CFG;1");
        assert_eq!(n.file_identifier("NET_IXGB.V00").unwrap(), "NET_IXGB.V00;1");
        assert_eq!(n.file_identifier("README").unwrap(), "README.;1");
        assert_eq!(n.dir_identifier("EFI").unwrap(), "EFI");
        let lower = n.file_identifier("boot.cfg").unwrap_err();
        assert!(lower.contains("use upper case"), "{lower}");
        assert!(
            n.file_identifier("NET-IXGB.V00")
                .unwrap_err()
                .contains("'-'")
        );
        assert!(
            n.file_identifier("TOOLONGNAME.CFG")
                .unwrap_err()
                .contains("8.3")
        );
        assert!(n.file_identifier("A.CFGX").unwrap_err().contains("8.3"));
        assert!(n.dir_identifier("A.B").is_err());
        assert!(n.dir_identifier("DIRECTORY").is_err());
        assert!(n.file_identifier("A.B.C").is_err());
        assert!(n.file_identifier("..").is_err());
    }

    #[test]
    fn translate_maps_like_mkisofs() {
        let n = Naming {
            mapping: Mapping::Translate,
            ..Naming::ESXI
        };
        assert_eq!(n.file_identifier("isolinux.bin").unwrap(), "ISOLINUX.BIN;1");
        assert_eq!(
            n.file_identifier("net-ixgbe-driver.vgz").unwrap(),
            "NET_IXGB.VGZ;1"
        );
        assert_eq!(n.file_identifier("a.b.c").unwrap(), "A_B.C;1");
        assert_eq!(n.dir_identifier("boot.d").unwrap(), "BOOT_D");
        let l2 = Naming {
            level: Level::Two,
            version_suffix: false,
            ..n
        };
        assert_eq!(
            l2.file_identifier("release-notes.txt").unwrap(),
            "RELEASE_NOTES.TXT"
        );
    }

    #[test]
    fn relaxed_keeps_case_and_punctuation() {
        let n = Naming {
            charset: Charset::Relaxed,
            level: Level::Two,
            ..Naming::ESXI
        };
        assert_eq!(
            n.file_identifier("vmware-esx.tgz").unwrap(),
            "vmware-esx.tgz;1"
        );
        assert_eq!(n.file_identifier("a.b.c").unwrap(), "a.b.c;1");
        assert!(n.file_identifier("a;b").is_err());
    }

    #[test]
    fn display_name_and_loader_matching() {
        assert_eq!(display_name("BOOT.CFG;1"), "BOOT.CFG");
        assert_eq!(display_name("README.;1"), "README");
        assert_eq!(display_name("EFI"), "EFI");
        assert!(loader_eq("NET_IXGB.V00;1", "net_ixgb.v00"));
        assert!(!loader_eq("NET_IXGB.V00;1", "net_ixgb.v01"));
    }

    #[test]
    fn record_order_pads_with_spaces_and_puts_extension_second() {
        let mut ids: Vec<&[u8]> = vec![b"AB.C;1", b"A.Z;1", b"A.B;1", b"A;1", b"A.B;2"];
        ids.sort_by(|a, b| record_order(a, b));
        assert_eq!(
            ids,
            vec![&b"A;1"[..], b"A.B;2", b"A.B;1", b"A.Z;1", b"AB.C;1"]
        );
    }
}
