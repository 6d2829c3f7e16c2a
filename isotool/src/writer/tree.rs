//! The tree the builder collects before it lays anything out: names, kinds, sources and
//! per-entry attributes. Paths are `/`-separated component names, kept in a `BTreeMap` per
//! directory so that the insertion order never leaks into the image.

use std::collections::BTreeMap;

use super::Source;
use crate::iso9660::rockridge::Posix;
use crate::iso9660::{Error, Result, name};

/// Per-entry choices beyond the name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// The primary identifier to record verbatim (for example `IMAGEDD.BZ2;1` from a source
    /// image), instead of one derived from the name by the naming rules. It is still checked for
    /// length and printable ASCII, and collisions are still errors.
    pub iso_identifier: Option<String>,
    /// The Joliet name, when it should differ from the entry's name.
    pub joliet_name: Option<String>,
    /// Set the "existence" (hidden) flag in the primary and Joliet records.
    pub hidden: bool,
    /// Rock Ridge mode, links, owner (defaults: read-only, root, as `mkisofs -r`).
    pub posix: Option<Posix>,
}

pub(crate) enum Kind {
    Dir(BTreeMap<String, usize>),
    File(Source),
    Symlink(String),
    /// The El Torito boot catalog, whose bytes the layout produces.
    Catalog,
}

pub(crate) struct Node {
    pub name: String,
    pub kind: Kind,
    pub attrs: Attributes,
}

/// An arena of nodes; index 0 is the root directory.
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
}

/// Splits a path into components, refusing empty, `.` and `..` components.
pub(crate) fn components(path: &str) -> Result<Vec<&str>> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(Error::Tree {
            path: path.into(),
            problem: "names the root directory".into(),
        });
    }
    if let Some(bad) = parts
        .iter()
        .find(|p| **p == "." || **p == ".." || p.contains('\0'))
    {
        return Err(Error::Tree {
            path: path.into(),
            problem: format!("component {bad:?} is not a name"),
        });
    }
    Ok(parts)
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            nodes: vec![Node {
                name: String::new(),
                kind: Kind::Dir(BTreeMap::new()),
                attrs: Attributes::default(),
            }],
        }
    }

    pub fn children(&self, node: usize) -> Option<&BTreeMap<String, usize>> {
        match &self.nodes.get(node)?.kind {
            Kind::Dir(children) => Some(children),
            _ => None,
        }
    }

    /// The node at `path`, if any.
    pub fn find(&self, path: &str) -> Option<usize> {
        let mut node = 0;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            node = *self.children(node)?.get(part)?;
        }
        Some(node)
    }

    /// The directory at `parts`, creating missing directories (`mkdir -p`).
    fn dir(&mut self, parts: &[&str], path: &str) -> Result<usize> {
        let mut node = 0;
        for part in parts {
            let existing = match &self.nodes[node].kind {
                Kind::Dir(children) => children.get(*part).copied(),
                _ => None,
            };
            node = match existing {
                Some(child) if matches!(self.nodes[child].kind, Kind::Dir(_)) => child,
                Some(_) => {
                    return Err(Error::Tree {
                        path: path.into(),
                        problem: format!("{part:?} on the way there is a file, not a directory"),
                    });
                }
                None => self.insert(
                    node,
                    part,
                    Kind::Dir(BTreeMap::new()),
                    Attributes::default(),
                ),
            };
        }
        Ok(node)
    }

    fn insert(&mut self, parent: usize, name: &str, kind: Kind, attrs: Attributes) -> usize {
        let index = self.nodes.len();
        self.nodes.push(Node {
            name: name.to_string(),
            kind,
            attrs,
        });
        if let Kind::Dir(children) = &mut self.nodes[parent].kind {
            children.insert(name.to_string(), index);
        }
        index
    }

    /// Adds a directory (and its parents). Adding an existing directory again only updates its
    /// attributes.
    pub fn add_dir(&mut self, path: &str, attrs: Attributes) -> Result<()> {
        let parts = components(path)?;
        let node = self.dir(&parts, path)?;
        self.nodes[node].attrs = attrs;
        Ok(())
    }

    /// Adds a leaf (file, symlink, catalog); the path must be new.
    pub fn add_leaf(&mut self, path: &str, kind: Kind, attrs: Attributes) -> Result<()> {
        let parts = components(path)?;
        let (name, dirs) = parts.split_last().ok_or_else(|| Error::Tree {
            path: path.into(),
            problem: "empty path".into(),
        })?;
        let parent = self.dir(dirs, path)?;
        if self.children(parent).is_some_and(|c| c.contains_key(*name)) {
            return Err(Error::Tree {
                path: path.into(),
                problem: "is already in the image; remove it first to replace it".into(),
            });
        }
        self.insert(parent, name, kind, attrs);
        Ok(())
    }

    /// The path (by entry names) of the entry whose primary identifiers match `path` as ESXi's
    /// loader matches them: ASCII case-insensitive, `;1` optional. An entry without a recorded
    /// identifier matches by its name.
    pub fn find_primary(&self, path: &str) -> Option<String> {
        let mut node = 0;
        let mut names = Vec::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let (name, &child) = self.children(node)?.iter().find(|(name, child)| {
                let attrs = &self.nodes[**child].attrs;
                name::loader_eq(attrs.iso_identifier.as_deref().unwrap_or(name), part)
            })?;
            names.push(name.as_str());
            node = child;
        }
        Some(format!("/{}", names.join("/")))
    }

    /// Gives the file at `path` new data, keeping its name and attributes.
    pub fn replace_source(&mut self, path: &str, source: Source) -> Result<()> {
        let node = self
            .find(path)
            .ok_or_else(|| Error::NotFound { path: path.into() })?;
        match &mut self.nodes[node].kind {
            Kind::File(old) => {
                *old = source;
                Ok(())
            }
            _ => Err(Error::Tree {
                path: path.into(),
                problem: "is not a file".into(),
            }),
        }
    }

    /// Removes a file or a whole directory.
    pub fn remove(&mut self, path: &str) -> Result<()> {
        let parts = components(path)?;
        let (name, dirs) = parts.split_last().ok_or_else(|| Error::Tree {
            path: path.into(),
            problem: "empty path".into(),
        })?;
        let parent = self.find(&dirs.join("/"));
        let removed = match parent.map(|p| &mut self.nodes[p].kind) {
            Some(Kind::Dir(children)) => children.remove(*name),
            _ => None,
        };
        removed
            .map(|_| ())
            .ok_or_else(|| Error::NotFound { path: path.into() })
    }
}
