//! Remastering an ESXi installer image: a plan of edits over a source image, then one streaming
//! build.
//!
//! [`Remaster::plan`] opens the source, recognises its layout, checks every input (VIB
//! checksums and target version, bundle paths, the kickstart) and decides every change before a
//! byte is written: which modules come and go, the new BOOT.CFGs, the regenerated `IMGDB.TGZ`
//! or `imagedd.md5`. [`build`] then writes the image as any remaster is written:
//! [`Builder::import`](crate::writer::Builder::import) of the source (every unchanged file an
//! extent range of it, copied without decoding; the same names, identifiers, boot entries and
//! system area; the boot-info-table re-patched where the loader lands), the planned files
//! replaced, removed or added by their primary paths, then `finish` into a temporary file beside
//! the output while the SHA-256 and MD5 are computed. It re-reads the result and verifies it as
//! `iso verify` does — a check the source already failed is a warning, any other failure refuses
//! the image — and only then renames it into place and writes `OUT.iso.sha256` and
//! `OUT.iso.md5`. The source is only ever read, and a failure leaves the output folder as it was.
//!
//! ```no_run
//! use esxforge_isotool::remaster::{self, Options};
//! # fn main() -> Result<(), esxforge_isotool::esxi::Error> {
//! let options = Options {
//!     vibs: vec!["net-ixgbe.vib".into()],
//!     kickstart: Some("ks.cfg".into()),
//!     ..Options::default()
//! };
//! let report = remaster::build("VMware-ESXi-8.0U3.iso".as_ref(), "custom.iso".as_ref(), &options, &mut |_, _| {})?;
//! println!("{} bytes, sha256 {}", report.digests.len, report.digests.sha256);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::esxi::Error;
use crate::esxi::bootcfg::{self, BootCfg};
use crate::esxi::bundle::{Bundle, ExtractedVib};
use crate::esxi::check::{self, Check, Outcome};
use crate::esxi::legacy::{self, Imagedd};
use crate::esxi::media::{self, Layout, Media, MediaVersion};
use crate::esxi::sidecar::{self, Digests};
use crate::esxi::vib::Vib;
use crate::iso9660::name::Naming;
use crate::reader::{Image, Names};
use crate::writer::{self, Attributes, Builder, Joliet, Source};
use esxforge_kickstart::lint::{self, LintOptions};

/// A kickstart larger than this is not one.
const MAX_KICKSTART: u64 = 1 << 20;

/// What to change. Everything empty: a faithful copy (new timestamps aside).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// VIB files to inject (each replaces any VIB of the same name on the image).
    pub vibs: Vec<PathBuf>,
    /// Offline bundles whose VIBs to inject.
    pub bundles: Vec<PathBuf>,
    /// A kickstart to embed as `/KS.CFG`, booted with `ks=cdrom:/KS.CFG`.
    pub kickstart: Option<PathBuf>,
    /// Kernel options to set: `(key, Some(value))` for `key=value`, `(key, None)` for a flag.
    pub kernel_options: Vec<(String, Option<String>)>,
    pub volume_id: Option<String>,
    /// ESXi 4.x: a replacement system image (bzip2'd, or raw and compressed here).
    pub imagedd: Option<PathBuf>,
    /// Every timestamp of the new image; `None`: `SOURCE_DATE_EPOCH` when set, else the source
    /// image's own modification time — the same inputs always give the same bytes.
    pub timestamp: Option<i64>,
    /// Embed the kickstart even when the linter finds errors the installer stops on.
    pub skip_kickstart_lint: bool,
}

/// A VIB to inject and the label errors name it by (its path, or bundle and member).
type LabelledVib = (String, Vib<BufReader<File>>);

/// What VIB injection edits on 5.x–8.x media, carried from one VIB to the next.
struct ModernEdits {
    cfgs: Vec<(String, BootCfg)>,
    db: crate::esxi::imgdb::ImageDb,
    /// Lower-case names at the root and in the module lists: module names must avoid them.
    taken: BTreeSet<String>,
    target: MediaVersion,
    mtime: u64,
}

