//! Shared fixtures for the isotool tests: running the real ISO tools, making source trees and
//! images, and a sparse output for multi-gigabyte images.

#![allow(dead_code)] // each test binary uses its own part of this module

pub mod exercise;
pub mod qemu;

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use esxforge_isotool::reader::{Image, Names};
use esxforge_isotool::writer::{Builder, Layout, PlacedFile};

/// Fixed time for every image built in tests (2023-11-14T22:13:20Z).
pub const TIME: i64 = 1_700_000_000;

/// Runs a tool, panics with its stderr if it fails, returns stdout and stderr together (xorriso
/// reports on stderr).
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} could not be started ({e}); scripts/test installs it")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed: {text}");
    text
}

/// Writes files (path → content) under `root`, creating directories.
pub fn tree(root: &Path, files: &[(&str, &[u8])]) {
    for (path, content) in files {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
}

/// Deterministic pseudo-random bytes (content that compression or dedup cannot fake).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A short, printable stand-in for content in assertions: length and SHA-256.
pub fn digest(data: &[u8]) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(data);
    let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{} bytes sha256:{hex}", data.len())
}

/// Writes an image with `builder` to `path` and returns the layout.
pub fn write(builder: Builder, path: &Path) -> Layout {
    let file = File::create(path).unwrap();
    let layout = builder.finish(&file).unwrap();
    file.sync_all().unwrap();
    layout
}

/// Where `path` landed in an image we wrote.
pub fn placed<'a>(layout: &'a Layout, path: &str) -> &'a PlacedFile {
    layout
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} is not in the layout"))
}

/// The bytes of the file at `path`, as our reader reads them.
pub fn read_file<R: Read + Seek>(image: &mut Image<R>, path: &str, names: Names) -> Vec<u8> {
    let entry = image
        .lookup(path, names)
        .unwrap()
        .unwrap_or_else(|| panic!("{path} is not on the image"));
    let mut data = Vec::new();
    image
        .open_file(&entry)
        .unwrap()
        .read_to_end(&mut data)
        .unwrap();
    data
}

/// `mkisofs` options for the El Torito entries every tool-made test image has: BIOS isolinux
/// (no emulation, 4 sectors, boot-info-table, catalog beside it) and a UEFI `efiboot.img`.
pub const BIOS_UEFI_BOOT: &[&str] = &[
    "-b",
    "isolinux/isolinux.bin",
    "-c",
    "isolinux/boot.cat",
    "-no-emul-boot",
    "-boot-load-size",
    "4",
    "-boot-info-table",
    "-eltorito-alt-boot",
    "-e",
    "efiboot.img",
    "-no-emul-boot",
];

/// `genisoimage ARGS -o OUT SRC` or `xorriso -as mkisofs ARGS -o OUT SRC`, quietly.
pub fn mkisofs(program: &str, src: &Path, out: &Path, args: &[&str]) {
    let mut all: Vec<&str> = Vec::new();
    if program == "xorriso" {
        all.extend(["-as", "mkisofs"]);
    }
    all.extend(["-quiet", "-o", out.to_str().unwrap()]);
    all.extend(args);
    all.push(src.to_str().unwrap());
    run(program, &all);
}

/// A FAT image holding `EFI/BOOT/BOOTX64.EFI` = `efi` (mkfs.vfat + mtools).
pub fn efi_image(dir: &Path, efi: &[u8]) -> PathBuf {
    let img = dir.join("efiboot.img");
    let bootx64 = dir.join("BOOTX64.EFI");
    fs::write(&bootx64, efi).unwrap();
    let _ = fs::remove_file(&img);
    run(
        "mkfs.vfat",
        &["-C", "-n", "EFIBOOT", img.to_str().unwrap(), "2048"],
    );
    run(
        "mmd",
        &["-i", img.to_str().unwrap(), "::/EFI", "::/EFI/BOOT"],
    );
    run(
        "mcopy",
        &[
            "-i",
            img.to_str().unwrap(),
            bootx64.to_str().unwrap(),
            "::/EFI/BOOT/BOOTX64.EFI",
        ],
    );
    img
}

/// isolinux.bin as Debian ships it.
pub const ISOLINUX_BIN: &str = "/usr/lib/ISOLINUX/isolinux.bin";

/// `xorriso -indev IMAGE -report_el_torito plain`.
pub fn el_torito_report(image: &Path) -> String {
    run(
        "xorriso",
        &[
            "-indev",
            image.to_str().unwrap(),
            "-report_el_torito",
            "plain",
        ],
    )
}

