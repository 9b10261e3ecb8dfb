//! Network policy: CIDR allowlists and the client address behind trusted proxies.
//!
//! Two lists of ranges with opposite defaults live here. An empty [`Allowlist`] means "no
//! policy" and lets every address in, matching a tenant that has not configured IP
//! restrictions. An empty [`TrustedProxies`] means "trust nobody", so forwarding headers are
//! ignored unless a deployment names its proxies.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are treated as the IPv4 address they carry
//! everywhere, because a dual-stack listener reports IPv4 peers in that form.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use http::HeaderMap;
use ipnet::IpNet;

/// The de facto `X-Forwarded-For` header, consulted when there is no `Forwarded` header.
pub(crate) const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Why a range list entry was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The entry is neither an IP address nor a CIDR range; the value is the entry as given.
    #[error("{0:?} is not an IP address or CIDR range")]
    InvalidRange(String),
    /// A CIDR range with bits set below its prefix (`10.1.2.3/8`): it is not clear whether
    /// the range (`10.0.0.0/8`) or the single address (`10.1.2.3`) was meant, and guessing
    /// the range could let in far more addresses than intended.
    #[error(
        "{entry:?} has host bits set below its /{prefix} prefix: write {network} for the range, or {address} for the single address"
    )]
    HostBitsSet {
        /// The entry as given.
        entry: String,
        /// The range it would be with the host bits cleared.
        network: IpNet,
        /// The address before the slash.
        address: IpAddr,
        /// The prefix length after the slash.
        prefix: u8,
    },
}

/// Parses one entry: a CIDR range, or a bare address meaning a single host (/32 or /128).
///
/// A range with host bits set (`10.1.2.3/8`) is refused ([`NetworkError::HostBitsSet`]), not
/// normalised: an allowlist that is wider than its author meant is a security hole.
fn parse_range(entry: &str) -> Result<IpNet, NetworkError> {
    let trimmed = entry.trim();
    if let Ok(net) = trimmed.parse::<IpNet>() {
        if net.trunc() != net {
            return Err(NetworkError::HostBitsSet {
                entry: entry.to_owned(),
                network: net.trunc(),
                address: net.addr(),
                prefix: net.prefix_len(),
            });
        }
        return Ok(net);
    }
    trimmed
        .parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| NetworkError::InvalidRange(entry.to_owned()))
}

/// Parses every entry, failing on the first bad one.
fn parse_ranges<I, S>(entries: I) -> Result<Vec<IpNet>, NetworkError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    entries
        .into_iter()
        .map(|entry| parse_range(entry.as_ref()))
        .collect()
}

/// Whether any range holds `ip`, treating IPv4-mapped IPv6 as IPv4 on both sides.
fn ranges_contain(ranges: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    // A range written in mapped form (`::ffff:192.0.2.0/120`) holds the mapped form of the
    // canonical IPv4 address, so both spellings are tried.
    let mapped = match ip {
        IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
        IpAddr::V6(_) => None,
    };
    ranges
        .iter()
        .any(|net| net.contains(&ip) || mapped.is_some_and(|m| net.contains(&m)))
}

/// The address ranges a tenant accepts requests from.
///
/// An empty allowlist means "no policy": [`Allowlist::contains`] returns `true` for every
/// address. This is also the [`Default`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Allowlist(pub Vec<IpNet>);

impl Allowlist {
    /// Parses entries such as `"203.0.113.0/24"`, `"2001:db8::/32"` or a bare address.
    pub(crate) fn parse<I, S>(entries: I) -> Result<Allowlist, NetworkError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        parse_ranges(entries).map(Allowlist)
    }

    /// Whether no ranges are configured, which allows everything.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether requests from `ip` are allowed.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        self.0.is_empty() || ranges_contain(&self.0, ip)
    }
}

impl FromStr for Allowlist {
    type Err = NetworkError;

    /// Parses a comma-separated list; an empty or blank string gives the empty allowlist.
    fn from_str(s: &str) -> Result<Allowlist, NetworkError> {
        Allowlist::parse(s.split(',').filter(|e| !e.trim().is_empty()))
    }
}

/// The proxies whose forwarding headers are believed.
///
/// An empty list trusts nobody, so the peer address is always the client address. This is also
/// the [`Default`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustedProxies(pub(crate) Vec<IpNet>);

impl TrustedProxies {
    /// Parses entries, each a CIDR range or a bare address (a single host); a range with host
    /// bits set is refused, as in a workspace's allowlist.
    pub fn parse<I, S>(entries: I) -> Result<TrustedProxies, NetworkError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        parse_ranges(entries).map(TrustedProxies)
    }

    /// Whether `ip` is a trusted proxy; always `false` for an empty list.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        ranges_contain(&self.0, ip)
    }
}

