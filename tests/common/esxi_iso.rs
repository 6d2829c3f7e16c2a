//! ESXi-shaped installer ISOs, VIBs and offline bundles for tests, built from synthetic files
//! with the tools a user would use (xorriso, GNU ar and the `ar` crate, bzip2, md5sum) — no VMware
//! binaries exist here, and the fixtures never use the code under test.
//!
//! A 5.x–8.x image ([`modern_iso`]) has what VMware's own media have: uppercase 8.3 names and no
//! Joliet or Rock Ridge, Application ID `ESXIMAGE`, catalog `BOOT.CAT`, BIOS `ISOLINUX.BIN`
//! (no-emulation, 4 sectors, boot-info-table) and UEFI `EFIBOOT.IMG`, two identical BOOT.CFGs,
//! payload modules, and an `IMGDB.TGZ` whose profile and descriptors (with real checksums)
//! describe them. A 4.1 image ([`legacy_iso`]) is BIOS-only with lower-case Rock Ridge/Joliet
//! names, `imagedd.bz2` and `imagedd.md5`.
//!
//! Two stand-ins replace what VMware does not let us ship, so that a QEMU boot shows what each
//! boot path reads: on BIOS the default ISOLINUX entry runs syslinux's `cat.c32` on the BOOT.CFG
//! (4.1: on `isolinux.cfg`), which prints it to the serial console; on UEFI `EFIBOOT.IMG` holds a
//! `grub-mkstandalone` BOOTX64.EFI whose embedded config finds the CD, prints
//! `/EFI/BOOT/BOOT.CFG` and reports whether each of `uefi_probes` exists, then halts. GRUB, like
//! ESXi's own UEFI loader, reads plain ISO 9660 names only when the image has no Rock Ridge.
#![allow(dead_code)] // each test binary uses part of the fixtures

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Runs the esxforge binary. `SOURCE_DATE_EPOCH` is removed so that the CI's cannot decide a
/// build's timestamps (the tests that want one set it).
pub fn esxforge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esxforge"))
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap()
}

/// `esxforge iso build --from SOURCE -o OUT EXTRA…`
pub fn iso_build(source: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["iso", "build", "--from", p(source), "-o", p(out)];
    args.extend_from_slice(extra);
    esxforge(&args)
}

/// stdout and stderr of a run, for assertions and their messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A path as a command-line argument.
pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs a command and returns its stdout; panics with stderr when it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Deterministic pseudo-random bytes (xorshift64*), so fixtures are reproducible.
pub fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn sha1_hex(data: &[u8]) -> String {
    hex::encode(Sha1::digest(data))
}

/// A VIB payload: its name, type, the module file it is on the medium, and its bytes.
pub struct Payload {
    pub name: String,
    pub kind: &'static str,
    /// Lower-case module name as BOOT.CFG and the profile write it (`net_old.v00`).
    pub module: String,
    /// The content before gzip (what `verify-process="gunzip"` hashes).
    pub raw: Vec<u8>,
    pub gz: Vec<u8>,
}

impl Payload {
    pub fn new(name: &str, module: &str, raw: Vec<u8>, level: u32) -> Payload {
        let kind = if module.contains(".t") { "tgz" } else { "vgz" };
        let gz = gzip(&raw, level);
        Payload {
            name: name.to_string(),
            kind,
            module: module.to_string(),
            raw,
            gz,
        }
    }

    /// `<checksum>` elements: sha-256 of the .gz, and per `gunzip` flags sha-256/sha-1 of the
    /// content.
    pub fn checksums(&self, sha256_gunzip: bool, sha1_gunzip: bool) -> String {
        let mut s = format!(
            "<checksum checksum-type=\"sha-256\">{}</checksum>",
            sha256_hex(&self.gz)
        );
        if sha256_gunzip {
            s += &format!(
                "<checksum checksum-type=\"sha-256\" verify-process=\"gunzip\">{}</checksum>",
                sha256_hex(&self.raw)
            );
        }
        if sha1_gunzip {
            s += &format!(
                "<checksum checksum-type=\"sha-1\" verify-process=\"gunzip\">{}</checksum>",
                sha1_hex(&self.raw)
            );
        }
        s
    }
}

