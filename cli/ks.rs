//! `esxforge ks`.

use clap::Subcommand;

use crate::report::{Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render one kickstart per host of an inventory.
    Render(RenderArgs),
    /// Lint kickstart files as the ESXi installer reads them, plus stricter checks.
    Lint(LintArgs),
    /// Serve each host's kickstart over HTTP, by MAC, IP or name.
    Serve(ServeArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Render(args) => render(args, global),
        Command::Lint(args) => lint(args, global),
        Command::Serve(args) => serve(args, global),
    }
}

// ---- ks render

#[derive(clap::Args)]
struct RenderArgs {}

fn render(_args: RenderArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge ks render` is not implemented yet")
}

// ---- ks lint

#[derive(clap::Args)]
struct LintArgs {}

fn lint(_args: LintArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge ks lint` is not implemented yet")
}

// ---- ks serve

#[derive(clap::Args)]
struct ServeArgs {}

fn serve(_args: ServeArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge ks serve` is not implemented yet")
}
