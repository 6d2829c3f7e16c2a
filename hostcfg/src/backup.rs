//! Configuration bundles: back up to `DEST/<host>/`, restore from a bundle file.
//!
//! **Backup**: `sync_config` flushes the configuration, `backup_config` writes
//! `/scratch/downloads/[<uuid>/]configBundle-<fqdn>.tgz` (temporary on the host). We download
//! it into `DEST/.staging/`, verify it (gzip and tar readable to the end, the size the host
//! announced, SHA-256, and the UUID/build of its `Manifest.txt` against the host's), then rename
//! bundle and JSON manifest into `DEST/<host>/`. That folder therefore only ever holds complete,
//! verified bundles; older ones are pruned (`--keep N`) only after the new one is in place.
//!
//! **Restore** (`RestoreFirmwareConfiguration` via `vim-cmd hostsvc/firmware/restore_config`)
//! refuses a bundle whose UUID or build differs from the host's unless forced — the host itself
//! does not reliably check the build — requires maintenance mode, uploads, restores, waits for
//! the host to reboot and come back, and verifies it answers with the bundle's identity.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::collect::{self, CollectError, quote};
use crate::parse::vimcmd;
use crate::transport::{Connector, Endpoint, Transport, TransportError};

/// `DEST/<host>/<bundle>.json`, written beside every bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleManifest {
    /// The inventory name of the host.
    pub host: String,
    pub uuid: String,
    /// `8.0.2`.
    pub version: String,
    pub build: String,
    /// RFC 3339, UTC.
    pub taken_at: String,
    pub sha256: String,
    pub size: u64,
    /// The bundle's file name in the same folder.
    pub file: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error("{target}: `{command}` failed: {detail}")]
    Command {
        target: String,
        command: String,
        detail: String,
    },
    #[error("{path}: {what}: {source}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: not a valid configuration bundle: {reason}")]
    InvalidBundle { what: String, reason: String },
    /// `bundle_is` / `host_is`: `host <uuid> build <build>`.
    #[error(
        "{bundle} is from {bundle_is}, but the host is {host_is}: restoring it would apply another \
         host's or another build's configuration (pass --force if you mean it)"
    )]
    Mismatched {
        bundle: String,
        bundle_is: String,
        host_is: String,
    },
    #[error(
        "{target}: the host is not in maintenance mode; restore reboots it at once. Evacuate its VMs and enter \
         maintenance mode, or pass --enter-maintenance"
    )]
    NotInMaintenance { target: String },
    #[error(
        "{target}: did not come back within {seconds} s after the restore (last error: {last})"
    )]
    NotBack {
        target: String,
        seconds: u64,
        last: String,
    },
    #[error("{target}: came back as {found}, not {wanted}")]
    NotRestored {
        target: String,
        found: String,
        wanted: String,
    },
}

/// What a backup produced.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub manifest: BundleManifest,
    /// The bundle's path.
    pub path: PathBuf,
    /// Bundles removed by retention.
    pub pruned: Vec<String>,
}

/// Progress of one host's backup or restore, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Message(&'static str),
    /// Bytes transferred so far.
    Bytes(u64),
}

/// A backup or restore step as fleet progress shows it.
impl From<Step> for crate::fleet::Event {
    fn from(step: Step) -> Self {
        match step {
            Step::Message(m) => crate::fleet::Event::Step(m.to_string()),
            Step::Bytes(n) => crate::fleet::Event::Bytes(n),
        }
    }
}

