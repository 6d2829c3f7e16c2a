//! `esxforge iso verify`: what must hold for an ESXi installer image to boot both ways and
//! install, each check reported as passed, warned or failed with what was found.
//!
//! - every El Torito entry loads a real file, and a BIOS image's boot-info-table is correct;
//! - 5.x–8.x: both BOOT.CFGs parse cleanly and agree; the kernel and every module exist under
//!   their primary ISO 9660 names (what the UEFI loader reads: no Joliet, no Rock Ridge), as a
//!   single extent — whatever characters those names use: the loader compares them with the
//!   BOOT.CFG name case-insensitively and nothing else (`vmware/esx-boot`
//!   `uefi/iso9660/fsw_iso9660.c`, `fsw_iso9660_dir_lookup`), and ESXi 5.0's own media record
//!   `ATA-PATA.V00`-style names with a `-`; the image profile's payload files are on the image
//!   and in BOOT.CFG;
//! - 4.x: `imagedd.md5` holds the MD5 of `imagedd.bz2`;
//! - a `ks=cdrom:` kickstart exists on the image.

use std::io::{Read, Seek};

use md5::{Digest, Md5};
use serde::Serialize;

use super::Error;
use super::bootcfg;
use super::legacy;
use super::media::{Layout, Media};
use crate::iso9660::name;
use crate::reader::{Image, Names};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// Worth knowing, does not stop a boot or an install.
    Warn,
    Fail,
}

/// One verified property.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked (`boot entry 1 (x86)`, `/BOOT.CFG module /s.v00`).
    pub what: String,
    pub outcome: Outcome,
    pub detail: String,
}

impl Check {
    fn new(what: impl Into<String>, outcome: Outcome, detail: impl Into<String>) -> Check {
        Check {
            what: what.into(),
            outcome,
            detail: detail.into(),
        }
    }
}

/// Runs every structural check on `image` (whose ESXi files are `media`).
pub fn verify<R: Read + Seek>(image: &mut Image<R>, media: &Media) -> Result<Vec<Check>, Error> {
    let mut checks = boot_records(image)?;
    match media.layout {
        Layout::Modern => checks.extend(modern(image, media)?),
        Layout::Legacy => checks.extend(legacy_checks(image, media)?),
    }
    checks.extend(kickstart(image, media)?);
    Ok(checks)
}

fn boot_records<R: Read + Seek>(image: &mut Image<R>) -> Result<Vec<Check>, Error> {
    let mut checks = Vec::new();
    let catalog = match image.boot_catalog() {
        Ok(Some(c)) => c,
        Ok(None) => {
            checks.push(Check::new(
                "El Torito boot catalog",
                Outcome::Fail,
                "the image has no boot record; it does not boot from CD",
            ));
            return Ok(checks);
        }
        Err(e) => {
            checks.push(Check::new(
                "El Torito boot catalog",
                Outcome::Fail,
                e.to_string(),
            ));
            return Ok(checks);
        }
    };
    checks.push(Check::new(
        "El Torito boot catalog",
        Outcome::Pass,
        format!(
            "{} entries, validation checksum correct",
            catalog.entries.len()
        ),
    ));
    for (i, entry) in catalog.entries.iter().enumerate() {
        let what = format!("boot entry {} ({})", i + 1, entry.platform);
        let Some(file) = image.boot_image_file(entry)? else {
            checks.push(Check::new(
                what,
                Outcome::Fail,
                format!(
                    "loads LBA {}, which is not the start of any file",
                    entry.load_rba
                ),
            ));
            continue;
        };
        checks.push(Check::new(
            what.clone(),
            Outcome::Pass,
            format!(
                "{} ({}, {} sectors)",
                file.path, entry.emulation, entry.sector_count
            ),
        ));
        if entry.platform == crate::iso9660::eltorito::Platform::X86 {
            let check = match image.boot_info_table(&file)? {
                Some(status) if status.is_valid() => Check::new(
                    format!("{what} boot-info-table"),
                    Outcome::Pass,
                    format!("{} patched correctly", file.path),
                ),
                Some(status) => Check::new(
                    format!("{what} boot-info-table"),
                    Outcome::Fail,
                    if status.length_ok {
                        format!(
                            "{}: the table names this file's LBA but records checksum {:#010x}, and the file's bytes sum to {:#010x}: a table written for other bytes (left in an isolinux.bin copied out of another image?); isolinux stops with \"Image checksum error\" (rebuild with -boot-info-table)",
                            file.path, status.table.checksum, status.computed_checksum
                        )
                    } else {
                        format!(
                            "{}: the table records a length of {} bytes, the file has {}; isolinux will not load itself (rebuild with -boot-info-table)",
                            file.path, status.table.file_len, file.size
                        )
                    },
                ),
                None if name::display_name(&file.identifier)
                    .to_ascii_lowercase()
                    .starts_with("isolinux") =>
                {
                    Check::new(
                        format!("{what} boot-info-table"),
                        Outcome::Fail,
                        format!(
                            "{} has no boot-info-table; isolinux needs one (-boot-info-table)",
                            file.path
                        ),
                    )
                }
                None => Check::new(
                    format!("{what} boot-info-table"),
                    Outcome::Warn,
                    format!("{} has none", file.path),
                ),
            };
            checks.push(check);
        }
    }
    Ok(checks)
}

