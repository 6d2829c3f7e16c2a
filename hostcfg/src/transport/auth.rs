//! Who we log in as and with what: an agent, a key file, a password — never from argv.
//!
//! ESXi's sshd offers `keyboard-interactive` by default and often not `password`; OpenSSH offers
//! either. We try every password method the server lists, with the same secret.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A password. Its `Debug` never shows the value, so it cannot leak through logs or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A function that asks someone for the password (a TTY prompt in the CLI); `None` when it
/// cannot. Called at most once per run, and only when a host actually asks for a password.
pub type AskPassword = dyn Fn() -> Option<Secret> + Send + Sync;

/// Where the password comes from, resolved lazily and shared by every host of a fleet run.
#[derive(Clone)]
pub struct PasswordSource {
    inner: Arc<Mutex<PasswordState>>,
}

enum PasswordState {
    Known(Option<Secret>),
    Ask(Box<AskPassword>),
}

impl PasswordSource {
    /// No password: key and agent authentication only.
    pub fn none() -> PasswordSource {
        PasswordSource::known(None)
    }

    pub fn known(secret: Option<Secret>) -> PasswordSource {
        PasswordSource {
            inner: Arc::new(Mutex::new(PasswordState::Known(secret))),
        }
    }

    /// Ask once, the first time a host wants a password; every later host reuses the answer.
    pub fn ask(ask: Box<AskPassword>) -> PasswordSource {
        PasswordSource {
            inner: Arc::new(Mutex::new(PasswordState::Ask(ask))),
        }
    }

    pub(crate) fn get(&self) -> Option<Secret> {
        // A poisoned lock only means another host's thread panicked mid-prompt; the state
        // itself is still a plain value.
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let PasswordState::Ask(ask) = &*state {
            let answer = ask();
            *state = PasswordState::Known(answer);
        }
        match &*state {
            PasswordState::Known(secret) => secret.clone(),
            PasswordState::Ask(_) => None,
        }
    }
}

impl fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordSource")
    }
}

/// Everything authentication may use, in the order it is tried: the key file, the agent, then
/// the password (keyboard-interactive and password).
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `--identity FILE`: a private key (OpenSSH or PEM format, unencrypted or held by the agent).
    pub identity: Option<PathBuf>,
    /// Try the keys of `$SSH_AUTH_SOCK`.
    pub use_agent: bool,
    pub password: PasswordSource,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            identity: None,
            use_agent: true,
            password: PasswordSource::none(),
        }
    }
}
