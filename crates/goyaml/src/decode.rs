//! Input side: `k8s.io/apimachinery/pkg/util/yaml.NewYAMLOrJSONDecoder(r, 4096)` as kubeseal's
//! `readSecrets` uses it, with each YAML document decoded as `sigs.k8s.io/yaml.YAMLToJSON`
//! (go-yaml v2 `Unmarshal` into `interface{}`, then `json.Marshal`) would decode it.
//!
//! YAML syntax is parsed by `granit-parser` (the event parser under serde-saphyr, YAML 1.2);
//! everything that gives the events a meaning (YAML 1.1 scalar resolution, tags, merge keys,
//! aliases, key stringification, float formatting) follows go-yaml v2 `decode.go` /
//! `resolve.go` and sigs.k8s.io/yaml. Where libyaml (YAML 1.1) and granit disagree on syntax
//! the differences that matter are patched here (`\'` and `\/` escapes, surrogate escapes,
//! control characters).

use std::collections::HashMap;

use go_semantics::utf8::decode_valid_rune;
use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError, StructureStyle};

use super::keysort;
use super::resolve::{self, BINARY_TAG, MERGE_TAG, Resolved};
use super::{CodecError, FieldPath};

mod target;

/// How deep decoded values may nest (aliases can nest deeper than the parser's own limits).
const MAX_DEPTH: usize = 400;
/// Upper bound on one document's size in decoded nodes, on top of go-yaml's alias ratio check.
const MAX_DECODE_COUNT: u64 = 20_000_000;

fn yaml_err(msg: impl std::fmt::Display) -> CodecError {
    CodecError(format!("error converting YAML to JSON: yaml: {msg}"))
}

// ---------------------------------------------------------------------------------------------
// Stream level.

/// See `super::parse_documents`.
/// `string_fields`: see `super::parse_documents_with_string_fields` (empty for none).
pub(super) fn parse_documents(
    input: &[u8],
    string_fields: &[FieldPath],
) -> Result<Vec<Value>, CodecError> {
    if is_json_buffer(input) {
        parse_json_stream(input, string_fields)
    } else {
        parse_yaml_stream(input, string_fields)
    }
}

/// `GuessJSONStream` + `IsJSONBuffer`: within the first 4096 bytes, the first rune that is not
/// `unicode.IsSpace` is `{`.
fn is_json_buffer(input: &[u8]) -> bool {
    let peek = input.get(..input.len().min(4096)).unwrap_or(&[]);
    let mut i = 0;
    while let Some((c, n)) = decode_valid_rune(peek.get(i..).unwrap_or(&[])) {
        if !keysort::is_space(c) {
            break;
        }
        i += n;
    }
    peek.get(i) == Some(&b'{')
}

/// Go's lossy view of bytes as a string: every byte that does not start a valid UTF-8
/// sequence becomes U+FFFD (what `encoding/json` does with invalid UTF-8).
fn go_lossy_utf8(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut out = String::with_capacity(b.len());
            let mut i = 0;
            while i < b.len() {
                match decode_valid_rune(b.get(i..).unwrap_or(&[])) {
                    Some((c, n)) => {
                        out.push(c);
                        i += n;
                    }
                    None => {
                        out.push('\u{FFFD}');
                        i += 1;
                    }
                }
            }
            out
        }
    }
}

/// The offset in `input` of byte `lossy_pos` of `go_lossy_utf8(input)` (a position between
/// runes).
fn input_offset(input: &[u8], lossy_pos: usize) -> usize {
    let (mut i, mut lossy) = (0, 0);
    while lossy < lossy_pos && i < input.len() {
        match decode_valid_rune(input.get(i..).unwrap_or(&[])) {
            Some((c, n)) => {
                i += n;
                lossy += c.len_utf8();
            }
            None => {
                i += 1;
                lossy += '\u{FFFD}'.len_utf8();
            }
        }
    }
    i
}

fn is_json_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The JSON branch of `YAMLOrJSONDecoder.Decode`: a stream of JSON values; if one fails to
/// decode after at most one success, the rest of the stream is retried as YAML.
fn parse_json_stream(input: &[u8], string_fields: &[FieldPath]) -> Result<Vec<Value>, CodecError> {
    let text = go_lossy_utf8(input);
    let bytes = text.as_bytes();
    let mut docs = Vec::new();
    let mut count = 0usize;
    let mut pos = 0usize;
    loop {
        let rest = bytes.get(pos..).unwrap_or(&[]);
        if rest.iter().all(|&b| is_json_ws(b)) {
            return Ok(docs);
        }
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                pos += stream.byte_offset();
                count += 1;
                if !v.is_null() {
                    docs.push(v);
                }
            }
            None => return Ok(docs),
            // Go's decoder ends a number or a literal at the first byte that cannot continue it
            // (`stateEndTop` complains about that byte only on the next call); serde_json's
            // stream wants a delimiter there.
            Some(Err(_))
                if let Some((ws, len)) = go_json_scalar_prefix(rest)
                    && let Some(Ok(v)) =
                        rest.get(ws..ws + len).map(serde_json::from_slice::<Value>) =>
            {
                pos += ws + len;
                count += 1;
                if !v.is_null() {
                    docs.push(v);
                }
            }
            Some(Err(e)) => {
                let json_err = CodecError(format!("json: {e}"));
                if count > 1 {
                    return Err(json_err);
                }
                // consumeWhitespace, then YAML from there; the first YAML error reports the
                // JSON error instead. The YAML decoder reads the stream's own bytes
                // (`YAMLOrJSONDecoder.Decode` rewinds its `StreamReader`), so invalid UTF-8
                // that JSON strings turned into U+FFFD fails there.
                let Some(start) = consume_whitespace(input, input_offset(input, pos)) else {
                    return Err(json_err);
                };
                let mut first = true;
                for item in yaml_documents(input.get(start..).unwrap_or(&[])) {
                    match item.and_then(|chunk| decode_yaml_document(&chunk, string_fields)) {
                        Ok(Some(v)) => docs.push(v),
                        Ok(None) => {}
                        Err(e) => return Err(if first { json_err } else { e }),
                    }
                    first = false;
                }
                return Ok(docs);
            }
        }
    }
}

/// After JSON whitespace, a complete JSON number or `true`/`false`/`null` that something other
/// than a delimiter follows: the whitespace's length and the value's.
fn go_json_scalar_prefix(rest: &[u8]) -> Option<(usize, usize)> {
    let ws = rest.iter().take_while(|&&b| is_json_ws(b)).count();
    let v = rest.get(ws..)?;
    for lit in [&b"true"[..], b"false", b"null"] {
        if v.starts_with(lit) {
            return Some((ws, lit.len()));
        }
    }
    let digits = |from: usize| {
        v.get(from..)
            .map_or(0, |t| t.iter().take_while(|b| b.is_ascii_digit()).count())
    };
    let mut i = usize::from(v.first() == Some(&b'-'));
    match v.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += digits(i),
        _ => return None,
    }
    if v.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    if matches!(v.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(v.get(i + 1), Some(b'+' | b'-')));
        let n = digits(i + 1 + sign);
        if n == 0 {
            return None;
        }
        i += 1 + sign + n;
    }
    Some((ws, i))
}

/// `YAMLOrJSONDecoder.consumeWhitespace` over the stream from `pos`: skips `unicode.IsSpace`
/// runes up to and including the first newline. Like Go it gives up (`None`) when fewer than
/// four bytes are left to peek at, or on an invalid rune.
fn consume_whitespace(b: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let rest = b.get(pos..)?;
        if rest.len() < 4 {
            return None;
        }
        let (c, n) = decode_valid_rune(rest.get(..4)?)?;
        if c == '\u{FFFD}' {
            return None;
        }
        if !keysort::is_space(c) {
            return Some(pos);
        }
        pos += n;
        if c == '\n' {
            return Some(pos);
        }
    }
}

