//! `esxforge vib inspect` on VIBs in both `ar` styles and on offline bundles, good and bad.

mod common;

use std::path::Path;
use std::process::Output;

use common::esxi_iso::{self, VibSpec, p, text};

/// `esxforge ARGS… FILE`
fn esxforge(args: &[&str], file: &Path) -> Output {
    let mut args = args.to_vec();
    args.push(p(file));
    esxi_iso::esxforge(&args)
}

#[test]
fn verifies_vmware_and_gnu_style_vibs() {
    let dir = tempfile::tempdir().unwrap();
    for gnu_ar in [false, true] {
        let spec = VibSpec {
            gnu_ar,
            ..VibSpec::driver("net-test", "1.0-1")
        };
        let vib = esxi_iso::vib(dir.path(), &spec);
        let out = esxforge(&["vib", "inspect", "--format", "json"], &vib);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["kind"], "vib");
        assert_eq!(json["ok"], true);
        let v = &json["vibs"][0];
        assert_eq!(v["id"], "TST_bootbank_net-test_1.0-1");
        assert_eq!(v["esxi8_refusal"], serde_json::Value::Null);
        let sums = v["payloads"][0]["checksums"].as_array().unwrap();
        assert_eq!(sums.len(), 3);
        assert!(sums.iter().all(|c| c["result"] == "verified"), "{sums:?}");
        assert_eq!(v["payloads"][0]["size_matches"], true);
        let out = esxforge(&["vib", "inspect"], &vib);
        let t = text(&out);
        assert!(
            t.contains("sha-256 (gunzip)") && t.contains("all verified"),
            "{t}"
        );
    }
}

#[test]
fn wrong_digest_is_a_finding_and_corrupt_payload_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let vib = esxi_iso::vib(
        dir.path(),
        &VibSpec {
            wrong_digest: true,
            ..VibSpec::driver("net-bad", "1.0-1")
        },
    );
    let out = esxforge(&["vib", "inspect"], &vib);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("MISMATCH"), "{}", text(&out));
    let vib = esxi_iso::vib(
        dir.path(),
        &VibSpec {
            corrupt: true,
            ..VibSpec::driver("net-cor", "1.0-1")
        },
    );
    let out = esxforge(&["vib", "inspect"], &vib);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("net-cor") && t.contains("corrupt"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn truncated_and_crlf_damaged_vibs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(esxi_iso::vib(
        dir.path(),
        &VibSpec::driver("net-test", "1.0-1"),
    ))
    .unwrap();
    let cut = dir.path().join("cut.vib");
    std::fs::write(&cut, &good[..good.len() - 1000]).unwrap();
    let out = esxforge(&["vib", "inspect"], &cut);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("cut.vib") && text(&out).contains("truncated"),
        "{}",
        text(&out)
    );
    let crlf = dir.path().join("crlf.vib");
    std::fs::write(&crlf, [&b"!<arch>\r\n"[..], &good[8..]].concat()).unwrap();
    let out = esxforge(&["vib", "inspect"], &crlf);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("binary mode"), "{}", text(&out));
}

#[test]
fn esxi8_refusal_is_reported_for_sha1_only_vibs() {
    let dir = tempfile::tempdir().unwrap();
    let spec = VibSpec {
        sha256_gunzip: false,
        platform: "6.0.0".into(),
        ..VibSpec::driver("net-six", "1.0-1")
    };
    let out = esxforge(
        &["vib", "inspect", "--format", "json"],
        &esxi_iso::vib(dir.path(), &spec),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let why = json["vibs"][0]["esxi8_refusal"].as_str().unwrap();
    assert!(why.contains("sha-256") && why.contains("gunzip"), "{why}");
}

#[test]
fn bundles_are_read_through_their_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let spec = VibSpec::driver("net-test", "1.0-1");
    let vib = esxi_iso::vib(dir.path(), &spec);
    let member = format!("vib20/net-test/{}.vib", spec.id());
    let zip = esxi_iso::bundle(
        dir.path(),
        "net-test-offline-bundle.zip",
        &[(&vib, &spec, member.clone())],
    );
    let out = esxforge(&["vib", "inspect", "--format", "json"], &zip);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kind"], "bundle");
    assert_eq!(json["vibs"][0]["member"], member.as_str());
    assert_eq!(json["ok"], true);
}

#[test]
fn bundles_with_escaping_paths_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spec = VibSpec::driver("net-test", "1.0-1");
    let vib = esxi_iso::vib(dir.path(), &spec);
    let zip = esxi_iso::bundle(
        dir.path(),
        "evil.zip",
        &[(&vib, &spec, "vib20/../../evil.vib".to_string())],
    );
    let out = esxforge(&["vib", "inspect"], &zip);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("evil.zip") && t.contains("escapes"), "{t}");
}

