//! Gathering [`HostFacts`] over a [`Transport`]: which commands, in which form, and how their
//! output fills the facts.
//!
//! A healthy host costs two round trips on its one session: the host-wide questions (esxcli as
//! XML, `vim-cmd` as VMODL), then the per-object ones that need their names (a vSwitch's
//! failover policy, a vmknic's tags, every VM's config with its devices, `nslookup` of the
//! host's FQDN and addresses). A third is asked only for VMs whose config or summary left out
//! their devices or power state. Each round falls back to esxcli's text form for the commands
//! whose XML failed, and a note says how many did. A command that fails in every form leaves
//! its facts empty and adds a note; only a host that cannot even say its version is an error.

mod batch;
mod hardware;
mod network;
mod query;
mod system;
mod vms;

pub use batch::{BatchError, quote};
pub use system::ntp_in_esxcli;

use crate::facts::HostFacts;
use crate::transport::Transport;
use query::Query;

/// The facts of one host and what could not be gathered.
#[derive(Debug, Clone)]
pub struct Collected {
    pub facts: HostFacts,
    /// One line per command that failed (`esxcli iscsi software get: Unknown command`).
    pub notes: Vec<String>,
}

/// Why no facts came back at all.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error("{target}: `esxcli system version get` failed ({reason}): is this an ESXi host?")]
    NotEsxi { target: String, reason: String },
}

/// Runs read-only commands in one exec and returns their outputs (for callers outside this
/// module that batch their own reads, like apply's read-back).
pub fn run_batch(
    transport: &dyn Transport,
    commands: &[String],
) -> Result<Vec<crate::transport::ExecOutput>, BatchError> {
    batch::run(transport, commands)
}

/// Gathers everything `host facts` reports about one host. `name` is its inventory name.
pub fn collect(name: &str, transport: &dyn Transport) -> Result<Collected, CollectError> {
    let first = host_queries();
    let mut answers = query::ask(transport, &first)?;
    let mut facts = HostFacts {
        name: name.to_string(),
        ..HostFacts::default()
    };
    let version = version(&answers, transport)?.clone();
    system::fill(&mut facts, &answers, &version);
    // `esxcli system ntp` exists from 7.0 U1 on; before, ntp.conf answers (second round).
    if !system::ntp_in_esxcli(&facts.version.version) {
        answers.forget("system ntp get");
    }
    hardware::fill(&mut facts, &answers);
    network::fill(&mut facts, &answers);
    let rows = vms::rows(&answers);

    let second = network::object_queries(&facts)
        .into_iter()
        .chain(system::object_queries(&facts, &answers))
        .chain(vms::queries(&rows))
        .collect::<Vec<_>>();
    let mut details = query::ask(transport, &second)?;
    // Usually empty: only VMs whose config or summary left something out.
    let third = vms::fallback_queries(&rows, &details);
    if !third.is_empty() {
        details.extend(query::ask(transport, &third)?);
    }
    network::fill_objects(&mut facts, &details);
    system::fill_objects(&mut facts, &answers, &details);
    facts.vms = vms::build(&rows, &details, &facts.datastores);

    let mut notes: Vec<String> = answers.failures().chain(details.failures()).collect();
    notes.extend(system::notes(&facts, &details));
    notes.extend(vms::listing_notes(&answers));
    notes.extend(vms::notes(&rows, &details));
    let mut all = answers;
    all.extend(details);
    notes.extend(all.text_fallback());
    Ok(Collected { facts, notes })
}

/// The first round: everything that needs no object names.
fn host_queries() -> Vec<(String, Query)> {
    let esxcli = [
        "system version get",
        "system uuid get",
        "system hostname get",
        "system maintenanceMode get",
        "hardware cpu global get",
        "network nic list",
        "network vswitch standard list",
        "network vswitch standard portgroup list",
        "network vswitch dvs vmware list",
        "network ip interface list",
        "network ip interface ipv4 get",
        "network ip dns server list",
        "network ip dns search list",
        "iscsi software get",
        "iscsi adapter list",
        "iscsi networkportal list",
        "iscsi adapter discovery sendtarget list",
        "storage filesystem list",
        "storage core device list",
        "system ntp get",
        "system syslog config get",
        "software vib list",
    ];
    let raw = [
        ("hosthardware", "vim-cmd hostsvc/hosthardware"),
        ("hostconfig", "vim-cmd hostsvc/hostconfig"),
        ("getallvms", "vim-cmd vmsvc/getallvms"),
    ];
    esxcli_queries(&esxcli)
        .into_iter()
        .chain(
            raw.iter()
                .map(|(k, line)| (k.to_string(), Query::Raw(line.to_string()))),
        )
        .collect()
}

/// esxcli questions asked under their own command line as key.
fn esxcli_queries(commands: &[&str]) -> Vec<(String, Query)> {
    commands
        .iter()
        .map(|q| (q.to_string(), Query::Esxcli(q.to_string())))
        .collect()
}

/// `system version get`, the answer every ESXi host gives; its failure means "not ESXi".
fn version<'a>(
    answers: &'a query::Answers,
    transport: &dyn Transport,
) -> Result<&'a crate::parse::Value, CollectError> {
    answers
        .esxcli("system version get")
        .map_err(|reason| CollectError::NotEsxi {
            target: transport.describe(),
            reason,
        })
}

/// Who a host is: what backup manifests record and restore compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uuid: String,
    pub version: crate::facts::Version,
    pub maintenance_mode: bool,
}

/// The host's UUID, version and maintenance mode, in one round trip.
pub fn identity(transport: &dyn Transport) -> Result<Identity, CollectError> {
    let queries = esxcli_queries(&[
        "system version get",
        "system uuid get",
        "system maintenanceMode get",
    ]);
    let answers = query::ask(transport, &queries)?;
    let mut facts = HostFacts::default();
    system::fill(&mut facts, &answers, version(&answers, transport)?);
    Ok(Identity {
        uuid: facts.uuid,
        version: facts.version,
        maintenance_mode: facts.maintenance_mode,
    })
}
