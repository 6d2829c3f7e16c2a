//! Offline bundles (depot ZIPs): how vendors ship VIBs.
//!
//! ```text
//! index.xml          <vendorList><vendor>…<indexfile>vendor-index.xml</indexfile>…
//! vendor-index.xml   <metaList><metadata>…<url>metadata.zip</url>…
//! metadata.zip       vibs/<name>-<n>.xml: the descriptor plus <relative-path>, <packed-size>
//!                    and <checksum checksum-type="sha-256"> of the whole .vib
//! vib20/<name>/<vendor>_<type>_<name>_<version>.vib
//! ```
//!
//! Vendors ship a bundle inside a driver download: `VMW-ESX-6.0.0-i40en-1.3.1-5556071.zip` holds
//! `VMW-ESX-6.0.0-i40en-1.3.1-offline_bundle-5556071.zip`, the bare `.vib` and `doc/` (Intel's
//! i40en and ixgbe downloads, as mirrored in `eladkarako/ESXi-Customizer`). A ZIP that is no
//! bundle itself but holds exactly one is read as that bundle; holding several, it is refused
//! with their names.
//!
//! Every member name of the bundle and of its metadata is checked before anything is read: an
//! absolute path or a `..` component refuses the whole bundle. A VIB is copied out to a temporary
//! file (streamed, never held in memory) while its size and SHA-256 are checked against the
//! metadata.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, Write};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::ZipArchive;

use super::Error;
use super::vib::Vib;
use super::xml::Element;

/// Metadata ZIPs of driver bundles are a few KB; full depots a few MB.
const MAX_METADATA: u64 = 64 << 20;
/// Index files are tiny.
const MAX_INDEX: u64 = 4 << 20;
/// A bundle inside a driver download is copied out to be read; none is near this.
const MAX_INNER_BUNDLE: u64 = 4 << 30;

/// An offline bundle opened for reading.
pub struct Bundle {
    file: String,
    zip: ZipArchive<BufReader<File>>,
    vibs: Vec<BundleVib>,
}

/// A VIB the bundle's metadata lists.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BundleVib {
    /// Its member in the bundle (`vib20/i40en/INT_bootbank_i40en_1.3.1-….vib`).
    pub path: String,
    /// The VIB's name, from the metadata.
    pub name: String,
    pub version: String,
    pub packed_size: Option<u64>,
    /// SHA-256 of the whole `.vib`, from the metadata.
    pub sha256: Option<String>,
}

/// A VIB copied out of a bundle into a temporary file (removed when this is dropped).
pub struct ExtractedVib {
    pub vib: Vib<BufReader<File>>,
    file: tempfile::NamedTempFile,
}

impl ExtractedVib {
    /// The temporary `.vib` file.
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

impl Bundle {
    /// Opens `path`, checks every member name, and reads the VIB list from the metadata. A
    /// driver download holding one bundle is read as that bundle.
    pub fn open(path: &Path) -> Result<Bundle, Error> {
        let file = path.display().to_string();
        let f = File::open(path).map_err(Error::io(&file))?;
        let mut zip = ZipArchive::new(BufReader::new(f)).map_err(|e| Error::Format {
            file: file.clone(),
            what: format!("not a ZIP file ({e}); an offline bundle is a ZIP"),
        })?;
        check_member_names(&file, &mut zip)?;
        if is_offline_bundle(&zip) {
            return Bundle::read(file, zip);
        }
        let (inner, mut inner_zip) = inner_bundle(&file, &mut zip)?;
        check_member_names(&inner, &mut inner_zip)?;
        Bundle::read(inner, inner_zip)
    }

