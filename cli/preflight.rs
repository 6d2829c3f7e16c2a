//! `esxforge preflight`: vMotion and cluster readiness from facts, offline from a saved facts
//! folder. The checks themselves live in `esxforge_hostcfg::preflight`; this file loads the
//! inputs, picks the VMs and hosts, and prints.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use esxforge_hostcfg::collect;
use esxforge_hostcfg::facts::HostFacts;
use esxforge_hostcfg::fleet::{Event, Target};
use esxforge_hostcfg::preflight::{
    self, ClusterView, Code, Finding, HostId, PrecopyParams, Severity, VmId, synth,
};
use esxforge_hostcfg::transport::Endpoint;
use esxforge_kickstart::cluster::Cluster;
use esxforge_kickstart::inventory::{Inventory, Options};

use crate::host::write_atomically;
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
    let result = match args.command {
        Command::Vmotion(args) => vmotion(args, global),
        Command::Cluster(args) => cluster(args, global),
        Command::Codes { format } => codes(format),
        Command::Synth(args) => synth_cmd(args),
    };
    failed_hosts_exit_1(result)
}

/// Hosts that could not be reached are failures (exit 1), not usage errors (exit 2).
pub fn failed_hosts_exit_1(result: anyhow::Result<Status>) -> anyhow::Result<Status> {
    match result {
        Err(err) if err.is::<HostsFailed>() => {
            crate::report::print_error(&err);
            Ok(Status::Findings)
        }
        other => other,
    }
}

// ---- inputs shared with `host cpu`

/// Where the facts and the cluster section come from.
#[derive(clap::Args)]
pub struct Source {
    /// The inventory: its hosts and its `cluster:` section.
    #[arg(short = 'i', long = "inventory", value_name = "INV")]
    pub inventory: Option<PathBuf>,
    /// Facts saved by `esxforge host facts --save DIR` (DIR/<host>.json), instead of gathering
    /// them from the inventory's hosts over SSH. Without an inventory, every DIR/*.json is a
    /// host of the cluster.
    #[arg(long, value_name = "DIR")]
    pub facts: Option<PathBuf>,
    /// A cluster section in a file of its own (the inventory's `cluster:` content), used
    /// instead of the inventory's.
    #[arg(long, value_name = "FILE")]
    pub cluster: Option<PathBuf>,
    /// Hosts whose facts are gathered at the same time (live, without --facts).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    pub forks: u16,
    #[command(flatten)]
    pub conn: crate::host::Connection,
}

/// Live collection failed on some hosts: reported, exit 1 (a host that failed).
#[derive(Debug, thiserror::Error)]
#[error("could not gather facts from every host:\n  {}", .0.join("\n  "))]
pub struct HostsFailed(Vec<String>);

/// Gathers the facts of `members` over SSH, addresses from the inventory.
fn gather(
    inventory: &Inventory,
    members: &[String],
    source: &Source,
    global: &Global,
) -> anyhow::Result<Vec<HostFacts>> {
    let hosts = inventory.select(members)?;
    let targets: Vec<Target> = hosts
        .iter()
        .map(|h| Target {
            name: h.name.clone(),
            endpoint: Endpoint {
                address: h.address.clone(),
                port: h.ssh_port,
                user: h.ssh_user.clone(),
            },
        })
        .collect();
    let outcomes = crate::host::run_hosts(
        &source.conn,
        source.forks,
        global,
        &targets,
        "facts",
        |t, transport, emit| {
            emit(Event::Step("facts".into()));
            collect::collect(&t.name, transport.as_ref())
        },
    )?;
    let mut facts = Vec::with_capacity(outcomes.len());
    let mut failed = Vec::new();
    for o in outcomes {
        match o.result {
            Ok(c) => facts.push(c.facts),
            Err(chain) => failed.push(format!("{}: {}", o.name, chain.join(": "))),
        }
    }
    if failed.is_empty() {
        Ok(facts)
    } else {
        Err(HostsFailed(failed).into())
    }
}

