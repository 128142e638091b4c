//! A progress bar on stderr for long reads (only ever created on a terminal).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::access::Progress;

pub(super) struct Bar(ProgressBar);

impl Bar {
    pub(super) fn new(what: &str) -> Bar {
        let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} requests ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_message(what.to_string());
        Bar(pb)
    }
}

impl Progress for Bar {
    fn add_work(&self, n: u64) {
        self.0.inc_length(n);
    }
    fn done(&self, n: u64) {
        self.0.inc(n);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
