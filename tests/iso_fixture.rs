//! The ESXi-shaped source images the ISO tests start from, checked with tools we did not write,
//! and the generator of the large images `scripts/bench` uses.

mod common;

use std::process::Command;

use common::esxi_iso::{self, ModernSpec, el_torito_report, isoinfo, run};

/// The stock 8.x fixture looks like VMware's media to xorriso and isoinfo: two El Torito boot
/// images (BIOS no-emulation with boot-info-table, UEFI), catalog BOOT.CAT, Application ID
/// ESXIMAGE, no Joliet, no Rock Ridge, uppercase names.
#[test]
fn modern_fixture_has_the_vmware_layout() {
    let dir = tempfile::tempdir().unwrap();
    let iso = esxi_iso::bios_only_iso(dir.path());
    esxi_iso::assert_vmware_layout(&iso);
    let listing = isoinfo(&["-l"], &iso);
    for name in [
        "BOOT.CFG;1",
        "IMGDB.TGZ;1",
        "NET_OLD.V00;1",
        "S.V00;1",
        "EFIBOOT.IMG;1",
    ] {
        assert!(listing.contains(name), "{name} missing:\n{listing}");
    }
    let boot_cfg = String::from_utf8(esxi_iso::xorriso_extract(&iso, "/BOOT.CFG")).unwrap();
    let efi_cfg = String::from_utf8(esxi_iso::xorriso_extract(&iso, "/EFI/BOOT/BOOT.CFG")).unwrap();
    assert_eq!(boot_cfg, efi_cfg);
    assert!(
        boot_cfg.contains("--- /net_old.v00 ---") && boot_cfg.contains("--- /imgdb.tgz ---"),
        "{boot_cfg}"
    );
}

/// The 4.1 fixture is BIOS only with lower-case Rock Ridge/Joliet names and an imagedd.md5 that
/// is `md5sum` output for imagedd.bz2.
#[test]
fn legacy_fixture_has_the_41_layout() {
    let dir = tempfile::tempdir().unwrap();
    let iso = esxi_iso::legacy_iso(dir.path(), &esxi_iso::pseudo_random(1, 4096));
    let report = el_torito_report(&iso);
    assert!(
        report.contains("/isolinux.bin") && !report.contains("UEFI"),
        "{report}"
    );
    let info = isoinfo(&["-d"], &iso);
    assert!(
        info.contains("Rock Ridge signatures") && info.contains("Joliet"),
        "{info}"
    );
    let md5 = String::from_utf8(esxi_iso::xorriso_extract(&iso, "/imagedd.md5")).unwrap();
    let bz2 = dir.path().join("imagedd.bz2");
    std::fs::write(&bz2, esxi_iso::xorriso_extract(&iso, "/imagedd.bz2")).unwrap();
    let want = run(Command::new("md5sum").arg(&bz2));
    assert!(md5.starts_with(&want[..32]), "{md5} vs {want}");
}

/// Writes the benchmark inputs: `$ESXFORGE_BENCH_DIR/esxi-8.0.3-0.35.24280767.iso` with
/// `$ESXFORGE_BENCH_MB` MiB of payload modules (default 400) and a driver VIB
/// `TST_bootbank_net-bench_2.0-1.vib` to inject. Run with
/// `cargo test --release --test iso_fixture -- --ignored --exact make_bench_iso`.
#[test]
#[ignore = "writes large files; run on demand for scripts/bench"]
fn make_bench_iso() {
    let dir = std::path::PathBuf::from(
        std::env::var("ESXFORGE_BENCH_DIR").expect("set ESXFORGE_BENCH_DIR"),
    );
    let mb: u64 = std::env::var("ESXFORGE_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    std::fs::create_dir_all(&dir).unwrap();
    let iso = esxi_iso::modern_iso(
        &dir,
        &ModernSpec {
            bulk_bytes: mb << 20,
            uefi: false,
            ..ModernSpec::default()
        },
    );
    let vib = esxi_iso::vib(
        &dir,
        &esxi_iso::VibSpec {
            payload_len: 4 << 20,
            ..esxi_iso::VibSpec::driver("net-bench", "2.0-1")
        },
    );
    println!("{}\n{}", iso.display(), vib.display());
}
