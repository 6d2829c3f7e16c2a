//! The installer's grammar per ESXi version.
//!
//! The base is the 7.x `grammar.py` (see `reference/esxi_ks_grammar_7x.json`); the other versions
//! are edits of it (`reference/kickstart.md` §1.1 and §5): 4.x has `autopart`, the `install`
//! media form and `--unsupported` on sections, and no `upgrade`/`installorupgrade`; 5.x and 6.x
//! lack the 7.x `--ignoreprereq*`/`--forcemigrate` (5.x also `--overwritevsan`); 8.x adds
//! `install --dpupcislots=` and `--forceunsupportedinstall`. Each grammar is built once per
//! process.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::values;
use crate::version::EsxiVersion;

/// How the installer treats a command name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Optional,
    Required,
    /// Ignored with a warning.
    Deprecated,
    /// Ignored with a warning (`lang`).
    Unused,
}

/// What an argument's value must look like.
#[derive(Clone, Copy)]
pub enum ValueRule {
    /// A flag: a value is a warning and drops the argument.
    None,
    /// `valueRegex`: a mismatch is an error or a warning (then the argument is dropped).
    Match {
        test: fn(&str) -> bool,
        error: bool,
        expected: &'static str,
    },
    /// `valueValidator`: a failure is an error with the validator's message.
    Validate(fn(&str) -> Result<(), String>),
}

#[derive(Clone, Copy)]
pub struct ArgSpec {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub deprecated: bool,
    pub value: ValueRule,
    /// The value a bare `--flag` gets (`--firstdisk` means `local,remote,usb`).
    pub none_value: Option<&'static str>,
    /// Arguments this one cannot be combined with (an error).
    pub invalids: &'static [&'static str],
    /// Whether repeating it is an error rather than a warning.
    pub duplicate_error: bool,
}

/// A positional word the command takes.
#[derive(Clone, Copy)]
pub enum Hanging {
    /// A deprecated media word (`install cdrom`): a warning, then ignored.
    DeprecatedWord(&'static str),
    /// A required value: the first extra word (`part NAME`) or the last (`rootpw PASSWORD`).
    Value {
        name: &'static str,
        front: bool,
        required: bool,
        rule: ValueRule,
    },
}

pub struct CommandSpec {
    /// The name the grammar knows this command by (`vmaccepteula` for `accepteula` too).
    pub id: &'static str,
    pub detail: Detail,
    pub multiple: bool,
    pub duplicate_error: bool,
    pub requires_install: bool,
    pub args: Vec<ArgSpec>,
    pub hanging: Vec<Hanging>,
}

impl CommandSpec {
    pub fn arg(&self, name: &str) -> Option<&ArgSpec> {
        self.args.iter().find(|a| a.name == name)
    }
}

pub struct Grammar {
    commands: HashMap<&'static str, CommandSpec>,
}

impl Grammar {
    /// The grammar of `version`'s installer generation (built on first use, once for all the
    /// releases of a generation: see [`EsxiVersion::generation`]).
    pub fn get(version: EsxiVersion) -> &'static Grammar {
        static GRAMMARS: [OnceLock<Grammar>; 5] = [const { OnceLock::new() }; 5];
        let slot = usize::from(version.generation().saturating_sub(4));
        let slot = GRAMMARS
            .get(slot)
            .unwrap_or_else(|| unreachable!("{version} is a known release"));
        slot.get_or_init(|| build(version))
    }

    pub fn command(&self, name: &str) -> Option<&CommandSpec> {
        self.commands.get(name)
    }

    /// Every command name the installer accepts (deprecated ones included).
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.commands.keys().copied()
    }
}

const fn flag(name: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        alias: None,
        deprecated: false,
        value: ValueRule::None,
        none_value: None,
        invalids: &[],
        duplicate_error: false,
    }
}

