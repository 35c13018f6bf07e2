//! The YAML output of go-yaml v2 `yaml.Marshal` for JSON-shaped data: the event stream of
//! `encode.go` fed through a port of its libyaml emitter (`emitterc.go`), reduced to what that
//! stream can contain (no anchors, tags, directives or flow styles other than the `{}` / `[]`
//! of empty collections) but otherwise line for line, so that scalar styles, indentation and
//! line folding come out byte-identical.

use serde_json::Value;

use super::CodecError;
use super::keysort;
use super::resolve::{self, Resolved};

const BEST_INDENT: i64 = 2;
const BEST_WIDTH: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

#[derive(Debug)]
enum Event {
    DocumentStart,
    DocumentEnd,
    MappingStart,
    MappingEnd,
    SequenceStart,
    SequenceEnd,
    Scalar(String, Style),
}

/// `sigs.k8s.io/yaml.JSONToYAML` of Go's `json.Marshal` of `v`, including its failures.
pub(super) fn try_to_yaml(v: &Value) -> Result<String, CodecError> {
    check_round_trip(v)?;
    Ok(to_yaml(v))
}

/// The failures of go-yaml's *parsing* of Go's JSON text inside `JSONToYAML` (the JSON text is
/// read as a YAML flow mapping by libyaml, YAML 1.1):
/// * characters libyaml's reader refuses (DEL, C1 controls but NEL, U+FFFE, U+FFFF; Go's JSON
///   encoder leaves them unescaped);
/// * NEL (U+0085) is a line break in YAML 1.1: inside a key it makes the key stop being a
///   possible simple key, and a NEL directly followed by `---` or `...` and a blank is a
///   document marker;
/// * a key whose JSON text (quotes included) is longer than 1024 characters is not a possible
///   simple key either.
fn check_round_trip(v: &Value) -> Result<(), CodecError> {
    let mut text = String::new();
    super::json::write_compact(&mut text, v);
    let chars: Vec<char> = text.chars().collect();
    if chars.iter().any(|&c| {
        let c = c as u32;
        c == 0x7F || (0x80..=0x9F).contains(&c) && c != 0x85 || c == 0xFFFE || c == 0xFFFF
    }) {
        return Err(CodecError(
            "yaml: control characters are not allowed".to_string(),
        ));
    }
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut line = 0usize;
    let mut i = 0usize;
    while i < chars.len() {
        if at(i) != '"' {
            i += 1;
            continue;
        }
        let (start, start_line) = (i, line);
        i += 1;
        let mut after_break = false;
        while i < chars.len() && at(i) != '"' {
            let c = at(i);
            if after_break {
                let three: String = (i..i + 3).map(at).collect();
                if (three == "---" || three == "...") && matches!(at(i + 3), ' ' | '\u{85}') {
                    return Err(CodecError(format!(
                        "yaml: line {}: found unexpected document indicator",
                        line + 1
                    )));
                }
            }
            after_break = c == '\u{85}';
            if after_break {
                line += 1;
            }
            i += if c == '\\' { 2 } else { 1 };
        }
        i += 1;
        if at(i) == ':' && (start_line < line || start + 1024 < i) {
            return Err(CodecError(if line == 0 {
                "yaml: did not find expected ',' or '}'".to_string()
            } else {
                format!("yaml: line {line}: did not find expected ',' or '}}'")
            }));
        }
    }
    Ok(())
}

/// libyaml's folding of line breaks in double-quoted scalars applied to the only raw line break
/// Go's JSON leaves in strings, NEL: a run of spaces and NELs becomes one space (one NEL) or
/// n-1 newlines (n NELs).
fn fold_nel(s: &str) -> String {
    if !s.contains('\u{85}') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let mut nels = 0usize;
    let flush = |out: &mut String, run: &mut String, nels: &mut usize| {
        match *nels {
            0 => out.push_str(run),
            1 => out.push(' '),
            n => out.extend(std::iter::repeat_n('\n', n - 1)),
        }
        run.clear();
        *nels = 0;
    };
    for c in s.chars() {
        match c {
            ' ' => run.push(c),
            '\u{85}' => {
                run.push(c);
                nels += 1;
            }
            _ => {
                flush(&mut out, &mut run, &mut nels);
                out.push(c);
            }
        }
    }
    flush(&mut out, &mut run, &mut nels);
    out
}

