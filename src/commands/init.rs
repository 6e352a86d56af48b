//! `ctrld-sync init [--from-profile ID]`: write a starter config.
//!
//! Without a profile: a commented template using hagezi folders and one list of your own.
//! With `--from-profile`: one `[folder.*]` entry per existing folder, each backed by a Control D folder
//! JSON file written under `lists/` from the folder's current rules, so the first `plan` shows no changes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::session::{ApiOverrides, Session};
use super::Context;
use crate::cli::InitArgs;
use crate::config::{ApiConfig, ProfileConfig};
use crate::controld::{Client, RemoteFolder, RemoteRule};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::model::{FolderAction, FolderPk, RuleAction};
use crate::plan::SCRATCH_PREFIX;

const STARTER: &str = include_str!("init_starter.toml");
const STARTER_LIST: &str = "# One domain per line; `#` starts a comment.\nads.example.com\n";

pub(super) async fn run(context: &Context, args: InitArgs) -> Result<ExitStatus> {
    let config_path = &context.config_path;
    refuse_overwrite(config_path, args.force)?;
    let lists_dir = config_dir(config_path).join("lists");
    let (config, lists) = match &args.from_profile {
        None => (
            STARTER.to_string(),
            vec![(lists_dir.join("my-blocks.txt"), STARTER_LIST.to_string())],
        ),
        Some(profile) => from_profile(context, profile, &lists_dir).await?,
    };
    for (path, _) in &lists {
        refuse_overwrite(path, args.force)?;
    }
    for (path, text) in &lists {
        write_file(path, text)?;
    }
    write_file(config_path, &config)?;
    context.printer.info(format!(
        "wrote {} and {} list file(s) under {}; next: `ctrld-sync validate`, then `ctrld-sync plan`",
        config_path.display(),
        lists.len(),
        lists_dir.display()
    ));
    Ok(ExitStatus::Success)
}

/// Reads the profile's folders (one `GET /groups`, one `GET /rules/{folder}` each) into config text
/// and one folder JSON file per folder.
async fn from_profile(
    context: &Context,
    profile_id: &str,
    lists_dir: &Path,
) -> Result<(String, Vec<(PathBuf, String)>)> {
    let profile = ProfileConfig {
        id: profile_id.to_string(),
        name: None,
        token_env: None,
        folders: Vec::new(),
        settings: Default::default(),
    };
    let mut session = Session::with_api(
        context,
        &ApiConfig::default(),
        std::slice::from_ref(&profile.id),
        ApiOverrides::default(),
    )?;
    let client = session.client(&profile)?;
    let folders: Vec<RemoteFolder> = client
        .list_folders(profile_id)
        .await?
        .into_iter()
        .filter(|folder| !folder.name.starts_with(SCRATCH_PREFIX))
        .collect();
    let settings = super::import_settings::read(&client, profile_id).await?;
    if folders.is_empty() && settings.is_empty() {
        return Err(Error::Usage(format!(
            "profile {profile_id} has no folders or settings to import; run `ctrld-sync init` without --from-profile for a template"
        )));
    }
    let entries = read_entries(&client, profile_id, folders).await?;
    let lists = entries
        .iter()
        .map(|entry| (lists_dir.join(&entry.file), entry.json.clone()))
        .collect();
    let mut config = config_text(profile_id, &entries);
    config.insert_str(profile_end(&config), &settings);
    Ok((config, lists))
}

struct Entry {
    key: String,
    file: String,
    json: String,
    /// The remote folder holds no rule (the old tool leaves a folder empty when all its hostnames
    /// live in an earlier, overlapping folder).
    empty: bool,
}

async fn read_entries(
    client: &Client,
    profile_id: &str,
    folders: Vec<RemoteFolder>,
) -> Result<Vec<Entry>> {
    let mut keys = BTreeSet::new();
    let mut entries = Vec::new();
    for folder in folders {
        let rules = client.list_rules(profile_id, Some(folder.pk)).await?;
        let key = unique_key(&folder.name, folder.pk, &mut keys);
        entries.push(Entry {
            file: format!("{key}-folder.json"),
            json: folder_json(&folder, &rules),
            empty: rules.is_empty(),
            key,
        });
    }
    Ok(entries)
}

