//! `host apply`: facts → plan → execute → read back and verify, Ansible-like per item.
//!
//! `check` mode stops after the plan. Otherwise each step's commands run in order on the
//! host's one session; the first failing command stops the host, and the report says which
//! items were changed, which one failed and which were not run. Finally the facts are gathered
//! again and planned against once more: anything still differing is a failure, so a report of
//! `changed` means the host now says what the inventory says — and a second run reports no
//! changes.

use serde::Serialize;

use crate::collect::{self, CollectError};
use crate::desired::DesiredState;
use crate::plan::{self, Plan, PlanError};
use crate::transport::{Transport, TransportError};

/// The state of one managed item after a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "detail")]
pub enum Status {
    /// Already as desired.
    Ok,
    /// Changed by this run (and verified).
    Changed,
    /// `--check`: would be changed.
    WouldChange,
    /// Its command failed, or it still differs after the run.
    Failed(String),
    /// Not attempted because an earlier step failed.
    NotRun,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub item: String,
    #[serde(flatten)]
    pub status: Status,
    /// For changed / would-change / failed items: the host's value and the wanted one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub host: String,
    pub check: bool,
    pub items: Vec<Item>,
    /// The commands a check run would run, or that this run ran, in order.
    pub commands: Vec<String>,
}

impl ApplyReport {
    pub fn count(&self, pick: fn(&Status) -> bool) -> usize {
        self.items.iter().filter(|i| pick(&i.status)).count()
    }

    pub fn failed(&self) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i.status, Status::Failed(_)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// Brings one host to `desired` (or, with `check`, says what that would change).
pub fn apply(
    name: &str,
    transport: &dyn Transport,
    desired: &DesiredState,
    check: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<ApplyReport, ApplyError> {
    progress("facts");
    let facts = collect::collect(name, transport)?.facts;
    let plan = plan::plan(&facts, desired)?;
    let mut report = ApplyReport {
        host: name.to_string(),
        check,
        items: Vec::new(),
        commands: plan.steps.iter().flat_map(|s| s.commands.clone()).collect(),
    };
    if check {
        report.items = items(&plan, |_| Status::WouldChange);
        return Ok(report);
    }
    let mut failure: Option<(usize, String)> = None;
    let mut ran = Vec::new();
    'steps: for (index, step) in plan.steps.iter().enumerate() {
        progress(&step.item);
        for command in &step.commands {
            ran.push(command.clone());
            let out = transport.exec(command)?;
            if !out.success() {
                failure = Some((
                    index,
                    format!(
                        "`{command}` exited {}: {}",
                        out.status,
                        out.first_error_line()
                    ),
                ));
                break 'steps;
            }
        }
    }
    report.commands = ran;
    if let Some((failed_at, why)) = failure {
        report.items = items(&plan, |i| match i.cmp(&failed_at) {
            std::cmp::Ordering::Less => Status::Changed,
            std::cmp::Ordering::Equal => Status::Failed(why.clone()),
            std::cmp::Ordering::Greater => Status::NotRun,
        });
        return Ok(report);
    }
    progress("verify");
    let after = collect::collect(name, transport)?.facts;
    let remaining = plan::plan(&after, desired)?;
    report.items = items(&plan, |_| Status::Changed);
    for left in &remaining.steps {
        let why = format!(
            "still {:?} after the run (wanted {:?})",
            left.before, left.after
        );
        match report.items.iter_mut().find(|i| i.item == left.item) {
            Some(item) => item.status = Status::Failed(why),
            None => report.items.push(Item {
                item: left.item.clone(),
                status: Status::Failed(why),
                before: Some(left.before.clone()),
                after: Some(left.after.clone()),
            }),
        }
    }
    Ok(report)
}

/// Every managed item: `Ok` when it needed no step, else `status(step index)`.
fn items(plan: &Plan, status: impl Fn(usize) -> Status) -> Vec<Item> {
    plan.items
        .iter()
        .map(
            |item| match plan.steps.iter().position(|s| &s.item == item) {
                None => Item {
                    item: item.clone(),
                    status: Status::Ok,
                    before: None,
                    after: None,
                },
                Some(i) => {
                    let step = plan.steps.get(i);
                    Item {
                        item: item.clone(),
                        status: status(i),
                        before: step.map(|s| s.before.clone()),
                        after: step.map(|s| s.after.clone()),
                    }
                }
            },
        )
        .collect()
}
