//! `esxforge host`.

use clap::Subcommand;

use crate::report::{Global, Status};

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
        Command::Cpu(args) => cpu(args, global),
    }
}

// ---- host facts

#[derive(clap::Args)]
struct FactsArgs {}

fn facts(_args: FactsArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge host facts` is not implemented yet")
}

// ---- host apply

#[derive(clap::Args)]
struct ApplyArgs {}

fn apply(_args: ApplyArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge host apply` is not implemented yet")
}

// ---- host backup

#[derive(clap::Args)]
struct BackupArgs {}

fn backup(_args: BackupArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge host backup` is not implemented yet")
}

// ---- host restore

#[derive(clap::Args)]
struct RestoreArgs {}

fn restore(_args: RestoreArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge host restore` is not implemented yet")
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

fn cpu(args: CpuArgs, _global: &Global) -> anyhow::Result<Status> {
    use esxforge_hostcfg::preflight::cpu::{CpuReport, HostCpu, baseline};

    let loaded = crate::preflight::load(&args.source)?;
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
