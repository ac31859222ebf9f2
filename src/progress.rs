//! Progress of long runs. The library reports stages and steps to a [`Progress`] its caller
//! gives and never draws anything itself, so it stays quiet in tests and in other programs;
//! the command line draws a bar on an interactive terminal.

/// Receives the progress of a long run.
pub trait Progress {
    /// A new stage of work: what it is, and how many steps it has when that is known.
    fn stage(&self, label: &str, steps: Option<u64>);
    /// One more step of the current stage is done.
    fn step(&self);
}

/// Progress that nobody watches.
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _label: &str, _steps: Option<u64>) {}
    fn step(&self) {}
}
