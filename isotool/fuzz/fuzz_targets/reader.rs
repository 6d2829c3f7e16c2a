//! Fuzzes the ISO 9660 reader: open, walk all three name trees, read every file, the boot
//! catalog and boot-info-tables, the path tables. The input is the image from LBA 16 on (the 32
//! KiB system area in front is zeros), so every mutation lands in a structure the reader parses.
//!
//! Only stable Rust is installed; both of these work (from `isotool/fuzz`, after `./seeds.sh`):
//!
//! ```text
//! RUSTC_BOOTSTRAP=1 cargo fuzz run reader corpus/reader -- -max_total_time=300 -max_len=200000
//! cargo fuzz run --sanitizer none reader corpus/reader -- -max_total_time=60 -max_len=200000
//! ```
//!
//! The first builds with AddressSanitizer (it needs `-Zsanitizer`, which `RUSTC_BOOTSTRAP=1`
//! unlocks on stable); the second builds without a sanitizer and needs no unstable flag.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/exercise.rs"]
mod exercise;

fuzz_target!(|data: &[u8]| {
    let mut image = vec![0u8; 32 * 1024];
    image.extend_from_slice(data);
    exercise::exercise(std::io::Cursor::new(image));
});
