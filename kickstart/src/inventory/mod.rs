//! The inventory: one YAML file describing every host, from which each host's kickstart (and
//! its desired configuration for `esxforge host apply`) is derived.
//!
//! An inventory has `defaults`, `groups` (each with its member `hosts` and its own values) and
//! `hosts`. A host's specification is the merge of defaults < its groups, in file order < its
//! own values: mappings merge key by key, lists replace, `null` removes an inherited value,
//! and `vswitches`/`portgroups`/`vmkernel` merge item by item on `name`. String values may be
//! minijinja templates rendered per host (`"{{ hostname }}-datastore01"`). The result, one
//! [`Host`] per host, is checked as a whole (uplinks, port binding, what the ESXi version
//! lacks) and across the inventory (duplicate names and addresses); [`Inventory::check`]
//! reports every [`Problem`] with its path and line, [`Inventory::load`] refuses an inventory
//! with errors.
//!
//! ```
//! use esxforge_kickstart::inventory::Inventory;
//!
//! let yaml = r#"
//! defaults:
//!   esxi: "8.0U2"
//!   accept_eula: true
//!   rootpw: {hash: "$6$abcdefgh$gGBmDnLQUc7X.EBIKowb1D9aTj.Os8M3ugSq/i9D/fQCkrN3HulO.schvxn1pyfuGN2yHa4KWM7KxtoM2UM220"}
//!   network: {netmask: 255.255.255.0, gateway: 10.0.10.1, domain: lab.example.com}
//!   dns: {servers: [10.0.0.2]}
//! hosts:
//!   esx01: {network: {ip: 10.0.10.11}}
//! "#;
//! let report = Inventory::from_yaml(yaml, "inline.yaml".as_ref()).unwrap();
//! assert!(report.problems.is_empty(), "{:?}", report.problems);
//! let host = &report.inventory.hosts[0];
//! assert_eq!(host.network.fqdn.as_str(), "esx01.lab.example.com");
//! assert_eq!(host.address, "10.0.10.11");
//! assert_eq!(host.datastore.as_ref().unwrap().to.as_str(), "esx01-datastore01");
//! ```

mod check;
mod decode;
mod host;
mod lines;
mod merge;
mod net;
mod problem;
mod rootpw;
mod secrets;
mod suggest;
mod template;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path as FsPath, PathBuf};

use serde_yaml::{Mapping, Value};

pub use check::{
    DEFAULT_VSWITCH, MANAGEMENT_PORTGROUP, effective_failover, firstboot_work, on_network_line,
    writes_firstboot,
};
pub use host::*;
pub use net::{Hostname, Ipv4Cidr, Label, MacAddr, Mtu, NicRef, Prefix, Vlan, VmkName, Vmnic};
pub use problem::{Problem, Severity};
pub use rootpw::{CryptHash, RootPassword, Secret, SecretSource, salt_for, sha512_crypt};

use crate::cluster::Cluster;
use crate::version::EsxiVersion;
use decode::{Decoder, Layer, NAMED_LISTS};
use lines::LineIndex;
use problem::{Path, Problems};
use secrets::Secrets;
use suggest::did_you_mean;
use template::{ValueTemplates, is_template};

/// An inventory larger than this is refused before it is parsed.
pub const MAX_INVENTORY_BYTES: u64 = 256 * 1024 * 1024;

/// A loaded inventory: the hosts that resolved, in file order.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// The file it was read from.
    pub path: PathBuf,
    /// Mixed into every derived password salt (`salt_seed:`); empty when not given.
    pub salt_seed: String,
    pub hosts: Vec<Host>,
    /// The `cluster:` section, read by the preflight.
    pub cluster: Option<Cluster>,
}

/// The result of checking an inventory: every problem, and the hosts that resolved anyway.
#[derive(Debug)]
pub struct Report {
    pub inventory: Inventory,
    /// Errors and warnings, each with its path and line, ordered by line.
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }
}

/// Why an inventory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: cannot read", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: larger than {MAX_INVENTORY_BYTES} bytes, not an inventory", path.display())]
    TooLarge { path: PathBuf },
    #[error("{}{}: not valid YAML: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Yaml {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("{}: {} error(s) in the inventory", path.display(), problems.iter().filter(|p| p.severity == Severity::Error).count())]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
    #[error("{}: no host named {name:?}{}", path.display(), suggestion.as_ref().map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default())]
    UnknownHost {
        path: PathBuf,
        name: String,
        suggestion: Option<String>,
    },
}

