//! CPUID vectors as ESXi prints them, and the feature bits the checks compare. This is the one
//! CPUID decoder of the crate: the collectors use [`Register`] and [`Signature`] to store each
//! package's family/model/stepping in the facts (`host facts`), and the preflight (`host cpu`,
//! the EVC baseline, masks) reads the same types; only the simulator keeps its own CPU model.
//!
//! A register is 32 characters, most significant bit first, optionally grouped in fours by
//! colons (`0000:0000:0000:0000:0000:0000:0000:0001`, as the API and vSphere write it) or by
//! spaces (`---- ---- ---H ----…`, as hand-edited `.vmx` files often have it). Host vectors
//! hold `1`, `0` or `-` (unknown). VM requirement masks (the `.vmx` lines `cpuid.1.ecx = "…"`)
//! also hold `T` (must be 1), `F` (must be 0), `R` (reported 0, must match between hosts), `H`
//! (used by the guest, must match between hosts), `x` (unused), and `0`/`1` (a value forced on
//! the guest: no host requirement). Source: `HostCpuIdInfo` in govmomi `vim25/types/types.go`
//! (hostops.md §3.3). The vSphere Client's mask editor also writes lower-case `h` and `r`, the
//! "host value kept from power-on" forms of `H` and `R`; the API documents no separate vMotion
//! rule for them, so they are compared like `H` and `R` (source and destination must match),
//! the safe reading.

use std::collections::BTreeMap;
use std::fmt;

use crate::facts::CpuIdLevel;

/// One of the four CPUID output registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reg {
    Eax,
    Ebx,
    Ecx,
    Edx,
}

impl Reg {
    pub const ALL: [Reg; 4] = [Reg::Eax, Reg::Ebx, Reg::Ecx, Reg::Edx];

    pub fn as_str(self) -> &'static str {
        match self {
            Reg::Eax => "eax",
            Reg::Ebx => "ebx",
            Reg::Ecx => "ecx",
            Reg::Edx => "edx",
        }
    }

    fn index(self) -> usize {
        match self {
            Reg::Eax => 0,
            Reg::Ebx => 1,
            Reg::Ecx => 2,
            Reg::Edx => 3,
        }
    }
}

/// The characters a register string may hold.
const ALLOWED: &[u8] = b"01-TFRHxhr";

/// Mask characters whose position must hold the same value on source and destination.
pub const MUST_MATCH: &[u8] = b"HRhr";

/// One register: 32 positions, kept as the characters ESXi prints. Index 0 is bit 31.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Register([u8; 32]);

impl Default for Register {
    /// All positions unknown / inherited (`-`).
    fn default() -> Self {
        Register([b'-'; 32])
    }
}

impl Register {
    /// Parses `????:????:…`; the empty string is all `-`. Errors say what is wrong.
    pub fn parse(text: &str) -> Result<Register, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Register::default());
        }
        let chars: Vec<u8> = text
            .bytes()
            .filter(|&c| c != b':' && !c.is_ascii_whitespace())
            .collect();
        if let Some(&bad) = chars.iter().find(|c| !ALLOWED.contains(c)) {
            return Err(format!(
                "{text:?}: {:?} is not a CPUID mask character (one of 0 1 - T F H h R r x)",
                char::from(bad)
            ));
        }
        let out: [u8; 32] = chars.as_slice().try_into().map_err(|_| {
            format!(
                "{text:?}: a register has 32 positions, this has {}",
                chars.len()
            )
        })?;
        Ok(Register(out))
    }

    /// The character at `bit` (0 = least significant); `-` for a bit number above 31.
    pub fn at(&self, bit: u8) -> u8 {
        31usize
            .checked_sub(usize::from(bit))
            .and_then(|i| self.0.get(i).copied())
            .unwrap_or(b'-')
    }

    /// The bit as a known value: `Some(true)` for `1`, `Some(false)` for `0`, else `None`.
    pub fn known(&self, bit: u8) -> Option<bool> {
        match self.at(bit) {
            b'1' => Some(true),
            b'0' => Some(false),
            _ => None,
        }
    }

    /// This register with `bit` set to `ch`.
    pub fn with(mut self, bit: u8, ch: u8) -> Register {
        if let Some(slot) = 31usize
            .checked_sub(usize::from(bit))
            .and_then(|i| self.0.get_mut(i))
        {
            *slot = ch;
        }
        self
    }

    /// The register as a number when every position is `0` or `1`.
    pub fn value(&self) -> Option<u32> {
        self.0.iter().try_fold(0u32, |acc, &c| match c {
            b'0' => Some(acc << 1),
            b'1' => Some((acc << 1) | 1),
            _ => None,
        })
    }
}

