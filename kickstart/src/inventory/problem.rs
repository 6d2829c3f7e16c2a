//! What `inventory check` reports: one [`Problem`] per finding, addressed by its path in the file.

use std::fmt;

use serde::Serialize;

/// How bad a problem is. Errors stop `ks render`; warnings are printed and do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One finding about an inventory: where it is and what is wrong, never a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// Dotted path to the value: `hosts.esx01.vmkernel[1].ip`. Items of merged lists are named
    /// by their `name` (`hosts.esx01.vmkernel[vmk1].ip`): after merging they have no single index.
    pub path: String,
    /// 1-based line in the inventory file, when the path is found there.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// One step of a [`Path`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
    Name(&'a str),
}

/// A borrowed path into the document, built on the stack as the decoder descends: it allocates
/// only when a problem is reported, which keeps loading 10,000 hosts cheap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Option<Seg<'a>>,
}

impl<'a> Path<'a> {
    pub(crate) const ROOT: Path<'static> = Path {
        parent: None,
        seg: None,
    };

    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        self.child(Seg::Key(key))
    }

    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        self.child(Seg::Index(index))
    }

    pub(crate) fn name(&'a self, name: &'a str) -> Path<'a> {
        self.child(Seg::Name(name))
    }

    fn child(&'a self, seg: Seg<'a>) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Some(seg),
        }
    }

    fn write(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write(out);
        }
        match self.seg {
            None => {}
            Some(Seg::Key(key)) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Some(Seg::Index(i)) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
            Some(Seg::Name(name)) => {
                out.push('[');
                out.push_str(name);
                out.push(']');
            }
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out);
        f.write_str(&out)
    }
}

/// The problems found so far. Decoders push into it and carry on, so that one run reports
/// every problem rather than the first.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    pub(crate) list: Vec<Problem>,
}

impl Problems {
    /// `path` is a [`Path`] or, where building one is awkward, its text.
    pub(crate) fn error(&mut self, path: impl fmt::Display, message: impl Into<String>) {
        self.push(Severity::Error, path.to_string(), message.into());
    }

    pub(crate) fn warning(&mut self, path: impl fmt::Display, message: impl Into<String>) {
        self.push(Severity::Warning, path.to_string(), message.into());
    }

    pub(crate) fn push(&mut self, severity: Severity, path: String, message: String) {
        self.list.push(Problem {
            severity,
            path,
            line: None,
            message,
        });
    }

    pub(crate) fn errors(&self) -> usize {
        self.list
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_keys_indexes_and_names() {
        let root = Path::ROOT;
        let hosts = root.key("hosts");
        let host = hosts.key("esx01");
        let vmk = host.key("vmkernel");
        assert_eq!(
            vmk.index(1).key("ip").to_string(),
            "hosts.esx01.vmkernel[1].ip"
        );
        assert_eq!(
            vmk.name("vmk1").key("ip").to_string(),
            "hosts.esx01.vmkernel[vmk1].ip"
        );
        assert_eq!(root.to_string(), "");
    }
}
