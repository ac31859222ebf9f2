//! What the command line says on standard error besides errors (part of the `iamproof`
//! binary, not of the library): a progress bar or spinner while snapshots load, the graph is
//! built and questions are answered, drawn only on an interactive terminal; with `--verbose`,
//! what was loaded, every loader warning and how long each stage took; with `--quiet`, nothing.
//! Results always go to standard output, so a pipe or a CI log gets them alone.

use iamproof::input::InputError;
use iamproof::model::Model;
use iamproof::query::{Engine, Options};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How much to say.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// The command line's voice on standard error.
pub struct Ui {
    verbosity: Verbosity,
    bar: ProgressBar,
    started: Instant,
}

impl Ui {
    pub fn new(quiet: bool, verbose: bool) -> Ui {
        let verbosity = match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (false, true) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        };
        let drawn = verbosity != Verbosity::Quiet && std::io::stderr().is_terminal();
        let bar = if drawn {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        Ui {
            verbosity,
            bar,
            started: Instant::now(),
        }
    }

    /// A line for `--verbose`, printed above the bar.
    fn detail(&self, line: &str) {
        if self.verbosity == Verbosity::Verbose {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }

    /// A line for everyone but `--quiet`.
    fn note(&self, line: &str) {
        if self.verbosity != Verbosity::Quiet {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }

    fn spin(&self, message: &str) {
        self.bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .expect("the spinner template is valid"),
        );
        self.bar.set_message(message.to_string());
        self.bar.enable_steady_tick(Duration::from_millis(100));
    }

    /// Loads snapshots, plans and templates, reporting a load error (exit 2).
    pub fn load_sources(&self, sources: &iamproof::sources::Sources) -> Result<Model, ExitCode> {
        self.loading(|| sources.load())
            .map_err(|e| crate::report(&e))
    }

    /// Loads snapshots for a command that prints the loader's warnings itself (`inspect`).
    pub fn load_for_inspection(&self, accounts: &[PathBuf]) -> Result<Model, ExitCode> {
        self.load_noting(|| iamproof::snapshot::load(accounts), false)
            .map_err(|e| crate::report(&e))
    }

    /// Runs a load with a spinner and says what it gave.
    pub fn loading(
        &self,
        load: impl FnOnce() -> Result<Model, InputError>,
    ) -> Result<Model, InputError> {
        self.load_noting(load, true)
    }

    /// A load, noting by default (when `note_warnings`) that the loader warned.
    fn load_noting(
        &self,
        load: impl FnOnce() -> Result<Model, InputError>,
        note_warnings: bool,
    ) -> Result<Model, InputError> {
        self.spin("loading snapshots");
        let started = Instant::now();
        let model = load()?;
        self.detail(&format!(
            "loaded {} account(s): {} in {:.2?}",
            model.accounts.len(),
            model.counts(),
            started.elapsed()
        ));
        for warning in &model.warnings {
            self.detail(&format!("warning: {warning}"));
        }
        if note_warnings && !model.warnings.is_empty() && self.verbosity == Verbosity::Normal {
            self.note(&format!(
                "note: {} loader warning(s); --verbose lists them, `iamproof inspect` explains them",
                model.warnings.len()
            ));
        }
        Ok(model)
    }

    /// Builds the delegation graph with a spinner; the engine reports its progress here.
    pub fn engine<'m>(&'m self, model: &'m Model, options: Options) -> Engine<'m> {
        self.spin("building the delegation graph");
        let started = Instant::now();
        let engine = Engine::new(model, options).with_progress(self);
        self.detail(&format!(
            "delegation graph: {} principals, {} edges in {:.2?}",
            model.users.len() + model.roles.len(),
            engine.graph.edge_count(),
            started.elapsed()
        ));
        engine
    }

    /// Clears the bar; with `--verbose`, says how long the whole run took.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        self.detail(&format!("done in {:.2?}", self.started.elapsed()));
    }
}

impl iamproof::progress::Progress for Ui {
    fn stage(&self, label: &str, steps: Option<u64>) {
        self.detail(&format!("{label}…"));
        match steps {
            Some(steps) => {
                self.bar.disable_steady_tick();
                self.bar.set_style(
                    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
                        .expect("the bar template is valid")
                        .progress_chars("=> "),
                );
                self.bar.set_length(steps);
                self.bar.set_position(0);
            }
            None => self.spin(label),
        }
        self.bar.set_message(label.to_string());
    }

    fn step(&self) {
        self.bar.inc(1);
    }
}
