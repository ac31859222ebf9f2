//! Amazon Bedrock AgentCore: a code interpreter runs code with the execution role it is
//! given (pathfinding.cloud's Bedrock paths).

use super::technique::{on_created, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "bedrock-agentcore.amazonaws.com";
/// The reference names a custom interpreter `code-interpreter-custom/ID`, the developer guide's
/// policies `code-interpreter/ID`: either may be the one AWS checks, so both are admitted.
pub const CODE_INTERPRETER: &str =
    "arn:${Partition}:bedrock-agentcore:${Region}:${Account}:code-interpreter*/${CodeInterpreterId}";

pub const TECHNIQUES: &[Technique] = &[Technique {
    id: "bedrock-agentcore-code-interpreter",
    step: "Bedrock AgentCore code interpreter with",
    summary: "creates a Bedrock AgentCore code interpreter with the role, starts a session and runs code in it",
    targets: Targets::PassedRole { service: SERVICE },
    needs: &[
        PASS_ROLE,
        // The reference gives CreateCodeInterpreter no resource type, yet the guide's own policy
        // grants it on interpreter ARNs: either grant is taken to allow it.
        on_created("bedrock-agentcore:CreateCodeInterpreter", CODE_INTERPRETER),
        on_created("bedrock-agentcore:StartCodeInterpreterSession", CODE_INTERPRETER),
        on_created("bedrock-agentcore:InvokeCodeInterpreter", CODE_INTERPRETER),
    ],
    gain: Gain::RunsAs,
    assumes: &[],
    sets_source: false,
}];
