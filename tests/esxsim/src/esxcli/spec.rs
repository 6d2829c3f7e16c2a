//! The esxcli commands the simulator knows: path, options, and the function that runs them.

use super::args::Opts;
use super::output::Output;
use super::{hardware, network, storage, system};
use crate::state::State;
use crate::version::Version;

/// One option of a command.
#[derive(Debug, Clone, Copy)]
pub struct Opt {
    pub long: &'static str,
    pub short: Option<char>,
    /// Takes no value (`--all`).
    pub flag: bool,
    pub required: bool,
}

const fn opt(long: &'static str, short: char) -> Opt {
    Opt {
        long,
        short: Some(short),
        flag: false,
        required: false,
    }
}

const fn req(long: &'static str, short: char) -> Opt {
    Opt {
        long,
        short: Some(short),
        flag: false,
        required: true,
    }
}

const fn flag(long: &'static str, short: char) -> Opt {
    Opt {
        long,
        short: Some(short),
        flag: true,
        required: false,
    }
}

pub type Handler = fn(&mut State, &Opts) -> Result<Output, String>;

/// A command.
pub struct Spec {
    pub path: &'static str,
    pub options: &'static [Opt],
    /// Changes the state (runs under the exclusive lock and is logged in `changes`).
    pub mutates: bool,
    /// Whether the release has the command (`system ntp` from 7.0 U1).
    pub exists: fn(&Version) -> bool,
    pub run: Handler,
}

fn always(_: &Version) -> bool {
    true
}

fn ntp_namespace(v: &Version) -> bool {
    v.has_esxcli_ntp()
}

const fn get(path: &'static str, options: &'static [Opt], run: Handler) -> Spec {
    Spec {
        path,
        options,
        mutates: false,
        exists: always,
        run,
    }
}

const fn set(path: &'static str, options: &'static [Opt], run: Handler) -> Spec {
    Spec {
        path,
        options,
        mutates: true,
        exists: always,
        run,
    }
}

const VSWITCH: Opt = opt("vswitch-name", 'v');
const VSWITCH_REQ: Opt = req("vswitch-name", 'v');