/// `(platform, bootable, emulation, load segment, system type, load size, LBA)` per entry, from
/// `xorriso -report_el_torito plain`.
pub fn xorriso_boot_entries(iso: &Path) -> Vec<(String, bool, String, u16, u8, u16, u32)> {
    el_torito_report(iso)
        .lines()
        .filter_map(|l| l.strip_prefix("El Torito boot img :"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[1].to_string(),
                f[2] == "y",
                f[3].to_string(),
                u16::from_str_radix(f[4].trim_start_matches("0x"), 16).unwrap(),
                u8::from_str_radix(f[5].trim_start_matches("0x"), 16).unwrap(),
                f[6].parse().unwrap(),
                f[7].parse().unwrap(),
            )
        })
        .collect()
}

/// Start LBA and size of each file as `xorriso -find / -exec report_lba` reports them,
/// keyed by path (one entry per extent, in order).
pub fn xorriso_lbas(image: &Path) -> Vec<(String, u64, u64)> {
    let text = run(
        "xorriso",
        &[
            "-indev",
            image.to_str().unwrap(),
            "-find",
            "/",
            "-exec",
            "report_lba",
            "--",
        ],
    );
    text.lines()
        .filter_map(|l| l.strip_prefix("File data lba:"))
        .map(|l| {
            let fields: Vec<&str> = l.splitn(5, ',').map(str::trim).collect();
            let path = fields[4].trim_matches('\'').to_string();
            (path, fields[1].parse().unwrap(), fields[3].parse().unwrap())
        })
        .collect()
}

/// `len` bytes of zeros except for `markers` (offset, text): a multi-gigabyte source that costs
/// neither disk nor system calls.
pub struct MarkedZeros {
    pos: u64,
    len: u64,
    markers: Vec<(u64, Vec<u8>)>,
}

impl MarkedZeros {
    pub fn new(len: u64, markers: &[(u64, &[u8])]) -> MarkedZeros {
        MarkedZeros {
            pos: 0,
            len,
            markers: markers.iter().map(|(o, t)| (*o, t.to_vec())).collect(),
        }
    }
}

impl io::Read for MarkedZeros {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min((self.len - self.pos) as usize);
        let buf = &mut buf[..n];
        buf.fill(0);
        let end = self.pos + n as u64;
        for (offset, text) in &self.markers {
            for (i, byte) in text.iter().enumerate() {
                let at = offset + i as u64;
                if (self.pos..end).contains(&at) {
                    buf[(at - self.pos) as usize] = *byte;
                }
            }
        }
        self.pos = end;
        Ok(n)
    }
}

/// A file written with holes where the data is zero, so that a multi-gigabyte image of mostly
/// zeros costs almost nothing on disk. Bytes are the same as a plain `File` would hold.
pub struct SparseFile {
    file: File,
    pos: u64,
}

static ZEROS: [u8; 1 << 16] = [0; 1 << 16];

impl SparseFile {
    pub fn create(path: &Path) -> SparseFile {
        SparseFile {
            file: File::create(path).unwrap(),
            pos: 0,
        }
    }
}

impl Write for SparseFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.chunks(ZEROS.len()).all(|c| c == &ZEROS[..c.len()]) {
            self.file.seek(SeekFrom::Current(buf.len() as i64))?;
        } else {
            self.file.write_all(buf)?;
        }
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // A trailing hole needs the length set explicitly.
        self.file.set_len(self.pos)?;
        self.file.flush()
    }
}

