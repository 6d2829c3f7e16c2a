//! The simulator's esxcli, through a real sshd: text forms against output captured from real
//! hosts (public captures, quoted below), XML forms through a real XML parser (quick-xml) against
//! captured field lists, per-release differences, and setters that change what getters report.

mod common;

use common::sshd::{SimHost, SimOptions, State};
use esxforge_esxsim::state::{Datastore, Device, Ipv4, Nic, PortGroup, TeamingOverride, Vmknic};
use quick_xml::events::Event;

/// Runs commands in one SSH session; (stdout, exit status) per command.
fn batch(host: &SimHost, commands: &[&str]) -> Vec<(String, i32)> {
    let mut script = String::new();
    for c in commands {
        script.push_str(&format!("echo '@@@'; {c}; echo \"@@@ $?\"; "));
    }
    let out = host.ssh(&script);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut results = Vec::new();
    for block in text.split("@@@\n").skip(1) {
        let (body, rc) = block.rsplit_once("@@@ ").expect("a status line");
        results.push((body.to_string(), rc.trim().parse().expect("a status")));
    }
    assert_eq!(results.len(), commands.len(), "{text}");
    results
}

fn one(host: &SimHost, command: &str) -> String {
    let out = host.ssh(command);
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A host laid out like the ESXi host of a public capture (ssh session on "esxinitya").
fn captured_host() -> State {
    let mut st = esxforge_esxsim::seed::generate(&Default::default()).expect("seed");
    st.host.hostname = "esxinitya".into();
    st.host.domain = String::new();
    st.nics = vec![Nic {
        name: "vmnic0".into(),
        pci: "0000:02:01.0".into(),
        driver: "nvmxnet3".into(),
        admin_up: true,
        link_up: true,
        speed: 10000,
        full_duplex: true,
        mac: "00:50:56:b3:b9:89".into(),
        mtu: 1500,
        description: "VMware Inc. vmxnet3 Virtual Ethernet Controller".into(),
    }];
    st.vmknics.truncate(1);
    if let Some(vmk0) = st.vmknics.first_mut() {
        vmk0.ipv4 = Ipv4 {
            address: "172.30.30.176".into(),
            netmask: "255.255.255.0".into(),
            kind: "STATIC".into(),
            gateway: "172.30.30.1".into(),
        };
    }
    let ds = |name: &str, uuid: &str, fs: &str, size: u64, free: u64| Datastore {
        name: name.into(),
        uuid: uuid.into(),
        fs_type: fs.into(),
        size,
        free,
        device: "mpx.vmhba0:C0:T0:L0".into(),
    };
    st.datastores = vec![
        ds(
            "OSDATA-693975f2-9139b258-8620-005056b3b989",
            "693975f2-9139b258-8620-005056b3b989",
            "VMFSOS",
            34_091_302_912,
            32_238_469_120,
        ),
        ds(
            "BOOTBANK1",
            "5f8b4c97-234dcc30-d982-54ea7418ec3f",
            "vfat",
            4_293_591_040,
            3_975_413_760,
        ),
        ds(
            "BOOTBANK2",
            "b0d2f180-db4e3ca9-89bd-55f15a49be2a",
            "vfat",
            4_293_591_040,
            4_293_525_504,
        ),
    ];
    st.vms.clear();
    st
}

#[test]
fn text_matches_captures_of_real_hosts() {
    let host = SimHost::start(SimOptions {
        state: Some(captured_host()),
        ..SimOptions::default()
    })
    .expect("start");
    let r = batch(
        &host,
        &[
            "esxcli system hostname get",
            "esxcli network nic list",
            "esxcli network ip interface ipv4 get",
            "esxcli storage filesystem list",
            "vim-cmd vmsvc/getallvms",
            "esxcli storage core adapter rescan --all",
        ],
    );
    let expected = [
        "   Domain Name: \n   Fully Qualified Domain Name: esxinitya\n   Host Name: esxinitya\n",
        "Name    PCI Device    Driver    Admin Status  Link Status  Speed  Duplex  MAC Address         MTU  Description\n\
------  ------------  --------  ------------  -----------  -----  ------  -----------------  ----  -----------\n\
vmnic0  0000:02:01.0  nvmxnet3  Up            Up           10000  Full    00:50:56:b3:b9:89  1500  VMware Inc. vmxnet3 Virtual Ethernet Controller\n",
        "Name  IPv4 Address   IPv4 Netmask   IPv4 Broadcast  Address Type  Gateway      DHCP DNS\n\
----  -------------  -------------  --------------  ------------  -----------  --------\n\
vmk0  172.30.30.176  255.255.255.0  172.30.30.255   STATIC        172.30.30.1     false\n",
        "Mount Point                                        Volume Name                                 UUID                                 Mounted  Type           Size         Free\n\
-------------------------------------------------  ------------------------------------------  -----------------------------------  -------  ------  -----------  -----------\n\
/vmfs/volumes/693975f2-9139b258-8620-005056b3b989  OSDATA-693975f2-9139b258-8620-005056b3b989  693975f2-9139b258-8620-005056b3b989     true  VMFSOS  34091302912  32238469120\n\
/vmfs/volumes/5f8b4c97-234dcc30-d982-54ea7418ec3f  BOOTBANK1                                   5f8b4c97-234dcc30-d982-54ea7418ec3f     true  vfat     4293591040   3975413760\n\
/vmfs/volumes/b0d2f180-db4e3ca9-89bd-55f15a49be2a  BOOTBANK2                                   b0d2f180-db4e3ca9-89bd-55f15a49be2a     true  vfat     4293591040   4293525504\n",
        "Vmid   Name   File   Guest OS   Version   Annotation\n",
        "",
    ];
    for ((got, rc), want) in r.iter().zip(expected) {
        assert_eq!(*rc, 0);
        assert_eq!(got, want);
    }
}

#[test]
fn tables_and_records_match_more_captures() {
    // `esxcli network vswitch standard portgroup list` captured with three port groups, and
    // DNS, version and failover captures.
    let mut st = esxforge_esxsim::seed::generate(&Default::default()).expect("seed");
    let pg = |name: &str, vswitch: &str, vlan: u16| PortGroup {
        name: name.into(),
        vswitch: vswitch.into(),
        vlan,
        overrides: TeamingOverride::default(),
    };
    st.vswitches.truncate(1);
    let mut lan = st.vswitches[0].clone();
    lan.name = "vSwitchLAN".into();
    lan.uplinks = vec!["vmnic1".into()];
    lan.teaming.active = vec!["vmnic1".into()];
    st.vswitches.push(lan);
    st.vswitches[0].uplinks = vec!["vmnic1".into()];
    st.vswitches[0].teaming.active = vec!["vmnic1".into()];
    st.portgroups = vec![
        pg("Management", "vSwitch0", 0),
        pg("VM network", "vSwitchLAN", 0),
        pg("WAN network", "vSwitch0", 98),
    ];
    st.vmknics = vec![Vmknic {
        name: "vmk0".into(),
        portgroup: "Management".into(),
        ..st.vmknics[0].clone()
    }];
    st.vms.truncate(2);
    for (vm, network) in st.vms.iter_mut().zip(["VM network", "WAN network"]) {
        vm.powered_on = true;
        for d in &mut vm.devices {
            if let Device::Nic {
                network: n,
                connected,
                ..
            } = d
            {
                *n = network.into();
                *connected = true;
            }
        }
    }
    st.dns.servers = vec!["192.168.76.2".into(), "8.8.8.8".into()];
    st.dns.search = vec!["localdomain".into(), "intra.rtfmp.com".into()];
    st.host.version.version = "8.0.3".into();
    st.host.version.build = "24859861".into();
    st.host.version.update = "3".into();
    st.host.version.patch = "8".into();
    let host = SimHost::start(SimOptions {
        state: Some(st),
        ..SimOptions::default()
    })
    .expect("start");
    let r = batch(
        &host,
        &[
            "esxcli network vswitch standard portgroup list",
            "esxcli network ip dns server list",
            "esxcli network ip dns search list",
            "esxcli system version get",
            "esxcli network vswitch standard policy failover get --vswitch-name=vSwitch0",
        ],
    );
    let expected = [
        "Name         Virtual Switch  Active Clients  VLAN ID\n\
-----------  --------------  --------------  -------\n\
Management   vSwitch0                     1        0\n\
VM network   vSwitchLAN                   1        0\n\
WAN network  vSwitch0                     1       98\n",
        "   DNSServers: 192.168.76.2, 8.8.8.8\n",
        "   DNSSearch Domains: localdomain, intra.rtfmp.com\n",
        "   Product: VMware ESXi\n   Version: 8.0.3\n   Build: Releasebuild-24859861\n   Update: 3\n   Patch: 8\n",
        "   Load Balancing: srcport\n   Network Failure Detection: link\n   Notify Switches: true\n   Failback: true\n   Active Adapters: vmnic1\n   Standby Adapters: \n   Unused Adapters: \n",
    ];
    for ((got, rc), want) in r.iter().zip(expected) {
        assert_eq!(*rc, 0);
        assert_eq!(got, want);
    }
}

/// The keys of `   Key: Value` lines, per record.
fn record_keys(text: &str) -> Vec<Vec<String>> {
    text.split("\n\n")
        .map(|rec| {
            rec.lines()
                .filter_map(|l| l.strip_prefix("   "))
                .filter_map(|l| l.split_once(": ").map(|(k, _)| k.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn records_have_the_captured_fields_in_order() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let vswitch = one(&host, "esxcli network vswitch standard list");
    // Captured from a 7.x host (and identical on many others quoted in hostops.md §2.1).
    let captured_vswitch = [
        "Name",
        "Class",
        "Num Ports",
        "Used Ports",
        "Configured Ports",
        "MTU",
        "CDP Status",
        "Beacon Enabled",
        "Beacon Interval",
        "Beacon Threshold",
        "Beacon Required By",
        "Uplinks",
        "Portgroups",
    ];
    for (keys, header) in record_keys(&vswitch).iter().zip(["vSwitch0", "vSwitch1"]) {
        assert_eq!(keys, &captured_vswitch);
        assert!(vswitch.contains(&format!("{header}\n   Name: {header}\n")));
    }
    assert!(vswitch.contains("   Beacon Required By: \n   Uplinks: vmnic2, vmnic3\n"));
    assert!(vswitch.contains("   Portgroups: vMotion, Prod VMs\n"));

    let vmk = one(&host, "esxcli network ip interface list");
    let captured_vmk = [
        "Name",
        "MAC Address",
        "Enabled",
        "Portset",
        "Portgroup",
        "Netstack Instance",
        "VDS Name",
        "VDS UUID",
        "VDS Port",
        "VDS Connection",
        "Opaque Network ID",
        "Opaque Network Type",
        "External ID",
        "MTU",
        "TSO MSS",
        "RXDispQueue Size",
        "Port ID",
    ];
    assert_eq!(record_keys(&vmk)[0], captured_vmk);
    assert!(vmk.starts_with("vmk0\n   Name: vmk0\n"));

    let device = one(&host, "esxcli storage core device list");
    // From an ESXi capture of `storage core device list` (a local disk).
    let captured_device = [
        "Display Name",
        "Has Settable Display Name",
        "Size",
        "Device Type",
        "Multipath Plugin",
        "Devfs Path",
        "Vendor",
        "Model",
        "Revision",
        "SCSI Level",
        "Is Pseudo",
        "Status",
        "Is RDM Capable",
        "Is Local",
        "Is Removable",
        "Is SSD",
        "Is VVOL PE",
        "Is Offline",
        "Is Perennially Reserved",
        "Queue Full Sample Size",
        "Queue Full Threshold",
        "Thin Provisioning Status",
        "Attached Filters",
        "VAAI Status",
        "Other UIDs",
        "Is Shared Clusterwide",
        "Is SAS",
        "Is USB",
        "Is Boot Device",
        "Device Max Queue Depth",
        "No of outstanding IOs with competing worlds",
        "Drive Type",
        "RAID Level",
        "Number of Physical Drives",
        "Protection Enabled",
        "PI Activated",
        "PI Type",
        "PI Protection Mask",
        "Supported Guard Types",
        "DIX Enabled",
        "DIX Guard Type",
        "Emulated DIX/DIF Enabled",
    ];
    for keys in record_keys(&device) {
        assert_eq!(keys, captured_device);
    }
    assert!(device.contains("   Device Type: Direct-Access \n   Multipath Plugin: HPP\n"));
    assert!(device.contains("   Vendor: ATA     \n"), "{device}");

    let cpu = one(&host, "esxcli hardware cpu list");
    let first = &record_keys(&cpu)[0];
    assert_eq!(
        &first[..11],
        [
            "Id",
            "Package Id",
            "Family",
            "Model",
            "Type",
            "Stepping",
            "Brand",
            "Core Speed",
            "Bus Speed",
            "APIC ID",
            "Node"
        ]
    );
    assert!(cpu.starts_with("CPU:0\n   Id: 0\n   Package Id: 0\n   Family: 6\n   Model: 85\n"));
    assert_eq!(cpu.matches("CPU:").count(), 32);

    let platform = one(&host, "esxcli hardware platform get");
    assert_eq!(
        record_keys(&platform)[0],
        [
            "UUID",
            "Product Name",
            "Vendor Name",
            "Serial Number",
            "Enclosure Serial Number",
            "BIOS Asset Tag",
            "IPMI Supported"
        ]
    );
    assert!(platform.starts_with("Platform Information\n"));
}

// --- XML -------------------------------------------------------------------------------------

/// An XML element as read by quick-xml.
#[derive(Debug, Default)]
struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Elem>,
    text: String,
}

impl Elem {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn element(e: &quick_xml::events::BytesStart) -> Elem {
    let mut el = Elem {
        name: e.local_name().as_ref().to_string(),
        ..Elem::default()
    };
    for a in e.attributes() {
        let a = a.expect("attribute");
        el.attrs.push((
            a.key.as_ref().to_string(),
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .expect("attribute value")
                .into_owned(),
        ));
    }
    el
}

fn parse_xml(xml: &str) -> Elem {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Elem::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => stack.last_mut().expect("parent").children.push(element(&e)),
            Event::End(_) => {
                let el = stack.pop().expect("open element");
                stack.last_mut().expect("parent").children.push(el);
            }
            Event::Text(t) => {
                let top = stack.last_mut().expect("element");
                top.text.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) => {
                let top = stack.last_mut().expect("element");
                top.text.push_str(match r.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other:?}"),
                });
            }
            Event::Eof => break,
            Event::Decl(_) => {}
            other => panic!("unexpected XML event {other:?}"),
        }
    }
    let mut doc = stack.pop().expect("document");
    assert_eq!(doc.children.len(), 1, "one root element");
    doc.children.pop().expect("root element")
}

/// The value under `<root>`, checked for esxcli's envelope.
fn esxcli_value(xml: &str) -> Elem {
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"),
        "{xml}"
    );
    let mut output = parse_xml(xml);
    assert_eq!(output.name, "output");
    assert_eq!(
        output.attr("xmlns"),
        Some("http://www.vmware.com/Products/ESX/5.0/esxcli")
    );
    assert_eq!(output.children.len(), 1);
    let mut root = output.children.pop().expect("root");
    assert_eq!(root.name, "root");
    assert_eq!(root.children.len(), 1);
    root.children.pop().expect("value")
}

