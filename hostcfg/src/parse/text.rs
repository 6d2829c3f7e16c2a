//! esxcli's default text output, for hosts where `--formatter=xml` fails.
//!
//! Three shapes (hostops.md §2.1), told apart by their layout:
//! - a **table**: a header line, a line of dash groups, then rows. Columns are the dash groups'
//!   spans, so values with spaces (datastore and port group names) stay whole; the last column
//!   runs to the end of the line (free-text descriptions);
//! - **records**: blocks separated by blank lines, each a header line at column 0 followed by
//!   indented `Key: Value` lines (the header becomes the structure's type name);
//! - a **`Key: Value` list**: one structure.
//!
//! Anything else is a bare value: one line is a string (`system uuid get`), several lines a list.

use super::{Structure, Value};

/// Parses one esxcli text output. Text is never malformed, only more or less structured, so
/// this cannot fail.
pub fn parse(input: &str) -> Value {
    let lines: Vec<&str> = input
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .skip_while(|l| l.trim().is_empty())
        .collect();
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i.saturating_add(1));
    let lines = lines.get(..end).unwrap_or_default();
    if let [header, dashes, rows @ ..] = lines {
        if is_dash_line(dashes) {
            return table(header, dashes, rows);
        }
    }
    if lines.iter().any(|l| is_record_header(l)) && lines.iter().any(|l| key_value(l).is_some()) {
        return records(lines);
    }
    if !lines.is_empty()
        && lines
            .iter()
            .all(|l| l.trim().is_empty() || key_value(l).is_some())
    {
        return Value::Structure(Structure {
            type_name: String::new(),
            fields: lines.iter().filter_map(|l| key_value(l)).collect(),
        });
    }
    match lines {
        [] => Value::List(Vec::new()),
        [one] => Value::String(one.trim().to_string()),
        many => Value::List(
            many.iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .map(|l| Value::String(l.to_string()))
                .collect(),
        ),
    }
}

fn is_dash_line(line: &str) -> bool {
    line.contains('-') && line.chars().all(|c| c == '-' || c == ' ')
}

/// A record header is at column 0 and is not itself a `Key: Value` line.
fn is_record_header(line: &str) -> bool {
    !line.is_empty() && !line.starts_with([' ', '\t']) && key_value(line).is_none()
}

/// `   Key: Value` or `Key:` (an empty value).
fn key_value(line: &str) -> Option<(String, Value)> {
    let trimmed = line.trim();
    let (key, value) = match trimmed.split_once(": ") {
        Some(kv) => kv,
        None => (trimmed.strip_suffix(':')?, ""),
    };
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    Some((key.to_string(), Value::String(value.trim().to_string())))
}

/// Column spans (in characters) from the dash groups: each column starts at its dash group and
/// ends where the next one starts; the last is open-ended.
fn table(header: &str, dashes: &str, rows: &[&str]) -> Value {
    let mut starts = Vec::new();
    let mut previous = ' ';
    for (i, c) in dashes.chars().enumerate() {
        if c == '-' && previous == ' ' {
            starts.push(i);
        }
        previous = c;
    }
    let cut = |line: &str, col: usize| -> String {
        let from = starts.get(col).copied().unwrap_or(usize::MAX);
        let to = starts.get(col.saturating_add(1)).copied();
        let chars = line.chars().skip(from);
        let text: String = match to {
            Some(to) => chars.take(to.saturating_sub(from)).collect(),
            None => chars.collect(),
        };
        text.trim().to_string()
    };
    let names: Vec<String> = (0..starts.len()).map(|c| cut(header, c)).collect();
    Value::List(
        rows.iter()
            .filter(|r| !r.trim().is_empty())
            .map(|row| {
                Value::Structure(Structure {
                    type_name: String::new(),
                    fields: names
                        .iter()
                        .enumerate()
                        .map(|(c, n)| (n.clone(), Value::String(cut(row, c))))
                        .collect(),
                })
            })
            .collect(),
    )
}

