//! Fuzzes the ISO 9660 reader: open, walk all three name trees, read every file, the boot
//! catalog and boot-info-tables, the path tables. The input is the image from LBA 16 on (the 32
//! KiB system area in front is zeros), so every mutation lands in a structure the reader parses.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/exercise.rs"]
mod exercise;

fuzz_target!(|data: &[u8]| {
    let mut image = vec![0u8; 32 * 1024];
    image.extend_from_slice(data);
    exercise::exercise(std::io::Cursor::new(image));
});
