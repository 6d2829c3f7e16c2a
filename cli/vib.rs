//! `esxforge vib`: not wired yet.

use crate::report::{Global, Status};

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge vib` is not implemented yet")
}
