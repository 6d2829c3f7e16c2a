//! `vim-cmd` output: VMODL data objects pretty-printed, parsed by recursive descent over the
//! grammar of hostops.md §2.1:
//!
//! ```text
//! value  := string | number | bool | "<unset>" | "(" type ")" "null" | "'" moref "'" | object | array
//! object := "(" type ")" "{" (name "=" value ","?)* "}"
//! array  := "(" type ")" "[" (value ","?)* "]"
//! ```
//!
//! Banner lines before the value (`Devices:`, `Guest information:`) are skipped. Lines may end
//! in `,` or `, ` (older builds) or nothing before a closing bracket. A top-level fault object
//! (`(vim.fault.NotFound) { msg = "…" }`) is returned as [`VmodlError::Fault`], not as data.

use std::fmt;

use super::{MAX_DEPTH, ParseError, line_of};

/// One VMODL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Vmodl {
    Str(String),
    /// The number as printed (`42`, `-2147483647`, `1.5`, `0L`), converted on access.
    Number(String),
    Bool(bool),
    /// `<unset>`: an optional property with no value.
    Unset,
    /// `(T) null`.
    Null(String),
    /// `'vim.Datastore:5e00…'`: a managed object reference.
    MoRef(String),
    Object {
        type_name: String,
        fields: Vec<(String, Vmodl)>,
    },
    Array {
        type_name: String,
        items: Vec<Vmodl>,
    },
}

/// Why `vim-cmd` output gave no data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VmodlError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The host answered with a fault object.
    #[error("the host reported {type_name}: {message}")]
    Fault { type_name: String, message: String },
}

/// Parses the first VMODL value of a `vim-cmd` output.
pub fn parse(input: &str) -> Result<Vmodl, VmodlError> {
    let start = value_start(input).ok_or_else(|| ParseError {
        format: "VMODL",
        line: 1,
        message: "no VMODL value in the output".to_string(),
    })?;
    let mut parser = Parser {
        input,
        pos: start,
        depth: 0,
    };
    not_a_fault(parser.value()?)
}

/// Parses every top-level VMODL value of a `vim-cmd` output, in order: `vmsvc/get.networks`
/// prints one `(vim.Network.Summary) {…}` per network, and nothing but its heading for none.
pub fn parse_all(input: &str) -> Result<Vec<Vmodl>, VmodlError> {
    let mut values = Vec::new();
    let mut pos: usize = 0;
    while let Some(start) = input.get(pos..).and_then(value_start) {
        let mut parser = Parser {
            input,
            pos: pos.saturating_add(start),
            depth: 0,
        };
        values.push(not_a_fault(parser.value()?)?);
        // A value is at least `()`, so this always moves on; the guard keeps it provable.
        if parser.pos <= pos {
            break;
        }
        pos = parser.pos;
    }
    Ok(values)
}

