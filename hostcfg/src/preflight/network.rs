//! Networks: each host's VMkernel interfaces by service (vMotion, management, FT logging) with
//! the physical uplinks under them; the vMotion host requirements; the VM network checks; and
//! the redundancy HA wants for management and FT logging.

use std::net::Ipv4Addr;

use super::finding::{Code, Finding, Severity};
use super::view::{ClusterView, HostId, HostView, VmId};
use crate::facts::{Device, Nic, Teaming, VmkNic};

/// vMotion is supported on links of at least this speed, full duplex.
pub const VMOTION_MIN_MBPS: u32 = 1000;

/// The TCP/IP stack ESXi 6.0+ dedicates to vMotion: a vmk on it carries vMotion without the
/// `VMotion` tag, and may route (it has its own default gateway).
pub const VMOTION_NETSTACK: &str = "vmotion";

/// A VMkernel service, as the host tags vmks with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Vmotion,
    Management,
    FtLogging,
}

impl Service {
    fn tag(self) -> &'static str {
        match self {
            Service::Vmotion => "VMotion",
            Service::Management => "Management",
            Service::FtLogging => "faultToleranceLogging",
        }
    }

    fn carries(self, vmk: &VmkNic) -> bool {
        vmk.tags.iter().any(|t| t.eq_ignore_ascii_case(self.tag()))
            || (self == Service::Vmotion && vmk.netstack.eq_ignore_ascii_case(VMOTION_NETSTACK))
    }
}

/// An enabled vmk carrying a service, with what is under it.
#[derive(Debug, Clone)]
pub struct NetIf<'a> {
    pub vmk: &'a VmkNic,
    /// The standard vSwitch or distributed switch it sits on; empty when unknown.
    pub switch: &'a str,
    /// The physical uplinks it can use (active, then standby), as configured.
    pub uplinks: Vec<&'a str>,
    /// The fastest of those uplinks with link up.
    pub best: Option<&'a Nic>,
}

impl NetIf<'_> {
    pub fn has_ip(&self) -> bool {
        !self.vmk.ip.trim().is_empty()
    }

    /// The link speed usable, 0 when down.
    pub fn speed_mbps(&self) -> u32 {
        self.best.map_or(0, |n| n.speed_mbps)
    }
}

fn teaming_order(t: &Teaming) -> Vec<&str> {
    t.active
        .iter()
        .chain(&t.standby)
        .map(String::as_str)
        .collect()
}

/// The enabled vmks of `host` carrying `service`.
pub fn interfaces<'a>(host: &HostView<'a>, service: Service) -> Vec<NetIf<'a>> {
    host.facts
        .vmknics
        .iter()
        .filter(|vmk| vmk.enabled && service.carries(vmk))
        .map(|vmk| {
            let (switch, uplinks) = uplinks_of(host, vmk);
            let best = uplinks
                .iter()
                .filter_map(|u| host.nic(u))
                .filter(|n| n.link_up)
                .max_by_key(|n| (n.speed_mbps, n.full_duplex));
            NetIf {
                vmk,
                switch,
                uplinks,
                best,
            }
        })
        .collect()
}

fn uplinks_of<'a>(host: &HostView<'a>, vmk: &'a VmkNic) -> (&'a str, Vec<&'a str>) {
    if let Some(dvs) = vmk
        .dvs_uuid
        .as_deref()
        .and_then(|u| host.dvswitch(u))
        .or_else(|| host.dvswitch_by_name(&vmk.portset))
    {
        return (&dvs.name, dvs.uplinks.iter().map(String::as_str).collect());
    }
    let pg = host.portgroup(&vmk.portgroup);
    let switch = if vmk.portset.is_empty() {
        pg.map_or("", |p| p.vswitch.as_str())
    } else {
        vmk.portset.as_str()
    };
    let Some(vs) = host.vswitch(switch) else {
        return (switch, Vec::new());
    };
    let order = pg
        .and_then(|p| p.teaming.as_ref())
        .map(teaming_order)
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| teaming_order(&vs.teaming));
    let uplinks = if order.is_empty() {
        vs.uplinks.iter().map(String::as_str).collect()
    } else {
        order
            .into_iter()
            .filter(|u| vs.uplinks.iter().any(|v| v == u))
            .collect()
    };
    (&vs.name, uplinks)
}

