//! The z3 driver: region variables as bounded integers, formulas as z3 terms, and deterministic
//! minimal models (absent first, then the smallest region, variable by variable), so that the
//! same question gives the same witness on every run and machine.

use super::encode::Problem;
use super::formula::{Formula, Slot, ABSENT};
use std::collections::{BTreeMap, BTreeSet};
use z3::ast::{Bool, Int};
use z3::{Params, SatResult};

/// What the solver said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A model: the region index (or [`ABSENT`]) of every slot.
    Sat(BTreeMap<Slot, i64>),
    Unsat,
    /// Timeout or another reason the solver gave up.
    Unknown(String),
}

/// A z3 solver over the variables of one problem. Making a z3 solver costs more than solving
/// most problems, so one solver per thread is reused: each problem works in a scope of its own
/// (`push` when made, `pop` when dropped).
pub struct Solver<'p> {
    problem: &'p Problem,
    z3: ScopedSolver,
    slots: BTreeMap<Slot, Int>,
}

thread_local! {
    /// The reusable solver and the timeout it is set to.
    static SPARE: std::cell::RefCell<Option<(z3::Solver, u32)>> = const { std::cell::RefCell::new(None) };
}

/// The thread's solver, inside a scope that is popped when this is dropped.
struct ScopedSolver {
    solver: Option<z3::Solver>,
    timeout_ms: u32,
}

impl ScopedSolver {
    fn take(timeout_ms: u32) -> ScopedSolver {
        let spare = SPARE.with(|spare| spare.borrow_mut().take());
        let solver = match spare {
            Some((solver, set)) if set == timeout_ms => solver,
            Some((solver, _)) => {
                set_timeout(&solver, timeout_ms);
                solver
            }
            None => {
                let solver = z3::Solver::new();
                set_timeout(&solver, timeout_ms);
                solver
            }
        };
        solver.push();
        ScopedSolver {
            solver: Some(solver),
            timeout_ms,
        }
    }

    fn get(&self) -> &z3::Solver {
        // Present from `take` until `drop`.
        self.solver
            .as_ref()
            .unwrap_or_else(|| unreachable!("the scoped solver is present until dropped"))
    }
}

impl Drop for ScopedSolver {
    fn drop(&mut self) {
        if let Some(solver) = self.solver.take() {
            solver.pop(1);
            let timeout = self.timeout_ms;
            SPARE.with(|spare| *spare.borrow_mut() = Some((solver, timeout)));
        }
    }
}

fn set_timeout(solver: &z3::Solver, timeout_ms: u32) {
    let mut params = Params::new();
    params.set_u32("timeout", timeout_ms);
    solver.set_params(&params);
}

