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
    pub annotation: String,
}

/// `getallvms` rows are not aligned to the header and names and datastores hold spaces, so a
/// row is read by its anchors: the numeric id first, the `[datastore] … .vmx` path, then the
/// guest id and `vmx-NN` words; the name is what lies between id and path, the annotation what
/// follows. Lines that do not start with an id (the header, "Skipping invalid VM", annotation
/// continuation lines) are ignored.
pub fn getallvms(output: &str) -> Vec<VmRow> {
    output.lines().filter_map(vm_row).collect()
}

fn vm_row(line: &str) -> Option<VmRow> {
    let line = line.trim_end();
    let id_len = line.find(|c: char| !c.is_ascii_digit())?;
    if id_len == 0 {
        return None;
    }
    let vmid = line.get(..id_len)?.to_string();
    let rest = line.get(id_len..)?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let vmx_end = rest
        .match_indices(".vmx")
        .map(|(i, _)| i.saturating_add(4))
        .find(|&end| {
            rest.get(end..)
                .is_some_and(|t| t.is_empty() || t.starts_with([' ', '\t']))
        })?;
    let before = rest.get(..vmx_end)?;
    let path_start = before.find(" [")?.saturating_add(1);
    let name = before.get(..path_start)?.trim().to_string();
    let vmx_path = before.get(path_start..)?.trim().to_string();
    let mut tail = rest.get(vmx_end..)?.split_whitespace();
    let guest_os = tail.next().unwrap_or_default().to_string();
    let version = tail.next().unwrap_or_default().to_string();
    let annotation = tail.collect::<Vec<_>>().join(" ");
    Some(VmRow {
        vmid,
        name,
        vmx_path,
        guest_os,
        version,
        annotation,
    })
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

    #[test]
    fn getallvms_reads_names_and_paths_with_spaces() {
        let out = "Vmid        Name                    File                      Guest OS       Version   Annotation\n\
1      web 01       [local ds 1] web 01/web 01.vmx   rhel8_64Guest   vmx-19    front end, rack 4\n\
12     db      [datastore1] db/db.vmx    otherGuest64    vmx-14\n\
Skipping invalid VM '7'\n";
        let rows = getallvms(out);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].vmid, "1");
        assert_eq!(rows[0].name, "web 01");
        assert_eq!(rows[0].vmx_path, "[local ds 1] web 01/web 01.vmx");
        assert_eq!(rows[0].guest_os, "rhel8_64Guest");
        assert_eq!(rows[0].version, "vmx-19");
        assert_eq!(rows[0].annotation, "front end, rack 4");
        assert_eq!(rows[1].annotation, "");
        assert!(getallvms("Vmid Name File\n").is_empty());
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
