//! The real transport: libssh2 (the `ssh2` crate) over TCP.
//!
//! One [`SshTransport`] is one authenticated session; commands open a channel each, transfers
//! use SFTP and fall back to SCP when the server has no SFTP subsystem (ESXi builds differ).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use ssh2::{MethodType, OpenFlags, OpenType, Session};

use super::auth::Credentials;
use super::known_hosts::{self, HostKeyPolicy};
use super::{Connector, Endpoint, ExecOutput, Transport, TransportError};

/// How every host of a run is reached (the per-host part is the [`Endpoint`]).
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// Connecting, and every single read or write after that: a host that stops answering for
    /// this long fails instead of hanging the run.
    pub timeout: Duration,
    /// Seconds between SSH keepalives on an idle session (0: none).
    pub keepalive_secs: u32,
    pub host_keys: HostKeyPolicy,
    pub credentials: Credentials,
}

impl SshOptions {
    pub fn new(host_keys: HostKeyPolicy, credentials: Credentials) -> SshOptions {
        SshOptions {
            timeout: Duration::from_secs(30),
            keepalive_secs: 15,
            host_keys,
            credentials,
        }
    }
}

impl Connector for SshOptions {
    fn connect(&self, endpoint: &Endpoint) -> Result<Box<dyn Transport>, TransportError> {
        Ok(Box::new(SshTransport::connect(endpoint, self)?))
    }
}

/// An authenticated SSH session to one host.
pub struct SshTransport {
    session: Session,
    target: String,
}

impl SshTransport {
    pub fn connect(
        endpoint: &Endpoint,
        options: &SshOptions,
    ) -> Result<SshTransport, TransportError> {
        let target = endpoint.to_string();
        let tcp =
            connect_tcp(endpoint, options.timeout).map_err(|source| TransportError::Connect {
                target: target.clone(),
                source,
            })?;
        let ssh_err = |what: &str, e: ssh2::Error| TransportError::Ssh {
            target: target.clone(),
            what: what.to_string(),
            message: e.message().to_string(),
        };
        let mut session = Session::new().map_err(|e| ssh_err("creating a session", e))?;
        session.set_tcp_stream(tcp);
        session.set_timeout(timeout_ms(options.timeout));
        if let Some(pref) = known_hosts::hostkey_preference(
            &session,
            &options.host_keys,
            &endpoint.address,
            endpoint.port,
        )? {
            session
                .method_pref(MethodType::HostKey, &pref)
                .map_err(|e| ssh_err("setting host key algorithms", e))?;
        }
        session.handshake().map_err(|e| TransportError::Handshake {
            target: target.clone(),
            message: e.message().to_string(),
        })?;
        known_hosts::verify(
            &session,
            &options.host_keys,
            &endpoint.address,
            endpoint.port,
            &target,
        )?;
        authenticate(&session, &endpoint.user, &options.credentials, &target)?;
        session.set_keepalive(false, options.keepalive_secs);
        Ok(SshTransport { session, target })
    }

    fn ssh_error(&self, what: &str, e: ssh2::Error) -> TransportError {
        let message = if matches!(e.code(), ssh2::ErrorCode::Session(-9)) {
            format!("timed out ({})", e.message())
        } else {
            e.message().to_string()
        };
        TransportError::Ssh {
            target: self.target.clone(),
            what: what.to_string(),
            message,
        }
    }

    fn io_error(&self, what: &str, source: std::io::Error) -> TransportError {
        TransportError::Io {
            target: self.target.clone(),
            what: what.to_string(),
            source,
        }
    }

