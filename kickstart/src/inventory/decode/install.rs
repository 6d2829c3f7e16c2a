//! `install:`: mode, target disk, VMFS policy, and 4.1's install source.

use std::net::Ipv4Addr;

use serde_yaml::{Mapping, Value};

use super::{Decoder, opt};
use crate::inventory::host::*;
use crate::inventory::net::Hostname;
use crate::inventory::problem::Path;

pub(super) fn install(d: &mut Decoder<'_>, v: Option<&Value>, path: &Path<'_>) -> Option<Install> {
    let empty = Value::Mapping(Mapping::new());
    let mut f = d.fields(v.unwrap_or(&empty), path)?;
    let mode = opt(
        &mut f,
        "mode",
        path,
        |d, v, p| {
            d.choice(
                v,
                p,
                &[
                    ("install", InstallMode::Install),
                    ("upgrade", InstallMode::Upgrade),
                    ("installorupgrade", InstallMode::InstallOrUpgrade),
                ],
            )
        },
        d,
    );
    #[derive(Clone, Copy, PartialEq)]
    enum T {
        FirstDisk,
        Disk,
        Usb,
        San,
    }
    let target = opt(
        &mut f,
        "target",
        path,
        |d, v, p| {
            d.choice(
                v,
                p,
                &[
                    ("firstdisk", T::FirstDisk),
                    ("disk", T::Disk),
                    ("usb", T::Usb),
                    ("san", T::San),
                ],
            )
        },
        d,
    );
    let prefer = f.get("prefer").map(|v| {
        d.list(v, &path.key("prefer"), |d, x, p| {
            d.parsed(x, p, |s| match s {
                "local" => Ok(DiskFilter::Local),
                "remote" => Ok(DiskFilter::Remote),
                "usb" => Ok(DiskFilter::Usb),
                "esx" => Ok(DiskFilter::Esx),
                m if !m.is_empty()
                    && m.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) =>
                {
                    Ok(DiskFilter::Model(m.to_string()))
                }
                _ => Err("is not a disk filter (local, remote, usb, esx, or a driver, vendor or model name)".to_string()),
            })
        })
    });
    let disk = opt(
        &mut f,
        "disk",
        path,
        |d, v, p| {
            d.parsed(v, p, |s| {
            const PREFIXES: [&str; 6] = ["naa.", "mpx.", "t10.", "eui.", "vml.", "/vmfs/devices/disks/"];
            let named = PREFIXES.iter().any(|pre| s.len() > pre.len() && s.starts_with(pre));
            if named && s.bytes().all(|b| b.is_ascii_graphic() && !b"\"'\\$`#".contains(&b)) {
                Ok(s.to_string())
            } else {
                Err("is not a disk device name (naa.…, mpx.…, t10.…, eui.…, vml.… or /vmfs/devices/disks/…)".to_string())
            }
        })
        },
        d,
    );
    let vmfs = opt(
        &mut f,
        "vmfs",
        path,
        |d, v, p| {
            d.choice(
                v,
                p,
                &[
                    ("overwrite", VmfsPolicy::Overwrite),
                    ("preserve", VmfsPolicy::Preserve),
                    ("none", VmfsPolicy::None),
                ],
            )
        },
        d,
    );
    let ignore_ssd = opt(&mut f, "ignore_ssd", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let forcemigrate =
        opt(&mut f, "forcemigrate", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let media = opt(
        &mut f,
        "media",
        path,
        |d, v, p| {
            d.parsed(v, p, |s| match s {
            "cdrom" => Ok(InstallMedia::Cdrom),
            "usb" => Ok(InstallMedia::Usb),
            _ if (s.starts_with("http://") || s.starts_with("https://") || s.starts_with("ftp://"))
                && url_ok(s) =>
            {
                Ok(InstallMedia::Url { url: s.to_string() })
            }
            _ => match s.strip_prefix("nfs://").and_then(|r| r.split_once('/')) {
                Some((server, dir)) if Hostname::new(server).is_ok() || server.parse::<Ipv4Addr>().is_ok() => {
                    Ok(InstallMedia::Nfs { server: server.to_string(), dir: format!("/{dir}") })
                }
                _ => Err("is not an install source (cdrom, usb, http(s)://…, ftp://… or nfs://server/dir)".to_string()),
            },
        })
        },
        d,
    );
    let reboot = opt(&mut f, "reboot", path, |d, v, p| d.bool(v, p), d).unwrap_or(true);
    d.finish(f, path);
    if !d.merged() {
        return None;
    }

    let mode = mode.unwrap_or(InstallMode::Install);
    let target = match (target, &disk) {
        (None, Some(_)) | (Some(T::Disk), Some(_)) => {
            if prefer.is_some() {
                d.error(&path.key("prefer"), "is only used with target: firstdisk");
            }
            InstallTarget::Disk {
                device: disk.clone()?,
            }
        }
        (Some(T::Disk), None) => {
            d.error(
                &path.key("disk"),
                "is missing: target: disk needs the device name",
            );
            return None;
        }
        (Some(other), Some(_)) if other != T::Disk => {
            d.error(&path.key("disk"), "is only used with target: disk");
            return None;
        }
        (None | Some(T::FirstDisk), None) => InstallTarget::FirstDisk {
            prefer: prefer.clone().unwrap_or_default(),
        },
        (Some(t), _) => {
            if prefer.is_some() {
                d.error(&path.key("prefer"), "is only used with target: firstdisk");
            }
            if t == T::Usb {
                InstallTarget::Usb
            } else {
                InstallTarget::San
            }
        }
    };
    if mode != InstallMode::Install {
        if matches!(vmfs, Some(VmfsPolicy::Preserve | VmfsPolicy::None)) {
            d.error(
                &path.key("vmfs"),
                "only `overwrite` applies to an upgrade (preserve and none are install options)",
            );
        }
        if ignore_ssd {
            d.error(
                &path.key("ignore_ssd"),
                "is an install option (the installer stops on installorupgrade --ignoressd)",
            );
        }
    } else if forcemigrate {
        d.error(
            &path.key("forcemigrate"),
            "is an upgrade option (mode: upgrade or installorupgrade)",
        );
    }
    if ignore_ssd && matches!(target, InstallTarget::Disk { .. }) {
        d.error(
            &path.key("ignore_ssd"),
            "cannot be combined with a named disk (the installer stops on --ignoressd with --disk)",
        );
    }
    Some(Install {
        mode,
        target,
        vmfs,
        ignore_ssd,
        forcemigrate,
        media,
        reboot,
    })
}

/// A URL safe to write unquoted-or-quoted in a kickstart and a shell: printable ASCII without
/// quotes, spaces, backslashes, `$`, backquotes or `#`.
pub(super) fn url_ok(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_graphic() && !b"\"'\\$`#".contains(&b))
}
