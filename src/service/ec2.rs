//! Amazon EC2: an instance runs code with the role of its instance profile.
//!
//! `ec2:RunInstances` with `iam:PassRole` starts an instance whose user data the actor writes
//! (Rhino Security Labs' path 3, IAMVulnerable's `ec2-passrole`); `ec2:ModifyInstanceAttribute`
//! rewrites the user data of a stopped instance, which runs at its next start.

use super::technique::{on_created, on_running, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "ec2.amazonaws.com";
pub const INSTANCE: &str = "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}";

pub const TECHNIQUES: &[Technique] = &[
    Technique {
        id: "ec2-run-instances",
        step: "EC2 instance with",
        summary: "starts an EC2 instance with the role and user data of its choosing",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[PASS_ROLE, on_created("ec2:RunInstances", INSTANCE)],
        gain: Gain::RunsAs,
        assumes: &[
            "an instance profile holds the role (or the actor makes one with iam:CreateInstanceProfile and iam:AddRoleToInstanceProfile)",
            "ec2:RunInstances is also allowed on the image, subnet, network interface, security group and volume it uses",
        ],
        sets_source: false,
    },
    Technique {
        id: "ec2-modify-user-data",
        step: "user data of an EC2 instance with",
        summary: "rewrites the user data of an existing instance and restarts it",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[
            on_running("ec2:StopInstances", INSTANCE),
            on_running("ec2:ModifyInstanceAttribute", INSTANCE),
            on_running("ec2:StartInstances", INSTANCE),
        ],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
];
