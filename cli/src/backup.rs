//! `--backup-keys` and `--restore-keys` (docs/operations.md), and opening encrypted backups for
//! `--recovery-unseal`. The file format, its encryption and the validation of keys live in the core
//! (`sealed_secrets::backup`); here are the API calls, the passphrase and the messages.

use std::io::IsTerminal as _;

use k8s_openapi::api::core::v1::Secret as ApiSecret;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use sealed_secrets::backup::{
    self, BACKED_UP_AT, BackupError, BackupKey, Envelope, KEY_LABEL, SecretString,
};
use sealed_secrets::k8s::{ConvertError, from_k8s, to_k8s, zeroize_secret_data as scrub};
use zeroize::Zeroizing;

use crate::cluster::{self, ClusterError};
use crate::flags::Cli;
use crate::goerr::{self, PathError};
use crate::kubeconfig::{ClientConfig, KubeconfigError};
use crate::output::{Output, OutputError};

/// The passphrase for automation; without it kubeseal asks on the terminal.
pub const PASSPHRASE_ENV: &str = "SEALED_SECRETS_BACKUP_PASSPHRASE";
/// The pre-0.9 key Secret, which has no label (upstream `initKeyRegistry` in
/// `pkg/controller/main.go`).
const LEGACY_KEY_NAME: &str = "sealed-secrets-key";
const FIELD_MANAGER: &str = "kubeseal";

/// Why a key backup, restore or backup file failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyBackupError {
    #[error("no passphrase: set {PASSPHRASE_ENV} or run kubeseal on a terminal")]
    NoPassphrase,
    /// [`KeyBackupError::NoPassphrase`] when making a backup, with the ways out.
    #[error(
        "{}; the backup is encrypted by default: give --backup-recipient age1..., or a passphrase, or --backup-plaintext",
        KeyBackupError::NoPassphrase
    )]
    NoProtection,
    #[error("cannot read the passphrase from the terminal: {}", goerr::io_text(.0))]
    Terminal(std::io::Error),
    #[error("empty passphrase")]
    EmptyPassphrase,
    #[error("the passphrases do not match")]
    PassphraseMismatch,
    #[error("--backup-plaintext and --backup-recipient exclude each other")]
    PlaintextAndRecipients,
    #[error(
        "{0}: the backup is encrypted to age recipients: give the identity file with --backup-identity"
    )]
    NeedsIdentity(String),
    /// A backup file that cannot be opened or read.
    #[error("{path}: {source}")]
    InFile { path: String, source: BackupError },
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error(transparent)]
    Read(#[from] PathError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A key Secret the API returned or is sent, converted; the message quotes no value.
    #[error("{}", .0.without_values())]
    Convert(#[from] ConvertError),
    #[error("cannot read the key Secrets in namespace {namespace}: {message}")]
    ReadKeys { namespace: String, message: String },
    #[error(
        "no key Secret found in namespace {0} (label {KEY_LABEL}, or named {LEGACY_KEY_NAME}); is --controller-namespace right?"
    )]
    NoKeys(String),
    #[error("output already used")]
    OutputUsed,
    #[error(
        "the backup was written, but key Secret {namespace}/{name} could not be marked with {BACKED_UP_AT}: {message}"
    )]
    Mark {
        namespace: String,
        name: String,
        message: String,
    },
    #[error("cannot restore keys into namespace {namespace}: {message}; nothing was written")]
    Restore { namespace: String, message: String },
    #[error("cannot create key Secret {namespace}/{name}: {message} ({created} created before it)")]
    Create {
        namespace: String,
        name: String,
        message: String,
        created: usize,
    },
    #[error(
        "{count} key(s) not restored: a different Secret has the same name in namespace {namespace}"
    )]
    Conflicts { count: usize, namespace: String },
}

impl From<KubeconfigError> for KeyBackupError {
    fn from(e: KubeconfigError) -> Self {
        KeyBackupError::Cluster(e.into())
    }
}

impl From<kube::Error> for KeyBackupError {
    fn from(e: kube::Error) -> Self {
        KeyBackupError::Cluster(e.into())
    }
}

