//! `vim-cmd hostsvc/hosthardware` (a `vim.host.HardwareInfo`) and `esxcli hardware cpu global
//! get`: system vendor and model, memory, CPU packages with their CPUID feature vectors.

use super::query::Answers;
use crate::facts::{Cpu, CpuIdLevel, CpuPackage, Hardware, HostFacts};
use crate::parse::vmodl::{self, Vmodl};
use crate::preflight::cpuid::{Register, Signature};

pub fn fill(facts: &mut HostFacts, answers: &Answers) {
    if let Some(info) = answers
        .raw("hosthardware")
        .filter(|o| o.success())
        .and_then(|o| vmodl::parse(&o.stdout_text()).ok())
    {
        let text = |path: &[&str]| {
            info.path(path)
                .and_then(Vmodl::as_str)
                .unwrap_or("")
                .to_string()
        };
        let count = |path: &[&str]| {
            info.path(path)
                .and_then(Vmodl::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0)
        };
        facts.hardware = Hardware {
            vendor: text(&["systemInfo", "vendor"]),
            model: text(&["systemInfo", "model"]),
            memory_bytes: info.get("memorySize").and_then(Vmodl::as_u64).unwrap_or(0),
        };
        let hz = info
            .path(&["cpuInfo", "hz"])
            .and_then(Vmodl::as_u64)
            .unwrap_or(0);
        facts.cpu = Cpu {
            packages: count(&["cpuInfo", "numCpuPackages"]),
            cores: count(&["cpuInfo", "numCpuCores"]),
            threads: count(&["cpuInfo", "numCpuThreads"]),
            mhz: u32::try_from(hz / 1_000_000).unwrap_or(u32::MAX),
            hv_support: None,
            pkgs: info
                .get("cpuPkg")
                .map(Vmodl::items)
                .unwrap_or_default()
                .iter()
                .map(package)
                .collect(),
            features: levels(info.get("cpuFeature")),
        };
    }
    if let Some(global) = answers.structures("hardware cpu global get").first() {
        // 3 = VT-x/AMD-V enabled; 0 unsupported, 1 lacking features, 2 disabled in firmware.
        facts.cpu.hv_support = global.int("HV Support").map(|v| v == 3);
        let fill = |field: &mut u32, name: &str| {
            if *field == 0 {
                *field = global
                    .int(name)
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(0);
            }
        };
        fill(&mut facts.cpu.packages, "CPU Packages");
        fill(&mut facts.cpu.cores, "CPU Cores");
        fill(&mut facts.cpu.threads, "CPU Threads");
    }
}

fn package(pkg: &Vmodl) -> CpuPackage {
    let features = levels(pkg.get("cpuFeature"));
    // The package's own leaf 1 EAX, decoded by the one CPUID decoder the preflight uses too.
    let signature = features
        .iter()
        .find(|l| l.level == 1)
        .and_then(|l| Register::parse(&l.eax).ok())
        .and_then(|eax| eax.value())
        .map(Signature::from_eax);
    CpuPackage {
        index: pkg
            .get("index")
            .and_then(Vmodl::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        vendor: pkg
            .get("vendor")
            .and_then(Vmodl::as_str)
            .unwrap_or("")
            .to_string(),
        description: pkg
            .get("description")
            .and_then(Vmodl::as_str)
            .unwrap_or("")
            .to_string(),
        family: signature.map_or(0, |s| s.family),
        model: signature.map_or(0, |s| s.model),
        stepping: signature.map_or(0, |s| s.stepping),
        features,
    }
}

/// `(vim.host.CpuIdInfo) [ … ]` as facts. Leaves at or above 0x80000000 print as negative
/// int32 (`-2147483647` is 0x80000001); they are stored as the unsigned leaf.
pub fn levels(array: Option<&Vmodl>) -> Vec<CpuIdLevel> {
    array
        .map(Vmodl::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|info| {
            let raw = info.get("level")?.as_i64()?;
            let level = u32::try_from(raw).ok().or_else(|| {
                i32::try_from(raw)
                    .ok()
                    .map(|n| u32::from_ne_bytes(n.to_ne_bytes()))
            })?;
            let reg = |name: &str| {
                info.get(name)
                    .and_then(Vmodl::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            Some(CpuIdLevel {
                level,
                vendor: reg("vendor"),
                eax: reg("eax"),
                ebx: reg("ebx"),
                ecx: reg("ecx"),
                edx: reg("edx"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_levels_are_extended_leaves() {
        let v = vmodl::parse(
            "(vim.host.CpuIdInfo) [\n (vim.host.CpuIdInfo) {\n level = -2147483647,\n vendor = <unset>,\n eax = \"0\",\n },\n]",
        )
        .unwrap();
        let l = levels(Some(&v));
        assert_eq!(l[0].level, 0x8000_0001);
        assert_eq!(l[0].vendor, "");
    }

    #[test]
    fn packages_store_the_signature_their_leaf_1_reports() {
        // hostops.md §3.3: 0x000206D7 is family 6, model 0x2D (Sandy Bridge-EP), stepping 7.
        let pkg = |eax: &str| {
            vmodl::parse(&format!(
                "(vim.host.CpuPackage) {{\n index = 1,\n vendor = \"intel\",\n cpuFeature = (vim.host.CpuIdInfo) [\n (vim.host.CpuIdInfo) {{\n level = 1,\n eax = \"{eax}\",\n }},\n ],\n}}"
            ))
            .unwrap()
        };
        let p = package(&pkg("0000:0000:0000:0010:0000:0110:1101:0111"));
        assert_eq!((p.index, p.family, p.model, p.stepping), (1, 6, 0x2D, 7));
        // An EAX with unknown bits decodes to nothing rather than to a guess.
        let p = package(&pkg("----:0000:0000:0010:0000:0110:1101:0111"));
        assert_eq!((p.family, p.model, p.stepping), (0, 0, 0));
    }
}
