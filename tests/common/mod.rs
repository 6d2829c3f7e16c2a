//! Test fixtures shared by the end-to-end tests (each test file uses what it needs).
#![allow(dead_code)]

pub mod sshd;
