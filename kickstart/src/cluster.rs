//! The inventory's `cluster:` section: what vCenter knows and a standalone host cannot report
//! (HA admission control policy, DRS automation and rules, per-VM reservations and estimates).
//! The preflight in `esxforge-hostcfg` reads it beside the facts gathered from each host.

use serde::{Deserialize, Serialize};

/// The `cluster:` section of an inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// The cluster's name, for reports.
    pub name: Option<String>,
}
