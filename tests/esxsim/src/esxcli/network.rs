//! `esxcli network …`: DNS, NICs, standard vSwitches and port groups, VMkernel interfaces,
//! the firewall.

use std::net::Ipv4Addr;

use super::args::Opts;
use super::output::{Output, Struct, Value, structs};
use crate::state::{Ipv4, PortGroup, Ruleset, State, Teaming, TeamingOverride, VSwitch, Vmknic};

fn shown_str(s: Struct, name: &'static str, display: &str, v: &str) -> Struct {
    s.shown(name, display, Value::Str(v.to_string()))
}

// --- DNS ------------------------------------------------------------------------------------

pub fn dns_server_list(st: &mut State, _: &Opts) -> Result<Output, String> {
    let s = Struct::new("DNSServerList").strs("DNSServers", &st.dns.servers);
    Ok(Output::records(Value::Struct(s), None))
}

pub fn dns_server_add(st: &mut State, o: &Opts) -> Result<Output, String> {
    let server = o.req("server")?;
    if server.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("Invalid IP address: {server}"));
    }
    if !st.dns.servers.iter().any(|s| s == server) {
        st.dns.servers.push(server.to_string());
    }
    Ok(Output::done())
}

pub fn dns_server_remove(st: &mut State, o: &Opts) -> Result<Output, String> {
    if o.bool("all")?.unwrap_or(false) {
        st.dns.servers.clear();
        return Ok(Output::done());
    }
    let server = o
        .get("server")
        .ok_or("Either --server or --all is required")?;
    let before = st.dns.servers.len();
    st.dns.servers.retain(|s| s != server);
    if st.dns.servers.len() == before {
        return Err(format!(
            "Unable to remove DNS server {server}: not configured"
        ));
    }
    Ok(Output::done())
}

pub fn dns_search_list(st: &mut State, _: &Opts) -> Result<Output, String> {
    let s = Struct::new("DNSSearchDomainList").strs("DNSSearchDomains", &st.dns.search);
    Ok(Output::records(Value::Struct(s), None))
}

pub fn dns_search_add(st: &mut State, o: &Opts) -> Result<Output, String> {
    let domain = o.req("domain")?;
    if domain.is_empty() || domain.contains(char::is_whitespace) {
        return Err(format!("Invalid domain name: {domain:?}"));
    }
    if !st.dns.search.iter().any(|s| s == domain) {
        st.dns.search.push(domain.to_string());
    }
    Ok(Output::done())
}

pub fn dns_search_remove(st: &mut State, o: &Opts) -> Result<Output, String> {
    let domain = o.req("domain")?;
    let before = st.dns.search.len();
    st.dns.search.retain(|s| s != domain);
    if st.dns.search.len() == before {
        return Err(format!(
            "Unable to remove search domain {domain}: not configured"
        ));
    }
    Ok(Output::done())
}

// --- NICs -----------------------------------------------------------------------------------

pub fn nic_list(st: &mut State, _: &Opts) -> Result<Output, String> {
    let eight = st.host.version.major() >= 8;
    let items = st
        .nics
        .iter()
        .map(|n| {
            let up = |b: bool| if b { "Up" } else { "Down" }.to_string();
            let mut s = Struct::new("Nic").str("Name", &n.name);
            s = shown_str(s, "PCIDevice", "PCI Device", &n.pci)
                .str("Driver", &n.driver)
                .shown("AdminStatus", "Admin Status", Value::Str(up(n.admin_up)))
                .shown("LinkStatus", "Link Status", Value::Str(up(n.link_up)))
                .int("Speed", if n.link_up { n.speed.into() } else { 0 })
                .str("Duplex", if n.full_duplex { "Full" } else { "Half" });
            s = shown_str(s, "MACAddress", "MAC Address", &n.mac)
                .shown("MTU", "MTU", Value::Int(n.mtu.into()))
                .str("Description", &n.description)
                .hidden("Link", Value::Str(up(n.link_up)));
            if eight {
                s = s.hidden("DPUId", Value::Str("N/A".into()));
            }
            s
        })
        .collect();
    Ok(Output::table(structs(items)))
}

// --- vSwitches ------------------------------------------------------------------------------

fn vswitch_index(st: &State, name: &str) -> Result<usize, String> {
    st.vswitches
        .iter()
        .position(|v| v.name == name)
        .ok_or_else(|| format!("Unable to find vswitch {name}"))
}

fn portgroup_index(st: &State, name: &str) -> Result<usize, String> {
    st.portgroups
        .iter()
        .position(|p| p.name == name)
        .ok_or_else(|| format!("Unable to find portgroup {name}"))
}

