//! Upstream's `runCLI` (spec §7.3): the order in which kubeseal looks at its flags, opens its input
//! and output, and picks a mode. Each mode hands typed values to the core and prints the result.

use std::fs::File;
use std::io::{IsTerminal, Read, Seek, Write};
use std::time::SystemTime;

use sealed_secrets::keys::{Certificate, PrivateKey, PublicKey, parse_recovery_keys};
use sealed_secrets::output::OutputFormat;
use sealed_secrets::scope::Scope;
use sealed_secrets::seal::{SealOptions, merge_into, seal_secret};
use sealed_secrets::types::SealedSecret;
use sealed_secrets::unseal::{UnsealOptions, unseal};
use serde::Serialize;

use crate::cluster::{self, Accept, Controller};
use crate::documents::{decode_sealed_secret, read_sealed_secrets, read_secrets};
use crate::flags::Cli;
use crate::goerr;
use crate::kubeconfig::ClientConfig;
use crate::output::Output;

/// Where the documents come from: `-f <file>` (opened up front, read when needed) or stdin.
enum Input {
    Stdin,
    File(File, String),
}

impl Input {
    fn read_all(self) -> Result<Vec<u8>, String> {
        let mut buf = Vec::new();
        match self {
            Input::Stdin => std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map_err(|e| goerr::path_error("read", "/dev/stdin", &e))?,
            Input::File(mut f, name) => f
                .read_to_end(&mut buf)
                .map_err(|e| goerr::path_error("read", &name, &e))?,
        };
        Ok(buf)
    }
}

/// Runs the command once the flags are parsed (`--version`, `--help` and `--completion` are
/// handled by the caller).
pub fn run(mut cli: Cli) -> Result<(), String> {
    // `--rotate` is the same switch as `--re-encrypt` upstream.
    cli.re_encrypt |= cli.rotate;
    let from_files = cli.raw_value_files();
    if !from_files.is_empty() && !cli.raw {
        return Err("--from-file requires --raw".into());
    }

    // Key backup and restore (docs/operations.md) read no documents from the input.
    if !cli.restore_keys.is_empty() {
        return crate::backup::restore_keys(&cli);
    }
    if cli.backup_keys {
        let out = if cli.sealed_secret_file.is_empty() {
            Output::stdout()
        } else {
            Output::file(&cli.sealed_secret_file)?
        };
        return crate::backup::backup_keys(&cli, out);
    }

    let input = if !cli.secret_file.is_empty() {
        let f = File::open(&cli.secret_file)
            .map_err(|_| "Could not read file specified with --secret-file".to_string())?;
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
    result.and(finished)
}

fn run_mode(
    cli: &Cli,
    from_files: Vec<String>,
    input: Input,
    out: &mut Output,
) -> Result<(), String> {
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
        return out.write(&cert);
    }

    let certificate = Certificate::from_pem(&cert).map_err(|e| e.to_string())?;
    certificate
        .check_not_expired(SystemTime::now())
        .map_err(|e| e.to_string())?;
    let key = &certificate.public_key;

    if !cli.merge_into.is_empty() {
        return seal_merging_into(cli, &config, key, input);
    }
    if cli.raw {
        return encrypt_raw(cli, &config, key, &from_files, out);
    }
    let bytes = input.read_all()?;
    seal_documents(cli, &config, key, &bytes, "", "", |ss| {
        print(out, &cli.format, &ss)
    })
}

