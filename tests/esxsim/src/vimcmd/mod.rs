//! The `vim-cmd` front end: `hostsvc/…` and `vmsvc/…` commands, printing VMODL.

pub mod host;
pub mod vm;
pub mod vmodl;

use crate::host_ops::Fault;
use crate::state::State;
use crate::store::Store;
use crate::{Error, Reply, faults};

/// A fault reply: vim-cmd prints the fault object on stdout and fails.
pub fn fault_reply(f: &Fault) -> Reply {
    Reply {
        stdout: vmodl::fault(f.kind, &f.message),
        stderr: String::new(),
        code: 1,
    }
}

fn style(st: &State) -> vmodl::Style {
    vmodl::Style {
        legacy: st.knobs.vmodl_legacy,
    }
}

/// Runs a state-changing command under the exclusive lock, logging it.
fn mutate(store: &Store, line: &str, f: impl FnOnce(&mut State) -> Reply) -> Result<Reply, Error> {
    store.update(|st| faults::logged(st, line, f))
}

/// The VM a `vmsvc/…` command names.
fn vmid(args: &[String]) -> Result<u32, Reply> {
    let raw = args.get(1).map(String::as_str).unwrap_or_default();
    raw.parse().map_err(|_| {
        fault_reply(&Fault::new(
            "NotFound",
            format!("Unable to find a VM corresponding to \"{raw}\""),
        ))
    })
}

pub fn dispatch(args: &[String], line: &str, state: State, store: &Store) -> Result<Reply, Error> {
    let cmd = args.first().map(String::as_str).unwrap_or_default();
    let style = style(&state);
    let with_vm = |f: &dyn Fn(&crate::state::Vm) -> String| -> Reply {
        match vmid(args) {
            Err(r) => r,
            Ok(id) => match state.vm(id) {
                Some(vm) => Reply::ok(f(vm)),
                None => fault_reply(&Fault::new(
                    "NotFound",
                    format!("Unable to find a VM corresponding to \"{id}\""),
                )),
            },
        }
    };
    Ok(match cmd {
        "hostsvc/firmware/sync_config" => Reply::default(),
        "hostsvc/firmware/backup_config" => host::backup(&state),
        "hostsvc/firmware/restore_config" => {
            return host::restore(args.get(1..).unwrap_or_default(), line, store);
        }
        "hostsvc/maintenance_mode_enter" => {
            return mutate(store, line, |st| host::maintenance(st, true));
        }
        "hostsvc/maintenance_mode_exit" => {
            return mutate(store, line, |st| host::maintenance(st, false));
        }
        "hostsvc/runtimeinfo" => Reply::ok(vmodl::render(&host::runtime_info(&state), style)),
        "hostsvc/hosthardware" => Reply::ok(vmodl::render(&host::hardware_info(&state), style)),
        "hostsvc/hostconfig" => Reply::ok(vmodl::render(&host::config_info(&state), style)),
        "hostsvc/datastore/rename" => {
            let (Some(old), Some(new)) = (args.get(1), args.get(2)) else {
                return Ok(Reply::error("Usage: datastore/rename old_name new_name"));
            };
            return mutate(store, line, |st| host::rename_datastore(st, old, new));
        }
        "hostsvc/enable_ssh"
        | "hostsvc/disable_ssh"
        | "hostsvc/start_ssh"
        | "hostsvc/stop_ssh"
        | "hostsvc/enable_esx_shell"
        | "hostsvc/disable_esx_shell"
        | "hostsvc/start_esx_shell"
        | "hostsvc/stop_esx_shell" => {
            return mutate(store, line, |st| host::service_toggle(st, cmd));
        }
        "vmsvc/getallvms" => vm::getallvms(&state),
        "vmsvc/get.guest" => with_vm(&|v| {
            format!(
                "Guest information:\n\n{}",
                vmodl::render(&vm::guest_info(&state, v), style)
            )
        }),
        "vmsvc/get.summary" => with_vm(&|v| {
            format!(
                "Listsummary:\n\n{}",
                vmodl::render(&vm::summary(&state, v), style)
            )
        }),
        "vmsvc/get.config" => with_vm(&|v| {
            format!(
                "Configuration:\n\n{}",
                vmodl::render(&vm::config_info(&state, v), style)
            )
        }),
        "vmsvc/device.getdevices" => with_vm(&|v| {
            format!(
                "Devices:\n\n{}",
                vmodl::render(&vm::hardware(&state, v), style)
            )
        }),
        "vmsvc/get.networks" => with_vm(&|v| {
            let mut out = String::from("Networks:\n\n");
            for n in vm::networks(v) {
                out.push_str(&vmodl::render(&n, style));
                out.push_str("\n\n");
            }
            out
        }),
        "vmsvc/snapshot.get" => with_vm(&vm::snapshot_tree),
        "vmsvc/power.getstate" => with_vm(&|v| {
            let state = if v.powered_on {
                "Powered on"
            } else {
                "Powered off"
            };
            format!("Retrieved runtime info\n{state}\n")
        }),
        "vmsvc/power.on" | "vmsvc/power.off" => {
            let id = match vmid(args) {
                Ok(id) => id,
                Err(r) => return Ok(r),
            };
            let on = cmd == "vmsvc/power.on";
            return mutate(store, line, |st| vm::power(st, id, on));
        }
        "" => Reply::error("Usage: vim-cmd [options] command [args]"),
        other => Reply::error(format!("Invalid command '{other}'")),
    })
}
