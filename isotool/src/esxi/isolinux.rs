//! `ISOLINUX.CFG`: the BIOS boot menu. On 5.x–8.x media each entry runs `mboot.c32 -c boot.cfg`
//! and everything else lives in BOOT.CFG; on 4.1 media the entry itself lists the boot modules
//! (`APPEND vmkboot.gz ks=… --- vmkernel.gz --- sys.vgz …`) and the options after the first item
//! are the kernel command line, so kernel options are edited here.
//!
//! On 5.x–8.x media, words after mboot's own flags in `APPEND -c boot.cfg …` are kernel options
//! too: mboot appends them to BOOT.CFG's `kernelopt` (`vmware/esx-boot` `mboot/mboot.c`,
//! `mboot_init`: "Remaining arguments are treated as kernel options"). Users put
//! `ks=cdrom:/KS.CFG` there; such an option is kept in step with BOOT.CFG.
//!
//! Keywords are case-insensitive and may be indented (syslinux). Edits splice the `APPEND` value
//! of the entries they change and leave every other byte as it was.

use std::ops::Range;

use serde::Serialize;

use super::Error;
use super::bootcfg::{KernelOpts, list_items, parse_item};

/// An ISOLINUX.CFG held as lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsolinuxCfg {
    text: String,
}

/// One `LABEL` entry.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Entry {
    pub label: String,
    pub menu_label: Option<String>,
    pub kernel: Option<String>,
    pub append: Option<String>,
}

impl Entry {
    /// Whether this entry boots mboot with the module list on its own command line (4.1 style).
    pub fn lists_modules(&self) -> bool {
        self.kernel
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("mboot.c32"))
            && self.append.as_deref().is_some_and(|a| a.contains("---"))
    }
}

