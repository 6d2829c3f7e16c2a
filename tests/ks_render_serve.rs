//! `esxforge ks serve`, started on loopback and asked by a real HTTP client (curl).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The server process; killed when the test ends, however it ends.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(inventory: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_esxforge"))
        .args([
            "ks",
            "serve",
            "-i",
            inventory.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "serving 4 kickstarts on http://127.0.0.1:PORT/ks/{...}"
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .and_then(|u| u.split("/ks/").next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Served { child, base }
}

/// Status and body of `curl` asking `url`, with extra curl arguments.
fn curl(url: &str, extra: &[&str]) -> (u16, Vec<u8>) {
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--write-out",
            "\n%{http_code}",
        ])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl is installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = out.stdout;
    let cut = body.iter().rposition(|&b| b == b'\n').unwrap();
    let status = String::from_utf8_lossy(&body[cut + 1..]).parse().unwrap();
    (status, body[..cut].to_vec())
}

/// The lab, plus a host whose management address is 127.0.0.2, so that a request from that
/// loopback address finds it by source address.
fn inventory(dir: &Path) -> std::path::PathBuf {
    let lab =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab.yaml"))
            .unwrap();
    let path = dir.join("inv.yaml");
    std::fs::write(
        &path,
        format!("{lab}  lo2:\n    network: {{ip: 127.0.0.2, netmask: 255.0.0.0, gateway: null}}\n    vmkernel: [{{name: vmk1, ip: 10.0.20.99}}]\n"),
    )
    .unwrap();
    path
}

#[test]
fn kickstarts_by_name_mac_ip_and_source_address_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path());
    // What `ks render` writes is what `ks serve` sends.
    let out = dir.path().join("out");
    let render = Command::new(env!("CARGO_BIN_EXE_esxforge"))
        .args([
            "ks",
            "render",
            "-i",
            inv.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .status()
        .unwrap();
    assert!(render.success());
    let rendered = |host: &str| std::fs::read(out.join(format!("{host}.ks.cfg"))).unwrap();

    let server = serve(&inv);
    let b = &server.base;
    for (url, host) in [
        (format!("{b}/ks/host/esx01"), "esx01"),
        (format!("{b}/ks/host/esx02.lab.example.com"), "esx02"),
        (format!("{b}/ks/mac/00:50:56:A0:10:13"), "esx03"),
        (format!("{b}/ks/ip/10.0.10.12"), "esx02"),
    ] {
        let (status, body) = curl(&url, &[]);
        assert_eq!(status, 200, "{url}");
        assert_eq!(body, rendered(host), "{url}");
    }
    let (status, body) = curl(&format!("{b}/ks/self"), &["--interface", "127.0.0.2"]);
    assert_eq!((status, body), (200, rendered("lo2")));

    // From 127.0.0.1, which is no host's address, and for anything else: 404.
    for url in [
        "/ks/self",
        "/ks/host/esx09",
        "/ks/mac/00:50:56:a0:10:99",
        "/ks/ip/10.0.10.99",
        "/",
        "/esx01.ks.cfg",
        "/ks/host/..%2F..%2Fetc%2Fpasswd",
    ] {
        let (status, body) = curl(&format!("{b}{url}"), &["--path-as-is"]);
        assert_eq!(status, 404, "{url}");
        assert_eq!(body, b"no kickstart here\n", "{url}");
    }
    let (status, _) = curl(
        &format!("{b}/ks/host/esx01"),
        &["--request", "POST", "--data", "x"],
    );
    assert_eq!(status, 405);
    // HEAD answers the headers of GET and no body.
    let (status, body) = curl(&format!("{b}/ks/host/esx01"), &["--head"]);
    assert_eq!(status, 200);
    let headers = String::from_utf8_lossy(&body).to_ascii_lowercase();
    assert!(
        headers.contains(&format!("content-length: {}", rendered("esx01").len())),
        "{headers}"
    );
    assert!(headers.contains("cache-control: no-store"), "{headers}");
}

#[test]
fn an_address_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_esxforge"))
        .args(["ks", "serve", "-i", "examples/lab.yaml", "--listen", &addr])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("esxforge: error: cannot listen on {addr}: ")),
        "{stderr}"
    );
}
