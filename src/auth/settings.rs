//! The settings a command runs with, resolved once: which profile, which API URL, which default
//! output format, and where the token will come from. config.toml is read here and nowhere else
//! during a command.
//!
//! Precedence, highest first:
//! - profile: `--profile` / `SEGMENT_PROFILE`, the config's `default_profile`, `default`;
//! - API URL: `--api-url` / `SEGMENT_API_URL`, the profile's `api_url`, `--region` /
//!   `SEGMENT_REGION`, the profile's `region`, the US;
//! - token: `--token-stdin`, `SEGMENT_TOKEN`, the profile's OS keyring entry.

use std::io::Read;

use super::profiles::{self, Config, ConfigError, DEFAULT_PROFILE, Profile, Region};
use super::store::{Backend, Keyring, StoreError};
use super::{TOKEN_ENV, read_token, token_from_env};
use crate::output::Format;
use crate::segment::Token;

/// What the command line says about settings (flags, with their environment variables folded
/// in by clap).
#[derive(Debug, Clone, Default)]
pub(crate) struct Flags {
    pub profile: Option<String>,
    pub api_url: Option<String>,
    pub region: Option<Region>,
    pub token_stdin: bool,
}

/// Where the token in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenSource {
    Stdin,
    Env,
    Keyring(Backend),
}

impl TokenSource {
    pub(crate) fn describe(self) -> String {
        match self {
            TokenSource::Stdin => "--token-stdin".into(),
            TokenSource::Env => TOKEN_ENV.into(),
            TokenSource::Keyring(b) => format!("keyring ({})", b.id()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SettingsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "profile {profile:?} sets format = {value:?}; use one of: table, wide, json, ndjson, csv, md"
    )]
    Format { profile: String, value: String },
    #[error("{}", no_token(profile, near))]
    NoToken {
        profile: String,
        /// Profiles of the config whose names are close, when `profile` is not one of them.
        near: Vec<String>,
    },
    #[error("{}", unknown_profile(profile, known, near))]
    UnknownProfile {
        profile: String,
        /// Every profile the config has.
        known: Vec<String>,
        near: Vec<String>,
    },
    #[error(
        "profile {profile:?} sets cache_max_age = {value:?}; write an age like \"24h\", \"90m\" or \"2d\""
    )]
    CacheMaxAge { profile: String, value: String },
    #[error("--token-stdin: standard input held no token")]
    EmptyStdin,
    #[error("cannot read the token from stdin: {0}")]
    Stdin(std::io::Error),
    #[error(
        "cannot read the token of profile {profile:?} from the keyring: {source}; set SEGMENT_TOKEN or pipe the token to --token-stdin instead"
    )]
    Keyring { profile: String, source: StoreError },
}

fn no_token(profile: &str, near: &[String]) -> String {
    let fix = format!(
        "run `segment-access auth login{}`, set SEGMENT_TOKEN, or pipe one to --token-stdin (or try --demo for a sample workspace)",
        profile_flag(profile)
    );
    if near.is_empty() {
        format!("no Segment API token for profile {profile:?}: {fix}")
    } else {
        format!(
            "no profile {profile:?} in the config, and no token for it; did you mean {}? Otherwise {fix}",
            near.join(", ")
        )
    }
}

fn unknown_profile(profile: &str, known: &[String], near: &[String]) -> String {
    let guess = match near {
        [] => String::new(),
        _ => format!("; did you mean {}?", near.join(", ")),
    };
    format!(
        "no profile {profile:?} in the config (profiles: {}){guess} Name one of them, or leave out --profile (and SEGMENT_PROFILE) to use the token given with the default profile's settings",
        known.join(", ")
    )
}

/// A cache whose last full read is older than this is read in full again.
pub(crate) const DEFAULT_CACHE_MAX_AGE_SECS: u64 = 24 * 3600;

/// `90s`, `30m`, `24h`, `2d`, `1w` in seconds.
pub(crate) fn parse_age_secs(s: &str) -> Option<u64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: u64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    let per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(per)
}

/// ` --profile NAME`, or nothing for the default profile: for commands we suggest.
pub(crate) fn profile_flag(profile: &str) -> String {
    if profile == DEFAULT_PROFILE {
        String::new()
    } else {
        format!(" --profile {profile}")
    }
}

#[derive(Debug)]
pub(crate) struct Settings {
    pub flags: Flags,
    /// The config as read; empty when there is none. When it could not be read, `config_error`
    /// says why, and only what needs it (a keyring token, `auth` commands) fails.
    pub config: Config,
    config_error: Option<ConfigError>,
    /// The profile in force.
    pub profile: String,
    pub api_url: String,
    /// The profile's default output format, if it sets one.
    pub format: Option<Format>,
    /// The profile answers read-only questions from its cache (`cached = true`).
    pub cached: bool,
    /// How old the cache's last full read may be (`cache_max_age`, default 24 h), in seconds.
    pub cache_max_age_secs: u64,
    /// What people should know about the config (unknown keys).
    pub warnings: Vec<String>,
}

impl Settings {
    /// Reads config.toml once and resolves everything but the token, which is read only when a
    /// command needs it.
    pub(crate) fn resolve(flags: Flags) -> Result<Settings, SettingsError> {
        let (config, warnings, config_error) = match Config::load() {
            Ok((c, w)) => (c, w, None),
            Err(e) => (Config::default(), Vec::new(), Some(e)),
        };
        let mut s = Settings::with_config(flags, config, config_error)?;
        s.warnings = warnings;
        Ok(s)
    }

