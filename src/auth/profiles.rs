//! Profiles: the non-secret settings of each workspace an admin works with, in one TOML file
//! in the platform's config directory. Tokens never go here; they live in the OS keyring.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::segment::client::{EU_API_URL, US_API_URL};

/// Overrides the config directory (tests, portable set-ups, several independent configs).
pub(crate) const CONFIG_DIR_ENV: &str = "SEGMENT_ACCESS_CONFIG_DIR";
pub(crate) const CONFIG_FILE: &str = "config.toml";
/// The profile used when none is named and the config marks none as default.
pub(crate) const DEFAULT_PROFILE: &str = "default";

/// A Segment region: where a workspace's API lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Us,
    Eu,
}

impl Region {
    pub fn api_url(self) -> &'static str {
        match self {
            Region::Us => US_API_URL,
            Region::Eu => EU_API_URL,
        }
    }
}

/// One workspace's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Wins over `region` (proxies, the emulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// Default output format: table, json, ndjson or csv.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Remembered at login so `auth status` can say which workspace a profile is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    /// The email `review` records as the reviewer when --reviewer is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    /// Answer read-only questions from the profile's cache (as `--cached` does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached: Option<bool>,
    /// How old the cache's last full read may be before a full read is forced (`24h`, `90m`,
    /// `2d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_max_age: Option<String>,
}

impl Profile {
    /// The profile's API URL: its own, else its region's, else the US one.
    pub(crate) fn api_url(&self) -> String {
        match (&self.api_url, self.region) {
            (Some(u), _) => u.clone(),
            (None, Some(r)) => r.api_url().to_string(),
            (None, None) => US_API_URL.to_string(),
        }
    }
}

/// The whole config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Config {
    /// The profile used without --profile / SEGMENT_PROFILE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error(
        "cannot find a config directory (no home directory?); set {CONFIG_DIR_ENV} to choose one"
    )]
    NoDir,
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path} is not a valid config file: {message} (fix or delete it)")]
    Parse { path: String, message: String },
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error(
        "invalid profile name {0:?}: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    BadName(String),
}

/// The directory holding config.toml: $SEGMENT_ACCESS_CONFIG_DIR, else the platform's
/// (~/.config/segment-access, ~/Library/Application Support/segment-access,
/// %APPDATA%\segment-access\config).
pub(crate) fn config_dir() -> Result<PathBuf, ConfigError> {
    if let Some(d) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "segment-access")
        .map(|p| p.config_dir().to_path_buf())
        .ok_or(ConfigError::NoDir)
}

pub(crate) fn config_path() -> Result<PathBuf, ConfigError> {
    Ok(config_dir()?.join(CONFIG_FILE))
}

const TOP_KEYS: [&str; 2] = ["default_profile", "profiles"];
const PROFILE_KEYS: [&str; 9] = [
    "region",
    "api_url",
    "format",
    "reviewer",
    "cached",
    "cache_max_age",
    "workspace_name",
    "workspace_slug",
    "workspace_id",
];

/// What a config file holds that this version does not know, each with the nearest known key.
fn unknown_keys(t: &toml::Table) -> Vec<String> {
    let hint = |key: &str, known: &[&str]| {
        let near = crate::access::resolve::nearest(key, known.iter().copied());
        match near.first() {
            Some(n) => format!("; did you mean {n:?}?"),
            None => format!("; known keys: {}", known.join(", ")),
        }
    };
    let mut out = Vec::new();
    for (k, v) in t {
        if !TOP_KEYS.contains(&k.as_str()) {
            out.push(format!(
                "unknown key {k:?} is ignored{}",
                hint(k, &TOP_KEYS)
            ));
            continue;
        }
        let Some(profiles) = v.as_table().filter(|_| k == "profiles") else {
            continue;
        };
        for (name, p) in profiles {
            for key in p.as_table().into_iter().flat_map(|t| t.keys()) {
                if !PROFILE_KEYS.contains(&key.as_str()) {
                    out.push(format!(
                        "profile {name:?} has an unknown key {key:?}, which is ignored{}",
                        hint(key, &PROFILE_KEYS)
                    ));
                }
            }
        }
    }
    out
}

/// Profile names become keyring account names and TOML keys: keep them plain.
pub(crate) fn validate_profile_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::BadName(name.to_string()))
    }
}

