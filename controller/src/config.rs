//! Command line and environment (upstream `cmd/controller/main.go`): upstream's flag names,
//! defaults and value syntax (Go durations, Go `ParseBool` booleans, RFC1123Z cutoff time,
//! `k=v,...` lists), every flag also settable as `SEALED_SECRETS_<FLAG>`; the command line wins.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::time::{Duration, SystemTime};

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, CommandFactory, FromArgMatches, Parser};
use sealed_secrets::key_secret::KEY_LABEL;
use sealed_secrets::keys::KeyOrder;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

const KEY_PREFIX_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789-";
const KEY_PREFIX_MAX_LEN: usize = 245;
const RFC1123Z: &str = "Mon, 02 Jan 2006 15:04:05 -0700";
const RFC1123Z_FORMAT: &[BorrowedFormatItem<'_>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
);

/// The raw flags, as upstream's `cmd/controller` binds them.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "controller",
    about = "Sealed Secrets controller (sealed-secrets-rs)",
    disable_version_flag = true,
    mut_args = go_bool_flag
)]
pub struct Flags {
    /// Prefix used to name keys.
    #[arg(
        long,
        env = "SEALED_SECRETS_KEY_PREFIX",
        default_value = "sealed-secrets-key"
    )]
    pub key_prefix: String,

    /// Size of encryption key.
    #[arg(long, env = "SEALED_SECRETS_KEY_SIZE", default_value_t = 4096)]
    pub key_size: usize,

    /// Duration that certificate is valid for.
    #[arg(long, env = "SEALED_SECRETS_KEY_TTL", default_value = "87600h0m0s", value_parser = parse_go_duration)]
    pub key_ttl: Duration,

    /// Common name to be used as issuer/subject DN in generated certificate.
    #[arg(long, env = "SEALED_SECRETS_MY_CN", default_value = "")]
    pub my_cn: String,

    /// New key generation period (automatic rotation deactivated if 0)
    #[arg(long, env = "SEALED_SECRETS_KEY_RENEW_PERIOD", default_value = "720h0m0s", value_parser = parse_go_duration)]
    pub key_renew_period: Duration,

    /// Deprecated: please use key-renew-period instead.
    #[arg(long, env = "SEALED_SECRETS_ROTATE_PERIOD", hide = true, value_parser = parse_go_duration)]
    pub rotate_period: Option<Duration>,

    /// Ordering of keys based on NotBefore certificate attribute or secret creation timestamp.
    #[arg(
        long,
        env = "SEALED_SECRETS_KEY_ORDER_PRIORITY",
        default_value = "CertNotBefore"
    )]
    pub key_order_priority: String,

    /// Accept deprecated V1 data field.
    #[arg(
        long,
        env = "SEALED_SECRETS_ACCEPT_DEPRECATED_V1_DATA",
        default_value = "true"
    )]
    pub accept_deprecated_v1_data: bool,

    /// Create a new key if latest one is older than this cutoff time. RFC1123 format with numeric timezone expected.
    #[arg(long, env = "SEALED_SECRETS_KEY_CUTOFF_TIME", default_value = "")]
    pub key_cutoff_time: String,

    /// Scan all namespaces or only the current namespace (default=true).
    #[arg(long, env = "SEALED_SECRETS_ALL_NAMESPACES", default_value = "true")]
    pub all_namespaces: bool,

    /// Comma-separated list of additional namespaces to be scanned.
    #[arg(long, env = "SEALED_SECRETS_ADDITIONAL_NAMESPACES", default_value = "")]
    pub additional_namespaces: String,

    /// Label selector which can be used to filter sealed secrets.
    #[arg(long, env = "SEALED_SECRETS_LABEL_SELECTOR", default_value = "")]
    pub label_selector: String,

    /// Number of allowed sustained requests per second for the verify and rotate endpoints
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT", default_value_t = 2)]
    pub rate_limit: u32,

    /// Number of requests allowed to exceed the rate limit per second for the verify and rotate endpoints
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT_BURST", default_value_t = 2)]
    pub rate_limit_burst: u32,

    #[arg(
        long,
        help = "When true, the sealed_secrets_controller_condition_info metric is not updated, so the metrics endpoint does not expose SealedSecret namespaces and names. Use this if :8081 is reachable by users who should not be able to enumerate SealedSecret inventory.",
        env = "SEALED_SECRETS_METRICS_OMIT_SECRET_LABELS",
        default_value = "false"
    )]
    pub metrics_omit_secret_labels: bool,

    /// Comma-separated list of additional annotations to be put on renewed sealing keys.
    #[arg(
        long,
        env = "SEALED_SECRETS_PRIVATEKEY_ANNOTATIONS",
        default_value = ""
    )]
    pub privatekey_annotations: String,

    /// Comma-separated list of additional labels to be put on renewed sealing keys.
    #[arg(long, env = "SEALED_SECRETS_PRIVATEKEY_LABELS", default_value = "")]
    pub privatekey_labels: String,

    /// Revert to old GC behavior where the controller deletes secrets instead of delegating that to k8s itself.
    #[arg(long, env = "SEALED_SECRETS_OLD_GC_BEHAVIOR", default_value = "false")]
    pub old_gc_behavior: bool,

    /// if true, the controller will update the status sub-resource whenever it processes a sealed secret (stable; enabled by default since v0.17.0)
    #[arg(long, env = "SEALED_SECRETS_UPDATE_STATUS", default_value = "true")]
    pub update_status: bool,

    /// beta: If this is true, the controller will watch for key secrets. (Key Secrets are always
    /// watched by this implementation; the flag is accepted for compatibility.)
    #[arg(
        long,
        env = "SEALED_SECRETS_WATCH_FOR_SECRETS",
        default_value = "false"
    )]
    pub watch_for_secrets: bool,

    /// if true the controller will skip listening for managed secret changes to recreate them. This helps on limited permission environments.
    #[arg(long, env = "SEALED_SECRETS_SKIP_RECREATE", default_value = "false")]
    pub skip_recreate: bool,

    /// if true the controller will log info to stdout and error/warn to stderr.
    #[arg(long, env = "SEALED_SECRETS_LOG_INFO_STDOUT", default_value = "true")]
    pub log_info_stdout: bool,

    /// Log level (DEBUG|INFO|WARN|ERROR).
    #[arg(long, env = "SEALED_SECRETS_LOG_LEVEL", default_value = "INFO")]
    pub log_level: String,

    /// Log format (text|json).
    #[arg(long, env = "SEALED_SECRETS_LOG_FORMAT", default_value = "text")]
    pub log_format: String,

    /// Max unseal retries.
    #[arg(
        long,
        env = "SEALED_SECRETS_MAX_UNSEAL_RETRIES",
        default_value_t = 5,
        allow_negative_numbers = true
    )]
    pub max_unseal_retries: i64,

    /// Kubeclient QPS (negative value disables ratelimiting)
    #[arg(
        long,
        env = "SEALED_SECRETS_KUBECLIENT_QPS",
        default_value_t = 5.0,
        allow_negative_numbers = true
    )]
    pub kubeclient_qps: f32,

    /// Kubeclient Burst
    #[arg(
        long,
        env = "SEALED_SECRETS_KUBECLIENT_BURST",
        default_value_t = 10,
        allow_negative_numbers = true
    )]
    pub kubeclient_burst: i64,

    /// HTTP listen address.
    #[arg(long, env = "SEALED_SECRETS_LISTEN_ADDR", default_value = ":8080")]
    pub listen_addr: String,

    /// HTTP metrics listen address.
    #[arg(
        long,
        env = "SEALED_SECRETS_LISTEN_METRICS_ADDR",
        default_value = ":8081"
    )]
    pub listen_metrics_addr: String,

    /// HTTP read timeout.
    #[arg(long, env = "SEALED_SECRETS_READ_TIMEOUT", default_value = "2m0s", value_parser = parse_go_duration)]
    pub read_timeout: Duration,

    /// HTTP write timeout.
    #[arg(long, env = "SEALED_SECRETS_WRITE_TIMEOUT", default_value = "2m0s", value_parser = parse_go_duration)]
    pub write_timeout: Duration,

    /// Elect one leader among the replicas on a coordination.k8s.io Lease in the controller namespace: only the leader unseals and creates keys, every replica serves the HTTP API
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT", default_value = "false")]
    pub leader_elect: bool,

    /// How long a leader's Lease stays valid after its last renewal; followers wait this long before taking over from a leader that stopped renewing
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT_LEASE_DURATION", default_value = "15s", value_parser = parse_go_duration)]
    pub leader_elect_lease_duration: Duration,

    /// How long the leader keeps retrying to renew its Lease before it stops leading
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT_RENEW_DEADLINE", default_value = "10s", value_parser = parse_go_duration)]
    pub leader_elect_renew_deadline: Duration,

    /// How often the leader renews its Lease and followers try to acquire it
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT_RETRY_PERIOD", default_value = "2s", value_parser = parse_go_duration)]
    pub leader_elect_retry_period: Duration,

    /// Name of the Lease used for leader election
    #[arg(
        long,
        env = "SEALED_SECRETS_LEADER_ELECT_RESOURCE_NAME",
        default_value = "sealed-secrets-controller"
    )]
    pub leader_elect_resource_name: String,

    /// Print version information and exit
    #[arg(long, default_value = "false")]
    pub version: bool,
}