pub(crate) fn notice(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The passphrase from [`PASSPHRASE_ENV`], else typed on the terminal (twice when `confirm`).
fn passphrase(confirm: bool) -> Result<SecretString, KeyBackupError> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV)
        && !p.is_empty()
    {
        return Ok(SecretString::from(p));
    }
    // The terminal (/dev/tty) is asked when the user is at one: stdin may be a file
    // (`--recovery-unseal < sealed.yaml`), stderr may be redirected, not both.
    if !std::io::stdin().is_terminal() && !std::io::stderr().is_terminal() {
        return Err(KeyBackupError::NoPassphrase);
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(KeyBackupError::Terminal)
    };
    let first = ask("Backup passphrase: ")?;
    if first.is_empty() {
        return Err(KeyBackupError::EmptyPassphrase);
    }
    if confirm {
        let again = ask("Repeat the passphrase: ")?;
        if *again != *first {
            return Err(KeyBackupError::PassphraseMismatch);
        }
    }
    Ok(SecretString::from(first.to_string()))
}

/// The plaintext of a backup file: decrypted with `--backup-identity` files or the passphrase when it
/// is an age file, as it is otherwise.
pub fn open_backup(
    cli: &Cli,
    path: &str,
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyBackupError> {
    let in_file = |source: BackupError| KeyBackupError::InFile {
        path: path.to_string(),
        source,
    };
    match backup::envelope(data).map_err(in_file)? {
        Envelope::Plain => Ok(Zeroizing::new(data.to_vec())),
        Envelope::Recipients => {
            let files = cli.backup_identity_files();
            if files.is_empty() {
                return Err(KeyBackupError::NeedsIdentity(path.to_string()));
            }
            let mut contents = Vec::new();
            for f in &files {
                contents.push(Zeroizing::new(
                    std::fs::read(f).map_err(PathError::on("open", f))?,
                ));
            }
            let refs: Vec<&[u8]> = contents.iter().map(|c| c.as_slice()).collect();
            backup::decrypt_with_identities(data, &refs).map_err(in_file)
        }
        Envelope::Passphrase => {
            let pass = passphrase(false)?;
            backup::decrypt_with_passphrase(data, &pass).map_err(in_file)
        }
    }
}

/// How a new backup is protected, decided (and asked for) before the cluster is contacted.
enum Protection {
    Recipients(Vec<String>),
    Passphrase(SecretString),
    Plaintext,
}

fn protection(cli: &Cli) -> Result<Protection, KeyBackupError> {
    let recipients = cli.backup_recipients();
    if !recipients.is_empty() {
        if cli.backup_plaintext {
            return Err(KeyBackupError::PlaintextAndRecipients);
        }
        backup::parse_recipients(&recipients)?;
        return Ok(Protection::Recipients(recipients));
    }
    if cli.backup_plaintext {
        return Ok(Protection::Plaintext);
    }
    passphrase(true)
        .map(Protection::Passphrase)
        .map_err(|e| match e {
            KeyBackupError::NoPassphrase => KeyBackupError::NoProtection,
            e => e,
        })
}

pub(crate) fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

async fn client(config: &ClientConfig<'_>) -> Result<kube::Client, KeyBackupError> {
    let kube_config = config.kube_config().await?;
    Ok(kube::Client::try_from(kube_config)?)
}

/// `--backup-keys`: every key Secret of the controller (label `sealedsecrets.bitnami.com/sealed-secrets-key`
/// with any value, and the legacy `sealed-secrets-key`) into one file; once the file is written, the
/// Secrets get the `sealedsecrets-rs.io/backed-up-at` annotation.
pub fn backup_keys(cli: &Cli, out: Output) -> Result<(), KeyBackupError> {
    let protection = protection(cli);
    let protection = match protection {
        Ok(p) => p,
        Err(e) => {
            out.finish(false)?;
            return Err(e);
        }
    };
    let config = ClientConfig::new(&cli.kubeconfig, &cli.kube);
    let namespace = cli.controller_namespace.clone();
    // One runtime for the whole command: the client does not outlive the runtime it was made on.
    let mut out = Some(out);
    let result = cluster::block_on(async {
        let client = client(&config).await?;
        let api: Api<ApiSecret> = Api::namespaced(client, &namespace);
        let read_err = |e: kube::Error| KeyBackupError::ReadKeys {
            namespace: namespace.clone(),
            message: api_message(&e),
        };
        let mut listed = api
            .list(&ListParams::default().labels(KEY_LABEL))
            .await
            .map_err(read_err)?
            .items;
        if !listed
            .iter()
            .any(|s| s.metadata.name.as_deref() == Some(LEGACY_KEY_NAME))
            && let Some(legacy) = api.get_opt(LEGACY_KEY_NAME).await.map_err(read_err)?
        {
            listed.push(legacy);
        }
        let mut secrets = Vec::with_capacity(listed.len());
        for s in listed.iter_mut() {
            let converted = from_k8s(s);
            scrub(s);
            secrets.push(converted?);
        }
        if secrets.is_empty() {
            return Err(KeyBackupError::NoKeys(namespace.clone()));
        }
        let export = backup::export(secrets, &namespace, std::time::SystemTime::now())?;
        let text: Zeroizing<String> = match &protection {
            Protection::Recipients(r) => Zeroizing::new(backup::encrypt_to_recipients(
                export.plaintext.as_bytes(),
                r,
            )?),
            Protection::Passphrase(p) => Zeroizing::new(backup::encrypt_with_passphrase(
                export.plaintext.as_bytes(),
                p,
                None,
            )?),
            Protection::Plaintext => export.plaintext.clone(),
        };
        let Some(mut output) = out.take() else {
            return Err(KeyBackupError::OutputUsed);
        };
        let written = output.write(text.as_bytes());
        output.finish(written.is_ok())?;
        written?;
        for k in &export.keys {
            notice(&format!(
                "backed up {namespace}/{} {} (not before {}, not after {})",
                k.name,
                k.fingerprint,
                sealed_secrets::types::metav1_time(k.not_before),
                sealed_secrets::types::metav1_time(k.not_after)
            ));
        }
        // Only now that the file exists are the keys marked as backed up (the controller's
        // keys_not_backed_up gauge follows this annotation).
        let patch = serde_json::json!({
            "metadata": {"annotations": {BACKED_UP_AT: export.exported_at}}
        });
        let pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..Default::default()
        };
        for k in &export.keys {
            match api.patch(&k.name, &pp, &Patch::Merge(&patch)).await {
                Ok(mut s) => scrub(&mut s),
                Err(e) => {
                    return Err(KeyBackupError::Mark {
                        namespace: namespace.clone(),
                        name: k.name.clone(),
                        message: api_message(&e),
                    });
                }
            }
        }
        notice(&format!(
            "marked {} key Secret(s) with {BACKED_UP_AT}={}",
            export.keys.len(),
            export.exported_at
        ));
        Ok(())
    });
    // On an error before the file was written, the pending file is removed.
    if let Some(output) = out {
        output.finish(false)?;
    }
    result
}

