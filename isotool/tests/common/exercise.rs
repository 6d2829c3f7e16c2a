//! Runs everything the reader does over an image, ignoring errors: a harness for the property
//! test in `malformed.rs` and the cargo-fuzz target in `isotool/fuzz`, whose only question is
//! whether the reader panics or hangs. File reads stop after 64 KiB each.

use std::io::{Read, Seek};

use esxforge_isotool::reader::{Image, Names};

pub fn exercise<R: Read + Seek>(reader: R) {
    let Ok(mut image) = Image::open(reader) else {
        return;
    };
    let _ = image.system_area();
    let _ = image.check_path_tables();
    if let Ok(Some(catalog)) = image.boot_catalog() {
        for entry in &catalog.entries {
            if let Ok(Some(file)) = image.boot_image_file(entry) {
                let _ = image.boot_info_table(&file);
            }
        }
    }
    for names in [Names::Primary, Names::RockRidge, Names::Joliet] {
        let Ok(walk) = image.walk(names) else {
            continue;
        };
        let entries: Vec<_> = walk.filter_map(Result::ok).collect();
        for entry in entries.iter().filter(|e| e.is_file()) {
            if let Ok(reader) = image.open_file(entry) {
                let _ = reader.take(64 * 1024).read_to_end(&mut Vec::new());
            }
        }
        let _ = image.lookup("/DIR/SUB/FILE.TXT", names);
    }
}
