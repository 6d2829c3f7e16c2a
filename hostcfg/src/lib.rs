//! esxforge-hostcfg: ESXi hosts over SSH (facts, idempotent apply, configuration backup and
//! restore, fleets) and the vMotion / cluster preflight as pure functions over facts.

pub mod facts;
pub mod preflight;
