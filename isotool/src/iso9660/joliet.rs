//! Joliet: a second directory tree, announced by a Supplementary Volume Descriptor whose escape
//! sequences name UCS-2, with identifiers in big-endian UCS-2 (Microsoft's Joliet
//! specification, 1995). File data is shared with the primary tree.

/// The escape sequences field of a Joliet SVD for UCS-2 level 3 (`%/E`), what every current
/// mastering tool writes.
pub const ESCAPE_LEVEL_3: [u8; 3] = *b"%/E";

/// Joliet UCS-2 level from the SVD's escape sequences field (offset 88), or `None` when the SVD
/// is not Joliet.
pub fn level(escape_sequences: &[u8]) -> Option<u8> {
    match escape_sequences.get(..3)? {
        b"%/@" => Some(1),
        b"%/C" => Some(2),
        b"%/E" => Some(3),
        _ => None,
    }
}

/// Longest name (in UCS-2 units, without `;1`) the Joliet specification allows.
pub const MAX_NAME: usize = 64;
/// Longest name `-joliet-long` writers allow: what still fits a 255-byte record.
pub const MAX_LONG_NAME: usize = 103;

/// Decodes a UCS-2BE (or UTF-16BE) identifier. Unpaired surrogates and an odd trailing byte
/// become U+FFFD rather than an error: a name is still worth showing.
pub fn decode(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]));
    let mut name: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or('\u{FFFD}'))
        .collect();
    if bytes.len() % 2 == 1 {
        name.push('\u{FFFD}');
    }
    name
}

/// Encodes text as UCS-2BE (characters outside the BMP as surrogate pairs).
pub fn encode(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// A text field of a Joliet SVD: UCS-2BE padded with UCS-2 spaces to `len` bytes.
pub fn field(text: &str, len: usize) -> Vec<u8> {
    let mut out = encode(text);
    out.truncate(len - len % 2);
    while out.len() + 2 <= len {
        out.extend_from_slice(&[0, b' ']);
    }
    out.resize(len, 0);
    out
}

/// The Joliet identifier for `name`: the name checked against the characters Joliet forbids
/// and the length limit, with `;1` for files.
pub fn identifier(name: &str, dir: bool, long: bool) -> Result<Vec<u8>, String> {
    if let Some(c) = name.chars().find(|&c| c < ' ' || "*/:;?\\".contains(c)) {
        return Err(format!(
            "{name:?} contains {c:?}, which Joliet names may not"
        ));
    }
    let max = if long { MAX_LONG_NAME } else { MAX_NAME };
    let units = name.encode_utf16().count();
    if units > max {
        return Err(format!(
            "{name:?} has {units} UCS-2 characters; Joliet allows {max}{}",
            if long {
                ""
            } else {
                " (more with long Joliet names)"
            }
        ));
    }
    let mut id = encode(name);
    if !dir {
        id.extend_from_slice(&encode(";1"));
    }
    Ok(id)
}

/// Joliet records sort by their UCS-2 code units.
pub fn record_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let id = identifier("Überlange Datei.txt", false, false).unwrap();
        assert_eq!(decode(&id), "Überlange Datei.txt;1");
        assert_eq!(decode(&identifier("dir", true, false).unwrap()), "dir");
        assert_eq!(decode(&[0, b'a', 0]), "a\u{FFFD}");
    }

    #[test]
    fn forbidden_characters_and_lengths_are_refused() {
        assert!(identifier("a:b", false, false).unwrap_err().contains("':'"));
        let long = "x".repeat(70);
        assert!(identifier(&long, false, false).is_err());
        assert!(identifier(&long, false, true).is_ok());
    }

    #[test]
    fn fields_are_padded_with_ucs2_spaces() {
        assert_eq!(field("AB", 8), vec![0, b'A', 0, b'B', 0, b' ', 0, b' ']);
        assert_eq!(field("ABC", 5), vec![0, b'A', 0, b'B', 0]);
        assert_eq!(level(b"%/E"), Some(3));
        assert_eq!(level(b"\0\0\0"), None);
    }
}
