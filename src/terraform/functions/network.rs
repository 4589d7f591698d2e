//! IP network functions. Addresses are numbers (`u128`, IPv4 in the low 32 bits) with a
//! prefix length. Their arguments are wholly known.

use super::super::ops::error_value;
use super::args::{strs, Call};
use crate::model::Value;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A network: its (masked) address, prefix length, and whether it is IPv6.
#[derive(Clone, Copy)]
struct Net {
    addr: u128,
    len: u32,
    v6: bool,
}

impl Net {
    fn bits(self) -> u32 {
        if self.v6 {
            128
        } else {
            32
        }
    }

    /// The host part's mask for a prefix of `len` bits.
    fn host_mask(self, len: u32) -> u128 {
        let host_bits = self.bits() - len;
        1u128.checked_shl(host_bits).map_or(u128::MAX, |m| m - 1)
    }

    fn all_ones(self) -> u128 {
        self.host_mask(0)
    }

    fn contains(self, addr: u128) -> bool {
        addr & !self.host_mask(self.len) == self.addr
    }

    fn text(self) -> String {
        format!("{}/{}", ip_text(self.addr, self.v6), self.len)
    }
}

fn parse_ip(s: &str) -> Option<(u128, bool)> {
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => Some((u32::from(a) as u128, false)),
        IpAddr::V6(a) => Some((u128::from(a), true)),
    }
}

fn parse_cidr(s: &str) -> Result<Net, Value> {
    let bad = || error_value(format!("invalid CIDR prefix {s:?}"));
    let (ip, len) = s.split_once('/').ok_or_else(bad)?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    let (addr, v6) = parse_ip(ip).ok_or_else(bad)?;
    let net = Net { addr, len, v6 };
    if len > net.bits() {
        return Err(bad());
    }
    Ok(Net { addr: addr & !net.host_mask(len), ..net })
}

fn ip_text(addr: u128, v6: bool) -> String {
    if v6 {
        Ipv6Addr::from(addr).to_string()
    } else {
        Ipv4Addr::from(addr as u32).to_string()
    }
}

pub fn cidrsubnet(c: &Call) -> Result<Value, Value> {
    let net = parse_cidr(&c.str(0)?)?;
    let (newbits, netnum) = (c.int(1)?, c.int(2)?);
    let new_len = net.len as i64 + newbits;
    if newbits < 0 || new_len > net.bits() as i64 {
        return Err(c.fail(format!("cannot extend /{} by {newbits} bits", net.len)));
    }
    let limit = 1u128.checked_shl(newbits as u32).unwrap_or(u128::MAX);
    if netnum < 0 || netnum as u128 >= limit {
        return Err(c.fail(format!("{netnum} does not fit in {newbits} bits")));
    }
    let shift = net.bits() - new_len as u32;
    let addr = net.addr | (netnum as u128).checked_shl(shift).unwrap_or(0);
    Ok(Value::Str(Net { addr, len: new_len as u32, ..net }.text()))
}

pub fn cidrhost(c: &Call) -> Result<Value, Value> {
    let prefix = c.str(0)?;
    let net = parse_cidr(&prefix)?;
    let hostnum = c.int(1)?;
    let size = net.host_mask(net.len).checked_add(1);
    let host = if hostnum < 0 { size.and_then(|s| s.checked_sub(hostnum.unsigned_abs() as u128)) } else { Some(hostnum as u128) };
    match host {
        Some(h) if h <= net.host_mask(net.len) => Ok(Value::Str(ip_text(net.addr | h, net.v6))),
        _ => Err(c.fail(format!("host number {hostnum} is out of range for {prefix}"))),
    }
}

pub fn cidrnetmask(c: &Call) -> Result<Value, Value> {
    let net = parse_cidr(&c.str(0)?)?;
    if net.v6 {
        return Err(c.fail("only IPv4 prefixes have a netmask"));
    }
    let mask = if net.len == 0 { 0u32 } else { u32::MAX << (32 - net.len) };
    Ok(Value::Str(Ipv4Addr::from(mask).to_string()))
}

