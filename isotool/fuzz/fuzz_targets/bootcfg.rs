//! Any bytes as a BOOT.CFG: parsed, read as the loader reads it, edited; no panic, no hang, and
//! the bytes round-trip unchanged until an edit.
#![no_main]

use esxforge_isotool::esxi::bootcfg::BootCfg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut cfg) = BootCfg::parse("BOOT.CFG", data) else { return };
    assert_eq!(cfg.to_bytes(), data);
    let _ = cfg.modules();
    let _ = cfg.check();
    let _ = cfg.get("kernelopt");
    let before = cfg.modules().len();
    if cfg.insert_module_before_imgdb("/fuzz.v00").is_ok() {
        assert_eq!(cfg.modules().len(), before + 1);
        assert!(cfg.remove_module("fuzz.v00") >= 1);
    }
    let _ = cfg.set_kernel_option("ks", Some("cdrom:/KS.CFG"));
    assert_eq!(cfg.kernelopt().get("ks"), Some("cdrom:/KS.CFG"));
});
