//! The sshd fixture harness lives in the simulator crate, so scripts can start it too
//! (`esxsim fleet`); the tests reach it as `common::sshd`.

pub use esxforge_esxsim::fixture::*;