/// A line on stderr; a closed stderr is no reason to fail.
fn notice(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Renders one object in `-o` format; an unknown format is an error only now (§7.10).
fn print(out: &mut Output, format: &str, object: &impl Serialize) -> Result<(), String> {
    let text = render(format, object)?;
    out.write(text.as_bytes())
}

fn render(format: &str, object: &impl Serialize) -> Result<String, String> {
    let format = OutputFormat::parse(format).map_err(|e| e.to_string())?;
    format.render(object).map_err(|e| e.to_string())
}

/// `kubeseal.Seal`: every input Secret in turn, each printed before the next is sealed.
/// `name`/`namespace` are `--merge-into`'s overrides (empty: none).
fn seal_documents(
    cli: &Cli,
    config: &ClientConfig<'_>,
    key: &PublicKey,
    input: &[u8],
    override_name: &str,
    override_namespace: &str,
    mut emit: impl FnMut(SealedSecret) -> Result<(), String>,
) -> Result<(), String> {
    let secrets = read_secrets(input)?;
    // The kubeconfig is read at most once, and only when a Secret lacks a namespace.
    let mut kubeconfig_namespace: Option<String> = None;
    for mut secret in secrets {
        if !override_namespace.is_empty() {
            secret.metadata.namespace = override_namespace.to_string();
        }
        let scope = if cli.scope == Scope::Strict {
            Scope::from_annotations(&secret.metadata.annotations)
        } else {
            cli.scope
        };
        let (namespace, namespace_explicit) = if scope == Scope::ClusterWide {
            (String::new(), false)
        } else if !cli.kube.namespace.is_empty() {
            (cli.kube.namespace.clone(), true)
        } else if secret.metadata.namespace.is_empty() {
            // Upstream ignores kubeconfig errors here; the core then asks for a namespace.
            let ns = kubeconfig_namespace
                .get_or_insert_with(|| config.namespace().map(|(ns, _)| ns).unwrap_or_default());
            (ns.clone(), false)
        } else {
            (String::new(), false)
        };
        let opts = SealOptions {
            name: if override_name.is_empty() {
                cli.name.clone()
            } else {
                override_name.to_string()
            },
            scope: cli.scope,
            namespace,
            namespace_explicit,
            allow_empty_data: cli.allow_empty_data,
        };
        let sealed = seal_secret(secret, key, &opts).map_err(|e| e.to_string())?;
        emit(sealed)?;
    }
    Ok(())
}

/// `--raw` (§7.5): one value, base64 of its ciphertext, no newline.
fn encrypt_raw(
    cli: &Cli,
    config: &ClientConfig<'_>,
    key: &PublicKey,
    from_files: &[String],
    out: &mut Output,
) -> Result<(), String> {
    let mut namespace = String::new();
    if cli.scope != Scope::ClusterWide {
        namespace = config.namespace()?.0;
        if namespace.is_empty() {
            return Err(format!(
                "must provide the --namespace flag with --raw and --scope {}",
                cli.scope.as_str()
            ));
        }
        if cli.name.is_empty() && cli.scope == Scope::Strict {
            return Err(format!(
                "must provide the --name flag with --raw and --scope {}",
                cli.scope.as_str()
            ));
        }
    }
    let data = zeroize::Zeroizing::new(match from_files {
        [] => {
            if std::io::stdin().is_terminal() {
                notice("(tty detected: expecting a secret to encrypt in stdin)");
            }
            Input::Stdin.read_all()?
        }
        [one] => {
            // `[key=]path`: the key is irrelevant for a single value.
            let path = one.split_once('=').map(|(_, p)| p).unwrap_or(one);
            std::fs::read(path).map_err(|e| goerr::path_error("open", path, &e))?
        }
        _ => {
            return Err(
                "must provide only one --from-file when encrypting a single item with --raw".into(),
            );
        }
    });
    let label = cli.scope.label(&namespace, &cli.name);
    let sealed = key.encrypt(&data, &label).map_err(|e| e.to_string())?;
    out.write(go_semantics::base64::encode(&sealed).as_bytes())
}

/// `--merge-into <file>` (§7.6): seal the input with the file's name and namespace, merge the
/// items into the file's SealedSecret and rewrite the file in `-o` format. Nothing is written
/// until everything succeeded.
fn seal_merging_into(
    cli: &Cli,
    config: &ClientConfig<'_>,
    key: &PublicKey,
    input: Input,
) -> Result<(), String> {
    let path = cli.merge_into.as_str();
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| goerr::path_error("open", path, &e))?;
    let mut existing = Vec::new();
    file.read_to_end(&mut existing)
        .map_err(|e| goerr::path_error("read", path, &e))?;
    let mut original = decode_sealed_secret(&existing)?;

    let bytes = input.read_all()?;
    let (name, namespace) = (
        original.metadata.name.clone(),
        original.metadata.namespace.clone(),
    );
    let mut updates = Vec::new();
    seal_documents(cli, config, key, &bytes, &name, &namespace, |ss| {
        // Upstream renders the update in `-o` format before merging it: a bad format fails here.
        render(&cli.format, &ss)?;
        updates.push(ss);
        Ok(())
    })?;
    for update in updates {
        merge_into(&mut original, update);
    }
    let text = render(&cli.format, &original.with_type_meta())?;

    let write_err = |e: std::io::Error| goerr::path_error("write", path, &e);
    file.set_len(0)
        .map_err(|e| goerr::path_error("truncate", path, &e))?;
    file.rewind().map_err(write_err)?;
    file.write_all(text.as_bytes()).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    Ok(())
}

