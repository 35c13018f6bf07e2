//! Non-string YAML and JSON scalars (floats in every notation, special floats, large and
//! non-decimal integers, YAML 1.1 booleans, nulls, timestamps, binary) in a Secret's string and
//! `[]byte` fields, sealed by the real upstream kubeseal (v0.40.0) and by ours, from the corpus
//! `tests/fixtures/scalars/corpus.json`. Ciphertexts are random, so both outputs are compared with
//! their ciphertexts masked and then recovered with the test private key (`--recovery-unseal`, by
//! upstream); refusals must match in exit code and message. Run by `make test` (ignored by
//! default: needs the upstream binary).
use crate::Test;
use e2e::{Sandbox, fixture, mask_ciphertexts, ours, stderr, stdout, upstream};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// One document of the corpus: a template with its `{}` replaced by a scalar.
struct Case {
    what: String,
    input: String,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixture("scalars/corpus.json")).unwrap();
    let corpus: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for format in ["yaml", "json"] {
        let documents = corpus[format]["documents"].as_object().unwrap();
        let kinds = corpus[format]["scalars"].as_object().unwrap();
        for (field, template) in documents {
            let template = template.as_str().unwrap();
            assert_eq!(template.matches("{}").count(), 1, "{format} {field}");
            for (kind, scalars) in kinds {
                for scalar in scalars.as_array().unwrap() {
                    let scalar = scalar.as_str().unwrap();
                    out.push(Case {
                        what: format!("{format} {field} <- {kind} `{scalar}`"),
                        input: template.replacen("{}", scalar, 1),
                    });
                }
            }
        }
    }
    out
}

/// The Secret upstream recovers from a sealed document.
fn recover(sb: &Sandbox, sealed: &str) -> Output {
    let key = fixture("keys/key-pkcs1.pem").display().to_string();
    sb.run(
        &upstream(),
        &["--recovery-unseal", "--recovery-private-key", &key],
        sealed.as_bytes(),
    )
}

/// Compares the two binaries on one case; `None` when they agree.
fn differs(sb: &Sandbox, case: &Case) -> Option<String> {
    let cert = fixture("keys/cert.pem").display().to_string();
    let args = ["--cert", cert.as_str(), "-o", "yaml"];
    let seal = |bin: &Path| sb.run(bin, &args, case.input.as_bytes());
    let (up, me) = (seal(&upstream()), seal(&ours()));
    let what = &case.what;
    if (up.status.code(), stderr(&up)) != (me.status.code(), stderr(&me)) {
        return Some(format!(
            "{what}: upstream exit {:?} `{}`, ours exit {:?} `{}`",
            up.status.code(),
            stderr(&up).trim_end(),
            me.status.code(),
            stderr(&me).trim_end()
        ));
    }
    if !up.status.success() {
        return None;
    }
    let (up_doc, my_doc) = (
        mask_ciphertexts(&stdout(&up)),
        mask_ciphertexts(&stdout(&me)),
    );
    if up_doc != my_doc {
        return Some(format!(
            "{what}: sealed documents differ\n  upstream:\n{up_doc}\n  ours:\n{my_doc}"
        ));
    }
    let (up_rec, my_rec) = (recover(sb, &stdout(&up)), recover(sb, &stdout(&me)));
    assert!(up_rec.status.success(), "{what}: {}", stderr(&up_rec));
    if stdout(&up_rec) != stdout(&my_rec) || !my_rec.status.success() {
        return Some(format!(
            "{what}: recovered Secrets differ\n  from upstream's:\n{}\n  from ours:\n{}{}",
            stdout(&up_rec),
            stdout(&my_rec),
            stderr(&my_rec)
        ));
    }
    None
}

/// Cases known to differ from upstream, one `what` per line (`#` comments): kept short and
/// current by [`scalars_seal_as_upstream`], which fails on a difference not listed here and on a
/// listed case that no longer differs. Each group has its reason in the file and a line in
/// docs/compatibility.md.
const KNOWN_DIFFERENCES: &str = "scalars/known-differences.txt";

fn known_differences() -> Vec<String> {
    let text = std::fs::read_to_string(fixture(KNOWN_DIFFERENCES)).unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn scalars_seal_as_upstream() {
    let cases = cases();
    assert!(cases.len() > 500, "corpus too small: {}", cases.len());
    let known = known_differences();
    for what in &known {
        assert!(
            cases.iter().any(|c| &c.what == what),
            "{KNOWN_DIFFERENCES} lists `{what}`, which is not a case of the corpus"
        );
    }
    // The cases are independent: run them on a few threads, each with its own sandbox.
    let threads = 4;
    let differences: Vec<(String, String)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let cases = &cases;
                s.spawn(move || {
                    let sb = Sandbox::new();
                    cases
                        .iter()
                        .skip(t)
                        .step_by(threads)
                        .filter_map(|c| differs(&sb, c).map(|d| (c.what.clone(), d)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let unexpected: Vec<&str> = differences
        .iter()
        .filter(|(what, _)| !known.contains(what))
        .map(|(_, detail)| detail.as_str())
        .collect();
    let fixed: Vec<&str> = known
        .iter()
        .filter(|what| !differences.iter().any(|(w, _)| w == *what))
        .map(String::as_str)
        .collect();
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{} of {} scalar cases differ from upstream and are not in {KNOWN_DIFFERENCES}:\n\n{}\n\n\
         {} cases listed there now agree with upstream (remove them):\n{}",
        unexpected.len(),
        cases.len(),
        unexpected.join("\n\n"),
        fixed.len(),
        fixed.join("\n")
    );
}

/// The corpus exercises both outcomes: most scalars seal, the `[]byte` field refuses most.
fn corpus_covers_sealing_and_refusals() {
    let sb = Sandbox::new();
    let cert = fixture("keys/cert.pem").display().to_string();
    let (mut sealed, mut refused) = (0, 0);
    for case in cases().iter().step_by(7) {
        let up = sb.run(&upstream(), &["--cert", &cert], case.input.as_bytes());
        if up.status.success() {
            sealed += 1;
        } else {
            refused += 1;
        }
    }
    assert!(
        sealed > 20 && refused > 10,
        "sealed {sealed}, refused {refused}"
    );
}

pub fn tests() -> Vec<Test> {
    e2e_tests![ignored: scalars_seal_as_upstream, corpus_covers_sealing_and_refusals].to_vec()
}
