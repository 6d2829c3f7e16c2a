//! `vim-cmd hostsvc/hosthardware` (a `vim.host.HardwareInfo`) and `esxcli hardware cpu global
//! get`: system vendor and model, memory, CPU packages with their CPUID feature vectors.

use super::query::Answers;
use crate::facts::{Cpu, CpuIdLevel, CpuPackage, Hardware, HostFacts};
use crate::parse::vmodl::{self, Vmodl};

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
    let signature = features
        .iter()
        .find(|l| l.level == 1)
        .and_then(|l| register_value(&l.eax));
    let (family, model, stepping) = signature.map(decode_signature).unwrap_or_default();
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
        family,
        model,
        stepping,
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

/// A register string (`0000:0000:…`, most significant bit first) as a number, when every bit
/// is known.
pub fn register_value(bits: &str) -> Option<u32> {
    let digits: String = bits.chars().filter(|c| *c != ':').collect();
    if digits.len() != 32 || !digits.chars().all(|c| c == '0' || c == '1') {
        return None;
    }
    u32::from_str_radix(&digits, 2).ok()
}

/// Display family, model and stepping from CPUID leaf 1 EAX.
pub fn decode_signature(eax: u32) -> (u32, u32, u32) {
    let stepping = eax & 0xF;
    let base_model = (eax >> 4) & 0xF;
    let base_family = (eax >> 8) & 0xF;
    let ext_model = (eax >> 16) & 0xF;
    let ext_family = (eax >> 20) & 0xFF;
    let family = if base_family == 0xF {
        base_family + ext_family
    } else {
        base_family
    };
    let model = if base_family == 0x6 || base_family == 0xF {
        (ext_model << 4) | base_model
    } else {
        base_model
    };
    (family, model, stepping)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_decode_like_the_reference() {
        // hostops.md §3.3: 0x000206D7 is family 6, model 0x2D (Sandy Bridge-EP).
        assert_eq!(decode_signature(0x0002_06D7), (6, 0x2D, 7));
        // AMD Zen 2 (family 0x17 = 0xF + 0x8).
        assert_eq!(decode_signature(0x0083_0F10), (0x17, 0x31, 0));
        assert_eq!(
            register_value("0000:0000:0000:0010:0000:0110:1101:0111"),
            Some(0x0002_06D7)
        );
        assert_eq!(
            register_value("----:0000:0000:0010:0000:0110:1101:0111"),
            None
        );
    }

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
}
