//! Leader election on a `coordination.k8s.io/v1` Lease in the controller namespace (ours; upstream
//! runs one replica and has none). The rules are client-go's `tools/leaderelection`
//! (`leaderelection.go` `tryAcquireOrRenew`, `renew`, `release`): a Lease is free when it has no
//! holder or when its record has not changed for its `leaseDurationSeconds` on *our* clock (never
//! the holder's timestamps, so clock skew between nodes does not matter); every write is an update
//! on the resourceVersion just read, so two candidates conflict instead of both winning; the
//! leader renews every retry period and stops leading when no renewal succeeded for the renew
//! deadline (shorter than the lease duration, so it has stopped before anyone else may take over);
//! releasing clears the holder (client-go `ReleaseOnCancel`).
//!
//! Not a crate: kube-runtime has no leader election, `kube-leader-election` (0.37) is built on
//! kube 0.96 (ours is 5) and documents itself as without fencing, `kube-lease-manager` writes with
//! server-side apply (a `patch` permission); neither tells a forbidden Lease (upstream's RBAC)
//! from other failures, and their followers only poll, so a released Lease waits for the next
//! retry. Here followers also watch the Lease and try at once when it changes.

use std::time::{Duration, SystemTime};

use futures::StreamExt as _;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::keymgr::Clock;

/// What the election needs to know (the `--leader-elect-*` flags, the namespace, who we are).
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

/// This replica's identity in the Lease: the pod name (`POD_NAME`, else `HOSTNAME`) plus a part
/// unique to this process, so a restarted pod of the same name is a new candidate (client-go's
/// convention is `hostname_uuid`).
pub fn identity(pod_name: Option<&str>, hostname: Option<&str>, now: SystemTime) -> String {
    let pod = pod_name
        .filter(|s| !s.is_empty())
        .or(hostname.filter(|s| !s.is_empty()))
        .unwrap_or("sealed-secrets-controller");
    let nanos = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{pod}_{:x}{:x}", std::process::id(), nanos)
}

/// The outcome of one attempt to become (or stay) the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// We hold the Lease.
    Leading,
    /// Someone else holds it, or another candidate won the race.
    Held,
    /// The API said 403: no permission on Leases (upstream's RBAC).
    Forbidden,
    /// Any other failure (the API server unreachable, ...); try again later.
    Failed,
}

/// Why [`Elector::hold`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldEnd {
    /// No renewal succeeded within the renew deadline: we no longer lead.
    Lost,
    /// The future we held the Lease for finished.
    Done,
}

/// The last Lease record seen and when (on our clock) it last changed (client-go
/// `observedRecord`, `observedTime`).
#[derive(Debug, Clone, PartialEq)]
struct Observed {
    spec: LeaseSpec,
    at: SystemTime,
}

/// Whether `identity` may take the Lease whose record is `observed` at `now`: it has no holder,
/// we hold it, or it has not changed for its lease duration (`default` when it has none).
fn may_take(observed: &Observed, identity: &str, now: SystemTime, default: Duration) -> bool {
    let holder = observed.spec.holder_identity.as_deref().unwrap_or_default();
    if holder.is_empty() || holder == identity {
        return true;
    }
    let duration = observed
        .spec
        .lease_duration_seconds
        .and_then(|s| u64::try_from(s).ok())
        .map_or(default, Duration::from_secs);
    observed.at + duration <= now
}

fn micro_time(t: SystemTime) -> Option<MicroTime> {
    Timestamp::try_from(t).ok().map(MicroTime)
}

/// The record we write to take or renew the Lease over `old` (client-go `tryAcquireOrRenew`):
/// the acquire time and the transition count are kept while we hold it, a new holder counts one
/// more transition.
fn our_record(
    old: Option<&LeaseSpec>,
    identity: &str,
    lease_duration: Duration,
    now: SystemTime,
) -> LeaseSpec {
    let ours = old.is_some_and(|o| o.holder_identity.as_deref() == Some(identity));
    let transitions = old.and_then(|o| o.lease_transitions).unwrap_or(0);
    LeaseSpec {
        holder_identity: Some(identity.to_string()),
        lease_duration_seconds: Some(
            i32::try_from(lease_duration.as_secs().max(1)).unwrap_or(i32::MAX),
        ),
        acquire_time: if ours {
            old.and_then(|o| o.acquire_time.clone())
        } else {
            micro_time(now)
        },
        renew_time: micro_time(now),
        lease_transitions: Some(if ours || old.is_none() {
            transitions
        } else {
            transitions.saturating_add(1)
        }),
        ..Default::default()
    }
}

