//! The cache of a profile: a snapshot file in the platform cache directory, refreshed from the
//! audit trail before every answer, so read-only questions on a large workspace cost the cheap
//! lists and what changed instead of one request per user. A full read is forced when the
//! cache's last one is older than the profile's `cache_max_age`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::segment::{Client, Error};
use crate::snapshot::draft::Draft;
use crate::snapshot::{Meta, ReadKind};

use crate::access::directory::{Directory, Progress};

/// Overrides the cache directory (tests, CI, a shared machine).
pub(crate) const CACHE_DIR_ENV: &str = "SEGMENT_ACCESS_CACHE_DIR";

/// `SEGMENT_ACCESS_CACHE_DIR`, else the platform cache directory; `None` without a home.
pub(crate) fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(CACHE_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let dirs = directories::ProjectDirs::from("", "", "segment-access")?;
    Some(dirs.cache_dir().to_path_buf())
}

/// The cache file of `profile` (a validated profile name: letters, digits, `-`, `_`, `.`).
pub(crate) fn path(dir: &Path, profile: &str) -> PathBuf {
    dir.join(format!("{profile}.db"))
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CacheError {
    #[error(transparent)]
    Api(#[from] Error),
    #[error("cannot write the cache {path}: {message}")]
    Write { path: String, message: String },
}

/// An answer's data, and the line that tells people where it came from.
pub(crate) struct Cached {
    pub dir: Directory,
    pub api_url: String,
    pub note: String,
}

/// The workspace as the cache at `file` holds it after a refresh (or a full read when the
/// cache is missing, unusable, of another workspace, or its last full read is older than
/// `max_age_secs`), written back to `file`.
pub(crate) async fn load(
    client: &Client,
    file: &Path,
    profile: &str,
    max_age_secs: u64,
    tool_version: &str,
    progress: Arc<dyn Progress>,
) -> Result<Cached, CacheError> {
    let now = unix_now();
    let cannot_write = |message: String| CacheError::Write {
        path: file.display().to_string(),
        message,
    };
    if let Some(parent) = file.parent() {
        crate::files::create_private_dir(parent).map_err(|e| cannot_write(e.to_string()))?;
    }
    let mut draft = Draft::new(file).map_err(|e| cannot_write(e.to_string()))?;
    let mut forced: Option<String> = None;
    let old = if !file.exists() {
        forced = Some("no cache yet".into());
        None
    } else {
        match draft.read_base(file) {
            Ok(s) => Some(s),
            Err(e) => {
                forced = Some(format!("the cache could not be read ({e})"));
                None
            }
        }
    };
    let old = old.filter(|s| {
        let full_age = now - s.read_info().last_full_read_unix;
        if full_age > i64::try_from(max_age_secs).unwrap_or(i64::MAX) {
            forced = Some(format!(
                "its last full read was {} ago, more than cache_max_age ({})",
                age(full_age),
                age(i64::try_from(max_age_secs).unwrap_or(i64::MAX))
            ));
            return false;
        }
        true
    });
    let started = std::time::Instant::now();
    let (dir, mut info) = crate::snapshot::refresh::read(client, old, progress).await?;
    if info.kind == ReadKind::Full {
        // One clock for `taken_at` and the full read it is.
        info.last_full_read_unix = now;
        if forced.is_some() {
            info.full_read_reason = forced;
        }
    }
    let api_url = client.base_url().as_str().trim_end_matches('/').to_string();
    let meta = Meta {
        tool_version: tool_version.to_string(),
        taken_at_unix: now,
        duration_ms: started.elapsed().as_millis() as u64,
        api_url: api_url.clone(),
        read: info.clone(),
    };
    let d = dir.clone();
    tokio::task::spawn_blocking(move || draft.commit(&d, &meta))
        .await
        .map_err(|e| cannot_write(e.to_string()))?
        .map_err(|e| cannot_write(e.to_string()))?;
    // The answer is as of the start of this read; what ages is the last full read.
    let took = age(unix_now() - now);
    let note = match info.kind {
        ReadKind::Refresh => format!(
            "note: answered from the cache of {profile}, refreshed in {took} ({} since its full read {} ago; --live reads everything)",
            changes(info.changes_since_full),
            age(unix_now() - info.last_full_read_unix)
        ),
        ReadKind::Full => format!(
            "note: answered from the cache of {profile}, read in full in {took} ({})",
            info.full_read_reason.as_deref().unwrap_or("a full read")
        ),
    };
    Ok(Cached { dir, api_url, note })
}

fn changes(n: u64) -> String {
    match n {
        1 => "1 change".into(),
        n => format!("{n} changes"),
    }
}

fn unix_now() -> i64 {
    crate::segment::time::now_millis().div_euclid(1000)
}

/// `4 s`, `12 min`, `5 h`, `3 d`: how people say an age.
pub(crate) fn age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn ages_read_as_people_say_them() {
        assert_eq!(age(-3), "0 s");
        assert_eq!(age(2), "2 s");
        assert_eq!(age(600), "10 min");
        assert_eq!(age(4 * 3600), "4 h");
        assert_eq!(age(3 * 86_400), "3 d");
    }
}
