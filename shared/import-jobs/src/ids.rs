//! Record ids of imported rows, derived from the import and the row: a retried chunk writes the same ids, so a
//! row can never become two records. They are ULIDs (time = the import's creation) like every other record id.

/// FNV-1a, 128 bits: stable across builds and platforms, unlike `std`'s hasher.
fn fnv1a128(parts: &[&[u8]]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for part in parts {
        for b in *part {
            h ^= u128::from(*b);
            h = h.wrapping_mul(PRIME);
        }
        h ^= 0xff;
        h = h.wrapping_mul(PRIME);
    }
    h
}

pub fn record_id(import_id: &str, created_at: &str, row: u64) -> String {
    let ms = chrono::DateTime::parse_from_rfc3339(created_at).map(|t| t.timestamp_millis().max(0) as u64).unwrap_or(0);
    let random = fnv1a128(&[import_id.as_bytes(), &row.to_be_bytes()]);
    ulid::Ulid::from_parts(ms, random).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_distinct_and_valid() {
        let a = record_id("01JIMPORT", "2026-11-26T10:00:00.000Z", 2);
        assert_eq!(a, record_id("01JIMPORT", "2026-11-26T10:00:00.000Z", 2));
        assert_ne!(a, record_id("01JIMPORT", "2026-11-26T10:00:00.000Z", 3));
        assert_ne!(a, record_id("01JOTHER", "2026-11-26T10:00:00.000Z", 2));
        assert!(hw_domain::ids::is_valid_record_id(&a));
        let t = ulid::Ulid::from_string(&a).unwrap().timestamp_ms();
        assert_eq!(
            t,
            chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00.000Z").unwrap().timestamp_millis() as u64
        );
    }
}
