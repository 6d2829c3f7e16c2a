//! VMODL: any input parses or fails cleanly; what parses prints and parses back the same.
#![no_main]

use esxforge_hostcfg::parse::vmodl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(value) = vmodl::parse(&text) {
        let printed = value.to_string();
        assert_eq!(vmodl::parse(&printed).ok(), Some(value));
    }
});
