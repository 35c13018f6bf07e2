//! The command line, parsed the way upstream's pflag + flagenv do it (`cmd/kubeseal/main.go`
//! `bindFlags` and `main`, `pkg/pflagenv/flagenv.go` `SetFlagsFromEnv`).
//!
//! clap does the parsing; three things are done by hand so that scripts written for upstream keep
//! working:
//! * `SEALED_SECRETS_<FLAG>` environment variables are turned into `--flag=value` arguments placed
//!   before the real ones ([`env_args`]). That reproduces pflagenv exactly: the command line wins
//!   for single values, list flags get the command-line values appended to the environment's, and
//!   an environment value that does not parse is silently ignored (clap's own `env` support would
//!   reject it, and would drop the environment's list items).
//! * Booleans take Go's `strconv.ParseBool` spellings and only attach a value with `=`.
//! * `--help` and parse errors print pflag's flag table ([`usage`]), and errors use pflag's texts.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgAction, Args, CommandFactory, FromArgMatches as _, Parser};
use sealed_secrets::scope::Scope;

use crate::goerr;

/// What `--version` prints after `kubeseal version: `.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// Prefix of the environment variable of every flag (upstream `flagEnvPrefix`).
const ENV_PREFIX: &str = "SEALED_SECRETS_";

/// Flags that have no environment variable: klog's (registered after upstream reads the
/// environment) and our own `--completion`.
const NO_ENV: &[&str] = &[
    "add_dir_header",
    "alsologtostderr",
    "alsologtostderrthreshold",
    "legacy_stderr_threshold_behavior",
    "log_backtrace_at",
    "log_dir",
    "log_file",
    "log_file_max_size",
    "logtostderr",
    "one_output",
    "skip_headers",
    "skip_log_headers",
    "stderrthreshold",
    "v",
    "vmodule",
    "completion",
];

#[derive(Parser, Debug, Clone)]
#[command(
    name = "kubeseal",
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    args_override_self = true
)]
pub struct Cli {
    /// Certificate / public key file/URL to use for encryption. Overrides --controller-*
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub cert: String,

