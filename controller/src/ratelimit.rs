//! The `/v1/verify` and `/v1/rotate` rate limiter: GCRA with the parameters and results of
//! upstream's `throttled.GCRARateLimiter` over a bounded in-memory store, and the response headers
//! of `throttled.HTTPRateLimiter`. Time is passed in so the behaviour is testable without sleeping.
//!
//! Ours rather than governor's keyed limiter (which `qps.rs` uses for the client side): the
//! headers need throttled's exact `remaining` and reset arithmetic (governor reports neither in
//! that form), and the per-client store must stay bounded (65536 buckets, keyed by a hash of the
//! client-chosen `X-Forwarded-For`, evicting the bucket closest to full), where governor's keyed
//! store grows with every new key until it is pruned.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// Upstream `memstore.New(65536)`.
pub const DEFAULT_MAX_KEYS: usize = 65536;

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// The outcome of one [`RateLimiter::check`], with what the response headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// `X-RateLimit-Limit`: burst + 1.
    pub limit: u64,
    /// `X-RateLimit-Remaining`.
    pub remaining: u64,
    /// `X-RateLimit-Reset`: until the bucket is full again.
    pub reset_after: Duration,
    /// `Retry-After`: only when denied.
    pub retry_after: Option<Duration>,
}

impl Decision {
    /// Adds the headers upstream's `setRateLimitHeaders` writes (seconds rounded up).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
        const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
        const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
        headers.append(LIMIT, HeaderValue::from(self.limit));
        headers.append(REMAINING, HeaderValue::from(self.remaining));
        headers.append(RESET, HeaderValue::from(ceil_secs(self.reset_after)));
        if let Some(retry) = self.retry_after {
            headers.append(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from(ceil_secs(retry)),
            );
        }
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// GCRA over at most `max_keys` buckets.
///
/// Keys are stored as 64-bit hashes under a per-process random seed: the bucket key contains the
/// client-chosen `X-Forwarded-For`, so storing it verbatim would let a caller make every entry as large
/// as a request header. When the store is full, the bucket with the earliest theoretical arrival time is
/// dropped: it is the one closest to (or already past) being full again, so forgetting it grants the
/// least (upstream drops the least recently used one).
#[derive(Debug)]
pub struct RateLimiter {
    emission_interval: i128,
    tolerance: i128,
    limit: u64,
    max_keys: usize,
    hasher: RandomState,
    store: Mutex<Store>,
}

#[derive(Debug, Default)]
struct Store {
    /// key hash -> theoretical arrival time.
    tat: HashMap<u64, Instant>,
    /// The same entries ordered by TAT, for eviction.
    by_tat: BTreeSet<(Instant, u64)>,
}

impl Store {
    fn remove(&mut self, key: u64) {
        if let Some(t) = self.tat.remove(&key) {
            self.by_tat.remove(&(t, key));
        }
    }

    fn insert(&mut self, key: u64, t: Instant, max_keys: usize) {
        self.remove(key);
        while self.tat.len() >= max_keys.max(1) {
            let Some((_, old_key)) = self.by_tat.pop_first() else {
                break;
            };
            self.tat.remove(&old_key);
        }
        self.tat.insert(key, t);
        self.by_tat.insert((t, key));
    }
}

impl RateLimiter {
    /// `rate` requests per second sustained, `burst` extra back-to-back requests. A `rate` of 0
    /// (rejected by the command line) is treated as 1 rather than dividing by zero.
    pub fn new(rate: u32, burst: u32) -> Self {
        Self::with_capacity(rate, burst, DEFAULT_MAX_KEYS)
    }

    pub fn with_capacity(rate: u32, burst: u32, max_keys: usize) -> Self {
        // Go: `time.Second / time.Duration(n)`, integer nanoseconds. Above 10^9 rps upstream's interval
        // is 0 and it refuses to start; here it is clamped to 1 ns.
        let emission_interval = (NANOS_PER_SEC / i128::from(rate.max(1))).max(1);
        let burst_plus_one = i128::from(burst) + 1;
        RateLimiter {
            emission_interval,
            tolerance: emission_interval * burst_plus_one,
            limit: u64::from(burst) + 1,
            max_keys,
            hasher: RandomState::new(),
            store: Mutex::new(Store::default()),
        }
    }

