//! `kubeseal --lint PATH...` (docs/operations.md "Offline lint"): walks files and directory trees
//! (`*.yaml`, `*.yml`, `*.json`), resolves the Kustomize layouts around them, hands every document
//! to the core's rules (`sealed_secrets::lint`) and prints the findings as text
//! (`file:line: message [rule]`), JSON (`-o json`), YAML (`-o yaml`) or SARIF 2.1.0
//! (`-o sarif`, what GitHub code scanning reads). No cluster is contacted.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use sealed_secrets::keys::{Decrypter, PublicKey};
use sealed_secrets::lint::{Context, Finding, Kustomization, Layout, Rename, Rule, lint_document};
use serde_json::{Value, json};

use crate::goerr::PathError;
use crate::walk::{Found, is_manifest};

/// The names Kustomize looks for in a directory, in its order.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
/// Kustomizations including kustomizations deeper than this are not followed (a cycle guard).
const MAX_DEPTH: usize = 32;

/// One finding, located.
pub struct Located {
    pub file: String,
    pub line: usize,
    pub finding: Finding,
}

/// What a lint run found.
pub struct Report {
    pub files: usize,
    pub documents: usize,
    pub findings: Vec<Located>,
}

impl Report {
    pub fn empty() -> Self {
        Report {
            files: 0,
            documents: 0,
            findings: Vec::new(),
        }
    }
}

fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| KUSTOMIZATION_FILES.contains(&n))
}

fn read_kustomization(dir: &Path) -> Option<Kustomization> {
    let file = KUSTOMIZATION_FILES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())?;
    let bytes = std::fs::read(file).ok()?;
    let doc = goyaml::parse_documents(&bytes).ok()?.into_iter().next()?;
    Some(Kustomization::from_document(&doc))
}

/// The files a kustomization directory includes (through `resources`, `bases` and `components`,
/// directly or through other kustomization directories) with what it does to their names.
/// Unreadable or remote entries are skipped: lint only checks what the repository holds.
fn included(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, Rename)>) {
    let Some(k) = read_kustomization(dir) else {
        return;
    };
    if depth > MAX_DEPTH {
        return;
    }
    for entry in &k.resources {
        if Kustomization::is_remote(entry) {
            continue;
        }
        let Ok(path) = std::fs::canonicalize(dir.join(entry)) else {
            continue;
        };
        if path.is_dir() {
            let mut inner = Vec::new();
            included(&path, depth + 1, &mut inner);
            out.extend(inner.into_iter().map(|(f, r)| (f, r.then(&k.rename))));
        } else {
            out.push((path, k.rename.clone()));
        }
    }
}

/// For every walked file, the kustomizations (walked too) that rename or move what it holds.
fn layouts(walked: &[Found]) -> HashMap<PathBuf, Vec<Layout>> {
    let mut out: HashMap<PathBuf, Vec<Layout>> = HashMap::new();
    for k in walked.iter().filter(|w| is_kustomization(&w.canonical)) {
        let Some(dir) = k.canonical.parent() else {
            continue;
        };
        let mut files = Vec::new();
        included(dir, 0, &mut files);
        for (file, rename) in files {
            if rename.is_identity() {
                continue;
            }
            let layout = Layout {
                kustomization: k.shown.clone(),
                rename,
            };
            let list = out.entry(file).or_default();
            if !list.contains(&layout) {
                list.push(layout);
            }
        }
    }
    out
}

/// Lints the files below `paths`.
pub fn lint(
    paths: &[String],
    cert: Option<&PublicKey>,
    keys: Option<&dyn Decrypter>,
) -> Result<Report, PathError> {
    let walked = crate::walk::files(paths, |p| is_manifest(p) || is_kustomization(p))?;
    let layouts = layouts(&walked);
    let ctx = Context { cert, keys };
    let mut report = Report::empty();
    for file in walked.iter().filter(|w| is_manifest(&w.canonical)) {
        report.files += 1;
        let bytes = std::fs::read(&file.canonical).map_err(PathError::on("open", &file.shown))?;
        let docs = match goyaml::parse_documents(&bytes) {
            Ok(docs) => docs,
            Err(e) => {
                report.findings.push(Located {
                    file: file.shown.clone(),
                    line: 1,
                    finding: Finding::unparsable(&e),
                });
                continue;
            }
        };
        let objects: Vec<Value> = docs.into_iter().filter(Value::is_object).collect();
        // Lines come from the YAML event stream; should it disagree with the decoder on how many
        // documents there are, every finding points at line 1 rather than at a wrong line.
        let lines = goyaml::mapping_document_lines(&String::from_utf8_lossy(&bytes));
        let lines = (lines.len() == objects.len()).then_some(lines);
        let here = layouts
            .get(&file.canonical)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, doc) in objects.iter().enumerate() {
            report.documents += 1;
            for finding in lint_document(doc, here, ctx) {
                let line = lines
                    .as_ref()
                    .and_then(|l| l.get(i))
                    .map_or(1, |d| d.line_of(&finding.field));
                report.findings.push(Located {
                    file: file.shown.clone(),
                    line,
                    finding,
                });
            }
        }
    }
    Ok(report)
}

/// The report in an output format; `None` for an unknown one.
pub fn render(report: &Report, format: Option<&str>) -> Option<String> {
    match format {
        None => Some(text(report)),
        Some("json") => Some(goyaml::to_json_pretty(&json_report(report))),
        Some("yaml") => Some(goyaml::to_yaml(&json_report(report))),
        Some("sarif") => Some(goyaml::to_json_pretty(&sarif(report))),
        Some(_) => None,
    }
}

fn text(report: &Report) -> String {
    report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}: {} [{}]\n",
                f.file,
                f.line,
                f.finding.message,
                f.finding.rule.id()
            )
        })
        .collect()
}

fn json_report(report: &Report) -> Value {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "file": f.file,
                "line": f.line,
                "rule": f.finding.rule.id(),
                "message": f.finding.message,
            })
        })
        .collect();
    json!({
        "findings": findings,
        "summary": {
            "files": report.files,
            "documents": report.documents,
            "findings": report.findings.len(),
        }
    })
}

/// A SARIF 2.1.0 log with one run: every rule in `tool.driver.rules`, every finding a result
/// at its file and line (uri relative, `/`-separated, as GitHub code scanning resolves it).
fn sarif(report: &Report) -> Value {
    let index: BTreeMap<Rule, usize> = Rule::ALL.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.id(),
                "name": r.id(),
                "shortDescription": {"text": r.description()},
                "defaultConfiguration": {"level": "error"},
                "helpUri": "https://github.com/bitnami-labs/sealed-secrets#sealed-secrets-for-kubernetes",
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let uri = f.file.trim_start_matches("./").replace('\\', "/");
            json!({
                "ruleId": f.finding.rule.id(),
                "ruleIndex": index.get(&f.finding.rule).copied().unwrap_or(0),
                "level": "error",
                "message": {"text": f.finding.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": f.line},
                    }
                }],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "kubeseal",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/bitnami-labs/sealed-secrets",
                    "rules": rules,
                }
            },
            "results": results,
        }]
    })
}
