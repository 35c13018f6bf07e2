//! `--re-encrypt-path`: re-seal the SealedSecrets of files and directory trees in place, with a
//! minimal diff (docs/operations.md, "Re-sealing a repository"). The core finds the items and
//! rewrites the bytes ([`sealed_secrets::rewrite`]); this shell walks the paths, asks the
//! controller (`/v1/rotate`) or the offline keys, and writes the files.
//!
//! All or nothing: every file is computed first, then every new file is written next to its
//! original as a temporary file, and only when all of them are written are they renamed over the
//! originals. A failure before the renames leaves every file untouched.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sealed_secrets::keys::{Certificate, PrivateKey};
use sealed_secrets::rewrite::{self, Change, Located, RewriteError};
use sealed_secrets::types::SealedSecret;

use crate::cluster;
use crate::flags::Cli;
use crate::goerr::PathError;
use crate::kubeconfig::ClientConfig;
use crate::run::{RunError, compact_json, json_controller, load_recovery_keys, warn_if_expiring};

/// `/v1/rotate` asked to keep the ciphertexts its latest key already decrypts (our controller;
/// upstream's ignores the query and re-encrypts every item).
const ROTATE_KEEPING_CURRENT: &str = "/v1/rotate?keepCurrentItems=true";

/// Why a tree re-seal failed (after `error: `).
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("{path}: {source}")]
    File { path: String, source: RewriteError },
    #[error("{path}: {source}")]
    Offline {
        path: String,
        source: rewrite::ResealItemError,
    },
    #[error("{path}: cannot re-encrypt SealedSecret {name:?}: {reason}")]
    Rotate {
        path: String,
        name: String,
        reason: String,
    },
    #[error(
        "--re-encrypt-path with --recovery-private-key needs --cert, the certificate to seal for"
    )]
    NeedsCert,
    #[error("--re-encrypt-path: no path given")]
    NoPath,
}

/// One file to re-seal.
struct Work {
    /// As the user will recognise it.
    shown: String,
    /// Where it is written (symbolic links resolved).
    target: PathBuf,
    input: Vec<u8>,
    located: Vec<Located>,
}

/// Runs `--re-encrypt-path`.
pub fn re_encrypt_paths(cli: &Cli, config: &ClientConfig<'_>) -> Result<(), RunError> {
    let paths = cli.re_encrypt_paths();
    if paths.is_empty() {
        return Err(TreeError::NoPath.into());
    }
    let recovery = cli.recovery_private_keys();
    if !recovery.is_empty() && cli.cert.is_empty() {
        return Err(TreeError::NeedsCert.into());
    }
    let work = collect(&paths)?;
    let changes: Vec<Vec<Change>> = if recovery.is_empty() {
        through_controller(cli, config, &work)?
    } else {
        offline(cli, &recovery, &work)?
    };

    let mut outputs = Vec::new();
    let (mut files, mut items, mut unchanged) = (0usize, 0usize, 0usize);
    for (w, changes) in work.iter().zip(&changes) {
        unchanged += w
            .located
            .iter()
            .map(|l| l.sealed_secret.spec.encrypted_data.len())
            .sum::<usize>()
            - changes.len();
        if changes.is_empty() {
            continue;
        }
        let output =
            rewrite::rewrite(&w.input, &w.located, changes).map_err(|source| TreeError::File {
                path: w.shown.clone(),
                source,
            })?;
        files += 1;
        items += changes.len();
        outputs.push((w, changes, output));
    }

    if cli.re_encrypt_dry_run {
        let mut stdout = std::io::stdout().lock();
        for (w, changes, _) in &outputs {
            let _ = writeln!(stdout, "{}: {}", w.shown, describe(&w.located, changes));
        }
        notice(&format!(
            "would re-encrypt {items} items in {files} files ({unchanged} items already current)"
        ));
        return Ok(());
    }
    write_all(&outputs)?;
    for (w, changes, _) in &outputs {
        notice(&format!(
            "re-encrypted {}: {}",
            w.shown,
            describe(&w.located, changes)
        ));
    }
    notice(&format!(
        "re-encrypted {items} items in {files} files ({unchanged} items already current)"
    ));
    Ok(())
}

/// `ns/name (item, item), ...` of the changed items, in file order.
fn describe(located: &[Located], changes: &[Change]) -> String {
    let mut parts = Vec::new();
    for l in located {
        let items: Vec<&str> = changes
            .iter()
            .filter(|c| c.document == l.document)
            .map(|c| c.item.as_str())
            .collect();
        if !items.is_empty() {
            let m = &l.sealed_secret.metadata;
            parts.push(format!("{}/{} ({})", m.namespace, m.name, items.join(", ")));
        }
    }
    parts.join(", ")
}

