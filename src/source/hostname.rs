//! Hostnames as Control D stores them: trimmed, lowercase, no trailing dot, IDN as punycode; and
//! only what the API accepts (letters, digits, `-`, `_`, `.`, and `*` wildcards as real lists use
//! them: `*.x.com`, `api-*.x.com`, `adservice.google.*`, `*.zip`).

use crate::model::Hostname;
use crate::quote::quote;

const MAX_LABEL: usize = 63;
const MAX_TOTAL: usize = 253;

/// Why an entry is not a usable hostname.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HostnameError {
    #[error("empty hostname")]
    Empty,
    #[error("{} contains a space", quote(.0))]
    Space(String),
    #[error("{} contains {}, which Control D does not accept", quote(.host), quote(&found.to_string()))]
    BadCharacter { host: String, found: char },
    #[error("{} has an empty label", quote(.0))]
    EmptyLabel(String),
    #[error("{} has a label longer than 63 characters", quote(.0))]
    LabelTooLong(String),
    #[error("{} is longer than 253 characters", quote(.0))]
    TooLong(String),
    #[error("{} would match every hostname", quote(.0))]
    MatchesEverything(String),
    #[error("{} is not a valid internationalised name", quote(.0))]
    Idn(String),
}

/// Normalises and validates one entry.
pub(crate) fn normalize(raw: &str) -> Result<Hostname, HostnameError> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(HostnameError::Empty);
    }
    if trimmed.contains(char::is_whitespace) {
        return Err(HostnameError::Space(trimmed.to_string()));
    }
    let host = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        to_punycode(trimmed)?
    };
    validate(&host)?;
    Ok(host.into())
}

/// As [`normalize`], but an ASCII hostname keeps its case (validated as if lowercase): for entries
/// that are already what Control D stores, where case makes another rule.
pub(crate) fn normalize_keeping_case(raw: &str) -> Result<Hostname, HostnameError> {
    let lowered = normalize(raw)?;
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    Ok(match trimmed.is_ascii() {
        true => trimmed.into(),
        false => lowered,
    })
}

/// IDN to punycode; `*` labels are kept out of IDNA, which would refuse them.
fn to_punycode(host: &str) -> Result<String, HostnameError> {
    let labels: Result<Vec<String>, HostnameError> = host
        .split('.')
        .map(|label| {
            if label.is_ascii() {
                Ok(label.to_ascii_lowercase())
            } else {
                idna::domain_to_ascii(label).map_err(|_| HostnameError::Idn(host.to_string()))
            }
        })
        .collect();
    Ok(labels?.join("."))
}

fn validate(host: &str) -> Result<(), HostnameError> {
    if host.len() > MAX_TOTAL {
        return Err(HostnameError::TooLong(host.to_string()));
    }
    if let Some(found) = host.chars().find(|c| !is_allowed(*c)) {
        return Err(HostnameError::BadCharacter {
            host: host.to_string(),
            found,
        });
    }
    for label in host.split('.') {
        if label.is_empty() {
            return Err(HostnameError::EmptyLabel(host.to_string()));
        }
        if label.len() > MAX_LABEL {
            return Err(HostnameError::LabelTooLong(host.to_string()));
        }
    }
    if host.split('.').all(|label| label.chars().all(|c| c == '*')) {
        return Err(HostnameError::MatchesEverything(host.to_string()));
    }
    Ok(())
}

fn is_allowed(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.' | '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_whitespace_and_trailing_dot() {
        assert_eq!(
            normalize("  Ads.Example.COM. ").unwrap(),
            "ads.example.com".into()
        );
        assert_eq!(
            normalize_keeping_case("  Ads.Example.COM. ").unwrap(),
            "Ads.Example.COM".into()
        );
        assert!(normalize_keeping_case("A%20b.com").is_err());
    }

    #[test]
    fn converts_idn_to_punycode() {
        assert_eq!(
            normalize("bücher.example").unwrap(),
            "xn--bcher-kva.example".into()
        );
        assert_eq!(
            normalize("*.Bücher.example").unwrap(),
            "*.xn--bcher-kva.example".into()
        );
    }

    #[test]
    fn accepts_wildcards_real_lists_use() {
        for host in [
            "*.x.com",
            "api-*.x.com",
            "adservice.google.*",
            "*.zip",
            "_dmarc.x.com",
        ] {
            assert_eq!(&*normalize(host).unwrap(), host);
        }
    }

    #[test]
    fn refuses_what_the_api_refuses() {
        assert!(matches!(
            normalize("a%20b.com"),
            Err(HostnameError::BadCharacter { found: '%', .. })
        ));
        assert!(matches!(
            normalize("x.com/?q"),
            Err(HostnameError::BadCharacter { .. })
        ));
        assert!(matches!(normalize("a b.com"), Err(HostnameError::Space(_))));
        assert!(matches!(
            normalize("a..b"),
            Err(HostnameError::EmptyLabel(_))
        ));
        assert!(matches!(
            normalize(".a.b"),
            Err(HostnameError::EmptyLabel(_))
        ));
        assert!(matches!(normalize(""), Err(HostnameError::Empty)));
        assert!(matches!(
            normalize("*"),
            Err(HostnameError::MatchesEverything(_))
        ));
        assert!(matches!(
            normalize("*.*"),
            Err(HostnameError::MatchesEverything(_))
        ));
    }

    #[test]
    fn enforces_label_and_total_lengths() {
        let label63 = "a".repeat(63);
        assert!(normalize(&format!("{label63}.com")).is_ok());
        assert!(matches!(
            normalize(&format!("{}.com", "a".repeat(64))),
            Err(HostnameError::LabelTooLong(_))
        ));
        let long = [label63.as_str(); 4].join(".");
        assert_eq!(long.len(), 255);
        assert!(matches!(normalize(&long), Err(HostnameError::TooLong(_))));
    }
}
