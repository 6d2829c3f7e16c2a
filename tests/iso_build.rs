//! `esxforge iso build` on ESXi-shaped images: drivers injected (VIB, GNU-ar VIB, bundle), a VIB
//! replaced, a kickstart embedded, kernel options set — checked with xorriso, isoinfo, 7z,
//! sha256sum/md5sum and the `iso9660` crate, and booted by BIOS and UEFI.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::esxi_iso::{self, ModernSpec, VibSpec, esxforge, iso_build, isoinfo, p, run, text};
use common::qemu::Qemu;

const KS: &str = "vmaccepteula\ninstall --firstdisk --overwritevmfs\nrootpw --iscrypted $6$saltsalt$Bq9bGtIyY7mYd8D3L0uE5yvd3V9T0OazWvm1q9Zl2vSxO4C0RrpKkC9u0eB9h1Ez2Vb3eM9fWvB4bXW8b8m1D/\nnetwork --bootproto=dhcp --device=vmnic0\nreboot\n";

/// The whole path a user takes, and what each boot path then reads.
#[test]
fn injects_drivers_and_kickstart_and_boots_by_bios_and_uefi() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let probes = [
        "/net_test.v00",
        "/net_old.v00",
        "/net_bund.v00",
        "/ks.cfg",
        "/net_old.v01",
    ]
    .map(String::from)
    .to_vec();
    let source = esxi_iso::modern_iso(
        d,
        &ModernSpec {
            uefi_probes: probes,
            ..ModernSpec::default()
        },
    );
    let source_sha = run(Command::new("sha256sum").arg(&source));
    let new_vib = esxi_iso::vib(d, &VibSpec::driver("net-test", "1.0-1"));
    // A newer version of the driver the image already has, built with GNU ar.
    let newer_old = esxi_iso::vib(
        d,
        &VibSpec {
            seed: 5,
            gnu_ar: true,
            ..VibSpec::driver("net-old", "2.0-1")
        },
    );
    let bundled = VibSpec {
        seed: 11,
        ..VibSpec::driver("net-bundled", "3.1-1")
    };
    let bundled_vib = esxi_iso::vib(d, &bundled);
    let bundle = esxi_iso::bundle(
        d,
        "net-bundled-offline_bundle.zip",
        &[(
            &bundled_vib,
            &bundled,
            format!("vib20/net-bundled/{}.vib", bundled.id()),
        )],
    );
    let ks = d.join("ks.cfg");
    std::fs::write(&ks, KS).unwrap();
    let out_iso = d.join("custom.iso");
    let out = iso_build(
        &source,
        &out_iso,
        &[
            "--add-vib",
            p(&new_vib),
            "--add-vib",
            p(&newer_old),
            "--add-bundle",
            p(&bundle),
            "--ks",
            p(&ks),
            "--kernelopt",
            "allowLegacyCPU=true",
            "--volume-id",
            "ESXI-8.0U3-CUSTOM",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("replaced net-old 1.0-1 with VIB TST_bootbank_net-old_2.0-1"),
        "{t}"
    );
    assert!(
        t.contains("module NET_TEST.V00") && t.contains("module NET_BUND.V00"),
        "{t}"
    );

    // The source is untouched; the sidecars are what sha256sum/md5sum check.
    assert_eq!(run(Command::new("sha256sum").arg(&source)), source_sha);
    run(Command::new("sha256sum")
        .args(["-c", "custom.iso.sha256"])
        .current_dir(d));
    run(Command::new("md5sum")
        .args(["-c", "custom.iso.md5"])
        .current_dir(d));

    // xorriso and isoinfo: VMware's layout, with the new volume id.
    esxi_iso::assert_vmware_layout(&out_iso);
    let info = isoinfo(&["-d"], &out_iso);
    assert!(info.contains("Volume id: ESXI-8.0U3-CUSTOM"), "{info}");
    let listing = isoinfo(&["-l"], &out_iso);
    for name in [
        "NET_TEST.V00;1",
        "NET_OLD.V00;1",
        "NET_BUND.V00;1",
        "KS.CFG;1",
        "S.V00;1",
    ] {
        assert!(listing.contains(name), "{name}:\n{listing}");
    }
    assert!(
        !listing.contains("NET_OLD.V01"),
        "the replaced driver keeps its module name:\n{listing}"
    );
    let seven = run(Command::new("7z").arg("l").arg(&out_iso));
    assert!(
        seven.contains("NET_TEST.V00") && seven.contains("[BOOT]/2-Boot-NoEmul.img"),
        "{seven}"
    );

    // The iso9660 crate reads what the loaders read: two identical BOOT.CFGs, the payload
    // bytes exactly as in the VIB, the kickstart.
    let bios_cfg =
        String::from_utf8(esxi_iso::iso9660_read(&out_iso, "BOOT.CFG").unwrap()).unwrap();
    let efi_cfg =
        String::from_utf8(esxi_iso::iso9660_read(&out_iso, "EFI/BOOT/BOOT.CFG").unwrap()).unwrap();
    assert_eq!(bios_cfg, efi_cfg);
    assert!(
        bios_cfg.contains("kernelopt=runweasel cdromBoot allowLegacyCPU=true ks=cdrom:/KS.CFG\n"),
        "{bios_cfg}"
    );
    assert!(
        bios_cfg
            .contains("--- /net_test.v00 --- /net_old.v00 --- /net_bund.v00 --- /imgdb.tgz ---"),
        "{bios_cfg}"
    );
    assert_eq!(bios_cfg.matches("net_old").count(), 1, "{bios_cfg}");
    assert_eq!(
        esxi_iso::iso9660_read(&out_iso, "NET_TEST.V00").unwrap(),
        VibSpec::driver("net-test", "1.0-1").payload().gz
    );
    assert_eq!(
        esxi_iso::iso9660_read(&out_iso, "NET_OLD.V00").unwrap(),
        VibSpec {
            seed: 5,
            ..VibSpec::driver("net-old", "2.0-1")
        }
        .payload()
        .gz
    );
    assert_eq!(
        esxi_iso::iso9660_read(&out_iso, "KS.CFG").unwrap(),
        KS.as_bytes()
    );

    // The image database, as tar reads it: new descriptors, profile entries naming the modules,
    // the old net-old gone.
    let tgz = d.join("imgdb.tgz");
    std::fs::write(&tgz, esxi_iso::xorriso_extract(&out_iso, "/IMGDB.TGZ")).unwrap();
    let members = run(Command::new("tar").arg("-tzf").arg(&tgz));
    assert_eq!(
        members
            .lines()
            .filter(|l| l.contains("vibs/net-old"))
            .count(),
        1,
        "{members}"
    );
    assert!(
        members.contains("vibs/net-test-") && members.contains("vibs/net-bundled-"),
        "{members}"
    );
    let profile = run(Command::new("tar")
        .arg("-xzOf")
        .arg(&tgz)
        .arg("var/db/esximg/profiles/ESXi-standard-fixture"));
    assert!(profile.contains("<vib-id>TST_bootbank_net-test_1.0-1</vib-id><payloads><payload payload-name=\"net-test\">net_test.v00</payload>"), "{profile}");
    assert!(
        profile.contains("TST_bootbank_net-old_2.0-1") && !profile.contains("net-old_1.0-1"),
        "{profile}"
    );
    assert!(
        profile.contains("<acceptancelevel>community</acceptancelevel>"),
        "{profile}"
    );

    let verify = esxforge(&["iso", "verify", p(&out_iso)]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));

    // BIOS: isolinux reads our BOOT.CFG (printed by the cat.c32 stand-in for mboot.c32).
    let bios = Qemu::bios().boot(&out_iso, &["\nboot:"], Duration::from_secs(30));
    assert!(
        bios.contains("kernelopt=runweasel cdromBoot allowLegacyCPU=true ks=cdrom:/KS.CFG"),
        "{bios}"
    );
    assert!(
        bios.contains("/net_test.v00 --- /net_old.v00 --- /net_bund.v00 --- /imgdb.tgz"),
        "{bios}"
    );
    // UEFI: the El Torito UEFI image boots, finds the CD and reads /EFI/BOOT/BOOT.CFG and the
    // modules by their plain ISO 9660 names, the lower-case names BOOT.CFG uses.
    let uefi = Qemu::uefi().boot(&out_iso, &["UEFI-PROBE-DONE"], Duration::from_secs(90));
    assert!(uefi.contains("UEFI-ROOT=cd0"), "{uefi}");
    assert!(
        uefi.contains("kernelopt=runweasel cdromBoot allowLegacyCPU=true ks=cdrom:/KS.CFG"),
        "{uefi}"
    );
    for found in [
        "FOUND /net_test.v00",
        "FOUND /net_old.v00",
        "FOUND /net_bund.v00",
        "FOUND /ks.cfg",
        "MISSING /net_old.v01",
    ] {
        assert!(uefi.contains(found), "{found}:\n{uefi}");
    }
}

