//! Streaming a file's data, extent by extent.

use std::io::{self, Read, Seek, SeekFrom};

use super::{Entry, Image};
use crate::iso9660::Result;
use crate::iso9660::directory::Extent;

/// Reads (and seeks in) the data of one file; holds the image borrowed while it lives.
pub struct FileReader<'a, R> {
    image: &'a mut Image<R>,
    extents: Vec<Extent>,
    size: u64,
    /// Position in the file.
    pos: u64,
    /// Whether the image reader is at the byte `pos` stands for.
    positioned: bool,
}

impl<'a, R: Read + Seek> FileReader<'a, R> {
    pub(super) fn new(image: &'a mut Image<R>, entry: &Entry) -> Result<FileReader<'a, R>> {
        image.check_readable(entry)?;
        Ok(FileReader {
            image,
            extents: entry.extents.clone(),
            size: entry.size,
            pos: 0,
            positioned: false,
        })
    }

    /// The extent holding file offset `pos`, and the offset within it.
    fn locate(&self, pos: u64) -> Option<(Extent, u64)> {
        let mut start = 0u64;
        for extent in &self.extents {
            let len = u64::from(extent.len);
            if pos < start + len {
                return Some((*extent, pos - start));
            }
            start += len;
        }
        None
    }
}

impl<R: Read + Seek> Read for FileReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some((extent, offset)) = self.locate(self.pos) else {
            return Ok(0);
        };
        if !self.positioned {
            self.image
                .inner
                .seek(SeekFrom::Start(extent.offset() + offset))?;
            self.positioned = true;
        }
        let left = u64::from(extent.len) - offset;
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
        self.pos += n as u64;
        // The next extent need not follow this one on the image.
        if n as u64 == left {
            self.positioned = false;
        }
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for FileReader<'_, R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        if target != self.pos {
            self.pos = target;
            self.positioned = false;
        }
        Ok(self.pos)
    }
}
