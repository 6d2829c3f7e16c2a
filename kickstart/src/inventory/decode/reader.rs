//! The reading machinery: a [`Decoder`] walks YAML values, turns them into typed values and
//! records every problem it meets with its path; [`Fields`] knows which keys were asked for.

use std::net::Ipv4Addr;
use std::str::FromStr;

use serde_yaml::{Mapping, Value};

use crate::inventory::net::{Hostname, Label, Mtu, Prefix, Vlan, VmkName, Vmnic};
use crate::inventory::problem::{Path, Problems};
use crate::inventory::secrets::Secrets;
use crate::inventory::suggest::did_you_mean;
use crate::inventory::template::{ValueTemplates, is_template};

/// Lists whose items carry a `name` and merge by it across layers.
pub(crate) const NAMED_LISTS: [&str; 3] = ["vswitches", "portgroups", "vmkernel"];

/// Which kind of value is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    Defaults,
    Group,
    Host,
    /// A host's merged and templated specification.
    Merged,
}

pub(crate) struct Decoder<'a> {
    pub(crate) problems: &'a mut Problems,
    pub(crate) templates: &'a mut ValueTemplates,
    pub(crate) secrets: &'a mut Secrets,
    pub(crate) layer: Layer,
}

/// The keys of one mapping, and which of them the reader asked for.
pub(crate) struct Fields<'v> {
    map: &'v Mapping,
    known: Vec<&'static str>,
}

impl<'v> Fields<'v> {
    /// The value of `key`; an explicit `null` counts as absent (it removes an inherited value).
    pub(crate) fn get(&mut self, key: &'static str) -> Option<&'v Value> {
        self.known.push(key);
        self.map.get(key).filter(|v| !v.is_null())
    }
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

impl Decoder<'_> {
    pub(super) fn merged(&self) -> bool {
        self.layer == Layer::Merged
    }

    pub(crate) fn error(&mut self, path: &Path<'_>, msg: impl Into<String>) {
        self.problems.error(path, msg);
    }

    /// A required value is missing: reported once the layers are merged, never per layer.
    pub(super) fn missing(&mut self, path: &Path<'_>, what: &str) {
        if self.merged() {
            self.error(path, format!("is missing: {what}"));
        }
    }

    pub(crate) fn fields<'v>(&mut self, v: &'v Value, path: &Path<'_>) -> Option<Fields<'v>> {
        match v {
            Value::Mapping(map) => Some(Fields {
                map,
                known: Vec::new(),
            }),
            other => {
                self.error(path, format!("expected a mapping, found {}", kind(other)));
                None
            }
        }
    }

    /// Report the keys no reader asked for, with the closest known key as a suggestion.
    pub(crate) fn finish(&mut self, fields: Fields<'_>, path: &Path<'_>) {
        for key in fields.map.keys() {
            let Some(key) = key.as_str() else {
                self.error(path, format!("keys must be strings, found {}", kind(key)));
                continue;
            };
            if fields.known.contains(&key) {
                continue;
            }
            let msg = match did_you_mean(key, &fields.known) {
                Some(near) => format!("unknown key `{key}` (did you mean `{near}`?)"),
                None => format!(
                    "unknown key `{key}` (expected one of: {})",
                    fields.known.join(", ")
                ),
            };
            self.error(&path.key(key), msg);
        }
    }

    /// A string; `None` with a problem for anything else, and `None` silently for a template
    /// in a layer (it is checked for syntax here and for its value once rendered per host).
    pub(crate) fn str<'v>(&mut self, v: &'v Value, path: &Path<'_>) -> Option<&'v str> {
        match v {
            Value::String(s) if !self.merged() && is_template(s) => {
                if let Err(e) = self.templates.check(s) {
                    self.error(path, e);
                }
                None
            }
            Value::String(s) => Some(s),
            Value::Number(n) => {
                self.error(
                    path,
                    format!("expected a string, found a number (quote it: \"{n}\")"),
                );
                None
            }
            other => {
                self.error(path, format!("expected a string, found {}", kind(other)));
                None
            }
        }
    }

    /// `s` checked by `check`, whose error completes the sentence `"<value>" <error>`.
    pub(super) fn checked<T>(
        &mut self,
        s: &str,
        path: &Path<'_>,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match check(s) {
            Ok(t) => Some(t),
            Err(e) => {
                self.error(path, format!("{s:?} {e}"));
                None
            }
        }
    }