/// Same inputs, same bytes; and rebuilding a rebuilt image neither duplicates `ks=` nor the
/// driver.
#[test]
fn builds_are_deterministic_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let long_name = (
        "UPGRADE/PRECHECK_WITH_A_LONG_NAME.PY".to_string(),
        b"# -l allows 31 characters\n".to_vec(),
    );
    let source = esxi_iso::modern_iso(
        d,
        &ModernSpec {
            uefi: false,
            extra_files: vec![long_name],
            ..ModernSpec::default()
        },
    );
    let vib = esxi_iso::vib(d, &VibSpec::driver("net-test", "1.0-1"));
    let ks = d.join("ks.cfg");
    std::fs::write(&ks, KS).unwrap();
    let build = |from: &Path, name: &str| {
        let out = d.join(name);
        let o = iso_build(from, &out, &["--add-vib", p(&vib), "--ks", p(&ks)]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        out
    };
    let a = build(&source, "a.iso");
    let b = build(&source, "b.iso");
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "same inputs, same bytes"
    );
    let again = build(&a, "again.iso");
    let cfg = String::from_utf8(esxi_iso::iso9660_read(&again, "BOOT.CFG").unwrap()).unwrap();
    assert_eq!(cfg.matches("ks=").count(), 1, "{cfg}");
    assert_eq!(cfg.matches("net_test").count(), 1, "{cfg}");
    assert_eq!(
        esxi_iso::iso9660_read(&again, "UPGRADE/PRECHECK_WITH_A_LONG_NAME.PY").unwrap(),
        b"# -l allows 31 characters\n"
    );
    // With no changes the image is a faithful copy of every file. --quiet prints nothing; without
    // it the summary says so.
    let copy = d.join("copy.iso");
    let o = iso_build(&source, &copy, &["--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(text(&o), "", "--quiet");
    let o = iso_build(&copy, &d.join("copy2.iso"), &[]);
    assert!(
        text(&o).contains("no changes: a faithful copy"),
        "{}",
        text(&o)
    );
    let ls = |iso: &Path| isoinfo(&["-f"], iso);
    assert_eq!(ls(&copy), ls(&source));
    for f in ["/BOOT.CFG", "/IMGDB.TGZ", "/S.V00", "/EFIBOOT.IMG"] {
        assert_eq!(
            esxi_iso::xorriso_extract(&copy, f),
            esxi_iso::xorriso_extract(&source, f),
            "{f}"
        );
    }
}

/// Every refusal is a clear error naming the input, exits 2, and leaves the output folder as it
/// was — no image, no sidecar, no temporary.
#[test]
fn refused_builds_leave_the_output_folder_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = esxi_iso::bios_only_iso(d);
    let out_dir = d.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::write(out_dir.join("keep.txt"), b"an earlier file").unwrap();
    let before = esxi_iso::snapshot(&out_dir);
    let corrupt = esxi_iso::vib(
        d,
        &VibSpec {
            corrupt: true,
            ..VibSpec::driver("net-cor", "1.0-1")
        },
    );
    let wrong = esxi_iso::vib(
        d,
        &VibSpec {
            wrong_digest: true,
            ..VibSpec::driver("net-wrong", "1.0-1")
        },
    );
    let sha1_only = esxi_iso::vib(
        d,
        &VibSpec {
            sha256_gunzip: false,
            ..VibSpec::driver("net-six", "1.0-1")
        },
    );
    let good = VibSpec::driver("net-test", "1.0-1");
    let good_vib = esxi_iso::vib(d, &good);
    let evil = esxi_iso::bundle(
        d,
        "evil.zip",
        &[(&good_vib, &good, "../../evil.vib".to_string())],
    );
    let twice = esxi_iso::vib(
        d,
        &VibSpec {
            seed: 3,
            ..VibSpec::driver("net-test", "2.0-1")
        },
    );
    let bad_ks = d.join("bad-ks.cfg");
    std::fs::write(
        &bad_ks,
        "vmaccepteula\nnetwork --bootproto=dhcp --ip=10.0.0.5\ninstall --firstdisk\nrootpw x\n",
    )
    .unwrap();
    let out = out_dir.join("custom.iso");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--add-vib", p(&corrupt)], "corrupt"),
        (vec!["--add-vib", p(&wrong)], "checksum mismatch"),
        (vec!["--add-vib", p(&sha1_only)], "ESXi 8"),
        (vec!["--add-bundle", p(&evil)], "escapes the bundle"),
        (
            vec!["--add-vib", p(&good_vib), "--add-vib", p(&twice)],
            "given twice",
        ),
        (
            vec!["--ks", p(&bad_ks)],
            "would stop the ESXi 8.0U3 installer",
        ),
        (vec!["--volume-id", "lower case"], "--volume-id"),
        (vec!["--imagedd", p(&good_vib)], "ESXi 4.x media"),
        (vec!["--kernelopt", "a b=c"], "kernel option"),
    ];
    for (extra, expected) in cases {
        let o = iso_build(&source, &out, &extra);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {t}");
        assert!(
            t.contains(expected),
            "{extra:?}: expected {expected:?} in: {t}"
        );
        assert!(!t.contains("panicked"), "{t}");
        assert_eq!(
            esxi_iso::snapshot(&out_dir),
            before,
            "{extra:?} left something behind"
        );
    }
    let o = iso_build(&source, &source, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("is the source image"), "{}", text(&o));
}

