//! Streaming a file's data, extent by extent.

use std::io::{self, Read, Seek, SeekFrom};

use super::{Entry, Image};
use crate::iso9660::Result;
use crate::iso9660::directory::Extent;

/// Reads the data of one file; holds the image borrowed while it lives.
pub struct FileReader<'a, R> {
    image: &'a mut Image<R>,
    extents: std::vec::IntoIter<Extent>,
    current: Option<Extent>,
    /// Bytes of the current extent already read.
    done: u64,
    positioned: bool,
}

impl<'a, R: Read + Seek> FileReader<'a, R> {
    pub(super) fn new(image: &'a mut Image<R>, entry: &Entry) -> Result<FileReader<'a, R>> {
        image.check_readable(entry)?;
        let mut extents = entry.extents.clone().into_iter();
        let current = extents.next();
        Ok(FileReader {
            image,
            extents,
            current,
            done: 0,
            positioned: false,
        })
    }
}

impl<R: Read + Seek> Read for FileReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(extent) = self.current else {
                return Ok(0);
            };
            let left = u64::from(extent.len) - self.done;
            if left == 0 {
                self.current = self.extents.next();
                self.done = 0;
                self.positioned = false;
                continue;
            }
            if !self.positioned {
                self.image
                    .inner
                    .seek(SeekFrom::Start(extent.offset() + self.done))?;
                self.positioned = true;
            }
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = self
                .image
                .inner
                .read(buf.get_mut(..want).unwrap_or_default())?;
            if n == 0 && want > 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the image ends inside the file",
                ));
            }
            self.done += n as u64;
            return Ok(n);
        }
    }
}
