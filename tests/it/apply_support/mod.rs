//! Shared fixtures of the integration tests: an emulator, a config with its lists in a temp dir,
//! the real binary run against them; a tree copy and a raw HTTP head reader.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

use assert_cmd::Command;
use controld_emulator::{ActionDump, Dump, Emulator, EmulatorConfig, FolderDump, RuleDump};
use tempfile::TempDir;

pub const TOKEN: &str = "test-token";

/// The real binary run in `dir` (where its `ctrld-sync.toml` is) against the emulator at
/// `api_url`, with the test token, no progress and no colour.
pub fn run_in(dir: &Path, api_url: &str, args: &[&str]) -> Output {
    Command::cargo_bin("ctrld-sync")
        .unwrap()
        .env("CTRLD_API_TOKEN", TOKEN)
        .env_remove("CTRLD_API_URL")
        .current_dir(dir)
        .args(["--no-progress", "--color", "never", "--api-url", api_url])
        .args(args)
        .output()
        .unwrap()
}

/// [`run_in`], started and left running (output discarded), for a test that acts on it mid-run.
pub fn spawn_in(dir: &Path, api_url: &str, args: &[&str]) -> Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("ctrld-sync"))
        .env("CTRLD_API_TOKEN", TOKEN)
        .env_remove("CTRLD_API_URL")
        .current_dir(dir)
        .args(["--no-progress", "--color", "never", "--api-url", api_url])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// One folder of the config: key, folder name, action, and the list file's content.
#[derive(Clone, Debug)]
pub struct FolderSpec {
    pub key: String,
    pub name: String,
    /// `block` / `allow`; `None` for a controld-format file that carries its own actions.
    pub action: Option<String>,
    pub file: String,
    pub content: String,
}

impl FolderSpec {
    /// A plain domains list.
    pub fn domains(key: &str, name: &str, action: &str, hostnames: &[String]) -> Self {
        let mut content = hostnames.join("\n");
        content.push('\n');
        Self {
            key: key.into(),
            name: name.into(),
            action: Some(action.into()),
            file: format!("{key}.txt"),
            content,
        }
    }

    /// A controld folder file whose rules carry their own actions (`true` = allow).
    pub fn controld(key: &str, name: &str, rules: &[(String, bool)]) -> Self {
        let rules: Vec<serde_json::Value> = rules
            .iter()
            .map(|(hostname, allow)| {
                serde_json::json!({"PK": hostname, "action": {"do": u8::from(*allow), "status": 1}})
            })
            .collect();
        let content = serde_json::json!({
            "group": {"group": name, "action": {"do": 0, "status": 1}},
            "rules": rules,
        });
        Self {
            key: key.into(),
            name: name.into(),
            action: None,
            file: format!("{key}.json"),
            content: serde_json::to_string_pretty(&content).unwrap(),
        }
    }
}

/// A config dir with its lists and state dir, and the emulator it talks to.
pub struct Setup {
    pub dir: TempDir,
    pub emulator: Emulator,
    pub profiles: Vec<String>,
    pub folders: Vec<FolderSpec>,
    pub safety: String,
}

impl Setup {
    pub fn new(config: EmulatorConfig, folders: Vec<FolderSpec>) -> Self {
        let profiles = config.profiles.clone();
        let emulator = Emulator::start_background(config).expect("the emulator starts");
        let setup = Self {
            dir: TempDir::new().unwrap(),
            emulator,
            profiles,
            folders,
            safety: String::new(),
        };
        setup.write_config();
        setup
    }

