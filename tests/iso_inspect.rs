//! `esxforge iso inspect`, `ls`, `extract` and `verify`, compared with what xorriso and isoinfo
//! see, on good images and on images with each kind of damage `verify` must catch.

mod common;

use std::process::Command;
use std::time::Duration;

use common::esxi_iso::{
    self, ModernSpec, bios_only_iso, el_torito_report, esxforge, iso_build, isoinfo, p, run, text,
};
use common::qemu::Qemu;

#[test]
fn inspect_reports_volume_boot_catalog_version_modules_and_vibs() {
    let dir = tempfile::tempdir().unwrap();
    let iso = bios_only_iso(dir.path());
    let o = esxforge(&["iso", "inspect", "--format", "json", p(&iso)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let info = isoinfo(&["-d"], &iso);
    assert!(
        info.contains(&format!(
            "Volume id: {}",
            j["volume"]["volume_id"].as_str().unwrap()
        )),
        "{info}"
    );
    assert_eq!(j["volume"]["application_id"], "ESXIMAGE");
    assert_eq!(j["volume"]["joliet"], false);
    assert_eq!(j["volume"]["rock_ridge"], false);
    let entries = j["boot_catalog"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (
            entries[0]["platform"].as_str(),
            entries[0]["file"].as_str(),
            entries[0]["boot_info_table"].as_bool()
        ),
        (Some("x86"), Some("/ISOLINUX.BIN"), Some(true))
    );
    assert_eq!(
        (entries[1]["platform"].as_str(), entries[1]["file"].as_str()),
        (Some("EFI"), Some("/EFIBOOT.IMG"))
    );
    let xorriso = el_torito_report(&iso);
    let bios_lba = entries[0]["load_rba"].as_u64().unwrap();
    assert!(
        xorriso
            .lines()
            .any(|l| l.starts_with("El Torito boot img :   1  BIOS")
                && l.trim_end().ends_with(&bios_lba.to_string())),
        "{xorriso}"
    );
    let e = &j["esxi"];
    assert_eq!(e["layout"], "modern");
    assert_eq!(e["version"]["build"], "8.0.3-0.35.24280767");
    assert_eq!(e["version"]["build_number"], 24280767);
    assert_eq!(e["boot_cfgs"].as_array().unwrap().len(), 2);
    assert_eq!(e["boot_cfgs_differ"].as_array().unwrap().len(), 0);
    let modules: Vec<&str> = e["boot_cfgs"][0]["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        modules.contains(&"/net_old.v00") && modules.last() == Some(&"/imgpayld.tgz"),
        "{modules:?}"
    );
    let vibs: Vec<&str> = e["image_profile"]["vibs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        vibs,
        [
            "esx-base",
            "nvme-pcie",
            "tools-light",
            "esx-xserver",
            "gc",
            "net-old"
        ]
    );
    let o = esxforge(&["iso", "inspect", p(&iso)]);
    let t = text(&o);
    assert!(
        t.contains("ESXi 8.0.3 build 24280767") && t.contains("TST_bootbank_net-old_1.0-1"),
        "{t}"
    );
}

#[test]
fn ls_and_extract_match_xorriso() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let iso = bios_only_iso(d);
    let o = esxforge(&["iso", "ls", p(&iso)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("/BOOT.CFG") && t.contains("/EFI/") && !t.contains("/EFI/BOOT/BOOT.CFG"),
        "{t}"
    );
    let o = esxforge(&["iso", "ls", "-r", "--format", "json", p(&iso), "/EFI"]);
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let cfg = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/EFI/BOOT/BOOT.CFG")
        .expect("listed");
    assert_eq!(cfg["identifier"], "BOOT.CFG;1");
    assert_eq!(cfg["extents"], 1);

    let ours = d.join("ours");
    let o = esxforge(&["iso", "extract", p(&iso), "-o", p(&ours)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let theirs = d.join("theirs");
    esxi_iso::extract_tree(&iso, &theirs);
    run(Command::new("diff").arg("-r").arg(&ours).arg(&theirs));

    let one = d.join("one");
    let o = esxforge(&[
        "iso",
        "extract",
        p(&iso),
        "/EFI/BOOT/BOOT.CFG",
        "-o",
        p(&one),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        std::fs::read(one.join("BOOT.CFG")).unwrap(),
        std::fs::read(theirs.join("EFI/BOOT/BOOT.CFG")).unwrap()
    );

    // A symbolic link planted in the target folder does not carry the extraction outside it.
    let trap = d.join("trap");
    let elsewhere = d.join("elsewhere");
    std::fs::create_dir_all(&trap).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, trap.join("EFI")).unwrap();
    let o = esxforge(&["iso", "extract", p(&iso), "-o", p(&trap)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("symbolic link"), "{}", text(&o));
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

    let o = esxforge(&["iso", "ls", p(&iso), "/NOPE"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("/NOPE is not on the image"),
        "{}",
        text(&o)
    );
}

#[test]
fn verify_passes_good_images_and_fails_each_damage() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = bios_only_iso(d);
    let o = esxforge(&["iso", "verify", p(&good)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("no .sha256/.md5 beside the image"),
        "{}",
        text(&o)
    );

    // The UEFI BOOT.CFG lists a module that is not on the image.
    let sub = d.join("bad-cfg");
    std::fs::create_dir(&sub).unwrap();
    let bad = esxi_iso::modern_iso(
        &sub,
        &ModernSpec {
            uefi: false,
            efi_boot_cfg_edit: Some(("/gc.v00".into(), "/gone.v00".into())),
            ..ModernSpec::default()
        },
    );
    let o = esxforge(&["iso", "verify", "--format", "json", p(&bad)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let fails: Vec<String> = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "fail")
        .map(|c| format!("{}: {}", c["what"], c["detail"]))
        .collect();
    assert!(
        fails
            .iter()
            .any(|f| f.contains("BOOT.CFGs agree") && f.contains("modules= differs")),
        "{fails:?}"
    );
    assert!(
        fails
            .iter()
            .any(|f| f.contains("/EFI/BOOT/BOOT.CFG module") && f.contains("/gone.v00")),
        "{fails:?}"
    );
    assert_eq!(j["ok"], false);
    // Such a source is refused by `build` before anything is written.
    let o = iso_build(&bad, &sub.join("out.iso"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("BOOT.CFGs disagree"), "{}", text(&o));
    assert!(!sub.join("out.iso").exists());

    // Sidecars that do not match the image.
    let built = d.join("built.iso");
    let o = iso_build(&good, &built, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        esxforge(&["iso", "verify", p(&built)]).status.code(),
        Some(0)
    );
    let md5 = d.join("built.iso.md5");
    std::fs::write(&md5, format!("{}  built.iso\n", "0".repeat(32))).unwrap();
    let o = esxforge(&["iso", "verify", p(&built)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("FAIL  ") && text(&o).contains("built.iso.md5"),
        "{}",
        text(&o)
    );
}

/// The BIOS entry's boot-info-table is judged by its checksum over the file's bytes, not only by
/// the LBAs it names — as xorriso judges it, and as isolinux does when it boots.
#[test]
fn verify_checks_the_boot_info_table_against_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = bios_only_iso(d);
    let tree = d.join("tree");
    esxi_iso::extract_tree(&good, &tree);
    let bios_entry = |iso: &std::path::Path| -> (u64, Option<bool>) {
        let o = esxforge(&["iso", "inspect", "--format", "json", p(iso)]);
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let e = &j["boot_catalog"]["entries"][0];
        (
            e["load_rba"].as_u64().unwrap(),
            e["boot_info_table"].as_bool(),
        )
    };
    let (good_lba, good_table) = bios_entry(&good);
    assert_eq!(good_table, Some(true));

    // Rebuilt by hand without -boot-info-table: the ISOLINUX.BIN extracted from the image still
    // carries the table patched for its place, and it lands at the same place again, so the
    // table is right for these bytes and that place: verify and xorriso agree it is there.
    let copied = d.join("copied-table.iso");
    esxi_iso::mkisofs_esxi(&tree, &copied, "ESXI-8.0U3-COPIED", false, &[]);
    assert_eq!(
        bios_entry(&copied),
        (good_lba, Some(true)),
        "the same place"
    );
    let o = esxforge(&["iso", "verify", p(&copied)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(el_torito_report(&copied).contains("img opts :   1  boot-info-table"));

    // The same with an ISOLINUX.BIN whose bytes differ from those the copied table sums (another
    // build of isolinux under the table of this one): the LBAs still match, the checksum does
    // not. verify fails it, xorriso sees no table, and isolinux refuses to run.
    let isolinux = tree.join("ISOLINUX.BIN");
    let mut bytes = std::fs::read(&isolinux).unwrap();
    let at = bytes.len() / 2;
    assert!(at > 2048, "past the 4 sectors the BIOS loads");
    bytes[at] ^= 0x01;
    std::fs::write(&isolinux, &bytes).unwrap();
    let stale = d.join("stale-table.iso");
    esxi_iso::mkisofs_esxi(&tree, &stale, "ESXI-8.0U3-STALE", false, &[]);
    assert_eq!(
        bios_entry(&stale),
        (good_lba, Some(false)),
        "the same place"
    );
    let o = esxforge(&["iso", "verify", p(&stale)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("FAIL  boot entry 1 (x86) boot-info-table: /ISOLINUX.BIN: the table names this file's LBA but records checksum"),
        "{}",
        text(&o)
    );
    assert!(!el_torito_report(&stale).contains("img opts :   1  boot-info-table"));
    let bios = Qemu::bios().bios_screen().boot(
        &stale,
        &["Image checksum error", "boot:"],
        Duration::from_secs(30),
    );
    assert!(bios.contains("isolinux: Image checksum error"), "{bios}");

    // ISOLINUX.BIN as syslinux ships it, without -boot-info-table: no table at all.
    std::fs::copy("/usr/lib/ISOLINUX/isolinux.bin", &isolinux).unwrap();
    let no_table = d.join("no-table.iso");
    esxi_iso::mkisofs_esxi(&tree, &no_table, "ESXI-8.0U3-NOTABLE", false, &[]);
    assert_eq!(bios_entry(&no_table).1, None);
    let o = esxforge(&["iso", "verify", p(&no_table)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("has no boot-info-table; isolinux needs one"),
        "{}",
        text(&o)
    );
}
