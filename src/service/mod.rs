//! What AWS services do with roles, one file per service: the techniques by which an actor
//! makes a service act with a role (or edits the account, for IAM), as rows of the table in
//! [`technique`]. MediaConvert's jobs do only what jobs do; the other services run the
//! actor's code.
//!
//! [`reference`] is what every service defines: its actions, the resource types each action
//! takes and their ARN formats, and the condition keys (the bundled AWS service authorization
//! reference); [`regions`] lists the regions of each partition.

pub mod apprunner;
pub mod bedrock;
pub mod cloudformation;
pub mod codebuild;
pub mod datapipeline;
pub mod ec2;
pub mod ecs;
pub mod glue;
pub mod iam;
pub mod kms;
pub mod lambda;
pub mod mediaconvert;
pub mod reference;
pub mod regions;
pub mod s3;
pub mod sagemaker;
pub mod ssm;
pub mod technique;