/// A file the build writes with new content.
enum NewFile {
    Bytes(Vec<u8>),
    /// A local file (a verified payload copy, a replacement imagedd), read when written.
    Path(PathBuf),
}

/// The decided edits over one source image.
pub struct Remaster {
    source_path: PathBuf,
    image: Image<File>,
    /// The same open file as `image`'s, shared by every unchanged file the build copies from it.
    source: Arc<File>,
    media: Media,
    /// Primary path (upper-case, leading `/`) → new content, for files replaced or added.
    files: BTreeMap<String, NewFile>,
    /// Primary paths (upper-case) removed from the image.
    removed: BTreeSet<String>,
    volume_id: Option<String>,
    timestamp: Option<i64>,
    changes: Vec<String>,
    /// Things worth knowing that change nothing (kickstart lint warnings).
    notes: Vec<String>,
    /// Where payload copies, bundle VIBs and a compressed imagedd are kept until the build has
    /// read them.
    work: tempfile::TempDir,
    /// Held for their temporary files.
    extracted_vibs: Vec<ExtractedVib>,
    imagedd: Option<Imagedd>,
    /// What `iso verify` already fails on the source (`what: detail`): the new image inherits
    /// those, so they are reported rather than refused — an odd but working VMware image must
    /// still be customisable.
    source_failures: BTreeSet<String>,
}

/// What [`build`] produced.
#[derive(Clone, Debug, Serialize)]
pub struct BuildReport {
    pub output: PathBuf,
    pub layout: Layout,
    pub version: Option<MediaVersion>,
    /// One line per change made.
    pub changes: Vec<String>,
    pub digests: Digests,
    /// The sidecar files written.
    pub sidecars: Vec<PathBuf>,
    /// Kickstart lint warnings and warnings of the verification of the new image (failures
    /// abort the build).
    pub warnings: Vec<String>,
}

impl Remaster {
    /// Opens `source` and decides every edit of `options`. Temporaries go under `work_dir`.
    pub fn plan(source: &Path, options: &Options, work_dir: &Path) -> Result<Remaster, Error> {
        let label = source.display().to_string();
        let file = File::open(source).map_err(Error::io(&label))?;
        let shared = file.try_clone().map_err(Error::io(&label))?;
        let mut image = Image::open(file)?;
        let media = Media::read(&label, &mut image)?;
        let source_failures = failures(&check::verify(&mut image, &media)?);
        let work = tempfile::Builder::new()
            .prefix(".esxforge-work-")
            .tempdir_in(work_dir)
            .map_err(Error::io(&work_dir.display()))?;
        let mut plan = Remaster {
            source_path: source.to_path_buf(),
            image,
            source: Arc::new(shared),
            media,
            files: BTreeMap::new(),
            removed: BTreeSet::new(),
            volume_id: None,
            timestamp: options.timestamp,
            changes: Vec::new(),
            notes: Vec::new(),
            work,
            extracted_vibs: Vec::new(),
            imagedd: None,
            source_failures,
        };
        if let Some(id) = &options.volume_id {
            plan.set_volume_id(id)?;
        }
        match plan.media.layout {
            Layout::Modern => plan.plan_modern(options)?,
            Layout::Legacy => plan.plan_legacy(options)?,
        }
        Ok(plan)
    }

    pub fn media(&self) -> &Media {
        &self.media
    }

    /// One line per decided change.
    pub fn changes(&self) -> &[String] {
        &self.changes
    }