/// Checks a value's typing recursively; returns its structures.
fn check_typed<'a>(v: &'a Elem, out: &mut Vec<&'a Elem>) {
    match v.name.as_str() {
        "string" => assert!(v.children.is_empty()),
        "integer" => {
            v.text
                .parse::<i64>()
                .unwrap_or_else(|_| panic!("integer {:?}", v.text));
        }
        "boolean" => assert!(v.text == "true" || v.text == "false", "{:?}", v.text),
        "list" => {
            let kind = v.attr("type").expect("list type");
            for item in &v.children {
                assert_eq!(item.name, kind, "list of {kind} holds {}", item.name);
                check_typed(item, out);
            }
        }
        "structure" => {
            assert!(v.attr("typeName").is_some());
            let names: Vec<&str> = v
                .children
                .iter()
                .map(|f| f.attr("name").unwrap_or(""))
                .collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            assert_eq!(names, sorted, "fields are sorted by name");
            for f in &v.children {
                assert_eq!(f.name, "field");
                assert_eq!(f.children.len(), 1);
                check_typed(&f.children[0], out);
            }
            out.push(v);
        }
        other => panic!("unexpected element {other}"),
    }
}

fn fields(s: &Elem) -> Vec<(String, String)> {
    s.children
        .iter()
        .map(|f| {
            (
                f.attr("name").unwrap_or("").to_string(),
                f.children[0].name.clone(),
            )
        })
        .collect()
}

