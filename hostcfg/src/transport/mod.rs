//! How esxforge talks to a host: a [`Transport`] runs shell commands and moves files.
//!
//! [`ssh::SshTransport`] is the real one (one SSH session per host, reused for every command
//! and transfer). Everything above this module — the facts collector, apply, backup — only sees
//! the trait, so parser and planner tests can drive it with recorded outputs.

pub mod auth;
pub mod known_hosts;
pub mod ssh;

use std::io::{Read, Write};

pub use auth::{Credentials, PasswordSource, Secret};
pub use known_hosts::HostKeyPolicy;
pub use ssh::{SshOptions, SshTransport};

/// What a command left behind: its exit status and both output streams, byte for byte.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// Standard output as text (ESXi prints UTF-8; anything else is replaced, never fatal).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The first line of stderr, or of stdout when stderr is empty: what a failure report shows.
    pub fn first_error_line(&self) -> String {
        let text = if self.stderr.iter().any(|b| !b.is_ascii_whitespace()) {
            String::from_utf8_lossy(&self.stderr)
        } else {
            String::from_utf8_lossy(&self.stdout)
        };
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("(no output)")
            .to_string()
    }
}

/// Where a host's sshd listens and whom we log in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub address: String,
    pub port: u16,
    pub user: String,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.address, self.port)
    }
}

/// Opens connections: the fleet runner connects once per host, restore connects again after the
/// host rebooted.
pub trait Connector: Sync {
    fn connect(&self, endpoint: &Endpoint) -> Result<Box<dyn Transport>, TransportError>;
}

/// A connection to one host.
///
/// Implementations keep one session open for their lifetime; every call reuses it.
pub trait Transport: Send {
    /// `user@address:port`, for messages.
    fn describe(&self) -> String;

    /// Runs `command` through the remote shell and waits for it to exit.
    fn exec(&self, command: &str) -> Result<ExecOutput, TransportError>;

    /// Copies the remote file `remote` into `out`, calling `progress` with the bytes copied so
    /// far. Fails — without claiming success for a short copy — when the connection drops or the
    /// file ends before its announced size.
    fn download(
        &self,
        remote: &str,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, TransportError>;

    /// Writes `size` bytes from `input` to the remote file `remote` (mode 0600).
    fn upload(&self, input: &mut dyn Read, size: u64, remote: &str) -> Result<(), TransportError>;
}

/// A host presented a key other than the one recorded for it.
#[derive(Debug, thiserror::Error)]
#[error(
    "{target}: HOST KEY CHANGED: the host presented {key_type} key {fingerprint}, but {file}:{line} records a different key for it. \
     Someone may be intercepting the connection, or the host was reinstalled. If you know it was reinstalled, \
     remove the old entry (ssh-keygen -R '{host_pattern}' -f {file}) and connect again with --accept-new"
)]
pub struct ChangedHostKey {
    pub target: String,
    pub key_type: String,
    pub fingerprint: String,
    pub file: String,
    pub line: usize,
    pub host_pattern: String,
}

/// Why talking to a host failed. Messages name the host and say what to do; none holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{target}: cannot connect: {source}")]
    Connect {
        target: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{target}: SSH handshake failed: {message}")]
    Handshake { target: String, message: String },
    #[error("{0}")]
    HostKeyChanged(Box<ChangedHostKey>),
    #[error(
        "{target}: unknown host key {key_type} {fingerprint} (not in {file}). Check the fingerprint on the host's console \
         and connect again with --accept-new to record it, or add it with ssh-keyscan"
    )]
    HostKeyUnknown {
        target: String,
        key_type: String,
        fingerprint: String,
        file: String,
    },
    #[error("{file}: cannot use the known_hosts file: {message}")]
    KnownHosts { file: String, message: String },
    #[error("{target}: authentication failed ({tried}); {hint}")]
    Auth {
        target: String,
        tried: String,
        hint: String,
    },
    #[error("{target}: {what}: {message}")]
    Ssh {
        target: String,
        what: String,
        message: String,
    },
    #[error("{target}: {what}: {source}")]
    Io {
        target: String,
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{target}: transfer of {path} broke off after {got} of {expected} bytes (connection dropped?)"
    )]
    Truncated {
        target: String,
        path: String,
        got: u64,
        expected: u64,
    },
}
