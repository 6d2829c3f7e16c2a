//! Rendering rules that hold for every host: commands before sections, quoting, name servers,
//! passwords, dialects, template overrides.

use std::path::Path;

use super::*;
use crate::inventory::{Inventory, Options, salt_for, sha512_crypt};

const HASH: &str = "$6$abcdefgh$gGBmDnLQUc7X.EBIKowb1D9aTj.Os8M3ugSq/i9D/fQCkrN3HulO.schvxn1pyfuGN2yHa4KWM7KxtoM2UM220";

/// An inventory of one host `esx01` with `extra` YAML appended under `defaults:`.
fn one(esxi: &str, extra: &str) -> Inventory {
    let dns = if extra.contains("  dns:") {
        ""
    } else {
        "  dns: {servers: [10.0.0.2]}\n"
    };
    let yaml = format!(
        "defaults:
  esxi: \"{esxi}\"
  accept_eula: true
  rootpw: {{hash: \"{HASH}\"}}
  network: {{netmask: 255.255.255.0, gateway: 10.0.10.1, domain: lab.example.com}}
{dns}{extra}
hosts:
  esx01: {{network: {{ip: 10.0.10.11}}}}
"
    );
    let r = Inventory::from_yaml(&yaml, Path::new("t.yaml")).unwrap();
    assert!(r.errors().next().is_none(), "{:?}", r.problems);
    r.inventory
}

fn render(inv: &Inventory) -> String {
    Renderer::new()
        .render(&inv.hosts[0], &inv.salt_seed)
        .unwrap()
}

fn line<'a>(ks: &'a str, start: &str) -> &'a str {
    ks.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no {start} line in\n{ks}"))
}

fn lab() -> Inventory {
    Inventory::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/lab.yaml"
    )))
    .unwrap()
}

#[test]
fn commands_come_before_every_section_in_every_dialect() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/lab.yaml"));
    for v in ["4.1", "5.1", "6.7", "7.0", "7.0U3", "8.0U2"] {
        let inv = Inventory::load_with(
            path,
            &Options {
                esxi: Some(v.parse().unwrap()),
            },
        )
        .unwrap();
        for h in &inv.hosts {
            let ks = Renderer::new().render(h, &inv.salt_seed).unwrap();
            let first_section = ks.lines().position(|l| l.starts_with('%')).unwrap();
            for (i, l) in ks.lines().enumerate() {
                // (`reboot` is also the shell command that ends a %firstboot with drivers.)
                let command = [
                    "vmaccepteula",
                    "rootpw",
                    "install",
                    "autopart",
                    "network",
                    "keyboard",
                    "upgrade",
                    "paranoid",
                ]
                .iter()
                .any(|c| l.split_whitespace().next() == Some(c));
                if command {
                    assert!(
                        i < first_section,
                        "{v} {}: `{l}` after the first section",
                        h.name
                    );
                }
                // No body line may end its section early.
                if i > first_section
                    && !l.starts_with("%firstboot")
                    && !l.starts_with("%post")
                    && !l.starts_with("%pre")
                {
                    assert!(!l.starts_with('%') && !l.starts_with("include"), "{v}: {l}");
                }
            }
            assert!(ks.lines().position(|l| l == "reboot").unwrap() < first_section);
            assert!(ks.is_ascii() && !ks.contains('\r'));
            for section in ks.lines().filter(|l| l.starts_with('%')) {
                assert!(section.contains("--interpreter=busybox"), "{section}");
            }
        }
    }
}

#[test]
fn dialects_pick_their_commands() {
    let v41 = render(&one("4.1", "  ntp: [10.0.0.5]\n  ssh: true"));
    assert_eq!(line(&v41, "install"), "install cdrom");
    assert_eq!(line(&v41, "autopart"), "autopart --firstdisk");
    assert_eq!(
        line(&v41, "%firstboot"),
        "%firstboot --unsupported --interpreter=busybox"
    );
    assert!(v41.contains("cat > /etc/ntp.conf") && v41.contains("chkconfig --level 345 ntpd on"));
    assert!(v41.contains("vim-cmd hostsvc/enable_remote_tsm"));

    let v67 = render(&one("6.7", "  ntp: [10.0.0.5]\n  ssh: true"));
    assert_eq!(line(&v67, "install"), "install --firstdisk");
    assert!(!v67.contains("autopart"));
    assert!(v67.contains("cat > /etc/ntp.conf") && v67.contains("/sbin/chkconfig ntpd on"));
    assert!(!v67.contains("esxcli system ntp"));
    assert!(v67.contains("vim-cmd hostsvc/enable_ssh"));

    let v70u1 = render(&one("7.0U1", "  ntp: [10.0.0.5, ntp.example.com]"));
    assert!(v70u1.contains(
        "run esxcli system ntp set --server=10.0.0.5 --server=ntp.example.com --enabled=true"
    ));
    assert!(!v70u1.contains("ntp.conf"));

    let up = render(&one(
        "7.0U3",
        "  install: {mode: upgrade, forcemigrate: true}",
    ));
    assert_eq!(line(&up, "upgrade"), "upgrade --firstdisk --forcemigrate");
    // The installer ignores these on an upgrade, with a warning each.
    assert!(!up.contains("\nrootpw") && !up.contains("\nnetwork") && !up.contains("\nkeyboard"));
}

