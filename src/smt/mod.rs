//! The symbolic side: finite regions for request values, policies as formulas over them, and
//! the z3 driver that finds (or refutes) assignments and turns them back into requests.

pub mod encode;
pub mod formula;
pub mod regions;
pub mod solve;
