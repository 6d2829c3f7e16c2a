//! Fixtures shared by the end-to-end tests; each test binary declares `mod common;` and uses
//! the parts it needs.
#![allow(dead_code)]

pub mod esxi_iso;
pub mod hostops;
pub mod qemu;
pub mod sshd;
