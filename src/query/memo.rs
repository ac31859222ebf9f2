//! The engine's memo of solved steps and final requests, shared by the engines of a
//! `who-can`'s threads: each thread starts from what the engine had solved, and what the
//! threads solve stays with the engine for its next questions (a sweep asks hundreds of
//! questions of one engine, and the steps out of an actor are the same for all of them).

use super::chain::SolveResult;
use std::collections::HashMap;
use std::sync::Arc;

/// Solutions by memo key.
type Memo = HashMap<String, SolveResult>;

/// Solutions by memo key: those shared with threads, those solved since, and the final
/// requests of the question asked now.
#[derive(Default)]
pub(crate) struct Solutions {
    /// The steps the engine had solved when it last split a question among threads;
    /// read-only.
    shared: Arc<Memo>,
    /// The steps this engine solved since.
    own: Memo,
    /// Final requests, on the question's resource: no other question asks them, and a sweep
    /// of hundreds of buckets would keep them all.
    finals: Memo,
}

impl Solutions {
    /// A memo that starts from another engine's shared solutions.
    pub(crate) fn inheriting(shared: Arc<Memo>) -> Solutions {
        Solutions {
            shared,
            ..Solutions::default()
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&SolveResult> {
        (self.own.get(key))
            .or_else(|| self.shared.get(key))
            .or_else(|| self.finals.get(key))
    }

    /// Keeps a solution: of a final request when `is_final`, else of a step.
    pub(crate) fn insert(&mut self, key: String, result: SolveResult, is_final: bool) {
        match is_final {
            true => self.finals.insert(key, result),
            false => self.own.insert(key, result),
        };
    }

    /// Forgets the final requests, once their question is answered.
    pub(crate) fn forget_finals(&mut self) {
        self.finals = Memo::new();
    }

    /// Every solution so far, to hand to threads.
    pub(crate) fn share(&mut self) -> Arc<Memo> {
        if !self.own.is_empty() {
            // No thread holds the shared memo between questions: this moves, it does not copy.
            Arc::make_mut(&mut self.shared).extend(self.own.drain());
        }
        self.shared.clone()
    }

    /// The steps this engine solved itself, for the engine it inherited from.
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