    fn download_scp(
        &self,
        remote: &str,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, TransportError> {
        let what = format!("scp {remote}");
        let (channel, stat) = self
            .session
            .scp_recv(Path::new(remote))
            .map_err(|e| self.ssh_error(&what, e))?;
        let expected = stat.size();
        // SCP follows the file with a status byte: read exactly the announced size.
        let mut limited = channel.take(expected);
        let got = copy(&mut limited, out, progress).map_err(|e| self.io_error(&what, e))?;
        if got != expected {
            return Err(self.truncated(remote, got, expected));
        }
        let mut channel = limited.into_inner();
        // Closing politely is best effort: the bytes are already complete and counted.
        let _ = channel.send_eof();
        let _ = channel.wait_close();
        Ok(got)
    }

    fn truncated(&self, remote: &str, got: u64, expected: u64) -> TransportError {
        TransportError::Truncated {
            target: self.target.clone(),
            path: remote.to_string(),
            got,
            expected,
        }
    }
}

impl Transport for SshTransport {
    fn describe(&self) -> String {
        self.target.clone()
    }

    fn exec(&self, command: &str) -> Result<ExecOutput, TransportError> {
        // Sends a keepalive only when the interval has passed since the last traffic.
        let _ = self.session.keepalive_send();
        let mut channel = self
            .session
            .channel_session()
            .map_err(|e| self.ssh_error("opening a channel", e))?;
        channel
            .exec(command)
            .map_err(|e| self.ssh_error("starting a command", e))?;
        // stdout first, then stderr: libssh2 queues the other stream meanwhile. ESXi commands
        // write little to stderr, far below the channel window that could stall this.
        let mut stdout = Vec::new();
        channel
            .read_to_end(&mut stdout)
            .map_err(|e| self.io_error("reading command output", e))?;
        let mut stderr = Vec::new();
        channel
            .stderr()
            .read_to_end(&mut stderr)
            .map_err(|e| self.io_error("reading command errors", e))?;
        channel
            .wait_close()
            .map_err(|e| self.ssh_error("closing a channel", e))?;
        let status = channel
            .exit_status()
            .map_err(|e| self.ssh_error("reading the exit status", e))?;
        Ok(ExecOutput {
            status,
            stdout,
            stderr,
        })
    }

    fn download(
        &self,
        remote: &str,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, TransportError> {
        let _ = self.session.keepalive_send();
        let Ok(sftp) = self.session.sftp() else {
            return self.download_scp(remote, out, progress);
        };
        let what = format!("sftp get {remote}");
        let expected = sftp
            .stat(Path::new(remote))
            .map_err(|e| self.ssh_error(&what, e))?
            .size;
        let mut file = sftp
            .open(Path::new(remote))
            .map_err(|e| self.ssh_error(&what, e))?;
        let got = copy(&mut file, out, progress).map_err(|e| self.io_error(&what, e))?;
        if let Some(expected) = expected.filter(|&n| n != got) {
            return Err(self.truncated(remote, got, expected));
        }
        Ok(got)
    }

    fn upload(&self, input: &mut dyn Read, size: u64, remote: &str) -> Result<(), TransportError> {
        let _ = self.session.keepalive_send();
        let what = format!("upload {remote}");
        let mut limited = input.take(size);
        let mut sink: Box<dyn Write> = match self.session.sftp() {
            Ok(sftp) => Box::new(
                sftp.open_mode(
                    Path::new(remote),
                    OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE,
                    0o600,
                    OpenType::File,
                )
                .map_err(|e| self.ssh_error(&what, e))?,
            ),
            Err(_) => Box::new(ScpSink(
                self.session
                    .scp_send(Path::new(remote), 0o600, size, None)
                    .map_err(|e| self.ssh_error(&what, e))?,
            )),
        };
        let sent =
            copy(&mut limited, &mut sink, &mut |_| {}).map_err(|e| self.io_error(&what, e))?;
        sink.flush().map_err(|e| self.io_error(&what, e))?;
        drop(sink);
        if sent != size {
            return Err(self.truncated(remote, sent, size));
        }
        Ok(())
    }
}

/// An SCP upload channel that finishes the transfer when dropped.
struct ScpSink(ssh2::Channel);

impl Write for ScpSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Drop for ScpSink {
    fn drop(&mut self) {
        let _ = self.0.send_eof();
        let _ = self.0.wait_eof();
        let _ = self.0.wait_close();
    }
}

fn copy(
    input: &mut dyn Read,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all(buf.get(..n).unwrap_or_default())?;
        total = total.saturating_add(n as u64);
        progress(total);
    }
}

fn timeout_ms(timeout: Duration) -> u32 {
    u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX)
}

