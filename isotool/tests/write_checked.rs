//! Images written by our Builder, checked by tools we did not write: xorriso, isoinfo, 7z, the
//! `iso9660` crate — and by our reader, for what the others cannot see.

mod common;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use common::{
    TIME, digest, el_torito_report, esxi_builder, esxi_files, iso9660_crate_files, noise, run,
    write,
};
use esxforge_isotool::iso9660::Error;
use esxforge_isotool::iso9660::name::{Charset, Level, Mapping, Naming};
use esxforge_isotool::reader::{EntryKind, Image, Names};
use esxforge_isotool::writer::{Attributes, Builder, Joliet, Options, Source};

/// The builder patches a boot-info-table into bytes 8..64 of ISOLINUX.BIN as written; those
/// bytes are compared by the boot-info-table checks, the rest here.
fn masked(path: &str, data: &[u8]) -> String {
    let mut data = data.to_vec();
    if path.ends_with("ISOLINUX.BIN") {
        data[8..64].fill(0);
    }
    digest(&data)
}

fn want(files: &[(String, Vec<u8>)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(p, d)| (format!("/{p}"), masked(p, d)))
        .collect()
}

#[test]
fn esxi_shaped_image_is_read_alike_by_xorriso_isoinfo_7z_and_the_iso9660_crate() {
    let dir = tempfile::tempdir().unwrap();
    let files = esxi_files(dir.path(), "DEFAULT menu.c32\n", &noise(30_000, 9));
    let iso = dir.path().join("esxi.iso");
    let layout = write(esxi_builder("ESXI-8.0U3-CUSTOM", &files), &iso);
    let lba = |path: &str| common::placed(&layout, path).lba;

    // El Torito as xorriso sees it: BIOS no-emulation 4 sectors with a boot-info-table, UEFI the
    // whole 2 MiB image (4096 sectors), catalog /BOOT.CAT.
    let report = el_torito_report(&iso);
    assert_eq!(
        common::xorriso_boot_entries(&iso),
        vec![
            (
                "BIOS".to_string(),
                true,
                "none".to_string(),
                0,
                0,
                4,
                lba("/ISOLINUX.BIN")
            ),
            (
                "UEFI".to_string(),
                true,
                "none".to_string(),
                0,
                0,
                4096,
                lba("/EFIBOOT.IMG")
            ),
        ]
    );
    assert!(
        report.contains("El Torito cat path : /BOOT.CAT"),
        "{report}"
    );
    assert!(
        report.contains("El Torito img opts :   1  boot-info-table"),
        "{report}"
    );

    let info = run("isoinfo", &["-d", "-i", iso.to_str().unwrap()]);
    for line in [
        "Volume id: ESXI-8.0U3-CUSTOM",
        "Application id: ESXIMAGE",
        "NO Joliet present",
        "NO Rock Ridge present",
        "Nsect 4",
        &format!(
            "Bootoff {:X} {}",
            lba("/ISOLINUX.BIN"),
            lba("/ISOLINUX.BIN")
        ),
        &format!("Volume size is: {}", layout.blocks),
    ] {
        assert!(info.contains(line), "isoinfo -d lacks {line:?}:\n{info}");
    }
    let listing = run("isoinfo", &["-l", "-i", iso.to_str().unwrap()]);
    for id in [
        "BOOT.CFG;1",
        "ISOLINUX.BIN;1",
        "PRECHECK.PY;1",
        "Nov 14 2023",
    ] {
        assert!(listing.contains(id), "isoinfo -l lacks {id}:\n{listing}");
    }

    // 7z: every file with its size, and the data extracted equal to the source.
    let slt = run("7z", &["l", "-slt", iso.to_str().unwrap()]);
    let mut sizes = BTreeMap::new();
    let mut path = None;
    for line in slt.lines() {
        if let Some(p) = line.strip_prefix("Path = ") {
            path = Some(p.to_string());
        } else if let (Some(s), Some(p)) = (line.strip_prefix("Size = "), &path) {
            if let Ok(size) = s.parse::<u64>() {
                sizes.insert(format!("/{p}"), size);
            }
        }
    }
    for (p, d) in &files {
        assert_eq!(
            sizes.get(&format!("/{p}")),
            Some(&(d.len() as u64)),
            "7z size of {p}"
        );
    }
    let out = dir.path().join("7z");
    run(
        "7z",
        &[
            "x",
            "-y",
            &format!("-o{}", out.display()),
            iso.to_str().unwrap(),
        ],
    );
    for (p, d) in &files {
        assert_eq!(
            masked(p, &fs::read(out.join(p)).unwrap()),
            masked(p, d),
            "7z extracted {p}"
        );
    }

    // The iso9660 crate reads the primary tree independently.
    let mut theirs = iso9660_crate_files(&iso, masked);
    assert_eq!(
        theirs
            .remove("/BOOT.CAT")
            .map(|d| d.starts_with("2048 bytes")),
        Some(true)
    );
    assert_eq!(theirs, want(&files));

    // osirrox extracts the same bytes.
    let out = dir.path().join("osirrox");
    run(
        "osirrox",
        &[
            "-indev",
            iso.to_str().unwrap(),
            "-extract",
            "/",
            out.to_str().unwrap(),
        ],
    );
    for (p, d) in &files {
        assert_eq!(
            masked(p, &fs::read(out.join(p)).unwrap()),
            masked(p, d),
            "osirrox extracted {p}"
        );
    }

    // Our reader: path tables consistent, boot-info-table valid.
    let mut image = Image::open(File::open(&iso).unwrap()).unwrap();
    image.check_path_tables().unwrap();
    let isolinux = image
        .lookup("/ISOLINUX.BIN", Names::Primary)
        .unwrap()
        .unwrap();
    assert!(
        image
            .boot_info_table(&isolinux)
            .unwrap()
            .unwrap()
            .is_valid()
    );
}

