//! Where webhooks may be sent. Tenants choose the URLs, and our functions run inside a VPC next to the cloud's
//! metadata service and internal endpoints, so an unchecked URL is a server-side request forgery: a tenant could
//! make us read credentials or probe private services. URLs are checked when an endpoint is saved, names are
//! checked again when they resolve, and the sender's resolver drops forbidden addresses at connection time (which
//! defeats DNS rebinding between validation and send). The local runner allows private targets on purpose.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

/// Longest endpoint URL.
pub const MAX_URL_LEN: usize = 2048;
/// How long `check_resolution` waits for DNS before accepting the name as unresolved.
const RESOLUTION_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the URL is {0} characters long; at most {MAX_URL_LEN} are allowed")]
    TooLong(usize),
    #[error("the URL is not valid ({0}); give an absolute URL such as https://example.com/webhooks")]
    Invalid(String),
    #[error("the URL scheme `{0}` is not supported; use https")]
    UnsupportedScheme(String),
    #[error("the URL must use https, so that events and signatures travel encrypted")]
    HttpsRequired,
    #[error("the URL has no host")]
    MissingHost,
    #[error("the URL must not contain a username or password; use custom headers for credentials")]
    Credentials,
    #[error(
        "target address not allowed: {0} is a private, loopback, link-local or otherwise internal address; use a \
         public address"
    )]
    ForbiddenAddress(IpAddr),
    #[error("target address not allowed: `{0}` names a local or internal service; use a public host name")]
    ForbiddenHost(String),
    #[error(
        "target address not allowed: `{host}` resolves to {ip}, a private, loopback, link-local or otherwise \
         internal address; use a public host"
    )]
    ResolvesToForbidden { host: String, ip: IpAddr },
    #[error("target address not allowed: every address of `{0}` is private or internal")]
    NoAllowedAddress(String),
}

/// Whether internal targets are allowed. In production they never are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

impl TargetPolicy {
    /// Private and plain-http targets are allowed in local mode only (`HUBBLE_LOCAL_MODE`, which the local runner
    /// sets and a deployment never does).
    pub fn for_local_mode(local_mode: bool) -> Self {
        Self { allow_private: local_mode }
    }

    /// Plain http is only accepted where private targets are (the local runner).
    pub fn require_https(&self) -> bool {
        !self.allow_private
    }

    /// Checks an endpoint URL without resolving it.
    pub fn validate_url(&self, raw: &str) -> Result<Url, TargetError> {
        let len = raw.chars().count();
        if len > MAX_URL_LEN {
            return Err(TargetError::TooLong(len));
        }
        let url = Url::parse(raw.trim()).map_err(|e| TargetError::Invalid(e.to_string()))?;
        match url.scheme() {
            "https" => {}
            "http" if !self.require_https() => {}
            "http" => return Err(TargetError::HttpsRequired),
            other => return Err(TargetError::UnsupportedScheme(other.to_owned())),
        }
        let host = url.host().ok_or(TargetError::MissingHost)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::Credentials);
        }
        if !self.allow_private {
            match host {
                Host::Ipv4(ip) if is_forbidden(IpAddr::V4(ip)) => return Err(TargetError::ForbiddenAddress(ip.into())),
                Host::Ipv6(ip) if is_forbidden(IpAddr::V6(ip)) => return Err(TargetError::ForbiddenAddress(ip.into())),
                Host::Domain(name) if is_internal_name(name) => {
                    return Err(TargetError::ForbiddenHost(name.to_owned()));
                }
                _ => {}
            }
        }
        Ok(url)
    }

    /// Resolves the URL's host and refuses it when any address is forbidden. A name that does not resolve (or not
    /// within a few seconds) is accepted: the receiver may not exist yet, and the sender checks again anyway.
    pub async fn check_resolution(&self, url: &Url) -> Result<(), TargetError> {
        if self.allow_private {
            return Ok(());
        }
        let host = match url.host() {
            None => return Err(TargetError::MissingHost),
            Some(Host::Ipv4(ip)) => return check_ip(&ip.to_string(), ip.into()),
            Some(Host::Ipv6(ip)) => return check_ip(&ip.to_string(), ip.into()),
            Some(Host::Domain(name)) => name,
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let Ok(Ok(addrs)) = tokio::time::timeout(RESOLUTION_TIMEOUT, tokio::net::lookup_host((host, port))).await
        else {
            return Ok(());
        };
        for addr in addrs {
            check_ip(host, addr.ip())?;
        }
        Ok(())
    }
}