const GETTERS: &[&str] = &[
    "system version get",
    "system uuid get",
    "system hostname get",
    "system maintenanceMode get",
    "system ntp get",
    "system syslog config get",
    "system settings advanced list -o /UserVars/SuppressShellWarning",
    "hardware cpu global get",
    "hardware cpu list",
    "hardware platform get",
    "software vib list",
    "network ip dns server list",
    "network ip dns search list",
    "network nic list",
    "network vswitch standard list",
    "network vswitch standard policy failover get -v vSwitch0",
    "network vswitch standard portgroup list",
    "network vswitch standard portgroup policy failover get -p vMotion",
    "network ip interface list",
    "network ip interface ipv4 get",
    "network ip interface tag get -i vmk0",
    "network firewall ruleset list",
    "iscsi software get",
    "iscsi adapter list",
    "iscsi networkportal list",
    "iscsi adapter discovery sendtarget list",
    "storage filesystem list",
    "storage core device list",
    "storage core adapter list",
    "hardware memory get",
    "network nic get -n vmnic0",
    "network ip route ipv4 list",
    "network ip netstack list",
    "network firewall get",
];

#[test]
fn every_getter_prints_typed_xml_that_agrees_with_the_text() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    // iSCSI configured, so its lists are not empty.
    host.modify(|st| {
        st.iscsi.enabled = true;
        st.iscsi.portals = vec!["vmk1".into()];
        st.iscsi.send_targets = vec!["10.0.0.50:3260".into()];
    });
    let mut commands = Vec::new();
    for g in GETTERS {
        commands.push(format!("esxcli {g}"));
        commands.push(format!("esxcli --formatter=xml {g}"));
    }
    let refs: Vec<&str> = commands.iter().map(String::as_str).collect();
    let results = batch(&host, &refs);
    for (pair, getter) in results.chunks(2).zip(GETTERS) {
        let [(text, rc_text), (xml, rc_xml)] = pair else {
            panic!("two results per getter");
        };
        assert_eq!((*rc_text, *rc_xml), (0, 0), "{getter}");
        let value = esxcli_value(xml);
        let mut structs = Vec::new();
        check_typed(&value, &mut structs);
        // Every scalar the XML holds shows up in the text (text may also print hidden
        // defaults, never other values).
        for s in &structs {
            for f in &s.children {
                let v = &f.children[0];
                if matches!(v.name.as_str(), "string" | "integer" | "boolean") && !v.text.is_empty()
                {
                    let shown = text.contains(&v.text);
                    let hidden = ["ID", "CreationDate", "Link", "DPUId", "Device"]
                        .contains(&f.attr("name").unwrap_or(""));
                    assert!(shown || hidden, "{getter}: {:?} not in the text", v.text);
                }
            }
        }
        // Lists of structures: one record or row per structure.
        if value.name == "list" && value.attr("type") == Some("structure") {
            let n = value.children.len();
            let rows = if text.contains("\n----") {
                text.lines().count().saturating_sub(2)
            } else {
                text.split("\n\n").filter(|r| !r.trim().is_empty()).count()
            };
            assert_eq!(rows, n, "{getter}: {text}");
        }
    }
}

