//! Everything the user sees: the product on stdout, logs and progress on stderr.
//!
//! Progress bars are drawn (by the command layer, `commands/progress.rs`) only on a terminal and
//! never with `-q`/`--no-progress`; elsewhere (CI) plain log lines take their place.

use std::io::{self, IsTerminal, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verbosity {
    Quiet,
    Normal,
    Verbose,
    Debug,
}

#[derive(Clone, Debug)]
pub struct Printer {
    verbosity: Verbosity,
    progress: bool,
    /// On stderr.
    color: bool,
    /// On stdout, which may be a file while stderr is a terminal (`plan > plan.txt`).
    stdout_color: bool,
}

impl Printer {
    pub(crate) fn new(verbosity: Verbosity, no_progress: bool, color: bool) -> Self {
        // `-vv` writes a line per request: bars redrawn between them would only garble them.
        let progress = !no_progress
            && (Verbosity::Normal..=Verbosity::Verbose).contains(&verbosity)
            && io::stderr().is_terminal();
        Self {
            verbosity,
            progress,
            color,
            stdout_color: false,
        }
    }

    /// Colour on stdout too (the text plan's `+`/`-`/`~` lines).
    pub(crate) fn with_stdout_color(mut self, on: bool) -> Self {
        self.stdout_color = on;
        self
    }

    /// A printer that says nothing on stderr (for tests and library use).
    pub fn silent() -> Self {
        Self {
            verbosity: Verbosity::Quiet,
            progress: false,
            color: false,
            stdout_color: false,
        }
    }

    pub(crate) fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    pub(crate) fn stdout_color(&self) -> bool {
        self.stdout_color
    }

    /// Whether progress bars are drawn; when false, callers log plain lines instead.
    pub(crate) fn shows_progress(&self) -> bool {
        self.progress
    }

    /// The command's product. A closed pipe (`| head`) is not an error: the caller stops quietly.
    /// Every URL in it goes through the redactor.
    pub(crate) fn stdout(&self, text: &str) -> io::Result<()> {
        let text = crate::redact::text(text);
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// A normal log line on stderr.
    pub(crate) fn info(&self, message: impl AsRef<str>) {
        if self.verbosity >= Verbosity::Normal {
            self.line(message.as_ref());
        }
    }

    /// A warning on stderr; shown unless `-q`.
    pub(crate) fn warn(&self, message: impl AsRef<str>) {
        if self.verbosity >= Verbosity::Normal {
            let label = self.paint("warning:", "33");
            self.line(&format!("{label} {}", message.as_ref()));
        }
    }

    /// Shown with `-v`.
    pub(crate) fn verbose(&self, message: impl AsRef<str>) {
        if self.verbosity >= Verbosity::Verbose {
            self.line(message.as_ref());
        }
    }

    /// Shown with `-vv`.
    pub(crate) fn debug(&self, message: impl AsRef<str>) {
        if self.verbosity >= Verbosity::Debug {
            self.line(message.as_ref());
        }
    }

    /// An error on stderr; always shown.
    pub(crate) fn error(&self, message: impl AsRef<str>) {
        let label = self.paint("error:", "31");
        self.line(&format!("{label} {}", message.as_ref()));
    }

    /// Wraps `text` in an ANSI colour when colour is on.
    pub(crate) fn paint(&self, text: &str, ansi: &str) -> String {
        if self.color {
            format!("\x1b[{ansi}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Every stderr line; every URL in it goes through the redactor.
    fn line(&self, message: &str) {
        let message = crate::redact::text(message);
        // stderr may be closed too; nothing useful can be done about it.
        let _ = writeln!(io::stderr().lock(), "{message}");
    }
}
