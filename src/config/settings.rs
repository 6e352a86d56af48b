//! `default`, `filters`, `services` and `options` under `[[profile]]`: their values checked here,
//! their names against Control D's own catalogues when a plan reads them (names are not static).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::{Spanned, Value};

use super::check::Checker;
use super::error::line_column;
use crate::model::{
    is_external, ActionKind, FilterWant, Named, OptionWant, ProfileSettings, RuleAction,
    ServiceWant, Spot,
};

type RawTable = Option<BTreeMap<String, Spanned<Value>>>;

/// The settings tables of one `[[profile]]`, as written.
pub(super) struct RawSettings {
    pub(super) default: Option<Spanned<Value>>,
    pub(super) filters: RawTable,
    pub(super) services: RawTable,
    pub(super) options: RawTable,
}

impl Checker<'_> {
    pub(super) fn profile_settings(&mut self, profile: &str, raw: RawSettings) -> ProfileSettings {
        let default = raw.default.and_then(|value| {
            let spot = self.spot(value.span());
            let want = self.action(profile, "default", &value, false)?;
            match want {
                ServiceWant::Action(action) => Some(Named {
                    name: "default".into(),
                    want: action,
                    spot,
                }),
                ServiceWant::Off => None,
            }
        });
        let filters = self.named(profile, "filters", raw.filters, Self::filter);
        let services = self.named(profile, "services", raw.services, |checker, p, name, v| {
            checker.action(p, &format!("service `{name}`"), v, true)
        });
        let options = self.named(profile, "options", raw.options, Self::option);
        ProfileSettings {
            file: self.path.to_path_buf(),
            default,
            filters,
            services,
            options,
        }
    }

    fn spot(&self, span: Range<usize>) -> Spot {
        let (line, column) = line_column(self.text, span.start);
        Spot { line, column }
    }

    fn named<T>(
        &mut self,
        profile: &str,
        table: &str,
        raw: RawTable,
        parse: impl Fn(&mut Self, &str, &str, &Spanned<Value>) -> Option<T>,
    ) -> Vec<Named<T>> {
        let mut named = Vec::new();
        for (name, value) in raw.unwrap_or_default() {
            if let Err(problem) = check_name(&name) {
                self.report(
                    value.span(),
                    format!("profile {profile}: {table} `{name}`: {problem}"),
                );
                continue;
            }
            let spot = self.spot(value.span());
            if let Some(want) = parse(self, profile, &name, &value) {
                named.push(Named { name, want, spot });
            }
        }
        named
    }

    fn filter(&mut self, profile: &str, name: &str, value: &Spanned<Value>) -> Option<FilterWant> {
        match value.get_ref() {
            Value::Boolean(true) => Some(FilterWant::On),
            Value::Boolean(false) => Some(FilterWant::Off),
            Value::String(_) if is_external(name) => {
                self.report(
                    value.span(),
                    format!(
                        "profile {profile}: filter `{name}` is a third-party list, on or off: \
                         write true or false"
                    ),
                );
                None
            }
            Value::String(level) => match check_name(level) {
                Ok(()) => Some(FilterWant::Level(level.clone())),
                Err(problem) => {
                    self.report(
                        value.span(),
                        format!("profile {profile}: filter `{name}`: level {problem}"),
                    );
                    None
                }
            },
            other => {
                self.report(
                    value.span(),
                    format!(
                        "profile {profile}: filter `{name}` is {}: write true (the family's own \
                         level), false, or a level's name such as \"{name}_medium\"",
                        type_name(other)
                    ),
                );
                None
            }
        }
    }

    fn option(&mut self, profile: &str, name: &str, value: &Spanned<Value>) -> Option<OptionWant> {
        let text = match value.get_ref() {
            Value::Boolean(true) => return Some(OptionWant::On),
            Value::Boolean(false) => return Some(OptionWant::Off),
            Value::String(text) => text.trim().to_owned(),
            Value::Integer(number) => number.to_string(),
            Value::Float(number) if number.is_finite() => number.to_string(),
            other => {
                self.report(
                    value.span(),
                    format!(
                        "profile {profile}: option `{name}` is {}: write true or false for a \
                         toggle, a value (\"0.7\", 10) for the others",
                        type_name(other)
                    ),
                );
                return None;
            }
        };
        if text.is_empty() || text.len() > 256 || text.chars().any(char::is_control) {
            self.report(
                value.span(),
                format!(
                    "profile {profile}: option `{name}`: write a value of 1 to 256 printable \
                     characters, or false to turn it off"
                ),
            );
            return None;
        }
        Some(OptionWant::Value(text))
    }

    /// A default rule or service action. `offable`: services take "off" (and false).
    fn action(
        &mut self,
        profile: &str,
        what: &str,
        value: &Spanned<Value>,
        offable: bool,
    ) -> Option<ServiceWant> {
        let parsed = parse_action(value.get_ref(), offable);
        parsed
            .map_err(|problem| {
                self.report(
                    value.span(),
                    format!("profile {profile}: {what}: {problem}"),
                )
            })
            .ok()
    }
}

