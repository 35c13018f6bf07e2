//! Diff-preserving re-seal of a file (docs/operations.md, "Re-sealing a repository"): find every
//! SealedSecret document of a YAML or JSON file and the exact bytes of each
//! `spec.encryptedData` value, then replace only the values that change. Every other byte
//! (other documents, comments, key order, quoting, line endings) stays as it was.
//!
//! The meaning of a file comes from the same decoder kubeseal reads its input with
//! ([`goyaml::parse_documents`]); the byte positions come from the event parser under it
//! (granit, which reports spans). Both views are cross-checked: a value is only replaced where
//! both agree on the document, the key and the current value, and the rewritten text is decoded
//! again and compared with the expected objects before anyone writes it.

use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::Value;
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span};

use crate::keys::{PrivateKey, PublicKey};
use crate::types::{API_VERSION, KIND, SealedSecret};

/// Why a file could not be re-sealed in place. No variant quotes a value of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("{0}")]
    Syntax(String),
    /// The decoder and the event parser disagree about the documents (an alias, a merge key or
    /// a duplicated key under `spec.encryptedData`, or a layout the parser reads differently).
    #[error("cannot locate item {item:?} of SealedSecret {name:?} in the file")]
    Unlocated { name: String, item: String },
    /// The rewritten text does not decode to the expected objects (never written).
    #[error("rewriting SealedSecret {name:?} would change more than its items")]
    Unfaithful { name: String },
}

/// One SealedSecret document of a file, with where its items are.
#[derive(Debug, Clone)]
pub struct Located {
    /// The document as kubeseal decodes it.
    pub sealed_secret: SealedSecret,
    /// Index among the file's non-null documents.
    pub document: usize,
    items: BTreeMap<String, ValueSpan>,
}

#[derive(Debug, Clone)]
struct ValueSpan {
    range: Range<usize>,
    style: ScalarStyle,
}

/// A new ciphertext for one item of one located document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub document: usize,
    pub item: String,
    pub value: String,
}

/// Every SealedSecret document of `input` (`apiVersion: bitnami.com/v1alpha1`,
/// `kind: SealedSecret`) with the position of each of its `spec.encryptedData` values. A file
/// without one gives an empty list.
pub fn locate(input: &[u8]) -> Result<Vec<Located>, RewriteError> {
    let text = std::str::from_utf8(input).map_err(|_| RewriteError::NotUtf8)?;
    let decoded =
        goyaml::parse_documents(input).map_err(|e| RewriteError::Syntax(e.to_string()))?;
    let wanted: Vec<(usize, SealedSecret)> = decoded
        .into_iter()
        .enumerate()
        .filter(|(_, doc)| is_sealed_secret(doc))
        .filter_map(|(i, doc)| serde_json::from_value(doc).ok().map(|ss| (i, ss)))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let trees = parse_trees(text)?;
    let mut out = Vec::new();
    for (document, sealed_secret) in wanted {
        let spans = trees
            .get(document)
            .and_then(encrypted_data_spans)
            .unwrap_or_default();
        let mut items = BTreeMap::new();
        for (item, value) in &sealed_secret.spec.encrypted_data {
            let unlocated = || RewriteError::Unlocated {
                name: sealed_secret.metadata.name.clone(),
                item: item.clone(),
            };
            let (parsed, span) = spans.get(item.as_str()).ok_or_else(unlocated)?;
            if parsed != value || !replaceable(text, span) {
                return Err(unlocated());
            }
            items.insert(item.clone(), span.clone());
        }
        out.push(Located {
            sealed_secret,
            document,
            items,
        });
    }
    Ok(out)
}

fn is_sealed_secret(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some(KIND)
        && doc.get("apiVersion").and_then(Value::as_str) == Some(API_VERSION)
}