/// What a test VIB looks like.
#[derive(Clone)]
pub struct VibSpec {
    pub name: String,
    pub version: String,
    pub vendor: String,
    pub acceptance: String,
    /// `<softwarePlatform version=…>`.
    pub platform: String,
    /// `<softwarePlatform productLineID=…>`: `embeddedEsx` (ESXi), `esxio` (a DPU).
    pub product_line: String,
    /// Payload name; the content is pseudo-random from `seed`.
    pub payload: String,
    pub seed: u64,
    pub payload_len: usize,
    pub sha256_gunzip: bool,
    pub sha1_gunzip: bool,
    /// Built with GNU `ar` (`name/` members) instead of VMware's space-padded style.
    pub gnu_ar: bool,
    /// Flip a byte of the payload after the checksums were computed.
    pub corrupt: bool,
    /// Record a wrong sha-256 (gunzip) digest in the descriptor (the payload itself is intact).
    pub wrong_digest: bool,
}

impl VibSpec {
    /// An ESXi 8-ready community driver VIB.
    pub fn driver(name: &str, version: &str) -> VibSpec {
        VibSpec {
            name: name.to_string(),
            version: version.to_string(),
            vendor: "TST".into(),
            acceptance: "community".into(),
            platform: "8.0".into(),
            product_line: "embeddedEsx".into(),
            payload: name.to_string(),
            seed: 7,
            payload_len: 48 * 1024,
            sha256_gunzip: true,
            sha1_gunzip: true,
            gnu_ar: false,
            corrupt: false,
            wrong_digest: false,
        }
    }

    pub fn id(&self) -> String {
        format!("{}_bootbank_{}_{}", self.vendor, self.name, self.version)
    }

    /// The payload with its module name as VMware media map it (8 characters, `-` → `_`).
    pub fn payload(&self) -> Payload {
        let stem: String = self
            .payload
            .chars()
            .take(8)
            .map(|c| if c == '-' { '_' } else { c })
            .collect();
        Payload::new(
            &self.payload,
            &format!("{stem}.v00"),
            pseudo_random(self.seed, self.payload_len),
            6,
        )
    }

    pub fn descriptor(&self, payload: &Payload) -> String {
        let mut sums = payload.checksums(self.sha256_gunzip, self.sha1_gunzip);
        if self.wrong_digest {
            sums = sums.replace(&sha256_hex(&payload.raw), &sha256_hex(b"not the payload"));
        }
        format!(
            "<vib version=\"5.0\"><type>bootbank</type><name>{}</name><version>{}</version><vendor>{}</vendor>\
             <summary>{} test driver</summary><description>fixture</description>\
             <release-date>2024-01-01T00:00:00.000000+00:00</release-date><urls/>\
             <relationships><depends/><conflicts/><replaces/><provides/><compatibleWith/></relationships>\
             <software-tags><tag>driver</tag><tag>module</tag></software-tags>\
             <system-requires><maintenance-mode>true</maintenance-mode>\
             <softwarePlatform version=\"{}\" locale=\"\" productLineID=\"{}\"/></system-requires>\
             <file-list><file>usr/lib/vmware/vmkmod/{}</file></file-list>\
             <acceptance-level>{}</acceptance-level><live-install-allowed>false</live-install-allowed>\
             <live-remove-allowed>false</live-remove-allowed><cimom-restart>false</cimom-restart>\
             <stateless-ready>true</stateless-ready><overlay>false</overlay>\
             <payloads><payload name=\"{}\" type=\"{}\" size=\"{}\">{}</payload></payloads></vib>",
            self.name,
            self.version,
            self.vendor,
            self.name,
            self.platform,
            self.product_line,
            self.name,
            self.acceptance,
            payload.name,
            payload.kind,
            payload.gz.len(),
            sums
        )
    }
}