/// `cidrsubnets(prefix, newbits...)`: consecutive subnets of the given sizes, each aligned
/// after the previous one, as Terraform allocates them (go-cidr's `NextSubnet`).
pub fn cidrsubnets(c: &Call) -> Result<Value, Value> {
    let net = parse_cidr(&c.str(0)?)?;
    let mut out = Vec::new();
    let mut current: Option<Net> = None;
    for i in 1..c.args.len() {
        let newbits = c.int(i)?;
        if newbits < 1 {
            return Err(c.fail("must extend prefix by at least one bit"));
        }
        let len = net.len as i64 + newbits;
        if len > net.bits() as i64 {
            return Err(c.fail(format!("would extend prefix to {len} bits, which is too long for an IPv{} address", if net.v6 { 6 } else { 4 })));
        }
        let len = len as u32;
        let start = current.unwrap_or_else(|| previous(net, len));
        let next = next_subnet(start, len).filter(|n| net.contains(n.addr));
        let next = next.ok_or_else(|| c.fail(format!("not enough remaining address space for a subnet with a prefix of {len} bits after {}", start.text())))?;
        out.push(next.text());
        current = Some(next);
    }
    Ok(strs(out))
}

/// The subnet of `len` bits just before `net`'s first address (wrapping at zero).
fn previous(net: Net, len: u32) -> Net {
    let addr = net.addr.wrapping_sub(1) & net.all_ones();
    Net { addr: addr & !net.host_mask(len), len, ..net }
}

/// The subnet of `len` bits after `current`; `None` when the address space rolls over.
fn next_subnet(current: Net, len: u32) -> Option<Net> {
    let last = current.addr | current.host_mask(current.len);
    let last = (last & !current.host_mask(len)) | current.host_mask(len);
    let next = last.wrapping_add(1) & current.all_ones();
    (next != 0).then_some(Net { addr: next & !current.host_mask(len), len, ..current })
}

/// OpenTofu's `cidrcontains(prefix, address or prefix)`.
pub fn cidrcontains(c: &Call) -> Result<Value, Value> {
    let outer = parse_cidr(&c.str(0)?)?;
    let inner = c.str(1)?;
    let (first, last, v6) = if inner.contains('/') {
        let net = parse_cidr(&inner)?;
        (net.addr, net.addr | net.host_mask(net.len), net.v6)
    } else {
        let (addr, v6) = parse_ip(&inner).ok_or_else(|| c.fail(format!("invalid IP address or prefix: {inner}")))?;
        (addr, addr, v6)
    };
    if v6 != outer.v6 {
        return Err(c.fail("the prefix and the address must be of the same IP version"));
    }
    Ok(Value::Bool(outer.contains(first) && outer.contains(last)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_errors, check};

    #[test]
    fn subnets_hosts_and_containment() {
        check(&[
            (r#"cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)"#, r#"["10.1.0.0/20","10.1.16.0/20","10.1.32.0/24","10.1.48.0/20"]"#),
            (
                r#"cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)"#,
                r#"["fd00:fd12:3456:7800::/72","fd00:fd12:3456:7800:100::/72","fd00:fd12:3456:7800:200::/72","fd00:fd12:3456:7800:300::/88"]"#,
            ),
            (r#"cidrsubnets("10.0.0.0/8")"#, "[]"),
            (r#"cidrcontains("192.168.2.0/24", "192.168.2.1")"#, "true"),
            (r#"cidrcontains("192.168.2.0/24", "192.168.3.1")"#, "false"),
            (r#"cidrcontains("192.168.2.0/24", "192.168.2.128/25")"#, "true"),
            (r#"cidrcontains("192.168.2.0/24", "192.168.0.0/16")"#, "false"),
            (r#"cidrcontains("fd00::/8", "fd12::1")"#, "true"),
            (r#"cidrhost("fd00::/64", 255)"#, r#""fd00::ff""#),
            (r#"cidrnetmask("10.0.0.0/0")"#, r#""0.0.0.0""#),
        ]);
        assert_errors(&[
            r#"cidrsubnets("10.0.0.0/30", 1, 1, 1)"#,
            r#"cidrsubnets("10.0.0.0/30", 3)"#,
            r#"cidrsubnets("10.0.0.0/16", 0)"#,
            r#"cidrsubnets("0.0.0.0/0", 1, 2)"#,
            r#"cidrcontains("10.0.0.0/8", "::1")"#,
            r#"cidrcontains("10.0.0.0/8", "nonsense")"#,
            r#"cidrcontains("10.0.0.0", "10.0.0.1")"#,
            r#"cidrnetmask("fd00::/8")"#,
        ]);
    }
}
