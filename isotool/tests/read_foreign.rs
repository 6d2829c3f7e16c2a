//! Our reader against images made by tools we did not write: xorriso and genisoimage, with and
//! without Joliet and Rock Ridge, with El Torito BIOS + UEFI entries, deep directories, and a
//! multi-extent file over 4 GiB. Every name, size, LBA and byte is compared with the source tree
//! or with what the other tool reports.

mod common;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use common::{ISOLINUX_BIN, digest, noise, run, tree, xorriso_lbas};
use esxforge_isotool::iso9660::eltorito::{Emulation, Platform};
use esxforge_isotool::reader::{EntryKind, Image, Names};

/// A source tree with the shapes that matter: boot files, nested and deep directories (deeper
/// than ISO 9660's 8 levels), a long mixed-case name, an empty file, pseudo-random data, and a
/// symbolic link.
fn source(dir: &Path) {
    let efi = common::efi_image(dir, &noise(50_000, 7));
    tree(
        &dir.join("src"),
        &[
            ("isolinux/isolinux.bin", &fs::read(ISOLINUX_BIN).unwrap()),
            ("isolinux/isolinux.cfg", b"DEFAULT probe\n"),
            ("efiboot.img", &fs::read(efi).unwrap()),
            ("README.TXT", b"read me\n"),
            ("docs/Long File Name With Spaces.txt", &noise(100_000, 1)),
            ("docs/empty.txt", b""),
            ("a/b/c/d/e/f/g/h/i/deep.txt", b"nine levels down\n"),
        ],
    );
    symlink("README.TXT", dir.join("src/link")).unwrap();
    fs::set_permissions(
        dir.join("src/README.TXT"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
}

/// Files of the source tree (path from its root → digest of the content), symlinks excluded.
fn source_files(root: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                let rel = format!("/{}", path.strip_prefix(root).unwrap().display());
                files.insert(rel, digest(&fs::read(&path).unwrap()));
            }
        }
    }
    files
}

/// Every file of a tree as our reader sees it (path → digest of the content).
fn read_all(image: &mut Image<File>, names: Names) -> BTreeMap<String, String> {
    let entries: Vec<_> = image.walk(names).unwrap().map(Result::unwrap).collect();
    let mut files = BTreeMap::new();
    for e in entries.into_iter().filter(|e| e.is_file()) {
        let mut data = Vec::new();
        image.open_file(&e).unwrap().read_to_end(&mut data).unwrap();
        assert_eq!(data.len() as u64, e.size, "{}", e.path);
        let mut copied = Vec::new();
        assert_eq!(image.copy_file(&e, &mut copied).unwrap(), e.size);
        assert_eq!(copied, data, "{}: copy_file and open_file disagree", e.path);
        files.insert(e.path, digest(&data));
    }
    files
}

/// The image `program` makes of `dir/src` as `dir/<program>.iso`, opened.
fn mkisofs(program: &str, dir: &Path, args: &[&str]) -> File {
    let out = dir.join(format!("{program}.iso"));
    common::mkisofs(program, &dir.join("src"), &out, args);
    File::open(out).unwrap()
}

#[test]
fn genisoimage_plain_primary_names_match_isoinfo_and_data_matches_the_source() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path());
    let file = mkisofs("genisoimage", dir.path(), &["-V", "PLAIN"]);
    let iso = dir.path().join("genisoimage.iso");
    let mut image = Image::open(file).unwrap();
    assert!(image.rock_ridge().is_none() && image.joliet().is_none());
    assert_eq!(image.primary().ids.volume_id, "PLAIN");
    image.check_path_tables().unwrap();

    // `isoinfo -f` lists every path with its primary identifiers.
    let listed: Vec<String> = run("isoinfo", &["-f", "-i", iso.to_str().unwrap()])
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| l.starts_with('/'))
        .collect();
    let mut ours: Vec<String> = image
        .walk(Names::Primary)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let parent = e.path.rsplit_once('/').unwrap().0;
            format!("{parent}/{}", e.identifier)
        })
        .collect();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    ours.sort();
    assert_eq!(ours, listed_sorted);

    // Without other names, contents are matched as a multiset. genisoimage without Rock Ridge
    // drops symbolic links and directories nested deeper than ISO 9660 allows (it says so).
    let mut source = source_files(&dir.path().join("src"));
    source.remove("/a/b/c/d/e/f/g/h/i/deep.txt").unwrap();
    let mut want: Vec<String> = source.into_values().collect();
    let mut got: Vec<String> = read_all(&mut image, Names::Primary).into_values().collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);

    // Case-insensitive, version-optional lookup as ESXi's loader does it.
    let readme = image
        .lookup("/readme.txt", Names::Primary)
        .unwrap()
        .unwrap();
    assert_eq!(readme.identifier, "README.TXT;1");
    assert!(image.lookup("/nope.txt", Names::Primary).unwrap().is_none());
}

