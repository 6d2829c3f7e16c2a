//! CPU models the simulator can have, and the CPUID vectors a host with one of them reports.
//!
//! A model is a real server part (its brand string and CPUID leaf 1 signature) plus the feature
//! bits of its microarchitecture; each newer generation of a vendor is a superset of the older
//! one, as EVC assumes. The vectors are what `vim-cmd hostsvc/hosthardware` prints in
//! `cpuPkg[].cpuFeature` and `cpuFeature`: per leaf, four registers as 32 characters, most
//! significant bit first, grouped by four (`0000:0000:…`).

use crate::state::{Cpu, CpuIdLevel};

/// A CPU model.
#[derive(Debug, Clone, Copy)]
pub struct Model {
    pub key: &'static str,
    /// `intel` or `amd` (as `cpuPkg.vendor` says).
    pub vendor: &'static str,
    pub brand: &'static str,
    /// CPUID leaf 1 EAX.
    pub signature: u32,
    pub max_leaf: u32,
    /// Generation index within the vendor (0 = oldest in the table).
    pub generation: usize,
}

/// The models, oldest first per vendor.
pub const MODELS: &[Model] = &[
    intel(
        "sandybridge",
        "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz",
        0x0002_06D7,
        0xD,
        0,
    ),
    intel(
        "ivybridge",
        "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz",
        0x0003_06E4,
        0xD,
        1,
    ),
    intel(
        "haswell",
        "Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz",
        0x0003_06F2,
        0xF,
        2,
    ),
    intel(
        "broadwell",
        "Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz",
        0x0004_06F1,
        0x14,
        3,
    ),
    intel(
        "skylake",
        "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz",
        0x0005_0654,
        0x16,
        4,
    ),
    intel(
        "cascadelake",
        "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz",
        0x0005_0657,
        0x16,
        5,
    ),
    intel(
        "icelake",
        "Intel(R) Xeon(R) Gold 6330 CPU @ 2.00GHz",
        0x0006_06A6,
        0x1B,
        6,
    ),
    intel(
        "sapphirerapids",
        "Intel(R) Xeon(R) Gold 6430",
        0x0008_06F8,
        0x1F,
        7,
    ),
    amd(
        "zen",
        "AMD EPYC 7351 16-Core Processor",
        0x0080_0F12,
        0xD,
        0,
    ),
    amd(
        "zen2",
        "AMD EPYC 7302 16-Core Processor",
        0x0083_0F10,
        0x10,
        1,
    ),
    amd(
        "zen3",
        "AMD EPYC 7313 16-Core Processor",
        0x00A0_0F11,
        0x10,
        2,
    ),
    amd(
        "zen4",
        "AMD EPYC 9124 16-Core Processor",
        0x00A1_0F11,
        0x10,
        3,
    ),
];

const fn intel(key: &'static str, brand: &'static str, sig: u32, max: u32, g: usize) -> Model {
    Model {
        key,
        vendor: "intel",
        brand,
        signature: sig,
        max_leaf: max,
        generation: g,
    }
}

const fn amd(key: &'static str, brand: &'static str, sig: u32, max: u32, g: usize) -> Model {
    Model {
        key,
        vendor: "amd",
        brand,
        signature: sig,
        max_leaf: max,
        generation: g,
    }
}

pub fn model(key: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.key == key)
}

impl Model {
    /// Display family, model and stepping decoded from the signature, as `esxcli hardware cpu
    /// list` prints them.
    pub fn family_model_stepping(&self) -> (u32, u32, u32) {
        let s = self.signature;
        let base_family = (s >> 8) & 0xF;
        let ext_family = (s >> 20) & 0xFF;
        let base_model = (s >> 4) & 0xF;
        let ext_model = (s >> 16) & 0xF;
        let family = if base_family == 0xF {
            base_family + ext_family
        } else {
            base_family
        };
        let model = if base_family == 6 || base_family == 0xF {
            (ext_model << 4) | base_model
        } else {
            base_model
        };
        (family, model, s & 0xF)
    }