const fn any_value(name: &'static str) -> ArgSpec {
    ArgSpec {
        value: ValueRule::Match {
            test: non_empty,
            error: false,
            expected: "a value",
        },
        ..flag(name)
    }
}

const fn validated(name: &'static str, check: fn(&str) -> Result<(), String>) -> ArgSpec {
    ArgSpec {
        value: ValueRule::Validate(check),
        ..flag(name)
    }
}

const fn deprecated(spec: ArgSpec) -> ArgSpec {
    ArgSpec {
        deprecated: true,
        ..spec
    }
}

fn non_empty(s: &str) -> bool {
    !s.is_empty()
}

fn interpreter(s: &str) -> bool {
    matches!(s, "python" | "busybox")
}

const INTERPRETER: ArgSpec = ArgSpec {
    value: ValueRule::Match {
        test: interpreter,
        error: true,
        expected: "busybox or python",
    },
    ..flag("--interpreter")
};

const SCRIPT: Hanging = Hanging::Value {
    name: "script",
    front: false,
    required: true,
    rule: ValueRule::Validate(accept_script),
};

fn accept_script(_: &str) -> Result<(), String> {
    Ok(())
}

fn simple(id: &'static str, detail: Detail, args: Vec<ArgSpec>) -> CommandSpec {
    CommandSpec {
        id,
        detail,
        multiple: false,
        duplicate_error: false,
        requires_install: false,
        args,
        hanging: Vec::new(),
    }
}

/// The `--disk`/`--drive`/`--firstdisk` trio shared by `install`, `upgrade`, `installorupgrade`.
fn disk_args(
    extra_invalid: &'static [&'static str],
    firstdisk_invalid: &'static [&'static str],
) -> [ArgSpec; 3] {
    [
        ArgSpec {
            alias: Some("--disk"),
            invalids: extra_invalid,
            duplicate_error: true,
            ..any_value("--drive")
        },
        ArgSpec {
            alias: Some("--drive"),
            invalids: extra_invalid,
            duplicate_error: true,
            ..any_value("--disk")
        },
        ArgSpec {
            invalids: firstdisk_invalid,
            none_value: Some("local,remote,usb"),
            duplicate_error: true,
            ..any_value("--firstdisk")
        },
    ]
}

const MEDIA: [Hanging; 4] = [
    Hanging::DeprecatedWord("cdrom"),
    Hanging::DeprecatedWord("usb"),
    Hanging::DeprecatedWord("nfs"),
    Hanging::DeprecatedWord("url"),
];

