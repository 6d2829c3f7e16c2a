//! `esxforge iso inspect`, `ls`, `extract` and `verify`, compared with what xorriso and isoinfo
//! see, on good images and on images with each kind of damage `verify` must catch.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::esxi_iso::{self, ModernSpec, run};

fn esxforge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esxforge"))
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn fixture(d: &Path) -> std::path::PathBuf {
    esxi_iso::modern_iso(
        d,
        &ModernSpec {
            uefi: false,
            ..ModernSpec::default()
        },
    )
}

#[test]
fn inspect_reports_volume_boot_catalog_version_modules_and_vibs() {
    let dir = tempfile::tempdir().unwrap();
    let iso = fixture(dir.path());
    let o = esxforge(&["iso", "inspect", "--format", "json", p(&iso)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let isoinfo = run(Command::new("isoinfo").args(["-d", "-i"]).arg(&iso));
    assert!(
        isoinfo.contains(&format!(
            "Volume id: {}",
            j["volume"]["volume_id"].as_str().unwrap()
        )),
        "{isoinfo}"
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
    let xorriso = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&iso)
        .args(["-report_el_torito", "plain"]));
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
    let iso = fixture(d);
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
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(&iso)
        .args(["-extract", "/"])
        .arg(&theirs));
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
    let good = fixture(d);
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
    let o = esxforge(&[
        "iso",
        "build",
        "--from",
        p(&bad),
        "-o",
        p(&sub.join("out.iso")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("BOOT.CFGs disagree"), "{}", text(&o));
    assert!(!sub.join("out.iso").exists());

    // A module recorded with a name that is not plain ISO 9660 (`-`): fine for tools reading
    // Rock Ridge, not for ESXi's UEFI loader. `verify` fails it, and so does the verification
    // `build` runs on its own output, which then never reaches the output folder.
    let sub = d.join("dash");
    std::fs::create_dir(&sub).unwrap();
    let dash = esxi_iso::modern_iso(
        &sub,
        &ModernSpec {
            uefi: false,
            relaxed_names: true,
            extra_files: vec![("NET-DASH.V00".into(), esxi_iso::gzip(b"x", 6))],
            boot_cfg_edit: Some((
                "--- /imgdb.tgz".into(),
                "--- /net-dash.v00 --- /imgdb.tgz".into(),
            )),
            ..ModernSpec::default()
        },
    );
    let o = esxforge(&["iso", "verify", p(&dash)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("\"NET-DASH.V00;1\", not a plain ISO 9660 name"),
        "{}",
        text(&o)
    );
    let out_dir = sub.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let o = esxforge(&[
        "iso",
        "build",
        "--from",
        p(&dash),
        "-o",
        p(&out_dir.join("x.iso")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("failed verification, so it was not written"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_dir(&out_dir).unwrap().count(),
        0,
        "nothing left behind"
    );

    // ISOLINUX.BIN without a boot-info-table (remastered by hand without -boot-info-table).
    let tree = d.join("tree");
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(&good)
        .args(["-extract", "/"])
        .arg(&tree));
    run(Command::new("chmod").arg("-R").arg("u+w").arg(&tree));
    // The extracted ISOLINUX.BIN still holds the table patched at its old place; start from
    // syslinux's pristine one.
    std::fs::copy("/usr/lib/ISOLINUX/isolinux.bin", tree.join("ISOLINUX.BIN")).unwrap();
    let no_table = d.join("no-table.iso");
    run(Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "--norock",
            "-A",
            "ESXIMAGE",
            "-c",
            "BOOT.CAT",
            "-b",
            "ISOLINUX.BIN",
            "-no-emul-boot",
            "-boot-load-size",
            "4",
            "-eltorito-alt-boot",
            "-e",
            "EFIBOOT.IMG",
            "-no-emul-boot",
            "-o",
        ])
        .arg(&no_table)
        .arg(&tree));
    let o = esxforge(&["iso", "verify", p(&no_table)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("has no boot-info-table; isolinux needs one"),
        "{}",
        text(&o)
    );

    // Sidecars that do not match the image.
    let built = d.join("built.iso");
    let o = esxforge(&["iso", "build", "--from", p(&good), "-o", p(&built)]);
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