/// VMkernel and VM ports on a port group.
fn clients(st: &State, portgroup: &str) -> u32 {
    let vmk = st
        .vmknics
        .iter()
        .filter(|v| v.portgroup == portgroup)
        .count();
    let vm = st
        .vms
        .iter()
        .filter(|v| v.powered_on && !v.invalid)
        .flat_map(|v| v.devices.iter())
        // A NIC on a distributed port group is no client of a standard one of the same name.
        .filter(|d| matches!(d, crate::state::Device::Nic { network, connected: true, dvs: None, .. } if network == portgroup))
        .count();
    u32::try_from(vmk + vm).unwrap_or(u32::MAX)
}

pub fn vswitch_list(st: &mut State, o: &Opts) -> Result<Output, String> {
    let wanted = o.get("vswitch-name");
    if let Some(w) = wanted {
        vswitch_index(st, w)?;
    }
    let major = st.host.version.major();
    let items = st
        .vswitches
        .iter()
        .filter(|v| wanted.is_none_or(|w| w == v.name))
        .map(|v| {
            let pgs: Vec<String> = st
                .portgroups
                .iter()
                .filter(|p| p.vswitch == v.name)
                .map(|p| p.name.clone())
                .collect();
            let used: u32 = 1
                + u32::try_from(v.uplinks.len()).unwrap_or(0)
                + pgs.iter().map(|p| clients(st, p)).sum::<u32>();
            Struct::new("VirtualSwitch")
                .str("Name", &v.name)
                .str("Class", if major >= 7 { "cswitch" } else { "etherswitch" })
                .int("NumPorts", if major >= 7 { 2560 } else { 4352 })
                .int("UsedPorts", used.into())
                .int("ConfiguredPorts", v.ports.into())
                .shown("MTU", "MTU", Value::Int(v.mtu.into()))
                .shown("CDPStatus", "CDP Status", Value::Str(v.cdp_status.clone()))
                .bool("BeaconEnabled", false)
                .int("BeaconInterval", 1)
                .int("BeaconThreshold", 3)
                .strs("BeaconRequiredBy", &[])
                .strs("Uplinks", &v.uplinks)
                .strs("Portgroups", &pgs)
        })
        .collect();
    Ok(Output::records(structs(items), Some("%Name%")))
}

/// `network vswitch dvs vmware list`: the distributed switches the host joined. Joining one
/// takes vCenter, which a simulated host never has, so the list is always empty (as a standalone
/// host answers).
pub fn dvs_list(_st: &mut State, _o: &Opts) -> Result<Output, String> {
    Ok(Output::records(structs(Vec::new()), Some("%Name%")))
}

pub fn vswitch_add(st: &mut State, o: &Opts) -> Result<Output, String> {
    let name = o.req("vswitch-name")?;
    if st.vswitches.iter().any(|v| v.name == name) {
        return Err(format!("A vswitch with the name {name} already exists"));
    }
    if name.is_empty() || name.len() > 31 {
        return Err(format!("Invalid vswitch name {name:?}: 1 to 31 characters"));
    }
    let ports = o.int("ports")?.unwrap_or(128);
    st.vswitches.push(VSwitch {
        name: name.to_string(),
        mtu: 1500,
        ports: u32::try_from(ports).map_err(|_| format!("Invalid number of ports {ports}"))?,
        cdp_status: "listen".into(),
        uplinks: Vec::new(),
        teaming: Teaming {
            load_balancing: "srcport".into(),
            failure_detection: "link".into(),
            notify_switches: true,
            failback: true,
            active: Vec::new(),
            standby: Vec::new(),
        },
    });
    Ok(Output::done())
}

pub fn vswitch_remove(st: &mut State, o: &Opts) -> Result<Output, String> {
    let name = o.req("vswitch-name")?;
    let i = vswitch_index(st, name)?;
    let in_use: Vec<String> = st
        .portgroups
        .iter()
        .filter(|p| p.vswitch == name && clients(st, &p.name) > 0)
        .map(|p| p.name.clone())
        .collect();
    if !in_use.is_empty() {
        return Err(format!(
            "Cannot remove vswitch {name}: port groups in use ({})",
            in_use.join(", ")
        ));
    }
    st.vswitches.remove(i);
    st.portgroups.retain(|p| p.vswitch != name);
    Ok(Output::done())
}

pub fn vswitch_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    let name = o.req("vswitch-name")?;
    let i = vswitch_index(st, name)?;
    let mtu = o.int("mtu")?;
    let cdp = o.get("cdp-status").map(str::to_string);
    if let Some(m) = mtu.filter(|m| !(1280..=9000).contains(m)) {
        return Err(format!("Invalid MTU {m}: must be between 1280 and 9000"));
    }
    if let Some(c) = cdp
        .as_ref()
        .filter(|c| !["down", "listen", "advertise", "both"].contains(&c.as_str()))
    {
        return Err(format!(
            "Invalid CDP status {c}: down, listen, advertise or both"
        ));
    }
    if let Some(v) = st.vswitches.get_mut(i) {
        if let Some(m) = mtu.and_then(|m| u32::try_from(m).ok()) {
            v.mtu = m;
        }
        if let Some(c) = cdp {
            v.cdp_status = c;
        }
    }
    Ok(Output::done())
}