#[test]
fn xorriso_rock_ridge_names_modes_links_and_lbas() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path());
    let file = mkisofs("xorriso", dir.path(), &["-R", "-V", "RR"]);
    let iso = dir.path().join("xorriso.iso");
    let mut image = Image::open(file).unwrap();
    let rr = image
        .rock_ridge()
        .expect("xorriso -R writes Rock Ridge")
        .clone();
    assert!(
        rr.extensions
            .iter()
            .any(|e| e.starts_with("RRIP") || e.starts_with("IEEE")),
        "{rr:?}"
    );
    image.check_path_tables().unwrap();
    assert_eq!(
        read_all(&mut image, Names::RockRidge),
        source_files(&dir.path().join("src"))
    );

    let link = image.lookup("/link", Names::RockRidge).unwrap().unwrap();
    assert_eq!(link.kind, EntryKind::Symlink("README.TXT".into()));
    let readme = image
        .lookup("/README.TXT", Names::RockRidge)
        .unwrap()
        .unwrap();
    assert_eq!(readme.posix().unwrap().mode & 0o7777, 0o640);
    let deep = image
        .lookup("/a/b/c/d/e/f/g/h/i/deep.txt", Names::RockRidge)
        .unwrap()
        .unwrap();
    assert_eq!(deep.size, 17);

    // Every extent LBA agrees with xorriso's own report.
    let theirs = xorriso_lbas(&iso);
    let mut ours = Vec::new();
    for e in image.walk(Names::RockRidge).unwrap() {
        let e = e.unwrap();
        if e.is_file() {
            for x in &e.extents {
                ours.push((e.path.clone(), u64::from(x.lba), e.size));
            }
        }
    }
    let mut theirs_sorted = theirs.clone();
    theirs_sorted.sort();
    ours.sort();
    assert_eq!(ours, theirs_sorted);
}

#[test]
fn genisoimage_rock_ridge_relocated_deep_directory_is_put_back() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path());
    // genisoimage -R moves directories deeper than 8 levels to /rr_moved (CL/PL/RE entries).
    let file = mkisofs("genisoimage", dir.path(), &["-R", "-J"]);
    let mut image = Image::open(file).unwrap();
    assert!(image.rock_ridge().is_some() && image.joliet().is_some());
    let primary: Vec<String> = image
        .walk(Names::Primary)
        .unwrap()
        .map(|e| e.unwrap().path)
        .collect();
    assert!(
        primary.iter().any(|p| p.starts_with("/RR_MOVED")),
        "genisoimage relocated nothing: {primary:?}"
    );
    assert_eq!(
        read_all(&mut image, Names::RockRidge),
        source_files(&dir.path().join("src"))
    );
    // The relocated directory is hidden from the Rock Ridge tree (RE) and shown where its child
    // link (CL) is; `rr_moved` itself stays, empty, as mkisofs leaves it.
    let rr_moved = image
        .lookup("/rr_moved", Names::RockRidge)
        .unwrap()
        .unwrap();
    assert!(image.read_dir(&rr_moved).unwrap().is_empty());
    image.check_path_tables().unwrap();
}

#[test]
fn joliet_names_from_both_tools() {
    for program in ["genisoimage", "xorriso"] {
        let dir = tempfile::tempdir().unwrap();
        source(dir.path());
        let file = mkisofs(program, dir.path(), &["-J", "-joliet-long", "-V", "JOLIET"]);
        let mut image = Image::open(file).unwrap();
        let joliet = image.joliet().expect("-J writes a Joliet SVD").clone();
        assert_eq!(joliet.ids.volume_id, "JOLIET");
        image.check_path_tables().unwrap();
        let mut want = source_files(&dir.path().join("src"));
        let got = read_all(&mut image, Names::Joliet);
        // Joliet has no links: both tools leave the link out of the Joliet tree (`isoinfo -J -f`
        // agrees). Without Rock Ridge genisoimage also drops too-deep directories (and says so).
        if program == "genisoimage" {
            want.remove("/a/b/c/d/e/f/g/h/i/deep.txt").unwrap();
        }
        assert_eq!(got, want, "{program}");
        let listed = run(
            "isoinfo",
            &[
                "-J",
                "-f",
                "-i",
                dir.path().join(format!("{program}.iso")).to_str().unwrap(),
            ],
        );
        assert!(
            listed.contains("/docs/Long File Name With Spaces.txt"),
            "{listed}"
        );
        assert!(!listed.contains("/link"), "{listed}");
    }
}

