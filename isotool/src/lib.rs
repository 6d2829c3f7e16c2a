//! esxforge-isotool: read and write ISO 9660 images with El Torito boot records, and remaster
//! ESXi installer media (drivers injected, kickstart embedded, every checksum regenerated).
//!
//! An ISO 9660 image is read with [`reader::Image`] and written with [`writer::Builder`]. The
//! reader opens an image by its volume descriptors, looks paths up, walks the trees (primary,
//! Rock Ridge, Joliet names) and streams file data; the builder collects a tree of files, each
//! from memory, a local file or an extent range of another image, and [`writer::Builder::finish`]
//! lays it out deterministically and streams it to any `Write` in one pass. A remaster is
//! [`writer::Builder::import`] plus edits plus `finish`: every unchanged file is copied as an
//! extent of the source (by `copy_file_range(2)` when both ends are files), with its names, boot
//! entries and hybrid MBR/GPT carried over. [`iso9660`] holds the on-disk structures, one module
//! each, and never does I/O. [`esxi`] and [`remaster`] build ESXi installer media on top: they
//! read and edit BOOT.CFG, VIBs, offline bundles and the image database, and
//! [`remaster::build`] turns a VMware ISO into a custom one, verified, with `.sha256`/`.md5`
//! sidecars.
//!
//! Every length and pointer read from an image, a VIB or a bundle is checked before it is
//! followed: damaged input is an error naming the file and the structure, never a panic.
//!
//! ```
//! use std::error::Error;
//! use std::fs::File;
//! use std::io::Read;
//! use std::sync::Arc;
//! use esxforge_isotool::reader::{Image, Names};
//! use esxforge_isotool::writer::{Builder, Options, Source};
//!
//! /// A file's text, found as ESXi's loader finds it (case-insensitive, `;1` optional).
//! fn read(image: &mut Image<File>, path: &str) -> Result<String, Box<dyn Error>> {
//!     let entry = image.lookup(path, Names::Primary)?.ok_or("not on the image")?;
//!     let mut text = String::new();
//!     image.open_file(&entry)?.read_to_string(&mut text)?;
//!     Ok(text)
//! }
//!
//! # fn main() -> Result<(), Box<dyn Error>> {
//! let dir = tempfile::tempdir()?;
//!
//! // Write an image: names are checked against the ESXi rules (uppercase 8.3), times fixed.
//! let mut options = Options::esxi("DEMO");
//! options.timestamp = 1_700_000_000;
//! let mut iso = Builder::new(options.clone());
//! iso.add_file("BOOT.CFG", Source::bytes("kernel=/b.b00\nmodules=/s.v00\n"))?;
//! iso.add_file("EFI/BOOT/BOOT.CFG", Source::bytes("kernel=/b.b00\nmodules=/s.v00\n"))?;
//! let first = dir.path().join("first.iso");
//! iso.finish(File::create(&first)?)?;
//!
//! // Read it back.
//! let mut image = Image::open(File::open(&first)?)?;
//! assert_eq!(image.primary().ids.volume_id, "DEMO");
//! assert_eq!(read(&mut image, "/efi/boot/boot.cfg")?, "kernel=/b.b00\nmodules=/s.v00\n");
//!
//! // Remaster it: import the tree (file data stays extents of `first`), edit, finish.
//! let source = Arc::new(File::open(&first)?);
//! let mut remaster = Builder::new(options);
//! remaster.import(&mut Image::open(&*source)?, &source)?;
//! remaster.add_file("KS.CFG", Source::bytes("vmaccepteula\n"))?;
//! let second = dir.path().join("second.iso");
//! remaster.finish(File::create(&second)?)?;
//!
//! let mut image = Image::open(File::open(&second)?)?;
//! assert_eq!(read(&mut image, "/BOOT.CFG")?, "kernel=/b.b00\nmodules=/s.v00\n");
//! assert_eq!(read(&mut image, "/KS.CFG")?, "vmaccepteula\n");
//! # Ok(()) }
//! ```

pub mod esxi;
pub mod iso9660;
pub mod reader;
pub mod remaster;
pub mod writer;