pub fn uplink_add(st: &mut State, o: &Opts) -> Result<Output, String> {
    let uplink = o.req("uplink-name")?.to_string();
    let name = o.req("vswitch-name")?;
    let i = vswitch_index(st, name)?;
    if !st.nics.iter().any(|n| n.name == uplink) {
        return Err(format!("Unable to find physical NIC {uplink}"));
    }
    if let Some(owner) = st.vswitches.iter().find(|v| v.uplinks.contains(&uplink)) {
        return Err(format!(
            "Unable to add uplink {uplink} to {name}: it is already used by {}",
            owner.name
        ));
    }
    if let Some(v) = st.vswitches.get_mut(i) {
        v.uplinks.push(uplink.clone());
        v.teaming.active.push(uplink);
    }
    Ok(Output::done())
}

pub fn uplink_remove(st: &mut State, o: &Opts) -> Result<Output, String> {
    let uplink = o.req("uplink-name")?.to_string();
    let name = o.req("vswitch-name")?.to_string();
    let i = vswitch_index(st, &name)?;
    let Some(v) = st.vswitches.get_mut(i) else {
        return Err(format!("Unable to find vswitch {name}"));
    };
    if !v.uplinks.contains(&uplink) {
        return Err(format!("Uplink {uplink} is not attached to {name}"));
    }
    v.uplinks.retain(|u| *u != uplink);
    v.teaming.active.retain(|u| *u != uplink);
    v.teaming.standby.retain(|u| *u != uplink);
    for p in st.portgroups.iter_mut().filter(|p| p.vswitch == name) {
        if let Some((active, standby)) = &mut p.overrides.uplinks {
            active.retain(|u| *u != uplink);
            standby.retain(|u| *u != uplink);
        }
    }
    Ok(Output::done())
}

/// `-l` values of the setters and what the getters print.
fn load_balancing(arg: &str) -> Result<&'static str, String> {
    match arg {
        "portid" => Ok("srcport"),
        "iphash" => Ok("iphash"),
        "mac" => Ok("srcmac"),
        "explicit" => Ok("explicit"),
        other => Err(format!(
            "Invalid load balancing policy {other}: iphash, mac, portid or explicit"
        )),
    }
}

fn failure_detection(arg: &str) -> Result<&'static str, String> {
    match arg {
        "link" => Ok("link"),
        "beacon" => Ok("beacon"),
        other => Err(format!("Invalid failure detection {other}: link or beacon")),
    }
}

fn uplink_list(arg: Option<&str>) -> Option<Vec<String>> {
    arg.map(|a| {
        a.split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect()
    })
}

fn failover(s: Struct, t: &Teaming, uplinks: &[String]) -> Struct {
    let unused: Vec<String> = uplinks
        .iter()
        .filter(|u| !t.active.contains(u) && !t.standby.contains(u))
        .cloned()
        .collect();
    s.str("LoadBalancing", &t.load_balancing)
        .str("NetworkFailureDetection", &t.failure_detection)
        .bool("NotifySwitches", t.notify_switches)
        .bool("Failback", t.failback)
        .strs("ActiveAdapters", &t.active)
        .strs("StandbyAdapters", &t.standby)
        .strs("UnusedAdapters", &unused)
}

pub fn vswitch_failover_get(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = vswitch_index(st, o.req("vswitch-name")?)?;
    let v = st.vswitches.get(i).ok_or("vswitch vanished")?;
    let s = failover(Struct::new("FailoverPolicy"), &v.teaming, &v.uplinks);
    Ok(Output::records(Value::Struct(s), None))
}

/// The parts of a failover `set` common to vSwitches and port groups.
struct FailoverArgs {
    active: Option<Vec<String>>,
    standby: Option<Vec<String>>,
    failback: Option<bool>,
    detection: Option<&'static str>,
    balancing: Option<&'static str>,
    notify: Option<bool>,
}

impl FailoverArgs {
    fn parse(o: &Opts, uplinks: &[String]) -> Result<FailoverArgs, String> {
        let args = FailoverArgs {
            active: uplink_list(o.get("active-uplinks")),
            standby: uplink_list(o.get("standby-uplinks")),
            failback: o.bool("failback")?,
            detection: o
                .get("failure-detection")
                .map(failure_detection)
                .transpose()?,
            balancing: o.get("load-balancing").map(load_balancing).transpose()?,
            notify: o.bool("notify-switches")?,
        };
        for u in args.active.iter().chain(&args.standby).flatten() {
            if !uplinks.contains(u) {
                return Err(format!("Uplink {u} is not attached to the vswitch"));
            }
        }
        Ok(args)
    }

    /// Applies the uplink lists: the new active list wins over the old standby list.
    fn order(&self, active: &mut Vec<String>, standby: &mut Vec<String>) {
        if let Some(a) = &self.active {
            *active = a.clone();
            standby.retain(|u| !a.contains(u));
        }
        if let Some(s) = &self.standby {
            *standby = s.clone();
            active.retain(|u| !s.contains(u));
        }
    }
}