impl Config {
    /// Reads the config file; a missing file is an empty config.
    /// The config, and a warning for every key it does not know (ignored, not fatal: an older
    /// or newer version may have written it).
    pub(crate) fn load() -> Result<(Config, Vec<String>), ConfigError> {
        Config::load_from(&config_path()?)
    }

    pub(crate) fn load_from(path: &Path) -> Result<(Config, Vec<String>), ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Config::default(), Vec::new()));
            }
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        let config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.message().to_string(),
        })?;
        let warnings = toml::from_str::<toml::Table>(&text)
            .map(|t| unknown_keys(&t))
            .unwrap_or_default()
            .into_iter()
            .map(|w| format!("warning: {}: {w}", path.display()))
            .collect();
        Ok((config, warnings))
    }

    pub(crate) fn save(&self) -> Result<PathBuf, ConfigError> {
        let path = config_path()?;
        self.save_to(&path)?;
        Ok(path)
    }

    /// Writes through a temporary file and a rename, so a crash never leaves half a config; the
    /// file is private (0600) and a directory made for it 0700.
    pub(crate) fn save_to(&self, path: &Path) -> Result<(), ConfigError> {
        let err = |e: &dyn std::fmt::Display| ConfigError::Write {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let text = toml::to_string_pretty(self).map_err(|e| err(&e))?;
        let body = format!(
            "# segment-access profiles: non-secret settings only. Tokens live in the OS keyring.\n{text}"
        );
        crate::files::write_private_atomic(path, body.as_bytes()).map_err(|e| err(&e))
    }

    /// The profile in force: the named one, else the configured default, else `default`.
    pub(crate) fn active_name(&self, named: Option<&str>) -> String {
        named
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .or_else(|| self.default_profile.clone())
            .unwrap_or_else(|| DEFAULT_PROFILE.to_string())
    }

    /// Whether `name` is the profile used when none is named.
    pub(crate) fn is_default(&self, name: &str) -> bool {
        self.active_name(None) == name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_toml() {
        let mut c = Config {
            default_profile: Some("prod".into()),
            ..Config::default()
        };
        c.profiles.insert(
            "prod".into(),
            Profile {
                region: Some(Region::Eu),
                workspace_name: Some("Acme".into()),
                ..Profile::default()
            },
        );
        let text = toml::to_string_pretty(&c).expect("serialises");
        assert!(text.contains("region = \"eu\""), "{text}");
        let back: Config = toml::from_str(&text).expect("parses");
        assert_eq!(back, c);
    }

    #[test]
    fn api_url_prefers_url_then_region_then_us() {
        let mut p = Profile::default();
        assert_eq!(p.api_url(), US_API_URL);
        p.region = Some(Region::Eu);
        assert_eq!(p.api_url(), EU_API_URL);
        p.api_url = Some("http://127.0.0.1:1".into());
        assert_eq!(p.api_url(), "http://127.0.0.1:1");
    }

    #[test]
    fn active_profile_falls_back_to_default() {
        let mut c = Config::default();
        assert_eq!(c.active_name(None), "default");
        c.default_profile = Some("eu".into());
        assert_eq!(c.active_name(None), "eu");
        assert_eq!(c.active_name(Some("staging")), "staging");
        assert_eq!(c.active_name(Some("  ")), "eu");
    }

    #[test]
    fn unknown_keys_are_named_with_the_nearest_known_one() {
        let t: toml::Table = toml::from_str(
            "default_profil = \"eu\"\n[profiles.eu]\nregoin = \"eu\"\nformat = \"json\"\n",
        )
        .unwrap();
        assert_eq!(
            unknown_keys(&t),
            vec![
                "unknown key \"default_profil\" is ignored; did you mean \"default_profile\"?",
                "profile \"eu\" has an unknown key \"regoin\", which is ignored; did you mean \"region\"?",
            ]
        );
    }

    #[test]
    fn profile_names_are_checked() {
        for good in ["default", "prod", "eu-1", "a.b_c"] {
            assert!(validate_profile_name(good).is_ok(), "{good}");
        }
        for bad in ["", "-x", "a b", "a/b", "ü", &"x".repeat(65)] {
            assert!(validate_profile_name(bad).is_err(), "{bad}");
        }
    }
}