    /// A string checked by `parse`, whose error completes the sentence `"<value>" <error>`.
    pub(super) fn parsed<T>(
        &mut self,
        v: &Value,
        path: &Path<'_>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = self.str(v, path)?;
        self.checked(s, path, parse)
    }

    pub(super) fn bool(&mut self, v: &Value, path: &Path<'_>) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.error(
                    path,
                    format!("expected true or false, found {}", kind(other)),
                );
                None
            }
        }
    }

    /// A whole number in `range`; `what` names the range in the message.
    pub(super) fn uint(
        &mut self,
        v: &Value,
        path: &Path<'_>,
        range: std::ops::RangeInclusive<u64>,
        what: &str,
    ) -> Option<u64> {
        match v {
            Value::Number(n) => match n.as_u64() {
                Some(x) if range.contains(&x) => Some(x),
                _ => {
                    self.error(path, format!("{n} is not {what}"));
                    None
                }
            },
            Value::String(s) if !self.merged() && is_template(s) => self.str(v, path).and(None),
            // A templated number arrives as a string once rendered.
            Value::String(s) if self.merged() && s.parse::<u64>().is_ok() => {
                let x = s.parse::<u64>().ok()?;
                if range.contains(&x) {
                    Some(x)
                } else {
                    self.error(path, format!("{x} is not {what}"));
                    None
                }
            }
            other => {
                self.error(path, format!("expected a number, found {}", kind(other)));
                None
            }
        }
    }

    /// One of `choices` by its inventory spelling.
    pub(super) fn choice<T: Copy>(
        &mut self,
        v: &Value,
        path: &Path<'_>,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let s = self.str(v, path)?;
        if let Some((_, t)) = choices.iter().find(|(k, _)| *k == s) {
            return Some(*t);
        }
        let names: Vec<&str> = choices.iter().map(|(k, _)| *k).collect();
        let hint = did_you_mean(s, &names)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        self.error(
            path,
            format!("`{s}` is not one of: {}{hint}", names.join(", ")),
        );
        None
    }

    /// Each item of a list read by `item`; items that fail are reported and left out.
    pub(super) fn list<T>(
        &mut self,
        v: &Value,
        path: &Path<'_>,
        mut item: impl FnMut(&mut Self, &Value, &Path<'_>) -> Option<T>,
    ) -> Vec<T> {
        let Value::Sequence(seq) = v else {
            self.error(path, format!("expected a list, found {}", kind(v)));
            return Vec::new();
        };
        seq.iter()
            .enumerate()
            .filter_map(|(i, x)| item(self, x, &path.index(i)))
            .collect()
    }

    pub(super) fn ipv4(&mut self, v: &Value, path: &Path<'_>) -> Option<Ipv4Addr> {
        self.parsed(v, path, host_address)
    }

    /// `10.0.0.5` or `10.0.0.5/24`.
    pub(super) fn ipv4_maybe_prefix(
        &mut self,
        v: &Value,
        path: &Path<'_>,
    ) -> Option<(Ipv4Addr, Option<Prefix>)> {
        self.parsed(v, path, |s| {
            let (ip, prefix) = match s.split_once('/') {
                Some((ip, p)) => (ip, Some(p)),
                None => (s, None),
            };
            let ip = host_address(ip)?;
            let prefix = prefix
                .map(|p| {
                    p.parse::<u8>()
                        .ok()
                        .and_then(Prefix::new)
                        .ok_or_else(|| "has a prefix length outside 1 to 32".to_string())
                })
                .transpose()?;
            Ok((ip, prefix))
        })
    }

    pub(super) fn prefix(&mut self, v: &Value, path: &Path<'_>) -> Option<Prefix> {
        self.uint(v, path, 1..=32, "a prefix length (1 to 32)")
            .and_then(|n| u8::try_from(n).ok())
            .and_then(Prefix::new)
    }

    pub(super) fn netmask(&mut self, v: &Value, path: &Path<'_>) -> Option<Prefix> {
        self.parsed(v, path, |s| {
            let mask = Ipv4Addr::from_str(s).map_err(|_| "is not a netmask".to_string())?;
            Prefix::from_netmask(mask)
                .ok_or_else(|| "is not a netmask (its one bits must be contiguous)".to_string())
        })
    }

    pub(super) fn vlan(&mut self, v: &Value, path: &Path<'_>) -> Option<Vlan> {
        self.uint(v, path, 0..=u64::from(Vlan::MAX), "a VLAN ID (0 to 4094)")
            .and_then(|n| u16::try_from(n).ok())
            .and_then(Vlan::new)
    }

    pub(super) fn mtu(&mut self, v: &Value, path: &Path<'_>) -> Option<Mtu> {
        self.uint(
            v,
            path,
            u64::from(Mtu::MIN)..=u64::from(Mtu::MAX),
            "an MTU (1280 to 9000)",
        )
        .and_then(|n| u16::try_from(n).ok())
        .and_then(Mtu::new)
    }

    pub(super) fn label(&mut self, v: &Value, path: &Path<'_>) -> Option<Label> {
        self.parsed(v, path, Label::new)
    }

    pub(super) fn hostname(&mut self, v: &Value, path: &Path<'_>) -> Option<Hostname> {
        self.parsed(v, path, |s| {
            Hostname::new(s).map_err(|e| format!("is not a valid host name: it {e}"))
        })
    }

    pub(super) fn vmnic(&mut self, v: &Value, path: &Path<'_>) -> Option<Vmnic> {
        self.parsed(v, path, Vmnic::new)
    }

    pub(super) fn vmk(&mut self, v: &Value, path: &Path<'_>) -> Option<VmkName> {
        self.parsed(v, path, VmkName::new)
    }

    /// A host name or an IPv4 address, as a string.
    pub(super) fn host_or_ip(&mut self, v: &Value, path: &Path<'_>) -> Option<String> {
        self.parsed(v, path, |s| {
            if s.parse::<Ipv4Addr>().is_ok() || Hostname::new(s).is_ok() {
                Ok(s.to_string())
            } else {
                Err("is neither an IPv4 address nor a host name".to_string())
            }
        })
    }

    /// Plain text for a kickstart or a script: printable ASCII only.
    pub(super) fn text(&mut self, v: &Value, path: &Path<'_>) -> Option<String> {
        self.parsed(v, path, |s| {
            if s.is_empty() {
                Err("is empty".into())
            } else if let Some(c) = s.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
                Err(format!("contains {c:?}: only printable ASCII is allowed"))
            } else {
                Ok(s.to_string())
            }
        })
    }

    /// The items of a list whose items merge by `name`, each read by `item` with its path
    /// (`[i]` in a layer, `[name]` once merged) and its name.
    pub(super) fn named<T>(
        &mut self,
        v: &Value,
        path: &Path<'_>,
        mut item: impl FnMut(&mut Self, &mut Fields<'_>, &Path<'_>, &str) -> Option<T>,
    ) -> Vec<T> {
        let Value::Sequence(seq) = v else {
            self.error(path, format!("expected a list, found {}", kind(v)));
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for (i, x) in seq.iter().enumerate() {
            let at = path.index(i);
            let Some(mut f) = self.fields(x, &at) else {
                continue;
            };
            let name = match f.get("name") {
                Some(Value::String(s)) => s.as_str(),
                Some(other) => {
                    self.error(
                        &at.key("name"),
                        format!("expected a string, found {}", kind(other)),
                    );
                    continue;
                }
                None => {
                    self.error(
                        &at,
                        "has no `name` (list items merge across layers by name)",
                    );
                    continue;
                }
            };
            if seen.contains(&name) {
                self.error(
                    &at.key("name"),
                    format!("`{name}` appears twice in this list"),
                );
                continue;
            }
            seen.push(name);
            let at = if self.merged() { path.name(name) } else { at };
            let value = item(self, &mut f, &at, name);
            self.finish(f, &at);
            out.extend(value);
        }
        out
    }
}

/// An IPv4 address a host can have: the installer refuses loopback, multicast, unspecified,
/// broadcast and 0.x addresses (its rule lives in the linter, which reproduces it).
pub(super) fn host_address(s: &str) -> Result<Ipv4Addr, String> {
    let ip = Ipv4Addr::from_str(s).map_err(|_| "is not an IPv4 address".to_string())?;
    crate::lint::values::ip(s).map_err(|why| format!("is not a host address: {why}"))?;
    Ok(ip)
}
