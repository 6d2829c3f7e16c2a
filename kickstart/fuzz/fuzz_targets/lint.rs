//! Any bytes, parsed and linted for every ESXi version: no panic, no hang.
#![no_main]

use esxforge_kickstart::lint::{LintOptions, lint_text};
use esxforge_kickstart::parse::Kickstart;
use esxforge_kickstart::version::EsxiVersion;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Kickstart::parse_bytes(data);
    for version in EsxiVersion::RELEASES {
        let _ = lint_text("fuzz.ks", data, &LintOptions { version, secure_boot: true });
    }
});
