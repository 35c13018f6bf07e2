//! Evaluator: a port of Go's `text/template/exec.go` over the AST of
//! `parse.rs`, with limits on output size, nesting depth and total work.

use std::collections::BTreeMap;
use std::fmt;

use super::funcs::{self, Ctx, Func, Kind, PType};
use super::gofmt::sprint_value;
use super::parse::{Arg, Branch, Command, Node, Number, Pipe, Trees};
use super::text;
use super::value::{Elem, Heap, Value};
use super::{BUDGET_EXCEEDED, CELL_COST, MAX_EXEC_DEPTH, MAX_OUTPUT, TemplateError, WORK_BUDGET};

/// Work units charged per evaluation step (walking a node, evaluating a
/// command, one range iteration, calling a function); bytes handled by
/// functions cost one unit each.
const STEP_COST: u64 = 16;

/// Functions whose work does not grow with the size of the lists and maps
/// they are given (what they allocate or print is charged separately).
const O1_IN_COLLECTIONS: &[&str] = &[
    "index",
    "len",
    "get",
    "hasKey",
    "set",
    "unset",
    "empty",
    "not",
    "default",
    "ternary",
    "coalesce",
    "all",
    "any",
    "typeOf",
    "typeIs",
    "typeIsLike",
    "kindOf",
    "kindIs",
    "list",
    "tuple",
    "dict",
    "first",
    "last",
    "append",
    "push",
    "mustAppend",
    "mustPush",
    "prepend",
    "mustPrepend",
    "print",
    "println",
    "printf",
    "toJson",
    "mustToJson",
    "toRawJson",
    "mustToRawJson",
    "toPrettyJson",
    "mustToPrettyJson",
    "toString",
    "cat",
    "quote",
    "squote",
    "eq",
    "ne",
    "slice",
    "mustSlice",
];

/// Non-local exits of the walk: an error or `{{break}}`/`{{continue}}`.
pub enum Flow {
    Err(TemplateError),
    Break,
    Continue,
}

type R<T> = Result<T, Flow>;

/// The node an error is reported at (Go's `state.at`).
#[derive(Clone, Copy)]
enum At<'a> {
    None,
    Arg(&'a Arg),
    Cmd(&'a Command),
    Pipe(&'a Pipe),
    Node(&'a Node),
}

impl At<'_> {
    fn pos(&self) -> Option<usize> {
        match self {
            At::None => None,
            At::Arg(a) => Some(a.pos()),
            At::Cmd(c) => Some(c.pos),
            At::Pipe(p) => Some(p.pos),
            At::Node(n) => match n {
                Node::Action(p) => Some(p.pos),
                Node::If(b) | Node::Range(b) | Node::With(b) => Some(b.pos),
                Node::Template { pos, .. } => Some(*pos),
                _ => None,
            },
        }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::None => Ok(()),
            At::Arg(a) => write!(f, "{a}"),
            At::Cmd(c) => write!(f, "{c}"),
            At::Pipe(p) => write!(f, "{p}"),
            At::Node(n) => write!(f, "{n}"),
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, l: &[Node]) -> fmt::Result {
            for n in l {
                write!(f, "{n}")?;
            }
            Ok(())
        }
        fn branch(f: &mut fmt::Formatter<'_>, kw: &str, b: &Branch) -> fmt::Result {
            write!(f, "{{{{{kw} {}}}}}", b.pipe)?;
            list(f, &b.list)?;
            if let Some(e) = &b.else_list {
                f.write_str("{{else}}")?;
                list(f, e)?;
            }
            f.write_str("{{end}}")
        }
        match self {
            Node::Text(t) => f.write_str(&String::from_utf8_lossy(t)),
            Node::Action(p) => write!(f, "{{{{{p}}}}}"),
            Node::If(b) => branch(f, "if", b),
            Node::Range(b) => branch(f, "range", b),
            Node::With(b) => branch(f, "with", b),
            Node::Template { name, pipe, .. } => {
                let q = text::quote_str(name);
                match pipe {
                    Some(p) => write!(f, "{{{{template {q} {p}}}}}"),
                    None => write!(f, "{{{{template {q}}}}}"),
                }
            }
            Node::Break => f.write_str("{{break}}"),
            Node::Continue => f.write_str("{{continue}}"),
        }
    }
}

pub struct Exec<'a> {
    trees: &'a Trees,
    /// Top-level template name (Go's ParseName), used in locations.
    name: &'a str,
    source: &'a str,
    /// Name of the template being executed (differs inside `{{template}}`).
    tmpl_name: &'a str,
    heap: Heap,
    vars: Vec<(String, Value)>,
    out: Vec<u8>,
    budget: u64,
    depth: usize,
    at: At<'a>,
}

