//! Any bytes as an IMGDB.TGZ: read, listed, written back; no panic, no hang, bounded memory.
#![no_main]

use esxforge_isotool::esxi::imgdb::ImageDb;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut db) = ImageDb::read("IMGDB.TGZ", data) else { return };
    let _ = db.vibs();
    let _ = db.remove_vib("net-old");
    let _ = db.to_tgz();
});