/// The value itself, or the fault it reports as an error.
fn not_a_fault(value: Vmodl) -> Result<Vmodl, VmodlError> {
    if let Vmodl::Object { type_name, fields } = &value {
        if !is_fault(type_name) {
            return Ok(value);
        }
        let message = ["msg", "faultMessage", "reason"]
            .iter()
            .find_map(|k| {
                fields
                    .iter()
                    .find(|(n, _)| n == k)
                    .and_then(|(_, v)| v.as_str())
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or("(no message)")
            .to_string();
        return Err(VmodlError::Fault {
            type_name: type_name.clone(),
            message,
        });
    }
    Ok(value)
}

fn is_fault(type_name: &str) -> bool {
    type_name.contains(".fault.") || type_name.ends_with("Fault")
}

/// Byte offset of the first line that starts (after indentation) with `(`.
fn value_start(input: &str) -> Option<usize> {
    let mut offset: usize = 0;
    for line in input.split_inclusive('\n') {
        let indent = line.len().saturating_sub(line.trim_start().len());
        if line.trim_start().starts_with('(') {
            return Some(offset.saturating_add(indent));
        }
        offset = offset.saturating_add(line.len());
    }
    None
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            format: "VMODL",
            line: line_of(self.input, self.pos),
            message: message.into(),
        }
    }

    fn rest(&self) -> &str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self, c: char) {
        self.pos = self.pos.saturating_add(c.len_utf8());
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.bump(c);
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos = self.pos.saturating_add(token.len());
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str, context: &str) -> Result<(), ParseError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(format!(
                "expected `{token}` {context}, found {}",
                self.found()
            )))
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the output (truncated?)".to_string(),
            Some(_) => {
                let snippet: String = self.rest().chars().take(20).collect();
                format!("`{}`", snippet.lines().next().unwrap_or(""))
            }
        }
    }

    fn value(&mut self) -> Result<Vmodl, ParseError> {
        self.skip_ws();
        match self.peek() {
            Some('(') => self.typed(),
            Some('"') => self.string().map(Vmodl::Str),
            Some('\'') => self.moref().map(Vmodl::MoRef),
            Some('<') => {
                self.expect("<unset>", "for an unset value")?;
                Ok(Vmodl::Unset)
            }
            Some(c) if c == '-' || c.is_ascii_digit() => Ok(Vmodl::Number(self.number()?)),
            _ if self.eat("true") => Ok(Vmodl::Bool(true)),
            _ if self.eat("false") => Ok(Vmodl::Bool(false)),
            _ => Err(self.error(format!("expected a value, found {}", self.found()))),
        }
    }

    fn typed(&mut self) -> Result<Vmodl, ParseError> {
        self.expect("(", "before a type name")?;
        let end = self
            .rest()
            .find([')', '\n'])
            .ok_or_else(|| self.error("a type name without `)`"))?;
        let type_name = self.rest().get(..end).unwrap_or("").trim().to_string();
        self.pos = self.pos.saturating_add(end);
        self.expect(")", "after the type name")?;
        self.skip_ws();
        if self.eat("null") {
            return Ok(Vmodl::Null(type_name));
        }
        match self.peek() {
            Some('{') => self.nested(|p| p.object(type_name)),
            Some('[') => self.nested(|p| p.array(type_name)),
            // A typed scalar such as `(int) 5`: the type adds nothing we use.
            _ => self.value(),
        }
    }

    fn nested(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Result<Vmodl, ParseError>,
    ) -> Result<Vmodl, ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.depth = self.depth.saturating_add(1);
        let result = inner(self);
        self.depth = self.depth.saturating_sub(1);
        result
    }

    fn object(&mut self, type_name: String) -> Result<Vmodl, ParseError> {
        self.expect("{", "to open an object")?;
        let mut fields = Vec::new();
        loop {
            self.skip_ws();
            if self.eat("}") {
                return Ok(Vmodl::Object { type_name, fields });
            }
            let name = self.name()?;
            self.skip_ws();
            self.expect("=", &format!("after property `{name}`"))?;
            let value = self.value()?;
            fields.push((name, value));
            self.skip_ws();
            self.eat(",");
        }
    }

    fn array(&mut self, type_name: String) -> Result<Vmodl, ParseError> {
        self.expect("[", "to open an array")?;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.eat("]") {
                return Ok(Vmodl::Array { type_name, items });
            }
            items.push(self.value()?);
            self.skip_ws();
            self.eat(",");
        }
    }

    fn name(&mut self) -> Result<String, ParseError> {
        let len = self
            .rest()
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(self.error(format!("expected a property name, found {}", self.found())));
        }
        let name = self.rest().get(..len).unwrap_or("").to_string();
        self.pos = self.pos.saturating_add(len);
        Ok(name)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.expect("\"", "to open a string")?;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("a string that never ends (truncated output?)"));
            };
            self.bump(c);
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(next) = self.peek() else {
                        return Err(self.error("a string that never ends (truncated output?)"));
                    };
                    self.bump(next);
                    out.push(match next {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
                other => out.push(other),
            }
        }
    }

    fn moref(&mut self) -> Result<String, ParseError> {
        self.expect("'", "to open a reference")?;
        let end = self
            .rest()
            .find('\'')
            .ok_or_else(|| self.error("a reference without its closing `'`"))?;
        let text = self.rest().get(..end).unwrap_or("").to_string();
        self.pos = self.pos.saturating_add(end).saturating_add(1);
        Ok(text)
    }

    fn number(&mut self) -> Result<String, ParseError> {
        let len = self
            .rest()
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_digit()
                    || matches!(c, '.' | 'e' | 'E' | '+')
                    || (c == '-'
                        && (i == 0
                            || self
                                .rest()
                                .get(i.saturating_sub(1)..i)
                                .is_some_and(|p| p == "e" || p == "E"))))
            })
            .map_or(self.rest().len(), |(i, _)| i);
        let text = self.rest().get(..len).unwrap_or("").to_string();
        if !text.chars().any(|c| c.is_ascii_digit()) {
            return Err(self.error(format!("expected a number, found {}", self.found())));
        }
        self.pos = self.pos.saturating_add(len);
        // Longs print with a Java-style suffix in some builds: `0L`.
        self.eat("L");
        Ok(text)
    }
}

