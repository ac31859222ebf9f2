//! Escalation techniques of each service, and IAMVulnerable's tool-testing cases, each answer
//! labelled by the AWS documentation.
//!
//! Every case runs `iamproof can` on a small snapshot under `tests/fixtures/escalation/` (written
//! by `tests/fixtures/escalation/generate.py`; account `111122223333`, `us-east-1`) and checks
//! the verdict and the exit code. A reachable answer must name the technique in its witness
//! (the `=> technique-id: ...` line) and, for a technique that hands a role to a service, the
//! service's `sts:AssumeRole` hop; its text witness is pinned with insta. The comment above each
//! case names the AWS documentation page (title and URL) that decides it.
//!
//! `iamproof can` exits 0 for both `reachable` and `unreachable` (README, "Exit codes": 0 done,
//! 3 some answer is `unknown`), so the verdict is read from the JSON answer.
//!
//! Pages that decide every negative of the same kind:
//! - explicit deny: "Policy evaluation logic",
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
//!   ("an explicit deny in any of these policies overrides the allow");
//! - permissions boundary: "Permissions boundaries for IAM entities",
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html> (the
//!   effective permissions are the intersection of the identity policies and the boundary);
//! - SCP: "Service control policies (SCPs)",
//!   <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html>
//!   (an SCP deny applies to every IAM user and role of a member account);
//! - iam:PassedToService: "IAM and AWS STS condition context keys",
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PassedToService>,
//!   and "Grant a user permissions to pass a role to an AWS service",
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html>;
//! - a role's trust: "Create a role to delegate permissions to an AWS service",
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-service.html> (the
//!   service assumes the role only if the trust policy names its service principal).

mod common;

use serde_json::Value;

const ACCOUNT: &str = "111122223333";
/// The bucket only the privileged role of the service fixtures may write.
const VAULT: &str = "arn:aws:s3:::vault/*";
/// The bucket only IAMVulnerable's `privesc-high-priv-service-role` may write.
const SECRET: &str = "arn:aws:s3:::secret-bucket/*";

fn user(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// What `iamproof can` answered.
struct Answer {
    code: i32,
    verdict: Option<String>,
    json: Value,
    stdout: String,
    stderr: String,
}

fn ask(folder: &str, principal: &str, action: &str, resource: &str, extra: &[&str]) -> Answer {
    let account = format!("tests/fixtures/escalation/{folder}");
    let mut args = vec![
        "can",
        "--quiet",
        "--account",
        &account,
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
    ];
    args.extend_from_slice(extra);
    let json_args: Vec<&str> = args.iter().copied().chain(["--format", "json"]).collect();
    let run = common::iamproof(&json_args);
    let json: Value = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    Answer {
        code: run.code,
        verdict: json["verdict"].as_str().map(str::to_string),
        json,
        stdout: run.stdout,
        stderr: run.stderr,
    }
}

/// The text answer, for the snapshots.
fn text(folder: &str, principal: &str, action: &str, resource: &str) -> String {
    let account = format!("tests/fixtures/escalation/{folder}");
    let run = common::iamproof(&[
        "can",
        "--quiet",
        "--account",
        &account,
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    run.stdout
}

fn service(case: &str) -> Answer {
    service_as(case, &user("attacker"), &[])
}

fn service_as(case: &str, principal: &str, extra: &[&str]) -> Answer {
    ask(
        &format!("services/{case}"),
        principal,
        "s3:PutObject",
        VAULT,
        extra,
    )
}

fn assert_verdict(answer: &Answer, code: i32, verdict: &str) {
    assert_eq!(
        (answer.code, answer.verdict.as_deref()),
        (code, Some(verdict)),
        "expected {verdict} (exit {code})\n{}\n{}",
        answer.stdout,
        answer.stderr
    );
}

fn assert_unreachable(answer: &Answer) {
    assert_verdict(answer, 0, "unreachable");
}

/// Reachable, and the witness names `technique` on one of its hops.
fn assert_reachable_by(answer: &Answer, technique: &str) {
    assert_verdict(answer, 0, "reachable");
    let changes: Vec<&str> = answer.json["chain"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|hop| hop["change"].as_str())
        .collect();
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with(&format!("{technique}: "))),
        "the witness does not name {technique}: {changes:?}\n{}",
        answer.stdout
    );
}

/// The service principal's `sts:AssumeRole` of `role` is a hop of the witness.
fn assert_service_assumes(answer: &Answer, service: &str, role_arn: &str) {
    let found = answer.json["chain"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|hop| {
            hop["principal"] == service
                && hop["action"] == "sts:AssumeRole"
                && hop["resource"] == role_arn
        });
    assert!(
        found,
        "no hop of {service} assuming {role_arn}\n{}",
        answer.stdout
    );
}

/// The positive case of a technique that hands `role/Privileged` to `service`: reachable
/// through the technique with the service's AssumeRole hop, the text witness pinned, and
/// refuted under `--scope configured` (an escalation, not the account as configured).
fn positive(case: &str, technique: &str, service_principal: &str) {
    let answer = service(case);
    assert_reachable_by(&answer, technique);
    assert_service_assumes(&answer, service_principal, &role("Privileged"));
    insta::assert_snapshot!(
        format!("service-{case}"),
        text(
            &format!("services/{case}"),
            &user("attacker"),
            "s3:PutObject",
            VAULT
        )
    );
    assert_unreachable(&service_as(
        case,
        &user("attacker"),
        &["--scope", "configured"],
    ));
}

/// Techniques that pass a role to a service the actor then has run code.
mod passed_role {
    use super::*;

    // "Grant permissions to attach an IAM role to an instance" (Amazon EC2 User Guide),
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/permission-to-pass-iam-roles.html:
    // launching an instance with a role needs ec2:RunInstances and iam:PassRole; "Use an IAM
    // role to grant permissions to applications running on Amazon EC2 instances",
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html: the
    // role trusts ec2.amazonaws.com, the example grant passes it with
    // iam:PassedToService = ec2.amazonaws.com, and code on the instance gets its credentials.
    #[test]
    fn ec2_run_instances() {
        positive(
            "ec2-run-instances",
            "ec2-run-instances",
            "ec2.amazonaws.com",
        );
        // No iam:PassRole: RunInstances alone starts an instance without the role.
        assert_unreachable(&service("ec2-run-instances-missing-permission"));
        // The grant passes the role only to Lambda.
        assert_unreachable(&service("ec2-run-instances-passed-to-other-service"));
        // The role trusts lambda.amazonaws.com, not EC2.
        assert_unreachable(&service("ec2-run-instances-trust-other-service"));
        // Deny ec2:RunInstances in the user's own policy ("Policy evaluation logic").
        assert_unreachable(&service("ec2-run-instances-explicit-deny"));
        // The boundary allows ec2:* only, so iam:PassRole is outside it.
        assert_unreachable(&service("ec2-run-instances-permissions-boundary"));
        // An SCP of the organization root denies ec2:RunInstances.
        assert_unreachable(&service("ec2-run-instances-scp"));
    }

    // "Defining Lambda function permissions with an execution role" (AWS Lambda Developer
    // Guide), https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html:
    // "Lambda automatically assumes your execution role when you invoke your function" and
    // "the role's trust policy must specify the Lambda service principal (lambda.amazonaws.com)
    // as a trusted service".
    #[test]
    fn lambda_create_invoke() {
        positive(
            "lambda-create-invoke",
            "lambda-create-invoke",
            "lambda.amazonaws.com",
        );
        // No lambda:InvokeFunction: the function is never run.
        assert_unreachable(&service("lambda-create-invoke-missing-permission"));
        // iam:PassedToService = ec2.amazonaws.com.
        assert_unreachable(&service("lambda-create-invoke-passed-to-other-service"));
        // The role trusts ec2.amazonaws.com.
        assert_unreachable(&service("lambda-create-invoke-trust-other-service"));
        // Deny lambda:CreateFunction.
        assert_unreachable(&service("lambda-create-invoke-explicit-deny"));
        // The boundary allows lambda:* only.
        assert_unreachable(&service("lambda-create-invoke-permissions-boundary"));
        // An SCP denies lambda:CreateFunction.
        assert_unreachable(&service("lambda-create-invoke-scp"));
    }

    // "CreateFunction" (AWS Lambda API Reference),
    // https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html: FunctionName has
    // "Minimum length of 1", so no function's ARN ends in `function:`; a grant on that ARN
    // alone lets nobody create or invoke a function.
    #[test]
    fn lambda_create_invoke_on_a_function_with_no_name() {
        assert_unreachable(&service("lambda-create-invoke-empty-function-name"));
    }

    // Same page (execution role), and "CreateEventSourceMapping" (AWS Lambda API Reference),
    // https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html: the
    // mapping reads the source and invokes the function with its execution role.
    #[test]
    fn lambda_create_event_source() {
        positive(
            "lambda-create-event-source",
            "lambda-create-event-source",
            "lambda.amazonaws.com",
        );
        assert_unreachable(&service("lambda-create-event-source-missing-permission"));
        assert_unreachable(&service("lambda-create-event-source-trust-other-service"));
    }

    // Same page (execution role), and "AddPermission" (AWS Lambda API Reference),
    // https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html: the function's
    // resource-based policy then lets the named principal invoke it.
    #[test]
    fn lambda_create_add_permission() {
        positive(
            "lambda-create-add-permission",
            "lambda-create-add-permission",
            "lambda.amazonaws.com",
        );
        assert_unreachable(&service("lambda-create-add-permission-missing-permission"));
        assert_unreachable(&service("lambda-create-add-permission-trust-other-service"));
    }

    // "Defining Lambda function permissions with an execution role", section "Update a
    // function's execution role",
    // https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html, and
    // "UpdateFunctionConfiguration" (API Reference, the Role parameter),
    // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html.
    // The witness may equally use lambda-update-configuration-layer (the same action adds a
    // layer to a function already running with a Lambda role); the snapshot pins which.
    #[test]
    fn lambda_update_configuration_role() {
        let answer = service("lambda-update-configuration-role");
        assert_verdict(&answer, 0, "reachable");
        assert_service_assumes(&answer, "lambda.amazonaws.com", &role("Privileged"));
        insta::assert_snapshot!(
            "service-lambda-update-configuration-role",
            text(
                "services/lambda-update-configuration-role",
                &user("attacker"),
                "s3:PutObject",
                VAULT
            )
        );
        assert_unreachable(&service_as(
            "lambda-update-configuration-role",
            &user("attacker"),
            &["--scope", "configured"],
        ));
        assert_unreachable(&service(
            "lambda-update-configuration-role-missing-permission",
        ));
        assert_unreachable(&service(
            "lambda-update-configuration-role-trust-other-service",
        ));
    }

    // "Step 3: Attach a policy to users or groups that access AWS Glue" (AWS Glue Developer
    // Guide), https://docs.aws.amazon.com/glue/latest/dg/attach-policy-iam-user.html (iam:PassRole
    // with iam:PassedToService = glue.amazonaws.com), and "Step 2: Create an IAM role for AWS
    // Glue", https://docs.aws.amazon.com/glue/latest/dg/create-an-iam-role.html (the role
    // trusts glue.amazonaws.com).
    #[test]
    fn glue_create_dev_endpoint() {
        positive(
            "glue-create-dev-endpoint",
            "glue-create-dev-endpoint",
            "glue.amazonaws.com",
        );
        assert_unreachable(&service("glue-create-dev-endpoint-missing-permission"));
        assert_unreachable(&service("glue-create-dev-endpoint-trust-other-service"));
    }

    // The same two Glue pages; a job runs its script with its role ("Configuring job
    // properties for Spark jobs", https://docs.aws.amazon.com/glue/latest/dg/add-job.html).
    #[test]
    fn glue_create_job() {
        positive("glue-create-job", "glue-create-job", "glue.amazonaws.com");
        assert_unreachable(&service("glue-create-job-missing-permission"));
        assert_unreachable(&service("glue-create-job-trust-other-service"));
    }

    // "CloudFormation service role" (AWS CloudFormation User Guide),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html:
    // "Specify CloudFormation (cloudformation.amazonaws.com) as the service that can assume the
    // role" and "Before you specify a service role, ensure that you have permission to pass it
    // (iam:PassRole)".
    #[test]
    fn cloudformation_create_stack() {
        positive(
            "cloudformation-create-stack",
            "cloudformation-create-stack",
            "cloudformation.amazonaws.com",
        );
        assert_unreachable(&service("cloudformation-create-stack-missing-permission"));
        assert_unreachable(&service("cloudformation-create-stack-trust-other-service"));
    }

    // Same page, and "CreateChangeSet" (AWS CloudFormation API Reference, RoleARN),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html:
    // "The Amazon Resource Name (ARN) of an IAM role that CloudFormation assumes when executing
    // the change set".
    #[test]
    fn cloudformation_create_change_set() {
        positive(
            "cloudformation-create-change-set",
            "cloudformation-create-change-set",
            "cloudformation.amazonaws.com",
        );
        assert_unreachable(&service(
            "cloudformation-create-change-set-missing-permission",
        ));
        assert_unreachable(&service(
            "cloudformation-create-change-set-trust-other-service",
        ));
    }

    // "Allow CodeBuild to interact with other AWS services" (AWS CodeBuild User Guide),
    // https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html: the
    // service role trusts codebuild.amazonaws.com and the build's commands run with it.
    #[test]
    fn codebuild_create_project() {
        positive(
            "codebuild-create-project",
            "codebuild-create-project",
            "codebuild.amazonaws.com",
        );
        assert_unreachable(&service("codebuild-create-project-missing-permission"));
        assert_unreachable(&service("codebuild-create-project-trust-other-service"));
    }

    // "How to use SageMaker AI execution roles" (Amazon SageMaker AI Developer Guide),
    // https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html: the execution
    // role trusts sagemaker.amazonaws.com and is passed with
    // iam:PassedToService = sagemaker.amazonaws.com.
    #[test]
    fn sagemaker_create_notebook() {
        positive(
            "sagemaker-create-notebook",
            "sagemaker-create-notebook",
            "sagemaker.amazonaws.com",
        );
        assert_unreachable(&service("sagemaker-create-notebook-missing-permission"));
        assert_unreachable(&service("sagemaker-create-notebook-trust-other-service"));
    }

    // Same page (training jobs run the chosen container with the execution role).
    #[test]
    fn sagemaker_create_training_job() {
        positive(
            "sagemaker-create-training-job",
            "sagemaker-create-training-job",
            "sagemaker.amazonaws.com",
        );
        assert_unreachable(&service("sagemaker-create-training-job-missing-permission"));
        assert_unreachable(&service(
            "sagemaker-create-training-job-trust-other-service",
        ));
    }

    // "Amazon ECS task IAM role" (Amazon ECS Developer Guide),
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html: "The IAM
    // task role must have a trust policy that specifies the ecs-tasks.amazonaws.com service";
    // the negative's role trusts ecs.amazonaws.com (the service-linked principal) instead.
    #[test]
    fn ecs_run_task() {
        positive("ecs-run-task", "ecs-run-task", "ecs-tasks.amazonaws.com");
        assert_unreachable(&service("ecs-run-task-missing-permission"));
        assert_unreachable(&service("ecs-run-task-trust-other-service"));
    }

    // "AWSAppRunnerFullAccess" (AWS Managed Policy Reference),
    // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSAppRunnerFullAccess.html:
    // iam:PassRole with iam:PassedToService = apprunner.amazonaws.com; "How App Runner works
    // with IAM", section roles,
    // https://docs.aws.amazon.com/apprunner/latest/dg/security_iam_service-with-iam.html: the
    // instance role (the code's) trusts tasks.apprunner.amazonaws.com, the access role
    // build.apprunner.amazonaws.com (image pulls only, the negative's trust).
    #[test]
    fn apprunner_create_service() {
        positive(
            "apprunner-create-service",
            "apprunner-create-service",
            "tasks.apprunner.amazonaws.com",
        );
        assert_unreachable(&service("apprunner-create-service-missing-permission"));
        assert_unreachable(&service("apprunner-create-service-trust-other-service"));
    }

    // "IAM roles for AWS Data Pipeline" (AWS Data Pipeline Developer Guide),
    // https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/dp-iam-roles.html: the
    // pipeline role trusts datapipeline.amazonaws.com; its example grants iam:PassRole on the
    // roles without iam:PassedToService, as the fixture does.
    #[test]
    fn datapipeline_create() {
        positive(
            "datapipeline-create",
            "datapipeline-create",
            "datapipeline.amazonaws.com",
        );
        assert_unreachable(&service("datapipeline-create-missing-permission"));
        assert_unreachable(&service("datapipeline-create-trust-other-service"));
    }

    // "Resource and session management" (Amazon Bedrock AgentCore Developer Guide, Code
    // Interpreter),
    // https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/code-interpreter-resource-session-management.html:
    // the execution role trusts bedrock-agentcore.amazonaws.com.
    #[test]
    fn bedrock_agentcore_code_interpreter() {
        positive(
            "bedrock-agentcore-code-interpreter",
            "bedrock-agentcore-code-interpreter",
            "bedrock-agentcore.amazonaws.com",
        );
        assert_unreachable(&service(
            "bedrock-agentcore-code-interpreter-missing-permission",
        ));
        assert_unreachable(&service(
            "bedrock-agentcore-code-interpreter-trust-other-service",
        ));
    }

    // Same page: "The following IAM policy provides the necessary permissions for using the
    // AgentCore Code Interpreter", with every action on
    // `arn:aws:bedrock-agentcore:us-east-1:111122223333:code-interpreter/*`, and the trust
    // policy it gives the execution role (aws:SourceAccount and aws:SourceArn pinned to the
    // account). The fixture holds both, verbatim, and iam:PassRole.
    #[test]
    fn bedrock_agentcore_code_interpreter_with_the_documented_policy() {
        let answer = service("bedrock-agentcore-code-interpreter-documented-policy");
        assert_reachable_by(&answer, "bedrock-agentcore-code-interpreter");
    }
}

/// Techniques that take over an existing resource running with a role. The snapshots list no
/// such resources, so any of the account may run with any role trusting the service.
mod running_role {
    use super::*;

    // "UpdateFunctionCode" (AWS Lambda API Reference),
    // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html, and the
    // execution-role page: the new code runs with the function's role.
    #[test]
    fn lambda_update_code() {
        positive(
            "lambda-update-code",
            "lambda-update-code",
            "lambda.amazonaws.com",
        );
        assert_unreachable(&service("lambda-update-code-missing-permission"));
    }

    // "UpdateDevEndpoint" (AWS Glue Web API Reference, AddPublicKeys),
    // https://docs.aws.amazon.com/glue/latest/webapi/API_UpdateDevEndpoint.html: the actor's
    // key logs in to an endpoint that runs with its role.
    #[test]
    fn glue_update_dev_endpoint() {
        positive(
            "glue-update-dev-endpoint",
            "glue-update-dev-endpoint",
            "glue.amazonaws.com",
        );
        assert_unreachable(&service("glue-update-dev-endpoint-missing-permission"));
    }

    // "CloudFormation service role",
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html:
    // "When you specify a service role, CloudFormation always uses that role for all operations
    // that are performed on that stack". The positive also holds iam:PassRole, which the guide
    // asks of "other users" of the stack; the case below decides without it.
    #[test]
    fn cloudformation_update_stack() {
        positive(
            "cloudformation-update-stack",
            "cloudformation-update-stack",
            "cloudformation.amazonaws.com",
        );
        assert_unreachable(&service("cloudformation-update-stack-missing-permission"));
    }

    // "UpdateStack" (AWS CloudFormation API Reference, RoleARN),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html:
    // "If you don't specify a value, CloudFormation uses the role that was previously associated
    // with the stack" and "Provided that users have permission to operate on the stack,
    // CloudFormation uses this role even if the users don't have permission to pass it". (The
    // user guide's sentence that other users "must have the iam:PassRole permission" concerns
    // specifying the role.)
    #[test]
    fn cloudformation_update_stack_needs_no_pass_role() {
        let answer = service("cloudformation-update-stack-without-pass-role");
        assert_reachable_by(&answer, "cloudformation-update-stack");
    }

    // "StartBuild" (AWS CodeBuild API Reference, buildspecOverride),
    // https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html: a build
    // runs the caller's buildspec with the project's service role.
    #[test]
    fn codebuild_start_build() {
        positive(
            "codebuild-start-build",
            "codebuild-start-build",
            "codebuild.amazonaws.com",
        );
        assert_unreachable(&service("codebuild-start-build-missing-permission"));
    }

    // "CreatePresignedNotebookInstanceUrl" (Amazon SageMaker API Reference),
    // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreatePresignedNotebookInstanceUrl.html:
    // the URL opens the notebook instance, whose code runs with its execution role.
    #[test]
    fn sagemaker_presigned_notebook_url() {
        positive(
            "sagemaker-presigned-notebook-url",
            "sagemaker-presigned-notebook-url",
            "sagemaker.amazonaws.com",
        );
        assert_unreachable(&service(
            "sagemaker-presigned-notebook-url-missing-permission",
        ));
    }

    // "Restricting Run Command access based on tags" / "AWS Systems Manager Run Command"
    // (Systems Manager User Guide),
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/run-command.html, and the
    // Service Authorization Reference for ssm:SendCommand,
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html:
    // SendCommand is authorized on the instance and on the document, so a grant on the
    // instances alone (the negative) does not run AWS-RunShellScript.
    #[test]
    fn ssm_send_command() {
        positive("ssm-send-command", "ssm-send-command", "ec2.amazonaws.com");
        assert_unreachable(&service("ssm-send-command-missing-permission"));
    }

    // "Sample IAM policies for Session Manager" (Systems Manager User Guide),
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-restrict-access-quickstart.html:
    // ssm:StartSession on the instance opens a shell on it.
    #[test]
    fn ssm_start_session() {
        positive(
            "ssm-start-session",
            "ssm-start-session",
            "ec2.amazonaws.com",
        );
        assert_unreachable(&service("ssm-start-session-missing-permission"));
    }

    // "Run commands when you launch an EC2 instance with user data input" (Amazon EC2 User
    // Guide), https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html: the user
    // data of a stopped instance can be modified and runs at its next start; without
    // ec2:StartInstances (the negative) it never runs.
    #[test]
    fn ec2_modify_user_data() {
        positive(
            "ec2-modify-user-data",
            "ec2-modify-user-data",
            "ec2.amazonaws.com",
        );
        assert_unreachable(&service("ec2-modify-user-data-missing-permission"));
    }

    // "Monitor Amazon ECS containers with ECS Exec" (Amazon ECS Developer Guide),
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html: ecs:ExecuteCommand
    // runs a command in a running container, which holds the task role's credentials.
    #[test]
    fn ecs_execute_command() {
        positive(
            "ecs-execute-command",
            "ecs-execute-command",
            "ecs-tasks.amazonaws.com",
        );
        assert_unreachable(&service("ecs-execute-command-missing-permission"));
    }
}

// "Setting up IAM permissions" (AWS Elemental MediaConvert User Guide),
// https://docs.aws.amazon.com/mediaconvert/latest/ug/iam-role.html: a job runs with the
// service role passed to it. A job is part of the account as configured, so `--scope
// configured` still finds it, while it refutes every escalation above.
#[test]
fn mediaconvert_jobs_are_in_the_configured_scope() {
    for scope in ["all", "configured"] {
        let answer = service_as(
            "mediaconvert-create-job",
            &user("editor"),
            &["--scope", scope],
        );
        assert_reachable_by(&answer, "mediaconvert-create-job");
        assert_service_assumes(
            &answer,
            "mediaconvert.amazonaws.com",
            &role("MediaConvertRole"),
        );
    }
}

/// IAMVulnerable's tool-testing cases (BishopFox/iam-vulnerable,
/// modules/free-resources/tool-testing), each with the shared `privesc-high-priv-service-role`
/// (`*:*`, trusted by EC2, Lambda, Glue and others). The question: can the case's user or role
/// write `secret-bucket`, which only the high-privilege role may write?
mod iamvulnerable {
    use super::*;

    fn case(folder: &str, principal: &str) -> Answer {
        ask(
            &format!("iamvulnerable/{folder}"),
            principal,
            "s3:PutObject",
            SECRET,
            &[],
        )
    }

    fn pinned(folder: &str, principal: &str, name: &str) {
        insta::assert_snapshot!(
            format!("iamvulnerable-{name}"),
            text(
                &format!("iamvulnerable/{folder}"),
                principal,
                "s3:PutObject",
                SECRET
            )
        );
    }

    // fn1, "privesc3 split across multiple policies". "Policy evaluation logic",
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html:
    // the identity-based policies of a principal are evaluated together, so iam:PassRole from
    // one and ec2:RunInstances from another make ec2-run-instances ("Grant permissions to
    // attach an IAM role to an instance",
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/permission-to-pass-iam-roles.html).
    #[test]
    fn fn1_policies_combine() {
        for (principal, name) in [
            (user("fn1-privesc3-partial-user"), "fn1-user"),
            (role("fn1-privesc3-partial-role"), "fn1-role"),
        ] {
            let answer = case("fn1", &principal);
            assert_reachable_by(&answer, "ec2-run-instances");
            assert_service_assumes(
                &answer,
                "ec2.amazonaws.com",
                &role("privesc-high-priv-service-role"),
            );
            pinned("fn1", &principal, name);
        }
    }

    // fn2, exploitable resource constraint. "CreatePolicyVersion" (IAM API Reference),
    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicyVersion.html
    // (SetAsDefault makes the new version the one in force): `arn:aws:iam::*:policy/fn2-*`
    // matches the principal's own policy.
    #[test]
    fn fn2_resource_pattern_matches_its_own_policy() {
        for (principal, name) in [
            (user("fn2-exploitableResourceConstraint-user"), "fn2-user"),
            (role("fn2-exploitableResourceConstraint-role"), "fn2-role"),
        ] {
            let answer = case("fn2", &principal);
            assert_reachable_by(&answer, "iam-create-policy-version");
            pinned("fn2", &principal, name);
        }
    }

    // fn3, exploitable condition constraint. "AWS global condition context keys",
    // aws:TokenIssueTime,
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-tokenissuetime:
    // the key "is included in the request context only when the principal uses temporary
    // credentials to make the request. The key is not present in AWS CLI, AWS API, or AWS SDK
    // requests that are made using access keys." A role session's token is issued after
    // 2020-01-01, so the role escalates.
    #[test]
    fn fn3_role_session_escalates() {
        let principal = role("fn3-exploitableConditionConstraint-role");
        let answer = case("fn3", &principal);
        assert_reachable_by(&answer, "iam-create-policy-version");
        pinned("fn3", &principal, "fn3-role");
    }

    // Same page: the user's requests with its access key carry no aws:TokenIssueTime, and
    // "If the key that you specify in a policy condition is not present in the request
    // context, the values do not match" ("IAM JSON policy elements: Condition operators",
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
    // Its own temporary credentials (sts:GetSessionToken) do carry it, but call IAM only with
    // MFA ("Compare AWS STS credentials",
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html), and
    // the snapshots do not record MFA devices: the escalation holds only on that assumption,
    // which the answer must state.
    #[test]
    fn fn3_user_needs_its_own_temporary_credentials_and_mfa() {
        let answer = case("fn3", &user("fn3-exploitableConditionConstraint-user"));
        assert_reachable_by(&answer, "iam-create-policy-version");
        assert!(
            answer
                .stdout
                .contains("sts:GetSessionToken, with an MFA device"),
            "the answer names its assumption: {}",
            answer.stdout
        );
    }

    // fn4, exploitable NotAction. "IAM JSON policy elements: NotAction",
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html:
    // Allow with NotAction allows every action not listed, s3:PutObject included (direct), and
    // iam:PassRole with ec2:RunInstances, which reach the high-privilege role and through it
    // the excluded iam:Create* (iam:CreateUser below).
    #[test]
    fn fn4_not_action_allows_everything_else() {
        for (principal, name) in [
            (user("fn4-exploitableNotAction-user"), "fn4-user"),
            (role("fn4-exploitableNotAction-role"), "fn4-role"),
        ] {
            let answer = case("fn4", &principal);
            assert_verdict(&answer, 0, "reachable");
            pinned("fn4", &principal, name);
            let excluded = ask(
                "iamvulnerable/fn4",
                &principal,
                "iam:CreateUser",
                &format!("arn:aws:iam::{ACCOUNT}:user/*"),
                &[],
            );
            assert_verdict(&excluded, 0, "reachable");
        }
    }

    // fp1, allow and deny in the same policy. "Policy evaluation logic",
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html:
    // an explicit deny overrides any allow, and nothing outside iam:* is allowed.
    #[test]
    fn fp1_allow_and_deny_in_one_policy() {
        assert_unreachable(&case("fp1", &user("fp1-allow-and-deny-user")));
        assert_unreachable(&case("fp1", &role("fp1-allow-and-deny-role")));
    }

    // fp2, allow-all and deny-all in separate policies: the same page; the deny of one policy
    // overrides the allow of the other.
    #[test]
    fn fp2_allow_all_and_deny_all() {
        assert_unreachable(&case(
            "fp2",
            &user("fp2-allow-and-deny-multiple-policies-user"),
        ));
        assert_unreachable(&case(
            "fp2",
            &role("fp2-allow-and-deny-multiple-policies-role"),
        ));
    }

    // fp3, deny only: the same page; without an allow the request is implicitly denied.
    #[test]
    fn fp3_deny_only() {
        assert_unreachable(&case("fp3", &user("fp3-deny-iam-user")));
        assert_unreachable(&case("fp3", &role("fp3-deny-iam-role")));
    }

    // fp4, non-exploitable resource constraint. "Managed policies and inline policies",
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html:
    // "You cannot change the permissions defined in AWS managed policies";
    // `arn:aws:iam::aws:policy/fp4-*` matches none of the account's own policies.
    #[test]
    fn fp4_aws_managed_namespace() {
        assert_unreachable(&case(
            "fp4",
            &user("fp4-nonExploitableResourceConstraint-user"),
        ));
        assert_unreachable(&case(
            "fp4",
            &role("fp4-nonExploitableResourceConstraint-role"),
        ));
    }

    // fp5, non-exploitable condition constraint (aws:TokenIssueTime before
    // 2020-01-01T00:00:01Z). aws:TokenIssueTime (page of fn3): absent for the user's access
    // keys; for the role, "AssumeRole" (AWS STS API Reference, DurationSeconds),
    // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html: a session lasts
    // at most 12 hours, so no session used now was issued before 2020.
    #[test]
    fn fp5_token_issued_before_2020() {
        assert_unreachable(&case(
            "fp5",
            &user("fp5-nonExploitableConditionConstraint-user"),
        ));
        assert_unreachable(&case(
            "fp5",
            &role("fp5-nonExploitableConditionConstraint-role"),
        ));
    }
}
