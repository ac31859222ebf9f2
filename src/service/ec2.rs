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
    Technique {
        id: "ec2-associate-instance-profile",
        step: "instance profile associated to an EC2 instance with",
        summary: "associates an instance profile holding the role with an instance it can reach",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[PASS_ROLE, on_running("ec2:AssociateIamInstanceProfile", INSTANCE)],
        gain: Gain::RunsAs,
        assumes: &[
            "the actor runs code on the instance (over SSH, Systems Manager or a service it hosts)",
            "an instance profile holds the role",
        ],
        sets_source: false,
    },
    Technique {
        id: "ec2-replace-instance-profile",
        step: "instance profile replaced on an EC2 instance with",
        summary: "replaces the instance profile of an instance it can reach with one holding the role",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[PASS_ROLE, on_running("ec2:ReplaceIamInstanceProfileAssociation", INSTANCE)],
        gain: Gain::RunsAs,
        assumes: &[
            "the actor runs code on the instance (over SSH, Systems Manager or a service it hosts)",
            "an instance profile holds the role",
        ],
        sets_source: false,
    },
    Technique {
        id: "ec2-instance-connect",
        step: "SSH session through EC2 Instance Connect on an instance with",
        summary: "pushes an SSH key to an existing instance with EC2 Instance Connect and logs in",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[on_running("ec2-instance-connect:SendSSHPublicKey", INSTANCE)],
        gain: Gain::RunsAs,
        assumes: &["the actor reaches the instance's SSH port"],
        sets_source: false,
    },
];
