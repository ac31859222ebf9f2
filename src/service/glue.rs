//! AWS Glue: development endpoints and jobs run code with their role.
//!
//! A new development endpoint or job with a passed role (Rhino Security Labs' path 19,
//! pathfinding.cloud's Glue paths), or an existing endpoint whose SSH key the actor replaces
//! (path 20), or an existing job whose script it replaces.

use super::technique::{on_any, on_created, on_running, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "glue.amazonaws.com";
pub const DEV_ENDPOINT: &str =
    "arn:${Partition}:glue:${Region}:${Account}:devEndpoint/${DevEndpointName}";
pub const JOB: &str = "arn:${Partition}:glue:${Region}:${Account}:job/${JobName}";

pub const TECHNIQUES: &[Technique] = &[
    Technique {
        id: "glue-create-dev-endpoint",
        step: "Glue development endpoint with",
        summary: "creates a Glue development endpoint with the role and logs in to it",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[PASS_ROLE, on_any("glue:CreateDevEndpoint")],
        gain: Gain::RunsAs,
        assumes: &["the actor reaches the endpoint over SSH"],
        sets_source: false,
    },
    Technique {
        id: "glue-update-dev-endpoint",
        step: "SSH key of a Glue development endpoint with",
        summary: "sets its own SSH key on an existing Glue development endpoint",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[on_running("glue:UpdateDevEndpoint", DEV_ENDPOINT)],
        gain: Gain::RunsAs,
        assumes: &["the actor reaches the endpoint over SSH"],
        sets_source: false,
    },
    Technique {
        id: "glue-create-job",
        step: "Glue job with",
        summary: "creates a Glue job with the role and starts it",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[
            PASS_ROLE,
            on_created("glue:CreateJob", JOB),
            on_created("glue:StartJobRun", JOB),
        ],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
    Technique {
        id: "glue-update-job",
        step: "script of a Glue job with",
        summary: "replaces the script of an existing Glue job and starts it",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[
            on_running("glue:UpdateJob", JOB),
            on_running("glue:StartJobRun", JOB),
        ],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
];