fn connect_tcp(endpoint: &Endpoint, timeout: Duration) -> std::io::Result<TcpStream> {
    let mut last = None;
    for addr in (endpoint.address.as_str(), endpoint.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} resolves to no address", endpoint.address),
        )
    }))
}

/// Tries the key file, the agent, then the password by every method the server offers.
fn authenticate(
    session: &Session,
    user: &str,
    credentials: &Credentials,
    target: &str,
) -> Result<(), TransportError> {
    let mut tried: Vec<String> = Vec::new();
    let mut hint = "give a key with --identity, load it into ssh-agent, or set ESXFORGE_SSH_PASSWORD / --password-file".to_string();
    let offered = session.auth_methods(user).unwrap_or("").to_string();
    if session.authenticated() {
        return Ok(());
    }
    if let Some(identity) = &credentials.identity {
        tried.push(format!("key {}", identity.display()));
        if !identity.exists() {
            hint = format!("{} does not exist", identity.display());
        } else if session
            .userauth_pubkey_file(user, None, identity, None)
            .is_ok()
            && session.authenticated()
        {
            return Ok(());
        }
    }
    if credentials.use_agent && std::env::var_os("SSH_AUTH_SOCK").is_some() {
        tried.push("ssh-agent".to_string());
        if try_agent(session, user) {
            return Ok(());
        }
    }
    let password_methods: Vec<&str> = offered
        .split(',')
        .filter(|m| *m == "keyboard-interactive" || *m == "password")
        .collect();
    if !password_methods.is_empty() {
        match credentials.password.get() {
            None => {
                hint = format!(
                    "the server accepts {} but no password was given: set ESXFORGE_SSH_PASSWORD or use --password-file",
                    password_methods.join(" or ")
                );
            }
            Some(secret) => {
                for method in &password_methods {
                    tried.push((*method).to_string());
                    let ok = if *method == "password" {
                        session.userauth_password(user, secret.expose()).is_ok()
                    } else {
                        let mut answer = AnswerWith(secret.expose());
                        session
                            .userauth_keyboard_interactive(user, &mut answer)
                            .is_ok()
                    };
                    if ok && session.authenticated() {
                        return Ok(());
                    }
                }
                hint = format!("wrong password for {user}? (the server refused it)");
            }
        }
    }
    if tried.is_empty() {
        tried.push(format!("the server offers only: {offered}"));
    }
    Err(TransportError::Auth {
        target: target.to_string(),
        tried: format!("tried {}", tried.join(", ")),
        hint,
    })
}

fn try_agent(session: &Session, user: &str) -> bool {
    let Ok(mut agent) = session.agent() else {
        return false;
    };
    if agent.connect().is_err() || agent.list_identities().is_err() {
        return false;
    }
    let identities = agent.identities().unwrap_or_default();
    let ok = identities
        .iter()
        .any(|id| agent.userauth(user, id).is_ok() && session.authenticated());
    let _ = agent.disconnect();
    ok
}

/// Answers every hidden keyboard-interactive prompt (ESXi asks `Password: `) with the secret.
struct AnswerWith<'a>(&'a str);

impl ssh2::KeyboardInteractivePrompt for AnswerWith<'_> {
    fn prompt<'b>(
        &mut self,
        _username: &str,
        _instructions: &str,
        prompts: &[ssh2::Prompt<'b>],
    ) -> Vec<String> {
        prompts
            .iter()
            .map(|p| {
                if p.echo {
                    String::new()
                } else {
                    self.0.to_string()
                }
            })
            .collect()
    }
}
