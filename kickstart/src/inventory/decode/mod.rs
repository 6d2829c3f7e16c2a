//! From YAML values to typed values, reporting every problem instead of stopping at the first.
//!
//! The same code reads each layer as written (`defaults`, one group, one host: to find bad
//! values where they are, with their line) and then each host's merged, templated value (to
//! find what is missing or inconsistent only once the layers are combined). A [`Fields`]
//! records the keys its reader asks for, so the schema is the reading code itself and an
//! unknown key is one that no reader asked for.

mod firstboot;
mod install;
mod network;
mod reader;
mod rootpw;

use serde_yaml::Value;

use super::host::*;
use super::problem::Path;
use super::suggest::did_you_mean;
use crate::lint::values::{self, KEYBOARDS};
use crate::version::EsxiVersion;

pub(crate) use reader::{Decoder, Fields, Layer, NAMED_LISTS, kind};

/// Read one layer (`Layer::Defaults/Group/Host`: values checked where they are written) or a
/// merged host (`Layer::Merged`: the whole specification, or `None` when anything is wrong).
pub(crate) fn host(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>, name: &str) -> Option<Host> {
    let before = d.problems.errors();
    let mut f = d.fields(v, path)?;
    if d.layer == Layer::Group {
        // Read by the caller, which knows the host names.
        f.get("hosts");
    }
    if let Some(vars) = f.get("vars") {
        if !vars.is_mapping() {
            d.error(
                &path.key("vars"),
                format!("expected a mapping, found {}", kind(vars)),
            );
        }
    }

    let esxi = match f.get("esxi") {
        Some(v) => version(d, v, &path.key("esxi")),
        None => {
            d.missing(
                &path.key("esxi"),
                "the ESXi version (set `esxi:` in defaults, a group or the host)",
            );
            None
        }
    };
    let secure_boot = opt(&mut f, "secure_boot", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let post_install = opt(
        &mut f,
        "post_install",
        path,
        |d, v, p| {
            d.choice(
                v,
                p,
                &[
                    ("firstboot", PostInstall::Firstboot),
                    ("host_apply", PostInstall::HostApply),
                ],
            )
        },
        d,
    )
    .unwrap_or(PostInstall::Firstboot);
    let paranoid = opt(&mut f, "paranoid", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    match f.get("accept_eula") {
        Some(v) => {
            let p = path.key("accept_eula");
            if d.bool(v, &p) == Some(false) && d.merged() {
                d.error(&p, "is false: the installer needs the VMware EULA accepted (vmaccepteula); set accept_eula: true");
            }
        }
        None => d.missing(
            &path.key("accept_eula"),
            "the installer needs the VMware EULA accepted (vmaccepteula); set accept_eula: true",
        ),
    }

    let install = install::install(d, f.get("install"), &path.key("install"));
    let upgrade = install
        .as_ref()
        .is_some_and(|i| i.mode == InstallMode::Upgrade);
    let rootpw = match f.get("rootpw") {
        Some(v) => rootpw::rootpw(d, v, &path.key("rootpw")),
        None => {
            if !upgrade {
                d.missing(
                    &path.key("rootpw"),
                    "the root password (rootpw: {hash: …}, {env: VAR} or {file: PATH})",
                );
            }
            None
        }
    };
    let keyboard = opt(
        &mut f,
        "keyboard",
        path,
        |d, v, p| {
            let layout = d.text(v, p)?;
            d.checked(&layout, p, keyboard_layout)
        },
        d,
    );
    let network = network::network(d, f.get("network"), &path.key("network"), name);
    let dns = f
        .get("dns")
        .and_then(|v| network::dns(d, v, &path.key("dns")))
        .unwrap_or_default();
    let ntp = f
        .get("ntp")
        .map(|v| d.list(v, &path.key("ntp"), |d, x, p| d.host_or_ip(x, p)))
        .unwrap_or_default();
    let ssh = opt(&mut f, "ssh", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let shell = opt(&mut f, "shell", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let vswitches = f
        .get("vswitches")
        .map(|v| d.named(v, &path.key("vswitches"), network::vswitch))
        .unwrap_or_default();
    let portgroups = f
        .get("portgroups")
        .map(|v| d.named(v, &path.key("portgroups"), network::portgroup))
        .unwrap_or_default();
    let vmkernel = f
        .get("vmkernel")
        .map(|v| d.named(v, &path.key("vmkernel"), network::vmknic))
        .unwrap_or_default();
    let iscsi = f
        .get("iscsi")
        .and_then(|v| network::iscsi(d, v, &path.key("iscsi")));
    let syslog = f
        .get("syslog")
        .and_then(|v| firstboot::syslog(d, v, &path.key("syslog")));
    let datastore_spec = f
        .get("datastore")
        .map(|v| firstboot::datastore(d, v, &path.key("datastore")));
    let drivers = f
        .get("drivers")
        .map(|v| d.list(v, &path.key("drivers"), firstboot::driver))
        .unwrap_or_default();
    let scripts = f
        .get("scripts")
        .and_then(|v| firstboot::scripts(d, v, &path.key("scripts")))
        .unwrap_or_default();
    let address = opt(&mut f, "address", path, |d, v, p| d.host_or_ip(v, p), d);
    let ssh_port = opt(
        &mut f,
        "ssh_port",
        path,
        |d, v, p| {
            d.uint(v, p, 1..=65535, "a TCP port (1 to 65535)")
                .and_then(|n| u16::try_from(n).ok())
        },
        d,
    )
    .unwrap_or(22);
    let ssh_user = opt(
        &mut f,
        "ssh_user",
        path,
        |d, v, p| {
            d.parsed(v, p, |s| {
                if !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                {
                    Ok(s.to_string())
                } else {
                    Err("is not a user name (letters, digits, '.', '_', '-')".to_string())
                }
            })
        },
        d,
    )
    .unwrap_or_else(|| "root".to_string());
    d.finish(f, path);

    if !d.merged() || d.problems.errors() > before {
        return None;
    }
    let network = network?;
    let install = install?;
    let vmfs_on_disk = install.vmfs != Some(VmfsPolicy::None);
    let datastore = match datastore_spec {
        Some(Some(spec)) => spec.resolve(&network.hostname, vmfs_on_disk),
        Some(None) => return None,
        None => firstboot::DatastoreSpec::default().resolve(&network.hostname, vmfs_on_disk),
    };
    let address = address.unwrap_or_else(|| match network.ip() {
        Some(ip) => ip.to_string(),
        None => network.fqdn.to_string(),
    });
    Some(Host {
        name: name.to_string(),
        esxi: esxi?,
        secure_boot,
        post_install,
        paranoid,
        install,
        rootpw,
        keyboard,
        network,
        dns,
        ntp,
        ssh,
        shell,
        vswitches,
        portgroups,
        vmkernel,
        iscsi,
        syslog,
        datastore,
        drivers,
        scripts,
        address,
        ssh_port,
        ssh_user,
    })
}

/// A layout the installer knows; anything else would make it warn and use its default.
fn keyboard_layout(s: &str) -> Result<String, String> {
    if values::keyboard(s) {
        return Ok(s.to_string());
    }
    let near = KEYBOARDS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(s))
        .copied()
        .or_else(|| did_you_mean(s, &KEYBOARDS));
    Err(match near {
        Some(k) => format!("is not a keyboard layout the installer knows (did you mean `{k}`?)"),
        None => format!(
            "is not a keyboard layout the installer knows (it would use its default): give one of {}",
            KEYBOARDS.join(", ")
        ),
    })
}

/// Read optional key `key` of `f` with `read`.
pub(super) fn opt<'v, T>(
    f: &mut Fields<'v>,
    key: &'static str,
    path: &Path<'_>,
    read: impl FnOnce(&mut Decoder<'_>, &'v Value, &Path<'_>) -> Option<T>,
    d: &mut Decoder<'_>,
) -> Option<T> {
    let v = f.get(key)?;
    read(d, v, &path.key(key))
}

fn version(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<EsxiVersion> {
    // `esxi: 6.7` is a YAML number; `esxi: 7.0` is the number 7, which means 7.0 too.
    let text = match v {
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 => format!("{x:.1}"),
            _ => n.to_string(),
        },
        _ => d.str(v, path)?.to_string(),
    };
    match text.parse::<EsxiVersion>() {
        Ok(v) => Some(v),
        Err(e) => {
            d.error(path, format!("{text:?} {e}"));
            None
        }
    }
}
