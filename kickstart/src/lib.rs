//! esxforge-kickstart: from an inventory of ESXi hosts to one installer-correct `ks.cfg` per host,
//! and a linter that reads any kickstart exactly as the ESXi installer does.

pub mod cluster;
pub mod inventory;
pub mod lint;
pub mod parse;
pub mod render;
pub mod serve;
pub mod version;