/// How to load an inventory.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Treat every host as this ESXi version (`ks render --esxi`), checked as such.
    pub esxi: Option<EsxiVersion>,
}

impl Inventory {
    /// Read, check and resolve an inventory; any error-level problem makes it
    /// [`LoadError::Invalid`] (warnings are dropped: use [`Inventory::check`] to see them).
    pub fn load(path: &FsPath) -> Result<Inventory, LoadError> {
        Inventory::load_with(path, &Options::default())
    }

    /// [`Inventory::load`] with options.
    pub fn load_with(path: &FsPath, options: &Options) -> Result<Inventory, LoadError> {
        let report = Inventory::check_with(path, options)?;
        if report.errors().next().is_some() {
            return Err(LoadError::Invalid {
                path: path.to_path_buf(),
                problems: report.problems,
            });
        }
        Ok(report.inventory)
    }

    /// Read and check an inventory, reporting every problem. `Err` only when the file cannot
    /// be read or is not YAML.
    pub fn check(path: &FsPath) -> Result<Report, LoadError> {
        Inventory::check_with(path, &Options::default())
    }

    /// [`Inventory::check`] with options.
    pub fn check_with(path: &FsPath, options: &Options) -> Result<Report, LoadError> {
        let read = |source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_INVENTORY_BYTES + 1).read_to_string(&mut text))
            .map_err(read)?;
        if text.len() as u64 > MAX_INVENTORY_BYTES {
            return Err(LoadError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        Inventory::from_yaml_with(&text, path, options)
    }

    /// Check an inventory held in memory; `path` names it in messages, and relative secret
    /// files are resolved against its folder.
    pub fn from_yaml(text: &str, path: &FsPath) -> Result<Report, LoadError> {
        Inventory::from_yaml_with(text, path, &Options::default())
    }

    /// [`Inventory::from_yaml`] with options.
    pub fn from_yaml_with(
        text: &str,
        path: &FsPath,
        options: &Options,
    ) -> Result<Report, LoadError> {
        let mut doc: Value = serde_yaml::from_str(text).map_err(|e| LoadError::Yaml {
            path: path.to_path_buf(),
            line: e.location().map(|l| l.line()),
            message: strip_location(&e.to_string()),
        })?;
        doc.apply_merge().map_err(|e| LoadError::Yaml {
            path: path.to_path_buf(),
            line: None,
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(FsPath::new("."));
        let (inventory, mut problems) = load(&doc, path, base, options);
        if !problems.is_empty() {
            let index = LineIndex::new(text);
            for p in &mut problems {
                p.line = index.find(&p.path);
            }
            problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        }
        Ok(Report {
            inventory,
            problems,
        })
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The hosts named in `names`, in the order given; all hosts when `names` is empty.
    pub fn select(&self, names: &[String]) -> Result<Vec<&Host>, LoadError> {
        if names.is_empty() {
            return Ok(self.hosts.iter().collect());
        }
        names
            .iter()
            .map(|n| {
                self.host(n).ok_or_else(|| {
                    let all: Vec<&str> = self.hosts.iter().map(|h| h.name.as_str()).collect();
                    LoadError::UnknownHost {
                        path: self.path.clone(),
                        name: n.clone(),
                        suggestion: did_you_mean(n, &all).map(str::to_string),
                    }
                })
            })
            .collect()
    }
}

/// serde_yaml appends " at line L column C"; the line is reported separately.
fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(at) => msg.get(..at).unwrap_or(msg).to_string(),
        None => msg.to_string(),
    }
}

/// What one thread needs to check layers and resolve hosts: its own problem list, template
/// cache and secret cache, so that hosts resolve in parallel without locks.
struct Worker {
    problems: Problems,
    templates: ValueTemplates,
    secrets: Secrets,
}

/// Below this many hosts, resolving them on other threads costs more than it saves.
const PARALLEL_FROM: usize = 64;

impl Worker {
    fn new(base: &FsPath) -> Worker {
        Worker {
            problems: Problems::default(),
            templates: ValueTemplates::new(),
            secrets: Secrets::new(base),
        }
    }

    fn decoder(&mut self, layer: Layer) -> Decoder<'_> {
        Decoder {
            problems: &mut self.problems,
            templates: &mut self.templates,
            secrets: &mut self.secrets,
            layer,
        }
    }

    /// Decode one layer as written; whether it is free of errors.
    fn layer(&mut self, v: &Value, path: &Path<'_>, layer: Layer, name: &str) -> bool {
        let before = self.problems.errors();
        decode::host(&mut self.decoder(layer), v, path, name);
        self.problems.errors() == before
    }

    /// Resolve one host from its layers: merge, render its templates, decode, check. `None`
    /// when a layer it depends on is wrong (those problems are reported where they are) or
    /// when it does not decode; `Some((host, consistent))` otherwise.
    fn resolve(&mut self, shared: &Shared<'_>, name: &str, value: &Value) -> Option<(Host, bool)> {
        let root = Path::ROOT;
        let hosts_path = root.key("hosts");
        let hp = hosts_path.key(name);
        if let Err(e) = Hostname::new(name) {
            self.problems.error(
                hp,
                format!("is not a valid host name (it names the kickstart file): it {e}"),
            );
            return None;
        }
        let empty = Value::Mapping(Mapping::new());
        let value = if value.is_null() { &empty } else { value };
        let own_ok = self.layer(value, &hp, Layer::Host, name);
        let mine: Vec<&(&Mapping, HashSet<&str>, bool)> = shared
            .groups
            .iter()
            .filter(|(_, m, _)| m.contains(name))
            .collect();
        if !own_ok || !shared.defaults_ok || mine.iter().any(|(_, _, ok)| !ok) {
            return None;
        }
        let mut merged = shared.defaults.clone();
        for (layer, _, _) in &mine {
            merge::layer(&mut merged, layer, &["hosts"]);
        }
        if let Some(own) = value.as_mapping() {
            merge::layer(&mut merged, own, &[]);
        }
        if let Some(v) = shared.options.esxi {
            merged.insert(Value::from("esxi"), Value::from(v.to_string()));
        }
        let mut merged = Value::Mapping(merged);
        if has_template(&merged) && !self.render_templates(&mut merged, &hp, name) {
            return None;
        }
        let mut d = self.decoder(Layer::Merged);
        let host = decode::host(&mut d, &merged, &hp, name)?;
        let before = self.problems.errors();
        check::host(&host, &hp.to_string(), &mut self.problems);
        let consistent = self.problems.errors() == before;
        Some((host, consistent))
    }
}