fn build(version: EsxiVersion) -> Grammar {
    use Detail::*;
    let v4 = !version.has_install_command();
    let mut c: HashMap<&'static str, CommandSpec> = HashMap::new();

    for name in [
        "auth",
        "authconfig",
        "autostep",
        "bootloader",
        "cmdline",
        "device",
        "deviceprobe",
        "esxlocation",
        "firewall",
        "firewallport",
        "firstboot",
        "harddrive",
        "ignoredisk",
        "interactive",
        "lilo",
        "lilocheck",
        "logvol",
        "mouse",
        "raid",
        "skipx",
        "text",
        "timezone",
        "virtualdisk",
        "vnc",
        "volgroup",
        "xconfig",
        "xdisplay",
        "vmlicense",
        "zerombr",
        "%packages",
        "%vmlicense_text",
    ] {
        c.insert(name, simple(name, Deprecated, Vec::new()));
    }
    for name in ["lang", "langsupport"] {
        c.insert(name, simple(name, Unused, Vec::new()));
    }

    // autopart: the 4.x way to choose the disk; deprecated from 5.0.
    if v4 {
        let [drive, disk, firstdisk] = disk_args(&["--firstdisk"], &["--disk", "--drive"]);
        c.insert(
            "autopart",
            simple(
                "autopart",
                Optional,
                vec![drive, disk, firstdisk, flag("--overwritevmfs")],
            ),
        );
    } else {
        c.insert("autopart", simple("autopart", Deprecated, Vec::new()));
    }

    c.insert(
        "clearpart",
        CommandSpec {
            multiple: true,
            requires_install: true,
            ..simple(
                "clearpart",
                Optional,
                vec![
                    flag("--all"),
                    ArgSpec {
                        invalids: &["--drives", "--firstdisk"],
                        ..flag("--alldrives")
                    },
                    ArgSpec {
                        invalids: &["--ignoredrives", "--alldrives", "--firstdisk"],
                        duplicate_error: true,
                        ..any_value("--drives")
                    },
                    ArgSpec {
                        invalids: &["--alldrives", "--drives", "--ignoredrives"],
                        none_value: Some("local,remote"),
                        duplicate_error: true,
                        ..any_value("--firstdisk")
                    },
                    ArgSpec {
                        invalids: &["--drives", "--firstdisk"],
                        ..any_value("--ignoredrives")
                    },
                    deprecated(flag("--initlabel")),
                    flag("--overwritevmfs"),
                ],
            )
        },
    );
    c.insert("dryrun", simple("dryrun", Optional, Vec::new()));
    c.insert("paranoid", simple("paranoid", Optional, Vec::new()));
    c.insert(
        "partitionembed",
        CommandSpec {
            requires_install: true,
            ..simple("partitionembed", Optional, Vec::new())
        },
    );
    c.insert(
        "reboot",
        simple("reboot", Optional, vec![flag("--noeject")]),
    );

    // install
    let mut install = if v4 {
        // 4.x: `install cdrom|usb|nfs --server= --dir=|url URL` names the media, not the disk.
        CommandSpec {
            hanging: vec![
                Hanging::Value {
                    name: "media",
                    front: true,
                    required: false,
                    rule: ValueRule::Match {
                        test: install_media,
                        error: false,
                        expected: "cdrom, usb, nfs or url",
                    },
                },
                Hanging::Value {
                    name: "location",
                    front: false,
                    required: false,
                    rule: ValueRule::Match {
                        test: non_empty,
                        error: false,
                        expected: "a URL",
                    },
                },
            ],
            ..simple(
                "install",
                Optional,
                vec![any_value("--server"), any_value("--dir")],
            )
        }
    } else {
        let [drive, disk, firstdisk] = disk_args(&["--firstdisk"], &["--disk", "--drive"]);
        let mut args = vec![
            drive,
            disk,
            firstdisk,
            // `invalids` was a string in 7.x, so these pairs never fire (our S-VMFS-EXCLUSIVE).
            flag("--overwritevmfs"),
            flag("--preservevmfs"),
            flag("--novmfsondisk"),
            ArgSpec {
                invalids: &["--disk", "--drive"],
                ..flag("--ignoressd")
            },
            deprecated(flag("--server")),
            deprecated(flag("--dir")),
        ];
        if version.has_overwritevsan() {
            args.push(flag("--overwritevsan"));
        }
        args.extend(overrides(version, false));
        if version.has_dpu_install() {
            args.push(any_value("--dpupcislots"));
            args.push(flag("--forceunsupportedinstall"));
        }
        CommandSpec {
            hanging: MEDIA.to_vec(),
            ..simple("install", Optional, args)
        }
    };
    install.duplicate_error = true;
    c.insert("install", install);

    if !v4 {
        let [drive, disk, firstdisk] = disk_args(&["--firstdisk"], &["--disk", "--drive"]);
        let mut args = vec![
            drive,
            disk,
            firstdisk,
            flag("--overwritevmfs"),
            deprecated(flag("--server")),
            deprecated(flag("--dir")),
        ];
        if version.has_overwritevsan() {
            args.push(flag("--overwritevsan"));
        }
        args.extend(overrides(version, true));
        c.insert(
            "installorupgrade",
            CommandSpec {
                duplicate_error: true,
                hanging: MEDIA.to_vec(),
                ..simple("installorupgrade", Optional, args)
            },
        );

        let [drive, disk, firstdisk] = disk_args(
            &["--firstdisk", "--diskBootedFrom"],
            &["--disk", "--drive", "--diskBootedFrom"],
        );
        let mut args = vec![
            drive,
            disk,
            firstdisk,
            ArgSpec {
                invalids: &["--disk", "--drive", "--firstdisk"],
                ..flag("--diskBootedFrom")
            },
            flag("--overwritevmfs"),
            ArgSpec {
                duplicate_error: true,
                ..any_value("--savebootbank")
            },
            any_value("--bootDiskMarker"),
            flag("--deletecosvmdk"),
        ];
        args.extend(overrides(version, true));
        c.insert(
            "upgrade",
            CommandSpec {
                duplicate_error: true,
                ..simple("upgrade", Optional, args)
            },
        );
    }

    c.insert(
        "keyboard",
        CommandSpec {
            hanging: vec![Hanging::Value {
                name: "keyboardtype",
                front: false,
                required: true,
                rule: ValueRule::Match {
                    test: non_empty,
                    error: false,
                    expected: "a layout",
                },
            }],
            ..simple("keyboard", Optional, Vec::new())
        },
    );

    c.insert(
        "network",
        simple(
            "network",
            Optional,
            vec![
                ArgSpec {
                    value: ValueRule::Match {
                        test: bootproto,
                        error: false,
                        expected: "static or dhcp",
                    },
                    ..flag("--bootproto")
                },
                any_value("--device"),
                validated("--ip", values::ip),
                validated("--gateway", values::ip),
                validated("--nameserver", values::ips),
                flag("--nodns"),
                validated("--netmask", values::netmask),
                validated("--hostname", values::hostname),
                validated("--vlanid", values::vlan),
                ArgSpec {
                    value: ValueRule::Match {
                        test: zero_one_true_false,
                        error: false,
                        expected: "0, 1, true or false",
                    },
                    ..flag("--addvmportgroup")
                },
            ],
        ),
    );

    let part = || CommandSpec {
        multiple: true,
        requires_install: true,
        hanging: vec![Hanging::Value {
            name: "mountpoint",
            front: true,
            required: true,
            rule: ValueRule::Match {
                test: values::mountpoint,
                error: true,
                expected: "a datastore name",
            },
        }],
        ..simple(
            "part",
            Optional,
            vec![
                deprecated(validated("--size", values::size)),
                deprecated(flag("--grow")),
                deprecated(validated("--maxsize", values::size)),
                ArgSpec {
                    alias: Some("--ondrive"),
                    duplicate_error: true,
                    invalids: &["--onfirstdisk"],
                    ..any_value("--ondisk")
                },
                ArgSpec {
                    alias: Some("--ondisk"),
                    duplicate_error: true,
                    invalids: &["--onfirstdisk"],
                    ..any_value("--ondrive")
                },
                ArgSpec {
                    invalids: &["--ondisk"],
                    none_value: Some("local,remote"),
                    duplicate_error: true,
                    ..any_value("--onfirstdisk")
                },
                deprecated(flag("--fstype")),
            ],
        )
    };
    c.insert("part", part());
    c.insert("partition", part());

    c.insert(
        "rootpw",
        CommandSpec {
            hanging: vec![Hanging::Value {
                name: "password",
                front: false,
                required: true,
                rule: ValueRule::Match {
                    test: |_| true,
                    error: false,
                    expected: "",
                },
            }],
            ..simple("rootpw", Required, vec![flag("--iscrypted")])
        },
    );
    let eula = || simple("vmaccepteula", Required, Vec::new());
    c.insert("vmaccepteula", eula());
    c.insert("accepteula", eula());
    let serial = || {
        simple(
            "vmserialnum",
            Optional,
            vec![ArgSpec {
                value: ValueRule::Match {
                    test: values::serial_number,
                    error: true,
                    expected: "five five-character groups separated by dashes",
                },
                ..flag("--esx")
            }],
        )
    };
    c.insert("vmserialnum", serial());
    c.insert("serialnum", serial());

    let include = || CommandSpec {
        multiple: true,
        hanging: vec![Hanging::Value {
            name: "filename",
            front: false,
            required: true,
            rule: ValueRule::Match {
                test: non_empty,
                error: false,
                expected: "a file name",
            },
        }],
        ..simple("include", Optional, Vec::new())
    };
    c.insert("%include", include());
    c.insert("include", include());

    let unsupported = |mut args: Vec<ArgSpec>| {
        if v4 {
            args.push(flag("--unsupported"));
        }
        args
    };
    let section = |id: &'static str, args: Vec<ArgSpec>| CommandSpec {
        multiple: true,
        hanging: vec![SCRIPT],
        ..simple(id, Optional, unsupported(args))
    };
    c.insert("%pre", section("%pre", vec![INTERPRETER]));
    c.insert(
        "%post",
        section(
            "%post",
            vec![
                INTERPRETER,
                ArgSpec {
                    value: ValueRule::Match {
                        test: digits,
                        error: false,
                        expected: "a number of seconds",
                    },
                    ..flag("--timeout")
                },
                ArgSpec {
                    value: ValueRule::Match {
                        test: true_false,
                        error: false,
                        expected: "true or false",
                    },
                    ..flag("--ignorefailure")
                },
            ],
        ),
    );
    c.insert("%firstboot", section("%firstboot", vec![INTERPRETER]));

    Grammar { commands: c }
}