    /// Namespace of sealed-secrets controller.
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "kube-system",
        allow_hyphen_values = true
    )]
    pub controller_namespace: String,

    /// Name of sealed-secrets controller.
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "sealed-secrets-controller",
        allow_hyphen_values = true
    )]
    pub controller_name: String,

    /// Output format for sealed secret. Either json or yaml
    #[arg(
        verbatim_doc_comment,
        short = 'o',
        long,
        value_name = "string",
        default_value = "json",
        allow_hyphen_values = true
    )]
    pub format: String,

    /// Sealed-secret (output) file
    #[arg(
        verbatim_doc_comment,
        short = 'w',
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub sealed_secret_file: String,

    /// Secret (input) file
    #[arg(
        verbatim_doc_comment,
        short = 'f',
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub secret_file: String,

    /// Write certificate to stdout. Useful for later use with --cert
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub fetch_cert: bool,

    /// Allow empty data in the secret object
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub allow_empty_data: bool,

    /// Validate that the sealed secret can be decrypted
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub validate: bool,

    /// Merge items from secret into an existing sealed secret file, updating the file in-place instead of writing to stdout.
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub merge_into: String,

    /// Encrypt a raw value passed via the --from-* flags instead of the whole secret object
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub raw: bool,

    /// Name of the sealed secret (required with --raw and default (strict) scope)
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub name: String,

    /// (only with --raw) Secret items can be sourced from files. Pro-tip: you can use /dev/stdin to read pipe input. This flag tries to follow the same syntax as in kubectl
    #[arg(verbatim_doc_comment, long, value_name = "strings", action = ArgAction::Append, value_parser = go_csv, allow_hyphen_values = true)]
    pub from_file: Vec<CsvList>,

    /// Path to a kube config. Only required if out-of-cluster
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub kubeconfig: String,

    /// Set the scope of the sealed secret: strict, namespace-wide, cluster-wide (defaults to strict). Mandatory for --raw, otherwise the 'sealedsecrets.bitnami.com/cluster-wide' and 'sealedsecrets.bitnami.com/namespace-wide' annotations on the input secret can be used to select the scope.
    #[arg(verbatim_doc_comment, long, value_name = "string", default_value = "strict", value_parser = scope, allow_hyphen_values = true)]
    pub scope: Scope,

    /// Deprecated alias of --re-encrypt.
    #[arg(verbatim_doc_comment, long, hide = true, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub rotate: bool,

    /// Re-encrypt the given sealed secret to use the latest cluster key.
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub re_encrypt: bool,

    /// Decrypt a sealed secrets file obtained from stdin, using the private key passed with --recovery-private-key. Intended to be used in disaster recovery mode.
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub recovery_unseal: bool,

    #[arg(help = "Private key filename used by the --recovery-unseal command. Multiple files accepted either via comma separated list or by repetition of the flag. Either PEM encoded private keys or a backup of a json/yaml encoded k8s sealed-secret controller secret (and v1.List) are accepted. ", long, value_name = "strings", action = ArgAction::Append, value_parser = go_csv, allow_hyphen_values = true)]
    pub recovery_private_key: Vec<CsvList>,

    /// Back up the controller's private keys (every key Secret in --controller-namespace) to the --sealed-secret-file or stdout. Encrypted with age to --backup-recipient, else with a passphrase (SEALED_SECRETS_BACKUP_PASSPHRASE, or asked on the terminal), else plain with --backup-plaintext. Marks the key Secrets with the sealedsecrets-rs.io/backed-up-at annotation.
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub backup_keys: bool,

    #[arg(help = "age recipient (age1...) to encrypt the --backup-keys file to. Multiple recipients accepted either via comma separated list or by repetition of the flag.", long, value_name = "strings", action = ArgAction::Append, value_parser = go_csv, allow_hyphen_values = true)]
    pub backup_recipient: Vec<CsvList>,

    /// Write the --backup-keys file unencrypted (it holds the private keys in clear text).
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub backup_plaintext: bool,

    #[arg(help = "age identity file to decrypt a backup with (--restore-keys, --recovery-unseal). Multiple files accepted either via comma separated list or by repetition of the flag. A passphrase-encrypted backup needs none: the passphrase comes from SEALED_SECRETS_BACKUP_PASSPHRASE or the terminal.", long, value_name = "strings", action = ArgAction::Append, value_parser = go_csv, allow_hyphen_values = true)]
    pub backup_identity: Vec<CsvList>,

    /// Restore the key Secrets of a backup file (ours, encrypted or plain, or upstream's kubectl List) into --controller-namespace. Existing keys are kept; nothing is overwritten.
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub restore_keys: String,

    // Offline lint (docs/operations.md "Offline lint"); the paths are the positional arguments.
    /// Check the files and directories given as arguments (*.yaml, *.yml, *.json) without a cluster: unsealed Secrets, SealedSecrets a kustomization renames or moves, template/scope mismatches, malformed ciphertexts (against --cert when given) and, with --recovery-private-key, items that do not decrypt. Prints file:line: message, or -o json|yaml|sarif; exits non-zero on findings.
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub lint: bool,

    // Key inventory and retirement (docs/operations.md "Key inventory and retirement").
    /// List the controller's keys (the key Secrets in --controller-namespace): name, fingerprint, creation, certificate expiry, whether it is the active key, whether it is in a backup (--backup-keys) and how many SealedSecrets in the cluster need it. A table, or -o json|yaml.
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub list_keys: bool,

    /// Delete the key Secret of this name in --controller-namespace. Refused for the active key, while a SealedSecret in the cluster needs or may need it, or while it is in no backup (--backup-keys); --force overrides all but the first.
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub retire_key: String,

    /// With --retire-key: retire the key although SealedSecrets may still need it or it is in no backup.
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub force: bool,

    /// Whether `-o` was given (on the command line or as SEALED_SECRETS_FORMAT): `--lint` prints
    /// text unless it was.
    #[arg(skip)]
    pub format_given: bool,

    // Re-sealing files in place and the certificate expiry warning (docs/operations.md).
    #[arg(help = "Re-encrypt in place every SealedSecret in these files and directory trees (*.yaml, *.yml, *.json below a directory) for the latest key: through the controller, or offline with --recovery-private-key and --cert. Only the items the latest key does not decrypt change; every other byte stays. Multiple paths accepted either via comma separated list or by repetition of the flag.", long, value_name = "strings", action = ArgAction::Append, value_parser = go_csv, allow_hyphen_values = true)]
    pub re_encrypt_path: Vec<CsvList>,

    /// With --re-encrypt-path: list the items that would be re-encrypted and write nothing.
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub re_encrypt_dry_run: bool,

    /// Warn on stderr when the certificate to seal with expires within this duration (0 disables the warning). An expired certificate is refused.
    #[arg(verbatim_doc_comment, long, value_name = "duration", default_value = "720h0m0s", value_parser = go_duration, allow_hyphen_values = true)]
    pub cert_expiry_warning: std::time::Duration,

    /// Print this help message
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub help: bool,

    /// Print version information and exit
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub version: bool,

    /// Print a shell completion script (bash, elvish, fish, powershell or zsh) and exit
    #[arg(verbatim_doc_comment, long, value_name = "shell", value_parser = clap::value_parser!(clap_complete::Shell))]
    pub completion: Option<clap_complete::Shell>,

    #[command(flatten)]
    pub kube: KubeFlags,

    #[command(flatten)]
    pub log: LogFlags,

    /// Upstream ignores positional arguments.
    #[arg(hide = true, num_args = 0..)]
    pub args: Vec<OsString>,
}

