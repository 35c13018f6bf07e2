//! Go `text/template` + Sprig v3, the subset the Sealed Secrets controller
//! uses to render `spec.template.data` entries of a SealedSecret.
//!
//! Upstream does, per template key:
//!
//! ```go
//! tmpl, err := template.New(key).Funcs(sprigFuncsMinusEnvExpandenvGetHostByName).Parse(value)
//! err = tmpl.Execute(&buf, data) // data: map[string]string of the decrypted items
//! ```
//!
//! [`render`] reproduces that: a lexer and parser ported from Go's
//! `text/template/parse`, an evaluator ported from `text/template/exec.go`,
//! and the side-effect-free Sprig functions (see [`supported_functions`]).
//! Functions that read the environment, files, the network, the clock or
//! randomness are not defined, so templates using them fail at parse time
//! with Go's `function "<name>" not defined` error.
//!
//! Values are byte strings: a secret may be binary and is reproduced byte
//! for byte. Error messages never contain data values or rendered output.
//!
//! Limits (all produce a clear error instead of exhausting resources):
//! output size [`MAX_OUTPUT`], intermediate string size [`MAX_STRING`],
//! list sizes [`MAX_LIST_LEN`], syntactic nesting [`MAX_NESTING`], dynamic
//! nesting including `{{template}}` calls [`MAX_EXEC_DEPTH`], value nesting
//! [`MAX_VALUE_DEPTH`], and a total work budget [`WORK_BUDGET`].

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::collections::BTreeMap;

mod exec;
mod funcs;
mod gofmt;
mod json;
mod lex;
mod parse;
mod text;
mod value;

#[cfg(test)]
mod tests;

/// Maximum size of the rendered output of one template (1 MiB).
pub const MAX_OUTPUT: usize = 1 << 20;
/// Maximum size of any string built while rendering (4 MiB).
pub const MAX_STRING: usize = 4 << 20;
/// Maximum number of elements of a list built while rendering.
pub const MAX_LIST_LEN: usize = 1 << 20;
/// Maximum nesting of control structures and parentheses in the source.
pub const MAX_NESTING: usize = 100;
/// Maximum dynamic nesting while executing (control bodies, parenthesized
/// pipelines and `{{template}}` calls together).
pub const MAX_EXEC_DEPTH: usize = 200;
/// Maximum nesting of list/map values that are printed, compared or encoded.
pub const MAX_VALUE_DEPTH: usize = 200;
/// Work units one render may spend. An evaluation step costs 16 units, each
/// byte a function receives or returns one unit, and each list/map element
/// allocated [`CELL_COST`] units: a render is bounded to about 4 million
/// steps, 64 MiB of string handling, or 2 million allocated elements.
pub const WORK_BUDGET: u64 = 1 << 26;
/// Work units charged per allocated list/map element (about its size in bytes).
pub const CELL_COST: u64 = 32;
/// Work units charged per value visited by deep comparisons (`uniq`, `has`, ...).
const COMPARE_COST: u64 = 16;

/// Message of the error raised when [`WORK_BUDGET`] runs out.
const BUDGET_EXCEEDED: &str = "template execution exceeded its work budget";

/// An error parsing or executing a template, worded as Go's text/template
/// words it (`template: <name>:<line>: ...`). Never contains secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// Renders one template the way Go's text/template (+ Sprig v3) would with a map[string]string context.
/// `name` is the template name used in error messages (Go: `template: <name>:<line>: ...`).
/// Values and output are bytes: Go strings are byte strings and a secret may be binary; printing a value
/// must reproduce its bytes exactly. String functions may treat bytes as UTF-8 (lossy) where Go would too.
pub fn render(
    name: &str,
    source: &str,
    data: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<u8>, TemplateError> {
    let trees = parse::parse(name, source)?;
    exec::execute(name, source, &trees, data)
}

/// The names of all supported functions (for docs and tests).
pub fn supported_functions() -> &'static [&'static str] {
    funcs::names()
}
