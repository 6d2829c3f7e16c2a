//! What we render, read back as the installer reads it.
//!
//! Every kickstart rendered from every example for every ESXi version lints with no error and
//! no installer warning (`W-…`), and a property test over generated inventories checks that
//! parsing the rendered file with the installer-faithful parser gives back the inventory's
//! values: the network line, the root password, the install target, the keyboard.

use std::path::Path;

use esxforge_kickstart::inventory::{Inventory, Options, salt_for, sha512_crypt};
use esxforge_kickstart::lint::{self, LintOptions, Severity};
use esxforge_kickstart::parse::Kickstart;
use esxforge_kickstart::render::Renderer;
use proptest::prelude::*;
use serde_json::json;

const VERSIONS: [&str; 10] = [
    "4.1", "5.0", "5.1", "5.5", "6.0", "6.5", "6.7", "7.0", "7.0U3", "8.0U2",
];

#[test]
fn every_rendered_kickstart_lints_without_errors_or_installer_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let renderer = Renderer::new();
    let mut checked = 0;
    let mut problems = Vec::new();
    for example in ["lab", "legacy41", "secureboot8"] {
        let path = root.join("examples").join(format!("{example}.yaml"));
        for version in VERSIONS {
            let options = Options {
                esxi: Some(version.parse().unwrap()),
            };
            // Versions an example cannot target are golden errors in tests/ks_render.rs.
            let Ok(inv) = Inventory::load_with(&path, &options) else {
                continue;
            };
            for host in &inv.hosts {
                let ks = renderer.render(host, &inv.salt_seed).unwrap();
                let opts = LintOptions {
                    version: version.parse().unwrap(),
                    secure_boot: host.secure_boot,
                };
                let report = lint::lint_text(
                    &format!("{example}/{version}/{}", host.name),
                    ks.as_bytes(),
                    &opts,
                );
                for f in &report.findings {
                    let installer_warning =
                        f.severity == Severity::Warning && f.code.as_str().starts_with("W-");
                    if f.severity == Severity::Error || installer_warning {
                        problems.push(format!(
                            "{}:{:?}: {} {}",
                            f.file,
                            f.line,
                            f.code.as_str(),
                            f.message
                        ));
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // lab's 3 hosts in every version, legacy41's 2 in 4.1 only, secureboot8's 2 from 6.5 on.
    assert_eq!(checked, 3 * 10 + 2 + 2 * 5);
}

#[test]
fn the_linter_does_catch_what_a_broken_template_writes() {
    // The check above would pass vacuously if lint found nothing; show that it finds a broken
    // network line written by an overriding template.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("network.j2"),
        "network --bootproto=dhcp --ip=10.0.0.5\n",
    )
    .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let inv = Inventory::load(&root.join("examples/lab.yaml")).unwrap();
    let ks = Renderer::with_templates(dir.path())
        .unwrap()
        .render(&inv.hosts[0], "")
        .unwrap();
    let report = lint::lint_text(
        "ks.cfg",
        ks.as_bytes(),
        &LintOptions {
            version: "7.0".parse().unwrap(),
            secure_boot: false,
        },
    );
    assert_eq!(report.errors(), 1, "{:?}", report.findings);
}

/// One generated host, and what its kickstart must say.
#[derive(Debug, Clone)]
struct Case {
    esxi: &'static str,
    hostname: String,
    domain: Option<String>,
    /// `None`: DHCP.
    ip: Option<([u8; 4], u8)>,
    vlan: Option<u16>,
    dns: Vec<[u8; 4]>,
    device: String,
    keyboard: Option<&'static str>,
    password: Password,
    target: Target,
    overwrite: bool,
}

#[derive(Debug, Clone)]
enum Password {
    Hash,
    Clear { text: String, clear_text_ok: bool },
}

#[derive(Debug, Clone)]
enum Target {
    FirstDisk(Vec<&'static str>),
    Disk(String),
    Usb,
    San,
}

const HASH: &str = "$6$abcdefgh$gGBmDnLQUc7X.EBIKowb1D9aTj.Os8M3ugSq/i9D/fQCkrN3HulO.schvxn1pyfuGN2yHa4KWM7KxtoM2UM220";

fn case() -> impl Strategy<Value = Case> {
    let esxi = prop::sample::select(&VERSIONS[..]);
    let name = "[a-z][a-z0-9-]{0,12}[a-z0-9]";
    let domain = prop::option::of("[a-z]{1,8}\\.(com|net|example)");
    // Unicast addresses: the installer refuses 0.x, loopback and multicast ones (and so does
    // the inventory check).
    let unicast = || {
        (
            (1u8..=223).prop_filter("not loopback", |o| *o != 127),
            any::<[u8; 3]>(),
        )
            .prop_map(|(a, [b, c, d])| [a, b, c, d])
    };
    let ip = prop::option::of((unicast(), 8u8..=30));
    let vlan = prop::option::of(0u16..=4094);
    let dns = prop::collection::vec(unicast(), 0..5);
    let device = prop_oneof![
        (0u8..16).prop_map(|n| format!("vmnic{n}")),
        any::<[u8; 6]>().prop_map(|m| m
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")),
    ];
    let keyboard = prop::option::of(prop::sample::select(vec![
        "US Default",
        "German",
        "Swiss French",
        "United Kingdom",
    ]));
    // Printable ASCII with the characters that break naive quoting: '#', quotes, backslash, space.
    let password = prop_oneof![
        Just(Password::Hash),
        (
            "[a-z]{3}[A-Z]{2}[0-9]{2}[ #\"'\\\\$!]{1,3}[a-z]{0,5}",
            any::<bool>()
        )
            .prop_map(|(text, clear_text_ok)| Password::Clear {
                text,
                clear_text_ok
            }),
    ];
    let target = prop_oneof![
        prop::sample::subsequence(vec!["local", "remote", "usb", "esx"], 0..=4)
            .prop_map(Target::FirstDisk),
        "[0-9a-f]{16}".prop_map(|id| Target::Disk(format!("naa.{id}"))),
        Just(Target::Usb),
        Just(Target::San),
    ];
    (
        esxi,
        name,
        domain,
        ip,
        vlan,
        dns,
        device,
        keyboard,
        password,
        target,
        any::<bool>(),
    )
        .prop_map(
            |(
                esxi,
                hostname,
                domain,
                ip,
                vlan,
                dns,
                device,
                keyboard,
                password,
                target,
                overwrite,
            )| Case {
                esxi,
                hostname,
                domain,
                ip,
                vlan,
                dns,
                device,
                keyboard,
                password,
                target,
                overwrite,
            },
        )
}

fn ipv4(o: [u8; 4]) -> String {
    std::net::Ipv4Addr::from(o).to_string()
}

/// The host's address made usable: not the network or broadcast address of its prefix, and a
/// gateway one above the network address.
fn addressing(ip: [u8; 4], prefix: u8) -> (String, String, String) {
    let mask = u32::MAX << (32 - u32::from(prefix));
    let net = u32::from_be_bytes(ip) & mask;
    let size = !mask;
    let host = net | (u32::from_be_bytes(ip) % (size - 2) + 2);
    let netmask = std::net::Ipv4Addr::from(mask).to_string();
    (
        ipv4(host.to_be_bytes()),
        netmask,
        ipv4((net | 1).to_be_bytes()),
    )
}

fn four_one(c: &Case) -> bool {
    c.esxi == "4.1"
}

/// The inventory of one host, as JSON (which YAML reads as it is).
fn yaml(c: &Case, password_file: &Path) -> String {
    let mut network = json!({"device": c.device, "hostname": c.hostname});
    if let Some(d) = &c.domain {
        network["domain"] = json!(d);
    }
    if let Some(v) = c.vlan {
        network["vlan"] = json!(v);
    }
    match c.ip {
        Some((ip, prefix)) => {
            let (ip, mask, gw) = addressing(ip, prefix);
            network["ip"] = json!(ip);
            network["netmask"] = json!(mask);
            network["gateway"] = json!(gw);
        }
        None => network["dhcp"] = json!(true),
    }
    let rootpw = match &c.password {
        Password::Hash => json!({"hash": HASH}),
        Password::Clear { clear_text_ok, .. } => {
            json!({"file": password_file, "clear_text_ok": clear_text_ok})
        }
    };
    let mut install = match &c.target {
        Target::FirstDisk(prefer) => json!({"prefer": prefer}),
        Target::Disk(d) => json!({"disk": d}),
        Target::Usb => json!({"target": "usb"}),
        Target::San => json!({"target": "san"}),
    };
    if c.overwrite {
        install["vmfs"] = json!("overwrite");
    }
    let mut host = json!({
        "esxi": c.esxi,
        "accept_eula": true,
        "network": network,
        "dns": {"servers": c.dns.iter().map(|o| ipv4(*o)).collect::<Vec<_>>()},
        "rootpw": rootpw,
        "install": install,
    });
    if let Some(k) = c.keyboard {
        host["keyboard"] = json!(k);
    }
    json!({"hosts": {"esx-under-test": host}}).to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn parsing_a_rendered_kickstart_gives_back_the_inventory(c in case()) {
        let dir = tempfile::tempdir().unwrap();
        let pw_file = dir.path().join("pw");
        if let Password::Clear { text, .. } = &c.password {
            std::fs::write(&pw_file, text).unwrap();
        }
        let inv_path = dir.path().join("inv.yaml");
        std::fs::write(&inv_path, yaml(&c, &pw_file)).unwrap();
        let report = Inventory::check(&inv_path).unwrap();
        let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
        prop_assert!(errors.is_empty(), "{:?}\n{}", errors, std::fs::read_to_string(&inv_path).unwrap());
        let host = &report.inventory.hosts[0];
        let text = Renderer::new().render(host, "").unwrap();
        let ks = Kickstart::parse(&text);
        prop_assert!(ks.errors.is_empty(), "{:?}", ks.errors);

        // The installer would take it: no error, and no installer warning but the one the
        // inventory check also gives (static networking without a name server).
        let opts = LintOptions { version: c.esxi.parse().unwrap(), secure_boot: false };
        let lint = lint::lint_text("ks.cfg", text.as_bytes(), &opts);
        let no_dns_ok = c.ip.is_some() && c.dns.is_empty();
        let bad: Vec<String> = lint
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error || (f.severity == Severity::Warning && f.code.as_str().starts_with("W-")))
            .filter(|f| !(no_dns_ok && f.code.as_str() == "W-NETWORK-STATIC-DEFAULTS"))
            .map(|f| format!("{:?} {} {}", f.line, f.code.as_str(), f.message))
            .collect();
        prop_assert!(bad.is_empty(), "{:?}\n{}", bad, text);

        // rootpw: the given hash, the clear password hashed with the host's salt, or (asked
        // for) the clear password itself, whatever characters it holds.
        let rootpw = ks.command("rootpw").expect("rootpw");
        let word: Vec<&str> = rootpw.positionals().collect();
        match &c.password {
            Password::Hash => {
                prop_assert!(rootpw.has("--iscrypted"));
                prop_assert_eq!(word, vec![HASH]);
            }
            Password::Clear { text, clear_text_ok: false } => {
                prop_assert!(rootpw.has("--iscrypted"));
                let expected = sha512_crypt(text, &salt_for("esx-under-test", ""));
                prop_assert_eq!(word, vec![expected.as_str()]);
            }
            Password::Clear { text, clear_text_ok: true } => {
                prop_assert!(!rootpw.has("--iscrypted"));
                prop_assert_eq!(word, vec![text.as_str()]);
            }
        }

        // network
        let net = ks.command("network").expect("network");
        prop_assert_eq!(net.value("--device"), Some(c.device.as_str()));
        prop_assert_eq!(net.value("--vlanid").map(str::to_string), c.vlan.map(|v| v.to_string()));
        match c.ip {
            Some((ip, prefix)) => {
                let (ip, mask, gw) = addressing(ip, prefix);
                prop_assert_eq!(net.value("--bootproto"), Some("static"));
                prop_assert_eq!(net.value("--ip"), Some(ip.as_str()));
                prop_assert_eq!(net.value("--netmask"), Some(mask.as_str()));
                prop_assert_eq!(net.value("--gateway"), Some(gw.as_str()));
                let fqdn = match &c.domain {
                    Some(d) => format!("{}.{d}", c.hostname),
                    None => c.hostname.clone(),
                };
                prop_assert_eq!(net.value("--hostname"), Some(fqdn.as_str()));
                let first_two: Vec<String> = c.dns.iter().take(2).map(|o| ipv4(*o)).collect();
                let on_line: Vec<String> = net.value("--nameserver").map(|v| v.split(',').map(str::to_string).collect()).unwrap_or_default();
                prop_assert_eq!(on_line, first_two);
            }
            None => {
                prop_assert_eq!(net.value("--bootproto"), Some("dhcp"));
                prop_assert!(!net.has("--ip") && !net.has("--hostname") && !net.has("--nameserver"));
            }
        }
        // Every name server is set somewhere: on the line, or at first boot (4.1 sets the
        // whole list at once with vim-cmd; later versions add each one with esxcli).
        let body: String = ks.sections.iter().map(|s| s.body.as_str()).collect();
        let line_count = net.value("--nameserver").map_or(0, |v| v.split(',').count());
        if four_one(&c) {
            let all: Vec<String> = c.dns.iter().map(|o| ipv4(*o)).collect();
            if line_count < all.len() {
                let wanted = format!("--ip-addresses={}", all.join(","));
                prop_assert!(body.contains(&wanted), "{wanted} in {body}");
            }
        } else {
            prop_assert_eq!(line_count + body.matches("dns server add").count(), c.dns.len());
        }

        // keyboard
        prop_assert_eq!(ks.command("keyboard").map(|k| k.positionals().collect::<Vec<_>>()), c.keyboard.map(|k| vec![k]));

        // install target: autopart on 4.1, install from 5.0.
        let four = four_one(&c);
        let install = ks.command(if four { "autopart" } else { "install" }).expect("install");
        match &c.target {
            Target::FirstDisk(prefer) if prefer.is_empty() => prop_assert_eq!(install.flag("--firstdisk"), Some(None)),
            Target::FirstDisk(prefer) => prop_assert_eq!(install.value("--firstdisk").map(str::to_string), Some(prefer.join(","))),
            Target::Disk(d) => prop_assert_eq!(install.value("--disk"), Some(d.as_str())),
            Target::Usb => prop_assert_eq!(install.value("--firstdisk"), Some("usb")),
            Target::San => prop_assert_eq!(install.value("--firstdisk"), Some("remote")),
        }
        prop_assert_eq!(install.has("--overwritevmfs"), c.overwrite);
        if four {
            prop_assert_eq!(ks.command("install").map(|i| i.positionals().collect::<Vec<_>>()), Some(vec!["cdrom"]));
        }
    }
}
