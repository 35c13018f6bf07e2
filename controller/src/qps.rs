//! Client-side rate limiting of API requests (`--kubeclient-qps`, `--kubeclient-burst`): a token
//! bucket like client-go's `flowcontrol.NewTokenBucketRateLimiter` (governor's GCRA: `burst`
//! requests at once, then one per `1/qps`), as a tower layer on the kube client, one bucket per API
//! group as upstream's two clientsets have.

use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use governor::clock::Clock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// governor's clock on tokio's time, so that waiting uses tokio's timer (and tests can pause time).
#[derive(Debug, Clone, Copy, Default)]
struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> std::time::Instant {
        tokio::time::Instant::now().into_std()
    }
}

type Bucket = RateLimiter<NotKeyed, InMemoryState, TokioClock>;

/// `qps` requests per second sustained, `burst` (at least 1) at once.
fn bucket(qps: f64, burst: u32) -> Bucket {
    // A huge QPS rounds the interval to zero, which governor refuses: one request per nanosecond
    // is as good as unlimited.
    let interval = Duration::from_secs_f64(1.0 / qps.max(1e-6)).max(Duration::from_nanos(1));
    let quota = Quota::with_period(interval)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
    RateLimiter::direct_with_clock(quota, TokioClock)
}

/// Waits until `bucket` has a token for one request.
async fn until_ready(bucket: &Bucket) {
    while let Err(not_until) = bucket.check() {
        tokio::time::sleep(not_until.wait_time_from(TokioClock.now())).await;
    }
}

/// Upstream's controller talks to the API server through two clientsets built from one rest config
/// (core: Secrets, Events, Namespaces; `bitnami.com`: SealedSecrets and their status), and each
/// clientset has its own token bucket. Requests are split the same way, so that at the same flags
/// both controllers get the same request budget.
#[derive(Clone)]
pub struct QpsLayer {
    core: Arc<Bucket>,
    sealed_secrets: Arc<Bucket>,
}

impl QpsLayer {
    pub fn new(qps: f64, burst: u32) -> Self {
        QpsLayer {
            core: Arc::new(bucket(qps, burst)),
            sealed_secrets: Arc::new(bucket(qps, burst)),
        }
    }

    fn bucket_for(&self, path: &str) -> Arc<Bucket> {
        if path.starts_with("/apis/bitnami.com/") {
            self.sealed_secrets.clone()
        } else {
            self.core.clone()
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

    /// The request (a lazy future) is sent once its bucket has a token.
    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let bucket = self.buckets.bucket_for(req.uri().path());
        let fut = self.inner.call(req);
        Box::pin(async move {
            until_ready(&bucket).await;
            fut.await
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    /// How long `until_ready` waits, on tokio's paused clock.
    async fn wait(bucket: &Bucket) -> Duration {
        let start = Instant::now();
        until_ready(bucket).await;
        Instant::now() - start
    }

    #[tokio::test(start_paused = true)]
    async fn burst_then_rate() {
        let b = bucket(5.0, 10);
        for _ in 0..10 {
            assert_eq!(wait(&b).await, Duration::ZERO);
        }
        assert_eq!(wait(&b).await, Duration::from_millis(200));
        assert_eq!(wait(&b).await, Duration::from_millis(200));
        // After a quiet period the bucket refills (up to the burst).
        tokio::time::advance(Duration::from_secs(60)).await;
        for _ in 0..10 {
            assert_eq!(wait(&b).await, Duration::ZERO);
        }
        assert!(wait(&b).await > Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn extreme_rates_do_not_panic() {
        let fast = bucket(f64::INFINITY, 1);
        assert_eq!(wait(&fast).await, Duration::ZERO);
        tokio::time::advance(Duration::from_nanos(1)).await;
        assert_eq!(wait(&fast).await, Duration::ZERO);
        let slow = bucket(0.0, 1);
        assert_eq!(wait(&slow).await, Duration::ZERO);
        assert!(slow.check().is_err());
        let nan = bucket(f64::NAN, 1);
        assert_eq!(wait(&nan).await, Duration::ZERO);
        assert!(nan.check().is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_are_spread_at_the_rate() {
        let b = Arc::new(bucket(10.0, 2));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let b = b.clone();
            tasks.spawn(async move {
                until_ready(&b).await;
                Instant::now() - start
            });
        }
        let mut done = tasks.join_all().await;
        done.sort();
        let ms = |n| Duration::from_millis(n);
        assert_eq!(done, [ms(0), ms(0), ms(100), ms(200), ms(300), ms(400)]);
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
