//! VIBs (vSphere Installation Bundles): an `ar` archive of `descriptor.xml`, `sig.pkcs7` and one
//! member per payload, named by the payload's `name`.
//!
//! The descriptor lists every payload with its size and checksums. A checksum without
//! `verify-process` hashes the member as stored (the `.gz`); `verify-process="gunzip"` hashes the
//! decompressed stream. [`Vib::verify`] recomputes every `sha-256`/`sha-1` checksum in one pass
//! per payload (the gzip is decompressed on the fly, never held in memory), and
//! [`Vib::check_target`] refuses a VIB the target ESXi will not load — ESXi 8 needs a `sha-256`
//! `gunzip` checksum on every payload (Broadcom KB 318056).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use flate2::bufread::GzDecoder;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::media::MediaVersion;
use super::xml::Element;
use super::{Error, ar};

/// A descriptor larger than this is not one (real ones are 2–40 KB).
const MAX_DESCRIPTOR: u64 = 8 << 20;

/// What `descriptor.xml` says about a VIB.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Descriptor {
    /// `<vib version="…">`: 5.0 for every VIB since ESXi 5.0; 4.x VIBs were Debian-style.
    pub format: String,
    pub name: String,
    pub version: String,
    pub vendor: String,
    #[serde(rename = "type")]
    pub vib_type: String,
    pub summary: String,
    /// `certified`, `accepted`, `partner` or `community`.
    pub acceptance: String,
    pub tags: Vec<String>,
    /// `<softwarePlatform>` entries: which ESXi releases the VIB was built for.
    pub platforms: Vec<Platform>,
    pub payloads: Vec<PayloadSpec>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Platform {
    pub version: String,
    pub product_line: String,
}

/// One `<payload>` of the descriptor.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PayloadSpec {
    pub name: String,
    /// `vgz` (gzip'd vmtar), `tgz` (gzip'd tar), `boot`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub size: Option<u64>,
    pub checksums: Vec<Checksum>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Checksum {
    /// `sha-256`, `sha-1`, …
    pub algorithm: String,
    /// `gunzip` when the hash is over the decompressed stream.
    pub verify_process: Option<String>,
    pub hex: String,
}

impl Checksum {
    fn is_gunzip(&self) -> bool {
        self.verify_process.as_deref() == Some("gunzip")
    }

    /// `sha-256`, or `sha-256 (gunzip)`.
    pub fn label(&self) -> String {
        match &self.verify_process {
            Some(p) => format!("{} ({p})", self.algorithm),
            None => self.algorithm.clone(),
        }
    }
}