#[test]
fn xml_matches_captured_field_lists() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let nic = esxcli_value(&one(&host, "esxcli --formatter=xml network nic list"));
    let first = &nic.children[0];
    assert_eq!(first.attr("typeName"), Some("Nic"));
    // A captured ESXi 8 `network nic list --formatter=xml` (public test fixture).
    let captured: Vec<(String, String)> = [
        ("AdminStatus", "string"),
        ("DPUId", "string"),
        ("Description", "string"),
        ("Driver", "string"),
        ("Duplex", "string"),
        ("Link", "string"),
        ("LinkStatus", "string"),
        ("MACAddress", "string"),
        ("MTU", "integer"),
        ("Name", "string"),
        ("PCIDevice", "string"),
        ("Speed", "integer"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(fields(first), captured);

    let vswitch = esxcli_value(&one(
        &host,
        "esxcli --formatter=xml network vswitch standard list",
    ));
    // `--formatter=keyvalue` of a real host: VirtualSwitch.BeaconEnabled.boolean=false, …
    let captured: Vec<(String, String)> = [
        ("BeaconEnabled", "boolean"),
        ("BeaconInterval", "integer"),
        ("BeaconRequiredBy", "list"),
        ("BeaconThreshold", "integer"),
        ("CDPStatus", "string"),
        ("Class", "string"),
        ("ConfiguredPorts", "integer"),
        ("MTU", "integer"),
        ("Name", "string"),
        ("NumPorts", "integer"),
        ("Portgroups", "list"),
        ("Uplinks", "list"),
        ("UsedPorts", "integer"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(vswitch.children[0].attr("typeName"), Some("VirtualSwitch"));
    assert_eq!(fields(&vswitch.children[0]), captured);

    let cpu = esxcli_value(&one(
        &host,
        "esxcli --formatter=xml hardware cpu global get",
    ));
    // A captured `hardware cpu global get --formatter=xml`.
    assert_eq!(cpu.name, "structure");
    assert_eq!(cpu.attr("typeName"), Some("Cpu"));
    let names: Vec<String> = fields(&cpu).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "CPUCores",
            "CPUPackages",
            "CPUThreads",
            "HVReplayCapable",
            "HVReplayDisabledReasons",
            "HVSupport",
            "HyperthreadingActive",
            "HyperthreadingEnabled",
            "HyperthreadingSupported"
        ]
    );

    let hostname = esxcli_value(&one(&host, "esxcli --formatter=xml system hostname get"));
    // govmomi's captured `system.hostname.get` (cli/esx/fixtures/system_hostname_get.xml).
    assert_eq!(
        fields(&hostname)
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>(),
        ["DomainName", "FullyQualifiedDomainName", "HostName"]
    );
    let version = esxcli_value(&one(&host, "esxcli --formatter=xml system version get"));
    assert_eq!(version.attr("typeName"), Some("VersionGet"));

    let uuid = esxcli_value(&one(&host, "esxcli --formatter=xml system uuid get"));
    assert_eq!(
        (uuid.name.as_str(), uuid.text.as_str()),
        ("string", host.state().host.uuid.as_str())
    );

    // A setter answers `true` in XML and nothing in text.
    let set = esxcli_value(&one(
        &host,
        "esxcli --formatter=xml system hostname set --host=esx99",
    ));
    assert_eq!((set.name.as_str(), set.text.as_str()), ("boolean", "true"));
    assert_eq!(one(&host, "esxcli system hostname set --host=esx98"), "");
    assert_eq!(host.state().host.hostname, "esx98");
}

#[test]
fn releases_differ_where_real_hosts_do() {
    let h67 = SimHost::start(SimOptions::version("6.7")).expect("6.7");
    let h80 = SimHost::start(SimOptions::version("8.0")).expect("8.0");
    let cmds = [
        "esxcli system ntp get",
        "esxcli network vswitch standard list -v vSwitch0",
        "esxcli network ip interface list",
        "esxcli software vib list",
        "esxcli --formatter=xml network nic list",
        "esxcli system settings advanced list -o /Misc/HostName",
    ];
    let a = batch(&h67, &cmds);
    let b = batch(&h80, &cmds);
    assert_eq!(a[0].1, 1, "no `system ntp` before 7.0 U1");
    assert_eq!(
        b[0],
        (
            "   Enabled: false\n   Loglevel: warning\n   Server: \n".into(),
            0
        )
    );
    assert!(a[1].0.contains("   Class: etherswitch\n"));
    assert!(b[1].0.contains("   Class: cswitch\n"));
    assert!(!a[2].0.contains("RXDispQueue Size"));
    assert!(b[2].0.contains("   RXDispQueue Size: 2\n"));
    assert!(!a[3].0.contains("Platforms"));
    assert!(
        b[3].0
            .lines()
            .next()
            .is_some_and(|l| l.ends_with("Install Date  Platforms"))
    );
    assert!(!a[4].0.contains("DPUId"));
    assert!(b[4].0.contains("<field name=\"DPUId\">"));
    assert!(!a[5].0.contains("Impact"));
    assert!(
        b[5].0
            .contains("   Host Specific: false\n   Impact: none\n")
    );
    let ntp_error = h67.ssh("esxcli system ntp get");
    assert!(
        String::from_utf8_lossy(&ntp_error.stderr)
            .contains("Unknown command or namespace system ntp get")
    );
    // 7.0 GA has no `system ntp` either; 7.0 U3 has.
    let ga = SimHost::start(SimOptions::version("7.0.0")).expect("7.0.0");
    assert_eq!(ga.ssh("esxcli system ntp get").status.code(), Some(1));
    let u3 = SimHost::start(SimOptions::version("7.0")).expect("7.0");
    assert!(u3.ssh("esxcli system ntp get").status.success());
}

#[test]
fn setters_change_what_getters_report() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let r = batch(
        &host,
        &[
            "esxcli network vswitch standard add -v vSwitch2",
            "esxcli network vswitch standard set -v vSwitch2 -m 9000",
            "esxcli network vswitch standard uplink add -u vmnic1 -v vSwitch2",
            "esxcli network vswitch standard policy failover set -v vSwitch2 -a vmnic1 -l iphash",
            "esxcli network vswitch standard portgroup add -p 'iSCSI A' -v vSwitch2",
            "esxcli network vswitch standard portgroup set -p 'iSCSI A' --vlan-id 30",
            "esxcli network ip interface add -i vmk2 -p 'iSCSI A' -m 9000",
            "esxcli network ip interface ipv4 set -i vmk2 -I 10.0.30.11 -N 255.255.255.0 -t static",
            "esxcli network ip interface tag add -i vmk2 -t VSAN",
            "esxcli iscsi software set --enabled=true",
            "esxcli system ntp set -s 10.0.0.123 -s 10.0.0.124 -e true",
            "esxcli system syslog config set --loghost='udp://10.0.0.5:514,tcp://10.0.0.6:1514'",
            "esxcli system syslog reload",
            "esxcli network firewall ruleset set -r syslog -e true",
            "esxcli system settings advanced set -o /UserVars/SuppressShellWarning -i 1",
            "esxcli network ip dns server remove --all",
            "esxcli network ip dns server add -s 10.0.0.53",
            "esxcli network vswitch standard portgroup set -p 'iSCSI A' --vlan-id 4096",
            "esxcli network vswitch standard add -v vSwitch2",
            "esxcli network ip interface tag add -i vmk2 -t vmotion",
            "esxcli network vswitch standard uplink add -u vmnic1 -v vSwitch0",
        ],
    );
    for (i, (out, rc)) in r.iter().enumerate().take(17) {
        assert_eq!((out.as_str(), *rc), ("", 0), "command {i}");
    }
    for (out, rc) in r.iter().skip(17) {
        assert_eq!((out.as_str(), *rc), ("", 1), "the last four are refused");
    }
    let st = host.state();
    let vs = st
        .vswitches
        .iter()
        .find(|v| v.name == "vSwitch2")
        .expect("vSwitch2");
    assert_eq!(
        (vs.mtu, vs.uplinks.as_slice()),
        (9000, ["vmnic1".to_string()].as_slice())
    );
    assert_eq!(vs.teaming.load_balancing, "iphash");
    let pg = st
        .portgroups
        .iter()
        .find(|p| p.name == "iSCSI A")
        .expect("port group");
    assert_eq!(pg.vlan, 30);
    let vmk = st.vmknics.iter().find(|v| v.name == "vmk2").expect("vmk2");
    assert_eq!((vmk.ipv4.address.as_str(), vmk.mtu), ("10.0.30.11", 9000));
    assert_eq!(vmk.tags, ["VSAN"]);
    assert!(st.iscsi.enabled);
    assert_eq!(st.ntp.servers, ["10.0.0.123", "10.0.0.124"]);
    assert!(st.ntp.enabled);
    assert_eq!(
        st.syslog.loghost,
        ["udp://10.0.0.5:514", "tcp://10.0.0.6:1514"]
    );
    assert_eq!(st.syslog.reloads, 1);
    assert!(st.firewall.iter().any(|r| r.name == "syslog" && r.enabled));
    assert_eq!(st.dns.servers, ["10.0.0.53"]);
    assert_eq!(st.changes.len(), 17);

    // The getters agree.
    let adapter = st.iscsi.adapter.clone();
    let g = batch(
        &host,
        &[
            "esxcli network ip interface tag get -i vmk2",
            "esxcli system ntp get",
            "esxcli system syslog config get",
            "esxcli iscsi adapter list",
            &format!("esxcli iscsi networkportal add -A {adapter} -n vmk2"),
            &format!("esxcli iscsi networkportal add -A {adapter} -n vmk1"),
            &format!("esxcli iscsi adapter discovery sendtarget add -A {adapter} -a 10.0.30.50"),
            &format!("esxcli iscsi networkportal list -A {adapter}"),
            &format!("esxcli iscsi adapter discovery sendtarget list -A {adapter}"),
        ],
    );
    assert_eq!(g[0].0, "   Tags: VSAN\n");
    assert_eq!(
        g[1].0,
        "   Enabled: true\n   Loglevel: warning\n   Server: 10.0.0.123, 10.0.0.124\n"
    );
    assert!(
        g[2].0
            .contains("   Remote Host: udp://10.0.0.5:514,tcp://10.0.0.6:1514\n")
    );
    assert!(g[3].0.contains(&format!("{adapter}  iscsi_vmk  online")));
    assert_eq!(
        g[4].1, 0,
        "vmk2's port group has one active uplink: compliant"
    );
    assert_eq!(
        g[5].1, 1,
        "vmk1's port group has two active uplinks: not compliant"
    );
    assert_eq!(g[6].1, 0);
    assert!(g[7].0.starts_with(&format!(
        "{adapter}\n   Adapter: {adapter}\n   Vmknic: vmk2\n"
    )));
    assert!(g[8].0.ends_with(&format!("{adapter}  10.0.30.50:3260\n")));
}