    /// Reads the VIB list of an opened bundle (`file` names it in errors).
    fn read(file: String, mut zip: ZipArchive<BufReader<File>>) -> Result<Bundle, Error> {
        let metadata_names = metadata_zips(&file, &mut zip)?;
        let mut vibs: Vec<BundleVib> = Vec::new();
        for name in metadata_names {
            let label = format!("{file}: {name}");
            let bytes = read_member(&file, &mut zip, &name, MAX_METADATA)?;
            let mut meta = ZipArchive::new(Cursor::new(bytes)).map_err(|e| Error::Format {
                file: label.clone(),
                what: format!("not a ZIP file ({e})"),
            })?;
            check_member_names(&label, &mut meta)?;
            for vib in metadata_vibs(&label, &mut meta)? {
                if !vibs.iter().any(|v| v.path == vib.path) {
                    vibs.push(vib);
                }
            }
        }
        if vibs.is_empty() {
            return Err(Error::Format {
                file,
                what: "the bundle's metadata lists no VIBs".into(),
            });
        }
        for vib in &vibs {
            if zip.index_for_name(&vib.path).is_none() {
                return Err(Error::Format {
                    file: file.clone(),
                    what: format!(
                        "the metadata lists {} but the bundle has no such member",
                        vib.path
                    ),
                });
            }
        }
        Ok(Bundle { file, zip, vibs })
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn vibs(&self) -> &[BundleVib] {
        &self.vibs
    }

    /// Copies VIB `index` into a temporary file in `dir`, checking its size and SHA-256 against
    /// the metadata, and opens it.
    pub fn extract_vib(&mut self, index: usize, dir: &Path) -> Result<ExtractedVib, Error> {
        let entry = self.vibs.get(index).cloned().ok_or_else(|| Error::Edit {
            what: format!("{}: no VIB number {index}", self.file),
        })?;
        let label = format!("{}: {}", self.file, entry.path);
        let io_err = Error::io(&label);
        let mut tmp = tempfile::Builder::new()
            .prefix(".esxforge-vib-")
            .tempfile_in(dir)
            .map_err(&io_err)?;
        let mut member = self.zip.by_name(&entry.path).map_err(|e| Error::Format {
            file: label.clone(),
            what: e.to_string(),
        })?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = member.read(&mut buf).map_err(|e| Error::Format {
                file: label.clone(),
                what: format!("cannot decompress: {e}"),
            })?;
            if n == 0 {
                break;
            }
            let chunk = buf.get(..n).unwrap_or_default();
            hasher.update(chunk);
            size = size.saturating_add(n as u64);
            tmp.write_all(chunk).map_err(&io_err)?;
        }
        drop(member);
        if let Some(expected) = entry.packed_size
            && expected != size
        {
            return Err(Error::Format {
                file: label,
                what: format!(
                    "is {size} bytes but the bundle metadata says {expected}; the bundle is corrupt"
                ),
            });
        }
        let actual = hex::encode(hasher.finalize());
        if let Some(expected) = &entry.sha256
            && *expected != actual
        {
            return Err(Error::ChecksumMismatch {
                file: self.file.clone(),
                payload: entry.path.clone(),
                checksum: "sha-256 (whole VIB)".into(),
                expected: expected.clone(),
                actual,
            });
        }
        tmp.flush().map_err(&io_err)?;
        let reopened = tmp.reopen().map_err(&io_err)?;
        let vib = Vib::from_reader(&label, BufReader::new(reopened))?;
        Ok(ExtractedVib { vib, file: tmp })
    }
}

/// Whether `path` is a ZIP (an offline bundle) rather than an `ar` archive (a VIB), by its
/// first bytes.
pub fn is_bundle(path: &Path) -> Result<bool, Error> {
    let mut magic = [0u8; 4];
    let got = File::open(path)
        .and_then(|mut f| super::read_up_to(&mut f, &mut magic))
        .map_err(Error::io(&path.display()))?;
    Ok(got == magic.len() && magic == *b"PK\x03\x04")
}

/// Whether `name` is a relative path that stays inside the directory it is extracted to: no
/// leading `/` or `\`, no drive letter, no `..` component, no NUL. The safe relative components,
/// or `None`.
pub fn safe_relative_path(name: &str) -> Option<Vec<&str>> {
    if name.starts_with(['/', '\\']) || name.contains('\0') {
        return None;
    }
    if name.as_bytes().get(1) == Some(&b':') {
        return None;
    }
    let parts: Vec<&str> = name
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") {
        return None;
    }
    Some(parts)
}

