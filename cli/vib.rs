//! `esxforge vib`.

use clap::Subcommand;

use crate::report::{Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Descriptor, payloads and checksum verification of a VIB or offline bundle.
    Inspect(InspectArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Inspect(args) => inspect(args, global),
    }
}

// ---- vib inspect

#[derive(clap::Args)]
struct InspectArgs {}

fn inspect(_args: InspectArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge vib inspect` is not implemented yet")
}
