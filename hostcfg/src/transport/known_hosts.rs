//! Host key checking against an OpenSSH `known_hosts` file.
//!
//! libssh2 matches host names (plain, `[host]:port` and hashed `|1|…` entries); we feed it the
//! file one line at a time so that a mismatch can name the line, and so that a line it cannot
//! read (`@cert-authority`, a key type it does not know) is skipped rather than fatal.
//!
//! libssh2 compares a key of one type with a recorded key of another type as a *mismatch*
//! (toolchain.md §3): a known_hosts holding only the host's RSA key would look like a changed key
//! when the server offers ed25519 first. So before the handshake we read which key types are
//! recorded for the host and ask the server for those ([`hostkey_preference`]).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64ct::{Base64Unpadded, Encoding};
use ssh2::{CheckResult, HashType, HostKeyType, KnownHostFileKind, KnownHostKeyFormat, Session};

use super::{ChangedHostKey, TransportError};

/// What to do with the key a host presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyPolicy {
    /// The key must be recorded in the file (the default).
    Strict(PathBuf),
    /// Record a key the file does not know yet; a *changed* key is still refused.
    AcceptNew(PathBuf),
    /// `--insecure`: accept any key, record nothing.
    Insecure,
}

impl HostKeyPolicy {
    fn file(&self) -> Option<&Path> {
        match self {
            HostKeyPolicy::Strict(path) | HostKeyPolicy::AcceptNew(path) => Some(path),
            HostKeyPolicy::Insecure => None,
        }
    }
}

/// One line of the file that is about the host we connect to.
struct Recorded {
    line: usize,
    key_type: String,
    verdict: CheckResult,
}

/// The `known_hosts` name of a host: `host` on port 22, `[host]:port` otherwise.
pub fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// `SHA256:…` as `ssh-keygen -l` prints it.
pub fn fingerprint(session: &Session) -> String {
    match session.host_key_hash(HashType::Sha256) {
        Some(hash) => format!("SHA256:{}", Base64Unpadded::encode_string(hash)),
        None => "(no fingerprint)".to_string(),
    }
}

/// The OpenSSH name of a key type.
pub fn key_type_name(kind: HostKeyType) -> &'static str {
    match kind {
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Ed25519 => "ssh-ed25519",
        HostKeyType::Unknown => "unknown",
    }
}

/// The host-key algorithms to offer, those of the key types recorded for this host first, or
/// `None` to keep libssh2's default order (nothing recorded, or the policy is `Insecure`).
pub fn hostkey_preference(
    session: &Session,
    policy: &HostKeyPolicy,
    host: &str,
    port: u16,
) -> Result<Option<String>, TransportError> {
    let Some(file) = policy.file() else {
        return Ok(None);
    };
    let recorded = scan(session, file, host, port, b"\0esxforge-probe")?;
    let mut algorithms: Vec<&str> = Vec::new();
    for entry in &recorded {
        let names: &[&str] = match entry.key_type.as_str() {
            "ssh-rsa" => &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
            "ssh-ed25519" => &["ssh-ed25519"],
            "ecdsa-sha2-nistp256" => &["ecdsa-sha2-nistp256"],
            "ecdsa-sha2-nistp384" => &["ecdsa-sha2-nistp384"],
            "ecdsa-sha2-nistp521" => &["ecdsa-sha2-nistp521"],
            "ssh-dss" => &["ssh-dss"],
            _ => &[],
        };
        for name in names {
            if !algorithms.contains(name) {
                algorithms.push(name);
            }
        }
    }
    if algorithms.is_empty() {
        return Ok(None);
    }
    // The rest after them: a host that no longer has the recorded key type still completes the
    // handshake, and `verify` then reports its key as changed instead of a bare handshake error.
    for name in session
        .supported_algs(ssh2::MethodType::HostKey)
        .unwrap_or_default()
    {
        if !algorithms.contains(&name) {
            algorithms.push(name);
        }
    }
    Ok(Some(algorithms.join(",")))
}