fn parse_yaml_stream(input: &[u8], string_fields: &[FieldPath]) -> Result<Vec<Value>, CodecError> {
    let mut docs = Vec::new();
    for item in yaml_documents(input) {
        if let Some(v) = decode_yaml_document(&item?, string_fields)? {
            docs.push(v);
        }
    }
    Ok(docs)
}

/// `YAMLReader.Read` over `LineReader`: documents split on lines starting with `---` (only
/// spaces or a comment may follow); a leading separator stays in its document; lines end
/// in `\n` (a `\r\n` ending becomes `\n`).
fn yaml_documents(input: &[u8]) -> Vec<Result<Vec<u8>, CodecError>> {
    let mut out = Vec::new();
    let mut buffer: Vec<u8> = Vec::new();
    let mut rest = input;
    let mut line_no = 0usize;
    while !rest.is_empty() {
        let (mut line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let line = rest.get(..i).unwrap_or(&[]);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                (line.to_vec(), rest.get(i + 1..).unwrap_or(&[]))
            }
            None => (rest.to_vec(), &[][..]),
        };
        rest = next;
        line_no += 1;
        line.push(b'\n');
        if let Some(after) = line.strip_prefix(b"---") {
            let mut j = 0;
            while let Some((c, n)) = decode_valid_rune(after.get(j..).unwrap_or(&[])) {
                if !keysort::is_space(c) {
                    break;
                }
                j += n;
            }
            if let Some(&c) = after.get(j)
                && c != b'#'
            {
                out.push(Err(CodecError(format!(
                    "invalid Yaml document separator at line {line_no}"
                ))));
                buffer.clear();
                continue;
            }
            if !buffer.is_empty() {
                out.push(Ok(std::mem::take(&mut buffer)));
                continue;
            }
        }
        buffer.extend_from_slice(&line);
    }
    if !buffer.is_empty() {
        out.push(Ok(buffer));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// One document: checks libyaml makes before parsing.

/// The reader of libyaml (go-yaml `readerc.go`): UTF-8 only (go-yaml also reads UTF-16 with a
/// BOM; not supported here) and no control characters outside of escapes. The offset of the
/// first byte it refuses, with its message.
fn reader_error(chunk: &[u8]) -> Option<(usize, &'static str)> {
    let (valid, invalid_at) = match std::str::from_utf8(chunk) {
        Ok(s) => (s, None),
        Err(e) => (
            std::str::from_utf8(chunk.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or(""),
            Some(e.valid_up_to()),
        ),
    };
    let control = valid.char_indices().find(|&(_, c)| {
        let v = c as u32;
        !(v == 0x09
            || v == 0x0A
            || v == 0x0D
            || (0x20..=0x7E).contains(&v)
            || v == 0x85
            || (0xA0..=0xD7FF).contains(&v)
            || (0xE000..=0xFFFD).contains(&v)
            || (0x10000..=0x10FFFF).contains(&v))
    });
    match (control, invalid_at) {
        (Some((i, _)), _) => Some((i, "control characters are not allowed")),
        (None, Some(i)) => Some((i, "invalid leading UTF-8 octet")),
        (None, None) => None,
    }
}

/// Whether libyaml's reader decodes byte `bad` of `chunk` when its scanner needs the input up
/// to byte `need`: it decodes (and checks) its raw buffer of 512 bytes at a time, keeping an
/// incomplete UTF-8 sequence at the end for the next read (`yaml_parser_update_buffer`).
fn reader_reaches(chunk: &[u8], need: usize, bad: usize) -> bool {
    const RAW_BUFFER: usize = 512;
    let mut start = 0;
    loop {
        let end = (start + RAW_BUFFER).min(chunk.len());
        if bad < end {
            return true;
        }
        if end >= need || end >= chunk.len() {
            return false;
        }
        // An incomplete sequence at the end waits for the next read.
        let tail = chunk.get(start..end).unwrap_or(&[]);
        let leftover = (1..=3.min(tail.len()))
            .find(|&k| {
                let lead = tail.get(tail.len() - k).copied().unwrap_or(0);
                let width = match lead {
                    0xC0..=0xDF => 2,
                    0xE0..=0xEF => 3,
                    0xF0..=0xF7 => 4,
                    _ => 0,
                };
                width > k
            })
            .unwrap_or(0);
        start = end - leftover;
    }
}

/// The byte offset just past line `line` (0-based, lines ending in `\n`) of `b`.
fn end_of_line(b: &[u8], line: usize) -> usize {
    b.iter()
        .enumerate()
        .filter(|&(_, &c)| c == b'\n')
        .nth(line)
        .map_or(b.len(), |(i, _)| i + 1)
}

fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()
        .get(..at)
        .unwrap_or(&[])
        .iter()
        .filter(|&&c| c == b'\n')
        .count()
}

/// Where the first token after `from` starts: past blanks, line breaks and comments.
fn next_token(text: &str, from: usize) -> usize {
    let b = text.as_bytes();
    let mut i = from;
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'#' => {
                while b.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    i
}

/// Rewrites every `\'` escape of the double-quoted scalar starting at byte `start` of `text`
/// as `\x27`; `None` if it has none.
fn rewrite_squote_escapes(text: &str, start: usize) -> Option<String> {
    let b = text.as_bytes();
    let mut i = start;
    if b.get(i) == Some(&b'"') {
        i += 1;
    }
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(text.get(..i)?);
    let mut copied = i;
    let mut found = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => break,
            b'\\' => {
                if b.get(i + 1) == Some(&b'\'') {
                    out.push_str(text.get(copied..i)?);
                    out.push_str("\\x27");
                    copied = i + 2;
                    found = true;
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    out.push_str(text.get(copied..)?);
    found.then_some(out)
}

/// libyaml rejects `\/` and `\u`/`\U` escapes of surrogates, which YAML 1.2 accepts.
fn check_double_quoted(text: &str, start: usize, end: usize) -> Result<(), CodecError> {
    let b = text.as_bytes();
    let mut i = start + 1;
    while i < end {
        match b.get(i) {
            Some(b'\\') => {
                let e = b.get(i + 1).copied().unwrap_or(0);
                let len = match e {
                    b'/' => return Err(yaml_err("found unknown escape character")),
                    b'x' => 2,
                    b'u' => 4,
                    b'U' => 8,
                    _ => 0,
                };
                if len > 0 {
                    let hex = text.get(i + 2..i + 2 + len).unwrap_or("");
                    if let Ok(v) = u32::from_str_radix(hex, 16)
                        && ((0xD800..=0xDFFF).contains(&v) || v > 0x10FFFF)
                    {
                        return Err(yaml_err("found invalid Unicode character escape code"));
                    }
                }
                i += 2 + len;
            }
            Some(_) => i += 1,
            None => break,
        }
    }
    Ok(())
}

/// How many times a document is re-parsed after rewriting YAML 1.1 syntax granit rejects.
const MAX_REWRITES: usize = 64;

/// Decodes one document chunk as `yaml.Unmarshal` + YAMLToJSON would; `None` for a document
/// that is empty, only comments, or null.
fn decode_yaml_document(
    chunk: &[u8],
    string_fields: &[FieldPath],
) -> Result<Option<Value>, CodecError> {
    // libyaml reads its input as its scanner needs it, so a byte it refuses only fails the
    // document if the scanner gets that far: parse what comes before it and see where go-yaml
    // would have stopped reading.
    let refused = reader_error(chunk);
    let readable = chunk
        .get(..refused.map_or(chunk.len(), |r| r.0))
        .unwrap_or(&[]);
    let text =
        std::str::from_utf8(readable).map_err(|_| yaml_err("invalid leading UTF-8 octet"))?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let (tree, stop_line) = parse_tree(text)?;
    if let Some((bad, msg)) = refused {
        let reached =
            stop_line.is_none_or(|line| reader_reaches(chunk, end_of_line(chunk, line) + 4, bad));
        if reached {
            return Err(yaml_err(msg));
        }
    }
    tree.map(|t| decode_tree(&t, string_fields))
        .transpose()
        .map(Option::flatten)
}

/// `build_tree`, after rewriting what libyaml (YAML 1.1) accepts and granit (YAML 1.2) does not
/// into an equivalent spelling. With the tree, the last line (0-based) go-yaml's scanner reads
/// when the document ends before the text does (`None`: it reads all of it).
fn parse_tree(text: &str) -> Result<(Option<Tree>, Option<usize>), CodecError> {
    use serde_saphyr::granit_parser::ErrorKind;
    // * the `\'` escape in double-quoted scalars (becomes `\x27`);
    // * a plain `-` right before a flow indicator (`[a, -]`; becomes `'-'`, which resolves to
    //   the same string);
    // * a comment right after a token (`"x"#c`): libyaml starts a comment at any `#` where a
    //   token could start (`yaml_parser_scan_to_next_token`); a blank is put before it;
    // * content after a quoted root scalar: libyaml's parser takes the scalar as the document
    //   and only peeks at the next token (`yaml_parser_parse_document_end` ends the document
    //   implicitly), so the text is cut after the scalar.
    let mut owned: Option<String> = None;
    let mut cut_line: Option<usize> = None;
    for _ in 0..=MAX_REWRITES {
        let current = owned.as_deref().unwrap_or(text);
        let e = match build_tree(current) {
            Ok((tree, stop)) => return Ok((tree, cut_line.or(stop))),
            Err(TreeError::Other(e)) => return Err(e),
            Err(TreeError::Rewrite { at, end, with }) => {
                owned = Some(insert_at(current, at, end.saturating_sub(at), &with));
                continue;
            }
            Err(TreeError::Scan(e)) => e,
        };
        let at = e.marker().byte_offset();
        let fixed = match (e.kind(), at) {
            (ErrorKind::UnknownQuotedScalarEscape, Some(start)) => {
                rewrite_squote_escapes(current, start)
            }
            (ErrorKind::PlainScalarStartsWithDashFlowIndicator, Some(i))
                if current.as_bytes().get(i) == Some(&b'-') =>
            {
                Some(insert_at(current, i, 1, "'-'"))
            }
            // A tag granit refuses where libyaml reads one (`yaml_parser_scan_tag`).
            (ErrorKind::MissingTagUri | ErrorKind::InvalidTagTerminator, Some(i))
                if current.as_bytes().get(i) == Some(&b'!') =>
            {
                match libyaml_tag(current, i) {
                    Some(Ok((tag, end))) => Some(insert_at(current, i, end - i, &verbatim(&tag))),
                    Some(Err(msg)) => {
                        return Err(yaml_err(format!("line {}: {msg}", line_of(current, i) + 1)));
                    }
                    None => None,
                }
            }
            // granit matches the brackets of the whole text first; libyaml reads a flow root and
            // the token after it, so a bracket after a complete flow root is no error there.
            (
                ErrorKind::MisplacedFlowCollectionEnd | ErrorKind::UnclosedFlowCollection { .. },
                Some(i),
            ) if starts_with_flow_collection(current)
                && !token_scan_fails(current, next_token(current, i + 1))
                && matches!(current.get(..i).map(build_tree), Some(Ok((Some(_), _)))) =>
            {
                cut_line = Some(line_of(current, i) + 1);
                current.get(..i).map(str::to_string)
            }
            // A block scalar on the line after `key:`, as indented as the key: libyaml reads it
            // as the value (the mapping's indentation does not end it); it is moved up.
            (ErrorKind::SimpleKeyExpected, Some(i))
                if matches!(current.as_bytes().get(i), Some(b'|' | b'>')) =>
            {
                let before = current.get(..i).unwrap_or("");
                let colon = before.trim_end_matches([' ', '\t', '\n', '\r']).len();
                let gap = before.get(colon..).unwrap_or("");
                (colon > 0
                    && before.as_bytes().get(colon - 1) == Some(&b':')
                    && gap.matches('\n').count() == 1)
                    .then(|| insert_at(current, colon, i - colon, " "))
            }
            (ErrorKind::CommentNotSeparated, Some(i))
                if current.as_bytes().get(i) == Some(&b'#') =>
            {
                Some(insert_at(current, i, 0, " "))
            }
            (
                ErrorKind::InvalidTrailingDoubleQuotedScalar
                | ErrorKind::InvalidTrailingSingleQuotedScalar,
                Some(i),
            ) => match quoted_root_end(current, i) {
                Some(end) if !fails_after_quoted_root(current, end) => {
                    cut_line = Some(line_of(current, end) + 1);
                    Some(current.get(..end).unwrap_or("").to_string())
                }
                _ => None,
            },
            _ => None,
        };
        let Some(fixed) = fixed else {
            return Err(scan_error(&e));
        };
        owned = Some(fixed);
    }
    Err(yaml_err("document too hard to parse"))
}

/// Whether libyaml's scanner fails on the tag, anchor or alias token at byte `at`.
fn token_scan_fails(text: &str, at: usize) -> bool {
    match text.as_bytes().get(at) {
        Some(b'!') => {
            matches!(libyaml_tag(text, at), Some(Err(msg)) if msg != UNDEFINED_TAG_HANDLE)
        }
        Some(b'*' | b'&') => !is_anchor_name(text.get(at + 1..).unwrap_or("")),
        _ => false,
    }
}

/// Whether the line at byte `at` is a `%YAML` or `%TAG` directive libyaml scans.
fn is_valid_directive(text: &str, at: usize) -> bool {
    let line = text
        .get(at..)
        .and_then(|t| t.split(['\n', '\r']).next())
        .unwrap_or("");
    let line = line.split(" #").next().unwrap_or("");
    let words: Vec<&str> = line.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
    match words.as_slice() {
        ["%YAML", v] => v.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }),
        ["%TAG", h, _] => h.starts_with('!') && h.ends_with('!'),
        _ => false,
    }
}

/// Whether the first token of the document is `[` or `{`.
fn starts_with_flow_collection(text: &str) -> bool {
    let mut open = next_token(text, 0);
    if text.get(open..).is_some_and(|t| t.starts_with("---")) {
        open = next_token(text, open + 3);
    }
    matches!(text.as_bytes().get(open), Some(b'[' | b'{'))
}

/// `text` with `remove` bytes at `at` replaced by `with`.
fn insert_at(text: &str, at: usize, remove: usize, with: &str) -> String {
    let mut s = String::with_capacity(text.len() + with.len());
    s.push_str(text.get(..at).unwrap_or(""));
    s.push_str(with);
    s.push_str(text.get(at + remove..).unwrap_or(""));
    s
}

/// When the document's root node is the quoted scalar that content follows at byte `trailing`:
/// the offset just past its closing quote.
fn quoted_root_end(text: &str, trailing: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut end = trailing;
    while end > 0 && matches!(b.get(end - 1), Some(b' ' | b'\t')) {
        end -= 1;
    }
    let mut open = next_token(text, 0);
    if text.get(open..)?.starts_with("---") {
        open = next_token(text, open + 3);
    }
    // The first token is the quoted scalar that ends there (not a quoted key of a mapping).
    (quoted_end(b, open)? == end).then_some(end)
}

/// The offset just past the quoted scalar that starts at `open` (`None` if there is none, or it
/// never ends): `''` is a quote in a single-quoted scalar, `\` escapes in a double-quoted one.
fn quoted_end(b: &[u8], open: usize) -> Option<usize> {
    let quote = *b.get(open)?;
    if !matches!(quote, b'"' | b'\'') {
        return None;
    }
    let mut i = open + 1;
    loop {
        match *b.get(i)? {
            b'\'' if quote == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 2,
            b'\\' if quote == b'"' => i += 2,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// Whether libyaml fails on what follows the quoted root scalar ending at `end`, scanning the
/// tokens of its line (`yaml_parser_fetch_next_token`): a `:` value indicator when the scalar is
/// on one line (libyaml then takes it as a simple key, possible until the line ends, and the
/// content between fails the mapping: "did not find expected key"), or a quoted scalar that
/// never ends. Quotes, flow indicators and comments count only where a token starts (right after
/// the root or after a blank); elsewhere they are part of a plain scalar.
fn fails_after_quoted_root(text: &str, end: usize) -> bool {
    let open = next_token(text, 0);
    let b = text.as_bytes();
    let blankz = |i: usize| {
        b.get(i)
            .is_none_or(|&n| matches!(n, b' ' | b'\t' | b'\n' | b'\r'))
    };
    let mut i = end;
    if text.get(open..end).is_none_or(|s| s.contains(['\n', '\r'])) {
        // A scalar on several lines is no simple key, and a `:` right after it is "mapping
        // values are not allowed in this context" (`yaml_parser_fetch_value`).
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        return b.get(i) == Some(&b':') && blankz(i + 1);
    }
    loop {
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        match b.get(i) {
            None | Some(b'\n' | b'\r' | b'#') => return false,
            Some(b'"' | b'\'') => match quoted_end(b, i) {
                // A quoted scalar that never ends is "found unexpected end of stream".
                None => return true,
                Some(close) if text.get(i..close).is_some_and(|s| s.contains(['\n', '\r'])) => {
                    return false;
                }
                Some(close) => i = close,
            },
            // A flow collection has simple keys of its own; a flow entry or collection end
            // removes the possible simple key (`yaml_parser_remove_simple_key`), so libyaml
            // reads no further.
            Some(b'[' | b'{' | b',' | b']' | b'}') => return false,
            Some(b':') if blankz(i + 1) => return true,
            // An anchor, alias or tag token whose name does not scan fails there.
            Some(b'*' | b'&') => {
                let name = text.get(i + 1..).unwrap_or("");
                if !is_anchor_name(name) {
                    return true;
                }
                i += 1 + name
                    .bytes()
                    .take_while(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                    .count();
            }
            Some(b'!') => match libyaml_tag(text, i) {
                // An undefined handle is the parser's error, which is not reached.
                Some(Err(msg)) => return msg != UNDEFINED_TAG_HANDLE,
                Some(Ok((_, end))) => i = end,
                None => return false,
            },
            Some(_) => {
                // A plain scalar: up to `: ` (a value indicator: fails) or ` #` or the line end.
                while let Some(&c) = b.get(i) {
                    match c {
                        b'\n' | b'\r' => return false,
                        b':' if blankz(i + 1) => return true,
                        b' ' | b'\t' if b.get(i + 1) == Some(&b'#') => return false,
                        _ => i += 1,
                    }
                }
                return false;
            }
        }
    }
}

fn scan_error(e: &ScanError) -> CodecError {
    use serde_saphyr::granit_parser::ErrorKind;
    let line = e.marker().line();
    // Messages that could quote document text are replaced by generic ones.
    let msg = match e.kind() {
        ErrorKind::UnexpectedCharacter { .. } => {
            "found character that cannot start any token".to_string()
        }
        ErrorKind::Custom(_) | ErrorKind::InputDecoding { .. } | ErrorKind::InputIo { .. } => {
            "invalid YAML".to_string()
        }
        kind => kind.to_string(),
    };
    yaml_err(format!("line {line}: {msg}"))
}

// ---------------------------------------------------------------------------------------------
// Node tree (go-yaml's `parser`).

enum Kind {
    Scalar {
        value: String,
        tag: String,
        implicit: bool,
    },
    Sequence(Vec<usize>),
    /// Keys and values interleaved.
    Mapping(Vec<usize>),
    /// The node the alias refers to.
    Alias(usize),
}

struct Node {
    kind: Kind,
}

enum TreeError {
    Scan(ScanError),
    Other(CodecError),
    /// libyaml reads the text at `at..end` differently: the document is parsed again with it
    /// replaced by `with` (an equivalent spelling granit reads as libyaml does).
    Rewrite {
        at: usize,
        end: usize,
        with: String,
    },
}

/// Parses the first document of `text` into a node arena (root is the last pushed top-level
/// node); `None` when there is no document. With it, the last line (0-based) go-yaml's scanner
/// reads when the document ends before the text does.
fn build_tree(text: &str) -> Result<(Option<Tree>, Option<usize>), TreeError> {
    let mut parser = Parser::new_from_str(text);
    let mut nodes: Vec<Node> = Vec::new();
    let mut anchors: HashMap<usize, usize> = HashMap::new();
    // Open collections: node index, and whether each is a flow collection.
    let mut stack: Vec<usize> = Vec::new();
    let mut in_flow: Vec<bool> = Vec::new();
    let mut root: Option<usize> = None;
    let mut in_document = false;

    let attach = |nodes: &mut Vec<Node>,
                  stack: &[usize],
                  child: usize,
                  root: &mut Option<usize>| {
        match stack.last() {
            Some(&parent) => {
                if let Some(Node {
                    kind: Kind::Sequence(c) | Kind::Mapping(c),
                }) = nodes.get_mut(parent)
                {
                    c.push(child);
                }
            }
            None => *root = Some(child),
        }
    };

    // Where the root node ended, once it is complete.
    let mut root_end = 0usize;
    let mut stop_line: Option<usize> = None;
    // The span of the last plain scalar in a flow collection.
    let mut last_flow_plain: Option<(usize, usize)> = None;
    // Open collections that are mapping keys: their index and where they start.
    let mut open_keys: Vec<(usize, usize)> = Vec::new();
    for item in parser.by_ref() {
        let (event, span) = match item {
            Ok(x) => x,
            Err(e)
                if let Some((s, end)) = last_flow_plain
                    && e.marker().byte_offset() == Some(end)
                    && colon_before_flow_indicator(text, end) =>
            {
                return Err(requote_plain(text, s, end));
            }
            // libyaml only looks at the token after a complete root node to see that the
            // document ended (go-yaml reads nothing more), so what follows a complete root
            // scalar or flow collection is not an error there, unless scanning that token
            // fails.
            Err(e) if in_document && stack.is_empty() && root.is_some() => {
                if scanning_next_token_fails(text, root_end, &e)
                    || token_scan_fails(text, next_token(text, root_end))
                {
                    return Err(TreeError::Scan(e));
                }
                stop_line = Some(line_of(text, next_token(text, root_end)) + 1);
                break;
            }
            Err(e) => return Err(TreeError::Scan(e)),
        };
        if stack.len() <= 1
            && let Some(end) = span.end.byte_offset()
        {
            root_end = end;
        }
        let tag_at = span.tag_start.and_then(|m| m.byte_offset());
        if let Some(at) = tag_at {
            check_tag(text, at, &event)?;
        }
        last_flow_plain = None;
        // Whether this node is the key of a mapping entry.
        let is_key = matches!(
            event,
            Event::Scalar(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
                | Event::Alias(..)
        ) && stack
            .last()
            .and_then(|&p| nodes.get(p))
            .is_some_and(|n| matches!(&n.kind, Kind::Mapping(c) if c.len() % 2 == 0));
        if is_key && let (Some(s), Some(e)) = (span.start.byte_offset(), span.end.byte_offset()) {
            let start = node_start_with_properties(text, s, tag_at);
            match event {
                Event::SequenceStart(..) | Event::MappingStart(..) => {
                    open_keys.push((nodes.len(), start));
                }
                // A block scalar cannot be a simple key (nor starts where its span does).
                Event::Scalar(_, ScalarStyle::Literal | ScalarStyle::Folded, ..) => {}
                _ if s < e => check_simple_key(text, start, e)?,
                _ => {}
            }
        }
        if matches!(event, Event::SequenceEnd | Event::MappingEnd)
            && let (Some(&top), Some(&(key, start)), Some(e)) =
                (stack.last(), open_keys.last(), span.end.byte_offset())
            && top == key
        {
            open_keys.pop();
            check_simple_key(text, start, e)?;
        }
        match event {
            Event::StreamStart => {}
            Event::StreamEnd => break,
            Event::DocumentStart(..) => in_document = true,
            Event::DocumentEnd => {
                if root.is_some() {
                    stop_line = Some(line_of(text, next_token(text, root_end)) + 1);
                }
                break;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tag = tag
                    .map(|t| format!("{}{}", t.handle(), t.suffix()))
                    .unwrap_or_default();
                if style == ScalarStyle::DoubleQuoted
                    && let (Some(s), Some(e)) = (span.start.byte_offset(), span.end.byte_offset())
                {
                    check_double_quoted(text, s, e).map_err(TreeError::Other)?;
                }
                if anchor != 0 {
                    check_anchor_name(text, span.start.byte_offset())?;
                }
                // In a flow collection libyaml ends a plain scalar at any `?`
                // (`yaml_parser_scan_plain_scalar`) and reads it as a key indicator, which
                // cannot follow a node there.
                if style == ScalarStyle::Plain
                    && in_flow.last() == Some(&true)
                    && value.get(1..).is_some_and(|rest| rest.contains('?'))
                {
                    return Err(TreeError::Other(yaml_err(
                        "did not find expected ',' or ']'",
                    )));
                }
                if style == ScalarStyle::Plain
                    && in_flow.last() == Some(&true)
                    && let (Some(s), Some(e)) = (span.start.byte_offset(), span.end.byte_offset())
                    && s < e
                {
                    // In a flow collection libyaml reads a `:` where a token starts as a value
                    // indicator (`yaml_parser_fetch_next_token`), a `?` there as a key
                    // indicator, and a `:` before a flow
                    // indicator as part of the plain scalar (`yaml_parser_scan_plain_scalar`
                    // ends it only at `:` and a blank); YAML 1.2 the other way round.
                    match text.as_bytes().get(s) {
                        Some(b':') => {
                            return Err(TreeError::Other(yaml_err(
                                "did not find expected node content",
                            )));
                        }
                        // Likewise a `?` there is a key indicator.
                        Some(b'?') => {
                            return Err(TreeError::Rewrite {
                                at: s,
                                end: s + 1,
                                with: "? ".to_string(),
                            });
                        }
                        _ => {}
                    }
                    // (`2 :]` too: the blanks and the `:` continue the plain scalar).
                    let colon = e + text.get(e..).map_or(0, |r| {
                        r.bytes().take_while(|&c| c == b' ' || c == b'\t').count()
                    });
                    if colon_before_flow_indicator(text, colon) {
                        return Err(requote_plain(text, s, colon));
                    }
                    last_flow_plain = Some((s, e));
                }
                let implicit = (tag.is_empty() && style == ScalarStyle::Plain) || tag == "!";
                let mut value = value.into_owned();
                if let Some(raw) = span
                    .start
                    .byte_offset()
                    .zip(span.end.byte_offset())
                    .and_then(|(s, e)| text.get(s..e))
                    && raw.contains(['\u{85}', '\u{2028}', '\u{2029}'])
                    && let Some(v) = match style {
                        ScalarStyle::SingleQuoted => libyaml_quoted(raw, true),
                        ScalarStyle::DoubleQuoted => libyaml_quoted(raw, false),
                        _ => None,
                    }
                {
                    value = v;
                }
                let idx = nodes.len();
                nodes.push(Node {
                    kind: Kind::Scalar {
                        value,
                        tag,
                        implicit,
                    },
                });
                if anchor != 0 {
                    anchors.insert(anchor, idx);
                }
                attach(&mut nodes, &stack, idx, &mut root);
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                if anchor != 0 {
                    check_anchor_name(text, span.start.byte_offset())?;
                }
                let idx = nodes.len();
                let kind = if matches!(event, Event::SequenceStart(..)) {
                    Kind::Sequence(Vec::new())
                } else {
                    Kind::Mapping(Vec::new())
                };
                nodes.push(Node { kind });
                if anchor != 0 {
                    anchors.insert(anchor, idx);
                }
                attach(&mut nodes, &stack, idx, &mut root);
                stack.push(idx);
                in_flow.push(matches!(
                    event,
                    Event::SequenceStart(StructureStyle::Flow, ..)
                        | Event::MappingStart(StructureStyle::Flow, ..)
                ));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                in_flow.pop();
            }
            Event::Alias(id) => {
                if let Some(start) = span.start.byte_offset()
                    && !text
                        .get(start..)
                        .and_then(|s| s.strip_prefix('*'))
                        .is_some_and(is_anchor_name)
                {
                    return Err(TreeError::Other(anchor_name_error()));
                }
                let Some(&target) = anchors.get(&id) else {
                    return Err(TreeError::Other(yaml_err("unknown anchor referenced")));
                };
                let idx = nodes.len();
                nodes.push(Node {
                    kind: Kind::Alias(target),
                });
                attach(&mut nodes, &stack, idx, &mut root);
            }
            _ => {}
        }
    }
    if !in_document {
        return Ok((None, stop_line));
    }
    Ok((root.map(|root| Tree { nodes, root }), stop_line))
}

/// Where the node that starts at byte `start` (its tag at `tag_at`) starts with the anchor before
/// it on its line (an anchor on a line of its own belongs to the collection).
fn node_start_with_properties(text: &str, start: usize, tag_at: Option<usize>) -> usize {
    let b = text.as_bytes();
    let mut p = tag_at.map_or(start, |t| t.min(start));
    loop {
        let mut q = p;
        while q > 0 && matches!(b.get(q - 1), Some(b' ' | b'\t')) {
            q -= 1;
        }
        let mut a = q;
        while a > 0
            && b.get(a - 1)
                .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            a -= 1;
        }
        if a < q && a > 0 && b.get(a - 1) == Some(&b'&') {
            p = a - 1;
        } else {
            return p;
        }
    }
}

/// A key that is not explicit (`?`) is a simple key in libyaml, which must end on the line it
/// starts on, before the `:` (`yaml_parser_stale_simple_keys`); otherwise the `:` finds no key.
fn check_simple_key(text: &str, start: usize, end: usize) -> Result<(), TreeError> {
    let b = text.as_bytes();
    let colon = next_token(text, end);
    if b.get(colon) != Some(&b':')
        || !text
            .get(start..colon)
            .is_some_and(|k| k.contains(['\n', '\r']))
    {
        return Ok(());
    }
    let mut q = start;
    while q > 0 && matches!(b.get(q - 1), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        q -= 1;
    }
    let explicit = q > 0
        && b.get(q - 1) == Some(&b'?')
        && (q == 1
            || matches!(
                b.get(q - 2),
                Some(b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',')
            ));
    if explicit {
        return Ok(());
    }
    Err(TreeError::Other(yaml_err(format!(
        "line {}: could not find expected ':'",
        line_of(text, colon) + 1
    ))))
}

/// Whether the `:` at byte `at` of `text` is followed by a flow indicator: libyaml keeps such a
/// `:` in a plain scalar.
fn colon_before_flow_indicator(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    b.get(at) == Some(&b':') && matches!(b.get(at + 1), Some(b',' | b'[' | b']' | b'{' | b'}'))
}

/// The plain scalar at `start..end` and the `:` after it, single-quoted (a plain scalar that
/// ends in `:` resolves to a string, as the quoted one does; a single-quoted scalar folds its
/// lines as a plain one).
fn requote_plain(text: &str, start: usize, end: usize) -> TreeError {
    match text.get(start..=end) {
        Some(raw) => TreeError::Rewrite {
            at: start,
            end: end + 1,
            with: format!("'{}'", raw.replace('\'', "''")),
        },
        _ => TreeError::Other(yaml_err("did not find expected ',' or ']'")),
    }
}

const UNDEFINED_TAG_HANDLE: &str = "found undefined tag handle";

/// libyaml's URI characters of a tag (`yaml_parser_scan_tag_uri`), `%` escapes aside.
fn is_tag_uri_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-_;/?:@&=+$,.!~*'()[]".contains(&c)
}

/// The tag libyaml reads at byte `at` of `text` (`yaml_parser_scan_tag`, resolved against the
/// default handles `!` and `!!` as `yaml_parser_parse_node` does), and the offset where it ends;
/// or the error libyaml reports. `None` for a tag with a `%` escape (left to granit).
fn libyaml_tag(text: &str, at: usize) -> Option<Result<(String, usize), &'static str>> {
    let b = text.as_bytes();
    let uri_end = |from: usize| {
        let mut i = from;
        while b.get(i).copied().is_some_and(is_tag_uri_char) {
            i += 1;
        }
        i
    };
    let (tag, end) = if b.get(at + 1) == Some(&b'<') {
        let end = uri_end(at + 2);
        if b.get(end) == Some(&b'%') {
            return None;
        }
        if end == at + 2 {
            return Some(Err("did not find expected tag URI"));
        }
        if b.get(end) != Some(&b'>') {
            return Some(Err("did not find the expected '>'"));
        }
        (text.get(at + 2..end)?.to_string(), end + 1)
    } else {
        // `yaml_parser_scan_tag_handle`: `!`, word characters, and a `!` if there is one.
        let mut h = at + 1;
        while b
            .get(h)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            h += 1;
        }
        let named = b.get(h) == Some(&b'!');
        if named {
            h += 1;
        }
        let end = uri_end(h);
        if b.get(end) == Some(&b'%') {
            return None;
        }
        let handle = text.get(at..h)?;
        let suffix = text.get(h..end)?;
        let tag = if !named {
            // `!suffix`, or the `!` tag alone.
            text.get(at..end)?.to_string()
        } else if end == h {
            return Some(Err("did not find expected tag URI"));
        } else if handle == "!!" {
            format!("tag:yaml.org,2002:{suffix}")
        } else {
            return Some(Err(UNDEFINED_TAG_HANDLE));
        };
        (tag, end)
    };
    let blankz = text
        .get(end..)
        .and_then(|r| r.chars().next())
        .is_none_or(|c| c == ' ' || c == '\t' || is_break(c));
    if !blankz {
        return Some(Err("did not find expected whitespace or line break"));
    }
    Some(Ok((tag, end)))
}

/// `tag` spelled as a verbatim tag.
fn verbatim(tag: &str) -> String {
    format!("!<{tag}>")
}

/// The tag of `event`, which starts at byte `at`, against libyaml's reading of it.
fn check_tag(text: &str, at: usize, event: &Event<'_>) -> Result<(), TreeError> {
    let tag = match event {
        Event::Scalar(_, _, _, tag)
        | Event::SequenceStart(_, _, tag)
        | Event::MappingStart(_, _, tag) => tag.as_ref(),
        _ => None,
    };
    let Some(tag) = tag else { return Ok(()) };
    match libyaml_tag(text, at) {
        None => Ok(()),
        Some(Err(msg)) => Err(TreeError::Other(yaml_err(format!(
            "line {}: {msg}",
            line_of(text, at) + 1
        )))),
        Some(Ok((libyaml, end))) if libyaml != format!("{}{}", tag.handle(), tag.suffix()) => {
            Err(TreeError::Rewrite {
                at,
                end,
                with: verbatim(&libyaml),
            })
        }
        Some(Ok(_)) => Ok(()),
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The value of the quoted scalar `raw` (quotes included) as libyaml's
/// `yaml_parser_scan_flow_scalar` reads it, for scalars with a NEL, LS or PS in them: YAML 1.1
/// line breaks, which granit (YAML 1.2) takes as content. A NEL folds like `\n`; LS and PS are
/// kept and the blanks around them dropped. `None` if `raw` is not one complete quoted scalar.
fn libyaml_quoted(raw: &str, single: bool) -> Option<String> {
    let c: Vec<char> = raw.chars().collect();
    let at = |i: usize| c.get(i).copied();
    let blankz = |i: usize| at(i).is_none_or(|x| x == ' ' || x == '\t' || is_break(x));
    let quote = if single { '\'' } else { '"' };
    let mut i = 1;
    let mut s = String::new();
    let (mut leading_break, mut trailing_breaks, mut whitespaces) =
        (String::new(), String::new(), String::new());
    // `read_line`: CR LF, CR, LF and NEL are `\n`; LS and PS stay.
    let read_line = |i: usize| match (at(i), at(i + 1)) {
        (Some('\r'), Some('\n')) => ('\n', 2),
        (Some('\r' | '\n' | '\u{85}'), _) => ('\n', 1),
        (Some(x), _) => (x, 1),
        (None, _) => ('\n', 0),
    };
    loop {
        at(i)?;
        let mut leading_blanks = false;
        while !blankz(i) {
            let x = at(i)?;
            if single && x == '\'' && at(i + 1) == Some('\'') {
                s.push('\'');
                i += 2;
            } else if x == quote {
                break;
            } else if !single && x == '\\' && at(i + 1).is_some_and(is_break) {
                i += 1 + read_line(i + 1).1;
                leading_blanks = true;
                break;
            } else if !single && x == '\\' {
                let (len, plain) = match at(i + 1)? {
                    '0' => (0, '\0'),
                    'a' => (0, '\x07'),
                    'b' => (0, '\x08'),
                    't' | '\t' => (0, '\t'),
                    'n' => (0, '\n'),
                    'v' => (0, '\x0B'),
                    'f' => (0, '\x0C'),
                    'r' => (0, '\r'),
                    'e' => (0, '\x1B'),
                    ' ' => (0, ' '),
                    '"' => (0, '"'),
                    '\'' => (0, '\''),
                    '\\' => (0, '\\'),
                    'N' => (0, '\u{85}'),
                    '_' => (0, '\u{A0}'),
                    'L' => (0, '\u{2028}'),
                    'P' => (0, '\u{2029}'),
                    'x' => (2, '\0'),
                    'u' => (4, '\0'),
                    'U' => (8, '\0'),
                    _ => return None,
                };
                i += 2;
                if len == 0 {
                    s.push(plain);
                } else {
                    let hex: String = c.get(i..i + len)?.iter().collect();
                    s.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    i += len;
                }
            } else {
                s.push(x);
                i += 1;
            }
        }
        if at(i)? == quote {
            break;
        }
        while let Some(x) = at(i)
            && (x == ' ' || x == '\t' || is_break(x))
        {
            if x == ' ' || x == '\t' {
                if !leading_blanks {
                    whitespaces.push(x);
                }
                i += 1;
            } else {
                let (b, n) = read_line(i);
                if leading_blanks {
                    trailing_breaks.push(b);
                } else {
                    whitespaces.clear();
                    leading_break.push(b);
                    leading_blanks = true;
                }
                i += n;
            }
        }
        if leading_blanks {
            if leading_break.starts_with('\n') {
                if trailing_breaks.is_empty() {
                    s.push(' ');
                } else {
                    s.push_str(&trailing_breaks);
                }
            } else {
                s.push_str(&leading_break);
                s.push_str(&trailing_breaks);
            }
            trailing_breaks.clear();
            leading_break.clear();
        } else {
            s.push_str(&whitespaces);
            whitespaces.clear();
        }
    }
    Some(s)
}

/// Whether the anchor or alias name at the start of `after` (the text after its `&` or `*`)
/// scans in libyaml (`yaml_parser_scan_anchor`): one or more ASCII letters, digits, `_` or `-`,
/// then a blank, a line break, the end, or one of `?:,]}%@` and backquote. YAML 1.2 (granit)
/// allows any character but blanks and flow indicators in the name.
fn is_anchor_name(after: &str) -> bool {
    let len = after
        .bytes()
        .take_while(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        .count();
    len > 0
        && after.get(len..).is_some_and(|rest| {
            rest.chars().next().is_none_or(|c| {
                matches!(
                    c,
                    ' ' | '\t' | '?' | ':' | ',' | ']' | '}' | '%' | '@' | '`'
                ) || is_break(c)
            })
        })
}

fn anchor_name_error() -> CodecError {
    yaml_err("did not find expected alphabetic or numeric character")
}

/// Checks the name of the anchor before the node that starts at `node_start` (the last `&`
/// before it: only blanks, a tag or a line break come between).
fn check_anchor_name(text: &str, node_start: Option<usize>) -> Result<(), TreeError> {
    let Some(before) = node_start.and_then(|i| text.get(..i)) else {
        return Ok(());
    };
    let Some(mut amp) = before.rfind('&') else {
        return Ok(());
    };
    // The anchor token starts at the first `&` of its token (`&&x` is an anchor named `&x`,
    // `&d&d` one named `d&d`).
    let token_start = before
        .get(..amp)
        .and_then(|b| b.rfind(|c: char| c.is_whitespace() || "[{,".contains(c)))
        .map_or(0, |i| i + 1);
    if let Some(first) = before.get(token_start..amp).and_then(|t| t.find('&')) {
        amp = token_start + first;
    }
    let name = text.get(amp + 1..).unwrap_or("");
    if !is_anchor_name(name) {
        return Err(TreeError::Other(anchor_name_error()));
    }
    // `&x:` (and `?`, `,`, `]`, `}`): libyaml's name ends there and the next token starts (a
    // `:` and a blank is a value indicator, the anchor on an empty key; `:y` a plain scalar);
    // granit takes them into the name. A blank is put between.
    let len = name
        .bytes()
        .take_while(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        .count();
    let after = amp + 1 + len;
    if matches!(
        text.as_bytes().get(after),
        Some(b':' | b'?' | b',' | b']' | b'}')
    ) {
        return Err(TreeError::Rewrite {
            at: after,
            end: after,
            with: " ".to_string(),
        });
    }
    Ok(())
}

/// Whether libyaml fails where granit failed with `e` after the root node ended at `root_end`:
/// it scans the token after the root (and, while that token may still be a simple key, the
/// rest of its line), and fails there for the errors both scanners make. A `:` right after a
/// plain root scalar is "mapping values are not allowed in this context"
/// (`yaml_parser_fetch_value`), unless a line break came between (a plain scalar that ends
/// with one allows a simple key, and the `:` starts an empty one).
fn scanning_next_token_fails(text: &str, root_end: usize, e: &ScanError) -> bool {
    use serde_saphyr::granit_parser::ErrorKind;
    let Some(at) = e.marker().byte_offset() else {
        return false;
    };
    let same_line = |from: usize| {
        text.get(from.min(at)..at)
            .is_some_and(|between| !between.contains(['\n', '\r']))
    };
    match e.kind() {
        ErrorKind::MappingValueNotAllowed => same_line(root_end),
        // A `%` at the start of a line is a directive (`yaml_parser_fetch_directive`); libyaml
        // scans it, and only `%YAML` and `%TAG` directives scan.
        ErrorKind::MissingDocumentEndBeforeDirective => !is_valid_directive(text, at),
        // A quoted scalar that never ends, as the token after the root.
        ErrorKind::UnclosedQuotedScalar => next_token(text, root_end) == at,
        ErrorKind::UnexpectedCharacter { .. }
        | ErrorKind::MissingAnchorOrAliasName
        | ErrorKind::UnknownQuotedScalarEscape
        | ErrorKind::InvalidQuotedScalarHexEscape
        | ErrorKind::BlockSequenceEntryNotAllowed
        | ErrorKind::InvalidBlockScalarHeader
        | ErrorKind::ZeroBlockScalarIndent => same_line(next_token(text, root_end)),
        _ => false,
    }
}

struct Tree {
    nodes: Vec<Node>,
    root: usize,
}

// ---------------------------------------------------------------------------------------------
// Decoding (go-yaml's `decoder` into interface{}, then sigs.k8s.io/yaml's JSON conversion).

/// What go-yaml v2 produces for `interface{}`.
enum GoValue {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Seq(Vec<GoValue>),
    Map(GoMap),
}

/// A key of go-yaml's `map[interface{}]interface{}` (keys of different Go types differ).
#[derive(Clone, PartialEq, Eq, Hash)]
enum GoKey {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(u64),
    Str(String),
}

#[derive(Default)]
struct GoMap {
    entries: Vec<(GoKey, GoValue)>,
    index: HashMap<GoKey, usize>,
}

impl GoMap {
    /// Go map assignment: an equal key keeps its slot; the stored key is updated too (which
    /// only shows for float keys, where 0 and -0 are equal).
    fn insert(&mut self, k: GoKey, v: GoValue) {
        let norm = match k {
            GoKey::Float(bits) if f64::from_bits(bits) == 0.0 => GoKey::Float(0),
            ref other => other.clone(),
        };
        match self.index.get(&norm).and_then(|&i| self.entries.get_mut(i)) {
            Some(slot) => *slot = (k, v),
            None => {
                self.index.insert(norm, self.entries.len());
                self.entries.push((k, v));
            }
        }
    }
}

struct Decoder<'a> {
    nodes: &'a [Node],
    decode_count: u64,
    alias_count: u64,
    alias_depth: u64,
    active_aliases: Vec<bool>,
    depth: usize,
}

fn decode_tree(tree: &Tree, string_fields: &[FieldPath]) -> Result<Option<Value>, CodecError> {
    let mut d = Decoder {
        nodes: &tree.nodes,
        decode_count: 1, // the document node
        alias_count: 0,
        alias_depth: 0,
        active_aliases: vec![false; tree.nodes.len()],
        depth: 0,
    };
    let mut v = d.unmarshal(tree.root)?;
    if matches!(v, GoValue::Null) {
        return Ok(None);
    }
    target::format_string_floats(&mut v, string_fields);
    to_json(v).map(Some)
}

fn allowed_alias_ratio(decode_count: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    if decode_count <= LOW {
        0.99
    } else if decode_count >= HIGH {
        0.10
    } else {
        #[allow(clippy::cast_precision_loss)]
        let r = (decode_count - LOW) as f64 / (HIGH - LOW) as f64;
        0.99 - 0.89 * r
    }
}

impl Decoder<'_> {
    fn count(&mut self) -> Result<(), CodecError> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        #[allow(clippy::cast_precision_loss)]
        let ratio = self.alias_count as f64 / self.decode_count as f64;
        if self.alias_count > 100
            && self.decode_count > 1000
            && ratio > allowed_alias_ratio(self.decode_count)
        {
            return Err(yaml_err("document contains excessive aliasing"));
        }
        if self.decode_count > MAX_DECODE_COUNT {
            return Err(yaml_err("document is too large"));
        }
        Ok(())
    }

    fn node(&self, idx: usize) -> Result<&Node, CodecError> {
        self.nodes
            .get(idx)
            .ok_or_else(|| yaml_err("internal error: bad node"))
    }

    fn enter(&mut self) -> Result<(), CodecError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(yaml_err("exceeded max depth"));
        }
        Ok(())
    }

    fn unmarshal(&mut self, idx: usize) -> Result<GoValue, CodecError> {
        self.count()?;
        self.enter()?;
        let out = self.unmarshal_inner(idx);
        self.depth -= 1;
        out
    }

    fn unmarshal_inner(&mut self, idx: usize) -> Result<GoValue, CodecError> {
        let nodes = self.nodes;
        let node = nodes
            .get(idx)
            .ok_or_else(|| yaml_err("internal error: bad node"))?;
        match &node.kind {
            Kind::Alias(target) => {
                let target = *target;
                self.with_alias(idx, |d| d.unmarshal(target))
            }
            Kind::Scalar {
                value,
                tag,
                implicit,
            } => scalar(value, tag, *implicit),
            Kind::Sequence(children) => {
                let mut out = Vec::with_capacity(children.len());
                for &c in children {
                    out.push(self.unmarshal(c)?);
                }
                Ok(GoValue::Seq(out))
            }
            Kind::Mapping(_) => {
                let mut map = GoMap::default();
                self.mapping_into(idx, &mut map)?;
                Ok(GoValue::Map(map))
            }
        }
    }

    fn with_alias<T>(
        &mut self,
        alias_idx: usize,
        f: impl FnOnce(&mut Self) -> Result<T, CodecError>,
    ) -> Result<T, CodecError> {
        if self.active_aliases.get(alias_idx).copied().unwrap_or(false) {
            return Err(yaml_err("anchor value contains itself"));
        }
        if let Some(slot) = self.active_aliases.get_mut(alias_idx) {
            *slot = true;
        }
        self.alias_depth += 1;
        let out = f(self);
        self.alias_depth -= 1;
        if let Some(slot) = self.active_aliases.get_mut(alias_idx) {
            *slot = false;
        }
        out
    }

    /// `decoder.mapping` into an existing map (also used by merges).
    fn mapping_into(&mut self, idx: usize, map: &mut GoMap) -> Result<(), CodecError> {
        let nodes = self.nodes;
        let Some(Node {
            kind: Kind::Mapping(children),
        }) = nodes.get(idx)
        else {
            return Err(yaml_err("internal error: not a mapping"));
        };
        for pair in children.chunks(2) {
            let (Some(&k), Some(&v)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            if self.is_merge(k) {
                self.merge(v, map)?;
                continue;
            }
            let key = self.unmarshal(k)?;
            let key = match key {
                GoValue::Seq(_) | GoValue::Map(_) => return Err(yaml_err("invalid map key")),
                GoValue::Null => GoKey::Null,
                GoValue::Bool(b) => GoKey::Bool(b),
                GoValue::Int(i) => GoKey::Int(i),
                GoValue::Uint(u) => GoKey::Uint(u),
                GoValue::Float(f) => GoKey::Float(f.to_bits()),
                GoValue::Str(s) => GoKey::Str(s),
                GoValue::Bytes(b) => GoKey::Str(go_lossy_utf8(&b)),
            };
            let value = self.unmarshal(v)?;
            map.insert(key, value);
        }
        Ok(())
    }

    fn is_merge(&self, idx: usize) -> bool {
        matches!(self.nodes.get(idx), Some(Node { kind: Kind::Scalar { value, tag, implicit } })
            if value == "<<" && (*implicit || tag == MERGE_TAG))
    }

    /// The node an alias points to (for kind checks), or the node itself.
    fn resolve_alias(&self, idx: usize) -> usize {
        match self.nodes.get(idx) {
            Some(Node {
                kind: Kind::Alias(t),
            }) => *t,
            _ => idx,
        }
    }

    fn is_mapping(&self, idx: usize) -> bool {
        matches!(
            self.nodes.get(idx),
            Some(Node {
                kind: Kind::Mapping(_)
            })
        )
    }

    fn merge_one(&mut self, idx: usize, map: &mut GoMap) -> Result<(), CodecError> {
        // d.unmarshal(n, out) on a mapping or an alias of one, decoding into `map`.
        self.count()?;
        self.enter()?;
        let out = match self.node(idx)?.kind {
            Kind::Alias(target) => self.with_alias(idx, |d| {
                d.count()?;
                d.mapping_into(target, map)
            }),
            _ => self.mapping_into(idx, map),
        };
        self.depth -= 1;
        out
    }

    fn merge(&mut self, idx: usize, map: &mut GoMap) -> Result<(), CodecError> {
        let want_map = || yaml_err("map merge requires map or sequence of maps as the value");
        match &self.node(idx)?.kind {
            Kind::Mapping(_) => self.merge_one(idx, map),
            Kind::Alias(target) => {
                if !self.is_mapping(*target) {
                    return Err(want_map());
                }
                self.merge_one(idx, map)
            }
            Kind::Sequence(children) => {
                let children = children.clone();
                for &c in children.iter().rev() {
                    if !self.is_mapping(self.resolve_alias(c)) {
                        return Err(want_map());
                    }
                    self.merge_one(c, map)?;
                }
                Ok(())
            }
            Kind::Scalar { .. } => Err(want_map()),
        }
    }
}

/// `decoder.scalar` into `interface{}`.
fn scalar(value: &str, tag: &str, implicit: bool) -> Result<GoValue, CodecError> {
    if tag.is_empty() && !implicit {
        return Ok(GoValue::Str(value.to_string()));
    }
    if tag == BINARY_TAG {
        let data = go_semantics::base64::decode(value.as_bytes())
            .map_err(|_| yaml_err("!!binary value contains invalid base64 data"))?;
        return Ok(GoValue::Bytes(data));
    }
    let (_, r) = resolve::resolve_tagged(tag, value).map_err(yaml_err)?;
    Ok(match r {
        Resolved::Null => GoValue::Null,
        Resolved::Bool(b) => GoValue::Bool(b),
        Resolved::Int(i) => GoValue::Int(i),
        Resolved::Uint(u) => GoValue::Uint(u),
        Resolved::Float(f) => GoValue::Float(f),
        Resolved::Str | Resolved::Timestamp | Resolved::Merge => GoValue::Str(value.to_string()),
    })
}

/// sigs.k8s.io/yaml's conversion of a map key to a JSON object key.
fn key_string(k: GoKey) -> Result<String, CodecError> {
    let unsupported = |t: &str| {
        CodecError(format!(
            "error converting YAML to JSON: unsupported map key of type: {t}"
        ))
    };
    Ok(match k {
        GoKey::Str(s) => s,
        GoKey::Int(i) => i.to_string(),
        GoKey::Float(bits) => {
            let s = go_semantics::strconv::format_float(f64::from_bits(bits), b'g', -1, 32);
            match s.as_str() {
                "+Inf" => ".inf".to_string(),
                "-Inf" => "-.inf".to_string(),
                "NaN" => ".nan".to_string(),
                _ => s,
            }
        }
        GoKey::Bool(b) => b.to_string(),
        GoKey::Null => return Err(unsupported("<nil>")),
        GoKey::Uint(_) => return Err(unsupported("uint64")),
    })
}

/// `json.Marshal` of the converted value, read back as a `serde_json::Value`.
fn to_json(v: GoValue) -> Result<Value, CodecError> {
    Ok(match v {
        GoValue::Null => Value::Null,
        GoValue::Bool(b) => Value::Bool(b),
        GoValue::Int(i) => Value::Number(Number::from(i)),
        GoValue::Uint(u) => Value::Number(Number::from(u)),
        GoValue::Float(f) => {
            if f.is_nan() {
                return Err(CodecError(
                    "error converting YAML to JSON: json: unsupported value: NaN".to_string(),
                ));
            }
            if f.is_infinite() {
                let s = if f > 0.0 { "+Inf" } else { "-Inf" };
                return Err(CodecError(format!(
                    "error converting YAML to JSON: json: unsupported value: {s}"
                )));
            }
            // Kept a float (also when integral: YAML `1.0` is f64 1.0, printed "1" like Go) so
            // that callers can tell YAML floats from ints, as sigs.k8s.io/yaml does when it
            // turns numbers into strings for string fields (see `yaml_scalar_as_go_string`).
            let n = Number::from_f64(f).ok_or_else(|| {
                CodecError("error converting YAML to JSON: json: unsupported value".to_string())
            })?;
            Value::Number(n)
        }
        GoValue::Str(s) => Value::String(s),
        GoValue::Bytes(b) => Value::String(go_lossy_utf8(&b)),
        GoValue::Seq(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        GoValue::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m.entries {
                out.insert(key_string(k)?, to_json(v)?);
            }
            Value::Object(out)
        }
    })
}
