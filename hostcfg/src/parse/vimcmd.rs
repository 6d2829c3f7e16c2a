//! The `vim-cmd` outputs that are loose text rather than VMODL.

use crate::facts::Snapshot;

/// One row of `vim-cmd vmsvc/getallvms`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmRow {
    pub vmid: String,
    pub name: String,
    /// `[datastore] dir/name.vmx`.
    pub vmx_path: String,
    pub guest_os: String,
    pub version: String,
    /// Free text; the lines of a multi-line annotation joined with `\n`.
    pub annotation: String,
}

/// `getallvms` prints a fixed header (`Vmid Name File Guest OS Version Annotation`) laid out on
/// other widths than the rows, then one row per VM: `%-7s` id, then name, file, guest and
/// version each padded (in bytes) to the widest value of its column plus three spaces, then
/// the annotation as stored — a multi-line annotation continues on lines of its own.
///
/// Names and datastore names may hold spaces and `[`, so a row is read by its anchors: the
/// numeric id, the `.vmx` (a template's `.vmtx`) that ends the path (followed by the guest id
/// and `vmx-NN`). Where the path starts is ambiguous within one row
/// (`db [prod]   [san 01] db/db.vmx`): it is the `[` at the one byte column every row has a
/// candidate at (rows are padded alike), else the candidate after the widest gap. Lines that are not rows continue the annotation of the row
/// before; the header and "Skipping invalid VM" lines are dropped. The per-VM config says the
/// name and path without any of this guessing; collectors prefer it.
pub fn getallvms(output: &str) -> Vec<VmRow> {
    let mut rows: Vec<(VmRow, &str, Vec<usize>)> = Vec::new();
    for line in output.lines().map(|l| l.trim_end_matches('\r')) {
        if let Some(row) = vm_row(line) {
            rows.push(row);
            continue;
        }
        let skip = line.trim_start().starts_with("Skipping invalid VM")
            || (rows.is_empty() && line.trim_start().starts_with("Vmid"));
        if let Some((last, _, _)) = rows.last_mut().filter(|_| !skip) {
            last.annotation.push('\n');
            last.annotation.push_str(line.trim_end());
        }
    }
    // A byte column where every row has a candidate path start.
    let common: Vec<usize> = rows
        .first()
        .map(|(_, _, cands)| {
            cands
                .iter()
                .copied()
                .filter(|c| rows.iter().all(|(_, _, other)| other.contains(c)))
                .collect()
        })
        .unwrap_or_default();
    rows.into_iter()
        .map(|(mut row, before, cands)| {
            let start = match common.as_slice() {
                [one] => Some(*one),
                _ => widest_gap(before, &cands),
            };
            if let Some(start) = start {
                let id_len = row.vmid.len();
                row.name = before
                    .get(id_len..start)
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                row.vmx_path = before.get(start..).unwrap_or_default().trim().to_string();
            }
            row.annotation = row.annotation.trim_end().to_string();
            row
        })
        .collect()
}

/// The lines of a `getallvms` output that are neither the header, a row, an annotation's
/// continuation (which only follow a row) nor "Skipping invalid VM": what [`getallvms`] could
/// not read, for a warning.
pub fn unread_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .map(str::trim)
        .take_while(|l| vm_row(l).is_none())
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Vmid") && !l.starts_with("Skipping invalid VM")
        })
        .map(str::to_string)
        .collect()
}

/// The candidate path start with the most whitespace before it (the last such on a tie).
fn widest_gap(before: &str, candidates: &[usize]) -> Option<usize> {
    candidates.iter().copied().max_by_key(|&at| {
        before
            .get(..at)
            .unwrap_or_default()
            .chars()
            .rev()
            .take_while(|c| c.is_whitespace())
            .count()
    })
}

