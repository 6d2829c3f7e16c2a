//! `esxforge ks`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use esxforge_kickstart::inventory::{EsxiVersion, Inventory, LoadError, Options};
use esxforge_kickstart::render::{self, Renderer};

use crate::report::{self, Global, Status};

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
struct RenderArgs {
    /// The inventory file.
    #[arg(short, long)]
    inventory: PathBuf,
    /// Where to write `<host>.ks.cfg` files (created if missing).
    #[arg(short, long, default_value = "out")]
    out: PathBuf,
    /// Render only these hosts (repeatable); all hosts by default.
    #[arg(long = "host", value_name = "NAME")]
    hosts: Vec<String>,
    /// Treat every host as this ESXi version (4.1 to 8.x), checked as such.
    #[arg(long, value_name = "VER", value_parser = parse_esxi)]
    esxi: Option<EsxiVersion>,
    /// Templates replacing the built-in ones, by file name (ks.cfg.j2, firstboot.sh.j2, ...).
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
}

fn parse_esxi(s: &str) -> Result<EsxiVersion, String> {
    s.parse().map_err(|e| format!("{s:?} {e}"))
}

/// Load an inventory for a command that needs it whole: its problems are input errors.
pub fn load_inventory(path: &std::path::Path, options: &Options) -> anyhow::Result<Inventory> {
    match Inventory::load_with(path, options) {
        Ok(inv) => Ok(inv),
        Err(LoadError::Invalid { path, problems }) => {
            let file = path.display();
            for p in problems
                .iter()
                .filter(|p| p.severity == esxforge_kickstart::inventory::Severity::Error)
            {
                match p.line {
                    Some(line) => eprintln!("{file}:{line}: {p}"),
                    None => eprintln!("{file}: {p}"),
                }
            }
            anyhow::bail!(
                "{file}: the inventory has errors (listed above; `esxforge inventory check {file}` shows warnings too)"
            )
        }
        Err(e) => Err(e.into()),
    }
}

fn render(args: RenderArgs, global: &Global) -> anyhow::Result<Status> {
    let options = Options { esxi: args.esxi };
    let inventory = load_inventory(&args.inventory, &options)?;
    let hosts = inventory.select(&args.hosts)?;
    let renderer = match &args.templates {
        Some(dir) => Renderer::with_templates(dir)?,
        None => Renderer::new(),
    };
    let bar = report::progress(global, hosts.len() as u64, "rendering");
    let written = render::write_all(&renderer, &inventory, &hosts, &args.out, &|| bar.inc(1))
        .with_context(|| format!("rendering into {}", args.out.display()))?;
    bar.finish_and_clear();
    if !global.quiet {
        eprintln!(
            "wrote {} kickstart{} to {}",
            written.len(),
            if written.len() == 1 { "" } else { "s" },
            args.out.display()
        );
    }
    Ok(Status::Clean)
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