/// `input` with each change applied to exactly the bytes of its value, checked by decoding the
/// result again: the same documents, with only the changed items different.
pub fn rewrite(
    input: &[u8],
    located: &[Located],
    changes: &[Change],
) -> Result<Vec<u8>, RewriteError> {
    let text = std::str::from_utf8(input).map_err(|_| RewriteError::NotUtf8)?;
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for change in changes {
        let doc = located.iter().find(|l| l.document == change.document);
        let span = doc.and_then(|l| l.items.get(&change.item));
        let (Some(_), Some(span)) = (doc, span) else {
            return Err(RewriteError::Unlocated {
                name: doc
                    .map(|d| d.sealed_secret.metadata.name.clone())
                    .unwrap_or_default(),
                item: change.item.clone(),
            });
        };
        edits.push(replacement(text, span, &change.value));
    }
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, new) in &edits {
        out.push_str(text.get(at..range.start).unwrap_or_default());
        out.push_str(new);
        at = range.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    check_faithful(input, out.as_bytes(), changes)?;
    Ok(out.into_bytes())
}

/// The decoded documents of `after` are those of `before` with exactly `changes` applied.
fn check_faithful(before: &[u8], after: &[u8], changes: &[Change]) -> Result<(), RewriteError> {
    let syntax = |e: goyaml::CodecError| RewriteError::Syntax(e.to_string());
    let mut expected = goyaml::parse_documents(before).map_err(syntax)?;
    let actual = goyaml::parse_documents(after).map_err(syntax)?;
    for change in changes {
        if let Some(slot) = expected
            .get_mut(change.document)
            .and_then(|d| d.pointer_mut("/spec/encryptedData"))
            .and_then(|d| d.get_mut(&change.item))
        {
            *slot = Value::String(change.value.clone());
        }
    }
    // A block scalar's new value may end with a kept line break.
    let mut actual = actual;
    for change in changes {
        let pointer = format!(
            "/spec/encryptedData/{}",
            change.item.replace('~', "~0").replace('/', "~1")
        );
        if let Some(slot) = actual
            .get_mut(change.document)
            .and_then(|d| d.pointer_mut(&pointer))
            && unwrapped(slot).as_deref() == Some(change.value.as_str())
        {
            *slot = Value::String(change.value.clone());
        }
    }
    if expected == actual {
        return Ok(());
    }
    let name = changes
        .first()
        .and_then(|c| expected.get(c.document))
        .and_then(|d| d.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Err(RewriteError::Unfaithful { name })
}

/// Where a scalar's content is replaced and by what: the text between the quotes of a quoted
/// scalar (base64 needs no escaping in either quoting), the whole of a plain one (a multi-line
/// plain scalar becomes one line), and for a block scalar (`|`, `>`) its content, written as one
/// line in the same style (the header, the indentation and the chomping stay; base64 decoding
/// ignores the line break a kept newline adds, as Go's does).
fn replacement(text: &str, span: &ValueSpan, value: &str) -> (Range<usize>, String) {
    let r = span.range.clone();
    let range = match span.style {
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            r.start + 1..r.end.saturating_sub(1)
        }
        ScalarStyle::Literal | ScalarStyle::Folded => {
            let body = text.get(r.clone()).unwrap_or_default();
            r.start..r.start + body.trim_end().len()
        }
        _ => r,
    };
    (range, value.to_string())
}

/// Only spans whose bytes look like what their style says are edited.
fn replaceable(text: &str, span: &ValueSpan) -> bool {
    let Some(s) = text.get(span.range.clone()) else {
        return false;
    };
    match span.style {
        ScalarStyle::SingleQuoted => s.len() >= 2 && s.starts_with('\'') && s.ends_with('\''),
        ScalarStyle::DoubleQuoted => s.len() >= 2 && s.starts_with('"') && s.ends_with('"'),
        ScalarStyle::Literal | ScalarStyle::Folded => {
            // The content starts its own line, after the indentation.
            let before = text.get(..span.range.start).unwrap_or_default();
            !s.trim().is_empty() && before.trim_end_matches(' ').ends_with('\n')
        }
        ScalarStyle::Plain => !s.is_empty(),
    }
}