/// Writes the VIB described by `spec` into `dir` and returns its path.
pub fn vib(dir: &Path, spec: &VibSpec) -> PathBuf {
    let payload = spec.payload();
    let descriptor = spec.descriptor(&payload);
    let mut gz = payload.gz.clone();
    if spec.corrupt {
        let at = gz.len() / 2;
        gz[at] ^= 0x55;
    }
    let path = dir.join(format!("{}.vib", spec.id()));
    if spec.gnu_ar {
        let work = dir.join(format!("ar-{}", spec.id()));
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(work.join("descriptor.xml"), &descriptor).unwrap();
        std::fs::write(work.join("sig.pkcs7"), b"").unwrap();
        std::fs::write(work.join(&spec.payload), &gz).unwrap();
        let _ = std::fs::remove_file(&path);
        // GNU ar writes `name/` member names; `D` makes mtime/uid/gid zero for reproducibility.
        run(Command::new("ar")
            .arg("rcD")
            .arg(&path)
            .arg("descriptor.xml")
            .arg("sig.pkcs7")
            .arg(&spec.payload)
            .current_dir(&work));
    } else {
        // VMware's style: space-padded names without `/`, every field zero — what the `ar`
        // crate's plain Builder writes with default headers.
        let mut ar = ar::Builder::new(std::fs::File::create(&path).unwrap());
        for (name, data) in [
            ("descriptor.xml", descriptor.as_bytes()),
            ("sig.pkcs7", b""),
            (spec.payload.as_str(), &gz),
        ] {
            let header = ar::Header::new(name.as_bytes().to_vec(), data.len() as u64);
            ar.append(&header, data).unwrap();
        }
    }
    path
}

/// An offline bundle in `dir` holding the given VIB files (each listed in the metadata with its
/// real size and SHA-256 at `member`, normally `vib20/<name>/<file>`).
pub fn bundle(dir: &Path, file_name: &str, vibs: &[(&Path, &VibSpec, String)]) -> PathBuf {
    use zip::write::SimpleFileOptions;
    let opts = SimpleFileOptions::default();
    let mut meta = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (i, (path, spec, member)) in vibs.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        meta.start_file(format!("vibs/{}-{i}.xml", spec.name), opts)
            .unwrap();
        let d = spec.descriptor(&spec.payload());
        let extra = format!(
            "<relative-path>{member}</relative-path><packed-size>{}</packed-size><checksum checksum-type=\"sha-256\">{}</checksum></vib>",
            bytes.len(),
            sha256_hex(&bytes)
        );
        meta.write_all(d.replace("</vib>", &extra).as_bytes())
            .unwrap();
    }
    meta.start_file("vendor-index.xml", opts).unwrap();
    meta.write_all(b"<metaList/>").unwrap();
    let meta = meta.finish().unwrap().into_inner();
    let mut z = zip::ZipWriter::new(std::fs::File::create(dir.join(file_name)).unwrap());
    z.start_file("index.xml", opts).unwrap();
    z.write_all(b"<vendorList><vendor><name>Test Vendor</name><code>TST</code><indexfile>vendor-index.xml</indexfile><patchUrl></patchUrl><relativePath></relativePath><content><name>VMware ESX</name><type>http://www.vmware.com/depotmanagement/esx</type></content></vendor></vendorList>").unwrap();
    z.start_file("vendor-index.xml", opts).unwrap();
    z.write_all(b"<metaList><metadata><productId>embeddedEsx</productId><version>8.0.0</version><locale></locale><url>metadata.zip</url><channelName>default</channelName></metadata></metaList>").unwrap();
    z.start_file("metadata.zip", opts).unwrap();
    z.write_all(&meta).unwrap();
    for (path, _, member) in vibs {
        z.start_file(member.as_str(), opts).unwrap();
        z.write_all(&std::fs::read(path).unwrap()).unwrap();
    }
    z.finish().unwrap();
    dir.join(file_name)
}

/// What a 5.x–8.x source image holds.
#[derive(Clone)]
pub struct ModernSpec {
    /// `build=` of BOOT.CFG (`8.0.3-0.35.24280767`).
    pub build: String,
    pub kernelopt: String,
    /// Extra payload bytes spread over 16 `bulk-NN` VIBs (benchmarks); 0 for tests.
    pub bulk_bytes: u64,
    /// Paths (as BOOT.CFG writes them, lower-case) the UEFI probe reports `FOUND`/`MISSING`.
    pub uefi_probes: Vec<String>,
    /// Build the UEFI El Torito image with the GRUB probe (else a bare FAT image).
    pub uefi: bool,
    /// `(from, to)`: text replaced in `/EFI/BOOT/BOOT.CFG` only (to make the two disagree).
    pub efi_boot_cfg_edit: Option<(String, String)>,
    /// `(from, to)`: text replaced in both BOOT.CFGs.
    pub boot_cfg_edit: Option<(String, String)>,
    /// Record names as given, `-` and lower case included (`mkisofs -relaxed-filenames`), which
    /// VMware's media never do.
    pub relaxed_names: bool,
    /// Extra files `(path, bytes)` in the tree (uppercase primary names; `-l` allows 31 chars).
    pub extra_files: Vec<(String, Vec<u8>)>,
}

