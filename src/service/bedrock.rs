//! Amazon Bedrock AgentCore: a code interpreter runs code with the execution role it is
//! given (pathfinding.cloud's Bedrock paths).

use super::technique::{on_any, on_created, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "bedrock-agentcore.amazonaws.com";
pub const CODE_INTERPRETER: &str =
    "arn:${Partition}:bedrock-agentcore:${Region}:${Account}:code-interpreter-custom/${CodeInterpreterId}";

pub const TECHNIQUES: &[Technique] = &[Technique {
    id: "bedrock-agentcore-code-interpreter",
    step: "Bedrock AgentCore code interpreter with",
    summary: "creates a Bedrock AgentCore code interpreter with the role, starts a session and runs code in it",
    targets: Targets::PassedRole { service: SERVICE },
    needs: &[
        PASS_ROLE,
        on_any("bedrock-agentcore:CreateCodeInterpreter"),
        on_created("bedrock-agentcore:StartCodeInterpreterSession", CODE_INTERPRETER),
        on_created("bedrock-agentcore:InvokeCodeInterpreter", CODE_INTERPRETER),
    ],
    gain: Gain::RunsAs,
    assumes: &[],
    sets_source: false,
}];