/// Checks the key the host presented after the handshake, recording it under `AcceptNew`.
pub fn verify(
    session: &Session,
    policy: &HostKeyPolicy,
    host: &str,
    port: u16,
    target: &str,
) -> Result<(), TransportError> {
    let Some(file) = policy.file() else {
        return Ok(());
    };
    let Some((key, kind)) = session.host_key() else {
        return Err(TransportError::Handshake {
            target: target.to_string(),
            message: "the server presented no host key".to_string(),
        });
    };
    let key_type = key_type_name(kind).to_string();
    let recorded = scan(session, file, host, port, key)?;
    if recorded
        .iter()
        .any(|r| matches!(r.verdict, CheckResult::Match))
    {
        return Ok(());
    }
    if let Some(changed) = recorded
        .iter()
        .find(|r| matches!(r.verdict, CheckResult::Mismatch))
    {
        return Err(TransportError::HostKeyChanged(Box::new(ChangedHostKey {
            target: target.to_string(),
            key_type,
            fingerprint: fingerprint(session),
            file: file.display().to_string(),
            line: changed.line,
            host_pattern: host_pattern(host, port),
        })));
    }
    match policy {
        HostKeyPolicy::AcceptNew(_) => record(session, file, host, port, key, kind),
        _ => Err(TransportError::HostKeyUnknown {
            target: target.to_string(),
            key_type,
            fingerprint: fingerprint(session),
            file: file.display().to_string(),
        }),
    }
}

/// Every line about `host:port`, with libssh2's verdict for `key`. A missing file has no lines.
fn scan(
    session: &Session,
    file: &Path,
    host: &str,
    port: u16,
    key: &[u8],
) -> Result<Vec<Recorded>, TransportError> {
    let text = match std::fs::read(file) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(TransportError::KnownHosts {
                file: file.display().to_string(),
                message: e.to_string(),
            });
        }
    };
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('@') {
            continue;
        }
        let mut known = session
            .known_hosts()
            .map_err(|e| TransportError::KnownHosts {
                file: file.display().to_string(),
                message: e.message().to_string(),
            })?;
        if known.read_str(trimmed, KnownHostFileKind::OpenSSH).is_err() {
            continue;
        }
        let verdict = known.check_port(host, port, key);
        if matches!(verdict, CheckResult::Match | CheckResult::Mismatch) {
            let key_type = trimmed.split_whitespace().nth(1).unwrap_or("").to_string();
            out.push(Recorded {
                line: index + 1,
                key_type,
                verdict,
            });
        }
    }
    Ok(out)
}

/// Appends one line for the host. Fleet threads append concurrently: one lock, one write.
fn record(
    session: &Session,
    file: &Path,
    host: &str,
    port: u16,
    key: &[u8],
    kind: HostKeyType,
) -> Result<(), TransportError> {
    static APPEND: Mutex<()> = Mutex::new(());
    let fail = |message: String| TransportError::KnownHosts {
        file: file.display().to_string(),
        message,
    };
    let mut known = session.known_hosts().map_err(|e| fail(e.to_string()))?;
    known
        .add(
            &host_pattern(host, port),
            key,
            "",
            KnownHostKeyFormat::from(kind),
        )
        .map_err(|e| fail(e.message().to_string()))?;
    let hosts = known.hosts().map_err(|e| fail(e.message().to_string()))?;
    let entry = hosts
        .first()
        .ok_or_else(|| fail("libssh2 did not keep the new entry".to_string()))?;
    let mut line = known
        .write_string(entry, KnownHostFileKind::OpenSSH)
        .map_err(|e| fail(e.message().to_string()))?;
    if !line.ends_with('\n') {
        line.push('\n');
    }
    let _guard = APPEND.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    // A file that does not end in a newline would glue our entry onto its last line.
    let needs_newline = std::fs::read(file)
        .map(|bytes| bytes.last().is_some_and(|b| *b != b'\n'))
        .unwrap_or(false);
    if needs_newline {
        line.insert(0, '\n');
    }
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .map_err(|e| fail(e.to_string()))?;
    out.write_all(line.as_bytes())
        .map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_brackets_non_default_ports() {
        assert_eq!(host_pattern("10.0.0.1", 22), "10.0.0.1");
        assert_eq!(host_pattern("10.0.0.1", 2222), "[10.0.0.1]:2222");
    }

    #[test]
    fn preference_follows_recorded_key_types() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        // A syntactically valid RSA entry for [127.0.0.1]:2222 (key bytes need not be real).
        std::fs::write(
            &file,
            "# comment\n[127.0.0.1]:2222 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
        )
        .unwrap();
        let session = Session::new().unwrap();
        let policy = HostKeyPolicy::Strict(file);
        let pref = hostkey_preference(&session, &policy, "127.0.0.1", 2222).unwrap();
        let pref = pref.unwrap();
        assert!(
            pref.starts_with("rsa-sha2-512,rsa-sha2-256,ssh-rsa,"),
            "{pref}"
        );
        assert!(pref.contains("ssh-ed25519"), "other types follow: {pref}");
        let none = hostkey_preference(&session, &policy, "127.0.0.9", 2222).unwrap();
        assert_eq!(none, None);
        assert_eq!(
            hostkey_preference(&session, &HostKeyPolicy::Insecure, "127.0.0.1", 2222).unwrap(),
            None
        );
    }
}
