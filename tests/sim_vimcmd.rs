//! The simulator's vim-cmd, through a real sshd: VMODL read back with a small
//! recursive-descent reader of the grammar in hostops.md §2.1 (written here, independently of
//! the product's parser), the loose `getallvms` table, the snapshot tree, faults, and the host
//! operations (maintenance mode, power, datastore rename, services).

mod common;

use common::sshd::{SimHost, SimOptions};

/// A VMODL value as this test reads it.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Str(String),
    Num(i64),
    Bool(bool),
    Unset,
    Null(String),
    MoRef(String),
    Obj(String, Vec<(String, V)>),
    Arr(String, Vec<V>),
}

impl V {
    fn get(&self, name: &str) -> &V {
        match self {
            V::Obj(_, members) => members
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no member {name} in {self:?}")),
            other => panic!("{other:?} is not an object"),
        }
    }

    fn path(&self, path: &str) -> &V {
        path.split('.').fold(self, |v, name| v.get(name))
    }

    fn items(&self) -> &[V] {
        match self {
            V::Arr(_, items) => items,
            other => panic!("{other:?} is not an array"),
        }
    }

    fn type_name(&self) -> &str {
        match self {
            V::Obj(t, _) | V::Arr(t, _) | V::Null(t) => t,
            other => panic!("{other:?} has no type"),
        }
    }
}

struct Reader<'a> {
    s: &'a str,
    i: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }

    fn ws(&mut self) {
        let n = self.rest().len() - self.rest().trim_start().len();
        self.i += n;
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.i += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) {
        assert!(
            self.eat(token),
            "expected {token:?} at {:?}",
            &self.rest()[..self.rest().len().min(40)]
        );
    }

    fn until(&mut self, end: char) -> String {
        let n = self.rest().find(end).expect("terminator");
        let s = self.rest()[..n].to_string();
        self.i += n + end.len_utf8();
        s
    }

    fn value(&mut self) -> V {
        self.ws();
        if self.eat("\"") {
            // Strings are printed raw: the closing quote is the one before the line's end.
            let r = self.rest();
            let line_end = r.find('\n').unwrap_or(r.len());
            let line = &r[..line_end];
            let close = line
                .trim_end()
                .trim_end_matches(',')
                .trim_end()
                .rfind('"')
                .expect("closing quote");
            let s = line[..close].to_string();
            self.i += close + 1;
            return V::Str(s);
        }
        if self.eat("<unset>") {
            return V::Unset;
        }
        if self.eat("'") {
            return V::MoRef(self.until('\''));
        }
        if self.eat("(") {
            let t = self.until(')');
            self.ws();
            if self.eat("null") {
                return V::Null(t);
            }
            if self.eat("{") {
                let mut members = Vec::new();
                loop {
                    self.ws();
                    if self.eat("}") {
                        return V::Obj(t, members);
                    }
                    let name_len = self
                        .rest()
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .expect("member name");
                    let name = self.rest()[..name_len].to_string();
                    assert!(
                        !name.is_empty(),
                        "member name at {:?}",
                        &self.rest()[..20.min(self.rest().len())]
                    );
                    self.i += name_len;
                    self.ws();
                    self.expect("=");
                    let v = self.value();
                    members.push((name, v));
                    self.ws();
                    self.eat(",");
                }
            }
            self.expect("[");
            let mut items = Vec::new();
            loop {
                self.ws();
                if self.eat("]") {
                    return V::Arr(t, items);
                }
                items.push(self.value());
                self.ws();
                self.eat(",");
            }
        }
        if self.eat("true") {
            return V::Bool(true);
        }
        if self.eat("false") {
            return V::Bool(false);
        }
        let n = self
            .rest()
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(self.rest().len());
        let v = self.rest()[..n].parse().unwrap_or_else(|_| {
            panic!("a value at {:?}", &self.rest()[..30.min(self.rest().len())])
        });
        self.i += n;
        V::Num(v)
    }
}

/// Reads `banner` (if any) and one VMODL value filling the rest of the output.
fn vmodl(out: &str, banner: &str) -> V {
    let body = out
        .strip_prefix(banner)
        .unwrap_or_else(|| panic!("banner {banner:?} in {out:.80}"));
    let mut r = Reader { s: body, i: 0 };
    let v = r.value();
    r.ws();
    assert_eq!(r.rest(), "", "one value, then the end");
    v
}

