//! What an esxcli command returns, and the two ways esxcli prints it.
//!
//! A command returns a typed value (a structure, a list of structures, a list of strings, a
//! scalar, or nothing). esxcli's text mode prints it according to the command's *hints*: as
//! records (`formatter=simple`: an optional header line, then `   Key: Value` lines, one blank
//! line between records), as a table (`formatter=table`: a header row, a dashed separator,
//! integer and boolean columns right-justified, two spaces between columns, the last column not
//! padded, every line right-trimmed), or not at all (`formatter=` for setters). The XML formatter
//! prints the same value typed, with the fields of a structure sorted by name.
//!
//! Both renderers follow VMware's own formatter (the `esxcli` Python module shipped on the host:
//! `TextOutputFormatter._FormatDoListAsTable`, `_FormatDataObject`, `XmlVisitor`), so the layout
//! rules here are the host's, not our guess; only the field lists are per command.

use std::fmt::Write as _;

/// The element type of a list, as `<list type="…">` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Bool,
    Struct,
}

impl Kind {
    fn xml_name(self) -> &'static str {
        match self {
            Kind::Str => "string",
            Kind::Int => "integer",
            Kind::Bool => "boolean",
            Kind::Struct => "structure",
        }
    }
}

/// A value an esxcli command returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Kind, Vec<Value>),
    Struct(Struct),
}

/// One esxcli structure: its VMODL type name and its fields in declaration order (the text
/// order; XML sorts them by name).
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    pub type_name: &'static str,
    pub fields: Vec<Field>,
}

/// A structure field: the VMODL name (XML) and the name the text mode shows; `display` is
/// `None` for a field the command's `fields:` hint leaves out of the text mode (XML has it).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub display: Option<String>,
    pub value: Value,
    /// A `units:` hint: text mode prints it after the value (`8588824576 Bytes`).
    pub unit: Option<&'static str>,
}

impl Struct {
    pub fn new(type_name: &'static str) -> Struct {
        Struct {
            type_name,
            fields: Vec::new(),
        }
    }

    /// Adds a field whose text name is the VMODL name split at camel-case boundaries, as
    /// esxcli does when a command has no `fields:` hint (`DomainName` → `Domain Name`).
    pub fn field(self, name: &'static str, value: Value) -> Struct {
        let display = split_camel_case(name);
        self.shown(name, &display, value)
    }

    /// Adds a field with the text name a `fields:` hint gives it (`MACAddress` → `MAC Address`).
    pub fn shown(mut self, name: &'static str, display: &str, value: Value) -> Struct {
        self.fields.push(Field {
            name,
            display: Some(display.to_string()),
            value,
            unit: None,
        });
        self
    }

    /// Adds a field the text mode prints with a unit after it.
    pub fn with_unit(
        mut self,
        name: &'static str,
        display: &str,
        value: Value,
        unit: &'static str,
    ) -> Struct {
        self.fields.push(Field {
            name,
            display: Some(display.to_string()),
            value,
            unit: Some(unit),
        });
        self
    }

    /// Adds a field only the XML formatter prints.
    pub fn hidden(mut self, name: &'static str, value: Value) -> Struct {
        self.fields.push(Field {
            name,
            display: None,
            value,
            unit: None,
        });
        self
    }

    pub fn str(self, name: &'static str, value: impl Into<String>) -> Struct {
        self.field(name, Value::Str(value.into()))
    }

    pub fn int(self, name: &'static str, value: i64) -> Struct {
        self.field(name, Value::Int(value))
    }

    pub fn bool(self, name: &'static str, value: bool) -> Struct {
        self.field(name, Value::Bool(value))
    }

    pub fn strs(self, name: &'static str, values: &[String]) -> Struct {
        self.field(name, strings(values))
    }
}

/// A list of strings.
pub fn strings(values: &[String]) -> Value {
    Value::List(
        Kind::Str,
        values.iter().map(|v| Value::Str(v.clone())).collect(),
    )
}

