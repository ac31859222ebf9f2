//! AWS Elemental MediaConvert as a delegation step.
//!
//! A user submits a job (`mediaconvert:CreateJob` on a queue) and passes a service role in the
//! same call (`iam:PassRole` with `iam:PassedToService = mediaconvert.amazonaws.com`);
//! MediaConvert assumes the role (`sts:AssumeRole`, with `aws:SourceAccount` the job's account
//! and `aws:SourceArn` the queue ARN) and then makes only the requests a job makes: it reads
//! inputs, writes outputs and their ACL, uses KMS through S3, calls API Gateway for SPEKE and
//! reads a Secrets Manager secret for Kantar. Anything else the role may do is out of reach
//! through MediaConvert. Roles of other accounts cannot be passed, so the role always lives in
//! the job's account.

/// The service principal.
pub const SERVICE: &str = "mediaconvert.amazonaws.com";

/// The action that submits a job.
pub const CREATE_JOB: &str = "mediaconvert:CreateJob";

/// The queue every account has in every region.
pub const DEFAULT_QUEUE: &str = "Default";

/// What a job does with its role, each with the reason a job needs it.
pub const CAPABILITIES: &[(&str, &str)] = &[
    ("s3:GetObject", "reads an input"),
    ("s3:PutObject", "writes an output"),
    ("s3:PutObjectAcl", "sets a canned ACL on an output"),
    ("kms:Decrypt", "reads an SSE-KMS input through S3"),
    ("kms:GenerateDataKey", "writes an SSE-KMS output through S3"),
    ("kms:Encrypt", "encrypts an output through S3"),
    (
        "execute-api:Invoke",
        "calls a SPEKE key server through API Gateway",
    ),
    (
        "secretsmanager:GetSecretValue",
        "reads Kantar watermarking credentials",
    ),
];

/// Why a job would make `action`, if it ever does.
pub fn capability(action: &str) -> Option<&'static str> {
    CAPABILITIES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(action))
        .map(|(_, why)| *why)
}

/// KMS actions that a job makes only through S3 (`kms:ViaService` is S3's).
pub fn is_kms_via_s3(action: &str) -> bool {
    action.to_ascii_lowercase().starts_with("kms:")
}

/// The ARN of a queue.
pub fn queue_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:mediaconvert:{region}:{account}:queues/{name}")
}

/// The session name MediaConvert gives the role's sessions is not documented; witnesses use
/// this one, and a policy that names a particular session of a service role is reported as
/// outside the model.
pub const SESSION_NAME: &str = "MediaConvert";

/// The ARN format of a queue.
pub const QUEUE: &str = "arn:${Partition}:mediaconvert:${Region}:${Account}:queues/${QueueName}";

pub const TECHNIQUES: &[super::technique::Technique] = &[super::technique::Technique {
    id: "mediaconvert-create-job",
    step: "MediaConvert job with",
    summary: "submits a MediaConvert job that runs with the role",
    targets: super::technique::Targets::PassedRole { service: SERVICE },
    needs: &[
        super::technique::on_existing(CREATE_JOB, QUEUE, &[DEFAULT_QUEUE]),
        super::technique::PASS_ROLE,
    ],
    gain: super::technique::Gain::Job {
        does: CAPABILITIES,
        session: SESSION_NAME,
    },
    assumes: &[],
    sets_source: true,
}];
