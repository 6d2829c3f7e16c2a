//! `esxforge iso`.

use clap::Subcommand;

use crate::report::{Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Volume, boot catalog, ESXi version, BOOT.CFG modules and VIBs of an ISO.
    Inspect(InspectArgs),
    /// List the files of an ISO.
    Ls(LsArgs),
    /// Extract files from an ISO.
    Extract(ExtractArgs),
    /// Build a custom ESXi installer ISO from a source ISO.
    Build(BuildArgs),
    /// Verify boot records, BOOT.CFGs, modules and checksums of an ISO.
    Verify(VerifyArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Inspect(args) => inspect(args, global),
        Command::Ls(args) => ls(args, global),
        Command::Extract(args) => extract(args, global),
        Command::Build(args) => build(args, global),
        Command::Verify(args) => verify(args, global),
    }
}

// ---- iso inspect

#[derive(clap::Args)]
struct InspectArgs {}

fn inspect(_args: InspectArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge iso inspect` is not implemented yet")
}

// ---- iso ls

#[derive(clap::Args)]
struct LsArgs {}

fn ls(_args: LsArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge iso ls` is not implemented yet")
}

// ---- iso extract

#[derive(clap::Args)]
struct ExtractArgs {}

fn extract(_args: ExtractArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge iso extract` is not implemented yet")
}

// ---- iso build

#[derive(clap::Args)]
struct BuildArgs {}

fn build(_args: BuildArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge iso build` is not implemented yet")
}

// ---- iso verify

#[derive(clap::Args)]
struct VerifyArgs {}

fn verify(_args: VerifyArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge iso verify` is not implemented yet")
}