impl Default for ModernSpec {
    fn default() -> Self {
        ModernSpec {
            build: "8.0.3-0.35.24280767".into(),
            kernelopt: "runweasel cdromBoot".into(),
            bulk_bytes: 0,
            uefi_probes: Vec::new(),
            uefi: true,
            efi_boot_cfg_edit: None,
            boot_cfg_edit: None,
            relaxed_names: false,
            extra_files: Vec::new(),
        }
    }
}

/// The stock 8.x image without the UEFI GRUB probe (built in a fraction of the time): for every
/// test that does not boot by UEFI.
pub fn bios_only_iso(dir: &Path) -> PathBuf {
    modern_iso(
        dir,
        &ModernSpec {
            uefi: false,
            ..ModernSpec::default()
        },
    )
}

/// The VIB that the stock images carry in an old version (`net-old 1.0-1`, module
/// `net_old.v00`), so tests can replace it.
pub fn old_driver() -> VibSpec {
    VibSpec {
        seed: 99,
        ..VibSpec::driver("net-old", "1.0-1")
    }
}

/// A stock VIB: name, version, and `(payload name, module)` per payload.
type StockVib = (String, String, Vec<(&'static str, &'static str)>);

/// The VIBs of the stock profile, in module order.
fn stock_vibs(version: &str) -> Vec<StockVib> {
    vec![
        (
            "esx-base".into(),
            version.into(),
            vec![
                ("b", "b.b00"),
                ("k", "k.b00"),
                ("uc_intel", "uc_intel.b00"),
                ("procfs", "procfs.b00"),
                ("vmx", "vmx.v00"),
                ("vim", "vim.v00"),
                ("sb", "sb.v00"),
                ("s", "s.v00"),
            ],
        ),
        (
            "nvme-pcie".into(),
            "1.2.4.11-1vmw.803".into(),
            vec![("nvme-pci", "nvme_pci.v00")],
        ),
        (
            "tools-light".into(),
            "12.4.0.23259341-24280767".into(),
            vec![("tools", "tools.t00")],
        ),
        (
            "esx-xserver".into(),
            version.into(),
            vec![("xorg", "xorg.v00")],
        ),
        ("gc".into(), version.into(), vec![("gc", "gc.v00")]),
    ]
}