fn check_member_names<R: Read + Seek>(file: &str, zip: &mut ZipArchive<R>) -> Result<(), Error> {
    for name in zip.file_names_raw() {
        let text = String::from_utf8_lossy(name);
        let dir_only = text.ends_with('/') && safe_relative_path(&text).is_some();
        if !dir_only && safe_relative_path(&text).is_none() {
            return Err(Error::EscapingPath {
                file: file.to_string(),
                member: text.into_owned(),
            });
        }
    }
    Ok(())
}

/// Whether `zip` is an offline bundle itself: it has the index or the metadata at its top.
fn is_offline_bundle<R: Read + Seek>(zip: &ZipArchive<R>) -> bool {
    zip.index_for_name("index.xml").is_some() || zip.index_for_name("metadata.zip").is_some()
}

/// The one offline bundle a driver download holds, copied to an anonymous temporary file and
/// opened, with its label (`download.zip: inner.zip`); an error naming what the ZIP holds when
/// it holds no bundle or several.
fn inner_bundle<R: Read + Seek>(
    file: &str,
    zip: &mut ZipArchive<R>,
) -> Result<(String, ZipArchive<BufReader<File>>), Error> {
    let names: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    let mut bundles = Vec::new();
    for name in names
        .iter()
        .filter(|n| n.to_ascii_lowercase().ends_with(".zip"))
    {
        let label = format!("{file}: {name}");
        let mut member = zip.by_name(name).map_err(|e| Error::Format {
            file: label.clone(),
            what: e.to_string(),
        })?;
        let mut copy = tempfile::tempfile().map_err(Error::io(&label))?;
        let copied =
            io::copy(&mut (&mut member).take(MAX_INNER_BUNDLE + 1), &mut copy).map_err(|e| {
                Error::Format {
                    file: label.clone(),
                    what: format!("cannot decompress: {e}"),
                }
            })?;
        if copied > MAX_INNER_BUNDLE {
            return Err(Error::Format {
                file: label,
                what: format!(
                    "larger than {} GiB; not an offline bundle",
                    MAX_INNER_BUNDLE >> 30
                ),
            });
        }
        copy.rewind().map_err(Error::io(&label))?;
        if let Ok(inner) = ZipArchive::new(BufReader::new(copy))
            && is_offline_bundle(&inner)
        {
            bundles.push((label, inner));
        }
    }
    if bundles.len() == 1 {
        if let Some(one) = bundles.pop() {
            return Ok(one);
        }
    }
    let listed = |suffix: &str| -> Vec<&str> {
        names
            .iter()
            .filter(|n| n.to_ascii_lowercase().ends_with(suffix))
            .map(String::as_str)
            .collect()
    };
    let what = if bundles.len() > 1 {
        let inner: Vec<&str> = bundles
            .iter()
            .map(|(l, _)| l.rsplit(": ").next().unwrap_or(l))
            .collect();
        format!(
            "holds {} offline bundles ({}); extract the one for your ESXi release and pass it",
            inner.len(),
            inner.join(", ")
        )
    } else if !listed(".vib").is_empty() {
        format!(
            "not an offline bundle (no index.xml or metadata.zip, and no bundle inside); it holds {}: extract it and pass it with --add-vib",
            listed(".vib").join(", ")
        )
    } else {
        "no index.xml or metadata.zip, and no offline bundle inside; not an offline bundle (a bare .vib goes to --add-vib)".into()
    };
    Err(Error::Format {
        file: file.to_string(),
        what,
    })
}

/// The metadata ZIPs the bundle's index names (`index.xml` → vendor index → `<url>`), or
/// `metadata.zip` when the bundle has no index.
fn metadata_zips<R: Read + Seek>(
    file: &str,
    zip: &mut ZipArchive<R>,
) -> Result<Vec<String>, Error> {
    if zip.index_for_name("index.xml").is_none() {
        if zip.index_for_name("metadata.zip").is_some() {
            return Ok(vec!["metadata.zip".into()]);
        }
        return Err(Error::Format {
            file: file.to_string(),
            what: "no index.xml or metadata.zip; not an offline bundle (a bare .vib goes to --add-vib)".into(),
        });
    }
    let index = read_xml(file, zip, "index.xml")?;
    let mut names = Vec::new();
    for vendor in index.children_named("vendor") {
        let dir = vendor.child_text("relativePath").trim_matches('/');
        let indexfile = join(dir, vendor.child_text("indexfile"));
        if indexfile.is_empty() {
            continue;
        }
        let vendor_index = read_xml(file, zip, &indexfile)?;
        for meta in vendor_index.children_named("metadata") {
            let url = join(dir, meta.child_text("url"));
            if !url.is_empty() && !names.contains(&url) {
                names.push(url);
            }
        }
    }
    if names.is_empty() {
        return Err(Error::Format {
            file: file.to_string(),
            what: "index.xml and the vendor index name no metadata ZIP".into(),
        });
    }
    for name in &names {
        if safe_relative_path(name).is_none() {
            return Err(Error::EscapingPath {
                file: file.to_string(),
                member: name.clone(),
            });
        }
    }
    Ok(names)
}

