//! AWS App Runner: a service runs the actor's image with its instance role
//! (pathfinding.cloud's App Runner path).

use super::technique::{on_created, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "tasks.apprunner.amazonaws.com";
pub const APP_SERVICE: &str =
    "arn:${Partition}:apprunner:${Region}:${Account}:service/${ServiceName}/${ServiceId}";

pub const TECHNIQUES: &[Technique] = &[Technique {
    id: "apprunner-create-service",
    step: "App Runner service with",
    summary: "creates an App Runner service with the role as instance role",
    targets: Targets::PassedRole { service: SERVICE },
    needs: &[
        PASS_ROLE,
        on_created("apprunner:CreateService", APP_SERVICE),
    ],
    gain: Gain::RunsAs,
    assumes: &[],
    sets_source: false,
}];