/// A bundle laid out as community build scripts re-author them for ESXi 7+ (William Lam's
/// VIB templates: unzip the vibauthor bundle, add `componentNameSpec` to `vmware.xml` and the
/// bulletin, `cd metadata && zip -r ../metadata.zip bulletins/ vendor-index.xml vibs/ vmware.xml`,
/// then `zip -r bundle.zip index.xml metadata.zip vendor-index.xml vib20/`), zipped here by
/// Info-ZIP to a pipe, so every member has a data descriptor and every folder an entry. Its VIB
/// is packed by GNU `ar` with a payload name too long for the header (a `//` name table).
#[test]
fn info_zip_bundles_with_folders_and_data_descriptors_are_read() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = VibSpec {
        gnu_ar: true,
        payload: "letsencrypt-esxi-dns".into(),
        ..VibSpec::driver("letsencrypt-esxi-dns", "1.0.0-0.0.0")
    };
    let vib = esxi_iso::vib(d, &spec);
    let tree = d.join("bundle");
    let vib_dir = tree.join("vib20").join(&spec.name);
    let meta = tree.join("metadata");
    for sub in [&vib_dir, &meta.join("vibs"), &meta.join("bulletins")] {
        std::fs::create_dir_all(sub).unwrap();
    }
    let member = format!("vib20/{}/{}.vib", spec.name, spec.id());
    std::fs::copy(&vib, tree.join(&member)).unwrap();
    let bytes = std::fs::read(&vib).unwrap();
    let payload = spec.payload();
    let descriptor = spec.descriptor(&payload).replace(
        "</vib>",
        &format!(
            "<relative-path>{member}</relative-path><packed-size>{}</packed-size><checksum><checksum-type>sha-256</checksum-type><checksum>{}</checksum></checksum></vib>",
            bytes.len(),
            esxi_iso::sha256_hex(&bytes)
        ),
    );
    std::fs::write(
        meta.join("vibs/letsencrypt-esxi-dns-1480512398.xml"),
        descriptor,
    )
    .unwrap();
    std::fs::write(
        meta.join("bulletins/letsencrypt-esxi-dns.xml"),
        format!("<bulletin><id>letsencrypt-esxi-dns</id><componentNameSpec name=\"letsencrypt-esxi-dns\" uiString=\"Let's Encrypt\"/><componentVersionSpec uiString=\"1.0.0\" version=\"1.0.0\"/><releaseDate>2024-01-01T00:00:00</releaseDate><vibList><vibID>{}</vibID></vibList></bulletin>", spec.id()),
    )
    .unwrap();
    std::fs::write(
        meta.join("vmware.xml"),
        "<metadataResponse><version>3.0</version></metadataResponse>",
    )
    .unwrap();
    let index = "<metaList><metadata><productId>embeddedEsx</productId><version>8.0.*</version><locale></locale><url>metadata.zip</url><channelName>default</channelName></metadata></metaList>";
    std::fs::write(meta.join("vendor-index.xml"), index).unwrap();
    std::fs::write(tree.join("vendor-index.xml"), index).unwrap();
    std::fs::write(tree.join("index.xml"), "<vendorList><vendor><name>WIL</name><code>WIL</code><indexfile>vendor-index.xml</indexfile><patchUrl></patchUrl><relativePath></relativePath><content><name>VMware ESX</name><type>http://www.vmware.com/depotmanagement/esx</type></content></vendor></vendorList>").unwrap();
    // `zip -r -` writes to a pipe: no seeking back, so sizes and CRCs follow each member.
    let zip_to = |cwd: &Path, out: &Path, members: &[&str]| {
        let o = Command::new("zip")
            .args(["-q", "-r", "-"])
            .args(members)
            .current_dir(cwd)
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::write(out, o.stdout).unwrap();
    };
    zip_to(
        &meta,
        &tree.join("metadata.zip"),
        &["bulletins/", "vendor-index.xml", "vibs/", "vmware.xml"],
    );
    std::fs::remove_dir_all(&meta).unwrap();
    let zip = d.join("letsencrypt-esxi-dns-offline-bundle.zip");
    zip_to(
        &tree,
        &zip,
        &["index.xml", "metadata.zip", "vendor-index.xml", "vib20/"],
    );
    let listing = esxi_iso::run(Command::new("zipinfo").arg("-v").arg(&zip));
    assert!(
        listing.contains("extended local header:                          yes")
            && listing.contains("vib20/letsencrypt-esxi-dns/"),
        "{listing}"
    );

    let out = esxforge(&["vib", "inspect", "--format", "json"], &zip);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ok"], true, "{json}");
    let v = &json["vibs"][0];
    assert_eq!(v["member"], member.as_str());
    assert_eq!(v["payloads"][0]["name"], "letsencrypt-esxi-dns");
    let sums = v["payloads"][0]["checksums"].as_array().unwrap();
    assert!(sums.iter().all(|c| c["result"] == "verified"), "{sums:?}");

    // The same bundle with the VIB's bytes changed after the metadata was written: refused.
    let mut damaged = bytes.clone();
    let at = damaged.len() - 10;
    damaged[at] ^= 0x55;
    std::fs::write(tree.join(&member), damaged).unwrap();
    let zip = d.join("damaged.zip");
    zip_to(
        &tree,
        &zip,
        &["index.xml", "metadata.zip", "vendor-index.xml", "vib20/"],
    );
    let out = esxforge(&["vib", "inspect"], &zip);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("mismatch"), "{}", text(&out));
}