/// Backs up one host into `dest/<name>/`, keeping the newest `keep` bundles when given.
pub fn backup(
    name: &str,
    transport: &dyn Transport,
    dest: &Path,
    keep: Option<usize>,
    progress: &mut dyn FnMut(Step),
) -> Result<BackupReport, BackupError> {
    let target = transport.describe();
    progress(Step::Message("identity"));
    let identity = collect::identity(transport)?;
    progress(Step::Message("sync_config"));
    run(transport, "vim-cmd hostsvc/firmware/sync_config")?;
    progress(Step::Message("backup_config"));
    let out = run(transport, "vim-cmd hostsvc/firmware/backup_config")?;
    let remote = vimcmd::bundle_path(&out.stdout_text()).ok_or_else(|| BackupError::Command {
        target: target.clone(),
        command: "vim-cmd hostsvc/firmware/backup_config".to_string(),
        detail: format!("no bundle URL in its output: {}", out.first_error_line()),
    })?;

    let host_dir = dest.join(name);
    let staging = dest.join(".staging");
    for dir in [&host_dir, &staging] {
        std::fs::create_dir_all(dir).map_err(|source| BackupError::Io {
            path: dir.clone(),
            what: "cannot create the folder",
            source,
        })?;
    }
    let mut temp = tempfile::Builder::new()
        .prefix(&format!("{name}."))
        .suffix(".partial")
        .tempfile_in(&staging)
        .map_err(|source| BackupError::Io {
            path: staging.clone(),
            what: "cannot create a temporary file",
            source,
        })?;
    progress(Step::Message("download"));
    let mut hashing = HashingWriter::new(temp.as_file_mut());
    let size = transport.download(&remote, &mut hashing, &mut |n| progress(Step::Bytes(n)))?;
    let sha256 = hashing.finish();
    temp.as_file_mut()
        .sync_all()
        .map_err(|source| BackupError::Io {
            path: temp.path().to_path_buf(),
            what: "cannot write",
            source,
        })?;

    progress(Step::Message("verify"));
    let what = format!("{target}:{remote}");
    let inspected = inspect(temp.path(), &what)?;
    if inspected.sha256 != sha256 || inspected.size != size {
        return Err(BackupError::InvalidBundle {
            what,
            reason: "the file on disk differs from what was downloaded".to_string(),
        });
    }
    if let Some(remote_sum) = remote_sha256(transport, &remote) {
        if remote_sum != sha256 {
            return Err(BackupError::InvalidBundle {
                what,
                reason: format!("SHA-256 {sha256} differs from the host's {remote_sum}"),
            });
        }
    }
    check_identity(&inspected, &identity.uuid, &identity.version.build).map_err(|reason| {
        BackupError::InvalidBundle {
            what: what.clone(),
            reason,
        }
    })?;

    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let file = unique_name(&host_dir, &format!("configBundle-{name}-{stamp}"));
    let manifest = BundleManifest {
        host: name.to_string(),
        uuid: identity.uuid.clone(),
        version: identity.version.version.clone(),
        build: identity.version.build.clone(),
        taken_at: now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        sha256,
        size,
        file: file.clone(),
    };
    let bundle_path = host_dir.join(&file);
    temp.persist_noclobber(&bundle_path)
        .map_err(|e| BackupError::Io {
            path: bundle_path.clone(),
            what: "cannot move the verified bundle into place",
            source: e.error,
        })?;
    write_json_atomically(&host_dir.join(format!("{file}.json")), &manifest, &staging)?;
    let pruned = match keep {
        Some(keep) => prune(&host_dir, keep)?,
        None => Vec::new(),
    };
    Ok(BackupReport {
        manifest,
        path: bundle_path,
        pruned,
    })
}

/// A file name in `dir` that does not exist yet: `<stem>.tgz`, else `<stem>-2.tgz`, …
fn unique_name(dir: &Path, stem: &str) -> String {
    (1..)
        .map(|n: u32| {
            if n == 1 {
                format!("{stem}.tgz")
            } else {
                format!("{stem}-{n}.tgz")
            }
        })
        .find(|f| !dir.join(f).exists() && !dir.join(format!("{f}.json")).exists())
        .unwrap_or_else(|| format!("{stem}.tgz"))
}

fn write_json_atomically(
    path: &Path,
    manifest: &BundleManifest,
    staging: &Path,
) -> Result<(), BackupError> {
    let io = |what: &'static str| {
        move |source: std::io::Error| BackupError::Io {
            path: path.to_path_buf(),
            what,
            source,
        }
    };
    let mut temp = tempfile::Builder::new()
        .suffix(".json.partial")
        .tempfile_in(staging)
        .map_err(io("cannot create a temporary file"))?;
    let mut text = serde_json::to_string_pretty(manifest).unwrap_or_default();
    text.push('\n');
    temp.write_all(text.as_bytes())
        .map_err(io("cannot write the manifest"))?;
    temp.persist(path)
        .map_err(|e| io("cannot move the manifest into place")(e.error))?;
    Ok(())
}