fn notice(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The files below `paths`: a named file whatever its name, and in a directory tree every
/// `*.yaml`, `*.yml` and `*.json` (hidden directories such as `.git` and symbolic links to
/// directories are not entered). A named file must parse; a found one that does not (a Helm
/// template, say) is skipped with a warning. Each file is read once, in path order.
fn collect(paths: &[String]) -> Result<Vec<Work>, RunError> {
    let mut work = Vec::new();
    for crate::walk::Found {
        shown,
        canonical: target,
        named,
    } in crate::walk::files(paths, crate::walk::is_manifest)?
    {
        let input = std::fs::read(&target).map_err(PathError::on("read", &shown))?;
        match rewrite::locate(&input) {
            Ok(located) if located.is_empty() => {}
            Ok(located) => work.push(Work {
                shown,
                target,
                input,
                located,
            }),
            Err(source) if named => {
                return Err(TreeError::File {
                    path: shown,
                    source,
                }
                .into());
            }
            Err(e) => notice(&format!("warning: skipping {shown}: {e}")),
        }
    }
    Ok(work)
}

/// Offline: decrypt with the backup's keys, seal for `--cert`.
fn offline(cli: &Cli, key_files: &[String], work: &[Work]) -> Result<Vec<Vec<Change>>, RunError> {
    let certificate = Certificate::from_pem(&crate::cert::open_local(&cli.cert)?)?;
    certificate.check_not_expired(SystemTime::now())?;
    warn_if_expiring(cli, &certificate);
    let keys: Vec<PrivateKey> = load_recovery_keys(cli, key_files)?;
    let mut out = Vec::new();
    for w in work {
        let changes = rewrite::reseal_offline(&w.located, &keys, &certificate.public_key).map_err(
            |source| TreeError::Offline {
                path: w.shown.clone(),
                source,
            },
        )?;
        out.push(changes);
    }
    Ok(out)
}

/// Through the controller: each SealedSecret is sent to `/v1/rotate` (its rate limit is honoured
/// by [`cluster::Controller::post`]); an item whose answer differs from the file is a change.
fn through_controller(
    cli: &Cli,
    config: &ClientConfig<'_>,
    work: &[Work],
) -> Result<Vec<Vec<Change>>, RunError> {
    let total: usize = work.iter().map(|w| w.located.len()).sum();
    let progress = Progress::new(total);
    let result = cluster::block_on(async {
        let controller = json_controller(cli, config).await?;
        let mut out = Vec::new();
        for w in work {
            let mut changes = Vec::new();
            for l in &w.located {
                let ss = &l.sealed_secret;
                let fail = |reason: String| TreeError::Rotate {
                    path: w.shown.clone(),
                    name: ss.metadata.name.clone(),
                    reason,
                };
                let reply = controller
                    .post(ROTATE_KEEPING_CURRENT, compact_json(ss)?)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                let rotated: SealedSecret =
                    serde_json::from_slice(&reply).map_err(|e| fail(e.to_string()))?;
                for (item, old) in &ss.spec.encrypted_data {
                    let new = rotated
                        .spec
                        .encrypted_data
                        .get(item)
                        .ok_or_else(|| fail(format!("the answer lacks item {item:?}")))?;
                    if new != old {
                        changes.push(Change {
                            document: l.document,
                            item: item.clone(),
                            value: new.clone(),
                        });
                    }
                }
                progress.step();
            }
            out.push(changes);
        }
        Ok::<_, RunError>(out)
    });
    progress.finish();
    result
}

/// A progress line on stderr, only when stderr is a terminal.
struct Progress {
    total: usize,
    done: std::cell::Cell<usize>,
    shown: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        let p = Progress {
            total,
            done: std::cell::Cell::new(0),
            shown: std::io::stderr().is_terminal() && total > 0,
        };
        p.draw();
        p
    }

    fn step(&self) {
        self.done.set(self.done.get() + 1);
        self.draw();
    }

    fn draw(&self) {
        if self.shown {
            let (done, total) = (self.done.get(), self.total);
            let width = 30;
            let filled = done * width / total.max(1);
            let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
            let _ = write!(std::io::stderr(), "\r[{bar}] {done}/{total} SealedSecrets");
        }
    }

    fn finish(&self) {
        if self.shown {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// Writes every output as a temporary file beside its original (same mode), then renames them
/// all; nothing is renamed unless every temporary file was written.
fn write_all(outputs: &[(&Work, &Vec<Change>, Vec<u8>)]) -> Result<(), RunError> {
    let mut staged = Vec::new();
    for (w, _, output) in outputs {
        let shown = w.shown.as_str();
        let dir = w.target.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new()
            .prefix(".kubeseal-")
            .tempfile_in(dir)
            .map_err(PathError::on("create", shown))?;
        let perms = std::fs::metadata(&w.target)
            .map_err(PathError::on("stat", shown))?
            .permissions();
        temp.write_all(output)
            .and_then(|()| temp.as_file().sync_all())
            .and_then(|()| std::fs::set_permissions(temp.path(), perms))
            .map_err(PathError::on("write", shown))?;
        staged.push((temp, w));
    }
    // Dropping `staged` on an error above removes every temporary file.
    for (temp, w) in staged {
        temp.persist(&w.target)
            .map_err(|e| PathError::new("rename", &w.shown, e.error))?;
    }
    Ok(())
}
