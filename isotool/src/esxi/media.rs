//! Which ESXi installer layout an ISO has, which release it installs, and its ESXi files read
//! once (both BOOT.CFGs, ISOLINUX.CFG, the image database, `imagedd.md5`), for inspection,
//! verification and remastering.
//!
//! Files are looked up by their primary ISO 9660 names, case-insensitively, as ESXi's UEFI loader
//! does; on 4.1 media (Rock Ridge) that finds `imagedd.bz2` by its primary name `IMAGEDD.BZ2`.

use std::fmt;
use std::io::{Read, Seek};

use serde::Serialize;

use super::Error;
use super::bootcfg::BootCfg;
use super::imgdb::{ImageDb, ProfileVib};
use super::isolinux::{self, IsolinuxCfg};
use super::legacy;
use crate::reader::{Entry, Image, Names};

pub const BOOT_CFG: &str = "/BOOT.CFG";
pub const EFI_BOOT_CFG: &str = "/EFI/BOOT/BOOT.CFG";
pub const IMGDB: &str = "/IMGDB.TGZ";
pub const ISOLINUX_CFG: &str = "/ISOLINUX.CFG";
pub const IMAGEDD: &str = "/IMAGEDD.BZ2";
pub const IMAGEDD_MD5: &str = "/IMAGEDD.MD5";
/// Where an embedded kickstart goes, and the kernel option that points the installer at it
/// (VMware: the path "must use uppercase characters").
pub const KICKSTART: &str = "/KS.CFG";
pub const KICKSTART_OPTION: &str = "cdrom:/KS.CFG";

/// Text files larger than this are not boot configuration.
const MAX_TEXT: u64 = 1 << 20;

/// The two installer layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// ESXi 5.0 – 8.x: BOOT.CFG on both boot paths, IMGDB.TGZ, one module per VIB payload.
    Modern,
    /// ESXi 4.x: `imagedd.bz2` + `imagedd.md5`, BIOS (isolinux) only.
    Legacy,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Modern => "ESXi 5.x-8.x (BOOT.CFG, IMGDB.TGZ)",
            Layout::Legacy => "ESXi 4.x (imagedd.bz2)",
        })
    }
}

/// An ESXi installer image's ESXi files, read and parsed.
#[derive(Clone)]
pub struct Media {
    pub layout: Layout,
    /// The release the media install, when they say.
    pub version: Option<MediaVersion>,
    /// Where the version was read (`/BOOT.CFG build=`, `IMGDB.TGZ image profile`, `volume id`).
    pub version_from: String,
    /// `/BOOT.CFG` and `/EFI/BOOT/BOOT.CFG`, those present, in that order.
    pub boot_cfgs: Vec<(String, BootCfg)>,
    pub isolinux: Option<IsolinuxCfg>,
    pub imgdb: Option<ImageDb>,
    /// 4.x: the `imagedd.md5` bytes.
    pub imagedd_md5: Option<Vec<u8>>,
    /// 4.x: the `imagedd.bz2` entry.
    pub imagedd: Option<Entry>,
}

impl Media {
    /// Recognises the layout of `image` (named `label` in errors) and reads its ESXi files.
    pub fn read<R: Read + Seek>(label: &str, image: &mut Image<R>) -> Result<Media, Error> {
        let mut boot_cfgs = Vec::new();
        for path in [BOOT_CFG, EFI_BOOT_CFG] {
            if let Some(bytes) = read_small(image, path, MAX_TEXT)? {
                boot_cfgs.push((path.to_string(), BootCfg::parse(path, &bytes)?));
            }
        }
        let imgdb = match image.lookup(IMGDB, Names::Primary)? {
            Some(entry) if entry.is_file() => Some(ImageDb::read(IMGDB, image.open_file(&entry)?)?),
            _ => None,
        };
        let isolinux = read_small(image, ISOLINUX_CFG, MAX_TEXT)?
            .map(|b| IsolinuxCfg::parse(ISOLINUX_CFG, &b))
            .transpose()?;
        let imagedd = image
            .lookup(IMAGEDD, Names::Primary)?
            .filter(Entry::is_file);
        let imagedd_md5 = read_small(image, IMAGEDD_MD5, MAX_TEXT)?;
        let layout = if !boot_cfgs.is_empty() && (imgdb.is_some() || boot_cfgs.len() == 2) {
            Layout::Modern
        } else if imagedd.is_some() {
            Layout::Legacy
        } else {
            return Err(Error::NotEsxi {
                file: label.to_string(),
            });
        };
        let volume_id = image.primary().ids.volume_id.clone();
        let (version, version_from) = find_version(layout, &boot_cfgs, imgdb.as_ref(), &volume_id);
        Ok(Media {
            layout,
            version,
            version_from,
            boot_cfgs,
            isolinux,
            imgdb,
            imagedd_md5,
            imagedd,
        })
    }