#[test]
fn ntp_before_7u1_lives_in_ntp_conf() {
    let host = SimHost::start(SimOptions::version("6.7")).expect("6.7");
    let r = batch(
        &host,
        &[
            "cat /etc/ntp.conf",
            "echo 'server 10.1.1.1' >> /etc/ntp.conf",
            "echo 'server 10.1.1.2' >> /etc/ntp.conf",
            "/etc/init.d/ntpd start",
            "chkconfig ntpd on",
            "chkconfig --list ntpd",
            "/etc/init.d/ntpd status",
        ],
    );
    assert_eq!(r[0].1, 0);
    assert!(r[0].0.starts_with("restrict default"), "{}", r[0].0);
    assert!(
        !r[0].0.contains("server"),
        "no servers on a fresh host: {}",
        r[0].0
    );
    assert_eq!(r[3], ("Starting ntpd\n".into(), 0));
    assert_eq!(r[5].0, "ntpd                    on\n");
    assert_eq!(r[6], ("ntpd is running\n".into(), 0));
    let st = host.state();
    assert_eq!(st.ntp.servers, ["10.1.1.1", "10.1.1.2"]);
    assert!(st.ntp.enabled);
    // A change through the state reaches the file the host reads.
    host.modify(|st| st.ntp.servers = vec!["pool.ntp.org".into()]);
    let conf = one(&host, "cat /etc/ntp.conf");
    assert!(conf.contains("server pool.ntp.org\n"), "{conf}");
    assert!(!conf.contains("10.1.1.1"));
    // ntpd refuses to start without servers.
    host.modify(|st| st.ntp.servers.clear());
    let _ = one(&host, "/etc/init.d/ntpd stop");
    assert_eq!(host.ssh("/etc/init.d/ntpd start").status.code(), Some(1));
}