fn check_ip(host: &str, ip: IpAddr) -> Result<(), TargetError> {
    if is_forbidden(ip) { Err(TargetError::ResolvesToForbidden { host: host.to_owned(), ip }) } else { Ok(()) }
}

/// Host names that always mean something local or internal to the cloud.
fn is_internal_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "internal"
        || name.ends_with(".internal")
        || name == "metadata.google.internal"
}

/// Whether an address must never receive a webhook: anything that is not a public unicast address.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    const NETS: [([u8; 4], u32); 15] = [
        ([0, 0, 0, 0], 8),       // "this network", includes the unspecified address
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // carrier-grade NAT
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local, includes the metadata service 169.254.169.254
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
        ([192, 88, 99, 0], 24),  // 6to4 relay anycast
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
        ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, includes the broadcast address
    ];
    NETS.iter().any(|(net, prefix)| in_v4(ip, *net, *prefix))
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if ip.is_unspecified() || ip.is_loopback() {
        return true;
    }
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) forms reach the IPv4 address.
    if let Some(v4) = ip.to_ipv4() {
        return is_forbidden_v4(v4);
    }
    let embedded_v4 = |at: usize| {
        let o = ip.octets();
        Ipv4Addr::new(o[at], o[at + 1], o[at + 2], o[at + 3])
    };
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) translate to an embedded IPv4 address.
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return is_forbidden_v4(embedded_v4(12));
    }
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        return is_forbidden_v4(embedded_v4(2));
    }
    const NETS: [([u16; 8], u32); 8] = [
        ([0x0100, 0, 0, 0, 0, 0, 0, 0], 64),      // discard-only
        ([0x2001, 0x0002, 0, 0, 0, 0, 0, 0], 48), // benchmarking
        ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32), // documentation
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),      // documentation (RFC 9637)
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),       // unique local, includes the metadata service fd00:ec2::254
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),      // link-local
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),      // site-local (deprecated)
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),       // multicast
    ];
    NETS.iter().any(|(net, prefix)| in_v6(ip, *net, *prefix))
}

/// The sender's DNS resolver: resolves like the system does, then drops forbidden addresses (unless private
/// targets are allowed), so a name that passed validation cannot be re-pointed at an internal address later.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    allow_private: bool,
}

impl GuardedResolver {
    pub fn new(policy: TargetPolicy) -> Self {
        Self { allow_private: policy.allow_private }
    }

