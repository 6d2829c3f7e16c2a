//! Networking: the management network, DNS, vSwitches, port groups, vmknics, iSCSI binding.

use std::net::Ipv4Addr;

use serde_yaml::{Mapping, Value};

use super::{Decoder, Fields, opt};
use crate::inventory::host::*;
use crate::inventory::net::{
    Hostname, Ipv4Cidr, Label, MacAddr, Mtu, NicRef, Prefix, Vlan, VmkName, Vmnic,
};
use crate::inventory::problem::Path;

pub(super) fn network(
    d: &mut Decoder<'_>,
    v: Option<&Value>,
    path: &Path<'_>,
    name: &str,
) -> Option<Management> {
    let empty = Value::Mapping(Mapping::new());
    let mut f = d.fields(v.unwrap_or(&empty), path)?;
    let device = opt(
        &mut f,
        "device",
        path,
        |d, v, p| {
            d.parsed(v, p, |s| {
                if s.contains([':', '-']) {
                    s.parse::<MacAddr>()
                        .map(NicRef::Mac)
                        .map_err(|()| "is not a MAC address".to_string())
                } else {
                    Vmnic::new(s)
                        .map(NicRef::Name)
                        .map_err(|e| format!("{e} nor a MAC address"))
                }
            })
        },
        d,
    );
    let vlan = opt(&mut f, "vlan", path, |d, v, p| d.vlan(v, p), d);
    let address = GivenAddress::read(d, &mut f, path);
    let gateway = opt(&mut f, "gateway", path, |d, v, p| d.ipv4(v, p), d);
    let dhcp = opt(&mut f, "dhcp", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let hostname = opt(&mut f, "hostname", path, |d, v, p| d.hostname(v, p), d);
    let domain = opt(&mut f, "domain", path, |d, v, p| d.hostname(v, p), d);
    let vm_portgroup =
        opt(&mut f, "vm_portgroup", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    d.finish(f, path);
    if !d.merged() {
        return None;
    }

    let addressing = if dhcp {
        for (key, set) in [
            ("ip", address.ip.is_some()),
            ("prefix", address.prefix.is_some()),
            ("netmask", address.netmask.is_some()),
            ("gateway", gateway.is_some()),
        ] {
            if set {
                d.error(&path.key(key), "is set with dhcp: true (the installer stops on static values with --bootproto=dhcp)");
            }
        }
        Addressing::Dhcp
    } else {
        let cidr = address.cidr(d, path, "the management address")?;
        let Ipv4Cidr { ip, prefix } = cidr;
        let gw_text = gateway.map(|g| g.to_string());
        if let Err(why) = crate::lint::values::ip_settings(
            &ip.to_string(),
            &prefix.netmask().to_string(),
            gw_text.as_deref().unwrap_or(&ip.to_string()),
        ) {
            if !why.starts_with("IP and Gateway") {
                d.error(
                    &path.key("ip"),
                    format!("{ip}/{} is refused by the installer: {why}", prefix.bits()),
                );
            }
        }
        if let Some(gw) = gateway {
            if gw == ip {
                d.error(
                    &path.key("gateway"),
                    format!("{gw} is the host's own address"),
                );
            } else if !prefix.same_network(gw, ip) {
                d.error(
                    &path.key("gateway"),
                    format!("{gw} is not in the management network {}", network_of(cidr)),
                );
            }
        } else {
            d.problems.warning(
                path.key("gateway"),
                "is not set: the installer warns and guesses one",
            );
        }
        Addressing::Static { cidr, gateway }
    };
    let given = hostname.unwrap_or_else(|| match Hostname::new(name) {
        Ok(h) => h,
        // The host key was already checked as a host name; keep going with something valid.
        Err(_) => Hostname::new("localhost").expect("a constant host name"),
    });
    let (short, fqdn) = match given.as_str().split_once('.') {
        Some((short, _)) => {
            if domain.is_some() {
                d.error(
                    &path.key("domain"),
                    "is set, but hostname is already fully qualified",
                );
            }
            (Hostname::new(short).ok()?, given)
        }
        None => {
            let fqdn = match &domain {
                Some(dom) => Hostname::new(&format!("{given}.{dom}"))
                    .map_err(|e| {
                        d.error(
                            &path.key("domain"),
                            format!("makes an invalid FQDN: it {e}"),
                        );
                    })
                    .ok()?,
                None => given.clone(),
            };
            (given, fqdn)
        }
    };
    Some(Management {
        device: device
            .unwrap_or_else(|| NicRef::Name(Vmnic::new("vmnic0").expect("a constant NIC name"))),
        vlan,
        addressing,
        hostname: short,
        fqdn,
        vm_portgroup,
    })
}

fn network_of(cidr: Ipv4Cidr) -> String {
    let net = Ipv4Addr::from(u32::from(cidr.ip) & u32::from(cidr.netmask()));
    format!("{net}/{}", cidr.prefix.bits())
}

pub(super) fn dns(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Dns> {
    let mut f = d.fields(v, path)?;
    let servers = f
        .get("servers")
        .map(|v| d.list(v, &path.key("servers"), |d, x, p| d.ipv4(x, p)))
        .unwrap_or_default();
    let search = f
        .get("search")
        .map(|v| d.list(v, &path.key("search"), |d, x, p| d.hostname(x, p)))
        .unwrap_or_default();
    d.finish(f, path);
    Some(Dns { servers, search })
}

fn uplinks(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Vec<Vmnic> {
    d.list(v, path, |d, x, p| d.vmnic(x, p))
}

pub(super) fn vswitch(
    d: &mut Decoder<'_>,
    f: &mut Fields<'_>,
    path: &Path<'_>,
    name: &str,
) -> Option<VSwitch> {
    let label = d.checked(name, &path.key("name"), Label::new);
    let uplink_list = f
        .get("uplinks")
        .map(|v| uplinks(d, v, &path.key("uplinks")));
    let mtu = opt(f, "mtu", path, |d, v, p| d.mtu(v, p), d).unwrap_or(Mtu::DEFAULT);
    let teaming = match f.get("teaming") {
        Some(v) => teaming(d, v, &path.key("teaming")),
        None => Some(Teaming {
            policy: LoadBalancing::PortId,
            active: Vec::new(),
            standby: Vec::new(),
        }),
    };
    Some(VSwitch {
        name: label?,
        uplinks: uplink_list.unwrap_or_default(),
        mtu,
        teaming: teaming?,
    })
}

fn teaming(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Teaming> {
    let mut f = d.fields(v, path)?;
    let policy = opt(
        &mut f,
        "policy",
        path,
        |d, v, p| {
            d.choice(
                v,
                p,
                &[
                    ("portid", LoadBalancing::PortId),
                    ("iphash", LoadBalancing::IpHash),
                    ("mac", LoadBalancing::Mac),
                    ("explicit", LoadBalancing::Explicit),
                ],
            )
        },
        d,
    )
    .unwrap_or(LoadBalancing::PortId);
    let active = f
        .get("active")
        .map(|v| uplinks(d, v, &path.key("active")))
        .unwrap_or_default();
    let standby = f
        .get("standby")
        .map(|v| uplinks(d, v, &path.key("standby")))
        .unwrap_or_default();
    d.finish(f, path);
    Some(Teaming {
        policy,
        active,
        standby,
    })
}

pub(super) fn portgroup(
    d: &mut Decoder<'_>,
    f: &mut Fields<'_>,
    path: &Path<'_>,
    name: &str,
) -> Option<PortGroup> {
    let label = d.checked(name, &path.key("name"), Label::new);
    let vswitch = opt(f, "vswitch", path, |d, v, p| d.label(v, p), d);
    let vlan = opt(f, "vlan", path, |d, v, p| d.vlan(v, p), d);
    let failover = match f.get("failover") {
        Some(v) => {
            let p = path.key("failover");
            let mut ff = d.fields(v, &p)?;
            let active = ff
                .get("active")
                .map(|v| uplinks(d, v, &p.key("active")))
                .unwrap_or_default();
            let standby = ff
                .get("standby")
                .map(|v| uplinks(d, v, &p.key("standby")))
                .unwrap_or_default();
            d.finish(ff, &p);
            Some(Failover { active, standby })
        }
        None => None,
    };
    Some(PortGroup {
        name: label?,
        vswitch: vswitch.or_else(|| Label::new("vSwitch0").ok())?,
        vlan: vlan.or(Vlan::new(0))?,
        failover,
    })
}

pub(super) fn vmknic(
    d: &mut Decoder<'_>,
    f: &mut Fields<'_>,
    path: &Path<'_>,
    name: &str,
) -> Option<Vmknic> {
    let vmk = d.checked(name, &path.key("name"), VmkName::new);
    let portgroup = opt(f, "portgroup", path, |d, v, p| d.label(v, p), d);
    let given = GivenAddress::read(d, f, path);
    let dhcp = opt(f, "dhcp", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let mtu = opt(f, "mtu", path, |d, v, p| d.mtu(v, p), d);
    let services = f
        .get("services")
        .map(|v| {
            d.list(v, &path.key("services"), |d, x, p| {
                if x.as_str() == Some("iscsi") {
                    d.error(p, "`iscsi` is not a VMkernel service tag: list this vmknic under iscsi.bind to bind it to software iSCSI");
                    return None;
                }
                d.choice(x, p, &VmkService::ALL.map(|s| (s.key(), s)))
            })
        })
        .unwrap_or_default();
    if !d.merged() {
        return None;
    }
    let Some(portgroup) = portgroup else {
        d.error(
            &path.key("portgroup"),
            "is missing: the port group this vmknic sits on",
        );
        return None;
    };
    let address = if dhcp {
        if given.ip.is_some() || given.prefix.is_some() || given.netmask.is_some() {
            d.error(path, "has an address and dhcp: true");
            return None;
        }
        None
    } else {
        Some(given.cidr(d, path, "the vmknic's address")?)
    };
    let mut services = services;
    services.sort();
    services.dedup();
    Some(Vmknic {
        name: vmk?,
        portgroup,
        address,
        mtu,
        services,
    })
}

/// The `ip`, `prefix` and `netmask` keys of an interface, as given.
struct GivenAddress {
    ip: Option<(Ipv4Addr, Option<Prefix>)>,
    prefix: Option<Prefix>,
    netmask: Option<Prefix>,
}

impl GivenAddress {
    fn read(d: &mut Decoder<'_>, f: &mut Fields<'_>, path: &Path<'_>) -> GivenAddress {
        GivenAddress {
            ip: opt(f, "ip", path, |d, v, p| d.ipv4_maybe_prefix(v, p), d),
            prefix: opt(f, "prefix", path, |d, v, p| d.prefix(v, p), d),
            netmask: opt(f, "netmask", path, |d, v, p| d.netmask(v, p), d),
        }
    }

    /// The static address: the ip and the one prefix that its `/prefix`, `prefix` and `netmask`
    /// agree on. `what` names the address when the ip is missing.
    fn cidr(self, d: &mut Decoder<'_>, path: &Path<'_>, what: &str) -> Option<Ipv4Cidr> {
        let Some((ip, ip_prefix)) = self.ip else {
            d.error(
                &path.key("ip"),
                format!("is missing: give {what}, or set dhcp: true"),
            );
            return None;
        };
        let given: Vec<Prefix> = [ip_prefix, self.prefix, self.netmask]
            .into_iter()
            .flatten()
            .collect();
        match given.as_slice() {
            [] => {
                d.error(
                    &path.key("netmask"),
                    "is missing: give netmask or prefix, or write the ip with its /prefix (10.0.0.11/24)",
                );
                None
            }
            [p, rest @ ..] if rest.iter().all(|q| q == p) => Some(Ipv4Cidr { ip, prefix: *p }),
            _ => {
                d.error(path, "the ip's /prefix, prefix and netmask disagree");
                None
            }
        }
    }
}

pub(super) fn iscsi(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Iscsi> {
    let mut f = d.fields(v, path)?;
    let bind = f
        .get("bind")
        .map(|v| d.list(v, &path.key("bind"), |d, x, p| d.vmk(x, p)))
        .unwrap_or_default();
    let targets = f
        .get("targets")
        .map(|v| {
            d.list(v, &path.key("targets"), |d, x, p| {
                d.parsed(x, p, |s| {
                    let (addr, port) = match s.split_once(':') {
                        Some((a, port)) => (a, port.parse::<u16>().ok().filter(|&p| p > 0)),
                        None => (s, Some(3260)),
                    };
                    match (addr.parse::<Ipv4Addr>(), port) {
                        (Ok(address), Some(port)) => Ok(SendTarget { address, port }),
                        _ => Err("is not an IPv4 address with an optional :port".to_string()),
                    }
                })
            })
        })
        .unwrap_or_default();
    d.finish(f, path);
    Some(Iscsi { bind, targets })
}
