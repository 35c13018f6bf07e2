//! Logging as upstream's controller does it (Go `log/slog`): `--log-format text` prints
//! `time=... level=INFO msg="..." key=value`, `json` one JSON object per line; `--log-level`
//! accepts slog's level names (`DEBUG`, `INFO`, `WARN`, `ERROR`, optionally `+N`/`-N`), an invalid
//! one is ignored; with `--log-info-stdout` DEBUG/INFO go to stdout and WARN/ERROR to stderr.
//!
//! Nothing secret is ever passed to a log macro: the core's key and plaintext types have no
//! `Display` and a redacting `Debug`.

use std::fmt::Write as _;

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::writer::MakeWriterExt as _;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// slog's numeric levels.
const SLOG_DEBUG: i64 = -4;
const SLOG_INFO: i64 = 0;
const SLOG_WARN: i64 = 4;
const SLOG_ERROR: i64 = 8;

/// slog `Level.UnmarshalText`: a name (case-insensitive) with an optional signed offset; `None`
/// when invalid (upstream then keeps INFO).
pub fn parse_slog_level(s: &str) -> Option<i64> {
    let (name, offset) = match s.find(['+', '-']) {
        Some(i) => {
            let (n, o) = s.split_at(i);
            (n, o.parse::<i64>().ok()?)
        }
        None => (s, 0),
    };
    let base = match name.to_ascii_uppercase().as_str() {
        "DEBUG" => SLOG_DEBUG,
        "INFO" => SLOG_INFO,
        "WARN" => SLOG_WARN,
        "ERROR" => SLOG_ERROR,
        _ => return None,
    };
    Some(base + offset)
}

/// The most verbose tracing level that passes the slog threshold (`None`: nothing passes).
pub fn threshold_to_filter(threshold: i64) -> Option<Level> {
    if threshold <= SLOG_DEBUG {
        Some(Level::DEBUG)
    } else if threshold <= SLOG_INFO {
        Some(Level::INFO)
    } else if threshold <= SLOG_WARN {
        Some(Level::WARN)
    } else if threshold <= SLOG_ERROR {
        Some(Level::ERROR)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// Upstream: `json` is JSON, anything else is text.
    pub fn parse(s: &str) -> LogFormat {
        if s == "json" {
            LogFormat::Json
        } else {
            LogFormat::Text
        }
    }
}

/// Why [`init`] failed (a global subscriber was already set).
pub type InitError = Box<dyn std::error::Error + Send + Sync>;

/// Installs the global subscriber. `RUST_LOG`, when set, replaces the level filter (for debugging
/// the kube client); by default other crates log only warnings and errors.
pub fn init(level: &str, format: &str, info_to_stdout: bool) -> Result<(), InitError> {
    let threshold = parse_slog_level(level).unwrap_or(SLOG_INFO);
    let ours = match threshold_to_filter(threshold) {
        Some(l) => l.as_str().to_ascii_lowercase(),
        None => "off".to_string(),
    };
    let others = if threshold > SLOG_WARN {
        ours.clone()
    } else {
        "warn".to_string()
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::new(v),
        _ => EnvFilter::new(format!("{others},sealed_secrets_controller={ours}")),
    };
    let formatter = SlogFormat {
        format: LogFormat::parse(format),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(formatter);
    if info_to_stdout {
        builder
            .with_writer(
                std::io::stderr
                    .with_max_level(Level::WARN)
                    .or_else(std::io::stdout),
            )
            .try_init()
    } else {
        builder.with_writer(std::io::stderr).try_init()
    }
}

/// An event formatter printing slog's text or JSON layout.
pub struct SlogFormat {
    pub format: LogFormat,
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(String, serde_json::Value)>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let v = format!("{value:?}");
        if field.name() == "message" {
            self.message = v;
        } else {
            self.fields
                .push((field.name().to_string(), serde_json::Value::String(v)));
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.push((field.name().to_string(), value.into()));
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name().to_string(), value.into()));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name().to_string(), value.into()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name().to_string(), value.into()));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.push((field.name().to_string(), value.into()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.fields
            .push((field.name().to_string(), value.to_string().into()));
    }
}

