//! Client-side rate limiting of API requests (`--kubeclient-qps`, `--kubeclient-burst`): a token
//! bucket like client-go's `flowcontrol.NewTokenBucketRateLimiter`, as a tower layer on the kube
//! client, one bucket per API group as upstream's two clientsets have.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

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

/// Upstream's controller talks to the API server through two clientsets built from one rest config
/// (core: Secrets, Events, Namespaces; `bitnami.com`: SealedSecrets and their status), and each
/// clientset has its own token bucket. Requests are split the same way, so that at the same flags
/// both controllers get the same request budget.
#[derive(Clone)]
pub struct QpsLayer {
    core: Arc<Mutex<TokenBucket>>,
    sealed_secrets: Arc<Mutex<TokenBucket>>,
}

impl QpsLayer {
    pub fn new(qps: f64, burst: u32) -> Self {
        QpsLayer {
            core: Arc::new(Mutex::new(TokenBucket::new(qps, burst))),
            sealed_secrets: Arc::new(Mutex::new(TokenBucket::new(qps, burst))),
        }
    }

    fn bucket_for(&self, path: &str) -> &Arc<Mutex<TokenBucket>> {
        if path.starts_with("/apis/bitnami.com/") {
            &self.sealed_secrets
        } else {
            &self.core
        }
    }
}

impl<S> tower::Layer<S> for QpsLayer {
    type Service = Qps<S>;
    fn layer(&self, inner: S) -> Qps<S> {
        Qps {
            inner,
            buckets: self.clone(),
        }
    }
}

pub struct Qps<S> {
    inner: S,
    buckets: QpsLayer,
}

impl<S, B> tower::Service<http::Request<B>> for Qps<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    /// The token is reserved from the request's bucket; the request (a lazy future) is sent once
    /// its slot has come.
    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let now = Instant::now();
        let wait = self
            .buckets
            .bucket_for(req.uri().path())
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .reserve(now);
        let fut = self.inner.call(req);
        Box::pin(async move {
            if !wait.is_zero() {
                tokio::time::sleep_until(now + wait).await;
            }
            fut.await
        })
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
    async fn service_waits_for_tokens_per_api_group() {
        use tower::{Layer as _, Service as _, ServiceExt as _};
        let layer = QpsLayer::new(10.0, 1);
        let mut svc = layer.layer(tower::service_fn(|r: http::Request<()>| async move {
            Ok::<_, ()>(r.uri().path().to_string())
        }));
        let req = |p: &str| http::Request::builder().uri(p).body(()).unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            let r = svc
                .ready()
                .await
                .unwrap()
                .call(req("/api/v1/namespaces/a/secrets/x"))
                .await
                .unwrap();
            assert_eq!(r, "/api/v1/namespaces/a/secrets/x");
        }
        assert_eq!(Instant::now() - start, Duration::from_millis(200));
        // SealedSecret requests have a bucket of their own, as upstream's second clientset does.
        let t = Instant::now();
        svc.ready()
            .await
            .unwrap()
            .call(req(
                "/apis/bitnami.com/v1alpha1/namespaces/a/sealedsecrets/x/status",
            ))
            .await
            .unwrap();
        assert_eq!(Instant::now() - t, Duration::ZERO);
        svc.ready()
            .await
            .unwrap()
            .call(req("/apis/bitnami.com/v1alpha1/sealedsecrets"))
            .await
            .unwrap();
        assert_eq!(Instant::now() - t, Duration::from_millis(100));
    }
}
