//! Damaged and hostile images: every one gives a typed error that names the structure and where
//! it is (LBA or path) — never a panic, never a hang. A property test mutates a valid image at
//! random and runs the whole reader over it.

mod common;

use std::io::Cursor;

use common::TIME;
use esxforge_isotool::iso9660::Error;
use esxforge_isotool::iso9660::name::{Level, Mapping, Naming};
use esxforge_isotool::reader::{Image, Names};
use esxforge_isotool::writer::{Attributes, BootImage, Builder, Joliet, Options, Source};
use proptest::prelude::*;

/// A small image with everything the reader parses: Rock Ridge (with a continuation area),
/// Joliet, nested directories, El Torito with a boot-info-table, several files.
fn base() -> Vec<u8> {
    let options = Options {
        timestamp: TIME,
        naming: Naming {
            level: Level::Two,
            mapping: Mapping::Translate,
            ..Naming::ESXI
        },
        joliet: Joliet::On,
        rock_ridge: true,
        padding_blocks: 0,
        ..Options::esxi("BAD")
    };
    let mut b = Builder::new(options);
    let mut boot = std::fs::read(common::ISOLINUX_BIN).unwrap();
    boot.truncate(4096);
    b.add_file("BOOT/ISOLINUX.BIN", Source::bytes(boot))
        .unwrap();
    b.add_file("DIR/SUB/FILE.TXT", Source::bytes("sub file\n"))
        .unwrap();
    b.add_file("DIR/DATA.BIN", Source::bytes(common::noise(9000, 3)))
        .unwrap();
    let short_joliet = Attributes {
        joliet_name: Some("long".into()),
        ..Attributes::default()
    };
    b.add_file_with(&"n".repeat(180), Source::bytes("long name\n"), short_joliet)
        .unwrap();
    b.add_symlink("LINK", "DIR/DATA.BIN").unwrap();
    b.set_boot_catalog("BOOT/BOOT.CAT").unwrap();
    b.add_boot_image(BootImage::bios("BOOT/ISOLINUX.BIN"));
    let mut out = Vec::new();
    b.finish(&mut out).unwrap();
    out
}

fn open(bytes: Vec<u8>) -> Result<Image<Cursor<Vec<u8>>>, Error> {
    Image::open(Cursor::new(bytes))
}

/// Byte offset of the directory record for `identifier` in the directory at `lba`.
fn record_offset(bytes: &[u8], lba: u32, identifier: &[u8]) -> usize {
    let start = lba as usize * 2048;
    let sector = &bytes[start..start + 2048];
    let mut at = 0;
    while at < 2048 && sector[at] != 0 {
        let len = sector[at] as usize;
        let id_len = sector[at + 32] as usize;
        if &sector[at + 33..at + 33 + id_len] == identifier {
            return start + at;
        }
        at += len;
    }
    panic!(
        "no record {:?} at LBA {lba}",
        String::from_utf8_lossy(identifier)
    );
}

fn put_both32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    bytes[at + 4..at + 8].copy_from_slice(&value.to_be_bytes());
}

/// LBA of the root directory and of /DIR, from a sound copy.
fn lbas(bytes: &[u8]) -> (u32, u32) {
    let mut image = open(bytes.to_vec()).unwrap();
    let root = image.root(Names::Primary).unwrap().lba();
    let dir = image.lookup("/DIR", Names::Primary).unwrap().unwrap().lba();
    (root, dir)
}

fn walk_all(image: &mut Image<Cursor<Vec<u8>>>, names: Names) -> Result<usize, Error> {
    let mut n = 0;
    for entry in image.walk(names)? {
        entry?;
        n += 1;
    }
    Ok(n)
}