#[test]
fn boot_info_table_goes_into_the_output_only() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("isolinux.bin");
    fs::copy(common::ISOLINUX_BIN, &source).unwrap();
    let before = fs::read(&source).unwrap();
    let mut options = Options::esxi("BIT");
    options.timestamp = TIME;
    let mut builder = Builder::new(options);
    builder
        .add_file("ISOLINUX.BIN", Source::path(&source).unwrap())
        .unwrap();
    builder.add_boot_image(esxforge_isotool::writer::BootImage::bios("ISOLINUX.BIN"));
    let iso = dir.path().join("bit.iso");
    let layout = write(builder, &iso);
    assert_eq!(
        fs::read(&source).unwrap(),
        before,
        "the source file must not change"
    );
    assert!(
        layout.files.iter().any(|f| f.path == "/BOOT.CAT"),
        "default catalog name"
    );

    let mut image = Image::open(File::open(&iso).unwrap()).unwrap();
    let written = common::read_file(&mut image, "/ISOLINUX.BIN", Names::Primary);
    let entry = image
        .lookup("/ISOLINUX.BIN", Names::Primary)
        .unwrap()
        .unwrap();
    assert_eq!(written[..8], before[..8]);
    assert_eq!(written[64..], before[64..]);
    assert_ne!(written[8..64], before[8..64]);
    let status = image.boot_info_table(&entry).unwrap().unwrap();
    assert!(status.is_valid());
    assert_eq!(
        (
            status.table.pvd_lba,
            status.table.file_lba,
            status.table.file_len
        ),
        (16, entry.lba(), before.len() as u32)
    );
    assert!(el_torito_report(&iso).contains("boot-info-table"));
}

/// Everything a non-ESXi image may have: level 3 names, Joliet long names, Rock Ridge.
fn rich_options(timestamp: i64) -> Options {
    Options {
        timestamp,
        naming: Naming {
            level: Level::Three,
            charset: Charset::DCharacters,
            mapping: Mapping::Translate,
            version_suffix: true,
        },
        joliet: Joliet::LongNames,
        rock_ridge: true,
        ..Options::esxi("RICH")
    }
}

