//! Client-side rate limiting of API requests (`--kubeclient-qps`, `--kubeclient-burst`): a token
//! bucket like client-go's `flowcontrol.NewTokenBucketRateLimiter`, as a tower layer on the kube
//! client. A request waits for its token in `poll_ready`.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// Token bucket as a virtual schedule: every request reserves the next slot; `burst` slots can be
/// taken at once, then one per `interval`.
#[derive(Debug)]
pub struct TokenBucket {
    interval: Duration,
    tolerance: Duration,
    next_free: Option<Instant>,
}

impl TokenBucket {
    pub fn new(qps: f64, burst: u32) -> Self {
        let interval = Duration::from_secs_f64(1.0 / qps.max(1e-6));
        let tolerance = interval.saturating_mul(burst.saturating_sub(1));
        TokenBucket {
            interval,
            tolerance,
            next_free: None,
        }
    }

    /// Reserves one token at `now`; returns how long to wait for it.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        let tat = self.next_free.map_or(now, |t| t.max(now));
        let allowed_at = tat.checked_sub(self.tolerance).map_or(now, |t| t.max(now));
        self.next_free = Some(tat + self.interval);
        allowed_at.saturating_duration_since(now)
    }
}

#[derive(Clone)]
pub struct QpsLayer {
    bucket: Arc<Mutex<TokenBucket>>,
}

impl QpsLayer {
    pub fn new(qps: f64, burst: u32) -> Self {
        QpsLayer {
            bucket: Arc::new(Mutex::new(TokenBucket::new(qps, burst))),
        }
    }
}

impl<S> tower::Layer<S> for QpsLayer {
    type Service = Qps<S>;
    fn layer(&self, inner: S) -> Qps<S> {
        Qps {
            inner,
            bucket: self.bucket.clone(),
            wait: None,
            reserved: false,
        }
    }
}

pub struct Qps<S> {
    inner: S,
    bucket: Arc<Mutex<TokenBucket>>,
    wait: Option<Pin<Box<Sleep>>>,
    reserved: bool,
}

impl<S, R> tower::Service<R> for Qps<S>
where
    S: tower::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if !self.reserved {
            let now = Instant::now();
            let wait = self
                .bucket
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .reserve(now);
            self.reserved = true;
            if !wait.is_zero() {
                self.wait = Some(Box::pin(tokio::time::sleep_until(now + wait)));
            }
        }
        if let Some(sleep) = self.wait.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.wait = None;
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        self.reserved = false;
        self.inner.call(req)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_rate() {
        let mut b = TokenBucket::new(5.0, 10);
        let now = Instant::now();
        for _ in 0..10 {
            assert_eq!(b.reserve(now), Duration::ZERO);
        }
        assert_eq!(b.reserve(now), Duration::from_millis(200));
        assert_eq!(b.reserve(now), Duration::from_millis(400));
        // After a quiet period the bucket refills (up to the burst).
        let later = now + Duration::from_secs(60);
        for _ in 0..10 {
            assert_eq!(b.reserve(later), Duration::ZERO);
        }
        assert!(b.reserve(later) > Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn service_waits_for_tokens() {
        use tower::{Layer as _, Service as _, ServiceExt as _};
        let layer = QpsLayer::new(10.0, 1);
        let mut svc = layer.layer(tower::service_fn(|x: u32| async move { Ok::<_, ()>(x) }));
        let start = Instant::now();
        for i in 0..3 {
            let r = svc.ready().await.unwrap().call(i).await.unwrap();
            assert_eq!(r, i);
        }
        assert_eq!(Instant::now() - start, Duration::from_millis(200));
    }
}