/// A row's id, guest, version and annotation; the text that holds name and path (from the
/// line start up to the `.vmx`) and the byte columns where the path could start.
fn vm_row(line: &str) -> Option<(VmRow, &str, Vec<usize>)> {
    let id_len = line.find(|c: char| !c.is_ascii_digit())?;
    if id_len == 0 || !line.get(id_len..)?.starts_with([' ', '\t']) {
        return None;
    }
    let vmid = line.get(..id_len)?.to_string();
    // The `.vmx` (`.vmtx` for a template) that ends the path: the one followed by
    // `guest vmx-NN` if any is, else the last one followed by whitespace or the line end.
    let ends: Vec<usize> = line
        .match_indices(".vm")
        .filter_map(|(i, _)| {
            let rest = line.get(i..)?;
            let len = [".vmx", ".vmtx"]
                .iter()
                .find(|s| rest.starts_with(**s))?
                .len();
            Some(i.saturating_add(len))
        })
        .filter(|&end| {
            line.get(end..)
                .is_some_and(|t| t.is_empty() || t.starts_with([' ', '\t']))
        })
        .collect();
    let versioned = |end: &usize| {
        let mut words = line.get(*end..).unwrap_or_default().split_whitespace();
        let first = words.next().unwrap_or_default();
        is_hw_version(first) || words.next().is_some_and(is_hw_version)
    };
    let vmx_end = ends
        .iter()
        .copied()
        .find(versioned)
        .or_else(|| ends.last().copied())?;
    let before = line.get(..vmx_end)?;
    let candidates: Vec<usize> = before
        .char_indices()
        .filter(|&(i, c)| {
            c == '['
                && i > id_len
                && before
                    .get(..i)
                    .and_then(|b| b.chars().next_back())
                    .is_some_and(char::is_whitespace)
                && !before.get(id_len..i).unwrap_or_default().trim().is_empty()
                && before.get(i..).is_some_and(|p| p.contains("] "))
        })
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        return None;
    }
    // `guest vmx-NN annotation`; a guest id may be missing, never the version.
    let (first, after_first) = first_word(line.get(vmx_end..)?);
    let (second, after_second) = first_word(after_first);
    let (guest_os, version, rest) = if is_hw_version(first) {
        ("", first, after_first)
    } else if is_hw_version(second) {
        (first, second, after_second)
    } else {
        (first, "", after_first)
    };
    let (guest_os, version) = (guest_os.to_string(), version.to_string());
    let annotation = rest.trim().to_string();
    let row = VmRow {
        vmid,
        guest_os,
        version,
        annotation,
        ..VmRow::default()
    };
    Some((row, before, candidates))
}

/// The first whitespace-separated word of `text` and what follows it.
fn first_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    (
        text.get(..end).unwrap_or_default(),
        text.get(end..).unwrap_or_default(),
    )
}

