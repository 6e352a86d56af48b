//! The range every number from the command line or the config must fall in, checked where it
//! comes in (clap's value parsers for flags, the config checker for keys), so that no later stage
//! meets a value it cannot use: `Duration::from_secs_f64` panics on a timeout of `1e20`, the pacing
//! interval of a rate near 0 overflows, and `Semaphore::new` refuses a parallelism in the trillions.
//! NaN is in no range.

/// A range of decimal numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decimal {
    /// The lowest value allowed.
    pub min: f64,
    pub max: f64,
    /// What to write instead, after "write ".
    pub expected: &'static str,
}

impl Decimal {
    pub(crate) fn contains(&self, value: f64) -> bool {
        // NaN fails both comparisons.
        value >= self.min && value <= self.max
    }
}

/// A range of whole numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Whole {
    pub min: u64,
    pub max: u64,
    /// What to write instead, after "write ".
    pub expected: &'static str,
}

impl Whole {
    /// The value when it is in the range.
    pub(crate) fn check(&self, value: i64) -> Option<u64> {
        u64::try_from(value)
            .ok()
            .filter(|value| (self.min..=self.max).contains(value))
    }
}

/// `[api] timeout` and `[sources] timeout`: a request that takes an hour has failed, and one given
/// less than a tenth of a second fails on any real network before it is answered.
pub(crate) const TIMEOUT_SECONDS: Decimal = Decimal {
    min: 0.1,
    max: 3_600.0,
    expected: "a number of seconds from 0.1 to 3600 (an hour)",
};

/// `--max-rps` and `[api] max_rps`: one request every 100 s at the slowest; Control D itself
/// answers 429 long before 10,000 per second.
pub(crate) const RATE_PER_SECOND: Decimal = Decimal {
    min: 0.01,
    max: 10_000.0,
    expected: "a number of requests per second from 0.01 to 10000",
};

/// `[safety] max_delete_percent`.
pub(crate) const PERCENT: Decimal = Decimal {
    min: 0.0,
    max: 100.0,
    expected: "a percentage from 0 to 100",
};

/// `--parallelism` and `[api] parallelism`: requests of one profile in flight; more than 64 only
/// meets Control D's rate limit sooner.
pub(crate) const PARALLELISM: Whole = Whole {
    min: 1,
    max: 64,
    expected: "a whole number from 1 to 64",
};

/// `[sources] concurrency`: sources fetched at once.
pub(crate) const CONCURRENCY: Whole = PARALLELISM;

/// `[sources] retries`: more would only delay a run that is failing anyway
/// ([`crate::source::fetch::MAX_RETRY_TIME`] bounds the time as well).
pub(crate) const RETRIES: Whole = Whole {
    min: 0,
    max: 10,
    expected: "a whole number from 0 (no retry) to 10",
};

/// `[sources] max_bytes`: a list of 1 GiB is far beyond the 10,000 rules a profile holds.
pub(crate) const MAX_BYTES: Whole = Whole {
    min: 1,
    max: 1 << 30,
    expected: "a whole number of bytes from 1 to 1073741824 (1 GiB)",
};

/// `[safety] min_rules`: a folder never holds more than the 10,000 rules a profile can.
pub(crate) const MIN_RULES: Whole = Whole {
    min: 0,
    max: crate::plan::MAX_RULES_PER_PROFILE as u64,
    expected: "a whole number of rules from 0 to 10000 (the most a profile holds)",
};

/// clap's value parser of `--max-rps`.
pub(crate) fn rate_per_second(text: &str) -> Result<f64, String> {
    let rate = text.trim().parse::<f64>().ok();
    rate.filter(|rate| RATE_PER_SECOND.contains(*rate))
        .ok_or_else(|| format!("write {}", RATE_PER_SECOND.expected))
}

/// clap's value parser of `--parallelism`.
pub(crate) fn parallelism(text: &str) -> Result<usize, String> {
    let count = text.trim().parse::<i64>().ok();
    count
        .and_then(|count| PARALLELISM.check(count))
        .and_then(|count| usize::try_from(count).ok())
        .ok_or_else(|| format!("write {}", PARALLELISM.expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_infinities_and_the_edges() {
        for value in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            0.099,
            3_600.5,
        ] {
            assert!(!TIMEOUT_SECONDS.contains(value), "{value}");
        }
        assert!(TIMEOUT_SECONDS.contains(0.1));
        assert!(TIMEOUT_SECONDS.contains(3_600.0));
        assert!(RATE_PER_SECOND.contains(0.01) && RATE_PER_SECOND.contains(10_000.0));
        assert!(!RATE_PER_SECOND.contains(0.009_99) && !RATE_PER_SECOND.contains(1e-300));
        assert!(PERCENT.contains(0.0) && PERCENT.contains(100.0) && !PERCENT.contains(f64::NAN));
    }

    #[test]
    fn whole_numbers_refuse_negatives_and_huge_values() {
        assert_eq!(PARALLELISM.check(64), Some(64));
        assert_eq!(PARALLELISM.check(65), None);
        assert_eq!(PARALLELISM.check(0), None);
        assert_eq!(PARALLELISM.check(-1), None);
        assert_eq!(PARALLELISM.check(i64::MAX), None);
        assert_eq!(MIN_RULES.check(0), Some(0));
        assert_eq!(MAX_BYTES.check(1 << 30), Some(1 << 30));
    }

    #[test]
    fn flag_parsers_name_the_range() {
        assert_eq!(rate_per_second(" 2.5 "), Ok(2.5));
        assert_eq!(parallelism("8"), Ok(8));
        for text in ["0", "1e-300", "NaN", "inf", "-1", "x", ""] {
            let err = rate_per_second(text).unwrap_err();
            assert!(err.contains("from 0.01 to 10000"), "{text}: {err}");
        }
        for text in [
            "0",
            "65",
            "4611686018427387904",
            "99999999999999999999",
            "1.5",
            "-3",
        ] {
            let err = parallelism(text).unwrap_err();
            assert!(err.contains("from 1 to 64"), "{text}: {err}");
        }
    }
}