/// The VIBs listed in a metadata ZIP's `vibs/*.xml`.
fn metadata_vibs<R: Read + Seek>(
    label: &str,
    meta: &mut ZipArchive<R>,
) -> Result<Vec<BundleVib>, Error> {
    let names: Vec<String> = meta
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .filter(|n| n.starts_with("vibs/") && n.ends_with(".xml"))
        .collect();
    let mut vibs = Vec::new();
    for name in names {
        let root = read_xml(label, meta, &name)?;
        let path = [
            root.child_text("relative-path"),
            root.child_text("relativePath"),
        ]
        .into_iter()
        .find(|p| !p.is_empty())
        .unwrap_or_default()
        .to_string();
        if path.is_empty() {
            return Err(Error::Format {
                file: format!("{label}: {name}"),
                what: "no <relative-path>: cannot tell where the VIB is in the bundle".into(),
            });
        }
        if safe_relative_path(&path).is_none() {
            return Err(Error::EscapingPath {
                file: format!("{label}: {name}"),
                member: path,
            });
        }
        let packed_size = [
            root.child_text("packed-size"),
            root.child_text("packedSize"),
        ]
        .into_iter()
        .find(|p| !p.is_empty())
        .and_then(|s| s.trim().parse().ok());
        let sha256 = root.children_named("checksum").find_map(|c| {
            let kind = c
                .attr("checksum-type")
                .map(str::to_string)
                .or_else(|| c.child("checksum-type").map(|t| t.text.clone()))
                .or_else(|| c.child("checksumType").map(|t| t.text.clone()))?;
            let value = c
                .child("checksum")
                .map_or(c.text.as_str(), |v| v.text.as_str());
            (kind == "sha-256").then(|| value.to_ascii_lowercase())
        });
        vibs.push(BundleVib {
            path,
            name: root.child_text("name").to_string(),
            version: root.child_text("version").to_string(),
            packed_size,
            sha256,
        });
    }
    Ok(vibs)
}

fn read_member<R: Read + Seek>(
    file: &str,
    zip: &mut ZipArchive<R>,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, Error> {
    let label = format!("{file}: {name}");
    let member = zip.by_name(name).map_err(|e| Error::Format {
        file: file.to_string(),
        what: format!("{name}: {e}"),
    })?;
    let mut bytes = Vec::new();
    member
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Format {
            file: label.clone(),
            what: format!("cannot decompress: {e}"),
        })?;
    if bytes.len() as u64 > limit {
        return Err(Error::Format {
            file: label,
            what: format!("larger than {} MiB; not bundle metadata", limit >> 20),
        });
    }
    Ok(bytes)
}

fn read_xml<R: Read + Seek>(
    file: &str,
    zip: &mut ZipArchive<R>,
    name: &str,
) -> Result<Element, Error> {
    let label = format!("{file}: {name}");
    let bytes = read_member(file, zip, name, MAX_INDEX)?;
    let text = String::from_utf8(bytes).map_err(|_| Error::Format {
        file: label.clone(),
        what: "not UTF-8".into(),
    })?;
    Element::parse(&label, &text)
}

