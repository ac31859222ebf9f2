//! AWS Systems Manager: commands and sessions on an instance run with the instance's role
//! (pathfinding.cloud's SSM paths).

use super::technique::{on_named, on_running, Gain, Targets, Technique};

/// Instances run with roles that trust EC2.
pub const SERVICE: &str = super::ec2::SERVICE;
pub const INSTANCE: &str = super::ec2::INSTANCE;
pub const RUN_SHELL_SCRIPT: &str = "arn:${Partition}:ssm:${Region}::document/AWS-RunShellScript";

pub const TECHNIQUES: &[Technique] = &[
    Technique {
        id: "ssm-send-command",
        step: "SSM command on an instance with",
        summary: "runs a shell command on an existing instance through Systems Manager",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[
            on_running("ssm:SendCommand", INSTANCE),
            on_named("ssm:SendCommand", RUN_SHELL_SCRIPT),
        ],
        gain: Gain::RunsAs,
        assumes: &["the instance runs the SSM agent"],
        sets_source: false,
    },
    Technique {
        id: "ssm-start-session",
        step: "SSM session on an instance with",
        summary: "opens a shell on an existing instance through Session Manager",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[on_running("ssm:StartSession", INSTANCE)],
        gain: Gain::RunsAs,
        assumes: &["the instance runs the SSM agent"],
        sets_source: false,
    },
];
