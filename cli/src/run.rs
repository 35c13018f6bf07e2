//! Upstream's `runCLI` (`cmd/kubeseal/main.go`): the order in which kubeseal looks at its flags,
//! opens its input and output, and picks a mode. Each mode hands typed values to the core and
//! prints the result.

use std::fs::File;
use std::io::{IsTerminal, Read, Seek, Write};
use std::time::SystemTime;

use goyaml as codec;
use sealed_secrets::diagnosis::{Diagnosis, candidates};
use sealed_secrets::keys::{Certificate, KeyError, PrivateKey, PublicKey, parse_recovery_keys};
use sealed_secrets::output::OutputFormat;
use sealed_secrets::raw::{self, RawError, RawValue};
use sealed_secrets::recovery::recover;
use sealed_secrets::reseal;
use sealed_secrets::seal::{merge_into, seal_secret};
use sealed_secrets::seal_target::{SealFlags, seal_options};
use sealed_secrets::types::{ObjectMeta, SealedSecret};
use serde::Serialize;

use crate::backup::KeyBackupError;
use crate::cert::CertError;
use crate::cluster::{self, Accept, ClusterError, Controller, ProxyError};
use crate::documents::{DocumentError, decode_sealed_secret, read_sealed_secrets, read_secrets};
use crate::flags::Cli;
use crate::goerr::PathError;
use crate::kubeconfig::{ClientConfig, KubeconfigError};
use crate::output::{Output, OutputError};

