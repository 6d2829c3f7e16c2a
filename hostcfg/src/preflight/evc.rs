//! The EVC table: CPU family/model → microarchitecture → the highest EVC mode it supports.
//!
//! A standalone host reports no `maxEVCModeKey` (vCenter computes it), so esxforge keeps the
//! mapping itself. Sources, per row kind:
//! - mode keys and the Intel/AMD order: the PowerCLI per-VM EVC module and Ansible
//!   `vmware_evc_mode` (hostops.md §3.3); "Sandy Bridge is L4, Ivy Bridge is L5" and the two
//!   AMD sequences (A: 3DNow! generations, B: Opteron Gen 3 without 3DNow! and later) from the
//!   KB 1003212 mirror;
//! - family/model numbers: the Intel SDM vol. 4 ("Processor signatures") and AMD revision
//!   guides, as decoded by [`super::cpuid::Signature`].
//!
//! Rows marked `verified: false` are from memory, as hostops.md marks them (§3.3 "later keys
//! (memory, unverified)", §6 item 5): the keys after Skylake and Zen, and the model numbers of
//! the newest parts. Reports say so when a host's baseline comes from such a row.

use super::cpuid::Vendor;

/// One EVC mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvcMode {
    /// The API key (`intel-haswell`).
    pub key: &'static str,
    /// The name vSphere shows.
    pub name: &'static str,
    pub vendor: Vendor,
    /// The order within the vendor (`vendorTier`): a higher tier is a larger feature set. AMD's
    /// two sequences share the numbering; modes of different sequences are never both
    /// supported by one host except Opteron Gen 3, which supports both (see [`Microarch`]).
    pub tier: u8,
    pub verified: bool,
}

const fn mode(
    key: &'static str,
    name: &'static str,
    vendor: Vendor,
    tier: u8,
    verified: bool,
) -> EvcMode {
    EvcMode {
        key,
        name,
        vendor,
        tier,
        verified,
    }
}

/// Every mode known, by vendor and tier.
pub const MODES: &[EvcMode] = &[
    mode(
        "intel-merom",
        "Intel Merom Generation",
        Vendor::Intel,
        0,
        true,
    ),
    mode(
        "intel-penryn",
        "Intel Penryn Generation",
        Vendor::Intel,
        1,
        true,
    ),
    mode(
        "intel-nehalem",
        "Intel Nehalem Generation",
        Vendor::Intel,
        2,
        true,
    ),
    mode(
        "intel-westmere",
        "Intel Westmere Generation",
        Vendor::Intel,
        3,
        true,
    ),
    mode(
        "intel-sandybridge",
        "Intel Sandy Bridge Generation",
        Vendor::Intel,
        4,
        true,
    ),
    mode(
        "intel-ivybridge",
        "Intel Ivy Bridge Generation",
        Vendor::Intel,
        5,
        true,
    ),
    mode(
        "intel-haswell",
        "Intel Haswell Generation",
        Vendor::Intel,
        6,
        true,
    ),
    mode(
        "intel-broadwell",
        "Intel Broadwell Generation",
        Vendor::Intel,
        7,
        true,
    ),
    mode(
        "intel-skylake",
        "Intel Skylake Generation",
        Vendor::Intel,
        8,
        true,
    ),
    mode(
        "intel-cascadelake",
        "Intel Cascade Lake Generation",
        Vendor::Intel,
        9,
        false,
    ),
    mode(
        "intel-icelake",
        "Intel Ice Lake Generation",
        Vendor::Intel,
        10,
        false,
    ),
    mode(
        "intel-sapphirerapids",
        "Intel Sapphire Rapids Generation",
        Vendor::Intel,
        11,
        false,
    ),
    mode(
        "amd-rev-e",
        "AMD Opteron Generation 1",
        Vendor::Amd,
        0,
        true,
    ),
    mode(
        "amd-rev-f",
        "AMD Opteron Generation 2",
        Vendor::Amd,
        1,
        true,
    ),
    mode(
        "amd-greyhound-no3dnow",
        "AMD Opteron Generation 3 (no 3DNow!)",
        Vendor::Amd,
        2,
        true,
    ),
    mode(
        "amd-greyhound",
        "AMD Opteron Generation 3",
        Vendor::Amd,
        3,
        true,
    ),
    mode(
        "amd-bulldozer",
        "AMD Opteron Generation 4",
        Vendor::Amd,
        4,
        true,
    ),
    mode(
        "amd-piledriver",
        "AMD Opteron Piledriver Generation",
        Vendor::Amd,
        5,
        true,
    ),
    mode(
        "amd-steamroller",
        "AMD Opteron Steamroller Generation",
        Vendor::Amd,
        6,
        true,
    ),
    mode("amd-zen", "AMD Zen Generation", Vendor::Amd, 7, true),
    mode("amd-zen2", "AMD Zen 2 Generation", Vendor::Amd, 8, false),
    mode("amd-zen3", "AMD Zen 3 Generation", Vendor::Amd, 9, false),
    mode("amd-zen4", "AMD Zen 4 Generation", Vendor::Amd, 10, false),
];

