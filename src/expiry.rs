//! The certificate expiry warning (docs/operations.md, "Certificate expiry"): kubeseal still
//! seals with a certificate that expires soon, and says so on stderr; an expired one is refused
//! by [`crate::keys::Certificate::check_not_expired`].

use std::time::{Duration, SystemTime};

use crate::keys::Certificate;

/// The warning for sealing with `cert` at `now` when it expires within `window` (a zero window
/// never warns); `None` otherwise, and for an expired certificate (refused elsewhere).
pub fn expiry_warning(cert: &Certificate, now: SystemTime, window: Duration) -> Option<String> {
    if window.is_zero() {
        return None;
    }
    let left = cert.not_after.duration_since(now).ok()?;
    if left > window {
        return None;
    }
    let when = time::OffsetDateTime::from(cert.not_after)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let days = left.as_secs() / 86_400;
    let left = match days {
        0 => "less than a day".to_string(),
        1 => "1 day".to_string(),
        n => format!("{n} days"),
    };
    Some(format!(
        "warning: the certificate expires in {left} ({when}); sealing with it anyway. Fetch the controller's renewed certificate (--fetch-cert) before it expires"
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const CERT: &[u8] = include_bytes!("../tests/fixtures/keys/cert.pem");
    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn warns_within_the_window_only() {
        let cert = Certificate::from_pem(CERT).unwrap();
        let window = 30 * DAY;
        let at = |before: Duration| cert.not_after - before;
        assert_eq!(expiry_warning(&cert, at(31 * DAY), window), None);
        let w = expiry_warning(&cert, at(12 * DAY + Duration::from_secs(5)), window).unwrap();
        assert!(
            w.starts_with("warning: the certificate expires in 12 days ("),
            "{w}"
        );
        assert!(w.contains("Z); sealing with it anyway"), "{w}");
        let w = expiry_warning(&cert, at(DAY + Duration::from_secs(1)), window).unwrap();
        assert!(w.contains("in 1 day ("), "{w}");
        let w = expiry_warning(&cert, at(Duration::from_secs(60)), window).unwrap();
        assert!(w.contains("in less than a day"), "{w}");
        assert_eq!(
            expiry_warning(&cert, at(DAY), Duration::ZERO),
            None,
            "0 disables"
        );
        let expired = cert.not_after + DAY;
        assert_eq!(expiry_warning(&cert, expired, window), None);
    }
}
