//! Boot an ISO in QEMU (TCG) by BIOS (SeaBIOS → El Torito BIOS entry) or by UEFI (OVMF → the
//! El Torito UEFI entry) and read what it prints on the serial console.
//!
//! The guest writes to a log file; we poll it until `until` appears (then stop QEMU by its child
//! handle) or QEMU exits by itself (UEFI fixtures `halt`). Timings on the 2-core build machine:
//! BIOS ~0.3 s, UEFI ~6 s (OVMF init under TCG dominates) — reference/toolchain.md §4.
#![allow(dead_code)] // each test binary uses part of the fixtures

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// Which firmware boots the CD.
#[derive(Clone, Copy, Debug)]
pub enum Firmware {
    Bios,
    Uefi,
}

/// Boots `iso` and returns the serial output once it contains `until` (or QEMU has exited).
/// Panics with the log so far when neither happens within `timeout`.
pub fn boot(iso: &Path, firmware: Firmware, until: &str, timeout: Duration) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("serial.log");
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args([
        "-accel", "tcg", "-display", "none", "-monitor", "none", "-net", "none",
    ])
    .arg("-no-reboot")
    .arg("-serial")
    .arg(format!("file:{}", log.display()));
    match firmware {
        Firmware::Bios => {
            cmd.args(["-m", "256", "-boot", "d"]);
        }
        Firmware::Uefi => {
            let vars = dir.path().join("vars.fd");
            std::fs::copy(OVMF_VARS, &vars).expect("copy OVMF vars");
            cmd.args(["-machine", "q35", "-m", "512"])
                .arg("-drive")
                .arg(format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"))
                .arg("-drive")
                .arg(format!("if=pflash,format=raw,file={}", vars.display()));
        }
    }
    cmd.arg("-cdrom").arg(iso);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qemu-system-x86_64");
    let start = Instant::now();
    let read = || String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
    loop {
        let text = read();
        if text.contains(until) {
            let _ = child.kill();
            let _ = child.wait();
            return text;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return read();
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{firmware:?} boot of {} did not print {until:?} within {timeout:?}; serial log:\n{}",
                iso.display(),
                read()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