impl Vmodl {
    /// A property of an object (`None` for anything else or a missing property).
    pub fn get(&self, name: &str) -> Option<&Vmodl> {
        match self {
            Vmodl::Object { fields, .. } => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A property several objects deep: `path(&["runtime", "powerState"])`.
    pub fn path(&self, names: &[&str]) -> Option<&Vmodl> {
        names.iter().try_fold(self, |v, n| v.get(n))
    }

    /// The text of a string or a reference.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Vmodl::Str(s) | Vmodl::MoRef(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Vmodl::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_i64().and_then(|n| u64::try_from(n).ok())
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Vmodl::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items of an array; nothing for anything else (`<unset>`, `null`).
    pub fn items(&self) -> &[Vmodl] {
        match self {
            Vmodl::Array { items, .. } => items,
            _ => &[],
        }
    }

    /// The declared type of an object, array or null.
    pub fn type_name(&self) -> Option<&str> {
        match self {
            Vmodl::Object { type_name, .. }
            | Vmodl::Array { type_name, .. }
            | Vmodl::Null(type_name) => Some(type_name),
            _ => None,
        }
    }

    /// Every object anywhere inside this value (itself included), depth first.
    pub fn objects(&self) -> Vec<&Vmodl> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            match v {
                Vmodl::Object { fields, .. } => {
                    out.push(v);
                    stack.extend(fields.iter().rev().map(|(_, f)| f));
                }
                Vmodl::Array { items, .. } => stack.extend(items.iter().rev()),
                _ => {}
            }
        }
        out
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, indent: usize) -> fmt::Result {
        let pad = " ".repeat(indent.saturating_add(3));
        let close = " ".repeat(indent);
        match self {
            Vmodl::Str(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        other => write!(f, "{other}")?,
                    }
                }
                f.write_str("\"")
            }
            Vmodl::Number(n) => f.write_str(n),
            Vmodl::Bool(b) => write!(f, "{b}"),
            Vmodl::Unset => f.write_str("<unset>"),
            Vmodl::Null(t) => write!(f, "({t}) null"),
            Vmodl::MoRef(r) => write!(f, "'{r}'"),
            Vmodl::Object { type_name, fields } => {
                writeln!(f, "({type_name}) {{")?;
                for (name, value) in fields {
                    write!(f, "{pad}{name} = ")?;
                    value.write(f, indent.saturating_add(3))?;
                    f.write_str(",\n")?;
                }
                write!(f, "{close}}}")
            }
            Vmodl::Array { type_name, items } => {
                writeln!(f, "({type_name}) [")?;
                for item in items {
                    f.write_str(&pad)?;
                    item.write(f, indent.saturating_add(3))?;
                    f.write_str(",\n")?;
                }
                write!(f, "{close}]")
            }
        }
    }
}

