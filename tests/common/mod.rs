//! Fixtures shared by the end-to-end tests; each test binary declares `mod common;` and uses
//! the parts it needs.

pub mod esxi_iso;
pub mod qemu;
pub mod sshd;
