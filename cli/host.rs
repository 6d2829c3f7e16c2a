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
struct CpuArgs {}

fn cpu(_args: CpuArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge host cpu` is not implemented yet")
}
