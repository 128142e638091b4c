//! Tokens and profiles: where the API token comes from (a pipe, the environment, the OS
//! keyring) and the non-secret settings of each workspace.
//!
//! Lookup order of the token: `--token-stdin`, then `SEGMENT_TOKEN`, then the keyring entry of
//! the profile. The token travels as [`Token`], whose `Debug` and `Display` never show it.

#[cfg(target_os = "linux")]
mod keyutils;
pub(crate) mod profiles;
pub(crate) mod settings;
pub(crate) mod store;
pub(crate) mod verify;

use std::io::Read;

pub(crate) use profiles::{ConfigError, Region};
pub(crate) use settings::Settings;
pub(crate) use store::StoreError;
pub use store::{Backend, Keyring};

use crate::segment::Token;

/// The environment variable scripts and CI put the token in.
pub(crate) const TOKEN_ENV: &str = "SEGMENT_TOKEN";

/// The first line of `input`, trimmed; `None` when it holds no token. At most 64 KiB is read
/// so a mistaken pipe of a large file fails fast.
pub(crate) fn read_token(input: &mut dyn Read) -> std::io::Result<Option<Token>> {
    let mut s = String::new();
    input.take(64 * 1024).read_to_string(&mut s)?;
    let t = s.lines().next().unwrap_or_default().trim();
    Ok((!t.is_empty()).then(|| Token::new(t)))
}

/// `SEGMENT_TOKEN`, when set to something.
pub(crate) fn token_from_env() -> Option<Token> {
    std::env::var(TOKEN_ENV)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .map(Token::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_line_trimmed() {
        let mut input: &[u8] = b"  abc-123 \nsecond line\n";
        let t = read_token(&mut input).expect("reads").expect("a token");
        assert_eq!(t.expose(), "abc-123");
        let mut empty: &[u8] = b"\n\n";
        assert!(read_token(&mut empty).expect("reads").is_none());
    }
}