/// Builds a 5.x–8.x image in `dir` and returns its path (`dir/esxi-<build>.iso`).
pub fn modern_iso(dir: &Path, spec: &ModernSpec) -> PathBuf {
    let tree = dir.join(format!("src-tree-{}", spec.build));
    let _ = std::fs::remove_dir_all(&tree);
    std::fs::create_dir_all(tree.join("EFI/BOOT")).unwrap();
    std::fs::create_dir_all(tree.join("UPGRADE")).unwrap();
    let put = |name: &str, data: &[u8]| {
        std::fs::write(tree.join(name.to_ascii_uppercase()), data).unwrap()
    };

    // VIB payload modules and their descriptors.
    let mut profile_vibs = String::new();
    let mut descriptors: Vec<(String, String)> = Vec::new();
    let mut module_names: Vec<String> = Vec::new();
    let mut add_vib = |name: &str, version: &str, vendor: &str, payloads: Vec<Payload>| {
        let mut payload_xml = String::new();
        let mut entry =
            format!("<vib><vib-id>{vendor}_bootbank_{name}_{version}</vib-id><payloads>");
        for p in &payloads {
            put(&p.module, &p.gz);
            payload_xml += &format!(
                "<payload name=\"{}\" type=\"{}\" size=\"{}\">{}</payload>",
                p.name,
                p.kind,
                p.gz.len(),
                p.checksums(true, true)
            );
            entry += &format!(
                "<payload payload-name=\"{}\">{}</payload>",
                p.name, p.module
            );
            if p.module != "b.b00" {
                module_names.push(p.module.clone());
            }
        }
        entry += "</payloads></vib>";
        profile_vibs += &format!("\n    {entry}");
        let d = format!(
            "<vib version=\"5.0\"><type>bootbank</type><name>{name}</name><version>{version}</version><vendor>{vendor}</vendor><summary>{name}</summary><acceptance-level>certified</acceptance-level><system-requires><softwarePlatform version=\"8.0.*\" locale=\"\" productLineID=\"embeddedEsx\"/></system-requires><payloads>{payload_xml}</payloads></vib>"
        );
        descriptors.push((format!("{name}--{}.xml", 1_000_000 + descriptors.len()), d));
    };
    for (i, (name, version, payloads)) in stock_vibs(&spec.build).into_iter().enumerate() {
        let payloads = payloads
            .into_iter()
            .enumerate()
            .map(|(j, (p, m))| {
                Payload::new(
                    p,
                    m,
                    pseudo_random((i * 16 + j) as u64, 16 * 1024 + i * 512),
                    6,
                )
            })
            .collect();
        add_vib(&name, &version, "VMW", payloads);
    }
    let old = old_driver();
    add_vib(&old.name, &old.version, &old.vendor, vec![old.payload()]);
    if spec.bulk_bytes > 0 {
        let each = (spec.bulk_bytes / 16) as usize;
        for n in 0..16 {
            // Stored (level 0) gzip: as large as random data compresses, and fast to build.
            let p = Payload::new(
                &format!("bulk-{n:02}"),
                &format!("bulk_{n:02}.v00"),
                pseudo_random(1000 + n, each),
                0,
            );
            add_vib(&format!("bulk-{n:02}"), "1.0-1", "VMW", vec![p]);
        }
    }

    // Early modules that are not VIB payloads, and the image database.
    let mut modules = vec![
        "/jumpstrt.gz".to_string(),
        "/useropts.gz".into(),
        "/features.gz".into(),
    ];
    for (name, text) in [
        ("jumpstrt.gz", "jumpstart plugins"),
        ("useropts.gz", "autoPartition=FALSE"),
        ("features.gz", "features"),
    ] {
        put(name, &gzip(text.as_bytes(), 6));
    }
    modules.extend(module_names.iter().map(|m| format!("/{m}")));
    let profile = format!(
        "<imageprofile>\n  <name>ESXi-{}-standard</name>\n  <creator>VMware, Inc.</creator>\n  <description>fixture image profile</description>\n  <acceptancelevel>partner</acceptancelevel>\n  <viblist>{profile_vibs}\n  </viblist>\n</imageprofile>\n",
        spec.build
    );
    put("imgdb.tgz", &imgdb_tgz(&profile, &descriptors));
    for name in ["basemisc.tgz", "imgpayld.tgz"] {
        put(name, &gzip(name.as_bytes(), 6));
    }
    modules.extend([
        "/imgdb.tgz".to_string(),
        "/basemisc.tgz".into(),
        "/imgpayld.tgz".into(),
    ]);
    let boot_cfg = format!(
        "bootstate=0\ntitle=Loading ESXi installer\ntimeout=5\nprefix=\nkernel=/b.b00\nkernelopt={}\nmodules={}\nbuild={}\nupdated=0\n",
        spec.kernelopt,
        modules.join(" --- "),
        spec.build
    );
    let boot_cfg = match &spec.boot_cfg_edit {
        Some((from, to)) => boot_cfg.replace(from.as_str(), to),
        None => boot_cfg,
    };
    put("boot.cfg", boot_cfg.as_bytes());
    let efi_cfg = match &spec.efi_boot_cfg_edit {
        Some((from, to)) => boot_cfg.replace(from.as_str(), to),
        None => boot_cfg.clone(),
    };
    std::fs::write(tree.join("EFI/BOOT/BOOT.CFG"), efi_cfg).unwrap();
    for (path, data) in &spec.extra_files {
        let p = tree.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    std::fs::write(
        tree.join("UPGRADE/METADATA.XML"),
        format!("<metadata><build>{}</build></metadata>\n", spec.build),
    )
    .unwrap();

    // BIOS: isolinux with the cat.c32 stand-in as default entry.
    bios_files(&tree, true);
    let title = format!("ESXi-{}-standard", spec.build);
    let isolinux_cfg = format!(
        "SERIAL 0 115200\nDEFAULT show\nPROMPT 0\nTIMEOUT 1\nMENU TITLE {title} Boot Menu\nNOHALT 1\nLABEL install\n  KERNEL mboot.c32\n  APPEND -c boot.cfg\n  MENU LABEL {title} ^Installer\n# fixture stand-in for VMware's mboot.c32: print the BOOT.CFG the BIOS path reads\nLABEL show\n  KERNEL cat.c32\n  APPEND boot.cfg\nLABEL hddboot\n  LOCALBOOT 0x80\n  MENU LABEL ^Boot from local disk\n"
    );
    put("isolinux.cfg", isolinux_cfg.as_bytes());
    efiboot_img(
        &tree.join("EFIBOOT.IMG"),
        spec.uefi.then_some(&spec.uefi_probes[..]),
    );

    let version = spec.build.split('-').next().unwrap_or("8.0.3");
    let mut parts = version.split('.');
    let (major, minor, patch) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap_or("0"),
    );
    let build_number = spec.build.rsplit('.').next().unwrap();
    let volid = format!("ESXI-{major}.{minor}U{patch}-{build_number}");
    let iso = dir.join(format!("esxi-{}.iso", spec.build));
    let relaxed: &[&str] = if spec.relaxed_names {
        &["-relaxed-filenames"]
    } else {
        &[]
    };
    mkisofs_esxi(&tree, &iso, &volid, true, relaxed);
    std::fs::remove_dir_all(&tree).unwrap();
    iso
}