    fn vendor_registers(&self) -> (u32, u32, u32) {
        // EBX, EDX, ECX spell the vendor string.
        if self.vendor == "amd" {
            (0x6874_7541, 0x6974_6E65, 0x444D_4163)
        } else {
            (0x756E_6547, 0x4965_6E69, 0x6C65_746E)
        }
    }
}

/// (leaf, register index 0..4 = EAX EBX ECX EDX, bit).
type Bit = (u32, usize, u32);
const EBX: usize = 1;
const ECX: usize = 2;
const EDX: usize = 3;
const EXT1: u32 = 0x8000_0001;

/// Leaf 1 EDX bits every x86-64 server has.
const BASE_EDX: &[u32] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 19, 23, 24, 25, 26, 28,
];

/// Features by generation; a model has its generation's and all older ones'.
const INTEL: &[&[Bit]] = &[
    // Sandy Bridge: SSE3 PCLMULQDQ MONITOR VMX SSSE3 CX16 PCID SSE4.1 SSE4.2 x2APIC POPCNT AES
    // XSAVE OSXSAVE AVX; LAHF; SYSCALL NX 1GB-pages RDTSCP LM.
    &[
        (1, ECX, 0),
        (1, ECX, 1),
        (1, ECX, 3),
        (1, ECX, 5),
        (1, ECX, 9),
        (1, ECX, 13),
        (1, ECX, 17),
        (1, ECX, 19),
        (1, ECX, 20),
        (1, ECX, 21),
        (1, ECX, 23),
        (1, ECX, 25),
        (1, ECX, 26),
        (1, ECX, 27),
        (1, ECX, 28),
        (EXT1, ECX, 0),
        (EXT1, EDX, 11),
        (EXT1, EDX, 20),
        (EXT1, EDX, 26),
        (EXT1, EDX, 27),
        (EXT1, EDX, 29),
    ],
    // Ivy Bridge: F16C RDRAND FSGSBASE SMEP ERMS.
    &[
        (1, ECX, 29),
        (1, ECX, 30),
        (7, EBX, 0),
        (7, EBX, 7),
        (7, EBX, 9),
    ],
    // Haswell: FMA MOVBE AVX2 BMI1 BMI2 INVPCID LZCNT.
    &[
        (1, ECX, 12),
        (1, ECX, 22),
        (7, EBX, 3),
        (7, EBX, 5),
        (7, EBX, 8),
        (7, EBX, 10),
        (EXT1, ECX, 5),
    ],
    // Broadwell: RDSEED ADX SMAP PREFETCHW.
    &[(7, EBX, 18), (7, EBX, 19), (7, EBX, 20), (EXT1, ECX, 8)],
    // Skylake-SP: AVX-512 F/DQ/CD/BW/VL, CLFLUSHOPT, CLWB, PKU.
    &[
        (7, EBX, 16),
        (7, EBX, 17),
        (7, EBX, 23),
        (7, EBX, 24),
        (7, EBX, 28),
        (7, EBX, 30),
        (7, EBX, 31),
        (7, ECX, 3),
    ],
    // Cascade Lake: AVX512_VNNI.
    &[(7, ECX, 11)],
    // Ice Lake-SP: SHA, VBMI, UMIP, VBMI2, GFNI, VAES, VPCLMULQDQ, BITALG, VPOPCNTDQ, RDPID.
    &[
        (7, EBX, 29),
        (7, ECX, 1),
        (7, ECX, 2),
        (7, ECX, 6),
        (7, ECX, 8),
        (7, ECX, 9),
        (7, ECX, 10),
        (7, ECX, 12),
        (7, ECX, 14),
        (7, ECX, 22),
    ],
    // Sapphire Rapids: AMX-BF16, AMX-TILE, AMX-INT8.
    &[(7, EDX, 22), (7, EDX, 24), (7, EDX, 25)],
];