    fn set_volume_id(&mut self, id: &str) -> Result<(), Error> {
        let mut ids = self.image.primary().ids.clone();
        let old = ids.volume_id.clone();
        ids.volume_id = id.to_string();
        ids.check().map_err(|why| Error::Edit {
            what: format!("--volume-id {id:?}: {why}"),
        })?;
        if id.len() > 32
            || !id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"_-.".contains(&b))
        {
            return Err(Error::Edit {
                what: format!(
                    "--volume-id {id:?}: use at most 32 upper-case letters, digits, `_`, `-` and `.` (as VMware's ESXI-8.0U3-… ids)"
                ),
            });
        }
        self.changes.push(format!("volume id {old:?} → {id:?}"));
        self.volume_id = Some(id.to_string());
        Ok(())
    }

    fn plan_modern(&mut self, options: &Options) -> Result<(), Error> {
        let differences = self.media.boot_cfg_differences();
        if !differences.is_empty() {
            return Err(Error::Edit {
                what: format!(
                    "{}: the BIOS and UEFI BOOT.CFGs disagree ({}); this image already boots differently each way, fix the source first",
                    self.source_path.display(),
                    differences.join("; ")
                ),
            });
        }
        if options.imagedd.is_some() {
            return Err(Error::Edit {
                what: "--imagedd applies to ESXi 4.x media; this image is ESXi 5.x or later (drivers go in with --add-vib/--add-bundle)".into(),
            });
        }
        let mut cfgs: Vec<(String, BootCfg)> = self.media.boot_cfgs.clone();
        let vibs = self.open_vibs(options)?;
        if !vibs.is_empty() {
            let db = self.media.imgdb.clone().ok_or_else(|| Error::Edit {
                what: "this image has no /IMGDB.TGZ to record drivers in; cannot inject VIBs"
                    .into(),
            })?;
            let target = self.media.version.clone().ok_or_else(|| Error::Edit {
                what: "cannot tell which ESXi release this image installs (no build= in BOOT.CFG, no esx-base in the image profile); refusing to inject VIBs it might not load".into(),
            })?;
            let original_acceptance = db.acceptance();
            let mut edits = ModernEdits {
                cfgs,
                db,
                taken: self.root_names()?,
                target,
                mtime: self.timestamp()?.max(0).unsigned_abs(),
            };
            for (label, vib) in vibs {
                self.inject(&label, vib, &mut edits)?;
            }
            let acceptance = edits.db.acceptance();
            if original_acceptance != acceptance {
                self.changes.push(format!(
                    "image profile acceptance level {original_acceptance} → {acceptance} (the lowest of its VIBs)"
                ));
            }
            self.files
                .insert(media::IMGDB.to_string(), NewFile::Bytes(edits.db.to_tgz()?));
            cfgs = edits.cfgs;
        }
        // VMware: the kickstart path "must use uppercase characters".
        let kernel_options = self.embed_kickstart(options, media::KICKSTART)?;
        // Kernel options an ISOLINUX.CFG entry passes to mboot after `-c boot.cfg` are appended
        // to BOOT.CFG's on the BIOS path; one that sets the same option follows it.
        let mut isolinux = self.media.isolinux.clone();
        let mut menu_entries = 0;
        self.set_kernel_options(&kernel_options, "both BOOT.CFGs", |key, value| {
            cfgs.iter_mut()
                .try_for_each(|(_, cfg)| cfg.set_kernel_option(key, value))?;
            if let Some(cfg) = isolinux.as_mut() {
                menu_entries += cfg.set_mboot_option(key, value)?;
            }
            Ok(())
        })?;
        if let Some(cfg) = isolinux.filter(|c| Some(c) != self.media.isolinux.as_ref()) {
            self.files.insert(
                media::ISOLINUX_CFG.to_string(),
                NewFile::Bytes(cfg.to_bytes()),
            );
            self.changes.push(format!(
                "ISOLINUX.CFG: the same kernel options set on {menu_entries} BIOS menu entries that already passed them to mboot"
            ));
        }
        for ((path, new), (_, old)) in cfgs.iter().zip(&self.media.boot_cfgs) {
            if new != old {
                self.files
                    .insert(path.to_ascii_uppercase(), NewFile::Bytes(new.to_bytes()));
            }
        }
        Ok(())
    }

    /// Every VIB of `--add-vib` and `--add-bundle`, verified, with the label errors name it by.
    fn open_vibs(&mut self, options: &Options) -> Result<Vec<LabelledVib>, Error> {
        let mut out: Vec<LabelledVib> = Vec::new();
        for path in &options.vibs {
            out.push((path.display().to_string(), Vib::open(path)?));
        }
        let work = self.work.path().to_path_buf();
        for path in &options.bundles {
            let mut bundle = Bundle::open(path)?;
            for i in 0..bundle.vibs().len() {
                let extracted = bundle.extract_vib(i, &work)?;
                let label = format!(
                    "{}: {}",
                    bundle.file(),
                    bundle.vibs().get(i).map_or("", |v| v.path.as_str())
                );
                let reopened = Vib::open(extracted.path())?;
                // Vendor bundles may carry the same driver for another product line too (a DPU's
                // `esxio`): that VIB is not for this installer, the bundle's others are.
                if let Some(lines) = reopened.descriptor().foreign_product_lines() {
                    self.changes.push(format!(
                        "skipped VIB {} from {label}: built for {}, not embeddedEsx",
                        reopened.descriptor().id(),
                        lines.join(", ")
                    ));
                    continue;
                }
                out.push((label, reopened));
                self.extracted_vibs.push(extracted);
            }
        }
        // One VIB name once: two versions of a driver in one build is a mistake to point out.
        for (i, (label, vib)) in out.iter().enumerate() {
            if let Some((other, _)) = out
                .iter()
                .take(i)
                .find(|(_, v)| v.descriptor().name == vib.descriptor().name)
            {
                return Err(Error::Edit {
                    what: format!(
                        "VIB {} is given twice ({other} and {label}); pass one version",
                        vib.descriptor().name
                    ),
                });
            }
        }
        Ok(out)
    }

    /// Adds one verified VIB: replaces a same-name VIB, adds its payload modules, lists them in
    /// both BOOT.CFGs and records it in the image database.
    fn inject(
        &mut self,
        label: &str,
        mut vib: Vib<BufReader<File>>,
        edits: &mut ModernEdits,
    ) -> Result<(), Error> {
        vib.verify_strict()?;
        vib.check_target(&edits.target)?;
        let ModernEdits {
            cfgs,
            db,
            taken,
            mtime,
            ..
        } = edits;
        let mtime = *mtime;
        let descriptor = vib.descriptor().clone();
        let mut replaced = Vec::new();
        for old in db.remove_vib(&descriptor.name)? {
            for (_, file) in &old.payloads {
                let module = file.to_ascii_lowercase();
                for (_, cfg) in cfgs.iter_mut() {
                    cfg.remove_module(&module);
                }
                let path = format!("/{}", module.to_ascii_uppercase());
                self.files.remove(&path);
                self.removed.insert(path);
                taken.remove(&module);
            }
            replaced.push(format!("{} {}", old.name, old.version));
        }
        let slash = cfgs
            .first()
            .and_then(|(_, c)| {
                c.modules()
                    .into_iter()
                    .find(|m| m.basename() == "imgdb.tgz")
            })
            .is_none_or(|m| m.path.starts_with('/'));
        let mut payloads = Vec::new();
        let mut modules = Vec::new();
        for spec in &descriptor.payloads {
            let module = module_name(label, &spec.name, &spec.kind, taken)?;
            taken.insert(module.clone());
            let copy = self.work.path().join(&module);
            copy_payload(&mut vib, &spec.name, &copy)?;
            let path = format!("/{}", module.to_ascii_uppercase());
            self.removed.remove(&path);
            self.files.insert(path, NewFile::Path(copy));
            let listed = if slash {
                format!("/{module}")
            } else {
                module.clone()
            };
            for (_, cfg) in cfgs.iter_mut() {
                cfg.insert_module_before_imgdb(&listed)?;
            }
            payloads.push((spec.name.clone(), module.clone()));
            modules.push(module.to_ascii_uppercase());
        }
        db.add_vib(&descriptor, vib.descriptor_xml(), &payloads, mtime)?;
        let what = if replaced.is_empty() {
            "added".to_string()
        } else {
            format!("replaced {} with", replaced.join(", "))
        };
        self.changes.push(format!(
            "{what} VIB {} from {label}: module {}",
            descriptor.id(),
            modules.join(", ")
        ));
        Ok(())
    }

    fn plan_legacy(&mut self, options: &Options) -> Result<(), Error> {
        if !options.vibs.is_empty() || !options.bundles.is_empty() {
            return Err(Error::Edit {
                what: "ESXi 4.x media carry drivers inside imagedd.bz2 (VMware's vibddi adds them); build the disk image with the driver and pass it with --imagedd".into(),
            });
        }
        if let Some(source) = &options.imagedd {
            let img = legacy::prepare_imagedd(source, self.work.path())?;
            let old = self.media.imagedd_md5.clone().unwrap_or_default();
            let md5 = legacy::update_md5_file(&old, &img.md5);
            self.files
                .insert(media::IMAGEDD.to_string(), NewFile::Path(img.path.clone()));
            self.files
                .insert(media::IMAGEDD_MD5.to_string(), NewFile::Bytes(md5));
            self.changes.push(format!(
                "imagedd.bz2 replaced by {} ({} bytes); imagedd.md5 regenerated ({})",
                source.display(),
                img.size,
                img.md5
            ));
            self.imagedd = Some(img);
        }
        let mut isolinux = self.media.isolinux.clone().ok_or_else(|| Error::Edit {
            what: "this ESXi 4.x image has no isolinux.cfg".into(),
        })?;
        // 4.x media are named in lower case with Rock Ridge; the installer mounts them so.
        let kernel_options = self.embed_kickstart(options, "/ks.cfg")?;
        self.set_kernel_options(&kernel_options, "isolinux.cfg", |key, value| {
            match isolinux.set_kernel_option(key, value)? {
                0 => Err(Error::Edit {
                    what: "isolinux.cfg has no mboot.c32 entry with a module list to put kernel options on".into(),
                }),
                _ => Ok(()),
            }
        })?;
        if Some(&isolinux) != self.media.isolinux.as_ref() {
            self.files.insert(
                media::ISOLINUX_CFG.to_string(),
                NewFile::Bytes(isolinux.to_bytes()),
            );
        }
        Ok(())
    }

    /// The kernel options to set: the user's, then, when a kickstart is given, `ks=cdrom:PATH`
    /// for the kickstart, now embedded at `path` (`/KS.CFG`).
    fn embed_kickstart(
        &mut self,
        options: &Options,
        path: &str,
    ) -> Result<Vec<(String, Option<String>)>, Error> {
        let mut kernel_options = options.kernel_options.clone();
        if let Some(ks) = &options.kickstart {
            let bytes = self.checked_kickstart(ks, options)?;
            self.files
                .insert(media::KICKSTART.to_string(), NewFile::Bytes(bytes));
            self.changes
                .push(format!("embedded {} as {path}", ks.display()));
            kernel_options.push(("ks".into(), Some(format!("cdrom:{path}"))));
        }
        Ok(kernel_options)
    }

    /// Sets each kernel option with `set` and notes it as a change made in `place`.
    fn set_kernel_options(
        &mut self,
        kernel_options: &[(String, Option<String>)],
        place: &str,
        mut set: impl FnMut(&str, Option<&str>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        for (key, value) in kernel_options {
            set(key, value.as_deref())?;
            let option = value.as_ref().map_or(key.clone(), |v| format!("{key}={v}"));
            self.changes
                .push(format!("kernel option {option} in {place}"));
        }
        Ok(())
    }

    /// The kickstart's bytes, after linting it for the image's ESXi release: errors (what makes
    /// the installer stop) refuse the build unless `skip_kickstart_lint`; warnings are noted.
    fn checked_kickstart(&mut self, path: &Path, options: &Options) -> Result<Vec<u8>, Error> {
        let bytes = read_kickstart(path)?;
        if options.skip_kickstart_lint {
            return Ok(bytes);
        }
        // A release the linter does not know is linted as the newest it does.
        let version = self
            .media
            .version
            .as_ref()
            .and_then(MediaVersion::installer)
            .unwrap_or_default();
        let lint_options = LintOptions {
            version,
            secure_boot: false,
        };
        let report = lint::lint_path(path, &lint_options)
            .map_err(|e| Error::io(&path.display())(e.source))?;
        let describe = |f: &lint::Finding| {
            let at = f.line.map_or(String::new(), |l| format!(":{l}"));
            format!("{}{at}: {}: {}", f.file, f.code.as_str(), f.message)
        };
        let errors: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity == lint::Severity::Error)
            .map(describe)
            .collect();
        if !errors.is_empty() {
            return Err(Error::Edit {
                what: format!(
                    "the kickstart would stop the ESXi {lint_version} installer: {}; fix it (esxforge ks lint shows all findings) or pass --no-ks-lint",
                    errors.join("; "),
                    lint_version = lint_options.version
                ),
            });
        }
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity == lint::Severity::Warning)
        {
            self.notes.push(format!("kickstart {}", describe(f)));
        }
        Ok(bytes)
    }

    /// Lower-case names of everything at the root, and every module name the BOOT.CFGs list.
    fn root_names(&mut self) -> Result<BTreeSet<String>, Error> {
        let root = self.image.root(Names::Primary)?;
        let mut names: BTreeSet<String> = self
            .image
            .read_dir(&root)?
            .iter()
            .map(|e| crate::iso9660::name::display_name(&e.identifier).to_ascii_lowercase())
            .collect();
        for (_, cfg) in &self.media.boot_cfgs {
            names.extend(cfg.modules().iter().map(bootcfg::ModuleItem::basename));
        }
        Ok(names)
    }

    fn timestamp(&self) -> Result<i64, Error> {
        if let Some(t) = self.timestamp {
            return Ok(t);
        }
        if let Some(t) = writer::source_date_epoch()? {
            return Ok(t);
        }
        let pvd = self.image.primary();
        Ok(pvd
            .modified
            .or(pvd.created)
            .and_then(|d| d.to_unix())
            .unwrap_or(0))
    }

    /// Writes the new image to `out`, reporting `(bytes written, total)`: the source imported
    /// (every unchanged file an extent of it, same names, boot entries and system area), then the
    /// planned edits applied by primary path.
    pub fn write<W: Write>(
        mut self,
        out: W,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), Error> {
        let mut volume = self.image.primary().ids.clone();
        if let Some(id) = &self.volume_id {
            volume.volume_id = id.clone();
        }
        // 5.x+ media are written as VMware's: the loaders find everything by primary names,
        // and a Rock Ridge name could differ from what BOOT.CFG or `ks=` say in case. 4.x
        // media keep theirs: their BOOT menu and `ks=cdrom:/ks.cfg` use them.
        let legacy = self.media.layout == Layout::Legacy;
        let rock_ridge = legacy && self.image.rock_ridge().is_some();
        let options = writer::Options {
            volume,
            timestamp: self.timestamp()?,
            naming: Naming::ESXI,
            joliet: if self.image.joliet().is_some() {
                Joliet::On
            } else {
                Joliet::Off
            },
            rock_ridge,
            ..writer::Options::default()
        };
        let mut builder = Builder::new(options);
        builder.import(&mut self.image, &self.source)?;
        for primary in &self.removed {
            if let Some(path) = builder.find_primary(primary) {
                builder.remove(&path)?;
            }
        }
        for (primary, content) in std::mem::take(&mut self.files) {
            let source = match content {
                NewFile::Bytes(b) => Source::bytes(b),
                NewFile::Path(p) => Source::path(p)?,
            };
            match builder.find_primary(&primary) {
                Some(path) => builder.replace_file(&path, source)?,
                None => {
                    // A new file gets its primary identifier as planned (`/KS.CFG` → `KS.CFG;1`);
                    // where the image has Rock Ridge its name is the lower-case one boot loaders
                    // reading Rock Ridge look for (`ks=cdrom:/ks.cfg` on 4.x, `/net_test.v00`).
                    let identifier = primary.trim_start_matches('/');
                    let name = if rock_ridge {
                        identifier.to_ascii_lowercase()
                    } else {
                        identifier.to_string()
                    };
                    let attrs = Attributes {
                        iso_identifier: Some(format!("{identifier};1")),
                        ..Attributes::default()
                    };
                    builder.add_file_with(&name, source, attrs)?;
                }
            }
        }
        builder.finish_with_progress(out, progress)?;
        Ok(())
    }
}

