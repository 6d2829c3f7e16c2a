//! `esxforge preflight`.

use clap::Subcommand;

use crate::report::{Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check whether VMs can be moved to a host.
    Vmotion(VmotionArgs),
    /// Maintenance-mode evacuation, HA failures tolerated and DRS rules.
    Cluster(ClusterArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Vmotion(args) => vmotion(args, global),
        Command::Cluster(args) => cluster(args, global),
    }
}

// ---- preflight vmotion

#[derive(clap::Args)]
struct VmotionArgs {}

fn vmotion(_args: VmotionArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge preflight vmotion` is not implemented yet")
}

// ---- preflight cluster

#[derive(clap::Args)]
struct ClusterArgs {}

fn cluster(_args: ClusterArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge preflight cluster` is not implemented yet")
}
