//! `configBundle-<fqdn>.tgz`, as `vim-cmd hostsvc/firmware/backup_config` writes it.
//!
//! A gzip'd tar holding `Manifest.txt` (`UUID=`, `BUILD=`, `VERSION=` lines naming the host the
//! bundle came from), `state.tgz` (itself holding `local.tgz`, which holds `etc/…`: a rendered
//! `esx.conf` and the simulator's state as `etc/vmware/esxsim-state.json`) and `jumpstrt.gz`.
//! The nesting is the one ESXi uses (hostops.md §1.3); the simulator restores from the JSON.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::Error;
use crate::state::{Corruption, State};
use crate::store::write_atomically;

const STATE_MEMBER: &str = "etc/vmware/esxsim-state.json";

/// What `Manifest.txt` says about the host a bundle came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub uuid: String,
    pub build: String,
    pub version: String,
}

impl Manifest {
    fn render(&self) -> String {
        format!(
            "UUID={}\nBUILD={}\nVERSION={}\n",
            self.uuid, self.build, self.version
        )
    }

    fn parse(text: &str) -> Result<Manifest, Error> {
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
                .map(|v| v.trim().to_string())
                .ok_or_else(|| Error::Bundle(format!("Manifest.txt has no {key}= line")))
        };
        Ok(Manifest {
            uuid: field("UUID")?,
            build: field("BUILD")?,
            version: field("VERSION")?,
        })
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn tar_gz(members: &[(&str, Vec<u8>)]) -> Result<Vec<u8>, Error> {
    let gz = GzEncoder::new(Vec::new(), Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mtime = now();
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, data.as_slice())
            .map_err(|e| Error::Bundle(format!("cannot add {name}: {e}")))?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| Error::Bundle(format!("cannot finish tar: {e}")))?;
    gz.finish()
        .map_err(|e| Error::Bundle(format!("cannot finish gzip: {e}")))
}

/// The members of a gzip'd tar, by name.
fn untar_gz(bytes: &[u8], what: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(Error::Bundle(format!("{what} is not gzip data")));
    }
    let mut tar = tar::Archive::new(GzDecoder::new(bytes));
    let entries = tar
        .entries()
        .map_err(|e| Error::Bundle(format!("{what} is not a gzip'd tar: {e}")))?;
    let mut out = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::Bundle(format!("{what} is damaged: {e}")))?;
        let name = entry
            .path()
            .map_err(|e| Error::Bundle(format!("{what}: bad member name: {e}")))?
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| Error::Bundle(format!("{what}: {name} is truncated: {e}")))?;
        out.push((name, data));
    }
    if out.is_empty() {
        return Err(Error::Bundle(format!("{what} is empty")));
    }
    Ok(out)
}

fn member<'a>(members: &'a [(String, Vec<u8>)], name: &str, what: &str) -> Result<&'a [u8], Error> {
    members
        .iter()
        .find(|(n, _)| n.trim_start_matches("./") == name)
        .map(|(_, d)| d.as_slice())
        .ok_or_else(|| Error::Bundle(format!("{what} has no {name}")))
}

/// esx.conf lines for the parts of the state an admin would recognise.
fn esx_conf(st: &State) -> String {
    let mut c = String::new();
    let mut line = |k: &str, v: &str| {
        c.push_str(k);
        c.push_str(" = \"");
        c.push_str(v);
        c.push_str("\"\n");
    };
    line("/adv/Misc/HostName", &st.host.hostname);
    line("/system/uuid", &st.host.uuid);
    for (i, v) in st.vswitches.iter().enumerate() {
        line(&format!("/net/vswitch/child[{i:04}]/name"), &v.name);
        line(
            &format!("/net/vswitch/child[{i:04}]/mtu"),
            &v.mtu.to_string(),
        );
    }
    for (i, p) in st.portgroups.iter().enumerate() {
        line(&format!("/net/portgroup/child[{i:04}]/name"), &p.name);
        line(
            &format!("/net/portgroup/child[{i:04}]/vlanId"),
            &p.vlan.to_string(),
        );
    }
    for (i, v) in st.vmknics.iter().enumerate() {
        line(&format!("/net/vmkernelnic/child[{i:04}]/name"), &v.name);
        line(
            &format!("/net/vmkernelnic/child[{i:04}]/ipv4address"),
            &v.ipv4.address,
        );
    }
    for (i, s) in st.dns.servers.iter().enumerate() {
        line(&format!("/net/dns/server[{i:04}]"), s);
    }
    c
}