/// `yaml.Marshal` of the value go-yaml decodes from Go's `json.Marshal` of `v`
/// (that is, `sigs.k8s.io/yaml.JSONToYAML`), for values where that succeeds.
pub(super) fn to_yaml(v: &Value) -> String {
    let mut events = vec![Event::DocumentStart];
    value_events(v, &mut events);
    events.push(Event::DocumentEnd);
    let mut e = Emitter::new();
    for (i, ev) in events.iter().enumerate() {
        e.emit(ev, events.get(i + 1));
    }
    e.out
}

fn value_events(v: &Value, events: &mut Vec<Event>) {
    match v {
        Value::Null => events.push(Event::Scalar("null".to_string(), Style::Plain)),
        Value::Bool(b) => events.push(Event::Scalar(b.to_string(), Style::Plain)),
        Value::Number(n) => {
            // Go prints the number into JSON, then go-yaml resolves that text as a plain scalar.
            let mut text = String::new();
            super::json::write_number(&mut text, n);
            let s = match resolve::resolve_plain(&text) {
                Resolved::Int(i) => i.to_string(),
                Resolved::Uint(u) => u.to_string(),
                Resolved::Float(f) => {
                    let s = go_semantics::strconv::format_float(f, b'g', -1, 64);
                    match s.as_str() {
                        "+Inf" => ".inf".to_string(),
                        "-Inf" => "-.inf".to_string(),
                        "NaN" => ".nan".to_string(),
                        _ => s,
                    }
                }
                _ => text,
            };
            events.push(Event::Scalar(s, Style::Plain));
        }
        Value::String(s) => {
            let s = fold_nel(s);
            let style = string_style(&s);
            events.push(Event::Scalar(s, style));
        }
        Value::Array(items) => {
            events.push(Event::SequenceStart);
            for item in items {
                value_events(item, events);
            }
            events.push(Event::SequenceEnd);
        }
        Value::Object(map) => {
            events.push(Event::MappingStart);
            let mut entries: Vec<(String, &Value)> =
                map.iter().map(|(k, v)| (fold_nel(k), v)).collect();
            keysort::sort_keys(&mut entries);
            for (k, item) in entries {
                let style = string_style(&k);
                events.push(Event::Scalar(k, style));
                value_events(item, events);
            }
            events.push(Event::MappingEnd);
        }
    }
}

/// `encoder.stringv`: the style requested for a string (the emitter may still change it).
fn string_style(s: &str) -> Style {
    let can_use_plain = resolve::resolve_plain(s) == Resolved::Str && !resolve::is_base60_float(s);
    if s.contains('\n') {
        Style::Literal
    } else if can_use_plain {
        Style::Plain
    } else {
        Style::DoubleQuoted
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    FlowSequenceFirstItem,
    FlowSequenceItem,
    FlowMappingFirstKey,
    FlowMappingKey,
    FlowMappingSimpleValue,
    FlowMappingValue,
    BlockSequenceFirstItem,
    BlockSequenceItem,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingSimpleValue,
    BlockMappingValue,
    End,
}

#[derive(Default)]
struct ScalarAnalysis {
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
    style: Option<Style>,
}

struct Emitter {
    out: String,
    state: State,
    states: Vec<State>,
    indent: i64,
    indents: Vec<i64>,
    flow_level: usize,
    root_context: bool,
    sequence_context: bool,
    mapping_context: bool,
    simple_key_context: bool,
    column: usize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    scalar: ScalarAnalysis,
}

/// Byte `i` of `v`, or NUL past the end (libyaml's strings are NUL-terminated).
fn at(v: &[u8], i: usize) -> u8 {
    v.get(i).copied().unwrap_or(0)
}

fn width(b: u8) -> usize {
    if b & 0x80 == 0x00 {
        1
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        3
    } else if b & 0xF8 == 0xF0 {
        4
    } else {
        // Never happens on valid UTF-8; advance anyway so that loops terminate.
        1
    }
}

fn is_printable(v: &[u8], i: usize) -> bool {
    let b0 = at(v, i);
    let b1 = at(v, i + 1);
    let b2 = at(v, i + 2);
    b0 == 0x0A
        || (0x20..=0x7E).contains(&b0)
        || (b0 == 0xC2 && b1 >= 0xA0)
        || (b0 > 0xC2 && b0 < 0xED)
        || (b0 == 0xED && b1 < 0xA0)
        || b0 == 0xEE
        || (b0 == 0xEF
            && !(b1 == 0xBB && b2 == 0xBF)
            && !(b1 == 0xBF && (b2 == 0xBE || b2 == 0xBF)))
}

fn is_bom(v: &[u8]) -> bool {
    at(v, 0) == 0xEF && at(v, 1) == 0xBB && at(v, 2) == 0xBF
}

fn is_space(v: &[u8], i: usize) -> bool {
    at(v, i) == b' '
}

fn is_blank(v: &[u8], i: usize) -> bool {
    matches!(at(v, i), b' ' | b'\t')
}

fn is_break(v: &[u8], i: usize) -> bool {
    let b0 = at(v, i);
    let b1 = at(v, i + 1);
    let b2 = at(v, i + 2);
    b0 == b'\r'
        || b0 == b'\n'
        || (b0 == 0xC2 && b1 == 0x85)
        || (b0 == 0xE2 && b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9))
}

