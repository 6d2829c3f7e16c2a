//! Where a file's data comes from when the builder writes it.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::iso9660::directory::Extent;
use crate::iso9660::{Error, Result};

/// The data of one file in the image being built. Nothing is read until
/// [`Builder::finish`](super::Builder::finish) writes the file, and then it is streamed.
pub enum Source {
    /// Bytes in memory: for small generated files (BOOT.CFG, KS.CFG).
    Bytes(Vec<u8>),
    /// A local file, opened when its data is written; its length is taken when the source is
    /// made and checked again then.
    Path { path: PathBuf, len: u64 },
    /// Any reader that yields exactly `len` bytes.
    Reader {
        reader: Box<dyn Read + Send>,
        len: u64,
    },
    /// Extents of another ISO image, copied without decoding (`copy_file_range(2)` when the output
    /// is a file). `image` is shared by every file taken from the same source.
    Image {
        image: Arc<File>,
        extents: Vec<Extent>,
    },
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Source::Path { path, len } => write!(f, "Path({}, {len} bytes)", path.display()),
            Source::Reader { len, .. } => write!(f, "Reader({len} bytes)"),
            Source::Image { extents, .. } => write!(f, "Image({extents:?})"),
        }
    }
}

impl Source {
    pub fn bytes(data: impl Into<Vec<u8>>) -> Source {
        Source::Bytes(data.into())
    }

    /// A local file; fails if it cannot be stat'ed or is not a regular file.
    pub fn path(path: impl AsRef<Path>) -> Result<Source> {
        let path = path.as_ref();
        let meta =
            std::fs::metadata(path).map_err(Error::io(format!("reading {}", path.display())))?;
        if !meta.is_file() {
            return Err(Error::Tree {
                path: path.display().to_string(),
                problem: "is not a regular file".into(),
            });
        }
        Ok(Source::Path {
            path: path.to_path_buf(),
            len: meta.len(),
        })
    }

    pub fn reader(reader: impl Read + Send + 'static, len: u64) -> Source {
        Source::Reader {
            reader: Box::new(reader),
            len,
        }
    }

    /// The data of a file of a source image, given its extents (for example
    /// [`Entry::extents`](crate::reader::Entry)).
    pub fn image(image: &Arc<File>, extents: Vec<Extent>) -> Source {
        Source::Image {
            image: Arc::clone(image),
            extents,
        }
    }

    /// Length of the data in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Source::Bytes(b) => b.len() as u64,
            Source::Path { len, .. } | Source::Reader { len, .. } => *len,
            Source::Image { extents, .. } => extents.iter().map(|e| u64::from(e.len)).sum(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first extent of an image source (to move system-area pointers along with it).
    pub(crate) fn image_extent(&self) -> Option<Extent> {
        match self {
            Source::Image { extents, .. } => extents.first().copied(),
            _ => None,
        }
    }

    /// Streams the data into `out`; `path` names the file in errors. Returns bytes written.
    pub(crate) fn copy_to<W: Write>(&mut self, out: &mut W, path: &str) -> Result<u64> {
        let expected = self.len();
        let copied = match self {
            Source::Bytes(b) => {
                out.write_all(b)
                    .map_err(Error::io(format!("writing {path}")))?;
                b.len() as u64
            }
            Source::Path { path: local, len } => {
                let file = File::open(&*local)
                    .map_err(Error::io(format!("opening {}", local.display())))?;
                let now = file
                    .metadata()
                    .map_err(Error::io(format!("reading {}", local.display())))?
                    .len();
                if now != *len {
                    return Err(Error::SourceChanged {
                        path: local.display().to_string(),
                        expected: *len,
                        found: now,
                    });
                }
                io::copy(&mut file.take(*len), out).map_err(Error::io(format!(
                    "copying {} into {path}",
                    local.display()
                )))?
            }
            Source::Reader { reader, len } => io::copy(&mut reader.take(*len), out)
                .map_err(Error::io(format!("writing {path}")))?,
            Source::Image { image, extents } => {
                let mut total = 0;
                for extent in extents.iter() {
                    total += copy_extent(image, *extent, out, path)?;
                }
                total
            }
        };
        if copied != expected {
            return Err(Error::SourceChanged {
                path: path.into(),
                expected,
                found: copied,
            });
        }
        Ok(copied)
    }

    /// Makes the source readable twice (the boot-info-table needs a checksum before the data is
    /// written): a `Reader` source is read into memory, up to `limit` bytes.
    pub(crate) fn read_whole_for_patch(&mut self, path: &str, limit: u64) -> Result<()> {
        if let Source::Reader { reader, len } = self {
            if *len > limit {
                return Err(Error::Boot {
                    problem: format!(
                        "{path}: a boot image with a boot-info-table read from a stream may have at most {limit} bytes; give it as a file or image extent"
                    ),
                });
            }
            let mut data = Vec::with_capacity(*len as usize);
            reader
                .take(*len)
                .read_to_end(&mut data)
                .map_err(Error::io(format!("reading {path}")))?;
            *self = Source::Bytes(data);
        }
        Ok(())
    }

    /// Calls `f` with successive chunks of the data (for checksums). Not for `Reader` sources
    /// (see [`Source::read_whole_for_patch`]).
    pub(crate) fn for_each_chunk(
        &self,
        path: &str,
        mut f: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut feed = |r: &mut dyn Read, len: u64| -> Result<()> {
            let mut left = len;
            while left > 0 {
                let n = buf.len().min(left as usize);
                let chunk = buf.get_mut(..n).unwrap_or_default();
                r.read_exact(chunk)
                    .map_err(Error::io(format!("reading {path}")))?;
                f(chunk)?;
                left -= n as u64;
            }
            Ok(())
        };
        match self {
            Source::Bytes(b) => feed(&mut b.as_slice(), b.len() as u64),
            Source::Path { path: local, len } => {
                let mut file =
                    File::open(local).map_err(Error::io(format!("opening {}", local.display())))?;
                feed(&mut file, *len)
            }
            Source::Image { image, extents } => {
                for e in extents {
                    let mut f: &File = image;
                    f.seek(SeekFrom::Start(e.offset()))
                        .map_err(Error::io(format!("reading {path}")))?;
                    feed(&mut f, e.len.into())?;
                }
                Ok(())
            }
            Source::Reader { .. } => Err(Error::Boot {
                problem: format!("{path}: stream sources cannot be read twice"),
            }),
        }
    }
}

/// Copies one extent of a source image into `out` with `io::copy` over `Take<&File>`, the
/// combination std turns into `copy_file_range(2)` when `out` is a file.
fn copy_extent<W: Write>(image: &File, extent: Extent, out: &mut W, path: &str) -> Result<u64> {
    let mut f: &File = image;
    f.seek(SeekFrom::Start(extent.offset()))
        .map_err(Error::io(format!("reading {path} from the source image")))?;
    io::copy(&mut f.take(extent.len.into()), out).map_err(Error::io(format!(
        "copying {path} from the source image (LBA {})",
        extent.lba
    )))
}