/// The record that releases the Lease (client-go `release`): no holder, a one-second duration,
/// the transition count kept.
fn released_record(old: &LeaseSpec, now: SystemTime) -> LeaseSpec {
    LeaseSpec {
        holder_identity: None,
        lease_duration_seconds: Some(1),
        acquire_time: micro_time(now),
        renew_time: micro_time(now),
        lease_transitions: old.lease_transitions,
        ..Default::default()
    }
}

/// One candidate for the Lease.
pub struct Elector {
    api: Api<Lease>,
    settings: LeaseSettings,
    clock: Arc<dyn Clock>,
    observed: Option<Observed>,
    /// Woken by the Lease watch on every change of the Lease.
    changed: Arc<Notify>,
}

impl Elector {
    pub fn new(client: Client, settings: LeaseSettings, clock: Arc<dyn Clock>) -> Self {
        Elector {
            api: Api::namespaced(client, &settings.namespace),
            settings,
            clock,
            observed: None,
            changed: Arc::new(Notify::new()),
        }
    }

    pub fn identity(&self) -> &str {
        &self.settings.identity
    }

    fn observe(&mut self, spec: &LeaseSpec, now: SystemTime) {
        if self.observed.as_ref().is_none_or(|o| &o.spec != spec) {
            self.observed = Some(Observed {
                spec: spec.clone(),
                at: now,
            });
        }
    }

    fn post_params() -> PostParams {
        PostParams {
            field_manager: Some(sealed_secrets::ownership::FIELD_MANAGER.to_string()),
            ..Default::default()
        }
    }