impl<'p> Solver<'p> {
    /// Declares every slot of the problem with its domain, under a timeout per check.
    pub fn new(problem: &'p Problem, timeout_ms: u32) -> Solver<'p> {
        let z3 = ScopedSolver::take(timeout_ms);
        let mut slots = BTreeMap::new();
        for (var, variable) in problem.variables.iter().enumerate() {
            let lowest = if variable.may_be_absent { ABSENT } else { 0 };
            let highest = variable.domain.len() as i64 - 1;
            let mut previous: Option<Int> = None;
            for index in 0..variable.slots {
                let slot = Slot { var, index };
                let int = Int::new_const(format!("v{var}_{index}"));
                z3.get().assert(int.ge(Int::from_i64(lowest)));
                z3.get().assert(int.le(Int::from_i64(highest.max(lowest))));
                if let Some(previous) = &previous {
                    // Set members in increasing order, empties last: one representation per set.
                    let empty = int.eq(Int::from_i64(ABSENT));
                    let ordered =
                        Bool::and(&[previous.eq(Int::from_i64(ABSENT)).not(), previous.lt(&int)]);
                    z3.get().assert(Bool::or(&[empty, ordered]));
                }
                previous = Some(int.clone());
                slots.insert(slot, int);
            }
        }
        Solver { problem, z3, slots }
    }

    fn term(&self, formula: &Formula) -> Bool {
        match formula {
            Formula::Const(value) => Bool::from_bool(*value),
            Formula::In(slot, values) => {
                let Some(int) = self.slots.get(slot) else {
                    return Bool::from_bool(false);
                };
                let ranges = contiguous_ranges(values);
                let parts: Vec<Bool> = ranges
                    .into_iter()
                    .map(|(low, high)| {
                        if low == high {
                            int.eq(Int::from_i64(low))
                        } else {
                            Bool::and(&[int.ge(Int::from_i64(low)), int.le(Int::from_i64(high))])
                        }
                    })
                    .collect();
                Bool::or(&parts)
            }
            Formula::And(parts) => {
                Bool::and(&parts.iter().map(|p| self.term(p)).collect::<Vec<_>>())
            }
            Formula::Or(parts) => Bool::or(&parts.iter().map(|p| self.term(p)).collect::<Vec<_>>()),
            Formula::Not(inner) => self.term(inner).not(),
        }
    }

    pub fn assert(&mut self, formula: &Formula) {
        let term = self.term(formula);
        self.z3.get().assert(&term);
    }

    fn check(&self) -> SatResult {
        self.z3.get().check()
    }

    fn model_values(&self) -> Option<BTreeMap<Slot, i64>> {
        let model = self.z3.get().get_model()?;
        self.slots
            .iter()
            .map(|(slot, int)| Some((*slot, model.eval(int, true)?.as_i64()?)))
            .collect()
    }

    /// Is there a model? Without minimization.
    pub fn satisfiable(&mut self) -> Outcome {
        match self.check() {
            SatResult::Sat => self
                .model_values()
                .map(Outcome::Sat)
                .unwrap_or_else(|| Outcome::Unknown("the solver returned no model".into())),
            SatResult::Unsat => Outcome::Unsat,
            SatResult::Unknown => Outcome::Unknown(self.reason_unknown()),
        }
    }

    fn reason_unknown(&self) -> String {
        match self.z3.get().get_reason_unknown() {
            Some(reason) if reason.contains("timeout") || reason.contains("canceled") => {
                "solver timeout".into()
            }
            Some(reason) => format!("solver gave up: {reason}"),
            None => "solver gave up".into(),
        }
    }

    /// The lexicographically smallest model over the slots in order (absent first, then the
    /// smallest region): deterministic whatever path z3 takes.
    pub fn minimal_model(&mut self) -> Outcome {
        let mut current = match self.satisfiable() {
            Outcome::Sat(values) => values,
            other => return other,
        };
        let order: Vec<Slot> = self.slots.keys().copied().collect();
        for slot in order {
            let int = self.slots[&slot].clone();
            let variable = &self.problem.variables[slot.var];
            let mut low = if variable.may_be_absent { ABSENT } else { 0 };
            let mut high = current[&slot];
            while low < high {
                let middle = low + (high - low) / 2;
                self.z3.get().push();
                self.z3.get().assert(int.le(Int::from_i64(middle)));
                match self.check() {
                    SatResult::Sat => {
                        if let Some(values) = self.model_values() {
                            high = values[&slot];
                            current = values;
                        } else {
                            high = middle;
                        }
                    }
                    SatResult::Unsat => low = middle + 1,
                    SatResult::Unknown => {
                        self.z3.get().pop(1);
                        return Outcome::Unknown(self.reason_unknown());
                    }
                }
                self.z3.get().pop(1);
            }
            self.z3.get().assert(int.eq(Int::from_i64(high)));
            if current[&slot] != high {
                match self.satisfiable() {
                    Outcome::Sat(values) => current = values,
                    other => return other,
                }
            }
        }
        Outcome::Sat(current)
    }
}

fn contiguous_ranges(values: &BTreeSet<i64>) -> Vec<(i64, i64)> {
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    for &value in values {
        match ranges.last_mut() {
            Some((_, high)) if *high + 1 == value => *high = value,
            _ => ranges.push((value, value)),
        }
    }
    ranges
}

/// The z3 library's version, for `iamproof --version`.
pub fn z3_version() -> String {
    z3::full_version().to_string()
}
