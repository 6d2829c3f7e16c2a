//! Applying the injected faults of [`crate::state::Faults`] to a command.

use std::time::Duration;

use crate::state::State;
use crate::store::Store;
use crate::{Error, Reply};

/// Whether a rule's command (words) covers a command line: equal, or a prefix ending at a word.
pub fn covers(rule: &str, line: &str) -> bool {
    let rule = rule.trim();
    !rule.is_empty()
        && (line == rule
            || line
                .strip_prefix(rule)
                .is_some_and(|rest| rest.starts_with(' ')))
}

/// Applies slow and fail rules before a command runs; `Some` is the failure reply.
/// `formatter` is the esxcli `--formatter` the call asked for (`None` for other commands).
pub fn before(
    line: &str,
    formatter: Option<&str>,
    state: &State,
    store: &Store,
) -> Result<Option<Reply>, Error> {
    let delay: u64 = state
        .faults
        .slow
        .iter()
        .filter(|r| covers(&r.command, line))
        .map(|r| r.ms)
        .sum();
    if delay > 0 {
        std::thread::sleep(Duration::from_millis(delay));
    }
    let live = |st: &State| {
        st.faults.fail.iter().position(|r| {
            covers(&r.command, line)
                && r.times != Some(0)
                && r.formatter.as_deref().is_none_or(|f| Some(f) == formatter)
        })
    };
    if live(state).is_none() {
        return Ok(None);
    }
    // Re-check under the exclusive lock: a rule limited to N failures counts down exactly.
    store.update(|st| {
        let i = live(st)?;
        let rule = st.faults.fail.get_mut(i)?;
        if let Some(n) = rule.times.as_mut() {
            *n = n.saturating_sub(1);
        }
        let message = if rule.stderr.is_empty() {
            format!("Error: simulated failure of `{line}`")
        } else {
            rule.stderr.clone()
        };
        let mut reply = Reply::error(message);
        if rule.exit_code != 0 {
            reply.code = rule.exit_code;
        }
        Some(reply)
    })
}

/// Runs a state-changing command and records it in `changes` when it changed something.
pub fn logged(st: &mut State, line: &str, run: impl FnOnce(&mut State) -> Reply) -> Reply {
    let before = st.clone();
    let reply = run(st);
    if *st != before {
        st.changes.push(line.to_string());
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_whole_words() {
        let line = "esxcli network ip dns server add -s 1.1.1.1";
        assert!(covers("esxcli network ip dns server add", line));
        assert!(covers("esxcli network ip dns", line));
        assert!(!covers("esxcli network ip dns serv", line));
        assert!(!covers("", line));
        assert!(covers(
            "vim-cmd hostsvc/firmware/backup_config",
            "vim-cmd hostsvc/firmware/backup_config"
        ));
    }
}

#[cfg(test)]
mod formatter_tests {
    use crate::seed::{Seed, generate};
    use crate::state::FailRule;
    use crate::store::Store;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn a_rule_for_one_formatter_leaves_the_others_working() {
        let dir = tempfile::tempdir().unwrap();
        let mut host = generate(&Seed::default()).unwrap();
        host.paths.scratch = dir.path().join("scratch").display().to_string();
        host.faults.fail.push(FailRule {
            command: "esxcli system".into(),
            formatter: Some("xml".into()),
            stderr: "Error: XML formatter failed".into(),
            ..FailRule::default()
        });
        let uuid = host.host.uuid.clone();
        let store = Store::new(dir.path().join("state.json"));
        store.write(&host).unwrap();
        let run = |line: &str| crate::dispatch("esxcli", &words(line), &store).unwrap();

        let xml = run("--formatter=xml system uuid get");
        assert_eq!(
            (xml.code, xml.stderr.as_str()),
            (1, "Error: XML formatter failed\n")
        );
        assert_eq!(run("system uuid get").stdout, format!("{uuid}\n"));
        assert_eq!(run("--formatter=keyvalue system uuid get").code, 0);
        // Outside the rule's command, XML still answers.
        assert_eq!(run("--formatter=xml network nic list").code, 0);
    }
}