/// kubectl's connection flags (client-go `RecommendedConfigOverrideFlags`).
#[derive(Args, Debug, Clone, Default)]
pub struct KubeFlags {
    /// If present, the namespace scope for this CLI request
    #[arg(
        verbatim_doc_comment,
        short = 'n',
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub namespace: String,

    /// The name of the kubeconfig context to use
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub context: String,

    /// The name of the kubeconfig cluster to use
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub cluster: String,

    /// The name of the kubeconfig user to use
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub user: String,

    /// The address and port of the Kubernetes API server
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub server: String,

    /// Bearer token for authentication to the API server
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true,
        hide_default_value = true
    )]
    pub token: String,

    /// Path to a client certificate file for TLS
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub client_certificate: String,

    /// Path to a client key file for TLS
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub client_key: String,

    /// Path to a cert file for the certificate authority
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub certificate_authority: String,

    /// If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub insecure_skip_tls_verify: bool,

    /// If provided, this name will be used to validate server certificate. If this is not provided, hostname used to contact the server is used.
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub tls_server_name: String,

    /// If provided, this URL will be used to connect via proxy
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub proxy_url: String,

    /// If true, opt-out of response compression for all requests to the server
    #[arg(verbatim_doc_comment, long, value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    pub disable_compression: bool,

    /// Username to impersonate for the operation
    #[arg(
        verbatim_doc_comment,
        long = "as",
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub as_user: String,

    /// UID to impersonate for the operation
    #[arg(
        verbatim_doc_comment,
        long = "as-uid",
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub as_uid: String,

    /// Group to impersonate for the operation, this flag can be repeated to specify multiple groups.
    #[arg(verbatim_doc_comment, long = "as-group", value_name = "stringArray", action = ArgAction::Append, allow_hyphen_values = true)]
    pub as_group: Vec<String>,

    /// Username for basic authentication to the API server
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub username: String,

    /// Password for basic authentication to the API server
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub password: String,

    /// The length of time to wait before giving up on a single server request. Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don't timeout requests.
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "string",
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub request_timeout: String,
}

