//! Password hashing: argon2id, stored as PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), verified in
//! constant time. The work runs on the blocking pool, so a sign-in does not stall the runtime.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Parallelism.
    pub p_cost: u32,
}

impl HashParams {
    /// OWASP's recommendation for argon2id: 19 MiB, 2 iterations, 1 lane.
    pub const PRODUCTION: Self = Self { m_cost: 19_456, t_cost: 2, p_cost: 1 };
    /// Cheap parameters for tests only.
    pub const TESTS: Self = Self { m_cost: 1_024, t_cost: 1, p_cost: 1 };

    fn argon2(self) -> Argon2<'static> {
        let params = Params::new(self.m_cost, self.t_cost, self.p_cost, None).expect("valid argon2 parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// A PHC string of `password` with a fresh random salt.
pub fn hash(params: HashParams, password: &str) -> Result<String, HashError> {
    // 128 random bits from the thread's CSPRNG
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| HashError(e.to_string()))?;
    params
        .argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string (with the parameters the string names); a string that does not parse
/// matches nothing.
pub fn verify(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    // The verifier takes algorithm, version and costs from the hash; the comparison is constant-time.
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Whether the PHC string was made with other parameters than `params` (then it is worth rehashing).
pub fn needs_rehash(phc: &str, params: HashParams) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return true };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return true;
    }
    match Params::try_from(&parsed) {
        Ok(p) => p.m_cost() != params.m_cost || p.t_cost() != params.t_cost || p.p_cost() != params.p_cost,
        Err(_) => true,
    }
}

/// [`hash`] on the blocking pool.
pub async fn hash_blocking(params: HashParams, password: String) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || hash(params, &password)).await.map_err(|e| HashError(e.to_string()))?
}

/// [`verify`] on the blocking pool.
pub async fn verify_blocking(phc: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify(&phc, &password)).await.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_name_their_parameters() {
        let h = hash(HashParams::TESTS, "correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{h}");
        assert!(verify(&h, "correct horse battery"));
        assert!(!verify(&h, "correct horse batterY"));
        assert!(!verify("not a hash", "x"));
        assert!(!needs_rehash(&h, HashParams::TESTS));
        assert!(needs_rehash(&h, HashParams::PRODUCTION));
        assert_ne!(h, hash(HashParams::TESTS, "correct horse battery").unwrap(), "salted");
    }
}