/// Builds `output` from `source` as `options` say: plan, write to a temporary file beside
/// `output` while hashing, verify, rename into place, write the sidecars.
pub fn build(
    source: &Path,
    output: &Path,
    options: &Options,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<BuildReport, Error> {
    let out_label = output.display().to_string();
    let out_dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Edit {
            what: format!("{out_label}: not a file name"),
        })?;
    if let (Ok(a), Ok(b)) = (source.canonicalize(), output.canonicalize())
        && a == b
    {
        return Err(Error::Edit {
            what: format!("{out_label} is the source image; write the new image to another file"),
        });
    }
    let plan = Remaster::plan(source, options, &out_dir)?;
    let layout = plan.media.layout;
    let version = plan.media.version.clone();
    let changes = plan.changes.clone();
    let notes = plan.notes.clone();
    let source_failures = plan.source_failures.clone();
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".part")
        .tempfile_in(&out_dir)
        .map_err(Error::io(&out_dir.display()))?;
    let file = temp.as_file().try_clone().map_err(Error::io(&out_label))?;
    // The builder gets the BufWriter by value, so std::io::copy reads source extents straight
    // into its buffer; it flushes at the end and drops it, which lets the hashers finish.
    // No fsync: the verification below reads the page cache, and durability is the rename's.
    let (hashing, digests) = sidecar::hashing_writer(file);
    plan.write(BufWriter::with_capacity(1 << 20, hashing), progress)?;
    let digests = digests.finish().map_err(Error::io(&out_label))?;
    readable(temp.as_file(), &out_label)?;

    let checks = verify_built(temp.path())?;
    let (inherited, new): (Vec<String>, Vec<String>) = failures(&checks)
        .into_iter()
        .partition(|f| source_failures.contains(f));
    if !new.is_empty() {
        return Err(Error::Verification {
            file: out_label,
            problems: new,
        });
    }
    let warnings = notes
        .into_iter()
        .chain(
            checks
                .iter()
                .filter(|c| c.outcome == Outcome::Warn)
                .map(|c| format!("{}: {}", c.what, c.detail)),
        )
        .chain(
            inherited
                .into_iter()
                .map(|f| format!("{f} (so already in the source image)")),
        )
        .collect();

    let mut sidecars = Vec::new();
    let mut pending = Vec::new();
    for (algorithm, path) in sidecar::sidecar_paths(output) {
        let mut t = tempfile::Builder::new()
            .prefix(&format!(".{file_name}."))
            .tempfile_in(&out_dir)
            .map_err(Error::io(&out_dir.display()))?;
        t.write_all(sidecar::sidecar_line(algorithm, &digests, &file_name).as_bytes())
            .map_err(Error::io(&path.display()))?;
        readable(t.as_file(), &path.display().to_string())?;
        pending.push((t, path));
    }
    temp.persist(output)
        .map_err(|e| Error::io(&out_label)(e.error))?;
    for (t, path) in pending {
        t.persist(&path)
            .map_err(|e| Error::io(&path.display())(e.error))?;
        sidecars.push(path);
    }
    Ok(BuildReport {
        output: output.to_path_buf(),
        layout,
        version,
        changes,
        digests,
        sidecars,
        warnings,
    })
}