/// klog's flags: accepted for compatibility; kubeseal logs nothing.
#[derive(Args, Debug, Clone, Default)]
pub struct LogFlags {
    /// If true, adds the file directory to the header of the log messages
    #[arg(verbatim_doc_comment, long = "add_dir_header", value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    add_dir_header: bool,
    /// log to standard error as well as files (no effect when -logtostderr=true)
    #[arg(verbatim_doc_comment, long = "alsologtostderr", value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    alsologtostderr: bool,
    /// logs at or above this threshold go to stderr when -alsologtostderr=true (no effect when -logtostderr=true)
    #[arg(verbatim_doc_comment, long = "alsologtostderrthreshold", value_name = "severity", default_value = "0", value_parser = severity)]
    alsologtostderrthreshold: String,
    /// If true, stderrthreshold is ignored when logtostderr=true (legacy behavior). If false, stderrthreshold is honored even when logtostderr=true
    #[arg(verbatim_doc_comment, long = "legacy_stderr_threshold_behavior", value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    legacy_stderr_threshold_behavior: bool,
    /// when logging hits line file:N, emit a stack trace
    #[arg(
        verbatim_doc_comment,
        long = "log_backtrace_at",
        value_name = "traceLocation",
        default_value = ":0"
    )]
    log_backtrace_at: String,
    /// If non-empty, write log files in this directory (no effect when -logtostderr=true)
    #[arg(
        verbatim_doc_comment,
        long = "log_dir",
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    log_dir: String,
    /// If non-empty, use this log file (no effect when -logtostderr=true)
    #[arg(
        verbatim_doc_comment,
        long = "log_file",
        value_name = "string",
        default_value = "",
        allow_hyphen_values = true
    )]
    log_file: String,
    /// Defines the maximum size a log file can grow to (no effect when -logtostderr=true). Unit is megabytes. If the value is 0, the maximum file size is unlimited.
    #[arg(verbatim_doc_comment, long = "log_file_max_size", value_name = "uint", default_value = "1800", value_parser = go_uint)]
    log_file_max_size: u64,
    /// log to standard error instead of files
    #[arg(verbatim_doc_comment, long = "logtostderr", value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_parser = go_bool, action = ArgAction::Set)]
    logtostderr: bool,
    /// If true, only write logs to their native severity level (vs also writing to each lower severity level; no effect when -logtostderr=true)
    #[arg(verbatim_doc_comment, long = "one_output", value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    one_output: bool,
    /// If true, avoid header prefixes in the log messages
    #[arg(verbatim_doc_comment, long = "skip_headers", value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    skip_headers: bool,
    /// If true, avoid headers when opening log files (no effect when -logtostderr=true)
    #[arg(verbatim_doc_comment, long = "skip_log_headers", value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool, action = ArgAction::Set)]
    skip_log_headers: bool,
    /// logs at or above this threshold go to stderr when writing to files and stderr (no effect when -logtostderr=true or -alsologtostderr=true unless -legacy_stderr_threshold_behavior=false)
    #[arg(verbatim_doc_comment, long = "stderrthreshold", value_name = "severity", default_value = "2", value_parser = severity)]
    stderrthreshold: String,
    /// number for the log level verbosity
    #[arg(verbatim_doc_comment, short = 'v', long = "v", value_name = "Level", default_value = "0", value_parser = go_int32)]
    v: i32,
    /// comma-separated list of pattern=N settings for file-filtered logging
    #[arg(
        verbatim_doc_comment,
        long = "vmodule",
        value_name = "moduleSpec",
        default_value = ""
    )]
    vmodule: String,
}

/// One occurrence of a pflag `strings` flag: a CSV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvList(pub Vec<String>);

impl Cli {
    /// All `--from-file` values, comma-separated occurrences flattened.
    pub fn raw_value_files(&self) -> Vec<String> {
        self.from_file
            .iter()
            .flat_map(|l| l.0.iter().cloned())
            .collect()
    }

    /// All `--backup-recipient` values.
    pub fn backup_recipients(&self) -> Vec<String> {
        self.backup_recipient
            .iter()
            .flat_map(|l| l.0.iter().cloned())
            .collect()
    }

    /// All `--backup-identity` files.
    pub fn backup_identity_files(&self) -> Vec<String> {
        self.backup_identity
            .iter()
            .flat_map(|l| l.0.iter().cloned())
            .collect()
    }

    /// All `--re-encrypt-path` values.
    pub fn re_encrypt_paths(&self) -> Vec<String> {
        self.re_encrypt_path
            .iter()
            .flat_map(|l| l.0.iter().cloned())
            .collect()
    }