/// `xorriso -as mkisofs` with the layout of VMware's media: no Rock Ridge, `-l`, no system id,
/// Application ID `ESXIMAGE`, catalog `BOOT.CAT`, BIOS `ISOLINUX.BIN` (no emulation, 4 sectors,
/// with a boot-info-table when asked) and UEFI `EFIBOOT.IMG`. `extra` options go before `-o`.
pub fn mkisofs_esxi(
    tree: &Path,
    iso: &Path,
    volume_id: &str,
    boot_info_table: bool,
    extra: &[&str],
) {
    let _ = std::fs::remove_file(iso);
    let table: &[&str] = if boot_info_table {
        &["-boot-info-table"]
    } else {
        &[]
    };
    run(Command::new("xorriso")
        .args([
            "-as", "mkisofs", "-quiet", "--norock", "-l", "-sysid", "", "-A", "ESXIMAGE",
        ])
        .args(["-V", volume_id, "-c", "BOOT.CAT"])
        .args([
            "-b",
            "ISOLINUX.BIN",
            "-no-emul-boot",
            "-boot-load-size",
            "4",
        ])
        .args(table)
        .args(["-eltorito-alt-boot", "-e", "EFIBOOT.IMG", "-no-emul-boot"])
        .args(extra)
        .arg("-o")
        .arg(iso)
        .arg(tree));
}

/// `xorriso -osirrox on -indev ISO -extract / DIR`, made writable: a source tree to rebuild
/// an image from, as a user remastering by hand has it.
pub fn extract_tree(iso: &Path, dir: &Path) {
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", "/"])
        .arg(dir));
    run(Command::new("chmod").arg("-R").arg("u+w").arg(dir));
}

/// `xorriso -indev ISO -report_el_torito plain`.
pub fn el_torito_report(iso: &Path) -> String {
    run(Command::new("xorriso")
        .arg("-indev")
        .arg(iso)
        .args(["-report_el_torito", "plain"]))
}