/// pflag's booleans, for every `bool` field: `--flag` means true, `--flag=<Go ParseBool value>`
/// sets it, and a separate `--flag false` is not taken as its value.
fn go_bool_flag(arg: Arg) -> Arg {
    if !matches!(arg.get_action(), ArgAction::SetTrue) {
        return arg;
    }
    arg.action(ArgAction::Set)
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("true")
        .value_parser(parse_go_bool)
}

/// Where a flag's value came from, for the `--key-renew-period` / `--rotate-period` alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Default,
    Env,
    CommandLine(usize),
}

/// The result of parsing argv: the flags, plus the effective renewal period once the deprecated
/// alias has been folded in, and whether the alias was used on the command line.
#[derive(Debug, Clone)]
pub struct ParsedFlags {
    pub flags: Flags,
    pub rotate_period_used: bool,
}

impl ParsedFlags {
    /// Parses `args` (including argv\[0\]); on a usage error clap prints and exits (code 2, as pflag).
    pub fn parse_from<I, T>(args: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        match Self::try_parse_from(args) {
            Ok(p) => p,
            Err(e) => e.exit(),
        }
    }

    pub fn try_parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = Flags::command().try_get_matches_from(args)?;
        let mut flags = Flags::from_arg_matches(&matches)?;
        let origin = |id: &str| match matches.value_source(id) {
            Some(ValueSource::CommandLine) => {
                Origin::CommandLine(matches.index_of(id).unwrap_or_default())
            }
            Some(ValueSource::EnvVariable) => Origin::Env,
            _ => Origin::Default,
        };
        let rotate_origin = origin("rotate_period");
        if let Some(rotate) = flags.rotate_period
            && alias_wins(origin("key_renew_period"), rotate_origin)
        {
            flags.key_renew_period = rotate;
        }
        Ok(ParsedFlags {
            flags,
            rotate_period_used: matches!(rotate_origin, Origin::CommandLine(_)),
        })
    }
}

