use super::*;
use crate::keys::{KeyState, SigningKey};

const ISS: &str = "https://auth.example/t/acme";
const AUD: &str = "https://api.example/t/acme";
const NOW: i64 = 1_800_000_000;

fn keys(alg: SigningAlg) -> KeySet {
    let mut set = KeySet::new(vec![SigningKey::generate("k1", alg).unwrap()]).unwrap();
    set.rotate().unwrap();
    set
}

fn claims() -> AccessTokenClaims {
    AccessTokenClaims {
        iss: ISS.into(),
        sub: "user-1".into(),
        aud: AUD.into(),
        exp: NOW + 900,
        iat: NOW,
        jti: "01JABCDEF".into(),
        client_id: "client-1".into(),
        scope: "openid data:read:contact".into(),
        gid: None,
    }
}

fn id_claims(access_token: &str) -> IdTokenClaims {
    IdTokenClaims {
        iss: ISS.into(),
        sub: "user-1".into(),
        aud: "client-1".into(),
        exp: NOW + 300,
        iat: NOW,
        auth_time: NOW - 60,
        nonce: Some("n-0S6_WzA2Mj".into()),
        sid: Some("session-1".into()),
        at_hash: Some(at_hash(access_token)),
    }
}

fn expected() -> Expected<'static> {
    Expected { issuer: ISS, audience: AUD, now: NOW, leeway_secs: 0 }
}

fn part(token: &str, i: usize) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(i).unwrap()).unwrap()).unwrap()
}

/// `token` with its header replaced; the signature is left as it was.
fn with_header(token: &str, header: serde_json::Value) -> String {
    let rest = token.split_once('.').unwrap().1;
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

#[test]
fn access_token_round_trip_es256_and_rs256() {
    for alg in [SigningAlg::ES256, SigningAlg::RS256] {
        let keys = keys(alg);
        let token = sign_access_token(&keys, &claims()).unwrap();
        let header = part(&token, 0);
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["kid"], "k1");
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(part(&token, 1)["client_id"], "client-1");
        assert_eq!(verify_access_token(&keys, &token, &expected()).unwrap(), claims());
    }
}

#[test]
fn id_token_round_trip_with_at_hash() {
    let keys = keys(SigningAlg::ES256);
    let access = sign_access_token(&keys, &claims()).unwrap();
    let token = sign_id_token(&keys, &id_claims(&access)).unwrap();
    assert_eq!(part(&token, 0)["typ"], "JWT");
    let got = verify_id_token(&keys, &token, &Expected { audience: "client-1", ..expected() }).unwrap();
    assert_eq!(got, id_claims(&access));
    assert_eq!(got.at_hash.unwrap().len(), 22);
}

#[test]
fn at_hash_is_the_left_half_of_sha256() {
    // OpenID Connect Core §A.3 example: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
    assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
}

#[test]
fn alg_none_is_rejected() {
    let keys = keys(SigningAlg::ES256);
    let token = sign_access_token(&keys, &claims()).unwrap();
    let header = serde_json::json!({"alg": "none", "typ": "at+jwt", "kid": "k1"});
    let unsigned = with_header(&token, header.clone());
    let (head_and_payload, _) = unsigned.rsplit_once('.').unwrap();
    for t in [unsigned.clone(), format!("{head_and_payload}.")] {
        assert_eq!(verify_access_token(&keys, &t, &expected()), Err(JwtError::Algorithm("none".into())));
    }
}

#[test]
fn hmac_keyed_with_the_public_key_is_rejected() {
    let keys = keys(SigningAlg::RS256);
    let public = serde_json::to_string(keys.get("k1").unwrap().jwk()).unwrap();
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some("k1".into());
    let forged =
        jsonwebtoken::encode(&header, &claims(), &jsonwebtoken::EncodingKey::from_secret(public.as_bytes())).unwrap();
    assert_eq!(verify_access_token(&keys, &forged, &expected()), Err(JwtError::Algorithm("HS256".into())));
}