fn modern<R: Read + Seek>(image: &mut Image<R>, media: &Media) -> Result<Vec<Check>, Error> {
    let mut checks = Vec::new();
    for path in [super::media::BOOT_CFG, super::media::EFI_BOOT_CFG] {
        let found = media.boot_cfgs.iter().any(|(p, _)| p == path);
        checks.push(Check::new(
            path,
            if found { Outcome::Pass } else { Outcome::Fail },
            if found {
                "present"
            } else {
                "missing: that boot path has no configuration"
            },
        ));
    }
    let differences = media.boot_cfg_differences();
    if media.boot_cfgs.len() == 2 {
        checks.push(if differences.is_empty() {
            Check::new(
                "BOOT.CFGs agree",
                Outcome::Pass,
                "both boot paths load the same kernel and modules with the same options",
            )
        } else {
            Check::new("BOOT.CFGs agree", Outcome::Fail, differences.join("; "))
        });
    }
    let mut listed: Vec<String> = Vec::new();
    for (path, cfg) in &media.boot_cfgs {
        for problem in cfg.check() {
            checks.push(Check::new(format!("{path} syntax"), Outcome::Fail, problem));
        }
        let mut missing = 0;
        let mut count = 0;
        for load in cfg.loads(path) {
            count += 1;
            let (module, resolved) = (load.listed, load.path);
            listed.push(bootcfg::basename(&resolved).to_ascii_lowercase());
            let problem = match image.lookup(&resolved, Names::Primary)? {
                None => Some(format!(
                    "{module} (→ {resolved}) is not on the image under its primary ISO 9660 name (Joliet and Rock Ridge names do not count); the UEFI loader cannot load it"
                )),
                Some(e) if !e.is_file() => Some(format!("{resolved} is a directory")),
                Some(e) if e.extents.len() != 1 => Some(format!(
                    "{resolved} has {} extents; the ESXi loader reads single-extent files only",
                    e.extents.len()
                )),
                Some(_) => None,
            };
            if let Some(problem) = problem {
                missing += 1;
                checks.push(Check::new(format!("{path} module"), Outcome::Fail, problem));
            }
        }
        if missing == 0 {
            checks.push(Check::new(
                format!("{path} modules"),
                Outcome::Pass,
                format!(
                    "kernel and {} modules present as single-extent ISO 9660 files",
                    count.max(1) - 1
                ),
            ));
        }
    }
    match &media.imgdb {
        None => checks.push(Check::new(
            "image database",
            Outcome::Fail,
            "/IMGDB.TGZ is missing; the installer cannot tell what it installs",
        )),
        Some(db) => {
            let vibs = db.vibs()?;
            let mut bad = 0;
            for vib in &vibs {
                if !vib.has_descriptor {
                    checks.push(Check::new(
                        "image database",
                        Outcome::Warn,
                        format!("{} has no descriptor in var/db/esximg/vibs", vib.id),
                    ));
                }
                for (payload, file) in &vib.payloads {
                    let on_image = image.lookup(&format!("/{file}"), Names::Primary)?.is_some();
                    let in_cfg = listed.contains(&file.to_ascii_lowercase());
                    if !on_image {
                        bad += 1;
                        checks.push(Check::new("image database", Outcome::Fail, format!("{}: payload {payload} is recorded as {file}, which is not on the image; the installer stops", vib.id)));
                    } else if !in_cfg {
                        checks.push(Check::new("image database", Outcome::Warn, format!("{}: payload {payload} ({file}) is on the image but not in BOOT.CFG modules", vib.id)));
                    }
                }
            }
            if bad == 0 {
                checks.push(Check::new(
                    "image database",
                    Outcome::Pass,
                    format!(
                        "profile {:?}: {} VIBs, every payload file on the image",
                        db.profile_name(),
                        vibs.len()
                    ),
                ));
            }
        }
    }
    Ok(checks)
}

fn legacy_checks<R: Read + Seek>(image: &mut Image<R>, media: &Media) -> Result<Vec<Check>, Error> {
    let mut checks = Vec::new();
    let Some(entry) = &media.imagedd else {
        return Ok(checks);
    };
    let recorded = media.imagedd_md5.as_deref().and_then(legacy::recorded_md5);
    let Some(recorded) = recorded else {
        checks.push(Check::new(
            "imagedd.md5",
            Outcome::Fail,
            "missing or holds no MD5 digest",
        ));
        return Ok(checks);
    };
    let mut md5 = Md5::new();
    let mut reader = image.open_file(entry)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).map_err(Error::io(&entry.path))?;
        if n == 0 {
            break;
        }
        md5.update(buf.get(..n).unwrap_or_default());
    }
    let actual = hex::encode(md5.finalize());
    checks.push(if actual == recorded {
        Check::new("imagedd.md5", Outcome::Pass, format!("matches imagedd.bz2 ({actual})"))
    } else {
        Check::new("imagedd.md5", Outcome::Fail, format!("records {recorded} but imagedd.bz2 hashes to {actual}; the installer rejects the image"))
    });
    Ok(checks)
}

fn kickstart<R: Read + Seek>(image: &mut Image<R>, media: &Media) -> Result<Vec<Check>, Error> {
    let Some(ks) = media.kickstart() else {
        return Ok(Vec::new());
    };
    let Some(path) = ks.strip_prefix("cdrom:") else {
        return Ok(vec![Check::new(
            "kickstart",
            Outcome::Pass,
            format!("ks={ks} (not on the image)"),
        )]);
    };
    let names = if media.layout == Layout::Legacy && image.has_names(Names::RockRidge) {
        Names::RockRidge
    } else {
        Names::Primary
    };
    Ok(vec![match image.lookup(path, names)? {
        Some(e) if e.is_file() => Check::new(
            "kickstart",
            Outcome::Pass,
            format!("ks=cdrom:{path} is on the image ({} bytes)", e.size),
        ),
        _ => Check::new(
            "kickstart",
            Outcome::Fail,
            format!("ks=cdrom:{path} is not on the image; the installer stops"),
        ),
    }])
}
