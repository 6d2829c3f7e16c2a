//! A kickstart server for network installs: each host's rendered kickstart over HTTP, found
//! by the host's name, its management MAC or IP address, or the address the request comes from.
//!
//! | URL                    | the kickstart of                                              |
//! |------------------------|---------------------------------------------------------------|
//! | `/ks/host/<name>`      | the host with this inventory name, FQDN or short host name     |
//! | `/ks/mac/<mac>`        | the host whose `network.device` is this MAC (`:` or `-`, any case) |
//! | `/ks/ip/<ip>`          | the host whose management address is this IP                  |
//! | `/ks/self`             | the host whose management address the request comes from     |
//!
//! Anything else is 404, and only `GET` and `HEAD` are answered. The kickstarts are rendered
//! once, when the server starts, and only they are ever served: there is no file system
//! behind the URLs. They hold password hashes, so bind the server to the installation
//! network only.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::inventory::{Inventory, MacAddr, NicRef};
use crate::render::{RenderError, Renderer};

/// Every host's kickstart, indexed by the ways a request can name it.
pub struct Kickstarts {
    /// Host name and kickstart text, in inventory order.
    hosts: Vec<(String, String)>,
    by_name: HashMap<String, usize>,
    by_mac: HashMap<MacAddr, usize>,
    by_ip: HashMap<Ipv4Addr, usize>,
}

impl Kickstarts {
    /// Render every host of `inventory`.
    pub fn render(renderer: &Renderer, inventory: &Inventory) -> Result<Kickstarts, RenderError> {
        let mut ks = Kickstarts {
            hosts: Vec::with_capacity(inventory.hosts.len()),
            by_name: HashMap::new(),
            by_mac: HashMap::new(),
            by_ip: HashMap::new(),
        };
        for (i, host) in inventory.hosts.iter().enumerate() {
            let text = renderer.render(host, &inventory.salt_seed)?;
            ks.hosts.push((host.name.clone(), text));
            // The inventory check made names, FQDNs, MACs and IPs unique; the host's own
            // name wins over another's short name.
            for name in [
                host.name.as_str(),
                host.network.fqdn.as_str(),
                host.network.hostname.as_str(),
            ] {
                ks.by_name.entry(name.to_ascii_lowercase()).or_insert(i);
            }
            if let NicRef::Mac(mac) = &host.network.device {
                ks.by_mac.insert(*mac, i);
            }
            if let Some(ip) = host.network.ip() {
                ks.by_ip.insert(ip, i);
            }
        }
        Ok(ks)
    }

    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The host name and kickstart a request for `url` from `peer` gets, if any.
    pub fn lookup(&self, url: &str, peer: Option<IpAddr>) -> Option<(&str, &str)> {
        let path = url.split(['?', '#']).next().unwrap_or_default();
        let rest = path.strip_prefix("/ks/")?;
        let index = match rest.split_once('/') {
            Some(("host", name)) => self.by_name.get(&name.to_ascii_lowercase()).copied(),
            Some(("mac", mac)) => mac
                .parse::<MacAddr>()
                .ok()
                .and_then(|m| self.by_mac.get(&m).copied()),
            Some(("ip", ip)) => ip
                .parse::<Ipv4Addr>()
                .ok()
                .and_then(|ip| self.by_ip.get(&ip).copied()),
            None if rest == "self" => match peer? {
                IpAddr::V4(ip) => self.by_ip.get(&ip).copied(),
                IpAddr::V6(ip) => ip
                    .to_ipv4_mapped()
                    .and_then(|ip| self.by_ip.get(&ip).copied()),
            },
            _ => None,
        }?;
        self.hosts
            .get(index)
            .map(|(name, text)| (name.as_str(), text.as_str()))
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: String, message: String },
}

/// One answered request, for the caller's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub peer: Option<SocketAddr>,
    pub method: String,
    pub url: String,
    pub status: u16,
    /// The host whose kickstart was sent.
    pub host: Option<String>,
}

/// An HTTP server over [`Kickstarts`].
pub struct Server {
    http: tiny_http::Server,
    kickstarts: Kickstarts,
}

