//! The one error type of the ISO 9660 reader and builder. Every variant says what is wrong and
//! where: an LBA, a path on the image, or a path in the tree being built.

use std::io;

/// An error reading or building an ISO 9660 image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error; `context` says what was being read or written.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    /// The image has no ISO 9660 volume descriptor set.
    #[error("not an ISO 9660 image: {reason}")]
    NotIso { reason: String },

    /// A structure lies (partly) beyond the end of the image: the image is truncated or the
    /// record pointing there is corrupt.
    #[error(
        "{what} at LBA {lba} ({len} bytes) runs past the end of the image ({image_len} bytes); \
         the image is truncated or the record pointing there is corrupt"
    )]
    PastEnd {
        what: String,
        lba: u64,
        len: u64,
        image_len: u64,
    },

    /// A structure that could not be parsed.
    #[error("{what} at LBA {lba}: {problem}")]
    Malformed {
        what: String,
        lba: u64,
        problem: String,
    },

    /// A directory contains (directly or further down) one of its ancestors.
    #[error("{path}: directory loop: its extent at LBA {lba} is also one of its ancestors")]
    DirectoryLoop { path: String, lba: u32 },

    /// Directories nest deeper than the reader follows.
    #[error("{path}: directories nest deeper than {limit} levels")]
    TooDeep { path: String, limit: usize },

    /// The tree holds more entries than the reader accepts (a corrupt image can announce
    /// directories of any size).
    #[error("{path}: more than {limit} directory entries on the image")]
    TooManyEntries { path: String, limit: usize },

    /// The path tables disagree with each other or with the directory tree.
    #[error("path tables: {problem}")]
    PathTable { problem: String },

    /// No file or directory at this path.
    #[error("{path}: not found on the image")]
    NotFound { path: String },

    /// A request that does not fit what is at the path (a directory read as a file …).
    #[error("{path}: {problem}")]
    WrongKind { path: String, problem: String },

    /// The image uses a feature this implementation does not read (interleaved files …).
    #[error("{what}: {problem}")]
    Unsupported { what: String, problem: String },

    /// A name that cannot be written under the chosen naming rules.
    #[error("{path}: {problem}")]
    InvalidName { path: String, problem: String },

    /// Two names that become the same identifier in one directory.
    #[error(
        "{dir}: {first:?} and {second:?} would both be recorded as {identifier:?} in the {namespace} \
         names; rename one, or give one an explicit identifier"
    )]
    NameCollision {
        dir: String,
        first: String,
        second: String,
        identifier: String,
        namespace: &'static str,
    },

    /// A path added twice, a file under a file, and similar mistakes building the tree.
    #[error("{path}: {problem}")]
    Tree { path: String, problem: String },

    /// A boot entry, the catalog or the system area cannot be written as asked.
    #[error("El Torito: {problem}")]
    Boot { problem: String },

    /// Options the builder cannot honour (volume ids too long, a file too large for the level …).
    #[error("{what}: {problem}")]
    Options { what: String, problem: String },

    /// A source delivered a different number of bytes than announced when it was added.
    #[error(
        "{path}: the source has {found} bytes, but {expected} were announced when it was added; it changed while the image was built"
    )]
    SourceChanged {
        path: String,
        expected: u64,
        found: u64,
    },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

/// Shorthand for results of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