impl IsolinuxCfg {
    pub fn parse(file: &str, bytes: &[u8]) -> Result<IsolinuxCfg, Error> {
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| Error::Format {
            file: file.to_string(),
            what: "not UTF-8 text".into(),
        })?;
        Ok(IsolinuxCfg { text })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.text.clone().into_bytes()
    }

    /// The `LABEL` entries in file order.
    pub fn entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        for (keyword, value) in self.directives() {
            let value = self.text.get(value).unwrap_or_default().trim().to_string();
            match keyword.as_str() {
                "label" => entries.push(Entry {
                    label: value,
                    menu_label: None,
                    kernel: None,
                    append: None,
                }),
                "menu label" => {
                    if let Some(e) = entries.last_mut() {
                        e.menu_label = Some(value);
                    }
                }
                "kernel" | "com32" | "linux" => {
                    if let Some(e) = entries.last_mut() {
                        e.kernel = Some(value);
                    }
                }
                "append" => {
                    if let Some(e) = entries.last_mut() {
                        e.append = Some(value);
                    }
                }
                _ => {}
            }
        }
        entries
    }

    /// On every entry that boots mboot with `-c` (5.x–8.x media) and already passes kernel option
    /// `key` after mboot's flags, sets it to `value` (`None`: a bare flag), so the BIOS path does
    /// not override what BOOT.CFG now says. Entries without the option are left alone. Returns
    /// how many entries changed.
    pub fn set_mboot_option(&mut self, key: &str, value: Option<&str>) -> Result<usize, Error> {
        let targets: Vec<Range<usize>> = self
            .mboot_appends()
            .into_iter()
            .filter(|r| self.text.get(r.clone()).is_some_and(|a| !a.contains("---")))
            .collect();
        let mut changed = 0;
        for range in targets.into_iter().rev() {
            let append = self.text.get(range.clone()).unwrap_or_default().to_string();
            let start = mboot_flags_len(&append);
            let mut opts = KernelOpts::new(append.get(start..).unwrap_or_default());
            if opts.get(key).is_none() {
                continue;
            }
            let before = opts.clone();
            opts.set(key, value)?;
            if opts != before {
                self.text
                    .replace_range(range.start + start..range.end, opts.as_str());
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Sets kernel option `key` (`value` `None` for a bare flag) on every entry that lists its
    /// modules itself (4.1 media). Returns how many entries changed.
    pub fn set_kernel_option(&mut self, key: &str, value: Option<&str>) -> Result<usize, Error> {
        let targets: Vec<Range<usize>> = self
            .mboot_appends()
            .into_iter()
            .filter(|r| self.text.get(r.clone()).is_some_and(|a| a.contains("---")))
            .collect();
        let changed = targets.len();
        for range in targets.into_iter().rev() {
            let append = self.text.get(range.clone()).unwrap_or_default().to_string();
            let Some(first) = list_items(&append).into_iter().next() else {
                continue;
            };
            let item = parse_item(append.get(first.clone()).unwrap_or_default());
            let mut opts = KernelOpts::new(&item.options);
            opts.set(key, value)?;
            let new_item = if opts.as_str().is_empty() {
                item.path.clone()
            } else {
                format!("{} {}", item.path, opts.as_str())
            };
            let mut new_append = append.clone();
            new_append.replace_range(first, &new_item);
            self.text.replace_range(range, &new_append);
        }
        Ok(changed)
    }

    /// The byte ranges of the `APPEND` values of the entries whose kernel is `mboot.c32`.
    fn mboot_appends(&self) -> Vec<Range<usize>> {
        let mut targets: Vec<Range<usize>> = Vec::new();
        let mut kernel_is_mboot = false;
        let mut current_append: Option<Range<usize>> = None;
        let mut flush = |kernel_is_mboot: bool, append: Option<Range<usize>>| {
            if let Some(range) = append
                && kernel_is_mboot
            {
                targets.push(range);
            }
        };
        for (keyword, value) in self.directives() {
            match keyword.as_str() {
                "label" => {
                    flush(kernel_is_mboot, current_append.take());
                    kernel_is_mboot = false;
                }
                "kernel" | "com32" => {
                    kernel_is_mboot = self
                        .text
                        .get(value)
                        .is_some_and(|k| k.trim().eq_ignore_ascii_case("mboot.c32"));
                }
                "append" => current_append = Some(value),
                _ => {}
            }
        }
        flush(kernel_is_mboot, current_append.take());
        targets
    }

    /// `(keyword lower-cased, byte range of its value)` per directive line.
    fn directives(&self) -> Vec<(String, Range<usize>)> {
        let mut out = Vec::new();
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let body = line.trim_end_matches(['\n', '\r']);
            let lead = body.len() - body.trim_start().len();
            let trimmed = body.trim_start();
            if trimmed.starts_with('#') || trimmed.is_empty() {
                continue;
            }
            let word = trimmed.split_whitespace().next().unwrap_or_default();
            let mut keyword = word.to_ascii_lowercase();
            let mut value_start = start + lead + word.len();
            if keyword == "menu" {
                let rest = body.get(lead + word.len()..).unwrap_or_default();
                let rest_trimmed = rest.trim_start();
                let sub = rest_trimmed.split_whitespace().next().unwrap_or_default();
                keyword = format!("menu {}", sub.to_ascii_lowercase());
                value_start += (rest.len() - rest_trimmed.len()) + sub.len();
            }
            let value_end = start + body.trim_end().len();
            let after = self.text.get(value_start..value_end).unwrap_or_default();
            let value_start = value_start + (after.len() - after.trim_start().len());
            out.push((keyword, value_start..value_end.max(value_start)));
        }
        out
    }
}

/// How many bytes of an mboot `APPEND` value are mboot's own flags (`-c boot.cfg -p 1 -V`), as
/// its `getopt(":ac:S:s:t:R:p:E:eVDL:HQUrb:A:q:")` reads them: flags up to the first word that is
/// not one, the argument of those that take one included, and the spaces after.
fn mboot_flags_len(append: &str) -> usize {
    const WITH_ARGUMENT: &[u8] = b"cSstRpELbAq";
    let mut needs_argument = false;
    let words = append
        .split_whitespace()
        .map(|word| (word.as_ptr() as usize - append.as_ptr() as usize, word));
    for (start, word) in words {
        let is_flag = word.len() >= 2 && word.starts_with('-');
        if !needs_argument && !is_flag {
            return start;
        }
        needs_argument = !needs_argument
            && word.len() == 2
            && word
                .as_bytes()
                .get(1)
                .is_some_and(|c| WITH_ARGUMENT.contains(c));
    }
    append.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const V41: &str = "default menu.c32\nmenu title VMware VMvisor Boot Menu\ntimeout 80\n\nlabel ESXi Installer\nmenu label ^ESXi Installer\nkernel mboot.c32\nappend vmkboot.gz --- vmkernel.gz --- sys.vgz --- cim.vgz --- ienviron.vgz --- install.vgz\n\nlabel hddboot\nmenu label ^Boot from local disk\nlocalboot 0x80\n";
    const V8: &str = "DEFAULT menu.c32\nMENU TITLE ESXi-8.0U3 Boot Menu\nNOHALT 1\nPROMPT 0\nTIMEOUT 80\nLABEL install\n  KERNEL mboot.c32\n  APPEND -c boot.cfg\n  MENU LABEL ESXi-8.0U3 ^Installer\nLABEL hddboot\n  LOCALBOOT 0x80\n  MENU LABEL ^Boot from local disk\n";

    #[test]
    fn reads_entries() {
        let c = IsolinuxCfg::parse("ISOLINUX.CFG", V8.as_bytes()).unwrap();
        let e = c.entries();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].kernel.as_deref(), Some("mboot.c32"));
        assert_eq!(e[0].append.as_deref(), Some("-c boot.cfg"));
        assert_eq!(e[0].menu_label.as_deref(), Some("ESXi-8.0U3 ^Installer"));
        assert!(!e[0].lists_modules());
        let c = IsolinuxCfg::parse("isolinux.cfg", V41.as_bytes()).unwrap();
        assert!(c.entries()[0].lists_modules());
    }

    #[test]
    fn kernel_options_go_after_the_first_module_on_41() {
        let mut c = IsolinuxCfg::parse("isolinux.cfg", V41.as_bytes()).unwrap();
        assert_eq!(c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap(), 1);
        assert_eq!(c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap(), 1);
        let expected = V41.replace(
            "append vmkboot.gz ---",
            "append vmkboot.gz ks=cdrom:/KS.CFG ---",
        );
        assert_eq!(String::from_utf8(c.to_bytes()).unwrap(), expected);
    }

    /// A 5.x–8.x menu with a kickstart entry added as users do (`habbis/esxi_kickstart`
    /// README: `APPEND -c boot.cfg ks=cdrom:/KS.CFG`), here with mboot flags before it.
    #[test]
    fn mboot_kernel_options_follow_boot_cfg_where_present() {
        let text = V8.replace(
            "LABEL hddboot",
            "LABEL kickstart\n  KERNEL mboot.c32\n  APPEND -c boot.cfg -p 1 ks=cdrom:/OLD.CFG  netdevice=vmnic0\n  MENU LABEL ^Kickstart\nLABEL hddboot",
        );
        let mut c = IsolinuxCfg::parse("ISOLINUX.CFG", text.as_bytes()).unwrap();
        assert_eq!(c.set_mboot_option("ks", Some("cdrom:/KS.CFG")).unwrap(), 1);
        assert_eq!(
            String::from_utf8(c.to_bytes()).unwrap(),
            text.replace("ks=cdrom:/OLD.CFG", "ks=cdrom:/KS.CFG"),
            "only the option, in place; `APPEND -c boot.cfg` without it stays"
        );
        assert_eq!(c.set_mboot_option("ks", Some("cdrom:/KS.CFG")).unwrap(), 0);
        assert_eq!(c.set_mboot_option("nosuch", Some("1")).unwrap(), 0);
        let mut c = IsolinuxCfg::parse("isolinux.cfg", V41.as_bytes()).unwrap();
        assert_eq!(
            c.set_mboot_option("ks", Some("x")).unwrap(),
            0,
            "4.1 lists are not mboot flags"
        );
    }

    #[test]
    fn mboot_flags_end_where_kernel_options_begin() {
        for (append, options) in [
            ("-c boot.cfg", ""),
            ("-c boot.cfg ks=cdrom:/KS.CFG", "ks=cdrom:/KS.CFG"),
            ("  -c boot.cfg -p 1 -V runweasel", "runweasel"),
            ("-cboot.cfg -S 1 -s 115200 a=1", "a=1"),
            ("ks=x", "ks=x"),
        ] {
            let at = mboot_flags_len(append);
            assert_eq!(&append[at..], options, "{append:?}");
        }
    }

    #[test]
    fn modern_menus_are_left_alone() {
        let mut c = IsolinuxCfg::parse("ISOLINUX.CFG", V8.as_bytes()).unwrap();
        assert_eq!(c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap(), 0);
        assert_eq!(String::from_utf8(c.to_bytes()).unwrap(), V8);
    }
}
