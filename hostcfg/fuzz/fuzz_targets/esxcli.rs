//! esxcli XML and text, the batch framing and the loose vim-cmd outputs never panic.
#![no_main]

use esxforge_hostcfg::parse::{esxcli_xml, text, vimcmd};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = esxcli_xml::parse(&s);
    let _ = text::parse(&s);
    let _ = vimcmd::getallvms(&s);
    let _ = vimcmd::snapshots(&s);
    let _ = vimcmd::bundle_path(&s);
});
