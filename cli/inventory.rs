//! `esxforge inventory`.

use clap::Subcommand;

use crate::report::{Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate an inventory and print every problem.
    Check(CheckArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Check(args) => check(args, global),
    }
}

// ---- inventory check

#[derive(clap::Args)]
struct CheckArgs {}

fn check(_args: CheckArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge inventory check` is not implemented yet")
}