pub fn vswitch_failover_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = vswitch_index(st, o.req("vswitch-name")?)?;
    let Some(v) = st.vswitches.get_mut(i) else {
        return Err("vswitch vanished".into());
    };
    let args = FailoverArgs::parse(o, &v.uplinks)?;
    let t = &mut v.teaming;
    args.order(&mut t.active, &mut t.standby);
    if let Some(b) = args.failback {
        t.failback = b;
    }
    if let Some(d) = args.detection {
        t.failure_detection = d.into();
    }
    if let Some(l) = args.balancing {
        t.load_balancing = l.into();
    }
    if let Some(n) = args.notify {
        t.notify_switches = n;
    }
    Ok(Output::done())
}

// --- Port groups ----------------------------------------------------------------------------

pub fn portgroup_list(st: &mut State, _: &Opts) -> Result<Output, String> {
    let items = st
        .portgroups
        .iter()
        .map(|p| {
            Struct::new("PortGroup")
                .str("Name", &p.name)
                .str("VirtualSwitch", &p.vswitch)
                .int("ActiveClients", clients(st, &p.name).into())
                .shown("VLANID", "VLAN ID", Value::Int(p.vlan.into()))
        })
        .collect();
    Ok(Output::table(structs(items)))
}

pub fn portgroup_add(st: &mut State, o: &Opts) -> Result<Output, String> {
    let name = o.req("portgroup-name")?;
    let vswitch = o.req("vswitch-name")?;
    vswitch_index(st, vswitch)?;
    if st.portgroups.iter().any(|p| p.name == name) {
        return Err(format!("A portgroup with the name {name} already exists"));
    }
    st.portgroups.push(PortGroup {
        name: name.to_string(),
        vswitch: vswitch.to_string(),
        vlan: 0,
        overrides: TeamingOverride::default(),
    });
    Ok(Output::done())
}

pub fn portgroup_remove(st: &mut State, o: &Opts) -> Result<Output, String> {
    let name = o.req("portgroup-name")?;
    let vswitch = o.req("vswitch-name")?;
    let i = portgroup_index(st, name)?;
    if st.portgroups.get(i).is_some_and(|p| p.vswitch != vswitch) {
        return Err(format!("Portgroup {name} is not on vswitch {vswitch}"));
    }
    if clients(st, name) > 0 {
        return Err(format!(
            "Cannot remove portgroup {name}: it has active ports"
        ));
    }
    st.portgroups.remove(i);
    Ok(Output::done())
}

pub fn portgroup_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = portgroup_index(st, o.req("portgroup-name")?)?;
    if let Some(vlan) = o.int("vlan-id")? {
        let vlan = u16::try_from(vlan)
            .ok()
            .filter(|v| *v <= 4095)
            .ok_or_else(|| format!("Invalid VLAN ID {vlan}: must be between 0 and 4095"))?;
        if let Some(p) = st.portgroups.get_mut(i) {
            p.vlan = vlan;
        }
    }
    Ok(Output::done())
}

/// A port group's effective teaming: the vSwitch's with the overrides applied.
pub fn effective_teaming(st: &State, p: &PortGroup) -> (Teaming, Vec<String>) {
    let v = st.vswitches.iter().find(|v| v.name == p.vswitch);
    let mut t = v.map(|v| v.teaming.clone()).unwrap_or_default();
    let uplinks = v.map(|v| v.uplinks.clone()).unwrap_or_default();
    let ov = &p.overrides;
    if let Some(l) = &ov.load_balancing {
        t.load_balancing = l.clone();
    }
    if let Some(d) = &ov.failure_detection {
        t.failure_detection = d.clone();
    }
    if let Some(n) = ov.notify_switches {
        t.notify_switches = n;
    }
    if let Some(b) = ov.failback {
        t.failback = b;
    }
    if let Some((a, s)) = &ov.uplinks {
        t.active = a.clone();
        t.standby = s.clone();
    }
    (t, uplinks)
}

pub fn portgroup_failover_get(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = portgroup_index(st, o.req("portgroup-name")?)?;
    let p = st.portgroups.get(i).ok_or("portgroup vanished")?;
    let (t, uplinks) = effective_teaming(st, p);
    let ov = &p.overrides;
    let s = failover(Struct::new("PortgroupFailoverPolicy"), &t, &uplinks)
        .bool("OverrideVswitchLoadBalancing", ov.load_balancing.is_some())
        .bool(
            "OverrideVswitchNetworkFailureDetection",
            ov.failure_detection.is_some(),
        )
        .bool(
            "OverrideVswitchNotifySwitches",
            ov.notify_switches.is_some(),
        )
        .bool("OverrideVswitchFailback", ov.failback.is_some())
        .bool("OverrideVswitchUplinks", ov.uplinks.is_some());
    Ok(Output::records(Value::Struct(s), None))
}

