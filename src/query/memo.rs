//! The engine's memo of solved steps and final requests, shared by the engines of a
//! `who-can`'s threads: each thread starts from what the engine had solved, and what the
//! threads solve stays with the engine for its next questions (a sweep asks hundreds of
//! questions of one engine, and the steps out of an actor are the same for all of them).

use super::chain::SolveResult;
use std::collections::HashMap;
use std::sync::Arc;

/// Solutions by memo key.
type Memo = HashMap<String, SolveResult>;

/// Solutions by memo key: those shared with threads, and those solved since.
#[derive(Default)]
pub(crate) struct Solutions {
    /// What the engine had solved when it last split a question among threads; read-only.
    shared: Arc<Memo>,
    /// What this engine solved since.
    own: Memo,
}

impl Solutions {
    /// A memo that starts from another engine's shared solutions.
    pub(crate) fn inheriting(shared: Arc<Memo>) -> Solutions {
        Solutions {
            shared,
            own: Memo::new(),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&SolveResult> {
        self.own.get(key).or_else(|| self.shared.get(key))
    }

    pub(crate) fn insert(&mut self, key: String, result: SolveResult) {
        self.own.insert(key, result);
    }

    /// Every solution so far, to hand to threads.
    pub(crate) fn share(&mut self) -> Arc<Memo> {
        if !self.own.is_empty() {
            // No thread holds the shared memo between questions: this moves, it does not copy.
            Arc::make_mut(&mut self.shared).extend(self.own.drain());
        }
        self.shared.clone()
    }

    /// What this engine solved itself, for the engine it inherited from.
    pub(crate) fn into_own(self) -> Memo {
        self.own
    }

    /// Keeps what a thread solved. A key this engine solved too keeps this engine's
    /// solution: its questions come first in the order of a sequential run.
    pub(crate) fn adopt(&mut self, theirs: Memo) {
        for (key, result) in theirs {
            if !self.shared.contains_key(&key) {
                self.own.entry(key).or_insert(result);
            }
        }
    }
}