/// The hosts' facts (sorted by name) and the cluster section.
pub struct Loaded {
    pub hosts: Vec<HostFacts>,
    pub cluster: Cluster,
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

/// Checks the cluster section against the hosts it may name; one line per mistake, each
/// prefixed with the file the section came from.
fn validate(cluster: &Cluster, known: &[String], origin: &str) -> anyhow::Result<()> {
    cluster.validate(known).map_err(|errs| {
        anyhow::anyhow!(
            "{}",
            errs.0
                .iter()
                .map(|e| format!("{origin}: {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// Loads the cluster section (validated) and the facts: from `--facts DIR`, or live from the
/// inventory's hosts over SSH.
pub fn load(source: &Source, global: &Global) -> anyhow::Result<Loaded> {
    let inventory = source
        .inventory
        .as_deref()
        .map(|path| crate::inventory::load(path, &Options::default()))
        .transpose()?;
    let inventory_hosts: Vec<String> = inventory
        .iter()
        .flat_map(|inv| inv.hosts.iter().map(|h| h.name.clone()))
        .collect();
    let (cluster, cluster_origin) = match (&source.cluster, &inventory) {
        (Some(path), _) => (read_cluster_file(path)?, path.display().to_string()),
        (None, Some(inv)) => (
            inv.cluster.clone().unwrap_or_default(),
            inv.path.display().to_string(),
        ),
        (None, None) => (Cluster::default(), "cluster".into()),
    };
    let Some(dir) = &source.facts else {
        let Some(inventory) = &inventory else {
            bail!(
                "give the inventory (-i INV) to gather facts from its hosts, or saved facts with --facts DIR"
            );
        };
        let members = if cluster.hosts.is_empty() {
            inventory_hosts.clone()
        } else {
            cluster.hosts.clone()
        };
        validate(&cluster, &inventory_hosts, &cluster_origin)?;
        let mut hosts = gather(inventory, &members, source, global)?;
        hosts.sort_by(|a, b| a.name.cmp(&b.name));
        return Ok(Loaded { hosts, cluster });
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
    validate(&cluster, &known, &cluster_origin)?;
    let mut hosts = Vec::with_capacity(members.len());
    for name in &members {
        let path = dir.join(format!("{name}.json"));
        if !path.exists() {
            bail!(
                "{}: no facts for host {name:?}: gather them with `esxforge host facts -i INV --host {name} --save {}`",
                path.display(),
                dir.display()
            );
        }
        let facts = HostFacts::read(&path)?;
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

fn vmotion(args: VmotionArgs, global: &Global) -> anyhow::Result<Status> {
    let loaded = load(&args.source, global)?;
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
    if args.format == Format::Text {
        // Which VMs can go where: errors block one VM on one host, or (host findings) every
        // powered-on VM on that pair.
        let host_errors: Vec<&str> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error && f.vm.is_none())
            .filter_map(|f| f.host.as_deref())
            .collect();
        let blocked = |vm: VmId, dst: HostId| {
            let v = view.vm(vm);
            let (src, d) = (view.host(v.host).name, view.host(dst).name);
            findings.iter().any(|f| {
                f.severity == Severity::Error
                    && f.vm.as_deref() == Some(v.name)
                    && (f.host.as_deref() == Some(d) || f.host.as_deref() == Some(src))
            }) || (v.powered_on() && (host_errors.contains(&d) || host_errors.contains(&src)))
        };
        let mut moves = 0usize;
        let mut ok = 0usize;
        for &vm in &vms {
            for &dst in dests.iter().filter(|&&d| d != view.vm(vm).host) {
                moves += 1;
                if !blocked(vm, dst) {
                    ok += 1;
                }
            }
        }
        print!("{}", render_text(&findings));
        println!("{ok} of {moves} moves (VM to host) have no errors");
        return Ok(Status::findings_if(preflight::has_errors(&findings)));
    }
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

fn cluster(args: ClusterArgs, global: &Global) -> anyhow::Result<Status> {
    let loaded = load(&args.source, global)?;
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
    /// The folder to write `<host>.json` and `inventory.yaml` into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// An inventory for synthetic hosts: the addresses and names `synth::host` gives them, and the
/// cluster section.
fn synth_inventory(hosts: &[HostFacts], cluster: &Cluster) -> anyhow::Result<String> {
    use serde_yaml::{Mapping, Value};
    let defaults: Value = serde_yaml::from_str(
        r#"
esxi: "8.0U2"
accept_eula: true
rootpw:
  # SHA-512 crypt of "VMware1!" (a synthetic lab).
  hash: "$6$esxforgelab$3vPU8GSYxfmC4aYCOYrs.x9X5eNA4xVrlkLKGNJ2UPP.iygMFWuZtEij8pqqoQjxHWclOcrWr9XyZdvzFFjgg0"
network: {device: vmnic0, netmask: 255.255.255.0, gateway: 10.0.0.1, domain: lab.example}
dns: {servers: [10.0.0.2, 10.0.0.3], search: [lab.example]}
"#,
    )?;
    let mut host_map = Mapping::new();
    for h in hosts {
        let ip = h.vmknics.first().map(|v| v.ip.clone()).unwrap_or_default();
        let mut network = Mapping::new();
        network.insert("ip".into(), ip.into());
        let mut host = Mapping::new();
        host.insert("network".into(), Value::Mapping(network));
        host_map.insert(h.name.clone().into(), Value::Mapping(host));
    }
    let mut root = Mapping::new();
    root.insert("defaults".into(), defaults);
    root.insert("hosts".into(), Value::Mapping(host_map));
    root.insert("cluster".into(), serde_yaml::to_value(cluster)?);
    let mut text = String::from(
        "# Written by `esxforge preflight synth`: synthetic hosts for trying and benchmarking the preflight.\n",
    );
    text.push_str(&serde_yaml::to_string(&Value::Mapping(root))?);
    Ok(text)
}

fn synth_cmd(args: SynthArgs) -> anyhow::Result<Status> {
    if args.hosts == 0 || args.hosts > 4096 || args.vms > 1_000_000 {
        bail!("--hosts must be 1 to 4096 and --vms at most 1000000");
    }
    let (hosts, cluster) = synth::cluster(args.hosts, args.vms);
    for h in &hosts {
        let mut json = serde_json::to_string_pretty(h)?;
        json.push('\n');
        write_atomically(&args.out, &format!("{}.json", h.name), json.as_bytes())?;
    }
    write_atomically(
        &args.out,
        "inventory.yaml",
        synth_inventory(&hosts, &cluster)?.as_bytes(),
    )?;
    eprintln!(
        "wrote {} hosts ({} VMs) and inventory.yaml to {}",
        hosts.len(),
        args.vms,
        args.out.display()
    );
    Ok(Status::Clean)
}
