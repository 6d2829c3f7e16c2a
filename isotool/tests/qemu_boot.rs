//! ISOs we wrote, booted in QEMU: BIOS through isolinux and UEFI through OVMF and GRUB, each to
//! a marker on the serial console. (The ESXi-shaped remaster boots are the esxi-media tests'.)

mod common;

use std::time::Duration;

use common::qemu::Qemu;
use common::{esxi_builder, esxi_files, grub_marker_efi, isolinux_marker_cfg, write};

#[test]
fn an_esxi_shaped_image_we_wrote_boots_by_bios_and_by_uefi() {
    let dir = tempfile::tempdir().unwrap();
    let efi = grub_marker_efi(dir.path(), "ISO9660-UEFI-MARKER");
    let files = esxi_files(
        dir.path(),
        &isolinux_marker_cfg("ISO9660-BIOS-MARKER"),
        &efi,
    );
    let iso = dir.path().join("boot.iso");
    write(esxi_builder("ESXI-BOOT-TEST", &files), &iso);

    let bios = Qemu::bios().boot(
        &iso,
        &["Loading ISO9660-BIOS-MARKER"],
        Duration::from_secs(60),
    );
    assert!(
        bios.contains("Loading ISO9660-BIOS-MARKER"),
        "BIOS serial output:\n{bios}"
    );
    let uefi = Qemu::uefi().boot(&iso, &["ISO9660-UEFI-MARKER"], Duration::from_secs(90));
    assert!(
        uefi.contains("ISO9660-UEFI-MARKER"),
        "UEFI serial output:\n{uefi}"
    );
}

#[test]
fn without_boot_entries_nothing_boots() {
    // The failing case of the test above: the same files, no El Torito. SeaBIOS says so on its
    // screen, mirrored to the serial log.
    let dir = tempfile::tempdir().unwrap();
    let files = esxi_files(
        dir.path(),
        &isolinux_marker_cfg("ISO9660-BIOS-MARKER"),
        b"not an EFI binary",
    );
    let mut options = esxforge_isotool::writer::Options::esxi("NOBOOT");
    options.timestamp = common::TIME;
    let mut builder = esxforge_isotool::writer::Builder::new(options);
    for (path, data) in &files {
        builder
            .add_file(path, esxforge_isotool::writer::Source::bytes(data.clone()))
            .unwrap();
    }
    let iso = dir.path().join("noboot.iso");
    write(builder, &iso);
    let bios = Qemu::bios().bios_screen().boot(
        &iso,
        &["No bootable device", "ISO9660-BIOS-MARKER"],
        Duration::from_secs(30),
    );
    assert!(bios.contains("Boot failed"), "{bios}");
    assert!(!bios.contains("ISO9660-BIOS-MARKER"), "{bios}");
}
