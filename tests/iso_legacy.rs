//! ESXi 4.1 media: `imagedd.bz2` replaced and `imagedd.md5` regenerated, a kickstart embedded
//! through `isolinux.cfg`, the Rock Ridge/Joliet names kept — checked with md5sum, bunzip2,
//! isoinfo and a BIOS boot.

mod common;

use std::process::Command;
use std::time::Duration;

use common::esxi_iso::{
    self, VibSpec, el_torito_report, esxforge, iso_build, isoinfo, p, run, text,
};
use common::qemu::Qemu;

#[test]
fn replaces_imagedd_regenerates_md5_and_boots_by_bios() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = esxi_iso::legacy_iso(d, &esxi_iso::pseudo_random(1, 200_000));
    let source_md5_line =
        String::from_utf8(esxi_iso::xorriso_extract(&source, "/imagedd.md5")).unwrap();
    // The user's new system image, raw (esxforge compresses it) — and the same one bzip2'd.
    let raw = esxi_iso::pseudo_random(2, 300_000);
    let raw_path = d.join("imagedd-with-driver");
    std::fs::write(&raw_path, &raw).unwrap();
    let ks = d.join("ks.cfg");
    std::fs::write(&ks, "vmaccepteula\nautopart --firstdisk --overwritevmfs\nrootpw --iscrypted $1$abcdefgh$abcdefghijklmnopqrstuv\nnetwork --bootproto=dhcp\nreboot\n").unwrap();
    let out_iso = d.join("esxi41-custom.iso");
    let o = iso_build(
        &source,
        &out_iso,
        &["--imagedd", p(&raw_path), "--ks", p(&ks)],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("imagedd.md5 regenerated"), "{}", text(&o));

    // imagedd.bz2 decompresses (bunzip2) to the user's image; imagedd.md5 is md5sum's verdict
    // on it, in the source's format.
    let bz2 = d.join("imagedd.bz2");
    std::fs::write(&bz2, esxi_iso::xorriso_extract(&out_iso, "/imagedd.bz2")).unwrap();
    let unzipped = Command::new("bunzip2")
        .arg("-c")
        .arg(&bz2)
        .output()
        .unwrap();
    assert!(unzipped.status.success());
    assert_eq!(unzipped.stdout, raw);
    let md5_line = String::from_utf8(esxi_iso::xorriso_extract(&out_iso, "/imagedd.md5")).unwrap();
    assert_eq!(
        md5_line[32..],
        source_md5_line[32..],
        "the rest of the line is kept"
    );
    std::fs::write(d.join("imagedd.md5"), &md5_line).unwrap();
    run(Command::new("md5sum")
        .args(["-c", "imagedd.md5"])
        .current_dir(d));

    // The names are still mkisofs's: lower-case Rock Ridge and Joliet, upper-case primary.
    let info = isoinfo(&["-d"], &out_iso);
    assert!(
        info.contains("Rock Ridge signatures") && info.contains("Joliet with UCS level"),
        "{info}"
    );
    let rr = isoinfo(&["-R", "-l"], &out_iso);
    assert!(
        rr.contains(" imagedd.bz2") && rr.contains(" ks.cfg") && rr.contains(" README.txt"),
        "{rr}"
    );
    let joliet = isoinfo(&["-J", "-l"], &out_iso);
    assert!(
        joliet.contains("imagedd.md5") && joliet.contains("open_source_licenses.txt"),
        "{joliet}"
    );
    let report = el_torito_report(&out_iso);
    assert!(
        report.contains("/isolinux.bin")
            && report.contains("boot-info-table")
            && !report.contains("UEFI"),
        "{report}"
    );

    let v = esxforge(&["iso", "verify", p(&out_iso)]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    assert!(
        text(&v).contains("imagedd.md5: matches imagedd.bz2"),
        "{}",
        text(&v)
    );

    // BIOS: isolinux reads our isolinux.cfg (the cat.c32 stand-in prints it): the kernel
    // options after vmkboot.gz carry the kickstart.
    let bios = Qemu::bios().boot(&out_iso, &["\nboot:"], Duration::from_secs(30));
    assert!(
        bios.contains("append vmkboot.gz ks=cdrom:/ks.cfg --- vmkernel.gz"),
        "{bios}"
    );
}

#[test]
fn drivers_and_bad_images_are_refused_on_41() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = esxi_iso::legacy_iso(d, &esxi_iso::pseudo_random(1, 10_000));
    let vib = esxi_iso::vib(d, &VibSpec::driver("net-test", "1.0-1"));
    let out = d.join("o.iso");
    let o = iso_build(&source, &out, &["--add-vib", p(&vib)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("--imagedd") && text(&o).contains("vibddi"),
        "{}",
        text(&o)
    );
    let empty = d.join("empty");
    std::fs::write(&empty, b"").unwrap();
    let o = iso_build(&source, &out, &["--imagedd", p(&empty)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("is empty"), "{}", text(&o));
    assert!(!out.exists());
    // A stale imagedd.md5 is what `iso verify` exists to catch.
    let tampered = d.join("tampered.iso");
    let bad_md5 = d.join("bad.md5");
    std::fs::write(&bad_md5, format!("{}  imagedd.bz2\n", "0".repeat(32))).unwrap();
    run(Command::new("xorriso")
        .arg("-indev")
        .arg(&source)
        .arg("-outdev")
        .arg(&tampered)
        .arg("-boot_image")
        .arg("any")
        .arg("replay")
        .arg("-update")
        .arg(&bad_md5)
        .arg("/imagedd.md5")
        .arg("-commit"));
    let v = esxforge(&["iso", "verify", p(&tampered)]);
    assert_eq!(v.status.code(), Some(1), "{}", text(&v));
    assert!(text(&v).contains("FAIL  imagedd.md5"), "{}", text(&v));
}
