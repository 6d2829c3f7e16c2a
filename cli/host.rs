//! `esxforge host`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use esxforge_hostcfg::apply::{self, ApplyReport, Status as ItemStatus};
use esxforge_hostcfg::backup::{self, BackupReport, RestoreOptions, RestoreReport};
use esxforge_hostcfg::collect::{self, Collected};
use esxforge_hostcfg::desired::DesiredState;
use esxforge_hostcfg::fleet::{self, Event, HostOutcome, Shard, Target};
use esxforge_hostcfg::transport::{
    Credentials, Endpoint, HostKeyPolicy, PasswordSource, Secret, SshOptions,
};
use esxforge_kickstart::inventory::Options;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};

use crate::report::{Format, Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Gather facts from hosts over SSH.
    Facts(FactsArgs),
    /// Apply the inventory's desired configuration (idempotent; --check, --diff).
    Apply(ApplyArgs),
    /// Back up host configuration bundles.
    Backup(BackupArgs),
    /// Restore a configuration bundle to a host.
    Restore(RestoreArgs),
    /// Per-host CPU report and the common EVC baseline.
    Cpu(CpuArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Facts(args) => facts(args, global),
        Command::Apply(args) => apply(args, global),
        Command::Backup(args) => backup(args, global),
        Command::Restore(args) => restore(args, global),
        Command::Cpu(args) => crate::preflight::failed_hosts_exit_1(cpu(args, global)),
    }
}

// ---- shared by facts, apply, backup and restore: which hosts, and how to reach them

/// Which hosts, and how to reach them over SSH. Secrets never come from argv: the password is
/// read from `ESXFORGE_SSH_PASSWORD`, `--password-file`, or a prompt on a terminal.
#[derive(clap::Args)]
struct Fleet {
    /// The inventory (YAML).
    #[arg(short, long, value_name = "INV")]
    inventory: PathBuf,
    /// Only these hosts (repeatable); default: every host of the inventory.
    #[arg(long = "host", value_name = "NAME")]
    hosts: Vec<String>,
    /// Hosts worked on at the same time.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    forks: u16,
    /// Run only shard I of N (0-based): hosts sorted by name, dealt round-robin.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    #[command(flatten)]
    conn: Connection,
}

/// How to reach hosts over SSH (shared with `preflight`, which collects facts live).
#[derive(clap::Args)]
pub struct Connection {
    /// Seconds before a connection attempt, or a host that stops answering, fails.
    #[arg(long, value_name = "S", default_value_t = 30)]
    timeout: u64,
    /// Private key file for public-key authentication.
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
    /// Host keys to check against [default: ~/.ssh/known_hosts].
    #[arg(long, value_name = "FILE")]
    known_hosts: Option<PathBuf>,
    /// Record the key of a host not yet in known_hosts (a changed key is still refused).
    #[arg(long, conflicts_with = "insecure")]
    accept_new: bool,
    /// Do not check host keys at all.
    #[arg(long)]
    insecure: bool,
    /// Read the SSH password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

/// One selected host: where it is and what the inventory wants it to be.
struct Selected {
    target: Target,
    desired: DesiredState,
}

impl AsRef<Target> for Selected {
    fn as_ref(&self) -> &Target {
        &self.target
    }
}

impl Fleet {
    fn select(&self) -> anyhow::Result<Vec<Selected>> {
        let inventory = crate::inventory::load(&self.inventory, &Options::default())?;
        let hosts = inventory.select(&self.hosts)?;
        let mut selected: Vec<Selected> = hosts
            .into_iter()
            .map(|h| Selected {
                target: Target {
                    name: h.name.clone(),
                    endpoint: Endpoint {
                        address: h.address.clone(),
                        port: h.ssh_port,
                        user: h.ssh_user.clone(),
                    },
                },
                desired: esxforge_hostcfg::desired::from_inventory(h),
            })
            .collect();
        if let Some(shard) = self.shard {
            let keep: Vec<String> = shard
                .select(
                    &selected
                        .iter()
                        .map(|s| s.target.clone())
                        .collect::<Vec<_>>(),
                )
                .into_iter()
                .map(|t| t.name)
                .collect();
            selected.retain(|s| keep.contains(&s.target.name));
            selected.sort_by(|a, b| a.target.name.cmp(&b.target.name));
        }
        Ok(selected)
    }

