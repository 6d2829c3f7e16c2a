//! `esxcli system …` and `software vib list`.

use super::args::Opts;
use super::output::{Output, Struct, Value, strings, structs};
use crate::state::State;

pub fn version_get(st: &mut State, _: &Opts) -> Result<Output, String> {
    let v = &st.host.version;
    let s = Struct::new("VersionGet")
        .str("Product", &st.host.product)
        .str("Version", &v.version)
        .str("Build", format!("Releasebuild-{}", v.build))
        .str("Update", &v.update)
        .str("Patch", &v.patch);
    Ok(Output::records(Value::Struct(s), None))
}

pub fn uuid_get(st: &mut State, _: &Opts) -> Result<Output, String> {
    Ok(Output::scalar(Value::Str(st.host.uuid.clone())))
}

pub fn hostname_get(st: &mut State, _: &Opts) -> Result<Output, String> {
    let s = Struct::new("FullyQualifiedHostName")
        .str("DomainName", &st.host.domain)
        .str("FullyQualifiedDomainName", st.host.fqdn())
        .str("HostName", &st.host.hostname);
    Ok(Output::records(Value::Struct(s), None))
}

pub fn hostname_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    if let Some(fqdn) = o.get("fqdn") {
        if o.has("host") || o.has("domain") {
            return Err("The --fqdn option cannot be combined with --host or --domain".into());
        }
        let (host, domain) = fqdn.split_once('.').unwrap_or((fqdn, ""));
        st.host.hostname = host.to_string();
        st.host.domain = domain.to_string();
    }
    if let Some(host) = o.get("host") {
        st.host.hostname = host.to_string();
    }
    if let Some(domain) = o.get("domain") {
        st.host.domain = domain.to_string();
    }
    if st.host.hostname.is_empty() || st.host.hostname.contains(char::is_whitespace) {
        return Err(format!("Invalid host name: {:?}", st.host.hostname));
    }
    let name = st.host.hostname.clone();
    if let Some(opt) = st.advanced_mut("/Misc/HostName") {
        opt.string_value = name;
    }
    Ok(Output::done())
}

pub fn maintenance_get(st: &mut State, _: &Opts) -> Result<Output, String> {
    let mode = if st.maintenance_mode {
        "Enabled"
    } else {
        "Disabled"
    };
    Ok(Output::scalar(Value::Str(mode.into())))
}

pub fn maintenance_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    let enable = o.bool("enable")?.unwrap_or(false);
    crate::host_ops::set_maintenance(st, enable).map_err(|fault| fault.message)?;
    Ok(Output::done())
}

pub fn ntp_get(st: &mut State, _: &Opts) -> Result<Output, String> {
    let s = Struct::new("NTPConfig")
        .bool("Enabled", st.ntp.enabled)
        .str("Loglevel", &st.ntp.loglevel)
        .strs("Server", &st.ntp.servers);
    Ok(Output::records(Value::Struct(s), None))
}

pub fn ntp_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    if o.has("file") {
        return Err("Loading an ntp.conf with --file is not supported by this simulator".into());
    }
    if o.bool("reset")?.unwrap_or(false) {
        st.ntp.servers.clear();
        st.ntp.enabled = false;
        st.ntp.loglevel = "warning".into();
    }
    let servers = o.all("server");
    if !servers.is_empty() {
        if let Some(bad) = servers.iter().find(|s| s.is_empty() || s.contains(' ')) {
            return Err(format!("Invalid NTP server: {bad:?}"));
        }
        st.ntp.servers = servers;
    }
    if let Some(level) = o.get("loglevel") {
        const LEVELS: &[&str] = &["debug", "info", "warning", "error", "critical"];
        if !LEVELS.contains(&level) {
            return Err(format!(
                "Invalid log level {level}; valid: {}",
                LEVELS.join(", ")
            ));
        }
        st.ntp.loglevel = level.to_string();
    }
    if let Some(enabled) = o.bool("enabled")? {
        if enabled && st.ntp.servers.is_empty() {
            return Err("NTP cannot be enabled without servers; add one with --server".into());
        }
        crate::host_ops::set_ntpd(st, enabled);
    }
    Ok(Output::done())
}

pub fn syslog_get(st: &mut State, _: &Opts) -> Result<Output, String> {
    let remote = if st.syslog.loghost.is_empty() {
        "<none>".to_string()
    } else {
        st.syslog.loghost.join(",")
    };
    let major = st.host.version.major();
    let mut s = Struct::new("SyslogConfig")
        .int("DefaultNetworkRetryTimeout", 180)
        .int("DroppedLogFileRotationSize", 100)
        .int("DroppedLogFileRotations", 10)
        .bool("EnforceSSLCertificates", true)
        .str("LocalLogOutput", &st.syslog.logdir)
        .bool(
            "LocalLogOutputIsConfigured",
            st.syslog.logdir != "/scratch/log",
        )
        .bool("LocalLogOutputIsPersistent", true)
        .int("LocalLoggingDefaultRotationSize", 1024)
        .int("LocalLoggingDefaultRotations", 8)
        .bool("LogToUniqueSubdirectory", st.syslog.logdir_unique);
    if major >= 7 {
        s = s
            .str("LogLevel", "error")
            .int("RemoteHostMaximumMessageLength", 1024);
    }
    s = s
        .int("MessageQueueDropMark", 90)
        .str("RemoteHost", remote)
        .bool("StrictX509Compliance", false);
    Ok(Output::records(Value::Struct(s), None))
}

