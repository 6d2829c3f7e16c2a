//! Table-driven tests of every check: each table names one code and lists cases that must
//! raise it (at a given severity) and cases that must not. The fixture is a pair of Haswell
//! hosts sharing datastore `shared-00`, with VM `app` on esx01 that can move to esx02; each
//! case changes one thing.

mod cluster_checks;
mod precopy_model;
mod vmotion_checks;

use esxforge_kickstart::cluster::Cluster;

use super::synth;
use super::{ClusterView, Code, Finding, PrecopyParams, Severity};
use crate::facts::{HostFacts, Vm};

pub struct Lab {
    pub hosts: Vec<HostFacts>,
    pub spec: Cluster,
}

impl Lab {
    /// esx01 and esx02 (Haswell, 8.0.2, shared-00), VM `app` on esx01.
    pub fn pair() -> Lab {
        Lab::new(2)
    }

    /// `n` hosts esx01… with `app` on esx01.
    pub fn new(n: usize) -> Lab {
        let mut hosts: Vec<HostFacts> = (0..n)
            .map(|i| synth::host(&format!("esx{:02}", i + 1), i, "intel-haswell", 1))
            .collect();
        hosts[0]
            .vms
            .push(synth::vm("app", "shared-00", &synth::shared_uuid(0), 4096));
        Lab {
            hosts,
            spec: Cluster::default(),
        }
    }

    pub fn host(&mut self, name: &str) -> &mut HostFacts {
        self.hosts
            .iter_mut()
            .find(|h| h.name == name)
            .expect("fixture host")
    }

    pub fn vm(&mut self, name: &str) -> &mut Vm {
        self.hosts
            .iter_mut()
            .flat_map(|h| h.vms.iter_mut())
            .find(|v| v.name == name)
            .expect("fixture VM")
    }

    /// Adds a VM on shared-00 to `host`.
    pub fn add_vm(&mut self, host: &str, name: &str, memory_mb: u64) -> &mut Vm {
        let h = self.host(host);
        h.vms.push(synth::vm(
            name,
            "shared-00",
            &synth::shared_uuid(0),
            memory_mb,
        ));
        h.vms.last_mut().expect("just pushed")
    }

    pub fn yaml(&mut self, cluster: &str) {
        self.spec = serde_yaml::from_str(cluster).expect("fixture cluster YAML");
    }

    pub fn view(&self) -> ClusterView<'_> {
        ClusterView::new(&self.hosts, &self.spec).expect("fixture facts")
    }

    /// `preflight vmotion --vm VM --to HOST`.
    pub fn vmotion(&self, vm: &str, to: &str) -> Vec<Finding> {
        let view = self.view();
        let vms = view.vms_named(vm).to_vec();
        let to = view.host_id(to).expect("fixture host");
        super::vmotion(&view, &vms, &[to], &PrecopyParams::default())
    }

    /// `preflight cluster [--maintenance HOST]`.
    pub fn cluster(&self, maintenance: Option<&str>) -> Vec<Finding> {
        let view = self.view();
        let m = maintenance.map(|h| view.host_id(h).expect("fixture host"));
        super::cluster(&view, m, &PrecopyParams::default())
    }
}

/// One row of a table: a name, what to change, and the severity the code must be raised at
/// (`None`: the code must not appear at all).
pub type Row = (&'static str, fn(&mut Lab), Option<Severity>);

/// Runs a table for `code` with `run` producing the findings.
pub fn table(code: Code, run: fn(&Lab) -> Vec<Finding>, rows: &[Row]) {
    assert!(
        rows.iter().any(|r| r.2.is_some()),
        "{code}: no failing case"
    );
    assert!(
        rows.iter().any(|r| r.2.is_none()),
        "{code}: no passing case"
    );
    for (name, setup, want) in rows {
        let mut lab = Lab::pair();
        setup(&mut lab);
        let found = run(&lab);
        let hits: Vec<&Finding> = found.iter().filter(|f| f.code == code).collect();
        match want {
            Some(sev) => assert!(
                hits.iter().any(|f| f.severity == *sev),
                "{code} / {name}: expected a {sev} finding, got {hits:#?}\nall: {found:#?}"
            ),
            None => assert!(
                hits.is_empty(),
                "{code} / {name}: expected none, got {hits:#?}"
            ),
        }
    }
}

/// The moves of `app` to esx02.
pub fn app_to_esx02(lab: &Lab) -> Vec<Finding> {
    lab.vmotion("app", "esx02")
}

pub fn cluster_all(lab: &Lab) -> Vec<Finding> {
    lab.cluster(None)
}

pub fn codes(findings: &[Finding]) -> Vec<(Code, Severity)> {
    findings.iter().map(|f| (f.code, f.severity)).collect()
}

#[test]
fn the_fixture_moves_cleanly() {
    let lab = Lab::pair();
    assert_eq!(app_to_esx02(&lab), Vec::<Finding>::new());
    let all = lab.cluster(None);
    assert!(all.iter().all(|f| f.severity == Severity::Info), "{all:#?}");
}