/// Prints a value the way `vim-cmd` does (3-space indentation, every line ending in `,`).
impl fmt::Display for Vmodl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUEST: &str = r#"Guest information:

(vim.vm.GuestInfo) {
   dynamicType = <unset>, 
   toolsStatus = "toolsOk", 
   toolsRunningStatus = "guestToolsRunning", 
   guestId = <unset>, 
   ipAddress = "10.0.0.5", 
   net = (vim.vm.GuestInfo.NicInfo) [
      (vim.vm.GuestInfo.NicInfo) {
         network = "VM Network", 
         ipAddress = (string) [
            "10.0.0.5", 
            "fe80::1"
         ], 
         connected = true, 
         deviceConfigId = 4000
      }
   ], 
   screen = (vim.vm.GuestInfo.ScreenInfo) null, 
   datastore = 'vim.Datastore:5e0026d9-a647150e-d8a8-4cedfb76e9d5',
   capacity = 214748364800L,
   ratio = -1.5e-3,
   note = "say \"hi\"",
}
"#;

    #[test]
    fn parses_a_guest_info_with_old_line_ends() {
        let v = parse(GUEST).unwrap();
        assert_eq!(v.type_name(), Some("vim.vm.GuestInfo"));
        assert_eq!(
            v.get("toolsRunningStatus").and_then(Vmodl::as_str),
            Some("guestToolsRunning")
        );
        assert_eq!(v.get("guestId"), Some(&Vmodl::Unset));
        let nic = &v.get("net").unwrap().items()[0];
        assert_eq!(nic.get("ipAddress").unwrap().items().len(), 2);
        assert_eq!(
            nic.get("deviceConfigId").and_then(Vmodl::as_i64),
            Some(4000)
        );
        assert_eq!(
            v.get("screen"),
            Some(&Vmodl::Null("vim.vm.GuestInfo.ScreenInfo".into()))
        );
        assert_eq!(
            v.get("datastore").and_then(Vmodl::as_str),
            Some("vim.Datastore:5e0026d9-a647150e-d8a8-4cedfb76e9d5")
        );
        assert_eq!(
            v.get("capacity").and_then(Vmodl::as_u64),
            Some(214748364800)
        );
        assert_eq!(v.get("note").and_then(Vmodl::as_str), Some("say \"hi\""));
    }

    /// A `vmsvc/get.summary` as ESXi 7 prints it: banner, primitive-typed arrays, empty arrays,
    /// typed nulls, negative numbers, a multi-line annotation, brackets in names.
    const SUMMARY: &str = "Listsummary:

