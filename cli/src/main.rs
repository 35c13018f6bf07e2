//! `kubeseal`: a drop-in replacement for upstream's CLI (`cmd/kubeseal/main.go`,
//! `pkg/kubeseal/kubeseal.go`). A thin shell over the `sealed-secrets` core: flags, files,
//! stdin/stdout and the API server live here; sealing, unsealing, key handling and document formats
//! live in the core.

mod backup;
mod cert;
mod cluster;
mod documents;
mod flags;
mod goerr;
mod keys;
mod kubeconfig;
mod lint;
mod output;
mod run;
mod tree;
mod walk;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let program = argv
        .first()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeseal".to_string());
    let cli = match flags::parse(argv.clone(), |name| std::env::var_os(name)) {
        flags::Parsed::Run(cli) => cli,
        flags::Parsed::ShortHelp => {
            let _ = writeln!(std::io::stderr(), "Usage of {program}:");
            return exit_with(write!(std::io::stdout(), "{}", flags::usage()));
        }
        flags::Parsed::Error(message) => {
            // pflag (ExitOnError, output redirected to stdout): the flag table and the error on
            // stdout, the "Usage of" line on stderr, exit 2.
            let _ = writeln!(std::io::stderr(), "Usage of {program}:");
            let _ = writeln!(std::io::stdout(), "{}{message}", flags::usage());
            return ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout();
    if flags::rotate_on_command_line(&argv) {
        let _ = writeln!(
            stdout,
            "Flag --rotate has been deprecated, please use --re-encrypt instead"
        );
    }
    if cli.version {
        return exit_with(writeln!(stdout, "kubeseal version: {}", flags::VERSION));
    }
    if let Some(shell) = cli.completion {
        return exit_with(stdout.write_all(&flags::completion(shell)));
    }
    if cli.help {
        return exit_with(write!(stdout, "Usage of {program}:\n{}", flags::usage()));
    }
    match run::run(*cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::FAILURE,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn exit_with(result: std::io::Result<()>) -> ExitCode {
    match result.and_then(|()| std::io::stdout().flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                goerr::PathError::new("write", "/dev/stdout", e)
            );
            ExitCode::FAILURE
        }
    }
}
