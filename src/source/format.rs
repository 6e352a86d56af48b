//! List formats: the Control D folder JSON, plain domains, hosts files and adblock lists; detected
//! from the content unless the config names one. Parsing yields raw entries; hostname rules and
//! actions are applied afterwards ([`super::derive`]).

use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;

use crate::config::Format;
use crate::model::ActionKind;
use crate::quote::quote;

/// What a source holds before hostnames are validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RawList {
    /// The folder the source describes (controld files only).
    pub group: Option<SourceGroup>,
    pub entries: Vec<RawEntry>,
    /// Entries that break the format (counted as skipped).
    pub invalid: Vec<Skip>,
    /// Syntax this tool does not apply (adblock `$` options, `@@` exceptions, cosmetic filters).
    pub unsupported: Vec<Skip>,
    /// The hostnames are as Control D stores them (a controld folder file): their case is kept,
    /// since the API is case-sensitive and `MiXeD.Example.COM` is another rule than the lowercase one.
    pub stored_case: bool,
}

/// The folder a controld file names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SourceGroup {
    pub name: String,
    pub action: EntryAction,
}

/// An action as a source writes it; `kind: None` inherits the folder's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EntryAction {
    pub kind: Option<ActionKind>,
    pub enabled: bool,
    pub via: Option<String>,
    pub via_v6: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub position: Position,
    pub host: String,
    pub action: Option<EntryAction>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Skip {
    pub position: Position,
    pub reason: String,
}

/// Where an entry is: a line of a text list, or an index in a controld file's `rules`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Position {
    Line(usize),
    Rule(usize),
}

impl Position {
    /// `file:12` or `file: rules[3]`.
    pub(crate) fn at(self, location: &str) -> String {
        match self {
            Self::Line(line) => format!("{location}:{line}"),
            Self::Rule(index) => format!("{location}: rules[{index}]"),
        }
    }
}

/// Why a body cannot be read as a list at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not UTF-8 text (invalid byte at line {line}); save the list as UTF-8")]
    NotUtf8 { line: usize },
    #[error("an HTML page, not a list (an error or login page?)")]
    Html,
    #[error(
        "truncated JSON: the document ends at line {line} column {column} before it is complete"
    )]
    TruncatedJson { line: usize, column: usize },
    #[error("malformed JSON at line {line} column {column}: {}", crate::quote::escape(.message))]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("JSON but not a Control D folder file ({} at line {line} column {column}): expected {{\"group\": {{\"group\": NAME, ...}}, \"rules\": [{{\"PK\": HOSTNAME}}, ...]}}", crate::quote::escape(.message))]
    NotAFolderFile {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the folder's action has an unknown `do` = {0} (expected 0 block, 1 allow, 2 spoof, 3 redirect)")]
    UnknownGroupAction(i64),
}

/// Strips a UTF-8 byte-order mark and checks the bytes are UTF-8.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|err| {
        let valid = &bytes[..err.valid_up_to()];
        let line = valid.iter().filter(|byte| **byte == b'\n').count() + 1;
        ParseError::NotUtf8 { line }
    })
}

/// Parses text in the given format, detecting it first when `Auto`. Returns the format used.
pub(crate) fn parse(text: &str, format: Format) -> Result<(Format, RawList), ParseError> {
    if looks_like_html(text) {
        return Err(ParseError::Html);
    }
    let format = match format {
        Format::Auto => detect(text),
        named => named,
    };
    let list = match format {
        Format::Controld => parse_controld(text)?,
        Format::Hosts => parse_lines(text, hosts_line),
        Format::Adblock => parse_lines(text, adblock_line),
        Format::Domains | Format::Auto => parse_lines(text, domains_line),
    };
    Ok((format, list))
}

