//! Segment-looking ids: base62 strings, 22 characters for most objects and 27 (KSUID-like) for
//! roles, drawn from a seeded RNG so the same seed always yields the same ids.

use rand::Rng;
use rand::rngs::StdRng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub(super) fn base62(rng: &mut StdRng, len: usize) -> String {
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Most Segment object ids (users, groups, sources, ...).
pub(super) fn object_id(rng: &mut StdRng) -> String {
    base62(rng, 22)
}

/// Role and policy ids look like KSUIDs.
pub(super) fn ksuid(rng: &mut StdRng) -> String {
    // KSUIDs start with a timestamp, so real ones begin with a small digit.
    let mut s = String::from("1");
    s.push_str(&base62(rng, 26));
    s
}
