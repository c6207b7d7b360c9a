//! Progress bar on stderr (hidden with --quiet or when stderr is not a terminal).

use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// An indicatif bar counting cells, shown as Mpixel with throughput and ETA.
pub struct Bar {
    bar: ProgressBar,
    started: Instant,
    quiet: bool,
    /// Another front end's reporter, told everything the bar is told.
    forward: Option<Arc<dyn qingshan::Progress + Send + Sync>>,
}

impl Bar {
    pub fn new(quiet: bool, label: &str) -> Bar {
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if quiet {
                ProgressDrawTarget::hidden()
            } else {
                ProgressDrawTarget::stderr()
            },
        );
        let style =
            ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% {msg} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        Bar {
            bar,
            started: Instant::now(),
            quiet,
            forward: None,
        }
    }

    /// A hidden bar that reports to `forward` (a captured run's reporter).
    pub fn forwarding(
        label: &str,
        forward: Option<Arc<dyn qingshan::Progress + Send + Sync>>,
    ) -> Bar {
        Bar {
            forward,
            ..Bar::new(true, label)
        }
    }

    /// Seconds since the bar was made.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Prints a one-line summary to stderr (unless quiet).
    pub fn summary(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}

impl qingshan::Progress for Bar {
    fn start(&self, total_cells: u64) {
        if let Some(f) = &self.forward {
            f.start(total_cells);
        }
        self.bar.set_length(total_cells);
        self.bar.set_position(0);
    }

    fn advance(&self, cells: u64) {
        if let Some(f) = &self.forward {
            f.advance(cells);
        }
        self.bar.inc(cells);
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_message(format!(
            "{:.1}/{:.1} Mpx, {:.1} Mpx/s",
            self.bar.position() as f64 / 1e6,
            self.bar.length().unwrap_or(0) as f64 / 1e6,
            self.bar.position() as f64 / 1e6 / secs
        ));
    }

    fn finish(&self) {
        if let Some(f) = &self.forward {
            f.finish();
        }
        self.bar.finish_and_clear();
    }

    fn cancelled(&self) -> bool {
        self.forward.as_ref().is_some_and(|f| f.cancelled())
    }
}
