"""Drives the OAuth 2.0 / OpenID Connect provider end to end with an independent client: Authlib (PyPI).

A browser is played by `requests` submitting the provider's own HTML forms; everything on the client side (PKCE,
state, the token requests, client authentication, refresh, revocation, ID token validation with nonce and at_hash)
is Authlib's. Called by tests/e2e/oauth.rs with a JSON description of the tenant's clients and user:

    python authlib_e2e.py '{"issuer": ..., "api_base": ..., "public_client": {"id": ..., "redirect_uri": ...},
                           "confidential_client": {"id": ..., "secret": ...}, "user": {"username": ..., "password": ...}}'

Every check prints one line; the first failure raises and the exit status is non-zero.
"""

import base64
import json
import re
import secrets
import sys
import time
import urllib.parse
import warnings

import requests

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", module="authlib")

from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402

CFG = json.loads(sys.argv[1])
ISSUER = CFG["issuer"]
API = CFG["api_base"]
PUBLIC = CFG["public_client"]
CONF = CFG["confidential_client"]
USER = CFG["user"]


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"FAILED: {name} {detail}")
    print(f"ok: {name}")


def hidden_fields(html):
    return {m.group(1): m.group(2).replace("&amp;", "&").replace("&quot;", '"')
            for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)}


def form_action(html):
    return re.search(r'<form method="post" action="([^"]+)">', html).group(1).replace("&amp;", "&")


def browser_authorize(browser, url, consent=True):
    """Plays the user: signs in on the provider's page and allows the consent. Returns the final redirect."""
    page = browser.get(url, allow_redirects=False)
    if page.status_code in (302, 303):
        return page.headers["location"]
    check("the login page is served", page.status_code == 200 and "Sign in" in page.text, page.text[:300])
    check("pages refuse framing", page.headers.get("x-frame-options") == "DENY"
          and "frame-ancestors 'none'" in page.headers.get("content-security-policy", ""))
    fields = hidden_fields(page.text)
    fields.update({"username": USER["username"], "password": USER["password"]})
    after_login = browser.post(form_action(page.text), data=fields, allow_redirects=False)
    if after_login.status_code in (302, 303):
        return after_login.headers["location"]
    check("the consent page follows the login", after_login.status_code == 200 and "decision" in after_login.text,
          f"{after_login.status_code} {after_login.text[:300]}")
    fields = hidden_fields(after_login.text)
    fields["decision"] = "allow" if consent else "deny"
    done = browser.post(form_action(after_login.text), data=fields, allow_redirects=False)
    check("consent redirects back to the client", done.status_code in (302, 303), done.text[:300])
    return done.headers["location"]