    /// All `--recovery-private-key` values.
    pub fn recovery_private_keys(&self) -> Vec<String> {
        self.recovery_private_key
            .iter()
            .flat_map(|l| l.0.iter().cloned())
            .collect()
    }
}

/// Go `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    go_semantics::strconv::parse_bool(s).ok()
}

/// Why a flag value was refused: the reason pflag prints after `invalid argument "<v>" for "<flag>"
/// flag: `.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum FlagValueError {
    #[error("strconv.ParseBool: parsing {}: invalid syntax", goerr::quote(.0))]
    Bool(String),
    #[error("strconv.ParseInt: parsing {}: invalid syntax", goerr::quote(.0))]
    Int(String),
    /// klog's `--log_file_max_size` reports any bad value as a bare `parse error`.
    #[error("parse error")]
    Uint,
    #[error("must be one of: strict, namespace-wide, cluster-wide")]
    Scope,
    /// Go `time.ParseDuration`'s error.
    #[error("{0}")]
    Duration(String),
    /// Go's `encoding/csv` (`*csv.ParseError` on line 1).
    #[error("parse error on line 1, column {column}: {problem}")]
    Csv {
        column: usize,
        problem: &'static str,
    },
}

const CSV_QUOTE: &str = "extraneous or missing \" in quoted-field";
const CSV_BARE_QUOTE: &str = "bare \" in non-quoted-field";

fn go_bool(s: &str) -> Result<bool, FlagValueError> {
    parse_go_bool(s).ok_or_else(|| FlagValueError::Bool(s.to_string()))
}

fn go_int32(s: &str) -> Result<i32, FlagValueError> {
    s.parse::<i32>()
        .map_err(|_| FlagValueError::Int(s.to_string()))
}

fn go_uint(s: &str) -> Result<u64, FlagValueError> {
    s.parse::<u64>().map_err(|_| FlagValueError::Uint)
}

/// klog severities: a name or a number.
fn severity(s: &str) -> Result<String, FlagValueError> {
    let named = ["INFO", "WARNING", "ERROR", "FATAL"].contains(&s.to_ascii_uppercase().as_str());
    if named || s.parse::<i32>().is_ok() {
        Ok(s.to_string())
    } else {
        Err(FlagValueError::Int(s.to_string()))
    }
}

fn scope(s: &str) -> Result<Scope, FlagValueError> {
    Scope::parse(s).ok_or(FlagValueError::Scope)
}

/// Go `time.ParseDuration`; a negative duration is none.
fn go_duration(s: &str) -> Result<std::time::Duration, FlagValueError> {
    go_semantics::time::parse_duration(s)
        .map(|ns| std::time::Duration::from_nanos(u64::try_from(ns).unwrap_or(0)))
        .map_err(|e| FlagValueError::Duration(e.to_string()))
}

fn go_csv(s: &str) -> Result<CsvList, FlagValueError> {
    parse_csv_record(s).map(CsvList)
}

/// One record of Go's `encoding/csv` (what pflag's string slices use): fields separated by commas,
/// optionally double-quoted with `""` as an escaped quote. `""` is the empty list.
pub fn parse_csv_record(s: &str) -> Result<Vec<String>, FlagValueError> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields = Vec::new();
    let mut chars = s.chars().peekable();
    let mut column = 1usize;
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            column += 1;
            loop {
                match chars.next() {
                    Some('"') => {
                        column += 1;
                        match chars.peek() {
                            Some('"') => {
                                chars.next();
                                column += 1;
                                field.push('"');
                            }
                            Some(',') | None => break,
                            Some(_) => {
                                return Err(FlagValueError::Csv {
                                    column,
                                    problem: CSV_QUOTE,
                                });
                            }
                        }
                    }
                    Some(c) => {
                        column += 1;
                        field.push(c);
                    }
                    None => {
                        return Err(FlagValueError::Csv {
                            column,
                            problem: CSV_QUOTE,
                        });
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '"' {
                    return Err(FlagValueError::Csv {
                        column,
                        problem: CSV_BARE_QUOTE,
                    });
                }
                field.push(c);
                column += 1;
                chars.next();
            }
        }
        fields.push(field);
        match chars.next() {
            Some(',') => column += 1,
            _ => return Ok(fields),
        }
    }
}