fn slog_level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "DEBUG-4",
    }
}

/// slog's `needsQuoting`: empty, or any space, `"`, `=` or non-printable character.
fn needs_quoting(s: &str) -> bool {
    s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control())
}

/// Go `strconv.Quote` for the characters log values contain.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn text_value(s: &str) -> String {
    if needs_quoting(s) {
        go_quote(s)
    } else {
        s.to_string()
    }
}

/// slog's time: RFC 3339 with milliseconds, here always in UTC.
const SLOG_TIME: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

fn now_rfc3339_millis() -> String {
    time::OffsetDateTime::now_utc()
        .format(SLOG_TIME)
        .unwrap_or_default()
}

impl SlogFormat {
    /// One log line (without the newline) for a level, message and fields.
    fn render(&self, time: &str, level: &Level, f: &Fields) -> String {
        match self.format {
            LogFormat::Json => {
                let mut obj = serde_json::Map::new();
                obj.insert("time".into(), time.into());
                obj.insert("level".into(), slog_level_name(level).into());
                obj.insert("msg".into(), f.message.clone().into());
                for (k, v) in &f.fields {
                    obj.insert(k.clone(), v.clone());
                }
                serde_json::Value::Object(obj).to_string()
            }
            LogFormat::Text => {
                let mut line = format!(
                    "time={} level={} msg={}",
                    time,
                    slog_level_name(level),
                    text_value(&f.message)
                );
                for (k, v) in &f.fields {
                    let v = match v {
                        serde_json::Value::String(s) => text_value(s),
                        other => other.to_string(),
                    };
                    let _ = write!(line, " {}={}", text_value(k), v);
                }
                line
            }
        }
    }
}

impl<S, N> FormatEvent<S, N> for SlogFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        writeln!(
            writer,
            "{}",
            self.render(&now_rfc3339_millis(), event.metadata().level(), &fields)
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(parse_slog_level("INFO"), Some(0));
        assert_eq!(parse_slog_level("debug"), Some(-4));
        assert_eq!(parse_slog_level("Warn"), Some(4));
        assert_eq!(parse_slog_level("ERROR"), Some(8));
        assert_eq!(parse_slog_level("INFO+2"), Some(2));
        assert_eq!(parse_slog_level("ERROR-4"), Some(4));
        assert_eq!(parse_slog_level("verbose"), None);
        assert_eq!(parse_slog_level("INFO+x"), None);
        assert_eq!(threshold_to_filter(-4), Some(Level::DEBUG));
        assert_eq!(threshold_to_filter(0), Some(Level::INFO));
        assert_eq!(threshold_to_filter(2), Some(Level::WARN));
        assert_eq!(threshold_to_filter(8), Some(Level::ERROR));
        assert_eq!(threshold_to_filter(9), None);
    }

    #[test]
    fn text_and_json_lines() {
        let f = Fields {
            message: "Certificate generated".into(),
            fields: vec![
                (
                    "certificate".into(),
                    "-----BEGIN CERTIFICATE-----\nAB==\n".into(),
                ),
                ("name".into(), "sealed-secrets-keyabcde".into()),
                ("count".into(), 3.into()),
            ],
        };
        let text = SlogFormat {
            format: LogFormat::Text,
        }
        .render("T", &Level::INFO, &f);
        assert_eq!(
            text,
            "time=T level=INFO msg=\"Certificate generated\" certificate=\"-----BEGIN CERTIFICATE-----\\nAB==\\n\" name=sealed-secrets-keyabcde count=3"
        );
        let json = SlogFormat {
            format: LogFormat::Json,
        }
        .render("T", &Level::WARN, &f);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["msg"], "Certificate generated");
        assert_eq!(v["count"], 3);
        assert_eq!(LogFormat::parse("JSON"), LogFormat::Text);
        assert_eq!(text_value(""), "\"\"");
        assert_eq!(text_value("a=b"), "\"a=b\"");
    }
}
