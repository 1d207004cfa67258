//! Server-rendered pages: sign-in, consent, sign-out, invitation and error pages. Plain HTML forms that work
//! without JavaScript, labelled for assistive technology, styled inline (the content security policy allows
//! nothing else), and every value escaped.

/// Escapes text for HTML content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f4f6fb;color:#1b2333;margin:0}\
main{max-width:26rem;margin:4rem auto;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(20,30,60,.12);padding:2rem}\
h1{font-size:1.4rem;margin:0 0 .5rem}p{line-height:1.5}label{display:block;font-weight:600;margin:1rem 0 .3rem}\
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #8a94a8;border-radius:6px;font-size:1rem}\
input:focus,button:focus{outline:3px solid #3b6fe0;outline-offset:2px}\
.actions{display:flex;gap:.75rem;margin-top:1.5rem}button{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #2d5bd1;cursor:pointer}\
button.primary{background:#2d5bd1;color:#fff}button.secondary{background:#fff;color:#2d5bd1}\
.error{background:#fdecec;border:1px solid #d33;color:#8a1010;padding:.75rem;border-radius:6px}\
ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.35rem 0}.muted{color:#4a5468;font-size:.9rem}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · HubbleWave</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        title = esc(title)
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(name), esc(value))
}

fn error_box(error: Option<&str>) -> String {
    error.map(|e| format!("<p class=\"error\" role=\"alert\" id=\"form-error\">{}</p>", esc(e))).unwrap_or_default()
}

pub struct LoginPage<'a> {
    pub action: &'a str,
    pub csrf: &'a str,
    pub authz: &'a str,
    pub client_name: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

pub fn login(p: &LoginPage) -> String {
    let described = if p.error.is_some() { " aria-describedby=\"form-error\"" } else { "" };
    page(
        "Sign in",
        &format!(
            "<h1>Sign in</h1><p>to continue to <strong>{client}</strong></p>{error}\
<form method=\"post\" action=\"{action}\">{csrf}{authz}\
<label for=\"username\">Username</label><input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required autofocus{described}>\
<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required{described}>\
<div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button></div></form>",
            client = esc(p.client_name),
            error = error_box(p.error),
            action = esc(p.action),
            csrf = hidden("csrf", p.csrf),
            authz = hidden("authz", p.authz),
            username = esc(p.username),
        ),
    )
}

pub struct ConsentPage<'a> {
    pub action: &'a str,
    pub csrf: &'a str,
    pub authz: &'a str,
    pub client_name: &'a str,
    pub user_name: &'a str,
    /// Plain-language descriptions of what the client asks for.
    pub scopes: &'a [String],
}

pub fn consent(p: &ConsentPage) -> String {
    let items: String = p.scopes.iter().map(|s| format!("<li>{}</li>", esc(s))).collect();
    page(
        "Allow access",
        &format!(
            "<h1>Allow {client} access?</h1><p>Signed in as <strong>{user}</strong>. <strong>{client}</strong> would like to:</p>\
<ul class=\"scopes\">{items}</ul>\
<form method=\"post\" action=\"{action}\">{csrf}{authz}\
<div class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"allow\" class=\"primary\">Allow</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></div></form>\
<p class=\"muted\">You can withdraw this permission at any time.</p>",
            client = esc(p.client_name),
            user = esc(p.user_name),
            action = esc(p.action),
            csrf = hidden("csrf", p.csrf),
            authz = hidden("authz", p.authz),
        ),
    )
}

pub struct LogoutPage<'a> {
    pub action: &'a str,
    pub csrf: &'a str,
    /// Hidden fields carrying the logout request (post_logout_redirect_uri, state, ...).
    pub carry: &'a [(String, String)],
    pub client_name: Option<&'a str>,
}

pub fn logout_confirm(p: &LogoutPage) -> String {
    let carry: String = p.carry.iter().map(|(k, v)| hidden(k, v)).collect();
    let from = p.client_name.map(|c| format!(" from {}", esc(c))).unwrap_or_default();
    page(
        "Sign out",
        &format!(
            "<h1>Sign out?</h1><p>Do you want to sign out of HubbleWave{from}?</p>\
<form method=\"post\" action=\"{action}\">{csrf}{carry}\
<div class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"logout\" class=\"primary\">Sign out</button>\
<button type=\"submit\" name=\"decision\" value=\"stay\" class=\"secondary\">Stay signed in</button></div></form>",
            action = esc(p.action),
            csrf = hidden("csrf", p.csrf),
        ),
    )
}

pub fn message(title: &str, text: &str) -> String {
    page(title, &format!("<h1>{}</h1><p>{}</p>", esc(title), esc(text)))
}

pub struct InvitationPage<'a> {
    pub action: &'a str,
    pub csrf: &'a str,
    pub token: &'a str,
    pub error: Option<&'a str>,
}

pub fn invitation(p: &InvitationPage) -> String {
    let described = if p.error.is_some() { " aria-describedby=\"form-error\"" } else { "" };
    page(
        "Set your password",
        &format!(
            "<h1>Welcome to HubbleWave</h1><p>Choose a password to activate your account.</p>{error}\
<form method=\"post\" action=\"{action}\">{csrf}{token}\
<label for=\"password\">New password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"new-password\" minlength=\"10\" required aria-describedby=\"password-hint\"{described}>\
<p class=\"muted\" id=\"password-hint\">At least 10 characters.</p>\
<div class=\"actions\"><button type=\"submit\" class=\"primary\">Activate account</button></div></form>",
            error = error_box(p.error),
            action = esc(p.action),
            csrf = hidden("csrf", p.csrf),
            token = hidden("token", p.token),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_interpolated_is_escaped() {
        let html = login(&LoginPage {
            action: "/t/acme/login",
            csrf: "c\"srf",
            authz: "client_id=a&x=<script>",
            client_name: "<img src=x onerror=alert(1)>",
            username: "\"><script>",
            error: Some("<b>bad</b>"),
        });
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>bad"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("value=\"c&quot;srf\""));
    }

    #[test]
    fn forms_are_labelled_and_describe_their_errors() {
        let html = login(&LoginPage {
            action: "/a",
            csrf: "c",
            authz: "",
            client_name: "App",
            username: "",
            error: Some("wrong"),
        });
        assert!(html.contains("<label for=\"username\">") && html.contains("id=\"username\""));
        assert!(html.contains("<label for=\"password\">") && html.contains("id=\"password\""));
        assert!(html.contains("role=\"alert\"") && html.contains("aria-describedby=\"form-error\""));
        assert!(html.contains("<html lang=\"en\">"));
    }
}