fn rich_builder(timestamp: i64, order_reversed: bool) -> Builder {
    let mut builder = Builder::new(rich_options(timestamp));
    let long = "Long-Name-".repeat(9);
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("docs/Read Me First.txt", b"hello\n".to_vec()),
        ("docs/data.bin", noise(70_000, 5)),
        ("a/b/c/d/e/f/g/h/i/j/deep.txt", b"deep\n".to_vec()),
        ("empty", Vec::new()),
        (&long, b"long\n".to_vec()),
    ];
    if order_reversed {
        files.reverse();
    }
    for (path, data) in files {
        builder.add_file(path, Source::bytes(data)).unwrap();
    }
    builder
        .add_file_with(
            "script.sh",
            Source::bytes("#!/bin/sh\n"),
            Attributes {
                posix: Some(esxforge_isotool::iso9660::rockridge::Posix {
                    mode: 0o100755,
                    links: 1,
                    uid: 1000,
                    gid: 100,
                    serial: None,
                }),
                ..Attributes::default()
            },
        )
        .unwrap();
    builder.add_symlink("docs/link", "../script.sh").unwrap();
    builder.add_dir("empty-dir").unwrap();
    builder
}

#[test]
fn joliet_and_rock_ridge_names_modes_and_links_as_isoinfo_and_xorriso_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("rich.iso");
    write(rich_builder(TIME, false), &iso);
    let i = iso.to_str().unwrap();
    let info = run("isoinfo", &["-d", "-i", i]);
    assert!(info.contains("Joliet with UCS level 3 found"), "{info}");
    assert!(
        info.contains("Rock Ridge signatures version 1 found"),
        "{info}"
    );

    let rr = run("isoinfo", &["-R", "-l", "-i", i]);
    // isoinfo prints owner and group in octal: 1000 and 100 are 1750 and 144.
    assert!(
        rr.contains("-rwxr-xr-x   1 1750  144") && rr.contains("script.sh"),
        "{rr}"
    );
    assert!(rr.contains("link -> ../script.sh"), "{rr}");
    assert!(rr.contains("Read Me First.txt"), "{rr}");
    assert!(rr.contains(&"Long-Name-".repeat(9)), "{rr}");
    let joliet = run("isoinfo", &["-J", "-f", "-i", i]);
    for p in [
        "/docs/Read Me First.txt",
        "/a/b/c/d/e/f/g/h/i/j/deep.txt",
        "/empty-dir",
    ] {
        assert!(joliet.contains(p), "Joliet lacks {p}:\n{joliet}");
    }
    let primary = run("isoinfo", &["-f", "-i", i]);
    assert!(primary.contains("/DOCS/READ_ME_FIRST.TXT;1"), "{primary}");

    let lsdl = run(
        "xorriso",
        &["-indev", i, "-find", "/", "-exec", "lsdl", "--"],
    );
    assert!(lsdl.contains("'/docs/link' -> '../script.sh'"), "{lsdl}");
    assert!(lsdl.contains("-rwxr-xr-x    1 1000     100"), "{lsdl}");
    let out = dir.path().join("x");
    run(
        "osirrox",
        &["-indev", i, "-extract", "/", out.to_str().unwrap()],
    );
    assert_eq!(
        fs::read(out.join("docs/data.bin")).unwrap(),
        noise(70_000, 5)
    );
    assert_eq!(
        fs::read_link(out.join("docs/link")).unwrap(),
        Path::new("../script.sh")
    );
    let mut image = Image::open(File::open(&iso).unwrap()).unwrap();
    image.check_path_tables().unwrap();
}

#[test]
fn same_inputs_give_the_same_bytes_whatever_the_order_of_adding() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.iso"),
        dir.path().join("b.iso"),
        dir.path().join("c.iso"),
    );
    write(rich_builder(TIME, false), &a);
    write(rich_builder(TIME, true), &b);
    write(rich_builder(TIME + 1, false), &c);
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    assert_ne!(
        fs::read(&a).unwrap(),
        fs::read(&c).unwrap(),
        "the timestamp must reach the image"
    );
    // Every date of the volume is the given time.
    let pvd = run("xorriso", &["-indev", a.to_str().unwrap(), "-pvd_info"]);
    for field in [
        "Creation Time: 2023111422132000",
        "Modif. Time  : 2023111422132000",
        "Eff. Time    : 2023111422132000",
    ] {
        assert!(pvd.contains(field), "{field}\n{pvd}");
    }
}

