//! The stable rule codes. A code never changes meaning once released; new checks get new codes.
//!
//! The prefix tells where a rule comes from:
//! - `E-…` the ESXi installer stops on it (an **error**);
//! - `W-…` the installer logs a warning and goes on (a **warning**; an **error** when the file
//!   has `paranoid`, as in the installer);
//! - `S-…` our stricter checks, on top of the installer: **warnings** for what breaks installs
//!   or hosts silently, **notes** for what is only worth knowing. Never errors, so a file the
//!   installer accepts lints with exit 0 (`--strict` makes warnings fail);
//! - `T-TEMPLATE` the file is an unrendered template (an error: it is not a kickstart yet).

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a lint.
    Note,
    /// The installer goes on, or it is one of our stricter checks; fails only under `--strict`.
    Warning,
    /// The installer stops.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $severity:ident, $doc:literal;)*) => {
        /// A rule code; see the module documentation for the prefixes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(#[doc = $doc] $variant,)*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as printed: `E-NETWORK-DHCP-STATIC`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The severity before `paranoid` and `--secure-boot` adjust it.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// One line on what the rule catches.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $doc,)* }
            }
        }
    };
}

codes! {
    Encoding = "E-ENCODING", Error, "A line is not valid UTF-8 (the installer decodes every line and stops).";
    Quote = "E-QUOTE", Error, "A quote is not closed on its line (\"No closing quotation\").";
    Escape = "E-ESCAPE", Error, "The file ends with a `\\` (\"No escaped character\").";
    NoAcceptEula = "E-NO-ACCEPTEULA", Error, "`vmaccepteula` (or `accepteula`) is missing.";
    NoRootpw = "E-NO-ROOTPW", Error, "`rootpw` is missing (not required when upgrading).";
    InstallConflict = "E-INSTALL-CONFLICT", Error, "More than one of `install`, `upgrade`, `installorupgrade`.";
    DuplicateInstall = "E-DUPLICATE-INSTALL", Error, "`install`, `upgrade` or `installorupgrade` given twice.";
    InstallNoDisk = "E-INSTALL-NO-DISK", Error, "`install`/`upgrade`/`installorupgrade` without `--disk`/`--drive` or `--firstdisk`.";
    ArgConflict = "E-ARG-CONFLICT", Error, "Two arguments that exclude each other (`--disk` with `--firstdisk`, `--ignoressd` with `--disk`, …).";
    ArgRequired = "E-ARG-REQUIRED", Error, "A required argument is missing (`rootpw`'s password, `keyboard`'s layout, `serialnum --esx`, `part`'s name, the `%include` file).";
    ArgValue = "E-ARG-VALUE", Error, "An argument value the installer rejects (`part` datastore name, `--size`, …).";
    ArgDuplicateError = "E-ARG-DUPLICATE", Error, "An argument that may not repeat is repeated (`--disk`, `--firstdisk`, `--drives`, `--ondisk`, …).";
    UnknownArgError = "E-UNKNOWN-ARG", Error, "`installorupgrade --ignoressd`: the one unknown argument the installer treats as an error.";
    Interpreter = "E-INTERPRETER", Error, "`--interpreter=` is not `busybox` or `python`.";
    Serialnum = "E-SERIALNUM", Error, "`serialnum --esx=` is not five groups of five characters.";
    RootpwCrypt = "E-ROOTPW-CRYPT", Error, "`rootpw --iscrypted` is not a `$1$` MD5, a `$6$` SHA-512 (salt <= 16, no `rounds=`) or a 13-character DES hash.";
    RootpwWeak = "E-ROOTPW-WEAK", Error, "A clear-text `rootpw` the installer's password check rejects (7-40 printable ASCII; 6.7+: 3 character classes).";
    NetworkDhcpStatic = "E-NETWORK-DHCP-STATIC", Error, "`network --bootproto=dhcp` with `--ip`, `--netmask` or `--gateway`.";
    NetworkNoIp = "E-NETWORK-NO-IP", Error, "`network --bootproto=static` without `--ip`.";
    NetworkValue = "E-NETWORK-VALUE", Error, "A `network` value fails its validator (IP, netmask, gateway, nameserver, hostname, VLAN 0-4095).";
    NetworkSettings = "E-NETWORK-SETTINGS", Error, "IP, netmask and gateway do not fit together (network/broadcast address, different networks).";
    ClearpartNoSelector = "E-CLEARPART-NO-SELECTOR", Error, "`clearpart` without `--alldrives`, `--firstdisk`, `--ignoredrives=` or `--drives=`.";
    PartNoDisk = "E-PART-NO-DISK", Error, "`part` without `--ondisk`, `--ondrive` or `--onfirstdisk`.";
    RequiresInstall = "E-REQUIRES-INSTALL", Error, "`clearpart`, `part` or `partitionembed` without an `install` command.";
    FirstbootEmpty = "E-FIRSTBOOT-EMPTY", Error, "A `%firstboot` header with no body: the installer fails reading its script.";
    PreFails = "E-PRE-FAILS", Error, "A `%pre` that cannot succeed: its last command is an Anaconda `%end` (busybox: not found), or it is Python with a `%end` line (a syntax error). The installer stops when %pre fails.";
    TooManyCommands = "E-TOO-MANY-COMMANDS", Error, "More than 256 commands, counting included files.";
    IncludeCycle = "E-INCLUDE-CYCLE", Error, "A file includes itself (the installer reads it again until it passes 256 commands).";
    UnknownCommand = "W-UNKNOWN-COMMAND", Warning, "Unknown command (reported once per name; the line is ignored).";
    UnknownArg = "W-UNKNOWN-ARG", Warning, "Unknown argument or stray word (ignored). A typographic dash lands here.";
    Deprecated = "W-DEPRECATED", Warning, "Deprecated command or argument for this ESXi version (ignored).";
    Unused = "W-UNUSED", Warning, "`lang`/`langsupport`: accepted and unused.";
    NonAscii = "W-NON-ASCII", Warning, "A command line holds a non-ASCII character.";
    ArgNoValue = "W-ARG-NO-VALUE", Warning, "`--flag=value` on a flag that takes no value (the argument is dropped).";
    ArgMissingValue = "W-ARG-MISSING-VALUE", Warning, "`--flag` without the value it needs (the argument is dropped).";
    ArgValueWarn = "W-ARG-VALUE", Warning, "A value outside what the argument accepts (`--bootproto`, `--addvmportgroup`, `--timeout`, `--ignorefailure`); dropped.";
    ArgDuplicate = "W-ARG-DUPLICATE", Warning, "An argument given twice (the first is kept).";
    ArgPosition = "W-ARG-POSITION", Warning, "A positional value is not where the command expects it (the installer uses it anyway).";
    DuplicateCommand = "W-DUPLICATE-COMMAND", Warning, "A command given twice (the last one is kept), for example two `network` lines.";
    NoInterpreter = "W-NO-INTERPRETER", Warning, "A section without `--interpreter=` (busybox is used).";
    SectionEmpty = "W-SECTION-EMPTY", Warning, "A `%pre`/`%post` header with no body.";
    NoNetwork = "W-NO-NETWORK", Warning, "No `network` command: DHCP on the first NIC with link.";
    NetworkNoBootproto = "W-NETWORK-NO-BOOTPROTO", Warning, "`network` without a valid `--bootproto`: DHCP.";
    NetworkStaticDefaults = "W-NETWORK-STATIC-DEFAULTS", Warning, "Static `network` without `--hostname`, `--nameserver`, `--netmask` or `--gateway` (defaults are used).";
    NetworkDhcpIgnored = "W-NETWORK-DHCP-IGNORED", Warning, "`--hostname`/`--nameserver` with DHCP are ignored.";
    KeyboardUnknown = "W-KEYBOARD-UNKNOWN", Warning, "A keyboard layout the installer does not know (the default is used).";
    Invalidated = "W-INVALIDATED", Warning, "A command that `upgrade` makes meaningless (`rootpw`, `network`, `keyboard`, …).";
    Crlf = "S-CRLF", Warning, "Windows line endings (the 7.x installer strips them; older installers may leave `\\r` in scripts).";
    NonAsciiText = "S-NON-ASCII", Warning, "Non-ASCII text in a script body or comment.";
    Dash = "S-DASH", Warning, "A typographic dash (en/em dash, minus sign) where `--` or `-` was meant.";
    SmartQuote = "S-SMART-QUOTE", Warning, "Typographic quotes, which quote nothing.";
    HashCuts = "S-HASH-CUTS", Warning, "An unquoted `#` inside a word: the rest of the line is silently a comment.";
    CommandInSection = "S-COMMAND-IN-SECTION", Warning, "A kickstart command inside a script section: it becomes script text.";
    SectionCut = "S-SECTION-CUT", Warning, "A script line that starts with a terminator prefix (`include…`, `%pre…`) and ends the section early.";
    SectionEnd = "S-SECTION-END", Warning, "`%end` is not an ESXi keyword: it becomes a line of the script.";
    LastLineDropped = "S-LAST-LINE-DROPPED", Warning, "A section keyword on the last line, right after a section, is never read by the installer.";
    RootpwClear = "S-ROOTPW-CLEAR", Warning, "`rootpw` in clear text.";
    FirstbootSecureBoot = "S-FIRSTBOOT-SECURE-BOOT", Note, "`%firstboot` does not run under UEFI Secure Boot (a warning with `--secure-boot`).";
    UnsignedSecureBoot = "S-UNSIGNED-SECURE-BOOT", Warning, "`--no-sig-check` or CommunitySupported acceptance with `--secure-boot`: the host fails its Secure Boot check.";
    Nameservers = "S-NAMESERVERS", Warning, "More than two `--nameserver` entries: the installer silently drops the rest.";
    Vmhba = "S-VMHBA", Warning, "A hard-coded `vmhbaNN` adapter in `%firstboot`: its number differs between hosts and releases.";
    EsxcliTypo = "S-ESXCLI-TYPO", Warning, "`esxcli software set --enabled`: the mistyped `esxcli iscsi software set --enabled`.";
    HostdInInstaller = "S-HOSTD-IN-INSTALLER", Warning, "`vim-cmd` or `esxcli` in `%pre`/`%post`, where hostd is not running (use `localcli`, or `%firstboot`).";
    AfterReboot = "S-AFTER-REBOOT", Warning, "Commands after a reboot in the same section never run.";
    UsbInstall4x = "S-USB-INSTALL-4X", Warning, "A scripted install to USB/SD on ESXi 4.x, which does not support it.";
    NoInstall = "S-NO-INSTALL", Warning, "None of `install`, `upgrade`, `installorupgrade` (on 4.x: no `autopart`, as `install` there only names the media).";
    VmfsExclusive = "S-VMFS-EXCLUSIVE", Warning, "`--preservevmfs` with `--overwritevmfs`/`--novmfsondisk`: declared exclusive but not enforced (7.x); `--preservevmfs` wins.";
    IncludeMissing = "S-INCLUDE-MISSING", Warning, "An included file that cannot be read here and that no `%pre` writes.";
    IncludeUnchecked = "S-INCLUDE-UNCHECKED", Note, "An included file written by `%pre` or fetched from a URL at install time: not checked.";
    Ssh = "S-SSH", Note, "SSH or the ESXi Shell is enabled.";
    Template = "T-TEMPLATE", Error, "The file is a template (`{{ }}`, `{% %}`, `$SNIPPET`, `$variable`) or has unfilled placeholders (`@@IP@@`, `##ROOTPW##`, `%DRIVEID%`, `<PASSWORD>`): render or fill it first.";
}