fn records(lines: &[&str]) -> Value {
    let mut out: Vec<Value> = Vec::new();
    let mut current: Option<Structure> = None;
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        if is_record_header(line) {
            if let Some(done) = current.take() {
                out.push(Value::Structure(done));
            }
            current = Some(Structure {
                type_name: line.trim().to_string(),
                fields: Vec::new(),
            });
        } else if let Some((k, v)) = key_value(line) {
            current
                .get_or_insert_with(Structure::default)
                .fields
                .push((k, v));
        }
    }
    if let Some(done) = current {
        out.push(Value::Structure(done));
    }
    Value::List(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_keeps_values_with_spaces_and_empty_cells() {
        let out = "\
Mount Point                                        Volume Name  UUID                                 Mounted  Type            Size          Free
-------------------------------------------------  -----------  -----------------------------------  -------  ------  ------------  ------------
/vmfs/volumes/6123abcd-11111111-2222-001122334455  my local ds  6123abcd-11111111-2222-001122334455     true  VMFS-6  255550554112  250000000000
/vmfs/volumes/aa11-bb22                                         aa11-bb22                               true  vfat       299712512     100000000
";
        let v = parse(out);
        let rows = v.structures();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text("Volume Name"), "my local ds");
        assert_eq!(rows[0].int("Size"), Some(255550554112));
        assert_eq!(rows[1].text("VolumeName"), "");
        assert_eq!(rows[1].text("Type"), "vfat");
    }

    #[test]
    fn ipv4_get_with_and_without_the_gateway_column() {
        let new = "\
Name  IPv4 Address  IPv4 Netmask   IPv4 Broadcast  Address Type  Gateway   DHCP DNS
----  ------------  -------------  --------------  ------------  --------  --------
vmk0  10.0.0.11     255.255.255.0  10.0.0.255      STATIC        10.0.0.1     false
vmk1  10.0.1.11     255.255.255.0  10.0.1.255      STATIC        0.0.0.0      false
";
        let old = "\
Name  IPv4 Address  IPv4 Netmask   IPv4 Broadcast  Address Type  DHCP DNS
----  ------------  -------------  --------------  ------------  --------
vmk0  10.0.0.11     255.255.255.0  10.0.0.255      STATIC           false
";
        for out in [new, old] {
            let v = parse(out);
            let rows = v.structures();
            assert_eq!(rows[0].text("IPv4Address"), "10.0.0.11");
            assert_eq!(rows[0].text("IPv4 Netmask"), "255.255.255.0");
            assert_eq!(rows[0].flag("DHCPDNS"), Some(false));
        }
        assert_eq!(parse(new).structures()[1].text("Gateway"), "0.0.0.0");
        assert_eq!(parse(old).structures()[0].text("Gateway"), "");
    }

    #[test]
    fn nic_list_keeps_the_free_text_description_whole() {
        let out = "\
Name    PCI Device    Driver  Admin Status  Link Status  Speed  Duplex  MAC Address         MTU  Description
------  ------------  ------  ------------  -----------  -----  ------  -----------------  ----  -----------
vmnic0  0000:18:00.0  i40en   Up            Up           10000  Full    3c:fd:fe:00:00:01  9000  Intel(R) Ethernet Controller X710 for 10GbE SFP+
vmnic1  0000:18:00.1  i40en   Up            Down             0  Half    3c:fd:fe:00:00:02  1500  Intel(R)  Ethernet  (spaced)
";
        let v = parse(out);
        let n = v.structures();
        assert_eq!(
            n[0].text("Description"),
            "Intel(R) Ethernet Controller X710 for 10GbE SFP+"
        );
        assert_eq!(n[1].text("Description"), "Intel(R)  Ethernet  (spaced)");
        assert_eq!(
            (n[0].flag("Link Status"), n[1].flag("LinkStatus")),
            (Some(true), Some(false))
        );
        assert_eq!(
            (n[0].int("Speed"), n[1].int("Speed")),
            (Some(10000), Some(0))
        );
        assert_eq!(n[0].text("MACAddress"), "3c:fd:fe:00:00:01");
    }

    #[test]
    fn records_take_the_header_as_type_name() {
        let out = "\
vSwitch0
   Name: vSwitch0
   MTU: 1500
   Uplinks: vmnic1, vmnic0
   Portgroups: VM Network, Management Network
   Beacon Required By:

vSwitch1
   Name: vSwitch1
   Uplinks:
";
        let v = parse(out);
        let s = v.structures();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].type_name, "vSwitch0");
        assert_eq!(s[0].strings("Uplinks"), ["vmnic1", "vmnic0"]);
        assert_eq!(
            s[0].strings("Portgroups"),
            ["VM Network", "Management Network"]
        );
        assert!(s[1].strings("Uplinks").is_empty());
    }

    #[test]
    fn key_value_list_and_bare_values() {
        let v =
            parse("   Product: VMware ESXi\n   Version: 8.0.2\n   Build: Releasebuild-22380479\n");
        assert_eq!(v.structures()[0].text("Build"), "Releasebuild-22380479");
        assert_eq!(parse("Disabled\n"), Value::String("Disabled".into()));
        assert_eq!(parse(""), Value::List(vec![]));
        assert_eq!(
            parse("a\nb\n"),
            Value::List(vec![Value::String("a".into()), Value::String("b".into())])
        );
    }
}