    /// One `tryAcquireOrRenew`: read the Lease, and take or renew it when allowed.
    pub async fn try_acquire_or_renew(&mut self) -> Attempt {
        let now = self.clock.now();
        let current = match self.api.get_opt(&self.settings.name).await {
            Ok(c) => c,
            Err(e) => return failure("get", &e),
        };
        let Some(mut lease) = current else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.settings.name.clone()),
                    namespace: Some(self.settings.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(our_record(
                    None,
                    &self.settings.identity,
                    self.settings.lease_duration,
                    now,
                )),
            };
            return match self.api.create(&Self::post_params(), &lease).await {
                Ok(created) => {
                    self.observe(&created.spec.unwrap_or_default(), now);
                    Attempt::Leading
                }
                Err(e) => failure("create", &e),
            };
        };
        let old = lease.spec.clone().unwrap_or_default();
        self.observe(&old, now);
        let Some(observed) = &self.observed else {
            return Attempt::Failed;
        };
        if !may_take(
            observed,
            &self.settings.identity,
            now,
            self.settings.lease_duration,
        ) {
            return Attempt::Held;
        }
        let record = our_record(
            Some(&old),
            &self.settings.identity,
            self.settings.lease_duration,
            now,
        );
        lease.spec = Some(record);
        match self
            .api
            .replace(&self.settings.name, &Self::post_params(), &lease)
            .await
        {
            Ok(updated) => {
                self.observe(&updated.spec.unwrap_or_default(), now);
                Attempt::Leading
            }
            Err(e) => failure("update", &e),
        }
    }

    /// Tries until we lead (or the Lease is forbidden, or `stop` is cancelled: `None`), every
    /// retry period and at once whenever the Lease watch sees it change.
    pub async fn acquire(&mut self, stop: &CancellationToken) -> Option<Attempt> {
        let watch = self.watch_lease(stop.child_token());
        let result = loop {
            match self.try_acquire_or_renew().await {
                Attempt::Leading => break Some(Attempt::Leading),
                Attempt::Forbidden => break Some(Attempt::Forbidden),
                Attempt::Held | Attempt::Failed => {}
            }
            let changed = self.changed.clone();
            tokio::select! {
                () = stop.cancelled() => break None,
                () = changed.notified() => {}
                () = tokio::time::sleep(jittered(self.settings.retry_period)) => {}
            }
        };
        watch.cancel();
        result
    }

    /// Renews the Lease every retry period until `until` finishes ([`HoldEnd::Done`]) or no
    /// renewal succeeded for the renew deadline ([`HoldEnd::Lost`]).
    pub async fn hold(&mut self, until: impl std::future::Future<Output = ()>) -> HoldEnd {
        let mut until = std::pin::pin!(until);
        let mut last_renewed = tokio::time::Instant::now();
        loop {
            tokio::select! {
                () = &mut until => return HoldEnd::Done,
                () = tokio::time::sleep(self.settings.retry_period) => {}
            }
            let deadline = last_renewed + self.settings.renew_deadline;
            let renewed = tokio::select! {
                () = &mut until => return HoldEnd::Done,
                r = tokio::time::timeout_at(deadline, self.try_acquire_or_renew()) => r,
            };
            match renewed {
                Ok(Attempt::Leading) => last_renewed = tokio::time::Instant::now(),
                Ok(_) if tokio::time::Instant::now() < deadline => {}
                _ => return HoldEnd::Lost,
            }
            if tokio::time::Instant::now() >= deadline {
                return HoldEnd::Lost;
            }
        }
    }

    /// Gives the Lease up if we still hold it (client-go `release`), so that a follower takes
    /// over at once instead of after the lease duration.
    pub async fn release(&mut self) {
        let now = self.clock.now();
        let mut lease = match self.api.get_opt(&self.settings.name).await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                warn!(error = %e, "cannot release the leader election Lease");
                return;
            }
        };
        let old = lease.spec.clone().unwrap_or_default();
        if old.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
            return;
        }
        lease.spec = Some(released_record(&old, now));
        match self
            .api
            .replace(&self.settings.name, &Self::post_params(), &lease)
            .await
        {
            Ok(_) => info!(lease = %self.settings.name, "released the leader election Lease"),
            Err(e) => warn!(error = %e, "cannot release the leader election Lease"),
        }
    }

    /// Watches the Lease (by name, which RBAC `resourceNames` allow) and wakes [`Self::acquire`]
    /// on every change, until `stop`. Failures only mean the retry period applies.
    fn watch_lease(&self, stop: CancellationToken) -> CancellationToken {
        let config =
            watcher::Config::default().fields(&format!("metadata.name={}", self.settings.name));
        let stream = watcher(self.api.clone(), config);
        let changed = self.changed.clone();
        let retry = self.settings.retry_period;
        let token = stop.clone();
        tokio::spawn(async move {
            futures::pin_mut!(stream);
            loop {
                let next = tokio::select! {
                    () = stop.cancelled() => return,
                    next = stream.next() => next,
                };
                match next {
                    Some(Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_))) => {
                        changed.notify_one();
                    }
                    Some(Ok(_)) => {}
                    // Forbidden or unreachable: wait as long as a retry, then watch again.
                    Some(Err(_)) => tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(retry) => {}
                    },
                    None => return,
                }
            }
        });
        token
    }
}

fn failure(verb: &str, e: &kube::Error) -> Attempt {
    match e {
        kube::Error::Api(s) if s.code == 403 => Attempt::Forbidden,
        // Another candidate created or updated it first.
        kube::Error::Api(s) if s.code == 409 => Attempt::Held,
        _ => {
            warn!(error = %e, verb, "leader election Lease request failed");
            Attempt::Failed
        }
    }
}