/// Asserts that `iso` looks like VMware's installer media to xorriso and isoinfo: catalog
/// `/BOOT.CAT`; entry 1 BIOS `/ISOLINUX.BIN`, no emulation, 4 sectors, with a boot-info-table;
/// entry 2 UEFI `/EFIBOOT.IMG`; Application ID `ESXIMAGE`; no Joliet, no Rock Ridge.
pub fn assert_vmware_layout(iso: &Path) {
    let report = el_torito_report(iso);
    for line in [
        "El Torito cat path : /BOOT.CAT",
        "El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4",
        "El Torito img path :   1  /ISOLINUX.BIN",
        "El Torito img opts :   1  boot-info-table",
        "El Torito boot img :   2  UEFI  y   none",
        "El Torito img path :   2  /EFIBOOT.IMG",
    ] {
        assert!(report.contains(line), "xorriso lacks {line:?}:\n{report}");
    }
    let info = isoinfo(&["-d"], iso);
    for line in [
        "Application id: ESXIMAGE",
        "NO Joliet present",
        "NO Rock Ridge present",
    ] {
        assert!(info.contains(line), "isoinfo -d lacks {line:?}:\n{info}");
    }
}

/// `isoinfo ARGS -i ISO` (`-d` volume, `-l` listing, `-R`/`-J` names, `-f` paths).
pub fn isoinfo(args: &[&str], iso: &Path) -> String {
    run(Command::new("isoinfo").args(args).arg("-i").arg(iso))
}

/// A gzip'd tar of the image database: the profile and one descriptor per VIB.
fn imgdb_tgz(profile: &str, descriptors: &[(String, String)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_mtime(1_718_000_000);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, data).unwrap();
    };
    add(
        "var/db/esximg/profiles/ESXi-standard-fixture",
        profile.as_bytes(),
    );
    for (name, d) in descriptors {
        add(&format!("var/db/esximg/vibs/{name}"), d.as_bytes());
    }
    gzip(&b.into_inner().unwrap(), 6)
}

/// isolinux and the syslinux modules it needs for the serial stand-in.
fn bios_files(tree: &Path, upper: bool) {
    let name = |n: &str| {
        if upper {
            n.to_ascii_uppercase()
        } else {
            n.to_string()
        }
    };
    std::fs::copy(
        "/usr/lib/ISOLINUX/isolinux.bin",
        tree.join(name("isolinux.bin")),
    )
    .unwrap();
    for m in [
        "ldlinux.c32",
        "libcom32.c32",
        "libutil.c32",
        "cat.c32",
        "mboot.c32",
    ] {
        std::fs::copy(
            format!("/usr/lib/syslinux/modules/bios/{m}"),
            tree.join(name(m)),
        )
        .unwrap();
    }
}

/// The UEFI El Torito image: a FAT image with `EFI/BOOT/BOOTX64.EFI`. With `probes`, that is a
/// standalone GRUB which prints `/EFI/BOOT/BOOT.CFG` and `FOUND p`/`MISSING p` per probe to the
/// serial console, then `UEFI-PROBE-DONE`, then halts.
fn efiboot_img(path: &Path, probes: Option<&[String]>) {
    let work = tempfile::tempdir().unwrap();
    let efi = work.path().join("BOOTX64.EFI");
    match probes {
        Some(probes) => {
            let mut cfg = String::from(
                "serial --unit=0 --speed=115200\nterminal_output serial\nsearch --no-floppy --file /EFI/BOOT/BOOT.CFG --set=root\necho \"UEFI-ROOT=$root\"\ncat /EFI/BOOT/BOOT.CFG\n",
            );
            for p in probes {
                cfg += &format!(
                    "if [ -f {p} ]; then echo \"FOUND {p}\"; else echo \"MISSING {p}\"; fi\n"
                );
            }
            cfg += "echo UEFI-PROBE-DONE\nhalt\n";
            let cfg_path = work.path().join("grub.cfg");
            std::fs::write(&cfg_path, cfg).unwrap();
            let mods = "serial terminal echo halt iso9660 search search_fs_file cat test part_gpt part_msdos";
            run(Command::new("grub-mkstandalone")
                .args(["-O", "x86_64-efi", "--locales=", "--fonts=", "--themes="])
                .arg(format!("--install-modules={mods} normal configfile"))
                .arg(format!("--modules={mods}"))
                .arg("-o")
                .arg(&efi)
                .arg(format!("boot/grub/grub.cfg={}", cfg_path.display())));
        }
        None => std::fs::write(&efi, b"MZ not a real loader").unwrap(),
    }
    let _ = std::fs::remove_file(path);
    run(Command::new("mkfs.vfat")
        .args(["-C", "-n", "EFIBOOT"])
        .arg(path)
        .arg("2048"));
    run(Command::new("mmd")
        .arg("-i")
        .arg(path)
        .args(["::/EFI", "::/EFI/BOOT"]));
    run(Command::new("mcopy")
        .arg("-i")
        .arg(path)
        .arg(&efi)
        .arg("::/EFI/BOOT/BOOTX64.EFI"));
}

