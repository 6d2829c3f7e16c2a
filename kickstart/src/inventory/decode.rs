//! From YAML values to typed values, reporting every problem instead of stopping at the first.
//!
//! The same code reads each layer as written (`defaults`, one group, one host: to find bad
//! values where they are, with their line) and then each host's merged, templated value (to
//! find what is missing or inconsistent only once the layers are combined). A [`Fields`]
//! records the keys its reader asks for, so the schema is the reading code itself and an
//! unknown key is one that no reader asked for.

use std::net::Ipv4Addr;
use std::str::FromStr;

use serde_yaml::{Mapping, Value};

use super::host::*;
use super::net::{Hostname, Ipv4Cidr, Label, MacAddr, Mtu, NicRef, Prefix, Vlan, VmkName, Vmnic};
use super::problem::{Path, Problems};
use super::rootpw::{CryptHash, RootPassword, SecretSource};
use super::secrets::Secrets;
use super::suggest::did_you_mean;
use super::template::{ValueTemplates, is_template};
use super::version::EsxiVersion;

/// Lists whose items carry a `name` and merge by it across layers.
pub(crate) const NAMED_LISTS: [&str; 3] = ["vswitches", "portgroups", "vmkernel"];

/// Which kind of value is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    Defaults,
    Group,
    Host,
    /// A host's merged and templated specification.
    Merged,
}

pub(crate) struct Decoder<'a> {
    pub(crate) problems: &'a mut Problems,
    pub(crate) templates: &'a mut ValueTemplates,
    pub(crate) secrets: &'a mut Secrets,
    pub(crate) layer: Layer,
}

/// The keys of one mapping, and which of them the reader asked for.
pub(crate) struct Fields<'v> {
    map: &'v Mapping,
    known: Vec<&'static str>,
}

