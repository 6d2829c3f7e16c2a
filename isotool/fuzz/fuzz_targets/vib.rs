//! Any bytes as a VIB: the `ar` index, the descriptor, every checksum recomputed; no panic, no
//! hang, no allocation sized by a header field.
#![no_main]

use std::io::Cursor;

use esxforge_isotool::esxi::media::MediaVersion;
use esxforge_isotool::esxi::vib::Vib;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut vib) = Vib::from_reader("fuzz.vib", Cursor::new(data)) else { return };
    let _ = vib.verify();
    if let Some(v) = MediaVersion::parse("8.0.3-0.35.24280767") {
        let _ = vib.check_target(&v);
    }
});
