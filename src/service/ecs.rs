//! Amazon ECS: a task runs its containers with the task role of its definition.
//!
//! A task definition of the actor's writing with a passed task role, run on a cluster
//! (pathfinding.cloud's ECS paths).

use super::technique::{on_created, on_running, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "ecs-tasks.amazonaws.com";
pub const TASK_DEFINITION: &str = "arn:${Partition}:ecs:${Region}:${Account}:task-definition/${TaskDefinitionFamilyName}:${TaskDefinitionRevisionNumber}";

pub const TASK: &str = "arn:${Partition}:ecs:${Region}:${Account}:task/${ClusterName}/${TaskId}";
pub const CLUSTER: &str = "arn:${Partition}:ecs:${Region}:${Account}:cluster/${ClusterName}";
pub const ECS_SERVICE: &str =
    "arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}";

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
},
Technique {
    id: "ecs-update-service",
    step: "ECS service running a new task definition with",
    summary: "registers an ECS task definition with the role as task role and makes an existing service run it",
    targets: Targets::PassedRole { service: SERVICE },
    needs: &[
        PASS_ROLE,
        on_created("ecs:RegisterTaskDefinition", TASK_DEFINITION),
        on_running("ecs:UpdateService", ECS_SERVICE),
    ],
    gain: Gain::RunsAs,
    assumes: &[],
    sets_source: false,
},
Technique {
    id: "ecs-execute-command",
    step: "command in a running ECS task with",
    summary: "runs a command in a running ECS task with ECS Exec",
    targets: Targets::RunningRole { service: SERVICE },
    needs: &[
        on_running("ecs:ExecuteCommand", CLUSTER),
        on_running("ecs:ExecuteCommand", TASK),
    ],
    gain: Gain::RunsAs,
    assumes: &["the task was started with ECS Exec enabled"],
    sets_source: false,
}];