fn looks_like_html(text: &str) -> bool {
    let start: String = text
        .trim_start()
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// JSON object -> controld; `||x^` or `@@` -> adblock; `IP name` -> hosts; else domains. Decided by
/// the first line that is not a comment or a header.
pub(crate) fn detect(text: &str) -> Format {
    if looks_like_json(text) {
        return Format::Controld;
    }
    let first = text
        .lines()
        .filter_map(strip_comment)
        .find(|line| !(line.starts_with('[') && line.ends_with(']')));
    match first {
        Some(line) if line.starts_with("||") || line.starts_with("@@") || line.ends_with('^') => {
            Format::Adblock
        }
        Some(line) if is_hosts_line(line) => Format::Hosts,
        _ => Format::Domains,
    }
}

/// `{...`, or `[` followed by what a JSON array holds (an adblock header is `[Adblock ...]`).
fn looks_like_json(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with('{')
        || text
            .strip_prefix('[')
            .is_some_and(|rest| rest.trim_start().starts_with(['{', '"', ']']))
}

fn is_hosts_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let first_is_ip = words
        .next()
        .is_some_and(|word| word.parse::<IpAddr>().is_ok());
    first_is_ip && words.next().is_some()
}

/// The content of a line without comments (`#` or `!` at the start, ` # ...` at the end), trimmed;
/// `None` when nothing is left.
fn strip_comment(line: &str) -> Option<&str> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
        return None;
    }
    let bytes = line.as_bytes();
    let comment =
        (1..bytes.len()).find(|&at| bytes[at] == b'#' && matches!(bytes[at - 1], b' ' | b'\t'));
    let content = comment.map_or(line, |at| line[..at].trim_end());
    (!content.is_empty()).then_some(content)
}

/// What one line of a text list yields.
enum LineOutcome<'a> {
    Hosts(Vec<&'a str>),
    Invalid(String),
    Unsupported(String),
    Nothing,
}

fn parse_lines(text: &str, per_line: fn(&str) -> LineOutcome<'_>) -> RawList {
    let mut list = RawList::default();
    for (index, line) in text.lines().enumerate() {
        let position = Position::Line(index + 1);
        let Some(content) = strip_comment(line) else {
            continue;
        };
        match per_line(content) {
            LineOutcome::Hosts(hosts) => {
                list.entries.extend(hosts.into_iter().map(|host| RawEntry {
                    position,
                    host: host.to_string(),
                    action: None,
                }));
            }
            LineOutcome::Invalid(reason) => list.invalid.push(Skip { position, reason }),
            LineOutcome::Unsupported(reason) => list.unsupported.push(Skip { position, reason }),
            LineOutcome::Nothing => {}
        }
    }
    list
}

fn domains_line(content: &str) -> LineOutcome<'_> {
    LineOutcome::Hosts(vec![content])
}

/// `0.0.0.0 a b c`; names a system keeps for itself are ignored.
fn hosts_line(content: &str) -> LineOutcome<'_> {
    let mut words = content.split_whitespace();
    let Some(address) = words.next() else {
        return LineOutcome::Nothing;
    };
    if address.parse::<IpAddr>().is_err() {
        return LineOutcome::Invalid(format!(
            "{} is not a hosts line (expected `0.0.0.0 hostname`)",
            quote(content)
        ));
    }
    let names: Vec<&str> = words.filter(|name| !is_local_name(name)).collect();
    LineOutcome::Hosts(names)
}

fn is_local_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "localhost" | "localhost.localdomain" | "local" | "broadcasthost" | "0.0.0.0"
    ) || name.starts_with("ip6-")
}

/// `||example.com^`; `$` options, `@@` exceptions and cosmetic filters are not applied.
fn adblock_line(content: &str) -> LineOutcome<'_> {
    if content.starts_with('[') && content.ends_with(']') {
        return LineOutcome::Nothing;
    }
    if content.starts_with("@@") {
        return LineOutcome::Unsupported(format!(
            "exception rule {} is not supported",
            quote(content)
        ));
    }
    if content.contains('$') {
        return LineOutcome::Unsupported(format!(
            "`$` options in {} are not supported",
            quote(content)
        ));
    }
    if content.contains("##") || content.contains("#@#") || content.contains("#?#") {
        return LineOutcome::Unsupported(format!(
            "cosmetic filter {} is not supported",
            quote(content)
        ));
    }
    match content.strip_prefix("||") {
        Some(rest) => match rest.strip_suffix('^') {
            Some(host) => LineOutcome::Hosts(vec![host]),
            None => LineOutcome::Unsupported(format!(
                "{} is not a whole-domain rule (`||example.com^`)",
                quote(content)
            )),
        },
        // AdGuard DNS lists also carry bare hostnames.
        None if !content.contains(['/', '|', '^']) => LineOutcome::Hosts(vec![content]),
        None => LineOutcome::Unsupported(format!(
            "{} is not a whole-domain rule (`||example.com^`)",
            quote(content)
        )),
    }
}