    /// The kickstart the media boot with (`ks=` of the kernel options), if any.
    pub fn kickstart(&self) -> Option<String> {
        match self.layout {
            Layout::Modern => self
                .boot_cfgs
                .first()
                .and_then(|(_, c)| c.kernelopt().get("ks").map(str::to_string)),
            Layout::Legacy => self.isolinux.as_ref().and_then(|c| {
                c.entries()
                    .iter()
                    .filter(|e| e.lists_modules())
                    .find_map(|e| {
                        let append = e.append.as_deref()?;
                        let first = append.split("---").next()?;
                        let opts = first.split_once(char::is_whitespace).map_or("", |(_, o)| o);
                        super::bootcfg::KernelOpts::new(opts)
                            .get("ks")
                            .map(str::to_string)
                    })
            }),
        }
    }

    /// What `esxforge iso inspect` shows about the ESXi side.
    pub fn report(&self) -> Result<MediaReport, Error> {
        let boot_cfgs = self
            .boot_cfgs
            .iter()
            .map(|(path, cfg)| BootCfgReport {
                path: path.clone(),
                kernel: cfg.get("kernel"),
                kernelopt: cfg.get("kernelopt"),
                prefix: cfg.get("prefix"),
                title: cfg.get("title"),
                build: cfg.get("build"),
                modules: cfg.modules().into_iter().map(|m| m.path).collect(),
                problems: cfg.check(),
            })
            .collect();
        let image_profile = match &self.imgdb {
            Some(db) => Some(ProfileReport {
                name: db.profile_name(),
                acceptance: db.acceptance(),
                vibs: db.vibs()?,
            }),
            None => None,
        };
        Ok(MediaReport {
            layout: self.layout,
            version: self.version.clone(),
            version_from: self.version_from.clone(),
            boot_cfgs,
            boot_cfgs_differ: self.boot_cfg_differences(),
            isolinux: self
                .isolinux
                .as_ref()
                .map(IsolinuxCfg::entries)
                .unwrap_or_default(),
            image_profile,
            kickstart: self.kickstart(),
            imagedd: self.imagedd.as_ref().map(|e| ImageddReport {
                size: e.size,
                recorded_md5: self.imagedd_md5.as_deref().and_then(legacy::recorded_md5),
            }),
        })
    }

    /// How the BOOT.CFGs of the two boot paths differ in what the loader does with them: the
    /// kernel and modules each resolves (prefix and BOOT.CFG folder applied), module options,
    /// and kernel options. Empty when they agree or there is only one.
    pub fn boot_cfg_differences(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cfgs = self.boot_cfgs.iter();
        let (Some((pa, a)), Some((pb, b))) = (cfgs.next(), cfgs.next()) else {
            return out;
        };
        // Names compare as the loader matches them: case-insensitively.
        let loads = |path: &str, cfg: &BootCfg| -> Vec<String> {
            cfg.loads(path)
                .into_iter()
                .map(|l| {
                    let p = l.path.to_ascii_lowercase();
                    if l.options.is_empty() {
                        p
                    } else {
                        format!("{p} {}", l.options)
                    }
                })
                .collect()
        };
        let (la, lb) = (loads(pa, a), loads(pb, b));
        if la.first() != lb.first() {
            out.push(format!(
                "kernel differs: {pa} loads {:?}, {pb} loads {:?}",
                la.first().cloned().unwrap_or_default(),
                lb.first().cloned().unwrap_or_default()
            ));
        }
        if la.get(1..) != lb.get(1..) {
            out.push(format!(
                "modules= differs: {pa} loads {}, {pb} loads {}",
                la.get(1..).unwrap_or_default().join(" "),
                lb.get(1..).unwrap_or_default().join(" ")
            ));
        }
        let (ka, kb) = (
            a.get("kernelopt").unwrap_or_default(),
            b.get("kernelopt").unwrap_or_default(),
        );
        if ka != kb {
            out.push(format!(
                "kernelopt= differs: {pa} has {ka:?}, {pb} has {kb:?}"
            ));
        }
        out
    }
}

