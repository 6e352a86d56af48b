//! A hook the command layer gives the client to hear of every HTTP attempt (`-vv` prints one line
//! each). The client never prints by itself.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One HTTP attempt as it ended: what was asked, what came back, how long it took, and how many
/// attempts of the same call came before it. Holds no token: the token travels in a header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RequestRecord<'a> {
    pub method: &'a str,
    /// The URL's path: `/profiles/{profile}/groups/{PK}` and the like, ids filled in.
    pub path: &'a str,
    pub reply: Reply<'a>,
    pub elapsed: Duration,
    /// 0 for a call's first attempt.
    pub retry: u32,
}

/// What an attempt got back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reply<'a> {
    /// An HTTP status (its body may still have been unreadable).
    Status(u16),
    /// None: the request was not sent, timed out or lost its connection (the reason says which).
    Nothing(&'a str),
}

/// `GET /profiles/p1/groups -> 200 in 12 ms, retry 0`
impl fmt::Display for RequestRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} -> ", self.method, self.path)?;
        match self.reply {
            Reply::Status(status) => write!(f, "{status}")?,
            Reply::Nothing(reason) => write!(f, "no answer ({reason})")?,
        }
        write!(
            f,
            " in {} ms, retry {}",
            self.elapsed.as_millis(),
            self.retry
        )
    }
}

/// Called once per HTTP attempt, from whichever task made it.
#[derive(Clone)]
pub struct RequestLog(Arc<dyn Fn(&RequestRecord<'_>) + Send + Sync>);

impl RequestLog {
    pub(crate) fn new(hear: impl Fn(&RequestRecord<'_>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(hear))
    }

    pub(super) fn hear(&self, record: &RequestRecord<'_>) {
        (self.0)(record);
    }
}

impl fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestLog")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_method_path_answer_time_and_retry() {
        let mut record = RequestRecord {
            method: "PUT",
            path: "/profiles/p1/groups/12",
            reply: Reply::Status(429),
            elapsed: Duration::from_micros(12_900),
            retry: 2,
        };
        assert_eq!(
            record.to_string(),
            "PUT /profiles/p1/groups/12 -> 429 in 12 ms, retry 2"
        );
        record.reply = Reply::Nothing("timed out");
        assert_eq!(
            record.to_string(),
            "PUT /profiles/p1/groups/12 -> no answer (timed out) in 12 ms, retry 2"
        );
    }
}