/// Keeps the newest `keep` bundles of a host folder (by their manifests' `taken_at`), removing
/// the others and their manifests. Files without a readable manifest are never touched.
pub fn prune(host_dir: &Path, keep: usize) -> Result<Vec<String>, BackupError> {
    let mut manifests = list(host_dir)?;
    manifests.sort_by(|a, b| b.taken_at.cmp(&a.taken_at).then(b.file.cmp(&a.file)));
    let mut pruned = Vec::new();
    for old in manifests.iter().skip(keep) {
        let bundle = host_dir.join(&old.file);
        let json = host_dir.join(format!("{}.json", old.file));
        for path in [&bundle, &json] {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(BackupError::Io {
                        path: path.clone(),
                        what: "cannot remove an old bundle",
                        source,
                    });
                }
            }
        }
        pruned.push(old.file.clone());
    }
    Ok(pruned)
}

/// The manifests in a host folder, in no particular order.
pub fn list(host_dir: &Path) -> Result<Vec<BundleManifest>, BackupError> {
    let entries = std::fs::read_dir(host_dir).map_err(|source| BackupError::Io {
        path: host_dir.to_path_buf(),
        what: "cannot list",
        source,
    })?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Ok(m) = serde_json::from_str::<BundleManifest>(&text) {
            // Only manifests that describe a bundle in this folder under a plain name.
            let expected = format!("{}.json", m.file);
            if !m.file.contains(['/', '\\'])
                && path.file_name().and_then(|n| n.to_str()) == Some(expected.as_str())
            {
                out.push(m);
            }
        }
    }
    Ok(out)
}

/// What reading a bundle file to the end found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inspected {
    pub size: u64,
    pub sha256: String,
    /// From `Manifest.txt`, when the bundle has one.
    pub uuid: Option<String>,
    pub build: Option<String>,
    pub entries: Vec<String>,
}

