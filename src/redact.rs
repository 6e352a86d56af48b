//! The one URL redactor: every URL that leaves the process (errors, logs, plans, saved plans,
//! reports, state files) goes through [`url`] or [`text`], which replace userinfo and the values of
//! credential-like query parameters with `***`. Files are redacted field by field as they are
//! serialised ([`serde_location`], [`serde_text`]).

use std::borrow::Cow;

/// What a redacted secret is shown as.
pub(crate) const MASK: &str = "***";

/// Query parameter names that carry a credential, compared case-insensitively with `-` read as `_`.
const CREDENTIAL_NAMES: &[&str] = &[
    "access_token",
    "api_key",
    "apikey",
    "auth",
    "authorization",
    "bearer",
    "client_secret",
    "code",
    "credential",
    "credentials",
    "jwt",
    "key",
    "pass",
    "passwd",
    "password",
    "private_token",
    "pwd",
    "secret",
    "session",
    "sessionid",
    "sig",
    "signature",
    "token",
    "x_amz_credential",
    "x_amz_security_token",
    "x_amz_signature",
];

/// Whether a query parameter named `name` looks like it carries a credential: a known name, or
/// a name containing `token`, `secret`, `password`, `signature` or `apikey`/`api_key`, or ending
/// in `_key` or `_sig`.
pub(crate) fn is_credential_name(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase().replace('-', "_");
    CREDENTIAL_NAMES.contains(&name.as_str())
        || [
            "token",
            "secret",
            "password",
            "signature",
            "apikey",
            "api_key",
        ]
        .iter()
        .any(|part| name.contains(part))
        || name.ends_with("_key")
        || name.ends_with("_sig")
}

/// The secrets a URL carries, named without their values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Secrets {
    /// A user name or password before the host.
    pub userinfo: bool,
    /// Credential-like query parameter names, in URL order.
    pub parameters: Vec<String>,
}

impl Secrets {
    pub(crate) fn is_empty(&self) -> bool {
        !self.userinfo && self.parameters.is_empty()
    }
}

/// What in `url` is a secret.
pub(crate) fn secrets(url: &url::Url) -> Secrets {
    let parameters = url
        .query_pairs()
        .map(|(name, _)| name.into_owned())
        .filter(|name| is_credential_name(name))
        .collect();
    Secrets {
        userinfo: !url.username().is_empty() || url.password().is_some(),
        parameters,
    }
}

/// `url` with userinfo and credential-like query values replaced by `***`; unchanged (byte for
/// byte) when it carries none.
pub(crate) fn url(url: &url::Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() {
        let _ = shown.set_username(MASK);
    }
    if shown.password().is_some() {
        let _ = shown.set_password(Some(MASK));
    }
    if let Some(query) = shown.query() {
        if let Cow::Owned(masked) = mask_pairs(query) {
            shown.set_query(Some(&masked));
        }
    }
    if let Some(fragment) = shown.fragment() {
        if let Cow::Owned(masked) = mask_pairs(fragment) {
            shown.set_fragment(Some(&masked));
        }
    }
    shown.to_string()
}

/// A URL given as text (a state file's, a server's `Location`): redacted when it carries a
/// secret; any other text (a path, a URL without secrets) is returned exactly as it is.
pub(crate) fn url_text(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(parsed) if parsed.has_host() && has_secret(&parsed) => url(&parsed),
        _ => text.to_string(),
    }
}

/// Whether [`url`] would change anything (a fragment's credential-like pairs included).
fn has_secret(parsed: &url::Url) -> bool {
    let in_fragment = parsed
        .fragment()
        .is_some_and(|fragment| matches!(mask_pairs(fragment), Cow::Owned(_)));
    !secrets(parsed).is_empty() || in_fragment
}