impl fmt::Display for Register {
    /// `????:????:????:????:????:????:????:????`, as the `.vmx` and `hosthardware` print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.chunks(4).enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            for &c in group {
                write!(f, "{}", char::from(c))?;
            }
        }
        Ok(())
    }
}

/// A set of CPUID leaves (host features or a VM's masks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuIdVector(BTreeMap<u32, [Register; 4]>);

impl CpuIdVector {
    /// Builds the vector from facts. Vendor-specific entries apply only to that vendor
    /// (`vendor` is `intel` / `amd`, or empty for any), and win over generic ones.
    pub fn from_levels(levels: &[CpuIdLevel], vendor: Option<Vendor>) -> Result<Self, String> {
        let mut leaves = BTreeMap::new();
        let mut specific = std::collections::BTreeSet::new();
        for level in levels {
            let entry_vendor = Vendor::from_name(&level.vendor);
            let is_specific = !level.vendor.trim().is_empty();
            if is_specific && (entry_vendor.is_none() || entry_vendor != vendor) {
                continue;
            }
            if !is_specific && specific.contains(&level.level) {
                continue;
            }
            let regs = [&level.eax, &level.ebx, &level.ecx, &level.edx];
            let mut parsed = [Register::default(); 4];
            for (slot, (reg, text)) in parsed.iter_mut().zip(Reg::ALL.iter().zip(regs)) {
                *slot = Register::parse(text).map_err(|e| {
                    format!(
                        "cpuid level {} {}: {e}",
                        level_key(level.level),
                        reg.as_str()
                    )
                })?;
            }
            if is_specific {
                specific.insert(level.level);
            }
            leaves.insert(level.level, parsed);
        }
        Ok(CpuIdVector(leaves))
    }

    pub fn register(&self, leaf: u32, reg: Reg) -> Option<&Register> {
        self.0.get(&leaf).and_then(|regs| regs.get(reg.index()))
    }

    /// The character at a position, `-` when the leaf is absent.
    pub fn at(&self, leaf: u32, reg: Reg, bit: u8) -> u8 {
        self.register(leaf, reg).map_or(b'-', |r| r.at(bit))
    }

    pub fn known(&self, leaf: u32, reg: Reg, bit: u8) -> Option<bool> {
        self.register(leaf, reg).and_then(|r| r.known(bit))
    }

    /// Every (leaf, register, bit) whose character is one of `chars`.
    pub fn positions<'a>(
        &'a self,
        chars: &'a [u8],
    ) -> impl Iterator<Item = (u32, Reg, u8, u8)> + 'a {
        self.0.iter().flat_map(move |(&leaf, regs)| {
            Reg::ALL.iter().zip(regs.iter()).flat_map(move |(&reg, r)| {
                (0u8..32).filter_map(move |bit| {
                    let c = r.at(bit);
                    chars.contains(&c).then_some((leaf, reg, bit, c))
                })
            })
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The leaf as the `.vmx` key writes it: `1`, `7`, `80000001`.
pub fn level_key(leaf: u32) -> String {
    format!("{leaf:x}")
}

/// The `.vmx` line that sets one register mask: `cpuid.80000001.edx = "…"`.
pub fn vmx_mask_line(leaf: u32, reg: Reg, mask: &Register) -> String {
    format!("cpuid.{}.{} = \"{mask}\"", level_key(leaf), reg.as_str())
}

/// A CPU vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Vendor {
    Intel,
    Amd,
}

impl Vendor {
    /// Accepts `GenuineIntel`, `intel`, `AuthenticAMD`, `amd` (any case).
    pub fn from_name(name: &str) -> Option<Vendor> {
        let n = name.trim().to_ascii_lowercase();
        if n == "intel" || n == "genuineintel" {
            Some(Vendor::Intel)
        } else if n == "amd" || n == "authenticamd" {
            Some(Vendor::Amd)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Intel => "Intel",
            Vendor::Amd => "AMD",
        }
    }
}

/// Whether a guest sees the feature in user mode (applications check it: any difference can
/// crash a running program), or only the guest kernel does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    User,
    Kernel,
}

/// A CPU feature bit the preflight knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub name: &'static str,
    pub leaf: u32,
    pub reg: Reg,
    pub bit: u8,
    pub level: Level,
    /// Compared between source and destination of a vMotion. Kernel features that ESXi hides
    /// from guests unless asked (VT-x/AMD-V without nested virtualization, SMEP/SMAP on old
    /// hardware versions) are reported but not compared.
    pub compared: bool,
}

