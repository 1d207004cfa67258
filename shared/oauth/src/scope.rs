//! Scopes: the `scope` parameter (RFC 6749 §3.3), what each scope grants on the API, and how it reads on a
//! consent screen.
//!
//! API scopes are the strings `hw_domain::principal` already checks (`data:read`, `data:write:{entity}`, `admin`,
//! …), so a token's scopes become a [`hw_domain::principal::Principal`]'s without translation. The OIDC scopes
//! (`openid`, `profile`, `email`, `offline_access`) shape what the token endpoint returns and grant no API access.

use std::fmt;

use hw_domain::model::is_valid_name;
use hw_domain::principal::{Principal, scope};

pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
pub const OFFLINE_ACCESS: &str = "offline_access";

/// Why a scope string or a scope was refused; the text is fit for `error_description` (`invalid_scope`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("scope contains characters RFC 6749 §3.3 does not allow: `{0}`")]
    Malformed(String),
    #[error("unknown scope `{0}`")]
    Unknown(String),
    #[error("scope not allowed for this client: {}", .0.join(" "))]
    NotAllowed(Vec<String>),
}

/// One known scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    OpenId,
    Profile,
    Email,
    OfflineAccess,
    DataRead,
    DataWrite,
    DataReadEntity(String),
    DataWriteEntity(String),
    /// Values of fields marked `sensitive` (GraphQL): all entities, or one.
    DataSensitive,
    DataSensitiveEntity(String),
    ModelsWrite,
    Admin,
}

impl Scope {
    /// Reads one scope token; entity names follow the data model's naming rule.
    pub fn parse(token: &str) -> Result<Self, ScopeError> {
        let entity = |prefix: &str| token.strip_prefix(prefix).filter(|e| is_valid_name(e)).map(str::to_owned);
        Ok(match token {
            OPENID => Self::OpenId,
            PROFILE => Self::Profile,
            EMAIL => Self::Email,
            OFFLINE_ACCESS => Self::OfflineAccess,
            scope::DATA_READ => Self::DataRead,
            scope::DATA_WRITE => Self::DataWrite,
            scope::DATA_SENSITIVE => Self::DataSensitive,
            scope::MODELS_WRITE => Self::ModelsWrite,
            scope::ADMIN => Self::Admin,
            _ => match (entity("data:read:"), entity("data:write:"), entity("data:sensitive:")) {
                (Some(e), _, _) => Self::DataReadEntity(e),
                (_, Some(e), _) => Self::DataWriteEntity(e),
                (_, _, Some(e)) => Self::DataSensitiveEntity(e),
                _ => return Err(ScopeError::Unknown(token.to_owned())),
            },
        })
    }

    /// True for the OpenID Connect scopes, which grant no API permission.
    pub fn is_oidc(&self) -> bool {
        matches!(self, Self::OpenId | Self::Profile | Self::Email | Self::OfflineAccess)
    }

    /// The API permission this scope grants, as `Principal::has_scope` understands it; `None` for OIDC scopes.
    pub fn api_permission(&self) -> Option<String> {
        (!self.is_oidc()).then(|| self.to_string())
    }

