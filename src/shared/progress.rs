//! How far a long stage has got. The stages (sources, apply) only report; the command layer
//! decides what is drawn: bars on a terminal, nothing with `-q`, `--no-progress` or off a terminal.

/// Where a stage reports its progress.
pub(crate) trait Progress: Send + Sync {
    /// A counter of `total` units named `label` (a profile id, "sources").
    fn counter(&self, label: &str, total: u64) -> Box<dyn Counter>;

    /// Whether counters are drawn; when they are not, a stage logs a plain line where one helps.
    fn drawn(&self) -> bool;

    /// Runs `print` with every counter hidden, so that its line is not torn by a redraw.
    fn suspend(&self, print: &mut dyn FnMut());
}

/// One counter of a [`Progress`].
pub(crate) trait Counter: Send + Sync {
    /// `units` more done.
    fn advance(&self, units: u64);

    /// The text shown beside the count.
    fn describe(&self, message: String);

    /// Done: the counter goes away.
    fn finish(&self);
}

/// Nothing shown: library callers and tests.
pub(crate) struct NoProgress;

impl Progress for NoProgress {
    fn counter(&self, _label: &str, _total: u64) -> Box<dyn Counter> {
        Box::new(NoProgress)
    }

    fn drawn(&self) -> bool {
        false
    }

    fn suspend(&self, print: &mut dyn FnMut()) {
        print();
    }
}

impl Counter for NoProgress {
    fn advance(&self, _units: u64) {}

    fn describe(&self, _message: String) {}

    fn finish(&self) {}
}