const fn f(
    name: &'static str,
    leaf: u32,
    reg: Reg,
    bit: u8,
    level: Level,
    compared: bool,
) -> Feature {
    Feature {
        name,
        leaf,
        reg,
        bit,
        level,
        compared,
    }
}

/// The feature bits, from the Intel SDM vol. 2A CPUID tables and AMD APM vol. 3 appendix E.
pub const FEATURES: &[Feature] = &[
    f("SSE", 1, Reg::Edx, 25, Level::User, true),
    f("SSE2", 1, Reg::Edx, 26, Level::User, true),
    f("SSE3", 1, Reg::Ecx, 0, Level::User, true),
    f("PCLMULQDQ", 1, Reg::Ecx, 1, Level::User, true),
    f("VMX", 1, Reg::Ecx, 5, Level::Kernel, false),
    f("SSSE3", 1, Reg::Ecx, 9, Level::User, true),
    f("FMA", 1, Reg::Ecx, 12, Level::User, true),
    f("CMPXCHG16B", 1, Reg::Ecx, 13, Level::User, true),
    f("SSE4.1", 1, Reg::Ecx, 19, Level::User, true),
    f("SSE4.2", 1, Reg::Ecx, 20, Level::User, true),
    f("MOVBE", 1, Reg::Ecx, 22, Level::User, true),
    f("POPCNT", 1, Reg::Ecx, 23, Level::User, true),
    f("AES", 1, Reg::Ecx, 25, Level::User, true),
    f("XSAVE", 1, Reg::Ecx, 26, Level::User, true),
    f("AVX", 1, Reg::Ecx, 28, Level::User, true),
    f("F16C", 1, Reg::Ecx, 29, Level::User, true),
    f("RDRAND", 1, Reg::Ecx, 30, Level::User, true),
    f("BMI1", 7, Reg::Ebx, 3, Level::User, true),
    f("AVX2", 7, Reg::Ebx, 5, Level::User, true),
    f("SMEP", 7, Reg::Ebx, 7, Level::Kernel, false),
    f("BMI2", 7, Reg::Ebx, 8, Level::User, true),
    f("AVX512F", 7, Reg::Ebx, 16, Level::User, true),
    f("AVX512DQ", 7, Reg::Ebx, 17, Level::User, true),
    f("RDSEED", 7, Reg::Ebx, 18, Level::User, true),
    f("ADX", 7, Reg::Ebx, 19, Level::User, true),
    f("SMAP", 7, Reg::Ebx, 20, Level::Kernel, false),
    f("CLFLUSHOPT", 7, Reg::Ebx, 23, Level::User, true),
    f("AVX512CD", 7, Reg::Ebx, 28, Level::User, true),
    f("SHA", 7, Reg::Ebx, 29, Level::User, true),
    f("AVX512BW", 7, Reg::Ebx, 30, Level::User, true),
    f("AVX512VL", 7, Reg::Ebx, 31, Level::User, true),
    f("LAHF/SAHF", 0x8000_0001, Reg::Ecx, 0, Level::User, true),
    f("SVM", 0x8000_0001, Reg::Ecx, 2, Level::Kernel, false),
    f("LZCNT/ABM", 0x8000_0001, Reg::Ecx, 5, Level::User, true),
    f("SSE4A", 0x8000_0001, Reg::Ecx, 6, Level::User, true),
    f("3DNowPrefetch", 0x8000_0001, Reg::Ecx, 8, Level::User, true),
    f("XOP", 0x8000_0001, Reg::Ecx, 11, Level::User, true),
    f("FMA4", 0x8000_0001, Reg::Ecx, 16, Level::User, true),
    f("NX/XD", 0x8000_0001, Reg::Edx, 20, Level::Kernel, true),
    f("RDTSCP", 0x8000_0001, Reg::Edx, 27, Level::User, true),
    f(
        "LM (64-bit)",
        0x8000_0001,
        Reg::Edx,
        29,
        Level::Kernel,
        true,
    ),
    f("3DNow!Ext", 0x8000_0001, Reg::Edx, 30, Level::User, true),
    f("3DNow!", 0x8000_0001, Reg::Edx, 31, Level::User, true),
];

/// Looks a feature up by name (the table's spelling).
pub fn feature(name: &str) -> Option<&'static Feature> {
    FEATURES.iter().find(|f| f.name == name)
}

