//! Amazon ECS: a task runs its containers with the task role of its definition.
//!
//! A task definition of the actor's writing with a passed task role, run on a cluster
//! (pathfinding.cloud's ECS paths).

use super::technique::{on_created, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "ecs-tasks.amazonaws.com";
pub const TASK_DEFINITION: &str = "arn:${Partition}:ecs:${Region}:${Account}:task-definition/${TaskDefinitionFamilyName}:${TaskDefinitionRevisionNumber}";

pub const TECHNIQUES: &[Technique] = &[Technique {
    id: "ecs-run-task",
    step: "ECS task with",
    summary: "registers an ECS task definition with the role as task role and runs it",
    targets: Targets::PassedRole { service: SERVICE },
    needs: &[
        PASS_ROLE,
        on_created("ecs:RegisterTaskDefinition", TASK_DEFINITION),
        on_created("ecs:RunTask", TASK_DEFINITION),
    ],
    gain: Gain::RunsAs,
    assumes: &["a cluster with capacity exists (Fargate needs none of the actor's own)"],
    sets_source: false,
}];
