//! NICs, standard and distributed switches, port groups, vmknics and software iSCSI.

use super::batch::quote;
use super::query::{Answers, Query};
use crate::facts::{DvSwitch, HostFacts, Iscsi, Nic, PortGroup, Teaming, VSwitch, VmkNic};
use crate::parse::{Structure, Value, name_key};

pub fn fill(facts: &mut HostFacts, answers: &Answers) {
    facts.nics = answers
        .structures("network nic list")
        .iter()
        .map(|n| Nic {
            name: n.text("Name"),
            mac: n.text("MAC Address"),
            driver: n.text("Driver"),
            link_up: n.flag("Link Status").unwrap_or(false),
            speed_mbps: n.unsigned("Speed"),
            full_duplex: n.text("Duplex").eq_ignore_ascii_case("full"),
            mtu: n.unsigned("MTU"),
            description: n.text("Description"),
        })
        .collect();
    facts.vswitches = answers
        .structures("network vswitch standard list")
        .iter()
        .map(|s| VSwitch {
            name: s.text("Name"),
            mtu: s.unsigned("MTU"),
            uplinks: s.strings("Uplinks"),
            portgroups: s.strings("Portgroups"),
            teaming: Teaming::default(),
        })
        .collect();
    facts.portgroups = answers
        .structures("network vswitch standard portgroup list")
        .iter()
        .map(|p| PortGroup {
            name: p.text("Name"),
            vswitch: p.text("Virtual Switch"),
            vlan: p.unsigned("VLAN ID"),
            teaming: None,
        })
        .collect();
    facts.dvswitches = answers
        .structures("network vswitch dvs vmware list")
        .iter()
        .map(|d| DvSwitch {
            name: d.text("Name"),
            uuid: d.text("VDS ID"),
            mtu: d.unsigned("MTU"),
            uplinks: d.strings("Uplinks"),
        })
        .collect();
    let ipv4 = answers.structures("network ip interface ipv4 get");
    facts.vmknics = answers
        .structures("network ip interface list")
        .iter()
        .map(|i| {
            let name = i.text("Name");
            let addr = ipv4.iter().find(|a| a.text("Name") == name);
            let dvs = i.text("VDS UUID");
            VmkNic {
                ip: addr.map(|a| a.text("IPv4 Address")).unwrap_or_default(),
                netmask: addr.map(|a| a.text("IPv4 Netmask")).unwrap_or_default(),
                portgroup: i.text("Portgroup"),
                mac: i.text("MAC Address"),
                mtu: i.unsigned("MTU"),
                enabled: i.flag("Enabled").unwrap_or(false),
                netstack: i.text("Netstack Instance"),
                tags: Vec::new(),
                portset: i.text("Portset"),
                dvs_uuid: (!dvs.is_empty() && dvs != "N/A").then_some(dvs),
                name,
            }
        })
        .collect();
    facts.iscsi = iscsi(answers);
}

fn iscsi(answers: &Answers) -> Option<Iscsi> {
    let enabled = answers
        .esxcli("iscsi software get")
        .ok()
        .and_then(|v| match v {
            Value::Structure(s) => s.fields.first().and_then(|(_, v)| v.as_flag()),
            other => other.as_flag(),
        })
        .unwrap_or(false);
    let adapter = answers
        .structures("iscsi adapter list")
        .iter()
        .find(|a| a.text("Driver") == "iscsi_vmk" || a.text("Description").contains("Software"))
        .map(|a| a.text("Adapter"))
        .unwrap_or_default();
    if !enabled && adapter.is_empty() {
        return None;
    }
    let on_adapter = |s: &&&Structure| {
        let a = s.text("Adapter");
        a == adapter || (a.is_empty() && s.type_name == adapter)
    };
    Some(Iscsi {
        enabled,
        bound_vmknics: answers
            .structures("iscsi networkportal list")
            .iter()
            .filter(on_adapter)
            .map(|p| p.text("Vmknic"))
            .filter(|v| !v.is_empty())
            .collect(),
        send_targets: answers
            .structures("iscsi adapter discovery sendtarget list")
            .iter()
            .filter(on_adapter)
            .map(|t| t.text("Sendtarget"))
            .filter(|v| !v.is_empty())
            .collect(),
        adapter,
    })
}