/// Executes the template `name` of `trees` against `data`.
pub fn execute(
    name: &str,
    source: &str,
    trees: &Trees,
    data: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<u8>, TemplateError> {
    let mut heap = Heap::default();
    let entries: BTreeMap<Vec<u8>, Value> = data
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), Value::str(v.as_slice())))
        .collect();
    let root = heap.new_map(Elem::Str, entries);
    let mut ex = Exec {
        trees,
        name,
        source,
        tmpl_name: name,
        heap,
        vars: vec![("$".to_string(), root.clone())],
        out: Vec::new(),
        budget: WORK_BUDGET,
        depth: 0,
        at: At::None,
    };
    let Some(body) = trees.trees.get(name) else {
        return Err(TemplateError(format!(
            "template: {}: {} is an incomplete or empty template",
            name,
            text::quote_str(name)
        )));
    };
    match ex.walk_list(&root, body) {
        Ok(()) => Ok(ex.out),
        Err(Flow::Err(e)) => Err(e),
        // The parser only accepts break/continue inside range.
        Err(Flow::Break | Flow::Continue) => Ok(ex.out),
    }
}

impl<'a> Exec<'a> {
    fn err(&self, msg: impl fmt::Display) -> Flow {
        let text = match self.at.pos() {
            None => format!("template: {}: {}", self.tmpl_name, msg),
            Some(pos) => {
                let before = self.source.get(..pos).unwrap_or(self.source);
                let line = 1 + before.bytes().filter(|&b| b == b'\n').count();
                let col = match before.rfind('\n') {
                    Some(i) => pos - (i + 1),
                    None => pos,
                };
                format!(
                    "template: {}:{}:{}: executing {} at <{}>: {}",
                    self.name,
                    line,
                    col,
                    text::quote_str(self.tmpl_name),
                    self.at,
                    msg
                )
            }
        };
        Flow::Err(TemplateError(text))
    }

    fn charge(&mut self, n: u64) -> R<()> {
        if self.budget < n {
            self.budget = 0;
            return Err(self.err(BUDGET_EXCEEDED));
        }
        self.budget -= n;
        Ok(())
    }

    fn enter(&mut self) -> R<()> {
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(self.err(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            )));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn write(&mut self, b: &[u8]) -> R<()> {
        if self.out.len().saturating_add(b.len()) > MAX_OUTPUT {
            return Err(self.err(format!(
                "template output exceeds the limit of {MAX_OUTPUT} bytes"
            )));
        }
        self.out.extend_from_slice(b);
        Ok(())
    }

    // --- variables -------------------------------------------------------

