//! Runtime values: a small model of the Go types a template can meet.
//!
//! Lists and maps live in a per-render [`Heap`] and are referenced by index,
//! which gives Go's reference semantics for maps (`set` mutates in place)
//! without reference cycles or recursive drops. `Value` deliberately has no
//! `Debug` implementation: values are secrets.

use std::collections::BTreeMap;
use std::sync::Arc;

/// The Go integer types a template can produce.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum IntTy {
    /// `int` (number literals, `len`, `atoi`, `int`, range indexes)
    Int,
    /// `int64` (Sprig arithmetic)
    Int64,
    /// `uint8` (indexing a string)
    Uint8,
}

/// Element type of a list (`[]T`) or map (`map[string]T`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    /// `interface {}`
    Iface,
    /// `string`
    Str,
    /// `int`
    Int,
    /// `[]interface {}`
    IfaceList,
}

#[derive(Clone)]
pub enum Value {
    /// Go's invalid `reflect.Value` / nil interface.
    Nil,
    Bool(bool),
    Int(i64, IntTy),
    Float(f64),
    Str(Arc<[u8]>),
    List(usize),
    Map(usize),
}

impl Value {
    pub fn str(b: impl Into<Arc<[u8]>>) -> Value {
        Value::Str(b.into())
    }

    pub fn int(i: i64) -> Value {
        Value::Int(i, IntTy::Int)
    }

    pub fn int64(i: i64) -> Value {
        Value::Int(i, IntTy::Int64)
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The value itself if it is a string, else nil (for cost accounting).
    pub fn as_str_value(&self) -> Value {
        match self {
            Value::Str(_) => self.clone(),
            _ => Value::Nil,
        }
    }

    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

pub struct ListObj {
    pub elem: Elem,
    pub items: Vec<Value>,
    /// A nil slice (JSON `null`, `DeepEqual` differs from an empty slice).
    pub nil: bool,
}

pub struct MapObj {
    pub elem: Elem,
    pub entries: BTreeMap<Vec<u8>, Value>,
}

static EMPTY_LIST: ListObj = ListObj {
    elem: Elem::Iface,
    items: Vec::new(),
    nil: true,
};

static EMPTY_MAP: MapObj = MapObj {
    elem: Elem::Iface,
    entries: BTreeMap::new(),
};

#[derive(Default)]
pub struct Heap {
    lists: Vec<ListObj>,
    maps: Vec<MapObj>,
    /// Objects and elements allocated so far (for the work budget).
    pub cells: u64,
}

impl Heap {
    pub fn new_list(&mut self, elem: Elem, items: Vec<Value>) -> Value {
        self.cells += 1 + items.len() as u64;
        self.lists.push(ListObj {
            elem,
            items,
            nil: false,
        });
        Value::List(self.lists.len() - 1)
    }

    pub fn nil_list(&mut self, elem: Elem) -> Value {
        self.cells += 1;
        self.lists.push(ListObj {
            elem,
            items: Vec::new(),
            nil: true,
        });
        Value::List(self.lists.len() - 1)
    }

    pub fn new_map(&mut self, elem: Elem, entries: BTreeMap<Vec<u8>, Value>) -> Value {
        self.cells += 1 + entries.len() as u64;
        self.maps.push(MapObj { elem, entries });
        Value::Map(self.maps.len() - 1)
    }

    pub fn list(&self, id: usize) -> &ListObj {
        self.lists.get(id).unwrap_or(&EMPTY_LIST)
    }

    pub fn items(&self, id: usize) -> &[Value] {
        &self.list(id).items
    }

    pub fn map(&self, id: usize) -> &MapObj {
        self.maps.get(id).unwrap_or(&EMPTY_MAP)
    }

    /// Sprig's `set`: insert into an existing map (reference semantics).
    pub fn map_insert(&mut self, id: usize, key: Vec<u8>, value: Value) {
        let added = self
            .maps
            .get_mut(id)
            .is_some_and(|m| m.entries.insert(key, value).is_none());
        if added {
            self.cells += 1;
        }
    }

    /// Sprig's `unset`.
    pub fn map_remove(&mut self, id: usize, key: &[u8]) {
        if let Some(m) = self.maps.get_mut(id) {
            m.entries.remove(key);
        }
    }

    /// Go's type name as `%T` prints it.
    pub fn type_name(&self, v: &Value) -> &'static str {
        match v {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_, IntTy::Int) => "int",
            Value::Int(_, IntTy::Int64) => "int64",
            Value::Int(_, IntTy::Uint8) => "uint8",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(id) => match self.list(*id).elem {
                Elem::Iface => "[]interface {}",
                Elem::Str => "[]string",
                Elem::Int => "[]int",
                Elem::IfaceList => "[][]interface {}",
            },
            Value::Map(id) => match self.map(*id).elem {
                Elem::Str => "map[string]string",
                _ => "map[string]interface {}",
            },
        }
    }