impl Descriptor {
    /// Parses a descriptor (`file` names it in errors).
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Descriptor, Error> {
        let bad = |what: String| Error::Format {
            file: file.to_string(),
            what,
        };
        let text =
            std::str::from_utf8(bytes).map_err(|_| bad("descriptor.xml is not UTF-8".into()))?;
        let root = Element::parse(file, text)?;
        if root.name != "vib" {
            return Err(bad(format!(
                "descriptor.xml root element is <{}>, not <vib>",
                root.name
            )));
        }
        let platforms = root
            .child("system-requires")
            .map(|s| {
                s.children_named("softwarePlatform")
                    .map(|p| Platform {
                        version: p.attr("version").unwrap_or_default().to_string(),
                        product_line: p.attr("productLineID").unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let tags = root
            .child("software-tags")
            .map(|t| t.children_named("tag").map(|t| t.text.clone()).collect())
            .unwrap_or_default();
        let mut payloads = Vec::new();
        for p in root
            .child("payloads")
            .iter()
            .flat_map(|p| p.children_named("payload"))
        {
            let name = p.attr("name").unwrap_or_default().to_string();
            if name.is_empty() {
                return Err(bad("a <payload> has no name attribute".into()));
            }
            let size = match p.attr("size") {
                Some(s) => Some(
                    s.trim()
                        .parse::<u64>()
                        .map_err(|_| bad(format!("payload {name}: size={s:?} is not a number")))?,
                ),
                None => None,
            };
            let checksums = p
                .children_named("checksum")
                .map(|c| Checksum {
                    algorithm: c
                        .attr("checksum-type")
                        .unwrap_or_default()
                        .to_ascii_lowercase(),
                    verify_process: c.attr("verify-process").map(str::to_string),
                    hex: c.text.to_ascii_lowercase(),
                })
                .collect();
            payloads.push(PayloadSpec {
                name,
                kind: p.attr("type").unwrap_or_default().to_string(),
                size,
                checksums,
            });
        }
        let descriptor = Descriptor {
            format: root.attr("version").unwrap_or_default().to_string(),
            name: root.child_text("name").to_string(),
            version: root.child_text("version").to_string(),
            vendor: root.child_text("vendor").to_string(),
            vib_type: root.child_text("type").to_string(),
            summary: root.child_text("summary").to_string(),
            acceptance: root.child_text("acceptance-level").to_string(),
            tags,
            platforms,
            payloads,
        };
        for (field, value) in [
            ("name", &descriptor.name),
            ("version", &descriptor.version),
            ("vendor", &descriptor.vendor),
            ("type", &descriptor.vib_type),
        ] {
            if value.is_empty() {
                return Err(bad(format!("descriptor.xml has no <{field}>")));
            }
        }
        Ok(descriptor)
    }

    /// The product lines other than ESXi's own (`embeddedEsx`) that this VIB names as its only
    /// platforms (a DPU `esxio` VIB, an ESX 4.x `esx` one), or `None` when it is for ESXi or says
    /// nothing. The installer installs `embeddedEsx` software only.
    pub fn foreign_product_lines(&self) -> Option<Vec<String>> {
        let esxi = |p: &Platform| p.product_line.eq_ignore_ascii_case("embeddedEsx");
        if self.platforms.is_empty() || self.platforms.iter().any(esxi) {
            return None;
        }
        let mut lines: Vec<String> = self
            .platforms
            .iter()
            .map(|p| p.product_line.clone())
            .collect();
        lines.dedup();
        Some(lines)
    }

    /// The VIB ID the image database uses: `VENDOR_TYPE_NAME_VERSION`.
    pub fn id(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.vendor, self.vib_type, self.name, self.version
        )
    }
}

/// The outcome of recomputing one checksum.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Verified,
    Mismatch {
        actual: String,
    },
    /// An algorithm or verify-process we do not compute (reported, not trusted).
    Unsupported,
}

/// Every checksum of one payload, recomputed.
#[derive(Clone, Debug, Serialize)]
pub struct PayloadCheck {
    pub name: String,
    /// The member's real size.
    pub size: u64,
    /// `Some(false)` when the descriptor's `size` differs from the member.
    pub size_matches: Option<bool>,
    pub checksums: Vec<(Checksum, Outcome)>,
}

impl PayloadCheck {
    /// Why this payload cannot be trusted, or `None` when it can: its stored size differs from
    /// the descriptor's, a checksum mismatches, or no checksum could be verified. `file` names
    /// the VIB in the error.
    pub fn refusal(&self, file: &str) -> Option<Error> {
        if self.size_matches == Some(false) {
            return Some(Error::Format {
                file: file.to_string(),
                what: format!(
                    "payload {}: the archive member is {} bytes but the descriptor says otherwise; the VIB is corrupt",
                    self.name, self.size
                ),
            });
        }
        for (sum, outcome) in &self.checksums {
            if let Outcome::Mismatch { actual } = outcome {
                return Some(Error::ChecksumMismatch {
                    file: file.to_string(),
                    payload: self.name.clone(),
                    checksum: sum.label(),
                    expected: sum.hex.clone(),
                    actual: actual.clone(),
                });
            }
        }
        if !self.checksums.iter().any(|(_, o)| *o == Outcome::Verified) {
            return Some(Error::Unverifiable {
                file: file.to_string(),
                payload: self.name.clone(),
            });
        }
        None
    }
}

/// A VIB opened for reading: the member index and the parsed descriptor. Payloads are read from
/// the underlying file on demand.
pub struct Vib<R> {
    file: String,
    reader: R,
    members: Vec<ar::Member>,
    descriptor: Descriptor,
    descriptor_xml: Vec<u8>,
}

impl Vib<BufReader<File>> {
    pub fn open(path: &Path) -> Result<Self, Error> {
        let file = path.display().to_string();
        let f = File::open(path).map_err(Error::io(&file))?;
        Vib::from_reader(&file, BufReader::new(f))
    }
}

impl<R: Read + Seek> Vib<R> {
    /// Indexes the archive in `reader` and parses its descriptor (`file` names it in errors).
    pub fn from_reader(file: &str, mut reader: R) -> Result<Self, Error> {
        let members = ar::index(file, &mut reader)?;
        let desc = members
            .iter()
            .find(|m| m.name == "descriptor.xml")
            .ok_or_else(|| Error::Format {
                file: file.to_string(),
                what: "no descriptor.xml member; not a VIB".into(),
            })?;
        if desc.size > MAX_DESCRIPTOR {
            return Err(Error::Format {
                file: file.to_string(),
                what: format!(
                    "descriptor.xml is {} bytes; not a VIB descriptor",
                    desc.size
                ),
            });
        }
        let mut descriptor_xml = Vec::new();
        reader
            .seek(SeekFrom::Start(desc.offset))
            .and_then(|_| {
                (&mut reader)
                    .take(desc.size)
                    .read_to_end(&mut descriptor_xml)
            })
            .map_err(Error::io(&file))?;
        let descriptor = Descriptor::parse(&format!("{file}: descriptor.xml"), &descriptor_xml)?;
        for p in &descriptor.payloads {
            if !members.iter().any(|m| m.name == p.name) {
                return Err(Error::Format {
                    file: file.to_string(),
                    what: format!(
                        "descriptor lists payload {:?} but the archive has no member of that name",
                        p.name
                    ),
                });
            }
        }
        Ok(Vib {
            file: file.to_string(),
            reader,
            members,
            descriptor,
            descriptor_xml,
        })
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// `descriptor.xml` exactly as stored: what goes into the image database.
    pub fn descriptor_xml(&self) -> &[u8] {
        &self.descriptor_xml
    }

    /// Whether `sig.pkcs7` is present and not empty (unsigned community VIBs have an empty one).
    pub fn is_signed(&self) -> bool {
        self.members
            .iter()
            .any(|m| m.name == "sig.pkcs7" && m.size > 0)
    }

    /// The stored size of payload `name`.
    pub fn payload_size(&self, name: &str) -> Option<u64> {
        self.member(name).map(|m| m.size)
    }

    /// Recomputes every checksum of every payload. Mismatches are reported, not raised: use
    /// [`Vib::verify_strict`] to refuse them.
    pub fn verify(&mut self) -> Result<Vec<PayloadCheck>, Error> {
        let specs = self.descriptor.payloads.clone();
        specs.iter().map(|spec| self.check_payload(spec)).collect()
    }

    /// [`Vib::verify`], then an error for the first mismatch, wrong size, or payload without a
    /// checksum we can verify. A payload is trusted only after this passes.
    pub fn verify_strict(&mut self) -> Result<Vec<PayloadCheck>, Error> {
        let checks = self.verify()?;
        match checks.iter().find_map(|c| c.refusal(&self.file)) {
            Some(refusal) => Err(refusal),
            None => Ok(checks),
        }
    }

    /// Refuses a VIB that ESXi `target` will not load from installer media: a 4.x VIB, one for
    /// another product line, a payload type that is not a boot module, and on ESXi 8 a payload
    /// without a `sha-256` `gunzip` checksum.
    pub fn check_target(&self, target: &MediaVersion) -> Result<(), Error> {
        let d = &self.descriptor;
        let incompatible = |why: String| Error::Incompatible {
            file: self.file.clone(),
            vib: d.id(),
            target: target.to_string(),
            why,
        };
        let format_major = d
            .format
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .unwrap_or(0);
        if format_major < 5 {
            return Err(incompatible(format!(
                "it is a {} VIB (descriptor version {:?}); ESXi 5.0 and later need VIB format 5.0",
                if d.format.is_empty() {
                    "pre-5.0"
                } else {
                    "4.x"
                },
                d.format
            )));
        }
        if let Some(lines) = d.foreign_product_lines() {
            return Err(incompatible(format!(
                "it is built for product line {} (its <softwarePlatform productLineID>), not embeddedEsx, which an ESXi installer installs",
                lines.join(", ")
            )));
        }
        if d.payloads.is_empty() {
            return Err(incompatible("it has no payloads to load".into()));
        }
        for p in &d.payloads {
            if !matches!(p.kind.as_str(), "vgz" | "tgz") {
                // `boot` (b.b00, k.b00, uc_intel.b00) and `installer` (weaselin.i00) payloads are
                // ESXi's own kernel and early modules, whose place in the boot order matters.
                let what = match p.kind.as_str() {
                    "boot" | "installer" => format!(
                        "payload {} has type {:?}: part of ESXi itself (kernel, early boot modules, installer), which esxforge does not swap; start from the ISO of the ESXi build you want",
                        p.name, p.kind
                    ),
                    _ => format!(
                        "payload {} has type {:?}; only vgz and tgz payloads (drivers, tools) can be added to installer media",
                        p.name, p.kind
                    ),
                };
                return Err(incompatible(what));
            }
            if target.major >= 8
                && !p
                    .checksums
                    .iter()
                    .any(|c| c.algorithm == "sha-256" && c.is_gunzip())
            {
                return Err(incompatible(format!(
                    "payload {} has no sha-256 checksum with verify-process=\"gunzip\", which ESXi 8 requires of every VIB (Broadcom KB 318056); use a VIB built for ESXi 8",
                    p.name
                )));
            }
        }
        Ok(())
    }

    /// A reader over the stored bytes of payload `name` (the `.gz` as it goes onto the ISO).
    pub fn payload(&mut self, name: &str) -> Result<io::Take<&mut R>, Error> {
        let member = self.member(name).cloned().ok_or_else(|| Error::Format {
            file: self.file.clone(),
            what: format!("no payload member {name:?}"),
        })?;
        self.reader
            .seek(SeekFrom::Start(member.offset))
            .map_err(Error::io(&self.file))?;
        Ok((&mut self.reader).take(member.size))
    }

    fn member(&self, name: &str) -> Option<&ar::Member> {
        self.members.iter().find(|m| m.name == name)
    }

    fn check_payload(&mut self, spec: &PayloadSpec) -> Result<PayloadCheck, Error> {
        let file = self.file.clone();
        let size = self.payload_size(&spec.name).unwrap_or(0);
        let wants = |gunzip: bool, algorithm: &str| {
            spec.checksums
                .iter()
                .any(|c| c.is_gunzip() == gunzip && c.algorithm == algorithm)
        };
        let mut raw = Hashes::new(wants(false, "sha-256"), wants(false, "sha-1"));
        let mut unzipped = Hashes::new(wants(true, "sha-256"), wants(true, "sha-1"));
        let gunzip = unzipped.any();
        let payload_name = spec.name.clone();
        let io_err = Error::io(&file);
        let reader = self.payload(&payload_name)?;
        let mut tee = BufReader::with_capacity(
            64 * 1024,
            HashingReader {
                inner: reader,
                hashes: &mut raw,
            },
        );
        if gunzip {
            gunzip_members(&mut tee, |data| unzipped.update(data)).map_err(|e| {
                Error::Format {
                    file: file.clone(),
                    what: format!(
                        "payload {payload_name}: cannot gunzip it to check its gunzip checksum ({e}); the payload is corrupt"
                    ),
                }
            })?;
        }
        // Whatever the decoder did not consume still counts for the stored-bytes hashes.
        io::copy(&mut tee, &mut io::sink()).map_err(&io_err)?;
        let raw = raw.finish();
        let unzipped = unzipped.finish();
        let checksums = spec
            .checksums
            .iter()
            .map(|c| {
                let computed = match (c.verify_process.as_deref(), c.algorithm.as_str()) {
                    (None, "sha-256") => raw.0.clone(),
                    (None, "sha-1") => raw.1.clone(),
                    (Some("gunzip"), "sha-256") => unzipped.0.clone(),
                    (Some("gunzip"), "sha-1") => unzipped.1.clone(),
                    _ => None,
                };
                let outcome = match computed {
                    None => Outcome::Unsupported,
                    Some(actual) if actual == c.hex => Outcome::Verified,
                    Some(actual) => Outcome::Mismatch { actual },
                };
                (c.clone(), outcome)
            })
            .collect();
        Ok(PayloadCheck {
            name: spec.name.clone(),
            size,
            size_matches: spec.size.map(|s| s == size),
            checksums,
        })
    }
}

/// Decompresses every gzip member of `input` into `sink`, as gzip(1) and Python's `gzip` (what
/// VMware's tools verify with) do: members follow each other, and zero bytes after a member are
/// padding, not data. Anything else after a member must be another member.
fn gunzip_members<R: BufRead>(input: &mut R, mut sink: impl FnMut(&[u8])) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut member = GzDecoder::new(&mut *input);
        loop {
            let n = member.read(&mut buf)?;
            if n == 0 {
                break;
            }
            sink(buf.get(..n).unwrap_or_default());
        }
        loop {
            let available = input.fill_buf()?;
            if available.is_empty() {
                return Ok(());
            }
            match available.iter().position(|&b| b != 0) {
                Some(start) => {
                    input.consume(start);
                    break;
                }
                None => {
                    let len = available.len();
                    input.consume(len);
                }
            }
        }
    }
}

/// The SHA-256 and SHA-1 of a stream, each only when asked for.
struct Hashes {
    sha256: Option<Sha256>,
    sha1: Option<Sha1>,
}

impl Hashes {
    fn new(sha256: bool, sha1: bool) -> Hashes {
        Hashes {
            sha256: sha256.then(Sha256::new),
            sha1: sha1.then(Sha1::new),
        }
    }

