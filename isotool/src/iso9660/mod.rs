//! ISO 9660 (ECMA-119) on-disk structures, one module per structure.
//!
//! An ISO 9660 image is a sequence of 2048-byte logical blocks. Blocks 0–15 are the *system
//! area*, left to the platform (hybrid images keep an MBR and a GPT there, see
//! [`system_area`]). From block 16 on come the [`volume`] descriptors: the Primary Volume
//! Descriptor with the root [`directory`] record and the location of the [`path_table`]s, an El
//! Torito boot record pointing at the boot catalog ([`eltorito`]), a Joliet supplementary
//! descriptor with a second tree of UCS-2 names ([`joliet`]), and a terminator. Directories are
//! extents of directory records; Rock Ridge ([`rockridge`]) hides POSIX names and attributes in
//! each record's System Use area. [`name`] holds the identifier rules of the primary tree.
//!
//! These modules parse and serialize single structures and never do I/O; the
//! [`reader`](crate::reader) and [`writer`](crate::writer) build on them.

pub(crate) mod bytes;
pub mod datetime;
pub mod directory;
pub mod eltorito;
mod error;
pub mod joliet;
pub mod name;
pub mod path_table;
pub mod rockridge;
pub mod system_area;
pub mod volume;

pub use error::{Error, Result};

/// Size of a logical block (sector). ISO 9660 allows others; every CD/DVD image uses this one.
pub const SECTOR_SIZE: u64 = 2048;

/// Size of the system area (blocks 0–15).
pub const SYSTEM_AREA_LEN: usize = 16 * SECTOR_SIZE as usize;
