//! Parsers for what ESXi commands print, each one total: any input gives a value or a typed
//! error, never a panic, and nesting is bounded.
//!
//! - [`esxcli_xml`]: `esxcli --formatter=xml …`, the typed form every collector asks for first;
//! - [`text`]: esxcli's default text (records, dashed tables, `Key: Value` lists), the fallback
//!   for hosts whose formatter fails;
//! - [`vmodl`]: `vim-cmd`'s pretty-printed VMODL objects;
//! - [`vimcmd`]: the few `vim-cmd` outputs that are loose text (`getallvms`, `snapshot.get`,
//!   `backup_config`, `power.getstate`);
//! - [`nslookup`]: the ESXi shell's busybox `nslookup`, old and new layouts.
//!
//! Both esxcli parsers produce the same [`Value`] tree, so one collector reads either. Field
//! names stay opaque strings as the host printed them (`MACAddress` in XML, `MAC Address` in
//! text); lookups compare them with [`same_name`], which ignores case, spaces and punctuation.

pub mod esxcli_xml;
pub mod nslookup;
pub mod text;
pub mod vimcmd;
pub mod vmodl;

/// The most nesting any parser follows before giving up (real output nests under 15 levels).
pub const MAX_DEPTH: usize = 64;

/// One esxcli result: a scalar, a list, or a structure of named fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    String(String),
    Integer(i64),
    Boolean(bool),
    List(Vec<Value>),
    Structure(Structure),
}

/// A structure: its type name (XML `typeName`, or the header line of a text record) and its
/// fields in the order printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Structure {
    pub type_name: String,
    pub fields: Vec<(String, Value)>,
}

/// Why an output could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format} output, line {line}: {message}")]
pub struct ParseError {
    /// `esxcli XML`, `esxcli text`, `VMODL`, …
    pub format: &'static str,
    /// 1-based line of the input where reading stopped.
    pub line: usize,
    pub message: String,
}

/// True when two field names are the same once case, spaces and punctuation are ignored:
/// `MAC Address` = `MACAddress`, `IPv4 Address` = `IPv4Address`.
pub fn same_name(a: &str, b: &str) -> bool {
    name_key(a) == name_key(b)
}

/// A field name without case, spaces and punctuation (`Override VSwitch Load Balancing` →
/// `overridevswitchloadbalancing`): what [`same_name`] compares.
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Structure {
    /// The first field whose name is [`same_name`] as `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(n, _)| same_name(n, name))
            .map(|(_, v)| v)
    }

    /// A field as text (integers and booleans printed), empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).map(Value::to_text).unwrap_or_default()
    }

    /// A field as a number, when it is one (text `1500` counts).
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_int)
    }

    /// A field as a number of the caller's unsigned type, 0 when absent, negative or too big
    /// (sizes, MTUs, speeds, VLAN ids: esxcli never prints a meaningful negative one).
    pub fn unsigned<T: TryFrom<i64> + Default>(&self, name: &str) -> T {
        self.int(name)
            .and_then(|n| T::try_from(n).ok())
            .unwrap_or_default()
    }

    /// A field as a boolean: XML `true`/`false`, text `true`, `Up`, `Enabled`, `Yes`, `1`.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_flag)
    }

    /// A field as a list of strings: an XML list, or text joined with `,` (empty entries and
    /// esxcli's `<none>` dropped).
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.get(name).map(Value::as_strings).unwrap_or_default()
    }
}

impl Value {
    pub fn to_text(&self) -> String {
        match self {
            Value::String(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            Value::Boolean(b) => b.to_string(),
            Value::List(items) => items
                .iter()
                .map(Value::to_text)
                .collect::<Vec<_>>()
                .join(", "),
            Value::Structure(s) => s.type_name.clone(),
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_flag(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            Value::Integer(i) => Some(*i != 0),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "up" | "enabled" | "on" | "1" => Some(true),
                "false" | "no" | "down" | "disabled" | "off" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_strings(&self) -> Vec<String> {
        match self {
            Value::List(items) => items
                .iter()
                .map(Value::to_text)
                .filter(|s| !s.is_empty())
                .collect(),
            Value::String(s) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "<none>")
                .map(str::to_string)
                .collect(),
            other => vec![other.to_text()],
        }
    }

    /// The structures of a result: a list's structures, or the result itself when it is one
    /// (a `get` command prints a single structure).
    pub fn structures(&self) -> Vec<&Structure> {
        match self {
            Value::Structure(s) => vec![s],
            Value::List(items) => items
                .iter()
                .filter_map(|v| match v {
                    Value::Structure(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// 1-based line number of byte offset `at` in `input`.
pub(crate) fn line_of(input: &str, at: usize) -> usize {
    input
        .as_bytes()
        .iter()
        .take(at)
        .filter(|b| **b == b'\n')
        .count()
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_spaces_or_case() {
        assert!(same_name("MAC Address", "MACAddress"));
        assert!(same_name("IPv4 Address", "ipv4address"));
        assert!(!same_name("MTU", "Speed"));
    }

    #[test]
    fn text_lists_split_and_drop_none() {
        let v = Value::String("vmnic0, vmnic1".into());
        assert_eq!(v.as_strings(), ["vmnic0", "vmnic1"]);
        assert!(Value::String("<none>".into()).as_strings().is_empty());
        assert!(Value::String(String::new()).as_strings().is_empty());
    }
}

#[cfg(test)]
mod props;
