//! The principals, groups, roles, managed policies and bucket policies of
//! [`Profile::Broad`](super::Profile::Broad) accounts; the [module](super) doc describes their
//! shape. Every choice is a function of an index (a fixed hash where a modulus would line
//! choices up), so the same spec gives the same bytes.

use super::{encoded, Generator, Profile, SYNTHETIC_ACCOUNT, SYNTHETIC_REGION};
use serde_json::{json, Value};

/// The wide customer managed policies, the first managed policies of a broad account, under
/// the path `/platform/`.
const WIDE: [&str; 8] = [
    "S3FullAccess",
    "AssumeAnyRole",
    "ReadOnlyLike",
    "DataLakeWriter",
    "PowerUserLike",
    "DeveloperTools",
    "DenyBucketDeletion",
    "WorkloadBoundary",
];
const S3_FULL: usize = 0;
const ASSUME_ANY: usize = 1;
const READ_ONLY: usize = 2;
const DATA_LAKE: usize = 3;
const POWER_USER: usize = 4;
const DEVELOPER_TOOLS: usize = 5;
const DENY_DELETION: usize = 6;
const BOUNDARY: usize = 7;

const ADMINISTRATOR: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const AWS_READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const AWS_S3_READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

/// A kind of group: its name and the wide policies (customer and AWS managed) it attaches.
struct GroupKind {
    name: &'static str,
    wide: &'static [usize],
    aws: &'static [&'static str],
}

/// The kinds of the groups after group 0 (`Admins`), in turn. The last two of the nine can
/// write every bucket: `Developers` by assuming a role or taking over a Lambda function's,
/// `DataEngineers` directly.
const GROUP_KINDS: [GroupKind; 9] = [
    GroupKind {
        name: "Analysts",
        wide: &[READ_ONLY],
        aws: &[AWS_S3_READ_ONLY],
    },
    GroupKind {
        name: "Support",
        wide: &[],
        aws: &[AWS_READ_ONLY],
    },
    GroupKind {
        name: "Finance",
        wide: &[DENY_DELETION],
        aws: &[],
    },
    GroupKind {
        name: "Operations",
        wide: &[READ_ONLY, DENY_DELETION],
        aws: &[],
    },
    GroupKind {
        name: "Auditors",
        wide: &[READ_ONLY],
        aws: &[AWS_READ_ONLY],
    },
    GroupKind {
        name: "Interns",
        wide: &[DENY_DELETION],
        aws: &[],
    },
    GroupKind {
        name: "Contractors",
        wide: &[READ_ONLY, DENY_DELETION],
        aws: &[],
    },
    GroupKind {
        name: "Developers",
        wide: &[READ_ONLY, ASSUME_ANY, DEVELOPER_TOOLS],
        aws: &[],
    },
    GroupKind {
        name: "DataEngineers",
        wide: &[S3_FULL, READ_ONLY],
        aws: &[],
    },
];

/// Whom a role's trust policy admits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trust {
    MediaConvert,
    Root,
    RootWithMfa,
    Lambda,
    EcsTasks,
    Named,
}

/// What a role is for: its name and its wide policies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Duty {
    Admin,
    DataPipeline,
    DataLake,
    Deploy,
    Jump,
    ReadOnly,
    App,
}

/// SplitMix64: a fixed, well-mixed hash of an index.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Whether user `index` is one in `n`, for the choice `salt`: a fixed hash rather than a
/// modulus, so that the choice is independent of the user's team (`index % 50`) and so of the
/// order of ARNs.
fn one_in(index: usize, salt: u64, n: u64) -> bool {
    mix(mix(index as u64) ^ salt).is_multiple_of(n)
}

const ADMIN_SALT: u64 = 1;
const ATTACHED_SALT: u64 = 2;
const INLINE_SALT: u64 = 3;

/// How many of `users` users have an inline policy (escalations left out).
pub(super) fn users_with_inline(users: usize) -> usize {
    (0..users).filter(|&i| one_in(i, INLINE_SALT, 5)).count()
}

