//! Which `Host` and `Origin` a `--serve` request may carry: only this server's own address
//! (and, on loopback, the `localhost`, `127.0.0.1` and `[::1]` forms of it), with its port and
//! scheme. A page of another site that a DNS name was rebound to this address sends its own
//! name as `Host`, and a page of another origin sends its `Origin`: both are refused, so no
//! other site can drive the API from a browser on this machine, token or not.

use std::net::{IpAddr, SocketAddr};

/// The address a server listens on, and whether it speaks TLS.
#[derive(Clone, Copy, Debug)]
pub struct Authority {
    pub addr: SocketAddr,
    pub tls: bool,
}

/// A `Host` (or an origin's authority) taken apart: the name, lower case and without IPv6
/// brackets, and the port, the scheme's default when absent.
#[derive(Debug, PartialEq)]
struct HostPort {
    name: String,
    port: u16,
}

impl Authority {
    fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    fn default_port(&self) -> u16 {
        if self.tls {
            443
        } else {
            80
        }
    }

    /// The address as a browser should be pointed at it: `http://127.0.0.1:8080`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme(), self.addr)
    }

    fn parse(&self, authority: &str) -> Option<HostPort> {
        let (name, port) = match authority.strip_prefix('[') {
            Some(rest) => {
                let (name, after) = rest.split_once(']')?;
                name.parse::<std::net::Ipv6Addr>().ok()?;
                (name, if after.is_empty() { None } else { Some(after.strip_prefix(':')?) })
            }
            None => match authority.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (authority, None),
            },
        };
        let port = match port {
            None => self.default_port(),
            Some(p) => p.parse().ok()?,
        };
        if name.is_empty() {
            return None;
        }
        Some(HostPort { name: name.to_ascii_lowercase(), port })
    }

    fn allows(&self, host: &HostPort) -> bool {
        if host.port != self.addr.port() {
            return false;
        }
        let bound = self.addr.ip();
        let loopback = bound.is_loopback() || bound.is_unspecified();
        match host.name.parse::<IpAddr>() {
            Ok(ip) => {
                ip == bound
                    || (loopback && ip.is_loopback() && (ip == IpAddr::from([127, 0, 0, 1]) || ip.is_ipv6()))
                    // Bound to every address: any of them by number (0.0.0.0, the printed one,
                    // included), never by a name.
                    || (bound.is_unspecified() && !ip.is_multicast())
            }
            Err(_) => loopback && host.name == "localhost",
        }
    }

    /// Ok for a `Host` this server answers to; else the message of the 403.
    pub fn check_host(&self, host: Option<&str>) -> Result<(), String> {
        let Some(host) = host else {
            return Err(format!("forbidden: the request names no Host: open {}/", self.origin()));
        };
        match self.parse(host) {
            Some(h) if self.allows(&h) => Ok(()),
            _ => Err(format!(
                "forbidden: {host:?} is not this server's address (a DNS name pointed at it?): open {}/",
                self.origin()
            )),
        }
    }

    /// Ok when the request has no `Origin` or comes from this server's own page at `host`
    /// (already checked); else the message of the 403.
    pub fn check_origin(&self, origin: Option<&str>, host: &str) -> Result<(), String> {
        let Some(origin) = origin else {
            return Ok(());
        };
        let same = origin
            .strip_prefix(self.scheme())
            .and_then(|rest| rest.strip_prefix("://"))
            .and_then(|authority| self.parse(authority))
            .is_some_and(|o| Some(&o) == self.parse(host).as_ref() && self.allows(&o));
        if same {
            Ok(())
        } else {
            Err(format!(
                "forbidden: a request from {origin:?}, a page that is not this server's ({}): open {}/",
                self.origin(),
                self.origin()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(addr: &str, tls: bool) -> Authority {
        Authority { addr: addr.parse().unwrap(), tls }
    }

    /// Each `(Host, accepted)` against a server on `addr`.
    fn check(addr: &str, tls: bool, cases: &[(&str, bool)]) {
        let a = on(addr, tls);
        for (host, ok) in cases {
            assert_eq!(a.check_host(Some(host)).is_ok(), *ok, "Host {host:?} on {addr} (tls {tls})");
        }
    }

    #[test]
    fn loopback_answers_to_its_address_and_the_localhost_forms() {
        check(
            "127.0.0.1:8080",
            false,
            &[
                ("127.0.0.1:8080", true),
                ("localhost:8080", true),
                ("LocalHost:8080", true),
                ("[::1]:8080", true),
                ("127.0.0.1:8081", false),
                ("localhost", false),
                ("127.0.0.2:8080", false),
                ("evil.example:8080", false),
                ("localhost.evil.example:8080", false),
                ("127.0.0.1.nip.io:8080", false),
                ("192.0.2.2:8080", false),
                ("127.0.0.1:8080@evil", false),
                ("127.0.0.1:", false),
                (":8080", false),
                ("", false),
            ],
        );
        check("[::1]:9000", false, &[("[::1]:9000", true), ("localhost:9000", true), ("127.0.0.1:9000", true)]);
        check("127.0.0.1:80", false, &[("127.0.0.1", true), ("localhost", true), ("127.0.0.1:443", false)]);
        check("127.0.0.1:443", true, &[("localhost", true), ("localhost:443", true)]);
    }

    #[test]
    fn another_address_answers_to_itself_only() {
        check(
            "192.0.2.2:8443",
            true,
            &[
                ("192.0.2.2:8443", true),
                ("localhost:8443", false),
                ("127.0.0.1:8443", false),
                ("berth.example:8443", false),
                ("192.0.2.3:8443", false),
                ("192.0.2.2", false),
            ],
        );
        check(
            "[2001:db8::1]:443",
            true,
            &[("[2001:db8::1]", true), ("[2001:DB8::1]:443", true), ("2001:db8::1", false)],
        );
    }

    #[test]
    fn every_address_answers_to_any_address_by_number_never_by_name() {
        check(
            "0.0.0.0:8443",
            true,
            &[
                ("192.0.2.2:8443", true),
                ("10.1.2.3:8443", true),
                ("localhost:8443", true),
                ("berth.example:8443", false),
                ("0.0.0.0:8443", true),
                ("224.0.0.1:8443", false),
                ("192.0.2.2:9999", false),
            ],
        );
    }

    #[test]
    fn a_request_without_a_host_is_refused_saying_where_to_go() {
        let e = on("127.0.0.1:8080", false).check_host(None).unwrap_err();
        assert_eq!(e, "forbidden: the request names no Host: open http://127.0.0.1:8080/");
        let e = on("127.0.0.1:8080", false).check_host(Some("evil.example")).unwrap_err();
        assert!(e.starts_with("forbidden: \"evil.example\" is not this server's address"), "{e}");
    }

    #[test]
    fn the_origin_must_be_the_page_of_the_host_asked_for() {
        let a = on("127.0.0.1:8080", false);
        let host = "127.0.0.1:8080";
        assert_eq!(a.check_origin(None, host), Ok(()));
        assert_eq!(a.check_origin(Some("http://127.0.0.1:8080"), host), Ok(()));
        assert_eq!(a.check_origin(Some("http://localhost:8080"), "localhost:8080"), Ok(()));
        for foreign in [
            "http://evil.example",
            "http://evil.example:8080",
            "https://127.0.0.1:8080",
            "http://127.0.0.1:8081",
            "http://localhost:8080",
            "null",
            "",
            "127.0.0.1:8080",
        ] {
            let e = a.check_origin(Some(foreign), host).unwrap_err();
            assert!(e.starts_with(&format!("forbidden: a request from {foreign:?}")), "{foreign}: {e}");
        }
        let tls = on("192.0.2.2:8443", true);
        assert_eq!(tls.check_origin(Some("https://192.0.2.2:8443"), "192.0.2.2:8443"), Ok(()));
        assert!(tls.check_origin(Some("http://192.0.2.2:8443"), "192.0.2.2:8443").is_err());
    }
}
