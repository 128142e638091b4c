//! The OS credential store: one Segment API token per profile, never a file of ours.
//!
//! macOS keeps tokens in the login Keychain, Windows in the Credential Manager, Linux and the
//! BSDs in the Secret Service (gnome-keyring, KWallet, KeePassXC). On Linux, when no Secret
//! Service answers (servers, containers, SSH sessions), the kernel keyutils store takes over:
//! it lives in memory and is gone after a reboot, which is still better than a plaintext file.
//! The mock and sample stores of keyring-core are never used.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use keyring_core::{CredentialStore, Entry, Error as KeyringError};

use crate::segment::Token;

/// The service name every entry is filed under; the account (user) is the profile name.
pub(crate) const SERVICE: &str = "segment-access";

/// A locked Secret Service may wait forever for a password prompt nobody sees; a command line
/// must not hang with it.
const STORE_TIMEOUT: Duration = Duration::from_secs(20);

/// Where a token is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Keychain,
    CredentialManager,
    SecretService,
    Keyutils,
}

impl Backend {
    /// Short, stable name for machine output.
    pub fn id(self) -> &'static str {
        match self {
            Backend::Keychain => "keychain",
            Backend::CredentialManager => "windows-credential-manager",
            Backend::SecretService => "secret-service",
            Backend::Keyutils => "keyutils",
        }
    }

    /// What a person knows the store as.
    pub fn describe(self) -> &'static str {
        match self {
            Backend::Keychain => "the macOS Keychain",
            Backend::CredentialManager => "the Windows Credential Manager",
            Backend::SecretService => "the Secret Service (GNOME Keyring / KWallet)",
            Backend::Keyutils => "the Linux kernel keyring (keyutils; cleared at reboot)",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Not one credential store of this platform could be opened.
    #[error(
        "no OS keyring is available ({0}); set SEGMENT_TOKEN or pipe the token to --token-stdin instead"
    )]
    Unavailable(String),
    #[error(
        "{0} did not answer within {secs}s (locked, or waiting for a password prompt?)",
        secs = STORE_TIMEOUT.as_secs()
    )]
    Timeout(Backend),
    #[error("{backend}: {message}")]
    Failed { backend: Backend, message: String },
}

/// The credential stores of this machine that opened, in order of preference.
pub struct Keyring {
    stores: Vec<(Backend, Arc<CredentialStore>)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.stores.iter().map(|(b, _)| b.id()).collect();
        f.debug_struct("Keyring").field("stores", &ids).finish()
    }
}

impl Keyring {
    /// Opens the platform's stores. Fails only when none is usable.
    pub fn open() -> Result<Keyring, StoreError> {
        let mut stores = Vec::new();
        let mut why_not = Vec::new();
        for backend in platform_backends() {
            match bounded(backend, move || open_backend(backend)) {
                Ok(Ok(store)) => stores.push((backend, store)),
                Ok(Err(e)) => why_not.push(format!("{}: {}", backend.id(), describe(&e))),
                Err(e) => why_not.push(e.to_string()),
            }
        }
        if stores.is_empty() {
            if why_not.is_empty() {
                why_not.push("this platform has no supported credential store".into());
            }
            return Err(StoreError::Unavailable(why_not.join("; ")));
        }
        Ok(Keyring { stores })
    }

    /// The store new tokens go to.
    pub fn preferred(&self) -> Backend {
        self.stores[0].0
    }

    pub fn backends(&self) -> Vec<Backend> {
        self.stores.iter().map(|(b, _)| *b).collect()
    }

