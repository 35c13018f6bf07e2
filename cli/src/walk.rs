//! The files and directory trees named on the command line (`--lint`, `--re-encrypt-path`).

use std::path::{Path, PathBuf};

use crate::goerr::PathError;

/// A file to read: how it is shown, its canonical path, and whether it was named itself (rather
/// than found in a directory).
pub struct Found {
    pub shown: String,
    pub canonical: PathBuf,
    pub named: bool,
}

/// `*.yaml`, `*.yml` and `*.json`: the manifests a directory is searched for.
pub fn is_manifest(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
}

/// Each file of `paths` and every file below each directory of `paths` that `wanted` accepts, in
/// order (a directory's entries sorted). Hidden directories (`.git`) and symlinked directories are
/// not entered (no loops); a symlinked file counts when it points to a file. A file reached twice
/// (named and found, or through a symlink) is listed once.
pub fn files(paths: &[String], wanted: impl Fn(&Path) -> bool) -> Result<Vec<Found>, PathError> {
    let mut found: Vec<(PathBuf, bool)> = Vec::new();
    for p in paths {
        let path = PathBuf::from(p);
        let meta = std::fs::metadata(&path).map_err(PathError::on("stat", p))?;
        if meta.is_dir() {
            below(&path, &wanted, &mut found)?;
        } else {
            found.push((path, true));
        }
    }
    let mut out: Vec<Found> = Vec::new();
    for (path, named) in found {
        let shown = path.display().to_string();
        let canonical = std::fs::canonicalize(&path).map_err(PathError::on("stat", &shown))?;
        if !out.iter().any(|f| f.canonical == canonical) {
            out.push(Found {
                shown,
                canonical,
                named,
            });
        }
    }
    Ok(out)
}

fn below(
    dir: &Path,
    wanted: &impl Fn(&Path) -> bool,
    out: &mut Vec<(PathBuf, bool)>,
) -> Result<(), PathError> {
    let shown = dir.display().to_string();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(PathError::on("open", &shown))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(PathError::on("readdirent", &shown))?;
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path)
            .map_err(PathError::on("lstat", path.display().to_string()))?;
        if meta.is_dir() {
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if !hidden {
                below(&path, wanted, out)?;
            }
        } else if wanted(&path) && std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            out.push((path, false));
        }
    }
    Ok(())
}