(vim.vm.Summary) {
   vm = 'vim.VirtualMachine:2',
   runtime = (vim.vm.RuntimeInfo) {
      device = (vim.vm.DeviceRuntimeInfo) [
         (vim.vm.DeviceRuntimeInfo) {
            runtimeState = (vim.vm.DeviceRuntimeInfo.VirtualEthernetCardRuntimeState) {
               vmDirectPathGen2Active = false,
               vmDirectPathGen2InactiveReasonVm = (string) [
                  \"vmNptIncompatibleGuest\"
               ],
               reservationStatus = <unset>,
            },
            key = 4000,
         }
      ],
      host = 'vim.HostSystem:ha-host',
      powerState = \"poweredOn\",
      dasVmProtection = (vim.vm.RuntimeInfo.DasProtectionState) null,
      featureRequirement = (vim.vm.FeatureRequirement) [
      ],
   },
   guest = (vim.vm.Summary.GuestSummary) {
      toolsRunningStatus = \"guestToolsRunning\",
      hwVersion = \"vmx-19\"
   },
   config = (vim.vm.Summary.ConfigSummary) {
      name = \"esx01-db 01 [prod]\",
      template = false,
      vmPathName = \"[san [gold] 01] esx01-db 01 [prod]/esx01-db 01 [prod].vmx\",
      annotation = \"line one
line two, with = and {braces}\",
      ftInfo = (vim.vm.FaultToleranceConfigInfo) null,
   },
   quickStats = (vim.vm.Summary.QuickStats) {
      consumedOverheadMemory = 34,
      ftLogBandwidth = -1,
      guestHeartbeatStatus = \"green\",
   },
   customValue = (vim.CustomFieldsManager.Value) [
   ]
}
";

    #[test]
    fn a_real_shaped_vm_summary() {
        let v = parse(SUMMARY).unwrap();
        let text = |path: &[&str]| v.path(path).and_then(Vmodl::as_str).map(str::to_string);
        assert_eq!(
            text(&["config", "name"]).as_deref(),
            Some("esx01-db 01 [prod]")
        );
        assert_eq!(
            text(&["config", "vmPathName"]).as_deref(),
            Some("[san [gold] 01] esx01-db 01 [prod]/esx01-db 01 [prod].vmx")
        );
        assert_eq!(
            text(&["config", "annotation"]).as_deref(),
            Some("line one\nline two, with = and {braces}")
        );
        assert_eq!(
            text(&["runtime", "powerState"]).as_deref(),
            Some("poweredOn")
        );
        assert_eq!(
            v.path(&["quickStats", "ftLogBandwidth"])
                .and_then(Vmodl::as_i64),
            Some(-1)
        );
        assert!(matches!(
            v.path(&["config", "ftInfo"]),
            Some(Vmodl::Null(_))
        ));
        assert!(
            v.path(&["customValue"])
                .is_some_and(|c| c.items().is_empty())
        );
    }

    #[test]
    fn faults_are_errors() {
        let out = "(vim.fault.NotFound) {\n   faultCause = (vmodl.MethodFault) null,\n   msg = \"Unable to find a VM corresponding to 99\"\n}\n";
        match parse(out) {
            Err(VmodlError::Fault { type_name, message }) => {
                assert_eq!(type_name, "vim.fault.NotFound");
                assert!(message.contains("99"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_and_junk_inputs_are_errors_with_lines() {
        let cut = GUEST.get(..GUEST.len() / 2).unwrap();
        assert!(parse(cut).is_err());
        let e = parse("(t) {\n a = \"abc").unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = parse("(t) {\n a = 1,\n").unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        assert!(parse("no value here").is_err());
        let e = parse("(x) {\n a = @\n}").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let deep = "(t) [".repeat(500);
        assert!(parse(&deep).unwrap_err().to_string().contains("nesting"));
    }

    #[test]
    fn printing_and_parsing_agree() {
        let v = parse(GUEST).unwrap();
        assert_eq!(parse(&v.to_string()).unwrap(), v);
    }

    #[test]
    fn parse_all_reads_every_top_level_value() {
        let out = r#"Networks:

(vim.Network.Summary) {
   network = 'vim.Network:HaNetwork-VM Network',
   name = "VM Network",
   accessible = true,
   ipPoolName = "",
   ipPoolId = <unset>
}

(vim.Network.Summary) {
   network = 'vim.dvs.DistributedVirtualPortgroup:dvportgroup-1017',
   name = "prod (vlan 20)",
   accessible = true,
   ipPoolName = "",
   ipPoolId = <unset>
}
"#;
        let all = parse_all(out).unwrap();
        let names: Vec<_> = all
            .iter()
            .filter_map(|v| v.get("name").and_then(Vmodl::as_str))
            .collect();
        assert_eq!(names, ["VM Network", "prod (vlan 20)"]);
        assert_eq!(parse_all("Networks:\n\n").unwrap(), []);
        let cut = out.get(..out.len() - 3).unwrap();
        assert!(
            parse_all(cut).is_err(),
            "a truncated last value is an error"
        );
    }
}