/// Reads a bundle completely: gzip and tar must be readable to their ends.
pub fn inspect(path: &Path, what: &str) -> Result<Inspected, BackupError> {
    let invalid = |reason: String| BackupError::InvalidBundle {
        what: what.to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| BackupError::Io {
        path: path.to_path_buf(),
        what: "cannot open",
        source,
    })?;
    let mut hasher = HashingReader::new(file);
    let mut inspected = Inspected::default();
    {
        let gz = flate2::read::GzDecoder::new(&mut hasher);
        let mut archive = tar::Archive::new(gz);
        let entries = archive
            .entries()
            .map_err(|e| invalid(format!("not a gzip-compressed tar: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| invalid(format!("unreadable tar entry: {e}")))?;
            let name = entry
                .path()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut body = Vec::new();
            // Manifest.txt is small; other members are only read through (bounded by tar).
            if name
                .trim_start_matches("./")
                .eq_ignore_ascii_case("Manifest.txt")
            {
                entry
                    .by_ref()
                    .take(1 << 20)
                    .read_to_end(&mut body)
                    .map_err(|e| invalid(format!("unreadable Manifest.txt: {e}")))?;
                let (uuid, build) = manifest_identity(&String::from_utf8_lossy(&body));
                inspected.uuid = uuid;
                inspected.build = build;
            }
            std::io::copy(&mut entry, &mut std::io::sink())
                .map_err(|e| invalid(format!("{name}: truncated or corrupt: {e}")))?;
            inspected.entries.push(name);
        }
        // The tar ends before the gzip stream does; read the rest so a corrupt tail is caught.
        let mut gz = archive.into_inner();
        std::io::copy(&mut gz, &mut std::io::sink())
            .map_err(|e| invalid(format!("corrupt gzip stream: {e}")))?;
    }
    if inspected.entries.is_empty() {
        return Err(invalid("the archive is empty".to_string()));
    }
    // Any bytes after the gzip member count toward the file's size and hash too.
    std::io::copy(&mut hasher, &mut std::io::sink()).map_err(|source| BackupError::Io {
        path: path.to_path_buf(),
        what: "cannot read",
        source,
    })?;
    let (size, sha256) = hasher.finish();
    inspected.size = size;
    inspected.sha256 = sha256;
    Ok(inspected)
}

/// UUID and build from `Manifest.txt`: `key=value` or `key: value` lines; keys compared loosely
/// (the exact key set of newer releases is not documented).
pub fn manifest_identity(text: &str) -> (Option<String>, Option<String>) {
    let mut uuid = None;
    let mut build = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim().trim_matches('"').to_string();
        if value.is_empty() {
            continue;
        }
        if key.contains("uuid") && uuid.is_none() {
            uuid = Some(value);
        } else if key.contains("build") && build.is_none() {
            build = Some(value.trim_start_matches("Releasebuild-").to_string());
        }
    }
    (uuid, build)
}

fn check_identity(inspected: &Inspected, uuid: &str, build: &str) -> Result<(), String> {
    if let Some(u) = inspected
        .uuid
        .as_deref()
        .filter(|u| !u.eq_ignore_ascii_case(uuid))
    {
        return Err(format!("its Manifest.txt names host {u}, not {uuid}"));
    }
    if let Some(b) = inspected.build.as_deref().filter(|b| *b != build) {
        return Err(format!("its Manifest.txt names build {b}, not {build}"));
    }
    Ok(())
}

fn run(
    transport: &dyn Transport,
    command: &str,
) -> Result<crate::transport::ExecOutput, BackupError> {
    let out = transport.exec(command)?;
    if !out.success() {
        return Err(BackupError::Command {
            target: transport.describe(),
            command: command.to_string(),
            detail: out.first_error_line(),
        });
    }
    Ok(out)
}

/// The host's own SHA-256 of the file, when it has `sha256sum`.
fn remote_sha256(transport: &dyn Transport, remote: &str) -> Option<String> {
    let out = transport
        .exec(&format!("sha256sum {}", quote(remote)))
        .ok()
        .filter(|o| o.success())?;
    let text = out.stdout_text();
    let sum = text.split_whitespace().next()?;
    (sum.len() == 64 && sum.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| sum.to_ascii_lowercase())
}

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
        }
    }
    fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }
    fn finish(self) -> (u64, String) {
        (self.size, hex::encode(self.hasher.finalize()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = buf.get(..n).unwrap_or_default();
        self.hasher.update(chunk);
        self.size = self.size.saturating_add(chunk.len() as u64);
        Ok(n)
    }
}

/// How a restore behaves.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub bundle: PathBuf,
    /// Restore even when the bundle's UUID or build differs from the host's.
    pub force: bool,
    /// Enter maintenance mode first instead of refusing.
    pub enter_maintenance: bool,
    /// How long to wait for the host to come back after its reboot.
    pub reboot_timeout: Duration,
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub bundle: String,
    pub uuid: String,
    pub build: String,
    pub entered_maintenance: bool,
    /// Seconds until the host answered again.
    pub back_after_secs: u64,
}

/// Where the bundle is uploaded on the host before `restore_config` reads it.
pub const REMOTE_BUNDLE: &str = "/tmp/configBundle.tgz";