/// The failed checks, as `what: detail`.
fn failures(checks: &[Check]) -> BTreeSet<String> {
    checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| format!("{}: {}", c.what, c.detail))
        .collect()
}

/// Re-reads a written image and runs the checks of `iso verify` on it.
fn verify_built(path: &Path) -> Result<Vec<Check>, Error> {
    let label = path.display().to_string();
    let mut image = Image::open(File::open(path).map_err(Error::io(&label))?)?;
    let media = Media::read(&label, &mut image)?;
    check::verify(&mut image, &media)
}

/// The module file name VMware's media give payload `payload` of type `kind`: its first eight
/// characters, lower-cased, each outside `[a-z0-9_]` mapped to `_` (a `-` is not an ISO 9660
/// d-character), `.`, `v` (vgz) or `t` (tgz), and the first two-digit index not `taken`.
fn module_name(
    label: &str,
    payload: &str,
    kind: &str,
    taken: &BTreeSet<String>,
) -> Result<String, Error> {
    let stem: String = payload
        .chars()
        .take(8)
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let letter = match kind {
        "vgz" => 'v',
        "tgz" => 't',
        other => {
            return Err(Error::Edit {
                what: format!(
                    "{label}: payload {payload} has type {other:?}, which is no boot module"
                ),
            });
        }
    };
    if stem.is_empty() {
        return Err(Error::Edit {
            what: format!("{label}: a payload has an empty name"),
        });
    }
    (0..100)
        .map(|i| format!("{stem}.{letter}{i:02}"))
        .find(|name| !taken.contains(name))
        .ok_or_else(|| Error::Edit {
            what: format!(
                "{label}: payload {payload}: module name clash: {stem}.{letter}00 to {stem}.{letter}99 are all taken on the image"
            ),
        })
}

