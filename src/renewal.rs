//! When the controller makes a new sealing key (upstream `main.go`, `initKeyRenewal`, and
//! `pkg/controller/keyregistry.go`): decided on plain times, with the clock passed in, so rotation is
//! testable without sleeping.

use std::time::{Duration, SystemTime};

/// Whether a key is generated at startup: when there is none, or when the most recent one is older
/// than `--key-cutoff-time`.
pub fn needs_initial_key(latest: Option<SystemTime>, cutoff: Option<SystemTime>) -> bool {
    match latest {
        None => true,
        Some(t) => cutoff.is_some_and(|c| t < c),
    }
}

/// Delay before the first automatic renewal at `now`: `max(0, period - age(most recent key))`,
/// where a key from the future has a negative age (as Go's `time.Since`). `None` when renewal is
/// disabled (`--key-renew-period=0`).
pub fn first_renewal_delay(
    period: Duration,
    latest: Option<SystemTime>,
    now: SystemTime,
) -> Option<Duration> {
    if period.is_zero() {
        return None;
    }
    let Some(latest) = latest else {
        return Some(Duration::ZERO);
    };
    Some(match now.duration_since(latest) {
        Ok(age) => period.saturating_sub(age),
        Err(future) => period.saturating_add(future.duration()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const H: Duration = Duration::from_secs(3600);

    #[test]
    fn initial_key_rules() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(needs_initial_key(None, None));
        assert!(!needs_initial_key(Some(t), None));
        assert!(needs_initial_key(Some(t), Some(t + H)));
        assert!(!needs_initial_key(Some(t), Some(t)));
        assert!(!needs_initial_key(Some(t + H), Some(t)));
    }

    #[test]
    fn first_delay() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000_000);
        let p = 720 * H;
        assert_eq!(first_renewal_delay(Duration::ZERO, Some(now), now), None);
        assert_eq!(first_renewal_delay(p, None, now), Some(Duration::ZERO));
        assert_eq!(first_renewal_delay(p, Some(now), now), Some(p));
        assert_eq!(
            first_renewal_delay(p, Some(now - 10 * H), now),
            Some(710 * H)
        );
        assert_eq!(
            first_renewal_delay(p, Some(now - 1000 * H), now),
            Some(Duration::ZERO)
        );
        // A key from the future (clock skew) waits longer, as Go's negative time.Since.
        assert_eq!(first_renewal_delay(p, Some(now + H), now), Some(721 * H));
    }

    #[test]
    fn due_once_the_period_has_passed() {
        let renewal_due =
            |period, latest, now| first_renewal_delay(period, latest, now) == Some(Duration::ZERO);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000_000);
        let p = 720 * H;
        assert!(renewal_due(p, None, now));
        assert!(!renewal_due(p, Some(now - 719 * H), now));
        assert!(renewal_due(p, Some(now - 720 * H), now));
        assert!(renewal_due(p, Some(now - 10_000 * H), now));
        assert!(!renewal_due(p, Some(now + H), now));
        // Disabled renewal is never due, not even without a key.
        assert!(!renewal_due(Duration::ZERO, None, now));
        assert!(!renewal_due(Duration::ZERO, Some(now - 10_000 * H), now));
    }
}
