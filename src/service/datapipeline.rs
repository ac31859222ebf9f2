//! AWS Data Pipeline: a pipeline runs the activities of its definition with its role
//! (Rhino Security Labs' path 14).

use super::technique::{on_any, on_created, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "datapipeline.amazonaws.com";
pub const PIPELINE: &str =
    "arn:${Partition}:datapipeline:${Region}:${Account}:pipeline/${PipelineId}";

pub const TECHNIQUES: &[Technique] = &[Technique {
    id: "datapipeline-create",
    step: "Data Pipeline with",
    summary: "creates a Data Pipeline with the role, defines a shell activity and activates it",
    targets: Targets::PassedRole { service: SERVICE },
    needs: &[
        PASS_ROLE,
        on_any("datapipeline:CreatePipeline"),
        on_created("datapipeline:PutPipelineDefinition", PIPELINE),
        on_created("datapipeline:ActivatePipeline", PIPELINE),
    ],
    gain: Gain::RunsAs,
    assumes: &["the pipeline's resources run with the role the definition names"],
    sets_source: false,
}];
