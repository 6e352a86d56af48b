//! From a parsed list and a folder's config to the folder's name, action and rules: hostnames
//! normalised and validated, duplicates folded (first wins), actions resolved.

use std::collections::BTreeMap;

use super::error::FolderProblem;
use super::format::{EntryAction, RawList, Skip};
use crate::config::FolderConfig;
use crate::model::{ActionKind, FolderAction, Hostname, RuleAction};
use crate::quote::quote;

/// At most this many examples of skipped entries per folder.
pub(crate) const MAX_EXAMPLES: usize = 5;

/// A folder's rules as one source yields them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedFolder {
    pub name: String,
    pub action: FolderAction,
    pub rules: BTreeMap<Hostname, RuleAction>,
    /// Invalid entries left out.
    pub skipped: usize,
    /// `location:line: reason`, at most [`MAX_EXAMPLES`].
    pub skipped_examples: Vec<String>,
    /// Entries in syntax this tool does not apply.
    pub unsupported: usize,
    pub unsupported_examples: Vec<String>,
}

/// Applies `folder`'s settings to `list`, read from `location`.
pub(crate) fn derive(
    list: RawList,
    folder: &FolderConfig,
    location: &str,
) -> Result<DerivedFolder, FolderProblem> {
    let name = folder
        .name
        .clone()
        .or_else(|| list.group.as_ref().map(|group| group.name.clone()))
        .filter(|name| !name.is_empty())
        .ok_or_else(|| FolderProblem::NoName(folder.key.clone()))?;
    let action = folder_action(folder, list.group.as_ref().map(|group| &group.action));
    let default_rule = default_rule(&action, folder.via_v6.as_deref());
    let mut skips = Examples::new(location);
    for skip in &list.invalid {
        skips.add(skip);
    }
    let normalize = match list.stored_case {
        true => Hostname::parse_keeping_case,
        false => Hostname::parse,
    };
    let mut rules = BTreeMap::new();
    for entry in list.entries {
        let host = match normalize(&entry.host) {
            Ok(host) => host,
            Err(err) => {
                skips.add_reason(entry.position.at(location), err.to_string());
                continue;
            }
        };
        let rule = match entry.action {
            Some(own) => own_rule(own, &default_rule),
            None => Ok(default_rule.clone()),
        };
        match rule {
            Ok(rule) => {
                rules.entry(host).or_insert(rule);
            }
            Err(reason) => skips.add_reason(
                entry.position.at(location),
                format!("{}: {reason}", quote(&host)),
            ),
        }
    }
    let mut unsupported = Examples::new(location);
    for skip in &list.unsupported {
        unsupported.add(skip);
    }
    if folder.strict && skips.count > 0 {
        return Err(FolderProblem::Invalid {
            count: skips.count,
            examples: skips.examples,
        });
    }
    if rules.is_empty() && !folder.allow_empty {
        return Err(FolderProblem::NoRules);
    }
    Ok(DerivedFolder {
        name,
        action,
        rules,
        skipped: skips.count,
        skipped_examples: skips.examples,
        unsupported: unsupported.count,
        unsupported_examples: unsupported.examples,
    })
}

/// The config's action if it has a `do`; else the source's group action (with the config's
/// status, if written); else block.
pub(crate) fn folder_action(folder: &FolderConfig, group: Option<&EntryAction>) -> FolderAction {
    let from_source = group.map(|group| FolderAction {
        kind: group.kind,
        enabled: group.enabled,
        via: group.via.clone(),
    });
    match &folder.action {
        Some(configured) if configured.kind.is_some() => configured.clone(),
        Some(status_only) => FolderAction {
            enabled: status_only.enabled,
            ..from_source.unwrap_or_else(|| FolderAction::of(ActionKind::Block))
        },
        None => from_source.unwrap_or_else(|| FolderAction::of(ActionKind::Block)),
    }
}

fn default_rule(action: &FolderAction, via_v6: Option<&str>) -> RuleAction {
    let mut rule = action.rule_default();
    if rule.kind == ActionKind::Spoof {
        rule.via_v6 = via_v6.map(str::to_string);
    }
    rule
}

/// A rule's own action; without `do` it takes the folder's, keeping its own status.
fn own_rule(own: EntryAction, default_rule: &RuleAction) -> Result<RuleAction, String> {
    let Some(kind) = own.kind else {
        return Ok(RuleAction {
            enabled: own.enabled,
            ..default_rule.clone()
        });
    };
    if kind.needs_via() && own.via.is_none() {
        return Err(format!("a {kind} rule without `via`"));
    }
    Ok(RuleAction {
        kind,
        enabled: own.enabled,
        via: own.via.filter(|_| kind.needs_via()),
        via_v6: own.via_v6.filter(|_| kind == ActionKind::Spoof),
    })
}

/// Counts entries and keeps the first few as examples.
struct Examples<'a> {
    location: &'a str,
    count: usize,
    examples: Vec<String>,
}