#[test]
fn the_base_image_is_sound() {
    let mut image = open(base()).unwrap();
    assert_eq!(walk_all(&mut image, Names::RockRidge).unwrap(), 9);
    image.check_path_tables().unwrap();
    let catalog = image.boot_catalog().unwrap().unwrap();
    let boot = image.boot_image_file(&catalog.entries[0]).unwrap().unwrap();
    assert!(image.boot_info_table(&boot).unwrap().unwrap().is_valid());
}

#[test]
fn truncated_images() {
    let bytes = base();
    // Shorter than the system area and the first descriptor.
    assert!(matches!(
        open(bytes[..20_000].to_vec()),
        Err(Error::NotIso { .. })
    ));
    assert!(matches!(open(Vec::new()), Err(Error::NotIso { .. })));
    // Cut inside the file data: the image opens, the tree reads, the cut file does not.
    let mut image = open(bytes[..bytes.len() - 4096].to_vec()).unwrap();
    walk_all(&mut image, Names::RockRidge).unwrap();
    let last = image
        .walk(Names::Primary)
        .unwrap()
        .map(Result::unwrap)
        .filter(|e| e.is_file())
        .max_by_key(|e| e.lba())
        .unwrap();
    let err = image.copy_file(&last, &mut std::io::sink()).unwrap_err();
    match &err {
        Error::PastEnd { what, .. } => assert_eq!(what, &last.path),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("truncated"), "{err}");
    // Cut right after the descriptors: the root directory is gone.
    let (root, _) = lbas(&bytes);
    match open(bytes[..root as usize * 2048].to_vec()) {
        Err(Error::PastEnd { what, lba, .. }) => assert_eq!(
            (what.as_str(), lba),
            ("the root directory", u64::from(root))
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_catalog_checksum_names_the_catalog_and_its_lba() {
    let mut bytes = base();
    let image = open(bytes.clone()).unwrap();
    let lba = image.boot_catalog_lba().unwrap();
    bytes[lba as usize * 2048 + 4] ^= 0x40; // a byte of the id string, covered by the checksum
    let mut image = open(bytes).unwrap();
    let err = image.boot_catalog().unwrap_err();
    match &err {
        Error::Malformed {
            what,
            lba: at,
            problem,
        } => {
            assert_eq!((what.as_str(), *at), ("boot catalog", u64::from(lba)));
            assert!(problem.contains("checksum"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    // The tree is still readable: a bad catalog does not hide the files.
    assert_eq!(walk_all(&mut image, Names::RockRidge).unwrap(), 9);
}

#[test]
fn directory_loops_are_errors_naming_the_path() {
    let mut bytes = base();
    let (root, dir) = lbas(&bytes);
    // /DIR/SUB points back at /DIR.
    let sub = record_offset(&bytes, dir, b"SUB");
    put_both32(&mut bytes, sub + 2, dir);
    let mut image = open(bytes.clone()).unwrap();
    match walk_all(&mut image, Names::Primary) {
        Err(Error::DirectoryLoop { path, lba }) => {
            assert_eq!((path.as_str(), lba), ("/DIR/SUB", dir))
        }
        other => panic!("{other:?}"),
    }
    // /DIR points at the root.
    let mut bytes = base();
    let d = record_offset(&bytes, root, b"DIR");
    put_both32(&mut bytes, d + 2, root);
    let mut image = open(bytes).unwrap();
    assert!(
        matches!(walk_all(&mut image, Names::RockRidge), Err(Error::DirectoryLoop { lba, .. }) if lba == root)
    );
}

#[test]
fn records_pointing_past_the_end() {
    let mut bytes = base();
    let (root, dir) = lbas(&bytes);
    let data = record_offset(&bytes, dir, b"DATA.BIN;1");
    put_both32(&mut bytes, data + 2, 0x00FF_FFFF);
    let d = record_offset(&bytes, root, b"DIR");
    put_both32(&mut bytes, d + 2, 0x0FFF_FFFF);
    let mut image = open(bytes).unwrap();
    match walk_all(&mut image, Names::Primary) {
        Err(Error::PastEnd { what, lba, .. }) => {
            assert_eq!((what.as_str(), lba), ("directory /DIR", 0x0FFF_FFFF))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn absurd_lengths() {
    // A directory announcing 4 GiB.
    let mut bytes = base();
    let (root, dir) = lbas(&bytes);
    let d = record_offset(&bytes, root, b"DIR");
    put_both32(&mut bytes, d + 10, u32::MAX);
    let mut image = open(bytes).unwrap();
    let err = walk_all(&mut image, Names::Primary).unwrap_err();
    assert!(
        matches!(&err, Error::Malformed { what, .. } if what == "directory /DIR"),
        "{err:?}"
    );
    assert!(err.to_string().contains("absurd"), "{err}");

    // A file announcing 4 GiB inside a 100 KiB image.
    let mut bytes = base();
    let data = record_offset(&bytes, dir, b"DATA.BIN;1");
    put_both32(&mut bytes, data + 10, u32::MAX);
    let mut image = open(bytes).unwrap();
    let entry = image
        .lookup("/DIR/DATA.BIN", Names::Primary)
        .unwrap()
        .unwrap();
    assert!(matches!(
        image.open_file(&entry),
        Err(Error::PastEnd { .. })
    ));

    // A record length byte shorter than a record header.
    let mut bytes = base();
    let data = record_offset(&bytes, dir, b"DATA.BIN;1");
    bytes[data] = 20;
    let mut image = open(bytes).unwrap();
    match walk_all(&mut image, Names::Primary) {
        Err(Error::Malformed { what, lba, problem }) => {
            assert!(what.contains("of /DIR"), "{what}");
            assert_eq!(lba, u64::from(dir));
            assert!(problem.contains("shorter"), "{problem}");
        }
        other => panic!("{other:?}"),
    }

    // A path table size of 1 GiB.
    let mut bytes = base();
    put_both32(&mut bytes, 16 * 2048 + 132, 1 << 30);
    let mut image = open(bytes).unwrap();
    assert!(
        image
            .check_path_tables()
            .unwrap_err()
            .to_string()
            .contains("absurd")
    );
}

/// Offset of the first System Use entry `sig` in the record at `record`.
fn su_entry(bytes: &[u8], record: usize, sig: &[u8; 2]) -> usize {
    let len = bytes[record] as usize;
    (record + 33..record + len - 1)
        .find(|&i| &bytes[i..i + 2] == sig)
        .unwrap()
}

#[test]
fn broken_rock_ridge_entries() {
    let bytes = base();
    let (root, _) = lbas(&bytes);
    // The long name does not fit its record: it continues in a CE area.
    let long = record_offset(&bytes, root, b"NNNNNNNNNNNNNNNNNNNNNNNNNNNNNN.;1");
    let ce = su_entry(&bytes, long, b"CE");

    // The CE area points at itself forever: bounded, and reported.
    let mut looped = bytes.clone();
    let ce_lba = u32::from_le_bytes(looped[ce + 4..ce + 8].try_into().unwrap());
    let ce_offset = u32::from_le_bytes(looped[ce + 12..ce + 16].try_into().unwrap());
    let area = ce_lba as usize * 2048 + ce_offset as usize;
    put_both32(&mut looped, ce + 20, 28); // the area is now just a CE entry: itself
    looped.copy_within(ce..ce + 28, area);
    let mut image = open(looped).unwrap();
    let err = walk_all(&mut image, Names::RockRidge).unwrap_err();
    assert!(err.to_string().contains("continuation areas"), "{err}");

    // A CE area running past its sector.
    let mut bad = bytes.clone();
    put_both32(&mut bad, ce + 4 + 16, 4000);
    let mut image = open(bad).unwrap();
    let err = walk_all(&mut image, Names::RockRidge).unwrap_err();
    assert!(err.to_string().contains("runs past its sector"), "{err}");

    // An entry whose length runs past the System Use area.
    let mut bad = bytes;
    let dir = record_offset(&bad, root, b"DIR");
    let px = su_entry(&bad, dir, b"PX");
    bad[px + 2] = 250;
    let mut image = open(bad).unwrap();
    match walk_all(&mut image, Names::RockRidge) {
        Err(Error::Malformed { what, problem, .. }) => {
            assert_eq!(what, "Rock Ridge entries of /DIR");
            assert!(problem.contains("\"PX\" has length 250"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn multi_extent_chain_without_a_final_record() {
    let mut bytes = base();
    let (_, dir) = lbas(&bytes);
    let data = record_offset(&bytes, dir, b"DATA.BIN;1");
    bytes[data + 25] |= 0x80;
    let mut image = open(bytes).unwrap();
    let err = walk_all(&mut image, Names::Primary).unwrap_err();
    assert!(
        err.to_string()
            .contains("multi-extent chain of \"DATA.BIN;1\""),
        "{err}"
    );
}

#[test]
fn path_tables_that_disagree_with_the_tree() {
    let bytes = base();
    let pvd = &bytes[16 * 2048..17 * 2048];
    let l = u32::from_le_bytes(pvd[140..144].try_into().unwrap()) as usize * 2048;
    let m = u32::from_be_bytes(pvd[148..152].try_into().unwrap()) as usize * 2048;
    // Record 2's LBA changed in the M table only.
    let mut bad = bytes.clone();
    bad[m + 10 + 2..m + 10 + 6].copy_from_slice(&999u32.to_be_bytes());
    let err = open(bad).unwrap().check_path_tables().unwrap_err();
    assert!(
        err.to_string()
            .contains("type L and type M tables differ at record 2"),
        "{err}"
    );
    // Changed in both: now the tree disagrees.
    let mut bad = bytes;
    bad[m + 10 + 2..m + 10 + 6].copy_from_slice(&999u32.to_be_bytes());
    bad[l + 10 + 2..l + 10 + 6].copy_from_slice(&999u32.to_le_bytes());
    let err = open(bad).unwrap().check_path_tables().unwrap_err();
    assert!(matches!(err, Error::PathTable { .. }), "{err:?}");
    assert!(
        err.to_string().contains("LBA 999") || err.to_string().contains("missing"),
        "{err}"
    );
}

#[test]
fn a_wrong_boot_info_checksum_is_reported_not_fatal() {
    let mut bytes = base();
    let mut image = open(bytes.clone()).unwrap();
    let boot = image
        .lookup("/BOOT/ISOLINUX.BIN", Names::Primary)
        .unwrap()
        .unwrap();
    bytes[boot.lba() as usize * 2048 + 100] ^= 1;
    let mut image = open(bytes).unwrap();
    let status = image.boot_info_table(&boot).unwrap().unwrap();
    assert!(status.length_ok && !status.checksum_ok());
}

/// The blocks worth mutating: descriptors, catalog, path tables, directories, CE areas.
fn metadata_len() -> usize {
    let bytes = base();
    let mut image = open(bytes).unwrap();
    let first_file = image
        .walk(Names::Primary)
        .unwrap()
        .map(Result::unwrap)
        .filter(|e| e.is_file() && e.size > 2048)
        .map(|e| e.lba())
        .min()
        .unwrap();
    first_file as usize * 2048
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_reader_never_panics_on_mutated_images(
        edits in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 1..24),
        cut in proptest::option::of(0.0f64..1.0),
    ) {
        let mut bytes = base();
        let span = metadata_len() - 16 * 2048;
        for (at, value) in edits {
            let offset = 16 * 2048 + (at * span as f64) as usize;
            bytes[offset] = value;
        }
        if let Some(cut) = cut {
            let len = (cut * bytes.len() as f64) as usize;
            bytes.truncate(len);
        }
        common::exercise::exercise(Cursor::new(bytes));
    }
}
