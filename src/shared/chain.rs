//! The one way an error is written out: its message, then each cause in turn.

use std::error::Error;

/// `message: cause: cause's cause`. An error either writes its cause into its own message or
/// returns it from `source()`, never both, so each cause appears once.
pub(crate) fn chain(err: &dyn Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{path}")]
    struct Outer {
        path: &'static str,
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn each_cause_follows_its_error_once() {
        let err = Outer {
            path: "state/p1.json",
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(chain(&err), "state/p1.json: disk full");
    }
}