    pub fn with_profiles(profiles: &[&str], folders: Vec<FolderSpec>) -> Self {
        let config = EmulatorConfig {
            token: TOKEN.into(),
            profiles: profiles.iter().map(|p| p.to_string()).collect(),
            ..EmulatorConfig::default()
        };
        Self::new(config, folders)
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("ctrld-sync.toml")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn state_file(&self, profile: &str) -> PathBuf {
        self.state_dir().join(format!("{profile}.json"))
    }

    /// Replaces the folders (and rewrites config and lists).
    pub fn set_folders(&mut self, folders: Vec<FolderSpec>) {
        self.folders = folders;
        self.write_config();
    }

    pub fn set_safety(&mut self, safety: &str) {
        self.safety = safety.to_string();
        self.write_config();
    }

    pub fn write_config(&self) {
        let keys: Vec<String> = self
            .folders
            .iter()
            .map(|f| format!("\"{}\"", f.key))
            .collect();
        let mut text = String::new();
        if !self.safety.is_empty() {
            text.push_str(&format!("[safety]\n{}\n\n", self.safety));
        }
        for profile in &self.profiles {
            text.push_str(&format!(
                "[[profile]]\nid = \"{profile}\"\nfolders = [{}]\n\n",
                keys.join(", ")
            ));
        }
        for folder in &self.folders {
            std::fs::write(self.dir.path().join(&folder.file), &folder.content).unwrap();
            text.push_str(&format!(
                "[folder.{}]\npath = \"{}\"\n",
                folder.key, folder.file
            ));
            match &folder.action {
                Some(action) => text.push_str(&format!(
                    "format = \"domains\"\nname = \"{}\"\naction = \"{action}\"\n\n",
                    folder.name
                )),
                None => text.push_str("format = \"controld\"\n\n"),
            }
        }
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// The binary with the global flags pointing at this setup.
    pub fn command(&self) -> Command {
        let mut command = Command::cargo_bin("ctrld-sync").unwrap();
        command
            .env("CTRLD_API_TOKEN", TOKEN)
            .env_remove("CTRLD_API_URL")
            .env("NO_COLOR", "1")
            .arg("--config")
            .arg(self.config_path())
            .arg("--state-dir")
            .arg(self.state_dir())
            .arg("--api-url")
            .arg(self.emulator.url())
            .arg("--no-progress");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// The binary with the global flags of [`Setup::command`], started and left running (output
    /// discarded), for a test that acts on it mid-run.
    pub fn spawn(&self, args: &[&str]) -> Child {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("ctrld-sync"))
            .env("CTRLD_API_TOKEN", TOKEN)
            .env_remove("CTRLD_API_URL")
            .env("NO_COLOR", "1")
            .arg("--config")
            .arg(self.config_path())
            .arg("--state-dir")
            .arg(self.state_dir())
            .arg("--api-url")
            .arg(self.emulator.url())
            .arg("--no-progress")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// `apply` that must succeed; returns stdout.
    pub fn apply_ok(&self, args: &[&str]) -> String {
        let mut full = vec!["apply"];
        full.extend_from_slice(args);
        let output = self.run(&full);
        assert_success(&output, "apply");
        String::from_utf8(output.stdout).unwrap()
    }

    /// The managed folders by name -> hostname -> (do, status), as the emulator holds them.
    /// The PK of the profile's folder of that name in the emulator.
    pub fn folder_pk(&self, profile: &str, name: &str) -> u64 {
        let dump = self.emulator.dump();
        let folder = dump.profiles[profile]
            .folders
            .iter()
            .find(|f| f.name == name);
        folder
            .unwrap_or_else(|| panic!("no folder {name} in {profile}"))
            .pk
    }

    pub fn remote_folders(&self, profile: &str) -> BTreeMap<String, BTreeMap<String, u8>> {
        let dump = self.emulator.dump();
        let Some(data) = dump.profiles.get(profile) else {
            return BTreeMap::new();
        };
        data.folders
            .iter()
            .map(|folder| {
                let rules = folder
                    .rules
                    .iter()
                    .map(|rule| (rule.hostname.clone(), rule.action.kind.unwrap_or(0)))
                    .collect();
                (folder.name.clone(), rules)
            })
            .collect()
    }

    /// What the config says each folder (by name) must hold after overlaps: config order wins.
    pub fn desired_folders(&self) -> BTreeMap<String, BTreeMap<String, u8>> {
        let mut seen = std::collections::BTreeSet::new();
        let mut desired = BTreeMap::new();
        for folder in &self.folders {
            let mut rules = BTreeMap::new();
            for (hostname, code) in parse_rules(folder) {
                if seen.insert(hostname.clone()) {
                    rules.insert(hostname, code);
                }
            }
            desired.insert(folder.name.clone(), rules);
        }
        desired
    }

    /// Every profile holds exactly the desired folders (plus the unmanaged ones named here).
    pub fn assert_converged(&self, unmanaged: &[&str]) {
        for profile in &self.profiles {
            let mut remote = self.remote_folders(profile);
            remote.retain(|name, _| !unmanaged.contains(&name.as_str()));
            assert_eq!(remote, self.desired_folders(), "profile {profile}");
        }
    }

    pub fn plan_exit_code(&self) -> i32 {
        let output = self.run(&["plan", "--detailed-exitcode"]);
        output.status.code().unwrap()
    }
}

/// The hostnames and `do` codes a folder's list yields.
pub fn parse_rules(folder: &FolderSpec) -> Vec<(String, u8)> {
    match &folder.action {
        Some(action) => {
            let code = if action == "allow" { 1 } else { 0 };
            folder
                .content
                .lines()
                .filter(|line| !line.is_empty())
                .map(|line| (line.to_string(), code))
                .collect()
        }
        None => {
            let value: serde_json::Value = serde_json::from_str(&folder.content).unwrap();
            value["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|rule| {
                    let code = rule["action"]["do"].as_u64().unwrap() as u8;
                    (rule["PK"].as_str().unwrap().to_string(), code)
                })
                .collect()
        }
    }
}

pub fn hosts(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| format!("{prefix}{n}.example.com")).collect()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn block() -> ActionDump {
    ActionDump {
        kind: Some(0),
        status: 1,
        via: None,
        via_v6: None,
    }
}

pub fn rule(hostname: &str) -> RuleDump {
    RuleDump {
        hostname: hostname.into(),
        action: block(),
    }
}

pub fn folder(pk: u64, name: &str, hostnames: &[String]) -> FolderDump {
    FolderDump {
        pk,
        name: name.into(),
        action: block(),
        rules: hostnames.iter().map(|h| rule(h)).collect(),
    }
}

/// Adds folders and root rules to a profile of the emulator.
pub fn preload(emulator: &Emulator, profile: &str, folders: Vec<FolderDump>, root: Vec<RuleDump>) {
    let mut dump: Dump = emulator.dump();
    let data = dump.profiles.entry(profile.to_string()).or_default();
    data.folders.extend(folders);
    data.root.extend(root);
    let top = data.folders.iter().map(|f| f.pk).max().unwrap_or(0);
    dump.next_pk = dump.next_pk.max(top + 1);
    emulator.load(dump);
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// Copies the directory tree `from` to `to` (created if missing).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Reads an HTTP/1.1 request head (up to the blank line) from a raw test server's connection.
pub fn read_http_head(stream: &mut impl std::io::Read) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}
