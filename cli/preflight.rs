//! `esxforge preflight`: vMotion and cluster readiness from facts, offline from a saved facts
//! folder. The checks themselves live in `esxforge_hostcfg::preflight`; this file loads the
//! inputs, picks the VMs and hosts, and prints.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use esxforge_hostcfg::facts::HostFacts;
use esxforge_hostcfg::preflight::{
    self, ClusterView, Code, Finding, HostId, PrecopyParams, Severity, VmId, synth,
};
use esxforge_kickstart::cluster::Cluster;

use crate::report::{Format, Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check whether VMs can be moved to a host (or to every other host).
    Vmotion(VmotionArgs),
    /// CPU baseline, HA failover capacity, DRS rules, and maintenance-mode evacuation.
    Cluster(ClusterArgs),
    /// List the check codes with their severity and meaning.
    Codes {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Write a synthetic cluster (facts and a cluster section) for trying and benchmarking.
    #[command(hide = true)]
    Synth(SynthArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Vmotion(args) => vmotion(args, global),
        Command::Cluster(args) => cluster(args, global),
        Command::Codes { format } => codes(format),
        Command::Synth(args) => synth_cmd(args),
    }
}

// ---- inputs shared with `host cpu`

/// Where the facts and the cluster section come from.
#[derive(clap::Args, Debug)]
pub struct Source {
    /// The inventory: its hosts and its `cluster:` section.
    #[arg(short = 'i', long = "inventory", value_name = "INV")]
    pub inventory: Option<PathBuf>,
    /// Facts saved by `esxforge host facts --save DIR` (DIR/<host>.json), instead of asking
    /// the hosts over SSH. Without an inventory, every DIR/*.json is a host of the cluster.
    #[arg(long, value_name = "DIR")]
    pub facts: Option<PathBuf>,
    /// A cluster section in a file of its own (the inventory's `cluster:` content), used
    /// instead of the inventory's.
    #[arg(long, value_name = "FILE")]
    pub cluster: Option<PathBuf>,
}

/// The hosts' facts (sorted by name) and the cluster section.
pub struct Loaded {
    pub hosts: Vec<HostFacts>,
    pub cluster: Cluster,
}

/// Reads the inventory's host names and `cluster:` section.
///
/// Until the inventory model lands on main this reads only the two keys it needs (`hosts:`, a
/// mapping keyed by host name, and `cluster:`) and leaves the rest of the file to
/// `esxforge inventory check`.
fn read_inventory(path: &Path) -> anyhow::Result<(Vec<String>, Option<Cluster>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the inventory", path.display()))?;
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&text).with_context(|| format!("{}: not YAML", path.display()))?;
    let hosts = match doc.get("hosts") {
        Some(serde_yaml::Value::Mapping(m)) => m
            .keys()
            .map(|k| {
                k.as_str().map(str::to_string).with_context(|| {
                    format!("{}: hosts: every key must be a host name", path.display())
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?,
        Some(_) => bail!(
            "{}: hosts: must be a mapping of host name to settings",
            path.display()
        ),
        None => Vec::new(),
    };
    let cluster = match doc.get("cluster") {
        None | Some(serde_yaml::Value::Null) => None,
        Some(v) => Some(
            serde_yaml::from_value::<Cluster>(v.clone())
                .map_err(|e| anyhow::anyhow!("{}: cluster: {e}", path.display()))?,
        ),
    };
    Ok((hosts, cluster))
}

fn read_cluster_file(path: &Path) -> anyhow::Result<Cluster> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    serde_yaml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: cluster section: {e}", path.display()))
}

/// Every `*.json` of a facts folder, as host names (file stems), sorted.
fn hosts_in(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the facts folder", dir.display()))?;
    for entry in entries {
        let entry =
            entry.with_context(|| format!("{}: cannot read the facts folder", dir.display()))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json")
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    if names.is_empty() {
        bail!(
            "{}: no <host>.json facts files (write them with `esxforge host facts --save DIR`)",
            dir.display()
        );
    }
    Ok(names)
}

/// Loads facts and the cluster section, validated.
pub fn load(source: &Source) -> anyhow::Result<Loaded> {
    let (inventory_hosts, inventory_cluster) = match &source.inventory {
        Some(path) => read_inventory(path)?,
        None => (Vec::new(), None),
    };
    let (cluster, cluster_origin) = match &source.cluster {
        Some(path) => (read_cluster_file(path)?, path.display().to_string()),
        None => (
            inventory_cluster.unwrap_or_default(),
            source
                .inventory
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "cluster".into()),
        ),
    };
    let Some(dir) = &source.facts else {
        bail!(
            "live facts over SSH are not wired into the preflight yet: gather them with `esxforge host facts --save DIR` \
             and pass --facts DIR"
        );
    };
    let members: Vec<String> = if !cluster.hosts.is_empty() {
        cluster.hosts.clone()
    } else if !inventory_hosts.is_empty() {
        inventory_hosts.clone()
    } else {
        hosts_in(dir)?
    };
    let known: Vec<String> = if inventory_hosts.is_empty() {
        members.clone()
    } else {
        inventory_hosts
    };
    cluster.validate(&known).map_err(|errs| {
        anyhow::anyhow!(
            "{}",
            errs.0
                .iter()
                .map(|e| format!("{cluster_origin}: {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    let mut hosts = Vec::with_capacity(members.len());
    for name in &members {
        let path = dir.join(format!("{name}.json"));
        let facts = HostFacts::read(&path).with_context(|| {
            format!("facts of host {name:?} (gather them with `esxforge host facts --host {name} --save DIR`)")
        })?;
        if facts.name != *name {
            bail!(
                "{}: holds the facts of host {:?}, not {name:?}",
                path.display(),
                facts.name
            );
        }
        hosts.push(facts);
    }
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Loaded { hosts, cluster })
}

// ---- printing

fn header(f: &Finding) -> String {
    match (&f.vm, &f.host) {
        (Some(vm), Some(host)) => format!("VM {vm}, host {host}"),
        (Some(vm), None) => format!("VM {vm}"),
        (None, Some(host)) => format!("host {host}"),
        (None, None) => "cluster".into(),
    }
}

/// The findings as a table grouped by VM and host, then a count line.
pub fn render_text(findings: &[Finding]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < findings.len() {
        let key = (&findings[i].vm, &findings[i].host);
        let end = findings[i..]
            .iter()
            .position(|f| (&f.vm, &f.host) != key)
            .map_or(findings.len(), |n| i + n);
        let group = &findings[i..end];
        let width = group
            .iter()
            .map(|f| f.code.as_str().len())
            .max()
            .unwrap_or(0);
        let _ = writeln!(out, "{}", header(&findings[i]));
        for f in group {
            let device = f
                .device
                .as_ref()
                .map(|d| format!("[{d}] "))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<7}  {:<width$}  {device}{}",
                f.severity, f.code, f.message
            );
            if !f.remedy.is_empty() {
                let _ = writeln!(out, "  {:<7}  {:<width$}  fix: {}", "", "", f.remedy);
            }
        }
        out.push('\n');
        i = end;
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let (e, w, n) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let _ = writeln!(
        out,
        "{e} error{}, {w} warning{}, {n} info",
        if e == 1 { "" } else { "s" },
        if w == 1 { "" } else { "s" }
    );
    out
}

fn print(findings: &[Finding], format: Format) -> anyhow::Result<Status> {
    match format {
        Format::Text => print!("{}", render_text(findings)),
        Format::Json => println!("{}", serde_json::to_string_pretty(findings)?),
    }
    Ok(Status::findings_if(preflight::has_errors(findings)))
}

// ---- preflight vmotion

#[derive(clap::Args)]
struct VmotionArgs {
    #[command(flatten)]
    source: Source,
    /// A VM to move (repeat for several; they move together).
    #[arg(long = "vm", value_name = "NAME", required_unless_present = "all")]
    vms: Vec<String>,
    /// Every VM of the --from host.
    #[arg(long, requires = "from", conflicts_with = "vms")]
    all: bool,
    /// The source host (with --all; with --vm, only that host's VMs of those names).
    #[arg(long, value_name = "HOST")]
    from: Option<String>,
    /// The destination; without it, every other host that takes VMs is tested.
    #[arg(long, value_name = "HOST")]
    to: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn vmotion(args: VmotionArgs, _global: &Global) -> anyhow::Result<Status> {
    let loaded = load(&args.source)?;
    let view = ClusterView::new(&loaded.hosts, &loaded.cluster)?;
    let from: Option<HostId> = args.from.as_deref().map(|h| view.host_id(h)).transpose()?;
    let mut vms: Vec<VmId> = Vec::new();
    if args.all {
        if let Some(h) = from {
            vms.extend(view.host(h).vms.iter().copied());
        }
    } else {
        for name in &args.vms {
            let ids: Vec<VmId> = view
                .vms_named(name)
                .iter()
                .copied()
                .filter(|&v| from.is_none_or(|h| view.vm(v).host == h))
                .collect();
            if ids.is_empty() {
                bail!(match &args.from {
                    Some(h) => format!("no VM named {name:?} on host {h:?}"),
                    None => format!("no VM named {name:?} on any host"),
                });
            }
            vms.extend(ids);
        }
    }
    let dests: Vec<HostId> = match &args.to {
        Some(h) => vec![view.host_id(h)?],
        None => view.active_hosts().iter().collect(),
    };
    let findings = preflight::vmotion(&view, &vms, &dests, &PrecopyParams::default());
    print(&findings, args.format)
}

// ---- preflight cluster

#[derive(clap::Args)]
struct ClusterArgs {
    #[command(flatten)]
    source: Source,
    /// Check only this host's evacuation (default: every host not in maintenance mode).
    #[arg(long, value_name = "HOST")]
    maintenance: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn cluster(args: ClusterArgs, _global: &Global) -> anyhow::Result<Status> {
    let loaded = load(&args.source)?;
    let view = ClusterView::new(&loaded.hosts, &loaded.cluster)?;
    let maintenance = args
        .maintenance
        .as_deref()
        .map(|h| view.host_id(h))
        .transpose()?;
    let findings = preflight::cluster(&view, maintenance, &PrecopyParams::default());
    print(&findings, args.format)
}

// ---- preflight codes

#[derive(serde::Serialize)]
struct CodeRow {
    code: &'static str,
    check: preflight::Check,
    origin: preflight::Origin,
    summary: &'static str,
}

fn codes(format: Format) -> anyhow::Result<Status> {
    let rows: Vec<CodeRow> = Code::ALL
        .iter()
        .map(|&c| CodeRow {
            code: c.as_str(),
            check: c.check(),
            origin: c.origin(),
            summary: c.summary(),
        })
        .collect();
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Text => {
            let width = rows.iter().map(|r| r.code.len()).max().unwrap_or(0);
            for r in &rows {
                let origin = match r.origin {
                    preflight::Origin::Vsphere => "",
                    preflight::Origin::Esxforge => " (esxforge)",
                };
                println!("{:<width$}  {}{origin}", r.code, r.summary);
            }
        }
    }
    Ok(Status::Clean)
}

// ---- preflight synth (hidden)

#[derive(clap::Args)]
struct SynthArgs {
    #[arg(long, default_value_t = 32)]
    hosts: usize,
    #[arg(long, default_value_t = 1000)]
    vms: usize,
    /// The folder to write `<host>.json` and `cluster.yaml` into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Writes `bytes` to `path` through a temporary file in the same folder.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("{}: cannot write", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}

fn synth_cmd(args: SynthArgs) -> anyhow::Result<Status> {
    if args.hosts == 0 || args.hosts > 4096 || args.vms > 1_000_000 {
        bail!("--hosts must be 1 to 4096 and --vms at most 1000000");
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create", args.out.display()))?;
    let (hosts, cluster) = synth::cluster(args.hosts, args.vms);
    let names: BTreeSet<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    for h in &hosts {
        write_atomic(
            &args.out.join(format!("{}.json", h.name)),
            serde_json::to_string_pretty(h)?.as_bytes(),
        )?;
    }
    write_atomic(
        &args.out.join("cluster.yaml"),
        serde_yaml::to_string(&cluster)?.as_bytes(),
    )?;
    eprintln!(
        "wrote {} hosts ({} VMs) and cluster.yaml to {}",
        names.len(),
        args.vms,
        args.out.display()
    );
    Ok(Status::Clean)
}
