//! The SealedSecret status rules (upstream `pkg/controller/controller.go`,
//! `updateSealedSecretsStatusConditions` and `updateSealedSecretStatus`), as pure functions.

use crate::types::{SealedSecretCondition, SealedSecretStatus};

pub const SYNCED: &str = "Synced";
const TRUE: &str = "True";
const FALSE: &str = "False";

/// Upstream `updateSealedSecretsStatusConditions`: find (or append) the `Synced` condition, set its
/// message (empty on success, the error on failure) and `lastUpdateTime`; on a status change set
/// the status and `lastTransitionTime` to the same instant. Returns whether the status changed.
pub fn update_conditions(status: &mut SealedSecretStatus, error: Option<&str>, now: &str) -> bool {
    let index = match status.conditions.iter().position(|c| c.type_ == SYNCED) {
        Some(i) => i,
        None => {
            status.conditions.push(SealedSecretCondition {
                type_: SYNCED.to_string(),
                ..Default::default()
            });
            status.conditions.len() - 1
        }
    };
    let Some(cond) = status.conditions.get_mut(index) else {
        return false;
    };
    let new_status = match error {
        None => {
            cond.message.clear();
            TRUE
        }
        Some(e) => {
            cond.message = e.to_string();
            FALSE
        }
    };
    cond.last_update_time = Some(now.to_string());
    if cond.status != new_status {
        cond.last_transition_time = Some(now.to_string());
        cond.status = new_status.to_string();
        true
    } else {
        false
    }
}

/// The status after a reconcile, and whether it must be written: only when the condition status
/// changed or `observedGeneration` lags `metadata.generation`; a write also sets
/// `observedGeneration` (so a changed message alone is not persisted, as upstream).
pub fn next_status(
    current: Option<&SealedSecretStatus>,
    generation: i64,
    error: Option<&str>,
    now: &str,
) -> (SealedSecretStatus, bool) {
    let mut status = current.cloned().unwrap_or_default();
    let changed = update_conditions(&mut status, error, now);
    let write = changed || status.observed_generation != generation;
    if write {
        status.observed_generation = generation;
    }
    (status, write)
}

/// `condition_info` gauge value: 1 True, -1 False, 0 anything else.
pub fn gauge_value(status: &str) -> i64 {
    match status {
        TRUE => 1,
        FALSE => -1,
        _ => 0,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn first_success() {
        let (s, write) = next_status(None, 1, None, "T1");
        assert!(write);
        assert_eq!(s.observed_generation, 1);
        assert_eq!(s.conditions.len(), 1);
        let c = &s.conditions[0];
        assert_eq!(
            (c.type_.as_str(), c.status.as_str(), c.message.as_str()),
            ("Synced", "True", "")
        );
        // C1: lastTransitionTime == lastUpdateTime after the first success.
        assert_eq!(c.last_update_time.as_deref(), Some("T1"));
        assert_eq!(c.last_transition_time.as_deref(), Some("T1"));
        assert!(c.reason.is_empty());
    }

    #[test]
    fn unchanged_is_not_written() {
        let (s1, _) = next_status(None, 1, None, "T1");
        let (s2, write) = next_status(Some(&s1), 1, None, "T2");
        assert!(!write);
        // The in-memory copy moved on (and feeds the gauge), but it is not persisted.
        assert_eq!(s2.conditions[0].last_update_time.as_deref(), Some("T2"));
        // A new error message alone with the same status and generation is not written either.
        let (f1, w) = next_status(Some(&s1), 1, Some("boom"), "T3");
        assert!(w);
        let (f2, w) = next_status(Some(&f1), 1, Some("other"), "T4");
        assert!(!w);
        assert_eq!(f2.conditions[0].message, "other");
    }

    #[test]
    fn spec_update_bumps_generation() {
        // C2: after a later successful spec update, observedGeneration = 2 and the times differ.
        let (s1, _) = next_status(None, 1, None, "T1");
        let (s2, write) = next_status(Some(&s1), 2, None, "T2");
        assert!(write);
        assert_eq!(s2.observed_generation, 2);
        let c = &s2.conditions[0];
        assert_eq!(c.last_update_time.as_deref(), Some("T2"));
        assert_eq!(c.last_transition_time.as_deref(), Some("T1"));
    }

    #[test]
    fn failure_and_recovery() {
        let (f, write) = next_status(None, 1, Some("no key could decrypt secret (foo)"), "T1");
        assert!(write);
        let c = &f.conditions[0];
        assert_eq!(
            (c.status.as_str(), c.message.as_str()),
            ("False", "no key could decrypt secret (foo)")
        );
        let (ok, write) = next_status(Some(&f), 1, None, "T2");
        assert!(write);
        assert_eq!(ok.conditions[0].status, "True");
        assert_eq!(ok.conditions[0].message, "");
        assert_eq!(ok.conditions[0].last_transition_time.as_deref(), Some("T2"));
    }

    #[test]
    fn other_conditions_are_kept() {
        let mut st = SealedSecretStatus::default();
        st.conditions.push(SealedSecretCondition {
            type_: "Other".into(),
            status: "Unknown".into(),
            ..Default::default()
        });
        let (s, _) = next_status(Some(&st), 3, None, "T");
        assert_eq!(s.conditions.len(), 2);
        assert_eq!(s.conditions[0].type_, "Other");
        assert_eq!(s.conditions[1].type_, "Synced");
        assert_eq!(gauge_value("True"), 1);
        assert_eq!(gauge_value("False"), -1);
        assert_eq!(gauge_value("Unknown"), 0);
    }
}