/// Both flags write one variable upstream: the later command-line occurrence wins, the command line
/// beats the environment, and of two env variables `SEALED_SECRETS_ROTATE_PERIOD` wins (applied
/// later, alphabetically).
fn alias_wins(renew: Origin, rotate: Origin) -> bool {
    match (renew, rotate) {
        (_, Origin::Default) => false,
        (Origin::CommandLine(a), Origin::CommandLine(b)) => b > a,
        (Origin::CommandLine(_), Origin::Env) => false,
        _ => true,
    }
}

/// Validated configuration derived from [`Flags`].
#[derive(Debug, Clone)]
pub struct Config {
    pub key_prefix: String,
    pub key_size: usize,
    pub key_ttl: Duration,
    pub my_cn: String,
    pub key_renew_period: Duration,
    pub key_order: KeyOrder,
    pub key_cutoff_time: Option<SystemTime>,
    pub accept_v1_data: bool,
    pub all_namespaces: bool,
    /// `--additional-namespaces` was given (even as only commas): the controller then watches its
    /// own namespace instead of all (upstream `Main` tests the raw string).
    pub additional_namespaces_set: bool,
    /// `--additional-namespaces` as [`additional_namespaces`] reads it.
    pub additional_namespaces: Vec<String>,
    pub label_selector: Option<String>,
    pub rate_limit: u32,
    pub rate_limit_burst: u32,
    pub metrics_omit_secret_labels: bool,
    pub privatekey_labels: BTreeMap<String, String>,
    pub privatekey_annotations: BTreeMap<String, String>,
    pub old_gc_behavior: bool,
    pub update_status: bool,
    pub skip_recreate: bool,
    pub max_unseal_retries: u32,
    /// `None`: client-side rate limiting disabled (negative `--kubeclient-qps`).
    pub kubeclient_qps: Option<f64>,
    pub kubeclient_burst: u32,
    pub listen_addr: String,
    pub listen_metrics_addr: String,
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    /// An invalid `--key-order-priority` is logged and falls back to CertNotBefore (as upstream).
    pub invalid_key_order_priority: Option<String>,
    /// `--leader-elect` and its timings; `None`: every instance leads (upstream's behaviour).
    pub leader_election: Option<LeaderElection>,
}