pub fn portgroup_failover_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = portgroup_index(st, o.req("portgroup-name")?)?;
    let p = st.portgroups.get(i).ok_or("portgroup vanished")?;
    let (mut t, uplinks) = effective_teaming(st, p);
    let args = FailoverArgs::parse(o, &uplinks)?;
    let use_vswitch = o.bool("use-vswitch")?.unwrap_or(false);
    let Some(p) = st.portgroups.get_mut(i) else {
        return Err("portgroup vanished".into());
    };
    if use_vswitch {
        p.overrides = TeamingOverride::default();
        return Ok(Output::done());
    }
    if args.active.is_some() || args.standby.is_some() {
        args.order(&mut t.active, &mut t.standby);
        p.overrides.uplinks = Some((t.active, t.standby));
    }
    if let Some(b) = args.failback {
        p.overrides.failback = Some(b);
    }
    if let Some(d) = args.detection {
        p.overrides.failure_detection = Some(d.into());
    }
    if let Some(l) = args.balancing {
        p.overrides.load_balancing = Some(l.into());
    }
    if let Some(n) = args.notify {
        p.overrides.notify_switches = Some(n);
    }
    Ok(Output::done())
}

// --- VMkernel interfaces --------------------------------------------------------------------

fn vmknic_index(st: &State, name: &str) -> Result<usize, String> {
    st.vmknics
        .iter()
        .position(|v| v.name == name)
        .ok_or_else(|| format!("Unable to find vmknic {name}"))
}

pub fn interface_list(st: &mut State, o: &Opts) -> Result<Output, String> {
    let netstack = o.get("netstack");
    let major = st.host.version.major();
    let items = st
        .vmknics
        .iter()
        .filter(|v| netstack.is_none_or(|n| n == v.netstack))
        .map(|v| {
            let portset = st
                .portgroups
                .iter()
                .find(|p| p.name == v.portgroup)
                .map(|p| p.vswitch.clone())
                .unwrap_or_default();
            let mut s = Struct::new("NetworkInterface").str("Name", &v.name);
            s = shown_str(s, "MACAddress", "MAC Address", &v.mac)
                .bool("Enabled", v.enabled)
                .str("Portset", portset)
                .str("Portgroup", &v.portgroup)
                .str("NetstackInstance", &v.netstack);
            s = shown_str(s, "VDSName", "VDS Name", "N/A");
            s = shown_str(s, "VDSUUID", "VDS UUID", "N/A");
            s = shown_str(s, "VDSPort", "VDS Port", "N/A").shown(
                "VDSConnection",
                "VDS Connection",
                Value::Int(-1),
            );
            s = shown_str(s, "OpaqueNetworkID", "Opaque Network ID", "N/A");
            s = shown_str(s, "OpaqueNetworkType", "Opaque Network Type", "N/A");
            s = shown_str(s, "ExternalID", "External ID", "N/A")
                .shown("MTU", "MTU", Value::Int(v.mtu.into()))
                .shown("TSOMSS", "TSO MSS", Value::Int(65535));
            if major >= 7 {
                s = s.shown("RXDispQueueSize", "RXDispQueue Size", Value::Int(2));
            }
            s.shown(
                "PortID",
                "Port ID",
                Value::Int(i64::try_from(v.port_id).unwrap_or(0)),
            )
        })
        .collect();
    Ok(Output::records(structs(items), Some("%Name%")))
}