fn join(dir: &str, name: &str) -> String {
    let name = name.trim();
    if dir.is_empty() || name.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::esxi::vib::tests::good_vib;
    use zip::write::SimpleFileOptions;

    /// A bundle holding `vib` at `vib20/net-test/…`, with metadata whose checksum is `sha`.
    pub(crate) fn bundle(vib: &[u8], sha: &str, path: &str) -> Vec<u8> {
        let opts = SimpleFileOptions::default();
        let mut meta = zip::ZipWriter::new(Cursor::new(Vec::new()));
        meta.start_file("vibs/net-test-1.xml", opts).unwrap();
        write!(meta, "<vib version=\"5.0\"><name>net-test</name><version>1.0-1</version><relative-path>{path}</relative-path><packed-size>{}</packed-size><checksum checksum-type=\"sha-256\">{sha}</checksum></vib>", vib.len()).unwrap();
        let meta = meta.finish().unwrap().into_inner();
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        z.start_file("index.xml", opts).unwrap();
        z.write_all(b"<vendorList><vendor><name>Test</name><code>TST</code><indexfile>vendor-index.xml</indexfile><relativePath></relativePath></vendor></vendorList>").unwrap();
        z.start_file("vendor-index.xml", opts).unwrap();
        z.write_all(b"<metaList><metadata><productId>embeddedEsx</productId><version>8.0.0</version><url>metadata.zip</url></metadata></metaList>").unwrap();
        z.start_file("metadata.zip", opts).unwrap();
        z.write_all(&meta).unwrap();
        z.start_file(path, opts).unwrap();
        z.write_all(vib).unwrap();
        z.finish().unwrap().into_inner()
    }

    fn write_tmp(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join("bundle.zip");
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn reads_vibs_and_checks_their_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let vib = good_vib(false);
        let sha = hex::encode(Sha256::digest(&vib));
        let p = write_tmp(
            dir.path(),
            &bundle(&vib, &sha, "vib20/net-test/TST_bootbank_net-test_1.0-1.vib"),
        );
        let mut b = Bundle::open(&p).unwrap();
        assert_eq!(b.vibs().len(), 1);
        assert_eq!(b.vibs()[0].name, "net-test");
        let mut x = b.extract_vib(0, dir.path()).unwrap();
        x.vib.verify_strict().unwrap();
        assert_eq!(x.vib.descriptor().name, "net-test");
    }

    #[test]
    fn wrong_vib_checksum_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let vib = good_vib(false);
        let p = write_tmp(
            dir.path(),
            &bundle(&vib, &"0".repeat(64), "vib20/net-test/x.vib"),
        );
        let mut b = Bundle::open(&p).unwrap();
        let e = b.extract_vib(0, dir.path()).err().unwrap();
        assert!(matches!(e, Error::ChecksumMismatch { .. }), "{e}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(
            leftovers.len(),
            1,
            "only the bundle stays; the temp VIB is gone"
        );
    }

    #[test]
    fn escaping_paths_refuse_the_bundle() {
        let dir = tempfile::tempdir().unwrap();
        for path in [
            "../evil.vib",
            "vib20/../../evil.vib",
            "/etc/evil.vib",
            "C:/evil.vib",
            "vib20\\..\\..\\x.vib",
        ] {
            let p = write_tmp(dir.path(), &bundle(b"x", "00", path));
            let e = Bundle::open(&p).err().unwrap();
            assert!(matches!(e, Error::EscapingPath { .. }), "{path}: {e}");
            assert!(e.to_string().contains("escapes"), "{e}");
        }
    }

    #[test]
    fn not_a_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_tmp(dir.path(), b"not a zip");
        assert!(
            Bundle::open(&p)
                .err()
                .unwrap()
                .to_string()
                .contains("not a ZIP")
        );
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        z.start_file("readme.txt", SimpleFileOptions::default())
            .unwrap();
        let p = write_tmp(dir.path(), &z.finish().unwrap().into_inner());
        assert!(
            Bundle::open(&p)
                .err()
                .unwrap()
                .to_string()
                .contains("not an offline bundle")
        );
    }

    #[test]
    fn safe_paths() {
        assert_eq!(safe_relative_path("a/./b"), Some(vec!["a", "b"]));
        for bad in ["", "/", "..", "a/../..", "\\x", "c:x", "a\0b"] {
            assert!(safe_relative_path(bad).is_none(), "{bad:?}");
        }
    }
}
