//! The key registry shared by every controller instance and the HTTP handlers (upstream
//! `pkg/controller/keyregistry.go` `KeyRegistry`): all keys decrypt, the most recent one seals.
//! Keys are only ever added while running.

use std::sync::{RwLock, RwLockReadGuard};

use sealed_secrets::keys::{KeyRing, SealingKeyPair};

#[derive(Debug, Default)]
pub struct KeyRegistry {
    ring: RwLock<KeyRing>,
}

impl KeyRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Read access for unsealing and for the certificate. Never hold it across an await.
    pub fn read(&self) -> RwLockReadGuard<'_, KeyRing> {
        self.ring
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a key; false when its public key was already known.
    pub fn add(&self, pair: SealingKeyPair) -> bool {
        self.ring
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .add(pair)
    }
}

impl KeyRegistry {
    /// Ordering time of the key that currently seals (upstream `mostRecentKey`), if any.
    pub fn latest_order_time(&self) -> Option<std::time::SystemTime> {
        self.read().latest().map(|k| k.order_time)
    }
}