fn valid_mac(mac: &str) -> bool {
    let parts: Vec<&str> = mac.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

pub fn interface_add(st: &mut State, o: &Opts) -> Result<Output, String> {
    let name = o.req("interface-name")?;
    if name
        .strip_prefix("vmk")
        .is_none_or(|n| n.parse::<u32>().is_err())
    {
        return Err(format!(
            "Invalid interface name {name}: vmk followed by a number"
        ));
    }
    if st.vmknics.iter().any(|v| v.name == name) {
        return Err(format!("Interface name {name} is already in use"));
    }
    if o.has("dvs-name") || o.has("dvport-id") {
        return Err("Distributed switches are not simulated".into());
    }
    let pg = o
        .get("portgroup-name")
        .ok_or("A standard port group (--portgroup-name) is required")?;
    portgroup_index(st, pg)?;
    let mac = match o.get("mac-address") {
        Some(m) if valid_mac(m) => m.to_ascii_lowercase(),
        Some(m) => return Err(format!("Invalid MAC address {m}")),
        None => {
            let n = st.vmknics.len() + st.host.reboots as usize;
            let h = st.host.uuid.replace('-', "");
            let tail = h.get(h.len().saturating_sub(4)..).unwrap_or("0000");
            format!(
                "00:50:56:{}:{}:{:02x}",
                tail.get(0..2).unwrap_or("00"),
                tail.get(2..4).unwrap_or("00"),
                n & 0xff
            )
        }
    };
    let mtu = o.int("mtu")?.unwrap_or(1500);
    let port_id = st
        .vmknics
        .iter()
        .map(|v| v.port_id)
        .max()
        .unwrap_or(33_554_435)
        .saturating_add(1);
    st.vmknics.push(Vmknic {
        name: name.to_string(),
        portgroup: pg.to_string(),
        mac,
        mtu: u32::try_from(mtu).map_err(|_| format!("Invalid MTU {mtu}"))?,
        enabled: true,
        netstack: o.get("netstack").unwrap_or("defaultTcpipStack").to_string(),
        ipv4: Ipv4 {
            address: String::new(),
            netmask: String::new(),
            kind: "NONE".into(),
            gateway: String::new(),
        },
        tags: Vec::new(),
        port_id,
    });
    Ok(Output::done())
}

pub fn interface_remove(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = vmknic_index(st, o.req("interface-name")?)?;
    st.vmknics.remove(i);
    Ok(Output::done())
}

pub fn interface_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = vmknic_index(st, o.req("interface-name")?)?;
    let mtu = o.int("mtu")?;
    let enabled = o.bool("enabled")?;
    if let Some(m) = mtu.filter(|m| !(1280..=9000).contains(m)) {
        return Err(format!("Invalid MTU {m}: must be between 1280 and 9000"));
    }
    if let Some(v) = st.vmknics.get_mut(i) {
        if let Some(m) = mtu.and_then(|m| u32::try_from(m).ok()) {
            v.mtu = m;
        }
        if let Some(e) = enabled {
            v.enabled = e;
        }
    }
    Ok(Output::done())
}

fn broadcast(ip: &str, mask: &str) -> String {
    match (ip.parse::<Ipv4Addr>(), mask.parse::<Ipv4Addr>()) {
        (Ok(ip), Ok(mask)) => Ipv4Addr::from(u32::from(ip) | !u32::from(mask)).to_string(),
        _ => String::new(),
    }
}

pub fn ipv4_get(st: &mut State, o: &Opts) -> Result<Output, String> {
    let wanted = o.get("interface-name");
    if let Some(w) = wanted {
        vmknic_index(st, w)?;
    }
    let items = st
        .vmknics
        .iter()
        .filter(|v| wanted.is_none_or(|w| w == v.name))
        .map(|v| {
            let ip = &v.ipv4;
            let s = Struct::new("IPv4Interface").str("Name", &v.name);
            let s = shown_str(s, "IPv4Address", "IPv4 Address", &ip.address);
            let s = shown_str(s, "IPv4Netmask", "IPv4 Netmask", &ip.netmask);
            let s = shown_str(
                s,
                "IPv4Broadcast",
                "IPv4 Broadcast",
                &broadcast(&ip.address, &ip.netmask),
            );
            let gateway = if ip.gateway.is_empty() {
                "0.0.0.0"
            } else {
                &ip.gateway
            };
            s.str("AddressType", &ip.kind)
                .str("Gateway", gateway)
                .shown("DHCPDNS", "DHCP DNS", Value::Bool(false))
        })
        .collect();
    Ok(Output::table(structs(items)))
}

pub fn ipv4_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = vmknic_index(st, o.req("interface-name")?)?;
    let kind = o.get("type").map(str::to_ascii_lowercase);
    let ip = o.get("ipv4");
    let mask = o.get("netmask");
    let gateway = o.get("gateway");
    for (what, v) in [
        ("IPv4 address", ip),
        ("netmask", mask),
        ("gateway", gateway),
    ] {
        if let Some(v) = v.filter(|v| v.parse::<Ipv4Addr>().is_err()) {
            return Err(format!("Invalid {what}: {v}"));
        }
    }
    let Some(v) = st.vmknics.get_mut(i) else {
        return Err("vmknic vanished".into());
    };
    match kind.as_deref() {
        Some("static") | None => {
            let (Some(ip), Some(mask)) = (
                ip.or(Some(&v.ipv4.address)).filter(|s| !s.is_empty()),
                mask.or(Some(&v.ipv4.netmask)).filter(|s| !s.is_empty()),
            ) else {
                return Err("A static IPv4 configuration needs --ipv4 and --netmask".into());
            };
            v.ipv4 = Ipv4 {
                address: ip.to_string(),
                netmask: mask.to_string(),
                kind: "STATIC".into(),
                gateway: gateway
                    .map(str::to_string)
                    .unwrap_or_else(|| v.ipv4.gateway.clone()),
            };
        }
        Some("dhcp") => {
            v.ipv4 = Ipv4 {
                address: "169.254.0.10".into(),
                netmask: "255.255.0.0".into(),
                kind: "DHCP".into(),
                gateway: String::new(),
            };
        }
        Some("none") => {
            v.ipv4 = Ipv4 {
                kind: "NONE".into(),
                ..Ipv4::default()
            }
        }
        Some(other) => return Err(format!("Invalid type {other}: static, dhcp or none")),
    }
    Ok(Output::done())
}