    fn ssh(&self, global: &Global) -> anyhow::Result<SshOptions> {
        self.conn.ssh(global)
    }
}

impl Connection {
    fn ssh(&self, global: &Global) -> anyhow::Result<SshOptions> {
        let host_keys = if self.insecure {
            HostKeyPolicy::Insecure
        } else {
            let file = match &self.known_hosts {
                Some(f) => f.clone(),
                None => std::env::var_os("HOME")
                    .map(|h| Path::new(&h).join(".ssh/known_hosts"))
                    .context("HOME is not set: give --known-hosts FILE")?,
            };
            if self.accept_new {
                HostKeyPolicy::AcceptNew(file)
            } else {
                HostKeyPolicy::Strict(file)
            }
        };
        let password = if let Some(p) = std::env::var_os("ESXFORGE_SSH_PASSWORD") {
            PasswordSource::known(Some(Secret::new(p.to_string_lossy().into_owned())))
        } else if let Some(file) = &self.password_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("{}: cannot read the password file", file.display()))?;
            let first = text.lines().next().unwrap_or("").to_string();
            PasswordSource::known(Some(Secret::new(first)))
        } else if !global.quiet && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
        {
            PasswordSource::ask(Box::new(|| {
                let term = console::Term::stderr();
                let _ = term.write_str("SSH password: ");
                term.read_secure_line().ok().map(Secret::new)
            }))
        } else {
            PasswordSource::none()
        };
        let mut options = SshOptions::new(
            host_keys,
            Credentials {
                identity: self.identity.clone(),
                use_agent: true,
                password,
            },
        );
        options.timeout = Duration::from_secs(self.timeout.max(1));
        Ok(options)
    }
}

/// Per-host progress bars plus a total, driven by fleet events; all hidden off a terminal.
struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    hosts: Mutex<BTreeMap<String, ProgressBar>>,
    global_quiet: bool,
}

impl Bars {
    fn new(global: &Global, hosts: usize, what: &str) -> Bars {
        let total = crate::report::progress(global, hosts as u64, what);
        let multi = if total.is_hidden() {
            MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
        } else {
            MultiProgress::new()
        };
        let total = multi.add(total);
        Bars {
            multi,
            total,
            hosts: Mutex::new(BTreeMap::new()),
            global_quiet: global.quiet,
        }
    }

    fn event(&self, global: &Global, host: &str, event: Event) {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let bar = hosts.entry(host.to_string()).or_insert_with(|| {
            let bar = crate::report::progress(global, 1, host);
            if self.total.is_hidden() || self.global_quiet {
                bar
            } else {
                self.multi.insert_before(&self.total, bar)
            }
        });
        match event {
            Event::Connecting => bar.set_message(format!("{host}: connecting")),
            Event::Step(step) => bar.set_message(format!("{host}: {step}")),
            Event::Bytes(n) => bar.set_message(format!("{host}: {} KiB", n / 1024)),
            Event::Finished { ok } => {
                bar.finish_with_message(format!("{host}: {}", if ok { "ok" } else { "FAILED" }));
                self.total.inc(1);
            }
        }
    }

    fn done(&self) {
        self.total.finish_and_clear();
        let _ = self.multi.clear();
    }
}

/// Runs `job` over the selected hosts with progress bars, one connection per host.
fn run_fleet<R: Send, E: std::error::Error>(
    fleet: &Fleet,
    global: &Global,
    selected: &[Selected],
    what: &str,
    job: impl Fn(
        &Selected,
        Box<dyn esxforge_hostcfg::transport::Transport>,
        &dyn Fn(Event),
    ) -> Result<R, E>
    + Sync,
) -> anyhow::Result<Vec<HostOutcome<R>>> {
    run_hosts(&fleet.conn, fleet.forks, global, selected, what, job)
}

