//! iamproof: a formal permission verifier for AWS.
pub mod policy;
