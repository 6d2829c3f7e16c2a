//! Merging layers: defaults < groups (in file order) < host.
//!
//! Mappings merge key by key, at any depth; lists and scalars replace what they override; an
//! explicit `null` removes an inherited value. Two exceptions: the named lists (`vswitches`,
//! `portgroups`, `vmkernel`) merge item by item on `name`, so a group can define a vmknic and
//! each host add only its address; and `rootpw` is replaced whole, so a host giving `env:`
//! does not also inherit the group's `hash:`.

use serde_yaml::{Mapping, Sequence, Value};

use super::decode::NAMED_LISTS;

/// Merge the layer `over` onto `base`. `skip` names keys of `over` that are not host values
/// (a group's `hosts:` list).
pub(crate) fn layer(base: &mut Mapping, over: &Mapping, skip: &[&str]) {
    for (k, v) in over {
        let key = k.as_str().unwrap_or_default();
        if skip.contains(&key) {
            continue;
        }
        if NAMED_LISTS.contains(&key) {
            if let (Some(Value::Sequence(b)), Value::Sequence(o)) = (base.get_mut(k), v) {
                named(b, o);
                continue;
            }
        }
        if key == "rootpw" {
            set(base, k, v);
        } else {
            deep(base, k, v);
        }
    }
}

fn set(base: &mut Mapping, k: &Value, v: &Value) {
    if v.is_null() {
        base.remove(k);
    } else {
        base.insert(k.clone(), v.clone());
    }
}

fn deep(base: &mut Mapping, k: &Value, v: &Value) {
    match (base.get_mut(k), v) {
        (Some(Value::Mapping(b)), Value::Mapping(o)) => {
            for (k2, v2) in o {
                deep(b, k2, v2);
            }
        }
        _ => set(base, k, v),
    }
}

fn named(base: &mut Sequence, over: &Sequence) {
    for item in over {
        let name = item.get("name").and_then(Value::as_str);
        let existing = name.and_then(|n| {
            base.iter_mut()
                .find(|b| b.get("name").and_then(Value::as_str) == Some(n))
        });
        match (existing, item) {
            (Some(Value::Mapping(b)), Value::Mapping(o)) => {
                for (k, v) in o {
                    deep(b, k, v);
                }
            }
            _ => base.push(item.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Mapping {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn maps_merge_lists_replace_null_removes() {
        let mut base = yaml("network: {vlan: 10, gateway: 10.0.0.1}\nntp: [a, b]\nssh: true");
        layer(
            &mut base,
            &yaml("network: {ip: 10.0.0.5}\nntp: [c]\nssh: null"),
            &[],
        );
        assert_eq!(
            base,
            yaml("network: {vlan: 10, gateway: 10.0.0.1, ip: 10.0.0.5}\nntp: [c]")
        );
    }

    #[test]
    fn named_lists_merge_by_name_and_rootpw_is_replaced() {
        let mut base =
            yaml("vmkernel: [{name: vmk1, portgroup: vMotion}]\nrootpw: {hash: x}\nhosts: [a]");
        let over = yaml(
            "vmkernel: [{name: vmk1, ip: 10.0.20.5}, {name: vmk2, portgroup: iSCSI}]\nrootpw: {env: PW}\nhosts: [b]",
        );
        layer(&mut base, &over, &["hosts"]);
        assert_eq!(
            base,
            yaml(
                "vmkernel: [{name: vmk1, portgroup: vMotion, ip: 10.0.20.5}, {name: vmk2, portgroup: iSCSI}]\nrootpw: {env: PW}\nhosts: [a]"
            )
        );
    }
}
