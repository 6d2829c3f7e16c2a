//! Fixtures shared by the end-to-end tests; each test binary declares `mod common;` and uses
//! the parts it needs.
#![allow(dead_code)]

pub mod esxi_iso;
pub mod hostops;
// One QEMU harness for both suites: it lives with the isotool tests.
#[path = "../../isotool/tests/common/qemu.rs"]
pub mod qemu;
pub mod sshd;
