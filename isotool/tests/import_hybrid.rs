//! Remastering a hybrid (isohybrid MBR + GPT) image made by xorriso: the tree, the boot entries
//! and the system area are taken over, the layout changes, and the MBR/GPT pointers follow the
//! files — checked with xorriso's system-area report, `sgdisk -v`, and by booting the result as
//! a hard disk, where the MBR's boot pointer and partitions are all that matter.

mod common;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::qemu::Qemu;
use common::{ISOLINUX_BIN, TIME, grub_marker_efi, isolinux_marker_cfg, noise, placed, run, tree};
use esxforge_isotool::iso9660::name::{Charset, Level, Mapping, Naming};
use esxforge_isotool::reader::{Image, Names};
use esxforge_isotool::writer::{Builder, Joliet, Layout, Options, Source};

/// An isohybrid BIOS+UEFI image as the syslinux/xorriso tool chain makes it.
fn hybrid_source(dir: &Path) -> PathBuf {
    let efi = grub_marker_efi(dir, "HYBRID-UEFI-MARKER");
    let efi_img = common::efi_image(dir, &efi);
    let bios = Path::new("/usr/lib/syslinux/modules/bios");
    let src = dir.join("src");
    tree(
        &src,
        &[
            ("isolinux/isolinux.bin", &fs::read(ISOLINUX_BIN).unwrap()),
            (
                "isolinux/isolinux.cfg",
                isolinux_marker_cfg("HYBRID-BIOS-MARKER").as_bytes(),
            ),
            ("efiboot.img", &fs::read(efi_img).unwrap()),
            ("data/payload.bin", &noise(3 << 20, 11)),
        ],
    );
    for module in ["ldlinux.c32", "libcom32.c32", "libutil.c32", "poweroff.c32"] {
        fs::copy(bios.join(module), src.join("isolinux").join(module)).unwrap();
    }
    let iso = dir.join("hybrid.iso");
    let hybrid: &[&str] = &[
        "-isohybrid-mbr",
        "/usr/lib/ISOLINUX/isohdpfx.bin",
        "-isohybrid-gpt-basdat",
    ];
    let options = [
        &["-V", "HYBRID", "-J", "-R"],
        common::BIOS_UEFI_BOOT,
        hybrid,
    ]
    .concat();
    common::mkisofs("xorriso", &src, &iso, &options);
    iso
}

/// Imports `source`, adds a 5 MiB file that sorts first (so every old file moves), and writes.
fn remaster(source: &Path, out: &Path, relocate: bool) -> Layout {
    let file = Arc::new(File::open(source).unwrap());
    let mut image = Image::open(&*file).unwrap();
    let options = Options {
        volume: image.primary().ids.clone(),
        timestamp: TIME,
        naming: Naming {
            level: Level::Two,
            charset: Charset::DCharacters,
            mapping: Mapping::Translate,
            version_suffix: true,
        },
        joliet: Joliet::On,
        rock_ridge: true,
        ..Options::default()
    };
    let mut builder = Builder::new(options);
    let imported = builder.import(&mut image, &file).unwrap();
    assert!(imported.system_area);
    assert_eq!(imported.catalog.as_deref(), Some("/isolinux/boot.cat"));
    assert_eq!(imported.boot.len(), 2);
    assert!(imported.boot[0].boot_info_table && !imported.boot[1].boot_info_table);
    if !relocate {
        builder.set_system_area(image.system_area().unwrap());
    }
    builder
        .add_file("aaa.bin", Source::bytes(noise(5 << 20, 12)))
        .unwrap();
    let f = File::create(out).unwrap();
    builder.finish(&f).unwrap()
}

/// `(field, rest)` lines of `xorriso -report_system_area plain`.
fn system_area_report(iso: &Path) -> String {
    run(
        "xorriso",
        &[
            "-indev",
            iso.to_str().unwrap(),
            "-report_system_area",
            "plain",
        ],
    )
}

fn field<'a>(report: &'a str, name: &str) -> Vec<&'a str> {
    report
        .lines()
        .filter_map(|l| l.strip_prefix(name))
        .map(|l| l.trim_start_matches(' ').trim_start_matches(':').trim())
        .collect()
}

