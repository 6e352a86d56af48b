//! Checks of the keys that shape how sources are fetched: `[sources] retries` and `on_error`,
//! `[folder.x] auth_env` and `auth_header`.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use super::check::Checker;
use super::{FolderConfig, OnError, ProfileConfig, SourceAuth, SourceLocation, DEFAULT_TOKEN_ENV};
use crate::bounds;

impl Checker<'_> {
    pub(super) fn retries(&mut self, value: Spanned<i64>) -> Option<u32> {
        let retries = self.whole(value, "retries", "sources", &bounds::RETRIES)?;
        u32::try_from(retries).ok()
    }
}

impl Checker<'_> {
    pub(super) fn on_error(&mut self, value: Spanned<String>) -> Option<OnError> {
        match value.get_ref().as_str() {
            "fail" => Some(OnError::Fail),
            "keep" => Some(OnError::Keep),
            other => {
                self.report(
                    value.span(),
                    format!("`on_error = \"{other}\"`: write \"fail\" (a failed source stops the run) or \"keep\" (its folder is kept as it is, the others sync)"),
                );
                None
            }
        }
    }
}

impl Checker<'_> {
    /// `auth_env` names a variable (never holds the token) and applies to URL sources only;
    /// `auth_header` is a header name and needs `auth_env`.
    pub(super) fn source_auth(
        &mut self,
        key: &str,
        location: Option<&SourceLocation>,
        auth_env: Option<Spanned<String>>,
        auth_header: Option<Spanned<String>>,
    ) -> Option<SourceAuth> {
        let Some(env) = auth_env else {
            if let Some(header) = auth_header {
                self.report(header.span(), format!("folder `{key}`: `auth_header` needs `auth_env = \"NAME\"`, the environment variable holding the token"));
            }
            return None;
        };
        if matches!(location, Some(SourceLocation::Path { .. })) {
            self.report(
                env.span(),
                format!("folder `{key}`: `auth_env` applies only to `url` sources: remove it"),
            );
            return None;
        }
        if !is_variable_name(env.get_ref()) {
            self.report(env.span(), format!("folder `{key}`: `auth_env` names an environment variable (letters, digits, `_`), e.g. auth_env = \"LISTS_TOKEN\"; never the token itself"));
            return None;
        }
        let header = match auth_header {
            Some(header)
                if reqwest::header::HeaderName::from_bytes(header.get_ref().as_bytes())
                    .is_err() =>
            {
                self.report(header.span(), format!("folder `{key}`: `auth_header` must be an HTTP header name, e.g. auth_header = \"PRIVATE-TOKEN\""));
                return None;
            }
            header => header.map(Spanned::into_inner),
        };
        Some(SourceAuth {
            env: env.into_inner(),
            header,
        })
    }
}

impl Checker<'_> {
    /// `auth_env` may not name a variable that holds a Control D API token (`CTRLD_API_TOKEN` or a
    /// profile's `token_env`): the list's host, which the config chooses, would receive it. In CI
    /// a pull request that changes the config runs `plan` with the token in its environment.
    pub(super) fn auth_env_holding_an_api_token(
        &mut self,
        profiles: &[ProfileConfig],
        folders: &[FolderConfig],
        spans: &HashMap<String, Range<usize>>,
    ) {
        for folder in folders {
            let Some(auth) = &folder.auth else { continue };
            let Some(holder) = api_token_holder(&auth.env, profiles) else {
                continue;
            };
            let span = spans.get(&folder.key).cloned().unwrap_or(0..0);
            let host = match &folder.location {
                SourceLocation::Url(url) => url.host_str().unwrap_or("?").to_string(),
                SourceLocation::Path { .. } => continue,
            };
            self.report(
                span,
                format!(
                    "folder `{}`: `auth_env = \"{}\"` names the variable holding {holder}: the token \
                     would be sent to the list's host ({host}); give the list its own token in \
                     another variable, e.g. auth_env = \"LISTS_TOKEN\"",
                    folder.key, auth.env
                ),
            );
        }
    }
}

