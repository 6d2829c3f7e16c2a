//! `IMGDB.TGZ`: the image database the installer reads to know what it installs.
//!
//! A gzip'd tar with `var/db/esximg/profiles/<one file>` (the image profile: its `<viblist>`
//! names every VIB by id and, per payload, the module file that carries it) and
//! `var/db/esximg/vibs/*.xml` (one VIB descriptor each). The installer opens every payload by the
//! file name the profile records, so a profile entry, the module on the ISO and the BOOT.CFG item
//! must be the same name.
//!
//! Edits keep every other member byte for byte (headers included) in its original order and
//! splice the profile XML rather than re-serialise it; the archive is rebuilt deterministically
//! (same input, same bytes): new members get the caller's timestamp, the gzip header none.

use std::io::{Read, Write};

use flate2::read::GzDecoder;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Error;
use super::vib::Descriptor;
use super::xml::{Element, escape};

const PROFILES: &str = "var/db/esximg/profiles/";
const VIBS: &str = "var/db/esximg/vibs/";
/// Real databases expand to a few MB; a bound keeps a hostile gzip from filling memory.
const MAX_EXPANDED: u64 = 64 << 20;
const MAX_MEMBERS: usize = 100_000;

/// The image database, held in memory (it is small).
#[derive(Clone)]
pub struct ImageDb {
    file: String,
    members: Vec<Member>,
    profile: usize,
}

#[derive(Clone)]
struct Member {
    path: String,
    header: tar::Header,
    data: Vec<u8>,
}

/// One VIB of the image profile.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ProfileVib {
    /// `VENDOR_TYPE_NAME_VERSION`.
    pub id: String,
    pub name: String,
    pub version: String,
    pub vendor: String,
    /// `(payload name, module file)`: `("net-ixgbe", "net_ixgb.v00")`.
    pub payloads: Vec<(String, String)>,
    /// Whether a descriptor for this id is in `vibs/`.
    pub has_descriptor: bool,
}

