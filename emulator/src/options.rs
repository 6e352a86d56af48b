//! The 13 profile options (`GET /profiles/options`) and how a value sent for one is checked.

use std::net::Ipv6Addr;

use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::behaviour::OptionValues;

/// What an option takes.
#[derive(Debug)]
pub(crate) enum Allowed {
    /// On or off: only `status` is sent.
    Toggle,
    /// One of these values (value, label).
    Choices(&'static [(&'static str, &'static str)]),
    /// A whole number of seconds in a range.
    Seconds { min: u64, max: u64, default: u64 },
    /// An IPv6 prefix such as `64:ff9b::/96`.
    Ipv6Prefix,
}

#[derive(Debug)]
pub(crate) struct OptionSpec {
    pub pk: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub allowed: Allowed,
}

/// The TTLs' range; the live one is not recorded.
const TTL_MIN: u64 = 1;
const TTL_MAX: u64 = 3_600;

const fn toggle(pk: &'static str, title: &'static str, description: &'static str) -> OptionSpec {
    OptionSpec {
        pk,
        title,
        description,
        allowed: Allowed::Toggle,
    }
}

const fn ttl(pk: &'static str, title: &'static str, description: &'static str) -> OptionSpec {
    OptionSpec {
        pk,
        title,
        description,
        allowed: Allowed::Seconds {
            min: TTL_MIN,
            max: TTL_MAX,
            default: 10,
        },
    }
}

pub(crate) static OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        pk: "ai_malware",
        title: "AI Malware Filter",
        description: "Blocks malicious domains a model flags, at a confidence threshold.",
        allowed: Allowed::Choices(&[("0.9", "Relaxed"), ("0.7", "Balanced"), ("0.5", "Strict")]),
    },
    toggle(
        "safesearch",
        "Safe Search",
        "Forces safe search on search engines.",
    ),
    toggle(
        "safeyoutube",
        "Restricted YouTube",
        "Forces YouTube's restricted mode.",
    ),
    toggle(
        "block_rfc1918",
        "DNS Rebind Protection",
        "Blocks answers that point to private addresses.",
    ),
    toggle("no_dnssec", "Disable DNSSEC", "Stops DNSSEC validation."),
    ttl(
        "ttl_blck",
        "Block TTL",
        "TTL of blocked answers, in seconds.",
    ),
    ttl(
        "ttl_spff",
        "Redirect TTL",
        "TTL of spoofed answers, in seconds.",
    ),
    ttl(
        "ttl_pass",
        "Bypass TTL",
        "TTL of bypassed answers, in seconds.",
    ),
    OptionSpec {
        pk: "b_resp",
        title: "Block Response",
        description: "What a blocked query answers.",
        allowed: Allowed::Choices(&[("0", "0.0.0.0 / ::"), ("3", "NXDOMAIN"), ("5", "REFUSED")]),
    },
    OptionSpec {
        pk: "ecs_subnet",
        title: "EDNS Client Subnet",
        description: "What is sent upstream as the client subnet.",
        allowed: Allowed::Choices(&[("0", "No ECS"), ("1", "Auto"), ("2", "Custom")]),
    },
    toggle(
        "spoof_ipv6",
        "Spoof IPv6",
        "Answers AAAA queries of spoofed names too.",
    ),
    OptionSpec {
        pk: "dns64",
        title: "DNS64",
        description: "Synthesises AAAA answers under a NAT64 prefix.",
        allowed: Allowed::Ipv6Prefix,
    },
    toggle(
        "cflat",
        "CNAME Flattening",
        "Answers CNAME chains with their final addresses.",
    ),
];

pub(crate) fn option_named(pk: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|option| option.pk == pk)
}

impl OptionSpec {
    pub(crate) fn is_toggle(&self) -> bool {
        matches!(self.allowed, Allowed::Toggle)
    }