/// A list of structures.
pub fn structs(values: Vec<Struct>) -> Value {
    Value::List(
        Kind::Struct,
        values.into_iter().map(Value::Struct).collect(),
    )
}

/// esxcli's `SplitCamelCaseName`: a space wherever a lower-case letter is followed by an
/// upper-case one, and the first letter capitalised (`DNSSearchDomains` → `DNSSearch Domains`).
pub fn split_camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for (i, c) in name.chars().enumerate() {
        if prev_lower && c.is_ascii_uppercase() {
            out.push(' ');
        }
        if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_lower = c.is_ascii_lowercase();
    }
    out
}

/// How the text mode lays a command's result out (the command's `formatter` hint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Records; `header` is the line heading each record, `%Field%` standing for a field's
    /// value (`%Name%`, `CPU:%Id%`, or a fixed `Platform Information`).
    Simple {
        header: Option<&'static str>,
    },
    Table,
    /// Setters: the text mode prints nothing.
    Silent,
}

/// What a command produced: its value and how text mode shows it. `None` is a setter's result
/// (`true` in XML, nothing in text).
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub value: Option<Value>,
    pub layout: Layout,
}

impl Output {
    pub fn records(value: Value, header: Option<&'static str>) -> Output {
        Output {
            value: Some(value),
            layout: Layout::Simple { header },
        }
    }

    pub fn table(value: Value) -> Output {
        Output {
            value: Some(value),
            layout: Layout::Table,
        }
    }

    /// A setter: nothing in text mode, `<boolean>true</boolean>` in XML.
    pub fn done() -> Output {
        Output {
            value: None,
            layout: Layout::Silent,
        }
    }

    /// A scalar result printed as is (`system uuid get`, `iscsi software get`).
    pub fn scalar(value: Value) -> Output {
        Output::records(value, None)
    }
}

/// The text rendering; empty for setters and for empty lists (esxcli prints nothing then).
pub fn render_text(out: &Output) -> String {
    let Some(value) = &out.value else {
        return String::new();
    };
    let lines = match (out.layout, value) {
        (Layout::Silent, _) => return String::new(),
        (_, Value::List(_, items)) if items.is_empty() => return String::new(),
        (Layout::Table, Value::List(Kind::Struct, items)) => table(items),
        (Layout::Simple { header }, Value::List(Kind::Struct, items)) => {
            let mut lines = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    lines.push(String::new());
                }
                if let Value::Struct(s) = item {
                    lines.extend(record(s, header));
                }
            }
            lines
        }
        (Layout::Simple { header }, Value::Struct(s)) => record(s, header),
        (_, other) => vec![scalar_text(other)],
    };
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(_, items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(", "),
        Value::Struct(s) => record(s, None).join("\n"),
    }
}

/// `_FormatDataObject`: `   Key: Value`, with nested structures on the following lines six
/// spaces further in (so their own fields sit at nine).
fn record(s: &Struct, header: Option<&'static str>) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(template) = header {
        lines.push(expand_header(template, s));
    }
    for f in &s.fields {
        let Some(display) = &f.display else {
            continue;
        };
        match &f.value {
            Value::Struct(inner) => {
                lines.push(format!("   {display}: "));
                lines.extend(
                    record(inner, None)
                        .into_iter()
                        .map(|l| format!("      {l}")),
                );
            }
            other => {
                let unit = f.unit.map(|u| format!(" {u}")).unwrap_or_default();
                lines.push(format!("   {display}: {}{unit}", scalar_text(other)));
            }
        }
    }
    lines
}

/// Replaces a `%Field%` in a header hint by that field's value.
fn expand_header(template: &str, s: &Struct) -> String {
    let mut parts = template.splitn(3, '%');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(before), Some(name), Some(after)) => {
            let value = s
                .fields
                .iter()
                .find(|f| f.name == name)
                .map(|f| scalar_text(&f.value))
                .unwrap_or_default();
            format!("{before}{value}{after}")
        }
        _ => template.to_string(),
    }
}

