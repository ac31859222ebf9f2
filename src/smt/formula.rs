//! A small boolean term language over region variables, built only through smart
//! constructors that fold constants, so that questions the policies settle syntactically never
//! reach the solver.

use std::collections::BTreeSet;

/// Index of a variable in a [`super::encode::Problem`].
pub type VarId = usize;

/// One value slot: a scalar variable has slot 0; a set-valued variable has several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    pub var: VarId,
    pub index: usize,
}

/// The value `-1` of a slot means "absent" (scalar) or "empty" (set member); `0..n` are
/// region indices.
pub const ABSENT: i64 = -1;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Formula {
    Const(bool),
    /// The slot's value is one of these.
    In(Slot, BTreeSet<i64>),
    And(Vec<Formula>),
    Or(Vec<Formula>),
    Not(Box<Formula>),
}

impl Formula {
    pub const TRUE: Formula = Formula::Const(true);
    pub const FALSE: Formula = Formula::Const(false);

    /// `slot ∈ values`, folded when `values` is empty or covers the whole `domain`.
    pub fn within(slot: Slot, values: BTreeSet<i64>, domain_size: usize) -> Formula {
        if values.is_empty() {
            Formula::FALSE
        } else if values.len() == domain_size + 1 {
            Formula::TRUE
        } else {
            Formula::In(slot, values)
        }
    }

    pub fn and(parts: impl IntoIterator<Item = Formula>) -> Formula {
        let mut kept = Vec::new();
        for part in parts {
            match part {
                Formula::Const(true) => {}
                Formula::Const(false) => return Formula::FALSE,
                Formula::And(inner) => kept.extend(inner),
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => Formula::TRUE,
            1 => kept.pop().unwrap_or(Formula::TRUE),
            _ => Formula::And(kept),
        }
    }

    pub fn or(parts: impl IntoIterator<Item = Formula>) -> Formula {
        let mut kept = Vec::new();
        for part in parts {
            match part {
                Formula::Const(false) => {}
                Formula::Const(true) => return Formula::TRUE,
                Formula::Or(inner) => kept.extend(inner),
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => Formula::FALSE,
            1 => kept.pop().unwrap_or(Formula::FALSE),
            _ => Formula::Or(kept),
        }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(inner: Formula) -> Formula {
        match inner {
            Formula::Const(value) => Formula::Const(!value),
            Formula::Not(inner) => *inner,
            other => Formula::Not(Box::new(other)),
        }
    }

    pub fn is_false(&self) -> bool {
        *self == Formula::FALSE
    }

    /// The value under a full assignment of slots.
    pub fn eval(&self, value_of: &dyn Fn(Slot) -> i64) -> bool {
        match self {
            Formula::Const(value) => *value,
            Formula::In(slot, values) => values.contains(&value_of(*slot)),
            Formula::And(parts) => parts.iter().all(|p| p.eval(value_of)),
            Formula::Or(parts) => parts.iter().any(|p| p.eval(value_of)),
            Formula::Not(inner) => !inner.eval(value_of),
        }
    }

    /// Every slot the formula mentions.
    pub fn slots(&self, out: &mut BTreeSet<Slot>) {
        match self {
            Formula::Const(_) => {}
            Formula::In(slot, _) => {
                out.insert(*slot);
            }
            Formula::And(parts) | Formula::Or(parts) => parts.iter().for_each(|p| p.slots(out)),
            Formula::Not(inner) => inner.slots(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_fold_constants() {
        let atom = Formula::In(Slot { var: 0, index: 0 }, BTreeSet::from([1]));
        assert_eq!(Formula::and([Formula::TRUE, atom.clone()]), atom);
        assert_eq!(Formula::and([Formula::FALSE, atom.clone()]), Formula::FALSE);
        assert_eq!(Formula::or([Formula::TRUE, atom.clone()]), Formula::TRUE);
        assert_eq!(Formula::not(Formula::not(atom.clone())), atom);
        assert_eq!(
            Formula::within(Slot { var: 0, index: 0 }, BTreeSet::from([-1, 0, 1]), 2),
            Formula::TRUE
        );
        assert!(atom.eval(&|_| 1));
        assert!(!atom.eval(&|_| 0));
    }
}