/// `vmx-19`.
fn is_hw_version(word: &str) -> bool {
    word.strip_prefix("vmx-")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// `vim-cmd vmsvc/snapshot.get`: a tree drawn with dashes, `--` per level. The root snapshot
/// is depth 0. ESXi spells the description key `Desciption`; both spellings are read.
pub fn snapshots(output: &str) -> Vec<Snapshot> {
    let mut out: Vec<Snapshot> = Vec::new();
    for line in output.lines() {
        let dashes = line.chars().take_while(|c| *c == '-').count();
        let Some(body) = line.get(dashes..) else {
            continue;
        };
        let Some((key, value)) = body.split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        match key.trim() {
            "Snapshot Name" => out.push(Snapshot {
                name: value,
                depth: u32::try_from(dashes / 2)
                    .unwrap_or(u32::MAX)
                    .saturating_sub(1),
                ..Snapshot::default()
            }),
            "Snapshot Desciption" | "Snapshot Description" => {
                if let Some(last) = out.last_mut() {
                    last.description = value;
                }
            }
            "Snapshot Created On" => {
                if let Some(last) = out.last_mut() {
                    last.created = value;
                }
            }
            _ => {}
        }
    }
    out
}

/// Where `backup_config` left the bundle on the host: the URL it prints
/// (`Bundle can be downloaded at : http://*/downloads/<uuid>/configBundle-<fqdn>.tgz`, 5.x
/// without the `<uuid>/` level) mapped to `/scratch/downloads/…`.
pub fn bundle_path(output: &str) -> Option<String> {
    let line = output
        .lines()
        .find(|l| l.contains("Bundle can be downloaded at"))?;
    let url = line
        .split_once(" at")?
        .1
        .trim_start()
        .trim_start_matches(':')
        .trim();
    let after = url.split_once("/downloads/")?.1;
    // Some copies show a space after `downloads/`; a file name never starts with one.
    let relative: String = after.trim().to_string();
    let valid = !relative.is_empty()
        && relative.ends_with(".tgz")
        && relative.split('/').all(|part| {
            !part.is_empty() && part != ".." && part != "." && !part.contains(char::is_whitespace)
        })
        && relative.split('/').count() <= 2;
    valid.then(|| format!("/scratch/downloads/{relative}"))
}

/// `vim-cmd vmsvc/power.getstate`: `Retrieved runtime info` then `Powered on`.
pub fn powered_on(output: &str) -> Option<bool> {
    output.lines().find_map(|l| match l.trim() {
        "Powered on" => Some(true),
        "Powered off" | "Suspended" => Some(false),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows laid out as the host prints them: `%-7s` id, then each column padded in bytes to
    /// its widest value plus three spaces, the annotation as stored.
    fn host_rows(rows: &[[&str; 6]]) -> String {
        let width = |c: usize| rows.iter().map(|r| r[c].len()).max().unwrap_or(0) + 3;
        let mut out = "Vmid      Name                         File                           Guest OS         Version   Annotation\n".to_string();
        for r in rows {
            out.push_str(&format!("{:<7}", r[0]));
            for (c, cell) in r.iter().enumerate().take(5).skip(1) {
                out.push_str(&format!("{cell:<w$}", w = width(c)));
            }
            out.push_str(r[5]);
            out.push('\n');
        }
        out
    }

    #[test]
    fn getallvms_brackets_and_spaces_in_names_and_datastores() {
        let out = host_rows(&[
            [
                "1",
                "esx01-web01",
                "[san [gold] 01] esx01-web01/esx01-web01.vmx",
                "ubuntu64Guest",
                "vmx-19",
                "Built by CI\nowner: web team\n\n2 [x] y.vmx notes",
            ],
            [
                "2",
                "esx01-db 01 [prod]",
                "[datastore1] esx01-db 01 [prod]/esx01-db 01 [prod].vmx",
                "windows2019srv_64Guest",
                "vmx-19",
                "",
            ],
            [
                "12",
                "[tmp] scratch",
                "[san [gold] 01] scratch/scratch.vmx",
                "otherGuest64",
                "vmx-14",
                "a  b",
            ],
        ]);
        let rows = getallvms(&out);
        assert_eq!(rows.len(), 3, "{rows:#?}");
        assert_eq!(rows[0].name, "esx01-web01");
        assert_eq!(
            rows[0].vmx_path,
            "[san [gold] 01] esx01-web01/esx01-web01.vmx"
        );
        assert_eq!(
            rows[0].annotation,
            "Built by CI\nowner: web team\n\n2 [x] y.vmx notes"
        );
        assert_eq!(rows[1].vmid, "2");
        assert_eq!(rows[1].name, "esx01-db 01 [prod]");
        assert_eq!(
            rows[1].vmx_path,
            "[datastore1] esx01-db 01 [prod]/esx01-db 01 [prod].vmx"
        );
        assert_eq!(
            (rows[1].guest_os.as_str(), rows[1].version.as_str()),
            ("windows2019srv_64Guest", "vmx-19")
        );
        assert_eq!(rows[1].annotation, "");
        assert_eq!(rows[2].name, "[tmp] scratch");
        assert_eq!(rows[2].vmx_path, "[san [gold] 01] scratch/scratch.vmx");
        assert_eq!(rows[2].annotation, "a  b");
    }

    #[test]
    fn getallvms_single_rows_as_captured() {
        // One row gives no second row to line up with: the widest gap before a `[` wins.
        let out = "Vmid      Name                        File                           Guest OS        Version   Annotation\n\
1424   sap-router   [datastore1 (4)] sap-router/win2k8x64.vmx   winLonghorn64Guest   vmx-07              \n";
        let rows = getallvms(out);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "sap-router");
        assert_eq!(
            rows[0].vmx_path,
            "[datastore1 (4)] sap-router/win2k8x64.vmx"
        );
        assert_eq!(rows[0].version, "vmx-07");
        // An ESXi 8 capture: the header on other widths than the row.
        let rows = getallvms(
            "Vmid   Name     File              Guest OS       Version   Annotation\n1      x8     [pve-esx] x8/x8.vmx   centos9_64Guest   vmx-20    \n",
        );
        assert_eq!(
            (rows[0].name.as_str(), rows[0].vmx_path.as_str()),
            ("x8", "[pve-esx] x8/x8.vmx")
        );
        assert_eq!(rows[0].guest_os, "centos9_64Guest");
        let one = host_rows(&[[
            "3",
            "db 01 [prod]",
            "[local ds] db 01 [prod]/db 01 [prod].vmx",
            "otherGuest64",
            "vmx-20",
            "",
        ]]);
        let rows = getallvms(&one);
        assert_eq!(rows[0].name, "db 01 [prod]");
        assert_eq!(rows[0].vmx_path, "[local ds] db 01 [prod]/db 01 [prod].vmx");
    }

    #[test]
    fn getallvms_skips_what_is_not_a_row() {
        assert!(getallvms("Vmid   Name   File   Guest OS   Version   Annotation\n").is_empty());
        assert!(getallvms("").is_empty());
        assert!(getallvms("Skipping invalid VM '7'\n").is_empty());
        let out = "Vmid Name File Guest OS Version Annotation\n\
5      vm   [ds] vm/vm.vmx   otherGuest   vmx-13   x\n\
Skipping invalid VM '7'\n\
12 apples\n";
        let rows = getallvms(out);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].annotation, "x\n12 apples",
            "a line without a path continues the annotation"
        );
        assert!(unread_lines(out).is_empty());
        let odd = "Vmid Name File\n7 vm [ds] vm/vm.ovf x\n5      vm   [ds] vm/vm.vmx   otherGuest   vmx-13\n";
        assert_eq!(unread_lines(odd), ["7 vm [ds] vm/vm.ovf x"]);
        // Templates are registered with a `.vmtx`.
        let rows = getallvms("3      tmpl   [ds 1] tmpl/tmpl.vmtx   rhel9_64Guest   vmx-21\n");
        assert_eq!(
            (rows[0].name.as_str(), rows[0].vmx_path.as_str()),
            ("tmpl", "[ds 1] tmpl/tmpl.vmtx")
        );
        // No guest id printed: the version still lands in its column.
        let rows = getallvms("9      vm   [ds] vm/vm.vmx   vmx-13\n");
        assert_eq!(
            (rows[0].guest_os.as_str(), rows[0].version.as_str()),
            ("", "vmx-13")
        );
    }

    #[test]
    fn snapshot_tree_depths_and_both_spellings() {
        let out = "Get Snapshot:\n|-ROOT\n--Snapshot Name        : base\n--Snapshot Id        : 1\n--Snapshot Desciption  : before patch\n--Snapshot Created On  : 2/23/2015 18:12:50\n--Snapshot State       : powered on\n--|-CHILD\n----Snapshot Name        : child\n----Snapshot Description  : \n";
        let s = snapshots(out);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].name.as_str(), s[0].depth), ("base", 0));
        assert_eq!(s[0].description, "before patch");
        assert_eq!(s[0].created, "2/23/2015 18:12:50");
        assert_eq!((s[1].name.as_str(), s[1].depth), ("child", 1));
        assert!(snapshots("Get Snapshot:\n").is_empty());
    }

    #[test]
    fn bundle_url_with_and_without_uuid_level() {
        assert_eq!(
            bundle_path("Bundle can be downloaded at : http://*/downloads/52ce000f-cad4/configBundle-esx.local.tgz\n").as_deref(),
            Some("/scratch/downloads/52ce000f-cad4/configBundle-esx.local.tgz")
        );
        assert_eq!(
            bundle_path("Bundle can be downloaded at : http://*/downloads/configBundle-esx.tgz")
                .as_deref(),
            Some("/scratch/downloads/configBundle-esx.tgz")
        );
        assert_eq!(
            bundle_path("Bundle can be downloaded at : http://*/downloads/../../etc/shadow.tgz"),
            None
        );
        assert_eq!(bundle_path("nothing"), None);
    }

    #[test]
    fn power_state() {
        assert_eq!(
            powered_on("Retrieved runtime info\nPowered on\n"),
            Some(true)
        );
        assert_eq!(
            powered_on("Retrieved runtime info\nPowered off\n"),
            Some(false)
        );
        assert_eq!(powered_on("garbage"), None);
    }
}