def query_param(url, name):
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get(name)
    return values[0] if values else None


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def api_status(token, path="/v1/models"):
    return requests.get(API + path, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code


def main():
    started = time.monotonic()
    meta = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=30).json()
    check("discovery names the issuer", meta["issuer"] == ISSUER)
    check("only S256 PKCE is offered", meta["code_challenge_methods_supported"] == ["S256"])
    as_meta = requests.get(f"{ISSUER}/.well-known/oauth-authorization-server", timeout=30).json()
    check("RFC 8414 metadata agrees", as_meta["token_endpoint"] == meta["token_endpoint"])
    jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=30).json())

    # --- authorization code + PKCE, public client, loopback redirect with a port of its own (RFC 8252)
    redirect_uri = PUBLIC["redirect_uri"].replace("127.0.0.1", f"127.0.0.1:{50000 + secrets.randbelow(10000)}", 1)
    scope = "openid profile email data:read offline_access"
    client = OAuth2Session(PUBLIC["id"], redirect_uri=redirect_uri, scope=scope,
                           token_endpoint_auth_method="none", code_challenge_method="S256")
    verifier = generate_token(64)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    browser = requests.Session()
    flow_started = time.monotonic()
    callback = browser_authorize(browser, url)
    check("the redirect goes to the registered loopback URI", callback.startswith(redirect_uri + "?"), callback)
    check("RFC 9207 iss is in the response", query_param(callback, "iss") == ISSUER)
    check("state comes back", query_param(callback, "state") == state)
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    flow_secs = time.monotonic() - flow_started
    check("tokens are issued", {"access_token", "id_token", "refresh_token"} <= set(token), str(token.keys()))

    claims = jwt.decode(token["id_token"], jwks, claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": ISSUER}, "aud": {"essential": True, "value": PUBLIC["id"]}},
                        claims_params={"nonce": nonce, "access_token": token["access_token"], "client_id": PUBLIC["id"]})
    claims.validate()
    check("the ID token verifies: signature, iss, aud, exp, nonce, at_hash", claims["nonce"] == nonce and "at_hash" in claims)
    check("the ID token has auth_time and sid", "auth_time" in claims and "sid" in claims)
    header = json.loads(base64.urlsafe_b64decode(token["access_token"].split(".")[0] + "=="))
    check("the access token is an RFC 9068 JWT with a kid", header["typ"] == "at+jwt" and header["alg"] in ("ES256", "RS256") and header.get("kid"))

    info = client.get(meta["userinfo_endpoint"]).json()
    check("userinfo answers for the user", info["sub"] == claims["sub"] and info["preferred_username"] == USER["username"], str(info))
    check("the REST API accepts the access token", api_status(token["access_token"]) == 200)

    old_refresh = token["refresh_token"]
    new = client.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    check("refresh rotates the refresh token", new["refresh_token"] != old_refresh and new["access_token"] != token["access_token"])

    conf = OAuth2Session(CONF["id"], CONF["secret"], token_endpoint_auth_method="client_secret_basic")
    intro = conf.introspect_token(meta["introspection_endpoint"], token=new["access_token"]).json()
    check("introspection says active", intro["active"] is True and intro["client_id"] == PUBLIC["id"], str(intro))

    reused = requests.post(meta["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": old_refresh, "client_id": PUBLIC["id"]}, timeout=30)
    check("reusing a rotated refresh token is invalid_grant", reused.status_code == 400 and reused.json()["error"] == "invalid_grant")
    intro = conf.introspect_token(meta["introspection_endpoint"], token=new["refresh_token"]).json()
    check("reuse revoked the whole family", intro["active"] is False)
    check("and the family's access tokens", api_status(new["access_token"]) == 401)

    # --- a second grant (the browser is signed in: no forms), revoked by its client
    client2 = OAuth2Session(PUBLIC["id"], redirect_uri=redirect_uri, scope=scope, token_endpoint_auth_method="none", code_challenge_method="S256")
    verifier2 = generate_token(64)
    url2, _ = client2.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier2, nonce=generate_token(20))
    callback2 = browser_authorize(browser, url2)
    check("a signed-in browser is sent straight back", "code=" in callback2)
    token2 = client2.fetch_token(meta["token_endpoint"], authorization_response=callback2, code_verifier=verifier2)
    code2 = query_param(callback2, "code")
    again = requests.post(meta["token_endpoint"], data={"grant_type": "authorization_code", "code": code2, "client_id": PUBLIC["id"],
                                                       "redirect_uri": redirect_uri, "code_verifier": verifier2}, timeout=30)
    check("a code works once", again.status_code == 400 and again.json()["error"] == "invalid_grant")
    check("code reuse revoked what the code issued", api_status(token2["access_token"]) == 401)

    client3 = OAuth2Session(PUBLIC["id"], redirect_uri=redirect_uri, scope=scope, token_endpoint_auth_method="none", code_challenge_method="S256")
    verifier3 = generate_token(64)
    url3, _ = client3.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier3)
    token3 = client3.fetch_token(meta["token_endpoint"], authorization_response=browser_authorize(browser, url3), code_verifier=verifier3)
    client3.revoke_token(meta["revocation_endpoint"], token=token3["access_token"])
    check("a revoked access token is refused by the REST API", api_status(token3["access_token"]) == 401)
    check("and inactive at introspection", conf.introspect_token(meta["introspection_endpoint"], token=token3["access_token"]).json()["active"] is False)
    client3.revoke_token(meta["revocation_endpoint"], token=token3["refresh_token"], token_type_hint="refresh_token")
    gone = requests.post(meta["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": token3["refresh_token"], "client_id": PUBLIC["id"]}, timeout=30)
    check("a revoked refresh token is invalid_grant", gone.status_code == 400 and gone.json()["error"] == "invalid_grant")

    # --- client credentials, confidential client
    cc = conf.fetch_token(meta["token_endpoint"], grant_type="client_credentials", scope="data:read")
    check("client credentials issue an access token only", "access_token" in cc and "refresh_token" not in cc and "id_token" not in cc)
    check("the REST API accepts the client's token", api_status(cc["access_token"]) == 200)

    # --- negative cases
    evil = requests.get(meta["authorization_endpoint"], params={"response_type": "code", "client_id": PUBLIC["id"], "redirect_uri": "https://evil.example/cb",
                                                                "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}, allow_redirects=False, timeout=30)
    check("an unregistered redirect URI gets a page, not a redirect", evil.status_code == 400 and "location" not in evil.headers)
    plain = browser.get(meta["authorization_endpoint"], params={"response_type": "code", "client_id": PUBLIC["id"], "redirect_uri": redirect_uri,
                                                                "code_challenge": verifier, "code_challenge_method": "plain"}, allow_redirects=False, timeout=30)
    check("PKCE plain is refused", plain.status_code == 303 and query_param(plain.headers["location"], "error") == "invalid_request")
    downgrade = browser.get(meta["authorization_endpoint"], params={"response_type": "code", "client_id": PUBLIC["id"], "redirect_uri": redirect_uri}, allow_redirects=False, timeout=30)
    check("a public client without PKCE is refused", query_param(downgrade.headers["location"], "error") == "invalid_request")

    client4 = OAuth2Session(PUBLIC["id"], redirect_uri=redirect_uri, scope="openid data:read", token_endpoint_auth_method="none", code_challenge_method="S256")
    verifier4 = generate_token(64)
    url4, _ = client4.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier4)
    code4 = query_param(browser_authorize(browser, url4), "code")
    stolen = requests.post(meta["token_endpoint"], data={"grant_type": "authorization_code", "code": code4, "redirect_uri": redirect_uri, "code_verifier": verifier4},
                           auth=(CONF["id"], CONF["secret"]), timeout=30)
    check("another client cannot redeem the code", stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant")
    no_verifier_url, _ = client4.create_authorization_url(meta["authorization_endpoint"], code_verifier=generate_token(64))
    code5 = query_param(browser_authorize(browser, no_verifier_url), "code")
    downgraded = requests.post(meta["token_endpoint"], data={"grant_type": "authorization_code", "code": code5, "client_id": PUBLIC["id"], "redirect_uri": redirect_uri}, timeout=30)
    check("a PKCE code without its verifier is invalid_grant", downgraded.json()["error"] == "invalid_grant")

    parts = cc["access_token"].split(".")
    none_token = b64(json.dumps({"alg": "none", "typ": "at+jwt"}).encode()) + "." + parts[1] + "."
    check("alg none is refused by the REST API", api_status(none_token) == 401)
    payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=="))
    payload["scope"] = "admin"
    tampered = parts[0] + "." + b64(json.dumps(payload).encode()) + "." + parts[2]
    check("a tampered token is refused", api_status(tampered) == 401)
    check("and inactive at introspection", conf.introspect_token(meta["introspection_endpoint"], token=tampered).json()["active"] is False)
    check("an ID token (wrong audience and type) is refused by the REST API", api_status(token["id_token"]) == 401)
    bad_client = requests.post(meta["token_endpoint"], data={"grant_type": "client_credentials"}, auth=(CONF["id"], "wrong"), timeout=30)
    check("a wrong secret is invalid_client with WWW-Authenticate", bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"
          and "www-authenticate" in bad_client.headers)

    print(json.dumps({"full_flow_seconds": round(flow_secs, 3), "total_seconds": round(time.monotonic() - started, 3)}))


if __name__ == "__main__":
    main()