/// The outcome of reading the command line.
pub enum Parsed {
    Run(Box<Cli>),
    /// `-h`: pflag's own usage, exit 0.
    ShortHelp,
    /// A flag error: the text to print and the exit code (2).
    Error(String),
}

/// Parses `argv` (program name first) with the environment applied as upstream does.
pub fn parse(argv: Vec<OsString>, env: impl Fn(&str) -> Option<OsString>) -> Parsed {
    let mut argv = argv.into_iter();
    let program = argv.next().unwrap_or_else(|| OsString::from("kubeseal"));
    let user_args: Vec<OsString> = argv.collect();
    let mut full = vec![program];
    // One clap command for both the environment scan and the parse (building it is a good part
    // of a one-Secret run's CPU time).
    let cmd = Cli::command();
    full.extend(env_args(&cmd, &env));
    full.extend(user_args.iter().cloned());
    let parsed = cmd.try_get_matches_from(full).and_then(|matches| {
        let mut cli = Cli::from_arg_matches(&matches)?;
        cli.format_given =
            matches.value_source("format") == Some(clap::parser::ValueSource::CommandLine);
        Ok(cli)
    });
    match parsed {
        Ok(cli) => Parsed::Run(Box::new(cli)),
        Err(e) if is_short_help(&e) => Parsed::ShortHelp,
        Err(e) => Parsed::Error(pflag_error(&e, &user_args)),
    }
}

/// `--flag=value` for every `SEALED_SECRETS_<FLAG>` variable whose value the flag accepts.
fn env_args(cmd: &clap::Command, env: &impl Fn(&str) -> Option<OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    for arg in cmd.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if NO_ENV.contains(&long) {
            continue;
        }
        let name = format!(
            "{ENV_PREFIX}{}",
            long.to_ascii_uppercase().replace('-', "_")
        );
        let Some(value) = env(&name) else { continue };
        // A value that is not UTF-8 cannot be a valid flag value for any of our flags.
        let Some(value) = value.to_str() else {
            continue;
        };
        let kind = arg
            .get_value_names()
            .and_then(|n| n.first())
            .map(|n| n.as_str());
        let valid = match (long, kind) {
            (_, Some("bool")) => parse_go_bool(value).is_some(),
            ("scope", _) => Scope::parse(value).is_some(),
            (_, Some("strings")) => parse_csv_record(value).is_ok(),
            _ => true,
        };
        if valid {
            out.push(OsString::from(format!("--{long}={value}")));
        }
    }
    out
}

/// pflag answers an unknown `-h` with its usage.
fn is_short_help(e: &clap::Error) -> bool {
    e.kind() == ErrorKind::UnknownArgument
        && matches!(e.get(ContextKind::InvalidArg), Some(ContextValue::String(s)) if s.starts_with("-h"))
}

/// pflag's texts for the errors clap reports.
fn pflag_error(e: &clap::Error, user_args: &[OsString]) -> String {
    let ctx_str = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = ctx_str(ContextKind::InvalidArg).unwrap_or_default();
            if let Some(long) = arg.strip_prefix("--") {
                let name = long.split('=').next().unwrap_or(long);
                format!("unknown flag: --{name}")
            } else if let Some(short) = arg.strip_prefix('-') {
                let c = short.chars().next().unwrap_or('-');
                // pflag names the whole cluster (`-xyz`); clap only the letter. Every shorthand
                // takes a value, so the unknown letter always starts its cluster.
                let cluster = user_args
                    .iter()
                    .filter_map(|a| a.to_str())
                    .find(|a| {
                        !a.starts_with("--")
                            && a.strip_prefix('-').is_some_and(|r| r.starts_with(c))
                    })
                    .unwrap_or(&arg);
                format!("unknown shorthand flag: '{c}' in {cluster}")
            } else {
                format!("unknown flag: {arg}")
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = ctx_str(ContextKind::InvalidArg).unwrap_or_default();
            let flag = pflag_name(&arg);
            let value = ctx_str(ContextKind::InvalidValue).unwrap_or_default();
            let reason = std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| possible_values_reason(e));
            if e.kind() == ErrorKind::InvalidValue && value.is_empty() {
                return format!(
                    "flag needs an argument: {}",
                    flag.rsplit(", ").next().unwrap_or(&flag)
                );
            }
            format!(
                "invalid argument {} for {} flag: {reason}",
                goerr::quote(&value),
                goerr::quote(&flag)
            )
        }
        _ => {
            let rendered = e.render().to_string();
            rendered
                .trim_start_matches("error: ")
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        }
    }
}