/// The `--leader-elect-*` flags, validated as client-go's `NewLeaderElector` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderElection {
    pub lease_name: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("name is too long, must be shorter than {KEY_PREFIX_MAX_LEN}, got {0}")]
    KeyPrefixTooLong(usize),
    #[error("name contains illegal character {0}")]
    KeyPrefixIllegalChar(char),
    #[error("{0}")]
    CutoffTime(String),
    #[error("invalid item {item:?} in --{flag}: expected key=value")]
    KeyValueItem { flag: &'static str, item: String },
    #[error("--rate-limit must be at least 1, got 0")]
    ZeroRateLimit,
    #[error("{0}")]
    LeaderElection(&'static str),
}

impl Config {
    pub fn from_flags(f: &Flags) -> Result<Config, ConfigError> {
        validate_key_prefix(&f.key_prefix)?;
        let key_cutoff_time = if f.key_cutoff_time.is_empty() {
            None
        } else {
            Some(parse_rfc1123z(&f.key_cutoff_time).map_err(ConfigError::CutoffTime)?)
        };
        let (key_order, invalid_key_order_priority) = match f.key_order_priority.as_str() {
            "CertNotBefore" => (KeyOrder::CertNotBefore, None),
            "SecretCreationTimestamp" => (KeyOrder::SecretCreationTimestamp, None),
            other => (KeyOrder::CertNotBefore, Some(other.to_string())),
        };
        let mut privatekey_labels = parse_key_values(&f.privatekey_labels, "privatekey-labels")?;
        // The active-key label is always set by the controller itself (upstream `writeKey`).
        privatekey_labels.remove(KEY_LABEL);
        let privatekey_annotations =
            parse_key_values(&f.privatekey_annotations, "privatekey-annotations")?;
        if f.rate_limit == 0 {
            return Err(ConfigError::ZeroRateLimit);
        }
        let leader_election = f.leader_elect.then(|| leader_election(f)).transpose()?;
        let kubeclient_qps = if f.kubeclient_qps < 0.0 {
            None
        } else if f.kubeclient_qps == 0.0 {
            // client-go: a zero QPS means its default (5).
            Some(5.0)
        } else {
            Some(f64::from(f.kubeclient_qps))
        };
        let kubeclient_burst = match f.kubeclient_burst {
            // client-go: a zero burst means its default (10).
            0 => 10,
            b => u32::try_from(b.max(1)).unwrap_or(u32::MAX),
        };
        Ok(Config {
            key_prefix: f.key_prefix.clone(),
            key_size: f.key_size,
            key_ttl: f.key_ttl,
            my_cn: f.my_cn.clone(),
            key_renew_period: f.key_renew_period,
            key_order,
            key_cutoff_time,
            accept_v1_data: f.accept_deprecated_v1_data,
            all_namespaces: f.all_namespaces,
            additional_namespaces_set: !f.additional_namespaces.is_empty(),
            additional_namespaces: additional_namespaces(&f.additional_namespaces),
            label_selector: Some(f.label_selector.clone()).filter(|s| !s.is_empty()),
            rate_limit: f.rate_limit,
            rate_limit_burst: f.rate_limit_burst,
            metrics_omit_secret_labels: f.metrics_omit_secret_labels,
            privatekey_labels,
            privatekey_annotations,
            old_gc_behavior: f.old_gc_behavior,
            update_status: f.update_status,
            skip_recreate: f.skip_recreate,
            max_unseal_retries: u32::try_from(f.max_unseal_retries.max(0)).unwrap_or(u32::MAX),
            kubeclient_qps,
            kubeclient_burst,
            listen_addr: f.listen_addr.clone(),
            listen_metrics_addr: f.listen_metrics_addr.clone(),
            read_timeout: f.read_timeout,
            write_timeout: f.write_timeout,
            invalid_key_order_priority,
            leader_election,
        })
    }
}

/// client-go `NewLeaderElector`'s checks, in its order and words (with our flag names).
fn leader_election(f: &Flags) -> Result<LeaderElection, ConfigError> {
    let e = ConfigError::LeaderElection;
    if f.leader_elect_lease_duration <= f.leader_elect_renew_deadline {
        return Err(e(
            "--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline",
        ));
    }
    // client-go's JitterFactor (1.2) times the retry period.
    if f.leader_elect_renew_deadline.as_secs_f64()
        <= 1.2 * f.leader_elect_retry_period.as_secs_f64()
    {
        return Err(e(
            "--leader-elect-renew-deadline must be greater than 1.2 times --leader-elect-retry-period",
        ));
    }
    if f.leader_elect_retry_period.is_zero() {
        return Err(e("--leader-elect-retry-period must be greater than zero"));
    }
    if f.leader_elect_resource_name.is_empty() {
        return Err(e("--leader-elect-resource-name must not be empty"));
    }
    Ok(LeaderElection {
        lease_name: f.leader_elect_resource_name.clone(),
        lease_duration: f.leader_elect_lease_duration,
        renew_deadline: f.leader_elect_renew_deadline,
        retry_period: f.leader_elect_retry_period,
    })
}

/// Upstream `validateKeyPrefix`.
pub fn validate_key_prefix(name: &str) -> Result<(), ConfigError> {
    if name.len() > KEY_PREFIX_MAX_LEN {
        return Err(ConfigError::KeyPrefixTooLong(name.len()));
    }
    match name.chars().find(|c| !KEY_PREFIX_CHARS.contains(*c)) {
        Some(c) => Err(ConfigError::KeyPrefixIllegalChar(c)),
        None => Ok(()),
    }
}

/// `a,b,a` → `[a, b]`: upstream's `strings.Split` + `removeDuplicates`, minus empty items.
pub fn split_dedup(s: &str) -> Vec<String> {
    dedup(s.split(',').filter(|i| !i.is_empty()))
}

/// The items in their first-seen order, each once.
fn dedup<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    out
}