/// Which of [`FEATURES`] a vector has: a bit per table row, and whether the row is known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeatureSet {
    /// Bit i set: `FEATURES[i]` is present.
    pub present: u64,
    /// Bit i set: `FEATURES[i]` is known (`0` or `1`), not `-`.
    pub known: u64,
}

impl FeatureSet {
    pub fn of(vector: &CpuIdVector) -> FeatureSet {
        let mut set = FeatureSet::default();
        for (i, feat) in FEATURES.iter().enumerate() {
            if let Some(v) = vector.known(feat.leaf, feat.reg, feat.bit) {
                set.known |= 1 << i;
                if v {
                    set.present |= 1 << i;
                }
            }
        }
        set
    }

    pub fn has(&self, feat: &Feature) -> Option<bool> {
        let i = FEATURES.iter().position(|f| f == feat)?;
        (self.known & (1 << i) != 0).then_some(self.present & (1 << i) != 0)
    }

    /// The features present here and known to be absent in `other`.
    pub fn missing_in(&self, other: &FeatureSet) -> impl Iterator<Item = &'static Feature> + '_ {
        let lost = self.present & other.known & !other.present;
        FEATURES
            .iter()
            .enumerate()
            .filter(move |(i, _)| lost & (1 << i) != 0)
            .map(|(_, f)| f)
    }

    /// The bitwise AND of two sets: present only where both have it, known where both know.
    pub fn common(&self, other: &FeatureSet) -> FeatureSet {
        FeatureSet {
            present: self.present & other.present,
            known: (self.known & other.known)
                | (self.known & !self.present)
                | (other.known & !other.present),
        }
    }

    /// Names of the present features, table order.
    pub fn names(&self) -> Vec<&'static str> {
        FEATURES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.present & (1 << i) != 0)
            .map(|(_, f)| f.name)
            .collect()
    }
}

/// The highest SSE generation present: `SSE4.2`, `SSE4.1`, `SSSE3`, `SSE3`, `SSE2`, `SSE`.
pub fn sse_level(set: &FeatureSet) -> Option<&'static str> {
    ["SSE4.2", "SSE4.1", "SSSE3", "SSE3", "SSE2", "SSE"]
        .into_iter()
        .find(|name| feature(name).and_then(|f| set.has(f)) == Some(true))
}

/// Family, model and stepping decoded from CPUID leaf 1 EAX (Intel SDM vol. 2A, "CPUID—Version
/// Information"): display family = base family + extended family (the extended family only
/// when the base is 0xF); display model = extended model << 4 | base model when the base
/// family is 6 or 0xF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    pub family: u32,
    pub model: u32,
    pub stepping: u32,
}