/// Free text (an error chain, a log line) with every `http://` or `https://` URL in it redacted.
pub(crate) fn text(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = find_url_start(rest) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')'))
            .unwrap_or(tail.len());
        out.push_str(&url_text(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// URLs in our own messages come from `url::Url`, whose scheme is always lowercase.
fn find_url_start(text: &str) -> Option<usize> {
    [text.find("https://"), text.find("http://")]
        .into_iter()
        .flatten()
        .min()
}

/// `a=1&token=x` -> `a=1&token=***`, other pairs kept as written.
fn mask_pairs(pairs: &str) -> Cow<'_, str> {
    let mut changed = false;
    let masked: Vec<Cow<'_, str>> = pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if value != MASK && is_credential_name(&decoded(name)) => {
                changed = true;
                Cow::Owned(format!("{name}={MASK}"))
            }
            _ => Cow::Borrowed(pair),
        })
        .collect();
    if changed {
        Cow::Owned(masked.join("&"))
    } else {
        Cow::Borrowed(pairs)
    }
}

fn decoded(name: &str) -> String {
    form_urlencoded::parse(name.as_bytes())
        .next()
        .map_or_else(String::new, |(name, _)| name.into_owned())
}

/// Serde for a recorded location (state files, saved plans): redacted on the way out and on the
/// way in, so a secret recorded by an older version is never shown or written again.
pub(crate) mod serde_location {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        location: &str,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::url_text(location))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<String, D::Error> {
        let location = String::deserialize(deserializer)?;
        Ok(super::url_text(&location))
    }
}

/// Serde for free text that may quote a URL (why a source failed): every URL in it redacted on
/// the way out and on the way in, as [`serde_location`] does for a location.
pub(crate) mod serde_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::text(text))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<String, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(super::text(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> url::Url {
        text.parse().unwrap()
    }

    #[test]
    fn userinfo_and_credential_values_are_masked() {
        let shown = url(&parse(
            "https://user:PASSWORD@host.example/l.txt?v=2&token=SECRET&Access-Token=S2",
        ));
        assert_eq!(
            shown,
            "https://***:***@host.example/l.txt?v=2&token=***&Access-Token=***"
        );
    }

    #[test]
    fn a_url_without_secrets_is_unchanged_byte_for_byte() {
        for text in [
            "https://raw.githubusercontent.com/hagezi/dns-blocklists/main/controld/spam-tlds-folder.json",
            "https://lists.example/l.txt?format=hosts&q=a%20b+c",
            "http://127.0.0.1:8080/_lists/ads.json",
        ] {
            assert_eq!(url(&parse(text)), parse(text).as_str());
        }
    }

    #[test]
    fn credential_names_are_recognised() {
        for name in [
            "token",
            "TOKEN",
            "access_token",
            "api-key",
            "X-Amz-Signature",
            "sig",
            "auth",
            "password",
            "client_secret",
            "key",
            "github_token",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
        for name in ["format", "v", "list", "ref", "keyword", "monkey"] {
            assert!(!is_credential_name(name), "{name}");
        }
    }

    #[test]
    fn secrets_are_named_without_values() {
        let found = secrets(&parse("https://u@h.example/?a=1&sig=zz&token=yy"));
        assert!(found.userinfo);
        assert_eq!(found.parameters, ["sig", "token"]);
        assert!(secrets(&parse("https://h.example/?a=1")).is_empty());
    }

    #[test]
    fn urls_inside_free_text_are_masked() {
        let message = "error following redirect for url (https://u:PW@h.example/x?token=T1): refused `http://h.example/?key=K2`";
        let shown = text(message);
        assert!(
            !shown.contains("PW") && !shown.contains("T1") && !shown.contains("K2"),
            "{shown}"
        );
        assert!(shown.starts_with(
            "error following redirect for url (https://***:***@h.example/x?token=***)"
        ));
        assert_eq!(text("no url here"), "no url here");
        assert_eq!(
            text("add `url = \"https://...\"`"),
            "add `url = \"https://...\"`"
        );
        assert_eq!(
            text("see HTTPS://Example.com/A?b"),
            "see HTTPS://Example.com/A?b"
        );
    }

    #[test]
    fn paths_are_not_urls() {
        assert_eq!(url_text("lists/local.txt"), "lists/local.txt");
    }
}