impl Generator {
    /// The name of managed policy `index` when it is one of the wide ones.
    pub(super) fn wide_name(&self, index: usize) -> Option<&'static str> {
        (self.spec.profile == Profile::Broad)
            .then(|| WIDE.get(index).copied())
            .flatten()
    }

    /// The ARN of wide policy `which`, if the account has that many managed policies.
    fn wide(&self, which: usize) -> Option<String> {
        (which < self.spec.managed_policies).then(|| self.managed_arn(which))
    }

    /// A narrow managed policy chosen by `seed`, if there are any.
    fn narrow(&self, seed: usize) -> Option<String> {
        let narrow = self.spec.managed_policies.checked_sub(WIDE.len())?;
        (narrow > 0).then(|| self.managed_arn(WIDE.len() + seed % narrow))
    }

    fn user_arn(&self, index: usize) -> String {
        self.arn(&format!("user/team-{}/user{index:05}", index % 50))
    }

    fn trust(&self, index: usize) -> Trust {
        if index < self.spec.mediaconvert_trusting_roles {
            return Trust::MediaConvert;
        }
        match index % 10 {
            0..=4 => Trust::Root,
            5 => Trust::RootWithMfa,
            6 | 7 => Trust::Lambda,
            8 => Trust::EcsTasks,
            _ => Trust::Named,
        }
    }

    fn duty(&self, index: usize) -> Duty {
        if index % 50 == 7 {
            return Duty::Admin;
        }
        match index % 9 {
            0 => Duty::DataPipeline,
            1 => Duty::DataLake,
            2 => Duty::Deploy,
            3 => Duty::Jump,
            4 => Duty::ReadOnly,
            _ => Duty::App,
        }
    }

    pub(super) fn broad_role_path(&self, index: usize) -> &'static str {
        match self.trust(index) {
            Trust::Lambda | Trust::EcsTasks => "/service-role/",
            _ => "/",
        }
    }

    pub(super) fn broad_role_name(&self, index: usize) -> String {
        if index < self.spec.mediaconvert_trusting_roles {
            return format!("MediaConvertRole{index:05}");
        }
        let duty = match self.duty(index) {
            Duty::Admin => "Admin",
            Duty::DataPipeline => "DataPipeline",
            Duty::DataLake => "DataLake",
            Duty::Deploy => "Deploy",
            Duty::Jump => "Jump",
            Duty::ReadOnly => "ReadOnly",
            Duty::App => "App",
        };
        format!("{duty}{index:05}")
    }

    /// The document of managed policy `index`: a wide one, or narrow grants.
    pub(super) fn broad_managed_document(&self, index: usize) -> Value {
        let account = SYNTHETIC_ACCOUNT;
        let statements = match index {
            S3_FULL => json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::*"}]),
            ASSUME_ANY => json!([{"Effect": "Allow", "Action": "sts:AssumeRole",
                                  "Resource": format!("arn:aws:iam::{account}:role/*")}]),
            READ_ONLY => json!([{"Effect": "Allow", "Resource": "*", "Action": [
                "s3:Get*", "s3:List*", "iam:Get*", "iam:List*", "kms:Describe*", "kms:List*",
                "ec2:Describe*", "cloudwatch:Get*", "logs:Describe*"]}]),
            DATA_LAKE => json!([
                {"Sid": "Objects", "Effect": "Allow",
                 "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                 "Resource": "arn:aws:s3:::synthetic-bucket-*/*"},
                {"Sid": "Buckets", "Effect": "Allow", "Action": "s3:ListBucket",
                 "Resource": "arn:aws:s3:::synthetic-bucket-*"},
                {"Sid": "Keys", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                 "Resource": "*", "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}}]),
            POWER_USER => json!([
                {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
                {"Effect": "Allow", "Resource": "*", "Action": [
                    "iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
                    "organizations:DescribeOrganization", "account:ListRegions"]}]),
            DEVELOPER_TOOLS => json!([
                {"Effect": "Allow", "Action": ["lambda:*", "logs:*"], "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:PassRole",
                 "Resource": format!("arn:aws:iam::{account}:role/service-role/*"),
                 "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
                {"Effect": "Allow", "Action": ["iam:GetRole", "iam:ListRoles"], "Resource": "*"}]),
            DENY_DELETION => json!([{"Effect": "Deny", "Resource": "*", "Action": [
                "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl"]}]),
            BOUNDARY => json!([
                {"Effect": "Allow", "Resource": "*", "Action": [
                    "s3:*", "kms:*", "logs:*", "sqs:*", "dynamodb:*", "lambda:*", "sts:AssumeRole"]},
                {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]),
            _ => return self.permissions(index + 3),
        };
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    /// The groups of user `index`: one, two or three (by the index modulo three) of the groups
    /// after `Admins`, picked by a fixed hash, and `Admins` too for about one user in a hundred.
    fn broad_groups(&self, index: usize) -> Vec<String> {
        let mut picked = Vec::new();
        if self.spec.groups > 0 && one_in(index, ADMIN_SALT, 100) {
            picked.push(0);
        }
        let ordinary = self.spec.groups.saturating_sub(1);
        let count = (1 + index % 3).min(ordinary);
        let mut hash = mix(index as u64);
        let mut chosen = 0;
        while chosen < count {
            let group = 1 + (hash % ordinary as u64) as usize;
            if !picked.contains(&group) {
                picked.push(group);
                chosen += 1;
            }
            hash = mix(hash);
        }
        picked.into_iter().map(|g| self.group_name(g)).collect()
    }

    fn group_name(&self, index: usize) -> String {
        match index {
            0 => "Admins".to_string(),
            _ => {
                let kind = &GROUP_KINDS[(index - 1) % GROUP_KINDS.len()];
                match (index - 1) / GROUP_KINDS.len() {
                    0 => kind.name.to_string(),
                    n => format!("{}{}", kind.name, n + 1),
                }
            }
        }
    }

    pub(super) fn broad_user(&self, index: usize) -> Value {
        let name = format!("user{index:05}");
        let path = format!("/team-{}/", index % 50);
        let attached: Vec<String> = if one_in(index, ATTACHED_SALT, 4) {
            self.narrow(index * 7 + 3).into_iter().collect()
        } else {
            Vec::new()
        };
        let mut inline = if one_in(index, INLINE_SALT, 5) {
            self.inline(&format!("{name}-inline"), index)
        } else {
            json!([])
        };
        if let (Some(escalation), Some(list)) = (self.escalation(index), inline.as_array_mut()) {
            list.push(json!({"PolicyName": format!("{name}-escalation"),
                             "PolicyDocument": encoded(escalation, index)}));
        }
        json!({
            "Path": path, "UserName": name, "UserId": format!("AIDASYNTH{index:011}"),
            "Arn": self.user_arn(index), "CreateDate": "2024-01-01T00:00:00+00:00",
            "UserPolicyList": inline, "GroupList": self.broad_groups(index),
            "AttachedManagedPolicies": self.attached(attached),
            "Tags": [{"Key": "team", "Value": format!("team-{}", index % 50)}]})
    }

    pub(super) fn broad_group(&self, index: usize) -> Value {
        let name = self.group_name(index);
        let mut attached = Vec::new();
        if index == 0 {
            attached.push(ADMINISTRATOR.to_string());
        } else {
            let kind = &GROUP_KINDS[(index - 1) % GROUP_KINDS.len()];
            attached.extend(kind.wide.iter().filter_map(|&w| self.wide(w)));
            attached.extend(kind.aws.iter().map(|arn| arn.to_string()));
            attached.extend(self.narrow(index * 11 + 5));
        }
        json!({"Path": "/", "GroupName": name, "GroupId": format!("AGPASYNTH{index:011}"),
               "Arn": self.arn(&format!("group/{name}")), "CreateDate": "2024-01-01T00:00:00+00:00",
               "GroupPolicyList": self.inline(&format!("{name}-inline"), index + 1),
               "AttachedManagedPolicies": self.attached(attached)})
    }

    fn broad_trust_policy(&self, index: usize) -> Value {
        let root = format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:root");
        let service = |name: &str| json!({"Effect": "Allow", "Principal": {"Service": name}, "Action": "sts:AssumeRole"});
        let statement = match self.trust(index) {
            Trust::MediaConvert => json!({"Effect": "Allow",
                "Principal": {"Service": "mediaconvert.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": SYNTHETIC_ACCOUNT},
                              "ArnLike": {"aws:SourceArn": format!(
                                  "arn:aws:mediaconvert:{SYNTHETIC_REGION}:{SYNTHETIC_ACCOUNT}:queues/*")}}}),
            Trust::Root => {
                json!({"Effect": "Allow", "Principal": {"AWS": root}, "Action": "sts:AssumeRole"})
            }
            Trust::RootWithMfa => json!({"Effect": "Allow", "Principal": {"AWS": root},
                "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
            Trust::Lambda => service("lambda.amazonaws.com"),
            Trust::EcsTasks => service("ecs-tasks.amazonaws.com"),
            Trust::Named => {
                let mut named = vec![self.role_arn(index - 6)];
                if self.spec.users > 0 {
                    named.push(self.user_arn((index * 13) % self.spec.users));
                }
                json!({"Effect": "Allow", "Principal": {"AWS": named}, "Action": "sts:AssumeRole"})
            }
        };
        json!({"Version": "2012-10-17", "Statement": [statement]})
    }

    pub(super) fn broad_role(&self, index: usize) -> Value {
        let name = self.broad_role_name(index);
        let duty = self.duty(index);
        let mut attached = Vec::new();
        match duty {
            Duty::Admin => attached.push(ADMINISTRATOR.to_string()),
            Duty::DataPipeline => attached.extend(self.wide(S3_FULL)),
            Duty::DataLake => attached.extend(self.wide(DATA_LAKE)),
            Duty::Deploy => attached.extend(self.wide(POWER_USER)),
            Duty::Jump => {
                attached.extend([ASSUME_ANY, READ_ONLY].iter().filter_map(|&w| self.wide(w)))
            }
            Duty::ReadOnly => attached.extend(self.wide(READ_ONLY)),
            Duty::App => {}
        }
        attached.extend(self.narrow(index * 3 + 1));
        if index.is_multiple_of(3) {
            attached.extend(self.narrow(index * 5 + 2));
        }
        attached.dedup();
        let inline = if index.is_multiple_of(2) {
            self.inline(&format!("{name}-inline"), index + 2)
        } else {
            json!([])
        };
        let mut role = json!({
            "Path": self.broad_role_path(index), "RoleName": name,
            "RoleId": format!("AROASYNTH{index:011}"), "Arn": self.role_arn(index),
            "CreateDate": "2024-01-01T00:00:00+00:00",
            "AssumeRolePolicyDocument": encoded(self.broad_trust_policy(index), index),
            "InstanceProfileList": [], "RolePolicyList": inline,
            "AttachedManagedPolicies": self.attached(attached), "Tags": [], "RoleLastUsed": {}});
        let service = matches!(self.trust(index), Trust::Lambda | Trust::EcsTasks);
        if let (true, Some(boundary), Some(object)) = (
            service && index.is_multiple_of(3),
            self.wide(BOUNDARY),
            role.as_object_mut(),
        ) {
            object.insert(
                "PermissionsBoundary".to_string(),
                json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}),
            );
        }
        role
    }

    /// The statements of bucket `index`'s policy, or none for one bucket in seven: no insecure
    /// transport and a role that may read; one in four refuses unencrypted uploads, one in
    /// five lets a role write, one in ten (those ending in 9) refuses writes by all but the
    /// `DataPipeline` and `Admin` roles.
    pub(super) fn broad_bucket_statements(&self, index: usize) -> Option<Vec<Value>> {
        if index % 7 == 6 {
            return None;
        }
        let name = self.bucket_name(index);
        let objects = format!("arn:aws:s3:::{name}/*");
        let mut statements = self.bucket_statements(index);
        if index % 4 == 1 {
            statements.push(json!({"Sid": "DenyUnencryptedUploads", "Effect": "Deny",
                "Principal": "*", "Action": "s3:PutObject", "Resource": objects,
                "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}));
        }
        if index % 5 == 2 && self.spec.roles > 0 {
            statements.push(json!({"Sid": "AllowPartnerWriter", "Effect": "Allow",
                "Principal": {"AWS": self.role_arn((index * 17 + 5) % self.spec.roles)},
                "Action": "s3:PutObject", "Resource": objects}));
        }
        if index % 10 == 9 {
            statements.push(
                json!({"Sid": "OnlyPipelinesWrite", "Effect": "Deny", "Principal": "*",
                "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": objects,
                "Condition": {"StringNotLike": {"aws:PrincipalArn": [
                    format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:role/DataPipeline*"),
                    format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:role/Admin*")]}}}),
            );
        }
        Some(statements)
    }
}
