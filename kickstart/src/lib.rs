//! esxforge-kickstart: from an inventory of ESXi hosts to one installer-correct `ks.cfg` per host,
//! and a linter that reads any kickstart exactly as the ESXi installer does.
//!
//! An [`inventory`] is one YAML file: `defaults`, `groups` of hosts with their own values, and
//! `hosts`. [`Inventory::load`](inventory::Inventory::load) merges each host's layers, renders
//! its templated values, checks the result (and the inventory as a whole) and gives one
//! [`Host`](inventory::Host) per host, or every problem with its path and line. A
//! [`Renderer`](render::Renderer) writes a host's kickstart in the dialect of its ESXi
//! [`version`], from minijinja templates that can be overridden. The [`lint`] module reads a
//! kickstart with the installer's own tokenizer ([`parse`]) and grammar for that version, and
//! tells what would stop the installer (errors), what it would only warn about, and what it
//! would silently get wrong — so a rendered kickstart can be checked as the installer will read
//! it. [`serve`] hands the kickstarts out over HTTP for network installs, and [`cluster`] is the
//! inventory's `cluster:` section, read by the vMotion and HA preflight.
//!
//! ```
//! use esxforge_kickstart::inventory::Inventory;
//! use esxforge_kickstart::lint::{LintOptions, lint_text};
//! use esxforge_kickstart::render::Renderer;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("site.yaml");
//! std::fs::write(&path, r#"
//! defaults:
//!   esxi: "8.0U2"
//!   accept_eula: true
//!   rootpw: {hash: "$6$abcdefgh$gGBmDnLQUc7X.EBIKowb1D9aTj.Os8M3ugSq/i9D/fQCkrN3HulO.schvxn1pyfuGN2yHa4KWM7KxtoM2UM220"}
//!   network: {device: vmnic0, netmask: 255.255.255.0, gateway: 10.0.10.1, domain: lab.example.com}
//!   dns: {servers: [10.0.0.2, 10.0.0.3]}
//!   ntp: [pool.ntp.org]
//! hosts:
//!   esx01: {network: {ip: 10.0.10.11}}
//! "#).unwrap();
//!
//! let inventory = Inventory::load(&path).unwrap();
//! let host = &inventory.hosts[0];
//! let ks = Renderer::new().render(host, &inventory.salt_seed).unwrap();
//! assert!(ks.contains("--hostname=esx01.lab.example.com"));
//!
//! // Read back as the 8.0 installer reads it: nothing stops it, nothing it warns about.
//! let options = LintOptions { version: host.esxi, secure_boot: host.secure_boot };
//! let report = lint_text("esx01.ks.cfg", ks.as_bytes(), &options);
//! assert_eq!(report.errors() + report.warnings(), 0, "{:?}", report.findings);
//! ```

pub mod cluster;
pub mod inventory;
pub mod lint;
pub mod parse;
pub mod render;
pub mod serve;
pub mod version;
