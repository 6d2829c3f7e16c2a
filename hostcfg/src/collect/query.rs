//! Asking a host many questions at once: esxcli in XML first, text for whichever failed.

use std::collections::BTreeMap;

use super::batch::{self, BatchError};
use crate::parse::{Value, esxcli_xml, text};
use crate::transport::{ExecOutput, Transport};

/// One question: an esxcli namespace + arguments (`network nic list`), or a raw command line.
#[derive(Debug, Clone)]
pub enum Query {
    Esxcli(String),
    Raw(String),
}

/// The answers, by the key each query was asked under.
#[derive(Debug, Default)]
pub struct Answers {
    esxcli: BTreeMap<String, Result<Value, String>>,
    raw: BTreeMap<String, ExecOutput>,
    /// The esxcli questions whose XML form failed, with why; their text form was asked.
    xml_failed: BTreeMap<String, String>,
}

impl Answers {
    /// An esxcli answer; `Err` holds why neither form could be read.
    pub fn esxcli(&self, key: &str) -> Result<&Value, String> {
        match self.esxcli.get(key) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e.clone()),
            None => Err(format!("`{key}` was not asked")),
        }
    }

    /// The structures of an esxcli answer; none when it failed.
    pub fn structures(&self, key: &str) -> Vec<&crate::parse::Structure> {
        self.esxcli(key).map(Value::structures).unwrap_or_default()
    }

    pub fn raw(&self, key: &str) -> Option<&ExecOutput> {
        self.raw.get(key)
    }

    /// Drops an answer the host was not expected to give (a command its release does not
    /// have), so its failure is no note.
    pub fn forget(&mut self, key: &str) {
        self.esxcli.remove(key);
        self.xml_failed.remove(key);
    }

    /// Adds the answers of a later round.
    pub fn extend(&mut self, later: Answers) {
        self.esxcli.extend(later.esxcli);
        self.raw.extend(later.raw);
        self.xml_failed.extend(later.xml_failed);
    }

    /// Every esxcli question that failed in both forms, for the run's notes.
    pub fn failures(&self) -> impl Iterator<Item = String> + '_ {
        self.esxcli
            .iter()
            .filter_map(|(k, v)| v.as_ref().err().map(|e| format!("esxcli {k}: {e}")))
    }

    /// One line saying which answers came from esxcli's text form because the XML form
    /// failed (and the first reason), for the run's notes; `None` when XML answered all.
    pub fn text_fallback(&self) -> Option<String> {
        let (first, why) = self.xml_failed.iter().next()?;
        let read = self
            .xml_failed
            .keys()
            .filter(|k| matches!(self.esxcli.get(*k), Some(Ok(_))))
            .count();
        Some(format!(
            "esxcli --formatter=xml failed for {} command(s) (first: `{first}`: {why}); read the text form of {read} of them",
            self.xml_failed.len()
        ))
    }
}

/// Runs every query in one batch, then the text form of the esxcli queries whose XML failed in
/// a second one: two round trips at most.
pub fn ask(transport: &dyn Transport, queries: &[(String, Query)]) -> Result<Answers, BatchError> {
    let lines: Vec<String> = queries
        .iter()
        .map(|(_, q)| match q {
            Query::Esxcli(args) => format!("esxcli --formatter=xml {args}"),
            Query::Raw(line) => line.clone(),
        })
        .collect();
    let outputs = batch::run(transport, &lines)?;
    let mut answers = Answers::default();
    let mut retry: Vec<(&str, &str)> = Vec::new();
    for ((key, query), out) in queries.iter().zip(outputs) {
        match query {
            Query::Raw(_) => {
                answers.raw.insert(key.clone(), out);
            }
            Query::Esxcli(args) => {
                let parsed = if out.success() {
                    esxcli_xml::parse(&out.stdout_text()).map_err(|e| e.to_string())
                } else {
                    Err(out.first_error_line())
                };
                match parsed {
                    Ok(v) => {
                        answers.esxcli.insert(key.clone(), Ok(v));
                    }
                    Err(why) => {
                        answers.xml_failed.insert(key.clone(), why);
                        retry.push((key, args));
                    }
                }
            }
        }
    }
    let lines: Vec<String> = retry
        .iter()
        .map(|(_, args)| format!("esxcli {args}"))
        .collect();
    let outputs = batch::run(transport, &lines)?;
    for ((key, _), out) in retry.iter().zip(outputs) {
        let answer = if out.success() {
            Ok(text::parse(&out.stdout_text()))
        } else {
            Err(out.first_error_line())
        };
        answers.esxcli.insert((*key).to_string(), answer);
    }
    Ok(answers)
}