    /// `reflect.Kind` name.
    pub fn kind_name(&self, v: &Value) -> &'static str {
        match v {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_, IntTy::Int) => "int",
            Value::Int(_, IntTy::Int64) => "int64",
            Value::Int(_, IntTy::Uint8) => "uint8",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
        }
    }

    /// Length for strings, lists and maps.
    pub fn len_of(&self, v: &Value) -> Option<usize> {
        match v {
            Value::Str(s) => Some(s.len()),
            Value::List(id) => Some(self.items(*id).len()),
            Value::Map(id) => Some(self.map(*id).entries.len()),
            _ => None,
        }
    }

    /// text/template's `isTrue` (also Sprig's `!empty`).
    pub fn truth(&self, v: &Value) -> bool {
        match v {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i, _) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(id) => !self.items(*id).is_empty(),
            Value::Map(id) => !self.map(*id).entries.is_empty(),
        }
    }

    /// `reflect.DeepEqual` (depth-limited: too deep compares unequal).
    /// `fuel` is decremented per node visited; at zero the result is `false`
    /// and the caller reports the exhausted work budget.
    pub fn deep_equal(&self, a: &Value, b: &Value, depth: usize, fuel: &mut u64) -> bool {
        if depth > super::MAX_VALUE_DEPTH || *fuel < super::COMPARE_COST {
            *fuel = 0;
            return false;
        }
        *fuel -= super::COMPARE_COST;
        match (a, b) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Int(x, tx), Value::Int(y, ty)) => tx == ty && x == y,
            (Value::Float(x), Value::Float(y)) => x == y,
            (Value::Str(x), Value::Str(y)) => x == y,
            (Value::List(x), Value::List(y)) => {
                let (lx, ly) = (self.list(*x), self.list(*y));
                if lx.elem != ly.elem || lx.nil != ly.nil || lx.items.len() != ly.items.len() {
                    return false;
                }
                if x == y {
                    return true;
                }
                lx.items
                    .iter()
                    .zip(ly.items.iter())
                    .all(|(p, q)| self.deep_equal(p, q, depth + 1, fuel))
            }
            (Value::Map(x), Value::Map(y)) => {
                let (mx, my) = (self.map(*x), self.map(*y));
                if mx.elem != my.elem || mx.entries.len() != my.entries.len() {
                    return false;
                }
                if x == y {
                    return true;
                }
                mx.entries.iter().all(|(k, v)| match my.entries.get(k) {
                    Some(w) => self.deep_equal(v, w, depth + 1, fuel),
                    None => false,
                })
            }
            _ => false,
        }
    }

    /// Deep copy of lists and maps (Sprig's `deepCopy`).
    pub fn deep_copy(&mut self, v: &Value, depth: usize, fuel: &mut u64) -> Result<Value, String> {
        if depth > super::MAX_VALUE_DEPTH {
            return Err("value nesting too deep".into());
        }
        if *fuel < super::CELL_COST {
            *fuel = 0;
            return Err(super::BUDGET_EXCEEDED.into());
        }
        *fuel -= super::CELL_COST;
        Ok(match v {
            Value::List(id) => {
                let (elem, nil, items) = {
                    let l = self.list(*id);
                    (l.elem, l.nil, l.items.clone())
                };
                let mut out = Vec::with_capacity(items.len());
                for it in &items {
                    out.push(self.deep_copy(it, depth + 1, fuel)?);
                }
                if nil {
                    self.nil_list(elem)
                } else {
                    self.new_list(elem, out)
                }
            }
            Value::Map(id) => {
                let (elem, entries) = {
                    let m = self.map(*id);
                    (m.elem, m.entries.clone())
                };
                let mut out = BTreeMap::new();
                for (k, it) in entries {
                    let c = self.deep_copy(&it, depth + 1, fuel)?;
                    out.insert(k, c);
                }
                self.new_map(elem, out)
            }
            other => other.clone(),
        })
    }
}
