//! Network values with their rules: each type accepts only what the installer and the host
//! accept, so a resolved [`Host`](super::Host) cannot hold a VLAN of 5000 or a netmask with holes.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// An 802.1Q VLAN ID, 0 (untagged) to 4094.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Vlan(u16);

impl Vlan {
    pub const MAX: u16 = 4094;

    pub fn new(id: u16) -> Option<Vlan> {
        (id <= Self::MAX).then_some(Vlan(id))
    }

    pub fn id(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Vlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An MTU for a standard vSwitch or a VMkernel NIC: 1280 to 9000 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Mtu(u16);

impl Mtu {
    pub const MIN: u16 = 1280;
    pub const MAX: u16 = 9000;
    pub const DEFAULT: Mtu = Mtu(1500);

    pub fn new(bytes: u16) -> Option<Mtu> {
        (Self::MIN..=Self::MAX)
            .contains(&bytes)
            .then_some(Mtu(bytes))
    }

    pub fn bytes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Mtu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An IPv4 network prefix length, 1 to 32, written in the inventory as `prefix: 24` or
/// `netmask: 255.255.255.0` (a mask with holes is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Prefix(u8);

impl Prefix {
    pub fn new(len: u8) -> Option<Prefix> {
        (1..=32).contains(&len).then_some(Prefix(len))
    }

    /// The prefix of a dotted netmask, if its one bits are contiguous.
    pub fn from_netmask(mask: Ipv4Addr) -> Option<Prefix> {
        let bits = u32::from(mask);
        let len = bits.leading_ones();
        // Contiguous: no one bit after the first zero.
        (bits.checked_shl(len).unwrap_or(0) == 0)
            .then_some(())
            .and_then(|()| u8::try_from(len).ok())
            .and_then(Prefix::new)
    }

    pub fn bits(self) -> u8 {
        self.0
    }

    pub fn netmask(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(self.0)).unwrap_or(0))
    }

    /// Whether `a` and `b` are in the same network under this prefix.
    pub fn same_network(self, a: Ipv4Addr, b: Ipv4Addr) -> bool {
        let mask = u32::from(self.netmask());
        u32::from(a) & mask == u32::from(b) & mask
    }
}

/// An IPv4 address with its prefix: a static VMkernel or management address. Serialized with
/// its dotted netmask too, which is what the installer and `esxcli` take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    pub ip: Ipv4Addr,
    pub prefix: Prefix,
}

impl Ipv4Cidr {
    pub fn netmask(&self) -> Ipv4Addr {
        self.prefix.netmask()
    }
}

impl Serialize for Ipv4Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Ipv4Cidr", 3)?;
        st.serialize_field("ip", &self.ip)?;
        st.serialize_field("prefix", &self.prefix)?;
        st.serialize_field("netmask", &self.netmask())?;
        st.end()
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ip, self.prefix.0)
    }
}

/// An Ethernet MAC address, printed lower case with colons (`00:50:56:aa:bb:01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl FromStr for MacAddr {
    type Err = ();

    /// `00:50:56:AA:BB:01` or `00-50-56-aa-bb-01`.
    fn from_str(s: &str) -> Result<MacAddr, ()> {
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut parts = s.split(sep);
        for byte in &mut out {
            let part = parts.next().ok_or(())?;
            if part.len() != 2 {
                return Err(());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| ())?;
        }
        match parts.next() {
            None => Ok(MacAddr(out)),
            Some(_) => Err(()),
        }
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Declares a string newtype whose value was checked by `$check` when it was made.
macro_rules! checked_name {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The name, if it passes the rule; otherwise why not.
            pub fn new(s: &str) -> Result<$name, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(s).map(|()| $name(s.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

checked_name!(
    /// A physical NIC as ESXi names it: `vmnic0`, or `vusb0` for a USB NIC.
    Vmnic,
    |s| numbered(s, &["vmnic", "vusb"])
);

checked_name!(
    /// A VMkernel NIC: `vmk0`, `vmk1`, …
    VmkName,
    |s| numbered(s, &["vmk"])
);

checked_name!(
    /// A host name: one or more DNS labels (letters, digits, hyphens; 1 to 63 characters each,
    /// not starting or ending with a hyphen), 253 characters at most in all.
    Hostname,
    dns_name
);

checked_name!(
    /// The name of a vSwitch, port group or datastore: printable ASCII without quotes,
    /// backslashes, `$` or backquotes, which survive neither the kickstart nor a shell unharmed.
    Label,
    label
);

fn numbered(s: &str, prefixes: &[&str]) -> Result<(), String> {
    let ok = prefixes.iter().any(|p| {
        s.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()))
    });
    if ok {
        Ok(())
    } else {
        Err(format!("is not a {}N name", prefixes.join("N or ")))
    }
}

fn dns_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.len() > 253 {
        return Err(format!("is {} characters long (253 at most)", s.len()));
    }
    for label in s.split('.') {
        if label.is_empty() {
            return Err("has an empty label (two dots, or a dot at an end)".into());
        }
        if label.len() > 63 {
            return Err(format!(
                "has a label of {} characters (63 at most)",
                label.len()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!(
                "contains {c:?}: only letters, digits, hyphens and dots are allowed"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "has a label {label:?} that starts or ends with a hyphen"
            ));
        }
    }
    // An all-digit last label is a mistyped IPv4 address, not a name (RFC 3696 section 2).
    if s.rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("ends in a number: it is neither an IPv4 address nor a host name".into());
    }
    Ok(())
}

fn label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.len() > 80 {
        return Err(format!("is {} characters long (80 at most)", s.len()));
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return Err("starts or ends with a space".into());
    }
    if let Some(c) = s.chars().find(|c| {
        !(c.is_ascii_graphic() || *c == ' ') || matches!(c, '"' | '\'' | '\\' | '$' | '`')
    }) {
        return Err(format!("contains {c:?}, which is not allowed in a name"));
    }
    Ok(())
}