/// `--additional-namespaces` (upstream `Main` and `startAdditionalNamespaceControllers`): split on
/// `,`, each item trimmed, empty items skipped. Duplicates are dropped after trimming (upstream
/// drops them before, so ` a,a` starts two controllers for `a`; docs/compatibility.md).
pub fn additional_namespaces(s: &str) -> Vec<String> {
    dedup(s.split(',').map(str::trim).filter(|i| !i.is_empty()))
}

/// `k=v,k2=v2` (upstream `writeKey`'s label and annotation lists): split on `,`, de-duplicate,
/// split each item on `=` and use parts 0 and 1 (a second `=` truncates the value, as upstream). An
/// item without `=` is rejected (upstream crashes); empty items (a trailing comma) are skipped.
pub fn parse_key_values(
    s: &str,
    flag: &'static str,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for item in split_dedup(s) {
        let mut parts = item.split('=');
        let key = parts.next().unwrap_or_default();
        let Some(value) = parts.next() else {
            return Err(ConfigError::KeyValueItem { flag, item });
        };
        out.insert(key.to_string(), value.to_string());
    }
    Ok(out)
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Result<bool, String> {
    go_semantics::strconv::parse_bool(s)
        .map_err(|_| format!("strconv.ParseBool: parsing {s:?}: invalid syntax"))
}

/// Go's `time.ParseDuration` (`720h`, `1h30m`, `1.5s`, `300ms`, `0`), restricted to non-negative
/// values: a negative renewal period would make upstream generate keys in a tight loop.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    use go_semantics::time::{DurationError, parse_duration};
    let nanos = parse_duration(s).map_err(|e| match e {
        DurationError::Invalid { .. } => format!("time: invalid duration {s:?}"),
        DurationError::MissingUnit { .. } => format!("time: missing unit in duration {s:?}"),
        DurationError::UnknownUnit { unit, .. } => {
            format!("time: unknown unit {unit:?} in duration {s:?}")
        }
    })?;
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| format!("negative duration {s:?} is not allowed"))
}

