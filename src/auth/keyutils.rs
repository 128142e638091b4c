//! The Linux kernel keyring (keyutils) as a keyring-core store.
//!
//! linux-keyutils-keyring-store 1.0 keeps keys in the session keyring and links them into the
//! persistent keyring through KEYCTL_GET_PERSISTENT on the session keyring. A process without a
//! session keyring of its own (containers, CI, cron, SSH without pam_keyinit) gets a fresh
//! anonymous one from that call, and from then on cannot read the key it just found: every
//! read fails with EACCES. This store keeps that crate's key name (`keyring:<profile>@<service>`,
//! type `user`) but files the key in the user keyring, which every process of the user shares
//! whatever its session, lets the user (not only a possessor) read it, and links the persistent
//! keyring (which outlives logout) through the user keyring, as a best effort.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::api::{CredentialApi, CredentialPersistence, CredentialStoreApi};
use keyring_core::{Credential, Entry, Error, Result};
use linux_keyutils::{KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};

#[derive(Debug)]
pub(super) struct Store;

impl Store {
    pub(super) fn new() -> Result<Arc<Store>> {
        // Fails early when the kernel has no key management (or a seccomp filter forbids it).
        user_keyring()?;
        Ok(Arc::new(Store))
    }
}

impl CredentialStoreApi for Store {
    fn vendor(&self) -> String {
        "segment-access keyutils store (user keyring, persistent keyring when allowed)".into()
    }

    fn id(&self) -> String {
        "segment-access-keyutils".into()
    }

    fn build(
        &self,
        service: &str,
        user: &str,
        _modifiers: Option<&HashMap<&str, &str>>,
    ) -> Result<Entry> {
        if service.is_empty() || user.is_empty() {
            return Err(Error::Invalid(
                "service or user".into(),
                "cannot be empty".into(),
            ));
        }
        Ok(Entry::new_with_credential(Arc::new(Cred {
            description: format!("keyring:{user}@{service}"),
            service: service.to_string(),
            user: user.to_string(),
        })))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn persistence(&self) -> CredentialPersistence {
        CredentialPersistence::UntilReboot
    }
}

#[derive(Debug)]
struct Cred {
    description: String,
    service: String,
    user: String,
}

fn user_keyring() -> Result<KeyRing> {
    KeyRing::from_special_id(KeyRingIdentifier::User, false).map_err(no_access)
}

/// The user keyring is searchable by every process of the user, but a key is readable only by
/// its possessors unless the user permissions say so; a process whose session keyring does not
/// link the user keyring would otherwise find the token and be refused it.
fn user_readable(key: linux_keyutils::Key) -> Result<()> {
    let all = || {
        Permission::VIEW
            | Permission::READ
            | Permission::WRITE
            | Permission::SEARCH
            | Permission::LINK
            | Permission::SETATTR
    };
    let perms = KeyPermissionsBuilder::builder()
        .posessor(all())
        .user(all())
        .build();
    key.set_perms(perms).map_err(failure)
}

fn no_access(e: KeyError) -> Error {
    Error::NoStorageAccess(Box::new(e))
}

fn failure(e: KeyError) -> Error {
    Error::PlatformFailure(Box::new(e))
}

/// Links the key into the persistent keyring if the kernel lets us; it is only a longer life.
fn link_persistent(key: linux_keyutils::Key) {
    if let Ok(persistent) = KeyRing::get_persistent(KeyRingIdentifier::User) {
        let _ = persistent.link_key(key);
    }
}

impl Cred {
    fn find(&self) -> Result<linux_keyutils::Key> {
        user_keyring()?
            .search(&self.description)
            .map_err(|e| match e {
                KeyError::KeyDoesNotExist
                | KeyError::KeyExpired
                | KeyError::KeyRevoked
                | KeyError::KeyRejected => Error::NoEntry,
                other => failure(other),
            })
    }
}

impl CredentialApi for Cred {
    fn set_secret(&self, secret: &[u8]) -> Result<()> {
        let key = user_keyring()?
            .add_key(&self.description, secret)
            .map_err(failure)?;
        user_readable(key)?;
        link_persistent(key);
        Ok(())
    }

    fn get_secret(&self) -> Result<Vec<u8>> {
        let key = self.find()?;
        let secret = key.read_to_vec().map_err(failure)?;
        link_persistent(key);
        Ok(secret)
    }

    fn delete_credential(&self) -> Result<()> {
        self.find()?.invalidate().map_err(failure)
    }

    fn get_credential(&self) -> Result<Option<Arc<Credential>>> {
        self.find()?;
        Ok(None)
    }

    fn get_specifiers(&self) -> Option<(String, String)> {
        Some((self.service.clone(), self.user.clone()))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