/// `_FormatDoListAsTable`, column for column.
fn table(items: &[Value]) -> Vec<String> {
    let rows: Vec<&Struct> = items
        .iter()
        .filter_map(|v| match v {
            Value::Struct(s) => Some(s),
            _ => None,
        })
        .collect();
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let shown = |s: &'_ Struct| -> Vec<Field> {
        s.fields
            .iter()
            .filter(|f| f.display.is_some())
            .cloned()
            .collect()
    };
    let columns = shown(first);
    let headers: Vec<&str> = columns
        .iter()
        .map(|f| f.display.as_deref().unwrap_or_default())
        .collect();
    // Integers (and booleans, an int subclass in Python) are right-justified.
    let right: Vec<bool> = columns
        .iter()
        .map(|f| matches!(f.value, Value::Int(_) | Value::Bool(_)))
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| shown(r).iter().map(|f| scalar_text(&f.value)).collect())
        .collect();
    let mut width: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut separator: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    if let (Some(last), Some(false), Some(h)) = (separator.last_mut(), right.last(), headers.last())
    {
        // A left-justified last column gets a separator as wide as its name only.
        *last = "-".repeat(h.chars().count());
    }
    let mut all: Vec<Vec<String>> = vec![headers.iter().map(|h| h.to_string()).collect()];
    all.push(separator);
    all.extend(cells);
    all.iter()
        .map(|row| {
            let n = row.len();
            let mut line = String::new();
            for (i, ((cell, w), r)) in row.iter().zip(&width).zip(&right).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = w.saturating_sub(cell.chars().count());
                if *r {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                } else if i + 1 == n {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

/// The `--formatter=json` rendering (`JsonVisitor`): fields sorted by name, `", "` between
/// members, `/` escaped as `\/`, a newline at the end.
pub fn render_json(out: &Output) -> String {
    let mut json = String::new();
    json_value(&mut json, out.value.as_ref().unwrap_or(&Value::Bool(true)));
    json.push('\n');
    json
}

fn json_value(json: &mut String, value: &Value) {
    match value {
        Value::Str(s) => {
            json.push('"');
            for c in s.chars() {
                match c {
                    '\\' => json.push_str("\\\\"),
                    '/' => json.push_str("\\/"),
                    '\u{8}' => json.push_str("\\b"),
                    '\u{c}' => json.push_str("\\f"),
                    '\n' => json.push_str("\\n"),
                    '\r' => json.push_str("\\r"),
                    '\t' => json.push_str("\\t"),
                    '"' => json.push_str("\\\""),
                    c if (c as u32) < 0x20 => {}
                    c => json.push(c),
                }
            }
            json.push('"');
        }
        Value::Int(i) => json.push_str(&i.to_string()),
        Value::Bool(b) => json.push_str(if *b { "true" } else { "false" }),
        Value::List(_, items) => {
            json.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    json.push_str(", ");
                }
                json_value(json, item);
            }
            json.push(']');
        }
        Value::Struct(s) => {
            json.push('{');
            for (i, f) in sorted_fields(s).into_iter().enumerate() {
                if i > 0 {
                    json.push_str(", ");
                }
                let _ = write!(json, "\"{}\": ", f.name);
                json_value(json, &f.value);
            }
            json.push('}');
        }
    }
}

fn sorted_fields(s: &Struct) -> Vec<&Field> {
    let mut fields: Vec<&Field> = s.fields.iter().collect();
    fields.sort_by(|a, b| a.name.cmp(b.name));
    fields
}

fn scalar_kind(value: &Value) -> &'static str {
    match value {
        Value::Int(_) => "integer",
        Value::Bool(_) => "boolean",
        _ => "string",
    }
}