fn ssh(host: &SimHost, command: &str) -> (String, i32) {
    let out = host.ssh(command);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn ok(host: &SimHost, command: &str) -> String {
    let (out, rc) = ssh(host, command);
    assert_eq!(rc, 0, "{command}: {out}");
    out
}

#[test]
fn hardware_reports_cpu_features_topology_and_memory() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let st = host.state();
    let hw = vmodl(&ok(&host, "vim-cmd hostsvc/hosthardware"), "");
    assert_eq!(hw.type_name(), "vim.host.HardwareInfo");
    assert_eq!(*hw.path("cpuInfo.numCpuPackages"), V::Num(2));
    assert_eq!(*hw.path("cpuInfo.numCpuCores"), V::Num(16));
    assert_eq!(*hw.path("cpuInfo.numCpuThreads"), V::Num(32));
    assert_eq!(*hw.get("memorySize"), V::Num(256 << 30));
    assert_eq!(*hw.path("systemInfo.uuid"), V::Str(st.host.uuid.clone()));
    let pkgs = hw.get("cpuPkg").items();
    assert_eq!(pkgs.len(), 2);
    assert_eq!(*pkgs[0].get("vendor"), V::Str("intel".into()));
    assert_eq!(pkgs[1].get("threadId").items().len(), 16);
    let levels: Vec<&V> = hw
        .get("cpuFeature")
        .items()
        .iter()
        .map(|l| l.get("level"))
        .collect();
    let want: Vec<V> = [0, 1, 7, -2147483648, -2147483647, -2147483640]
        .iter()
        .map(|n| V::Num(*n))
        .collect();
    assert_eq!(levels, want.iter().collect::<Vec<_>>());
    // Leaf 1 EAX is the Skylake-SP signature 0x50654: family 6, model 0x55.
    let leaf1 = &hw.get("cpuFeature").items()[1];
    let V::Str(eax) = leaf1.get("eax") else {
        panic!("eax is a string");
    };
    let eax = u32::from_str_radix(&eax.replace(':', ""), 2).expect("binary");
    assert_eq!(eax, 0x0005_0654);
    // AVX-512F (leaf 7 EBX bit 16) on Skylake, not on a Haswell host.
    let avx512 = |hw: &V| {
        let V::Str(ebx) = hw.get("cpuFeature").items()[2].get("ebx") else {
            panic!("ebx");
        };
        ebx.replace(':', "").chars().nth(31 - 16) == Some('1')
    };
    assert!(avx512(&hw));
    let haswell = SimHost::start(SimOptions {
        seed: common::sshd::Seed {
            cpu: "haswell".into(),
            ..Default::default()
        },
        ..SimOptions::default()
    })
    .expect("start");
    assert!(!avx512(&vmodl(
        &ok(&haswell, "vim-cmd hostsvc/hosthardware"),
        ""
    )));
}

