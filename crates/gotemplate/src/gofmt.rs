//! The parts of Go's `fmt` that templates reach:
//! `print`, `println`, `printf` and the `%v` printing of action results.

use super::MAX_VALUE_DEPTH;
use super::value::{Elem, Heap, IntTy, Value};
use go_semantics::strconv::{self, can_backquote};
use go_semantics::utf8::{self, append_rune, decode_rune, rune_count};

// ---------------------------------------------------------------------------
// fmt

#[derive(Clone, Copy, Default)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

const LDIGITS: &[u8; 16] = b"0123456789abcdef";
const UDIGITS: &[u8; 16] = b"0123456789ABCDEF";

pub struct Printer<'h> {
    heap: &'h Heap,
    pub out: Vec<u8>,
    limit: usize,
    err: Option<String>,
}

impl<'h> Printer<'h> {
    pub fn new(heap: &'h Heap, limit: usize) -> Self {
        Printer {
            heap,
            out: Vec::new(),
            limit,
            err: None,
        }
    }

    pub fn finish(self) -> Result<Vec<u8>, String> {
        match self.err {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }

    fn full(&mut self) -> bool {
        if self.err.is_none() && self.out.len() > self.limit {
            self.err = Some(format!("formatted value exceeds {} bytes", self.limit));
        }
        self.err.is_some()
    }

    fn write(&mut self, b: &[u8]) {
        if self.full() {
            return;
        }
        self.out.extend_from_slice(b);
    }

    fn write_padding(&mut self, f: &Flags, n: usize) {
        if n == 0 || self.full() {
            return;
        }
        if self.out.len().saturating_add(n) > self.limit {
            self.err = Some(format!("formatted value exceeds {} bytes", self.limit));
            return;
        }
        let b = if f.zero && !f.minus { b'0' } else { b' ' };
        self.out.resize(self.out.len() + n, b);
    }

    fn pad(&mut self, f: &Flags, b: &[u8]) {
        let Some(wid) = f.wid.filter(|&w| w != 0) else {
            self.write(b);
            return;
        };
        let width = wid.saturating_sub(rune_count(b));
        if !f.minus {
            self.write_padding(f, width);
            self.write(b);
        } else {
            self.write(b);
            self.write_padding(f, width);
        }
    }

    fn truncate<'b>(&self, f: &Flags, s: &'b [u8]) -> &'b [u8] {
        if let Some(p) = f.prec {
            let mut n = p;
            for (i, _, _) in utf8::runes(s) {
                if n == 0 {
                    return s.get(..i).unwrap_or(s);
                }
                n -= 1;
            }
        }
        s
    }

    fn fmt_s(&mut self, f: &Flags, s: &[u8]) {
        let s = self.truncate(f, s);
        self.pad(f, s);
    }

    fn fmt_sx(&mut self, f: &Flags, s: &[u8], digits: &[u8; 16]) {
        let mut length = s.len();
        if let Some(p) = f.prec {
            length = length.min(p);
        }
        let mut width = 2 * length;
        if width > 0 {
            if f.space {
                if f.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if f.sharp {
                width += 2;
            }
        } else {
            if let Some(w) = f.wid {
                self.write_padding(f, w);
            }
            return;
        }
        if let Some(w) = f.wid.filter(|&w| w > width && !f.minus) {
            self.write_padding(f, w - width);
        }
        let mut buf = Vec::with_capacity(width);
        if f.sharp {
            buf.push(b'0');
            buf.push(if digits == UDIGITS { b'X' } else { b'x' });
        }
        for (i, &c) in s.iter().take(length).enumerate() {
            if f.space && i > 0 {
                buf.push(b' ');
                if f.sharp {
                    buf.push(b'0');
                    buf.push(if digits == UDIGITS { b'X' } else { b'x' });
                }
            }
            buf.push(digits.get(usize::from(c >> 4)).copied().unwrap_or(b'0'));
            buf.push(digits.get(usize::from(c & 0xF)).copied().unwrap_or(b'0'));
        }
        self.write(&buf);
        if let Some(w) = f.wid.filter(|&w| w > width && f.minus) {
            self.write_padding(f, w - width);
        }
    }

    fn fmt_q(&mut self, f: &Flags, s: &[u8]) {
        let s = self.truncate(f, s);
        if f.sharp && can_backquote(s) {
            let mut b = vec![b'`'];
            b.extend_from_slice(s);
            b.push(b'`');
            self.pad(f, &b);
            return;
        }
        let q = if f.plus {
            strconv::quote_to_ascii(s)
        } else {
            strconv::quote(s)
        };
        self.pad(f, q.as_bytes());
    }

    fn fmt_integer(
        &mut self,
        f: &Flags,
        v: i64,
        signed: bool,
        base: u64,
        verb: char,
        digits: &[u8; 16],
    ) {
        let negative = signed && v < 0;
        let mut u = if negative {
            (v as u64).wrapping_neg()
        } else {
            v as u64
        };
        let mut prec = 0usize;
        if let Some(p) = f.prec {
            prec = p;
            if p == 0 && u == 0 {
                let mut g = *f;
                g.zero = false;
                if let Some(w) = f.wid {
                    self.write_padding(&g, w);
                }
                return;
            }
        } else if let Some(w) = f.wid.filter(|_| f.zero && !f.minus) {
            prec = w;
            if negative || f.plus || f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let mut buf: Vec<u8> = Vec::new();
        loop {
            buf.push(digits.get((u % base) as usize).copied().unwrap_or(b'0'));
            u /= base;
            if u == 0 {
                break;
            }
        }
        if prec > self.limit {
            self.err = Some(format!("formatted value exceeds {} bytes", self.limit));
            return;
        }
        while buf.len() < prec {
            buf.push(b'0');
        }
        if f.sharp {
            match base {
                2 => buf.extend_from_slice(b"b0"),
                8 if buf.last() != Some(&b'0') => buf.push(b'0'),
                16 => {
                    buf.push(if digits == UDIGITS { b'X' } else { b'x' });
                    buf.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            buf.extend_from_slice(b"o0");
        }
        if negative {
            buf.push(b'-');
        } else if f.plus {
            buf.push(b'+');
        } else if f.space {
            buf.push(b' ');
        }
        buf.reverse();
        let mut g = *f;
        g.zero = false;
        self.pad(&g, &buf);
    }

    fn fmt_unicode(&mut self, f: &Flags, u: u64) {
        let prec = f.prec.map_or(4, |p| p.max(4));
        let mut hex = Vec::new();
        let mut x = u;
        loop {
            hex.push(UDIGITS.get((x & 0xF) as usize).copied().unwrap_or(b'0'));
            x >>= 4;
            if x == 0 {
                break;
            }
        }
        while hex.len() < prec.min(self.limit) {
            hex.push(b'0');
        }
        hex.reverse();
        let mut b = b"U+".to_vec();
        b.extend_from_slice(&hex);
        let printable = u32::try_from(u)
            .ok()
            .and_then(char::from_u32)
            .filter(|&c| f.sharp && strconv::is_print(c));
        if let Some(c) = printable {
            b.extend_from_slice(b" '");
            append_rune(&mut b, c);
            b.push(b'\'');
        }
        let mut g = *f;
        g.zero = false;
        self.pad(&g, &b);
    }

    fn fmt_int_verb(&mut self, f: &Flags, v: i64, signed: bool, verb: char, arg: &Value) {
        match verb {
            // `%#v` of an unsigned integer is hexadecimal with 0x (fmt/print.go `fmt0x64`).
            'v' if f.sharp_v && !signed => {
                let mut g = *f;
                g.sharp = true;
                self.fmt_integer(&g, v, signed, 16, verb, LDIGITS);
            }
            'v' | 'd' => self.fmt_integer(f, v, signed, 10, verb, LDIGITS),
            'b' => self.fmt_integer(f, v, signed, 2, verb, LDIGITS),
            'o' | 'O' => self.fmt_integer(f, v, signed, 8, verb, LDIGITS),
            'x' => self.fmt_integer(f, v, signed, 16, verb, LDIGITS),
            'X' => self.fmt_integer(f, v, signed, 16, verb, UDIGITS),
            'c' | 'q' => {
                let c = u32::try_from(v)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or(utf8::RUNE_ERROR);
                if verb == 'c' {
                    let mut b = Vec::new();
                    append_rune(&mut b, c);
                    self.pad(f, &b);
                } else {
                    let q = if f.plus {
                        strconv::quote_rune_to_ascii(c)
                    } else {
                        strconv::quote_rune(c)
                    };
                    self.pad(f, q.as_bytes());
                }
            }
            'U' => self.fmt_unicode(f, v as u64),
            _ => self.bad_verb(verb, arg, f),
        }
    }

    fn fmt_float(&mut self, f: &Flags, v: f64, verb: char, arg: &Value) {
        let (fmtc, mut prec) = match verb {
            'v' => (b'g', -1),
            'g' | 'G' | 'x' | 'X' | 'b' => (verb as u8, -1),
            'f' | 'F' | 'e' | 'E' => (verb as u8, 6),
            _ => return self.bad_verb(verb, arg, f),
        };
        if let Some(p) = f.prec {
            prec = i32::try_from(p).unwrap_or(i32::MAX);
        }
        let num = strconv::format_float(v, fmtc, prec, 64).into_bytes();
        let mut num = if matches!(num.first(), Some(b'-' | b'+')) {
            num
        } else {
            let mut n = vec![b'+'];
            n.extend_from_slice(&num);
            n
        };
        if let Some(c) = num
            .first_mut()
            .filter(|c| f.space && **c == b'+' && !f.plus)
        {
            *c = b' ';
        }
        if matches!(num.get(1), Some(b'I' | b'N')) {
            let mut g = *f;
            g.zero = false;
            if num.get(1) == Some(&b'N') && !f.space && !f.plus {
                num.remove(0);
            }
            self.pad(&g, &num);
            return;
        }
        if f.sharp && fmtc != b'b' {
            num = sharp_float(num, fmtc, prec);
        }
        if f.plus || num.first() != Some(&b'+') {
            if let Some(w) = f.wid.filter(|&w| f.zero && !f.minus && w > num.len()) {
                self.write(num.get(..1).unwrap_or_default());
                self.write_padding(f, w - num.len());
                self.write(num.get(1..).unwrap_or_default());
                return;
            }
            self.pad(f, &num);
            return;
        }
        self.pad(f, num.get(1..).unwrap_or_default());
    }

    fn bad_verb(&mut self, verb: char, arg: &Value, f: &Flags) {
        let mut b = b"%!".to_vec();
        append_rune(&mut b, verb);
        b.push(b'(');
        self.write(&b);
        if arg.is_nil() {
            self.write(b"<nil>");
        } else {
            let t = self.heap.type_name(arg);
            self.write(t.as_bytes());
            self.write(b"=");
            self.print_arg(arg, 'v', f, 0);
        }
        self.write(b")");
    }

    fn print_arg(&mut self, arg: &Value, verb: char, f: &Flags, depth: usize) {
        if self.full() {
            return;
        }
        if depth > MAX_VALUE_DEPTH {
            self.err = Some("value nesting too deep to print".into());
            return;
        }
        if verb == 'T' {
            if arg.is_nil() {
                // `padString`, not truncated by a precision (fmt/print.go `printArg`).
                self.pad(f, b"<nil>");
                return;
            }
            let t = self.heap.type_name(arg);
            self.fmt_s(f, t.as_bytes());
            return;
        }
        match arg {
            Value::Nil => {
                if verb == 'v' {
                    self.pad(f, b"<nil>");
                } else {
                    self.bad_verb(verb, arg, f);
                }
            }
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(f, if *b { b"true" } else { b"false" }),
                _ => self.bad_verb(verb, arg, f),
            },
            Value::Int(i, ty) => self.fmt_int_verb(f, *i, *ty != IntTy::Uint8, verb, arg),
            Value::Float(x) => self.fmt_float(f, *x, verb, arg),
            Value::Str(s) => match verb {
                'v' => {
                    if f.sharp_v {
                        self.fmt_q(f, s);
                    } else {
                        self.fmt_s(f, s);
                    }
                }
                's' => self.fmt_s(f, s),
                'x' => self.fmt_sx(f, s, LDIGITS),
                'X' => self.fmt_sx(f, s, UDIGITS),
                'q' => self.fmt_q(f, s),
                _ => self.bad_verb(verb, arg, f),
            },
            Value::List(id) => {
                let heap = self.heap;
                let l = heap.list(*id);
                if f.sharp_v {
                    self.write(heap.type_name(arg).as_bytes());
                    if l.nil {
                        self.write(b"(nil)");
                        return;
                    }
                    self.write(b"{");
                    for (i, it) in l.items.iter().enumerate() {
                        if i > 0 {
                            self.write(b", ");
                        }
                        self.print_elem(it, verb, f, depth + 1);
                    }
                    self.write(b"}");
                    return;
                }
                self.write(b"[");
                for (i, it) in l.items.iter().enumerate() {
                    if i > 0 {
                        self.write(b" ");
                    }
                    self.print_elem(it, verb, f, depth + 1);
                }
                self.write(b"]");
            }
            Value::Map(id) => {
                let heap = self.heap;
                let m = heap.map(*id);
                if f.sharp_v {
                    self.write(heap.type_name(arg).as_bytes());
                    self.write(b"{");
                } else {
                    self.write(b"map[");
                }
                for (i, (k, v)) in m.entries.iter().enumerate() {
                    if i > 0 {
                        self.write(if f.sharp_v { b", " } else { b" " });
                    }
                    let key = Value::str(k.as_slice());
                    self.print_arg(&key, verb, f, depth + 1);
                    self.write(b":");
                    if m.elem == Elem::Str {
                        self.print_arg(v, verb, f, depth + 1);
                    } else {
                        self.print_elem(v, verb, f, depth + 1);
                    }
                }
                self.write(if f.sharp_v { b"}" } else { b"]" });
            }
        }
    }

    /// An element of an interface-typed container: nil prints as `<nil>` whatever the verb.
    fn print_elem(&mut self, v: &Value, verb: char, f: &Flags, depth: usize) {
        if v.is_nil() {
            if f.sharp_v {
                self.write(b"interface {}(nil)");
            } else {
                self.write(b"<nil>");
            }
            return;
        }
        self.print_arg(v, verb, f, depth);
    }

    /// `fmt.Sprint` semantics: spaces between operands when neither is a string.
    pub fn sprint(&mut self, args: &[Value]) {
        let mut prev_string = false;
        for (i, a) in args.iter().enumerate() {
            let is_string = matches!(a, Value::Str(_));
            if i > 0 && !is_string && !prev_string {
                self.write(b" ");
            }
            self.print_arg(a, 'v', &Flags::default(), 0);
            prev_string = is_string;
        }
    }

    /// `fmt.Sprintln`.
    pub fn sprintln(&mut self, args: &[Value]) {
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                self.write(b" ");
            }
            self.print_arg(a, 'v', &Flags::default(), 0);
        }
        self.write(b"\n");
    }

    /// `fmt.Sprintf`.
    pub fn sprintf(&mut self, format: &[u8], a: &[Value]) {
        let end = format.len();
        let mut arg_num = 0usize;
        let mut i = 0usize;
        let mut reordered = false;
        let at = |i: usize| format.get(i).copied();
        while i < end {
            if self.full() {
                return;
            }
            let mut good_arg_num = true;
            let lasti = i;
            while i < end && at(i) != Some(b'%') {
                i += 1;
            }
            if i > lasti {
                self.write(format.get(lasti..i).unwrap_or_default());
            }
            if i >= end {
                break;
            }
            i += 1;
            let mut f = Flags::default();
            while let Some(c) = at(i) {
                match c {
                    b'#' => f.sharp = true,
                    b'0' => f.zero = true,
                    b'+' => f.plus = true,
                    b'-' => f.minus = true,
                    b' ' => f.space = true,
                    _ => break,
                }
                i += 1;
            }
            // explicit argument index
            let mut after_index;
            (arg_num, i, after_index) = arg_number(
                format,
                arg_num,
                i,
                a.len(),
                &mut good_arg_num,
                &mut reordered,
            );
            // width
            if at(i) == Some(b'*') {
                i += 1;
                let (w, ok, n) = int_from_arg(a, arg_num);
                arg_num = n;
                if !ok {
                    self.write(b"%!(BADWIDTH)");
                    f.wid = None;
                } else if w < 0 {
                    f.wid = Some(w.unsigned_abs() as usize);
                    f.minus = true;
                    f.zero = false;
                } else {
                    f.wid = Some(w as usize);
                }
                after_index = false;
            } else {
                let (w, ok, ni) = parse_num(format, i, end);
                i = ni;
                f.wid = ok.then_some(w);
                if after_index && ok {
                    good_arg_num = false;
                }
            }
            // precision
            if i + 1 < end && at(i) == Some(b'.') {
                i += 1;
                if after_index {
                    good_arg_num = false;
                }
                (arg_num, i, after_index) = arg_number(
                    format,
                    arg_num,
                    i,
                    a.len(),
                    &mut good_arg_num,
                    &mut reordered,
                );
                if at(i) == Some(b'*') {
                    i += 1;
                    let (p, ok, n) = int_from_arg(a, arg_num);
                    arg_num = n;
                    // A negative precision is a bad one too (fmt/print.go `doPrintf`).
                    if p < 0 || !ok {
                        f.prec = None;
                        self.write(b"%!(BADPREC)");
                    } else {
                        f.prec = Some(p as usize);
                    }
                    after_index = false;
                } else {
                    let (p, ok, ni) = parse_num(format, i, end);
                    i = ni;
                    f.prec = Some(if ok { p } else { 0 });
                }
            }
            if !after_index {
                (arg_num, i, _) = arg_number(
                    format,
                    arg_num,
                    i,
                    a.len(),
                    &mut good_arg_num,
                    &mut reordered,
                );
            }
            if i >= end {
                self.write(b"%!(NOVERB)");
                break;
            }
            let (verb, size) = decode_rune(format.get(i..).unwrap_or_default());
            i += size.max(1);
            if verb == '%' {
                self.write(b"%");
                continue;
            }
            if !good_arg_num {
                let mut b = b"%!".to_vec();
                append_rune(&mut b, verb);
                b.extend_from_slice(b"(BADINDEX)");
                self.write(&b);
                continue;
            }
            let Some(arg) = a.get(arg_num) else {
                let mut b = b"%!".to_vec();
                append_rune(&mut b, verb);
                b.extend_from_slice(b"(MISSING)");
                self.write(&b);
                continue;
            };
            if verb == 'v' || verb == 'w' {
                f.sharp_v = f.sharp;
                f.sharp = false;
                f.plus_v = f.plus;
                f.plus = false;
            }
            let _ = f.plus_v;
            match (verb, arg) {
                // Sprintf wraps no errors: `%w` is a bad verb for the whole operand, which
                // prints as `%v` (fmt/print.go `handleMethods`).
                ('w', _) => self.bad_verb(verb, arg, &f),
                // Go prints the address of a map or slice: not reproducible
                // (docs/templates.md "Differences from Go").
                ('p', Value::List(_) | Value::Map(_)) => {
                    self.err = Some(format!(
                        "%p of a {} prints a memory address, which is not supported",
                        self.heap.type_name(arg)
                    ));
                    return;
                }
                _ => self.print_arg(arg, verb, &f, 0),
            }
            arg_num += 1;
        }
        if !reordered && arg_num < a.len() {
            self.write(b"%!(EXTRA ");
            for (k, arg) in a.iter().skip(arg_num).enumerate() {
                if k > 0 {
                    self.write(b", ");
                }
                if arg.is_nil() {
                    self.write(b"<nil>");
                } else {
                    let t = self.heap.type_name(arg);
                    self.write(t.as_bytes());
                    self.write(b"=");
                    self.print_arg(arg, 'v', &Flags::default(), 0);
                }
            }
            self.write(b")");
        }
    }
}