    fn any(&self) -> bool {
        self.sha256.is_some() || self.sha1.is_some()
    }

    fn update(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
    }

    fn finish(self) -> (Option<String>, Option<String>) {
        (
            self.sha256.map(|h| hex::encode(h.finalize())),
            self.sha1.map(|h| hex::encode(h.finalize())),
        )
    }
}

struct HashingReader<'a, R> {
    inner: R,
    hashes: &'a mut Hashes,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hashes.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::esxi::ar::tests::archive;
    use std::io::{Cursor, Write};

    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    pub(crate) fn sha256(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    /// A descriptor for one payload with the given checksum lines.
    pub(crate) fn descriptor(
        name: &str,
        version: &str,
        payload: &str,
        size: usize,
        sums: &str,
    ) -> String {
        format!(
            "<vib version=\"5.0\"><type>bootbank</type><name>{name}</name><version>{version}</version><vendor>TST</vendor><summary>test driver</summary><acceptance-level>community</acceptance-level><system-requires><softwarePlatform version=\"8.0\" locale=\"\" productLineID=\"embeddedEsx\"/></system-requires><payloads><payload name=\"{payload}\" type=\"vgz\" size=\"{size}\">{sums}</payload></payloads></vib>"
        )
    }

    pub(crate) fn good_vib(gnu: bool) -> Vec<u8> {
        let content = b"pretend vmtar content".repeat(100);
        let gz = gzip(&content);
        let sums = format!(
            "<checksum checksum-type=\"sha-256\">{}</checksum><checksum checksum-type=\"sha-256\" verify-process=\"gunzip\">{}</checksum><checksum checksum-type=\"sha-1\" verify-process=\"gunzip\">{}</checksum>",
            sha256(&gz),
            sha256(&content),
            hex::encode(Sha1::digest(&content))
        );
        let d = descriptor("net-test", "1.0-1", "net-test", gz.len(), &sums);
        archive(
            &[
                ("descriptor.xml", d.as_bytes()),
                ("sig.pkcs7", b""),
                ("net-test", &gz),
            ],
            gnu,
        )
    }

    #[test]
    fn verifies_every_checksum_in_both_styles() {
        for gnu in [false, true] {
            let mut vib = Vib::from_reader("t.vib", Cursor::new(good_vib(gnu))).unwrap();
            assert_eq!(vib.descriptor().id(), "TST_bootbank_net-test_1.0-1");
            let checks = vib.verify_strict().unwrap();
            assert_eq!(checks[0].checksums.len(), 3);
            assert!(
                checks[0]
                    .checksums
                    .iter()
                    .all(|(_, o)| *o == Outcome::Verified)
            );
            vib.check_target(&MediaVersion::parse("8.0.3-0.35.24280767").unwrap())
                .unwrap();
        }
    }

    #[test]
    fn mismatch_is_refused_with_both_digests() {
        let gz = gzip(b"payload");
        let wrong = sha256(b"something else");
        let sums = format!(
            "<checksum checksum-type=\"sha-256\" verify-process=\"gunzip\">{wrong}</checksum>"
        );
        let d = descriptor("p", "1", "p", gz.len(), &sums);
        let bytes = archive(&[("descriptor.xml", d.as_bytes()), ("p", &gz)], false);
        let mut vib = Vib::from_reader("t.vib", Cursor::new(bytes)).unwrap();
        let err = vib.verify_strict().unwrap_err().to_string();
        assert!(
            err.contains("t.vib") && err.contains("payload p") && err.contains("mismatch"),
            "{err}"
        );
        assert!(
            err.contains(&wrong) && err.contains(&sha256(b"payload")),
            "{err}"
        );
    }

    /// gzip and Python's `gzip` (which VMware's tools use) read a stream padded with zero bytes
    /// to its end, as payloads written in blocks are, and one member after another; the gunzip
    /// checksums cover the data only, the stored-bytes ones the padding too. Anything else after
    /// a member is corruption.
    #[test]
    fn zero_padded_payloads_verify_and_trailing_garbage_does_not() {
        let content = b"vmtar payload".repeat(50);
        let second = gzip(b"second member");
        for (tail, data, ok) in [
            (vec![0u8; 1000], content.clone(), true),
            (second, [&content[..], b"second member"].concat(), true),
            (b"garbage".to_vec(), content.clone(), false),
        ] {
            let mut gz = gzip(&content);
            gz.extend_from_slice(&tail);
            let sums = format!(
                "<checksum checksum-type=\"sha-256\">{}</checksum><checksum checksum-type=\"sha-256\" verify-process=\"gunzip\">{}</checksum>",
                sha256(&gz),
                sha256(&data)
            );
            let d = descriptor("p", "1", "p", gz.len(), &sums);
            let bytes = archive(&[("descriptor.xml", d.as_bytes()), ("p", &gz)], false);
            let mut vib = Vib::from_reader("t.vib", Cursor::new(bytes)).unwrap();
            let result = vib.verify_strict();
            assert_eq!(result.is_ok(), ok, "{result:?}");
        }
    }

    #[test]
    fn corrupt_payload_is_refused() {
        let mut bytes = good_vib(false);
        let at = bytes.len() - 30;
        bytes[at] ^= 0xff;
        let mut vib = Vib::from_reader("t.vib", Cursor::new(bytes)).unwrap();
        let err = vib.verify_strict().unwrap_err().to_string();
        assert!(
            err.contains("t.vib") && err.contains("net-test") && err.contains("corrupt"),
            "{err}"
        );
    }

    #[test]
    fn esxi8_needs_sha256_gunzip() {
        let gz = gzip(b"x");
        let sums = format!(
            "<checksum checksum-type=\"sha-1\" verify-process=\"gunzip\">{}</checksum>",
            hex::encode(Sha1::digest(b"x"))
        );
        let d = descriptor("old", "1", "old", gz.len(), &sums);
        let bytes = archive(&[("descriptor.xml", d.as_bytes()), ("old", &gz)], false);
        let mut vib = Vib::from_reader("old.vib", Cursor::new(bytes)).unwrap();
        vib.verify_strict().unwrap();
        vib.check_target(&MediaVersion::parse("7.0.3-0.55.20328353").unwrap())
            .unwrap();
        let err = vib
            .check_target(&MediaVersion::parse("8.0.0-1.0.20513097").unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sha-256") && err.contains("ESXi 8") && err.contains("old.vib"),
            "{err}"
        );
    }

    /// A descriptor as community build scripts write it (William Lam's VIB template, quoted in
    /// many public repositories: found with `find_string "<vib version=\"5.0\">"`), here with
    /// what editors add: a UTF-8 BOM, an XML declaration, a comment, CRLF line ends.
    #[test]
    fn community_template_descriptor_parses() {
        let text = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<!-- generated -->\r\n<vib version=\"5.0\">\r\n  <type>bootbank</type>\r\n  <name>w2c-letsencrypt-esxi</name>\r\n  <version>1.0.0-0.0.0</version>\r\n  <vendor>web-wack-creations</vendor>\r\n  <summary>Let's Encrypt for ESXi</summary>\r\n  <relationships>\r\n    <depends/>\r\n    <conflicts/>\r\n  </relationships>\r\n  <software-tags/>\r\n  <system-requires>\r\n    <maintenance-mode>false</maintenance-mode>\r\n  </system-requires>\r\n  <acceptance-level>community</acceptance-level>\r\n  <payloads>\r\n    <payload name=\"payload1\" type=\"tgz\" size=\"2048\">\r\n        <checksum checksum-type=\"sha-256\">AB12</checksum>\r\n        <checksum checksum-type=\"sha-256\" verify-process=\"gunzip\">\r\n          cd34\r\n        </checksum>\r\n    </payload>\r\n  </payloads>\r\n</vib>\r\n";
        let d = Descriptor::parse("descriptor.xml", text.as_bytes()).unwrap();
        assert_eq!(
            d.id(),
            "web-wack-creations_bootbank_w2c-letsencrypt-esxi_1.0.0-0.0.0"
        );
        assert_eq!(d.acceptance, "community");
        assert!(d.platforms.is_empty() && d.foreign_product_lines().is_none());
        let p = &d.payloads[0];
        assert_eq!(
            (p.name.as_str(), p.kind.as_str(), p.size),
            ("payload1", "tgz", Some(2048))
        );
        assert_eq!(p.checksums[0].hex, "ab12");
        assert_eq!(p.checksums[1].hex, "cd34");
        assert_eq!(p.checksums[1].label(), "sha-256 (gunzip)");
    }

    #[test]
    fn esxi_boot_payloads_are_refused_with_what_to_do() {
        let gz = gzip(b"x");
        let sums = format!(
            "<checksum checksum-type=\"sha-256\" verify-process=\"gunzip\">{}</checksum>",
            sha256(b"x")
        );
        let target = MediaVersion::parse("8.0.3-0.35.24280767").unwrap();
        for (kind, says) in [
            ("boot", "part of ESXi itself"),
            ("upgrade", "only vgz and tgz"),
        ] {
            let d = descriptor("esx-base", "8.0.3-0.50.1", "b", gz.len(), &sums)
                .replace("type=\"vgz\"", &format!("type=\"{kind}\""));
            let bytes = archive(&[("descriptor.xml", d.as_bytes()), ("b", &gz)], false);
            let vib = Vib::from_reader("esx-base.vib", Cursor::new(bytes)).unwrap();
            let e = vib.check_target(&target).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("esx-base.vib"), "{e}");
        }
    }