/// The 7.x overrides of `install`, `installorupgrade` and `upgrade`: `--ignoreprereq*`, and on
/// the two that may upgrade `--forcemigrate`.
fn overrides(version: EsxiVersion, upgrades: bool) -> Vec<ArgSpec> {
    let mut args = Vec::new();
    if version.has_prereq_overrides() {
        args.extend([flag("--ignoreprereqwarnings"), flag("--ignoreprereqerrors")]);
    }
    if upgrades && version.has_forcemigrate() {
        args.push(flag("--forcemigrate"));
    }
    args
}

fn install_media(s: &str) -> bool {
    matches!(s, "cdrom" | "usb" | "nfs" | "url")
}

fn bootproto(s: &str) -> bool {
    matches!(s, "static" | "dhcp")
}

fn zero_one_true_false(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "0" | "1" | "true" | "false"
    )
}

fn true_false(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "true" | "false")
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_numeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> EsxiVersion {
        s.parse().unwrap()
    }

    /// Whether `version`'s grammar gives `command` the argument `arg`.
    fn has_arg(version: &str, command: &str, arg: &str) -> bool {
        Grammar::get(v(version))
            .command(command)
            .and_then(|c| c.arg(arg))
            .is_some()
    }

    fn detail(version: &str, command: &str) -> Option<Detail> {
        Grammar::get(v(version)).command(command).map(|c| c.detail)
    }

    #[test]
    fn versions_differ_where_the_reference_says() {
        assert!(Grammar::get(v("4.1")).command("upgrade").is_none());
        assert_eq!(detail("4.1", "autopart"), Some(Detail::Optional));
        assert_eq!(detail("7.0", "autopart"), Some(Detail::Deprecated));
        for (version, command, arg, present) in [
            ("4.1", "%post", "--unsupported", true),
            ("8.0", "%post", "--unsupported", false),
            ("6.7", "install", "--ignoreprereqerrors", false),
            ("6.7", "install", "--overwritevsan", true),
            ("7.0", "install", "--dpupcislots", false),
            ("8.0", "install", "--dpupcislots", true),
            ("7.0", "upgrade", "--forcemigrate", true),
        ] {
            assert_eq!(
                has_arg(version, command, arg),
                present,
                "{version} {command} {arg}"
            );
        }
    }
}