impl Signature {
    pub fn from_eax(eax: u32) -> Signature {
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
        let model = if base_family == 6 || base_family == 0xF {
            (ext_model << 4) | base_model
        } else {
            base_model
        };
        Signature {
            family,
            model,
            stepping,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_decodes_the_reference_example_and_amd_families() {
        // hostops.md §3.3: 0x000206D7 is family 6, model 0x2D (Sandy Bridge-EP).
        assert_eq!(
            Signature::from_eax(0x0002_06D7),
            Signature {
                family: 6,
                model: 0x2D,
                stepping: 7
            }
        );
        // AMD EPYC 7002 (Rome): 0x00830F10 → family 0x17, model 0x31, stepping 0.
        assert_eq!(
            Signature::from_eax(0x0083_0F10),
            Signature {
                family: 0x17,
                model: 0x31,
                stepping: 0
            }
        );
        // A family 5 part ignores the extended fields.
        assert_eq!(Signature::from_eax(0x0000_0543).family, 5);
    }

    #[test]
    fn register_parse_format_and_bit_order() {
        let r = Register::parse("0000:0000:0000:0000:0000:0000:0000:0101").unwrap();
        assert_eq!(r.known(0), Some(true));
        assert_eq!(r.known(1), Some(false));
        assert_eq!(r.known(2), Some(true));
        assert_eq!(r.value(), Some(5));
        // An unknown bit makes the value unknown, not zero.
        assert_eq!(r.with(7, b'-').value(), None);
        assert_eq!(r.to_string(), "0000:0000:0000:0000:0000:0000:0000:0101");
        let masked = Register::default().with(20, b'0');
        assert_eq!(
            masked.to_string(),
            "----:----:---0:----:----:----:----:----"
        );
        assert_eq!(Register::parse("").unwrap(), Register::default());
        assert_eq!(
            Register::parse("TTTTFFFFRRRRHHHHxxxx----00001111")
                .unwrap()
                .at(31),
            b'T'
        );
    }

    #[test]
    fn register_parse_takes_vmx_shapes() {
        // A colon-grouped mask as vSphere writes it (hide NX/XD: cpuid.80000001.edx bit 20).
        let nx = Register::parse("----:----:---0:----:----:----:----:----").unwrap();
        assert_eq!(nx.at(20), b'0');
        assert_eq!(nx.known(20), Some(false));
        // A space-grouped mask as hand-edited .vmx files carry it.
        let spaced = Register::parse("---- ---- ---H ---- ---- ---- ---- ----").unwrap();
        assert_eq!(spaced.at(20), b'H');
        assert_eq!(
            spaced.to_string(),
            "----:----:---H:----:----:----:----:----"
        );
        // Every character the mask editor writes, lower-case h and r included.
        let all = Register::parse("TFRH:hr01:x---:----:----:----:----:----").unwrap();
        assert_eq!(
            [
                all.at(31),
                all.at(30),
                all.at(29),
                all.at(28),
                all.at(27),
                all.at(26)
            ],
            [b'T', b'F', b'R', b'H', b'h', b'r']
        );
        assert!(MUST_MATCH.contains(&all.at(27)) && MUST_MATCH.contains(&all.at(26)));
        assert!(!MUST_MATCH.contains(&all.at(31)));
    }

    #[test]
    fn register_parse_rejects_bad_input() {
        assert!(
            Register::parse("0000")
                .unwrap_err()
                .contains("32 positions")
        );
        assert!(Register::parse("0000:0000:0000:0000:0000:0000:0000:00000").is_err());
        assert!(
            Register::parse("0000:0000:0000:0000:0000:0000:0000:000z")
                .unwrap_err()
                .contains("'z'")
        );
    }

    #[test]
    fn vector_prefers_vendor_specific_levels_and_names_bad_ones() {
        let generic = CpuIdLevel {
            level: 1,
            ecx: "0000:0000:0000:0000:0000:0000:0000:0000".into(),
            ..Default::default()
        };
        let intel = CpuIdLevel {
            level: 1,
            vendor: "intel".into(),
            ecx: "0000:0000:0000:0000:0000:0000:0000:0001".into(),
            ..Default::default()
        };
        let v = CpuIdVector::from_levels(&[intel.clone(), generic.clone()], Some(Vendor::Intel))
            .unwrap();
        assert_eq!(v.known(1, Reg::Ecx, 0), Some(true));
        let v = CpuIdVector::from_levels(&[generic, intel], Some(Vendor::Amd)).unwrap();
        assert_eq!(v.known(1, Reg::Ecx, 0), Some(false));
        let bad = CpuIdLevel {
            level: 0x8000_0001,
            edx: "nope".into(),
            ..Default::default()
        };
        let err = CpuIdVector::from_levels(&[bad], None).unwrap_err();
        assert!(err.starts_with("cpuid level 80000001 edx:"), "{err}");
    }

    #[test]
    fn feature_sets_compare_and_name_sse_levels() {
        let mk = |ecx: &str| {
            CpuIdVector::from_levels(
                &[CpuIdLevel {
                    level: 1,
                    ecx: ecx.into(),
                    edx: "0000:0110:0000:0000:0000:0000:0000:0000".into(),
                    ..Default::default()
                }],
                None,
            )
            .unwrap()
        };
        // SSE3, SSSE3, SSE4.1, SSE4.2 (bits 0, 9, 19, 20).
        let nehalem = FeatureSet::of(&mk("0000:0000:0001:1000:0000:0010:0000:0001"));
        // SSE3, SSSE3 only.
        let merom = FeatureSet::of(&mk("0000:0000:0000:0000:0000:0010:0000:0001"));
        assert_eq!(sse_level(&nehalem), Some("SSE4.2"));
        assert_eq!(sse_level(&merom), Some("SSSE3"));
        let lost: Vec<&str> = nehalem.missing_in(&merom).map(|f| f.name).collect();
        assert_eq!(lost, ["SSE4.1", "SSE4.2"]);
        assert_eq!(merom.missing_in(&nehalem).count(), 0);
        assert_eq!(nehalem.common(&merom).names(), merom.names());
        assert!(FEATURES.len() <= 64);
    }

    #[test]
    fn vmx_mask_lines_use_hex_leaves() {
        let line = vmx_mask_line(0x8000_0001, Reg::Edx, &Register::default().with(20, b'0'));
        assert_eq!(
            line,
            "cpuid.80000001.edx = \"----:----:---0:----:----:----:----:----\""
        );
    }
}
