//! esxforge-esxsim: an ESXi host for tests, reached through a real OpenSSH sshd.
//!
//! The simulator is one multi-call binary, `esxsim`. Installed under the names `esxcli` and
//! `vim-cmd` (symlinks on the `PATH` sshd gives its sessions), it answers like an ESXi 6.7, 7.0
//! or 8.0 host: esxcli in its text form and with `--formatter=xml`, vim-cmd in VMODL form, with the
//! shapes and field names of the real tools (see [`esxcli::output`] and [`vimcmd::vmodl`]). The
//! host is a JSON document ([`state::State`]) named by the `ESXSIM_STATE` environment variable;
//! every command loads it under a lock, acts, and saves it, so what one SSH command changes the
//! next one sees, and concurrent commands on one host never corrupt it ([`store::Store`]).
//! `vim-cmd hostsvc/firmware/backup_config` writes a real `configBundle-<fqdn>.tgz`
//! ([`bundle`]), and `restore_config` restores the state from one and then simulates the reboot:
//! it drops the SSH sessions and pauses sshd for a while ([`reboot`]).
//!
//! New hosts come from a [`seed::Seed`]; failures are injected through [`state::Faults`] (a
//! command that fails or is slow, a download cut off midway, a corrupt bundle).
//!
//! [`fixture`] puts hosts behind real sshd processes: [`fixture::SimHost`] and
//! [`fixture::Fleet`] for the end-to-end tests, `esxsim fleet` ([`fixture::FleetCommand`]) for
//! scripts such as the benchmark. A host can log what ran on it ([`cmdlog`]).
//!
//! ```
//! use esxforge_esxsim::{seed::{Seed, generate}, store::Store, dispatch};
//!
//! let dir = tempfile::tempdir()?;
//! let mut host = generate(&Seed::default())?;
//! host.paths.scratch = dir.path().join("scratch").display().to_string();
//! let store = Store::new(dir.path().join("state.json"));
//! store.write(&host)?;
//!
//! let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
//! dispatch("esxcli", &args("network ip dns server add -s 10.0.0.53"), &store)?;
//! let reply = dispatch("esxcli", &args("network ip dns server list"), &store)?;
//! assert_eq!(reply.stdout, "   DNSServers: 10.0.0.2, 10.0.0.53\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

pub mod boot;
pub mod bundle;
pub mod cmdlog;
pub mod cpu;
pub mod esxcli;
pub mod faults;
pub mod fixture;
pub mod host_ops;
pub mod reboot;
pub mod seed;
pub mod sessions;
pub mod shims;
pub mod state;
pub mod store;
pub mod transfer;
pub mod version;
pub mod vimcmd;

/// The environment variable naming the state file (sshd sets it with `SetEnv`).
pub const STATE_ENV: &str = "ESXSIM_STATE";

/// What a simulated command prints and how it exits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Reply {
    pub fn ok(stdout: impl Into<String>) -> Reply {
        Reply {
            stdout: stdout.into(),
            ..Reply::default()
        }
    }

    /// A failure: `message` on stderr (a newline added), exit 1.
    pub fn error(message: impl Into<String>) -> Reply {
        let mut stderr = message.into();
        stderr.push('\n');
        Reply {
            stdout: String::new(),
            stderr,
            code: 1,
        }
    }
}

/// The simulator's own failures (not the simulated host's).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: not a simulator state: {1}")]
    State(PathBuf, serde_json::Error),
    #[error("cannot encode the state: {0}")]
    Encode(String),
    #[error("seed: {0}")]
    Seed(String),
    #[error("configuration bundle: {0}")]
    Bundle(String),
    #[error("{0} is not set; sshd's SetEnv should name the state file")]
    NoState(&'static str),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Runs one simulated command: `tool` is `esxcli` or `vim-cmd`, `args` what followed it.
///
/// Injected faults apply first: a slow rule sleeps (outside the state lock, so other commands
/// on the host go on), a fail rule answers with its exit code and message.
pub fn dispatch(tool: &str, args: &[String], store: &store::Store) -> Result<Reply, Error> {
    let state = store.read()?;
    match tool {
        "esxcli" => {
            let call = match esxcli::parse(args, &state.host.version) {
                Ok(call) => call,
                Err(reply) => return Ok(reply),
            };
            if let Some(reply) =
                faults::before(&call.line, Some(call.formatter.name()), &state, store)?
            {
                return Ok(reply);
            }
            if call.spec.mutates {
                store.update(|st| faults::logged(st, &call.line, |st| esxcli::run(&call, st)))
            } else {
                let mut st = state;
                Ok(esxcli::run(&call, &mut st))
            }
        }
        "vim-cmd" => {
            let line = format!("vim-cmd {}", args.join(" "));
            if let Some(reply) = faults::before(&line, None, &state, store)? {
                return Ok(reply);
            }
            vimcmd::dispatch(args, &line, state, store)
        }
        other => Ok(Reply::error(format!("{other}: not a simulated command"))),
    }
}
