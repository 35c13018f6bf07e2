//! Source lines of documents and mapping keys, for messages that point into a file (kubeseal
//! `--lint`). Values still come from [`crate::parse_documents`]; this only reads the YAML event
//! stream's positions, so it never changes what a document means.

use serde_saphyr::granit_parser::{Event, Parser};

/// Where one document of a stream and its mapping keys are: 1-based lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentLines {
    /// The line of the document's first node.
    pub line: usize,
    /// Every mapping key (as a path of keys from the root; sequence items are their index) and
    /// the line it is on.
    keys: Vec<(Vec<String>, usize)>,
}

impl DocumentLines {
    /// The line of the deepest key on `path` that the document has (the document's line when
    /// none).
    pub fn line_of(&self, path: &[String]) -> usize {
        (0..=path.len())
            .rev()
            .find_map(|n| {
                let prefix = path.get(..n)?;
                self.keys
                    .iter()
                    .find(|(k, _)| k.as_slice() == prefix)
                    .map(|(_, line)| *line)
            })
            .unwrap_or(self.line)
    }
}

enum Open {
    /// A mapping: the key whose value comes next, if a key was read.
    Mapping(Option<String>),
    /// A sequence: the index of the next item.
    Sequence(usize),
}

/// The lines of every document of `text` whose root is a mapping, in stream order: the
/// documents [`crate::parse_documents`] returns as objects, as long as the stream parses (on a
/// syntax error, the documents before it).
pub fn mapping_document_lines(text: &str) -> Vec<DocumentLines> {
    let mut out = Vec::new();
    let mut current: Option<DocumentLines> = None;
    let mut stack: Vec<Open> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else { break };
        let line = span.start.line();
        // The path of the node this event starts (for a key scalar: the key's own path).
        let is_key = matches!(stack.last(), Some(Open::Mapping(None)));
        match event {
            Event::DocumentStart(..) => {
                current = None;
                stack.clear();
                path.clear();
            }
            Event::DocumentEnd => {
                out.extend(current.take());
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if stack.is_empty() {
                    if matches!(event, Event::MappingStart(..)) {
                        current = Some(DocumentLines {
                            line,
                            keys: Vec::new(),
                        });
                    }
                } else {
                    // A collection used as a key gets an empty segment (popped at its end).
                    path.push(value_segment(&mut stack).unwrap_or_default());
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Open::Mapping(None)
                } else {
                    Open::Sequence(0)
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                if !stack.is_empty() {
                    path.pop();
                }
            }
            Event::Scalar(value, ..) if is_key => {
                let mut key_path = path.clone();
                key_path.push(value.to_string());
                if let Some(doc) = current.as_mut() {
                    doc.keys.push((key_path, line));
                }
                if let Some(Open::Mapping(k)) = stack.last_mut() {
                    *k = Some(value.into_owned());
                }
            }
            Event::Scalar(..) | Event::Alias(..) => {
                value_segment(&mut stack);
            }
            _ => {}
        }
    }
    out
}

/// The path segment of the value that starts now, advancing the open collection.
fn value_segment(stack: &mut [Open]) -> Option<String> {
    match stack.last_mut()? {
        Open::Mapping(key) => key.take(),
        Open::Sequence(i) => {
            let seg = i.to_string();
            *i += 1;
            Some(seg)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn p(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lines_of_keys_in_a_multi_document_stream() {
        let text = "# a comment\n---\nkind: Secret\nmetadata:\n  name: x\ndata:\n  a: b\n---\n---\n- 1\n---\napiVersion: v1\nkind: List\nitems:\n- kind: A\n  spec: {k: v}\n";
        let docs = mapping_document_lines(text);
        assert_eq!(docs.len(), 2, "the sequence document is left out");
        assert_eq!(docs[0].line, 3);
        assert_eq!(docs[0].line_of(&p(&["data", "a"])), 7);
        assert_eq!(docs[0].line_of(&p(&["metadata", "name"])), 5);
        assert_eq!(docs[0].line_of(&p(&["metadata", "nope"])), 4);
        assert_eq!(docs[0].line_of(&p(&["nope"])), 3);
        assert_eq!(docs[1].line, 12);
        assert_eq!(docs[1].line_of(&p(&["items", "0", "spec", "k"])), 16);
        let json = mapping_document_lines(
            "{\n  \"kind\": \"Secret\",\n  \"data\": {\n    \"a\": \"b\"\n  }\n}\n",
        );
        assert_eq!(json[0].line_of(&p(&["data", "a"])), 4);
        // A syntax error keeps what came before it.
        assert_eq!(mapping_document_lines("a: 1\n---\nb: [\n").len(), 1);
    }
}