/// The `#` flag of a float verb: a decimal point always, and for `%#g`, `%#G` and `%#x` the
/// trailing zeros up to the precision (6 when none is given), before the exponent (fmt/format.go
/// `fmtFloat`). `num` starts with its sign; `verb` is the one given to strconv (`g` for `%v`).
fn sharp_float(mut num: Vec<u8>, verb: u8, prec: i32) -> Vec<u8> {
    let mut digits: i64 = match verb {
        b'g' | b'G' | b'x' => i64::from(if prec == -1 { 6 } else { prec }),
        _ => 0,
    };
    let mut tail = Vec::new();
    let mut has_decimal_point = false;
    let mut saw_nonzero_digit = false;
    let mut i = 1;
    while let Some(&c) = num.get(i) {
        match c {
            b'.' => has_decimal_point = true,
            b'p' | b'P' => {
                tail = num.split_off(i);
                break;
            }
            b'e' | b'E' if verb != b'x' && verb != b'X' => {
                tail = num.split_off(i);
                break;
            }
            _ => {
                if c != b'0' {
                    saw_nonzero_digit = true;
                }
                if saw_nonzero_digit {
                    digits -= 1;
                }
            }
        }
        i += 1;
    }
    if !has_decimal_point {
        if num.len() == 2 && num.get(1) == Some(&b'0') {
            digits -= 1;
        }
        num.push(b'.');
    }
    while digits > 0 {
        num.push(b'0');
        digits -= 1;
    }
    num.extend_from_slice(&tail);
    num
}

