//! The `esxcli` front end: parse the command line, find the command, run it against the state,
//! print the result in text or XML.

pub mod args;
pub mod hardware;
pub mod network;
pub mod output;
pub mod spec;
pub mod storage;
pub mod system;

use crate::Reply;
use crate::state::State;

/// A parsed esxcli invocation, before it touches the state.
pub struct Call {
    pub spec: &'static spec::Spec,
    pub opts: args::Opts,
    pub formatter: args::Formatter,
    /// `esxcli network ip dns server add -s 1.1.1.1`: for fault matching and the change log.
    pub line: String,
}

/// Parses `args` (everything after `esxcli`); an `Err` is the reply to give instead.
pub fn parse(args: &[String], state_version: &crate::version::Version) -> Result<Call, Reply> {
    let (globals, rest) = args::globals(args).map_err(|e| Reply::error(format!("Error: {e}")))?;
    let Some((spec, used)) = spec::find(rest) else {
        let words: Vec<String> = rest
            .iter()
            .take_while(|w| !w.starts_with('-'))
            .cloned()
            .collect();
        if words.is_empty() {
            return Err(Reply::error(
                "Usage: esxcli [options] {namespace}+ {cmd} [cmd options]".to_string(),
            ));
        }
        if spec::is_namespace(&words) {
            return Err(Reply::error(format!(
                "Error: {} is a namespace; give a command (see the simulator's command list)",
                words.join(" ")
            )));
        }
        return Err(Reply::error(format!(
            "Error: Unknown command or namespace {}",
            words.join(" ")
        )));
    };
    if !(spec.exists)(state_version) {
        return Err(Reply::error(format!(
            "Error: Unknown command or namespace {}",
            spec.path
        )));
    }
    let option_args = rest.get(used..).unwrap_or_default();
    let opts = args::options(spec, option_args).map_err(|e| Reply::error(format!("Error: {e}")))?;
    let mut line = format!("esxcli {}", spec.path);
    for a in option_args {
        line.push(' ');
        line.push_str(a);
    }
    Ok(Call {
        spec,
        opts,
        formatter: globals.formatter,
        line,
    })
}

/// Runs a parsed call against the state.
pub fn run(call: &Call, st: &mut State) -> Reply {
    match (call.spec.run)(st, &call.opts) {
        Ok(out) => Reply::ok(match call.formatter {
            args::Formatter::Text => output::render_text(&out),
            args::Formatter::Xml => output::render_xml(&out),
            args::Formatter::Json => output::render_json(&out),
            args::Formatter::KeyValue => output::render_keyvalue(&out),
            args::Formatter::Csv => output::render_csv(&out),
        }),
        Err(message) => Reply::error(format!("Error: {message}")),
    }
}