/// Builds an ESXi 4.1 image in `dir`: lower-case names with Rock Ridge and Joliet, BIOS only,
/// `imagedd.bz2` (compressed from `imagedd_raw`) and `imagedd.md5` (`md5sum` output).
pub fn legacy_iso(dir: &Path, imagedd_raw: &[u8]) -> PathBuf {
    let tree = dir.join("src-tree-4.1");
    let _ = std::fs::remove_dir_all(&tree);
    std::fs::create_dir_all(&tree).unwrap();
    bios_files(&tree, false);
    for (i, m) in [
        "vmkboot.gz",
        "vmkernel.gz",
        "sys.vgz",
        "cim.vgz",
        "ienviron.vgz",
        "install.vgz",
        "tboot.gz",
    ]
    .iter()
    .enumerate()
    {
        std::fs::write(tree.join(m), gzip(&pseudo_random(400 + i as u64, 8192), 6)).unwrap();
    }
    std::fs::write(tree.join("imagedd"), imagedd_raw).unwrap();
    run(Command::new("bzip2").arg("-9").arg(tree.join("imagedd")));
    let md5 = run(Command::new("md5sum").arg("imagedd.bz2").current_dir(&tree));
    std::fs::write(tree.join("imagedd.md5"), md5).unwrap();
    std::fs::write(
        tree.join("README.txt"),
        "VMware ESXi 4.1 installer (fixture)\n",
    )
    .unwrap();
    std::fs::write(tree.join("open_source_licenses.txt"), "licenses\n").unwrap();
    let cfg = "serial 0 115200\ndefault show\nprompt 0\ntimeout 1\nmenu title VMware VMvisor Boot Menu\n\nlabel ESXi Installer\nmenu label ^ESXi Installer\nkernel mboot.c32\nappend vmkboot.gz --- vmkernel.gz --- sys.vgz --- cim.vgz --- ienviron.vgz --- install.vgz\n\n# fixture stand-in: print the menu the BIOS path reads\nlabel show\nkernel cat.c32\nappend isolinux.cfg\n\nlabel hddboot\nmenu label ^Boot from local disk\nlocalboot 0x80\n";
    std::fs::write(tree.join("isolinux.cfg"), cfg).unwrap();
    let iso = dir.join("esxi-4.1.0.iso");
    let _ = std::fs::remove_file(&iso);
    run(Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "-l",
            "-R",
            "-J",
            "-r",
            "-sysid",
            "Linux",
            "-A",
            "VMware ESXi Server 4",
            "-V",
            "ESXi-4.1.0-260247",
        ])
        .args([
            "-b",
            "isolinux.bin",
            "-c",
            "boot.cat",
            "-no-emul-boot",
            "-boot-load-size",
            "4",
            "-boot-info-table",
            "-o",
        ])
        .arg(&iso)
        .arg(&tree));
    std::fs::remove_dir_all(&tree).unwrap();
    iso
}

/// `xorriso -osirrox on -indev ISO -extract PATH OUT` — one file, read by a tool we did not write.
pub fn xorriso_extract(iso: &Path, path: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", path])
        .arg(&out));
    std::fs::read(&out).unwrap()
}

/// A file's bytes as the `iso9660` crate (an independent reader of the primary tree) reads them.
pub fn iso9660_read(iso: &Path, path: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let fs = iso9660::ISO9660::new(std::fs::File::open(iso).unwrap())
        .expect("iso9660 crate opens the image");
    match fs.open(path).expect("iso9660 crate reads the tree")? {
        iso9660::DirectoryEntry::File(f) => {
            let mut out = Vec::new();
            f.read().read_to_end(&mut out).unwrap();
            Some(out)
        }
        _ => None,
    }
}

/// Every file of a folder (name → bytes), to show a failed run changed nothing.
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let data = if e.path().is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            (e.file_name().to_string_lossy().into_owned(), data)
        })
        .collect()
}
