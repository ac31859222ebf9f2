//! What AWS services do with a role passed to them. MediaConvert is the first: one file per
//! service, each saying which principal assumes the role, with which context, and which
//! requests a job makes with it.

pub mod mediaconvert;
pub mod regions;