impl<'v> Fields<'v> {
    /// The value of `key`; an explicit `null` counts as absent (it removes an inherited value).
    pub(crate) fn get(&mut self, key: &'static str) -> Option<&'v Value> {
        self.known.push(key);
        self.map.get(key).filter(|v| !v.is_null())
    }
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

impl Decoder<'_> {
    fn merged(&self) -> bool {
        self.layer == Layer::Merged
    }

    pub(crate) fn error(&mut self, path: &Path<'_>, msg: impl Into<String>) {
        self.problems.error(path, msg);
    }

    /// A required value is missing: reported once the layers are merged, never per layer.
    fn missing(&mut self, path: &Path<'_>, what: &str) {
        if self.merged() {
            self.error(path, format!("is missing: {what}"));
        }
    }

    pub(crate) fn fields<'v>(&mut self, v: &'v Value, path: &Path<'_>) -> Option<Fields<'v>> {
        match v {
            Value::Mapping(map) => Some(Fields {
                map,
                known: Vec::new(),
            }),
            other => {
                self.error(path, format!("expected a mapping, found {}", kind(other)));
                None
            }
        }
    }

    /// Report the keys no reader asked for, with the closest known key as a suggestion.
    pub(crate) fn finish(&mut self, fields: Fields<'_>, path: &Path<'_>) {
        for key in fields.map.keys() {
            let Some(key) = key.as_str() else {
                self.error(path, format!("keys must be strings, found {}", kind(key)));
                continue;
            };
            if fields.known.contains(&key) {
                continue;
            }
            let msg = match did_you_mean(key, &fields.known) {
                Some(near) => format!("unknown key `{key}` (did you mean `{near}`?)"),
                None => format!(
                    "unknown key `{key}` (expected one of: {})",
                    fields.known.join(", ")
                ),
            };
            self.error(&path.key(key), msg);
        }
    }

    /// A string; `None` with a problem for anything else, and `None` silently for a template
    /// in a layer (it is checked for syntax here and for its value once rendered per host).
    pub(crate) fn str<'v>(&mut self, v: &'v Value, path: &Path<'_>) -> Option<&'v str> {
        match v {
            Value::String(s) if !self.merged() && is_template(s) => {
                if let Err(e) = self.templates.check(s) {
                    self.error(path, e);
                }
                None
            }
            Value::String(s) => Some(s),
            Value::Number(n) => {
                self.error(
                    path,
                    format!("expected a string, found a number (quote it: \"{n}\")"),
                );
                None
            }
            other => {
                self.error(path, format!("expected a string, found {}", kind(other)));
                None
            }
        }
    }

    /// A string checked by `parse`, whose error completes the sentence `"<value>" <error>`.
    fn parsed<T>(
        &mut self,
        v: &Value,
        path: &Path<'_>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = self.str(v, path)?;
        match parse(s) {
            Ok(t) => Some(t),
            Err(e) => {
                self.error(path, format!("{s:?} {e}"));
                None
            }
        }
    }

    fn bool(&mut self, v: &Value, path: &Path<'_>) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.error(
                    path,
                    format!("expected true or false, found {}", kind(other)),
                );
                None
            }
        }
    }

    /// A whole number in `range`; `what` names the range in the message.
    fn uint(
        &mut self,
        v: &Value,
        path: &Path<'_>,
        range: std::ops::RangeInclusive<u64>,
        what: &str,
    ) -> Option<u64> {
        match v {
            Value::Number(n) => match n.as_u64() {
                Some(x) if range.contains(&x) => Some(x),
                _ => {
                    self.error(path, format!("{n} is not {what}"));
                    None
                }
            },
            Value::String(s) if !self.merged() && is_template(s) => self.str(v, path).and(None),
            // A templated number arrives as a string once rendered.
            Value::String(s) if self.merged() && s.parse::<u64>().is_ok() => {
                let x = s.parse::<u64>().ok()?;
                if range.contains(&x) {
                    Some(x)
                } else {
                    self.error(path, format!("{x} is not {what}"));
                    None
                }
            }
            other => {
                self.error(path, format!("expected a number, found {}", kind(other)));
                None
            }
        }
    }

    /// One of `choices` by its inventory spelling.
    fn choice<T: Copy>(&mut self, v: &Value, path: &Path<'_>, choices: &[(&str, T)]) -> Option<T> {
        let s = self.str(v, path)?;
        if let Some((_, t)) = choices.iter().find(|(k, _)| *k == s) {
            return Some(*t);
        }
        let names: Vec<&str> = choices.iter().map(|(k, _)| *k).collect();
        let hint = did_you_mean(s, &names)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        self.error(
            path,
            format!("`{s}` is not one of: {}{hint}", names.join(", ")),
        );
        None
    }

    /// Each item of a list read by `item`; items that fail are reported and left out.
    fn list<T>(
        &mut self,
        v: &Value,
        path: &Path<'_>,
        mut item: impl FnMut(&mut Self, &Value, &Path<'_>) -> Option<T>,
    ) -> Vec<T> {
        let Value::Sequence(seq) = v else {
            self.error(path, format!("expected a list, found {}", kind(v)));
            return Vec::new();
        };
        seq.iter()
            .enumerate()
            .filter_map(|(i, x)| item(self, x, &path.index(i)))
            .collect()
    }

    fn ipv4(&mut self, v: &Value, path: &Path<'_>) -> Option<Ipv4Addr> {
        self.parsed(v, path, host_address)
    }

    /// `10.0.0.5` or `10.0.0.5/24`.
    fn ipv4_maybe_prefix(
        &mut self,
        v: &Value,
        path: &Path<'_>,
    ) -> Option<(Ipv4Addr, Option<Prefix>)> {
        self.parsed(v, path, |s| {
            let (ip, prefix) = match s.split_once('/') {
                Some((ip, p)) => (ip, Some(p)),
                None => (s, None),
            };
            let ip = host_address(ip)?;
            let prefix = prefix
                .map(|p| {
                    p.parse::<u8>()
                        .ok()
                        .and_then(Prefix::new)
                        .ok_or_else(|| "has a prefix length outside 1 to 32".to_string())
                })
                .transpose()?;
            Ok((ip, prefix))
        })
    }

    fn prefix(&mut self, v: &Value, path: &Path<'_>) -> Option<Prefix> {
        self.uint(v, path, 1..=32, "a prefix length (1 to 32)")
            .and_then(|n| u8::try_from(n).ok())
            .and_then(Prefix::new)
    }

    fn netmask(&mut self, v: &Value, path: &Path<'_>) -> Option<Prefix> {
        self.parsed(v, path, |s| {
            let mask = Ipv4Addr::from_str(s).map_err(|_| "is not a netmask".to_string())?;
            Prefix::from_netmask(mask)
                .ok_or_else(|| "is not a netmask (its one bits must be contiguous)".to_string())
        })
    }

    fn vlan(&mut self, v: &Value, path: &Path<'_>) -> Option<Vlan> {
        self.uint(v, path, 0..=u64::from(Vlan::MAX), "a VLAN ID (0 to 4094)")
            .and_then(|n| u16::try_from(n).ok())
            .and_then(Vlan::new)
    }

    fn mtu(&mut self, v: &Value, path: &Path<'_>) -> Option<Mtu> {
        self.uint(
            v,
            path,
            u64::from(Mtu::MIN)..=u64::from(Mtu::MAX),
            "an MTU (1280 to 9000)",
        )
        .and_then(|n| u16::try_from(n).ok())
        .and_then(Mtu::new)
    }

    fn label(&mut self, v: &Value, path: &Path<'_>) -> Option<Label> {
        self.parsed(v, path, Label::new)
    }

    fn hostname(&mut self, v: &Value, path: &Path<'_>) -> Option<Hostname> {
        self.parsed(v, path, |s| {
            Hostname::new(s).map_err(|e| format!("is not a valid host name: it {e}"))
        })
    }

    fn vmnic(&mut self, v: &Value, path: &Path<'_>) -> Option<Vmnic> {
        self.parsed(v, path, Vmnic::new)
    }

    fn vmk(&mut self, v: &Value, path: &Path<'_>) -> Option<VmkName> {
        self.parsed(v, path, VmkName::new)
    }

    /// A host name or an IPv4 address, as a string.
    fn host_or_ip(&mut self, v: &Value, path: &Path<'_>) -> Option<String> {
        self.parsed(v, path, |s| {
            if s.parse::<Ipv4Addr>().is_ok() || Hostname::new(s).is_ok() {
                Ok(s.to_string())
            } else {
                Err("is neither an IPv4 address nor a host name".to_string())
            }
        })
    }

    /// Plain text for a kickstart or a script: printable ASCII only.
    fn text(&mut self, v: &Value, path: &Path<'_>) -> Option<String> {
        self.parsed(v, path, |s| {
            if s.is_empty() {
                Err("is empty".into())
            } else if let Some(c) = s.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
                Err(format!("contains {c:?}: only printable ASCII is allowed"))
            } else {
                Ok(s.to_string())
            }
        })
    }

    /// The items of a list whose items merge by `name`, each read by `item` with its path
    /// (`[i]` in a layer, `[name]` once merged) and its name.
    fn named<T>(
        &mut self,
        v: &Value,
        path: &Path<'_>,
        mut item: impl FnMut(&mut Self, &mut Fields<'_>, &Path<'_>, &str) -> Option<T>,
    ) -> Vec<T> {
        let Value::Sequence(seq) = v else {
            self.error(path, format!("expected a list, found {}", kind(v)));
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for (i, x) in seq.iter().enumerate() {
            let at = path.index(i);
            let Some(mut f) = self.fields(x, &at) else {
                continue;
            };
            let name = match f.get("name") {
                Some(Value::String(s)) => s.as_str(),
                Some(other) => {
                    self.error(
                        &at.key("name"),
                        format!("expected a string, found {}", kind(other)),
                    );
                    continue;
                }
                None => {
                    self.error(
                        &at,
                        "has no `name` (list items merge across layers by name)",
                    );
                    continue;
                }
            };
            if seen.contains(&name) {
                self.error(
                    &at.key("name"),
                    format!("`{name}` appears twice in this list"),
                );
                continue;
            }
            seen.push(name);
            let at = if self.merged() { path.name(name) } else { at };
            let value = item(self, &mut f, &at, name);
            self.finish(f, &at);
            out.extend(value);
        }
        out
    }
}