impl Server {
    /// Listen on `addr` (`0.0.0.0:8080`, `127.0.0.1:0` for any free port).
    pub fn bind(addr: &str, kickstarts: Kickstarts) -> Result<Server, ServeError> {
        let http = tiny_http::Server::http(addr).map_err(|e| ServeError::Bind {
            addr: addr.to_string(),
            message: e.to_string(),
        })?;
        Ok(Server { http, kickstarts })
    }

    /// The address it listens on (with the port chosen when asked for port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.http.server_addr().to_ip()
    }

    /// Answer requests until [`Server::stop`] is called from another thread, reporting each.
    pub fn run(&self, mut log: impl FnMut(&Served)) {
        for request in self.http.incoming_requests() {
            let peer = request.remote_addr().copied();
            let method = request.method().as_str().to_string();
            let url = request.url().to_string();
            let (status, host, response) = self.answer(&method, &url, peer);
            // A client that hung up is its own problem; the server goes on.
            let _ = request.respond(response);
            log(&Served {
                peer,
                method,
                url,
                status,
                host,
            });
        }
    }

    /// Make [`Server::run`] return.
    pub fn stop(&self) {
        self.http.unblock();
    }

    fn answer(
        &self,
        method: &str,
        url: &str,
        peer: Option<SocketAddr>,
    ) -> (
        u16,
        Option<String>,
        tiny_http::Response<std::io::Cursor<Vec<u8>>>,
    ) {
        let text_plain = |body: &str, status: u16| {
            let mut r = tiny_http::Response::from_string(body).with_status_code(status);
            for (k, v) in [
                ("Content-Type", "text/plain; charset=us-ascii"),
                // Kickstarts hold password hashes: keep them out of caches.
                ("Cache-Control", "no-store"),
            ] {
                if let Ok(h) = tiny_http::Header::from_bytes(k, v) {
                    r.add_header(h);
                }
            }
            r
        };
        if method != "GET" && method != "HEAD" {
            return (405, None, text_plain("method not allowed\n", 405));
        }
        match self.kickstarts.lookup(url, peer.map(|p| p.ip())) {
            Some((host, text)) => (200, Some(host.to_string()), text_plain(text, 200)),
            None => (404, None, text_plain("no kickstart here\n", 404)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab() -> Kickstarts {
        let inv =
            Inventory::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/lab.yaml").as_ref())
                .unwrap();
        Kickstarts::render(&Renderer::new(), &inv).unwrap()
    }

    #[test]
    fn every_way_to_name_a_host_finds_it_and_nothing_else_does() {
        let ks = lab();
        let host = |url: &str, peer: Option<&str>| {
            ks.lookup(url, peer.map(|p| p.parse().unwrap()))
                .map(|(h, _)| h)
        };
        assert_eq!(host("/ks/host/esx01", None), Some("esx01"));
        assert_eq!(host("/ks/host/ESX02.lab.example.com", None), Some("esx02"));
        assert_eq!(host("/ks/host/esx02?uuid=1", None), Some("esx02"));
        assert_eq!(host("/ks/mac/00:50:56:A0:10:13", None), Some("esx03"));
        assert_eq!(host("/ks/mac/00-50-56-a0-10-13", None), Some("esx03"));
        assert_eq!(host("/ks/ip/10.0.10.12", None), Some("esx02"));
        assert_eq!(host("/ks/self", Some("10.0.10.11")), Some("esx01"));
        assert_eq!(host("/ks/self", Some("::ffff:10.0.10.13")), Some("esx03"));
        for miss in [
            "/ks/host/esx09",
            "/ks/mac/00:50:56:a0:10:99",
            "/ks/mac/nonsense",
            "/ks/ip/10.0.10.99",
            "/ks/ip/../../etc/passwd",
            "/ks/host/../esx01",
            "/ks/",
            "/ks",
            "/",
            "/esx01.ks.cfg",
            "/ks/host/esx01/extra",
        ] {
            assert_eq!(host(miss, Some("10.0.10.11")), None, "{miss}");
        }
        assert_eq!(host("/ks/self", Some("10.0.10.99")), None);
        assert_eq!(host("/ks/self", None), None);
        let (_, text) = ks.lookup("/ks/host/esx01", None).unwrap();
        assert!(text.contains("--hostname=esx01.lab.example.com"));
    }
}