/// The vMotion requirements one host must meet on its own: a vMotion vmk with an IP address,
/// link up, ≥ 1 Gb/s full duplex. Findings name the host.
pub fn vmotion_readiness(host: &HostView<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let with_ip: Vec<&NetIf> = host.vmotion.iter().filter(|i| i.has_ip()).collect();
    if with_ip.is_empty() {
        let msg = match host.vmotion.first() {
            Some(i) => format!(
                "{}: {} has the vMotion service but no IP address",
                host.name, i.vmk.name
            ),
            None => format!(
                "{}: no enabled VMkernel NIC has the vMotion service",
                host.name
            ),
        };
        out.push(
            Finding::error(
                Code::VMotionNotConfigured,
                msg,
                "add a VMkernel NIC with an IP address and netmask on the vMotion network and tag it \
                 (esxcli network ip interface tag add -i vmkN -t VMotion)",
            )
            .host(host.name),
        );
        return out;
    }
    for i in with_ip {
        match i.best {
            None => out.push(
                Finding::error(
                    Code::VMotionLinkDown,
                    format!(
                        "{}: {} has no physical uplink with link up (uplinks: {})",
                        host.name,
                        i.vmk.name,
                        list_or_none(&i.uplinks)
                    ),
                    "connect an uplink to the vMotion vmk's switch and check its cable and switch port",
                )
                .host(host.name)
                .device(&i.vmk.name),
            ),
            Some(nic) if nic.speed_mbps < VMOTION_MIN_MBPS || !nic.full_duplex => out.push(
                Finding::warning(
                    Code::VMotionLinkCapacityLow,
                    format!(
                        "{}: {} runs over {} at {} Mb/s {} duplex; vMotion is supported from 1000 Mb/s full \
                         duplex (100 Mb/s full duplex sometimes works, slowly)",
                        host.name,
                        i.vmk.name,
                        nic.name,
                        nic.speed_mbps,
                        if nic.full_duplex { "full" } else { "half" }
                    ),
                    "put the vMotion vmk on a 1 Gb/s (or faster) full-duplex uplink",
                )
                .host(host.name)
                .device(&i.vmk.name),
            ),
            Some(_) => {}
        }
    }
    out
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// Between two hosts: the vMotion port group names must match, and the vmks should share a
/// subnet (vMotion across routers is unsupported). Findings name the destination.
pub fn vmotion_pair(src: &HostView<'_>, dst: &HostView<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let (Some(a), Some(b)) = (
        src.vmotion.iter().find(|i| i.has_ip()),
        dst.vmotion.iter().find(|i| i.has_ip()),
    ) else {
        return out;
    };
    if a.vmk.portgroup != b.vmk.portgroup {
        out.push(
            Finding::warning(
                Code::MismatchedVMotionNetworkNames,
                format!(
                    "the vMotion interfaces are on port group {:?} on {} and {:?} on {}",
                    a.vmk.portgroup, src.name, b.vmk.portgroup, dst.name
                ),
                "give the vMotion port group the same name on every host",
            )
            .host(dst.name)
            .device(&b.vmk.name),
        );
    }
    // Routed vMotion is supported on the `vmotion` TCP/IP stack (ESXi 6.0+), which has its own
    // gateway: different subnets there are a design, not a mistake.
    let routed = [a.vmk, b.vmk]
        .iter()
        .all(|v| v.netstack.eq_ignore_ascii_case(VMOTION_NETSTACK));
    if let (false, Some(na), Some(nb)) = (routed, subnet(a.vmk), subnet(b.vmk)) {
        if na != nb {
            out.push(
                Finding::warning(
                    Code::VMotionSubnetMismatch,
                    format!(
                        "{} {} ({}/{}) and {} {} ({}/{}) are in different subnets: vMotion across routers \
                         is unsupported outside the vmotion TCP/IP stack (ESXi 6.0+)",
                        src.name, a.vmk.name, a.vmk.ip, a.vmk.netmask, dst.name, b.vmk.name, b.vmk.ip, b.vmk.netmask
                    ),
                    "put the vMotion vmks of all hosts in one layer-2 network and subnet, or move them to the vmotion \
                     TCP/IP stack with a gateway",
                )
                .host(dst.name)
                .device(&b.vmk.name),
            );
        }
    }
    out
}