    fn var_value(&self, name: &str) -> R<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.err(format!("undefined variable: {name}"))),
        }
    }

    fn set_var(&mut self, name: &str, v: Value) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => Err(self.err(format!("undefined variable: {name}"))),
        }
    }

    fn set_top_var(&mut self, n: usize, v: Value) {
        let len = self.vars.len();
        if let Some(slot) = len.checked_sub(n).and_then(|i| self.vars.get_mut(i)) {
            slot.1 = v;
        }
    }

    // --- walk --------------------------------------------------------------

    fn walk_list(&mut self, dot: &Value, list: &'a [Node]) -> R<()> {
        for n in list {
            self.walk(dot, n)?;
        }
        Ok(())
    }

    fn walk_nested(&mut self, dot: &Value, list: &'a [Node]) -> R<()> {
        self.enter()?;
        let r = self.walk_list(dot, list);
        self.leave();
        r
    }

    fn walk(&mut self, dot: &Value, node: &'a Node) -> R<()> {
        self.at = At::Node(node);
        self.charge(STEP_COST)?;
        match node {
            Node::Text(t) => self.write(t),
            Node::Action(pipe) => {
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at = At::Node(node);
                    self.print_value(&val)?;
                }
                Ok(())
            }
            Node::Break => Err(Flow::Break),
            Node::Continue => Err(Flow::Continue),
            Node::If(b) => self.walk_if_or_with(false, dot, b),
            Node::With(b) => self.walk_if_or_with(true, dot, b),
            Node::Range(b) => self.walk_range(dot, node, b),
            Node::Template { name, pipe, .. } => self.walk_template(dot, node, name, pipe.as_ref()),
        }
    }

    fn print_value(&mut self, v: &Value) -> R<()> {
        if v.is_nil() {
            return self.write(b"<no value>");
        }
        if let Value::Str(s) = v {
            return self.write(s);
        }
        let limit = MAX_OUTPUT.saturating_sub(self.out.len());
        let b = sprint_value(&self.heap, v, limit).map_err(|e| self.err(e))?;
        self.write(&b)
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Value, b: &'a Branch) -> R<()> {
        let mark = self.vars.len();
        let r = (|| {
            let val = self.eval_pipeline(dot, &b.pipe)?;
            if self.heap.truth(&val) {
                if with {
                    self.walk_nested(&val, &b.list)
                } else {
                    self.walk_nested(dot, &b.list)
                }
            } else if let Some(e) = &b.else_list {
                self.walk_nested(dot, e)
            } else {
                Ok(())
            }
        })();
        self.vars.truncate(mark);
        r
    }

    fn one_iteration(&mut self, b: &'a Branch, mark: usize, index: Value, elem: Value) -> R<()> {
        self.charge(STEP_COST)?;
        let decl = &b.pipe.decl;
        if let Some(first) = decl.first() {
            if b.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(first, index.clone())?;
                } else {
                    self.set_var(first, elem.clone())?;
                }
            } else {
                self.set_top_var(1, elem.clone());
            }
        }
        if let Some(second) = decl.get(1) {
            if b.pipe.is_assign {
                self.set_var(second, elem.clone())?;
            } else {
                self.set_top_var(2, index);
            }
        }
        let r = self.walk_nested(&elem, &b.list);
        self.vars.truncate(mark);
        match r {
            Err(Flow::Continue) => Ok(()),
            other => other,
        }
    }

    fn walk_range(&mut self, dot: &Value, node: &'a Node, b: &'a Branch) -> R<()> {
        self.at = At::Node(node);
        let outer = self.vars.len();
        let r = self.walk_range_inner(dot, b);
        self.vars.truncate(outer);
        match r {
            Err(Flow::Break) => Ok(()),
            other => other,
        }
    }

    fn walk_range_inner(&mut self, dot: &Value, b: &'a Branch) -> R<()> {
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let mark = self.vars.len();
        let ran = match &val {
            Value::Int(n, ty) => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.err(format!(
                        "can't use value of type {} to iterate over more than one variable",
                        self.heap.type_name(&val)
                    )));
                }
                let mut i = 0i64;
                while i < *n {
                    self.one_iteration(b, mark, Value::Nil, Value::Int(i, *ty))?;
                    i += 1;
                }
                *n > 0
            }
            Value::List(id) => {
                // Lists are never mutated in place: iterate without a copy.
                let mut i = 0usize;
                while let Some(it) = self.heap.items(*id).get(i).cloned() {
                    self.one_iteration(b, mark, Value::int(i as i64), it)?;
                    i += 1;
                }
                i > 0
            }
            Value::Map(id) => {
                // Go iterates over a sorted snapshot (the body may `set`).
                let n = self.heap.map(*id).entries.len() as u64;
                self.charge(n)?;
                let entries: Vec<(Vec<u8>, Value)> = self
                    .heap
                    .map(*id)
                    .entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for (k, v) in &entries {
                    self.one_iteration(b, mark, Value::str(k.as_slice()), v.clone())?;
                }
                !entries.is_empty()
            }
            Value::Nil => false,
            other => {
                return Err(self.err(format!(
                    "range can't iterate over value of type {}",
                    self.heap.type_name(other)
                )));
            }
        };
        match &b.else_list {
            Some(e) if !ran => self.walk_nested(dot, e),
            _ => Ok(()),
        }
    }

    fn walk_template(
        &mut self,
        dot: &Value,
        node: &'a Node,
        name: &'a str,
        pipe: Option<&'a Pipe>,
    ) -> R<()> {
        self.at = At::Node(node);
        let Some(body) = self.trees.trees.get(name) else {
            return Err(self.err(format!("template {} not defined", text::quote_str(name))));
        };
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Nil,
        };
        self.enter()?;
        let saved_vars =
            std::mem::replace(&mut self.vars, vec![("$".to_string(), new_dot.clone())]);
        let saved_name = std::mem::replace(&mut self.tmpl_name, name);
        let r = self.walk_list(&new_dot, body);
        self.vars = saved_vars;
        self.tmpl_name = saved_name;
        self.leave();
        r
    }

    // --- evaluation ----------------------------------------------------------

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'a Pipe) -> R<Value> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let v = value.unwrap_or(Value::Nil);
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(var, v.clone())?;
            } else {
                self.vars.push((var.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn eval_nested_pipeline(&mut self, dot: &Value, pipe: &'a Pipe) -> R<Value> {
        self.enter()?;
        let r = self.eval_pipeline(dot, pipe);
        self.leave();
        r
    }

    fn not_a_function(&mut self, args: &'a [Arg], final_: &Option<Value>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            let first = args.first().map(|a| a.to_string()).unwrap_or_default();
            return Err(self.err(format!("can't give argument to non-function {first}")));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &'a Command, final_: Option<Value>) -> R<Value> {
        self.charge(STEP_COST)?;
        let Some(first) = cmd.args.first() else {
            return Err(self.err("empty command"));
        };
        match first {
            Arg::Field { idents, .. } => {
                self.at = At::Arg(first);
                return self.eval_field_chain(dot, dot.clone(), idents, &cmd.args, final_);
            }
            Arg::Chain { node, fields, .. } => {
                return self.eval_chain(dot, first, node, fields, &cmd.args, final_);
            }
            Arg::Identifier { name, .. } => {
                self.at = At::Arg(first);
                return self.eval_function(dot, name, At::Cmd(cmd), &cmd.args, final_);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return self.eval_nested_pipeline(dot, p);
            }
            Arg::Variable { idents, .. } => {
                self.at = At::Arg(first);
                return self.eval_variable(dot, idents, &cmd.args, final_);
            }
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.err("nil is not a command")),
            Arg::Number { num, .. } => self.ideal_constant(num),
            Arg::String { text, .. } => Ok(Value::str(text.as_slice())),
            _ => Err(self.err(format!(
                "can't evaluate command {}",
                text::quote_str(&first.to_string())
            ))),
        }
    }

    fn ideal_constant(&mut self, num: &Number) -> R<Value> {
        let t = &num.text;
        let is_hex_int = t.len() > 2
            && t.starts_with('0')
            && matches!(t.as_bytes().get(1), Some(b'x' | b'X'))
            && !t.contains(['p', 'P']);
        let is_rune_int = t.starts_with('\'');
        if num.is_float && !is_hex_int && !is_rune_int && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(num.float));
        }
        if num.is_int {
            return Ok(Value::int(num.int));
        }
        if num.is_uint {
            return Err(self.err(format!("{t} overflows int")));
        }
        Ok(Value::Nil)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        receiver: Value,
        idents: &'a [String],
        args: &'a [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let _ = dot;
        let n = idents.len();
        let mut recv = receiver;
        for id in idents.iter().take(n.saturating_sub(1)) {
            recv = self.eval_field(id, &[], None, recv)?;
        }
        match idents.last() {
            Some(last) => self.eval_field(last, args, final_, recv),
            None => Ok(recv),
        }
    }

    fn eval_field(
        &mut self,
        name: &str,
        args: &[Arg],
        final_: Option<Value>,
        receiver: Value,
    ) -> R<Value> {
        match &receiver {
            Value::Nil => Ok(Value::Nil),
            Value::Map(id) => {
                if args.len() > 1 || final_.is_some() {
                    return Err(self.err(format!("{name} is not a method but has arguments")));
                }
                Ok(self
                    .heap
                    .map(*id)
                    .entries
                    .get(name.as_bytes())
                    .cloned()
                    .unwrap_or(Value::Nil))
            }
            other => Err(self.err(format!(
                "can't evaluate field {name} in type {}",
                self.heap.type_name(other)
            ))),
        }
    }

    fn eval_chain(
        &mut self,
        dot: &Value,
        chain: &'a Arg,
        node: &'a Arg,
        fields: &'a [String],
        args: &'a [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(chain);
        if let Arg::Nil { .. } = node {
            return Err(self.err(format!("indirection through explicit nil in {chain}")));
        }
        let recv = self.eval_arg(dot, None, node)?;
        self.at = At::Arg(chain);
        self.eval_field_chain(dot, recv, fields, args, final_)
    }

    fn eval_variable(
        &mut self,
        dot: &Value,
        idents: &'a [String],
        args: &'a [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let first = idents.first().map(String::as_str).unwrap_or("$");
        let value = self.var_value(first)?;
        if idents.len() == 1 {
            self.not_a_function(args, &final_)?;
            return Ok(value);
        }
        self.eval_field_chain(
            dot,
            value,
            idents.get(1..).unwrap_or_default(),
            args,
            final_,
        )
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        name: &str,
        ctx: At<'a>,
        args: &'a [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let Some(func) = funcs::lookup(name) else {
            return Err(self.err(format!(
                "{} is not a defined function",
                text::quote_str(name)
            )));
        };
        self.eval_call(dot, func, ctx, name, args, final_)
    }

    fn eval_call(
        &mut self,
        dot: &Value,
        func: &'static Func,
        ctx: At<'a>,
        name: &str,
        args: &'a [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let args: &'a [Arg] = args.get(1..).unwrap_or_default();
        let num_in = args.len() + usize::from(final_.is_some());
        let num_fixed = func.params.len();
        if func.variadic.is_some() {
            if num_in < num_fixed {
                return Err(self.err(format!(
                    "wrong number of args for {name}: want at least {num_fixed} got {}",
                    args.len()
                )));
            }
        } else if num_in != num_fixed {
            return Err(self.err(format!(
                "wrong number of args for {name}: want {num_fixed} got {num_in}"
            )));
        }
        if let Kind::And | Kind::Or = func.kind {
            let want = matches!(func.kind, Kind::Or);
            let mut v = Value::Nil;
            for a in args {
                v = self.eval_arg(dot, Some(PType::Any), a)?;
                if self.heap.truth(&v) == want {
                    return Ok(v);
                }
            }
            if let Some(f) = final_ {
                v = f;
            }
            return Ok(v);
        }
        let mut argv: Vec<Value> = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            let t = match func.params.get(i) {
                Some(t) => *t,
                None => func.variadic.unwrap_or(PType::Any),
            };
            let v = self.eval_arg(dot, Some(t), a)?;
            argv.push(v);
        }
        if let Some(f) = final_ {
            let t = match func.variadic {
                Some(vt) => {
                    if num_in - 1 < num_fixed {
                        func.params.get(num_in - 1).copied().unwrap_or(vt)
                    } else {
                        vt
                    }
                }
                None => func.params.last().copied().unwrap_or(PType::Any),
            };
            let v = self.validate_type(f, Some(t))?;
            argv.push(v);
        }
        self.at = ctx;
        match func.kind {
            Kind::Call => {
                let callee = args
                    .first()
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "<nil>".to_string());
                let msg = match argv.first() {
                    None | Some(Value::Nil) => "call of nil".to_string(),
                    Some(v) => format!("non-function {callee} of type {}", self.heap.type_name(v)),
                };
                Err(self.err(format!("error calling call: {msg}")))
            }
            Kind::Plain(imp) => {
                let cost: u64 = if O1_IN_COLLECTIONS.contains(&name) {
                    argv.iter().map(|v| self.size_of(&v.as_str_value())).sum()
                } else {
                    argv.iter().map(|v| self.size_of(v)).sum()
                };
                self.charge(cost + STEP_COST)?;
                let cells_before = self.heap.cells;
                let result = {
                    let mut cx = Ctx {
                        heap: &mut self.heap,
                        literals: &self.trees.literals,
                        fuel: self.budget,
                    };
                    let r = imp(&mut cx, &argv);
                    self.budget = cx.fuel;
                    r
                };
                let allocated = self.heap.cells.saturating_sub(cells_before);
                self.charge(allocated.saturating_mul(CELL_COST))?;
                match result {
                    Ok(v) => {
                        if let Value::Str(s) = &v {
                            self.charge(s.len() as u64)?;
                        }
                        Ok(v)
                    }
                    Err(e) => Err(self.err(format!("error calling {name}: {e}"))),
                }
            }
            Kind::And | Kind::Or => Ok(Value::Nil),
        }
    }

    /// Work units charged for handling a value (bytes of strings, elements of collections).
    fn size_of(&self, v: &Value) -> u64 {
        match v {
            Value::Str(s) => s.len() as u64,
            Value::List(id) => self.heap.items(*id).len() as u64,
            Value::Map(id) => self.heap.map(*id).entries.len() as u64,
            _ => 0,
        }
    }

    fn validate_type(&mut self, value: Value, typ: Option<PType>) -> R<Value> {
        let Some(t) = typ else {
            return Ok(value);
        };
        if value.is_nil() {
            return match t {
                PType::Any | PType::Map => Ok(Value::Nil),
                _ => Err(self.err(format!("invalid value; expected {}", t.go_name()))),
            };
        }
        let ok = match t {
            PType::Any => true,
            PType::Str => matches!(value, Value::Str(_)),
            PType::Int => matches!(value, Value::Int(_, super::value::IntTy::Int)),
            PType::Bool => matches!(value, Value::Bool(_)),
            PType::Float => matches!(value, Value::Float(_)),
            PType::Map => match value {
                Value::Map(id) => self.heap.map(id).elem == Elem::Iface,
                _ => false,
            },
        };
        if ok {
            return Ok(value);
        }
        Err(self.err(format!(
            "wrong type for value; expected {}; got {}",
            t.go_name(),
            self.heap.type_name(&value)
        )))
    }

    fn eval_arg(&mut self, dot: &Value, typ: Option<PType>, n: &'a Arg) -> R<Value> {
        self.at = At::Arg(n);
        let v = match n {
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => {
                return match typ {
                    None | Some(PType::Any | PType::Map) => Ok(Value::Nil),
                    Some(t) => Err(self.err(format!("cannot assign nil to {}", t.go_name()))),
                };
            }
            Arg::Field { idents, .. } => {
                self.eval_field_chain(dot, dot.clone(), idents, std::slice::from_ref(n), None)?
            }
            Arg::Variable { idents, .. } => self.eval_variable(dot, idents, &[], None)?,
            Arg::Pipe(p) => self.eval_nested_pipeline(dot, p)?,
            Arg::Identifier { name, .. } => self.eval_function(dot, name, At::Arg(n), &[], None)?,
            Arg::Chain { node, fields, .. } => self.eval_chain(dot, n, node, fields, &[], None)?,
            Arg::Bool { val, .. } => {
                return match typ {
                    None | Some(PType::Any | PType::Bool) => Ok(Value::Bool(*val)),
                    Some(t) => Err(self.literal_mismatch(t, n)),
                };
            }
            Arg::String { text, .. } => {
                return match typ {
                    None | Some(PType::Any | PType::Str) => Ok(Value::str(text.as_slice())),
                    Some(t) => Err(self.literal_mismatch(t, n)),
                };
            }
            Arg::Number { num, .. } => {
                return match typ {
                    None | Some(PType::Any) => self.ideal_constant(num),
                    Some(PType::Int) if num.is_int => Ok(Value::int(num.int)),
                    Some(PType::Float) if num.is_float => Ok(Value::Float(num.float)),
                    Some(t) => Err(self.literal_mismatch(t, n)),
                };
            }
        };
        self.at = At::Arg(n);
        self.validate_type(v, typ)
    }

    fn literal_mismatch(&self, t: PType, n: &Arg) -> Flow {
        match t {
            PType::Bool => self.err(format!("expected bool; found {n}")),
            PType::Str => self.err(format!("expected string; found {n}")),
            PType::Int => self.err(format!("expected integer; found {n}")),
            PType::Float => self.err(format!("expected float; found {n}")),
            PType::Any | PType::Map => {
                self.err(format!("can't handle {n} for arg of type {}", t.go_name()))
            }
        }
    }
}