/// Who reports a finding: the installer's verdict is kept apart from our stricter checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The ESXi installer itself (`E-`, `W-`): its errors stop the install.
    Installer,
    /// esxforge's stricter checks (`S-`): warnings and notes, never errors.
    Esxforge,
    /// The file is not a kickstart yet (`T-TEMPLATE`).
    Template,
}

impl Code {
    /// Who reports this code, from its prefix.
    pub fn origin(self) -> Origin {
        match self.as_str().as_bytes().first() {
            Some(b'E' | b'W') => Origin::Installer,
            Some(b'T') => Origin::Template,
            _ => Origin::Esxforge,
        }
    }

    /// Whether the ESXi installer itself reports this (the `E-` and `W-` codes).
    pub fn from_installer(self) -> bool {
        self.origin() == Origin::Installer
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_prefixed_by_origin() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            let origin = match code.as_str().as_bytes()[0] {
                b'E' | b'W' => Origin::Installer,
                b'T' => Origin::Template,
                _ => Origin::Esxforge,
            };
            assert_eq!(code.origin(), origin, "{code}");
            let expected = match code.as_str().as_bytes()[0] {
                b'E' | b'T' => Severity::Error,
                b'W' => Severity::Warning,
                b'S' => code.severity().min(Severity::Warning),
                _ => panic!("{code}: unknown prefix"),
            };
            assert_eq!(code.severity(), expected, "{code}");
        }
    }
}