fn parse_action(value: &Value, offable: bool) -> Result<ServiceWant, String> {
    let choices = if offable {
        "\"block\", \"bypass\", \"off\", { spoof = \"IP or CNAME\" } or { redirect = \"location\" }"
    } else {
        "\"block\", \"bypass\", { spoof = \"IP or CNAME\" } or { redirect = \"location\" }"
    };
    match value {
        Value::String(name) if offable && (name == "off" || name == "disabled") => {
            Ok(ServiceWant::Off)
        }
        Value::Boolean(false) if offable => Ok(ServiceWant::Off),
        Value::String(name) => match name.parse::<ActionKind>() {
            Ok(kind) if !kind.needs_via() => Ok(ServiceWant::Action(RuleAction::new(kind))),
            Ok(kind) => Err(format!(
                "\"{kind}\" needs a target: write {{ {kind} = \"...\" }}"
            )),
            Err(_) => Err(format!(
                "unknown action \"{}\": write {choices}",
                name.escape_debug()
            )),
        },
        Value::Table(table) => parse_targeted(table),
        other => Err(format!(
            "{} is not an action: write {choices}",
            type_name(other)
        )),
    }
}

/// `{ spoof = "...", via_v6 = "..." }` or `{ redirect = "..." }`.
fn parse_targeted(table: &toml::Table) -> Result<ServiceWant, String> {
    let text = |key: &str| -> Result<Option<String>, String> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::String(text)) if valid_target(text) => Ok(Some(text.trim().to_owned())),
            Some(_) => Err(format!(
                "`{key}` takes a target of 1 to 253 printable characters"
            )),
        }
    };
    if let Some(unknown) = table
        .keys()
        .find(|key| !matches!(key.as_str(), "spoof" | "redirect" | "via_v6"))
    {
        return Err(format!(
            "unknown key `{unknown}`: write {{ spoof = \"IP or CNAME\", via_v6 = \"IPv6\" }} or \
             {{ redirect = \"location\" }}"
        ));
    }
    let (kind, via) =
        match (text("spoof")?, text("redirect")?) {
            (Some(via), None) => (ActionKind::Spoof, via),
            (None, Some(via)) => (ActionKind::Redirect, via),
            _ => return Err(
                "write exactly one of { spoof = \"IP or CNAME\" } and { redirect = \"location\" }"
                    .into(),
            ),
        };
    let via_v6 = text("via_v6")?;
    if via_v6.is_some() && kind != ActionKind::Spoof {
        return Err("`via_v6` goes only with spoof".into());
    }
    let mut action = RuleAction::new(kind);
    action.via = Some(via);
    action.via_v6 = via_v6;
    Ok(ServiceWant::Action(action))
}

fn valid_target(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty() && text.len() <= 253 && !text.chars().any(|c| c.is_control() || c == ' ')
}

