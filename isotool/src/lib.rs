//! esxforge-isotool: read and write ISO 9660 images with El Torito boot records, and remaster
//! ESXi installer media (drivers injected, kickstart embedded, every checksum regenerated).

pub mod esxi;
pub mod iso9660;
pub mod reader;
pub mod remaster;
pub mod writer;