// ---- the Control D folder file ------------------------------------------------------------------

#[derive(Deserialize)]
struct FolderFile {
    group: FolderFileGroup,
    rules: Vec<FolderFileRule>,
}

#[derive(Deserialize)]
struct FolderFileGroup {
    group: String,
    #[serde(default)]
    action: Option<FolderFileAction>,
}

#[derive(Deserialize)]
struct FolderFileRule {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(default)]
    action: Option<FolderFileAction>,
}

#[derive(Deserialize)]
struct FolderFileAction {
    #[serde(rename = "do", default)]
    kind: Option<i64>,
    #[serde(default)]
    status: Option<i64>,
    #[serde(default)]
    via: Option<String>,
    #[serde(default)]
    via_v6: Option<String>,
}

impl fmt::Debug for FolderFileAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "do={:?} status={:?}", self.kind, self.status)
    }
}

/// Ok(None kind) when `do` is absent; Err(code) when `do` is unknown.
fn entry_action(action: FolderFileAction) -> Result<EntryAction, i64> {
    let kind = match action.kind {
        None => None,
        Some(code) => Some(
            u8::try_from(code)
                .ok()
                .and_then(ActionKind::from_code)
                .ok_or(code)?,
        ),
    };
    Ok(EntryAction {
        kind,
        enabled: action.status != Some(0),
        via: action.via.filter(|via| !via.is_empty()),
        via_v6: action.via_v6.filter(|via| !via.is_empty()),
    })
}

fn parse_controld(text: &str) -> Result<RawList, ParseError> {
    let file: FolderFile = serde_json::from_str(text).map_err(|err| json_error(&err))?;
    let group_action = match file.group.action {
        Some(action) => entry_action(action).map_err(ParseError::UnknownGroupAction)?,
        None => EntryAction {
            enabled: true,
            ..EntryAction::default()
        },
    };
    let mut list = RawList {
        group: Some(SourceGroup {
            name: file.group.group.trim().to_string(),
            action: group_action,
        }),
        stored_case: true,
        ..RawList::default()
    };
    for (index, rule) in file.rules.into_iter().enumerate() {
        let position = Position::Rule(index);
        match rule.action.map(entry_action).transpose() {
            Ok(action) => list.entries.push(RawEntry {
                position,
                host: rule.pk,
                action,
            }),
            Err(code) => list.invalid.push(Skip {
                position,
                reason: format!("{} has an unknown action `do` = {code}", quote(&rule.pk)),
            }),
        }
    }
    Ok(list)
}

