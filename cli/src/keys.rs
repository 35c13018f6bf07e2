//! `--list-keys` and `--retire-key` (docs/operations.md "Key inventory and retirement"): the API
//! reads and the delete. What is active, what needs which key and whether a key may go are decided
//! by the core (`sealed_secrets::inventory`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret as ApiSecret;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Preconditions};
use sealed_secrets::inventory::{
    self, KeySecretInfo, Refusal, SEALING_KEYS_ANNOTATION, Usage, secret_state, status_is_current,
};
use sealed_secrets::k8s::{ConvertError, from_k8s, zeroize_secret_data as scrub};
use sealed_secrets::key_secret::key_selector;
use sealed_secrets::keys::Certificate;

use crate::backup::{api_message, notice};
use crate::cluster::{self, Accept, ClusterError, Controller};
use crate::flags::Cli;
use crate::kubeconfig::{ClientConfig, KubeconfigError};
use crate::output::{Output, OutputError};

/// Why listing or retiring keys failed.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Core(#[from] sealed_secrets::Error),
    /// A key Secret the API returned, converted; the message quotes no value.
    #[error("{}", .0.without_values())]
    Convert(#[from] ConvertError),
    #[error("cannot read the key Secrets in namespace {namespace}: {message}")]
    ReadKeys { namespace: String, message: String },
    #[error(
        "no key Secret found in namespace {0} (label {selector}); is --controller-namespace right?",
        selector = key_selector()
    )]
    NoKeys(String),
    #[error("cannot list {what} in the cluster: {message}")]
    List { what: &'static str, message: String },
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot delete key Secret {namespace}/{name}: {message}; nothing was deleted")]
    Delete {
        namespace: String,
        name: String,
        message: String,
    },
}

impl From<KubeconfigError> for KeysError {
    fn from(e: KubeconfigError) -> Self {
        KeysError::Cluster(e.into())
    }
}

impl From<kube::Error> for KeysError {
    fn from(e: kube::Error) -> Self {
        KeysError::Cluster(e.into())
    }
}

/// A key Secret as listed: what the inventory shows, and what the delete's precondition needs.
struct Listed {
    info: KeySecretInfo,
    uid: String,
    resource_version: String,
}

/// Everything the core decides on, read from the cluster.
struct Snapshot {
    keys: Vec<Listed>,
    inventory: inventory::Inventory,
}

/// `--list-keys` or `--retire-key NAME`.
pub fn run(cli: &Cli) -> Result<(), KeysError> {
    let format = cli.format_given.then_some(cli.format.as_str());
    if cli.retire_key.is_empty() && !matches!(format, None | Some("json" | "yaml")) {
        return Err(sealed_secrets::Error::UnsupportedOutputFormat(cli.format.clone()).into());
    }
    let config = ClientConfig::new(&cli.kubeconfig, &cli.kube);
    cluster::block_on(async {
        let client = kube::Client::try_from(config.kube_config().await?)?;
        let snapshot = snapshot(cli, &config, &client).await?;
        if cli.retire_key.is_empty() {
            let text = match format {
                None => inventory::render_table(&snapshot.inventory),
                Some(f) => {
                    let value = serde_json::to_value(&snapshot.inventory)?;
                    if f == "yaml" {
                        goyaml::to_yaml(&value)
                    } else {
                        goyaml::to_json_pretty(&value)
                    }
                }
            };
            let mut out = if cli.sealed_secret_file.is_empty() {
                Output::stdout()
            } else {
                Output::file(&cli.sealed_secret_file)?
            };
            let written = out.write(text.as_bytes());
            out.finish(written.is_ok())?;
            return Ok(written?);
        }
        retire(cli, &client, &snapshot).await
    })
}