/// Go's `time.Parse(time.RFC1123Z, s)`: `Mon, 02 Jan 2006 15:04:05 -0700` (`date -R`).
pub fn parse_rfc1123z(s: &str) -> Result<SystemTime, String> {
    let err = |detail: &str| format!("parsing time {s:?} as {RFC1123Z:?}: {detail}");
    let mut parsed = time::parsing::Parsed::new();
    let rest = parsed
        .parse_items(s.as_bytes(), RFC1123Z_FORMAT)
        .map_err(|e| err(&e.to_string()))?;
    if !rest.is_empty() {
        return Err(err("extra text after the time"));
    }
    // The date is built from its parts, so the weekday is not checked against it (nor is it in Go).
    let date = time::Date::from_calendar_date(
        parsed.year().ok_or_else(|| err("missing year"))?,
        parsed.month().ok_or_else(|| err("missing month"))?,
        parsed
            .day()
            .map(u8::from)
            .ok_or_else(|| err("missing day"))?,
    )
    .map_err(|e| err(&e.to_string()))?;
    let clock = time::Time::from_hms(
        parsed.hour_24().ok_or_else(|| err("missing hour"))?,
        parsed.minute().ok_or_else(|| err("missing minute"))?,
        parsed.second().ok_or_else(|| err("missing second"))?,
    )
    .map_err(|e| err(&e.to_string()))?;
    let offset = time::UtcOffset::from_hms(
        parsed.offset_hour().ok_or_else(|| err("missing zone"))?,
        parsed.offset_minute_signed().unwrap_or(0),
        0,
    )
    .map_err(|e| err(&e.to_string()))?;
    Ok(SystemTime::from(
        time::PrimitiveDateTime::new(date, clock).assume_offset(offset),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ParsedFlags, clap::Error> {
        let mut argv = vec!["controller"];
        argv.extend_from_slice(args);
        ParsedFlags::try_parse_from(argv)
    }

    #[test]
    fn go_durations() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        assert_eq!(parse_go_duration("720h"), Ok(h(720)));
        assert_eq!(parse_go_duration("720h0m0s"), Ok(h(720)));
        assert_eq!(parse_go_duration("87600h0m0s"), Ok(h(87600)));
        assert_eq!(parse_go_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("-0"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_go_duration("2m0s"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_go_duration("10µs"), Ok(Duration::from_micros(10)));
        assert!(parse_go_duration("").is_err());
        assert!(
            parse_go_duration("30d")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(
            parse_go_duration("30")
                .unwrap_err()
                .contains("missing unit")
        );
        assert!(parse_go_duration("h").is_err());
        assert!(parse_go_duration("1..2h").is_err());
        assert!(parse_go_duration("-1h").is_err());
        assert!(parse_go_duration("1h 30m").is_err());
    }

    #[test]
    fn go_bools() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_go_bool(t), Ok(true));
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_go_bool(f), Ok(false));
        }
        assert!(parse_go_bool("yes").is_err());
        assert!(parse_go_bool("").is_err());
    }

    #[test]
    fn cutoff_time_rfc1123z() {
        let t = parse_rfc1123z("Mon, 02 Jan 2006 15:04:05 -0700").unwrap();
        let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1136239445);
        // Weekday is not checked against the date (Go does not either).
        assert!(parse_rfc1123z("Fri, 02 Jan 2006 15:04:05 +0000").is_ok());
        let e = parse_rfc1123z("2006-01-02T15:04:05Z").unwrap_err();
        assert!(
            e.starts_with(
                "parsing time \"2006-01-02T15:04:05Z\" as \"Mon, 02 Jan 2006 15:04:05 -0700\""
            ),
            "{e}"
        );
        assert!(parse_rfc1123z("Mon, 02 Jan 2006 15:04:05 MST").is_err());
        assert!(parse_rfc1123z("Mon, 02 Jan 2006 15:04:05 +0000 trailing").is_err());
    }

    #[test]
    fn key_values() {
        let m = parse_key_values("a=1,b=2,a=1", "privatekey-labels").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m["a"], "1");
        // Extra '=' truncates the value, as upstream.
        assert_eq!(parse_key_values("k=v=w", "x").unwrap()["k"], "v");
        assert_eq!(parse_key_values("k=", "x").unwrap()["k"], "");
        assert!(parse_key_values("", "x").unwrap().is_empty());
        assert_eq!(parse_key_values("a=1,", "x").unwrap().len(), 1);
        let e = parse_key_values("a=1,oops", "privatekey-labels").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid item \"oops\" in --privatekey-labels: expected key=value"
        );
    }

    #[test]
    fn additional_namespace_list() {
        assert!(additional_namespaces("").is_empty());
        assert!(additional_namespaces(",").is_empty());
        assert!(additional_namespaces(" , ,").is_empty());
        assert_eq!(additional_namespaces("a,b,"), ["a", "b"]);
        assert_eq!(additional_namespaces(" a , b,a,  a"), ["a", "b"]);
        assert_eq!(additional_namespaces("b,a,b"), ["b", "a"]);
        assert_eq!(additional_namespaces("a\t,\nb"), ["a", "b"]);
        let c = Config::from_flags(&parse(&["--additional-namespaces=,"]).unwrap().flags).unwrap();
        assert!(c.additional_namespaces.is_empty() && c.additional_namespaces_set);
    }

    #[test]
    fn help_texts_are_upstreams() {
        let cmd = Flags::command();
        let help = |id: &str| {
            cmd.get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            help("rate_limit"),
            "Number of allowed sustained requests per second for the verify and rotate endpoints"
        );
        assert_eq!(
            help("rate_limit_burst"),
            "Number of requests allowed to exceed the rate limit per second for the verify and rotate endpoints"
        );
        assert_eq!(
            help("update_status"),
            "if true, the controller will update the status sub-resource whenever it processes a sealed secret (stable; enabled by default since v0.17.0)"
        );
        assert_eq!(
            help("metrics_omit_secret_labels"),
            "When true, the sealed_secrets_controller_condition_info metric is not updated, so the metrics endpoint does not expose SealedSecret namespaces and names. Use this if :8081 is reachable by users who should not be able to enumerate SealedSecret inventory."
        );
        let p = parse(&["--metrics-omit-secret-labels"]).unwrap();
        assert!(
            Config::from_flags(&p.flags)
                .unwrap()
                .metrics_omit_secret_labels
        );
    }

    #[test]
    fn key_prefix_validation() {
        assert!(validate_key_prefix("sealed-secrets-key").is_ok());
        assert!(validate_key_prefix("").is_ok());
        assert_eq!(
            validate_key_prefix("Sealed").unwrap_err().to_string(),
            "name contains illegal character S"
        );
        assert_eq!(
            validate_key_prefix("a_b").unwrap_err().to_string(),
            "name contains illegal character _"
        );
        let long = "a".repeat(246);
        assert_eq!(
            validate_key_prefix(&long).unwrap_err().to_string(),
            "name is too long, must be shorter than 245, got 246"
        );
        assert!(validate_key_prefix(&"a".repeat(245)).is_ok());
    }

    #[test]
    fn defaults() {
        let p = parse(&[]).unwrap();
        let c = Config::from_flags(&p.flags).unwrap();
        assert_eq!(c.key_prefix, "sealed-secrets-key");
        assert_eq!(c.key_size, 4096);
        assert_eq!(c.key_ttl, Duration::from_secs(87600 * 3600));
        assert_eq!(c.key_renew_period, Duration::from_secs(720 * 3600));
        assert_eq!(c.key_order, KeyOrder::CertNotBefore);
        assert!(c.key_cutoff_time.is_none());
        assert!(c.accept_v1_data && c.all_namespaces && c.update_status);
        assert!(!c.old_gc_behavior && !c.skip_recreate);
        assert!(c.additional_namespaces.is_empty() && !c.additional_namespaces_set);
        assert!(!c.metrics_omit_secret_labels);
        assert!(c.label_selector.is_none());
        assert_eq!((c.rate_limit, c.rate_limit_burst), (2, 2));
        assert_eq!(c.max_unseal_retries, 5);
        assert_eq!(c.kubeclient_qps, Some(5.0));
        assert_eq!(c.kubeclient_burst, 10);
        assert_eq!(c.listen_addr, ":8080");
        assert_eq!(c.listen_metrics_addr, ":8081");
        assert_eq!(c.read_timeout, Duration::from_secs(120));
        assert!(p.flags.log_info_stdout);
        assert_eq!(p.flags.log_level, "INFO");
        assert_eq!(p.flags.log_format, "text");
        assert!(!p.flags.version);
    }

    #[test]
    fn go_style_bool_flags() {
        let p = parse(&[
            "--all-namespaces=false",
            "--old-gc-behavior",
            "--update-status=0",
        ])
        .unwrap();
        assert!(!p.flags.all_namespaces);
        assert!(p.flags.old_gc_behavior);
        assert!(!p.flags.update_status);
        assert!(parse(&["--all-namespaces=maybe"]).is_err());
        assert!(parse(&["--version"]).unwrap().flags.version);
        assert!(parse(&["--version=T"]).unwrap().flags.version);
        // As pflag: a bool flag takes its value only after `=`.
        assert!(parse(&["--old-gc-behavior", "false"]).is_err());
    }

    #[test]
    fn every_bool_flag_is_go_style() {
        let mut cmd = Flags::command();
        cmd.build();
        let go_style: Vec<&str> = cmd
            .get_arguments()
            .filter(|a| a.is_require_equals_set())
            .map(|a| a.get_id().as_str())
            .collect();
        assert_eq!(
            go_style,
            [
                "accept_deprecated_v1_data",
                "all_namespaces",
                "metrics_omit_secret_labels",
                "old_gc_behavior",
                "update_status",
                "watch_for_secrets",
                "skip_recreate",
                "log_info_stdout",
                "leader_elect",
                "version"
            ]
        );
        for a in cmd.get_arguments().filter(|a| a.is_require_equals_set()) {
            let id = a.get_id().as_str();
            assert!(matches!(a.get_action(), ArgAction::Set), "{id}");
            assert_eq!(a.get_num_args(), Some((0..=1).into()), "{id}");
            // A bare `--flag` is true, whatever its default.
            let long = format!("--{}", a.get_long().unwrap_or_default());
            let m = cmd
                .clone()
                .try_get_matches_from(["controller", long.as_str()])
                .unwrap();
            assert_eq!(m.get_one::<bool>(id), Some(&true), "{id}");
        }
    }

    #[test]
    fn values_and_errors() {
        let p = parse(&[
            "--key-renew-period=0",
            "--key-ttl",
            "1h",
            "--key-cutoff-time",
            "Mon, 02 Jan 2006 15:04:05 -0700",
            "--additional-namespaces=a,b,a",
            "--privatekey-labels=x=y",
            "--key-order-priority=SecretCreationTimestamp",
            "--kubeclient-qps=-1",
            "--max-unseal-retries=-3",
        ])
        .unwrap();
        let c = Config::from_flags(&p.flags).unwrap();
        assert_eq!(c.key_renew_period, Duration::ZERO);
        assert_eq!(c.key_ttl, Duration::from_secs(3600));
        assert!(c.key_cutoff_time.is_some());
        assert_eq!(c.additional_namespaces, vec!["a", "b"]);
        assert!(c.additional_namespaces_set);
        assert_eq!(c.privatekey_labels["x"], "y");
        assert_eq!(c.key_order, KeyOrder::SecretCreationTimestamp);
        assert_eq!(c.kubeclient_qps, None);
        assert_eq!(c.max_unseal_retries, 0);

        assert!(parse(&["--key-renew-period=30d"]).is_err());
        let bad = |args: &[&str]| Config::from_flags(&parse(args).unwrap().flags).unwrap_err();
        assert_eq!(
            bad(&["--key-prefix=Bad"]).to_string(),
            "name contains illegal character B"
        );
        assert!(
            bad(&["--key-cutoff-time=yesterday"])
                .to_string()
                .starts_with("parsing time")
        );
        assert!(matches!(
            bad(&["--privatekey-annotations=a"]),
            ConfigError::KeyValueItem { .. }
        ));
        assert_eq!(bad(&["--rate-limit=0"]), ConfigError::ZeroRateLimit);

        let c = Config::from_flags(&parse(&["--key-order-priority=Nope"]).unwrap().flags).unwrap();
        assert_eq!(c.key_order, KeyOrder::CertNotBefore);
        assert_eq!(c.invalid_key_order_priority.as_deref(), Some("Nope"));
        // The active-key label cannot be overridden.
        let c = Config::from_flags(
            &parse(&["--privatekey-labels=sealedsecrets.bitnami.com/sealed-secrets-key=x,a=b"])
                .unwrap()
                .flags,
        )
        .unwrap();
        assert_eq!(c.privatekey_labels.len(), 1);
    }

    #[test]
    fn rotate_period_alias() {
        let p = parse(&["--rotate-period=1h"]).unwrap();
        assert_eq!(p.flags.key_renew_period, Duration::from_secs(3600));
        assert!(p.rotate_period_used);
        let p = parse(&["--rotate-period=1h", "--key-renew-period=2h"]).unwrap();
        assert_eq!(p.flags.key_renew_period, Duration::from_secs(7200));
        let p = parse(&["--key-renew-period=2h", "--rotate-period=1h"]).unwrap();
        assert_eq!(p.flags.key_renew_period, Duration::from_secs(3600));
        assert!(alias_wins(Origin::Env, Origin::Env));
        assert!(alias_wins(Origin::Default, Origin::Env));
        assert!(!alias_wins(Origin::CommandLine(1), Origin::Env));
        assert!(alias_wins(Origin::Env, Origin::CommandLine(1)));
        assert!(!alias_wins(Origin::Env, Origin::Default));
    }

    // Reading env values is covered by tests/cli.rs (setting variables in-process needs `unsafe`).
    #[test]
    fn every_flag_has_its_env_variable() {
        let cmd = Flags::command();
        let envs: Vec<_> = cmd
            .get_arguments()
            .filter_map(|a| a.get_env().map(|e| (a.get_id().to_string(), e.to_owned())))
            .collect();
        // Every flag except --version has its SEALED_SECRETS_ variable.
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str();
            if id == "version" || id == "help" {
                continue;
            }
            let long = a.get_long().unwrap_or_default();
            let want = format!("SEALED_SECRETS_{}", long.to_uppercase().replace('-', "_"));
            assert!(
                envs.iter().any(|(i, e)| i == id && *e == *want.as_str()),
                "missing env {want}"
            );
        }
    }

    /// Ours: `--leader-elect` is off by default (a single replica behaves as upstream); its
    /// timings default to client-go's and are checked as client-go's `NewLeaderElector` does.
    #[test]
    fn leader_election_flags() {
        let cfg = |args: &[&str]| Config::from_flags(&parse(args).unwrap().flags);
        assert_eq!(cfg(&[]).unwrap().leader_election, None);
        assert_eq!(
            cfg(&["--leader-elect"]).unwrap().leader_election,
            Some(LeaderElection {
                lease_name: "sealed-secrets-controller".into(),
                lease_duration: Duration::from_secs(15),
                renew_deadline: Duration::from_secs(10),
                retry_period: Duration::from_secs(2),
            })
        );
        let short = cfg(&[
            "--leader-elect=true",
            "--leader-elect-lease-duration=3s",
            "--leader-elect-renew-deadline=2s",
            "--leader-elect-retry-period=500ms",
            "--leader-elect-resource-name=x",
        ])
        .unwrap()
        .leader_election
        .unwrap();
        assert_eq!(short.lease_duration, Duration::from_secs(3));
        assert_eq!(short.retry_period, Duration::from_millis(500));
        assert_eq!(short.lease_name, "x");
        let err = |args: &[&str]| cfg(args).unwrap_err().to_string();
        assert_eq!(
            err(&["--leader-elect", "--leader-elect-lease-duration=10s"]),
            "--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline"
        );
        assert_eq!(
            err(&["--leader-elect", "--leader-elect-retry-period=9s"]),
            "--leader-elect-renew-deadline must be greater than 1.2 times --leader-elect-retry-period"
        );
        assert_eq!(
            err(&["--leader-elect", "--leader-elect-retry-period=0s"]),
            "--leader-elect-retry-period must be greater than zero"
        );
        assert_eq!(
            err(&["--leader-elect", "--leader-elect-resource-name="]),
            "--leader-elect-resource-name must not be empty"
        );
        // Invalid timings do not matter without --leader-elect.
        assert!(cfg(&["--leader-elect-lease-duration=1s"]).is_ok());
    }
}
