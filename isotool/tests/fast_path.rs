//! The copy fast path: a remaster copies the source image's extents with `copy_file_range(2)`
//! (std's `io::copy` specialisation for `Take<&File>` → `&File`), so file data never passes
//! through user space. Checked by running the remaster under `strace` and adding up what the
//! kernel copied.

mod common;

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::{TIME, noise, write};
use esxforge_isotool::reader::{Image, Names};
use esxforge_isotool::writer::{Builder, Options, Source};

const CHILD: &str = "ISOTOOL_FAST_PATH_CHILD";
const FILE_BYTES: u64 = 3 * (2 << 20) + 100_000;

/// A source image with 6 MiB of file data in four files.
fn source(path: &Path) {
    let mut options = Options::esxi("FAST");
    options.timestamp = TIME;
    let mut b = Builder::new(options);
    for (i, name) in ["A.BIN", "B.BIN", "C.BIN"].into_iter().enumerate() {
        b.add_file(name, Source::bytes(noise(2 << 20, i as u64)))
            .unwrap();
    }
    b.add_file("DIR/D.BIN", Source::bytes(noise(100_000, 9)))
        .unwrap();
    write(b, path);
}

/// The remaster as the CLI would do it: the source opened once, shared by the reader and the
/// extent sources; the output a plain `File` (or, to show the check can fail, behind a wrapper
/// that hides the file from std).
fn remaster(source: &Path, out: &Path, hide_the_file: bool) {
    let file = Arc::new(File::open(source).unwrap());
    let mut image = Image::open(&*file).unwrap();
    let mut options = Options::esxi("FAST2");
    options.timestamp = TIME;
    let mut builder = Builder::new(options);
    builder.import(&mut image, &file).unwrap();
    builder
        .add_file("KS.CFG", Source::bytes("vmaccepteula\n"))
        .unwrap();
    let out = File::create(out).unwrap();
    if hide_the_file {
        builder.finish(Opaque(&out)).unwrap();
    } else {
        builder.finish(&out).unwrap();
    }
}

/// A `Write` that is not a file as far as std's specialisation can tell.
struct Opaque<'a>(&'a File);

impl std::io::Write for Opaque<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::Write::write(&mut self.0, buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes moved by successful `copy_file_range` calls while `test` ran in a child process.
fn copied_by_kernel(test: &str, source: &Path, out: &Path, opaque: bool) -> u64 {
    let dir = out.parent().unwrap();
    let log = dir.join(format!("{test}.strace"));
    let child = Command::new("strace")
        .args(["-f", "-e", "trace=copy_file_range", "-o"])
        .arg(&log)
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--test-threads=1", "--nocapture"])
        .env(
            CHILD,
            format!("{}\n{}\n{opaque}", source.display(), out.display()),
        )
        .output()
        .expect("strace (scripts/test installs it)");
    assert!(
        child.status.success(),
        "child remaster failed: {}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    let trace = std::fs::read_to_string(&log).unwrap();
    trace
        .lines()
        .filter(|l| l.contains("copy_file_range("))
        .filter_map(|l| {
            l.rsplit_once(" = ")
                .and_then(|(_, r)| r.split_whitespace().next()?.parse::<i64>().ok())
        })
        .filter(|&n| n > 0)
        .map(|n| n as u64)
        .sum()
}

/// In the child: do the remaster and nothing else.
fn child() -> bool {
    let Ok(args) = std::env::var(CHILD) else {
        return false;
    };
    let mut parts = args.lines();
    let (source, out) = (parts.next().unwrap(), parts.next().unwrap());
    remaster(
        Path::new(source),
        Path::new(out),
        parts.next() == Some("true"),
    );
    true
}

#[test]
fn remaster_copies_source_extents_in_the_kernel() {
    if child() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (src, out) = (dir.path().join("src.iso"), dir.path().join("out.iso"));
    source(&src);
    let copied = copied_by_kernel(
        "remaster_copies_source_extents_in_the_kernel",
        &src,
        &out,
        false,
    );
    assert!(
        copied >= FILE_BYTES,
        "copy_file_range moved {copied} bytes of {FILE_BYTES}"
    );

    // The output is right, too.
    let mut image = Image::open(File::open(&out).unwrap()).unwrap();
    assert_eq!(
        common::read_file(&mut image, "/B.BIN", Names::Primary),
        noise(2 << 20, 1)
    );
}

#[test]
fn behind_a_wrapper_the_data_goes_through_user_space() {
    // The failing case of the check above.
    if child() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (src, out) = (dir.path().join("src.iso"), dir.path().join("out.iso"));
    source(&src);
    assert_eq!(
        copied_by_kernel(
            "behind_a_wrapper_the_data_goes_through_user_space",
            &src,
            &out,
            true
        ),
        0
    );
}
