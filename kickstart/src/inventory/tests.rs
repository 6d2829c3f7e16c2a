//! Inventory loading end to end: merging, templating, and every problem by its exact message.

use std::path::Path;

use super::*;

/// A valid base every test extends.
const BASE: &str = r#"
defaults:
  esxi: "7.0U3"
  accept_eula: true
  rootpw: {hash: "$6$abcdefgh$gGBmDnLQUc7X.EBIKowb1D9aTj.Os8M3ugSq/i9D/fQCkrN3HulO.schvxn1pyfuGN2yHa4KWM7KxtoM2UM220"}
  network: {netmask: 255.255.255.0, gateway: 10.0.10.1, domain: lab.example.com}
  dns: {servers: [10.0.0.2]}
"#;

/// [`BASE`] with `esxi` and `rootpw` replaced by `esxi` and `rootpw` (YAML forbids repeating
/// a key, so they cannot be overridden by appending).
fn base_with(esxi: &str, rootpw: &str) -> String {
    BASE.replace("\"7.0U3\"", esxi)
        .replace(
            "{hash: \"$6$abcdefgh$gGBmDnLQUc7X.EBIKowb1D9aTj.Os8M3ugSq/i9D/fQCkrN3HulO.schvxn1pyfuGN2yHa4KWM7KxtoM2UM220\"}",
            rootpw,
        )
}

fn report(yaml: &str) -> Report {
    Inventory::from_yaml(yaml, Path::new("inv.yaml")).unwrap()
}

/// Every problem as `line: path: message`, in report order.
fn problems(yaml: &str) -> Vec<String> {
    report(yaml)
        .problems
        .iter()
        .map(|p| format!("{}: {p}", p.line.map_or("-".to_string(), |l| l.to_string())))
        .collect()
}

fn lab() -> Inventory {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/lab.yaml");
    Inventory::load(&path).unwrap()
}

#[test]
fn the_lab_example_resolves_every_layer() {
    let inv = lab();
    let names: Vec<&str> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["esx01", "esx02", "esx03"]);
    assert_eq!(inv.salt_seed, "lab-2024");

    let esx01 = inv.host("esx01").unwrap();
    assert_eq!(esx01.esxi.to_string(), "7.0U3");
    assert_eq!(esx01.network.fqdn.as_str(), "esx01.lab.example.com");
    assert_eq!(esx01.network.hostname.as_str(), "esx01");
    assert_eq!(esx01.network.vlan.map(Vlan::id), Some(10));
    assert_eq!(esx01.address, "10.0.10.11");
    assert_eq!((esx01.ssh_port, esx01.ssh_user.as_str()), (22, "root"));
    assert_eq!(esx01.dns.servers.len(), 3);
    // Named lists merged by name: the group's vmknics with the host's addresses, in order.
    let vmks: Vec<String> = esx01
        .vmkernel
        .iter()
        .map(|k| format!("{} {} {}", k.name, k.portgroup, k.address.unwrap()))
        .collect();
    assert_eq!(
        vmks,
        [
            "vmk1 vMotion 10.0.20.11/24",
            "vmk2 iSCSI-A 10.0.30.11/24",
            "vmk3 iSCSI-B 10.0.31.11/24"
        ]
    );
    assert_eq!(esx01.vmkernel[0].services, [VmkService::Vmotion]);
    assert_eq!(esx01.vswitches.len(), 2);
    assert_eq!(esx01.iscsi.as_ref().unwrap().bind.len(), 2);
    assert_eq!(esx01.drivers[0].kind, DriverKind::Bundle);
    // Templated values rendered per host.
    assert_eq!(
        esx01.datastore.as_ref().unwrap().to.as_str(),
        "esx01-datastore01"
    );
    let syslog = esx01.syslog.as_ref().unwrap();
    assert_eq!(
        syslog.datastore.as_ref().unwrap().as_str(),
        "esx01-datastore01"
    );
    assert_eq!(syslog.remote, ["udp://syslog.lab.example.com:514"]);

    // The edge group overrides vSwitch0's teaming and adds its own port group and script.
    let esx03 = inv.host("esx03").unwrap();
    assert_eq!(esx03.network.device.to_string(), "00:50:56:a0:10:13");
    assert_eq!(esx03.vswitches[0].teaming.policy, LoadBalancing::Mac);
    assert_eq!(esx03.vswitches[0].uplinks.len(), 2);
    assert!(esx03.shell && esx03.iscsi.is_none() && esx03.drivers.is_empty());
    assert!(esx03.portgroups.iter().any(|p| p.name.as_str() == "DMZ"));
    assert!(esx03.scripts.firstboot.is_some());
}