    /// The profile's token and the store it came from, looking in every store in order, since a
    /// token saved while the Secret Service was down sits in keyutils.
    pub fn get(&self, profile: &str) -> Result<Option<(Token, Backend)>, StoreError> {
        let mut first_error = None;
        for (backend, store) in &self.stores {
            let (backend, store, profile) = (*backend, store.clone(), profile.to_string());
            let got = bounded(backend, move || {
                Entry::new_in_store(&store, SERVICE, &profile)?.get_password()
            })?;
            match got {
                Ok(t) if !t.trim().is_empty() => return Ok(Some((Token::new(t.trim()), backend))),
                Ok(_) | Err(KeyringError::NoEntry) => {}
                Err(e) => {
                    first_error.get_or_insert(StoreError::Failed {
                        backend,
                        message: describe(&e),
                    });
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// Saves the token in the preferred store that accepts it, and removes copies of the
    /// profile's token from the other stores so no stale token can win a later lookup.
    pub fn set(&self, profile: &str, token: &Token) -> Result<Backend, StoreError> {
        let mut failures = Vec::new();
        let mut saved = None;
        for (backend, store) in &self.stores {
            let (b, store2, p, t) = (
                *backend,
                store.clone(),
                profile.to_string(),
                token.expose().to_string(),
            );
            match bounded(b, move || {
                Entry::new_in_store(&store2, SERVICE, &p)?.set_password(&t)
            }) {
                Ok(Ok(())) => {
                    saved = Some(b);
                    break;
                }
                Ok(Err(e)) => failures.push(format!("{}: {}", b.id(), describe(&e))),
                Err(e) => failures.push(e.to_string()),
            }
        }
        let Some(saved) = saved else {
            return Err(StoreError::Unavailable(failures.join("; ")));
        };
        for (backend, store) in &self.stores {
            if *backend != saved {
                let _ = delete_in(*backend, store.clone(), profile);
            }
        }
        Ok(saved)
    }

    /// Deletes the profile's token from every store; returns the stores that held one.
    pub fn delete(&self, profile: &str) -> Result<Vec<Backend>, StoreError> {
        let mut removed = Vec::new();
        for (backend, store) in &self.stores {
            if delete_in(*backend, store.clone(), profile)? {
                removed.push(*backend);
            }
        }
        Ok(removed)
    }
}

fn delete_in(
    backend: Backend,
    store: Arc<CredentialStore>,
    profile: &str,
) -> Result<bool, StoreError> {
    let profile = profile.to_string();
    match bounded(backend, move || {
        Entry::new_in_store(&store, SERVICE, &profile)?.delete_credential()
    })? {
        Ok(()) => Ok(true),
        Err(KeyringError::NoEntry) => Ok(false),
        Err(e) => Err(StoreError::Failed {
            backend,
            message: describe(&e),
        }),
    }
}

/// Runs one store call on its own thread with a deadline. A timed-out call is abandoned; the
/// process ends soon after anyway.
fn bounded<T: Send + 'static>(
    backend: Backend,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| StoreError::Failed {
            backend,
            message: format!("cannot start a thread: {e}"),
        })?;
    rx.recv_timeout(STORE_TIMEOUT)
        .map_err(|_| StoreError::Timeout(backend))
}

/// A keyring error for people. Variants that carry the stored bytes are described without them.
fn describe(e: &KeyringError) -> String {
    match e {
        KeyringError::PlatformFailure(inner) => inner.to_string(),
        KeyringError::NoStorageAccess(inner) => format!("no access: {inner}"),
        KeyringError::NoEntry => "no entry".into(),
        KeyringError::BadEncoding(_) => "the stored token is not valid UTF-8".into(),
        KeyringError::BadDataFormat(..) => "the stored token is malformed".into(),
        KeyringError::Ambiguous(found) => format!(
            "{} entries match; remove the extra ones with the platform's keyring tool",
            found.len()
        ),
        KeyringError::TooLong(what, max) => {
            format!("{what} is longer than the store allows ({max})")
        }
        KeyringError::Invalid(what, why) => format!("invalid {what}: {why}"),
        KeyringError::NotSupportedByStore(why) => format!("not supported: {why}"),
        KeyringError::NoDefaultStore => "no store".into(),
        _ => "unexpected keyring error".into(),
    }
}

fn platform_backends() -> Vec<Backend> {
    [
        (cfg!(target_os = "macos"), Backend::Keychain),
        (cfg!(target_os = "windows"), Backend::CredentialManager),
        (
            cfg!(all(
                unix,
                not(any(
                    target_os = "macos",
                    target_os = "ios",
                    target_os = "android"
                ))
            )),
            Backend::SecretService,
        ),
        (cfg!(target_os = "linux"), Backend::Keyutils),
    ]
    .into_iter()
    .filter_map(|(on, b)| on.then_some(b))
    .collect()
}

fn open_backend(backend: Backend) -> keyring_core::Result<Arc<CredentialStore>> {
    match backend {
        #[cfg(target_os = "macos")]
        Backend::Keychain => {
            let s: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
            Ok(s)
        }
        #[cfg(target_os = "windows")]
        Backend::CredentialManager => {
            let s: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
            Ok(s)
        }
        #[cfg(all(
            unix,
            not(any(target_os = "macos", target_os = "ios", target_os = "android"))
        ))]
        Backend::SecretService => {
            if std::env::var_os(NO_SECRET_SERVICE_ENV).is_some_and(|v| !v.is_empty()) {
                return Err(KeyringError::NotSupportedByStore(format!(
                    "disabled by {NO_SECRET_SERVICE_ENV}"
                )));
            }
            let s: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
            Ok(s)
        }
        #[cfg(target_os = "linux")]
        Backend::Keyutils => {
            let s: Arc<CredentialStore> = super::keyutils::Store::new()?;
            Ok(s)
        }
        #[allow(unreachable_patterns)]
        other => Err(KeyringError::NotSupportedByStore(format!(
            "{} is not available on this platform",
            other.id()
        ))),
    }
}

/// Skips the Secret Service even when one runs: for hosts whose Secret Service is present but
/// unusable (locked with nobody to unlock it), and for testing the keyutils path.
pub(crate) const NO_SECRET_SERVICE_ENV: &str = "SEGMENT_ACCESS_NO_SECRET_SERVICE";
