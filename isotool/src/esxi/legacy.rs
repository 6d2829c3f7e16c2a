//! ESXi 4.1 installer media: BIOS only, lower-case names (with Rock Ridge/Joliet, as mkisofs
//! built them), and the whole system in one bzip2'd disk image, `imagedd.bz2`, whose MD5 is the
//! first hex run of `imagedd.md5` (the rest of that file is kept as it is).
//!
//! Adding a driver *inside* the disk image needs VMware's `vibddi`; what esxforge does is replace
//! the image with one the user supplies (bzip2'd, or raw and compressed here) and regenerate
//! `imagedd.md5` to match.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use super::Error;

/// A replacement system image, ready to go onto the medium as `IMAGEDD.BZ2`.
pub struct Imagedd {
    /// The bzip2 file to copy (the user's file, or a temporary one compressed from a raw image).
    pub path: PathBuf,
    pub size: u64,
    /// MD5 of the bzip2 bytes, lower-case hex.
    pub md5: String,
    /// Keeps a compressed temporary alive as long as this value.
    _temp: Option<tempfile::NamedTempFile>,
}

/// Reads `source` once: a bzip2 file is hashed as it is; a raw disk image is compressed into a
/// temporary file in `tmp_dir` (hashed while written).
pub fn prepare_imagedd(source: &Path, tmp_dir: &Path) -> Result<Imagedd, Error> {
    let file = source.display().to_string();
    let io_err = |source: io::Error| Error::Io {
        file: file.clone(),
        source,
    };
    let mut reader = BufReader::new(File::open(source).map_err(io_err)?);
    let mut head = [0u8; 10];
    let got = super::read_up_to(&mut reader, &mut head).map_err(io_err)?;
    let head = head.get(..got).unwrap_or_default();
    if is_bzip2(head) {
        let mut md5 = Md5::new();
        md5.update(head);
        let mut hashing = HashWriter {
            inner: io::sink(),
            md5: &mut md5,
            written: got as u64,
        };
        io::copy(&mut reader, &mut hashing).map_err(io_err)?;
        let size = hashing.written;
        return Ok(Imagedd {
            path: source.to_path_buf(),
            size,
            md5: hex::encode(md5.finalize()),
            _temp: None,
        });
    }
    if got == 0 {
        return Err(Error::Format {
            file,
            what: "is empty; expected a bzip2'd or raw ESXi 4.1 disk image".into(),
        });
    }
    let temp = tempfile::Builder::new()
        .prefix(".esxforge-imagedd-")
        .tempfile_in(tmp_dir)
        .map_err(|source| Error::Io {
            file: tmp_dir.display().to_string(),
            source,
        })?;
    let mut md5 = Md5::new();
    let hashing = HashWriter {
        inner: BufWriter::new(temp.as_file()),
        md5: &mut md5,
        written: 0,
    };
    let mut encoder = bzip2::write::BzEncoder::new(hashing, bzip2::Compression::best());
    encoder.write_all(head).map_err(io_err)?;
    io::copy(&mut reader, &mut encoder).map_err(io_err)?;
    let mut hashing = encoder.finish().map_err(io_err)?;
    hashing.inner.flush().map_err(io_err)?;
    let size = hashing.written;
    drop(hashing);
    Ok(Imagedd {
        path: temp.path().to_path_buf(),
        size,
        md5: hex::encode(md5.finalize()),
        _temp: Some(temp),
    })
}

/// `imagedd.md5` with its digest replaced by `md5`: the first run of 32 hex digits is replaced
/// and everything around it kept; a file without one becomes `<md5>  imagedd.bz2\n`.
pub fn update_md5_file(old: &[u8], md5: &str) -> Vec<u8> {
    match find_md5(old) {
        Some(at) => {
            let mut out = old.get(..at).unwrap_or_default().to_vec();
            out.extend_from_slice(md5.as_bytes());
            out.extend_from_slice(old.get(at + 32..).unwrap_or_default());
            out
        }
        None => format!("{md5}  imagedd.bz2\n").into_bytes(),
    }
}

/// The digest recorded in an `imagedd.md5`, lower-cased.
pub fn recorded_md5(file: &[u8]) -> Option<String> {
    let at = find_md5(file)?;
    let digest = file.get(at..at + 32)?;
    Some(String::from_utf8_lossy(digest).to_ascii_lowercase())
}

/// Offset of the first run of exactly 32 hex digits.
fn find_md5(bytes: &[u8]) -> Option<usize> {
    let mut run_start = 0;
    let mut run_len = 0;
    for (i, b) in bytes.iter().enumerate() {
        if b.is_ascii_hexdigit() {
            if run_len == 0 {
                run_start = i;
            }
            run_len += 1;
        } else {
            if run_len == 32 {
                return Some(run_start);
            }
            run_len = 0;
        }
    }
    (run_len == 32).then_some(run_start)
}

/// `BZh` + block size digit: the bzip2 stream header.
pub fn is_bzip2(head: &[u8]) -> bool {
    matches!(head, [b'B', b'Z', b'h', b'1'..=b'9', ..])
}

struct HashWriter<'a, W> {
    inner: W,
    md5: &'a mut Md5,
    written: u64,
}

impl<W: Write> Write for HashWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.md5.update(buf.get(..n).unwrap_or_default());
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn md5_file_keeps_everything_but_the_digest() {
        let old = b"0123456789abcdef0123456789abcdef  /build/mts/release/imagedd.bz2\n";
        let new = update_md5_file(old, &"f".repeat(32));
        assert_eq!(new, [&b"f".repeat(32)[..], &old[32..]].concat());
        assert_eq!(recorded_md5(&new), Some("f".repeat(32)));
        assert_eq!(
            update_md5_file(b"garbage", &"a".repeat(32)),
            format!("{}  imagedd.bz2\n", "a".repeat(32)).into_bytes()
        );
        assert_eq!(recorded_md5(b"abc"), None);
        assert_eq!(
            recorded_md5(&[b'a'; 33]),
            None,
            "a 33-digit run is not an MD5"
        );
    }

    #[test]
    fn bzip2_is_hashed_and_raw_is_compressed() {
        let dir = tempfile::tempdir().unwrap();
        let raw = b"disk image sector ".repeat(1000);
        let raw_path = dir.path().join("imagedd");
        std::fs::write(&raw_path, &raw).unwrap();
        let img = prepare_imagedd(&raw_path, dir.path()).unwrap();
        let bz = std::fs::read(&img.path).unwrap();
        assert!(is_bzip2(&bz));
        assert_eq!(img.size, bz.len() as u64);
        assert_eq!(img.md5, hex::encode(Md5::digest(&bz)));
        let mut back = Vec::new();
        bzip2::read::BzDecoder::new(bz.as_slice())
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, raw);
        let bz_path = dir.path().join("imagedd.bz2");
        std::fs::write(&bz_path, &bz).unwrap();
        let img2 = prepare_imagedd(&bz_path, dir.path()).unwrap();
        assert_eq!(img2.path, bz_path);
        assert_eq!(img2.md5, img.md5);
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        assert!(prepare_imagedd(&empty, dir.path()).is_err());
    }
}