const AMD: &[&[Bit]] = &[
    // Zen: everything up to Broadwell's user-level set plus SHA, less VMX (SVM instead),
    // plus SSE4A, MISALIGNSSE, MMXEXT, FFXSR.
    &[
        (1, ECX, 0),
        (1, ECX, 1),
        (1, ECX, 3),
        (1, ECX, 9),
        (1, ECX, 12),
        (1, ECX, 13),
        (1, ECX, 19),
        (1, ECX, 20),
        (1, ECX, 22),
        (1, ECX, 23),
        (1, ECX, 25),
        (1, ECX, 26),
        (1, ECX, 27),
        (1, ECX, 28),
        (1, ECX, 29),
        (1, ECX, 30),
        (7, EBX, 0),
        (7, EBX, 3),
        (7, EBX, 5),
        (7, EBX, 7),
        (7, EBX, 8),
        (7, EBX, 18),
        (7, EBX, 19),
        (7, EBX, 20),
        (7, EBX, 23),
        (7, EBX, 29),
        (EXT1, ECX, 0),
        (EXT1, ECX, 2),
        (EXT1, ECX, 5),
        (EXT1, ECX, 6),
        (EXT1, ECX, 7),
        (EXT1, ECX, 8),
        (EXT1, EDX, 11),
        (EXT1, EDX, 20),
        (EXT1, EDX, 22),
        (EXT1, EDX, 25),
        (EXT1, EDX, 26),
        (EXT1, EDX, 27),
        (EXT1, EDX, 29),
    ],
    // Zen 2: CLWB, UMIP, RDPID.
    &[(7, EBX, 24), (7, ECX, 2), (7, ECX, 22)],
    // Zen 3: INVPCID, PKU, VAES, VPCLMULQDQ, ERMS.
    &[
        (7, EBX, 9),
        (7, EBX, 10),
        (7, ECX, 3),
        (7, ECX, 9),
        (7, ECX, 10),
    ],
    // Zen 4: AVX-512 (F DQ CD BW VL VBMI VBMI2 VNNI BITALG VPOPCNTDQ), GFNI.
    &[
        (7, EBX, 16),
        (7, EBX, 17),
        (7, EBX, 28),
        (7, EBX, 30),
        (7, EBX, 31),
        (7, ECX, 1),
        (7, ECX, 6),
        (7, ECX, 8),
        (7, ECX, 11),
        (7, ECX, 12),
        (7, ECX, 14),
    ],
];

/// ESXi's register rendering: 32 bits, most significant first, `:` every four.
pub fn bits(value: u32) -> String {
    let mut s = String::with_capacity(39);
    for i in (0..32).rev() {
        s.push(if value >> i & 1 == 1 { '1' } else { '0' });
        if i % 4 == 0 && i != 0 {
            s.push(':');
        }
    }
    s
}

/// Registers of the leaves a host reports, before rendering: (leaf, [eax, ebx, ecx, edx]).
fn leaves(model: &Model, package: u32, cpu: &Cpu) -> Vec<(u32, [u32; 4])> {
    let table = if model.vendor == "amd" { AMD } else { INTEL };
    let mut regs: Vec<(u32, [u32; 4])> = vec![
        (0, [0; 4]),
        (1, [0; 4]),
        (7, [0; 4]),
        (0x8000_0000, [0; 4]),
        (EXT1, [0; 4]),
        (0x8000_0008, [0; 4]),
    ];
    let mut set = |leaf: u32, reg: usize, bit: u32| {
        let reg = regs
            .iter_mut()
            .find(|(l, _)| *l == leaf)
            .and_then(|(_, r)| r.get_mut(reg));
        if let Some(v) = reg {
            *v |= 1 << bit;
        }
    };
    for bit in BASE_EDX {
        set(1, EDX, *bit);
    }
    for generation in table.iter().take(model.generation + 1) {
        for (leaf, reg, bit) in generation.iter() {
            set(*leaf, *reg, *bit);
        }
    }
    let (vb, vd, vc) = model.vendor_registers();
    let logical = cpu
        .cores_per_package
        .saturating_mul(cpu.threads_per_core)
        .clamp(1, 255);
    let apic = package.wrapping_mul(logical.next_power_of_two());
    for (leaf, r) in regs.iter_mut() {
        match *leaf {
            0 => *r = [model.max_leaf, vb, vc, vd],
            1 => {
                r[0] = model.signature;
                r[1] = ((apic & 0xFF) << 24) | (logical << 16) | (8 << 8);
            }
            0x8000_0000 => *r = [0x8000_0008, 0, 0, 0],
            EXT1 if model.vendor == "amd" => r[0] = model.signature,
            0x8000_0008 => {
                r[0] = if model.vendor == "amd" {
                    0x3030
                } else {
                    0x302E
                }
            }
            _ => {}
        }
    }
    regs
}