/// VMkernel service tags a host accepts (case-sensitive, as printed).
fn valid_tag(st: &State, tag: &str) -> bool {
    const TAGS: &[&str] = &[
        "Management",
        "VMotion",
        "faultToleranceLogging",
        "vSphereReplication",
        "vSphereReplicationNFC",
        "VSAN",
        "VSANWitness",
        "vSphereProvisioning",
        "vSphereBackupNFC",
    ];
    TAGS.contains(&tag) || (st.host.version.major() >= 8 && ["NVMeTCP", "NVMeRDMA"].contains(&tag))
}

pub fn tag_get(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = vmknic_index(st, o.req("interface-name")?)?;
    let tags = st
        .vmknics
        .get(i)
        .map(|v| v.tags.clone())
        .unwrap_or_default();
    let s = Struct::new("TagGet").strs("Tags", &tags);
    Ok(Output::records(Value::Struct(s), None))
}

pub fn tag_add(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = vmknic_index(st, o.req("interface-name")?)?;
    let tag = o.req("tagname")?.to_string();
    if !valid_tag(st, &tag) {
        return Err(format!("Invalid tag name: {tag}"));
    }
    if let Some(v) = st.vmknics.get_mut(i).filter(|v| !v.tags.contains(&tag)) {
        v.tags.push(tag);
    }
    Ok(Output::done())
}

pub fn tag_remove(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = vmknic_index(st, o.req("interface-name")?)?;
    let tag = o.req("tagname")?;
    if !valid_tag(st, tag) {
        return Err(format!("Invalid tag name: {tag}"));
    }
    if let Some(v) = st.vmknics.get_mut(i) {
        v.tags.retain(|t| t != tag);
    }
    Ok(Output::done())
}

/// `network nic get -n`: fields in name order (the command has no `fields:` hint), the driver
/// as a nested structure.
pub fn nic_get(st: &mut State, o: &Opts) -> Result<Output, String> {
    let name = o.req("nic-name")?;
    let n = st
        .nics
        .iter()
        .find(|n| n.name == name)
        .ok_or_else(|| format!("Unable to find NIC {name}"))?;
    let duplex = if n.full_duplex { "Full" } else { "Half" };
    let mut s = Struct::new("NICInfo")
        .bool("AdvertisedAutoNegotiation", true)
        .strs(
            "AdvertisedLinkModes",
            &[format!("{}BaseT/{duplex}", n.speed.max(1000))],
        )
        .bool("AutoNegotiation", true);
    if st.host.version.major() >= 8 {
        s = s.shown("BackingDPUId", "Backing DPUId", Value::Str("N/A".into()));
    }
    let driver = Struct::new("DriverInfo")
        .str("BusInfo", &n.pci)
        .str("Driver", &n.driver)
        .str("FirmwareVersion", "8.50 0x8000b6e6 1.3106.0")
        .str("Version", "1.11.1.32");
    let s = s
        .str("CableType", "DA")
        .int("CurrentMessageLevel", 0)
        .field("DriverInfo", Value::Struct(driver))
        .bool("LinkDetected", n.link_up)
        .str("LinkStatus", if n.link_up { "Up" } else { "Down" })
        .str("Name", &n.name)
        .shown("PHYAddress", "PHYAddress", Value::Int(0))
        .bool("PauseAutonegotiate", false)
        .shown("PauseRX", "Pause RX", Value::Bool(true))
        .shown("PauseTX", "Pause TX", Value::Bool(true))
        .strs("SupportedPorts", &["DA".to_string()])
        .bool("SupportsAutoNegotiation", true)
        .bool("SupportsPause", true)
        .bool("SupportsWakeon", false)
        .str("Transceiver", "")
        .str("VirtualAddress", &n.mac)
        .str("Wakeon", "None");
    Ok(Output::records(Value::Struct(s), None))
}

/// `network ip route ipv4 list`: the default route, then one connected route per vmknic.
pub fn route_list(st: &mut State, _: &Opts) -> Result<Output, String> {
    let route = |network: &str, netmask: &str, gateway: &str, vmk: &str| {
        Struct::new("IPv4Route")
            .str("Network", network)
            .str("Netmask", netmask)
            .str("Gateway", gateway)
            .str("Interface", vmk)
            .str("Source", "MANUAL")
    };
    let mut items = Vec::new();
    let default = st
        .vmknics
        .iter()
        .find(|v| v.tags.iter().any(|t| t == "Management") && !v.ipv4.gateway.is_empty());
    if let Some(v) = default {
        items.push(route("default", "0.0.0.0", &v.ipv4.gateway, &v.name));
    }
    for v in st
        .vmknics
        .iter()
        .filter(|v| v.ipv4.kind != "NONE" && !v.ipv4.address.is_empty())
    {
        let (Ok(ip), Ok(mask)) = (
            v.ipv4.address.parse::<Ipv4Addr>(),
            v.ipv4.netmask.parse::<Ipv4Addr>(),
        ) else {
            continue;
        };
        let net = Ipv4Addr::from(u32::from(ip) & u32::from(mask)).to_string();
        items.push(route(&net, &v.ipv4.netmask, "0.0.0.0", &v.name));
    }
    Ok(Output::table(structs(items)))
}