#[test]
fn keyvalue_json_and_csv_formatters() {
    // A `--formatter=keyvalue network vswitch standard list` captured from a real host (the
    // apnex/nsx repository), rebuilt here: vSwitch0 with two port groups, an empty vSwitch2.
    let mut st = esxforge_esxsim::seed::generate(&Default::default()).expect("seed");
    let pg = |name: &str| PortGroup {
        name: name.into(),
        vswitch: "vSwitch0".into(),
        vlan: 0,
        overrides: TeamingOverride::default(),
    };
    st.vswitches.truncate(1);
    let mut empty = st.vswitches[0].clone();
    empty.name = "vSwitch2".into();
    empty.uplinks.clear();
    empty.teaming.active.clear();
    st.vswitches.push(empty);
    st.portgroups = vec![pg("vss-vmnet"), pg("vss-mgmt")];
    st.vmknics.truncate(1);
    st.vmknics[0].portgroup = "vss-mgmt".into();
    st.vms.truncate(1);
    for d in &mut st.vms[0].devices {
        if let Device::Nic { network, .. } = d {
            *network = "vss-vmnet".into();
        }
    }
    let host = SimHost::start(SimOptions {
        state: Some(st),
        ..SimOptions::default()
    })
    .expect("start");
    let kv = one(
        &host,
        "esxcli --formatter=keyvalue network vswitch standard list",
    );
    assert_eq!(
        kv,
        "structure[0].VirtualSwitch.BeaconEnabled.boolean=false
structure[0].VirtualSwitch.BeaconInterval.integer=1
structure[0].VirtualSwitch.BeaconRequiredBy.string[] = 
structure[0].VirtualSwitch.BeaconThreshold.integer=3
structure[0].VirtualSwitch.CDPStatus.string=listen
structure[0].VirtualSwitch.Class.string=cswitch
structure[0].VirtualSwitch.ConfiguredPorts.integer=128
structure[0].VirtualSwitch.MTU.integer=1500
structure[0].VirtualSwitch.Name.string=vSwitch0
structure[0].VirtualSwitch.NumPorts.integer=2560
structure[0].VirtualSwitch.Portgroups.string[0].string=vss-vmnet
structure[0].VirtualSwitch.Portgroups.string[1].string=vss-mgmt
structure[0].VirtualSwitch.Uplinks.string[0].string=vmnic0
structure[0].VirtualSwitch.UsedPorts.integer=4
structure[1].VirtualSwitch.BeaconEnabled.boolean=false
structure[1].VirtualSwitch.BeaconInterval.integer=1
structure[1].VirtualSwitch.BeaconRequiredBy.string[] = 
structure[1].VirtualSwitch.BeaconThreshold.integer=3
structure[1].VirtualSwitch.CDPStatus.string=listen
structure[1].VirtualSwitch.Class.string=cswitch
structure[1].VirtualSwitch.ConfiguredPorts.integer=128
structure[1].VirtualSwitch.MTU.integer=1500
structure[1].VirtualSwitch.Name.string=vSwitch2
structure[1].VirtualSwitch.NumPorts.integer=2560
structure[1].VirtualSwitch.Portgroups.string[] = 
structure[1].VirtualSwitch.Uplinks.string[] = 
structure[1].VirtualSwitch.UsedPorts.integer=1
"
    );
    // The hostops reference's keyvalue sample: VersionGet.Version.string=8.0.2.
    assert!(
        one(&host, "esxcli --formatter=keyvalue system version get")
            .contains("VersionGet.Version.string=8.0.2\n")
    );

    let json: serde_json::Value = serde_json::from_str(&one(
        &host,
        "esxcli --formatter=json network vswitch standard list",
    ))
    .expect("JSON");
    assert_eq!(json[0]["Name"], "vSwitch0");
    assert_eq!(
        json[0]["Portgroups"],
        serde_json::json!(["vss-vmnet", "vss-mgmt"])
    );
    assert_eq!(json[1]["UsedPorts"], 1);
    assert_eq!(json[1]["BeaconEnabled"], false);
    let version: serde_json::Value =
        serde_json::from_str(&one(&host, "esxcli --formatter=json system version get"))
            .expect("JSON");
    assert_eq!(version["Build"], "Releasebuild-22380479");

    let csv = one(
        &host,
        "esxcli --formatter=csv network vswitch standard list",
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "BeaconEnabled,BeaconInterval,BeaconRequiredBy,BeaconThreshold,CDPStatus,Class,ConfiguredPorts,MTU,Name,NumPorts,Portgroups,Uplinks,UsedPorts,"
    );
    assert_eq!(
        lines[1],
        "false,1,,3,listen,cswitch,128,1500,vSwitch0,2560,\"vss-vmnet,vss-mgmt,\",\"vmnic0,\",4,"
    );
    assert_eq!(lines.len(), 3);
    let bad = host.ssh("esxcli --formatter=yaml system version get");
    assert_eq!(bad.status.code(), Some(1));
}
