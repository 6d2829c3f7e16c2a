//! ESXi installer media: what is on them and how to change it without breaking either boot path.
//!
//! Since 5.0 an installer ISO boots by BIOS (isolinux → `mboot.c32` → `/BOOT.CFG`) and by UEFI
//! (`EFIBOOT.IMG` → mboot → `/EFI/BOOT/BOOT.CFG`); both BOOT.CFGs list the same boot modules,
//! which the UEFI loader finds by their plain ISO 9660 names. Each driver is a VIB whose payloads
//! become modules; `IMGDB.TGZ`, the image database, describes every VIB and names the module of
//! each payload, and the installer cross-checks the two. ESXi 4.1 media are different: BIOS only,
//! and the system is one compressed disk image (`IMAGEDD.BZ2`) with its MD5 in `IMAGEDD.MD5`.
//!
//! One module per structure: [`bootcfg`] (BOOT.CFG), [`isolinux`] (ISOLINUX.CFG), [`imgdb`]
//! (IMGDB.TGZ), [`vib`] (VIB archives, descriptors, checksums), [`bundle`] (offline bundles),
//! [`legacy`] (4.1 media), [`media`] (layout and version detection), [`check`] (what `iso verify`
//! checks), [`sidecar`] (`.sha256`/`.md5` files, digests computed while writing).
//! [`crate::remaster`] puts them together.

pub mod ar;
pub mod bootcfg;
pub mod bundle;
pub mod check;
pub mod imgdb;
pub mod isolinux;
pub mod legacy;
pub mod media;
pub mod sidecar;
pub mod vib;
mod xml;

use std::io::Read;

use thiserror::Error;

/// Fills `buf` as far as `reader` goes (unlike `read_exact`, a short file is not an error):
/// for sniffing magic numbers.
pub(crate) fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(buf.get_mut(filled..).unwrap_or_default())? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// What went wrong reading or editing ESXi media, naming the file and what to do.
#[derive(Debug, Error)]
pub enum Error {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// A file that is not what its name says: corrupt, truncated, malformed.
    #[error("{file}: {what}")]
    Format { file: String, what: String },
    /// An edit that cannot be made (no `imgdb.tgz` item to insert before, a bad option value).
    #[error("{what}")]
    Edit { what: String },
    #[error(
        "{file}: payload {payload}: {checksum} checksum mismatch: the descriptor says {expected}, the content hashes to {actual}; the VIB is corrupt or was altered"
    )]
    ChecksumMismatch {
        file: String,
        payload: String,
        checksum: String,
        expected: String,
        actual: String,
    },
    #[error(
        "{file}: payload {payload} has no sha-256 or sha-1 checksum that can be verified; refusing to use an unverified payload"
    )]
    Unverifiable { file: String, payload: String },
    #[error("{file}: VIB {vib} will not load on {target}: {why}")]
    Incompatible {
        file: String,
        vib: String,
        target: String,
        why: String,
    },
    #[error(
        "{file}: member {member:?} escapes the bundle (absolute path or `..`); refusing the bundle"
    )]
    EscapingPath { file: String, member: String },
    /// The image is not an ESXi installer (neither layout recognised).
    #[error(
        "{file}: not an ESXi installer image: no /BOOT.CFG with /IMGDB.TGZ (ESXi 5.0 and later) and no imagedd.bz2 (ESXi 4.x)"
    )]
    NotEsxi { file: String },
    /// A built image failed its own verification; it was not put in place.
    #[error("{file}: the new image failed verification, so it was not written: {}", problems.join("; "))]
    Verification { file: String, problems: Vec<String> },
    /// The ISO image itself could not be read or written.
    #[error(transparent)]
    Iso(#[from] crate::iso9660::Error),
}