fn possible_values_reason(e: &clap::Error) -> String {
    match e.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(v)) => format!("must be one of: {}", v.join(", ")),
        _ => String::new(),
    }
}

/// `-o, --format` / `--cert` from clap's `--format <string>` / `-o <string>` rendering.
fn pflag_name(clap_arg: &str) -> String {
    let token = clap_arg.split([' ', '=', '[']).next().unwrap_or(clap_arg);
    let cmd = Cli::command();
    let found = cmd.get_arguments().find(|a| {
        token
            .strip_prefix("--")
            .is_some_and(|l| a.get_long() == Some(l))
            || token
                .strip_prefix('-')
                .and_then(|s| s.chars().next())
                .is_some_and(|c| token.len() == 2 && a.get_short() == Some(c))
    });
    match found {
        Some(a) => match (a.get_short(), a.get_long()) {
            (Some(s), Some(l)) => format!("-{s}, --{l}"),
            (None, Some(l)) => format!("--{l}"),
            _ => token.to_string(),
        },
        None => token.to_string(),
    }
}

/// pflag's `PrintDefaults` table for our flags (sorted, aligned, defaults shown as pflag does).
pub fn usage() -> String {
    let cmd = Cli::command();
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut args: Vec<_> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && a.get_long().is_some())
        .collect();
    args.sort_by_key(|a| a.get_long().unwrap_or_default());
    for a in args {
        let long = a.get_long().unwrap_or_default();
        let mut line = match a.get_short() {
            Some(s) => format!("  -{s}, --{long}"),
            None => format!("      --{long}"),
        };
        let kind = a
            .get_value_names()
            .and_then(|n| n.first())
            .map(|n| n.to_string());
        let kind = kind.unwrap_or_default();
        if kind != "bool" && !kind.is_empty() {
            line.push(' ');
            line.push_str(&kind);
        }
        let mut help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        let default = a
            .get_default_values()
            .first()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        let zero = match kind.as_str() {
            "string" => default.is_empty(),
            _ => matches!(default.as_str(), "" | "false" | "0" | "[]"),
        };
        if !zero && !a.is_hide_default_value_set() {
            if kind == "string" {
                help.push_str(&format!(" (default {})", goerr::quote(&default)));
            } else {
                help.push_str(&format!(" (default {default})"));
            }
        }
        rows.push((line, help));
    }
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (line, help) in rows {
        out.push_str(&format!("{line:width$}   {help}\n"));
    }
    out
}

/// `--completion <shell>`: the script for the shell, from the same clap definition.
pub fn completion(shell: clap_complete::Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kubeseal", &mut buf);
    buf
}