/// `network ip netstack list`.
pub fn netstack_list(st: &mut State, _: &Opts) -> Result<Output, String> {
    let mut stacks = vec!["defaultTcpipStack".to_string()];
    for v in &st.vmknics {
        if !stacks.contains(&v.netstack) {
            stacks.push(v.netstack.clone());
        }
    }
    let items = stacks
        .iter()
        .map(|k| {
            Struct::new("Netstack")
                .str("Key", k)
                .str("Name", k)
                .int("State", 4660)
        })
        .collect();
    Ok(Output::records(structs(items), Some("%Key%")))
}

// --- Firewall -------------------------------------------------------------------------------

fn ruleset_index(st: &State, id: &str) -> Result<usize, String> {
    st.firewall
        .iter()
        .position(|r| r.name == id)
        .ok_or_else(|| format!("Invalid Ruleset Id: {id}"))
}

pub fn ruleset_list(st: &mut State, o: &Opts) -> Result<Output, String> {
    let wanted = o.get("ruleset-id");
    if let Some(w) = wanted {
        ruleset_index(st, w)?;
    }
    let items = st
        .firewall
        .iter()
        .filter(|r: &&Ruleset| wanted.is_none_or(|w| w == r.name))
        .map(|r| {
            Struct::new("Ruleset")
                .str("Name", &r.name)
                .bool("Enabled", r.enabled)
        })
        .collect();
    Ok(Output::table(structs(items)))
}

pub fn ruleset_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    let i = ruleset_index(st, o.req("ruleset-id")?)?;
    let enabled = o.bool("enabled")?;
    let allowed_all = o.bool("allowed-all")?;
    if enabled.is_none() && allowed_all.is_none() {
        return Err("Nothing to set: give --enabled or --allowed-all".into());
    }
    if let Some(r) = st.firewall.get_mut(i) {
        if let Some(e) = enabled {
            r.enabled = e;
        }
        if let Some(a) = allowed_all {
            r.allowed_all = a;
        }
    }
    Ok(Output::done())
}

pub fn firewall_get(_: &mut State, _: &Opts) -> Result<Output, String> {
    let s = Struct::new("Firewall")
        .str("DefaultAction", "DROP")
        .bool("Enabled", true)
        .bool("Loaded", true);
    Ok(Output::records(Value::Struct(s), None))
}

pub fn firewall_refresh(_: &mut State, _: &Opts) -> Result<Output, String> {
    Ok(Output::done())
}

#[cfg(test)]
mod tests {
    use crate::seed::{Seed, generate};
    use crate::store::Store;

    #[test]
    fn a_standalone_host_lists_no_distributed_switch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("state.json"));
        store.write(&generate(&Seed::default()).unwrap()).unwrap();
        let run = |line: &str| {
            let args: Vec<String> = line.split(' ').map(String::from).collect();
            crate::dispatch("esxcli", &args, &store).unwrap()
        };
        let xml = run("--formatter=xml network vswitch dvs vmware list");
        assert_eq!(xml.code, 0, "{}", xml.stderr);
        assert!(xml.stdout.contains("<list type=\"structure\">"));
        assert!(!xml.stdout.contains("<structure"));
        let text = run("network vswitch dvs vmware list");
        assert_eq!((text.code, text.stdout.as_str()), (0, ""));
        let other = run("network vswitch dvs vmware show");
        assert_eq!(other.code, 1);
    }

    #[test]
    fn a_nic_on_a_distributed_port_group_is_no_client_of_a_standard_namesake() {
        use crate::state::{Device, DvPort};
        let mut st = generate(&Seed::default()).unwrap();
        let (pg, vm) = st
            .vms
            .iter()
            .enumerate()
            .filter(|(_, v)| v.powered_on)
            .find_map(|(i, v)| {
                v.devices.iter().find_map(|d| match d {
                    Device::Nic {
                        network,
                        connected: true,
                        ..
                    } => Some((network.clone(), i)),
                    _ => None,
                })
            })
            .unwrap();
        let before = super::clients(&st, &pg);
        assert!(before > 0, "the seed's powered-on VM is a client of {pg:?}");
        for d in &mut st.vms[vm].devices {
            if let Device::Nic { network, dvs, .. } = d {
                if *network == pg {
                    *dvs = Some(DvPort {
                        switch_uuid: "50 1a".into(),
                        portgroup_key: "dvportgroup-1017".into(),
                    });
                }
            }
        }
        assert!(super::clients(&st, &pg) < before);
    }
}