fn subnet(vmk: &VmkNic) -> Option<(u32, u32)> {
    let ip: Ipv4Addr = vmk.ip.trim().parse().ok()?;
    let mask: Ipv4Addr = vmk.netmask.trim().parse().ok()?;
    let (ip, mask) = (u32::from(ip), u32::from(mask));
    Some((ip & mask, mask))
}

/// The rate vMotion can send at from `src` to `dst`, in Mb/s: the measured throughput when
/// the cluster section gives one, else the slower end's vMotion link speed, summed over its
/// vMotion vmks on ESXi 5.0+ (multi-NIC vMotion).
pub fn vmotion_rate_mbps(view: &ClusterView<'_>, src: HostId, dst: HostId) -> u32 {
    if let Some(t) = view.spec.vmotion_throughput_mbps {
        return t;
    }
    let end = |h: &HostView<'_>| -> u32 {
        let speeds = h
            .vmotion
            .iter()
            .filter(|i| i.has_ip())
            .map(NetIf::speed_mbps);
        if h.version.is_some_and(|v| !v.at_least(5, 0)) {
            speeds.max().unwrap_or(0)
        } else {
            speeds.fold(0u32, u32::saturating_add)
        }
    };
    end(view.host(src)).min(end(view.host(dst)))
}

/// Source-side network findings of one VM: NICs on an internal-only vSwitch.
pub fn vm_intranet(view: &ClusterView<'_>, vm: VmId) -> Vec<Finding> {
    let v = view.vm(vm);
    let src = view.host(v.host);
    let mut out = Vec::new();
    for dev in &v.facts.devices {
        let Device::Nic {
            label,
            network,
            connected,
            dvs_uuid: None,
            ..
        } = dev
        else {
            continue;
        };
        let Some(vs) = src
            .portgroup(network)
            .and_then(|pg| src.vswitch(&pg.vswitch))
        else {
            continue;
        };
        if !vs.uplinks.is_empty() {
            continue;
        }
        let active = *connected && v.powered_on();
        let msg = format!(
            "{label} is {} port group {network:?} on {}, an internal-only vSwitch (no uplinks) that exists \
             only on {}",
            if active {
                "connected to"
            } else {
                "configured for (not connected)"
            },
            vs.name,
            src.name
        );
        let remedy =
            "move the NIC to a port group with uplinks that exists on every host, or disconnect it";
        let f = Finding::new(
            Severity::error_if(active),
            Code::VMOnVirtualIntranet,
            msg,
            remedy,
        );
        out.push(f.host(src.name).vm(v.name).device(label));
    }
    out
}