/// [`run_fleet`] for any items that carry a [`Target`] (the preflight passes bare targets).
pub fn run_hosts<T: AsRef<Target> + Sync, R: Send, E: std::error::Error>(
    conn: &Connection,
    forks: u16,
    global: &Global,
    selected: &[T],
    what: &str,
    job: impl Fn(&T, Box<dyn esxforge_hostcfg::transport::Transport>, &dyn Fn(Event)) -> Result<R, E>
    + Sync,
) -> anyhow::Result<Vec<HostOutcome<R>>> {
    let options = conn.ssh(global)?;
    let bars = Bars::new(global, selected.len(), what);
    let outcomes = fleet::run(
        selected,
        usize::from(forks),
        &options,
        job,
        |host, event| bars.event(global, host, event),
    );
    bars.done();
    Ok(outcomes)
}

fn failed_any<R>(outcomes: &[HostOutcome<R>]) -> bool {
    outcomes.iter().any(|o| o.result.is_err())
}

fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// `host  ok|FAILED  1.2s  detail` for every host, failures with their causes.
fn print_summary<R>(outcomes: &[HostOutcome<R>], detail: impl Fn(&R) -> String) {
    let width = outcomes
        .iter()
        .map(|o| o.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{:width$}  {:6}  {:>7}  DETAIL", "HOST", "RESULT", "TIME");
    for o in outcomes {
        let secs = format!("{:.1}s", o.elapsed.as_secs_f64());
        match &o.result {
            Ok(r) => println!("{:width$}  {:6}  {secs:>7}  {}", o.name, "ok", detail(r)),
            Err(chain) => {
                println!(
                    "{:width$}  {:6}  {secs:>7}  {}",
                    o.name,
                    "FAILED",
                    chain.first().map(String::as_str).unwrap_or("")
                );
                for cause in chain.iter().skip(1) {
                    println!("{:width$}  {:6}  {:>7}  caused by: {cause}", "", "", "");
                }
            }
        }
    }
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    println!(
        "{} host(s): {} ok, {failed} failed",
        outcomes.len(),
        outcomes.len().saturating_sub(failed)
    );
}

/// `[{"host", "ok", "result" | "error"}]` for every host.
fn print_outcomes_json<R: serde::Serialize>(outcomes: &[HostOutcome<R>]) {
    print_json(&serde_json::Value::Array(
        outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(r) => serde_json::json!({ "host": o.name, "ok": true, "result": r }),
                Err(chain) => serde_json::json!({ "host": o.name, "ok": false, "error": chain }),
            })
            .collect(),
    ));
}

/// Writes `dir/name` through a temporary file in `dir`, so a reader never sees half of it.
/// The CLI's one atomic writer (`preflight synth` uses it too).
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let path = dir.join(name);
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
    temp.write_all(bytes)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    temp.persist(&path)
        .with_context(|| format!("{}: cannot move into place", path.display()))?;
    Ok(path)
}

// ---- host facts

