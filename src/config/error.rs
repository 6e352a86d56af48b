//! Config problems: where they are (`file:line:column`) and what to write instead.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in the config, at a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The cause is written into the message (mid-sentence), so it is not also a `source`.
    #[error("cannot read the config {}: {error}; write one with `ctrld-sync init` or pass `--config FILE`", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}", join_lines(.0))]
    Invalid(Vec<ConfigProblem>),
}

impl ConfigError {
    /// One line per problem.
    pub(crate) fn lines(&self) -> Vec<String> {
        match self {
            Self::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}

fn join_lines(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// serde's messages, plus what to write instead where we know better.
pub(super) fn explain_toml_error(err: &toml::de::Error) -> String {
    let message = err.message().trim().to_string();
    if let Some(field) = unknown_field(&message) {
        if looks_like_token(field) {
            return format!(
                "`{field}`: an API token must never be in the config (it is committed to git); \
                 remove it and set CTRLD_API_TOKEN, or name another variable with `token_env = \"NAME\"` under [[profile]]"
            );
        }
    }
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .and_then(explain_missing);
    missing.unwrap_or(message)
}

/// "missing field `id`" -> what to add.
fn explain_missing(field: &str) -> Option<String> {
    let example = match field {
        "id" => "id = \"1abcdefgh2ij\" (the profile id as Control D shows it)",
        _ => return None,
    };
    Some(format!("missing field `{field}`: add {example}"))
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

fn looks_like_token(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key != "token_env" && (key.contains("token") || key.contains("secret") || key == "api_key")
}

pub(super) fn problem_at(path: &Path, text: &str, offset: usize, message: String) -> ConfigProblem {
    let (line, column) = line_column(text, offset);
    ConfigProblem {
        file: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{first_problem, GOOD};

    #[test]
    fn an_unknown_key_points_at_its_line() {
        let problem =
            first_problem(&GOOD.replace("format = \"controld\"", "fromat = \"controld\""));
        assert_eq!((problem.line, problem.column), (11, 1));
        assert!(
            problem.message.contains("unknown field `fromat`"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn a_token_in_the_config_is_refused_with_the_alternative() {
        let problem = first_problem(&GOOD.replace("id = \"p1\"", "id = \"p1\"\ntoken = \"abc\""));
        assert_eq!(problem.line, 7);
        assert!(
            problem.message.contains("CTRLD_API_TOKEN"),
            "{}",
            problem.message
        );
        assert!(!problem.message.contains("abc"));
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