#[test]
fn groups_merge_in_file_order_and_the_host_wins() {
    let yaml = format!(
        "{BASE}
groups:
  a: {{hosts: [esx01, esx02], ntp: [a.example.com], ssh: true, network: {{vlan: 5}}}}
  b: {{hosts: [esx01], ntp: [b.example.com], network: {{vlan: 6}}}}
hosts:
  esx01: {{network: {{ip: 10.0.10.11}}, ssh: null}}
  esx02: {{network: {{ip: 10.0.10.12, vlan: 7}}}}
"
    );
    let r = report(&yaml);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let [esx01, esx02] = r.inventory.hosts.as_slice() else {
        panic!("two hosts")
    };
    assert_eq!(esx01.ntp, ["b.example.com"]);
    assert_eq!(esx01.network.vlan.map(Vlan::id), Some(6));
    // `null` removed the group's `ssh: true`.
    assert!(!esx01.ssh);
    assert_eq!(esx02.ntp, ["a.example.com"]);
    assert_eq!(esx02.network.vlan.map(Vlan::id), Some(7));
    assert!(esx02.ssh);
}

#[test]
fn templates_see_the_host_and_its_vars() {
    let yaml = format!(
        "{BASE}
  vars: {{site: ams}}
  datastore: {{name: \"{{{{ vars.site }}}}-{{{{ hostname }}}}-local\"}}
  syslog: {{remote: [\"udp://log.{{{{ domain }}}}:514\"]}}
hosts:
  esx01:
    network: {{ip: 10.0.10.11, hostname: \"{{{{ name }}}}-r12\"}}
    vars: {{rack: 12}}
    vmkernel: [{{name: vmk1, portgroup: pg, ip: \"10.0.20.{{{{ vars.rack }}}}\", prefix: 24}}]
    portgroups: [{{name: pg}}]
"
    );
    let r = report(&yaml);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let h = &r.inventory.hosts[0];
    assert_eq!(h.network.fqdn.as_str(), "esx01-r12.lab.example.com");
    assert_eq!(
        h.datastore.as_ref().unwrap().to.as_str(),
        "ams-esx01-r12-local"
    );
    assert_eq!(
        h.syslog.as_ref().unwrap().remote,
        ["udp://log.lab.example.com:514"]
    );
    assert_eq!(h.vmkernel[0].address.unwrap().to_string(), "10.0.20.12/24");
}

#[test]
fn every_value_problem_is_reported_with_its_path_and_line() {
    let yaml = "\
defaults:
  esxi: \"7.0U3\"
  accept_eula: true
  rootpw: {hash: \"$6$rounds=5000$abc$def\"}
  network: {netmask: 255.255.0.255, vlna: 10, gateway: 10.0.10.1}
groups:
  g1:
    hosts: [esx01, esx09]
    vswitches:
      - name: vSwitch1
        uplinks: [vmnic2, eth3]
        mtu: 9216
hosts:
  esx01:
    network: {ip: 10.0.10.300, vlan: 4095}
    vmkernel:
      - {name: vmk1, portgroup: iSCSI, ip: 10.0.20.11, prefix: 24, services: [vmotoin, iscsi]}
      - {name: vmk2, portgroup: iSCSI, ip: 10.0.20.11/33}
  esx_02:
    network: {ip: 10.0.10.12}
    ntp: pool.ntp.org
";
    assert_eq!(
        problems(yaml),
        [
            "4: defaults.rootpw.hash: is not a hash the installer accepts ($6$ with a salt of at most 16 characters and no rounds=, or $1$)",
            "5: defaults.network.netmask: \"255.255.0.255\" is not a netmask (its one bits must be contiguous)",
            "5: defaults.network.vlna: unknown key `vlna` (did you mean `vlan`?)",
            "8: groups.g1.hosts[1]: `esx09` is not a host of this inventory (did you mean `esx01`?)",
            "11: groups.g1.vswitches[0].uplinks[1]: \"eth3\" is not a vmnicN or vusbN name",
            "12: groups.g1.vswitches[0].mtu: 9216 is not an MTU (1280 to 9000)",
            "15: hosts.esx01.network.vlan: 4095 is not a VLAN ID (0 to 4094)",
            "15: hosts.esx01.network.ip: \"10.0.10.300\" is not an IPv4 address",
            "17: hosts.esx01.vmkernel[0].services[0]: `vmotoin` is not one of: management, vmotion, ft_logging, vsan, provisioning, replication, replication_nfc (did you mean `vmotion`?)",
            "17: hosts.esx01.vmkernel[0].services[1]: `iscsi` is not a VMkernel service tag: list this vmknic under iscsi.bind to bind it to software iSCSI",
            "18: hosts.esx01.vmkernel[1].ip: \"10.0.20.11/33\" has a prefix length outside 1 to 32",
            "19: hosts.esx_02: is not a valid host name (it names the kickstart file): it contains '_': only letters, digits, hyphens and dots are allowed",
        ]
    );
}

#[test]
fn merged_hosts_report_what_is_missing_or_inconsistent() {
    let yaml = "\
defaults:
  esxi: 6.7
  rootpw: {env: ESXFORGE_TEST_SURELY_UNSET}
  network: {gateway: 10.0.99.1, prefix: 24}
  vswitches:
    - {name: vSwitch0, uplinks: [vmnic1], teaming: {policy: iphash, standby: [vmnic1]}}
    - {name: vSwitch1, uplinks: [vmnic2, vmnic3, vmnic1]}
  portgroups:
    - {name: iSCSI-A, vswitch: vSwitch1, vlan: 30}
    - {name: Lost, vswitch: vSwitch9}
  vmkernel:
    - {name: vmk1, portgroup: iSCSI-A, prefix: 24, mtu: 9000}
    - {name: vmk0, portgroup: iSCSI-A, dhcp: true}
  iscsi: {bind: [vmk1, vmk5]}
  install: {forcemigrate: true, target: disk}
hosts:
  esx01:
    network: {ip: 10.0.10.11}
    vmkernel: [{name: vmk1, ip: 10.0.20.11}]
";
    assert_eq!(
        problems(yaml),
        [
            "17: hosts.esx01.accept_eula: is missing: the installer needs the VMware EULA accepted (vmaccepteula); set accept_eula: true",
            "17: hosts.esx01.install.disk: is missing: target: disk needs the device name",
            "17: hosts.esx01.rootpw.env: environment variable ESXFORGE_TEST_SURELY_UNSET is not set",
            "18: hosts.esx01.network.gateway: 10.0.99.1 is not in the management network 10.0.10.0/24",
        ]
    );
    // With those fixed, the consistency checks run.
    let fixed = yaml
        .replace(
            "{env: ESXFORGE_TEST_SURELY_UNSET}",
            "{hash: \"$1$c96GcKtl$92iTqDRE901SJXEpkxrfj0\"}\n  accept_eula: true",
        )
        .replace("gateway: 10.0.99.1", "gateway: 10.0.10.1")
        .replace(", target: disk", ", mode: upgrade");
    assert_eq!(
        problems(&fixed),
        [
            "18: hosts.esx01.install.forcemigrate: ESXi 6.7 has no --forcemigrate (7.x and later)",
            "18: hosts.esx01.vswitches[vSwitch0].teaming: iphash load balancing takes no standby uplinks (every uplink of the EtherChannel is active)",
            "18: hosts.esx01.vswitches[vSwitch0].uplinks: does not hold vmnic0, the management NIC the installer puts on vSwitch0",
            "18: hosts.esx01.vswitches[vSwitch1].uplinks: vmnic1 is already an uplink of vSwitch0",
            "18: hosts.esx01.portgroups[Lost].vswitch: vSwitch9 is not a vSwitch of this host",
            "18: warning: hosts.esx01.dns.servers: is empty: the installer warns about static networking without a name server",
            "18: hosts.esx01.iscsi.bind[0]: vmk1 is on port group iSCSI-A, which has 3 active uplink(s) (vmnic2, vmnic3, vmnic1) and 0 standby (none): port binding needs exactly one active uplink and no standby (set failover: {active: [vmnicN]} on the port group)",
            "18: hosts.esx01.iscsi.bind[1]: vmk5 is not a vmknic of this host",
            "18: warning: hosts.esx01.iscsi.targets: is empty: the adapter is enabled but discovers no storage",
            // The host's own item for vmk1 is where these point, not the defaults' one.
            "20: hosts.esx01.vmkernel[vmk1].mtu: 9000 is larger than the MTU of vSwitch1 (1500)",
            "20: hosts.esx01.vmkernel[vmk0].name: vmk0 is the management interface the installer creates from `network:`",
            "20: warning: hosts.esx01.vmkernel[vmk1].portgroup: iSCSI-A carries more than one vmknic",
        ]
    );
}

#[test]
fn duplicates_across_the_inventory() {
    let yaml = format!(
        "{BASE}
hosts:
  esx01: {{network: {{ip: 10.0.10.11, device: \"00:50:56:aa:bb:01\"}}}}
  esx02: {{network: {{ip: 10.0.10.11, device: \"00-50-56-AA-BB-01\"}}}}
  esx03: {{network: {{ip: 10.0.10.13, hostname: esx01}}}}
"
    );
    assert_eq!(
        problems(&yaml),
        [
            "11: hosts.esx02.network.device: 00:50:56:aa:bb:01 is also the management NIC of host esx01",
            "11: hosts.esx02.network.ip: 10.0.10.11 is also used by hosts.esx01.network.ip",
            "12: hosts.esx03.network.hostname: esx01.lab.example.com is also the name of host esx01",
            "12: warning: hosts.esx03.datastore.name: esx01-datastore01 is also the datastore name of host esx01",
        ]
    );
}

#[test]
fn secure_boot_names_what_firstboot_would_have_done() {
    let base = base_with(
        "\"8.0U2\"",
        "{hash: \"$1$c96GcKtl$92iTqDRE901SJXEpkxrfj0\"}",
    );
    let yaml = format!(
        "{base}
  secure_boot: true
  ntp: [10.0.0.5]
  ssh: true
hosts:
  esx01: {{network: {{ip: 10.0.10.11}}}}
  esx02: {{network: {{ip: 10.0.10.12}}, post_install: host_apply, drivers: [/vmfs/volumes/ds/x.zip]}}
  esx03: {{network: {{ip: 10.0.10.13}}, post_install: host_apply}}
"
    );
    assert_eq!(
        problems(&yaml),
        [
            "13: hosts.esx01.secure_boot: UEFI Secure Boot skips %firstboot, which this host needs for: NTP, datastore rename, SSH. Set post_install: host_apply to leave the configuration to `esxforge host apply` after the install (drivers then go into the installer ISO), or turn Secure Boot off",
            "14: hosts.esx02.drivers: are installed in %firstboot, which this host does not get (post_install: host_apply): add them to the installer ISO (`esxforge iso build --add-bundle`)",
        ]
    );
}

#[test]
fn clear_passwords_come_from_files_and_never_show() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "S3cret#pass\n").unwrap();
    std::fs::write(dir.path().join("bad"), "p\u{e4}ss").unwrap();
    std::fs::write(dir.path().join("weak"), "password").unwrap();
    let inv = dir.path().join("inv.yaml");
    let base = base_with("\"7.0U3\"", "{file: pw}");
    let yaml = format!(
        "{base}
hosts:
  esx01: {{network: {{ip: 10.0.10.11}}}}
  esx02: {{network: {{ip: 10.0.10.12}}, rootpw: {{file: bad}}}}
  esx03: {{network: {{ip: 10.0.10.13}}, rootpw: {{file: pw, clear_text_ok: true}}}}
  esx04: {{network: {{ip: 10.0.10.14}}, rootpw: {{file: weak, clear_text_ok: true}}}}
"
    );
    std::fs::write(&inv, &yaml).unwrap();
    let r = Inventory::check(&inv).unwrap();
    let shown: Vec<String> = r.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "hosts.esx02.rootpw.file: the password from file bad holds a character that is not printable ASCII".to_string(),
            "warning: hosts.esx03.rootpw: the root password is written to the kickstart in clear text (clear_text_ok: true)".to_string(),
            "warning: hosts.esx04.rootpw: the root password is written to the kickstart in clear text (clear_text_ok: true)".to_string(),
            "hosts.esx04.rootpw: the installer refuses this clear password: Password is too weak: use at least three of lower case, upper case, digits and other characters (a capital first letter and a digit at the end do not count).".to_string(),
        ]
    );
    let esx01 = r.inventory.host("esx01").unwrap();
    let hash = esx01.rootpw.as_ref().unwrap().crypted("esx01", "").unwrap();
    assert_eq!(hash, sha512_crypt("S3cret#pass", &salt_for("esx01", "")));
    let debug = format!(
        "{:?} {}",
        r.inventory,
        serde_json::to_string(&r.inventory.hosts).unwrap()
    );
    assert!(!debug.contains("S3cret"), "the secret leaked: {debug}");
    assert!(!shown.concat().contains("p\u{e4}ss"));
}

#[test]
fn unreadable_files_and_bad_yaml_are_load_errors() {
    let err = Inventory::check(Path::new("/nonexistent/inv.yaml")).unwrap_err();
    assert_eq!(err.to_string(), "/nonexistent/inv.yaml: cannot read");
    assert!(std::error::Error::source(&err).is_some());
    let err = Inventory::from_yaml("hosts:\n  esx01: [a\n", Path::new("inv.yaml")).unwrap_err();
    assert!(
        matches!(err, LoadError::Yaml { line: Some(_), .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("inv.yaml:"), "{err}");
}

#[test]
fn hosts_are_selected_by_name_with_a_suggestion() {
    let inv = lab();
    let picked = inv.select(&["esx03".into(), "esx01".into()]).unwrap();
    assert_eq!(
        picked.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(),
        ["esx03", "esx01"]
    );
    let err = inv.select(&["esx1".into()]).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("no host named \"esx1\" (did you mean \"esx01\"?)"),
        "{err}"
    );
}

#[test]
fn an_esxi_override_rechecks_every_host() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/lab.yaml");
    let r = Inventory::check_with(
        &path,
        &Options {
            esxi: Some("4.1".parse().unwrap()),
        },
    )
    .unwrap();
    assert!(
        r.inventory
            .hosts
            .iter()
            .all(|h| h.esxi.to_string() == "4.1")
    );
    assert!(r.errors().next().is_none(), "{:?}", r.problems);
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    /// One edit of a line-based document.
    #[derive(Debug, Clone)]
    enum Edit {
        Drop(usize),
        Duplicate(usize),
        Replace(usize, usize, char),
        Truncate(usize, usize),
    }

    fn edits() -> impl Strategy<Value = Vec<Edit>> {
        let edit = prop_oneof![
            any::<usize>().prop_map(Edit::Drop),
            any::<usize>().prop_map(Edit::Duplicate),
            (any::<usize>(), any::<usize>(), prop::char::range(' ', '~'))
                .prop_map(|(l, c, ch)| Edit::Replace(l, c, ch)),
            (any::<usize>(), any::<usize>()).prop_map(|(l, c)| Edit::Truncate(l, c)),
        ];
        prop::collection::vec(edit, 1..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// A damaged inventory gives problems or a load error, never a panic, and a problem's
        /// line (when it has one: a missing key has none) is a line of the file.
        #[test]
        fn damaged_inventories_never_panic(edits in edits()) {
            let lab = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/lab.yaml")).unwrap();
            let mut lines: Vec<String> = lab.lines().map(str::to_string).collect();
            for e in edits {
                let n = lines.len().max(1);
                match e {
                    Edit::Drop(l) => { if !lines.is_empty() { lines.remove(l % n); } }
                    Edit::Duplicate(l) => { if let Some(x) = lines.get(l % n).cloned() { lines.insert(l % n, x); } }
                    Edit::Replace(l, c, ch) => {
                        if let Some(line) = lines.get_mut(l % n) {
                            let mut chars: Vec<char> = line.chars().collect();
                            if !chars.is_empty() { let at = c % chars.len(); chars[at] = ch; }
                            *line = chars.into_iter().collect();
                        }
                    }
                    Edit::Truncate(l, c) => {
                        if let Some(line) = lines.get_mut(l % n) {
                            let keep = c % (line.len() + 1);
                            line.truncate(keep);
                        }
                    }
                }
            }
            let text = lines.join("\n");
            if let Ok(report) = Inventory::from_yaml(&text, Path::new("lab.yaml")) {
                for p in &report.problems {
                    prop_assert!(p.line.is_none_or(|l| l >= 1 && l <= lines.len()), "{p:?}");
                }
            }
        }
    }
}

#[test]
fn keyboards_are_checked_against_the_installers_list() {
    let host = "hosts:\n  esx01: {network: {ip: 10.0.10.11}}\n";
    for known in ["US Default", "Swiss German", "custom.map"] {
        let r = report(&format!("{BASE}  keyboard: {known}\n{host}"));
        assert!(r.problems.is_empty(), "{known}: {:?}", r.problems);
        assert_eq!(r.inventory.hosts[0].keyboard.as_deref(), Some(known));
    }
    assert_eq!(
        problems(&format!("{BASE}  keyboard: us default\n{host}")),
        [
            "8: defaults.keyboard: \"us default\" is not a keyboard layout the installer knows (did you mean `US Default`?)"
        ]
    );
    assert_eq!(
        problems(&format!("{BASE}  keyboard: Germna\n{host}")),
        [
            "8: defaults.keyboard: \"Germna\" is not a keyboard layout the installer knows (did you mean `German`?)"
        ]
    );
    let far = problems(&format!("{BASE}  keyboard: Klingon\n{host}"));
    assert_eq!(far.len(), 1);
    assert!(
        far[0].starts_with("8: defaults.keyboard: \"Klingon\" is not a keyboard layout the installer knows (it would use its default): give one of Belgian, ")
            && far[0].ends_with(", US Default, US Dvorak"),
        "{far:?}"
    );
}