/// Base64 values compare without line breaks (what a block scalar adds).
fn unwrapped(v: &Value) -> Option<String> {
    v.as_str().map(|s| s.replace(['\r', '\n'], ""))
}

// ---------------------------------------------------------------------------------------------
// The event parser's view: a small tree per document, scalars with their byte spans.

#[derive(Debug)]
enum Node {
    Scalar {
        value: String,
        span: Option<ValueSpan>,
    },
    Mapping(Vec<(Node, Node)>),
    /// A sequence (its items are never needed).
    Sequence,
    Alias,
}

fn byte_range(span: &Span) -> Option<Range<usize>> {
    Some(span.start.byte_offset()?..span.end.byte_offset()?)
}

/// The non-null documents of `text` (goyaml drops null ones too).
fn parse_trees(text: &str) -> Result<Vec<Node>, RewriteError> {
    let mut docs = Vec::new();
    // Open collections: a mapping's children are pushed flat, paired at its end.
    let mut stack: Vec<(bool, Vec<Node>)> = Vec::new();
    let mut root: Option<Node> = None;
    for event in Parser::new_from_str(text) {
        // Only the position: a scanner message may quote the text.
        let (event, span) = event.map_err(|e| {
            RewriteError::Syntax(format!(
                "yaml: cannot parse line {} column {}",
                e.marker().line(),
                e.marker().col() + 1
            ))
        })?;
        let node = match event {
            Event::DocumentStart(..) => {
                root = None;
                continue;
            }
            Event::DocumentEnd => {
                if let Some(node) = root.take()
                    && !is_null(&node)
                {
                    docs.push(node);
                }
                continue;
            }
            Event::MappingStart(..) => {
                stack.push((true, Vec::new()));
                continue;
            }
            Event::SequenceStart(..) => {
                stack.push((false, Vec::new()));
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let Some((is_map, children)) = stack.pop() else {
                    continue;
                };
                if is_map {
                    let mut pairs = Vec::new();
                    let mut it = children.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Node::Mapping(pairs)
                } else {
                    Node::Sequence
                }
            }
            Event::Scalar(value, style, _, _) => Node::Scalar {
                value: value.into_owned(),
                span: byte_range(&span).map(|range| ValueSpan { range, style }),
            },
            Event::Alias(_) => Node::Alias,
            _ => continue,
        };
        match stack.last_mut() {
            Some((_, children)) => children.push(node),
            None => root = Some(node),
        }
    }
    Ok(docs)
}

fn is_null(node: &Node) -> bool {
    match node {
        Node::Scalar {
            value,
            span: Some(ValueSpan { style, .. }),
        } => {
            *style == ScalarStyle::Plain
                && matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL")
        }
        Node::Scalar { span: None, .. } => true,
        _ => false,
    }
}

fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    let Node::Mapping(pairs) = node else {
        return None;
    };
    // The last of duplicated keys wins, as in the decoder; `locate` cross-checks values anyway.
    pairs.iter().rev().find_map(|(k, v)| match k {
        Node::Scalar { value, .. } if value == key => Some(v),
        _ => None,
    })
}