#[test]
fn names_that_do_not_fit_are_errors_naming_the_path() {
    let finish = |path: &str| {
        let mut builder = Builder::new(Options::esxi("X"));
        builder.add_file(path, Source::bytes("x")).unwrap();
        builder.finish(std::io::sink())
    };
    // (path added, the path the error names, what it says is wrong)
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "DRIVERS/net-ixgbe.v00",
            "/DRIVERS/net-ixgbe.v00",
            &["'n'", "upper case"],
        ),
        (
            "DRIVERS/NET-IXGB.V00",
            "/DRIVERS/NET-IXGB.V00",
            &["'-' is not allowed"],
        ),
        ("drivers/NET_IXGB.V00", "/drivers", &["upper case"]),
        ("TOOLONGNAME.V00", "/TOOLONGNAME.V00", &["8.3"]),
    ];
    for (added, named, says) in cases {
        match finish(added) {
            Err(Error::InvalidName { path, problem }) => {
                assert_eq!(path, named, "{added}");
                for s in says {
                    assert!(problem.contains(s), "{added}: {problem}");
                }
            }
            other => panic!("{added}: {other:?}"),
        }
    }
    // The same names in order: accepted.
    finish("DRIVERS/NET_IXGB.V00").unwrap();
}

#[test]
fn collisions_are_errors_never_renames() {
    let translate = Options {
        naming: Naming {
            mapping: Mapping::Translate,
            ..Naming::ESXI
        },
        ..Options::esxi("X")
    };
    // Both map to NET_IXGB.V00.
    let mut builder = Builder::new(translate.clone());
    builder
        .add_file("net-ixgbe.v00", Source::bytes("a"))
        .unwrap();
    builder
        .add_file("net_ixgbe_x.v00", Source::bytes("b"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.iso");
    let err = builder.finish(File::create(&out).unwrap()).unwrap_err();
    match &err {
        Error::NameCollision {
            dir,
            identifier,
            namespace,
            ..
        } => {
            assert_eq!(
                (dir.as_str(), identifier.as_str(), *namespace),
                ("/", "NET_IXGB.V00;1", "primary ISO 9660")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("net-ixgbe.v00") && err.to_string().contains("net_ixgbe_x.v00"),
        "{err}"
    );
    assert_eq!(
        fs::metadata(&out).unwrap().len(),
        0,
        "nothing is written when the layout fails"
    );

    // More pairs that would be recorded alike, each a collision in the namespace named.
    fn id(s: &str) -> Attributes {
        Attributes {
            iso_identifier: Some(s.into()),
            ..Attributes::default()
        }
    }
    fn joliet(s: &str) -> Attributes {
        Attributes {
            joliet_name: Some(s.into()),
            ..Attributes::default()
        }
    }
    type Add = dyn Fn(&mut Builder) -> Result<(), Error>;
    let cases: [(&str, Options, &Add, &str); 3] = [
        (
            "a file and a directory that differ only by the `.` of an empty extension",
            translate.clone(),
            &|b| {
                b.add_file("readme", Source::bytes("a"))?;
                b.add_dir("README")
            },
            "primary ISO 9660",
        ),
        (
            "explicit identifiers",
            Options::esxi("X"),
            &|b| {
                b.add_file_with("a", Source::bytes("a"), id("A.;1"))?;
                b.add_file_with("b", Source::bytes("b"), id("a.;1"))
            },
            "primary ISO 9660",
        ),
        (
            "two names that Joliet records alike",
            Options {
                joliet: Joliet::On,
                ..translate
            },
            &|b| {
                b.add_file_with("A", Source::bytes("a"), joliet("same"))?;
                b.add_file_with("B", Source::bytes("b"), joliet("same"))
            },
            "Joliet",
        ),
    ];
    for (what, options, add, expected) in cases {
        let mut builder = Builder::new(options);
        add(&mut builder).unwrap();
        match builder.finish(std::io::sink()) {
            Err(Error::NameCollision { namespace, .. }) => {
                assert_eq!(namespace, expected, "{what}")
            }
            other => panic!("{what}: {other:?}"),
        }
    }

    // Adding a path twice is refused when it happens.
    let mut builder = Builder::new(Options::esxi("X"));
    builder.add_file("A.TXT", Source::bytes("a")).unwrap();
    assert!(matches!(
        builder.add_file("A.TXT", Source::bytes("b")),
        Err(Error::Tree { .. })
    ));
}

#[test]
fn bad_boot_setups_are_errors() {
    let mut builder = Builder::new(Options::esxi("X"));
    builder.add_boot_image(esxforge_isotool::writer::BootImage::bios("ISOLINUX.BIN"));
    assert!(matches!(
        builder.finish(std::io::sink()),
        Err(Error::Boot { .. })
    ));
    let mut builder = Builder::new(Options::esxi("X"));
    builder
        .add_file("TINY.BIN", Source::bytes(vec![1; 10]))
        .unwrap();
    builder.add_boot_image(esxforge_isotool::writer::BootImage::bios("TINY.BIN"));
    let err = builder.finish(std::io::sink()).unwrap_err();
    assert!(err.to_string().contains("too small"), "{err}");
    let mut builder = Builder::new(Options::esxi("X"));
    assert!(matches!(
        builder.add_symlink("L", "T"),
        Err(Error::Options { .. })
    ));
    let mut builder = Builder::new(Options::esxi(&"V".repeat(33)));
    builder.add_file("A.TXT", Source::bytes("a")).unwrap();
    assert!(
        builder
            .finish(std::io::sink())
            .unwrap_err()
            .to_string()
            .contains("volume id")
    );
}

#[test]
fn a_source_that_changes_size_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grows.bin");
    fs::write(&path, b"1234").unwrap();
    let mut builder = Builder::new(Options::esxi("X"));
    builder
        .add_file("GROWS.BIN", Source::path(&path).unwrap())
        .unwrap();
    fs::write(&path, b"123456").unwrap();
    match builder.finish(std::io::sink()) {
        Err(Error::SourceChanged {
            expected: 4,
            found: 6,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let mut builder = Builder::new(Options::esxi("X"));
    builder
        .add_file("SHORT.BIN", Source::reader(&b"abc"[..], 10))
        .unwrap();
    assert!(matches!(
        builder.finish(std::io::sink()),
        Err(Error::SourceChanged {
            expected: 10,
            found: 3,
            ..
        })
    ));
}

#[test]
fn our_image_reads_back_equal_and_reimports_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.iso");
    write(rich_builder(TIME, false), &first);

    // read → write → read: every entry in every namespace is the same, and so are the bytes.
    let file = std::sync::Arc::new(File::open(&first).unwrap());
    let mut image = Image::open(&*file).unwrap();
    let mut builder = Builder::new(rich_options(TIME));
    builder.import(&mut image, &file).unwrap();
    let second = dir.path().join("second.iso");
    write(builder, &second);
    let listing = |path: &Path, names: Names| -> Vec<String> {
        let mut image = Image::open(File::open(path).unwrap()).unwrap();
        let entries: Vec<_> = image.walk(names).unwrap().map(Result::unwrap).collect();
        entries
            .into_iter()
            .map(|e| {
                let data = if e.kind == EntryKind::File {
                    let mut d = Vec::new();
                    image.open_file(&e).unwrap().read_to_end(&mut d).unwrap();
                    digest(&d)
                } else {
                    String::new()
                };
                format!(
                    "{} {} {:?} {:?} {data}",
                    e.path,
                    e.identifier,
                    e.kind,
                    e.posix()
                )
            })
            .collect()
    };
    for names in [Names::Primary, Names::RockRidge, Names::Joliet] {
        assert_eq!(listing(&first, names), listing(&second, names), "{names}");
    }
    assert_eq!(fs::read(&first).unwrap(), fs::read(&second).unwrap());
}

#[test]
fn a_foreign_image_imports_with_every_identifier_verbatim() {
    // Imported under the strict ESXi naming, which cannot derive an identifier from a lower-case
    // name: every entry, the symbolic link too, must keep the identifier the source records.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    common::tree(
        &src,
        &[
            ("README.txt", b"read me\n"),
            ("sub/data.bin", &noise(5000, 1)),
        ],
    );
    std::os::unix::fs::symlink("README.txt", src.join("link")).unwrap();
    let first = dir.path().join("first.iso");
    run(
        "xorriso",
        &[
            "-as",
            "mkisofs",
            "-quiet",
            "-l",
            "-R",
            "-o",
            first.to_str().unwrap(),
            src.to_str().unwrap(),
        ],
    );
    let file = std::sync::Arc::new(File::open(&first).unwrap());
    let mut builder = Builder::new(Options {
        timestamp: TIME,
        rock_ridge: true,
        ..Options::esxi("FOREIGN")
    });
    builder
        .import(&mut Image::open(&*file).unwrap(), &file)
        .unwrap();
    let second = dir.path().join("second.iso");
    write(builder, &second);
    let identifiers = |iso: &Path| -> Vec<String> {
        run("isoinfo", &["-l", "-i", iso.to_str().unwrap()])
            .lines()
            .filter_map(|l| l.rsplit_once("]  ").map(|(_, id)| id.trim().to_string()))
            .collect()
    };
    let ours = identifiers(&second);
    assert!(ours.contains(&"LINK.;1".to_string()), "{ours:?}");
    assert_eq!(ours, identifiers(&first));
    let rr = run("isoinfo", &["-R", "-l", "-i", second.to_str().unwrap()]);
    assert!(rr.contains("link -> README.txt"), "{rr}");
}

#[test]
fn file_over_4_gib_is_written_as_multi_extent_records_that_xorriso_isoinfo_and_7z_read() {
    const SIZE: u64 = 4400 << 20;
    let dir = tempfile::tempdir().unwrap();
    // Zeros with markers at the start, around the first extent's end and at the end.
    let markers: [(u64, &[u8]); 3] = [
        (0, b"FIRST-EXTENT-START"),
        (0xFFFF_F800 - 16, b"FIRST-EXTENT-ENDSECOND-EXTENT-START"),
        (SIZE - 8, b"LAST8BYT"),
    ];
    let huge_source = || Source::reader(common::MarkedZeros::new(SIZE, &markers), SIZE);

    let level3 = Naming {
        level: Level::Three,
        ..Naming::ESXI
    };
    let mut builder = Builder::new(Options {
        naming: level3,
        timestamp: TIME,
        ..Options::esxi("MULTI")
    });
    builder.add_file("HUGE.BIN", huge_source()).unwrap();
    builder
        .add_file("SMALL.TXT", Source::bytes("tail\n"))
        .unwrap();
    let iso = dir.path().join("multi.iso");
    // Holes for the zeros: the image is 4.6 GB long but costs a few blocks of disk. (io::copy
    // reads straight into a BufWriter's buffer, so the data moves in 1 MiB pieces.)
    let out = std::io::BufWriter::with_capacity(1 << 20, common::SparseFile::create(&iso));
    builder.finish(out).unwrap();

    let lbas = common::xorriso_lbas(&iso);
    let huge: Vec<_> = lbas.iter().filter(|l| l.0 == "/HUGE.BIN").collect();
    assert_eq!(huge.len(), 2, "{lbas:?}");
    assert_eq!(
        huge[1].1 - huge[0].1,
        0xFFFF_F800 / 2048,
        "the second extent follows the first"
    );
    assert_eq!(huge[0].2, SIZE);
    let listing = run("isoinfo", &["-l", "-i", iso.to_str().unwrap()]);
    assert_eq!(listing.matches("HUGE.BIN;1").count(), 2, "{listing}");
    assert!(listing.contains("4294965248"), "{listing}");
    let slt = run("7z", &["l", "-slt", iso.to_str().unwrap()]);
    assert!(
        slt.contains(&format!("Path = HUGE.BIN\nFolder = -\nSize = {SIZE}")),
        "{slt}"
    );

    let mut image = Image::open(File::open(&iso).unwrap()).unwrap();
    image.check_path_tables().unwrap();
    let entry = image.lookup("/HUGE.BIN", Names::Primary).unwrap().unwrap();
    assert_eq!((entry.size, entry.extents.len()), (SIZE, 2));
    let mut reader = image.open_file(&entry).unwrap();
    for (offset, text) in markers {
        std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(offset)).unwrap();
        let mut buf = vec![0u8; text.len()];
        reader.read_exact(&mut buf).unwrap();
        assert_eq!(buf, text);
    }

    // Below level 3 the file is refused when it is added.
    let mut builder = Builder::new(Options::esxi("MULTI"));
    let err = builder.add_file("HUGE.BIN", huge_source()).unwrap_err();
    assert!(err.to_string().contains("level 3"), "{err}");
}