/// Destination-side network findings of one VM: every NIC's port group label (case-sensitive)
/// or distributed switch must exist on `dst`.
pub fn vm_networks(view: &ClusterView<'_>, vm: VmId, dst: HostId) -> Vec<Finding> {
    let v = view.vm(vm);
    let d = view.host(dst);
    let mut out = Vec::new();
    for dev in &v.facts.devices {
        let Device::Nic {
            label,
            network,
            connected,
            dvs_uuid,
            ..
        } = dev
        else {
            continue;
        };
        let active = *connected && v.powered_on();
        if let Some(uuid) = dvs_uuid {
            if d.dvswitch(uuid).is_none() {
                out.push(
                    Finding::error(
                        Code::CannotAccessNetwork,
                        format!(
                            "{label} is on distributed port group {network:?} of vDS {uuid}, which {} has not joined",
                            d.name
                        ),
                        format!("add {} to the distributed switch", d.name),
                    )
                    .host(d.name)
                    .vm(v.name)
                    .device(label),
                );
            }
            continue;
        }
        // No port group name and no distributed switch: a backing the host does not name (an
        // NSX opaque network, or a NIC with no network at all). Nothing to compare, and vCenter
        // does not refuse it for that: no finding rather than a guess.
        if network.trim().is_empty() || d.portgroup(network).is_some() {
            continue;
        }
        let hint = match d.portgroup_other_case(network) {
            Some(other) => format!(
                " ({} has {other:?}: port group labels are case-sensitive)",
                d.name
            ),
            None => String::new(),
        };
        let msg = format!(
            "{label} {} port group {network:?}, which {} does not have{hint}",
            if active {
                "is connected to"
            } else {
                "is configured for"
            },
            d.name
        );
        let remedy = format!(
            "create port group {network:?} (exact same label) on {} with the same VLAN",
            d.name
        );
        let f = Finding::new(
            Severity::error_if(active),
            Code::CannotAccessNetwork,
            msg,
            remedy,
        );
        out.push(f.host(d.name).vm(v.name).device(label));
    }
    out
}

/// The physical NICs under a set of interfaces, each counted once.
fn distinct_uplinks<'a>(ifs: &[NetIf<'a>]) -> Vec<&'a str> {
    let mut all: Vec<&str> = ifs.iter().flat_map(|i| i.uplinks.iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// HA's isolation protection: management on two uplinks or two vmks on different uplinks;
/// for FT VMs, the FT logging network too (they ignore the isolation response). `ft_vms`
/// lists the FT-protected VMs running on this host.
pub fn redundancy(host: &HostView<'_>, cluster_has_ft: bool, ft_vms: &[&str]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mgmt = distinct_uplinks(&host.management);
    if mgmt.len() < 2 {
        let what = match host.management.len() {
            0 => "no VMkernel NIC has the Management service".to_string(),
            n => format!(
                "{n} management vmk{} ({}) over {} uplink{} ({})",
                if n == 1 { "" } else { "s" },
                host.management
                    .iter()
                    .map(|i| i.vmk.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                mgmt.len(),
                if mgmt.len() == 1 { "" } else { "s" },
                list_or_none(&mgmt)
            ),
        };
        let ft = if cluster_has_ft {
            " FT-protected VMs ignore the isolation response and keep running on an isolated host, so the \
             cluster's FT VMs depend on it too."
        } else {
            ""
        };
        out.push(
            Finding::warning(
                Code::HostNoRedundantManagementNetworkEvent,
                format!(
                    "{}: {what}: losing it isolates the host (HA split brain).{ft}",
                    host.name
                ),
                "team a second uplink (active/standby) on the management vSwitch, or add a second management \
                 vmk on another switch and uplink",
            )
            .host(host.name),
        );
    }
    if !ft_vms.is_empty() {
        let ft = distinct_uplinks(&host.ft_logging);
        if host.ft_logging.is_empty() {
            out.push(
                Finding::error(
                    Code::MissingFTLoggingNic,
                    format!(
                        "{} runs FT-protected VMs ({}) but no VMkernel NIC has the FT logging service",
                        host.name,
                        ft_vms.join(", ")
                    ),
                    "add a vmk tagged faultToleranceLogging on a dedicated network (10 Gb/s recommended)",
                )
                .host(host.name),
            );
        } else if ft.len() < 2 {
            out.push(
                Finding::warning(
                    Code::HostNoRedundantFtLoggingNetwork,
                    format!(
                        "{}: the FT logging network has {} uplink{} ({}); FT VMs ({}) ignore the isolation \
                         response, so a single failure there splits primary and secondary",
                        host.name,
                        ft.len(),
                        if ft.len() == 1 { "" } else { "s" },
                        list_or_none(&ft),
                        ft_vms.join(", ")
                    ),
                    "team a second uplink under the FT logging vmk",
                )
                .host(host.name),
            );
        }
    }
    out
}