#[test]
fn install_targets_and_vmfs() {
    let r = |install: &str| render(&one("7.0U3", &format!("  install: {install}")));
    assert_eq!(
        line(&r("{target: usb}"), "install"),
        "install --firstdisk=usb"
    );
    assert_eq!(
        line(&r("{target: san, vmfs: preserve}"), "install"),
        "install --firstdisk=remote --preservevmfs"
    );
    assert_eq!(
        line(
            &r("{prefer: [local, megaraid_sas], vmfs: none, ignore_ssd: true}"),
            "install"
        ),
        "install --firstdisk=local,megaraid_sas --novmfsondisk --ignoressd"
    );
    assert_eq!(
        line(&r("{disk: naa.600508b1001c5e2f}"), "install"),
        "install --disk=naa.600508b1001c5e2f"
    );
    assert_eq!(
        line(
            &r("{mode: installorupgrade, vmfs: overwrite}"),
            "installorupgrade"
        ),
        "installorupgrade --firstdisk --overwritevmfs"
    );
    let v41 = render(&one(
        "4.1",
        "  install: {media: \"nfs://10.0.0.9/export/esxi41\", disk: mpx.vmhba1:C0:T0:L0, vmfs: overwrite}",
    ));
    assert_eq!(
        line(&v41, "install"),
        "install nfs --server=10.0.0.9 --dir=/export/esxi41"
    );
    assert_eq!(
        line(&v41, "autopart"),
        "autopart --disk=mpx.vmhba1:C0:T0:L0 --overwritevmfs"
    );
}

#[test]
fn two_name_servers_on_the_network_line_the_rest_at_first_boot() {
    for (servers, on_line, extra) in [
        ("[10.0.0.2]", Some("10.0.0.2"), 0),
        ("[10.0.0.2, 10.0.0.3]", Some("10.0.0.2,10.0.0.3"), 0),
        (
            "[10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5]",
            Some("10.0.0.2,10.0.0.3"),
            2,
        ),
    ] {
        let ks = render(&one("7.0U3", &format!("  dns: {{servers: {servers}}}")));
        let net = line(&ks, "network");
        assert_eq!(
            net.split(" --nameserver=")
                .nth(1)
                .map(|r| r.split(' ').next().unwrap()),
            on_line
        );
        assert_eq!(
            ks.matches("esxcli network ip dns server add").count(),
            extra
        );
    }
    // With DHCP the network line takes no name server (the installer ignores it, warning).
    let yaml = format!(
        "defaults: {{esxi: \"8.0\", accept_eula: true, rootpw: {{hash: \"{HASH}\"}}, dns: {{servers: [10.0.0.2, 10.0.0.3]}}}}
hosts: {{esx01: {{network: {{dhcp: true, domain: lab.example.com}}}}}}"
    );
    let inv = Inventory::from_yaml(&yaml, Path::new("t.yaml"))
        .unwrap()
        .inventory;
    let ks = render(&inv);
    assert_eq!(
        line(&ks, "network"),
        "network --bootproto=dhcp --device=vmnic0 --addvmportgroup=0"
    );
    assert_eq!(ks.matches("esxcli network ip dns server add").count(), 2);
    assert!(ks.contains("run esxcli system hostname set --fqdn=esx01.lab.example.com"));
}

#[test]
fn clear_passwords_are_hashed_with_the_host_salt_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "Pa ss#w0rd\n").unwrap();
    let inv_path = dir.path().join("inv.yaml");
    let yaml = "salt_seed: seed1
defaults:
  esxi: \"7.0U3\"
  accept_eula: true
  rootpw: {file: pw}
  network: {netmask: 255.255.255.0, gateway: 10.0.10.1}
  dns: {servers: [10.0.0.2]}
hosts:
  esx01: {network: {ip: 10.0.10.11}}
  esx02: {network: {ip: 10.0.10.12}, rootpw: {file: pw, clear_text_ok: true}}