/// Catalogue names are short words: `ads_medium`, `x-1hosts-lite`, `ttl_blck`.
fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "\"{}\" is not a name Control D uses (letters, digits, `_`, `-` and `.`, at most 64)",
            name.escape_debug()
        ))
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{first_problem, parse};
    use crate::model::{ActionKind, FilterWant, OptionWant, RuleAction, ServiceWant};

    const PROFILE: &str = "[[profile]]\nid = \"p1\"\n";

    fn settings(extra: &str) -> crate::model::ProfileSettings {
        let config = parse(&format!("{PROFILE}{extra}")).unwrap();
        config.profiles[0].settings.clone()
    }

    #[test]
    fn the_issue_example_parses() {
        let parsed = settings(
            r#"default = "bypass"
filters = { ads = "ads_medium", malware = true, porn = false, "x-1hosts-lite" = true }
services = { tiktok = "block", netflix = { redirect = "DFW" }, zoom = "bypass", vpn = "off" }
options = { safesearch = true, ai_malware = "0.7", ttl_blck = 10, b_resp = 0, dns64 = false }
"#,
        );
        let default = parsed.default.unwrap();
        assert_eq!(default.want, RuleAction::allow());
        assert_eq!(default.spot.line, 3);
        let filters: Vec<_> = parsed
            .filters
            .iter()
            .map(|f| (f.name.as_str(), f.want.clone()))
            .collect();
        assert_eq!(
            filters,
            [
                ("ads", FilterWant::Level("ads_medium".into())),
                ("malware", FilterWant::On),
                ("porn", FilterWant::Off),
                ("x-1hosts-lite", FilterWant::On),
            ]
        );
        let mut redirect = RuleAction::new(ActionKind::Redirect);
        redirect.via = Some("DFW".into());
        let services: Vec<_> = parsed.services.iter().map(|s| s.want.clone()).collect();
        assert_eq!(
            services,
            [
                ServiceWant::Action(redirect),
                ServiceWant::Action(RuleAction::block()),
                ServiceWant::Off,
                ServiceWant::Action(RuleAction::allow()),
            ]
        );
        let options: Vec<_> = parsed
            .options
            .iter()
            .map(|o| (o.name.as_str(), o.want.clone()))
            .collect();
        assert_eq!(
            options,
            [
                ("ai_malware", OptionWant::Value("0.7".into())),
                ("b_resp", OptionWant::Value("0".into())),
                ("dns64", OptionWant::Off),
                ("safesearch", OptionWant::On),
                ("ttl_blck", OptionWant::Value("10".into())),
            ]
        );
    }

    #[test]
    fn no_settings_is_empty() {
        assert!(settings("").is_empty());
    }

    #[test]
    fn bad_values_name_the_profile_the_setting_and_the_choices() {
        for (extra, expected, line) in [
            ("default = \"off\"", "default: unknown action \"off\"", 3),
            (
                "default = \"spoof\"",
                "needs a target: write { spoof = \"...\" }",
                3,
            ),
            (
                "default = { spoof = \"1.2.3.4\", redirect = \"X\" }",
                "exactly one",
                3,
            ),
            (
                "default = { redirect = \"X\", via_v6 = \"::1\" }",
                "only with spoof",
                3,
            ),
            ("default = { spof = \"1.2.3.4\" }", "unknown key `spof`", 3),
            ("default = 3", "an integer is not an action", 3),
            (
                "[profile.services]\ntiktok = \"blok\"",
                "service `tiktok`: unknown action",
                4,
            ),
            (
                "[profile.filters]\n\"x-1hosts\" = \"lite\"",
                "third-party list",
                4,
            ),
            (
                "[profile.filters]\nads = 2",
                "filter `ads` is an integer",
                4,
            ),
            (
                "[profile.filters]\n\"a/b\" = true",
                "not a name Control D uses",
                4,
            ),
            (
                "[profile.filters]\nads = \"ads medium\"",
                "level \"ads medium\"",
                4,
            ),
            (
                "[profile.options]\nttl_blck = [1]",
                "option `ttl_blck` is an array",
                4,
            ),
            (
                "[profile.options]\nttl_blck = \"\"",
                "1 to 256 printable",
                4,
            ),
            (
                "[profile.options]\nttl_blck = nan",
                "option `ttl_blck` is a number",
                4,
            ),
        ] {
            let problem = first_problem(&format!("{PROFILE}{extra}\n"));
            assert!(
                problem.message.contains(expected) && problem.message.contains("profile p1"),
                "{extra}: {}",
                problem.message
            );
            assert_eq!(problem.line, line, "{extra}");
        }
    }

    #[test]
    fn a_spoof_takes_via_v6() {
        let parsed = settings("services = { x = { spoof = \"10.0.0.1\", via_v6 = \"::1\" } }\n");
        let ServiceWant::Action(action) = &parsed.services[0].want else {
            panic!("{parsed:?}")
        };
        assert_eq!(action.to_string(), "spoof via=10.0.0.1 via_v6=::1");
    }
}