enum Plan {
    /// Create the key Secret; `Some(name)`: under [`backup::restored_name`], because `name` is taken
    /// by a different Secret.
    Create(Box<BackupKey>, Option<String>),
    Present(String),
    Conflict(String),
}

/// Whether `existing` (scrubbed here) holds the key pair of `key`.
fn holds_key(mut existing: ApiSecret, key: &BackupKey) -> Result<bool, KeyBackupError> {
    let same = from_k8s(&existing).map(|e| backup::same_key(&e, &key.secret));
    scrub(&mut existing);
    Ok(same?)
}

/// `--restore-keys FILE`: creates the key Secrets of a backup in `--controller-namespace`, with their
/// names, labels, annotations and type. A key already there (under its name or the name below) is
/// skipped; a different Secret under the same name is never overwritten: a labelled key is then
/// created under [`backup::restored_name`] (the controller finds keys by label), an unlabelled
/// legacy key (found by name) is reported. Everything is read, decrypted, validated and checked with
/// a server-side dry run before the first write.
pub fn restore_keys(cli: &Cli) -> Result<(), KeyBackupError> {
    let path = cli.restore_keys.as_str();
    let data = Zeroizing::new(std::fs::read(path).map_err(PathError::on("open", path))?);
    let plaintext = open_backup(cli, path, &data)?;
    let keys = backup::parse(&plaintext).map_err(|source| KeyBackupError::InFile {
        path: path.to_string(),
        source,
    })?;
    drop(plaintext);
    let config = ClientConfig::new(&cli.kubeconfig, &cli.kube);
    let namespace = cli.controller_namespace.clone();
    cluster::block_on(async {
        let client = client(&config).await?;
        let api: Api<ApiSecret> = Api::namespaced(client, &namespace);
        let denied = |e: kube::Error| KeyBackupError::Restore {
            namespace: namespace.clone(),
            message: api_message(&e),
        };
        let mut plan = Vec::new();
        for mut key in keys {
            key.secret.metadata.namespace = namespace.clone();
            let name = key.info.name.clone();
            match api.get_opt(&name).await.map_err(denied)? {
                Some(existing) => {
                    if holds_key(existing, &key)? {
                        plan.push(Plan::Present(name));
                    } else if !key.secret.metadata.labels.contains_key(backup::KEY_LABEL) {
                        plan.push(Plan::Conflict(name));
                    } else {
                        let renamed = backup::restored_name(&name, &key.info.fingerprint);
                        match api.get_opt(&renamed).await.map_err(denied)? {
                            Some(existing) => {
                                if holds_key(existing, &key)? {
                                    plan.push(Plan::Present(renamed));
                                } else {
                                    plan.push(Plan::Conflict(name));
                                }
                            }
                            None => {
                                key.secret.metadata.name = renamed.clone();
                                key.info.name = renamed;
                                plan.push(Plan::Create(Box::new(key), Some(name)));
                            }
                        }
                    }
                }
                None => plan.push(Plan::Create(Box::new(key), None)),
            }
        }
        // Permission and admission checks of every create, without writing anything.
        let dry = PostParams {
            dry_run: true,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        for p in &plan {
            if let Plan::Create(key, _) = p {
                let obj = to_k8s(&key.secret)?;
                let result = api.create(&dry, &obj).await;
                drop(obj);
                let mut created = result.map_err(denied)?;
                scrub(&mut created);
            }
        }
        let pp = PostParams {
            dry_run: false,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        let (mut created, mut present, mut conflicts) = (0, 0, 0);
        for p in plan {
            match p {
                Plan::Create(key, taken) => {
                    let obj = to_k8s(&key.secret)?;
                    let result = api.create(&pp, &obj).await;
                    drop(obj);
                    match result {
                        Ok(mut s) => {
                            scrub(&mut s);
                            created += 1;
                            let renamed = taken.map_or(String::new(), |t| {
                                format!(
                                    " (under a new name: {namespace}/{t} is a different Secret, not overwritten)"
                                )
                            });
                            notice(&format!(
                                "created {namespace}/{} {}{renamed}",
                                key.info.name, key.info.fingerprint
                            ));
                        }
                        Err(e) => {
                            return Err(KeyBackupError::Create {
                                namespace: namespace.clone(),
                                name: key.info.name.clone(),
                                message: api_message(&e),
                                created,
                            });
                        }
                    }
                }
                Plan::Present(name) => {
                    present += 1;
                    notice(&format!("skipped {namespace}/{name}: already present"));
                }
                Plan::Conflict(name) => {
                    conflicts += 1;
                    notice(&format!(
                        "skipped {namespace}/{name}: a different Secret with this name exists; not overwritten"
                    ));
                }
            }
        }
        notice(&format!(
            "restored {created} key(s) into namespace {namespace}, {present} already present"
        ));
        if conflicts > 0 {
            return Err(KeyBackupError::Conflicts {
                count: conflicts,
                namespace: namespace.clone(),
            });
        }
        Ok(())
    })
}
