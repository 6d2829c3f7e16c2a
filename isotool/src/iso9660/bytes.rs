//! Bounds-checked field access for parsers, and field writers for the builder.
//!
//! Every on-disk structure stores numbers little-endian, big-endian or "both-endian" (the
//! little-endian copy followed by the big-endian one, ECMA-119 7.2.3 / 7.3.3). Parsers read
//! through these helpers so that a short or hostile buffer yields `None`, never a panic.

/// `N` bytes at `at`, or `None` when the buffer is too short.
pub(crate) fn array<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at.checked_add(N)?)?.try_into().ok()
}

pub(crate) fn u8_at(buf: &[u8], at: usize) -> Option<u8> {
    buf.get(at).copied()
}

pub(crate) fn le16(buf: &[u8], at: usize) -> Option<u16> {
    array(buf, at).map(u16::from_le_bytes)
}

pub(crate) fn be16(buf: &[u8], at: usize) -> Option<u16> {
    array(buf, at).map(u16::from_be_bytes)
}

pub(crate) fn le32(buf: &[u8], at: usize) -> Option<u32> {
    array(buf, at).map(u32::from_le_bytes)
}

pub(crate) fn be32(buf: &[u8], at: usize) -> Option<u32> {
    array(buf, at).map(u32::from_be_bytes)
}

pub(crate) fn le64(buf: &[u8], at: usize) -> Option<u64> {
    array(buf, at).map(u64::from_le_bytes)
}

/// The little-endian half of a both-endian 16-bit field. Some mastering tools get the big-endian
/// half wrong; every reader we know of (the kernel, libisofs) trusts the little-endian half, so
/// we do too.
pub(crate) fn both16(buf: &[u8], at: usize) -> Option<u16> {
    le16(buf, at)
}

/// The little-endian half of a both-endian 32-bit field (see [`both16`]).
pub(crate) fn both32(buf: &[u8], at: usize) -> Option<u32> {
    le32(buf, at)
}

/// Copies `bytes` into `out` at `at`. Only for the builder's own fixed-size structures, whose
/// offsets are constants that fit.
pub(crate) fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = out.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    } else {
        debug_assert!(
            false,
            "field at {at}+{} outside a {}-byte structure",
            bytes.len(),
            out.len()
        );
    }
}

pub(crate) fn put_both16(out: &mut [u8], at: usize, value: u16) {
    put(out, at, &value.to_le_bytes());
    put(out, at + 2, &value.to_be_bytes());
}

pub(crate) fn put_both32(out: &mut [u8], at: usize, value: u32) {
    put(out, at, &value.to_le_bytes());
    put(out, at + 4, &value.to_be_bytes());
}

/// A text field padded with `pad` to `len` bytes (longer text is cut; callers validate lengths
/// first, so this only guards the structure size).
pub(crate) fn padded(text: &[u8], len: usize, pad: u8) -> Vec<u8> {
    let mut field = vec![pad; len];
    let n = text.len().min(len);
    field[..n].copy_from_slice(&text[..n]);
    field
}

/// A text field as found on disk: trailing spaces and NULs removed, bytes outside ASCII shown
/// as `\xNN` so that a hostile image cannot inject control characters into messages.
pub(crate) fn text(field: &[u8]) -> String {
    let end = field
        .iter()
        .rposition(|&b| b != b' ' && b != 0)
        .map_or(0, |i| i + 1);
    super::name::decode_identifier(field.get(..end).unwrap_or_default())
}

/// Sectors of 2048 bytes needed for `len` bytes.
pub(crate) fn blocks(len: u64) -> u64 {
    len.div_ceil(super::SECTOR_SIZE)
}