#[test]
fn a_remastered_hybrid_image_keeps_working_mbr_and_gpt() {
    let dir = tempfile::tempdir().unwrap();
    let source = hybrid_source(dir.path());
    let out = dir.path().join("remastered.iso");
    let layout = remaster(&source, &out, true);
    let efi = placed(&layout, "/efiboot.img");
    let isolinux = placed(&layout, "/isolinux/isolinux.bin");
    assert!(
        layout.system_area_unmapped.is_empty(),
        "{:?}",
        layout.system_area_unmapped
    );
    let old = Image::open(File::open(&source).unwrap()).unwrap().len();
    assert_ne!(
        old,
        layout.blocks * 2048,
        "the remaster must change the size for this test to mean anything"
    );
    assert_eq!(
        layout.blocks % 512,
        0,
        "padded to whole MiB like the cylinder-aligned source"
    );

    // xorriso ties both partition tables to /efiboot.img at its new place, and sees the
    // whole-image partition and the GPT ranges grown to the new size.
    let report = system_area_report(&out);
    assert!(
        report.contains("System area summary: MBR isohybrid cyl-align-on GPT"),
        "{report}"
    );
    let sectors = layout.blocks * 4;
    let mbr = field(&report, "MBR partition      :");
    assert_eq!(
        mbr[0].split_whitespace().collect::<Vec<_>>(),
        ["1", "0x80", "0x00", "0", &sectors.to_string()]
    );
    assert_eq!(
        mbr[1].split_whitespace().collect::<Vec<_>>(),
        ["2", "0x00", "0xef", &(efi.lba * 4).to_string(), "4096"]
    );
    assert_eq!(field(&report, "MBR partition path :"), ["2  /efiboot.img"]);
    assert_eq!(field(&report, "GPT partition path :"), ["2  /efiboot.img"]);
    let range: Vec<u64> = field(&report, "GPT lba range      :")[0]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(range, [64, sectors - 64, sectors - 1]);

    // sgdisk checks what xorriso does not: both headers' and both arrays' CRCs, and the backup.
    // It finds exactly the problems it finds in xorriso's own output (isohybrid's deliberate
    // overlaps). Its alignment "Caution" depends on where the EFI image happens to start (it
    // guesses the alignment from partition starts) and is left out.
    let verify = |iso: &Path| -> Vec<String> {
        run_status("sgdisk", &["-v", iso.to_str().unwrap()])
            .lines()
            .filter(|l| {
                l.starts_with("Problem")
                    || l.starts_with("Warning")
                    || l.starts_with("Identified")
                    || l.contains("CRC")
            })
            .map(String::from)
            .collect()
    };
    let theirs = verify(&source);
    let ours = verify(&out);
    assert_eq!(ours, theirs);
    assert_eq!(theirs.len(), 3, "{theirs:?}");

    // The El Torito side: boot-info-table recomputed for the new place.
    let mut image = Image::open(File::open(&out).unwrap()).unwrap();
    let entry = image
        .lookup("/isolinux/isolinux.bin", Names::RockRidge)
        .unwrap()
        .unwrap();
    assert_eq!(entry.lba(), isolinux.lba);
    assert!(image.boot_info_table(&entry).unwrap().unwrap().is_valid());
    assert!(common::el_torito_report(&out).contains("isohybrid-suitable"));

    // Booted as a hard disk the BIOS runs the MBR code, which loads isolinux from the sector
    // recorded at byte 432; UEFI finds the EFI image through the partition table.
    let bios = Qemu::bios().disk().boot(
        &out,
        &["Loading HYBRID-BIOS-MARKER"],
        Duration::from_secs(60),
    );
    assert!(
        bios.contains("Loading HYBRID-BIOS-MARKER"),
        "BIOS disk boot:\n{bios}"
    );
    let uefi = Qemu::uefi()
        .disk()
        .boot(&out, &["HYBRID-UEFI-MARKER"], Duration::from_secs(90));
    assert!(
        uefi.contains("HYBRID-UEFI-MARKER"),
        "UEFI disk boot:\n{uefi}"
    );
}

#[test]
fn a_system_area_copied_verbatim_points_at_the_old_places() {
    // The failing case: the same remaster without relocation leaves every pointer stale.
    let dir = tempfile::tempdir().unwrap();
    let source = hybrid_source(dir.path());
    let out = dir.path().join("stale.iso");
    let layout = remaster(&source, &out, false);
    let efi = placed(&layout, "/efiboot.img");
    let report = system_area_report(&out);
    let mbr = field(&report, "MBR partition      :");
    let new_start = (efi.lba * 4).to_string();
    assert_ne!(
        mbr[1].split_whitespace().nth(3),
        Some(new_start.as_str()),
        "{report}"
    );
    assert_ne!(
        field(&report, "MBR partition path :"),
        ["2  /efiboot.img"],
        "{report}"
    );
    assert!(report.contains("GPT backup problems"), "{report}");
    let verify = run_status("sgdisk", &["-v", out.to_str().unwrap()]);
    assert!(
        verify.contains("CRC") || verify.contains("backup") || verify.contains("header"),
        "{verify}"
    );
    // The MBR code (isohdpfx) follows its stale pointer and says so on the BIOS screen.
    let bios = Qemu::bios().disk().bios_screen().boot(
        &out,
        &["No bootable device", "HYBRID-BIOS-MARKER"],
        Duration::from_secs(30),
    );
    assert!(bios.contains("isolinux.bin missing or corrupt"), "{bios}");
    assert!(!bios.contains("HYBRID-BIOS-MARKER"), "{bios}");
}

/// Output of a tool that reports problems through its exit status (sgdisk -v exits 2 for the
/// overlaps every isohybrid image has).
fn run_status(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