#[test]
fn vm_views_agree_with_the_state() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let st = host.state();
    for vm in &st.vms {
        let id = vm.vmid;
        let guest = vmodl(
            &ok(&host, &format!("vim-cmd vmsvc/get.guest {id}")),
            "Guest information:\n\n",
        );
        assert_eq!(guest.type_name(), "vim.vm.GuestInfo");
        assert_eq!(
            *guest.get("toolsRunningStatus"),
            V::Str(vm.tools_running.clone())
        );
        let summary = vmodl(
            &ok(&host, &format!("vim-cmd vmsvc/get.summary {id}")),
            "Listsummary:\n\n",
        );
        assert_eq!(
            *summary.path("quickStats.guestHeartbeatStatus"),
            V::Str(vm.heartbeat.clone())
        );
        assert_eq!(
            *summary.path("config.cpuReservation"),
            V::Num(vm.cpu_reservation_mhz as i64)
        );
        assert_eq!(*summary.path("config.vmPathName"), V::Str(vm.vmx_path()));
        let config = vmodl(
            &ok(&host, &format!("vim-cmd vmsvc/get.config {id}")),
            "Configuration:\n\n",
        );
        assert_eq!(*config.get("version"), V::Str(vm.hw_version.clone()));
        assert_eq!(
            *config.path("memoryAllocation.reservation"),
            V::Num(vm.memory_reservation_mb as i64)
        );
        match config.get("cpuAffinity") {
            V::Null(_) => assert!(vm.cpu_affinity.is_empty()),
            aff => assert_eq!(aff.get("affinitySet").items().len(), vm.cpu_affinity.len()),
        }
        let hw = vmodl(
            &ok(&host, &format!("vim-cmd vmsvc/device.getdevices {id}")),
            "Devices:\n\n",
        );
        assert_eq!(*hw.get("numCPU"), V::Num(vm.num_cpu.into()));
        let devices = hw.get("device").items();
        let disk = devices
            .iter()
            .find(|d| d.type_name() == "vim.vm.device.VirtualDisk")
            .expect("a disk");
        let ds = st
            .datastores
            .iter()
            .find(|d| d.name == vm.datastore)
            .expect("the VM's datastore");
        assert_eq!(
            *disk.path("backing.datastore"),
            V::MoRef(format!("vim.Datastore:{}", ds.uuid))
        );
        assert!(
            devices
                .iter()
                .any(|d| d.type_name() == "vim.vm.device.VirtualVmxnet3")
        );
    }
    // VM 2 has a connected host CD-ROM and CPU affinity: what vMotion preflight looks for.
    let hw = vmodl(
        &ok(&host, "vim-cmd vmsvc/device.getdevices 2"),
        "Devices:\n\n",
    );
    let cd = hw
        .get("device")
        .items()
        .iter()
        .find(|d| d.type_name() == "vim.vm.device.VirtualCdrom")
        .expect("a CD-ROM");
    assert_eq!(
        cd.path("backing").type_name(),
        "vim.vm.device.VirtualCdrom.AtapiBackingInfo"
    );
    assert_eq!(*cd.path("connectable.connected"), V::Bool(true));
}

#[test]
fn old_builds_end_lines_with_comma_space() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    host.modify(|st| st.knobs.vmodl_legacy = true);
    let out = ok(&host, "vim-cmd vmsvc/get.guest 1");
    assert!(out.contains("\n   dynamicType = <unset>, \n"), "{out}");
    assert!(out.lines().filter(|l| l.ends_with(',')).count() == 0);
    let v = vmodl(&out, "Guest information:\n\n");
    assert_eq!(*v.get("dynamicType"), V::Unset);
}

#[test]
fn getallvms_lists_names_with_spaces_and_skips_invalid_vms() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    host.modify(|st| {
        let mut bad = st.vms[0].clone();
        bad.vmid = 16;
        bad.invalid = true;
        st.vms.push(bad);
    });
    let out = host.ssh("vim-cmd vmsvc/getallvms");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Skipping invalid VM '16'\n"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("Vmid   Name "));
    assert!(lines[0].ends_with("Version   Annotation"));
    assert_eq!(lines.len(), 4);
    assert!(
        lines[1].starts_with("1      esx01-web01   "),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with("vmx-20    Built by CI"));
    assert!(lines[2].contains("   [datastore1] esx01-db 01 [prod]/esx01-db 01 [prod].vmx   windows2019srv_64Guest   vmx-20"));
    // Rows share their column starts; the header does not.
    let file_col = lines[1].find("[shared-vmfs01]").expect("file column");
    assert_eq!(lines[2].find("[datastore1]"), Some(file_col));
    assert_ne!(lines[0].find("File"), Some(file_col));
}

#[test]
fn snapshot_tree_is_laid_out_like_esxi7() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    host.modify(|st| {
        let snap = &mut st.vms[2].snapshots[0];
        snap.name = "snap1".into();
        snap.description = "Shapshot #1".into();
        snap.created = "10/4/2026 19:0:52".into();
        snap.children[0].name = "Corelinux running".into();
    });
    // Captured on an ESXi 7 host (Jenkins vsphere-cloud VimCmdParsersTest): a child is
    // "--|-CHILD" with its fields four dashes in, and "Snapshot Id" has its own spacing.
    assert_eq!(
        ok(&host, "vim-cmd vmsvc/snapshot.get 3"),
        "Get Snapshot:\n|-ROOT\n--Snapshot Name        : snap1\n--Snapshot Id        : 1\n\
         --Snapshot Desciption  : Shapshot #1\n--Snapshot Created On  : 10/4/2026 19:0:52\n\
         --Snapshot State       : powered off\n--|-CHILD\n----Snapshot Name        : Corelinux running\n\
         ----Snapshot Id        : 2\n----Snapshot Desciption  : \n----Snapshot Created On  : 3/27/2024 9:0:4\n\
         ----Snapshot State       : powered off\n"
    );
    assert_eq!(ok(&host, "vim-cmd vmsvc/snapshot.get 1"), "Get Snapshot:\n");
}

