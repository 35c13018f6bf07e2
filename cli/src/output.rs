//! Where results go: stdout as they are produced, or `-w <file>` written to a temporary file in the
//! target's directory that replaces the target only when the whole command succeeded (spec §7.3
//! step 5). A failed run leaves the target untouched and removes the temporary file.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::goerr;

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
    pub fn file(target: &str) -> Result<Output, String> {
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
            .map_err(|e| {
                goerr::path_error("open", &dir.join(format!(".{base}*")).to_string_lossy(), &e)
            })?;
        Ok(Output::File {
            pending,
            target: path.to_path_buf(),
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        match self {
            Output::Stdout(w) => w.write_all(bytes).map_err(|e| stdout_error(&e)),
            Output::File { pending, .. } => pending
                .write_all(bytes)
                .map_err(|e| goerr::path_error("write", &pending.path().to_string_lossy(), &e)),
        }
    }

    /// Ends the command: stdout is flushed either way (earlier documents were already printed
    /// upstream too); the file replaces its target only on success.
    pub fn finish(self, success: bool) -> Result<(), String> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(|e| stdout_error(&e)),
            Output::File { pending, target } => {
                if !success {
                    // Dropping the temporary file deletes it.
                    return Ok(());
                }
                pending.as_file().sync_all().map_err(|e| {
                    goerr::path_error("sync", &pending.path().to_string_lossy(), &e)
                })?;
                let tmp = pending.path().to_string_lossy().into_owned();
                pending.persist(&target).map_err(|e| {
                    format!(
                        "rename {tmp} {}: {}",
                        target.to_string_lossy(),
                        goerr::io_text(&e.error)
                    )
                })?;
                Ok(())
            }
        }
    }
}

/// The error of writing to a closed pipe (`kubeseal ... | head`): the process simply ends, as Go's
/// does on SIGPIPE, without a message.
pub const BROKEN_PIPE: &str = "write /dev/stdout: broken pipe";

fn stdout_error(e: &std::io::Error) -> String {
    goerr::path_error("write", "/dev/stdout", e)
}