/// Looks a mode up by key.
pub fn mode_by_key(key: &str) -> Option<&'static EvcMode> {
    MODES.iter().find(|m| m.key == key)
}

/// A microarchitecture: which (vendor, family, model) rows belong to it and the highest mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Microarch {
    pub name: &'static str,
    pub vendor: Vendor,
    pub family: u32,
    /// Display models (inclusive ranges).
    pub models: &'static [(u32, u32)],
    /// Steppings (inclusive) when the model number is shared (Skylake-SP / Cascade Lake).
    pub steppings: (u32, u32),
    /// The key of the highest EVC mode.
    pub max_mode: &'static str,
    pub verified: bool,
}

const ANY_STEPPING: (u32, u32) = (0, u32::MAX);

const fn arch(
    name: &'static str,
    vendor: Vendor,
    family: u32,
    models: &'static [(u32, u32)],
    max_mode: &'static str,
    verified: bool,
) -> Microarch {
    Microarch {
        name,
        vendor,
        family,
        models,
        steppings: ANY_STEPPING,
        max_mode,
        verified,
    }
}

/// An Intel family 6 model 0x55 row for `steppings`.
const fn model_55(
    name: &'static str,
    steppings: (u32, u32),
    max_mode: &'static str,
    verified: bool,
) -> Microarch {
    Microarch {
        steppings,
        ..arch(name, Vendor::Intel, 6, &[(0x55, 0x55)], max_mode, verified)
    }
}