/// Why a kubeseal command failed; `main` prints it after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("Could not read file specified with --secret-file")]
    SecretFile,
    #[error(transparent)]
    Raw(#[from] RawError),
    #[error(transparent)]
    Read(#[from] PathError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Documents(#[from] DocumentError),
    #[error(transparent)]
    Cert(#[from] CertError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Core(#[from] sealed_secrets::Error),
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    KeyBackup(#[from] KeyBackupError),
    #[error(transparent)]
    Keys(#[from] crate::keys::KeysError),
    /// A recovery key file that is not a key; the message quotes no value.
    #[error("{0}")]
    RecoveryKeys(String),
    #[error("unable to decrypt sealed secret")]
    ValidateInput,
    #[error("unable to decrypt sealed secret: {0}")]
    NotDecryptable(String),
    /// `--validate` of a renamed SealedSecret: upstream's text, then the diagnosis.
    #[error("unable to decrypt sealed secret: {0}; {1}")]
    NotDecryptableRenamed(String, Box<Diagnosis>),
    #[error("--lint needs the files or directories to check as arguments")]
    LintNoPaths,
    #[error("lint: {findings} finding(s) in {files} file(s)")]
    LintFindings { findings: usize, files: usize },
    #[error("cannot validate sealed secret: {0}")]
    Validate(ProxyError),
    #[error("unable to rotate secret")]
    NotRotatable,
    #[error("cannot re-encrypt secret: {0}")]
    ReEncrypt(ProxyError),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Tree(#[from] crate::tree::TreeError),
}

impl RunError {
    /// Writing to a closed stdout (`kubeseal ... | head`): the process ends without a message.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            RunError::Output(e)
            | RunError::KeyBackup(KeyBackupError::Output(e))
            | RunError::Keys(crate::keys::KeysError::Output(e)) => e.is_broken_pipe(),
            _ => false,
        }
    }
}

/// Where the documents come from: `-f <file>` (opened up front, read when needed) or stdin.
enum Input {
    Stdin,
    File(File, String),
}

impl Input {
    fn read_all(self) -> Result<Vec<u8>, PathError> {
        let mut buf = Vec::new();
        match self {
            Input::Stdin => std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map_err(PathError::on("read", "/dev/stdin"))?,
            Input::File(mut f, name) => f
                .read_to_end(&mut buf)
                .map_err(PathError::on("read", name))?,
        };
        Ok(buf)
    }
}

/// Runs the command once the flags are parsed (`--version`, `--help` and `--completion` are
/// handled by the caller).
pub fn run(mut cli: Cli) -> Result<(), RunError> {
    // `--rotate` is the same switch as `--re-encrypt` upstream.
    cli.re_encrypt |= cli.rotate;
    let from_files = cli.raw_value_files();
    raw::check_from_files(cli.raw, &from_files)?;

    // Key backup and restore (docs/operations.md) read no documents from the input.
    if !cli.restore_keys.is_empty() {
        return Ok(crate::backup::restore_keys(&cli)?);
    }
    if cli.backup_keys {
        let out = if cli.sealed_secret_file.is_empty() {
            Output::stdout()
        } else {
            Output::file(&cli.sealed_secret_file)?
        };
        return Ok(crate::backup::backup_keys(&cli, out)?);
    }

    // Key inventory and retirement (docs/operations.md) read no documents either.
    if cli.list_keys || !cli.retire_key.is_empty() {
        return Ok(crate::keys::run(&cli)?);
    }

    if cli.lint {
        let out = if cli.sealed_secret_file.is_empty() {
            Output::stdout()
        } else {
            Output::file(&cli.sealed_secret_file)?
        };
        return lint(&cli, out);
    }

    // Files and trees re-sealed in place (docs/operations.md) read no input and write no output.
    if !cli.re_encrypt_path.is_empty() {
        let config = ClientConfig::new(&cli.kubeconfig, &cli.kube);
        return crate::tree::re_encrypt_paths(&cli, &config);
    }

    let input = if !cli.secret_file.is_empty() {
        let f = File::open(&cli.secret_file).map_err(|_| RunError::SecretFile)?;
        Input::File(f, cli.secret_file.clone())
    } else {
        if !cli.raw && !cli.fetch_cert && std::io::stdin().is_terminal() {
            notice("(tty detected: expecting json/yaml k8s resource in stdin)");
        }
        Input::Stdin
    };

    // --re-encrypt is the only in-place command: with only -f, the input file is rewritten.
    if cli.re_encrypt && cli.sealed_secret_file.is_empty() && !cli.secret_file.is_empty() {
        cli.sealed_secret_file = cli.secret_file.clone();
    }
    let mut out = if cli.sealed_secret_file.is_empty() {
        Output::stdout()
    } else {
        let ext = std::path::Path::new(&cli.sealed_secret_file).extension();
        if ext.is_some_and(|e| e == "yaml" || e == "yml") {
            cli.format = "yaml".into();
        }
        Output::file(&cli.sealed_secret_file)?
    };

    let result = run_mode(&cli, from_files, input, &mut out);
    let finished = out.finish(result.is_ok());
    result?;
    Ok(finished?)
}

fn run_mode(
    cli: &Cli,
    from_files: Vec<String>,
    input: Input,
    out: &mut Output,
) -> Result<(), RunError> {
    let config = ClientConfig::new(&cli.kubeconfig, &cli.kube);
    let recovery_keys = cli.recovery_private_keys();

    if cli.recovery_unseal {
        return recovery_unseal(cli, &recovery_keys, input, out);
    }
    if !recovery_keys.is_empty() && std::io::stderr().is_terminal() {
        notice(
            "warning: ignoring --recovery-private-key because unseal command not chosen with --recovery-unseal",
        );
    }
    if cli.validate {
        return validate(cli, &config, input);
    }
    if cli.re_encrypt {
        return re_encrypt(cli, &config, input, out);
    }

    let cert = if cli.cert.is_empty() {
        cluster::block_on(async {
            let controller = Controller::connect(
                &config,
                &cli.controller_namespace,
                &cli.controller_name,
                Accept::Pem,
            )
            .await?;
            controller.fetch_cert().await
        })?
    } else {
        crate::cert::open_local(&cli.cert)?
    };
    if cli.fetch_cert {
        return Ok(out.write(&cert)?);
    }

    let certificate = Certificate::from_pem(&cert)?;
    certificate.check_not_expired(SystemTime::now())?;
    warn_if_expiring(cli, &certificate);
    let key = &certificate.public_key;

    if !cli.merge_into.is_empty() {
        return seal_merging_into(cli, &config, key, input);
    }
    if cli.raw {
        return encrypt_raw(cli, &config, key, &from_files, out);
    }
    let bytes = input.read_all()?;
    seal_documents(cli, &config, key, &bytes, None, |ss| {
        print(out, &cli.format, &ss)
    })
}

/// The `--cert-expiry-warning` line on stderr when `certificate` expires soon.
pub(crate) fn warn_if_expiring(cli: &Cli, certificate: &Certificate) {
    let warning = sealed_secrets::expiry::expiry_warning(
        certificate,
        SystemTime::now(),
        cli.cert_expiry_warning,
    );
    if let Some(line) = warning {
        notice(&line);
    }
}

/// A line on stderr; a closed stderr is no reason to fail.
fn notice(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Renders one object in `-o` format; an unknown format is an error only now, as in upstream
/// `resourceOutput`.
fn print(out: &mut Output, format: &str, object: &impl Serialize) -> Result<(), RunError> {
    let text = render(format, object)?;
    Ok(out.write(text.as_bytes())?)
}

fn render(format: &str, object: &impl Serialize) -> Result<String, RunError> {
    Ok(OutputFormat::parse(format)?.render(object)?)
}

/// `kubeseal.Seal`: every input Secret, each printed in input order (sealed on every core first).
/// `merge_into` is the metadata of `--merge-into`'s target.
fn seal_documents(
    cli: &Cli,
    config: &ClientConfig<'_>,
    key: &PublicKey,
    input: &[u8],
    merge_target: Option<&ObjectMeta>,
    mut emit: impl FnMut(SealedSecret) -> Result<(), RunError>,
) -> Result<(), RunError> {
    let secrets = read_secrets(input)?;
    let flags = SealFlags {
        scope: cli.scope,
        namespace: &cli.kube.namespace,
        name: &cli.name,
        allow_empty_data: cli.allow_empty_data,
    };
    // The kubeconfig is read at most once, and only when a Secret lacks a namespace. Upstream
    // ignores kubeconfig errors here; the core then asks for a namespace.
    let mut kubeconfig_namespace: Option<String> = None;
    let mut context_namespace = || {
        kubeconfig_namespace
            .get_or_insert_with(|| config.namespace().map(|(ns, _)| ns).unwrap_or_default())
            .clone()
    };
    let jobs: Vec<_> = secrets
        .into_iter()
        .map(|mut secret| {
            let opts = seal_options(&flags, merge_target, &mut secret, &mut context_namespace);
            (secret, opts)
        })
        .collect();
    // Sealed on every core, printed in input order; a failure still follows the output of the
    // documents before it.
    let sealed =
        sealed_secrets::parallel::map_owned(jobs, |(secret, opts)| seal_secret(secret, key, &opts));
    for ss in sealed {
        emit(ss?)?;
    }
    Ok(())
}

/// `--raw` (upstream `runCLI`, `EncryptSecretItem`): one value, base64 of its ciphertext, no
/// newline.
fn encrypt_raw(
    cli: &Cli,
    config: &ClientConfig<'_>,
    key: &PublicKey,
    from_files: &[String],
    out: &mut Output,
) -> Result<(), RunError> {
    let namespace = if raw::needs_namespace(cli.scope) {
        config.namespace()?.0
    } else {
        String::new()
    };
    raw::check_target(cli.scope, &namespace, &cli.name)?;
    let data = zeroize::Zeroizing::new(match raw::value_source(from_files)? {
        RawValue::Stdin => {
            if std::io::stdin().is_terminal() {
                notice("(tty detected: expecting a secret to encrypt in stdin)");
            }
            Input::Stdin.read_all()?
        }
        RawValue::File(path) => std::fs::read(path).map_err(PathError::on("open", path))?,
    });
    let sealed = raw::seal_raw(key, &data, cli.scope, &namespace, &cli.name)?;
    Ok(out.write(sealed.as_bytes())?)
}

/// `--merge-into <file>` (upstream `SealMergingInto`): seal the input with the file's name and
/// namespace, merge the items into the file's SealedSecret and rewrite the file in `-o` format.
/// Nothing is written until everything succeeded.
fn seal_merging_into(
    cli: &Cli,
    config: &ClientConfig<'_>,
    key: &PublicKey,
    input: Input,
) -> Result<(), RunError> {
    let path = cli.merge_into.as_str();
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(PathError::on("open", path))?;
    let mut existing = Vec::new();
    file.read_to_end(&mut existing)
        .map_err(PathError::on("read", path))?;
    let mut original = decode_sealed_secret(&existing)?;

    let bytes = input.read_all()?;
    let mut updates = Vec::new();
    seal_documents(cli, config, key, &bytes, Some(&original.metadata), |ss| {
        // Upstream renders the update in `-o` format before merging it: a bad format fails here.
        render(&cli.format, &ss)?;
        updates.push(ss);
        Ok(())
    })?;
    for update in updates {
        merge_into(&mut original, update);
    }
    let text = render(&cli.format, &original.with_type_meta())?;

    let write_err = |e: std::io::Error| PathError::new("write", path, e);
    file.set_len(0).map_err(PathError::on("truncate", path))?;
    file.rewind().map_err(write_err)?;
    file.write_all(text.as_bytes()).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    Ok(())
}

/// `--recovery-unseal` (upstream `UnsealSealedSecret`): decrypt offline with the given private
/// keys.
fn recovery_unseal(
    cli: &Cli,
    key_files: &[String],
    input: Input,
    out: &mut Output,
) -> Result<(), RunError> {
    let keys = load_recovery_keys(cli, key_files)?;
    let bytes = input.read_all()?;
    let ss = decode_sealed_secret(&bytes)?;
    let secret = recover(&ss, keys.as_slice())?;
    print(out, &cli.format, &secret)
}

/// The private keys of `--recovery-private-key` files: PEM keys, key Secrets or Lists, and our
/// encrypted backups (decrypted first; their plaintext is a key List).
pub(crate) fn load_recovery_keys(
    cli: &Cli,
    key_files: &[String],
) -> Result<Vec<PrivateKey>, RunError> {
    let mut keys: Vec<PrivateKey> = Vec::new();
    for path in key_files {
        let data =
            zeroize::Zeroizing::new(std::fs::read(path).map_err(PathError::on("open", path))?);
        let data = crate::backup::open_backup(cli, path, &data)?;
        keys.extend(parse_recovery_keys(&data).map_err(|e| {
            RunError::RecoveryKeys(sealed_secrets::secret::redact_serde_values(&e.to_string()))
        })?);
    }
    Ok(keys)
}

/// `--lint PATH...` (docs/operations.md "Offline lint"): text unless `-o` was given; the report
/// is written also when there are findings (a CI job uploads it), and then the run fails.
fn lint(cli: &Cli, mut out: Output) -> Result<(), RunError> {
    let result = (|| {
        let paths: Vec<String> = cli
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        if paths.is_empty() {
            return Err(RunError::LintNoPaths);
        }
        let format = cli.format_given.then_some(cli.format.as_str());
        if crate::lint::render(&crate::lint::Report::empty(), format).is_none() {
            return Err(sealed_secrets::Error::UnsupportedOutputFormat(cli.format.clone()).into());
        }
        let cert = if cli.cert.is_empty() {
            None
        } else {
            Some(Certificate::from_pem(&crate::cert::open_local(&cli.cert)?)?.public_key)
        };
        let key_files = cli.recovery_private_keys();
        let keys = if key_files.is_empty() {
            None
        } else {
            Some(load_recovery_keys(cli, &key_files)?)
        };
        let decrypter = keys
            .as_ref()
            .map(|k| k as &dyn sealed_secrets::keys::Decrypter);
        let report = crate::lint::lint(&paths, cert.as_ref(), decrypter)?;
        let text = crate::lint::render(&report, format).unwrap_or_default();
        out.write(text.as_bytes())?;
        Ok(report)
    })();
    let finished = out.finish(result.is_ok());
    let report = result?;
    finished?;
    if report.findings.is_empty() {
        Ok(())
    } else {
        let files: std::collections::BTreeSet<&str> =
            report.findings.iter().map(|f| f.file.as_str()).collect();
        Err(RunError::LintFindings {
            findings: report.findings.len(),
            files: files.len(),
        })
    }
}

/// `--validate` (upstream `ValidateSealedSecret`).
fn validate(cli: &Cli, config: &ClientConfig<'_>, input: Input) -> Result<(), RunError> {
    cluster::block_on(async {
        let controller = json_controller(cli, config).await?;
        let bytes = input.read_all()?;
        let sealed = read_sealed_secrets(&bytes).map_err(|_| RunError::ValidateInput)?;
        for ss in sealed {
            match controller.post("/v1/verify", compact_json(&ss)?).await {
                Ok(_) => {}
                Err(e) if e.status() == Some(http::StatusCode::CONFLICT) => {
                    return Err(match diagnose_remotely(&controller, &ss).await? {
                        Some(d) => RunError::NotDecryptableRenamed(ss.metadata.name, Box::new(d)),
                        None => RunError::NotDecryptable(ss.metadata.name),
                    });
                }
                Err(e) => return Err(RunError::Validate(e)),
            }
        }
        Ok(())
    })
}

/// The rename diagnosis of a SealedSecret `/v1/verify` refused (docs/operations.md): each
/// candidate label is asked of `/v1/verify` as a relabelled copy, so the controller's wire format
/// stays upstream's and the answer is the same the controller's condition gives. Any other
/// answer (the rate limit after the client's retries, a server error) ends the diagnosis: the
/// user still gets upstream's error.
async fn diagnose_remotely(
    controller: &Controller,
    ss: &SealedSecret,
) -> Result<Option<Diagnosis>, RunError> {
    for candidate in candidates(ss) {
        let copy = candidate.relabelled(ss);
        match controller.post("/v1/verify", compact_json(&copy)?).await {
            Ok(_) => return Ok(Some(Diagnosis::new(ss, candidate))),
            Err(e) if e.status() == Some(http::StatusCode::CONFLICT) => {}
            Err(_) => return Ok(None),
        }
    }
    Ok(None)
}

/// `--re-encrypt` (upstream `ReEncryptSealedSecret`).
fn re_encrypt(
    cli: &Cli,
    config: &ClientConfig<'_>,
    input: Input,
    out: &mut Output,
) -> Result<(), RunError> {
    cluster::block_on(async {
        let controller = json_controller(cli, config).await?;
        let bytes = input.read_all()?;
        let sealed = read_sealed_secrets(&bytes)?;
        for ss in sealed {
            let reply = match controller.post("/v1/rotate", compact_json(&ss)?).await {
                Ok(reply) => reply,
                Err(e) if e.status() == Some(http::StatusCode::CONFLICT) => {
                    return Err(RunError::NotRotatable);
                }
                Err(e) => return Err(RunError::ReEncrypt(e)),
            };
            let rotated: SealedSecret = serde_json::from_slice(&reply)?;
            print(out, &cli.format, &reseal::re_encrypt_output(rotated))?;
        }
        Ok(())
    })
}

/// The controller of `--controller-namespace`/`--controller-name`, for JSON requests.
pub(crate) async fn json_controller(
    cli: &Cli,
    config: &ClientConfig<'_>,
) -> Result<Controller, ClusterError> {
    Controller::connect(
        config,
        &cli.controller_namespace,
        &cli.controller_name,
        Accept::Json,
    )
    .await
}

/// Go's `json.Marshal` of a decoded object: what upstream sends to the controller.
pub(crate) fn compact_json(object: &impl Serialize) -> Result<Vec<u8>, RunError> {
    let value = serde_json::to_value(object)?;
    Ok(codec::to_json_compact(&value).into_bytes())
}