    pub(crate) fn with_config(
        flags: Flags,
        config: Config,
        config_error: Option<ConfigError>,
    ) -> Result<Settings, SettingsError> {
        let profile = config.active_name(flags.profile.as_deref());
        let p = config.profiles.get(&profile).cloned().unwrap_or_default();
        let format =
            match &p.format {
                None => None,
                Some(raw) => Some(<Format as clap::ValueEnum>::from_str(raw, true).map_err(
                    |_| SettingsError::Format {
                        profile: profile.clone(),
                        value: raw.clone(),
                    },
                )?),
            };
        let cached = p.cached.unwrap_or(false);
        let cache_max_age_secs = match &p.cache_max_age {
            None => DEFAULT_CACHE_MAX_AGE_SECS,
            Some(raw) => parse_age_secs(raw).ok_or_else(|| SettingsError::CacheMaxAge {
                profile: profile.clone(),
                value: raw.clone(),
            })?,
        };
        // --region outranks the profile's region but not its api_url (a proxy, the emulator).
        let mut with_flags = p;
        if flags.region.is_some() {
            with_flags.region = flags.region;
        }
        let api_url = match &flags.api_url {
            Some(u) => u.trim().to_string(),
            None => with_flags.api_url(),
        };
        Ok(Settings {
            flags,
            config,
            config_error,
            profile,
            api_url,
            format,
            cached,
            cache_max_age_secs,
            warnings: Vec::new(),
        })
    }

    /// The active profile's stored settings (empty when it has none yet).
    pub(crate) fn profile_settings(&self) -> Profile {
        self.config
            .profiles
            .get(&self.profile)
            .cloned()
            .unwrap_or_default()
    }

    /// The config, checked: readable, and the active profile's name valid. For what writes the
    /// config or files things under the profile's name.
    pub(crate) fn checked_config(&self) -> Result<&Config, ConfigError> {
        if let Some(e) = &self.config_error {
            return Err(e.clone());
        }
        profiles::validate_profile_name(&self.profile)?;
        Ok(&self.config)
    }

    /// The token in force: --token-stdin, then SEGMENT_TOKEN, then the profile's keyring entry.
    pub(crate) fn token(&self, stdin: &mut dyn Read) -> Result<Token, SettingsError> {
        self.checked_config()?;
        let keyring = Keyring::open();
        match self.lookup(&self.profile, stdin, keyring.as_ref())? {
            Some((_, TokenSource::Stdin | TokenSource::Env))
                if self.flags.profile.is_some()
                    && !self.config.profiles.is_empty()
                    && !self.config.profiles.contains_key(&self.profile) =>
            {
                // A token from the environment would work with any profile name, so a
                // mistyped one would silently mean another workspace's settings.
                Err(SettingsError::UnknownProfile {
                    profile: self.profile.clone(),
                    known: self.config.profiles.keys().cloned().collect(),
                    near: crate::access::resolve::nearest(
                        &self.profile,
                        self.config.profiles.keys().map(String::as_str),
                    ),
                })
            }
            Some((token, _)) => Ok(token),
            None => Err(SettingsError::NoToken {
                profile: self.profile.clone(),
                near: if self.config.profiles.contains_key(&self.profile) {
                    Vec::new()
                } else {
                    crate::access::resolve::nearest(
                        &self.profile,
                        self.config.profiles.keys().map(String::as_str),
                    )
                },
            }),
        }
    }

    /// A profile's token and where it comes from, in lookup order. The flag and the environment
    /// stand for the active profile only; any other profile has what its keyring entry holds.
    /// The keyring is opened by the caller, once for however many profiles it asks about.
    pub(crate) fn lookup(
        &self,
        profile: &str,
        stdin: &mut dyn Read,
        keyring: Result<&Keyring, &StoreError>,
    ) -> Result<Option<(Token, TokenSource)>, SettingsError> {
        let active = profile == self.profile;
        if active && self.flags.token_stdin {
            let token = read_token(stdin)
                .map_err(SettingsError::Stdin)?
                .ok_or(SettingsError::EmptyStdin)?;
            return Ok(Some((token, TokenSource::Stdin)));
        }
        if active && let Some(token) = token_from_env() {
            return Ok(Some((token, TokenSource::Env)));
        }
        let keyring_error = |source: StoreError| SettingsError::Keyring {
            profile: profile.to_string(),
            source,
        };
        let keyring = keyring.map_err(|e| keyring_error(e.clone()))?;
        Ok(keyring
            .get(profile)
            .map_err(keyring_error)?
            .map(|(t, backend)| (t, TokenSource::Keyring(backend))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml_text: &str) -> Config {
        toml::from_str(toml_text).expect("valid test config")
    }

    #[test]
    fn url_precedence_flag_profile_region() {
        let c = config(
            "default_profile = \"eu\"\n[profiles.eu]\nregion = \"eu\"\n[profiles.proxy]\napi_url = \"https://proxy.example\"\n",
        );
        let s = Settings::with_config(Flags::default(), c.clone(), None).unwrap();
        assert_eq!(s.profile, "eu");
        assert_eq!(s.api_url, Region::Eu.api_url());
        let flags = Flags {
            profile: Some("proxy".into()),
            region: Some(Region::Eu),
            ..Flags::default()
        };
        let s = Settings::with_config(flags, c.clone(), None).unwrap();
        assert_eq!(s.api_url, "https://proxy.example");
        let flags = Flags {
            api_url: Some(" http://127.0.0.1:9 ".into()),
            ..Flags::default()
        };
        let s = Settings::with_config(flags, c, None).unwrap();
        assert_eq!(s.api_url, "http://127.0.0.1:9");
    }

    #[test]
    fn a_bad_format_names_every_valid_one() {
        let c = config("[profiles.default]\nformat = \"yaml\"\n");
        let e = Settings::with_config(Flags::default(), c, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "profile \"default\" sets format = \"yaml\"; use one of: table, wide, json, ndjson, csv, md"
        );
    }
}
