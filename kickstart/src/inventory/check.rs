//! Checks over resolved hosts: consistency inside one host (uplinks, port groups, vmknics,
//! iSCSI port binding), what the target ESXi version lacks, Secure Boot, and duplicates across
//! the inventory (host names, IP and MAC addresses).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::host::*;
use super::net::{Label, NicRef, Vmnic};
use super::problem::Problems;
use super::rootpw::RootPassword;

/// The port group the installer creates for `vmk0`.
pub const MANAGEMENT_PORTGROUP: &str = "Management Network";
/// The vSwitch the installer creates.
pub const DEFAULT_VSWITCH: &str = "vSwitch0";

/// Everything about one host that `%firstboot` (or `host apply`) must do, by name, for the
/// Secure Boot check and for the kickstart's header.
pub fn firstboot_work(host: &Host) -> Vec<String> {
    let mut work = Vec::new();
    let network_line_dns = on_network_line(host);
    let extra_dns = if network_line_dns {
        host.dns.servers.iter().skip(2).count()
    } else {
        host.dns.servers.len()
    };
    if extra_dns > 0 {
        work.push(format!(
            "{extra_dns} name server(s) not on the network line"
        ));
    }
    if !host.dns.search.is_empty() {
        work.push("DNS search domains".into());
    }
    if matches!(host.network.addressing, Addressing::Dhcp) {
        work.push("the host name (DHCP)".into());
    }
    if !host.ntp.is_empty() {
        work.push("NTP".into());
    }
    for v in &host.vswitches {
        work.push(format!("vSwitch {}", v.name));
    }
    for p in &host.portgroups {
        work.push(format!("port group {}", p.name));
    }
    for k in &host.vmkernel {
        work.push(format!("vmknic {}", k.name));
    }
    if host.iscsi.is_some() {
        work.push("software iSCSI".into());
    }
    if host.syslog.is_some() {
        work.push("syslog".into());
    }
    if host.datastore.is_some() {
        work.push("datastore rename".into());
    }
    if host.ssh {
        work.push("SSH".into());
    }
    if host.shell {
        work.push("ESXi Shell".into());
    }
    for d in &host.drivers {
        work.push(format!("driver {}", d.source));
    }
    if host.scripts.firstboot.is_some() {
        work.push("scripts.firstboot".into());
    }
    work
}

/// Whether name servers go on the `network` line: with static addressing, and not for an
/// upgrade (which writes no `network` line).
pub fn on_network_line(host: &Host) -> bool {
    matches!(host.network.addressing, Addressing::Static { .. })
        && host.install.mode != InstallMode::Upgrade
}

/// Whether the kickstart gets a `%firstboot` section: [`firstboot_work`] is not empty, asked
/// without building its sentences (this runs for every host rendered).
pub fn writes_firstboot(host: &Host) -> bool {
    let static_ip = matches!(host.network.addressing, Addressing::Static { .. });
    let work = host.dns.servers.len() > if on_network_line(host) { 2 } else { 0 }
        || !host.dns.search.is_empty()
        || !static_ip
        || !host.ntp.is_empty()
        || !host.vswitches.is_empty()
        || !host.portgroups.is_empty()
        || !host.vmkernel.is_empty()
        || host.iscsi.is_some()
        || host.syslog.is_some()
        || host.datastore.is_some()
        || host.ssh
        || host.shell
        || !host.drivers.is_empty()
        || host.scripts.firstboot.is_some();
    host.post_install == PostInstall::Firstboot && work
}

/// The uplinks of `vswitch` on `host`; for an undeclared `vSwitch0`, the management NIC.
fn uplinks_of<'h>(host: &'h Host, vswitch: &str) -> Option<Vec<&'h Vmnic>> {
    if let Some(v) = host.vswitches.iter().find(|v| v.name.as_str() == vswitch) {
        return Some(v.uplinks.iter().collect());
    }
    if vswitch == DEFAULT_VSWITCH {
        return Some(match &host.network.device {
            NicRef::Name(n) => vec![n],
            NicRef::Mac(_) => Vec::new(),
        });
    }
    None
}

