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

mod robustness {
    //! Whatever the facts and the cluster section hold, the checks answer: no panic, no hang.

    use proptest::prelude::*;

    use super::Lab;
    use crate::facts::CpuIdLevel;

    fn register() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            proptest::collection::vec(proptest::sample::select(b"01-TFRHx".to_vec()), 32)
                .prop_map(|v| String::from_utf8(v).unwrap_or_default()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_numbers_masks_and_rules(
            mem in prop_oneof![Just(0u64), 1u64..1 << 20, Just(u64::MAX / 2)],
            res in prop_oneof![Just(0u64), 1u64..1 << 20, Just(u64::MAX)],
            cpu_res in prop_oneof![Just(0u64), Just(u64::MAX)],
            cores in 0u32..256,
            mhz in prop_oneof![Just(0u32), Just(u32::MAX), 1u32..5000],
            host_mem in prop_oneof![Just(0u64), Just(u64::MAX)],
            ecx in register(),
            ebx in register(),
            dirty in prop_oneof![Just(0.0f64), 0.0f64..1e6, Just(1e300)],
            level in 1u32..=4,
            anti in any::<bool>(),
        ) {
            let mut lab = Lab::new(3);
            lab.add_vm("esx02", "db", mem);
            {
                let vm = lab.vm("app");
                vm.memory_mb = mem;
                vm.memory_reservation_mb = res;
                vm.cpu_reservation_mhz = cpu_res;
                vm.cpuid_masks = vec![CpuIdLevel { level: 1, ecx: ecx.clone(), ebx: ebx.clone(), ..Default::default() }];
            }
            let h = lab.host("esx03");
            h.cpu.cores = cores;
            h.cpu.mhz = mhz;
            h.hardware.memory_bytes = host_mem;
            h.cpu.features[0].ecx = ecx;
            let rule = if anti { "anti_affinity" } else { "affinity" };
            lab.yaml(&format!(
                "ha: {{ admission_control: {{ policy: slots, failover_level: {level} }} }}\n\
                 rules: [ {{ name: r, type: {rule}, vms: [app, db], mandatory: true }} ]\n\
                 vms: {{ app: {{ dirty_rate_mb_s: {dirty} }} }}"
            ));
            // Bad CPUID strings are an input error, reported, not a panic.
            if let Ok(view) = crate::preflight::ClusterView::new(&lab.hosts, &lab.spec) {
                let p = crate::preflight::PrecopyParams::default();
                let all: Vec<usize> = (0..view.hosts.len()).collect();
                let _ = crate::preflight::vmotion(&view, view.vms_named("app"), &all, &p);
                let _ = crate::preflight::cluster(&view, None, &p);
                let _ = crate::preflight::cluster(&view, Some(0), &p);
            }
        }
    }
}