/// What every host's resolution reads: the checked defaults and groups.
struct Shared<'a> {
    defaults: &'a Mapping,
    defaults_ok: bool,
    /// Each group's values, members, and whether it is free of errors.
    groups: Vec<(&'a Mapping, HashSet<&'a str>, bool)>,
    options: &'a Options,
}

/// The outcome of one host: its problems, and the host if it resolved.
type Resolved = (Vec<Problem>, Option<(Host, bool)>);

/// Resolve `hosts` on as many threads as there are cores (one for small inventories), each
/// with its own [`Worker`]; the outcomes come back in `hosts` order.
fn resolve_all(shared: &Shared<'_>, hosts: &[(&str, &Value)], base: &FsPath) -> Vec<Resolved> {
    let threads = if hosts.len() < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, 16)
    };
    let one = |w: &mut Worker, (name, value): &(&str, &Value)| -> Resolved {
        let host = w.resolve(shared, name, value);
        (std::mem::take(&mut w.problems.list), host)
    };
    if threads == 1 {
        let mut w = Worker::new(base);
        return hosts.iter().map(|h| one(&mut w, h)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, Resolved)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut w = Worker::new(base);
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(h) = hosts.get(i) else { break };
                        out.push((i, one(&mut w, h)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Check and resolve a whole inventory document.
fn load(doc: &Value, path: &FsPath, base: &FsPath, options: &Options) -> (Inventory, Vec<Problem>) {
    Worker::new(base).load(doc, path, base, options)
}

impl Worker {
    fn load(
        &mut self,
        doc: &Value,
        path: &FsPath,
        base: &FsPath,
        options: &Options,
    ) -> (Inventory, Vec<Problem>) {
        let mut inventory = Inventory {
            path: path.to_path_buf(),
            salt_seed: String::new(),
            hosts: Vec::new(),
            cluster: None,
        };
        let root = Path::ROOT;
        let empty = Mapping::new();
        let mut d = self.decoder(Layer::Defaults);
        let Some(mut f) = d.fields(doc, &root) else {
            return (inventory, std::mem::take(&mut self.problems.list));
        };
        let salt_seed = f.get("salt_seed");
        let defaults = f.get("defaults");
        let groups = f.get("groups");
        let hosts = f.get("hosts");
        let cluster = f.get("cluster");
        d.finish(f, &root);

        if let Some(v) = salt_seed {
            if let Some(s) = d.str(v, &root.key("salt_seed")) {
                inventory.salt_seed = s.to_string();
            }
        }
        if let Some(v) = cluster {
            match serde_yaml::from_value::<Cluster>(v.clone()) {
                Ok(c) => inventory.cluster = Some(c),
                Err(e) => d.error(&root.key("cluster"), e.to_string()),
            }
        }

        let defaults_path = root.key("defaults");
        let defaults = defaults.unwrap_or(&Value::Null);
        let defaults_ok =
            defaults.is_null() || self.layer(defaults, &defaults_path, Layer::Defaults, "");
        let defaults = defaults.as_mapping().unwrap_or(&empty);

        let hosts_path = root.key("hosts");
        let hosts: Vec<(&str, &Value)> = match hosts {
            Some(Value::Mapping(m)) if m.is_empty() => {
                self.problems.warning(
                    hosts_path,
                    "is empty: there is nothing to render or configure",
                );
                Vec::new()
            }
            Some(Value::Mapping(m)) => m
                .iter()
                .filter_map(|(k, v)| match k.as_str() {
                    Some(k) => Some((k, v)),
                    None => {
                        self.problems
                            .error(hosts_path, "host names must be strings");
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.problems.error(
                    hosts_path,
                    format!(
                        "expected a mapping of host names to their values, found {}",
                        decode::kind(other)
                    ),
                );
                Vec::new()
            }
            None => {
                self.problems
                    .error(hosts_path, "is missing: the inventory has no hosts");
                Vec::new()
            }
        };
        // Sets, not lists: an inventory of 10,000 hosts in one group must not cost 10^8 compares.
        let host_names: HashSet<&str> = hosts.iter().map(|(k, _)| *k).collect();

        // Groups: check each, and note which hosts each contains.
        let groups_path = root.key("groups");
        let mut group_layers: Vec<(&Mapping, HashSet<&str>, bool)> = Vec::new();
        match groups {
            None => {}
            Some(Value::Mapping(m)) => {
                for (k, v) in m {
                    let Some(name) = k.as_str() else {
                        self.problems
                            .error(groups_path, "group names must be strings");
                        continue;
                    };
                    let gp = groups_path.key(name);
                    let ok = self.layer(v, &gp, Layer::Group, name);
                    let members = self.members(v, &gp, &host_names);
                    group_layers.push((v.as_mapping().unwrap_or(&empty), members, ok));
                }
            }
            Some(other) => self.problems.error(
                groups_path,
                format!(
                    "expected a mapping of group names to their values, found {}",
                    decode::kind(other)
                ),
            ),
        }

        let shared = Shared {
            defaults,
            defaults_ok,
            groups: group_layers,
            options,
        };
        let mut decoded: Vec<(Host, bool)> = Vec::with_capacity(hosts.len());
        for (problems, host) in resolve_all(&shared, &hosts, base) {
            self.problems.list.extend(problems);
            decoded.extend(host);
        }
        // Duplicates are looked for among every host that decoded, consistent or not.
        let all: Vec<&Host> = decoded.iter().map(|(h, _)| h).collect();
        check::across(&all, &mut self.problems);
        inventory.hosts = decoded
            .into_iter()
            .filter(|(_, ok)| *ok)
            .map(|(h, _)| h)
            .collect();
        (inventory, std::mem::take(&mut self.problems.list))
    }

    /// The host names a group's `hosts:` list names, reporting unknown and repeated ones.
    fn members<'v>(
        &mut self,
        group: &'v Value,
        path: &Path<'_>,
        known: &HashSet<&str>,
    ) -> HashSet<&'v str> {
        let at = path.key("hosts");
        let Some(list) = group.get("hosts") else {
            self.problems
                .error(at, "is missing: the group's member hosts");
            return HashSet::new();
        };
        let Some(seq) = list.as_sequence() else {
            self.problems.error(
                at,
                format!(
                    "expected a list of host names, found {}",
                    decode::kind(list)
                ),
            );
            return HashSet::new();
        };
        let mut out = HashSet::new();
        for (i, item) in seq.iter().enumerate() {
            let p = at.index(i);
            let Some(name) = item.as_str() else {
                self.problems.error(
                    p,
                    format!("expected a host name, found {}", decode::kind(item)),
                );
                continue;
            };
            if !known.contains(&name) {
                let mut all: Vec<&str> = known.iter().copied().collect();
                all.sort_unstable();
                let hint = did_you_mean(name, &all)
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                self.problems
                    .error(p, format!("`{name}` is not a host of this inventory{hint}"));
            } else if !out.insert(name) {
                self.problems.error(p, format!("`{name}` is listed twice"));
            }
        }
        out
    }

    /// Render the templated strings of one merged host in place; whether all rendered.
    fn render_templates(&mut self, merged: &mut Value, path: &Path<'_>, name: &str) -> bool {
        let vars = merged
            .get("vars")
            .cloned()
            .unwrap_or(Value::Mapping(Mapping::new()));
        let vars = minijinja::Value::from(minijinja::value::Serde(&vars));
        let before = self.problems.errors();

        // The names other templates use come first, rendered with only `name` and `vars`.
        let first = minijinja::context!(name => name, vars => vars.clone());
        let net = path.key("network");
        let early = |key: &'static str, this: &mut Self| -> Option<String> {
            let v = merged
                .get("network")
                .and_then(|n| n.get(key))
                .and_then(Value::as_str)?;
            if !is_template(v) {
                return Some(v.to_string());
            }
            match this.templates.render(v, &first) {
                Ok(s) => Some(s),
                Err(e) => {
                    this.problems.error(net.key(key), e);
                    None
                }
            }
        };
        let hostname = early("hostname", self).unwrap_or_else(|| name.to_string());
        let domain = early("domain", self);
        let ip = early("ip", self).map(|ip| ip.split('/').next().unwrap_or_default().to_string());
        if self.problems.errors() > before {
            return false;
        }
        let (short, domain) = match hostname.split_once('.') {
            Some((short, rest)) => (short.to_string(), Some(rest.to_string())),
            None => (hostname.clone(), domain),
        };
        let fqdn = match &domain {
            Some(d) if !hostname.contains('.') => format!("{hostname}.{d}"),
            _ => hostname.clone(),
        };
        let ctx = minijinja::context!(
            name => name,
            hostname => short,
            domain => domain,
            fqdn => fqdn,
            ip => ip,
            vars => vars,
        );
        self.walk(merged, path, &ctx, Level::Top);
        self.problems.errors() == before
    }

    fn walk(&mut self, v: &mut Value, path: &Path<'_>, ctx: &minijinja::Value, level: Level) {
        match v {
            Value::String(s) if is_template(s) => match self.templates.render(s, ctx) {
                Ok(out) => *s = out,
                Err(e) => self.problems.error(path, e),
            },
            Value::Mapping(m) => {
                for (k, child) in m.iter_mut() {
                    let Some(key) = k.as_str() else { continue };
                    let next = match (level, key) {
                        // `vars` are the templates' input, not templates.
                        (Level::Top, "vars") => continue,
                        (Level::Top, k) if NAMED_LISTS.contains(&k) => Level::NamedList,
                        _ => Level::Inner,
                    };
                    self.walk(child, &path.key(key), ctx, next);
                }
            }
            Value::Sequence(seq) => {
                for (i, item) in seq.iter_mut().enumerate() {
                    let name = match level {
                        Level::NamedList => {
                            item.get("name").and_then(Value::as_str).map(str::to_string)
                        }
                        _ => None,
                    };
                    match name {
                        Some(n) => self.walk(item, &path.name(&n), ctx, Level::Inner),
                        None => self.walk(item, &path.index(i), ctx, Level::Inner),
                    }
                }
            }
            _ => {}
        }
    }
}

/// Where [`Loader::walk`] is in a host's value: its top, a named list, or deeper.
#[derive(Clone, Copy)]
enum Level {
    Top,
    NamedList,
    Inner,
}

/// Whether any string under `v` is a template (most hosts have none: skip the walk).
fn has_template(v: &Value) -> bool {
    match v {
        Value::String(s) => is_template(s),
        Value::Mapping(m) => m.values().any(has_template),
        Value::Sequence(s) => s.iter().any(has_template),
        _ => false,
    }
}