/// The CPUID vectors of one package (`cpuPkg[index].cpuFeature`), with the host's overrides.
pub fn package_features(cpu: &Cpu, package: u32) -> Vec<CpuIdLevel> {
    let Some(model) = model(&cpu.model) else {
        return Vec::new();
    };
    leaves(model, package, cpu)
        .into_iter()
        .map(|(level, r)| {
            cpu.cpuid_overrides
                .iter()
                .find(|o| o.level == level)
                .cloned()
                .unwrap_or_else(|| CpuIdLevel {
                    level,
                    vendor: String::new(),
                    eax: bits(r[0]),
                    ebx: bits(r[1]),
                    ecx: bits(r[2]),
                    edx: bits(r[3]),
                })
        })
        .collect()
}

/// The vectors common to all packages (`hardware.cpuFeature`): package 0's, without its APIC
/// ID.
pub fn host_features(cpu: &Cpu) -> Vec<CpuIdLevel> {
    let mut levels = package_features(cpu, 0);
    for l in levels.iter_mut().filter(|l| l.level == 1) {
        let ebx = u32::from_str_radix(&l.ebx.replace(':', ""), 2).unwrap_or(0);
        l.ebx = bits(ebx & 0x00FF_FFFF);
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandy_bridge_decodes_like_the_reference() {
        // hostops.md §3.3: 0x000206D7 is family 6, model 0x2D.
        let m = model("sandybridge").map(|m| m.family_model_stepping());
        assert_eq!(m, Some((6, 0x2D, 7)));
        let zen2 = model("zen2").map(|m| m.family_model_stepping());
        assert_eq!(zen2, Some((0x17, 0x31, 0)));
    }

    #[test]
    fn register_rendering() {
        assert_eq!(bits(0xD), "0000:0000:0000:0000:0000:0000:0000:1101");
        // "GenuineIntel": EBX = "Genu", as the govmomi capture of a real host shows.
        assert_eq!(bits(0x756E_6547), "0111:0101:0110:1110:0110:0101:0100:0111");
    }

    #[test]
    fn newer_generations_are_supersets() {
        let cpu = |m: &str| Cpu {
            model: m.into(),
            cores_per_package: 8,
            threads_per_core: 2,
            ..Cpu::default()
        };
        let ones = |levels: Vec<CpuIdLevel>| -> Vec<(u32, String)> {
            levels
                .into_iter()
                .filter(|l| l.level != 0 && l.level != 1 && l.level != 0x8000_0008)
                .map(|l| (l.level, format!("{}{}{}", l.ebx, l.ecx, l.edx)))
                .collect()
        };
        let old = ones(host_features(&cpu("haswell")));
        let new = ones(host_features(&cpu("skylake")));
        for ((lo, o), (ln, n)) in old.iter().zip(&new) {
            assert_eq!(lo, ln);
            for (a, b) in o.chars().zip(n.chars()) {
                assert!(!(a == '1' && b == '0'), "leaf {lo:#x} lost a bit");
            }
        }
        assert_ne!(old, new);
    }
}