/// A fresh directory name under `downloads/`, shaped like the host's (`8-4-4-4-12` hex).
fn download_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut x = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    let mut hex = String::new();
    while hex.len() < 32 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        hex.push_str(&format!("{:08x}", x >> 32));
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Writes a bundle of `st` under `<scratch>/downloads/<id>/` and returns its path and the line
/// backup_config prints.
pub fn write(st: &State) -> Result<(PathBuf, String), Error> {
    let mut manifest = Manifest {
        uuid: st.host.uuid.clone(),
        build: st.host.version.build.clone(),
        version: st.host.version.version.clone(),
    };
    match st.faults.corrupt_bundle {
        Some(Corruption::WrongUuid) => {
            manifest.uuid = "00000000-0000-0000-0000-000000000000".into()
        }
        Some(Corruption::WrongBuild) => manifest.build = "1".into(),
        _ => {}
    }
    let json = serde_json::to_vec_pretty(st).map_err(|e| Error::Encode(e.to_string()))?;
    let local = tar_gz(&[
        ("etc/vmware/esx.conf", esx_conf(st).into_bytes()),
        (STATE_MEMBER, json),
    ])?;
    let state_tgz = tar_gz(&[("local.tgz", local)])?;
    let mut jump = GzEncoder::new(Vec::new(), Compression::fast());
    jump.write_all(b"jumpstart\n")
        .map_err(|e| Error::Bundle(e.to_string()))?;
    let jump = jump.finish().map_err(|e| Error::Bundle(e.to_string()))?;
    let mut bundle = tar_gz(&[
        ("Manifest.txt", manifest.render().into_bytes()),
        ("state.tgz", state_tgz),
        ("jumpstrt.gz", jump),
    ])?;
    match st.faults.corrupt_bundle {
        Some(Corruption::BadGzip) => bundle = b"this is not a gzip stream\n".repeat(64),
        Some(Corruption::TruncatedTar) => bundle = truncated_tar(&bundle)?,
        _ => {}
    }
    let id = download_id();
    let name = format!("configBundle-{}.tgz", st.host.fqdn());
    let dir = Path::new(&st.paths.scratch).join("downloads").join(&id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(&name);
    write_atomically(&path, &bundle)?;
    let line = format!("Bundle can be downloaded at : http://*/downloads/{id}/{name}");
    Ok((path, line))
}

/// A valid gzip stream of the bundle's tar cut in the middle of its second member.
fn truncated_tar(bundle: &[u8]) -> Result<Vec<u8>, Error> {
    let mut tar = Vec::new();
    GzDecoder::new(bundle)
        .read_to_end(&mut tar)
        .map_err(|e| Error::Bundle(e.to_string()))?;
    let cut = tar.len().min(512 * 3 + 100);
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(tar.get(..cut).unwrap_or_default())
        .map_err(|e| Error::Bundle(e.to_string()))?;
    gz.finish().map_err(|e| Error::Bundle(e.to_string()))
}

/// Reads a bundle: its manifest and the state it holds.
pub fn read(bytes: &[u8]) -> Result<(Manifest, State), Error> {
    let outer = untar_gz(bytes, "the bundle")?;
    let manifest = Manifest::parse(&String::from_utf8_lossy(member(
        &outer,
        "Manifest.txt",
        "the bundle",
    )?))?;
    let state_tgz = untar_gz(member(&outer, "state.tgz", "the bundle")?, "state.tgz")?;
    let local = untar_gz(member(&state_tgz, "local.tgz", "state.tgz")?, "local.tgz")?;
    let json = member(&local, STATE_MEMBER, "local.tgz")?;
    let state =
        serde_json::from_slice(json).map_err(|e| Error::Bundle(format!("{STATE_MEMBER}: {e}")))?;
    Ok((manifest, state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{Seed, generate};

    fn host(dir: &Path) -> Option<State> {
        let mut st = generate(&Seed::default()).ok()?;
        st.paths.scratch = dir.display().to_string();
        Some(st)
    }

    #[test]
    fn round_trip_and_the_printed_line() {
        let dir = tempfile::tempdir().ok();
        let Some((dir, st)) = dir.and_then(|d| host(d.path()).map(|s| (d, s))) else {
            panic!("setup failed");
        };
        let (path, line) = write(&st).unwrap_or_default();
        assert!(path.starts_with(dir.path().join("downloads")));
        assert!(line.starts_with("Bundle can be downloaded at : http://*/downloads/"));
        assert!(
            line.ends_with("/configBundle-esx01.lab.local.tgz"),
            "{line}"
        );
        let bytes = std::fs::read(&path).unwrap_or_default();
        let (manifest, back) = read(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(manifest.uuid, st.host.uuid);
        assert_eq!(manifest.build, st.host.version.build);
        assert_eq!(back, st);
    }

    #[test]
    fn corruptions_are_detected() {
        let Some(dir) = tempfile::tempdir().ok() else {
            panic!("no temp dir");
        };
        for (c, want) in [
            (Corruption::BadGzip, "the bundle is not gzip data"),
            (Corruption::TruncatedTar, "the bundle"),
        ] {
            let Some(mut st) = host(dir.path()) else {
                panic!("no host");
            };
            st.faults.corrupt_bundle = Some(c);
            let (path, _) = write(&st).unwrap_or_default();
            let err = read(&std::fs::read(path).unwrap_or_default()).err();
            assert!(err.is_some_and(|e| e.to_string().contains(want)), "{c:?}");
        }
        let Some(mut st) = host(dir.path()) else {
            panic!("no host");
        };
        st.faults.corrupt_bundle = Some(Corruption::WrongUuid);
        let (path, _) = write(&st).unwrap_or_default();
        let (m, _) =
            read(&std::fs::read(path).unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(m.uuid, st.host.uuid);
    }
}
