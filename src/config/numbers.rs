//! Checks of the numeric keys against [`crate::bounds`]: one problem per key out of its range,
//! naming the key as written, its table and the range.

use toml::Spanned;

use super::check::Checker;
use crate::bounds::{Decimal, Whole};

impl Checker<'_> {
    /// `value` when `bound` holds it; else a problem at its position.
    pub(super) fn decimal(
        &mut self,
        value: Spanned<f64>,
        key: &str,
        table: &str,
        bound: &Decimal,
    ) -> Option<f64> {
        let number = *value.get_ref();
        if bound.contains(number) {
            return Some(number);
        }
        self.out_of_range(value.span(), key, table, bound.expected);
        None
    }

    /// `value` when `bound` holds it; else a problem at its position.
    pub(super) fn whole(
        &mut self,
        value: Spanned<i64>,
        key: &str,
        table: &str,
        bound: &Whole,
    ) -> Option<u64> {
        let number = bound.check(*value.get_ref());
        if number.is_none() {
            self.out_of_range(value.span(), key, table, bound.expected);
        }
        number
    }

    /// "`timeout = 1e20` under [api]: write a number of seconds from 0.1 to 3600 (an hour)".
    /// The number is shown as written (`1e20`, `nan`), not as Rust prints it (309 digits for 1e308).
    fn out_of_range(
        &mut self,
        span: std::ops::Range<usize>,
        key: &str,
        table: &str,
        expected: &str,
    ) {
        let written = self.text.get(span.clone()).unwrap_or_default().trim();
        let written = crate::quote::sanitize(written);
        self.report(
            span,
            format!("`{key} = {written}` under [{table}]: write {expected}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{first_problem, parse, GOOD};

    fn with(table: &str, line: &str) -> String {
        format!(
            "[{table}]\n{line}\n{}",
            GOOD.replace("[sources]\nconcurrency = 2\n", "")
        )
    }

    #[test]
    fn each_number_out_of_range_is_named_with_its_table_and_range() {
        let cases = [
            ("api", "timeout = 1e20", "`timeout = 1e20` under [api]: write a number of seconds from 0.1 to 3600"),
            ("api", "max_rps = 1e-300", "`max_rps = 1e-300` under [api]: write a number of requests per second from 0.01 to 10000"),
            ("api", "parallelism = 4611686018427387904", "`parallelism = 4611686018427387904` under [api]: write a whole number from 1 to 64"),
            ("sources", "timeout = nan", "`timeout = nan` under [sources]"),
            ("sources", "concurrency = 0", "`concurrency = 0` under [sources]: write a whole number from 1 to 64"),
            ("sources", "max_bytes = -1", "`max_bytes = -1` under [sources]: write a whole number of bytes"),
            ("safety", "max_delete_percent = inf", "`max_delete_percent = inf` under [safety]: write a percentage from 0 to 100"),
            ("safety", "min_rules = 10001", "`min_rules = 10001` under [safety]: write a whole number of rules from 0 to 10000"),
        ];
        for (table, line, message) in cases {
            let problem = first_problem(&with(table, line));
            assert_eq!(
                (problem.line, problem.column),
                (2, line.find('=').unwrap() + 3)
            );
            assert!(problem.message.starts_with(message), "{}", problem.message);
        }
    }

    #[test]
    fn the_edges_of_each_range_are_accepted() {
        let api = "timeout = 3600\nmax_rps = 0.01\nparallelism = 64";
        let config = parse(&with("api", api)).unwrap();
        assert_eq!(config.api.parallelism, Some(64));
        assert_eq!(config.api.max_rps, Some(0.01));
        let sources = "timeout = 0.1\nconcurrency = 1\nmax_bytes = 1073741824";
        let config = parse(&with("sources", sources)).unwrap();
        assert_eq!(config.sources.max_bytes, 1 << 30);
        let safety = "max_delete_percent = 100\nmin_rules = 0";
        assert_eq!(parse(&with("safety", safety)).unwrap().safety.min_rules, 0);
    }
}