fn json_error(err: &serde_json::Error) -> ParseError {
    match err.classify() {
        serde_json::error::Category::Eof => ParseError::TruncatedJson {
            line: err.line(),
            column: err.column(),
        },
        serde_json::error::Category::Data => ParseError::NotAFolderFile {
            line: err.line(),
            column: err.column(),
            message: strip_position(&err.to_string()),
        },
        _ => ParseError::Json {
            line: err.line(),
            column: err.column(),
            message: strip_position(&err.to_string()),
        },
    }
}

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &RawList) -> Vec<&str> {
        list.entries
            .iter()
            .map(|entry| entry.host.as_str())
            .collect()
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(detect("{\"group\": {}}"), Format::Controld);
        assert_eq!(detect("# hosts\n0.0.0.0 ads.x.com\n"), Format::Hosts);
        assert_eq!(detect("::1 ads.x.com"), Format::Hosts);
        assert_eq!(
            detect("[Adblock Plus 2.0]\n! title\n||ads.x.com^\n"),
            Format::Adblock
        );
        assert_eq!(detect("# list\nads.x.com\n"), Format::Domains);
        assert_eq!(detect("*.x.com\n"), Format::Domains);
    }

    #[test]
    fn domains_skip_comments_and_handle_crlf_and_trailing_comments() {
        let (format, list) = parse(
            "# c\r\n! c\r\nads.x.com\r\n\r\ntrack.x.com # why\r\n*.wild.com\r\n",
            Format::Auto,
        )
        .unwrap();
        assert_eq!(format, Format::Domains);
        assert_eq!(hosts(&list), ["ads.x.com", "track.x.com", "*.wild.com"]);
        assert_eq!(list.entries[1].position, Position::Line(5));
    }

    #[test]
    fn hosts_take_every_name_and_skip_local_names() {
        let text = "127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n0.0.0.0 0.0.0.0\n\
                    0.0.0.0 a.com b.com # two\n127.0.0.1 c.com\n:: d.com\n::1 e.com\nbroken line\n";
        let (format, list) = parse(text, Format::Auto).unwrap();
        assert_eq!(format, Format::Hosts);
        assert_eq!(hosts(&list), ["a.com", "b.com", "c.com", "d.com", "e.com"]);
        assert_eq!(list.invalid.len(), 1);
        assert_eq!(list.invalid[0].position, Position::Line(8));
    }

    #[test]
    fn adblock_takes_domain_rules_and_reports_the_rest() {
        let text = "[Adblock Plus 2.0]\n! c\n||ads.x.com^\n||t.x.com^$third-party\n@@||ok.x.com^\n\
                    x.com##.banner\n||y.com/path\nplain.com\n";
        let (format, list) = parse(text, Format::Auto).unwrap();
        assert_eq!(format, Format::Adblock);
        assert_eq!(hosts(&list), ["ads.x.com", "plain.com"]);
        assert_eq!(list.unsupported.len(), 4);
    }

    #[test]
    fn controld_honours_rule_and_group_actions() {
        let text = r#"{"group": {"group": "Mixed", "action": {"status": 1}},
            "rules": [{"PK": "a.com", "action": {"do": 0, "status": 1}},
                      {"PK": "b.com", "action": {"do": 1, "status": 0}},
                      {"PK": "c.com"},
                      {"PK": "d.com", "action": {"do": 9, "status": 1}}]}"#;
        let (format, list) = parse(text, Format::Auto).unwrap();
        assert_eq!(format, Format::Controld);
        let group = list.group.clone().unwrap();
        assert_eq!(group.name, "Mixed");
        assert_eq!(group.action.kind, None);
        assert_eq!(hosts(&list), ["a.com", "b.com", "c.com"]);
        let b = list.entries[1].action.clone().unwrap();
        assert_eq!((b.kind, b.enabled), (Some(ActionKind::Allow), false));
        assert_eq!(list.entries[2].action, None);
        assert_eq!(list.invalid[0].position, Position::Rule(3));
    }

    #[test]
    fn bad_json_says_where() {
        let truncated = parse("{\"group\": {\"group\": \"x\"}, \"rules\": [", Format::Auto);
        assert!(matches!(
            truncated,
            Err(ParseError::TruncatedJson { line: 1, .. })
        ));
        let malformed = parse("{\n\"group\": ,}", Format::Controld);
        assert!(
            matches!(malformed, Err(ParseError::Json { line: 2, .. })),
            "{malformed:?}"
        );
        let other = parse("{\"hello\": 1}", Format::Auto);
        let Err(ParseError::NotAFolderFile { message, .. }) = other else {
            panic!("{other:?}");
        };
        assert!(message.contains("missing field `group`"), "{message}");
    }

    #[test]
    fn html_and_non_utf8_are_refused() {
        assert_eq!(
            parse("  <!DOCTYPE html><html>", Format::Auto),
            Err(ParseError::Html)
        );
        assert_eq!(
            decode(b"a.com\n\xff.com"),
            Err(ParseError::NotUtf8 { line: 2 })
        );
        assert_eq!(decode(b"\xEF\xBB\xBFa.com").unwrap(), "a.com");
    }
}
