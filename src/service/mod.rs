//! What AWS services do with a role passed to them. MediaConvert is the first: one file per
//! service, each saying which principal assumes the role, with which context, and which
//! requests a job makes with it.
//!
//! [`reference`] is what every service defines: its actions, the resource types each action
//! takes and their ARN formats, and the condition keys (the bundled AWS service authorization
//! reference); [`regions`] lists the regions of each partition.

pub mod kms;
pub mod mediaconvert;
pub mod reference;
pub mod regions;