impl ImageDb {
    /// Reads a gzip'd tar from `reader` (named `file` in errors).
    pub fn read<R: Read>(file: &str, reader: R) -> Result<ImageDb, Error> {
        let bad = |what: String| Error::Format {
            file: file.to_string(),
            what,
        };
        let mut archive = tar::Archive::new(GzDecoder::new(reader).take(MAX_EXPANDED + 1));
        let entries = archive
            .entries()
            .map_err(|e| bad(format!("not a gzip'd tar: {e}")))?;
        let mut members = Vec::new();
        let mut total: u64 = 0;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(format!("corrupt tar or gzip: {e}")))?;
            if members.len() >= MAX_MEMBERS {
                return Err(bad(format!("more than {MAX_MEMBERS} members")));
            }
            let path = entry
                .path()
                .map_err(|e| bad(format!("bad member name: {e}")))?
                .to_string_lossy()
                .into_owned();
            total = total.saturating_add(entry.size());
            if total > MAX_EXPANDED {
                return Err(bad(format!(
                    "expands to more than {} MiB; not an ESXi image database",
                    MAX_EXPANDED >> 20
                )));
            }
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(|e| bad(format!("member {path}: {e}")))?;
            members.push(Member {
                path,
                header: entry.header().clone(),
                data,
            });
        }
        let profiles: Vec<usize> = members
            .iter()
            .enumerate()
            .filter(|(_, m)| is_file_under(&m.path, PROFILES) && m.header.entry_type().is_file())
            .map(|(i, _)| i)
            .collect();
        let profile = match profiles.as_slice() {
            [one] => *one,
            [] => {
                return Err(bad(format!(
                    "no image profile under {PROFILES}; not an ESXi image database"
                )));
            }
            _ => {
                return Err(bad(format!(
                    "{} image profiles under {PROFILES}; expected one",
                    profiles.len()
                )));
            }
        };
        let db = ImageDb {
            file: file.to_string(),
            members,
            profile,
        };
        db.profile_root()?;
        Ok(db)
    }

    /// The image profile's `<name>` (`ESXi-8.0U3-24280767-standard`).
    pub fn profile_name(&self) -> String {
        self.profile_root()
            .map(|r| r.child_text("name").to_string())
            .unwrap_or_default()
    }

    /// The profile's `<acceptancelevel>`.
    pub fn acceptance(&self) -> String {
        self.profile_root()
            .map(|r| {
                r.child_ignore_case("acceptancelevel")
                    .map_or(String::new(), |l| l.text.clone())
            })
            .unwrap_or_default()
    }

    /// Every VIB the profile lists, with its payload files; name and version come from its
    /// descriptor in `vibs/` when there is one, else from the id.
    pub fn vibs(&self) -> Result<Vec<ProfileVib>, Error> {
        let root = self.profile_root()?;
        let descriptors = self.descriptors();
        let Some(list) = root.find_ignore_case("viblist") else {
            return Ok(Vec::new());
        };
        Ok(list
            .children_named("vib")
            .map(|vib| {
                let id = vib.child_text("vib-id").to_string();
                let payloads = vib
                    .child("payloads")
                    .map(|p| {
                        p.children_named("payload")
                            .map(|p| {
                                (
                                    p.attr("payload-name").unwrap_or_default().to_string(),
                                    p.text.clone(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let descriptor = descriptors.iter().find(|(_, d)| d.id() == id);
                let (vendor, name, version) = match descriptor {
                    Some((_, d)) => (d.vendor.clone(), d.name.clone(), d.version.clone()),
                    None => split_id(&id),
                };
                ProfileVib {
                    id,
                    name,
                    version,
                    vendor,
                    payloads,
                    has_descriptor: descriptor.is_some(),
                }
            })
            .collect())
    }

    /// Removes every VIB named `name` (any version): its profile entry and its descriptor.
    /// Returns the removed entries, whose payload files the caller takes off the medium.
    pub fn remove_vib(&mut self, name: &str) -> Result<Vec<ProfileVib>, Error> {
        let removed: Vec<ProfileVib> = self
            .vibs()?
            .into_iter()
            .filter(|v| v.name == name)
            .collect();
        let ids: Vec<&str> = removed.iter().map(|v| v.id.as_str()).collect();
        let text = self.profile_text()?;
        let root = Element::parse(&self.profile_label(), &text)?;
        let mut spans: Vec<std::ops::Range<usize>> = root
            .find_ignore_case("viblist")
            .into_iter()
            .flat_map(|l| l.children_named("vib"))
            .filter(|v| ids.contains(&v.child_text("vib-id")))
            .map(|v| with_leading_space(&text, v.span.clone()))
            .collect();
        spans.sort_by_key(|s| std::cmp::Reverse(s.start));
        let mut new_text = text.clone();
        for span in spans {
            new_text.replace_range(span, "");
        }
        self.set_profile_text(new_text);
        let drop: Vec<usize> = self
            .descriptors()
            .into_iter()
            .filter(|(_, d)| d.name == name || ids.contains(&d.id().as_str()))
            .map(|(i, _)| i)
            .collect();
        self.remove_members(&drop);
        Ok(removed)
    }

    /// Adds a VIB: its descriptor as `vibs/<name>-<n>.xml` and a profile `<vib>` entry naming
    /// `payloads` (`(payload name, module file)`). Lowers the profile's acceptance level to the
    /// VIB's when the VIB's is lower, as the installer requires. `mtime` stamps the new member.
    pub fn add_vib(
        &mut self,
        descriptor: &Descriptor,
        descriptor_xml: &[u8],
        payloads: &[(String, String)],
        mtime: u64,
    ) -> Result<(), Error> {
        let id = descriptor.id();
        if self.vibs()?.iter().any(|v| v.id == id) {
            return Err(Error::Edit {
                what: format!("{}: VIB {id} is already in the image profile", self.file),
            });
        }
        let text = self.profile_text()?;
        let root = Element::parse(&self.profile_label(), &text)?;
        let list = root
            .find_ignore_case("viblist")
            .ok_or_else(|| Error::Format {
                file: self.profile_label(),
                what: "the image profile has no <viblist>".into(),
            })?;
        let payload_xml: String = payloads
            .iter()
            .map(|(name, file)| {
                format!(
                    "<payload payload-name=\"{}\">{}</payload>",
                    escape(name),
                    escape(file)
                )
            })
            .collect();
        let entry = format!(
            "<vib><vib-id>{}</vib-id><payloads>{payload_xml}</payloads></vib>",
            escape(&id)
        );
        // Mimic the indentation of the existing entries, if any.
        let last_vib = list.children_named("vib").last();
        let indent = last_vib
            .map(|v| {
                let before = text.get(..v.span.start).unwrap_or_default();
                let ws = before.get(before.trim_end().len()..).unwrap_or_default();
                ws.to_string()
            })
            .unwrap_or_default();
        let insert_at = match last_vib {
            Some(v) => v.span.end,
            None => end_tag_start(&text, &list.span),
        };
        let mut new_text = text.clone();
        new_text.insert_str(insert_at, &format!("{indent}{entry}"));
        let new_text = lower_acceptance(&self.profile_label(), new_text, &descriptor.acceptance)?;
        self.set_profile_text(new_text);
        let path = self.descriptor_path(descriptor);
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_size(descriptor_xml.len() as u64);
        self.members.push(Member {
            path,
            header,
            data: descriptor_xml.to_vec(),
        });
        Ok(())
    }

    /// The database as a gzip'd tar, deterministically.
    pub fn to_tgz(&self) -> Result<Vec<u8>, Error> {
        let io = Error::io(&self.file);
        let gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), flate2::Compression::default());
        let mut builder = tar::Builder::new(gz);
        builder.mode(tar::HeaderMode::Complete);
        for m in &self.members {
            let mut header = m.header.clone();
            header.set_size(m.data.len() as u64);
            builder
                .append_data(&mut header, &m.path, m.data.as_slice())
                .map_err(&io)?;
        }
        let gz = builder.into_inner().map_err(&io)?;
        let mut out = gz.finish().map_err(&io)?;
        out.flush().map_err(&io)?;
        Ok(out)
    }

    /// The member paths, in order (for inspection and tests).
    pub fn paths(&self) -> Vec<&str> {
        self.members.iter().map(|m| m.path.as_str()).collect()
    }

    /// A member's bytes.
    pub fn member(&self, path: &str) -> Option<&[u8]> {
        self.members
            .iter()
            .find(|m| m.path == path)
            .map(|m| m.data.as_slice())
    }

    fn profile_label(&self) -> String {
        let path = self
            .members
            .get(self.profile)
            .map_or("", |m| m.path.as_str());
        format!("{}: {path}", self.file)
    }

    fn profile_text(&self) -> Result<String, Error> {
        let data = self
            .members
            .get(self.profile)
            .map_or(&[][..], |m| m.data.as_slice());
        String::from_utf8(data.to_vec()).map_err(|_| Error::Format {
            file: self.profile_label(),
            what: "the image profile is not UTF-8".into(),
        })
    }

    fn set_profile_text(&mut self, text: String) {
        if let Some(m) = self.members.get_mut(self.profile) {
            m.data = text.into_bytes();
        }
    }

    fn profile_root(&self) -> Result<Element, Error> {
        Element::parse(&self.profile_label(), &self.profile_text()?)
    }

    /// Every parseable descriptor in `vibs/`, with its member index.
    fn descriptors(&self) -> Vec<(usize, Descriptor)> {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| is_file_under(&m.path, VIBS) && m.path.ends_with(".xml"))
            .filter_map(|(i, m)| Some((i, Descriptor::parse(&m.path, &m.data).ok()?)))
            .collect()
    }

    fn remove_members(&mut self, indexes: &[usize]) {
        let profile_path = self.members.get(self.profile).map(|m| m.path.clone());
        let mut i = 0;
        self.members.retain(|_| {
            let keep = !indexes.contains(&i);
            i += 1;
            keep
        });
        if let Some(p) = profile_path {
            self.profile = self.members.iter().position(|m| m.path == p).unwrap_or(0);
        }
    }

    /// `vibs/<name>-<number>.xml`, the number derived from the VIB id (stable across runs) and
    /// bumped past any existing member.
    fn descriptor_path(&self, d: &Descriptor) -> String {
        let digest = Sha256::digest(d.id().as_bytes());
        let mut n = digest
            .iter()
            .take(4)
            .fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        loop {
            let path = format!("{VIBS}{}-{n}.xml", d.name);
            if !self.members.iter().any(|m| m.path == path) {
                return path;
            }
            n = n.wrapping_add(1);
        }
    }
}

/// `(vendor, name, version)` from `VENDOR_TYPE_NAME_VERSION` (vendor and type have no `_`; the
/// version follows the last `_`).
fn split_id(id: &str) -> (String, String, String) {
    let mut head = id.splitn(3, '_');
    let vendor = head.next().unwrap_or_default().to_string();
    let _type = head.next();
    let rest = head.next().unwrap_or_default();
    let (name, version) = rest.rsplit_once('_').unwrap_or((rest, ""));
    (vendor, name.to_string(), version.to_string())
}

fn is_file_under(path: &str, dir: &str) -> bool {
    let path = path.strip_prefix("./").unwrap_or(path);
    path.strip_prefix(dir)
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// `span` widened to the whitespace before it, so removing an element leaves no blank line.
fn with_leading_space(text: &str, span: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let before = text.get(..span.start).unwrap_or_default();
    before.trim_end().len()..span.end
}

/// Where the end tag of the element spanning `span` starts.
fn end_tag_start(text: &str, span: &std::ops::Range<usize>) -> usize {
    text.get(span.clone())
        .and_then(|s| s.rfind("</"))
        .map_or(span.end, |i| span.start + i)
}

/// Trust order of acceptance levels, highest first.
const ACCEPTANCE: &[&str] = &["certified", "accepted", "partner", "community"];

/// The profile text with `<acceptancelevel>` lowered to `vib_level` when that is lower.
fn lower_acceptance(file: &str, text: String, vib_level: &str) -> Result<String, Error> {
    let root = Element::parse(file, &text)?;
    let Some(level) = root.child_ignore_case("acceptancelevel") else {
        return Ok(text);
    };
    let rank = |l: &str| {
        ACCEPTANCE
            .iter()
            .position(|a| a.eq_ignore_ascii_case(l.trim()))
    };
    let (Some(current), Some(wanted)) = (rank(&level.text), rank(vib_level)) else {
        return Ok(text);
    };
    if wanted <= current {
        return Ok(text);
    }
    let replacement = format!(
        "<{tag}>{}</{tag}>",
        escape(vib_level.trim()),
        tag = level.name
    );
    let mut out = text;
    out.replace_range(level.span.clone(), &replacement);
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::esxi::vib::tests::descriptor;

    pub(crate) const PROFILE: &str = "<imageprofile>\n  <name>ESXi-8.0U3-24280767-standard</name>\n  <creator>VMware, Inc.</creator>\n  <acceptancelevel>partner</acceptancelevel>\n  <viblist>\n    <vib><vib-id>VMW_bootbank_esx-base_8.0.3-0.35.24280767</vib-id><payloads><payload payload-name=\"esx-base\">s.v00</payload></payloads></vib>\n    <vib><vib-id>VMW_bootbank_net-old_1.0-1</vib-id><payloads><payload payload-name=\"net-old\">net_old.v00</payload></payloads></vib>\n  </viblist>\n</imageprofile>\n";

    /// A database with the profile above and descriptors for its two VIBs.
    pub(crate) fn sample_tgz() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut add = |path: &str, data: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            h.set_mtime(1_700_000_000);
            h.set_size(data.len() as u64);
            b.append_data(&mut h, path, data).unwrap();
        };
        add(
            "var/db/esximg/profiles/ESXi-8.0U3-standard",
            PROFILE.as_bytes(),
        );
        let base =
            descriptor("esx-base", "8.0.3-0.35.24280767", "esx-base", 10, "").replace("TST", "VMW");
        add("var/db/esximg/vibs/esx-base-111.xml", base.as_bytes());
        let old = descriptor("net-old", "1.0-1", "net-old", 10, "").replace("TST", "VMW");
        add("var/db/esximg/vibs/net-old-222.xml", old.as_bytes());
        add("var/db/esximg/bulletins/opaque.xml", b"<bulletin/>");
        let tar = b.into_inner().unwrap();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&tar).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn lists_vibs_from_profile_and_descriptors() {
        let db = ImageDb::read("IMGDB.TGZ", sample_tgz().as_slice()).unwrap();
        assert_eq!(db.profile_name(), "ESXi-8.0U3-24280767-standard");
        let vibs = db.vibs().unwrap();
        assert_eq!(vibs.len(), 2);
        assert_eq!(vibs[1].name, "net-old");
        assert_eq!(
            vibs[1].payloads,
            vec![("net-old".to_string(), "net_old.v00".to_string())]
        );
        assert!(vibs[1].has_descriptor);
    }

    #[test]
    fn replace_and_add_round_trip_deterministically() {
        let mut db = ImageDb::read("IMGDB.TGZ", sample_tgz().as_slice()).unwrap();
        let removed = db.remove_vib("net-old").unwrap();
        assert_eq!(removed[0].payloads[0].1, "net_old.v00");
        let xml = descriptor("net-old", "2.0-1", "net-old", 10, "");
        let d = Descriptor::parse("d", xml.as_bytes()).unwrap();
        db.add_vib(
            &d,
            xml.as_bytes(),
            &[("net-old".into(), "net_old.v00".into())],
            42,
        )
        .unwrap();
        let out = db.to_tgz().unwrap();
        assert_eq!(out, db.to_tgz().unwrap(), "same database, same bytes");
        let again = ImageDb::read("IMGDB.TGZ", out.as_slice()).unwrap();
        let vibs = again.vibs().unwrap();
        let names: Vec<(&str, &str)> = vibs
            .iter()
            .map(|v| (v.name.as_str(), v.version.as_str()))
            .collect();
        assert_eq!(
            names,
            [("esx-base", "8.0.3-0.35.24280767"), ("net-old", "2.0-1")]
        );
        assert!(vibs.iter().all(|v| v.has_descriptor));
        assert_eq!(
            again.acceptance(),
            "community",
            "lowered to the community VIB's level"
        );
        assert!(
            again
                .paths()
                .contains(&"var/db/esximg/bulletins/opaque.xml")
        );
        assert!(
            !again
                .paths()
                .contains(&"var/db/esximg/vibs/net-old-222.xml")
        );
        let profile = String::from_utf8(
            again
                .member("var/db/esximg/profiles/ESXi-8.0U3-standard")
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        assert!(
            profile.contains("  <creator>VMware, Inc.</creator>\n"),
            "untouched lines stay: {profile}"
        );
        assert!(
            profile.contains("</vib>\n    <vib><vib-id>TST_bootbank_net-old_2.0-1</vib-id>"),
            "{profile}"
        );
    }

    /// VMware's depot metadata spell `vibList` and `acceptanceLevel` in camel case; a profile
    /// written that way is read and edited the same, its spelling kept.
    #[test]
    fn camel_case_profiles_are_read_and_edited() {
        let camel = PROFILE
            .replace("viblist>", "vibList>")
            .replace("acceptancelevel>", "acceptanceLevel>");
        let tgz = {
            let mut b = tar::Builder::new(Vec::new());
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            h.set_size(camel.len() as u64);
            b.append_data(&mut h, "var/db/esximg/profiles/p", camel.as_bytes())
                .unwrap();
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&b.into_inner().unwrap()).unwrap();
            e.finish().unwrap()
        };
        let mut db = ImageDb::read("IMGDB.TGZ", tgz.as_slice()).unwrap();
        assert_eq!(db.vibs().unwrap().len(), 2);
        assert_eq!(db.acceptance(), "partner");
        assert_eq!(db.remove_vib("net-old").unwrap().len(), 1);
        let xml = descriptor("net-new", "1.0-1", "net-new", 10, "");
        let d = Descriptor::parse("d", xml.as_bytes()).unwrap();
        db.add_vib(
            &d,
            xml.as_bytes(),
            &[("net-new".into(), "net_new.v00".into())],
            0,
        )
        .unwrap();
        let names: Vec<String> = db.vibs().unwrap().into_iter().map(|v| v.name).collect();
        assert_eq!(names, ["esx-base", "net-new"]);
        assert_eq!(db.acceptance(), "community");
        let text =
            String::from_utf8(db.member("var/db/esximg/profiles/p").unwrap().to_vec()).unwrap();
        assert!(
            text.contains("<acceptanceLevel>community</acceptanceLevel>")
                && text.contains("</vibList>"),
            "{text}"
        );
    }

    #[test]
    fn adding_the_same_id_twice_is_an_error() {
        let mut db = ImageDb::read("IMGDB.TGZ", sample_tgz().as_slice()).unwrap();
        let xml = descriptor("net-old", "1.0-1", "net-old", 10, "").replace("TST", "VMW");
        let d = Descriptor::parse("d", xml.as_bytes()).unwrap();
        assert!(db.add_vib(&d, xml.as_bytes(), &[], 0).is_err());
    }

    #[test]
    fn garbage_and_missing_profile_are_clear_errors() {
        let e = ImageDb::read("IMGDB.TGZ", &b"not gzip"[..])
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("IMGDB.TGZ"), "{e}");
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        b.append_data(&mut h, "etc/x", &b""[..]).unwrap();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&b.into_inner().unwrap()).unwrap();
        let err = ImageDb::read("IMGDB.TGZ", e.finish().unwrap().as_slice())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no image profile"), "{err}");
    }

    #[test]
    fn ids_split_into_vendor_name_version() {
        assert_eq!(
            split_id("VMW_bootbank_net-e1000e_3.2.2.1-2vmw.550"),
            ("VMW".into(), "net-e1000e".into(), "3.2.2.1-2vmw.550".into())
        );
    }
}