impl FromStr for TrustedProxies {
    type Err = NetworkError;

    /// Parses a comma-separated list; an empty or blank string trusts nobody.
    fn from_str(s: &str) -> Result<TrustedProxies, NetworkError> {
        TrustedProxies::parse(s.split(',').filter(|e| !e.trim().is_empty()))
    }
}

/// The address of the client a request came from.
///
/// If `peer` (the TCP peer) is not a trusted proxy, the headers are never looked at: anyone can
/// send them. If it is, the forwarding chain is read from the `Forwarded` header (RFC 7239) or,
/// only when no `Forwarded` header is present, from `X-Forwarded-For`. The chain is walked from
/// the right, the end nearest to us, skipping trusted proxies; the first address that is not a
/// trusted proxy is the client, because everything to its left was written by a party we do
/// not trust. If that hop is unknown, obfuscated or unparseable, or the header is missing or
/// malformed, the peer address is returned. If every hop is a trusted proxy, the leftmost one
/// is returned, since the whole chain was written by trusted parties.
///
/// The result has IPv4-mapped IPv6 addresses converted to IPv4.
///
/// A caveat follows from preferring `Forwarded`: proxies that only append to
/// `X-Forwarded-For` must strip an incoming `Forwarded` header, or a client could supply one.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let chain = if headers.contains_key(http::header::FORWARDED) {
        forwarded_chain(headers)
    } else {
        x_forwarded_for_chain(headers)
    };
    let Some(chain) = chain else {
        return peer;
    };

    let mut leftmost_trusted = None;
    for hop in chain.into_iter().rev() {
        match hop.map(|ip| ip.to_canonical()) {
            Some(ip) if trusted.contains(ip) => leftmost_trusted = Some(ip),
            Some(ip) => return ip,
            None => return peer,
        }
    }
    leftmost_trusted.unwrap_or(peer)
}

/// All lines of a header as text, or `None` if any line is not visible ASCII.
fn header_lines<'a>(headers: &'a HeaderMap, name: &str) -> Option<Vec<&'a str>> {
    headers
        .get_all(name)
        .iter()
        .map(|value| value.to_str().ok())
        .collect()
}

/// The `X-Forwarded-For` hops in order, left to right; `None` for an unknown hop.
///
/// Returns `None` if a line is not text. Empty list elements are skipped, as HTTP list syntax
/// allows them.
fn x_forwarded_for_chain(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let lines = header_lines(headers, X_FORWARDED_FOR)?;
    Some(
        lines
            .iter()
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .filter(|element| !element.is_empty())
            .map(parse_node)
            .collect(),
    )
}

/// The `for=` node of each `Forwarded` element in order; `None` for an element whose node is
/// unknown, obfuscated, unparseable or absent.
///
/// Returns `None` if the header as a whole is malformed, for example an unterminated quoted
/// string, because then element boundaries cannot be trusted.
fn forwarded_chain(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let lines = header_lines(headers, http::header::FORWARDED.as_str())?;
    let mut chain = Vec::new();
    for line in lines {
        for element in split_unquoted(line, b',')? {
            if element.trim().is_empty() {
                continue;
            }
            let mut node = None;
            for pair in split_unquoted(element, b';')? {
                let pair = pair.trim();
                if pair.is_empty() {
                    continue;
                }
                let (name, value) = pair.split_once('=')?;
                if name.trim().eq_ignore_ascii_case("for") {
                    let value = unquote(value.trim())?;
                    // A repeated `for` makes the element ambiguous, so it counts as unknown.
                    node = if node.is_none() {
                        Some(parse_node(&value))
                    } else {
                        Some(None)
                    };
                }
            }
            chain.push(node.flatten());
        }
    }
    Some(chain)
}

/// Splits `s` at every `sep` byte outside a quoted string; `None` if a quote is unterminated.
fn split_unquoted(s: &str, sep: u8) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, &byte) in s.as_bytes().iter().enumerate() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_quotes = false;
            }
        } else if byte == b'"' {
            in_quotes = true;
        } else if byte == sep {
            // `sep` is ASCII, so `i` and `i + 1` are character boundaries.
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    if in_quotes {
        return None;
    }
    parts.push(&s[start..]);
    Some(parts)
}

