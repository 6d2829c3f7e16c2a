//! esxforge-hostcfg: ESXi hosts over SSH (facts, idempotent apply, configuration backup and
//! restore, fleets) and the vMotion / cluster preflight as pure functions over facts.

pub mod apply;
pub mod backup;
pub mod collect;
pub mod desired;
pub mod facts;
pub mod fleet;
pub mod parse;
pub mod plan;
pub mod preflight;
pub mod transport;