/// Files of an ESXi-shaped installer tree (uppercase 8.3 names), with a real isolinux and its
/// modules, an EFI boot image holding `efi` as `BOOTX64.EFI`, and pseudo-random modules.
pub fn esxi_files(dir: &Path, isolinux_cfg: &str, efi: &[u8]) -> Vec<(String, Vec<u8>)> {
    let bios = Path::new("/usr/lib/syslinux/modules/bios");
    let boot_cfg = "bootstate=0\ntitle=Loading ESXi installer\ntimeout=5\nprefix=\nkernel=/b.b00\nkernelopt=runweasel cdromBoot\nmodules=/s.v00 --- /imgdb.tgz\nbuild=8.0.3-0.35.24280767\nupdated=0\n";
    let mut files = vec![
        ("ISOLINUX.BIN".to_string(), fs::read(ISOLINUX_BIN).unwrap()),
        ("ISOLINUX.CFG".to_string(), isolinux_cfg.as_bytes().to_vec()),
        (
            "EFIBOOT.IMG".to_string(),
            fs::read(efi_image(dir, efi)).unwrap(),
        ),
        ("BOOT.CFG".to_string(), boot_cfg.as_bytes().to_vec()),
        (
            "EFI/BOOT/BOOT.CFG".to_string(),
            boot_cfg.as_bytes().to_vec(),
        ),
        ("B.B00".to_string(), noise(300_000, 2)),
        ("S.V00".to_string(), noise(1_000_000, 3)),
        ("IMGDB.TGZ".to_string(), noise(40_000, 4)),
        ("UPGRADE/PRECHECK.PY".to_string(), b"# precheck\n".to_vec()),
    ];
    for module in ["LDLINUX.C32", "LIBCOM32.C32", "LIBUTIL.C32", "POWEROFF.C32"] {
        files.push((
            module.into(),
            fs::read(bios.join(module.to_lowercase())).unwrap(),
        ));
    }
    files
}

/// A builder holding `files`, with the catalog and the two boot entries of ESXi media.
pub fn esxi_builder(volume_id: &str, files: &[(String, Vec<u8>)]) -> Builder {
    use esxforge_isotool::writer::{BootImage, Options, Source};
    let mut options = Options::esxi(volume_id);
    options.timestamp = TIME;
    let mut builder = Builder::new(options);
    for (path, data) in files {
        builder.add_file(path, Source::bytes(data.clone())).unwrap();
    }
    builder.set_boot_catalog("BOOT.CAT").unwrap();
    builder.add_boot_image(BootImage::bios("ISOLINUX.BIN"));
    builder.add_boot_image(BootImage::uefi("EFIBOOT.IMG"));
    builder
}

/// Every file the `iso9660` crate (an independent reader of the primary tree) finds, by path
/// (identifiers without version) → `digest(path, data)`.
pub fn iso9660_crate_files(
    image: &Path,
    digest: impl Fn(&str, &[u8]) -> String,
) -> std::collections::BTreeMap<String, String> {
    use iso9660::{DirectoryEntry, ISO9660};
    use std::io::Read;
    let iso = ISO9660::new(File::open(image).unwrap()).unwrap();
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![(String::new(), iso.root.clone())];
    while let Some((prefix, dir)) = stack.pop() {
        for entry in dir.contents() {
            match entry.unwrap() {
                DirectoryEntry::Directory(d) => {
                    if !matches!(d.identifier.as_str(), "." | ".." | "\0" | "\u{1}") {
                        stack.push((format!("{prefix}/{}", d.identifier), d));
                    }
                }
                DirectoryEntry::File(f) => {
                    let mut data = Vec::new();
                    f.read().read_to_end(&mut data).unwrap();
                    let path = format!("{prefix}/{}", f.identifier);
                    let d = digest(&path, &data);
                    out.insert(path, d);
                }
            }
        }
    }
    out
}

/// isolinux configuration that prints `marker` on the serial port and powers the VM off
/// (syslinux's own SAY output never reaches serial: toolchain.md §4).
pub fn isolinux_marker_cfg(marker: &str) -> String {
    format!("SERIAL 0 115200\nPROMPT 0\nTIMEOUT 1\nDEFAULT {marker}\nONERROR poweroff.c32\n")
}

/// A GRUB standalone `BOOTX64.EFI` that prints `marker` on the serial port and halts.
pub fn grub_marker_efi(dir: &Path, marker: &str) -> Vec<u8> {
    let cfg = dir.join("grub-embed.cfg");
    fs::write(
        &cfg,
        format!(
            "serial --unit=0 --speed=115200\nterminal_output --append serial\necho {marker}\nhalt\n"
        ),
    )
    .unwrap();
    let efi = dir.join("grub-BOOTX64.EFI");
    run(
        "grub-mkstandalone",
        &[
            "-O",
            "x86_64-efi",
            "-o",
            efi.to_str().unwrap(),
            "--locales=",
            "--fonts=",
            "--themes=",
            "--install-modules=normal configfile echo serial terminal halt",
            "--modules=serial terminal echo halt",
            &format!("boot/grub/grub.cfg={}", cfg.display()),
        ],
    );
    fs::read(efi).unwrap()
}