#[test]
fn algorithm_must_be_the_keys_own() {
    let keys = keys(SigningAlg::ES256);
    let token = sign_access_token(&keys, &claims()).unwrap();
    let t = with_header(&token, serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": "k1"}));
    assert!(matches!(verify_access_token(&keys, &t, &expected()), Err(JwtError::AlgorithmMismatch { .. })));
}

#[test]
fn tampered_payload_is_rejected() {
    let keys = keys(SigningAlg::ES256);
    let token = sign_access_token(&keys, &claims()).unwrap();
    let mut payload = part(&token, 1);
    payload["scope"] = "admin".into();
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
    assert_eq!(verify_access_token(&keys, &tampered, &expected()), Err(JwtError::Signature));
}

#[test]
fn issuer_audience_and_times_are_checked() {
    let keys = keys(SigningAlg::ES256);
    let token = sign_access_token(&keys, &claims()).unwrap();
    let verify = |e: Expected| verify_access_token(&keys, &token, &e);
    assert_eq!(verify(Expected { audience: "https://other.example", ..expected() }), Err(JwtError::Audience));
    assert_eq!(verify(Expected { issuer: "https://auth.example/t/other", ..expected() }), Err(JwtError::Issuer));
    assert_eq!(verify(Expected { now: NOW + 900, ..expected() }), Err(JwtError::Expired));
    assert!(verify(Expected { now: NOW + 900, leeway_secs: 30, ..expected() }).is_ok());
    assert_eq!(verify(Expected { now: NOW - 10, ..expected() }), Err(JwtError::IssuedInFuture));
    assert!(verify(Expected { now: NOW + 899, ..expected() }).is_ok());
}

#[test]
fn kid_must_name_a_published_key() {
    let keys = keys(SigningAlg::ES256);
    let token = sign_access_token(&keys, &claims()).unwrap();
    let t = with_header(&token, serde_json::json!({"alg": "ES256", "typ": "at+jwt"}));
    assert_eq!(verify_access_token(&keys, &t, &expected()), Err(JwtError::MissingKid));
    let t = with_header(&token, serde_json::json!({"alg": "ES256", "typ": "at+jwt", "kid": "k9"}));
    assert_eq!(verify_access_token(&keys, &t, &expected()), Err(JwtError::UnknownKid("k9".into())));
    let t = with_header(&token, serde_json::json!({"alg": "ES256", "typ": "at+jwt", "kid": "k1", "crit": ["exp"]}));
    assert_eq!(verify_access_token(&keys, &t, &expected()), Err(JwtError::Critical));
    assert_eq!(verify_access_token(&keys, "not.a.jwt", &expected()), Err(JwtError::Malformed));
    assert_eq!(verify_access_token(&keys, "", &expected()), Err(JwtError::Malformed));
}

#[test]
fn another_issuers_key_with_the_same_kid_does_not_verify() {
    let ours = keys(SigningAlg::ES256);
    let theirs = keys(SigningAlg::ES256);
    let token = sign_access_token(&theirs, &claims()).unwrap();
    assert_eq!(verify_access_token(&ours, &token, &expected()), Err(JwtError::Signature));
}

#[test]
fn token_types_are_not_interchangeable() {
    let keys = keys(SigningAlg::ES256);
    let access = sign_access_token(&keys, &claims()).unwrap();
    let id = sign_id_token(&keys, &IdTokenClaims { aud: AUD.into(), ..id_claims(&access) }).unwrap();
    assert!(matches!(verify_access_token(&keys, &id, &expected()), Err(JwtError::WrongType { .. })));
    assert!(matches!(verify_id_token(&keys, &access, &expected()), Err(JwtError::WrongType { .. })));
    // RFC 9068 §4: the media type form is accepted too.
    let t = with_header(&access, serde_json::json!({"alg": "ES256", "typ": "application/at+jwt", "kid": "k1"}));
    assert_eq!(
        verify_access_token(&keys, &t, &expected()),
        Err(JwtError::Signature),
        "typ passed, signature covers the header"
    );
}

#[test]
fn retired_key_still_verifies_while_published() {
    let mut keys = keys(SigningAlg::ES256);
    let before = sign_access_token(&keys, &claims()).unwrap();
    keys.add(SigningKey::generate("k2", SigningAlg::RS256).unwrap()).unwrap();
    // Published before it signs: a token signed with the old key verifies, the JWKS has both.
    assert!(verify_access_token(&keys, &before, &expected()).is_ok());
    keys.rotate().unwrap();
    assert_eq!(keys.get("k1").unwrap().state(), KeyState::Retired);
    let after = sign_access_token(&keys, &claims()).unwrap();
    assert_eq!(part(&after, 0)["kid"], "k2");
    assert!(verify_access_token(&keys, &before, &expected()).is_ok());
    assert!(verify_access_token(&keys, &after, &expected()).is_ok());
    keys.remove_retired("k1").unwrap();
    assert_eq!(verify_access_token(&keys, &before, &expected()), Err(JwtError::UnknownKid("k1".into())));
}

#[test]
fn signing_needs_an_active_key() {
    let pending = KeySet::new(vec![SigningKey::generate("k1", SigningAlg::ES256).unwrap()]).unwrap();
    assert_eq!(sign_access_token(&pending, &claims()), Err(JwtError::Key(KeyError::NoActiveKey)));
}

#[test]
fn resource_servers_verify_with_the_published_jwks_alone() {
    let set = keys(SigningAlg::ES256);
    let token = sign_access_token(&set, &claims()).unwrap();
    let public = crate::keys::PublicKeys::from_jwks(&set.jwks()).unwrap();
    assert_eq!(verify_access_token(&public, &token, &expected()).unwrap(), claims());
    let other = crate::keys::PublicKeys::from_jwks(&keys(SigningAlg::ES256).jwks()).unwrap();
    // Same key ids, other keys: the signature gives the forgery away.
    assert_eq!(verify_access_token(&other, &token, &expected()), Err(JwtError::Signature));
}

#[test]
fn client_assertions_are_checked_claim_by_claim() {
    let client_keys = keys(SigningAlg::ES256);
    let public = crate::keys::PublicKeys::from_jwks(&client_keys.jwks()).unwrap();
    let endpoint = "https://auth.example/t/acme/token";
    let assertion = |claims: serde_json::Value| {
        let key = client_keys.signing_key().unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(key.kid().into());
        jsonwebtoken::encode(&header, &claims, &key.encoding_key()).unwrap()
    };
    let good = serde_json::json!({"iss": "c1", "sub": "c1", "aud": endpoint, "exp": NOW + 60, "iat": NOW, "jti": "j1"});
    let verify = |t: &str| verify_client_assertion(&public, t, "c1", &[endpoint, ISS], NOW, 300);
    assert_eq!(verify(&assertion(good.clone())).unwrap().jti, "j1");
    let with = |k: &str, v: serde_json::Value| {
        let mut c = good.clone();
        c[k] = v;
        assertion(c)
    };
    assert!(verify(&with("aud", ISS.into())).is_ok(), "the issuer is an accepted audience too");
    assert_eq!(verify(&with("iss", "c2".into())), Err(JwtError::Issuer));
    assert!(matches!(verify(&with("sub", "c2".into())), Err(JwtError::Claims(_))));
    assert_eq!(verify(&with("aud", "https://elsewhere.example".into())), Err(JwtError::Audience));
    assert_eq!(verify(&with("exp", (NOW - 60).into())), Err(JwtError::Expired));
    assert!(matches!(verify(&with("exp", (NOW + 3600).into())), Err(JwtError::Claims(_))));
    assert!(matches!(verify(&with("jti", "".into())), Err(JwtError::Claims(_))));
    let mut no_jti = good.clone();
    no_jti.as_object_mut().unwrap().remove("jti");
    assert!(verify(&assertion(no_jti)).is_err());
}