/// The `--formatter=keyvalue` rendering (`KeyValueVisitor`): one `Path.To.Field.type=value`
/// line per scalar, list items as `type[i]`, an empty list as `type[] = `.
pub fn render_keyvalue(out: &Output) -> String {
    let mut kv = String::new();
    let mut keys = Vec::new();
    keyvalue(
        &mut kv,
        &mut keys,
        out.value.as_ref().unwrap_or(&Value::Bool(true)),
    );
    kv
}

fn keyvalue(kv: &mut String, keys: &mut Vec<String>, value: &Value) {
    match value {
        Value::Struct(s) => {
            keys.push(s.type_name.to_string());
            for f in sorted_fields(s) {
                keys.push(f.name.to_string());
                keyvalue(kv, keys, &f.value);
                keys.pop();
            }
            keys.pop();
        }
        Value::List(kind, items) => {
            let name = kind.xml_name();
            if items.is_empty() {
                keys.push(name.to_string());
                let _ = writeln!(kv, "{}[] = ", keys.join("."));
                keys.pop();
            }
            for (i, item) in items.iter().enumerate() {
                keys.push(format!("{name}[{i}]"));
                keyvalue(kv, keys, item);
                keys.pop();
            }
        }
        scalar => {
            let text = scalar_text(scalar).replace('\n', "\\n");
            let kind = scalar_kind(scalar);
            if keys.is_empty() {
                let _ = writeln!(kv, "{kind}={text}");
            } else {
                let _ = writeln!(kv, "{}.{kind}={text}", keys.join("."));
            }
        }
    }
}

/// The `--formatter=csv` rendering (`CsvVisitor`): a header of field names, one line per
/// structure, every value followed by a comma, nested lists quoted one level deeper.
pub fn render_csv(out: &Output) -> String {
    let mut csv = String::new();
    let value = out.value.as_ref().unwrap_or(&Value::Bool(true));
    let level = if matches!(value, Value::List(..)) {
        0
    } else {
        1
    };
    let mut header = true;
    csv_value(&mut csv, value, level, &mut header);
    csv
}

fn csv_value(csv: &mut String, value: &Value, level: usize, header: &mut bool) {
    let quotes = |n: usize| "\"".repeat(n);
    match value {
        Value::List(_, items) => {
            if items.is_empty() {
                return;
            }
            if level > 0 {
                csv.push_str(&quotes(level));
            }
            for (i, item) in items.iter().enumerate() {
                if i == 0 {
                    *header = true;
                }
                csv_value(csv, item, level + 1, header);
                *header = false;
                if !matches!(item, Value::Struct(_)) {
                    csv.push(',');
                }
            }
            if level > 0 {
                csv.push_str(&quotes(level));
            }
        }
        Value::Struct(s) => {
            let fields = sorted_fields(s);
            if *header {
                for f in &fields {
                    csv.push_str(f.name);
                    csv.push(',');
                }
                csv.push('\n');
            }
            *header = false;
            for f in fields {
                csv_value(csv, &f.value, level, header);
                csv.push(',');
            }
            csv.push('\n');
        }
        scalar => {
            let mut text = scalar_text(scalar).replace('\n', "\\n");
            let mut quote = text.contains(',');
            if text.contains('"') {
                text = text.replace('"', &quotes(level * 2));
                quote = true;
            }
            if quote {
                let q = quotes(level);
                text = format!("{q}{text}{q}");
            }
            csv.push_str(&text);
        }
    }
}

/// The `--formatter=xml` rendering.
pub fn render_xml(out: &Output) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <output xmlns=\"http://www.vmware.com/Products/ESX/5.0/esxcli\">\n<root>\n",
    );
    match &out.value {
        Some(v) => xml_value(&mut xml, v, 3),
        None => xml_value(&mut xml, &Value::Bool(true), 3),
    }
    xml.push_str("</root>\n</output>\n");
    xml
}

