//! Where results go: stdout as they are produced, or `-w <file>` written to a temporary file in the
//! target's directory that replaces the target only when the whole command succeeded (upstream
//! `cmd/kubeseal/main.go` `runCLI`, with renameio). A failed run leaves the target untouched and
//! removes the temporary file.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::goerr::{self, PathError};

/// A failure to write the results.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("write /dev/stdout: {}", goerr::io_text(.0))]
    Stdout(#[source] std::io::Error),
    #[error(transparent)]
    File(#[from] PathError),
    #[error("rename {from} {to}: {}", goerr::io_text(.source))]
    Rename {
        from: String,
        to: String,
        source: std::io::Error,
    },
}

impl OutputError {
    /// Writing to a closed pipe (`kubeseal ... | head`): the process simply ends, as Go's does on
    /// SIGPIPE, without a message.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, OutputError::Stdout(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

pub enum Output {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    File {
        pending: tempfile::NamedTempFile,
        target: PathBuf,
    },
}

impl Output {
    pub fn stdout() -> Output {
        Output::Stdout(std::io::BufWriter::new(std::io::stdout()))
    }

    /// A pending replacement of `target` (mode 0600, like upstream's renameio temp file).
    pub fn file(target: &str) -> Result<Output, OutputError> {
        let path = Path::new(target);
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pending = tempfile::Builder::new()
            .prefix(&format!(".{base}"))
            .tempfile_in(dir)
            .map_err(PathError::on(
                "open",
                dir.join(format!(".{base}*")).to_string_lossy(),
            ))?;
        Ok(Output::File {
            pending,
            target: path.to_path_buf(),
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        match self {
            Output::Stdout(w) => w.write_all(bytes).map_err(OutputError::Stdout),
            Output::File { pending, .. } => {
                let path = pending.path().to_string_lossy().into_owned();
                Ok(pending
                    .write_all(bytes)
                    .map_err(PathError::on("write", path))?)
            }
        }
    }

    /// Ends the command: stdout is flushed either way (earlier documents were already printed
    /// upstream too); the file replaces its target only on success.
    pub fn finish(self, success: bool) -> Result<(), OutputError> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(OutputError::Stdout),
            Output::File { pending, target } => {
                if !success {
                    // Dropping the temporary file deletes it.
                    return Ok(());
                }
                let tmp = pending.path().to_string_lossy().into_owned();
                pending
                    .as_file()
                    .sync_all()
                    .map_err(PathError::on("sync", tmp.as_str()))?;
                pending.persist(&target).map_err(|e| OutputError::Rename {
                    from: tmp,
                    to: target.to_string_lossy().into_owned(),
                    source: e.error,
                })?;
                Ok(())
            }
        }
    }
}