/// A physical NIC named by ESXi name or by MAC address, as `network --device=` accepts;
/// serialized as that text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NicRef {
    Name(Vmnic),
    Mac(MacAddr),
}

impl fmt::Display for NicRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NicRef::Name(n) => n.fmt(f),
            NicRef::Mac(m) => m.fmt(f),
        }
    }
}

impl Serialize for NicRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks_convert_both_ways_and_holes_are_refused() {
        let p = Prefix::from_netmask(Ipv4Addr::new(255, 255, 255, 0)).unwrap();
        assert_eq!(p.bits(), 24);
        assert_eq!(p.netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(
            Prefix::new(32).unwrap().netmask(),
            Ipv4Addr::new(255, 255, 255, 255)
        );
        assert_eq!(
            Prefix::new(1).unwrap().netmask(),
            Ipv4Addr::new(128, 0, 0, 0)
        );
        assert!(Prefix::from_netmask(Ipv4Addr::new(255, 0, 255, 0)).is_none());
        assert!(Prefix::from_netmask(Ipv4Addr::new(0, 0, 0, 0)).is_none());
        assert!(Prefix::new(0).is_none());
        assert!(Prefix::new(33).is_none());
    }

    #[test]
    fn vlan_and_mtu_ranges() {
        assert!(Vlan::new(0).is_some());
        assert!(Vlan::new(4094).is_some());
        assert!(Vlan::new(4095).is_none());
        assert!(Mtu::new(1279).is_none());
        assert!(Mtu::new(9000).is_some());
        assert!(Mtu::new(9001).is_none());
    }

    #[test]
    fn macs_parse_with_colons_or_dashes() {
        let m: MacAddr = "00:50:56:AA:bb:01".parse().unwrap();
        assert_eq!(m.to_string(), "00:50:56:aa:bb:01");
        assert_eq!("00-50-56-aa-bb-01".parse::<MacAddr>(), Ok(m));
        assert!("00:50:56:aa:bb".parse::<MacAddr>().is_err());
        assert!("00:50:56:aa:bb:01:02".parse::<MacAddr>().is_err());
        assert!("00:50:56:aa:bb:zz".parse::<MacAddr>().is_err());
    }

    #[test]
    fn names_follow_their_rules() {
        assert!(Vmnic::new("vmnic12").is_ok());
        assert!(Vmnic::new("vusb0").is_ok());
        assert!(Vmnic::new("eth0").is_err());
        assert!(VmkName::new("vmk").is_err());
        assert!(Hostname::new("esx01.lab.example.com").is_ok());
        assert_eq!(
            Hostname::new("esx_01").unwrap_err(),
            "contains '_': only letters, digits, hyphens and dots are allowed"
        );
        assert!(Hostname::new("-esx").is_err());
        assert!(Hostname::new("a..b").is_err());
        assert!(Hostname::new("192.168.1.514").is_err());
        assert!(Hostname::new("esx01.1a").is_ok());
        assert!(Label::new("VM Network").is_ok());
        assert!(Label::new("bad\"name").is_err());
        assert!(Label::new(" lead").is_err());
    }
}
