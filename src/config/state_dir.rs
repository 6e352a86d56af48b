//! `state_dir` stays inside the config's repository, as `path` sources stay inside its directory:
//! `plan` runs on pull requests and creates the state directory (and its `.lock`), `apply` writes
//! state files there, so a config must not send them to `/any/dir` or `../../../../x`. The
//! `--state-dir` flag is not checked: whoever runs the command chose it.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use super::{beside_config, config_dir};
use crate::quote::sanitize;

/// The directory `state_dir = "<written>"` names (the config's directory joined with it, `..`
/// folded, as [`beside_config`] gives it), when it stays inside the config's repository once `..`
/// and symlinks are resolved; else what to write instead. The directory need not exist yet.
pub(super) fn contained(config: &Path, written: &str) -> Result<PathBuf, String> {
    let shown = sanitize(written);
    let absolute = Path::new(written)
        .components()
        .any(|part| matches!(part, Component::RootDir | Component::Prefix(_)));
    if absolute {
        return Err(format!(
            "`state_dir = \"{shown}\"` is an absolute path: write a directory relative to the config \
             file, inside its repository (e.g. state_dir = \"state\"), or pass --state-dir"
        ));
    }
    let dir = beside_config(config, written);
    let root = Root::of(config_dir(config)).ok_or_else(|| {
        format!(
            "`state_dir = \"{shown}\"`: the config's directory cannot be resolved to check that the \
             state stays inside its repository"
        )
    })?;
    let real = resolve(&dir).map_err(|()| {
        format!(
            "`state_dir = \"{shown}\"` goes through a link that cannot be followed: point it at a \
             directory inside {}",
            root.described()
        )
    })?;
    match real.starts_with(&root.path) {
        true => Ok(dir),
        false => Err(format!(
            "`state_dir = \"{shown}\"` leads outside {}: keep the state files inside it (e.g. \
             state_dir = \"state\"), or pass --state-dir",
            root.described()
        )),
    }
}

/// What a state directory must stay inside.
struct Root {
    /// Resolved (no symlink, no `..`).
    path: PathBuf,
    /// Found by its `.git` entry (else it is the config's directory).
    is_repository: bool,
}

impl Root {
    /// The nearest ancestor of the config's directory with a `.git` entry (a directory in a clone,
    /// a file in a worktree or submodule), else the config's directory itself.
    fn of(config_dir: &Path) -> Option<Self> {
        let dir = std::fs::canonicalize(config_dir).ok()?;
        let repository = dir
            .ancestors()
            .find(|ancestor| ancestor.join(".git").symlink_metadata().is_ok());
        Some(match repository {
            Some(repository) => Self {
                path: repository.to_path_buf(),
                is_repository: true,
            },
            None => Self {
                path: dir,
                is_repository: false,
            },
        })
    }

    fn described(&self) -> String {
        match self.is_repository {
            true => format!("the config's repository ({})", self.path.display()),
            false => format!(
                "the config's directory ({}; no `.git` above it)",
                self.path.display()
            ),
        }
    }
}

/// `path` as the file system will take it: its deepest existing part resolved (symlinks
/// followed), then the parts still to be created. `Err` for a link that cannot be followed.
fn resolve(path: &Path) -> Result<PathBuf, ()> {
    let mut to_create: Vec<OsString> = Vec::new();
    let mut existing = path;
    // Anything still to be created is a plain name: `beside_config` folded every `..` that follows
    // a name, and a leading `..` exists.
    while existing.symlink_metadata().is_err() {
        let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
            break;
        };
        to_create.push(name.to_os_string());
        existing = match parent.as_os_str().is_empty() {
            true => Path::new("."),
            false => parent,
        };
    }
    let real = std::fs::canonicalize(existing).map_err(|_| ())?;
    Ok(to_create
        .iter()
        .rev()
        .fold(real, |real, name| real.join(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `root/repo/.git`, `root/repo/config/ctrld-sync.toml`, `root/outside/`.
    fn tree() -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("repo/.git")).unwrap();
        std::fs::create_dir_all(root.path().join("repo/config")).unwrap();
        std::fs::create_dir_all(root.path().join("outside")).unwrap();
        let config = root.path().join("repo/config/ctrld-sync.toml");
        (root, config)
    }

    #[test]
    fn anything_inside_the_repository_is_accepted() {
        let (root, config) = tree();
        for written in [
            "state",
            "../state",
            "./a/../b",
            "../config/../s",
            "new/deeper",
        ] {
            let dir = contained(&config, written).unwrap();
            assert_eq!(dir, beside_config(&config, written), "{written}");
        }
        assert!(root.path().join("repo/config").is_dir());
    }

    #[test]
    fn absolute_paths_and_climbing_out_are_refused() {
        let (_root, config) = tree();
        let absolute = contained(&config, "/any/dir").unwrap_err();
        assert!(absolute.contains("is an absolute path"), "{absolute}");
        for written in ["../..", "../../outside", "../../../../x", "a/../../../x"] {
            let err = contained(&config, written).unwrap_err();
            assert!(
                err.contains("leads outside the config's repository"),
                "{written}: {err}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_or_a_broken_link_is_refused() {
        let (root, config) = tree();
        let link = root.path().join("repo/config/state");
        std::os::unix::fs::symlink(root.path().join("outside"), &link).unwrap();
        let err = contained(&config, "state/deeper").unwrap_err();
        assert!(err.contains("leads outside"), "{err}");
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(root.path().join("gone"), &link).unwrap();
        let err = contained(&config, "state").unwrap_err();
        assert!(err.contains("a link that cannot be followed"), "{err}");
    }

    #[test]
    fn without_a_repository_the_config_directory_is_the_limit() {
        let root = tempfile::tempdir().unwrap();
        let config = root.path().join("ctrld-sync.toml");
        assert!(contained(&config, "state").is_ok());
        let err = contained(&config, "../state").unwrap_err();
        assert!(err.contains("no `.git` above it"), "{err}");
    }
}
