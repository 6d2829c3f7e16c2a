//! The checksum files written beside a built ISO, `OUT.iso.sha256` and `OUT.iso.md5`, in the
//! format of `sha256sum`/`md5sum` (`<hex>  <file name>`), so `sha256sum -c OUT.iso.sha256` works
//! in the output folder.
//!
//! The digests are computed while the image is written: [`HashingWriter`] passes the bytes on and
//! hands them, in chunks of up to 1 MiB, to two threads (SHA-256, MD5), so hashing overlaps the
//! copy instead of re-reading the image afterwards. Memory stays bounded by the channel depth.
//!
//! This gives up the kernel copy (`copy_file_range`) the writer can use for a bare output file,
//! and that is measured to be the better trade: MD5 (one core, about 600 MB/s) bounds the run
//! either way, and hashing while writing overlaps it with the copy, where copying first and then
//! hashing the finished file adds the copy's time and reads the image twice more from the page
//! cache (400 MB image: 1.5 s against 1.6 s median, 0.8 s against 1.35 s best, on 2 cores).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use md5::Md5;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Error;

const CHUNK: usize = 1 << 20;
/// Chunks queued per hashing thread before the writer waits.
const DEPTH: usize = 4;

/// The digests of everything written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Digests {
    pub sha256: String,
    pub md5: String,
    pub len: u64,
}

/// A writer that forwards to `inner` and hashes what passes. It can be handed away by value (to
/// a builder that drops it when done, so that `std::io::copy` sees the `BufWriter` around it and
/// reads straight into its buffer); the [`DigestHandle`] collects the digests afterwards.
pub struct HashingWriter<W> {
    inner: W,
    buf: Vec<u8>,
    len: u64,
    senders: Vec<SyncSender<Arc<Vec<u8>>>>,
    total: Arc<AtomicU64>,
    /// Chunks handed to the hashers, reused once both are done with them: a fresh 1 MiB buffer
    /// per chunk would be a fresh mapping, and the page faults cost more than the hashing.
    recycled: VecDeque<Arc<Vec<u8>>>,
}

/// Collects the digests once the [`HashingWriter`] is flushed and dropped.
pub struct DigestHandle {
    sha256: JoinHandle<String>,
    md5: JoinHandle<String>,
    total: Arc<AtomicU64>,
}

/// A hashing writer around `inner`, and the handle that yields its digests.
pub fn hashing_writer<W: Write>(inner: W) -> (HashingWriter<W>, DigestHandle) {
    let (sha_tx, sha_rx) = sync_channel(DEPTH);
    let (md5_tx, md5_rx) = sync_channel(DEPTH);
    let total = Arc::new(AtomicU64::new(0));
    let writer = HashingWriter {
        inner,
        buf: Vec::with_capacity(CHUNK),
        len: 0,
        senders: vec![sha_tx, md5_tx],
        total: Arc::clone(&total),
        recycled: VecDeque::new(),
    };
    let handle = DigestHandle {
        sha256: std::thread::spawn(move || hash::<Sha256>(sha_rx)),
        md5: std::thread::spawn(move || hash::<Md5>(md5_rx)),
        total,
    };
    (writer, handle)
}

impl DigestHandle {
    /// Waits for the hashing threads. Call it after the writer was flushed and dropped: the
    /// threads end when the writer is gone, and only flushed bytes were hashed.
    pub fn finish(self) -> io::Result<Digests> {
        let join = |h: JoinHandle<String>| {
            h.join()
                .map_err(|_| io::Error::other("a hashing thread panicked"))
        };
        Ok(Digests {
            sha256: join(self.sha256)?,
            md5: join(self.md5)?,
            len: self.total.load(Ordering::SeqCst),
        })
    }
}

impl<W: Write> HashingWriter<W> {
    /// Writes the buffered chunk and queues it for both hashers.
    fn dispatch(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.inner.write_all(&self.buf)?;
        let next = self.spare_buffer();
        let chunk = Arc::new(std::mem::replace(&mut self.buf, next));
        for tx in &self.senders {
            tx.send(Arc::clone(&chunk))
                .map_err(|_| io::Error::other("a hashing thread stopped"))?;
        }
        self.recycled.push_back(chunk);
        self.total.store(self.len, Ordering::SeqCst);
        Ok(())
    }

