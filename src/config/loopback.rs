//! Which hosts may be reached without TLS (`tls = "none"`): only this machine, named by a
//! literal loopback address or `localhost`. A name is never judged by how it starts:
//! `127.attacker.example` is a DNS name like any other, and the password sent to it in clear
//! would cross the network.

use std::net::IpAddr;

/// What `tls = "none"` accepts, for error messages.
pub const LOOPBACK_HOSTS: &str = "a loopback IP address (127.0.0.0/8, ::1) or localhost";

/// Whether `host` is a literal loopback IP address (any of 127.0.0.0/8, `::1`, also written
/// as an IPv4-mapped IPv6 address) or `localhost`. Nothing is resolved.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_loopback_addresses_and_localhost() {
        for host in [
            "127.0.0.1",
            "127.0.0.2",
            "127.255.255.254",
            "::1",
            "0:0:0:0:0:0:0:1",
            "::ffff:127.0.0.1",
            "localhost",
            "LocalHost",
        ] {
            assert!(is_loopback(host), "{host}");
        }
    }

    #[test]
    fn names_that_only_look_local_are_not() {
        for host in [
            "127.attacker.example",
            "127.0.0.1.attacker.example",
            "127.0.0.1.",
            "127.1",
            "0127.0.0.1",
            "127.0.0.01",
            "128.0.0.1",
            "10.0.0.1",
            "::2",
            "[::1]",
            " 127.0.0.1",
            "localhost.",
            "localhost.attacker.example",
            "mylocalhost",
            "",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