/// `--recovery-unseal` (§7.9): decrypt offline with the given private keys.
fn recovery_unseal(
    cli: &Cli,
    key_files: &[String],
    input: Input,
    out: &mut Output,
) -> Result<(), String> {
    let mut keys: Vec<PrivateKey> = Vec::new();
    for path in key_files {
        let data = zeroize::Zeroizing::new(
            std::fs::read(path).map_err(|e| goerr::path_error("open", path, &e))?,
        );
        // An encrypted backup (`--backup-keys`) is decrypted first; its plaintext is a key List.
        let data = crate::backup::open_backup(cli, path, &data)?;
        keys.extend(
            parse_recovery_keys(&data).map_err(|e| goerr::redact_serde_values(&e.to_string()))?,
        );
    }
    let bytes = input.read_all()?;
    let ss = decode_sealed_secret(&bytes)?;
    let opts = UnsealOptions {
        accept_v1_data: false,
        render_templates: true,
    };
    let mut secret = unseal(&ss, &keys, opts).map_err(|e| e.to_string())?;
    // Upstream's owner reference carries the input's apiVersion/kind as they were, even empty.
    if let Some(owner) = secret.metadata.owner_references.first_mut() {
        owner.api_version = ss.api_version.clone();
        owner.kind = ss.kind.clone();
    }
    print(out, &cli.format, &secret)
}

/// `--validate` (§7.7).
fn validate(cli: &Cli, config: &ClientConfig<'_>, input: Input) -> Result<(), String> {
    cluster::block_on(async {
        let controller = Controller::connect(
            config,
            &cli.controller_namespace,
            &cli.controller_name,
            Accept::Json,
        )
        .await?;
        let bytes = input.read_all()?;
        let sealed = read_sealed_secrets(&bytes)
            .map_err(|_| "unable to decrypt sealed secret".to_string())?;
        for ss in sealed {
            match controller.post("/v1/verify", compact_json(&ss)?).await {
                Ok(_) => {}
                Err(e) if e.status == Some(http::StatusCode::CONFLICT) => {
                    return Err(format!(
                        "unable to decrypt sealed secret: {}",
                        ss.metadata.name
                    ));
                }
                Err(e) => return Err(format!("cannot validate sealed secret: {}", e.message)),
            }
        }
        Ok(())
    })
}

/// `--re-encrypt` (§7.8).
fn re_encrypt(
    cli: &Cli,
    config: &ClientConfig<'_>,
    input: Input,
    out: &mut Output,
) -> Result<(), String> {
    cluster::block_on(async {
        let controller = Controller::connect(
            config,
            &cli.controller_namespace,
            &cli.controller_name,
            Accept::Json,
        )
        .await?;
        let bytes = input.read_all()?;
        let sealed = read_sealed_secrets(&bytes)?;
        for ss in sealed {
            let reply = match controller.post("/v1/rotate", compact_json(&ss)?).await {
                Ok(reply) => reply,
                Err(e) if e.status == Some(http::StatusCode::CONFLICT) => {
                    return Err("unable to rotate secret".into());
                }
                Err(e) => return Err(format!("cannot re-encrypt secret: {}", e.message)),
            };
            let mut rotated: SealedSecret =
                serde_json::from_slice(&reply).map_err(|e| e.to_string())?;
            rotated.metadata.creation_timestamp = None;
            rotated.metadata.deletion_timestamp = None;
            rotated.metadata.generation = 0;
            print(out, &cli.format, &rotated.with_type_meta())?;
        }
        Ok(())
    })
}

/// Go's `json.Marshal` of a decoded object: what upstream sends to the controller.
fn compact_json(object: &impl Serialize) -> Result<Vec<u8>, String> {
    let value = serde_json::to_value(object).map_err(|e| e.to_string())?;
    Ok(goyaml::to_json_compact(&value).into_bytes())
}