/// What `iso inspect` prints about the ESXi side (JSON field names are stable).
#[derive(Clone, Debug, Serialize)]
pub struct MediaReport {
    pub layout: Layout,
    pub version: Option<MediaVersion>,
    pub version_from: String,
    pub boot_cfgs: Vec<BootCfgReport>,
    /// Differences between `/BOOT.CFG` and `/EFI/BOOT/BOOT.CFG` (empty: they agree).
    pub boot_cfgs_differ: Vec<String>,
    pub isolinux: Vec<isolinux::Entry>,
    pub image_profile: Option<ProfileReport>,
    /// The `ks=` kernel option, when the media boot a kickstart.
    pub kickstart: Option<String>,
    pub imagedd: Option<ImageddReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BootCfgReport {
    pub path: String,
    pub kernel: Option<String>,
    pub kernelopt: Option<String>,
    pub prefix: Option<String>,
    pub title: Option<String>,
    pub build: Option<String>,
    pub modules: Vec<String>,
    /// Lines the loader would ignore or stop at.
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProfileReport {
    pub name: String,
    pub acceptance: String,
    pub vibs: Vec<ProfileVib>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImageddReport {
    pub size: u64,
    /// The digest `imagedd.md5` records.
    pub recorded_md5: Option<String>,
}

/// The bytes of the file at `path` (primary names, case-insensitive), or `None` when absent.
/// Files larger than `limit` are an error: the callers read configuration, not data.
pub fn read_small<R: Read + Seek>(
    image: &mut Image<R>,
    path: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, Error> {
    let Some(entry) = image.lookup(path, Names::Primary)? else {
        return Ok(None);
    };
    if !entry.is_file() {
        return Ok(None);
    }
    if entry.size > limit {
        return Err(Error::Format {
            file: path.to_string(),
            what: format!(
                "is {} bytes; a file of this name is never larger than {limit}",
                entry.size
            ),
        });
    }
    let mut bytes = Vec::new();
    image
        .open_file(&entry)?
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            file: path.to_string(),
            source,
        })?;
    Ok(Some(bytes))
}

/// The release, from the most specific source available.
fn find_version(
    layout: Layout,
    boot_cfgs: &[(String, BootCfg)],
    imgdb: Option<&ImageDb>,
    volume_id: &str,
) -> (Option<MediaVersion>, String) {
    for (path, cfg) in boot_cfgs {
        if let Some(v) = cfg.get("build").as_deref().and_then(MediaVersion::parse) {
            return (Some(v), format!("{path} build="));
        }
    }
    if let Some(db) = imgdb {
        let base = db
            .vibs()
            .ok()
            .and_then(|vibs| vibs.into_iter().find(|v| v.name == "esx-base"));
        if let Some(v) = base.and_then(|b| MediaVersion::parse(&b.version)) {
            return (Some(v), "IMGDB.TGZ image profile (esx-base)".into());
        }
        if let Some(v) = MediaVersion::find_in(&db.profile_name()) {
            return (Some(v), "IMGDB.TGZ image profile name".into());
        }
    }
    if let Some(v) = MediaVersion::find_in(volume_id)
        && (layout == Layout::Modern) == (v.major >= 5)
    {
        return (Some(v), "volume id".into());
    }
    (None, "unknown".into())
}

/// The ESXi release and build an installer image says it installs, as read from the media:
/// `build=` of a BOOT.CFG, else the image profile's `esx-base` VIB or name, else the volume id
/// ([`Media::version_from`] says which). `8.0.3`, and when the media record them the full build
/// string (`8.0.3-0.35.24280767`) and build number (`24280767`).
///
/// VIBs are checked against it ([`Vib::check_target`](super::vib::Vib::check_target)). It is not
/// the kickstart crate's version, which names the installer generation a kickstart is written
/// for; a remaster lints an embedded kickstart for this version's major release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MediaVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// The full string it was read from (`build=` of BOOT.CFG, a VIB version, a volume id).
    pub build: String,
    pub build_number: Option<u64>,
}

impl MediaVersion {
    /// A release with no build recorded (`8.0.0`): the target when no image says more.
    pub fn release(major: u32, minor: u32, patch: u32) -> MediaVersion {
        MediaVersion {
            major,
            minor,
            patch,
            build: format!("{major}.{minor}.{patch}"),
            build_number: None,
        }
    }