/// client-go's `wait.Jitter(retryPeriod, 1.2)` is up to 1.2 times longer; ours is up to 1.2
/// times shorter as well as never longer, so a follower never waits more than the retry period.
fn jittered(period: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let fraction = f64::from(nanos % 1000) / 1000.0;
    period.mul_f64(1.0 - fraction / 6.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + secs)
    }

    fn held_by(holder: Option<&str>, duration: Option<i32>) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            lease_duration_seconds: duration,
            renew_time: micro_time(at(0)),
            lease_transitions: Some(3),
            ..Default::default()
        }
    }

    const D: Duration = Duration::from_secs(15);

    /// client-go `tryAcquireOrRenew`: a held Lease is taken only once its record has not changed
    /// for its lease duration on the observer's clock; a free or own Lease at once.
    #[test]
    fn lease_is_taken_after_its_duration_on_our_clock() {
        let seen = Observed {
            spec: held_by(Some("other"), Some(15)),
            at: at(100),
        };
        assert!(!may_take(&seen, "me", at(100), D));
        assert!(!may_take(&seen, "me", at(114), D));
        assert!(may_take(&seen, "me", at(115), D));
        // The holder's renewTime (at(0), long ago on its clock) does not matter.
        assert!(!may_take(&seen, "me", at(101), D));
        // Its own duration counts, else ours.
        let short = Observed {
            spec: held_by(Some("other"), Some(2)),
            at: at(100),
        };
        assert!(may_take(&short, "me", at(102), D));
        let none = Observed {
            spec: held_by(Some("other"), None),
            at: at(100),
        };
        assert!(!may_take(&none, "me", at(114), D));
        assert!(may_take(&none, "me", at(115), D));
        // Released (no holder) or ours: at once.
        for free in [held_by(None, Some(1)), held_by(Some(""), Some(15))] {
            let o = Observed {
                spec: free,
                at: at(100),
            };
            assert!(may_take(&o, "me", at(100), D));
        }
        let mine = Observed {
            spec: held_by(Some("me"), Some(15)),
            at: at(100),
        };
        assert!(may_take(&mine, "me", at(100), D));
    }

    /// The observation time moves only when the record changes (a holder that keeps renewing
    /// keeps its Lease), and on the injected clock.
    #[tokio::test]
    async fn observation_time_moves_only_on_a_change() {
        struct Fixed;
        impl Clock for Fixed {
            fn now(&self) -> SystemTime {
                at(0)
            }
        }
        let client =
            kube::Client::try_from(kube::Config::new("http://127.0.0.1:9".parse().unwrap()))
                .unwrap();
        let mut e = Elector::new(
            client,
            LeaseSettings {
                namespace: "ns".into(),
                name: "l".into(),
                identity: "me".into(),
                lease_duration: D,
                renew_deadline: Duration::from_secs(10),
                retry_period: Duration::from_secs(2),
            },
            Arc::new(Fixed),
        );
        let a = held_by(Some("other"), Some(15));
        e.observe(&a, at(100));
        e.observe(&a, at(110));
        assert_eq!(e.observed.as_ref().unwrap().at, at(100));
        assert!(may_take(e.observed.as_ref().unwrap(), "me", at(115), D));
        let mut renewed = a.clone();
        renewed.renew_time = micro_time(at(112));
        e.observe(&renewed, at(112));
        assert!(!may_take(e.observed.as_ref().unwrap(), "me", at(115), D));
        assert!(may_take(e.observed.as_ref().unwrap(), "me", at(127), D));
    }

    /// client-go's records: a new holder counts a transition and gets a new acquire time; a
    /// renewal keeps both; a release clears the holder and keeps the count.
    #[test]
    fn records_written() {
        let taken = our_record(Some(&held_by(Some("other"), Some(15))), "me", D, at(5));
        assert_eq!(taken.holder_identity.as_deref(), Some("me"));
        assert_eq!(taken.lease_duration_seconds, Some(15));
        assert_eq!(taken.lease_transitions, Some(4));
        assert_eq!(taken.acquire_time, micro_time(at(5)));
        assert_eq!(taken.renew_time, micro_time(at(5)));
        let renewed = our_record(Some(&taken), "me", D, at(7));
        assert_eq!(renewed.lease_transitions, Some(4));
        assert_eq!(renewed.acquire_time, micro_time(at(5)));
        assert_eq!(renewed.renew_time, micro_time(at(7)));
        let first = our_record(None, "me", D, at(1));
        assert_eq!(first.lease_transitions, Some(0));
        let released = released_record(&renewed, at(9));
        assert_eq!(released.holder_identity, None);
        assert_eq!(released.lease_duration_seconds, Some(1));
        assert_eq!(released.lease_transitions, Some(4));
        // A released Lease taken again: one more transition.
        assert_eq!(
            our_record(Some(&released), "other", D, at(10)).lease_transitions,
            Some(5)
        );
    }

    #[test]
    fn identity_is_the_pod_name_plus_a_unique_part() {
        let id = identity(Some("pod-a"), Some("host"), at(0));
        assert!(id.starts_with("pod-a_"), "{id}");
        assert!(identity(None, Some("host"), at(0)).starts_with("host_"));
        assert!(identity(Some(""), None, at(0)).starts_with("sealed-secrets-controller_"));
        assert_ne!(
            identity(Some("p"), None, at(0)),
            identity(Some("p"), None, at(1))
        );
    }

    #[test]
    fn jitter_never_waits_longer_than_the_period() {
        let p = Duration::from_secs(2);
        let j = jittered(p);
        assert!(j <= p && j >= p.mul_f64(5.0 / 6.0), "{j:?}");
    }
}
