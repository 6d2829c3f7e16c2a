//! Host operations both `esxcli` and `vim-cmd` offer (maintenance mode, services), so the two
//! front ends change the state the same way.

use crate::state::State;

/// A failed host operation: the VMODL fault type (`InvalidState`, `NotFound`, …) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: &'static str,
    pub message: String,
}

impl Fault {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Fault {
        Fault {
            kind,
            message: message.into(),
        }
    }
}

pub fn set_maintenance(st: &mut State, enable: bool) -> Result<(), Fault> {
    if enable == st.maintenance_mode {
        let word = if enable { "enabled" } else { "disabled" };
        return Err(Fault::new(
            "InvalidState",
            format!("Maintenance mode is already {word}."),
        ));
    }
    if enable && st.knobs.maintenance_needs_powered_off_vms {
        let running: Vec<&str> = st
            .vms
            .iter()
            .filter(|v| v.powered_on && !v.invalid)
            .map(|v| v.name.as_str())
            .collect();
        if !running.is_empty() {
            return Err(Fault::new(
                "InvalidState",
                format!(
                    "Cannot enter maintenance mode: powered-on virtual machines ({}) cannot be evacuated from a standalone host",
                    running.join(", ")
                ),
            ));
        }
    }
    st.maintenance_mode = enable;
    Ok(())
}

/// Starts or stops a service and optionally sets its start-up policy.
pub fn set_service(st: &mut State, key: &str, running: Option<bool>, policy: Option<&str>) {
    if let Some(s) = st.service_mut(key) {
        if let Some(r) = running {
            s.running = r;
        }
        if let Some(p) = policy {
            s.policy = p.to_string();
        }
    }
}

/// NTP on or off: the daemon and its policy follow.
pub fn set_ntpd(st: &mut State, enabled: bool) {
    st.ntp.enabled = enabled;
    let policy = if enabled { "on" } else { "off" };
    set_service(st, "ntpd", Some(enabled), Some(policy));
}