pub static COMMANDS: &[Spec] = &[
    get("system version get", &[], system::version_get),
    get("system uuid get", &[], system::uuid_get),
    get("system hostname get", &[], system::hostname_get),
    set(
        "system hostname set",
        &[opt("host", 'H'), opt("domain", 'd'), opt("fqdn", 'f')],
        system::hostname_set,
    ),
    get("system maintenanceMode get", &[], system::maintenance_get),
    set(
        "system maintenanceMode set",
        &[
            req("enable", 'e'),
            opt("timeout", 't'),
            opt("vsanmode", 'm'),
        ],
        system::maintenance_set,
    ),
    Spec {
        path: "system ntp get",
        options: &[],
        mutates: false,
        exists: ntp_namespace,
        run: system::ntp_get,
    },
    Spec {
        path: "system ntp set",
        options: &[
            opt("enabled", 'e'),
            opt("server", 's'),
            flag("reset", 'r'),
            opt("loglevel", 'l'),
            opt("file", 'f'),
        ],
        mutates: true,
        exists: ntp_namespace,
        run: system::ntp_set,
    },
    get("system syslog config get", &[], system::syslog_get),
    set(
        "system syslog config set",
        &[
            opt("loghost", 'r'),
            opt("logdir", 'l'),
            opt("logdir-unique", 'u'),
            flag("reset", 'e'),
            opt("default-rotate", 'd'),
            opt("default-size", 's'),
        ],
        system::syslog_set,
    ),
    set("system syslog reload", &[], system::syslog_reload),
    get(
        "system settings advanced list",
        &[opt("option", 'o'), opt("tree", 't'), flag("delta", 'd')],
        system::advanced_list,
    ),
    set(
        "system settings advanced set",
        &[
            req("option", 'o'),
            opt("int-value", 'i'),
            opt("string-value", 's'),
            flag("default", 'd'),
        ],
        system::advanced_set,
    ),
    get("hardware cpu global get", &[], hardware::cpu_global_get),
    get("hardware cpu list", &[], hardware::cpu_list),
    get("hardware platform get", &[], hardware::platform_get),
    get("hardware memory get", &[], hardware::memory_get),
    get(
        "software vib list",
        &[flag("rebooting-image", 'r')],
        system::vib_list,
    ),
    get(
        "network ip dns server list",
        &[opt("netstack", 'N')],
        network::dns_server_list,
    ),
    set(
        "network ip dns server add",
        &[req("server", 's'), opt("netstack", 'N')],
        network::dns_server_add,
    ),
    set(
        "network ip dns server remove",
        &[opt("server", 's'), flag("all", 'a'), opt("netstack", 'N')],
        network::dns_server_remove,
    ),
    get(
        "network ip dns search list",
        &[opt("netstack", 'N')],
        network::dns_search_list,
    ),
    set(
        "network ip dns search add",
        &[req("domain", 'd'), opt("netstack", 'N')],
        network::dns_search_add,
    ),
    set(
        "network ip dns search remove",
        &[req("domain", 'd'), opt("netstack", 'N')],
        network::dns_search_remove,
    ),
    get("network nic list", &[], network::nic_list),
    get("network nic get", &[req("nic-name", 'n')], network::nic_get),
    get(
        "network ip route ipv4 list",
        &[opt("netstack", 'N')],
        network::route_list,
    ),
    get("network ip netstack list", &[], network::netstack_list),
    get("network firewall get", &[], network::firewall_get),
    get(
        "network vswitch standard list",
        &[VSWITCH],
        network::vswitch_list,
    ),
    get("network vswitch dvs vmware list", &[], network::dvs_list),
    set(
        "network vswitch standard add",
        &[VSWITCH_REQ, opt("ports", 'P')],
        network::vswitch_add,
    ),
    set(
        "network vswitch standard remove",
        &[VSWITCH_REQ],
        network::vswitch_remove,
    ),
    set(
        "network vswitch standard set",
        &[VSWITCH_REQ, opt("mtu", 'm'), opt("cdp-status", 'c')],
        network::vswitch_set,
    ),
    set(
        "network vswitch standard uplink add",
        &[req("uplink-name", 'u'), VSWITCH_REQ],
        network::uplink_add,
    ),
    set(
        "network vswitch standard uplink remove",
        &[req("uplink-name", 'u'), VSWITCH_REQ],
        network::uplink_remove,
    ),
    get(
        "network vswitch standard policy failover get",
        &[VSWITCH_REQ],
        network::vswitch_failover_get,
    ),
    set(
        "network vswitch standard policy failover set",
        &[
            VSWITCH_REQ,
            opt("active-uplinks", 'a'),
            opt("standby-uplinks", 's'),
            opt("failback", 'b'),
            opt("failure-detection", 'f'),
            opt("load-balancing", 'l'),
            opt("notify-switches", 'n'),
        ],
        network::vswitch_failover_set,
    ),
    get(
        "network vswitch standard portgroup list",
        &[],
        network::portgroup_list,
    ),
    set(
        "network vswitch standard portgroup add",
        &[req("portgroup-name", 'p'), VSWITCH_REQ],
        network::portgroup_add,
    ),
    set(
        "network vswitch standard portgroup remove",
        &[req("portgroup-name", 'p'), VSWITCH_REQ],
        network::portgroup_remove,
    ),
    set(
        "network vswitch standard portgroup set",
        &[req("portgroup-name", 'p'), opt("vlan-id", 'v')],
        network::portgroup_set,
    ),
    get(
        "network vswitch standard portgroup policy failover get",
        &[req("portgroup-name", 'p')],
        network::portgroup_failover_get,
    ),
    Spec {
        path: "network vswitch standard portgroup policy failover set",
        options: &[
            req("portgroup-name", 'p'),
            opt("active-uplinks", 'a'),
            opt("standby-uplinks", 's'),
            opt("failback", 'b'),
            opt("failure-detection", 'f'),
            opt("load-balancing", 'l'),
            opt("notify-switches", 'n'),
            flag("use-vswitch", 'u'),
        ],
        mutates: true,
        exists: always,
        run: network::portgroup_failover_set,
    },
    get(
        "network ip interface list",
        &[opt("netstack", 'N')],
        network::interface_list,
    ),
    set(
        "network ip interface add",
        &[
            req("interface-name", 'i'),
            opt("portgroup-name", 'p'),
            opt("mac-address", 'M'),
            opt("mtu", 'm'),
            opt("netstack", 'N'),
            opt("dvs-name", 's'),
            opt("dvport-id", 'v'),
        ],
        network::interface_add,
    ),
    set(
        "network ip interface remove",
        &[req("interface-name", 'i'), opt("portgroup-name", 'p')],
        network::interface_remove,
    ),
    set(
        "network ip interface set",
        &[
            req("interface-name", 'i'),
            opt("mtu", 'm'),
            opt("enabled", 'e'),
        ],
        network::interface_set,
    ),
    get(
        "network ip interface ipv4 get",
        &[opt("interface-name", 'i'), opt("netstack", 'N')],
        network::ipv4_get,
    ),
    set(
        "network ip interface ipv4 set",
        &[
            req("interface-name", 'i'),
            opt("ipv4", 'I'),
            opt("netmask", 'N'),
            opt("type", 't'),
            opt("gateway", 'g'),
            opt("peer-dns", 'P'),
        ],
        network::ipv4_set,
    ),
    get(
        "network ip interface tag get",
        &[req("interface-name", 'i')],
        network::tag_get,
    ),
    set(
        "network ip interface tag add",
        &[req("interface-name", 'i'), req("tagname", 't')],
        network::tag_add,
    ),
    set(
        "network ip interface tag remove",
        &[req("interface-name", 'i'), req("tagname", 't')],
        network::tag_remove,
    ),
    get(
        "network firewall ruleset list",
        &[opt("ruleset-id", 'r')],
        network::ruleset_list,
    ),
    set(
        "network firewall ruleset set",
        &[
            req("ruleset-id", 'r'),
            opt("enabled", 'e'),
            opt("allowed-all", 'a'),
        ],
        network::ruleset_set,
    ),
    set("network firewall refresh", &[], network::firewall_refresh),
    get("iscsi software get", &[], storage::iscsi_software_get),
    set(
        "iscsi software set",
        &[req("enabled", 'e'), opt("name", 'n')],
        storage::iscsi_software_set,
    ),
    get(
        "iscsi adapter list",
        &[opt("adapter", 'A')],
        storage::iscsi_adapter_list,
    ),
    get(
        "iscsi networkportal list",
        &[opt("adapter", 'A')],
        storage::networkportal_list,
    ),
    set(
        "iscsi networkportal add",
        &[req("adapter", 'A'), req("nic", 'n'), flag("force", 'f')],
        storage::networkportal_add,
    ),
    set(
        "iscsi networkportal remove",
        &[req("adapter", 'A'), req("nic", 'n'), flag("force", 'f')],
        storage::networkportal_remove,
    ),
    get(
        "iscsi adapter discovery sendtarget list",
        &[opt("adapter", 'A')],
        storage::sendtarget_list,
    ),
    set(
        "iscsi adapter discovery sendtarget add",
        &[req("adapter", 'A'), req("address", 'a')],
        storage::sendtarget_add,
    ),
    set(
        "iscsi adapter discovery sendtarget remove",
        &[req("adapter", 'A'), req("address", 'a')],
        storage::sendtarget_remove,
    ),
    set(
        "storage core adapter rescan",
        &[flag("all", 'a'), opt("adapter", 'A'), opt("type", 't')],
        storage::rescan,
    ),
    get("storage core adapter list", &[], storage::adapter_list),
    get(
        "storage filesystem list",
        &[flag("ignore-errors", 'i')],
        storage::filesystem_list,
    ),
    get(
        "storage core device list",
        &[opt("device", 'd'), flag("exclude-offline", 'o')],
        storage::device_list,
    ),
];

/// The command `words` starts with, and how many words its path took.
pub fn find(words: &[String]) -> Option<(&'static Spec, usize)> {
    let count = words.iter().take_while(|w| !w.starts_with('-')).count();
    let path = words.get(..count)?;
    COMMANDS
        .iter()
        .filter(|s| {
            let mut parts = s.path.split(' ');
            let n = s.path.split(' ').count();
            n <= path.len()
                && path
                    .iter()
                    .take(n)
                    .all(|w| parts.next().is_some_and(|p| p.eq_ignore_ascii_case(w)))
        })
        .max_by_key(|s| s.path.len())
        .map(|s| (s, s.path.split(' ').count()))
}

/// Whether `words` is a namespace some command lives in (`network ip`).
pub fn is_namespace(words: &[String]) -> bool {
    let prefix = words.join(" ").to_ascii_lowercase();
    !prefix.is_empty()
        && COMMANDS.iter().any(|s| {
            s.path
                .to_ascii_lowercase()
                .starts_with(&format!("{prefix} "))
        })
}