fn is_blankz(v: &[u8], i: usize) -> bool {
    is_blank(v, i) || is_break(v, i) || at(v, i) == 0
}

impl Emitter {
    fn new() -> Emitter {
        Emitter {
            out: String::new(),
            state: State::DocumentStart,
            states: Vec::new(),
            indent: -1,
            indents: Vec::new(),
            flow_level: 0,
            root_context: false,
            sequence_context: false,
            mapping_context: false,
            simple_key_context: false,
            column: 0,
            whitespace: true,
            indention: true,
            open_ended: false,
            scalar: ScalarAnalysis::default(),
        }
    }

    // --- output primitives -------------------------------------------------------------

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// Copies the character starting at byte `*i` of `v`.
    fn write(&mut self, v: &[u8], i: &mut usize) {
        let w = width(at(v, *i));
        if let Some(s) = v.get(*i..*i + w).and_then(|b| std::str::from_utf8(b).ok()) {
            self.out.push_str(s);
        }
        self.column += 1;
        *i += w;
    }

    fn write_all(&mut self, s: &str) {
        let v = s.as_bytes();
        let mut i = 0;
        while i < v.len() {
            self.write(v, &mut i);
        }
    }

    fn write_break(&mut self, v: &[u8], i: &mut usize) {
        if at(v, *i) == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write(v, i);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent.max(0)).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.write_all(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn pop_state(&mut self) {
        self.state = self.states.pop().unwrap_or(State::End);
    }

    // --- event dispatch ----------------------------------------------------------------

    fn emit(&mut self, event: &Event, next: Option<&Event>) {
        if let Event::Scalar(value, _) = event {
            self.analyze_scalar(value.as_bytes());
        }
        match self.state {
            State::DocumentStart => {
                if matches!(event, Event::DocumentStart) {
                    // Implicit first document: no "---".
                    self.state = State::DocumentContent;
                }
            }
            State::DocumentContent => {
                self.states.push(State::DocumentEnd);
                self.emit_node(event, next, true, false, false, false);
            }
            State::DocumentEnd => {
                if matches!(event, Event::DocumentEnd) {
                    self.write_indent();
                    self.state = State::DocumentStart;
                }
            }
            State::FlowSequenceFirstItem => self.emit_flow_sequence_item(event, next, true),
            State::FlowSequenceItem => self.emit_flow_sequence_item(event, next, false),
            State::FlowMappingFirstKey => self.emit_flow_mapping_key(event, next, true),
            State::FlowMappingKey => self.emit_flow_mapping_key(event, next, false),
            State::FlowMappingSimpleValue => self.emit_flow_mapping_value(event, next, true),
            State::FlowMappingValue => self.emit_flow_mapping_value(event, next, false),
            State::BlockSequenceFirstItem => self.emit_block_sequence_item(event, next, true),
            State::BlockSequenceItem => self.emit_block_sequence_item(event, next, false),
            State::BlockMappingFirstKey => self.emit_block_mapping_key(event, next, true),
            State::BlockMappingKey => self.emit_block_mapping_key(event, next, false),
            State::BlockMappingSimpleValue => self.emit_block_mapping_value(event, next, true),
            State::BlockMappingValue => self.emit_block_mapping_value(event, next, false),
            State::End => {}
        }
    }

    fn emit_flow_sequence_item(&mut self, event: &Event, next: Option<&Event>, first: bool) {
        if first {
            self.write_indicator("[", true, true, false);
            self.increase_indent(true, false);
            self.flow_level += 1;
        }
        if matches!(event, Event::SequenceEnd) {
            self.flow_level = self.flow_level.saturating_sub(1);
            self.pop_indent();
            self.write_indicator("]", false, false, false);
            self.pop_state();
            return;
        }
        if !first {
            self.write_indicator(",", false, false, false);
        }
        if self.column > BEST_WIDTH {
            self.write_indent();
        }
        self.states.push(State::FlowSequenceItem);
        self.emit_node(event, next, false, true, false, false);
    }

    fn emit_flow_mapping_key(&mut self, event: &Event, next: Option<&Event>, first: bool) {
        if first {
            self.write_indicator("{", true, true, false);
            self.increase_indent(true, false);
            self.flow_level += 1;
        }
        if matches!(event, Event::MappingEnd) {
            self.flow_level = self.flow_level.saturating_sub(1);
            self.pop_indent();
            self.write_indicator("}", false, false, false);
            self.pop_state();
            return;
        }
        if !first {
            self.write_indicator(",", false, false, false);
        }
        if self.column > BEST_WIDTH {
            self.write_indent();
        }
        if self.check_simple_key(event, next) {
            self.states.push(State::FlowMappingSimpleValue);
            self.emit_node(event, next, false, false, true, true);
        } else {
            self.write_indicator("?", true, false, false);
            self.states.push(State::FlowMappingValue);
            self.emit_node(event, next, false, false, true, false);
        }
    }

    fn emit_flow_mapping_value(&mut self, event: &Event, next: Option<&Event>, simple: bool) {
        if simple {
            self.write_indicator(":", false, false, false);
        } else {
            if self.column > BEST_WIDTH {
                self.write_indent();
            }
            self.write_indicator(":", true, false, false);
        }
        self.states.push(State::FlowMappingKey);
        self.emit_node(event, next, false, false, true, false);
    }

    fn emit_block_sequence_item(&mut self, event: &Event, next: Option<&Event>, first: bool) {
        if first {
            let indentless = self.mapping_context && !self.indention;
            self.increase_indent(false, indentless);
        }
        if matches!(event, Event::SequenceEnd) {
            self.pop_indent();
            self.pop_state();
            return;
        }
        self.write_indent();
        self.write_indicator("-", true, false, true);
        self.states.push(State::BlockSequenceItem);
        self.emit_node(event, next, false, true, false, false);
    }

    fn emit_block_mapping_key(&mut self, event: &Event, next: Option<&Event>, first: bool) {
        if first {
            self.increase_indent(false, false);
        }
        if matches!(event, Event::MappingEnd) {
            self.pop_indent();
            self.pop_state();
            return;
        }
        self.write_indent();
        if self.check_simple_key(event, next) {
            self.states.push(State::BlockMappingSimpleValue);
            self.emit_node(event, next, false, false, true, true);
        } else {
            self.write_indicator("?", true, false, true);
            self.states.push(State::BlockMappingValue);
            self.emit_node(event, next, false, false, true, false);
        }
    }

    fn emit_block_mapping_value(&mut self, event: &Event, next: Option<&Event>, simple: bool) {
        if simple {
            self.write_indicator(":", false, false, false);
        } else {
            self.write_indent();
            self.write_indicator(":", true, false, true);
        }
        self.states.push(State::BlockMappingKey);
        self.emit_node(event, next, false, false, true, false);
    }

    fn emit_node(
        &mut self,
        event: &Event,
        next: Option<&Event>,
        root: bool,
        sequence: bool,
        mapping: bool,
        simple_key: bool,
    ) {
        self.root_context = root;
        self.sequence_context = sequence;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match event {
            Event::Scalar(value, style) => self.emit_scalar(value, *style),
            Event::SequenceStart => {
                self.state = if self.flow_level > 0 || matches!(next, Some(Event::SequenceEnd)) {
                    State::FlowSequenceFirstItem
                } else {
                    State::BlockSequenceFirstItem
                };
            }
            Event::MappingStart => {
                self.state = if self.flow_level > 0 || matches!(next, Some(Event::MappingEnd)) {
                    State::FlowMappingFirstKey
                } else {
                    State::BlockMappingFirstKey
                };
            }
            _ => {}
        }
    }

    fn check_simple_key(&self, event: &Event, next: Option<&Event>) -> bool {
        match event {
            Event::Scalar(value, _) => !self.scalar.multiline && value.len() <= 128,
            Event::SequenceStart => matches!(next, Some(Event::SequenceEnd)),
            Event::MappingStart => matches!(next, Some(Event::MappingEnd)),
            _ => false,
        }
    }

    fn emit_scalar(&mut self, value: &str, style: Style) {
        self.select_scalar_style(value, style);
        self.increase_indent(true, false);
        let v = value.as_bytes();
        let allow_breaks = !self.simple_key_context;
        match self.scalar.style.unwrap_or(Style::Plain) {
            Style::Plain => self.write_plain_scalar(v, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted_scalar(v, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted_scalar(v, allow_breaks),
            Style::Literal => self.write_literal_scalar(v),
        }
        self.pop_indent();
        self.pop_state();
    }

    fn select_scalar_style(&mut self, value: &str, requested: Style) {
        let mut style = requested;
        if self.simple_key_context && self.scalar.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain {
            if (self.flow_level > 0 && !self.scalar.flow_plain_allowed)
                || (self.flow_level == 0 && !self.scalar.block_plain_allowed)
            {
                style = Style::SingleQuoted;
            }
            if value.is_empty() && (self.flow_level > 0 || self.simple_key_context) {
                style = Style::SingleQuoted;
            }
        }
        if style == Style::SingleQuoted && !self.scalar.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal
            && (!self.scalar.block_allowed || self.flow_level > 0 || self.simple_key_context)
        {
            style = Style::DoubleQuoted;
        }
        self.scalar.style = Some(style);
    }

    fn analyze_scalar(&mut self, value: &[u8]) {
        let mut block_indicators = false;
        let mut flow_indicators = false;
        let mut line_breaks = false;
        let mut special_characters = false;
        let mut leading_space = false;
        let mut leading_break = false;
        let mut trailing_space = false;
        let mut trailing_break = false;
        let mut break_space = false;
        let mut space_break = false;
        let mut previous_space = false;
        let mut previous_break = false;

        if value.is_empty() {
            self.scalar = ScalarAnalysis {
                multiline: false,
                flow_plain_allowed: false,
                block_plain_allowed: true,
                single_quoted_allowed: true,
                block_allowed: false,
                style: None,
            };
            return;
        }
        if value.starts_with(b"---") || value.starts_with(b"...") {
            block_indicators = true;
            flow_indicators = true;
        }
        let mut preceded_by_whitespace = true;
        let mut i = 0;
        while i < value.len() {
            let w = width(at(value, i));
            let followed_by_whitespace = i + w >= value.len() || is_blank(value, i + w);
            let c = at(value, i);
            if i == 0 {
                match c {
                    b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                    | b'\'' | b'"' | b'%' | b'@' | b'`' => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    b'?' | b':' => {
                        flow_indicators = true;
                        if followed_by_whitespace {
                            block_indicators = true;
                        }
                    }
                    b'-' if followed_by_whitespace => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    _ => {}
                }
            } else {
                match c {
                    b',' | b'?' | b'[' | b']' | b'{' | b'}' => flow_indicators = true,
                    b':' => {
                        flow_indicators = true;
                        if followed_by_whitespace {
                            block_indicators = true;
                        }
                    }
                    b'#' if preceded_by_whitespace => {
                        flow_indicators = true;
                        block_indicators = true;
                    }
                    _ => {}
                }
            }

            // The emitter is in unicode mode: only non-printable characters are special.
            if !is_printable(value, i) {
                special_characters = true;
            }
            if is_space(value, i) {
                if i == 0 {
                    leading_space = true;
                }
                if i + w == value.len() {
                    trailing_space = true;
                }
                if previous_break {
                    break_space = true;
                }
                previous_space = true;
                previous_break = false;
            } else if is_break(value, i) {
                line_breaks = true;
                if i == 0 {
                    leading_break = true;
                }
                if i + w == value.len() {
                    trailing_break = true;
                }
                if previous_space {
                    space_break = true;
                }
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = is_blankz(value, i);
            i += w;
        }

        let mut a = ScalarAnalysis {
            multiline: line_breaks,
            flow_plain_allowed: true,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: true,
            style: None,
        };
        if leading_space || leading_break || trailing_space || trailing_break {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
        }
        if trailing_space {
            a.block_allowed = false;
        }
        if break_space {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
            a.single_quoted_allowed = false;
        }
        if space_break || special_characters {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
            a.single_quoted_allowed = false;
            a.block_allowed = false;
        }
        if line_breaks {
            a.flow_plain_allowed = false;
            a.block_plain_allowed = false;
        }
        if flow_indicators {
            a.flow_plain_allowed = false;
        }
        if block_indicators {
            a.block_plain_allowed = false;
        }
        self.scalar = a;
    }

    // --- scalar writers ----------------------------------------------------------------

    fn write_plain_scalar(&mut self, v: &[u8], allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < v.len() {
            if is_space(v, i) {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !is_space(v, i + 1) {
                    self.write_indent();
                    i += width(at(v, i));
                } else {
                    self.write(v, &mut i);
                }
                spaces = true;
            } else if is_break(v, i) {
                if !breaks && at(v, i) == b'\n' {
                    self.put_break();
                }
                self.write_break(v, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(v, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
        if self.root_context {
            self.open_ended = true;
        }
    }

    fn write_single_quoted_scalar(&mut self, v: &[u8], allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < v.len() {
            if is_space(v, i) {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i < v.len() - 1
                    && !is_space(v, i + 1)
                {
                    self.write_indent();
                    i += width(at(v, i));
                } else {
                    self.write(v, &mut i);
                }
                spaces = true;
            } else if is_break(v, i) {
                if !breaks && at(v, i) == b'\n' {
                    self.put_break();
                }
                self.write_break(v, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if at(v, i) == b'\'' {
                    self.put('\'');
                }
                self.write(v, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted_scalar(&mut self, v: &[u8], allow_breaks: bool) {
        let mut spaces = false;
        self.write_indicator("\"", true, false, false);
        let mut i = 0;
        while i < v.len() {
            let c = at(v, i);
            if !is_printable(v, i) || is_bom(v) || is_break(v, i) || c == b'"' || c == b'\\' {
                let w = width(c);
                let ch = v
                    .get(i..i + w)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .and_then(|s| s.chars().next())
                    .map_or(u32::from(c), |ch| ch as u32);
                i += w;
                self.put('\\');
                match ch {
                    0x00 => self.put('0'),
                    0x07 => self.put('a'),
                    0x08 => self.put('b'),
                    0x09 => self.put('t'),
                    0x0A => self.put('n'),
                    0x0B => self.put('v'),
                    0x0C => self.put('f'),
                    0x0D => self.put('r'),
                    0x1B => self.put('e'),
                    0x22 => self.put('"'),
                    0x5C => self.put('\\'),
                    0x85 => self.put('N'),
                    0xA0 => self.put('_'),
                    0x2028 => self.put('L'),
                    0x2029 => self.put('P'),
                    _ => {
                        let (marker, digits) = if ch <= 0xFF {
                            ('x', 2)
                        } else if ch <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(marker);
                        for k in (0..digits).rev() {
                            let digit = (ch >> (k * 4)) & 0x0F;
                            let d = char::from_digit(digit, 16)
                                .unwrap_or('0')
                                .to_ascii_uppercase();
                            self.put(d);
                        }
                    }
                }
                spaces = false;
            } else if is_space(v, i) {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i < v.len() - 1 {
                    self.write_indent();
                    if is_space(v, i + 1) {
                        self.put('\\');
                    }
                    i += width(at(v, i));
                } else {
                    self.write(v, &mut i);
                }
                spaces = true;
            } else {
                self.write(v, &mut i);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_block_scalar_hints(&mut self, v: &[u8]) {
        if is_space(v, 0) || is_break(v, 0) {
            self.write_indicator("2", false, false, false);
        }
        self.open_ended = false;
        let mut chomp: Option<&str> = None;
        if v.is_empty() {
            chomp = Some("-");
        } else {
            let mut i = v.len() - 1;
            while i > 0 && at(v, i) & 0xC0 == 0x80 {
                i -= 1;
            }
            if !is_break(v, i) {
                chomp = Some("-");
            } else if i == 0 {
                chomp = Some("+");
                self.open_ended = true;
            } else {
                i -= 1;
                while i > 0 && at(v, i) & 0xC0 == 0x80 {
                    i -= 1;
                }
                if is_break(v, i) {
                    chomp = Some("+");
                    self.open_ended = true;
                }
            }
        }
        if let Some(c) = chomp {
            self.write_indicator(c, false, false, false);
        }
    }

    fn write_literal_scalar(&mut self, v: &[u8]) {
        self.write_indicator("|", true, false, false);
        self.write_block_scalar_hints(v);
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < v.len() {
            if is_break(v, i) {
                self.write_break(v, &mut i);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(v, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn basics() {
        assert_eq!(
            to_yaml(&json!({"b": [1, "x"], "a": {}})),
            "a: {}\nb:\n- 1\n- x\n"
        );
        assert_eq!(to_yaml(&json!("true")), "\"true\"\n");
        assert_eq!(to_yaml(&json!("a\nb")), "|-\n  a\n  b\n");
        assert_eq!(to_yaml(&json!(null)), "null\n");
        assert_eq!(to_yaml(&json!([])), "[]\n");
    }
}