/// Whether `--rotate` was given on the command line (pflag prints a deprecation notice then; not
/// when it comes from the environment).
pub fn rotate_on_command_line(argv: &[OsString]) -> bool {
    argv.iter()
        .skip(1)
        .take_while(|a| a.as_os_str() != "--")
        .any(|a| {
            a.to_str()
                .is_some_and(|s| s == "--rotate" || s.starts_with("--rotate="))
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Cli, String> {
        let argv = std::iter::once("kubeseal")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match parse(argv, |k| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| OsString::from(v))
        }) {
            Parsed::Run(c) => Ok(*c),
            Parsed::ShortHelp => Err("-h".to_string()),
            Parsed::Error(e) => Err(e),
        }
    }

    #[test]
    fn defaults() {
        let c = parse_with(&[], &[]).unwrap();
        assert_eq!(c.format, "json");
        assert_eq!(c.controller_namespace, "kube-system");
        assert_eq!(c.controller_name, "sealed-secrets-controller");
        assert_eq!(c.scope, Scope::Strict);
        assert_eq!(c.kube.request_timeout, "0");
        assert!(!c.raw);
    }

    #[test]
    fn go_bools_and_positionals() {
        let c = parse_with(&["--raw=T", "--allow-empty-data", "false", "x"], &[]).unwrap();
        assert!(c.raw);
        assert!(c.allow_empty_data);
        assert_eq!(c.args.len(), 2);
        assert!(!parse_with(&["--raw=0"], &[]).unwrap().raw);
        assert_eq!(
            parse_with(&["--raw=maybe"], &[]).err().unwrap(),
            "invalid argument \"maybe\" for \"--raw\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
    }

    #[test]
    fn env_precedence() {
        let env = [
            ("SEALED_SECRETS_CERT", "env.pem"),
            ("SEALED_SECRETS_RAW", "maybe"),
            ("SEALED_SECRETS_SCOPE", "bogus"),
            ("SEALED_SECRETS_FORMAT", "yaml"),
            ("SEALED_SECRETS_FROM_FILE", "a,b"),
            ("SEALED_SECRETS_V", "3"),
        ];
        let c = parse_with(&["--cert", "cli.pem", "--from-file", "c"], &env).unwrap();
        assert_eq!(c.cert, "cli.pem");
        assert_eq!(c.format, "yaml");
        assert!(!c.raw);
        assert_eq!(c.scope, Scope::Strict);
        assert_eq!(c.raw_value_files(), ["a", "b", "c"]);
        let c = parse_with(
            &[],
            &[
                ("SEALED_SECRETS_SCOPE", "cluster-wide"),
                ("SEALED_SECRETS_RAW", "1"),
            ],
        )
        .unwrap();
        assert_eq!(c.scope, Scope::ClusterWide);
        assert!(c.raw);
    }

    #[test]
    fn pflag_errors() {
        assert_eq!(
            parse_with(&["--foo"], &[]).err().unwrap(),
            "unknown flag: --foo"
        );
        assert_eq!(
            parse_with(&["--foo=1"], &[]).err().unwrap(),
            "unknown flag: --foo"
        );
        assert_eq!(
            parse_with(&["--scope", "bad"], &[]).err().unwrap(),
            "invalid argument \"bad\" for \"--scope\" flag: must be one of: strict, namespace-wide, cluster-wide"
        );
        assert_eq!(
            parse_with(&["--cert"], &[]).err().unwrap(),
            "flag needs an argument: --cert"
        );
        assert_eq!(
            parse_with(&["-o"], &[]).err().unwrap(),
            "flag needs an argument: --format"
        );
    }

    #[test]
    fn values_and_shorts() {
        let c = parse_with(&["-oyaml", "-n", "-weird", "--name=", "--cert", "-"], &[]).unwrap();
        assert_eq!(c.format, "yaml");
        assert_eq!(c.kube.namespace, "-weird");
        assert_eq!(c.cert, "-");
        let c = parse_with(
            &[
                "--name",
                "a",
                "--name",
                "b",
                "--as-group",
                "x,y",
                "--as-group",
                "z",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(c.name, "b");
        assert_eq!(c.kube.as_group, ["x,y", "z"]);
    }

    #[test]
    fn csv() {
        assert_eq!(parse_csv_record("a,b").unwrap(), ["a", "b"]);
        assert_eq!(parse_csv_record("\"a,b\",c").unwrap(), ["a,b", "c"]);
        assert_eq!(
            parse_csv_record("a\"\"").err().unwrap().to_string(),
            "parse error on line 1, column 2: bare \" in non-quoted-field"
        );
        assert!(parse_csv_record("\"a").is_err());
        assert!(parse_csv_record("").unwrap().is_empty());
        assert_eq!(parse_csv_record("a,").unwrap(), ["a", ""]);
    }

    #[test]
    fn usage_looks_like_pflag() {
        let u = usage();
        assert!(u.contains("  -o, --format string "));
        assert!(u.contains("(default \"json\")"));
        assert!(u.contains("--logtostderr "));
        assert!(u.contains("(default true)"));
        assert!(!u.contains("--rotate"));
    }
}