/// The table. Rows are matched in order; the first match wins.
pub const MICROARCHS: &[Microarch] = &[
    // Intel family 6.
    arch(
        "Merom (Core 2, 65 nm)",
        Vendor::Intel,
        6,
        &[(0x0F, 0x0F), (0x16, 0x16)],
        "intel-merom",
        true,
    ),
    arch(
        "Penryn (Core 2, 45 nm)",
        Vendor::Intel,
        6,
        &[(0x17, 0x17), (0x1D, 0x1D)],
        "intel-penryn",
        true,
    ),
    arch(
        "Nehalem",
        Vendor::Intel,
        6,
        &[(0x1A, 0x1A), (0x1E, 0x1F), (0x2E, 0x2E)],
        "intel-nehalem",
        true,
    ),
    arch(
        "Westmere",
        Vendor::Intel,
        6,
        &[(0x25, 0x25), (0x2C, 0x2C), (0x2F, 0x2F)],
        "intel-westmere",
        true,
    ),
    arch(
        "Sandy Bridge",
        Vendor::Intel,
        6,
        &[(0x2A, 0x2A), (0x2D, 0x2D)],
        "intel-sandybridge",
        true,
    ),
    arch(
        "Ivy Bridge",
        Vendor::Intel,
        6,
        &[(0x3A, 0x3A), (0x3E, 0x3E)],
        "intel-ivybridge",
        true,
    ),
    arch(
        "Haswell",
        Vendor::Intel,
        6,
        &[(0x3C, 0x3C), (0x3F, 0x3F), (0x45, 0x46)],
        "intel-haswell",
        true,
    ),
    arch(
        "Broadwell",
        Vendor::Intel,
        6,
        &[(0x3D, 0x3D), (0x47, 0x47), (0x4F, 0x4F), (0x56, 0x56)],
        "intel-broadwell",
        true,
    ),
    // Xeon Scalable generations 1-3 share display model 0x55; the stepping tells them apart.
    model_55("Skylake-SP", (0, 4), "intel-skylake", true),
    model_55("Cascade Lake", (5, 7), "intel-cascadelake", false),
    model_55("Cooper Lake", (10, 11), "intel-cascadelake", false),
    arch(
        "Skylake / Kaby Lake / Coffee Lake (client)",
        Vendor::Intel,
        6,
        &[(0x4E, 0x4E), (0x5E, 0x5E), (0x8E, 0x8E), (0x9E, 0x9E)],
        "intel-skylake",
        true,
    ),
    arch(
        "Comet Lake (client, Xeon W-1200)",
        Vendor::Intel,
        6,
        &[(0xA5, 0xA6)],
        "intel-skylake",
        false,
    ),
    arch(
        "Ice Lake-SP",
        Vendor::Intel,
        6,
        &[(0x6A, 0x6A), (0x6C, 0x6C)],
        "intel-icelake",
        false,
    ),
    arch(
        "Sapphire Rapids / Emerald Rapids",
        Vendor::Intel,
        6,
        &[(0x8F, 0x8F), (0xCF, 0xCF)],
        "intel-sapphirerapids",
        false,
    ),
    // AMD family 0Fh (K8): revision E and F by model number.
    arch(
        "Opteron Gen 1 (K8 rev E)",
        Vendor::Amd,
        0x0F,
        &[(0x20, 0x3F)],
        "amd-rev-e",
        true,
    ),
    arch(
        "Opteron Gen 2 (K8 rev F)",
        Vendor::Amd,
        0x0F,
        &[(0x40, 0xFF)],
        "amd-rev-f",
        true,
    ),
    arch(
        "Opteron Gen 3 (K10: Barcelona, Shanghai, Istanbul, Magny-Cours)",
        Vendor::Amd,
        0x10,
        &[(0x00, 0xFF)],
        "amd-greyhound",
        true,
    ),
    // Family 15h models 00h-0Fh hold both Orochi revisions: model 01h is Bulldozer (Opteron
    // 4200/6200), model 02h is Piledriver (Opteron 4300/6300, "Abu Dhabi"); 10h-1Fh are the
    // Piledriver APUs.
    arch(
        "Bulldozer",
        Vendor::Amd,
        0x15,
        &[(0x00, 0x01)],
        "amd-bulldozer",
        true,
    ),
    arch(
        "Piledriver",
        Vendor::Amd,
        0x15,
        &[(0x02, 0x0F), (0x10, 0x1F)],
        "amd-piledriver",
        true,
    ),
    arch(
        "Steamroller",
        Vendor::Amd,
        0x15,
        &[(0x30, 0x3F)],
        "amd-steamroller",
        true,
    ),
    arch(
        "Excavator",
        Vendor::Amd,
        0x15,
        &[(0x60, 0x7F)],
        "amd-steamroller",
        false,
    ),
    arch(
        "Zen / Zen+ (EPYC 7001)",
        Vendor::Amd,
        0x17,
        &[(0x00, 0x2F)],
        "amd-zen",
        true,
    ),
    arch(
        "Zen 2 (EPYC 7002)",
        Vendor::Amd,
        0x17,
        &[(0x30, 0x7F)],
        "amd-zen2",
        false,
    ),
    arch(
        "Zen 3 (EPYC 7003)",
        Vendor::Amd,
        0x19,
        &[(0x00, 0x0F), (0x20, 0x5F)],
        "amd-zen3",
        false,
    ),
    arch(
        "Zen 4 (EPYC 9004/8004/4004)",
        Vendor::Amd,
        0x19,
        &[(0x10, 0x1F), (0x60, 0x7F), (0xA0, 0xAF)],
        "amd-zen4",
        false,
    ),
];

