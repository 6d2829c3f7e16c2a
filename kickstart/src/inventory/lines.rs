//! Line numbers for problem paths.
//!
//! `serde_yaml` keeps no positions in a `Value`, so when there are problems to report the file
//! is read once more by `saphyr-parser`, an event parser that gives each event its span, and
//! the paths of the problems (`hosts.esx01.vmkernel[1].ip`) are mapped to the line of their key
//! or item. Items of a list that have a `name` are also found by it (`vmkernel[vmk1]`), which
//! is how merged hosts' problems are addressed. Only the containers on the way to a problem are
//! walked into: one warning in an inventory of 10,000 hosts must not cost a path per value.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser};

pub(crate) struct LineIndex {
    lines: HashMap<String, usize>,
}

enum Frame {
    Map {
        path: String,
        line: usize,
        key: Option<String>,
    },
    Seq {
        path: String,
        index: usize,
    },
}

impl LineIndex {
    /// Index `text` for `paths`; parse errors end the index where they occur (serde_yaml
    /// reports them).
    pub(crate) fn new<'p>(text: &str, paths: impl IntoIterator<Item = &'p str>) -> LineIndex {
        // Every path with its ancestors: the containers worth walking into.
        let mut wanted: HashSet<&str> = HashSet::from([""]);
        for path in paths {
            let mut p = path;
            while wanted.insert(p) {
                match p.rfind(['.', '[']).and_then(|cut| p.get(..cut)) {
                    Some(parent) => p = parent,
                    None => break,
                }
            }
        }
        let mut lines = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        // Depth inside a container that leads to no wanted path, skipped as a whole.
        let mut skipping = 0usize;
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else { break };
            let line = span.start.line();
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) if skipping > 0 => {
                    skipping += 1;
                }
                Event::MappingEnd | Event::SequenceEnd if skipping > 0 => {
                    skipping -= 1;
                    if skipping == 0 {
                        advance(&mut stack);
                    }
                }
                _ if skipping > 0 => {}
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    // Items of a wanted list are read: a problem may name one by its `name`.
                    let in_wanted_list = matches!(stack.last(), Some(Frame::Seq { path, .. }) if wanted.contains(path.as_str()));
                    let path = child_path(&mut stack, &mut lines, line);
                    if !in_wanted_list && !wanted.contains(path.as_str()) {
                        skipping = 1;
                        continue;
                    }
                    stack.push(match event {
                        Event::MappingStart(..) => Frame::Map {
                            path,
                            line,
                            key: None,
                        },
                        _ => Frame::Seq { path, index: 0 },
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    advance(&mut stack);
                }
                Event::Scalar(value, ..) => {
                    let len = stack.len();
                    match stack.last_mut() {
                        Some(Frame::Map { path, key, .. }) if key.is_none() => {
                            let full = join(path, &value);
                            lines.entry(full).or_insert(line);
                            *key = Some(value.into_owned());
                        }
                        Some(Frame::Map { key, .. }) => {
                            let is_name = key.as_deref() == Some("name");
                            *key = None;
                            if is_name {
                                name_alias(&stack, len, &value, &mut lines);
                            }
                        }
                        Some(Frame::Seq { path, index }) => {
                            lines.entry(format!("{path}[{index}]")).or_insert(line);
                            *index += 1;
                        }
                        None => {}
                    }
                }
                Event::Alias(_) => advance(&mut stack),
                _ => {}
            }
        }
        LineIndex { lines }
    }

    /// The line of `path`, or of its nearest ancestor found in the file.
    pub(crate) fn find(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some(line) = self.lines.get(p) {
                return Some(*line);
            }
            let cut = p.rfind(['.', '['])?;
            p = p.get(..cut)?;
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The path of a container starting now, recorded for list items.
fn child_path(stack: &mut [Frame], lines: &mut HashMap<String, usize>, line: usize) -> String {
    match stack.last_mut() {
        None => String::new(),
        Some(Frame::Map { path, key, .. }) => join(path, key.as_deref().unwrap_or("?")),
        Some(Frame::Seq { path, index }) => {
            let p = format!("{path}[{index}]");
            lines.entry(p.clone()).or_insert(line);
            p
        }
    }
}

/// After a value ends: its map expects a key again, its list moves to the next item.
fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::Seq { index, .. }) => *index += 1,
        None => {}
    }
}

/// `name: X` in a mapping that is a list item: record `list[X]` at the item's line.
fn name_alias(stack: &[Frame], len: usize, name: &str, lines: &mut HashMap<String, usize>) {
    let (Some(Frame::Map { line, .. }), Some(Frame::Seq { path, .. })) = (
        stack.get(len.wrapping_sub(1)),
        stack.get(len.wrapping_sub(2)),
    ) else {
        return;
    };
    lines.entry(format!("{path}[{name}]")).or_insert(*line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_items_names_and_ancestors() {
        let text = "\
defaults:
  esxi: 7.0
hosts:
  esx01:
    vmkernel:
      - name: vmk1
        ip: 10.0.0.1
      - {name: vmk2, ip: 10.0.0.2}
    ntp: [a, b]
";
        let wanted = [
            "defaults.esxi",
            "hosts.esx01.vmkernel[0].ip",
            "hosts.esx01.vmkernel[1]",
            "hosts.esx01.vmkernel[vmk1]",
            "hosts.esx01.vmkernel[vmk2].mtu",
            "hosts.esx01.ntp[1]",
            "hosts.esx01.network.ip",
            "nothing.here",
        ];
        let idx = LineIndex::new(text, wanted);
        assert_eq!(idx.find("defaults.esxi"), Some(2));
        assert_eq!(idx.find("hosts.esx01"), Some(4));
        assert_eq!(idx.find("hosts.esx01.vmkernel[0].ip"), Some(7));
        assert_eq!(idx.find("hosts.esx01.vmkernel[1]"), Some(8));
        assert_eq!(idx.find("hosts.esx01.vmkernel[vmk1]"), Some(6));
        assert_eq!(idx.find("hosts.esx01.vmkernel[vmk2].mtu"), Some(8));
        assert_eq!(idx.find("hosts.esx01.ntp[1]"), Some(9));
        assert_eq!(idx.find("hosts.esx01.network.ip"), Some(4));
        assert_eq!(idx.find("nothing.here"), None);
    }

    #[test]
    fn walks_only_towards_the_paths_asked_for() {
        let text = "\
hosts:
  esx01:
    network: {ip: 10.0.0.1}
    vmkernel: [{name: vmk1, ip: 10.0.0.2}]
  esx02:
    network: {ip: 10.0.0.3}
";
        let idx = LineIndex::new(text, ["hosts.esx02.network.ip"]);
        assert_eq!(idx.find("hosts.esx02.network.ip"), Some(6));
        // Keys beside the way are found (their own line); nothing under them is indexed.
        assert_eq!(idx.find("hosts.esx01"), Some(2));
        assert!(!idx.lines.contains_key("hosts.esx01.network"));
        assert!(!idx.lines.contains_key("hosts.esx01.vmkernel[vmk1]"));
        // Anything after a skipped container is still placed right.
        let idx = LineIndex::new(text, ["hosts.esx02"]);
        assert_eq!(idx.find("hosts.esx02"), Some(5));
    }
}