fn encrypted_data_spans(root: &Node) -> Option<BTreeMap<&str, (&str, ValueSpan)>> {
    let data = get(get(root, "spec")?, "encryptedData")?;
    let Node::Mapping(pairs) = data else {
        return None;
    };
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if let (
            Node::Scalar { value: key, .. },
            Node::Scalar {
                value,
                span: Some(span),
            },
        ) = (k, v)
        {
            out.insert(key.as_str(), (value.as_str(), span.clone()));
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Which items change, offline.

/// Why an item could not be re-sealed offline. No variant carries plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResealItemError {
    #[error("SealedSecret {name:?}: item {item:?}: {source}")]
    Item {
        name: String,
        item: String,
        source: crate::Error,
    },
}

/// The items of `located` that the key of `target` does not already decrypt, each re-sealed for
/// `target` under the object's own scope; every other item keeps its bytes. `keys` are the
/// private keys of a backup; the one matching `target`, if present, decides which items are
/// current (without it every item is re-sealed). The work is spread over the available cores;
/// the result is in document and item order.
pub fn reseal_offline(
    located: &[Located],
    keys: &[PrivateKey],
    target: &PublicKey,
) -> Result<Vec<Change>, ResealItemError> {
    let current = keys
        .iter()
        .find(|k| k.public_key().spki_der() == target.spki_der());
    let jobs: Vec<(&Located, &String, &String)> = located
        .iter()
        .flat_map(|l| {
            l.sealed_secret
                .spec
                .encrypted_data
                .iter()
                .map(move |(k, v)| (l, k, v))
        })
        .collect();
    let work = |(l, item, value): &(&Located, &String, &String)| {
        reseal_item(l, item, value, keys, current, target)
    };
    let results = crate::parallel::map(&jobs, work);
    let mut out = Vec::new();
    for r in results {
        if let Some(change) = r? {
            out.push(change);
        }
    }
    Ok(out)
}

fn reseal_item(
    l: &Located,
    item: &str,
    value: &str,
    keys: &[PrivateKey],
    current: Option<&PrivateKey>,
    target: &PublicKey,
) -> Result<Option<Change>, ResealItemError> {
    use crate::keys::Decrypter as _;
    let ss = &l.sealed_secret;
    let fail = |source: crate::Error| ResealItemError::Item {
        name: ss.metadata.name.clone(),
        item: item.to_string(),
        source,
    };
    let label = ss.scope().label(&ss.metadata.namespace, &ss.metadata.name);
    let ciphertext = go_semantics::base64::decode(value.as_bytes()).map_err(|e| fail(e.into()))?;
    if current.is_some_and(|k| k.decrypt(&ciphertext, &label).is_ok()) {
        return Ok(None);
    }
    let plain = keys.decrypt(&ciphertext, &label).map_err(fail)?;
    let sealed = target
        .encrypt(plain.as_bytes(), &label)
        .map_err(|e| fail(e.into()))?;
    Ok(Some(Change {
        document: l.document,
        item: item.to_string(),
        value: go_semantics::base64::encode(&sealed),
    }))
}

/// For the controller's `/v1/rotate` (docs/operations.md): put back the original ciphertext of
/// every item that the latest key already decrypts under the object's scope, so that a re-seal
/// changes only what needs it. `original` is the request, `resealed` the re-sealed answer.
pub fn keep_current_items(
    original: &SealedSecret,
    resealed: &mut SealedSecret,
    latest: &PrivateKey,
) {
    if original.spec.data.is_some() {
        return;
    }
    let label = original
        .scope()
        .label(&original.metadata.namespace, &original.metadata.name);
    for (item, value) in &original.spec.encrypted_data {
        let current = go_semantics::base64::decode(value.as_bytes())
            .ok()
            .is_some_and(|ct| latest.decrypt(&ct, &label).is_ok());
        if current && let Some(slot) = resealed.spec.encrypted_data.get_mut(item) {
            slot.clone_from(value);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::keys::Certificate;

    const OLD_CERT: &[u8] = include_bytes!("../tests/fixtures/keys/cert.pem");
    const OLD_KEY: &[u8] = include_bytes!("../tests/fixtures/keys/key-pkcs1.pem");
    const NEW_CERT: &[u8] = include_bytes!("../tests/fixtures/keys/other-cert.pem");
    const NEW_KEY: &[u8] = include_bytes!("../tests/fixtures/keys/other-key.pem");

    fn public(pem: &[u8]) -> PublicKey {
        Certificate::from_pem(pem).unwrap().public_key
    }

    fn keys() -> Vec<PrivateKey> {
        vec![
            PrivateKey::from_pem(OLD_KEY).unwrap(),
            PrivateKey::from_pem(NEW_KEY).unwrap(),
        ]
    }

    /// The corpus with every `<<old|new:label:plaintext>>` sealed for real.
    fn seal_placeholders(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("<<") {
            out.push_str(&rest[..i]);
            let end = rest[i..].find(">>").unwrap() + i;
            let spec = &rest[i + 2..end];
            let (which, spec) = spec.split_once(':').unwrap();
            let (label, plain) = spec.split_once(':').unwrap();
            let key = public(if which == "old" { OLD_CERT } else { NEW_CERT });
            let ct = key.encrypt(plain.as_bytes(), label.as_bytes()).unwrap();
            out.push_str(&go_semantics::base64::encode(&ct));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    let text = std::fs::read_to_string(&p).unwrap();
                    out.push((p, seal_placeholders(&text).into_bytes()));
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reseal/repo"),
            &mut out,
        );
        // The same multi-document file with Windows line endings.
        let crlf = out
            .iter()
            .find(|(p, _)| p.ends_with("sealed-db.yaml"))
            .map(|(_, b)| String::from_utf8(b.clone()).unwrap().replace('\n', "\r\n"))
            .unwrap();
        out.push((PathBuf::from("crlf/sealed-db.yaml"), crlf.into_bytes()));
        out
    }

    fn open(l: &Located, item: &str, value: &str) -> Vec<u8> {
        use crate::keys::Decrypter as _;
        let ss = &l.sealed_secret;
        let label = ss.scope().label(&ss.metadata.namespace, &ss.metadata.name);
        let ct = go_semantics::base64::decode(value.as_bytes()).unwrap();
        keys()
            .decrypt(&ct, &label)
            .unwrap_or_else(|_| panic!("{item}"))
            .as_bytes()
            .to_vec()
    }

    /// Re-seals the corpus for the new key: only old-key items change, byte for byte in place;
    /// files without one stay identical; the output decodes to the same documents but for the
    /// changed items, which open to the same plaintext under the new key alone.
    #[test]
    fn reseals_only_old_key_items_in_place() {
        let target = public(NEW_CERT);
        let new_only = vec![PrivateKey::from_pem(NEW_KEY).unwrap()];
        let mut changed_files = Vec::new();
        let mut changed_items = 0;
        for (path, input) in corpus() {
            let name = path.display().to_string();
            let located = match locate(&input) {
                Ok(l) => l,
                Err(e) => {
                    assert!(name.ends_with(".md"), "{name}: {e}");
                    continue;
                }
            };
            let changes = reseal_offline(&located, &keys(), &target).unwrap();
            if changes.is_empty() {
                continue;
            }
            let output = rewrite(&input, &located, &changes).unwrap();
            changed_files.push(path.file_name().unwrap().to_string_lossy().into_owned());
            changed_items += changes.len();

            // Every change is an item the new key did not open; every other item kept its bytes.
            let after = locate(&output).unwrap();
            assert_eq!(after.len(), located.len(), "{name}");
            for (before, after) in located.iter().zip(&after) {
                for (item, old) in &before.sealed_secret.spec.encrypted_data {
                    let new = &after.sealed_secret.spec.encrypted_data[item];
                    let was_changed = changes
                        .iter()
                        .any(|c| c.document == before.document && &c.item == item);
                    let label = before.sealed_secret.scope().label(
                        &before.sealed_secret.metadata.namespace,
                        &before.sealed_secret.metadata.name,
                    );
                    let old_ct = go_semantics::base64::decode(old.as_bytes()).unwrap();
                    use crate::keys::Decrypter as _;
                    let was_current = new_only.decrypt(&old_ct, &label).is_ok();
                    assert_eq!(was_changed, !was_current, "{name} {item}");
                    if was_changed {
                        assert_ne!(old, new);
                        let new_ct =
                            go_semantics::base64::decode(new.replace('\n', "").as_bytes()).unwrap();
                        assert!(new_only.decrypt(&new_ct, &label).is_ok(), "{name} {item}");
                        assert_eq!(open(before, item, old), open(after, item, new));
                    } else {
                        assert_eq!(old, new, "{name} {item}");
                    }
                }
            }
            // Other documents and fields decode the same.
            let mut before_docs = goyaml::parse_documents(&input).unwrap();
            let after_docs = goyaml::parse_documents(&output).unwrap();
            for (b, a) in before_docs.iter_mut().zip(&after_docs) {
                if let (Some(b), Some(a)) = (
                    b.pointer_mut("/spec/encryptedData"),
                    a.pointer("/spec/encryptedData"),
                ) {
                    *b = a.clone();
                }
            }
            assert_eq!(before_docs, after_docs, "{name}");

            // A git-style diff: the same lines but one per changed single-line item.
            let (bl, al): (Vec<&[u8]>, Vec<&[u8]>) = (
                input.split(|b| *b == b'\n').collect(),
                output.split(|b| *b == b'\n').collect(),
            );
            let multi_line = name.ends_with("sealed.yml");
            if !multi_line {
                assert_eq!(bl.len(), al.len(), "{name}");
                let differing = bl.iter().zip(&al).filter(|(b, a)| b != a).count();
                let on_lines: std::collections::BTreeSet<usize> = changes
                    .iter()
                    .map(|c| {
                        let l = located.iter().find(|l| l.document == c.document).unwrap();
                        let start = l.items[&c.item].range.start;
                        input[..start].iter().filter(|b| **b == b'\n').count()
                    })
                    .collect();
                assert_eq!(differing, on_lines.len(), "{name}");
            }
            // Outside the values, not a byte moved: strip every value and compare.
            let strip = |text: &[u8], located: &[Located]| {
                let text = std::str::from_utf8(text).unwrap();
                let mut spans: Vec<Range<usize>> = located
                    .iter()
                    .flat_map(|l| l.items.values().map(|s| replacement(text, s, "").0))
                    .collect();
                spans.sort_by_key(|r| r.start);
                let mut out = String::new();
                let mut at = 0;
                for r in spans {
                    out.push_str(&text[at..r.start]);
                    at = r.end;
                }
                out.push_str(&text[at..]);
                out
            };
            assert_eq!(strip(&input, &located), strip(&output, &after), "{name}");
        }
        changed_files.sort();
        assert_eq!(
            changed_files,
            [
                "sealed-api.json",
                "sealed-db.yaml",
                "sealed-db.yaml",
                "sealed.yml"
            ]
        );
        // db-creds 2, tls 1 (twice: LF and CRLF), api-token 1, staging 2.
        assert_eq!(changed_items, 2 + 1 + 2 + 1 + 1 + 2);
    }

    #[test]
    fn locates_sealed_secrets_only() {
        let corpus = corpus();
        let file = |suffix: &str| &corpus.iter().find(|(p, _)| p.ends_with(suffix)).unwrap().1;
        let db = locate(file("prod/sealed-db.yaml")).unwrap();
        let names: Vec<(&str, usize)> = db
            .iter()
            .map(|l| (l.sealed_secret.metadata.name.as_str(), l.document))
            .collect();
        assert_eq!(
            names,
            [("db-creds", 1), ("tls", 2)],
            "the ConfigMap is document 0"
        );
        assert!(locate(file("base/deployment.yaml")).unwrap().is_empty());
        assert!(locate(file("base/kustomization.yaml")).unwrap().is_empty());
        let staging = locate(file("staging/sealed.yml")).unwrap();
        assert_eq!(
            staging[0].sealed_secret.scope(),
            crate::scope::Scope::NamespaceWide
        );
        assert_eq!(
            staging[1].sealed_secret.scope(),
            crate::scope::Scope::ClusterWide
        );
        assert_eq!(
            staging[0].items["password"].style,
            ScalarStyle::Literal,
            "block scalars are located"
        );
    }

    #[test]
    fn refuses_what_it_cannot_place() {
        // An item behind an alias has no bytes of its own.
        let aliased = b"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: b}\nx: &v AgAA\nspec:\n  encryptedData:\n    k: *v\n";
        assert_eq!(
            locate(aliased).unwrap_err(),
            RewriteError::Unlocated {
                name: "a".into(),
                item: "k".into()
            }
        );
        assert!(matches!(
            locate(b"a: [\n").unwrap_err(),
            RewriteError::Syntax(_)
        ));
        assert_eq!(locate(b"\xff\xfe").unwrap_err(), RewriteError::NotUtf8);
        // A change for an item that is not there.
        let text = seal_placeholders(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: b}\nspec:\n  encryptedData:\n    k: <<old:b/a:x>>\n",
        );
        let located = locate(text.as_bytes()).unwrap();
        let change = Change {
            document: 0,
            item: "nope".into(),
            value: "AgBB".into(),
        };
        assert!(matches!(
            rewrite(text.as_bytes(), &located, &[change]).unwrap_err(),
            RewriteError::Unlocated { .. }
        ));
        // A value that would change the document's meaning is refused, not written.
        let change = Change {
            document: 0,
            item: "k".into(),
            value: "a: b".into(),
        };
        assert!(rewrite(text.as_bytes(), &located, &[change]).is_err());
    }

    #[test]
    fn offline_fails_on_an_item_no_key_opens() {
        let text = seal_placeholders(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: b}\nspec:\n  encryptedData:\n    k: <<old:b/other:x>>\n",
        );
        let located = locate(text.as_bytes()).unwrap();
        let e = reseal_offline(&located, &keys(), &public(NEW_CERT)).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"SealedSecret "a": item "k": no key could decrypt secret"#
        );
    }

    /// Without the target's private key, every item is re-sealed.
    #[test]
    fn offline_without_the_target_key_reseals_everything() {
        let text = seal_placeholders(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: b}\nspec:\n  encryptedData:\n    k: <<new:b/a:x>>\n    l: <<old:b/a:y>>\n",
        );
        let located = locate(text.as_bytes()).unwrap();
        let old_only = vec![
            PrivateKey::from_pem(OLD_KEY).unwrap(),
            PrivateKey::from_pem(NEW_KEY).unwrap(),
        ];
        let changes = reseal_offline(&located, &old_only[1..], &public(OLD_CERT)).unwrap_err();
        assert!(changes.to_string().contains("\"l\""), "{changes}");
        let changes = reseal_offline(&located, &old_only, &public(OLD_CERT)).unwrap();
        let items: Vec<&str> = changes.iter().map(|c| c.item.as_str()).collect();
        assert_eq!(items, ["k"]);
    }

    #[test]
    fn keep_current_items_restores_only_latest_key_items() {
        let text = seal_placeholders(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: b}\nspec:\n  encryptedData:\n    k: <<new:b/a:x>>\n    l: <<old:b/a:y>>\n",
        );
        let original = locate(text.as_bytes()).unwrap().remove(0).sealed_secret;
        let mut resealed = original.clone();
        for v in resealed.spec.encrypted_data.values_mut() {
            *v = "fresh".into();
        }
        keep_current_items(
            &original,
            &mut resealed,
            &PrivateKey::from_pem(NEW_KEY).unwrap(),
        );
        assert_eq!(
            resealed.spec.encrypted_data["k"],
            original.spec.encrypted_data["k"]
        );
        assert_eq!(resealed.spec.encrypted_data["l"], "fresh");
    }
}