/// The microarchitecture of a CPU, when the table knows it.
pub fn microarch(
    vendor: Vendor,
    family: u32,
    model: u32,
    stepping: u32,
) -> Option<&'static Microarch> {
    MICROARCHS.iter().find(|a| {
        a.vendor == vendor
            && a.family == family
            && a.models.iter().any(|&(lo, hi)| (lo..=hi).contains(&model))
            && (a.steppings.0..=a.steppings.1).contains(&stepping)
    })
}

/// The modes a CPU with highest mode `max` can run, lowest first.
///
/// Intel's modes form one chain. AMD's form two: A (`rev-e`, `rev-f`, `greyhound`, all with
/// 3DNow!) and B (`greyhound-no3dnow`, `bulldozer`, …). Opteron Gen 3 belongs to both; CPUs
/// from Bulldozer on lack 3DNow! and support chain B only; K8 supports chain A only.
pub fn supported_modes(max: &EvcMode) -> Vec<&'static EvcMode> {
    const CHAIN_A: &[&str] = &["amd-rev-e", "amd-rev-f", "amd-greyhound"];
    MODES
        .iter()
        .filter(|m| m.vendor == max.vendor && m.tier <= max.tier)
        .filter(|m| match max.vendor {
            Vendor::Intel => true,
            Vendor::Amd => {
                let max_in_a = CHAIN_A.contains(&max.key);
                let m_in_a = CHAIN_A.contains(&m.key);
                if max.key == "amd-greyhound" {
                    true
                } else {
                    max_in_a == m_in_a
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_microarch_names_a_known_mode_of_its_vendor() {
        for a in MICROARCHS {
            let m =
                mode_by_key(a.max_mode).unwrap_or_else(|| panic!("{} → {}", a.name, a.max_mode));
            assert_eq!(m.vendor, a.vendor, "{}", a.name);
        }
    }

    #[test]
    fn microarch_lookup_covers_the_reference_example_and_shared_models() {
        // 0x000206D7: family 6 model 0x2D = Sandy Bridge-EP.
        assert_eq!(
            microarch(Vendor::Intel, 6, 0x2D, 7).unwrap().max_mode,
            "intel-sandybridge"
        );
        assert_eq!(
            microarch(Vendor::Intel, 6, 0x55, 4).unwrap().name,
            "Skylake-SP"
        );
        assert_eq!(
            microarch(Vendor::Intel, 6, 0x55, 7).unwrap().name,
            "Cascade Lake"
        );
        assert!(microarch(Vendor::Intel, 6, 0x55, 8).is_none());
        assert_eq!(
            microarch(Vendor::Amd, 0x10, 0x04, 2).unwrap().max_mode,
            "amd-greyhound"
        );
        assert!(microarch(Vendor::Amd, 6, 0x2D, 7).is_none());
    }

    #[test]
    fn real_cpus_get_the_evc_mode_vcenter_offers() {
        use crate::preflight::cpuid::Signature;
        // (part, vendor, CPUID leaf 1 EAX as the part reports it, highest EVC mode).
        let table: &[(&str, Vendor, u32, &str)] = &[
            (
                "Xeon 5160 (Woodcrest)",
                Vendor::Intel,
                0x0000_06F6,
                "intel-merom",
            ),
            (
                "Xeon E5450 (Harpertown)",
                Vendor::Intel,
                0x0001_0676,
                "intel-penryn",
            ),
            (
                "Xeon X5570 (Nehalem-EP)",
                Vendor::Intel,
                0x0001_06A5,
                "intel-nehalem",
            ),
            (
                "Xeon X5670 (Westmere-EP)",
                Vendor::Intel,
                0x0002_06C2,
                "intel-westmere",
            ),
            (
                "Xeon E5-2670 (Sandy Bridge-EP)",
                Vendor::Intel,
                0x0002_06D7,
                "intel-sandybridge",
            ),
            (
                "Xeon E5-2670 v2 (Ivy Bridge-EP)",
                Vendor::Intel,
                0x0003_06E4,
                "intel-ivybridge",
            ),
            (
                "Xeon E5-2680 v3 (Haswell-EP)",
                Vendor::Intel,
                0x0003_06F2,
                "intel-haswell",
            ),
            (
                "Xeon E5-2680 v4 (Broadwell-EP)",
                Vendor::Intel,
                0x0004_06F1,
                "intel-broadwell",
            ),
            (
                "Xeon Gold 6130 (Skylake-SP)",
                Vendor::Intel,
                0x0005_0654,
                "intel-skylake",
            ),
            (
                "Xeon Gold 6230 (Cascade Lake)",
                Vendor::Intel,
                0x0005_0657,
                "intel-cascadelake",
            ),
            (
                "Xeon Gold 6330 (Ice Lake-SP)",
                Vendor::Intel,
                0x0006_06A6,
                "intel-icelake",
            ),
            (
                "Xeon Gold 6430 (Sapphire Rapids)",
                Vendor::Intel,
                0x0008_06F8,
                "intel-sapphirerapids",
            ),
            ("Opteron 285 (rev E)", Vendor::Amd, 0x0002_0F12, "amd-rev-e"),
            (
                "Opteron 2218 (rev F)",
                Vendor::Amd,
                0x0004_0F13,
                "amd-rev-f",
            ),
            (
                "Opteron 2356 (Barcelona)",
                Vendor::Amd,
                0x0010_0F23,
                "amd-greyhound",
            ),
            (
                "Opteron 6276 (Bulldozer)",
                Vendor::Amd,
                0x0060_0F12,
                "amd-bulldozer",
            ),
            (
                "Opteron 6380 (Piledriver)",
                Vendor::Amd,
                0x0060_0F20,
                "amd-piledriver",
            ),
            ("EPYC 7601 (Naples)", Vendor::Amd, 0x0080_0F12, "amd-zen"),
            ("EPYC 7742 (Rome)", Vendor::Amd, 0x0083_0F10, "amd-zen2"),
            ("EPYC 7763 (Milan)", Vendor::Amd, 0x00A0_0F11, "amd-zen3"),
            ("EPYC 9654 (Genoa)", Vendor::Amd, 0x00A1_0F11, "amd-zen4"),
            ("EPYC 4564P (Raphael)", Vendor::Amd, 0x00A6_0F12, "amd-zen4"),
            ("EPYC 9754 (Bergamo)", Vendor::Amd, 0x00AA_0F01, "amd-zen4"),
        ];
        for &(part, vendor, eax, want) in table {
            let s = Signature::from_eax(eax);
            let got = microarch(vendor, s.family, s.model, s.stepping).map(|a| a.max_mode);
            assert_eq!(got, Some(want), "{part}: {s:?}");
        }
        // Parts EVC has no mode for stay unknown rather than guessed.
        for (part, vendor, eax) in [
            ("Pentium 4 (NetBurst)", Vendor::Intel, 0x0000_0F29),
            ("Opteron 248 (rev C)", Vendor::Amd, 0x0000_0F5A),
        ] {
            let s = Signature::from_eax(eax);
            assert!(
                microarch(vendor, s.family, s.model, s.stepping).is_none(),
                "{part}"
            );
        }
    }

    #[test]
    fn amd_chains_meet_only_at_opteron_gen_3() {
        let keys = |k: &str| -> Vec<&str> {
            supported_modes(mode_by_key(k).unwrap())
                .iter()
                .map(|m| m.key)
                .collect()
        };
        assert_eq!(
            keys("amd-greyhound"),
            [
                "amd-rev-e",
                "amd-rev-f",
                "amd-greyhound-no3dnow",
                "amd-greyhound"
            ]
        );
        assert_eq!(
            keys("amd-piledriver"),
            ["amd-greyhound-no3dnow", "amd-bulldozer", "amd-piledriver"]
        );
        assert_eq!(keys("amd-rev-f"), ["amd-rev-e", "amd-rev-f"]);
        assert_eq!(keys("intel-westmere").len(), 4);
    }
}