    #[test]
    fn vibs_for_other_product_lines_are_refused() {
        let target = MediaVersion::parse("8.0.3-0.35.24280767").unwrap();
        for (platforms, refused) in [
            (
                "<softwarePlatform version=\"8.0.0\" locale=\"\" productLineID=\"esxio\"/>",
                true,
            ),
            (
                "<softwarePlatform version=\"8.0.0\" locale=\"\" productLineID=\"esxio\"/><softwarePlatform version=\"8.0.0\" locale=\"\" productLineID=\"embeddedEsx\"/>",
                false,
            ),
            ("", false),
        ] {
            let gz = gzip(b"x");
            let sums = format!(
                "<checksum checksum-type=\"sha-256\" verify-process=\"gunzip\">{}</checksum>",
                sha256(b"x")
            );
            let d = descriptor("net-dpu", "1", "net-dpu", gz.len(), &sums).replace(
                "<softwarePlatform version=\"8.0\" locale=\"\" productLineID=\"embeddedEsx\"/>",
                platforms,
            );
            let bytes = archive(&[("descriptor.xml", d.as_bytes()), ("net-dpu", &gz)], false);
            let vib = Vib::from_reader("dpu.vib", Cursor::new(bytes)).unwrap();
            let result = vib.check_target(&target);
            assert_eq!(result.is_err(), refused, "{platforms}: {result:?}");
            if let Err(e) = result {
                let e = e.to_string();
                assert!(e.contains("dpu.vib") && e.contains("esxio"), "{e}");
            }
        }
    }

    #[test]
    fn payload_without_verifiable_checksum_is_refused() {
        let gz = gzip(b"x");
        let d = descriptor(
            "p",
            "1",
            "p",
            gz.len(),
            "<checksum checksum-type=\"md5\">00</checksum>",
        );
        let bytes = archive(&[("descriptor.xml", d.as_bytes()), ("p", &gz)], false);
        let mut vib = Vib::from_reader("p.vib", Cursor::new(bytes)).unwrap();
        assert!(matches!(
            vib.verify_strict(),
            Err(Error::Unverifiable { .. })
        ));
    }

    #[test]
    fn missing_member_and_bad_descriptor_are_errors() {
        let d = descriptor("p", "1", "p", 1, "");
        let bytes = archive(&[("descriptor.xml", d.as_bytes())], false);
        assert!(Vib::from_reader("p.vib", Cursor::new(bytes)).is_err());
        let bytes = archive(&[("descriptor.xml", b"<vib><name>x</name>")], false);
        assert!(Vib::from_reader("p.vib", Cursor::new(bytes)).is_err());
        let bytes = archive(&[("sig.pkcs7", b"")], false);
        let e = Vib::from_reader("p.vib", Cursor::new(bytes))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("no descriptor.xml"), "{e}");
    }
}
