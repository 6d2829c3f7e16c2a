//! `esxsim`: the simulator's multi-call binary. What it does depends on the name it runs under:
//!
//! | name | role |
//! |---|---|
//! | `esxcli`, `vim-cmd` | the simulated host's commands |
//! | `vmware`, `chkconfig`, `ntpd` (as `/etc/init.d/ntpd`), `nslookup` | small ESXi shell commands |
//! | `esxsim-sftp` | sshd's SFTP subsystem (the real sftp-server, or a relay that drops) |
//! | `esxsim-shell` | root's login shell on a host that logs what ran on it (then `/bin/sh`) |
//! | `scp`, `cat` | the real programs, or relays that drop the connection midway |
//! | `esxsim` | `esxsim boot …` (a host's root, then its sshd), `esxsim reboot <pid-file> <ms>` (the reboot helper), `esxsim seed` (a new state), `esxsim fleet …` (hosts for scripts, `esxforge_esxsim::fixture::FleetCommand`) |
//!
//! The state file is named by `ESXSIM_STATE`.

use std::io::{Read, Write};
use std::process::ExitCode;

use esxforge_esxsim::cmdlog::{self, Entry};
use esxforge_esxsim::fixture::FleetCommand;
use esxforge_esxsim::store::Store;
use esxforge_esxsim::{Error, Reply, STATE_ENV, boot, dispatch, reboot, seed, shims, transfer};

fn store() -> Result<Store, Error> {
    std::env::var_os(STATE_ENV)
        .filter(|p| !p.is_empty())
        .map(Store::new)
        .ok_or(Error::NoState(STATE_ENV))
}

fn emit(reply: &Reply) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(reply.stdout.as_bytes());
    let _ = out.flush();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(reply.stderr.as_bytes());
    ExitCode::from(u8::try_from(reply.code).unwrap_or(1))
}

fn host_command(tool: &str, args: &[String]) -> ExitCode {
    let name = if tool == "ntpd" {
        "/etc/init.d/ntpd"
    } else {
        tool
    };
    cmdlog::record(&Entry::Command(cmdlog::command_line(name, args)));
    let result = store().and_then(|store| match tool {
        "vmware" => shims::vmware(args, &store),
        "chkconfig" => shims::chkconfig(args, &store),
        "ntpd" => shims::ntpd(args, &store),
        "nslookup" => shims::nslookup(args, &store),
        _ => dispatch(tool, args, &store),
    });
    match result {
        Ok(reply) => emit(&reply),
        Err(e) => {
            eprintln!("esxsim: {e}");
            ExitCode::from(1)
        }
    }
}

/// `esxsim seed`: reads a seed (JSON, every field optional) on stdin, prints the host's state.
fn new_state() -> ExitCode {
    let mut input = String::new();
    if std::io::stdin().read_to_string(&mut input).is_err() {
        eprintln!("esxsim seed: cannot read stdin");
        return ExitCode::from(2);
    }
    let parsed: Result<seed::Seed, _> = if input.trim().is_empty() {
        Ok(seed::Seed::default())
    } else {
        serde_json::from_str(&input)
    };
    let state = match parsed {
        Ok(s) => seed::generate(&s),
        Err(e) => {
            eprintln!("esxsim seed: stdin: {e}");
            return ExitCode::from(2);
        }
    };
    match state.map(|s| serde_json::to_string_pretty(&s)) {
        Ok(Ok(json)) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("esxsim seed: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("esxsim seed: {e}");
            ExitCode::from(2)
        }
    }
}

/// `esxsim fleet …`: see [`FleetCommand`].
fn fleet(args: &[&str]) -> ExitCode {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    match FleetCommand::parse(&args).map(|c| c.run()) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("esxsim fleet: {e}");
            ExitCode::from(1)
        }
        Err(usage) => {
            eprintln!("esxsim fleet: {usage}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let mut argv = std::env::args();
    let argv0 = argv.next().unwrap_or_default();
    let args: Vec<String> = argv.collect();
    let tool = argv0.rsplit('/').next().unwrap_or_default().to_string();
    match tool.as_str() {
        "esxcli" | "vim-cmd" | "vmware" | "chkconfig" | "ntpd" | "nslookup" => {
            host_command(&tool, &args)
        }
        "esxsim-sftp" => transfer::sftp(store().ok().as_ref()),
        "esxsim-shell" => cmdlog::shell(false, &args),
        "-esxsim-shell" => cmdlog::shell(true, &args),
        "scp" => transfer::scp(&args, store().ok().as_ref()),
        "cat" => transfer::cat(&args, store().ok().as_ref()),
        _ => match args
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["reboot", pid_file, ms] => {
                reboot::run(pid_file, ms.parse().unwrap_or(1500));
                ExitCode::SUCCESS
            }
            ["seed"] => new_state(),
            ["fleet", rest @ ..] => fleet(rest),
            ["boot", merged, upper, work, config, binds @ ..] => {
                let boot = boot::Boot {
                    merged: merged.into(),
                    upper: upper.into(),
                    work: work.into(),
                    binds: binds.iter().map(Into::into).collect(),
                    sshd_config: config.into(),
                };
                eprintln!("esxsim boot: {}", boot.run());
                ExitCode::from(1)
            }
            _ => {
                eprintln!(
                    "usage: esxsim seed < SEED.json | esxsim fleet --hosts N --dir DIR [--version V] [--vms N] [--command-log]\n       | esxsim boot MERGED UPPER WORK SSHD_CONFIG [BIND]…\n       (or run as esxcli / vim-cmd with {STATE_ENV} set)"
                );
                ExitCode::from(2)
            }
        },
    }
}
