//! Where `esxforge ks render` spends its time, in-process: loading and validating the
//! inventory, rendering every host into memory, and writing every file (temp file, 0600,
//! rename). `scripts/bench` runs it as `cargo bench -p esxforge-kickstart --bench render -- INV`;
//! without an inventory it renders `examples/lab.yaml`.
//! It prints figures; it asserts nothing. Loading resolves hosts on every core, as `ks render`
//! does; rendering and writing run on one thread here, to show their cost per host.

use std::path::PathBuf;
use std::time::Instant;

use esxforge_kickstart::inventory::Inventory;
use esxforge_kickstart::render::{Renderer, write_one};

/// The allocator of the `esxforge` binary, so that the split is the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // cargo passes `--bench` to harness-less benches; the inventory is the first other argument.
    // Without one (`cargo test --all-targets` runs benches once, with no arguments) it renders
    // the bundled example, so the bench is at least known to run.
    let path: PathBuf = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/lab.yaml"));

    let start = Instant::now();
    let inventory = Inventory::load(&path)?;
    let load = start.elapsed();
    let hosts = inventory.select(&[])?;

    let renderer = Renderer::new();
    let start = Instant::now();
    let texts = hosts
        .iter()
        .map(|h| renderer.render(h, &inventory.salt_seed))
        .collect::<Result<Vec<String>, _>>()?;
    let render = start.elapsed();

    let out = tempfile::tempdir()?;
    let start = Instant::now();
    for (host, text) in hosts.iter().zip(&texts) {
        write_one(out.path(), &host.name, text)?;
    }
    let write = start.elapsed();

    let total = (load + render + write).as_secs_f64();
    let share = |d: std::time::Duration| 100.0 * d.as_secs_f64() / total;
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "{} hosts, {:.1} MB of kickstarts (load on every core, render and write on one):",
        hosts.len(),
        bytes as f64 / 1e6
    );
    println!(
        "  load + validate inventory  {:>8.1} ms  {:>5.1} %",
        load.as_secs_f64() * 1e3,
        share(load)
    );
    println!(
        "  render (in memory)         {:>8.1} ms  {:>5.1} %  {:.1} us/host",
        render.as_secs_f64() * 1e3,
        share(render),
        render.as_secs_f64() * 1e6 / hosts.len() as f64
    );
    println!(
        "  write (temp, 0600, rename) {:>8.1} ms  {:>5.1} %  {:.1} us/file",
        write.as_secs_f64() * 1e3,
        share(write),
        write.as_secs_f64() * 1e6 / hosts.len() as f64
    );
    Ok(())
}
