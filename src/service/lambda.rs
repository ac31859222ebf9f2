//! AWS Lambda: a function runs the actor's code with its execution role.
//!
//! A new function with a passed role runs when the actor invokes it, when an event source
//! mapping feeds it, or when a permission lets another principal invoke it (Rhino Security
//! Labs' paths 15 to 17); an existing function runs new code after `lambda:UpdateFunctionCode`
//! (path 18).

use super::technique::{on_any, on_created, on_running, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "lambda.amazonaws.com";
pub const FUNCTION: &str = "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}";

pub const TECHNIQUES: &[Technique] = &[
    Technique {
        id: "lambda-create-invoke",
        step: "Lambda function, invoked, with",
        summary: "creates a Lambda function with the role and invokes it",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[
            PASS_ROLE,
            on_created("lambda:CreateFunction", FUNCTION),
            on_created("lambda:InvokeFunction", FUNCTION),
        ],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
    Technique {
        id: "lambda-create-event-source",
        step: "Lambda function, fed by an event source, with",
        summary: "creates a Lambda function with the role and an event source mapping that invokes it",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[
            PASS_ROLE,
            on_created("lambda:CreateFunction", FUNCTION),
            on_any("lambda:CreateEventSourceMapping"),
        ],
        gain: Gain::RunsAs,
        assumes: &["an event source (a DynamoDB stream, a Kinesis stream, an SQS queue) the actor can feed exists"],
        sets_source: false,
    },
    Technique {
        id: "lambda-create-add-permission",
        step: "Lambda function, opened by its policy, with",
        summary: "creates a Lambda function with the role and lets itself invoke it through the function's policy",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[
            PASS_ROLE,
            on_created("lambda:CreateFunction", FUNCTION),
            on_created("lambda:AddPermission", FUNCTION),
        ],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
    Technique {
        id: "lambda-update-code",
        step: "code of a Lambda function with",
        summary: "replaces the code of an existing Lambda function",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[on_running("lambda:UpdateFunctionCode", FUNCTION)],
        gain: Gain::RunsAs,
        assumes: &["the function is invoked afterwards (by its triggers, or by the actor with lambda:InvokeFunction)"],
        sets_source: false,
    },
    Technique {
        id: "lambda-update-configuration-role",
        step: "new role of a Lambda function,",
        summary: "gives an existing Lambda function the role",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[PASS_ROLE, on_running("lambda:UpdateFunctionConfiguration", FUNCTION)],
        gain: Gain::RunsAs,
        assumes: &["the function is invoked afterwards (by its triggers, or by the actor with lambda:InvokeFunction)"],
        sets_source: false,
    },
    Technique {
        id: "lambda-update-configuration-layer",
        step: "layer added to a Lambda function with",
        summary: "adds a layer of its writing to an existing Lambda function",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[on_running("lambda:UpdateFunctionConfiguration", FUNCTION)],
        gain: Gain::RunsAs,
        assumes: &["the function is invoked afterwards (by its triggers, or by the actor with lambda:InvokeFunction)"],
        sets_source: false,
    },
];
