//! Merging layers: defaults < groups (in file order) < host.
//!
//! Mappings merge key by key, at any depth; lists and scalars replace what they override; an
//! explicit `null` removes an inherited value. Two exceptions: the named lists (`vswitches`,
//! `portgroups`, `vmkernel`) merge item by item on `name`, so a group can define a vmknic and
//! each host add only its address; and `rootpw` is replaced whole, so a host giving `env:`
//! does not also inherit the group's `hash:`.
//!
//! Thousands of hosts share a few sets of groups, so defaults and groups are merged once per
//! set into a [`Base`]; a host's [`Merged`] top level then borrows every value of the base (or
//! of its own layer) that it does not change, and owns only what it merges from both or must
//! template for itself.

use serde_yaml::{Mapping, Sequence, Value};

use super::decode::NAMED_LISTS;
use super::template::has_template;

/// Merge the layer `over` onto `base`. `skip` names keys of `over` that are not host values
/// (a group's `hosts:` list).
pub(crate) fn layer(base: &mut Mapping, over: &Mapping, skip: &[&str]) {
    for (k, v) in over {
        let key = k.as_str().unwrap_or_default();
        if skip.contains(&key) {
            continue;
        }
        if v.is_null() {
            base.remove(k);
            continue;
        }
        let merged = base.get(k).and_then(|b| combined(key, b, v));
        base.insert(k.clone(), merged.unwrap_or_else(|| v.clone()));
    }
}

/// `over` (not null) merged onto `base` as the values of the host key `key`; `None` when `over`
/// replaces `base` whole (a scalar, a list, `rootpw`), so that it can be used as it is.
pub(crate) fn combined(key: &str, base: &Value, over: &Value) -> Option<Value> {
    match (base, over) {
        (Value::Sequence(b), Value::Sequence(o)) if NAMED_LISTS.contains(&key) => {
            let mut b = b.clone();
            named(&mut b, o);
            Some(Value::Sequence(b))
        }
        (Value::Mapping(b), Value::Mapping(o)) if key != "rootpw" => {
            let mut b = b.clone();
            for (k, v) in o {
                deep(&mut b, k, v);
            }
            Some(Value::Mapping(b))
        }
        _ => None,
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

/// Defaults and one set of groups merged, shared by every host in exactly those groups.
pub(crate) struct Base {
    map: Mapping,
    /// Per entry of `map`: whether its value holds a template, which each host renders for
    /// itself (so it cannot share it).
    templated: Vec<bool>,
}

impl Base {
    pub(crate) fn new(defaults: &Mapping, groups: &[&Mapping]) -> Base {
        let mut map = defaults.clone();
        for group in groups {
            layer(&mut map, group, &["hosts"]);
        }
        let templated = map
            .iter()
            .map(|(k, v)| templated(k.as_str().unwrap_or_default(), v))
            .collect();
        Base { map, templated }
    }
}

/// Whether the value of host key `key` is rendered per host: `vars` are the templates' input.
pub(crate) fn templated(key: &str, v: &Value) -> bool {
    key != "vars" && has_template(v)
}

/// One value of a host's merged top level.
pub(crate) enum Slot<'a> {
    /// As a layer has it: the host changes nothing in it.
    Shared(&'a Value),
    /// This host's own: merged from two layers, or holding templates to render.
    Own(Value),
}

impl Slot<'_> {
    pub(crate) fn value(&self) -> &Value {
        match self {
            Slot::Shared(v) => v,
            Slot::Own(v) => v,
        }
    }
}

/// A host's top level, `base` < `own`: the base's keys in its order, then the host's new ones.
pub(crate) struct Merged<'a> {
    pub(crate) entries: Vec<(&'a Value, Slot<'a>)>,
}

impl<'a> Merged<'a> {
    pub(crate) fn new(base: &'a Base, own: &'a Mapping) -> Merged<'a> {
        // Both sides have at most the few dozen host keys (unknown keys stop a host before it
        // is merged): comparing keys is cheaper than hashing them.
        let own_value = |k: &Value| own.iter().find(|(o, _)| *o == k).map(|(_, v)| v);
        let mut entries = Vec::with_capacity(base.map.len() + own.len());
        for ((k, b), templated) in base.map.iter().zip(&base.templated) {
            let key = k.as_str().unwrap_or_default();
            let slot = match own_value(k) {
                None if *templated => Slot::Own(b.clone()),
                None => Slot::Shared(b),
                Some(o) if o.is_null() => continue,
                Some(o) => match combined(key, b, o) {
                    Some(v) => Slot::Own(v),
                    None => own_slot(key, o),
                },
            };
            entries.push((k, slot));
        }
        for (k, o) in own {
            if !o.is_null() && !base.map.keys().any(|b| b == k) {
                entries.push((k, own_slot(k.as_str().unwrap_or_default(), o)));
            }
        }
        Merged { entries }
    }

    /// Give `key` this value whatever the layers say (`ks render --esxi`).
    pub(crate) fn set(&mut self, key: &'a Value, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => *slot = Slot::Own(value),
            None => self.entries.push((key, Slot::Own(value))),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, slot)| slot.value())
    }

    /// Every `(key, value)`, for the decoder.
    pub(crate) fn pairs(&self) -> Vec<(&Value, &Value)> {
        self.entries.iter().map(|(k, s)| (*k, s.value())).collect()
    }
}

fn own_slot<'a>(key: &str, v: &'a Value) -> Slot<'a> {
    if templated(key, v) {
        Slot::Own(v.clone())
    } else {
        Slot::Shared(v)
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

    #[test]
    fn a_merged_host_shares_what_it_does_not_change() {
        let defaults = yaml(
            "ntp: [a]\nnetwork: {vlan: 10}\nsyslog: {datastore: \"{{ hostname }}-ds\"}\nvmkernel: [{name: vmk1, portgroup: vMotion}]\nssh: true\nvars: {site: \"{{ x }}\"}",
        );
        let group = yaml("hosts: [esx01]\nntp: [b]");
        let own = yaml(
            "network: {ip: 10.0.0.5}\nvmkernel: [{name: vmk1, ip: 10.0.20.5}]\nssh: null\nshell: true",
        );
        let base = Base::new(&defaults, &[&group]);
        let merged = Merged::new(&base, &own);

        // The same values as merging the layers one after the other.
        let mut expected = defaults.clone();
        layer(&mut expected, &group, &["hosts"]);
        layer(&mut expected, &own, &[]);
        let got: Mapping = merged
            .pairs()
            .into_iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(got, expected);

        let owned: Vec<&str> = merged
            .entries
            .iter()
            .filter(|(_, slot)| matches!(slot, Slot::Own(_)))
            .filter_map(|(k, _)| k.as_str())
            .collect();
        // Merged from two layers, or templated; `vars` and the rest are shared.
        assert_eq!(owned, ["network", "syslog", "vmkernel"]);
    }
}