/// A truncated or non-ISO source is a clear error for every command, never a panic.
#[test]
fn truncated_and_foreign_sources_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = esxi_iso::bios_only_iso(d);
    let bytes = std::fs::read(&source).unwrap();
    let cut = d.join("cut.iso");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    for args in [
        vec!["iso", "inspect", p(&cut)],
        vec!["iso", "verify", p(&cut)],
        vec!["iso", "build", "--from", p(&cut), "-o", p(&d.join("x.iso"))],
    ] {
        let o = esxforge(&args);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {t}");
        assert!(
            t.contains("past the end") || t.contains("truncated"),
            "{args:?}: {t}"
        );
        assert!(!t.contains("panicked"), "{t}");
    }
    let tree = d.join("plain");
    std::fs::create_dir(&tree).unwrap();
    std::fs::write(tree.join("README.TXT"), b"hello").unwrap();
    let plain = d.join("plain.iso");
    run(Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-o"])
        .arg(&plain)
        .arg(&tree));
    let o = iso_build(&plain, &d.join("y.iso"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("not an ESXi installer image"),
        "{}",
        text(&o)
    );
    let o = esxforge(&["iso", "inspect", "--format", "json", p(&plain)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["esxi"], serde_json::Value::Null);
    assert!(!d.join("x.iso").exists() && !d.join("y.iso").exists());
}

/// An isohybrid source (MBR + GPT for USB sticks) stays hybrid: the partition that points at
/// EFIBOOT.IMG follows it to its new place.
#[test]
fn hybrid_sources_stay_hybrid() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = esxi_iso::bios_only_iso(d);
    let tree = d.join("tree");
    esxi_iso::extract_tree(&source, &tree);
    std::fs::copy("/usr/lib/ISOLINUX/isolinux.bin", tree.join("ISOLINUX.BIN")).unwrap();
    let hybrid = d.join("hybrid.iso");
    esxi_iso::mkisofs_esxi(
        &tree,
        &hybrid,
        "ESXI-8.0U3-HYBRID",
        true,
        &[
            "-isohybrid-mbr",
            "/usr/lib/ISOLINUX/isohdpfx.bin",
            "-isohybrid-gpt-basdat",
        ],
    );
    let vib = esxi_iso::vib(d, &VibSpec::driver("net-test", "1.0-1"));
    let out_iso = d.join("out.iso");
    let o = iso_build(&hybrid, &out_iso, &["--add-vib", p(&vib)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let area = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&out_iso)
        .args(["-report_system_area", "plain"]));
    assert!(
        area.contains("System area summary: MBR isohybrid cyl-align-on GPT"),
        "{area}"
    );
    assert!(
        area.contains("MBR partition path :   2  /EFIBOOT.IMG"),
        "{area}"
    );
    let o = esxforge(&["iso", "verify", p(&out_iso)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// A community remaster made with `mkisofs -relaxed-filenames -J -R` (Rock Ridge, Joliet, a
/// symbolic link) comes out as VMware's media are: no Rock Ridge (ESXi's loaders read primary
/// names), Joliet kept, the link as the empty file the primary tree records — and verified.
#[test]
fn rock_ridge_sources_come_out_without_rock_ridge() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tree = d.join("tree");
    esxi_iso::extract_tree(&esxi_iso::bios_only_iso(d), &tree);
    std::fs::copy("/usr/lib/ISOLINUX/isolinux.bin", tree.join("ISOLINUX.BIN")).unwrap();
    std::os::unix::fs::symlink("BOOT.CFG", tree.join("boot.cfg.link")).unwrap();
    let community = d.join("community.iso");
    run(Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-relaxed-filenames", "-J", "-R"])
        .args(["-c", "BOOT.CAT", "-b", "ISOLINUX.BIN", "-no-emul-boot"])
        .args(["-boot-load-size", "4", "-boot-info-table"])
        .args([
            "-eltorito-alt-boot",
            "-e",
            "EFIBOOT.IMG",
            "-no-emul-boot",
            "-o",
        ])
        .arg(&community)
        .arg(&tree));
    assert!(isoinfo(&["-d"], &community).contains("Rock Ridge signatures"));
    let vib = esxi_iso::vib(d, &VibSpec::driver("net-test", "1.0-1"));
    let out_iso = d.join("out.iso");
    let o = iso_build(&community, &out_iso, &["--add-vib", p(&vib)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let info = isoinfo(&["-d"], &out_iso);
    assert!(
        info.contains("NO Rock Ridge present") && info.contains("Joliet with UCS level 3 found"),
        "{info}"
    );
    let listing = isoinfo(&["-l"], &out_iso);
    assert!(
        listing.contains("BOOT.CFG.LIN;1") && listing.contains("NET_TEST.V00;1"),
        "{listing}"
    );
    let o = esxforge(&["iso", "verify", p(&out_iso)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// ESXi 5.0's media record their modules with a `-` (its BOOT.CFG lists `/ata-pata.v00`,
/// `/net-e100.v01`; a copy is quoted in a public ESXi 5 USB-install post found with
/// `find_string "modules=/b.b00"`, and ESXi-Customizer 2.6.1's CHANGES.txt names
/// `/tardisks/net-e100.v01`). ESXi's loaders match such names case-insensitively like any other
/// (`vmware/esx-boot` `uefi/iso9660/fsw_iso9660.c`), so the image verifies, takes a driver, and
/// the module keeps its name.
#[test]
fn esxi50_module_names_with_a_dash_verify_and_take_drivers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = esxi_iso::modern_iso(
        d,
        &ModernSpec {
            build: "5.0.0-0.0.469512".into(),
            kernelopt: "runweasel".into(),
            uefi: false,
            relaxed_names: true,
            extra_files: vec![("ATA-PATA.V00".into(), esxi_iso::gzip(b"x", 6))],
            boot_cfg_edit: listed_before_imgdb("/ata-pata.v00"),
            ..ModernSpec::default()
        },
    );
    assert!(isoinfo(&["-l"], &source).contains("ATA-PATA.V00;1"));
    let o = esxforge(&["iso", "verify", p(&source)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let vib = esxi_iso::vib(d, &VibSpec::driver("net-test", "1.0-1"));
    let out_iso = d.join("out.iso");
    let o = iso_build(&source, &out_iso, &["--add-vib", p(&vib)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let listing = isoinfo(&["-l"], &out_iso);
    assert!(
        listing.contains("ATA-PATA.V00;1") && listing.contains("NET_TEST.V00;1"),
        "{listing}"
    );
    let o = esxforge(&["iso", "verify", p(&out_iso)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The same image without the module file fails: the name must still be on the image.
    let missing = d.join("missing");
    std::fs::create_dir(&missing).unwrap();
    let source = esxi_iso::modern_iso(
        &missing,
        &ModernSpec {
            build: "5.0.0-0.0.469512".into(),
            uefi: false,
            relaxed_names: true,
            boot_cfg_edit: listed_before_imgdb("/ata-pata.v00"),
            ..ModernSpec::default()
        },
    );
    let o = esxforge(&["iso", "verify", p(&source)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("/ata-pata.v00 (→ /ata-pata.v00) is not on the image"),
        "{}",
        text(&o)
    );
}

/// A vendor bundle may carry a driver for ESXi and the same driver for a DPU (product line
/// `esxio`): the build takes the ESXi VIB and skips the other, saying so; the DPU VIB given
/// alone is refused, naming its product line.
#[test]
fn vibs_for_other_product_lines_are_skipped_in_bundles_and_refused_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = esxi_iso::bios_only_iso(d);
    let esxi = VibSpec::driver("net-test", "1.0-1");
    let dpu = VibSpec {
        seed: 3,
        product_line: "esxio".into(),
        ..VibSpec::driver("net-test-esxio", "1.0-1")
    };
    let (esxi_vib, dpu_vib) = (esxi_iso::vib(d, &esxi), esxi_iso::vib(d, &dpu));
    let bundle = esxi_iso::bundle(
        d,
        "net-test-offline_bundle.zip",
        &[
            (
                &esxi_vib,
                &esxi,
                format!("vib20/net-test/{}.vib", esxi.id()),
            ),
            (
                &dpu_vib,
                &dpu,
                format!("vib20/net-test-esxio/{}.vib", dpu.id()),
            ),
        ],
    );
    let out_iso = d.join("out.iso");
    let o = iso_build(&source, &out_iso, &["--add-bundle", p(&bundle)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("skipped VIB TST_bootbank_net-test-esxio_1.0-1")
            && text(&o).contains("esxio"),
        "{}",
        text(&o)
    );
    let listing = isoinfo(&["-l"], &out_iso);
    assert!(listing.contains("NET_TEST.V00;1"), "{listing}");
    assert!(!listing.contains("NET_TEST.V01"), "{listing}");

    let o = iso_build(&source, &d.join("dpu.iso"), &["--add-vib", p(&dpu_vib)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("product line esxio") && text(&o).contains("net-test-esxio"),
        "{}",
        text(&o)
    );
    assert!(!d.join("dpu.iso").exists());
}

/// The build verifies its own output. A check the source already fails (here a module that
/// both BOOT.CFGs list but the image lacks) is inherited, not caused: the image is built and
/// the failure reported as a warning. A failure the build would introduce (a `ks=` naming a
/// kickstart that is not on the image) refuses the image, and nothing is left behind.
#[test]
fn only_failures_the_build_introduces_refuse_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = esxi_iso::modern_iso(
        d,
        &ModernSpec {
            uefi: false,
            boot_cfg_edit: listed_before_imgdb("/gone.v00"),
            ..ModernSpec::default()
        },
    );
    let missing = "/gone.v00 (→ /gone.v00) is not on the image";
    let o = esxforge(&["iso", "verify", p(&source)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(missing), "{}", text(&o));
    let vib = esxi_iso::vib(d, &VibSpec::driver("net-test", "1.0-1"));
    let out_iso = d.join("out.iso");
    let o = iso_build(&source, &out_iso, &["--add-vib", p(&vib)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(missing) && text(&o).contains("already in the source image"),
        "{}",
        text(&o)
    );
    assert!(isoinfo(&["-l"], &out_iso).contains("NET_TEST.V00;1"));

    let out_dir = d.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let good = esxi_iso::bios_only_iso(&out_dir);
    let o = iso_build(
        &good,
        &out_dir.join("x.iso"),
        &["--kernelopt", "ks=cdrom:/MISSING.CFG"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("failed verification, so it was not written")
            && text(&o).contains("ks=cdrom:/MISSING.CFG is not on the image"),
        "{}",
        text(&o)
    );
    let left: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "only the source: {left:?}");
}

/// A `boot_cfg_edit` that lists `module` before `imgdb.tgz` in both BOOT.CFGs.
fn listed_before_imgdb(module: &str) -> Option<(String, String)> {
    Some((
        "--- /imgdb.tgz".into(),
        format!("--- {module} --- /imgdb.tgz"),
    ))
}

/// Vendors ship a bundle inside a driver download (Intel's `VMW-ESX-6.0.0-i40en-1.3.1-5556071.zip`
/// holds `VMW-ESX-6.0.0-i40en-1.3.1-offline_bundle-5556071.zip`, the bare `.vib` and `doc/`; a
/// copy is in the public `eladkarako/ESXi-Customizer` repository). `--add-bundle` takes the
/// download as it is; a download with a bundle per ESXi release is refused, naming them.
#[test]
fn driver_downloads_holding_a_bundle_are_read_as_that_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = esxi_iso::bios_only_iso(d);
    let spec = VibSpec::driver("net-test", "1.0-1");
    let vib = esxi_iso::vib(d, &spec);
    let download = d.join("download");
    std::fs::create_dir_all(download.join("doc")).unwrap();
    esxi_iso::bundle(
        &download,
        "VMW-ESX-8.0.0-net-test-1.0-offline_bundle-1.zip",
        &[(&vib, &spec, format!("vib20/net-test/{}.vib", spec.id()))],
    );
    std::fs::copy(&vib, download.join("net-test-1.0-1.x86_64.vib")).unwrap();
    std::fs::write(download.join("doc/README.txt"), "install with esxcli\n").unwrap();
    let zip = d.join("VMW-ESX-8.0.0-net-test-1.0.zip");
    run(Command::new("zip")
        .args(["-q", "-r"])
        .arg(&zip)
        .arg(".")
        .current_dir(&download));
    let out_iso = d.join("out.iso");
    let o = iso_build(&source, &out_iso, &["--add-bundle", p(&zip)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(
            "VMW-ESX-8.0.0-net-test-1.0.zip: VMW-ESX-8.0.0-net-test-1.0-offline_bundle-1.zip"
        ),
        "the change names the bundle inside: {}",
        text(&o)
    );
    assert!(isoinfo(&["-l"], &out_iso).contains("NET_TEST.V00;1"));

    // Two bundles, one per release: which one is the user's to say.
    std::fs::create_dir(download.join("esx70")).unwrap();
    std::fs::copy(
        download.join("VMW-ESX-8.0.0-net-test-1.0-offline_bundle-1.zip"),
        download.join("esx70/net-test.zip"),
    )
    .unwrap();
    let two = d.join("two.zip");
    run(Command::new("zip")
        .args(["-q", "-r"])
        .arg(&two)
        .arg(".")
        .current_dir(&download));
    let o = iso_build(&source, &d.join("two.iso"), &["--add-bundle", p(&two)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("holds 2 offline bundles") && text(&o).contains("esx70/net-test.zip"),
        "{}",
        text(&o)
    );
    // A ZIP with only a VIB in it says so.
    let only_vib = d.join("only-vib.zip");
    run(Command::new("zip")
        .args(["-q", "-j"])
        .arg(&only_vib)
        .arg(&vib));
    let o = iso_build(&source, &d.join("v.iso"), &["--add-bundle", p(&only_vib)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--add-vib"), "{}", text(&o));
}

/// mboot appends what follows its flags in ISOLINUX.CFG (`APPEND -c boot.cfg ks=…`, as users add
/// a kickstart entry) to BOOT.CFG's kernel options on the BIOS path. A source whose default entry
/// already passes `ks=` gets it changed with `--ks`, or the BIOS boot would still run the old
/// kickstart; an entry without one is left as it was.
#[test]
fn ks_passed_by_isolinux_cfg_follows_the_embedded_kickstart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tree = d.join("tree");
    esxi_iso::extract_tree(&esxi_iso::bios_only_iso(d), &tree);
    std::fs::copy("/usr/lib/ISOLINUX/isolinux.bin", tree.join("ISOLINUX.BIN")).unwrap();
    let menu = std::fs::read_to_string(tree.join("ISOLINUX.CFG")).unwrap();
    let edited = menu.replacen(
        "APPEND -c boot.cfg\n",
        "APPEND -c boot.cfg ks=cdrom:/OLD.CFG\n",
        1,
    );
    assert_ne!(edited, menu);
    std::fs::write(tree.join("ISOLINUX.CFG"), &edited).unwrap();
    std::fs::write(tree.join("OLD.CFG"), KS).unwrap();
    let source = d.join("source.iso");
    esxi_iso::mkisofs_esxi(&tree, &source, "ESXI-8.0U3-OLDKS", true, &[]);
    let ks = d.join("ks.cfg");
    std::fs::write(&ks, KS).unwrap();
    let out_iso = d.join("out.iso");
    let o = iso_build(&source, &out_iso, &["--ks", p(&ks)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("ISOLINUX.CFG"), "{}", text(&o));
    let menu = String::from_utf8(esxi_iso::xorriso_extract(&out_iso, "/ISOLINUX.CFG")).unwrap();
    assert_eq!(
        menu,
        edited.replace("ks=cdrom:/OLD.CFG", "ks=cdrom:/KS.CFG"),
        "only the ks= option changed"
    );

    // Without --ks nothing in the menu changes.
    let plain = d.join("plain.iso");
    let o = iso_build(&source, &plain, &["--kernelopt", "allowLegacyCPU=true"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let menu = String::from_utf8(esxi_iso::xorriso_extract(&plain, "/ISOLINUX.CFG")).unwrap();
    assert_eq!(menu, edited);
}
