//! Shared fixtures for the isotool tests: running the real ISO tools, making source trees and
//! images, and a sparse output for multi-gigabyte images.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::fs::{self, File};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use esxforge_isotool::writer::{Builder, Layout};

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
        let n = buf.len().min(ZEROS.len());
        let chunk = &buf[..n];
        if chunk == &ZEROS[..n] {
            self.file.seek(SeekFrom::Current(n as i64))?;
        } else {
            self.file.write_all(chunk)?;
        }
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // A trailing hole needs the length set explicitly.
        self.file.set_len(self.pos)?;
        self.file.flush()
    }
}