    /// Reads `8.0.3-0.35.24280767`, `7.0.0-1.0.15843807`, `6.7.0`, `4.1.0-260247` and the like:
    /// `MAJOR.MINOR[.PATCH]`, optionally `-` and a release whose last dotted number is the build.
    pub fn parse(text: &str) -> Option<MediaVersion> {
        let text = text.trim();
        let (release, rest) = match text.split_once('-') {
            Some((r, rest)) => (r, Some(rest)),
            None => (text, None),
        };
        let mut parts = release.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() || !(3..=20).contains(&major) {
            return None;
        }
        let build_number = rest
            .and_then(|r| r.rsplit(['.', '-']).next())
            .and_then(|b| b.parse().ok());
        Some(MediaVersion {
            major,
            minor,
            patch,
            build: text.to_string(),
            build_number,
        })
    }

    /// Finds a version inside a longer text such as a volume id (`ESXi-4.1.0-260247-custom`,
    /// `ESXI-7.0U3G-NUC`): the first `N.N[.N]` run, with the build number that follows it.
    pub fn find_in(text: &str) -> Option<MediaVersion> {
        let bytes = text.as_bytes();
        (0..bytes.len()).find_map(|i| {
            let starts = bytes.get(i).is_some_and(u8::is_ascii_digit)
                && (i == 0 || !bytes.get(i - 1).is_some_and(u8::is_ascii_digit));
            if !starts {
                return None;
            }
            let tail = text.get(i..)?;
            let end = tail
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .unwrap_or(tail.len());
            let candidate = tail.get(..end)?.trim_end_matches(['-', '.']);
            MediaVersion::parse(candidate)
                .or_else(|| MediaVersion::parse(candidate.split('-').next()?))
        })
    }
}

impl fmt::Display for MediaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ESXi {}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(b) = self.build_number {
            write!(f, " build {b}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_media_use() {
        let v = MediaVersion::parse("8.0.3-0.35.24280767").unwrap();
        assert_eq!(
            (v.major, v.minor, v.patch, v.build_number),
            (8, 0, 3, Some(24280767))
        );
        assert_eq!(v.to_string(), "ESXi 8.0.3 build 24280767");
        let v = MediaVersion::parse("7.0.0-1.0.15843807").unwrap();
        assert_eq!(v.build_number, Some(15843807));
        assert_eq!(MediaVersion::parse("6.7").unwrap().patch, 0);
        assert!(MediaVersion::parse("abc").is_none());
        assert!(MediaVersion::parse("1.2.3").is_none());
        assert!(MediaVersion::parse("").is_none());
    }

    #[test]
    fn finds_versions_in_volume_ids() {
        let v = MediaVersion::find_in("ESXi-4.1.0-260247-custom").unwrap();
        assert_eq!((v.major, v.minor, v.build_number), (4, 1, Some(260247)));
        let v = MediaVersion::find_in("ESXI-7.0U3G-NUC12").unwrap();
        assert_eq!((v.major, v.minor), (7, 0));
        assert!(MediaVersion::find_in("ESXIMAGE").is_none());
        assert!(MediaVersion::find_in("CDROM 2024").is_none());
    }
}