async fn snapshot(
    cli: &Cli,
    config: &ClientConfig<'_>,
    client: &kube::Client,
) -> Result<Snapshot, KeysError> {
    let namespace = cli.controller_namespace.clone();
    let api: Api<ApiSecret> = Api::namespaced(client.clone(), &namespace);
    let mut listed = api
        .list(&ListParams::default().labels(&key_selector()))
        .await
        .map_err(|e| KeysError::ReadKeys {
            namespace: namespace.clone(),
            message: api_message(&e),
        })?
        .items;
    let mut keys = Vec::with_capacity(listed.len());
    for s in listed.iter_mut() {
        let converted = from_k8s(s);
        let uid = s.metadata.uid.clone().unwrap_or_default();
        let resource_version = s.metadata.resource_version.clone().unwrap_or_default();
        scrub(s);
        match inventory::key_secret_info(&converted?) {
            Ok(info) => keys.push(Listed {
                info,
                uid,
                resource_version,
            }),
            // The controller does not load it either (upstream `initKeyRegistry` logs and skips).
            Err(e) => notice(&format!("skipped {e}")),
        }
    }
    drop(listed);
    if keys.is_empty() {
        return Err(KeysError::NoKeys(namespace));
    }

    // Which Secret says what: names and annotations only, never the values.
    let secrets: Api<ApiSecret> = Api::all(client.clone());
    let list_err = |what| {
        move |e: kube::Error| KeysError::List {
            what,
            message: api_message(&e),
        }
    };
    let annotations: BTreeMap<(String, String), String> = secrets
        .list_metadata(&ListParams::default())
        .await
        .map_err(list_err("Secrets"))?
        .items
        .into_iter()
        .filter_map(|m| {
            let meta = m.metadata;
            let value = meta.annotations?.get(SEALING_KEYS_ANNOTATION)?.clone();
            Some(((meta.namespace?, meta.name?), value))
        })
        .collect();
    let resource = ApiResource {
        group: sealed_secrets::types::GROUP.to_string(),
        version: sealed_secrets::types::VERSION.to_string(),
        api_version: sealed_secrets::types::API_VERSION.to_string(),
        kind: sealed_secrets::types::KIND.to_string(),
        plural: sealed_secrets::types::PLURAL.to_string(),
    };
    let sealed: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let states = sealed
        .list(&ListParams::default())
        .await
        .map_err(list_err("SealedSecrets"))?
        .items
        .into_iter()
        .map(|ss| {
            let at = (
                ss.metadata.namespace.clone().unwrap_or_default(),
                ss.metadata.name.clone().unwrap_or_default(),
            );
            let observed = ss
                .data
                .pointer("/status/observedGeneration")
                .and_then(serde_json::Value::as_i64);
            let current = status_is_current(ss.metadata.generation.unwrap_or(0), observed);
            secret_state(annotations.get(&at).map(String::as_str), current)
        });
    let usage = Usage::count(states);

    // The controller says which key it seals with; without an answer the registry's rule decides.
    let active = match active_fingerprint(cli, config).await {
        Ok(fp) => Some(fp),
        Err(e) => {
            notice(&format!(
                "the active key is computed from the key Secrets: {e}"
            ));
            None
        }
    };
    let infos: Vec<KeySecretInfo> = keys.iter().map(|k| k.info.clone()).collect();
    let inventory = inventory::inventory(&namespace, &infos, active.as_deref(), &usage);
    Ok(Snapshot { keys, inventory })
}

async fn active_fingerprint(cli: &Cli, config: &ClientConfig<'_>) -> Result<String, KeysError> {
    let controller = Controller::connect(
        config,
        &cli.controller_namespace,
        &cli.controller_name,
        Accept::Pem,
    )
    .await?;
    let pem = controller.fetch_cert().await?;
    let cert = Certificate::from_pem(&pem).map_err(sealed_secrets::Error::from)?;
    Ok(cert.public_key.fingerprint())
}

async fn retire(cli: &Cli, client: &kube::Client, snapshot: &Snapshot) -> Result<(), KeysError> {
    let infos: Vec<KeySecretInfo> = snapshot.keys.iter().map(|k| k.info.clone()).collect();
    let entry =
        inventory::check_retirement(&snapshot.inventory, &infos, &cli.retire_key, cli.force)?;
    let namespace = &snapshot.inventory.namespace;
    let listed = snapshot
        .keys
        .iter()
        .find(|k| k.info.name == entry.name)
        .ok_or_else(|| Refusal::NotFound {
            name: entry.name.clone(),
            namespace: namespace.clone(),
        })?;
    if cli.force {
        if entry.sealed_secrets > 0 || snapshot.inventory.unknown > 0 {
            notice(&format!(
                "warning: --force: {} SealedSecret(s) need key {} and {} may need it",
                entry.sealed_secrets, entry.name, snapshot.inventory.unknown
            ));
        }
        if !entry.backed_up {
            notice(&format!(
                "warning: --force: key {} is in no backup",
                entry.name
            ));
        }
    }
    // Deleted only as it was read: a Secret changed or replaced since is not lost.
    let params = DeleteParams::default().preconditions(Preconditions {
        uid: Some(listed.uid.clone()),
        resource_version: Some(listed.resource_version.clone()),
    });
    let api: Api<ApiSecret> = Api::namespaced(client.clone(), namespace);
    match api.delete(&entry.name, &params).await {
        Ok(deleted) => {
            // The deleted object comes back with its key: zeroize it.
            let _ = deleted.map_left(|mut s| scrub(&mut s));
        }
        Err(e) => {
            return Err(KeysError::Delete {
                namespace: namespace.clone(),
                name: entry.name.clone(),
                message: api_message(&e),
            });
        }
    }
    notice(&format!(
        "retired key {namespace}/{} {}",
        entry.name, entry.fingerprint
    ));
    Ok(())
}