fn config_text(profile_id: &str, entries: &[Entry]) -> String {
    let keys: Vec<String> = entries.iter().map(|e| format!("\"{}\"", e.key)).collect();
    let mut text = format!(
        "# ctrld-sync config imported from profile {profile_id}: each folder's current rules are in lists/.\n\
         # Point a folder at its upstream instead with url = \"https://...\" (for example a hagezi folder file).\n\
         # Token: export CTRLD_API_TOKEN=... (Control D dashboard > Preferences > API).\n\n\
         [[profile]]\nid = \"{profile_id}\"\nfolders = [{}]\n",
        keys.join(", ")
    );
    for entry in entries {
        text.push_str(&format!(
            "\n[folder.{}]\npath = \"lists/{}\"\n",
            entry.key, entry.file
        ));
        if entry.empty {
            text.push_str(
                "# Empty in Control D today (its hostnames may all be in an earlier folder): kept empty on\n\
                 # purpose. Remove this line once the folder has a source with rules.\n\
                 allow_empty = true\n",
            );
        }
    }
    text
}

/// The Control D folder JSON shape (what hagezi publishes), so per-rule actions survive.
/// Where the `[[profile]]` table's own keys end: before the first `[folder.*]` table.
fn profile_end(config: &str) -> usize {
    config.find("\n[folder.").map_or(config.len(), |at| at + 1)
}

fn folder_json(folder: &RemoteFolder, rules: &[RemoteRule]) -> String {
    let mut rules: Vec<&RemoteRule> = rules.iter().collect();
    rules.sort_by(|a, b| a.hostname.cmp(&b.hostname));
    let rules: Vec<Value> = rules
        .iter()
        .map(|rule| json!({"PK": rule.hostname, "action": rule_action_json(&rule.action)}))
        .collect();
    let document = json!({
        "group": {"group": folder.name, "action": folder_action_json(&folder.action)},
        "rules": rules,
    });
    let mut text = serde_json::to_string_pretty(&document).expect("a JSON value serialises");
    text.push('\n');
    text
}

fn folder_action_json(action: &FolderAction) -> Value {
    let mut value = json!({"status": u8::from(action.enabled)});
    if let Some(kind) = action.kind {
        value["do"] = json!(kind.code());
    }
    if let Some(via) = &action.via {
        value["via"] = json!(via);
    }
    value
}

fn rule_action_json(action: &RuleAction) -> Value {
    let mut value = json!({"do": action.kind.code(), "status": u8::from(action.enabled)});
    if let Some(via) = &action.via {
        value["via"] = json!(via);
    }
    if let Some(via_v6) = &action.via_v6 {
        value["via_v6"] = json!(via_v6);
    }
    value
}

/// A config key from a folder name: lowercase letters, digits and `-`, unique within the file.
fn unique_key(name: &str, pk: FolderPk, taken: &mut BTreeSet<String>) -> String {
    let mut key = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with('-') {
            key.push('-');
        }
    }
    let key = key.trim_end_matches('-').to_string();
    let key = if key.is_empty() {
        format!("folder-{pk}")
    } else {
        key
    };
    let key = if taken.contains(&key) {
        format!("{key}-{pk}")
    } else {
        key
    };
    taken.insert(key.clone());
    key
}

fn refuse_overwrite(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        return Err(Error::Usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|err| Error::io(dir, err))?;
    }
    std::fs::write(path, text).map_err(|err| Error::io(path, err))
}

fn config_dir(config: &Path) -> PathBuf {
    match config.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_slugs_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(
            unique_key("Badware Hoster", FolderPk::new(7), &mut taken),
            "badware-hoster"
        );
        assert_eq!(
            unique_key("Badware  Hoster!", FolderPk::new(9), &mut taken),
            "badware-hoster-9"
        );
        assert_eq!(unique_key("***", FolderPk::new(3), &mut taken), "folder-3");
    }

    #[test]
    fn the_starter_config_is_valid() {
        let config = crate::config::Config::from_str(STARTER, Path::new("ctrld-sync.toml"))
            .expect("the starter config parses");
        assert_eq!(config.profiles.len(), 1);
        assert_eq!(config.folders.len(), 3);
        // As the README's config reference: pacing adapts unless a ceiling is asked for.
        assert_eq!(config.api.max_rps, None);
        assert!(!STARTER.contains("max_rps"));
    }

    #[test]
    fn the_starter_config_names_the_published_schema_on_its_first_line() {
        let first = STARTER.lines().next().unwrap();
        let url = first.strip_prefix("#:schema ").expect("a #:schema line");
        let url = url::Url::parse(url).expect("a URL");
        assert_eq!(url.scheme(), "https");
        assert!(
            url.path().ends_with("/main/ctrld-sync.schema.json"),
            "{url}"
        );
    }
}