/// What the variable `name` holds when it is an API token variable: "the Control D API token" or
/// "profile `x`'s API token (`token_env`)". Compared without case: Windows variable names ignore it.
fn api_token_holder(name: &str, profiles: &[ProfileConfig]) -> Option<String> {
    if name.eq_ignore_ascii_case(DEFAULT_TOKEN_ENV) {
        return Some(format!("the Control D API token ({DEFAULT_TOKEN_ENV})"));
    }
    let profile = profiles.iter().find(|profile| {
        profile
            .token_env
            .as_deref()
            .is_some_and(|token_env| token_env.eq_ignore_ascii_case(name))
    })?;
    Some(format!(
        "profile `{}`'s Control D API token (its `token_env`)",
        profile.id
    ))
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{first_problem, parse, GOOD};

    #[test]
    fn retries_default_to_the_api_clients_and_are_bounded() {
        assert_eq!(parse(GOOD).unwrap().sources.retries, 5);
        let none = parse(&GOOD.replace("concurrency = 2", "retries = 0")).unwrap();
        assert_eq!(none.sources.retries, 0);
        let problem = first_problem(&GOOD.replace("concurrency = 2", "retries = 50"));
        assert_eq!(problem.line, 3);
        assert!(
            problem.message.contains("0 (no retry) to 10"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn auth_env_names_a_variable_for_url_sources() {
        let with = |extra: &str| {
            GOOD.replace(
                "format = \"controld\"",
                &format!("format = \"controld\"\n{extra}"),
            )
        };
        let config = parse(&with(
            "auth_env = \"LISTS_TOKEN\"\nauth_header = \"PRIVATE-TOKEN\"",
        ))
        .unwrap();
        let auth = config.folder("ads").unwrap().auth.clone().unwrap();
        assert_eq!(auth.env, "LISTS_TOKEN");
        assert_eq!(auth.header.as_deref(), Some("PRIVATE-TOKEN"));
        let token = first_problem(&with("auth_env = \"ghp_abc123 secret\""));
        assert!(
            token.message.contains("never the token itself"),
            "{}",
            token.message
        );
        assert!(!token.message.contains("ghp_abc123"));
        let header = first_problem(&with("auth_header = \"X-Token\""));
        assert!(
            header.message.contains("needs `auth_env"),
            "{}",
            header.message
        );
        let bad_header = first_problem(&with("auth_env = \"T\"\nauth_header = \"Bad Header\""));
        assert!(
            bad_header.message.contains("header name"),
            "{}",
            bad_header.message
        );
        let on_path = first_problem(&GOOD.replace(
            "path = \"lists/local.txt\"",
            "path = \"lists/local.txt\"\nauth_env = \"T\"",
        ));
        assert!(
            on_path.message.contains("only to `url` sources"),
            "{}",
            on_path.message
        );
    }

    #[test]
    fn auth_env_may_not_name_an_api_token_variable() {
        let with = |extra: &str| {
            GOOD.replace(
                "format = \"controld\"",
                &format!("format = \"controld\"\n{extra}"),
            )
        };
        let default = first_problem(&with("auth_env = \"CTRLD_API_TOKEN\""));
        assert_eq!((default.line, default.column), (12, 12));
        assert!(
            default
                .message
                .contains("Control D API token (CTRLD_API_TOKEN)")
                && default
                    .message
                    .contains("sent to the list's host (example.com)"),
            "{}",
            default.message
        );
        let profile_token = with("auth_env = \"home_token\"")
            .replace("id = \"p1\"", "id = \"p1\"\ntoken_env = \"HOME_TOKEN\"");
        let problem = first_problem(&profile_token);
        assert_eq!(problem.line, 13);
        assert!(
            problem
                .message
                .contains("profile `p1`'s Control D API token"),
            "{}",
            problem.message
        );
        assert!(parse(&with("auth_env = \"LISTS_TOKEN\"")).is_ok());
    }
}