    /// One request for `key` at `now` (upstream `RateLimit(key, 1)`).
    pub fn check(&self, key: &str, now: Instant) -> Decision {
        let hash = self.hasher.hash_one(key);
        let mut store = self
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // All times below are signed nanoseconds relative to `now`. A TAT in the past behaves exactly
        // like a missing entry.
        let tat = store
            .tat
            .get(&hash)
            .map_or(0, |t| signed_nanos(*t, now))
            .max(0);
        let new_tat = tat + self.emission_interval;
        let allow_at = new_tat - self.tolerance;
        let (allowed, ttl, retry_after) = if allow_at > 0 {
            // The increment (one interval) never exceeds the tolerance, so Retry-After is always set.
            (false, tat, Some(allow_at))
        } else {
            match now.checked_add(nanos_to_duration(new_tat)) {
                Some(t) => store.insert(hash, t, self.max_keys),
                None => store.remove(hash),
            }
            (true, new_tat, None)
        };
        drop(store);
        let next = self.tolerance - ttl;
        let remaining = if next > -self.emission_interval {
            // Go's integer division truncates toward zero, as Rust's does.
            u64::try_from(next / self.emission_interval).unwrap_or(0)
        } else {
            0
        };
        Decision {
            allowed,
            limit: self.limit,
            remaining,
            reset_after: nanos_to_duration(ttl),
            retry_after: retry_after.map(nanos_to_duration),
        }
    }

    /// Number of buckets held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .tat
            .len()
    }
}

/// `a - b` in nanoseconds.
fn signed_nanos(a: Instant, b: Instant) -> i128 {
    match a.checked_duration_since(b) {
        Some(d) => i128::try_from(d.as_nanos()).unwrap_or(i128::MAX),
        None => -i128::try_from(b.duration_since(a).as_nanos()).unwrap_or(i128::MAX),
    }
}

fn nanos_to_duration(n: i128) -> Duration {
    let n = u128::try_from(n.max(0)).unwrap_or(0);
    let secs = u64::try_from(n / 1_000_000_000).unwrap_or(u64::MAX);
    // The remainder is below 10^9 and fits in u32.
    let sub = u32::try_from(n % 1_000_000_000).unwrap_or(0);
    Duration::new(secs, sub)
}