/// Restores `options.bundle` onto the host behind `transport`, then reconnects through
/// `connector` once it has rebooted.
pub fn restore(
    transport: Box<dyn Transport>,
    endpoint: &Endpoint,
    connector: &dyn Connector,
    options: &RestoreOptions,
    progress: &mut dyn FnMut(Step),
) -> Result<RestoreReport, BackupError> {
    let target = transport.describe();
    let shown = options.bundle.display().to_string();
    progress(Step::Message("verify bundle"));
    let inspected = inspect(&options.bundle, &shown)?;
    let sidecar = sidecar_manifest(&options.bundle);
    let bundle_uuid = inspected
        .uuid
        .clone()
        .or_else(|| sidecar.as_ref().map(|m| m.uuid.clone()));
    let bundle_build = inspected
        .build
        .clone()
        .or_else(|| sidecar.as_ref().map(|m| m.build.clone()));
    progress(Step::Message("identity"));
    let host = collect::identity(transport.as_ref())?;
    let uuid_ok = bundle_uuid
        .as_deref()
        .is_some_and(|u| u.eq_ignore_ascii_case(&host.uuid));
    let build_ok = bundle_build.as_deref() == Some(host.version.build.as_str());
    let matches = uuid_ok && build_ok;
    if !matches && !options.force {
        let unknown = || "(unknown)".to_string();
        return Err(BackupError::Mismatched {
            bundle: shown,
            bundle_is: format!(
                "host {} build {}",
                bundle_uuid.unwrap_or_else(unknown),
                bundle_build.unwrap_or_else(unknown)
            ),
            host_is: format!("host {} build {}", host.uuid, host.version.build),
        });
    }
    let mut entered_maintenance = false;
    if !host.maintenance_mode {
        if !options.enter_maintenance {
            return Err(BackupError::NotInMaintenance { target });
        }
        progress(Step::Message("enter maintenance mode"));
        run(
            transport.as_ref(),
            "esxcli system maintenanceMode set --enable true",
        )?;
        entered_maintenance = true;
    }
    progress(Step::Message("upload"));
    let mut file = std::fs::File::open(&options.bundle).map_err(|source| BackupError::Io {
        path: options.bundle.clone(),
        what: "cannot open",
        source,
    })?;
    transport.upload(&mut file, inspected.size, REMOTE_BUNDLE)?;
    // The boot time tells a host that has rebooted from one whose reboot has not begun yet.
    let booted = boot_time(transport.as_ref());
    progress(Step::Message("restore_config"));
    // `1` forces past the host's own UUID/build check; only when the user forced ours too.
    let command = format!(
        "vim-cmd hostsvc/firmware/restore_config {}{REMOTE_BUNDLE}",
        if options.force { "1 " } else { "" }
    );
    match transport.exec(&command) {
        // The host reboots at once: a dropped session here is the expected outcome.
        Err(_) => {}
        Ok(out) => {
            let text = out.stdout_text();
            if !out.success()
                || crate::parse::vmodl::parse(&text).is_err() && text.contains("fault")
            {
                return Err(BackupError::Command {
                    target,
                    command,
                    detail: out.first_error_line(),
                });
            }
        }
    }
    drop(transport);
    progress(Step::Message("wait for reboot"));
    let started = Instant::now();
    let (back, after) = wait_for_host(
        endpoint,
        connector,
        options.reboot_timeout,
        started,
        booted.as_deref(),
    )?;
    progress(Step::Message("verify"));
    let now = collect::identity(back.as_ref())?;
    let want_uuid = if options.force {
        host.uuid.clone()
    } else {
        bundle_uuid.clone().unwrap_or_default()
    };
    let want_build = host.version.build.clone();
    if !now.uuid.eq_ignore_ascii_case(&want_uuid) || now.version.build != want_build {
        return Err(BackupError::NotRestored {
            target: back.describe(),
            found: format!("host {} build {}", now.uuid, now.version.build),
            wanted: format!("host {want_uuid} build {want_build}"),
        });
    }
    Ok(RestoreReport {
        bundle: options.bundle.display().to_string(),
        uuid: now.uuid,
        build: now.version.build,
        entered_maintenance,
        back_after_secs: after.as_secs(),
    })
}

/// `<bundle>.json` as `host backup` writes it, when present and readable.
fn sidecar_manifest(bundle: &Path) -> Option<BundleManifest> {
    let mut name = bundle.file_name()?.to_os_string();
    name.push(".json");
    let text = std::fs::read_to_string(bundle.with_file_name(name)).ok()?;
    serde_json::from_str(&text).ok()
}

/// `bootTime` of `vim-cmd hostsvc/runtimeinfo`, when the host reports it.
fn boot_time(transport: &dyn Transport) -> Option<String> {
    let out = transport
        .exec("vim-cmd hostsvc/runtimeinfo")
        .ok()
        .filter(|o| o.success())?;
    let info = crate::parse::vmodl::parse(&out.stdout_text()).ok()?;
    info.get("bootTime")
        .and_then(crate::parse::vmodl::Vmodl::as_str)
        .map(str::to_string)
}