#[test]
fn el_torito_bios_and_uefi_entries_match_xorriso_report() {
    for program in ["xorriso", "genisoimage"] {
        let dir = tempfile::tempdir().unwrap();
        source(dir.path());
        let file = mkisofs(
            program,
            dir.path(),
            &[&["-R"], common::BIOS_UEFI_BOOT].concat(),
        );
        let iso = dir.path().join(format!("{program}.iso"));
        let mut image = Image::open(file).unwrap();
        let catalog = image.boot_catalog().unwrap().expect("a boot catalog");
        let theirs = common::xorriso_boot_entries(&iso);
        assert_eq!(catalog.entries.len(), 2, "{program}");
        assert_eq!(theirs.len(), 2);
        for (ours, theirs) in catalog.entries.iter().zip(&theirs) {
            let platform = match ours.platform {
                Platform::X86 => "BIOS",
                Platform::EFI => "UEFI",
                other => panic!("platform {other}"),
            };
            assert_eq!(platform, theirs.0);
            assert_eq!(ours.bootable, theirs.1);
            assert_eq!(ours.emulation, Emulation::NoEmulation);
            assert_eq!(theirs.2, "none");
            assert_eq!(
                (
                    ours.load_segment,
                    ours.system_type,
                    ours.sector_count,
                    ours.load_rba
                ),
                (theirs.3, theirs.4, theirs.5, theirs.6)
            );
        }
        assert_eq!(catalog.default_entry().unwrap().platform, Platform::X86);
        assert_eq!(catalog.sections.len(), 1);
        assert_eq!(catalog.sections[0].platform, Platform::EFI);

        // The catalog is the file the boot record points at.
        let cat = image
            .lookup("/isolinux/boot.cat", Names::RockRidge)
            .unwrap()
            .unwrap();
        assert_eq!(Some(cat.lba()), image.boot_catalog_lba());

        // The BIOS image has a valid boot-info-table (as xorriso says), the EFI image none.
        let bios = image.boot_image_file(&catalog.entries[0]).unwrap().unwrap();
        assert_eq!(bios.identifier, "ISOLINUX.BIN;1");
        let status = image
            .boot_info_table(&bios)
            .unwrap()
            .expect("boot-info-table");
        assert!(status.is_valid(), "{program}: {status:?}");
        assert_eq!(status.table.file_lba, bios.lba());
        assert!(common::el_torito_report(&iso).contains("boot-info-table"));
        let efi = image.boot_image_file(&catalog.entries[1]).unwrap().unwrap();
        assert_eq!(image.boot_info_table(&efi).unwrap(), None);
    }
}

/// Re-creates the image `xorriso -as mkisofs -iso-level 3 -V MULTI` made from a 4400 MiB sparse
/// file `huge.bin` (markers at its start, around its extent boundary and at its end) and a
/// 5-byte `small.txt`. Only the non-zero sectors are kept in the fixture; the rest is a hole, so
/// the 4.6 GB image costs a few KiB of disk and no time. Made once with
///
/// ```text
/// truncate -s 4400M big/huge.bin   # then the four markers written with dd
/// xorriso -as mkisofs -quiet -iso-level 3 -V MULTI -o big.iso big    # ~30-60 s, hence the fixture
/// ```
fn xorriso_multi_extent_image(dir: &Path) -> std::path::PathBuf {
    let gz = fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/xorriso-multi-extent.sparse.gz"
    ))
    .unwrap();
    let mut data = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut data)
        .unwrap();
    assert_eq!(&data[..10], b"SPARSEISO1");
    let len = u64::from_le_bytes(data[10..18].try_into().unwrap());
    let path = dir.join("multi.iso");
    let mut out = File::create(&path).unwrap();
    out.set_len(len).unwrap();
    for chunk in data[18..].chunks(4 + 2048) {
        let lba = u32::from_le_bytes(chunk[..4].try_into().unwrap());
        out.seek(SeekFrom::Start(u64::from(lba) * 2048)).unwrap();
        std::io::Write::write_all(&mut out, &chunk[4..]).unwrap();
    }
    path
}

#[test]
fn xorriso_multi_extent_file_over_4_gib_reads_across_its_extents() {
    let dir = tempfile::tempdir().unwrap();
    let iso = xorriso_multi_extent_image(dir.path());
    let mut image = Image::open(File::open(&iso).unwrap()).unwrap();
    image.check_path_tables().unwrap();
    let huge = image
        .lookup("/huge.bin", Names::RockRidge)
        .unwrap()
        .unwrap();
    assert_eq!(huge.size, 4400 << 20);
    assert_eq!(huge.extents.len(), 2);
    assert_eq!(huge.extents[0].len, 0xFFFF_F800);
    let theirs: Vec<u64> = xorriso_lbas(&iso)
        .into_iter()
        .filter(|l| l.0 == "/huge.bin")
        .map(|l| l.1)
        .collect();
    let ours: Vec<u64> = huge.extents.iter().map(|x| u64::from(x.lba)).collect();
    assert_eq!(ours, theirs);

    let mut reader = image.open_file(&huge).unwrap();
    let mut at = |offset: u64, len: usize| {
        reader.seek(SeekFrom::Start(offset)).unwrap();
        let mut buf = vec![0u8; len];
        reader.read_exact(&mut buf).unwrap();
        buf
    };
    assert_eq!(at(0, 18), b"FIRST-EXTENT-START");
    // A read that starts in the first extent and ends in the second.
    let boundary = at(0xFFFF_F800 - 16, 35);
    assert_eq!(&boundary[..16], b"FIRST-EXTENT-END");
    assert_eq!(&boundary[16..], b"SECOND-EXTENT-START");
    assert_eq!(at((4400 << 20) - 8, 8), b"LAST8BYT");
    drop(reader);
    assert_eq!(
        common::read_file(&mut image, "/small.txt", Names::RockRidge),
        b"tail\n"
    );
}