/// Upstream's bucket key: `VaryBy{Path: true, Headers: ["X-Forwarded-For"]}` writes the lowercased
/// first `X-Forwarded-For` value, then the path, each followed by a newline.
pub fn bucket_key(path: &str, headers: &HeaderMap) -> String {
    let xff = headers
        .get("x-forwarded-for")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_lowercase())
        .unwrap_or_default();
    format!("{xff}\n{path}\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn default_quota_allows_three_back_to_back_then_denies() {
        let rl = RateLimiter::new(2, 2);
        let t0 = Instant::now();
        let d: Vec<Decision> = (0..4).map(|_| rl.check("k", t0)).collect();
        assert!(d[0].allowed && d[1].allowed && d[2].allowed);
        assert!(!d[3].allowed);
        assert_eq!(d.iter().map(|d| d.limit).collect::<Vec<_>>(), [3, 3, 3, 3]);
        assert_eq!(
            d.iter().map(|d| d.remaining).collect::<Vec<_>>(),
            [2, 1, 0, 0]
        );
        assert_eq!(
            d.iter().map(|d| d.reset_after).collect::<Vec<_>>(),
            [500 * MS, 1000 * MS, 1500 * MS, 1500 * MS]
        );
        assert_eq!(d[2].retry_after, None);
        assert_eq!(d[3].retry_after, Some(500 * MS));
    }

    #[test]
    fn recovers_at_the_emission_interval() {
        let rl = RateLimiter::new(2, 2);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(rl.check("k", t0).allowed);
        }
        // One interval minus a bit later: still denied, and told to wait the rest.
        let d = rl.check("k", t0 + 499 * MS);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, Some(MS));
        // After one interval exactly one more request passes.
        let d = rl.check("k", t0 + 500 * MS);
        assert!(d.allowed, "{d:?}");
        assert_eq!(d.remaining, 0);
        assert!(!rl.check("k", t0 + 500 * MS).allowed);
        // After a long pause the bucket is full again.
        let d = rl.check("k", t0 + Duration::from_secs(10));
        assert!(d.allowed);
        assert_eq!(d.remaining, 2);
    }

    #[test]
    fn keys_are_independent() {
        let rl = RateLimiter::new(1, 0);
        let t0 = Instant::now();
        assert!(rl.check("a", t0).allowed);
        assert!(!rl.check("a", t0).allowed);
        assert!(rl.check("b", t0).allowed);
        let d = rl.check("a", t0 + 300 * MS);
        assert_eq!(d.retry_after, Some(700 * MS));
    }

    #[test]
    fn sustained_rate_matches_quota() {
        // 5 rps, burst 0: a request every 200 ms passes, one every 150 ms does not always.
        let rl = RateLimiter::new(5, 0);
        let t0 = Instant::now();
        for i in 0..50u32 {
            assert!(rl.check("k", t0 + 200 * MS * i).allowed, "request {i}");
        }
        let rl = RateLimiter::new(5, 0);
        let passed = (0..40u32)
            .filter(|i| rl.check("k", t0 + 150 * MS * *i).allowed)
            .count();
        // 40 requests over 5.85 s at 5 rps: at most 5.85*5+1 pass.
        assert!(passed <= 30, "{passed}");
    }

    #[test]
    fn zero_rate_does_not_divide_by_zero() {
        let rl = RateLimiter::new(0, 0);
        let t0 = Instant::now();
        assert!(rl.check("k", t0).allowed);
        assert!(!rl.check("k", t0).allowed);
        assert!(rl.check("k", t0 + Duration::from_secs(1)).allowed);
        let huge = RateLimiter::new(u32::MAX, u32::MAX);
        assert!(huge.check("k", t0).allowed);
        assert_eq!(huge.check("k", t0).limit, u64::from(u32::MAX) + 1);
    }

    #[test]
    fn store_is_bounded_and_evicts_the_bucket_closest_to_full() {
        let rl = RateLimiter::with_capacity(1, 0, 3);
        let t0 = Instant::now();
        assert!(rl.check("old", t0).allowed);
        assert!(rl.check("b", t0 + 100 * MS).allowed);
        assert!(rl.check("c", t0 + 200 * MS).allowed);
        assert_eq!(rl.len(), 3);
        assert!(rl.check("d", t0 + 300 * MS).allowed);
        assert_eq!(rl.len(), 3, "bounded");
        // "old" (earliest TAT) was evicted; "b" and "c" are still limited.
        assert!(!rl.check("b", t0 + 400 * MS).allowed);
        assert!(!rl.check("c", t0 + 400 * MS).allowed);
        assert!(rl.check("old", t0 + 400 * MS).allowed);
        // Many distinct keys never grow the store past its bound.
        for i in 0..100 {
            rl.check(&format!("k{i}"), t0 + Duration::from_secs(5));
        }
        assert_eq!(rl.len(), 3);
    }

    #[test]
    fn headers_round_up_and_retry_after_only_when_denied() {
        let mut h = HeaderMap::new();
        let d = Decision {
            allowed: false,
            limit: 3,
            remaining: 0,
            reset_after: 1500 * MS,
            retry_after: Some(MS),
        };
        d.write_headers(&mut h);
        assert_eq!(h["x-ratelimit-limit"], "3");
        assert_eq!(h["x-ratelimit-remaining"], "0");
        assert_eq!(h["x-ratelimit-reset"], "2");
        assert_eq!(h["retry-after"], "1");
        let mut h = HeaderMap::new();
        Decision {
            allowed: true,
            retry_after: None,
            reset_after: Duration::from_secs(1),
            ..d
        }
        .write_headers(&mut h);
        assert_eq!(h["x-ratelimit-reset"], "1");
        assert!(h.get("retry-after").is_none());
    }

    #[test]
    fn bucket_key_is_lowercased_forwarded_for_and_path() {
        let mut h = HeaderMap::new();
        assert_eq!(bucket_key("/v1/verify", &h), "\n/v1/verify\n");
        h.append(
            "X-Forwarded-For",
            HeaderValue::from_static("10.0.0.1, FE80::1"),
        );
        h.append("X-Forwarded-For", HeaderValue::from_static("10.9.9.9"));
        assert_eq!(
            bucket_key("/v1/verify", &h),
            "10.0.0.1, fe80::1\n/v1/verify\n"
        );
    }
}
