mod common;
use common::esxi_iso::{self, ModernSpec, VibSpec};
#[test]
fn scratch() {
    let dir = std::path::Path::new("/tmp/em/t");
    let iso = esxi_iso::modern_iso(dir, &ModernSpec { uefi_probes: vec!["/net_test.v00".into(), "/net_old.v00".into(), "/ks.cfg".into()], ..ModernSpec::default() });
    let vib = esxi_iso::vib(dir, &VibSpec::driver("net-test", "1.0-1"));
    let old2 = esxi_iso::vib(dir, &VibSpec { seed: 5, ..VibSpec::driver("net-old", "2.0-1") });
    println!("{} {} {}", iso.display(), vib.display(), old2.display());
}