fn too_large(x: i64) -> bool {
    !(-1_000_000..=1_000_000).contains(&x)
}

fn parse_num(s: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let mut num: i64 = 0;
    let mut isnum = false;
    let mut i = start;
    while i < end {
        let Some(c) = s.get(i).copied().filter(u8::is_ascii_digit) else {
            break;
        };
        if too_large(num) {
            return (0, false, end);
        }
        num = num * 10 + i64::from(c - b'0');
        isnum = true;
        i += 1;
    }
    (num as usize, isnum, i)
}

fn parse_arg_number(s: &[u8]) -> (i64, usize, bool) {
    if s.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..s.len() {
        if s.get(i) == Some(&b']') {
            let (w, ok, ni) = parse_num(s, 1, i);
            if !ok || ni != i {
                return (0, i + 1, false);
            }
            return (w as i64 - 1, i + 1, true);
        }
    }
    (0, 1, false)
}

fn arg_number(
    format: &[u8],
    arg_num: usize,
    i: usize,
    num_args: usize,
    good: &mut bool,
    reordered: &mut bool,
) -> (usize, usize, bool) {
    if format.get(i) != Some(&b'[') {
        return (arg_num, i, false);
    }
    *reordered = true;
    let (index, wid, ok) = parse_arg_number(format.get(i..).unwrap_or_default());
    if ok && index >= 0 && (index as usize) < num_args {
        return (index as usize, i + wid, true);
    }
    *good = false;
    (arg_num, i + wid, ok)
}

fn int_from_arg(a: &[Value], arg_num: usize) -> (i64, bool, usize) {
    let Some(v) = a.get(arg_num) else {
        return (0, false, arg_num);
    };
    let (mut num, mut ok) = match v {
        Value::Int(i, _) => (*i, true),
        _ => (0, false),
    };
    if too_large(num) {
        num = 0;
        ok = false;
    }
    (num, ok, arg_num + 1)
}

/// `fmt.Sprint(v)` of one value.
pub fn sprint_value(heap: &Heap, v: &Value, limit: usize) -> Result<Vec<u8>, String> {
    let mut p = Printer::new(heap, limit);
    p.sprint(std::slice::from_ref(v));
    p.finish()
}