/// Copies payload `name` of `vib` to `dest` (a verified payload is read from our own copy during
/// the build, so a VIB changed in between cannot slip in unverified bytes).
fn copy_payload(vib: &mut Vib<BufReader<File>>, name: &str, dest: &Path) -> Result<(), Error> {
    let label = vib.file().to_string();
    let mut reader = vib.payload(name)?;
    let mut out = File::create(dest).map_err(Error::io(&dest.display()))?;
    std::io::copy(&mut reader, &mut out).map_err(Error::io(&label))?;
    Ok(())
}

fn read_kickstart(path: &Path) -> Result<Vec<u8>, Error> {
    let label = path.display().to_string();
    let mut f = File::open(path).map_err(Error::io(&label))?;
    let len = f.seek(SeekFrom::End(0)).map_err(Error::io(&label))?;
    if len > MAX_KICKSTART {
        return Err(Error::Format {
            file: label,
            what: format!("is {len} bytes; a kickstart is a small text file"),
        });
    }
    f.seek(SeekFrom::Start(0)).map_err(Error::io(&label))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(Error::io(&label))?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(Error::Format {
            file: label,
            what: "is not UTF-8 text; is it a kickstart?".into(),
        });
    }
    Ok(bytes)
}

/// Temporary files are created 0600; what we put in place is an ordinary output file (0644).
fn readable(file: &File, label: &str) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(Error::io(&label))?;
    }
    #[cfg(not(unix))]
    let _ = (file, label);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_follow_vmware_media() {
        let taken: BTreeSet<String> = ["net_ixgb.v00".to_string()].into();
        assert_eq!(
            module_name("x", "net-ixgbe", "vgz", &taken).unwrap(),
            "net_ixgb.v01"
        );
        assert_eq!(
            module_name("x", "i40en", "vgz", &taken).unwrap(),
            "i40en.v00"
        );
        assert_eq!(
            module_name("x", "Tools-Light", "tgz", &taken).unwrap(),
            "tools_li.t00"
        );
        assert_eq!(module_name("x", "ÄÖ", "vgz", &taken).unwrap(), "__.v00");
        assert!(module_name("x", "", "vgz", &taken).is_err());
        assert!(module_name("x", "a", "boot", &taken).is_err());
        let full: BTreeSet<String> = (0..100).map(|i| format!("a.v{i:02}")).collect();
        let e = module_name("x.vib", "a", "vgz", &full)
            .unwrap_err()
            .to_string();
        assert!(e.contains("clash") && e.contains("x.vib"), "{e}");
    }
}
