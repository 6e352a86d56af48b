//! The stages' progress as indicatif bars, drawn together on stderr when the printer shows
//! progress (a terminal, not `-q`, `-vv` or `--no-progress`); nothing otherwise.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::printer::Printer;
use crate::shared::progress::{Counter, NoProgress, Progress};

pub(crate) struct Bars {
    /// `None` when the printer hides progress.
    multi: Option<MultiProgress>,
}

impl Bars {
    pub(crate) fn new(printer: &Printer) -> Self {
        Self {
            multi: printer
                .shows_progress()
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }
}

impl Progress for Bars {
    fn counter(&self, label: &str, total: u64) -> Box<dyn Counter> {
        let Some(multi) = &self.multi else {
            return Box::new(NoProgress);
        };
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>14} [{bar:30}] {pos}/{len} {msg} ({per_sec}, eta {eta})",
            )
            .expect("the progress template is valid")
            .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        Box::new(multi.add(bar))
    }

    fn drawn(&self) -> bool {
        self.multi.is_some()
    }

    fn suspend(&self, print: &mut dyn FnMut()) {
        match &self.multi {
            Some(multi) => multi.suspend(print),
            None => print(),
        }
    }
}

impl Counter for ProgressBar {
    fn advance(&self, units: u64) {
        self.inc(units);
    }

    fn describe(&self, message: String) {
        self.set_message(message);
    }

    fn finish(&self) {
        self.finish_and_clear();
    }
}
