//! esxforge-hostcfg: ESXi hosts over SSH (facts, idempotent apply, configuration backup and
//! restore, fleets) and the vMotion / cluster preflight as pure functions over facts.
//!
//! The model: a [`transport::Transport`] is one SSH session to one host (no vCenter, no API).
//! [`collect`] asks the host everything in two batched round trips — `esxcli` as XML with a
//! text fallback, `vim-cmd` as VMODL — and fills [`facts::HostFacts`]. [`desired`] turns an
//! inventory host into the state it should have; [`plan`] diffs the two into ordered steps and
//! [`apply`] runs them and verifies by gathering facts again. [`backup`] moves configuration
//! bundles with verification and atomic placement. [`fleet`] runs any of these over many hosts
//! with bounded concurrency. Nothing here prints or prompts: progress comes back as callbacks.
//!
//! ```no_run
//! use esxforge_hostcfg::collect;
//! use esxforge_hostcfg::transport::{Credentials, Endpoint, HostKeyPolicy, SshOptions, SshTransport};
//!
//! let options = SshOptions::new(
//!     HostKeyPolicy::Strict("/root/.ssh/known_hosts".into()),
//!     Credentials::default(), // ssh-agent keys
//! );
//! let host = Endpoint { address: "10.0.10.11".into(), port: 22, user: "root".into() };
//! let session = SshTransport::connect(&host, &options)?;
//! let facts = collect::collect("esx01", &session)?.facts;
//! println!("{} runs ESXi {} build {}", facts.fqdn, facts.version.version, facts.version.build);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
