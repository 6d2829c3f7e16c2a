//! esxcli's command line: global options, the namespace path, then the command's options.
//!
//! Options take their value as `--name=value`, `--name value`, `-n value`, `-n=value` or
//! `-nvalue`, and may repeat (`system ntp set -s a -s b`); flags (`--all`) take none.

use super::spec::{Opt, Spec};

/// A parsed option list: (long name, value) in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Opts(pub Vec<(&'static str, String)>);

impl Opts {
    pub fn get(&self, long: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| *k == long)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, long: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| *k == long)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn has(&self, long: &str) -> bool {
        self.0.iter().any(|(k, _)| *k == long)
    }

    /// A required option (the parser already checked it is there).
    pub fn req(&self, long: &str) -> Result<&str, String> {
        self.get(long)
            .ok_or_else(|| format!("Missing required parameter --{long}"))
    }

    /// An esxcli boolean: `true`/`false`, `1`/`0`, `yes`/`no` (any case).
    pub fn bool(&self, long: &str) -> Result<Option<bool>, String> {
        match self.get(long) {
            None => Ok(None),
            Some(v) => parse_bool(v)
                .map(Some)
                .ok_or_else(|| format!("Invalid data constraint for parameter '{long}'. Expected a boolean value, got: {v}")),
        }
    }

    pub fn int(&self, long: &str) -> Result<Option<i64>, String> {
        match self.get(long) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                format!(
                    "Invalid data constraint for parameter '{long}'. Expected an integer, got: {v}"
                )
            }),
        }
    }
}

pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "on" => Some(true),
        "false" | "0" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// `--formatter`: how esxcli prints a result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Formatter {
    /// The command's own text layout.
    #[default]
    Text,
    Xml,
    Json,
    KeyValue,
    Csv,
}

impl Formatter {
    /// The `--formatter` value that selects it (`text` for the default, which has none).
    pub fn name(self) -> &'static str {
        match self {
            Formatter::Text => "text",
            Formatter::Xml => "xml",
            Formatter::Json => "json",
            Formatter::KeyValue => "keyvalue",
            Formatter::Csv => "csv",
        }
    }
}

/// esxcli's own options, before the namespace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Globals {
    pub formatter: Formatter,
}

/// Splits off the global options; returns them and the rest.
pub fn globals(args: &[String]) -> Result<(Globals, &[String]), String> {
    let mut g = Globals::default();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        match name {
            "--formatter" | "-f" => {
                let value = match inline {
                    Some(v) => v,
                    None => {
                        i += 1;
                        args.get(i)
                            .cloned()
                            .ok_or("Missing value for --formatter")?
                    }
                };
                g.formatter = [
                    Formatter::Xml,
                    Formatter::Json,
                    Formatter::KeyValue,
                    Formatter::Csv,
                ]
                .into_iter()
                .find(|f| f.name() == value)
                .ok_or_else(|| format!("Invalid formatter: {value}"))?;
            }
            "--debug" | "--version" => {}
            "--format-param" => {
                if inline.is_none() {
                    i += 1;
                }
            }
            _ => break,
        }
        i += 1;
    }
    Ok((g, args.get(i..).unwrap_or_default()))
}

/// Parses a command's options against its spec.
pub fn options(spec: &Spec, args: &[String]) -> Result<Opts, String> {
    let mut out = Opts::default();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let (opt, inline): (&Opt, Option<String>) = if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let opt = spec
                .options
                .iter()
                .find(|o| o.long == name)
                .ok_or_else(|| format!("Invalid option --{name}"))?;
            (opt, inline)
        } else if let Some(short) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            let c = chars.next().unwrap_or('-');
            let rest = chars.as_str();
            let opt = spec
                .options
                .iter()
                .find(|o| o.short == Some(c))
                .ok_or_else(|| format!("Invalid option -{c}"))?;
            let inline = if rest.is_empty() {
                None
            } else {
                Some(rest.strip_prefix('=').unwrap_or(rest).to_string())
            };
            (opt, inline)
        } else {
            return Err(format!("Unexpected argument: {a}"));
        };
        let value = if opt.flag {
            inline.unwrap_or_else(|| "true".into())
        } else {
            match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    args.get(i)
                        .cloned()
                        .ok_or_else(|| format!("Missing value for --{}", opt.long))?
                }
            }
        };
        out.0.push((opt.long, value));
        i += 1;
    }
    for o in spec.options.iter().filter(|o| o.required) {
        if !out.has(o.long) {
            let short = o.short.map(|c| format!("-{c}|")).unwrap_or_default();
            return Err(format!("Missing required parameter {short}--{}", o.long));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esxcli::spec::find;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_option_spelling() {
        let Some(spec) = find(&strings(&["system", "ntp", "set"])).map(|(s, _)| s) else {
            panic!("system ntp set is a command");
        };
        let o = options(
            spec,
            &strings(&["-s", "a", "--server=b", "--server", "c", "-sd", "-e=yes"]),
        );
        let o = o.unwrap_or_default();
        assert_eq!(o.all("server"), vec!["a", "b", "c", "d"]);
        assert_eq!(o.bool("enabled"), Ok(Some(true)));
        assert!(options(spec, &strings(&["--bogus"])).is_err_and(|e| e.contains("--bogus")));
    }

    #[test]
    fn required_options_are_enforced() {
        let Some(spec) = find(&strings(&["network", "ip", "dns", "server", "add"])).map(|(s, _)| s)
        else {
            panic!("dns server add is a command");
        };
        assert!(options(spec, &[]).is_err_and(|e| e.contains("-s|--server")));
    }

    #[test]
    fn formatter() {
        let args = strings(&["--formatter=xml", "system", "uuid", "get"]);
        let (g, rest) = globals(&args).unwrap_or_default();
        assert_eq!(g.formatter, Formatter::Xml);
        assert_eq!(rest, &args[1..]);
        let args = strings(&["--formatter", "xml", "system"]);
        assert!(globals(&args).is_ok_and(|(g, r)| g.formatter == Formatter::Xml && r.len() == 1));
        let args = strings(&["--formatter=yaml", "system"]);
        assert!(globals(&args).is_err_and(|e| e.contains("yaml")));
    }
}
