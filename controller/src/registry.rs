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

    /// SubjectPublicKeyInfo of the key that currently seals, if any.
    pub fn latest_spki(&self) -> Option<Vec<u8>> {
        self.read()
            .latest()
            .map(|k| k.private_key.public_key().spki_der().to_vec())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, SystemTime};

    use sealed_secrets::keys::{Certificate, PrivateKey, SealingKeyPair};

    use super::*;

    fn pair(key: &[u8], cert: &[u8], secs: u64) -> SealingKeyPair {
        SealingKeyPair {
            private_key: PrivateKey::from_pem(key).unwrap(),
            certificate: Certificate::from_pem(cert).unwrap(),
            order_time: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        }
    }

    /// U9 (upstream v0.38.0 `keyregistry.go` RWMutex): keys added (renewal, SIGUSR1, the key Secret
    /// watch) while reconciles and requests read. Every read sees a consistent ring: the latest key
    /// is the newest of those present, and keys only ever appear.
    #[test]
    fn keys_added_while_read_are_seen_consistently() {
        let registry = Arc::new(KeyRegistry::new());
        assert!(registry.latest_order_time().is_none());
        let pairs = || {
            [
                pair(
                    include_bytes!("../../tests/fixtures/keys/key-pkcs1.pem"),
                    include_bytes!("../../tests/fixtures/keys/cert.pem"),
                    1,
                ),
                pair(
                    include_bytes!("../../tests/fixtures/keys/other-key.pem"),
                    include_bytes!("../../tests/fixtures/keys/other-cert.pem"),
                    2,
                ),
                pair(
                    include_bytes!("../../tests/fixtures/keys/expired-key.pem"),
                    include_bytes!("../../tests/fixtures/keys/expired-cert.pem"),
                    3,
                ),
            ]
        };
        let done = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let registry = registry.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    let mut seen = 0;
                    let mut reads = 0u64;
                    while !done.load(Ordering::Acquire) || reads == 0 {
                        let ring = registry.read();
                        let newest = ring.iter().map(|k| k.order_time).max();
                        assert_eq!(ring.latest().map(|k| k.order_time), newest);
                        assert!(ring.len() >= seen, "a key disappeared");
                        seen = ring.len();
                        reads += 1;
                    }
                    seen
                })
            })
            .collect();
        for p in pairs() {
            std::thread::sleep(Duration::from_millis(5));
            assert!(registry.add(p));
        }
        let [first, ..] = pairs();
        assert!(!registry.add(first), "a known key is not added twice");
        done.store(true, Ordering::Release);
        for r in readers {
            assert!(r.join().unwrap() <= 3);
        }
        assert_eq!(registry.read().len(), 3);
        assert_eq!(
            registry.latest_order_time(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(3))
        );
    }
}