/// A token as is, or a quoted string with its quotes removed and escapes resolved.
///
/// `None` if a quoted string has text after its closing quote or is cut short.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return (!value.contains('"')).then(|| value.to_owned());
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return chars.as_str().is_empty().then_some(out),
            other => out.push(other),
        }
    }
    None
}

/// An RFC 7239 node (`192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]:4711`) as an address.
///
/// `unknown`, obfuscated identifiers (`_hidden`) and anything malformed give `None`. A bare
/// IPv6 address without brackets is accepted too, since `X-Forwarded-For` writers use it.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let ip = v6.parse::<Ipv6Addr>().ok()?;
        return valid_port_suffix(after).then_some(IpAddr::V6(ip));
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    let (host, port) = node.split_once(':')?;
    let ip = host.parse::<Ipv4Addr>().ok()?;
    valid_port(port).then_some(IpAddr::V4(ip))
}

/// Whether `after` is empty or `:` followed by a port.
fn valid_port_suffix(after: &str) -> bool {
    after.is_empty() || after.strip_prefix(':').is_some_and(valid_port)
}

/// A decimal port, or an obfuscated port (`_` then letters, digits, `.`, `_` or `-`).
fn valid_port(port: &str) -> bool {
    if let Some(obfuscated) = port.strip_prefix('_') {
        return !obfuscated.is_empty()
            && obfuscated
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    }
    (1..=5).contains(&port.len())
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries).unwrap()
    }

    #[test]
    fn ipv4_allowlist() {
        let list = Allowlist::parse(["203.0.113.0/24", "198.51.100.7"]).unwrap();
        assert!(list.contains(ip("203.0.113.0")));
        assert!(list.contains(ip("203.0.113.255")));
        assert!(!list.contains(ip("203.0.114.1")));
        assert!(list.contains(ip("198.51.100.7")));
        assert!(!list.contains(ip("198.51.100.8")));
        assert!(!list.contains(ip("2001:db8::1")));
    }

    #[test]
    fn ipv6_allowlist() {
        let list = Allowlist::parse(["2001:db8::/32", "2001:db9::5"]).unwrap();
        assert!(list.contains(ip("2001:db8:ffff::1")));
        assert!(!list.contains(ip("2001:db7::1")));
        assert!(list.contains(ip("2001:db9::5")));
        assert!(!list.contains(ip("2001:db9::6")));
        assert!(!list.contains(ip("192.0.2.1")));
    }

    #[test]
    fn bare_addresses_are_single_hosts() {
        let list = Allowlist::parse([" 192.0.2.1 ", "2001:db8::1"]).unwrap();
        assert_eq!(
            list.0,
            vec![
                "192.0.2.1/32".parse::<IpNet>().unwrap(),
                "2001:db8::1/128".parse::<IpNet>().unwrap()
            ]
        );
    }

    #[test]
    fn ranges_with_host_bits_set_are_refused() {
        let err = Allowlist::parse(["10.1.2.3/8"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"10.1.2.3/8\" has host bits set below its /8 prefix: write 10.0.0.0/8 for the range, or 10.1.2.3 for the single address"
        );
        let err = TrustedProxies::parse(["2001:db8::7/32"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"2001:db8::7/32\" has host bits set below its /32 prefix: write 2001:db8::/32 for the range, or 2001:db8::7 for the single address"
        );
        // A network address, a full-length prefix and a bare address are fine.
        let list = Allowlist::parse(["10.0.0.0/8", "10.1.2.3/32", "10.1.2.3", "::/0"]).unwrap();
        assert!(list.contains(ip("10.200.0.1")));
    }

    #[test]
    fn mapped_addresses_match_ipv4_ranges() {
        let list = Allowlist::parse(["192.0.2.0/24"]).unwrap();
        assert!(list.contains(ip("::ffff:192.0.2.1")));
        assert!(!list.contains(ip("::ffff:192.0.3.1")));
        // A range written in mapped form matches plain IPv4 as well.
        let mapped = Allowlist::parse(["::ffff:192.0.2.0/120"]).unwrap();
        assert!(mapped.contains(ip("192.0.2.1")));
        assert!(mapped.contains(ip("::ffff:192.0.2.1")));
        assert!(!mapped.contains(ip("192.0.3.1")));
    }

    #[test]
    fn empty_allowlist_allows_everything() {
        let list = Allowlist::default();
        assert!(list.is_empty());
        assert!(list.contains(ip("192.0.2.1")));
        assert!(list.contains(ip("2001:db8::1")));
        assert_eq!("".parse::<Allowlist>(), Ok(Allowlist::default()));
    }

    #[test]
    fn comma_separated_lists_parse() {
        let list: Allowlist = "203.0.113.0/24, 2001:db8::/32".parse().unwrap();
        assert_eq!(list.0.len(), 2);
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        assert!(trusted.contains(ip("10.1.1.1")));
    }

    #[test]
    fn bad_ranges_are_rejected() {
        for bad in [
            "203.0.113.0/33",
            "2001:db8::/129",
            "not-an-ip",
            "",
            "203.0.113/24",
            "1.2.3.4/",
        ] {
            assert_eq!(
                Allowlist::parse([bad]),
                Err(NetworkError::InvalidRange(bad.to_owned())),
                "{bad}"
            );
        }
        assert_eq!(
            TrustedProxies::parse(["10.0.0.0/8", "nope"]),
            Err(NetworkError::InvalidRange("nope".to_owned()))
        );
        assert_eq!(
            NetworkError::InvalidRange("203.0.113.0/33".to_owned()).to_string(),
            "\"203.0.113.0/33\" is not an IP address or CIDR range"
        );
    }

    #[test]
    fn untrusted_peer_ignores_spoofed_headers() {
        let map = headers(&[(X_FORWARDED_FOR, "1.2.3.4"), ("forwarded", "for=1.2.3.4")]);
        let peer = ip("198.51.100.7");
        assert_eq!(client_ip(peer, &map, &proxies(&["10.0.0.0/8"])), peer);
        assert_eq!(client_ip(peer, &map, &TrustedProxies::default()), peer);
    }

    #[test]
    fn trusted_peer_with_x_forwarded_for() {
        let map = headers(&[(X_FORWARDED_FOR, "203.0.113.9")]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &map, &proxies(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_peer_without_headers_is_the_client() {
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &proxies(&["10.0.0.0/8"])),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn chain_with_several_proxies_gives_rightmost_untrusted() {
        // The client spoofed 1.1.1.1; 203.0.113.9 is the real client; two proxies appended.
        let map = headers(&[(X_FORWARDED_FOR, "1.1.1.1, 203.0.113.9, 10.0.0.3, 10.0.0.2")]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &map, &proxies(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn chain_across_header_lines() {
        let map = headers(&[
            (X_FORWARDED_FOR, "1.1.1.1, 203.0.113.9"),
            (X_FORWARDED_FOR, "10.0.0.3"),
        ]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &map, &proxies(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn fully_trusted_chain_gives_leftmost() {
        let map = headers(&[(X_FORWARDED_FOR, "10.9.9.9, 10.0.0.2")]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &map, &proxies(&["10.0.0.0/8"])),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn x_forwarded_for_with_ports_and_ipv6() {
        let trusted = proxies(&["10.0.0.0/8"]);
        for (value, expected) in [
            ("203.0.113.9:5555", "203.0.113.9"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]:4711", "2001:db8::1"),
            ("::ffff:203.0.113.9", "203.0.113.9"),
        ] {
            let map = headers(&[(X_FORWARDED_FOR, value)]);
            assert_eq!(
                client_ip(ip("10.0.0.1"), &map, &trusted),
                ip(expected),
                "{value}"
            );
        }
    }

    #[test]
    fn forwarded_with_quoted_ipv6_and_port() {
        let map = headers(&[(
            "forwarded",
            r#"for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2;by=10.0.0.1"#,
        )]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &map, &proxies(&["10.0.0.0/8"])),
            ip("2001:db8:cafe::17")
        );
    }

    #[test]
    fn forwarded_forms() {
        let trusted = proxies(&["10.0.0.0/8", "fd00::/8"]);
        for (value, expected) in [
            ("for=192.0.2.60", "192.0.2.60"),
            ("For=\"192.0.2.60:80\"", "192.0.2.60"),
            ("for=192.0.2.43, for=198.51.100.17", "198.51.100.17"),
            ("for=192.0.2.43, for=\"[fd00::1]\"", "192.0.2.43"),
            (
                "proto=http;for=\"192.0.2.60:_abc\";by=203.0.113.43",
                "192.0.2.60",
            ),
            ("for=\"[::ffff:192.0.2.7]\"", "192.0.2.7"),
            ("for=\"192.0.2.9\\\"\"", "10.0.0.1"),
            ("for=\"host;name\", for=192.0.2.1", "192.0.2.1"),
            ("for=unknown", "10.0.0.1"),
            ("for=_hidden, for=10.0.0.5", "10.0.0.1"),
            ("for=192.0.2.1, for=unknown", "10.0.0.1"),
            ("for=\"_gazonk\"", "10.0.0.1"),
            ("proto=https", "10.0.0.1"),
            ("for=192.0.2.1;for=192.0.2.2", "10.0.0.1"),
        ] {
            let map = headers(&[("forwarded", value)]);
            assert_eq!(
                client_ip(ip("10.0.0.1"), &map, &trusted),
                ip(expected),
                "{value}"
            );
        }
    }

    #[test]
    fn forwarded_across_header_lines() {
        let map = headers(&[
            ("forwarded", "for=192.0.2.43"),
            ("forwarded", "for=10.0.0.2"),
        ]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &map, &proxies(&["10.0.0.0/8"])),
            ip("192.0.2.43")
        );
    }

    #[test]
    fn forwarded_is_preferred_over_x_forwarded_for() {
        let map = headers(&[
            (X_FORWARDED_FOR, "198.51.100.1"),
            ("forwarded", "for=192.0.2.43"),
        ]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &map, &proxies(&["10.0.0.0/8"])),
            ip("192.0.2.43")
        );
        // A malformed Forwarded header still wins, and falls back to the peer.
        let map = headers(&[
            (X_FORWARDED_FOR, "198.51.100.1"),
            ("forwarded", "for=\"192.0.2.43"),
        ]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &map, &proxies(&["10.0.0.0/8"])),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn garbage_headers_give_the_peer() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.1");
        for (name, value) in [
            (X_FORWARDED_FOR, "garbage"),
            (X_FORWARDED_FOR, "203.0.113.9, not an ip"),
            (X_FORWARDED_FOR, "203.0.113.9:99999"),
            (X_FORWARDED_FOR, "[2001:db8::1"),
            (X_FORWARDED_FOR, ""),
            ("forwarded", "garbage"),
            ("forwarded", "for=\"unterminated"),
            ("forwarded", "for=\"[2001:db8::1]\"junk"),
            ("forwarded", "for=[2001:db8::1]x"),
            ("forwarded", ";;,,"),
        ] {
            let map = headers(&[(name, value)]);
            assert_eq!(client_ip(peer, &map, &trusted), peer, "{name}: {value}");
        }
        let mut map = HeaderMap::new();
        map.insert(
            X_FORWARDED_FOR,
            HeaderValue::from_bytes(b"203.0.113.9\xff").unwrap(),
        );
        assert_eq!(client_ip(peer, &map, &trusted), peer);
    }

    #[test]
    fn mapped_peer_is_normalised() {
        let peer = ip("::ffff:10.0.0.1");
        assert_eq!(
            client_ip(peer, &HeaderMap::new(), &TrustedProxies::default()),
            ip("10.0.0.1")
        );
        // The mapped peer also matches an IPv4 trusted range.
        let map = headers(&[(X_FORWARDED_FOR, "203.0.113.9")]);
        assert_eq!(
            client_ip(peer, &map, &proxies(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    fn header_text() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            Just("for=".to_owned()),
            Just("For=".to_owned()),
            Just("\"".to_owned()),
            Just("\\".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(":".to_owned()),
            Just(";".to_owned()),
            Just(",".to_owned()),
            Just(" ".to_owned()),
            Just("_".to_owned()),
            Just("unknown".to_owned()),
            Just("10.0.0.2".to_owned()),
            Just("2001:db8::1".to_owned()),
            "[0-9a-f.:]{1,8}",
            "[ -~]{1,8}",
        ];
        proptest::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn client_ip_never_panics(
            forwarded in proptest::option::of(header_text()),
            xff in proptest::option::of(header_text()),
            raw in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let trusted = proxies(&["10.0.0.0/8", "2001:db8::/32"]);
            let mut map = HeaderMap::new();
            for (name, value) in [("forwarded", forwarded), (X_FORWARDED_FOR, xff)] {
                if let Some(Ok(value)) = value.map(|v| HeaderValue::from_str(&v)) {
                    map.append(name, value);
                }
            }
            if let Ok(value) = HeaderValue::from_bytes(&raw) {
                map.append(X_FORWARDED_FOR, value);
            }
            let peer = ip("10.0.0.1");
            let result = client_ip(peer, &map, &trusted);
            // Whatever the headers say, the answer never keeps the IPv4-mapped form.
            prop_assert_eq!(result, result.to_canonical());
        }

        #[test]
        fn untrusted_peer_is_always_returned(value in "[ -~]{0,64}") {
            let map = headers(&[("forwarded", &value), (X_FORWARDED_FOR, &value)]);
            let peer = ip("198.51.100.7");
            prop_assert_eq!(client_ip(peer, &map, &proxies(&["10.0.0.0/8"])), peer);
        }
    }
}
