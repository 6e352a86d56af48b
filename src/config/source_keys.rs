//! Checks of the keys that shape how sources are fetched: `[sources] retries` and `on_error`.

use toml::Spanned;

use super::check::Checker;
use super::OnError;

/// More would only delay a run that is failing anyway ([`crate::source::fetch::MAX_RETRY_TIME`]
/// bounds the time as well).
const MAX_RETRIES: u32 = 10;

impl Checker<'_> {
    pub(super) fn retries(&mut self, value: Spanned<i64>) -> Option<u32> {
        let number = *value.get_ref();
        match u32::try_from(number) {
            Ok(n) if n <= MAX_RETRIES => Some(n),
            _ => {
                self.report(
                    value.span(),
                    format!("`retries = {number}`: write a whole number from 0 (no retry) to {MAX_RETRIES}"),
                );
                None
            }
        }
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
}