    /// The allowed addresses of `host` (with `port`); an error when there are none.
    pub async fn resolve_host(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, std::io::Error> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
        let kept: Vec<SocketAddr> = addrs.into_iter().filter(|a| self.allow_private || !is_forbidden(a.ip())).collect();
        if kept.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                TargetError::NoAllowedAddress(host.to_owned()),
            ));
        }
        Ok(kept)
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = *self;
        Box::pin(async move {
            let addrs = resolver.resolve_host(name.as_str(), 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy { allow_private: false };
    const LOCAL: TargetPolicy = TargetPolicy { allow_private: true };

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_forbidden() {
        const ADDRESSES: &str = "127.0.0.1 127.255.0.9 0.0.0.0 0.1.2.3 10.1.2.3 172.16.0.1 172.31.255.255 192.168.1.1 \
             100.64.0.1 100.127.255.254 169.254.169.254 169.254.0.1 255.255.255.255 224.0.0.1 239.1.1.1 \
             192.0.2.10 198.51.100.1 203.0.113.7 198.18.0.1 198.19.255.1 240.0.0.1 :: ::1 fe80::1 febf::1 \
             fc00::1 fd00:ec2::254 fec0::1 ff02::1 2001:db8::1 2001:2::1 ::ffff:127.0.0.1 \
             ::ffff:169.254.169.254 ::ffff:10.0.0.1 ::10.0.0.1 64:ff9b::a9fe:a9fe 2002:0a00:0001::1 \
             100::1";
        for s in ADDRESSES.split_whitespace() {
            assert!(is_forbidden(ip(s)), "{s} must be forbidden");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        const ADDRESSES: &str = "1.1.1.1 8.8.8.8 93.184.216.34 172.15.255.255 172.32.0.1 100.63.255.255 100.128.0.1 \
             169.253.1.1 192.169.0.1 11.0.0.1 2606:4700:4700::1111 2a00:1450:4001::200e ::ffff:8.8.8.8 \
             64:ff9b::808:808 2002:0808:0808::1";
        for s in ADDRESSES.split_whitespace() {
            assert!(!is_forbidden(ip(s)), "{s} must be allowed");
        }
    }

    #[test]
    fn only_local_mode_allows_plain_http_and_private_targets() {
        assert_eq!(TargetPolicy::for_local_mode(true), LOCAL);
        assert_eq!(TargetPolicy::for_local_mode(false), STRICT);
        assert!(STRICT.require_https() && !LOCAL.require_https());
    }

    #[test]
    fn public_https_urls_are_accepted() {
        let url = STRICT.validate_url("https://hooks.example.com:8443/in?x=1").unwrap();
        assert_eq!(url.host_str(), Some("hooks.example.com"));
        assert!(STRICT.validate_url("https://93.184.216.34/hook").is_ok());
        assert!(STRICT.validate_url("https://[2606:4700:4700::1111]/hook").is_ok());
    }

    #[test]
    fn unsafe_urls_are_refused_with_a_reason() {
        let refused = |raw: &str| STRICT.validate_url(raw).expect_err(raw);
        assert_eq!(refused("http://example.com/hook"), TargetError::HttpsRequired);
        assert!(matches!(refused("/relative/path"), TargetError::Invalid(_)));
        assert!(matches!(refused("not a url"), TargetError::Invalid(_)));
        assert_eq!(refused("ftp://example.com/x"), TargetError::UnsupportedScheme("ftp".into()));
        assert_eq!(refused("https://user:pw@example.com/"), TargetError::Credentials);
        assert!(refused("https://user@example.com/").to_string().contains("use custom headers for credentials"));
        assert_eq!(refused("https://127.0.0.1/"), TargetError::ForbiddenAddress(ip("127.0.0.1")));
        assert_eq!(refused("https://2130706433/"), TargetError::ForbiddenAddress(ip("127.0.0.1")));
        assert_eq!(refused("https://0x7f.1/"), TargetError::ForbiddenAddress(ip("127.0.0.1")));
        assert_eq!(
            refused("https://169.254.169.254/latest/meta-data"),
            TargetError::ForbiddenAddress(ip("169.254.169.254"))
        );
        assert_eq!(refused("https://[::ffff:7f00:1]/"), TargetError::ForbiddenAddress(ip("::ffff:127.0.0.1")));
        assert_eq!(refused("https://[fd00:ec2::254]/"), TargetError::ForbiddenAddress(ip("fd00:ec2::254")));
        for host in ["localhost", "LOCALHOST.", "api.localhost", "metadata.google.internal", "db.corp.internal"] {
            assert!(matches!(refused(&format!("https://{host}/")), TargetError::ForbiddenHost(_)), "{host}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(matches!(refused(&long), TargetError::TooLong(_)));
    }

    #[test]
    fn the_local_runner_may_target_private_http_receivers() {
        assert!(LOCAL.validate_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(LOCAL.validate_url("http://localhost:9000/hook").is_ok());
        assert_eq!(LOCAL.validate_url("http://u:p@localhost/").unwrap_err(), TargetError::Credentials);
        assert!(matches!(LOCAL.validate_url("file:///etc/passwd"), Err(TargetError::UnsupportedScheme(_))));
    }

    #[tokio::test]
    async fn resolution_refuses_names_of_internal_addresses() {
        let url = Url::parse("https://localhost/hook").unwrap();
        let err = STRICT.check_resolution(&url).await.unwrap_err();
        assert!(matches!(err, TargetError::ResolvesToForbidden { ref host, .. } if host == "localhost"), "{err}");
        assert_eq!(LOCAL.check_resolution(&url).await, Ok(()));
        let literal = Url::parse("https://10.0.0.1/").unwrap();
        assert!(STRICT.check_resolution(&literal).await.is_err());
        assert_eq!(STRICT.check_resolution(&Url::parse("https://93.184.216.34/").unwrap()).await, Ok(()));
    }

    #[tokio::test]
    async fn names_that_do_not_resolve_are_accepted() {
        let url = Url::parse("https://no-such-receiver.invalid/hook").unwrap();
        assert_eq!(STRICT.check_resolution(&url).await, Ok(()));
    }

    #[tokio::test]
    async fn the_guarded_resolver_drops_forbidden_addresses() {
        use reqwest::dns::Resolve;
        let strict = GuardedResolver::new(STRICT);
        let err = strict.resolve_host("localhost", 80).await.unwrap_err();
        assert!(err.to_string().contains("target address not allowed"), "{err}");
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(strict.resolve(name).await.is_err());
        let local = GuardedResolver::new(LOCAL);
        let addrs = local.resolve_host("localhost", 80).await.unwrap();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(local.resolve(name).await.is_ok());
        let public = strict.resolve_host("93.184.216.34", 443).await.unwrap();
        assert_eq!(public, [SocketAddr::new(ip("93.184.216.34"), 443)]);
    }
}
