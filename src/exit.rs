//! The process exit codes: public API, scripts branch on them.

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success (with `--detailed-exitcode`: success and nothing to change).
    Success,
    /// 1: an error; the message is on stderr.
    Error,
    /// 2: only with `--detailed-exitcode`: success and there are changes.
    Changes,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Error => 1,
            Self::Changes => 2,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}