pub fn syslog_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    if o.bool("reset")?.unwrap_or(false) {
        st.syslog.loghost.clear();
        st.syslog.logdir = "/scratch/log".into();
        st.syslog.logdir_unique = false;
    }
    if let Some(hosts) = o.get("loghost") {
        let list: Vec<String> = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .collect();
        for h in &list {
            let ok = match h.split_once("://") {
                Some((proto, rest)) => ["udp", "tcp", "ssl"].contains(&proto) && !rest.is_empty(),
                None => !h.contains(' '),
            };
            if !ok {
                return Err(format!("Invalid loghost: {h}"));
            }
        }
        st.syslog.loghost = list;
    }
    if let Some(dir) = o.get("logdir") {
        st.syslog.logdir = dir.to_string();
    }
    if let Some(unique) = o.bool("logdir-unique")? {
        st.syslog.logdir_unique = unique;
    }
    let loghost = st.syslog.loghost.join(",");
    if let Some(opt) = st.advanced_mut("/Syslog/global/logHost") {
        opt.string_value = loghost;
    }
    Ok(Output::done())
}

pub fn syslog_reload(st: &mut State, _: &Opts) -> Result<Output, String> {
    st.syslog.reloads = st.syslog.reloads.saturating_add(1);
    Ok(Output::done())
}

pub fn advanced_list(st: &mut State, o: &Opts) -> Result<Output, String> {
    let wanted = o.get("option");
    let tree = o.get("tree");
    let with_impact = st.host.version.major() >= 7;
    let items: Vec<Struct> = st
        .advanced
        .iter()
        .filter(|a| wanted.is_none_or(|w| a.path.eq_ignore_ascii_case(w)))
        .filter(|a| {
            tree.is_none_or(|t| {
                a.path
                    .to_ascii_lowercase()
                    .starts_with(&t.to_ascii_lowercase())
            })
        })
        .filter(|a| {
            !o.has("delta") || a.int_value != a.default_int || a.string_value != a.default_string
        })
        .map(|a| {
            let mut s = Struct::new("SettingsAdvancedOption")
                .str("Path", &a.path)
                .str("Type", &a.kind)
                .int("IntValue", a.int_value)
                .int("DefaultIntValue", a.default_int)
                .int("MinValue", a.min)
                .int("MaxValue", a.max)
                .str("StringValue", &a.string_value)
                .str("DefaultStringValue", &a.default_string)
                .str("ValidCharacters", "")
                .str("Description", &a.description);
            if with_impact {
                s = s.bool("HostSpecific", false).str("Impact", "none");
            }
            s
        })
        .collect();
    if let Some(w) = wanted.filter(|_| items.is_empty()) {
        return Err(format!(
            "Unable to find option {}",
            w.trim_start_matches('/')
        ));
    }
    Ok(Output::records(structs(items), None))
}

pub fn advanced_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    let path = o.req("option")?.to_string();
    let int_value = o.int("int-value")?;
    let string_value = o.get("string-value").map(str::to_string);
    let default = o.bool("default")?.unwrap_or(false);
    let opt = st
        .advanced_mut(&path)
        .ok_or_else(|| format!("Unable to find option {}", path.trim_start_matches('/')))?;
    if default {
        opt.int_value = opt.default_int;
        opt.string_value = opt.default_string.clone();
    } else if opt.kind == "integer" {
        let v = int_value
            .ok_or_else(|| format!("Option {} is an integer; use --int-value", opt.path))?;
        if v < opt.min || v > opt.max {
            return Err(format!(
                "Invalid value {v} for option {}: must be between {} and {}",
                opt.path, opt.min, opt.max
            ));
        }
        opt.int_value = v;
    } else {
        let v = string_value
            .ok_or_else(|| format!("Option {} is a string; use --string-value", opt.path))?;
        opt.string_value = v;
    }
    let (path, value) = (opt.path.clone(), opt.string_value.clone());
    if path.eq_ignore_ascii_case("/Syslog/global/logHost") {
        st.syslog.loghost = value
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .collect();
    }
    Ok(Output::done())
}

pub fn vib_list(st: &mut State, _: &Opts) -> Result<Output, String> {
    let eight = st.host.version.major() >= 8;
    let items = st
        .vibs
        .iter()
        .map(|v| {
            let mut s = Struct::new(if eight { "VIBSummaryExt" } else { "VIBSummary" })
                .str("Name", &v.name)
                .str("Version", &v.version)
                .str("Vendor", &v.vendor)
                .shown(
                    "AcceptanceLevel",
                    "Acceptance Level",
                    Value::Str(v.acceptance.clone()),
                )
                .shown(
                    "InstallDate",
                    "Install Date",
                    Value::Str(v.install_date.clone()),
                );
            if eight {
                s = s.str("Platforms", "host");
            }
            s.hidden(
                "ID",
                Value::Str(format!("{}_bootbank_{}_{}", v.vendor, v.name, v.version)),
            )
            .hidden("CreationDate", Value::Str(v.install_date.clone()))
            .hidden("Status", strings(&[]))
        })
        .collect();
    Ok(Output::table(structs(items)))
}