impl<'a> Examples<'a> {
    fn new(location: &'a str) -> Self {
        Self {
            location,
            count: 0,
            examples: Vec::new(),
        }
    }

    fn add(&mut self, skip: &Skip) {
        let at = skip.position.at(self.location);
        self.add_reason(at, skip.reason.clone());
    }

    fn add_reason(&mut self, at: String, reason: String) {
        self.count += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(format!("{at}: {reason}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Format, SourceLocation};
    use crate::source::format::parse;

    fn folder(name: Option<&str>, action: Option<FolderAction>, strict: bool) -> FolderConfig {
        FolderConfig {
            key: "k".into(),
            location: SourceLocation::Path {
                written: "l.txt".into(),
                resolved: "l.txt".into(),
            },
            format: Format::Auto,
            name: name.map(str::to_string),
            action,
            via_v6: None,
            strict,
            allow_empty: false,
            auth: None,
            fingerprint: "0123456789abcdef".into(),
        }
    }

    fn derive_text(text: &str, folder: &FolderConfig) -> Result<DerivedFolder, FolderProblem> {
        let (_, list) = parse(text, Format::Auto).unwrap();
        derive(list, folder, "l.txt")
    }

    #[test]
    fn plain_lists_block_by_default_and_fold_duplicates() {
        let derived =
            derive_text("A.com\na.com.\nb.com\n", &folder(Some("Ads"), None, false)).unwrap();
        assert_eq!(derived.action, FolderAction::of(ActionKind::Block));
        assert_eq!(derived.rules.len(), 2);
        assert_eq!(derived.rules["a.com"], RuleAction::block());
    }

    #[test]
    fn the_config_action_applies_to_rules_without_their_own() {
        let allow = folder(Some("Ok"), Some(FolderAction::of(ActionKind::Allow)), false);
        let derived = derive_text("a.com\n", &allow).unwrap();
        assert_eq!(derived.rules["a.com"], RuleAction::allow());
    }

    #[test]
    fn controld_rules_keep_their_own_actions_and_the_group_names_the_folder() {
        let text = r#"{"group": {"group": "Mixed", "action": {"do": 0, "status": 1}},
            "rules": [{"PK": "a.com", "action": {"do": 1, "status": 1}}, {"PK": "b.com"}]}"#;
        let derived = derive_text(text, &folder(None, None, false)).unwrap();
        assert_eq!(derived.name, "Mixed");
        assert_eq!(derived.rules["a.com"], RuleAction::allow());
        assert_eq!(derived.rules["b.com"], RuleAction::block());
    }

    #[test]
    fn a_status_only_config_keeps_the_source_action_disabled() {
        let text = r#"{"group": {"group": "G", "action": {"do": 1, "status": 1}}, "rules": [{"PK": "a.com"}]}"#;
        let status_only = FolderAction {
            kind: None,
            enabled: false,
            via: None,
        };
        let derived = derive_text(text, &folder(None, Some(status_only), false)).unwrap();
        assert_eq!(derived.action.kind, Some(ActionKind::Allow));
        assert!(!derived.action.enabled);
        assert!(!derived.rules["a.com"].enabled);
    }

    #[test]
    fn invalid_entries_are_counted_with_examples_or_refused_when_strict() {
        let text = "ok.com\nbad%.com\na..b\nx y\n";
        let derived = derive_text(text, &folder(Some("F"), None, false)).unwrap();
        assert_eq!(derived.skipped, 3);
        assert_eq!(
            derived.skipped_examples[0],
            "l.txt:2: `bad%.com` contains `%`, which Control D does not accept"
        );
        let strict = derive_text(text, &folder(Some("F"), None, true));
        assert!(matches!(
            strict,
            Err(FolderProblem::Invalid { count: 3, .. })
        ));
    }

    #[test]
    fn no_examples_beyond_five() {
        let text: String = (0..9)
            .map(|i| format!("bad{i}%.com\n"))
            .chain(["ok.com\n".into()])
            .collect();
        let derived = derive_text(&text, &folder(Some("F"), None, false)).unwrap();
        assert_eq!(derived.skipped, 9);
        assert_eq!(derived.skipped_examples.len(), MAX_EXAMPLES);
    }

    #[test]
    fn an_empty_list_is_an_error_not_an_empty_folder() {
        let result = derive_text("# nothing here\n", &folder(Some("F"), None, false));
        assert!(matches!(result, Err(FolderProblem::NoRules)));
    }

    #[test]
    fn an_empty_list_is_an_empty_folder_when_allowed() {
        let allowed = FolderConfig {
            allow_empty: true,
            ..folder(Some("F"), None, false)
        };
        let derived = derive_text("# nothing here\n", &allowed).unwrap();
        assert!(derived.rules.is_empty());
    }

    #[test]
    fn a_nameless_folder_says_to_add_a_name() {
        let result = derive_text("a.com\n", &folder(None, None, false));
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("add `name = \"...\"` under [folder.k]"),
            "{message}"
        );
    }
}
