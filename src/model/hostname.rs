//! Hostnames as Control D stores them: trimmed, lowercase, no trailing dot, IDN as punycode; and
//! only what the API accepts (letters, digits, `-`, `_`, `.`, and `*` wildcards as real lists use
//! them: `*.x.com`, `api-*.x.com`, `adservice.google.*`, `*.zip`).

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::quote::quote;

/// A hostname a rule is keyed by. Made by [`Hostname::parse`] (or [`Hostname::parse_keeping_case`]
/// for entries already in Control D's stored form), or kept as Control D holds it
/// ([`Hostname::as_stored`]); no other way in. Ordered, compared and hashed as its text, so sorted
/// maps keep output stable and a `&str` looks one up.
/// Shared: a run holds each hostname in the state, the sources, the plan, the applier's ledger and
/// its saves, and a copy costs a reference count instead of an allocation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hostname(Arc<str>);

impl Hostname {
    /// Normalises and validates one entry: trimmed, no trailing dot, lowercase, IDN as punycode.
    pub fn parse(raw: &str) -> Result<Self, HostnameError> {
        normalize(raw).map(|host| Self(host.into()))
    }

    /// As [`Hostname::parse`], but an ASCII hostname keeps its case (validated as if lowercase):
    /// for entries that are already what Control D stores, where case makes another rule.
    pub fn parse_keeping_case(raw: &str) -> Result<Self, HostnameError> {
        let lowered = normalize(raw)?;
        let trimmed = raw.trim();
        let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
        Ok(Self(match trimmed.is_ascii() {
            true => trimmed.into(),
            false => lowered.into(),
        }))
    }

    /// A hostname as Control D holds it (an API answer, or a state or plan file recording one),
    /// kept verbatim: PUT and DELETE must name a rule in its stored case and text, and text from
    /// the server is whatever it is, so it is neither normalised nor refused. `None` when empty.
    pub(crate) fn as_stored(text: &str) -> Option<Self> {
        (!text.is_empty()).then(|| Self(text.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Hostname {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Hostname {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// Eq, Ord and Hash are derived from the `Arc<str>`'s, which are `str`'s: lookups by `&str` agree.
impl Borrow<str> for Hostname {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// Text from a config or a test: normalised as a source entry is.
impl FromStr for Hostname {
    type Err = HostnameError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

/// Unit tests write hostnames as literals; normalised all the same.
#[cfg(test)]
impl From<&str> for Hostname {
    fn from(raw: &str) -> Self {
        Self::parse(raw).expect("a valid test hostname")
    }
}

#[cfg(test)]
impl From<String> for Hostname {
    fn from(raw: String) -> Self {
        Self::from(raw.as_str())
    }
}

impl Serialize for Hostname {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// State and plan files record hostnames as Control D holds them (rules read back from a folder
/// included), so they are read back verbatim ([`Hostname::as_stored`]); an empty one is refused.
impl<'de> Deserialize<'de> for Hostname {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(super::TextVisitor::new("a hostname", |text| {
            Self::as_stored(text).ok_or("empty hostname")
        }))
    }
}

const MAX_LABEL: usize = 63;
const MAX_TOTAL: usize = 253;

/// Why an entry is not a usable hostname.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostnameError {
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
fn normalize(raw: &str) -> Result<String, HostnameError> {
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
    Ok(host)
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
        assert_eq!(normalize("  Ads.Example.COM. ").unwrap(), "ads.example.com");
        assert_eq!(
            Hostname::parse_keeping_case("  Ads.Example.COM. ")
                .unwrap()
                .as_str(),
            "Ads.Example.COM"
        );
        assert!(Hostname::parse_keeping_case("A%20b.com").is_err());
    }

    #[test]
    fn converts_idn_to_punycode() {
        assert_eq!(
            normalize("bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            normalize("*.Bücher.example").unwrap(),
            "*.xn--bcher-kva.example"
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

    #[test]
    fn the_constructors_normalise_so_equal_names_are_equal() {
        let plain = Hostname::parse("ads.example.com").unwrap();
        for spelling in [
            "ADS.Example.com",
            " ads.example.com. ",
            "\tAds.EXAMPLE.COM.\n",
        ] {
            assert_eq!(Hostname::parse(spelling).unwrap(), plain);
            assert_eq!(spelling.parse::<Hostname>().unwrap(), plain);
        }
        assert_eq!(
            Hostname::parse("Bücher.Example").unwrap().as_str(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            Hostname::parse_keeping_case("bücher.example.").unwrap(),
            Hostname::parse("BÜCHER.example").unwrap()
        );
        assert_eq!(
            Hostname::parse_keeping_case(" Ads.Example.com. ")
                .unwrap()
                .as_str(),
            "Ads.Example.com"
        );
    }

    #[test]
    fn the_constructors_refuse_what_is_not_a_hostname() {
        for raw in [
            "",
            "  ",
            ".",
            "a b.com",
            "a%20b.com",
            "x.com/?q",
            "a..b",
            "*",
            "*.*",
        ] {
            assert!(Hostname::parse(raw).is_err(), "{raw:?} was accepted");
            assert!(
                Hostname::parse_keeping_case(raw).is_err(),
                "{raw:?} was accepted"
            );
        }
    }

    #[test]
    fn a_stored_hostname_is_kept_as_the_server_holds_it() {
        // A DELETE must name the rule in its stored case and text.
        for text in ["MiXeD.Example.COM", "x.com.", "bücher.example"] {
            assert_eq!(Hostname::as_stored(text).unwrap().as_str(), text);
        }
        assert_eq!(Hostname::as_stored(""), None);
    }

    #[test]
    fn serde_writes_the_text_and_reads_it_back_unchanged() {
        let hosts = vec![
            Hostname::parse("ads.example.com").unwrap(),
            Hostname::as_stored("MiXeD.Example.COM").unwrap(),
        ];
        let json = serde_json::to_string(&hosts).unwrap();
        assert_eq!(json, r#"["ads.example.com","MiXeD.Example.COM"]"#);
        assert_eq!(serde_json::from_str::<Vec<Hostname>>(&json).unwrap(), hosts);
        assert!(serde_json::from_str::<Hostname>(r#""""#).is_err());
    }

    #[test]
    fn a_str_finds_a_hostname_in_a_map() {
        let map: std::collections::BTreeMap<Hostname, u8> = [
            (Hostname::parse("b.example").unwrap(), 2),
            (Hostname::parse("a.example").unwrap(), 1),
        ]
        .into_iter()
        .collect();
        assert_eq!(map.get("a.example"), Some(&1));
        assert_eq!(
            map.keys().map(Hostname::as_str).collect::<Vec<_>>(),
            ["a.example", "b.example"]
        );
    }
}