pub fn object_queries(facts: &HostFacts) -> Vec<(String, Query)> {
    let vswitches = facts.vswitches.iter().map(|v| {
        (
            format!("vswitch-failover:{}", v.name),
            Query::Esxcli(format!(
                "network vswitch standard policy failover get -v {}",
                quote(&v.name)
            )),
        )
    });
    let portgroups = facts.portgroups.iter().map(|p| {
        (
            format!("portgroup-failover:{}", p.name),
            Query::Esxcli(format!(
                "network vswitch standard portgroup policy failover get -p {}",
                quote(&p.name)
            )),
        )
    });
    let tags = facts.vmknics.iter().map(|k| {
        (
            format!("tags:{}", k.name),
            Query::Esxcli(format!(
                "network ip interface tag get -i {}",
                quote(&k.name)
            )),
        )
    });
    vswitches.chain(portgroups).chain(tags).collect()
}

pub fn fill_objects(facts: &mut HostFacts, details: &Answers) {
    for v in &mut facts.vswitches {
        if let Some(policy) = details
            .structures(&format!("vswitch-failover:{}", v.name))
            .first()
        {
            v.teaming = teaming(policy);
        }
    }
    for p in &mut facts.portgroups {
        let Some(policy) = details
            .structures(&format!("portgroup-failover:{}", p.name))
            .first()
            .copied()
        else {
            continue;
        };
        let own = teaming(policy);
        let overrides: Vec<bool> = policy
            .fields
            .iter()
            .filter(|(n, _)| name_key(n).starts_with("overridevswitch"))
            .filter_map(|(_, v)| v.as_flag())
            .collect();
        let overridden = if overrides.is_empty() {
            let parent = facts.vswitches.iter().find(|v| v.name == p.vswitch);
            parent.is_none_or(|v| v.teaming != own)
        } else {
            overrides.iter().any(|o| *o)
        };
        p.teaming = overridden.then_some(own);
    }
    for k in &mut facts.vmknics {
        if let Ok(v) = details.esxcli(&format!("tags:{}", k.name)) {
            k.tags = match v {
                Value::Structure(s) => s.strings("Tags"),
                Value::List(items) if items.iter().any(|i| matches!(i, Value::Structure(_))) => v
                    .structures()
                    .iter()
                    .flat_map(|s| s.strings("Tags"))
                    .collect(),
                other => other.as_strings(),
            };
        }
    }
}

/// The failover policy as the facts spell it: `portid`, `iphash`, `mac`, `explicit` (esxcli
/// prints `srcport` for what `set -l portid` sets; the 4.1 API names map the same way).
pub fn load_balancing_name(printed: &str) -> String {
    match printed.trim() {
        "srcport" | "portid" | "loadbalance_srcid" => "portid",
        "iphash" | "loadbalance_ip" => "iphash",
        "mac" | "srcmac" | "loadbalance_srcmac" => "mac",
        "explicit" | "failover_explicit" => "explicit",
        other => return other.to_string(),
    }
    .to_string()
}

fn teaming(policy: &Structure) -> Teaming {
    Teaming {
        load_balancing: load_balancing_name(&policy.text("Load Balancing")),
        active: policy.strings("Active Adapters"),
        standby: policy.strings("Standby Adapters"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_balancing_names() {
        assert_eq!(load_balancing_name("srcport"), "portid");
        assert_eq!(load_balancing_name("loadbalance_ip"), "iphash");
        assert_eq!(load_balancing_name("explicit"), "explicit");
    }
}