    /// `toggle`, `field` or `dropdown`, as the listing says.
    pub(crate) fn kind(&self) -> &'static str {
        match self.allowed {
            Allowed::Toggle => "toggle",
            Allowed::Choices(_) => "dropdown",
            Allowed::Seconds { .. } | Allowed::Ipv6Prefix => "field",
        }
    }

    /// Observed shapes: a number, a map of allowed values to labels, or an array.
    pub(crate) fn default_value(&self) -> Value {
        match self.allowed {
            Allowed::Toggle => json!(0),
            Allowed::Choices(choices) => choices
                .iter()
                .map(|(value, label)| (value.to_string(), json!(label)))
                .collect::<serde_json::Map<String, Value>>()
                .into(),
            Allowed::Seconds { default, .. } => json!(default),
            Allowed::Ipv6Prefix => json!(["64:ff9b::/96"]),
        }
    }

    /// A toggle's value is the number 1; the others' the text stored.
    pub(crate) fn shown(&self, stored: &str) -> Value {
        match self.allowed {
            Allowed::Toggle => json!(1),
            _ => json!(stored),
        }
    }

    /// The value to store for `sent`, or the error a value out of range gets (per the knob).
    pub(crate) fn checked(&self, sent: &str, mode: OptionValues) -> Result<String, ApiError> {
        if mode == OptionValues::Stored {
            return Ok(sent.to_string());
        }
        let invalid =
            || ApiError::bad_request(format!("Invalid value for option {}: {sent}", self.pk));
        match self.allowed {
            Allowed::Toggle => Ok("1".to_string()),
            Allowed::Choices(choices) => choices
                .iter()
                .find(|(value, _)| *value == sent)
                .map(|(value, _)| value.to_string())
                .ok_or_else(invalid),
            Allowed::Seconds { min, max, .. } => {
                let seconds: u64 = sent.trim().parse().map_err(|_| invalid())?;
                match (min..=max).contains(&seconds) {
                    true => Ok(seconds.to_string()),
                    false if mode == OptionValues::Clamped => {
                        Ok(seconds.clamp(min, max).to_string())
                    }
                    false => Err(invalid()),
                }
            }
            Allowed::Ipv6Prefix => match is_nat64_prefix(sent) {
                true => Ok(sent.to_string()),
                false => Err(invalid()),
            },
        }
    }
}

/// `address/length` with a NAT64 prefix length (RFC 6052: 32, 40, 48, 56, 64 or 96).
fn is_nat64_prefix(text: &str) -> bool {
    let Some((address, length)) = text.split_once('/') else {
        return false;
    };
    let length_ok = matches!(length.parse::<u8>(), Ok(32 | 40 | 48 | 56 | 64 | 96));
    length_ok && address.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirteen_options_of_three_types() {
        assert_eq!(OPTIONS.len(), 13);
        let kinds: std::collections::BTreeSet<&str> = OPTIONS.iter().map(|o| o.kind()).collect();
        assert_eq!(kinds.len(), 3);
    }

    #[test]
    fn values_are_checked_per_the_knob() {
        let ttl = option_named("ttl_blck").unwrap();
        assert_eq!(ttl.checked("10", OptionValues::Rejected).unwrap(), "10");
        assert_eq!(
            ttl.checked("0", OptionValues::Rejected).unwrap_err().code,
            40003
        );
        assert_eq!(ttl.checked("99999", OptionValues::Clamped).unwrap(), "3600");
        assert_eq!(
            ttl.checked("abc", OptionValues::Clamped).unwrap_err().code,
            40003
        );
        assert_eq!(ttl.checked("99999", OptionValues::Stored).unwrap(), "99999");
        let ai = option_named("ai_malware").unwrap();
        assert_eq!(ai.checked("0.7", OptionValues::Rejected).unwrap(), "0.7");
        assert!(ai.checked("0.8", OptionValues::Clamped).is_err());
        let dns64 = option_named("dns64").unwrap();
        assert!(dns64
            .checked("64:ff9b::/96", OptionValues::Rejected)
            .is_ok());
        assert!(dns64
            .checked("64:ff9b::/97", OptionValues::Rejected)
            .is_err());
    }
}
