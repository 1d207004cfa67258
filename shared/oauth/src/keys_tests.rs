use super::*;

fn es(kid: &str) -> SigningKey {
    SigningKey::generate(kid, SigningAlg::ES256).unwrap()
}

#[test]
fn es256_key_round_trips_through_pkcs8_pem() {
    let key = es("k1");
    assert_eq!(key.state(), KeyState::Pending);
    assert!(key.private_pkcs8_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
    let back = SigningKey::from_pkcs8_pem("k1", SigningAlg::ES256, KeyState::Active, key.private_pkcs8_pem()).unwrap();
    assert_eq!(back.jwk(), key.jwk());
    assert_eq!(back.state(), KeyState::Active);
}

#[test]
fn es256_jwk_has_rfc_7517_members() {
    let key = es("k1");
    let jwk = serde_json::to_value(key.jwk()).unwrap();
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["alg"], "ES256");
    assert_eq!(jwk["kid"], "k1");
    // 32-byte coordinates, unpadded base64url.
    assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
    assert_eq!(jwk["y"].as_str().unwrap().len(), 43);
    assert!(jwk.get("n").is_none() && jwk.get("d").is_none());
}

#[test]
fn rs256_key_and_jwk() {
    let key = SigningKey::generate("r1", SigningAlg::RS256).unwrap();
    let jwk = serde_json::to_value(key.jwk()).unwrap();
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["e"], "AQAB");
    assert_eq!(jwk["n"].as_str().unwrap().len(), 342);
    assert!(jwk.get("crv").is_none() && jwk.get("d").is_none());
    let back = SigningKey::from_pkcs8_pem("r1", SigningAlg::RS256, KeyState::Active, key.private_pkcs8_pem()).unwrap();
    assert_eq!(back.jwk(), key.jwk());
}

#[test]
fn refuses_bad_keys_and_kids() {
    let pem = es("k1").private_pkcs8_pem().to_owned();
    assert!(matches!(
        SigningKey::from_pkcs8_pem("k1", SigningAlg::RS256, KeyState::Active, &pem),
        Err(KeyError::InvalidKey(SigningAlg::RS256, _))
    ));
    assert!(matches!(
        SigningKey::from_pkcs8_pem("k1", SigningAlg::ES256, KeyState::Active, "not a key"),
        Err(KeyError::InvalidKey(..))
    ));
    for kid in ["", "a b", "k\"1", &"k".repeat(129)] {
        assert_eq!(
            SigningKey::from_pkcs8_pem(kid, SigningAlg::ES256, KeyState::Active, &pem).unwrap_err(),
            KeyError::InvalidKid
        );
    }
}

#[test]
fn debug_never_prints_the_private_key() {
    let key = es("k1");
    let printed = format!("{key:?}");
    assert!(printed.contains("k1"));
    assert!(!printed.contains("PRIVATE"));
}

#[test]
fn rotation_moves_pending_to_active_to_retired() {
    let mut set = KeySet::new(vec![es("a")]).unwrap();
    assert_eq!(set.signing_key().unwrap_err(), KeyError::NoActiveKey);
    assert_eq!(set.rotate().unwrap(), "a");
    assert_eq!(set.signing_key().unwrap().kid(), "a");
    assert_eq!(set.rotate().unwrap_err(), KeyError::NoPendingKey);

    set.add(es("b")).unwrap();
    let kids = |set: &KeySet| set.jwks().keys.into_iter().map(|k| k.kid).collect::<Vec<_>>();
    assert_eq!(kids(&set), ["a", "b"]);
    assert_eq!(set.rotate().unwrap(), "b");
    assert_eq!(set.get("a").unwrap().state(), KeyState::Retired);
    set.add(es("c")).unwrap();
    // Active, then the next one, then the retired one: all published.
    assert_eq!(kids(&set), ["b", "c", "a"]);

    assert_eq!(set.remove_retired("b").unwrap_err(), KeyError::NotRetired("b".into()));
    assert_eq!(set.remove_retired("a").unwrap().kid(), "a");
    assert_eq!(kids(&set), ["b", "c"]);
}

#[test]
fn key_set_invariants() {
    let active = |kid: &str| {
        let k = es(kid);
        SigningKey::from_pkcs8_pem(kid, SigningAlg::ES256, KeyState::Active, k.private_pkcs8_pem()).unwrap()
    };
    assert_eq!(KeySet::new(vec![active("a"), active("b")]).unwrap_err(), KeyError::SeveralActive);
    assert_eq!(KeySet::new(vec![es("a"), es("a")]).unwrap_err(), KeyError::DuplicateKid("a".into()));
}