#[derive(clap::Args)]
struct FactsArgs {
    #[command(flatten)]
    fleet: Fleet,
    /// Also write every host's facts to DIR/<host>.json (the preflight's offline input).
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn facts(args: FactsArgs, global: &Global) -> anyhow::Result<Status> {
    let selected = args.fleet.select()?;
    let save = args.save.clone();
    let outcomes = run_fleet(
        &args.fleet,
        global,
        &selected,
        "facts",
        |sel, transport, emit| {
            emit(Event::Step("facts".into()));
            let collected = collect::collect(&sel.target.name, transport.as_ref())?;
            if let Some(dir) = &save {
                let mut json = serde_json::to_string_pretty(&collected.facts).unwrap_or_default();
                json.push('\n');
                write_atomically(dir, &format!("{}.json", sel.target.name), json.as_bytes())
                    .map_err(|e| SaveError(format!("{e:#}")))?;
            }
            Ok::<Collected, FactsJobError>(collected)
        },
    )?;
    match args.format {
        Format::Json => print_json(&serde_json::Value::Array(
            outcomes
                .iter()
                .map(|o| match &o.result {
                    Ok(c) => serde_json::json!({ "host": o.name, "ok": true, "facts": c.facts, "notes": c.notes }),
                    Err(chain) => serde_json::json!({ "host": o.name, "ok": false, "error": chain }),
                })
                .collect(),
        )),
        Format::Text => {
            for o in &outcomes {
                if let Ok(c) = &o.result {
                    print_facts(c);
                }
            }
            print_summary(&outcomes, |c: &Collected| {
                format!("{} notes", c.notes.len())
            });
        }
    }
    Ok(Status::findings_if(failed_any(&outcomes)))
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SaveError(String);

#[derive(Debug, thiserror::Error)]
enum FactsJobError {
    #[error(transparent)]
    Collect(#[from] collect::CollectError),
    #[error(transparent)]
    Save(#[from] SaveError),
}

fn print_facts(c: &Collected) {
    let f = &c.facts;
    println!("{}", f.name);
    println!(
        "  ESXi         {} {} build {} ({})",
        f.version.product, f.version.version, f.version.build, f.fqdn
    );
    println!("  uuid         {}", f.uuid);
    println!(
        "  hardware     {} {}, {} GiB, maintenance mode {}",
        f.hardware.vendor,
        f.hardware.model,
        f.hardware.memory_bytes / (1 << 30),
        if f.maintenance_mode { "on" } else { "off" }
    );
    for p in &f.cpu.pkgs {
        println!(
            "  cpu {}        {} {} family {} model {} stepping {}",
            p.index, p.vendor, p.description, p.family, p.model, p.stepping
        );
    }
    for n in &f.nics {
        println!(
            "  nic          {} {} {} Mb/s mtu {}",
            n.name,
            if n.link_up { "up" } else { "down" },
            n.speed_mbps,
            n.mtu
        );
    }
    for v in &f.vswitches {
        println!(
            "  vswitch      {} mtu {} uplinks [{}] {} active [{}] standby [{}]",
            v.name,
            v.mtu,
            v.uplinks.join(", "),
            v.teaming.load_balancing,
            v.teaming.active.join(", "),
            v.teaming.standby.join(", ")
        );
    }
    for p in &f.portgroups {
        println!(
            "  portgroup    {:?} on {} vlan {}",
            p.name, p.vswitch, p.vlan
        );
    }
    for k in &f.vmknics {
        println!(
            "  vmknic       {} {}/{} on {:?} tags [{}]",
            k.name,
            k.ip,
            k.netmask,
            k.portgroup,
            k.tags.join(", ")
        );
    }
    if let Some(i) = &f.iscsi {
        println!(
            "  iscsi        {} {} bound [{}] targets [{}]",
            if i.enabled { "enabled" } else { "disabled" },
            i.adapter,
            i.bound_vmknics.join(", "),
            i.send_targets.join(", ")
        );
    }
    for d in &f.datastores {
        println!(
            "  datastore    {:?} {} {} GiB free of {}",
            d.name,
            d.fs_type,
            d.free_bytes / (1 << 30),
            d.size_bytes / (1 << 30)
        );
    }
    println!(
        "  dns          [{}] search [{}]",
        f.dns.servers.join(", "),
        f.dns.search.join(", ")
    );
    println!(
        "  ntp          {} [{}]",
        if f.ntp.enabled { "enabled" } else { "disabled" },
        f.ntp.servers.join(", ")
    );
    println!(
        "  syslog       {} [{}]",
        f.syslog.logdir,
        f.syslog.loghosts.join(", ")
    );
    for vm in &f.vms {
        println!(
            "  vm {:<9} {:?} {} {} vCPU {} MB, {} devices, {} snapshots",
            vm.vmid,
            vm.name,
            if vm.powered_on { "on" } else { "off" },
            vm.num_cpu,
            vm.memory_mb,
            vm.devices.len(),
            vm.snapshots.len()
        );
    }
    for note in &c.notes {
        println!("  note         {note}");
    }
}

// ---- host apply

#[derive(clap::Args)]
struct ApplyArgs {
    #[command(flatten)]
    fleet: Fleet,
    /// Only show what would change; change nothing.
    #[arg(long)]
    check: bool,
    /// Show the host's and the wanted value of every changed item.
    #[arg(long)]
    diff: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn apply(args: ApplyArgs, global: &Global) -> anyhow::Result<Status> {
    let selected = args.fleet.select()?;
    let check = args.check;
    let outcomes = run_fleet(
        &args.fleet,
        global,
        &selected,
        "apply",
        |sel, transport, emit| {
            apply::apply(
                &sel.target.name,
                transport.as_ref(),
                &sel.desired,
                check,
                &mut |step| emit(Event::Step(step.to_string())),
            )
        },
    )?;
    let item_failed = outcomes
        .iter()
        .any(|o| o.result.as_ref().is_ok_and(ApplyReport::failed));
    match args.format {
        Format::Json => print_outcomes_json(&outcomes),
        Format::Text => {
            for o in &outcomes {
                if let Ok(r) = &o.result {
                    print_apply(r, args.diff);
                }
            }
            print_summary(&outcomes, |r: &ApplyReport| {
                let changed = if r.check {
                    r.count(|s| matches!(s, ItemStatus::WouldChange))
                } else {
                    r.count(|s| matches!(s, ItemStatus::Changed))
                };
                format!(
                    "ok={} {}={changed} failed={} not-run={}",
                    r.count(|s| matches!(s, ItemStatus::Ok)),
                    if r.check { "would-change" } else { "changed" },
                    r.count(|s| matches!(s, ItemStatus::Failed(_))),
                    r.count(|s| matches!(s, ItemStatus::NotRun)),
                )
            });
        }
    }
    Ok(Status::findings_if(failed_any(&outcomes) || item_failed))
}

fn print_apply(r: &ApplyReport, diff: bool) {
    println!(
        "{}{}",
        r.host,
        if r.check {
            " (check mode: nothing changed)"
        } else {
            ""
        }
    );
    for item in &r.items {
        let (word, detail) = match &item.status {
            ItemStatus::Ok => ("ok", String::new()),
            ItemStatus::Changed => ("changed", String::new()),
            ItemStatus::WouldChange => ("would change", String::new()),
            ItemStatus::Failed(why) => ("FAILED", format!(": {why}")),
            ItemStatus::NotRun => ("not run", String::new()),
        };
        println!("  {word:<12} {}{detail}", item.item);
        if diff {
            if let (Some(before), Some(after)) = (&item.before, &item.after) {
                println!("    - {before}");
                println!("    + {after}");
            }
        }
    }
}

// ---- host backup

#[derive(clap::Args)]
struct BackupArgs {
    #[command(flatten)]
    fleet: Fleet,
    /// Bundles go to DIR/<host>/ with a JSON manifest each.
    #[arg(long, value_name = "DIR")]
    dest: PathBuf,
    /// Keep the newest N bundles per host (older ones are removed after the new one is verified).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    keep: Option<u32>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn backup(args: BackupArgs, global: &Global) -> anyhow::Result<Status> {
    let selected = args.fleet.select()?;
    let keep = args.keep.map(|k| k as usize);
    let outcomes = run_fleet(
        &args.fleet,
        global,
        &selected,
        "backup",
        |sel, transport, emit| {
            backup::backup(
                &sel.target.name,
                transport.as_ref(),
                &args.dest,
                keep,
                &mut |step| emit(step.into()),
            )
        },
    )?;
    match args.format {
        Format::Json => print_outcomes_json(&outcomes),
        Format::Text => print_summary(&outcomes, |r: &BackupReport| {
            let mut s = format!(
                "{} ({} bytes, sha256 {})",
                r.path.display(),
                r.manifest.size,
                r.manifest.sha256.get(..12).unwrap_or("")
            );
            if !r.pruned.is_empty() {
                s.push_str(&format!(", pruned {}", r.pruned.join(", ")));
            }
            s
        }),
    }
    Ok(Status::findings_if(failed_any(&outcomes)))
}

// ---- host restore

#[derive(clap::Args)]
struct RestoreArgs {
    #[command(flatten)]
    fleet: Fleet,
    /// The configuration bundle (.tgz) to restore; the host reboots.
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    /// Restore even if the bundle's UUID or build differs from the host's.
    #[arg(long)]
    force: bool,
    /// Enter maintenance mode first instead of refusing.
    #[arg(long)]
    enter_maintenance: bool,
    /// Seconds to wait for the host to come back after its reboot.
    #[arg(long, value_name = "S", default_value_t = 900)]
    reboot_timeout: u64,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn restore(args: RestoreArgs, global: &Global) -> anyhow::Result<Status> {
    let selected = args.fleet.select()?;
    if selected.len() != 1 {
        anyhow::bail!(
            "host restore works on one host at a time; {} are selected (use --host NAME)",
            selected.len()
        );
    }
    let ssh = args.fleet.ssh(global)?;
    let options = RestoreOptions {
        bundle: args.bundle.clone(),
        force: args.force,
        enter_maintenance: args.enter_maintenance,
        reboot_timeout: Duration::from_secs(args.reboot_timeout),
    };
    let outcomes = run_fleet(
        &args.fleet,
        global,
        &selected,
        "restore",
        |sel, transport, emit| {
            backup::restore(
                transport,
                &sel.target.endpoint,
                &ssh,
                &options,
                &mut |step| emit(step.into()),
            )
        },
    )?;
    match args.format {
        Format::Json => print_outcomes_json(&outcomes),
        Format::Text => print_summary(&outcomes, |r: &RestoreReport| {
            format!(
                "restored {} (host {} build {}, back after {} s{})",
                r.bundle,
                r.uuid,
                r.build,
                r.back_after_secs,
                if r.entered_maintenance {
                    ", entered maintenance mode"
                } else {
                    ""
                }
            )
        }),
    }
    Ok(Status::findings_if(failed_any(&outcomes)))
}

// ---- host cpu

#[derive(clap::Args)]
struct CpuArgs {
    #[command(flatten)]
    source: crate::preflight::Source,
    /// Report only these hosts (the common baseline is still over all of them).
    #[arg(long = "host", value_name = "NAME")]
    hosts: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    format: crate::report::Format,
}

/// `host cpu --format json`: one report per host and the common baseline.
#[derive(serde::Serialize)]
struct CpuOutput {
    hosts: Vec<esxforge_hostcfg::preflight::cpu::CpuReport>,
    common: esxforge_hostcfg::preflight::cpu::Baseline,
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

fn cpu(args: CpuArgs, global: &Global) -> anyhow::Result<Status> {
    use esxforge_hostcfg::preflight::cpu::{CpuReport, HostCpu, baseline};

    let loaded = crate::preflight::load(&args.source, global)?;
    let mut cpus: Vec<(&str, HostCpu)> = Vec::new();
    for h in &loaded.hosts {
        let cpu = HostCpu::from_facts(&h.cpu).map_err(|e| anyhow::anyhow!("{}: {e}", h.name))?;
        cpus.push((h.name.as_str(), cpu));
    }
    for want in &args.hosts {
        if !cpus.iter().any(|(n, _)| n == want) {
            anyhow::bail!("no host named {want:?} in the facts");
        }
    }
    let refs: Vec<(&str, &HostCpu)> = cpus.iter().map(|(n, c)| (*n, c)).collect();
    let out = CpuOutput {
        hosts: cpus
            .iter()
            .filter(|(n, _)| args.hosts.is_empty() || args.hosts.iter().any(|w| w == n))
            .map(|(n, c)| CpuReport::new(n, c))
            .collect(),
        common: baseline(&refs),
    };
    match args.format {
        crate::report::Format::Json => println!("{}", serde_json::to_string_pretty(&out)?),
        crate::report::Format::Text => print!("{}", render_cpu(&out)),
    }
    Ok(Status::Clean)
}

fn render_cpu(out: &CpuOutput) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    if let [r] = out.hosts.as_slice() {
        let rows: [(&str, String); 14] = [
            ("host", r.host.clone()),
            ("vendor", r.vendor.clone()),
            ("model name", r.description.clone()),
            (
                "family / model / stepping",
                format!("{:#x} / {:#x} / {}", r.family, r.model, r.stepping),
            ),
            (
                "microarchitecture",
                r.microarchitecture
                    .unwrap_or("unknown (not in the EVC table)")
                    .to_string(),
            ),
            (
                "packages / cores / threads",
                format!("{} / {} / {}", r.packages, r.cores, r.threads),
            ),
            ("clock", format!("{} MHz", r.mhz)),
            ("SSE level", r.sse.unwrap_or("?").to_string()),
            ("NX/XD", yes_no(r.nx).to_string()),
            (
                "hardware virtualization",
                yes_no(r.hardware_virtualization).to_string(),
            ),
            ("64-bit (long mode)", yes_no(r.long_mode).to_string()),
            (
                "all CPUs identical",
                if r.identical_packages {
                    "yes".into()
                } else {
                    format!("no: {}", r.package_differences.join("; "))
                },
            ),
            (
                "highest EVC mode",
                match (r.evc_mode, r.evc_verified) {
                    (Some(m), Some(false)) => format!("{m} (unverified table row)"),
                    (Some(m), _) => m.to_string(),
                    (None, _) => "unknown".into(),
                },
            ),
            ("features", r.features.join(" ")),
        ];
        for (k, v) in rows {
            let _ = writeln!(s, "{k:<27} {v}");
        }
        return s;
    }
    let head = [
        "HOST",
        "VENDOR",
        "FAM",
        "MODEL",
        "STEP",
        "MICROARCHITECTURE",
        "PKG",
        "CORES",
        "THR",
        "SSE",
        "NX",
        "VT",
        "64",
        "SAME",
        "EVC",
    ];
    let rows: Vec<[String; 15]> = out
        .hosts
        .iter()
        .map(|r| {
            [
                r.host.clone(),
                r.vendor.clone(),
                format!("{:#x}", r.family),
                format!("{:#x}", r.model),
                r.stepping.to_string(),
                r.microarchitecture.unwrap_or("unknown").to_string(),
                r.packages.to_string(),
                r.cores.to_string(),
                r.threads.to_string(),
                r.sse.unwrap_or("?").to_string(),
                yes_no(r.nx).into(),
                yes_no(r.hardware_virtualization).into(),
                yes_no(r.long_mode).into(),
                if r.identical_packages { "yes" } else { "no" }.into(),
                match (r.evc_mode, r.evc_verified) {
                    (Some(m), Some(false)) => format!("{m}*"),
                    (Some(m), _) => m.to_string(),
                    (None, _) => "?".into(),
                },
            ]
        })
        .collect();
    let mut widths = head.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let _ = writeln!(s, "{}", line(&head.map(String::from)));
    for row in &rows {
        let _ = writeln!(s, "{}", line(row));
    }
    let c = &out.common;
    s.push('\n');
    if !c.vendors.is_empty() {
        let groups: Vec<String> = c
            .vendors
            .iter()
            .map(|(v, h)| format!("{v}: {}", h.join(", ")))
            .collect();
        let _ = writeln!(
            s,
            "no common baseline: CPU vendors differ ({})",
            groups.join("; ")
        );
    } else {
        match c.mode {
            Some(m) => {
                let _ = write!(s, "common EVC baseline: {m} ({})", c.mode_name.unwrap_or(m));
                if !c.limiting.is_empty() {
                    let _ = write!(s, "; limited by {}", c.limiting.join(", "));
                }
                s.push('\n');
            }
            None => {
                let _ = writeln!(
                    s,
                    "common EVC baseline: unknown (no host model in the EVC table)"
                );
            }
        }
        for (h, lost) in &c.lost {
            let _ = writeln!(s, "  {h} gives up: {}", lost.join(" "));
        }
    }
    if !c.unknown.is_empty() {
        let _ = writeln!(s, "not in the EVC table: {}", c.unknown.join(", "));
    }
    if out.hosts.iter().any(|r| r.evc_verified == Some(false)) {
        let _ = writeln!(
            s,
            "* from an unverified row of the EVC table (check against vCenter)"
        );
    }
    s
}