/// An IPv4 address a host can have: the installer refuses loopback, multicast, unspecified,
/// broadcast and 0.x addresses (its rule lives in the linter, which reproduces it).
fn host_address(s: &str) -> Result<Ipv4Addr, String> {
    let ip = Ipv4Addr::from_str(s).map_err(|_| "is not an IPv4 address".to_string())?;
    crate::lint::values::ip(s).map_err(|why| format!("is not a host address: {why}"))?;
    Ok(ip)
}

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

    let install = install(d, f.get("install"), &path.key("install"));
    let upgrade = install
        .as_ref()
        .is_some_and(|i| i.mode == InstallMode::Upgrade);
    let rootpw = match f.get("rootpw") {
        Some(v) => rootpw(d, v, &path.key("rootpw")),
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
    let keyboard = opt(&mut f, "keyboard", path, |d, v, p| d.text(v, p), d);
    let network = network(d, f.get("network"), &path.key("network"), name);
    let dns = f
        .get("dns")
        .and_then(|v| dns(d, v, &path.key("dns")))
        .unwrap_or_default();
    let ntp = f
        .get("ntp")
        .map(|v| d.list(v, &path.key("ntp"), |d, x, p| d.host_or_ip(x, p)))
        .unwrap_or_default();
    let ssh = opt(&mut f, "ssh", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let shell = opt(&mut f, "shell", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let vswitches = f
        .get("vswitches")
        .map(|v| d.named(v, &path.key("vswitches"), vswitch))
        .unwrap_or_default();
    let portgroups = f
        .get("portgroups")
        .map(|v| d.named(v, &path.key("portgroups"), portgroup))
        .unwrap_or_default();
    let vmkernel = f
        .get("vmkernel")
        .map(|v| d.named(v, &path.key("vmkernel"), vmknic))
        .unwrap_or_default();
    let iscsi = f.get("iscsi").and_then(|v| iscsi(d, v, &path.key("iscsi")));
    let syslog = f
        .get("syslog")
        .and_then(|v| syslog(d, v, &path.key("syslog")));
    let datastore_spec = f
        .get("datastore")
        .map(|v| datastore(d, v, &path.key("datastore")));
    let drivers = f
        .get("drivers")
        .map(|v| d.list(v, &path.key("drivers"), driver))
        .unwrap_or_default();
    let scripts = f
        .get("scripts")
        .and_then(|v| scripts(d, v, &path.key("scripts")))
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
        None => DatastoreSpec::default().resolve(&network.hostname, vmfs_on_disk),
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

/// Read optional key `key` of `f` with `read`.
fn opt<'v, T>(
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

fn install(d: &mut Decoder<'_>, v: Option<&Value>, path: &Path<'_>) -> Option<Install> {
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
fn url_ok(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_graphic() && !b"\"'\\$`#".contains(&b))
}

fn rootpw(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<RootPassword> {
    let mut f = d.fields(v, path)?;
    let hash = opt(
        &mut f,
        "hash",
        path,
        |d, v, p| {
            let s = d.str(v, p)?;
            let hash = CryptHash::new(s);
            if hash.is_none() {
                // Never echo the value: a mistyped hash may be a clear password.
                d.error(p, "is not a hash the installer accepts ($6$ with a salt of at most 16 characters and no rounds=, or $1$)");
            }
            hash
        },
        d,
    );
    let env = opt(
        &mut f,
        "env",
        path,
        |d, v, p| {
            d.parsed(v, p, |s| {
                if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    Ok(s.to_string())
                } else {
                    Err("is not an environment variable name".to_string())
                }
            })
        },
        d,
    );
    let file = opt(&mut f, "file", path, |d, v, p| d.text(v, p), d);
    let clear_text_ok =
        opt(&mut f, "clear_text_ok", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let given =
        usize::from(hash.is_some()) + usize::from(env.is_some()) + usize::from(file.is_some());
    d.finish(f, path);
    if given > 1 {
        d.error(path, "give one of hash, env or file");
        return None;
    }
    if !d.merged() {
        return None;
    }
    if let Some(hash) = hash {
        if clear_text_ok {
            d.error(
                &path.key("clear_text_ok"),
                "applies to env or file, not to a hash",
            );
        }
        return Some(RootPassword::Hash(hash));
    }
    let (source, at) = match (env, file) {
        (Some(var), _) => (SecretSource::Env(var), path.key("env")),
        (None, Some(file)) => (SecretSource::File(file.into()), path.key("file")),
        (None, None) => {
            d.error(path, "give one of hash, env or file");
            return None;
        }
    };
    let secret = match d.secrets.get(&source) {
        Ok(secret) => secret,
        Err(e) => {
            d.error(&at, e);
            return None;
        }
    };
    if clear_text_ok {
        d.problems.warning(
            path,
            "the root password is written to the kickstart in clear text (clear_text_ok: true)",
        );
    }
    Some(RootPassword::Clear {
        source,
        secret,
        clear_text_ok,
    })
}

fn network(
    d: &mut Decoder<'_>,
    v: Option<&Value>,
    path: &Path<'_>,
    name: &str,
) -> Option<Management> {
    let empty = Value::Mapping(Mapping::new());
    let mut f = d.fields(v.unwrap_or(&empty), path)?;
    let device = opt(
        &mut f,
        "device",
        path,
        |d, v, p| {
            d.parsed(v, p, |s| {
                if s.contains([':', '-']) {
                    s.parse::<MacAddr>()
                        .map(NicRef::Mac)
                        .map_err(|()| "is not a MAC address".to_string())
                } else {
                    Vmnic::new(s)
                        .map(NicRef::Name)
                        .map_err(|e| format!("{e} nor a MAC address"))
                }
            })
        },
        d,
    );
    let vlan = opt(&mut f, "vlan", path, |d, v, p| d.vlan(v, p), d);
    let ip = opt(&mut f, "ip", path, |d, v, p| d.ipv4_maybe_prefix(v, p), d);
    let prefix = opt(&mut f, "prefix", path, |d, v, p| d.prefix(v, p), d);
    let netmask = opt(&mut f, "netmask", path, |d, v, p| d.netmask(v, p), d);
    let gateway = opt(&mut f, "gateway", path, |d, v, p| d.ipv4(v, p), d);
    let dhcp = opt(&mut f, "dhcp", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let hostname = opt(&mut f, "hostname", path, |d, v, p| d.hostname(v, p), d);
    let domain = opt(&mut f, "domain", path, |d, v, p| d.hostname(v, p), d);
    let vm_portgroup =
        opt(&mut f, "vm_portgroup", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    d.finish(f, path);
    if !d.merged() {
        return None;
    }

    let addressing = if dhcp {
        for (key, set) in [
            ("ip", ip.is_some()),
            ("prefix", prefix.is_some()),
            ("netmask", netmask.is_some()),
            ("gateway", gateway.is_some()),
        ] {
            if set {
                d.error(&path.key(key), "is set with dhcp: true (the installer stops on static values with --bootproto=dhcp)");
            }
        }
        Addressing::Dhcp
    } else {
        let Some((ip, ip_prefix)) = ip else {
            d.error(
                &path.key("ip"),
                "is missing: give the management address, or set dhcp: true",
            );
            return None;
        };
        let given: Vec<Prefix> = [ip_prefix, prefix, netmask].into_iter().flatten().collect();
        let prefix = match given.as_slice() {
            [] => {
                d.error(
                    &path.key("netmask"),
                    "is missing: give netmask or prefix, or write the ip as 10.0.0.11/24",
                );
                return None;
            }
            [p, rest @ ..] if rest.iter().all(|q| q == p) => *p,
            _ => {
                d.error(path, "the ip's /prefix, prefix and netmask disagree");
                return None;
            }
        };
        let cidr = Ipv4Cidr { ip, prefix };
        let gw_text = gateway.map(|g| g.to_string());
        if let Err(why) = crate::lint::values::ip_settings(
            &ip.to_string(),
            &prefix.netmask().to_string(),
            gw_text.as_deref().unwrap_or(&ip.to_string()),
        ) {
            if !why.starts_with("IP and Gateway") {
                d.error(
                    &path.key("ip"),
                    format!("{ip}/{} is refused by the installer: {why}", prefix.bits()),
                );
            }
        }
        if let Some(gw) = gateway {
            if gw == ip {
                d.error(
                    &path.key("gateway"),
                    format!("{gw} is the host's own address"),
                );
            } else if !prefix.same_network(gw, ip) {
                d.error(
                    &path.key("gateway"),
                    format!("{gw} is not in the management network {}", network_of(cidr)),
                );
            }
        } else {
            d.problems.warning(
                path.key("gateway"),
                "is not set: the installer warns and guesses one",
            );
        }
        Addressing::Static { cidr, gateway }
    };
    let given = hostname.unwrap_or_else(|| match Hostname::new(name) {
        Ok(h) => h,
        // The host key was already checked as a host name; keep going with something valid.
        Err(_) => Hostname::new("localhost").expect("a constant host name"),
    });
    let (short, fqdn) = match given.as_str().split_once('.') {
        Some((short, _)) => {
            if domain.is_some() {
                d.error(
                    &path.key("domain"),
                    "is set, but hostname is already fully qualified",
                );
            }
            (Hostname::new(short).ok()?, given)
        }
        None => {
            let fqdn = match &domain {
                Some(dom) => Hostname::new(&format!("{given}.{dom}"))
                    .map_err(|e| {
                        d.error(
                            &path.key("domain"),
                            format!("makes an invalid FQDN: it {e}"),
                        );
                    })
                    .ok()?,
                None => given.clone(),
            };
            (given, fqdn)
        }
    };
    Some(Management {
        device: device
            .unwrap_or_else(|| NicRef::Name(Vmnic::new("vmnic0").expect("a constant NIC name"))),
        vlan,
        addressing,
        hostname: short,
        fqdn,
        vm_portgroup,
    })
}

pub(crate) fn network_of(cidr: Ipv4Cidr) -> String {
    let net = Ipv4Addr::from(u32::from(cidr.ip) & u32::from(cidr.netmask()));
    format!("{net}/{}", cidr.prefix.bits())
}

fn dns(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Dns> {
    let mut f = d.fields(v, path)?;
    let servers = f
        .get("servers")
        .map(|v| d.list(v, &path.key("servers"), |d, x, p| d.ipv4(x, p)))
        .unwrap_or_default();
    let search = f
        .get("search")
        .map(|v| d.list(v, &path.key("search"), |d, x, p| d.hostname(x, p)))
        .unwrap_or_default();
    d.finish(f, path);
    Some(Dns { servers, search })
}

fn uplinks(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Vec<Vmnic> {
    d.list(v, path, |d, x, p| d.vmnic(x, p))
}

fn vswitch(
    d: &mut Decoder<'_>,
    f: &mut Fields<'_>,
    path: &Path<'_>,
    name: &str,
) -> Option<VSwitch> {
    let label = d.label(&Value::String(name.to_string()), &path.key("name"));
    let uplink_list = f
        .get("uplinks")
        .map(|v| uplinks(d, v, &path.key("uplinks")));
    let mtu = opt(f, "mtu", path, |d, v, p| d.mtu(v, p), d).unwrap_or(Mtu::DEFAULT);
    let teaming = match f.get("teaming") {
        Some(v) => teaming(d, v, &path.key("teaming")),
        None => Some(Teaming {
            policy: LoadBalancing::PortId,
            active: Vec::new(),
            standby: Vec::new(),
        }),
    };
    Some(VSwitch {
        name: label?,
        uplinks: uplink_list.unwrap_or_default(),
        mtu,
        teaming: teaming?,
    })
}

fn teaming(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Teaming> {
    let mut f = d.fields(v, path)?;
    let policy = opt(
        &mut f,
        "policy",
        path,
        |d, v, p| {
            d.choice(
                v,
                p,
                &[
                    ("portid", LoadBalancing::PortId),
                    ("iphash", LoadBalancing::IpHash),
                    ("mac", LoadBalancing::Mac),
                    ("explicit", LoadBalancing::Explicit),
                ],
            )
        },
        d,
    )
    .unwrap_or(LoadBalancing::PortId);
    let active = f
        .get("active")
        .map(|v| uplinks(d, v, &path.key("active")))
        .unwrap_or_default();
    let standby = f
        .get("standby")
        .map(|v| uplinks(d, v, &path.key("standby")))
        .unwrap_or_default();
    d.finish(f, path);
    Some(Teaming {
        policy,
        active,
        standby,
    })
}

fn portgroup(
    d: &mut Decoder<'_>,
    f: &mut Fields<'_>,
    path: &Path<'_>,
    name: &str,
) -> Option<PortGroup> {
    let label = d.label(&Value::String(name.to_string()), &path.key("name"));
    let vswitch = opt(f, "vswitch", path, |d, v, p| d.label(v, p), d);
    let vlan = opt(f, "vlan", path, |d, v, p| d.vlan(v, p), d);
    let failover = match f.get("failover") {
        Some(v) => {
            let p = path.key("failover");
            let mut ff = d.fields(v, &p)?;
            let active = ff
                .get("active")
                .map(|v| uplinks(d, v, &p.key("active")))
                .unwrap_or_default();
            let standby = ff
                .get("standby")
                .map(|v| uplinks(d, v, &p.key("standby")))
                .unwrap_or_default();
            d.finish(ff, &p);
            Some(Failover { active, standby })
        }
        None => None,
    };
    Some(PortGroup {
        name: label?,
        vswitch: vswitch.or_else(|| Label::new("vSwitch0").ok())?,
        vlan: vlan.or(Vlan::new(0))?,
        failover,
    })
}

fn vmknic(d: &mut Decoder<'_>, f: &mut Fields<'_>, path: &Path<'_>, name: &str) -> Option<Vmknic> {
    let vmk = d.vmk(&Value::String(name.to_string()), &path.key("name"));
    let portgroup = opt(f, "portgroup", path, |d, v, p| d.label(v, p), d);
    let ip = opt(f, "ip", path, |d, v, p| d.ipv4_maybe_prefix(v, p), d);
    let prefix = opt(f, "prefix", path, |d, v, p| d.prefix(v, p), d);
    let netmask = opt(f, "netmask", path, |d, v, p| d.netmask(v, p), d);
    let dhcp = opt(f, "dhcp", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let mtu = opt(f, "mtu", path, |d, v, p| d.mtu(v, p), d);
    let services = f
        .get("services")
        .map(|v| {
            d.list(v, &path.key("services"), |d, x, p| {
                if x.as_str() == Some("iscsi") {
                    d.error(p, "`iscsi` is not a VMkernel service tag: list this vmknic under iscsi.bind to bind it to software iSCSI");
                    return None;
                }
                let choices: Vec<(&str, VmkService)> = VmkService::ALL.iter().map(|s| (s.key(), *s)).collect();
                d.choice(x, p, &choices)
            })
        })
        .unwrap_or_default();
    if !d.merged() {
        return None;
    }
    let Some(portgroup) = portgroup else {
        d.error(
            &path.key("portgroup"),
            "is missing: the port group this vmknic sits on",
        );
        return None;
    };
    let address = if dhcp {
        if ip.is_some() || prefix.is_some() || netmask.is_some() {
            d.error(path, "has an address and dhcp: true");
            return None;
        }
        None
    } else {
        let Some((ip, ip_prefix)) = ip else {
            d.error(
                &path.key("ip"),
                "is missing: give the vmknic's address, or set dhcp: true",
            );
            return None;
        };
        let given: Vec<Prefix> = [ip_prefix, prefix, netmask].into_iter().flatten().collect();
        let prefix = match given.as_slice() {
            [] => {
                d.error(
                    &path.key("netmask"),
                    "is missing: give netmask or prefix, or write the ip with /prefix",
                );
                return None;
            }
            [p, rest @ ..] if rest.iter().all(|q| q == p) => *p,
            _ => {
                d.error(path, "the ip's /prefix, prefix and netmask disagree");
                return None;
            }
        };
        Some(Ipv4Cidr { ip, prefix })
    };
    let mut services = services;
    services.sort();
    services.dedup();
    Some(Vmknic {
        name: vmk?,
        portgroup,
        address,
        mtu,
        services,
    })
}

fn iscsi(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Iscsi> {
    let mut f = d.fields(v, path)?;
    let bind = f
        .get("bind")
        .map(|v| d.list(v, &path.key("bind"), |d, x, p| d.vmk(x, p)))
        .unwrap_or_default();
    let targets = f
        .get("targets")
        .map(|v| {
            d.list(v, &path.key("targets"), |d, x, p| {
                d.parsed(x, p, |s| {
                    let (addr, port) = match s.split_once(':') {
                        Some((a, port)) => (a, port.parse::<u16>().ok().filter(|&p| p > 0)),
                        None => (s, Some(3260)),
                    };
                    match (addr.parse::<Ipv4Addr>(), port) {
                        (Ok(address), Some(port)) => Ok(SendTarget { address, port }),
                        _ => Err("is not an IPv4 address with an optional :port".to_string()),
                    }
                })
            })
        })
        .unwrap_or_default();
    d.finish(f, path);
    Some(Iscsi { bind, targets })
}

fn syslog(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Syslog> {
    let mut f = d.fields(v, path)?;
    let datastore = opt(&mut f, "datastore", path, |d, v, p| d.label(v, p), d);
    let dir = opt(&mut f, "dir", path, |d, v, p| {
        d.parsed(v, p, |s| {
            let ok = !s.is_empty()
                && !s.starts_with('/')
                && s.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b));
            if ok {
                Ok(s.to_string())
            } else {
                Err("is not a folder on the datastore (a relative path of letters, digits, '.', '_', '-')".to_string())
            }
        })
    }, d)
    .unwrap_or_else(|| "logs".to_string());
    let remote = f
        .get("remote")
        .map(|v| {
            d.list(v, &path.key("remote"), |d, x, p| {
                d.parsed(x, p, |s| {
                    let (proto, rest) = s.split_once("://").unwrap_or(("udp", s));
                    let (host, port) = match rest.rsplit_once(':') {
                        Some((h, port)) => (h, port.parse::<u16>().ok().filter(|&p| p > 0)),
                        None => (rest, Some(514)),
                    };
                    let host_ok = host.parse::<Ipv4Addr>().is_ok() || Hostname::new(host).is_ok();
                    match (proto, port) {
                        ("udp" | "tcp" | "ssl", Some(port)) if host_ok => {
                            Ok(format!("{proto}://{host}:{port}"))
                        }
                        _ => Err(
                            "is not a log host (udp://host:514, tcp://host:514, ssl://host:1514)"
                                .to_string(),
                        ),
                    }
                })
            })
        })
        .unwrap_or_default();
    d.finish(f, path);
    Some(Syslog {
        datastore,
        dir,
        remote,
    })
}

/// The `datastore:` section before the host name is known.
#[derive(Default)]
struct DatastoreSpec {
    rename: Option<bool>,
    from: Option<Label>,
    name: Option<Label>,
}

impl DatastoreSpec {
    fn resolve(self, hostname: &Hostname, vmfs_on_disk: bool) -> Option<DatastoreRename> {
        if !self.rename.unwrap_or(vmfs_on_disk) {
            return None;
        }
        Some(DatastoreRename {
            from: self.from.or_else(|| Label::new("datastore1").ok())?,
            to: self
                .name
                .or_else(|| Label::new(&format!("{hostname}-datastore01")).ok())?,
        })
    }
}

fn datastore(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<DatastoreSpec> {
    let mut f = d.fields(v, path)?;
    let rename = opt(&mut f, "rename", path, |d, v, p| d.bool(v, p), d);
    let from = opt(&mut f, "from", path, |d, v, p| d.label(v, p), d);
    let name = opt(
        &mut f,
        "name",
        path,
        |d, v, p| {
            let label = d.label(v, p)?;
            // VMFS labels hold at most 42 characters.
            if label.as_str().len() > 42 {
                d.error(
                    p,
                    format!(
                        "{:?} is longer than a datastore name may be (42 characters)",
                        label.as_str()
                    ),
                );
                return None;
            }
            Some(label)
        },
        d,
    );
    d.finish(f, path);
    Some(DatastoreSpec { rename, from, name })
}

fn driver(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Driver> {
    let (source, kind) = match v {
        Value::Mapping(_) => {
            let mut f = d.fields(v, path)?;
            let source = f.get("source");
            let kind = opt(
                &mut f,
                "kind",
                path,
                |d, v, p| {
                    d.choice(
                        v,
                        p,
                        &[
                            ("bundle", DriverKind::Bundle),
                            ("vib", DriverKind::Vib),
                            ("component", DriverKind::Component),
                        ],
                    )
                },
                d,
            );
            d.finish(f, path);
            let Some(source) = source else {
                d.error(
                    &path.key("source"),
                    "is missing: the bundle's URL or path on the host",
                );
                return None;
            };
            (d.str(source, &path.key("source"))?, kind)
        }
        _ => (d.str(v, path)?, None),
    };
    let at = if v.is_mapping() {
        path.key("source")
    } else {
        *path
    };
    let remote = source.starts_with("http://") || source.starts_with("https://");
    if !(remote || source.starts_with('/')) || !url_ok(source) {
        d.error(
            &at,
            format!("{source:?} is not an http(s):// URL or an absolute path on the host"),
        );
        return None;
    }
    let kind = match kind {
        Some(k) => k,
        None if source.ends_with(".vib") => DriverKind::Vib,
        None if source.ends_with(".zip") => DriverKind::Bundle,
        None => {
            d.error(
                path,
                format!("cannot tell what {source:?} is: give kind: bundle, vib or component"),
            );
            return None;
        }
    };
    Some(Driver {
        source: source.to_string(),
        kind,
    })
}

fn scripts(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Scripts> {
    let mut f = d.fields(v, path)?;
    let read = |f: &mut Fields<'_>, key: &'static str, d: &mut Decoder<'_>| {
        opt(
            f,
            key,
            path,
            |d, v, p| {
                d.parsed(v, p, |s| {
                for (n, line) in s.lines().enumerate() {
                    if let Some(c) = line.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ' || *c == '\t')) {
                        return Err(format!("has {c:?} on line {} of the script: only printable ASCII is allowed", n + 1));
                    }
                    // The installer ends a section at any line starting with these.
                    if line.starts_with('%') || line.starts_with("include") {
                        return Err(format!(
                            "has a line starting with `{}` (line {}), which would end the section in the installer; indent it",
                            line.split_whitespace().next().unwrap_or(line),
                            n + 1
                        ));
                    }
                }
                Ok(s.to_string())
            })
            },
            d,
        )
    };
    let pre = read(&mut f, "pre", d);
    let post = read(&mut f, "post", d);
    let firstboot = read(&mut f, "firstboot", d);
    d.finish(f, path);
    Some(Scripts {
        pre,
        post,
        firstboot,
    })
}