    /// An empty buffer: the oldest chunk both hashers have released, or a new one.
    fn spare_buffer(&mut self) -> Vec<u8> {
        if self.recycled.len() > 2 * DEPTH + 2 {
            self.recycled.pop_front();
        }
        if let Some(oldest) = self.recycled.pop_front() {
            match Arc::try_unwrap(oldest) {
                Ok(mut v) => {
                    v.clear();
                    return v;
                }
                Err(still_hashing) => self.recycled.push_front(still_hashing),
            }
        }
        Vec::with_capacity(CHUNK)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = data.len().min(room);
        self.buf
            .extend_from_slice(data.get(..n).unwrap_or_default());
        self.len += n as u64;
        if self.buf.len() == CHUNK {
            self.dispatch()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.dispatch()?;
        self.inner.flush()
    }
}

impl<W> Drop for HashingWriter<W> {
    fn drop(&mut self) {
        // Closing the channels ends the hashing threads. Bytes never flushed were never
        // written either, so they are not hashed: the digests describe what reached `inner`.
        self.senders.clear();
    }
}

fn hash<D: Digest>(rx: Receiver<Arc<Vec<u8>>>) -> String {
    let mut hasher = D::new();
    for chunk in rx {
        hasher.update(chunk.as_slice());
    }
    hex::encode(hasher.finalize())
}

/// Digests of a whole file, read once.
pub fn digest_file(path: &Path) -> Result<Digests, Error> {
    let io_err = |source| Error::Io {
        file: path.display().to_string(),
        source,
    };
    let mut reader = BufReader::with_capacity(CHUNK, File::open(path).map_err(io_err)?);
    let (mut writer, handle) = hashing_writer(io::sink());
    io::copy(&mut reader, &mut writer).map_err(io_err)?;
    writer.flush().map_err(io_err)?;
    drop(writer);
    handle.finish().map_err(io_err)
}

/// `iso` + `.sha256` / `.md5`.
pub fn sidecar_paths(iso: &Path) -> [(Algorithm, PathBuf); 2] {
    let with = |ext: &str| {
        let mut s = iso.as_os_str().to_owned();
        s.push(".");
        s.push(ext);
        PathBuf::from(s)
    };
    [
        (Algorithm::Sha256, with("sha256")),
        (Algorithm::Md5, with("md5")),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Sha256,
    Md5,
}

impl Algorithm {
    fn pick(self, d: &Digests) -> &str {
        match self {
            Algorithm::Sha256 => &d.sha256,
            Algorithm::Md5 => &d.md5,
        }
    }
}

/// The line `sha256sum`/`md5sum` print for `file_name`.
pub fn sidecar_line(algorithm: Algorithm, digests: &Digests, file_name: &str) -> String {
    format!("{}  {file_name}\n", algorithm.pick(digests))
}

/// What a sidecar file says and whether the image matches it.
#[derive(Clone, Debug, Serialize)]
pub struct SidecarCheck {
    pub path: String,
    pub algorithm: Algorithm,
    pub recorded: String,
    pub actual: String,
    /// The file name the sidecar names (it should be the image's).
    pub names: String,
    pub matches: bool,
}

/// Checks the sidecar files present beside `iso` (none present: an empty list). The image is
/// read once for both digests.
pub fn check_sidecars(iso: &Path) -> Result<Vec<SidecarCheck>, Error> {
    let present: Vec<(Algorithm, PathBuf)> = sidecar_paths(iso)
        .into_iter()
        .filter(|(_, p)| p.is_file())
        .collect();
    if present.is_empty() {
        return Ok(Vec::new());
    }
    let digests = digest_file(iso)?;
    present
        .into_iter()
        .map(|(algorithm, path)| {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                file: file.clone(),
                source,
            })?;
            let line = text.lines().next().unwrap_or_default();
            let (recorded, names) =
                line.split_once(char::is_whitespace)
                    .ok_or_else(|| Error::Format {
                        file: file.clone(),
                        what: "expected `<hex digest>  <file name>` (sha256sum/md5sum format)"
                            .into(),
                    })?;
            let names = names.trim_start().trim_start_matches('*').to_string();
            let recorded = recorded.to_ascii_lowercase();
            let actual = algorithm.pick(&digests).to_string();
            Ok(SidecarCheck {
                path: file,
                algorithm,
                matches: recorded == actual,
                recorded,
                actual,
                names,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_one_shot_hashing_across_chunk_boundaries() {
        let data: Vec<u8> = (0..(3 * CHUNK + 12345))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        /// A sink the test can read after the writer that owns it is gone.
        struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let out = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (mut w, handle) = hashing_writer(Shared(out.clone()));
        for (i, piece) in data.chunks(10_000).enumerate() {
            w.write_all(piece).unwrap();
            if i == 7 {
                w.flush().unwrap(); // a short chunk in the middle
            }
        }
        w.flush().unwrap();
        drop(w);
        let d = handle.finish().unwrap();
        assert_eq!(*out.lock().unwrap(), data);
        assert_eq!(d.len, data.len() as u64);
        assert_eq!(d.sha256, hex::encode(Sha256::digest(&data)));
        assert_eq!(d.md5, hex::encode(Md5::digest(&data)));
    }

    #[test]
    fn sidecars_round_trip_and_detect_changes() {
        let dir = tempfile::tempdir().unwrap();
        let iso = dir.path().join("out.iso");
        std::fs::write(&iso, b"image bytes").unwrap();
        assert!(check_sidecars(&iso).unwrap().is_empty());
        let d = digest_file(&iso).unwrap();
        for (alg, path) in sidecar_paths(&iso) {
            std::fs::write(path, sidecar_line(alg, &d, "out.iso")).unwrap();
        }
        let checks = check_sidecars(&iso).unwrap();
        assert_eq!(checks.len(), 2);
        assert!(checks.iter().all(|c| c.matches && c.names == "out.iso"));
        std::fs::write(&iso, b"image bytes, changed").unwrap();
        assert!(check_sidecars(&iso).unwrap().iter().all(|c| !c.matches));
    }
}