"
    .to_string();
    std::fs::write(&inv_path, yaml).unwrap();
    let inv = Inventory::load(&inv_path).unwrap();
    let r = Renderer::new();
    let ks1 = r.render(&inv.hosts[0], &inv.salt_seed).unwrap();
    let expected = sha512_crypt("Pa ss#w0rd", &salt_for("esx01", "seed1"));
    assert_eq!(
        line(&ks1, "rootpw"),
        format!("rootpw --iscrypted {}", expected.as_str())
    );
    assert!(!ks1.contains("Pa ss"));
    // Clear text only when asked, quoted so that `#` and the space survive shlex.
    let ks2 = r.render(&inv.hosts[1], &inv.salt_seed).unwrap();
    assert_eq!(line(&ks2, "rootpw"), "rootpw \"Pa ss#w0rd\"");
}

#[test]
fn quoting_survives_spaces_in_names() {
    let ks = render(&lab());
    assert_eq!(line(&ks, "keyboard"), "keyboard \"US Default\"");
    assert!(ks.contains("--portgroup-name='VM Production' --vswitch-name=vSwitch0"));
}

#[test]
fn secure_boot_hosts_get_no_firstboot_and_say_what_comes_later() {
    let inv = one(
        "8.0U2",
        "  secure_boot: true\n  post_install: host_apply\n  ntp: [10.0.0.5]\n  ssh: true",
    );
    let ks = render(&inv);
    assert!(!ks.contains("%firstboot"), "{ks}");
    assert_eq!(
        line(&ks, "# Configured after"),
        "# Configured after the install by `esxforge host apply`: NTP, datastore rename, SSH."
    );
}

#[test]
fn user_scripts_land_in_their_sections() {
    let inv = one(
        "7.0U3",
        "  scripts:\n    pre: \"echo pre\"\n    post: \"echo post\"\n    firstboot: \"echo first\"",
    );
    let ks = render(&inv);
    assert!(ks.contains("\n%pre --interpreter=busybox\necho pre\n"));
    assert!(ks.contains("\n%post --interpreter=busybox\necho post\n"));
    assert!(ks.contains("\n# From the inventory's scripts.firstboot\necho first\n"));
}

#[test]
fn overrides_replace_templates_by_name_and_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("network.j2"),
        "network --bootproto=dhcp # {{ host.name }}\n",
    )
    .unwrap();
    let inv = lab();
    let r = Renderer::with_templates(dir.path()).unwrap();
    let ks = r.render(&inv.hosts[0], "").unwrap();
    assert_eq!(line(&ks, "network"), "network --bootproto=dhcp # esx01");
    assert!(
        ks.contains("%firstboot"),
        "the other templates stay the embedded ones"
    );

    std::fs::write(
        dir.path().join("network.j2"),
        "network {{ host.nonexistent.field }}\n",
    )
    .unwrap();
    let err = Renderer::with_templates(dir.path())
        .unwrap()
        .render(&inv.hosts[0], "")
        .unwrap_err();
    assert!(err.to_string().starts_with("template error: "), "{err}");
    assert!(err.to_string().contains("network.j2"), "{err}");

    std::fs::write(dir.path().join("network.j2"), "network {% if %}\n").unwrap();
    let err = Renderer::with_templates(dir.path()).err().unwrap();
    assert!(err.to_string().contains("network.j2"), "{err}");

    std::fs::write(
        dir.path().join("network.j2"),
        "network --hostname=caf\u{e9}\r\n",
    )
    .unwrap();
    let err = Renderer::with_templates(dir.path())
        .unwrap()
        .render(&inv.hosts[0], "")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "esx01: the rendered kickstart has '\u{e9}' on line 6; kickstarts must be ASCII with LF line ends (check the templates)"
    );
}

#[test]
fn write_all_writes_0600_files_atomically_and_identically() {
    use std::os::unix::fs::PermissionsExt;
    let inv = lab();
    let hosts: Vec<&crate::inventory::Host> = inv.hosts.iter().collect();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let count = std::sync::atomic::AtomicUsize::new(0);
    let tick = || {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let paths = write_all(&Renderer::new(), &inv, &hosts, a.path(), &tick).unwrap();
    write_all(&Renderer::new(), &inv, &hosts, b.path(), &tick).unwrap();
    assert_eq!(count.into_inner(), 6);
    let names: Vec<String> = std::fs::read_dir(a.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        names,
        ["esx01.ks.cfg", "esx02.ks.cfg", "esx03.ks.cfg"],
        "no temporary file is left"
    );
    for p in paths {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
        let other = b.path().join(p.file_name().unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(other).unwrap());
    }
}
