//! Go standard-library behaviour that the Go ports (`gotemplate`, `goyaml`) and the shells share,
//! one implementation each, so that no copy can drift from Go:
//!
//! * [`base64`] is `encoding/base64.StdEncoding` (decoding with Go's error offsets, encoding).
//! * [`strconv`] has `FormatFloat`, `ParseInt` / `ParseUint` / `ParseFloat`, `ParseBool`,
//!   `Quote` / `QuoteToASCII` / `QuoteRune` / `Unquote` / `CanBackquote`, `IsPrint` (Go's tables).
//! * [`time`] has `time.ParseDuration`.
//! * [`utf8`] has `unicode/utf8.DecodeRune` and friends on byte strings (Go strings are bytes).
//! * [`json`] has `encoding/json`'s string escaping and float64 formatting.
//!
//! Every function is a pure function of its input and never panics.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod base64;
mod isprint;
pub mod json;
pub mod strconv;
pub mod time;
pub mod utf8;