/// The active and standby uplinks a port group ends up with.
pub fn effective_failover<'h>(
    host: &'h Host,
    pg: &'h PortGroup,
) -> (Vec<&'h Vmnic>, Vec<&'h Vmnic>) {
    if let Some(f) = &pg.failover {
        return (f.active.iter().collect(), f.standby.iter().collect());
    }
    let Some(vs) = host.vswitches.iter().find(|v| v.name == pg.vswitch) else {
        let all = uplinks_of(host, pg.vswitch.as_str()).unwrap_or_default();
        return (all, Vec::new());
    };
    (vs.active_uplinks(), vs.teaming.standby.iter().collect())
}

fn names(list: &[&Vmnic]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Problems inside one host.
pub(crate) fn host(h: &Host, path: &str, p: &mut Problems) {
    version(h, path, p);
    clear_password(h, path, p);
    secure_boot(h, path, p);
    network(h, path, p);
    iscsi(h, path, p);
}

fn version(h: &Host, path: &str, p: &mut Problems) {
    let v = h.esxi;
    let install = format!("{path}.install");
    if h.install.mode != InstallMode::Install && !v.has_upgrade() {
        p.error(
            format!("{install}.mode"),
            format!("ESXi {v} has no scripted upgrade (new in 5.0)"),
        );
    }
    if h.install.forcemigrate && !v.has_forcemigrate() {
        p.error(
            format!("{install}.forcemigrate"),
            format!("ESXi {v} has no --forcemigrate (7.x and later)"),
        );
    }
    if h.install.media.is_some() && v.has_install_command() {
        p.error(
            format!("{install}.media"),
            format!("is for ESXi 4.1 only: ESXi {v} installs from the media it booted"),
        );
    }
    if !v.has_install_command() {
        if matches!(
            h.install.vmfs,
            Some(VmfsPolicy::Preserve | VmfsPolicy::None)
        ) {
            p.error(
                format!("{install}.vmfs"),
                format!("ESXi {v}'s autopart only overwrites a VMFS (preserve and none are 5.0 and later)"),
            );
        }
        if h.install.ignore_ssd {
            p.error(
                format!("{install}.ignore_ssd"),
                format!("ESXi {v} has no --ignoressd"),
            );
        }
    }
    if h.install.target == InstallTarget::Usb && v.major() == 4 {
        p.warning(
            format!("{install}.target"),
            "a scripted install to USB or SD is not supported on ESXi 4.x",
        );
    }
    if h.secure_boot && !v.has_secure_boot() {
        p.error(
            format!("{path}.secure_boot"),
            format!("ESXi {v} has no UEFI Secure Boot (6.5 and later)"),
        );
    }
    if v.major() == 4 {
        if h.network.hostname.as_str().len() > 29 {
            p.warning(
                format!("{path}.network.hostname"),
                "is longer than 29 characters, which breaks HA on ESXi 4.x",
            );
        }
        if let Some(RootPassword::Hash(hash)) = &h.rootpw {
            if !hash.is_md5() {
                p.warning(
                    format!("{path}.rootpw.hash"),
                    "ESXi 4.1 may accept only $1$ (MD5) hashes; if its installer refuses this one, give a $1$ hash",
                );
            }
        }
        for (i, k) in h.vmkernel.iter().enumerate() {
            if k.name.as_str() != format!("vmk{}", i + 1) {
                p.error(
                    format!("{path}.vmkernel[{}]", k.name.as_str()),
                    format!("ESXi 4.1 numbers vmknics in the order it creates them: name them vmk1, vmk2, … in order (this one would be vmk{})", i + 1),
                );
            }
        }
        if let Some(s) = &h.syslog {
            if s.remote.len() > 1 {
                p.error(
                    format!("{path}.syslog.remote"),
                    "ESXi 4.1 sends syslog to one remote host only",
                );
            }
            if s.remote.iter().any(|r| !r.starts_with("udp://")) {
                p.error(
                    format!("{path}.syslog.remote"),
                    "ESXi 4.1 sends syslog over UDP only",
                );
            }
        }
    }
    for k in &h.vmkernel {
        let at = format!("{path}.vmkernel[{}].services", k.name.as_str());
        for s in &k.services {
            let lacks = match s {
                VmkService::Vmotion => None,
                _ if !v.has_vmk_tags() => {
                    Some("tags other than vmotion (esxcli tags arrived in 5.1)")
                }
                VmkService::Vsan if !v.has_vsan() => Some("vSAN (5.5 and later)"),
                VmkService::Provisioning | VmkService::Replication | VmkService::ReplicationNfc
                    if !v.has_provisioning_tags() =>
                {
                    Some("this tag (6.0 and later)")
                }
                _ => None,
            };
            if let Some(what) = lacks {
                p.error(&at, format!("`{}`: ESXi {v} has no {what}", s.key()));
            }
        }
    }
    for (i, d) in h.drivers.iter().enumerate() {
        let at = format!("{path}.drivers[{}]", i);
        if d.kind == DriverKind::Component && !v.has_components() {
            p.error(
                &at,
                format!("ESXi {v} has no components (7.0 and later): give a bundle or a VIB"),
            );
        }
        if !v.has_esxcli() && d.kind != DriverKind::Bundle {
            p.error(&at, "ESXi 4.1 installs drivers from offline bundles (esxupdate --bundle): give a .zip bundle");
        }
    }
    if !v.has_esxcli_ntp() {
        for (key, body) in [
            ("pre", &h.scripts.pre),
            ("post", &h.scripts.post),
            ("firstboot", &h.scripts.firstboot),
        ] {
            if body
                .as_deref()
                .is_some_and(|b| b.contains("esxcli system ntp"))
            {
                p.error(
                    format!("{path}.scripts.{}", key),
                    format!("uses `esxcli system ntp`, which ESXi {v} lacks (7.0U1 and later); use the ntp: list instead"),
                );
            }
        }
    }
}

/// A clear password written as such must pass the installer's strength check, or the install
/// stops; the lint module holds that check. The message never includes the password.
fn clear_password(h: &Host, path: &str, p: &mut Problems) {
    let Some(RootPassword::Clear {
        secret,
        clear_text_ok: true,
        ..
    }) = &h.rootpw
    else {
        return;
    };
    if let Err(why) = crate::lint::values::clear_password(secret.expose(), h.esxi) {
        p.error(
            format!("{path}.rootpw"),
            format!("the installer refuses this clear password: {why}"),
        );
    }
}

fn secure_boot(h: &Host, path: &str, p: &mut Problems) {
    if h.post_install == PostInstall::HostApply {
        if !h.drivers.is_empty() {
            p.error(
                format!("{path}.drivers"),
                "are installed in %firstboot, which this host does not get (post_install: host_apply): add them to the installer ISO (`esxforge iso build --add-bundle`)",
            );
        }
        if h.scripts.firstboot.is_some() {
            p.error(
                format!("{path}.scripts.firstboot"),
                "is not run: this host gets no %firstboot (post_install: host_apply)",
            );
        }
        return;
    }
    if !h.secure_boot {
        return;
    }
    let work = firstboot_work(h);
    if !work.is_empty() {
        p.error(
            format!("{path}.secure_boot"),
            format!(
                "UEFI Secure Boot skips %firstboot, which this host needs for: {}. Set post_install: host_apply to leave the configuration to `esxforge host apply` after the install (drivers then go into the installer ISO), or turn Secure Boot off",
                work.join(", ")
            ),
        );
    }
}

fn network(h: &Host, path: &str, p: &mut Problems) {
    let mut owner: HashMap<&Vmnic, &Label> = HashMap::new();
    for vs in &h.vswitches {
        let at = format!("{path}.vswitches[{}]", vs.name.as_str());
        for u in &vs.uplinks {
            if let Some(other) = owner.insert(u, &vs.name) {
                let msg = if *other == vs.name {
                    format!("{u} is listed twice")
                } else {
                    format!("{u} is already an uplink of {other}")
                };
                p.error(format!("{at}.uplinks"), msg);
            }
        }
        let t = &vs.teaming;
        for u in t.active.iter().chain(&t.standby) {
            if !vs.uplinks.contains(u) {
                p.error(
                    format!("{at}.teaming"),
                    format!("{u} is not an uplink of {}", vs.name),
                );
            }
        }
        if let Some(u) = t.active.iter().find(|u| t.standby.contains(u)) {
            p.error(
                format!("{at}.teaming"),
                format!("{u} is both active and standby"),
            );
        }
        if t.policy == LoadBalancing::IpHash && !t.standby.is_empty() {
            p.error(format!("{at}.teaming"), "iphash load balancing takes no standby uplinks (every uplink of the EtherChannel is active)");
        }
        if vs.name.as_str() == DEFAULT_VSWITCH {
            if let NicRef::Name(dev) = &h.network.device {
                if !vs.uplinks.contains(dev) {
                    p.error(
                        format!("{at}.uplinks"),
                        format!("does not hold {dev}, the management NIC the installer puts on {DEFAULT_VSWITCH}"),
                    );
                }
            }
        }
    }
    if let NicRef::Name(dev) = &h.network.device {
        if let Some(other) = owner.get(dev).filter(|o| o.as_str() != DEFAULT_VSWITCH) {
            p.error(
                format!("{path}.network.device"),
                format!("{dev} is the management NIC on {DEFAULT_VSWITCH}, but also an uplink of {other}"),
            );
        }
    }

    for pg in &h.portgroups {
        let at = format!("{path}.portgroups[{}]", pg.name.as_str());
        let Some(uplinks) = uplinks_of(h, pg.vswitch.as_str()) else {
            p.error(
                format!("{at}.vswitch"),
                format!("{} is not a vSwitch of this host", pg.vswitch),
            );
            continue;
        };
        if pg.name.as_str() == MANAGEMENT_PORTGROUP {
            let mgmt_vlan = h.network.vlan.map_or(0, |v| v.id());
            if pg.vswitch.as_str() != DEFAULT_VSWITCH || pg.vlan.id() != mgmt_vlan {
                p.error(&at, format!("the installer creates {MANAGEMENT_PORTGROUP} on {DEFAULT_VSWITCH} with network.vlan; only its failover can be set here"));
            }
        }
        if pg.name.as_str() == "VM Network" && h.network.vm_portgroup {
            p.error(
                &at,
                "is created by the installer already (network.vm_portgroup: true)",
            );
        }
        if let Some(f) = &pg.failover {
            for u in f.active.iter().chain(&f.standby) {
                if !uplinks.contains(&u) {
                    p.error(
                        format!("{at}.failover"),
                        format!("{u} is not an uplink of {}", pg.vswitch),
                    );
                }
            }
            if let Some(u) = f.active.iter().find(|u| f.standby.contains(u)) {
                p.error(
                    format!("{at}.failover"),
                    format!("{u} is both active and standby"),
                );
            }
            if f.active.is_empty() {
                p.error(format!("{at}.failover"), "has no active uplink");
            }
        }
    }

    let mut ips: HashMap<Ipv4Addr, String> = HashMap::new();
    if let Some(ip) = h.network.ip() {
        ips.insert(ip, "the management address".into());
    }
    for k in &h.vmkernel {
        let at = format!("{path}.vmkernel[{}]", k.name.as_str());
        if k.name.as_str() == "vmk0" {
            p.error(
                format!("{at}.name"),
                "vmk0 is the management interface the installer creates from `network:`",
            );
            continue;
        }
        if k.portgroup.as_str() == MANAGEMENT_PORTGROUP {
            p.error(
                format!("{at}.portgroup"),
                format!("{MANAGEMENT_PORTGROUP} belongs to vmk0"),
            );
            continue;
        }
        let Some(pg) = h.portgroups.iter().find(|pg| pg.name == k.portgroup) else {
            p.error(
                format!("{at}.portgroup"),
                format!("{} is not a port group of this host", k.portgroup),
            );
            continue;
        };
        if let (Some(mtu), Some(vs)) = (k.mtu, h.vswitches.iter().find(|v| v.name == pg.vswitch)) {
            if mtu > vs.mtu {
                p.error(
                    format!("{at}.mtu"),
                    format!("{mtu} is larger than the MTU of {} ({})", vs.name, vs.mtu),
                );
            }
        }
        if let Some(cidr) = k.address {
            if let Some(other) = ips.insert(cidr.ip, format!("vmknic {}", k.name)) {
                p.error(
                    format!("{at}.ip"),
                    format!("{} is also {other} of this host", cidr.ip),
                );
            }
        }
    }
    if h.vmkernel.len() > 1 {
        for (i, a) in h.vmkernel.iter().enumerate() {
            if h.vmkernel
                .iter()
                .skip(i + 1)
                .any(|b| b.portgroup == a.portgroup)
            {
                p.warning(
                    format!("{path}.vmkernel[{}].portgroup", a.name.as_str()),
                    format!("{} carries more than one vmknic", a.portgroup),
                );
            }
        }
    }
    if matches!(h.network.addressing, Addressing::Static { .. }) && h.dns.servers.is_empty() {
        p.warning(
            format!("{path}.dns.servers"),
            "is empty: the installer warns about static networking without a name server",
        );
    }
}

fn iscsi(h: &Host, path: &str, p: &mut Problems) {
    let Some(iscsi) = &h.iscsi else { return };
    let at = format!("{path}.iscsi");
    for (i, vmk) in iscsi.bind.iter().enumerate() {
        let here = format!("{at}.bind[{}]", i);
        if iscsi.bind.iter().take(i).any(|b| b == vmk) {
            p.error(&here, format!("{vmk} is bound twice"));
            continue;
        }
        let Some(k) = h.vmkernel.iter().find(|k| k.name == *vmk) else {
            p.error(&here, format!("{vmk} is not a vmknic of this host"));
            continue;
        };
        let Some(pg) = h.portgroups.iter().find(|pg| pg.name == k.portgroup) else {
            continue; // reported under vmkernel
        };
        let (active, standby) = effective_failover(h, pg);
        if active.len() != 1 || !standby.is_empty() {
            p.error(
                here,
                format!(
                    "{vmk} is on port group {}, which has {} active uplink(s) ({}) and {} standby ({}): port binding needs exactly one active uplink and no standby (set failover: {{active: [vmnicN]}} on the port group)",
                    pg.name,
                    active.len(),
                    names(&active),
                    standby.len(),
                    names(&standby),
                ),
            );
        }
    }
    if iscsi.targets.is_empty() {
        p.warning(
            format!("{at}.targets"),
            "is empty: the adapter is enabled but discovers no storage",
        );
    }
}

/// Duplicates across the inventory: FQDNs, IP addresses, management MACs; and local datastore
/// names, which must differ for vCenter to tell them apart.
pub(crate) fn across(hosts: &[&Host], p: &mut Problems) {
    let hosts_path = "hosts";
    let mut fqdns: HashMap<String, &str> = HashMap::new();
    let mut ips: HashMap<Ipv4Addr, (&str, Option<&str>)> = HashMap::new();
    let mut macs: HashMap<String, &str> = HashMap::new();
    let mut datastores: HashMap<&str, &str> = HashMap::new();
    for h in hosts {
        let hp = format!("{hosts_path}.{}", &h.name);
        let fqdn = h.network.fqdn.as_str().to_ascii_lowercase();
        if let Some(other) = fqdns.insert(fqdn, &h.name) {
            p.error(
                format!("{hp}.network.hostname"),
                format!("{} is also the name of host {other}", h.network.fqdn),
            );
        }
        if let NicRef::Mac(mac) = &h.network.device {
            if let Some(other) = macs.insert(mac.to_string(), &h.name) {
                p.error(
                    format!("{hp}.network.device"),
                    format!("{mac} is also the management NIC of host {other}"),
                );
            }
        }
        // Each address with where it is, as text only when it is reported.
        let mut addresses: Vec<(Ipv4Addr, Option<&str>)> = Vec::new();
        if let Some(ip) = h.network.ip() {
            addresses.push((ip, None));
        }
        for k in &h.vmkernel {
            if let Some(c) = k.address {
                addresses.push((c.ip, Some(k.name.as_str())));
            }
        }
        let place = |host: &str, vmk: Option<&str>| match vmk {
            None => format!("hosts.{host}.network.ip"),
            Some(k) => format!("hosts.{host}.vmkernel[{k}].ip"),
        };
        for (ip, vmk) in addresses {
            match ips.get(&ip) {
                Some((other, other_vmk)) if *other != h.name => {
                    p.error(
                        place(&h.name, vmk),
                        format!("{ip} is also used by {}", place(other, *other_vmk)),
                    );
                }
                Some(_) => {}
                None => {
                    ips.insert(ip, (&h.name, vmk));
                }
            }
        }
        if let Some(ds) = &h.datastore {
            if let Some(other) = datastores.insert(ds.to.as_str(), &h.name) {
                p.warning(
                    format!("{hp}.datastore.name"),
                    format!("{} is also the datastore name of host {other}", ds.to),
                );
            }
        }
    }
}
