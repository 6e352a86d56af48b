//! Secrets never belong in the config (it is committed to git): a URL carrying userinfo or a
//! credential-like query parameter is refused, naming the parameter but never its value.

use std::ops::Range;

use super::check::Checker;
use crate::redact;

/// What to do instead, for a list URL.
pub(super) const LIST_REMEDY: &str =
    "remove it from the URL, put the token in an environment variable (a CI secret) and \
     name it with `auth_env = \"LISTS_TOKEN\"` under the folder: it is then sent as \
     `Authorization: Bearer ...` (or under `auth_header = \"NAME\"`), never stored";

/// What to do instead, for the API URL.
pub(super) const API_REMEDY: &str =
    "remove it: the API token comes from CTRLD_API_TOKEN (or the variable a profile names \
     in `token_env`)";

impl Checker<'_> {
    /// Reports `url` if it carries a secret; `what` says where it is (`folder `x`: `url``),
    /// `remedy` what to do instead. True when it was refused.
    pub(super) fn refuse_secrets(
        &mut self,
        what: &str,
        span: Range<usize>,
        url: &url::Url,
        remedy: &str,
    ) -> bool {
        let found = redact::secrets(url);
        if found.is_empty() {
            return false;
        }
        self.report(span, format!("{what}: {}; a secret must never be in the config (it is committed to git): {remedy}", describe(&found)));
        true
    }
}

/// "carries a user name or password" / "carries a credential in query parameter `token`".
fn describe(found: &redact::Secrets) -> String {
    let mut parts = Vec::new();
    if found.userinfo {
        parts.push("carries a user name or password before the host".to_string());
    }
    if !found.parameters.is_empty() {
        let names: Vec<String> = found
            .parameters
            .iter()
            .map(|name| format!("`{name}`"))
            .collect();
        let noun = if names.len() == 1 {
            "parameter"
        } else {
            "parameters"
        };
        parts.push(format!(
            "carries a credential in query {noun} {}",
            names.join(", ")
        ));
    }
    parts.join(" and ")
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{first_problem, parse, GOOD};

    #[test]
    fn userinfo_is_refused_without_repeating_it() {
        let problem = first_problem(&GOOD.replace(
            "https://example.com/ads.json",
            "https://user:Pa55w0rd@example.com/ads.json",
        ));
        assert_eq!(problem.line, 10);
        assert!(
            problem.message.contains("user name or password"),
            "{}",
            problem.message
        );
        assert!(problem.message.contains("auth_env"), "{}", problem.message);
        assert!(!problem.message.contains("Pa55w0rd") && !problem.message.contains("user:"));
    }

    #[test]
    fn a_credential_query_parameter_is_named_not_shown() {
        for (name, value) in [
            ("token", "SeCrEt1"),
            ("X-Amz-Signature", "abc123"),
            ("api_key", "k3y"),
        ] {
            let url = format!("https://example.com/ads.json?ref=main&{name}={value}");
            let problem = first_problem(&GOOD.replace("https://example.com/ads.json", &url));
            assert!(
                problem.message.contains(&format!("`{name}`")),
                "{}",
                problem.message
            );
            assert!(!problem.message.contains(value), "{}", problem.message);
        }
    }

    #[test]
    fn a_plain_query_is_fine() {
        assert!(parse(&GOOD.replace(
            "https://example.com/ads.json",
            "https://example.com/ads.json?ref=main&format=json"
        ))
        .is_ok());
    }

    #[test]
    fn the_api_url_is_checked_too() {
        let text = format!("[api]\nbase_url = \"https://api.example/?token=T0k\"\n{GOOD}");
        let problem = first_problem(&text);
        assert_eq!(problem.line, 2);
        assert!(
            problem.message.contains("CTRLD_API_TOKEN"),
            "{}",
            problem.message
        );
        assert!(!problem.message.contains("T0k"));
    }

    #[test]
    fn a_bad_url_is_not_repeated() {
        let problem = first_problem(&GOOD.replace(
            "https://example.com/ads.json",
            "https://user:Pa55w0rd@exa mple.com/",
        ));
        assert!(!problem.message.contains("Pa55w0rd"), "{}", problem.message);
    }
}