#[test]
fn faults_are_printed_as_vmodl_and_fail() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let (out, rc) = ssh(&host, "vim-cmd vmsvc/get.guest 99");
    assert_eq!(rc, 1);
    assert_eq!(
        out,
        "(vim.fault.NotFound) {\n   faultCause = (vmodl.MethodFault) null,\n   faultMessage = <unset>\n   msg = \"Unable to find a VM corresponding to \"99\"\"\n}\n"
    );
    let v = vmodl(&out, "");
    assert_eq!(
        *v.get("msg"),
        V::Str("Unable to find a VM corresponding to \"99\"".into())
    );
    let (out, rc) = ssh(&host, "vim-cmd vmsvc/nosuch");
    assert_eq!((out.as_str(), rc), ("", 1));
}

#[test]
fn maintenance_mode_power_and_services() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let (out, rc) = ssh(&host, "vim-cmd hostsvc/maintenance_mode_enter");
    assert_eq!(rc, 1);
    assert!(vmodl(&out, "").type_name() == "vim.fault.InvalidState");
    assert_eq!(ok(&host, "vim-cmd vmsvc/power.off 1"), "Powering off VM:\n");
    assert_eq!(ok(&host, "vim-cmd vmsvc/power.off 2"), "Powering off VM:\n");
    assert_eq!(
        ok(&host, "vim-cmd vmsvc/power.getstate 2"),
        "Retrieved runtime info\nPowered off\n"
    );
    let (out, rc) = ssh(&host, "vim-cmd vmsvc/power.off 2");
    assert_eq!(rc, 1);
    assert!(out.contains("(vim.fault.InvalidPowerState) {"));
    let task = ok(&host, "vim-cmd hostsvc/maintenance_mode_enter");
    assert!(task.starts_with("'vim.Task:haTask-ha-host-vim.HostSystem.enterMaintenanceMode-"));
    let rt = vmodl(&ok(&host, "vim-cmd hostsvc/runtimeinfo"), "");
    assert_eq!(*rt.get("inMaintenanceMode"), V::Bool(true));
    assert_eq!(ok(&host, "esxcli system maintenanceMode get"), "Enabled\n");
    assert!(ok(&host, "vim-cmd hostsvc/maintenance_mode_exit").contains("exitMaintenanceMode"));
    assert!(!host.state().maintenance_mode);

    ok(
        &host,
        "vim-cmd hostsvc/enable_esx_shell; vim-cmd hostsvc/start_esx_shell; vim-cmd hostsvc/stop_ssh",
    );
    let cfg = vmodl(&ok(&host, "vim-cmd hostsvc/hostconfig"), "");
    let services = cfg.path("service.service").items();
    let tsm = services
        .iter()
        .find(|s| *s.get("key") == V::Str("TSM".into()))
        .expect("TSM");
    assert_eq!(
        (tsm.get("running"), tsm.get("policy")),
        (&V::Bool(true), &V::Str("on".into()))
    );
    let ssh_svc = services
        .iter()
        .find(|s| *s.get("key") == V::Str("TSM-SSH".into()))
        .expect("SSH");
    assert_eq!(*ssh_svc.get("running"), V::Bool(false));
}

#[test]
fn datastore_rename_follows_into_vm_paths() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    assert_eq!(
        ok(
            &host,
            "vim-cmd hostsvc/datastore/rename shared-vmfs01 'shared ds [01]'"
        ),
        ""
    );
    let list = ok(&host, "vim-cmd vmsvc/getallvms");
    assert!(
        list.contains("[shared ds [01]] esx01-web01/esx01-web01.vmx"),
        "{list}"
    );
    assert!(ok(&host, "esxcli storage filesystem list").contains("  shared ds [01]  "));
    let (out, rc) = ssh(
        &host,
        "vim-cmd hostsvc/datastore/rename datastore1 'shared ds [01]'",
    );
    assert_eq!(rc, 1);
    assert_eq!(vmodl(&out, "").type_name(), "vim.fault.DuplicateName");
    let (_, rc) = ssh(&host, "vim-cmd hostsvc/datastore/rename nosuch other");
    assert_eq!(rc, 1);
}