/// Reconnects until the host answers after its reboot (a new boot time, when it reports one)
/// or the timeout passes.
fn wait_for_host(
    endpoint: &Endpoint,
    connector: &dyn Connector,
    timeout: Duration,
    started: Instant,
    booted: Option<&str>,
) -> Result<(Box<dyn Transport>, Duration), BackupError> {
    let mut last = String::from("never answered");
    while started.elapsed() < timeout {
        std::thread::sleep(Duration::from_millis(500));
        match connector.connect(endpoint) {
            Ok(t) => {
                let now = boot_time(t.as_ref());
                if booted.is_none() || now.as_deref() != booted {
                    return Ok((t, started.elapsed()));
                }
                last = "still up from before the reboot".to_string();
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(BackupError::NotBack {
        target: endpoint.to_string(),
        seconds: timeout.as_secs(),
        last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(dir: &Path, manifest: &str, corrupt: bool) -> PathBuf {
        let path = dir.join("b.tgz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        {
            let mut tar = tar::Builder::new(&mut gz);
            for (name, body) in [
                ("Manifest.txt", manifest.as_bytes()),
                ("state.tgz", b"x".repeat(5000).as_slice()),
            ] {
                let mut h = tar::Header::new_gnu();
                h.set_size(body.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                tar.append_data(&mut h, name, body).unwrap();
            }
            tar.finish().unwrap();
        }
        let mut bytes = gz.finish().unwrap();
        if corrupt {
            let mid = bytes.len() / 2;
            bytes.truncate(mid);
        }
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn inspect_reads_manifest_and_detects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let good = bundle(
            dir.path(),
            "uuid=5a-b\nbuild=Releasebuild-22380479\n",
            false,
        );
        let i = inspect(&good, "good").unwrap();
        assert_eq!(i.uuid.as_deref(), Some("5a-b"));
        assert_eq!(i.build.as_deref(), Some("22380479"));
        assert_eq!(i.size, std::fs::metadata(&good).unwrap().len());
        assert_eq!(i.sha256.len(), 64);
        assert!(check_identity(&i, "5A-B", "22380479").is_ok());
        assert!(check_identity(&i, "other", "22380479").is_err());
        assert!(check_identity(&i, "5a-b", "1").is_err());
        let bad = bundle(dir.path(), "uuid=5a-b\n", true);
        let e = inspect(&bad, "bad").unwrap_err().to_string();
        assert!(e.contains("not a valid configuration bundle"), "{e}");
        std::fs::write(dir.path().join("junk"), b"hello").unwrap();
        assert!(inspect(&dir.path().join("junk"), "junk").is_err());
    }

    #[test]
    fn prune_keeps_the_newest_and_ignores_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        for (i, stamp) in [
            "2024-01-01T00:00:00Z",
            "2024-03-01T00:00:00Z",
            "2024-02-01T00:00:00Z",
        ]
        .iter()
        .enumerate()
        {
            let file = format!("b{i}.tgz");
            std::fs::write(dir.path().join(&file), b"x").unwrap();
            let m = BundleManifest {
                host: "h".into(),
                uuid: "u".into(),
                version: "8.0.2".into(),
                build: "1".into(),
                taken_at: stamp.to_string(),
                sha256: String::new(),
                size: 1,
                file: file.clone(),
            };
            std::fs::write(
                dir.path().join(format!("{file}.json")),
                serde_json::to_string(&m).unwrap(),
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("notes.json"), b"{}").unwrap();
        let pruned = prune(dir.path(), 2).unwrap();
        assert_eq!(pruned, ["b0.tgz"]);
        assert!(!dir.path().join("b0.tgz").exists());
        assert!(dir.path().join("b1.tgz").exists() && dir.path().join("b2.tgz").exists());
        assert!(dir.path().join("notes.json").exists());
    }

    #[test]
    fn manifest_keys_are_read_loosely() {
        assert_eq!(
            manifest_identity("UUID: abc\nBuildNumber = \"123\"\n"),
            (Some("abc".into()), Some("123".into()))
        );
        assert_eq!(manifest_identity("nothing"), (None, None));
    }
}