    /// A sentence for the consent screen, in the second person.
    pub fn description(&self) -> String {
        let entity = |e: &str| e.replace('_', " ");
        match self {
            Self::OpenId => "Sign you in with your account".into(),
            Self::Profile => "See your name and basic profile".into(),
            Self::Email => "See your e-mail address".into(),
            Self::OfflineAccess => "Keep access when you are not using the app".into(),
            Self::DataRead => "Read all your records".into(),
            Self::DataWrite => "Read, create, change and delete all your records".into(),
            Self::DataReadEntity(e) => format!("Read your {} records", entity(e)),
            Self::DataWriteEntity(e) => format!("Read, create, change and delete your {} records", entity(e)),
            Self::DataSensitive => "See the confidential fields of all your records".into(),
            Self::DataSensitiveEntity(e) => format!("See the confidential fields of your {} records", entity(e)),
            Self::ModelsWrite => "Change your data models".into(),
            Self::Admin => "Administer your whole account".into(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OpenId => f.write_str(OPENID),
            Self::Profile => f.write_str(PROFILE),
            Self::Email => f.write_str(EMAIL),
            Self::OfflineAccess => f.write_str(OFFLINE_ACCESS),
            Self::DataRead => f.write_str(scope::DATA_READ),
            Self::DataWrite => f.write_str(scope::DATA_WRITE),
            Self::DataReadEntity(e) => write!(f, "{}:{e}", scope::DATA_READ),
            Self::DataWriteEntity(e) => write!(f, "{}:{e}", scope::DATA_WRITE),
            Self::DataSensitive => f.write_str(scope::DATA_SENSITIVE),
            Self::DataSensitiveEntity(e) => write!(f, "{}:{e}", scope::DATA_SENSITIVE),
            Self::ModelsWrite => f.write_str(scope::MODELS_WRITE),
            Self::Admin => f.write_str(scope::ADMIN),
        }
    }
}

/// A deduplicated list of scopes in the order first requested, printed space-separated as in `scope` parameters
/// and the access token's `scope` claim.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Reads a `scope` parameter. Runs of spaces are tolerated; any other character outside the RFC 6749 §3.3
    /// set (`%x21 / %x23-5B / %x5D-7E`), or an unknown scope, refuses the whole string.
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        let mut out = Self::default();
        for token in s.split(' ').filter(|t| !t.is_empty()) {
            if !token.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)) {
                return Err(ScopeError::Malformed(token.to_owned()));
            }
            out.insert(Scope::parse(token)?);
        }
        Ok(out)
    }

    pub fn insert(&mut self, scope: Scope) {
        if !self.0.contains(&scope) {
            self.0.push(scope);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks that every requested scope is allowed to the client. OIDC scopes must be allowed by name; an API
    /// scope may also be covered by a broader allowed one (`data:read` allows `data:read:contact`, `admin` allows
    /// every API scope), by the same rule the API applies to principals.
    pub fn check_allowed(&self, allowed: &Scopes) -> Result<(), ScopeError> {
        let holder = Principal::new("", "", allowed.api_permissions());
        let refused: Vec<String> = self
            .iter()
            .filter(|s| !allowed.contains(s) && (s.is_oidc() || !holder.has_scope(&s.to_string())))
            .map(ToString::to_string)
            .collect();
        if refused.is_empty() { Ok(()) } else { Err(ScopeError::NotAllowed(refused)) }
    }

    /// The API permissions these scopes grant, for the `Principal` of a request made with the token.
    pub fn api_permissions(&self) -> Vec<String> {
        self.iter().filter_map(Scope::api_permission).collect()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut out = Self::default();
        iter.into_iter().for_each(|s| out.insert(s));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Scopes {
        Scopes::parse(x).unwrap()
    }

    #[test]
    fn parses_dedupes_and_prints_in_order() {
        let scopes = s("openid  data:read:contact openid email ");
        assert_eq!(scopes.to_string(), "openid data:read:contact email");
        assert_eq!(s("").to_string(), "");
        assert!(s("").is_empty());
    }

    #[test]
    fn every_known_scope_round_trips() {
        for t in [
            "openid",
            "profile",
            "email",
            "offline_access",
            "data:read",
            "data:write",
            "data:read:contact",
            "data:write:sales_order",
            "models:write",
            "admin",
        ] {
            assert_eq!(Scope::parse(t).unwrap().to_string(), t);
        }
    }

    #[test]
    fn refuses_unknown_and_malformed() {
        assert_eq!(Scopes::parse("openid root"), Err(ScopeError::Unknown("root".into())));
        assert_eq!(Scopes::parse("data:read:Contact"), Err(ScopeError::Unknown("data:read:Contact".into())));
        assert_eq!(Scopes::parse("data:read:"), Err(ScopeError::Unknown("data:read:".into())));
        assert_eq!(Scopes::parse("data:delete"), Err(ScopeError::Unknown("data:delete".into())));
        assert_eq!(Scopes::parse("open\"id"), Err(ScopeError::Malformed("open\"id".into())));
        assert_eq!(Scopes::parse("a\\b"), Err(ScopeError::Malformed("a\\b".into())));
        assert_eq!(Scopes::parse("openid\temail"), Err(ScopeError::Malformed("openid\temail".into())));
        assert!(matches!(Scopes::parse("dätä"), Err(ScopeError::Malformed(_))));
    }

    #[test]
    fn requested_must_be_allowed() {
        let allowed = s("openid email data:read data:write:contact");
        assert!(s("openid data:read:company data:read:contact data:write:contact").check_allowed(&allowed).is_ok());
        assert_eq!(
            s("profile data:write data:write:company").check_allowed(&allowed),
            Err(ScopeError::NotAllowed(vec!["profile".into(), "data:write".into(), "data:write:company".into()]))
        );
        // admin covers the API, not the OIDC scopes.
        let admin = s("admin");
        assert!(s("models:write data:write").check_allowed(&admin).is_ok());
        assert!(s("openid").check_allowed(&admin).is_err());
        assert!(s("offline_access").check_allowed(&s("openid")).is_err());
    }

    #[test]
    fn api_permissions_match_principal_scopes() {
        let scopes = s("openid offline_access data:read:contact models:write");
        assert_eq!(scopes.api_permissions(), vec!["data:read:contact".to_string(), "models:write".to_string()]);
        for p in scopes.api_permissions() {
            assert!(hw_domain::principal::is_known_scope(&p), "{p}");
        }
        let principal = Principal::new("t", "client:c", scopes.api_permissions());
        assert!(principal.has_scope("data:read:contact"));
        assert!(!principal.has_scope("data:read:company"));
    }

    #[test]
    fn consent_descriptions() {
        assert_eq!(Scope::parse("data:read:contact").unwrap().description(), "Read your contact records");
        assert_eq!(
            Scope::parse("data:write:sales_order").unwrap().description(),
            "Read, create, change and delete your sales order records"
        );
        assert_eq!(Scope::Admin.description(), "Administer your whole account");
    }
}
