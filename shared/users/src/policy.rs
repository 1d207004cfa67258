//! What usernames, names, e-mail addresses, permissions and passwords may be. Every check reports a
//! [`FieldError`] with a JSON pointer into the request body, so the API can list every problem at once.

use hw_domain::FieldError;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 64;
pub const NAME_MAX: usize = 200;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;

/// The username in its stored form (trimmed, lowercase), or why it cannot be one: 3–64 characters of lowercase
/// letters, digits, `.`, `_`, `-` and `@` (so an e-mail address works).
pub fn username(raw: &str) -> Result<String, FieldError> {
    let u = raw.trim().to_lowercase();
    let n = u.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&n) {
        return Err(FieldError::new(
            "/username",
            "invalid-length",
            format!("a username has {USERNAME_MIN} to {USERNAME_MAX} characters"),
        ));
    }
    if !u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@')) {
        return Err(FieldError::new(
            "/username",
            "invalid-format",
            "a username may hold letters a-z, digits and `.`, `_`, `-`, `@`",
        ));
    }
    Ok(u)
}

/// The display name, trimmed: 1–200 characters.
pub fn name(raw: &str) -> Result<String, FieldError> {
    let n = raw.trim();
    if n.is_empty() || n.chars().count() > NAME_MAX {
        return Err(FieldError::new("/name", "invalid-length", format!("a name has 1 to {NAME_MAX} characters")));
    }
    if n.chars().any(char::is_control) {
        return Err(FieldError::new("/name", "invalid-format", "a name may not hold control characters"));
    }
    Ok(n.to_owned())
}

/// An e-mail address, trimmed; an empty one counts as none.
pub fn email(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(e) = raw.map(str::trim).filter(|e| !e.is_empty()) else { return Ok(None) };
    let ok = e.len() <= EMAIL_MAX
        && email_address::EmailAddress::parse_with_options(e, email_address::Options::default().without_display_text())
            .is_ok();
    if ok {
        Ok(Some(e.to_owned()))
    } else {
        Err(FieldError::new("/email", "invalid-format", format!("`{e}` is not a valid e-mail address")))
    }
}

/// Permissions: scopes API keys may carry; duplicates are dropped, order kept.
pub fn permissions(raw: &[String]) -> Result<Vec<String>, Vec<FieldError>> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut errors = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        if !hw_domain::principal::is_known_scope(p) {
            errors.push(FieldError::new(
                format!("/permissions/{i}"),
                "unknown-permission",
                format!("`{p}` is not a permission: use admin, models:write, data:read, data:write, data:read:{{entity}} or data:write:{{entity}}"),
            ));
        } else if !out.contains(p) {
            out.push(p.clone());
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// The password policy: 10–256 characters, not the username, not one character repeated.
pub fn password(password: &str, username: &str) -> Result<(), FieldError> {
    let bad = |code: &'static str, detail: &str| Err(FieldError::new("/password", code, detail));
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return bad("too-short", "a password has at least 10 characters");
    }
    if n > PASSWORD_MAX {
        return bad("too-long", "a password has at most 256 characters");
    }
    if password.to_lowercase() == username.to_lowercase() {
        return bad("same-as-username", "the password may not be the username");
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return bad("too-weak", "the password may not be one character repeated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(username("  Ada.Lovelace@Example.com ").unwrap(), "ada.lovelace@example.com");
        assert_eq!(username("ab").unwrap_err().code, "invalid-length");
        assert_eq!(username(&"a".repeat(65)).unwrap_err().code, "invalid-length");
        assert_eq!(username("ada lovelace").unwrap_err().code, "invalid-format");
        assert_eq!(username("adé").unwrap_err().code, "invalid-format");
        assert!(username("a_b-c.d").is_ok());
    }

    #[test]
    fn passwords_follow_the_policy() {
        assert!(password("correct horse battery", "ada").is_ok());
        assert_eq!(password("short", "ada").unwrap_err().code, "too-short");
        assert_eq!(password(&"ab".repeat(129), "ada").unwrap_err().code, "too-long");
        assert_eq!(password("aaaaaaaaaaaa", "ada").unwrap_err().code, "too-weak");
        assert_eq!(password("ada.lovelace", "ada.lovelace").unwrap_err().code, "same-as-username");
        assert_eq!(password("x", "ada").unwrap_err().pointer, "/password");
        // 10 characters, not bytes
        assert!(password("ééééééééé1", "ada").is_ok());
    }

    #[test]
    fn permissions_are_known_scopes() {
        let ok = permissions(&["data:read".into(), "data:write:contact".into(), "data:read".into()]).unwrap();
        assert_eq!(ok, ["data:read", "data:write:contact"]);
        let errs = permissions(&["data:read".into(), "root".into()]).unwrap_err();
        assert_eq!(errs[0].pointer, "/permissions/1");
    }

    #[test]
    fn emails_are_optional_and_checked() {
        assert_eq!(email(None).unwrap(), None);
        assert_eq!(email(Some(" ")).unwrap(), None);
        assert_eq!(email(Some(" a@example.com ")).unwrap().as_deref(), Some("a@example.com"));
        assert_eq!(email(Some("nope")).unwrap_err().pointer, "/email");
    }
}
