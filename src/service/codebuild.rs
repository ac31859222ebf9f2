//! AWS CodeBuild: a build runs the commands of its buildspec with the project's service role.
//!
//! A new project with a passed role, started; or an existing project started with a buildspec
//! override (pathfinding.cloud's CodeBuild paths).

use super::technique::{on_created, on_running, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "codebuild.amazonaws.com";
pub const PROJECT: &str = "arn:${Partition}:codebuild:${Region}:${Account}:project/${ProjectName}";

pub const TECHNIQUES: &[Technique] = &[
    Technique {
        id: "codebuild-create-project",
        step: "CodeBuild project with",
        summary: "creates a CodeBuild project with the role and starts a build",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[
            PASS_ROLE,
            on_created("codebuild:CreateProject", PROJECT),
            on_created("codebuild:StartBuild", PROJECT),
        ],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
    Technique {
        id: "codebuild-start-build",
        step: "buildspec of a CodeBuild project with",
        summary: "starts a build of an existing CodeBuild project with a buildspec of its writing",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[on_running("codebuild:StartBuild", PROJECT)],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
    Technique {
        id: "codebuild-start-build-batch",
        step: "batch buildspec of a CodeBuild project with",
        summary:
            "starts a batch build of an existing CodeBuild project with a buildspec of its writing",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[on_running("codebuild:StartBuildBatch", PROJECT)],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
];