fn xml_value(xml: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Str(s) => {
            let _ = writeln!(xml, "{pad}<string>{}</string>", escape(s));
        }
        Value::Int(i) => {
            let _ = writeln!(xml, "{pad}<integer>{i}</integer>");
        }
        Value::Bool(b) => {
            let _ = writeln!(xml, "{pad}<boolean>{b}</boolean>");
        }
        Value::List(kind, items) => {
            let _ = writeln!(xml, "{pad}<list type=\"{}\">", kind.xml_name());
            for item in items {
                xml_value(xml, item, indent + 3);
            }
            let _ = writeln!(xml, "{pad}</list>");
        }
        Value::Struct(s) => {
            let _ = writeln!(xml, "{pad}<structure typeName=\"{}\">", escape(s.type_name));
            let mut fields: Vec<&Field> = s.fields.iter().collect();
            fields.sort_by(|a, b| a.name.cmp(b.name));
            for f in fields {
                let _ = writeln!(xml, "{pad}   <field name=\"{}\">", escape(f.name));
                xml_value(xml, &f.value, indent + 6);
                let _ = writeln!(xml, "{pad}   </field>");
            }
            let _ = writeln!(xml, "{pad}</structure>");
        }
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_split_matches_esxcli() {
        assert_eq!(split_camel_case("DNSSearchDomains"), "DNSSearch Domains");
        assert_eq!(split_camel_case("DNSServers"), "DNSServers");
        assert_eq!(split_camel_case("RXDispQueueSize"), "RXDisp Queue Size");
        assert_eq!(split_camel_case("domainName"), "Domain Name");
    }

    /// A real ESXi `network ip interface ipv4 get` (public capture): a boolean last column is
    /// right-justified, so its separator spans the column.
    #[test]
    fn table_matches_a_captured_ipv4_get() {
        let row = Struct::new("IPv4Interface")
            .str("Name", "vmk0")
            .shown(
                "IPv4Address",
                "IPv4 Address",
                Value::Str("192.168.1.11".into()),
            )
            .shown(
                "IPv4Netmask",
                "IPv4 Netmask",
                Value::Str("255.255.255.0".into()),
            )
            .shown(
                "IPv4Broadcast",
                "IPv4 Broadcast",
                Value::Str("192.168.1.255".into()),
            )
            .str("AddressType", "STATIC")
            .str("Gateway", "192.168.1.1")
            .shown("DHCPDNS", "DHCP DNS", Value::Bool(false));
        let text = render_text(&Output::table(structs(vec![row])));
        assert_eq!(
            text,
            "Name  IPv4 Address  IPv4 Netmask   IPv4 Broadcast  Address Type  Gateway      DHCP DNS\n\
             ----  ------------  -------------  --------------  ------------  -----------  --------\n\
             vmk0  192.168.1.11  255.255.255.0  192.168.1.255   STATIC        192.168.1.1     false\n"
        );
    }

    #[test]
    fn records_and_xml() {
        let s = Struct::new("VirtualSwitch")
            .str("Name", "vSwitch0")
            .strs("BeaconRequiredBy", &[])
            .strs("Uplinks", &["vmnic0".into(), "vmnic1".into()]);
        let out = Output::records(structs(vec![s]), Some("%Name%"));
        assert_eq!(
            render_text(&out),
            "vSwitch0\n   Name: vSwitch0\n   Beacon Required By: \n   Uplinks: vmnic0, vmnic1\n"
        );
        let xml = render_xml(&out);
        let beacon = xml.find("BeaconRequiredBy").unwrap_or(usize::MAX);
        let name = xml.find("\"Name\"").unwrap_or(0);
        assert!(beacon < name, "fields are sorted by name: {xml}");
        assert!(xml.contains("            <list type=\"string\">\n            </list>\n"));
    }

    #[test]
    fn setters_print_nothing_in_text_and_true_in_xml() {
        assert_eq!(render_text(&Output::done()), "");
        assert!(
            render_xml(&Output::done()).contains("<root>\n   <boolean>true</boolean>\n</root>")
        );
    }
}
