//! AWS CloudFormation: a stack makes the resources of its template with the stack's service
//! role, so a template of the actor's writing acts with every permission of the role.
//!
//! A new stack, change set or stack set with a passed role (Rhino Security Labs' path 12),
//! or an update of an existing stack that already runs with a role.

use super::technique::{on_any, on_created, on_running, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "cloudformation.amazonaws.com";
pub const STACK: &str =
    "arn:${Partition}:cloudformation:${Region}:${Account}:stack/${StackName}/${Id}";

pub const TECHNIQUES: &[Technique] = &[
    Technique {
        id: "cloudformation-create-stack",
        step: "CloudFormation stack with",
        summary: "creates a CloudFormation stack with the role and a template of its writing",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[PASS_ROLE, on_created("cloudformation:CreateStack", STACK)],
        gain: Gain::RunsAs,
        assumes: &["the template's resources make the requests (a custom resource or a function runs any code)"],
        sets_source: false,
    },
    Technique {
        id: "cloudformation-create-change-set",
        step: "CloudFormation change set with",
        summary: "creates and executes a CloudFormation change set with the role",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[
            PASS_ROLE,
            on_created("cloudformation:CreateChangeSet", STACK),
            on_created("cloudformation:ExecuteChangeSet", STACK),
        ],
        gain: Gain::RunsAs,
        assumes: &["the template's resources make the requests (a custom resource or a function runs any code)"],
        sets_source: false,
    },
    Technique {
        id: "cloudformation-create-stack-set",
        step: "CloudFormation stack set with",
        summary: "creates a CloudFormation stack set with the role as its administration role",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[PASS_ROLE, on_any("cloudformation:CreateStackSet")],
        gain: Gain::RunsAs,
        assumes: &["the template's resources make the requests (a custom resource or a function runs any code)"],
        sets_source: false,
    },
    Technique {
        id: "cloudformation-update-stack",
        step: "template of a CloudFormation stack with",
        summary: "updates an existing CloudFormation stack, which keeps its role, with a template of its writing",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[on_running("cloudformation:UpdateStack", STACK)],
        gain: Gain::RunsAs,
        assumes: &["the template's resources make the requests (a custom resource or a function runs any code)"],
        sets_source: false,
    },
];
