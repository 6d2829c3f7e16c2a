//! Boots an image in QEMU (TCG) by BIOS (SeaBIOS) or by UEFI (OVMF), as a CD or as a hard disk,
//! and reads what it prints on the serial console. One harness for the isotool tests and the
//! esxforge end-to-end tests (which include this file).
//!
//! The guest writes to a log file; it is polled until one of the expected texts appears (then
//! QEMU is stopped) or QEMU exits by itself (the fixtures power off or `halt`). Timings on the
//! 2-core build machine: BIOS ~0.3 s, UEFI ~6 s (OVMF init under TCG dominates) —
//! reference/toolchain.md §4.
#![allow(dead_code)] // each test binary uses part of the harness

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// Which firmware boots the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    Bios,
    Uefi,
}

/// How the guest sees the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Medium {
    Cdrom,
    /// A hard disk: the image's MBR/GPT are all the firmware looks at.
    Disk,
}

/// A VM to boot an image in.
#[derive(Clone, Copy, Debug)]
pub struct Qemu {
    firmware: Firmware,
    medium: Medium,
    bios_screen: bool,
}

impl Qemu {
    pub fn bios() -> Qemu {
        Qemu {
            firmware: Firmware::Bios,
            medium: Medium::Cdrom,
            bios_screen: false,
        }
    }

    pub fn uefi() -> Qemu {
        Qemu {
            firmware: Firmware::Uefi,
            ..Qemu::bios()
        }
    }

    /// Boot the image as a hard disk instead of a CD.
    pub fn disk(self) -> Qemu {
        Qemu {
            medium: Medium::Disk,
            ..self
        }
    }

    /// Mirror the BIOS text screen to the serial log (SeaBIOS `sercon`, no VGA): what the
    /// firmware, an MBR or isolinux print before any `SERIAL` directive — "No bootable device",
    /// "isolinux: Image checksum error". Not for boots that also print through syslinux's own
    /// serial output: the two streams interleave.
    pub fn bios_screen(self) -> Qemu {
        Qemu {
            bios_screen: true,
            ..self
        }
    }

    /// Boots `image` and returns the serial output once it contains one of `until` (or QEMU has
    /// exited). Panics with the log so far when neither happens within `timeout`.
    pub fn boot(&self, image: &Path, until: &[&str], timeout: Duration) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("serial.log");
        let mut cmd = Command::new("qemu-system-x86_64");
        cmd.args([
            "-accel", "tcg", "-display", "none", "-monitor", "none", "-net", "none",
        ])
        .arg("-no-reboot")
        .arg("-serial")
        .arg(format!("file:{}", log.display()));
        match self.firmware {
            Firmware::Bios => {
                cmd.args(["-m", "256"]);
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
        if self.bios_screen {
            // SeaBIOS reads the port as a little-endian integer (COM1 is 0x3f8).
            let port = dir.path().join("sercon-port");
            std::fs::write(&port, 0x3f8u16.to_le_bytes()).expect("write sercon port");
            cmd.args(["-vga", "none", "-fw_cfg"])
                .arg(format!("name=etc/sercon-port,file={}", port.display()));
        }
        match (self.medium, self.firmware) {
            (Medium::Cdrom, _) => {
                cmd.arg("-cdrom").arg(image).args(["-boot", "d"]);
            }
            (Medium::Disk, Firmware::Bios) => {
                cmd.arg("-drive")
                    .arg(format!("file={},format=raw,snapshot=on", image.display()));
            }
            (Medium::Disk, Firmware::Uefi) => {
                cmd.arg("-drive").arg(format!(
                    "file={},format=raw,if=virtio,readonly=on",
                    image.display()
                ));
            }
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("qemu-system-x86_64 (scripts/test installs it)");
        let start = Instant::now();
        let read =
            || String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
        loop {
            let text = read();
            if until.iter().any(|u| text.contains(u)) {
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
                    "{self:?} boot of {} printed none of {until:?} within {timeout:?}; serial log:\n{}",
                    image.display(),
                    read()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
