//! iamproof: a formal permission verifier for AWS.
pub mod eval;
pub mod input;
pub mod policy;
pub mod simulate;
