//! Synthetic account snapshots for benchmarks and scale tests: a folder in the snapshot
//! layout with as many users, groups, roles, managed policies, buckets and keys as asked.
//!
//! Real accounts cannot be shipped, and the examples under `models/` are tiny, so the
//! benchmarks of loading, graph building and solving use these. The content is deterministic
//! (the same spec gives the same bytes) and varied the way real output is: policy documents in
//! all three encodings, several versions per managed policy, pages, paths, boundaries, group
//! memberships, AWS managed policies left out of `Policies`, roles that MediaConvert may
//! assume, SSE-KMS buckets and key policies. Files are written entry by entry, so a snapshot
//! of any size is written in little memory.
//!
//! Two profiles ([`Profile`]) shape the grants. [`Profile::Varied`] gives each principal its
//! own narrow grants (a bucket prefix or two under conditions, a MediaConvert queue, a role to
//! pass), so few principals reach any one bucket. [`Profile::Broad`] grants the way real
//! accounts do, so that about half of the principals can write any one bucket (a real account
//! of 3,000 principals had 1,406 able to write one):
//!
//! - wide customer managed policies, the first eight of `managed_policies`, under the path
//!   `/platform/`: `S3FullAccess` (`s3:*` on `arn:aws:s3:::*`), `AssumeAnyRole`
//!   (`sts:AssumeRole` on `role/*`), `ReadOnlyLike` (`s3:Get*`, `s3:List*`, `iam:Get*`...
//!   on `*`), `DataLakeWriter` (object writes on every `synthetic-bucket-*`), `PowerUserLike`
//!   (`NotAction` IAM, Organizations and Account on `*`), `DeveloperTools` (Lambda, and
//!   `iam:PassRole` on `role/service-role/*` to Lambda), `DenyBucketDeletion` and
//!   `WorkloadBoundary` (a permissions boundary); the rest are narrow (those of `Varied`), one
//!   or two on each group and role and one on about one user in four, and some attached to
//!   nobody;
//! - groups shared by hundreds of users: group 0 is `Admins` (AWS `AdministratorAccess`, about
//!   one user in a hundred), the others cycle through nine kinds: `Analysts`, `Support`,
//!   `Auditors` (read-only, AWS managed or not), `Finance`, `Operations`, `Interns`,
//!   `Contractors` (narrow grants, read-only, `DenyBucketDeletion`), then `Developers`
//!   (read-only, `AssumeAnyRole`, `DeveloperTools`) and `DataEngineers` (`S3FullAccess`); each
//!   user is in one, two or three of them (a third of the users each), picked by a fixed hash
//!   of the user's index;
//! - roles named for their duty, by the role's index modulo nine (`DataPipeline` with
//!   `S3FullAccess`, `DataLake` with `DataLakeWriter`, `Deploy` with `PowerUserLike`, `Jump`
//!   with `AssumeAnyRole`, `ReadOnly`, and four in nine `App` with narrow grants only; `Admin`,
//!   with `AdministratorAccess`, one in fifty), whose trust policies admit, by the role's
//!   index modulo ten: the account root (`{"AWS": "arn:aws:iam::ACCOUNT:root"}`, five
//!   in ten, and one more with `aws:MultiFactorAuthPresent`), so that everyone allowed
//!   `sts:AssumeRole` on them can become them; Lambda (two, under `/service-role/`); ECS tasks
//!   (one, under `/service-role/`); or one other role and one user by name (one); the first
//!   `mediaconvert_trusting_roles` trust MediaConvert instead;
//! - buckets whose policies deny insecure transport, and now and then unencrypted uploads,
//!   grant a role read or write, or deny writes to all but the `DataPipeline` and `Admin`
//!   roles (one bucket in ten, those whose index ends in 9); one in seven has no policy;
//! - escalations held by one user in `escalating_every`, as with `Varied`.
//!
//! In a broad account the users' teams (`index % 50`, the path of their ARN), admins,
//! escalations, attachments and inline policies are independent of one another, so the first
//! users in ARN order are like any others (`who-can` runs in that order, and a run stopped
//! early is extrapolated from them).

use serde_json::{json, Value};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

mod broad;

/// The account every synthetic snapshot describes.
pub const SYNTHETIC_ACCOUNT: &str = "123456789012";
/// Its region.
pub const SYNTHETIC_REGION: &str = "us-east-1";

/// How the principals of a synthetic account are granted (see the [module](self) doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Narrow grants, each principal its own: few principals can write any one bucket.
    #[default]
    Varied,
    /// Broad grants as real accounts have them: wide managed policies attached to groups of
    /// hundreds of users, many roles trusting the account root, and `sts:AssumeRole` on
    /// `role/*` for developers and jump roles, so about half of the principals can write any
    /// one bucket. Needs at least eight managed policies for the wide ones.
    Broad,
}

/// How many of each kind to write, and how they are granted.
///
/// [`LARGE`](Self::LARGE) and [`QUERY`](Self::QUERY) use [`Profile::Varied`];
/// [`BROAD_2K`](Self::BROAD_2K) and [`BROAD_10K`](Self::BROAD_10K) use [`Profile::Broad`],
/// shaped like real accounts that grant broadly (wide managed policies on groups of hundreds
/// of users, roles that trust the account root, `sts:AssumeRole` on `role/*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticSpec {
    pub profile: Profile,
    pub users: usize,
    pub groups: usize,
    pub roles: usize,
    /// Customer managed policies (with [`Profile::Varied`] each user, group and role also has
    /// one inline policy; with [`Profile::Broad`] each group, every other role and about one
    /// user in five).
    pub managed_policies: usize,
    pub buckets: usize,
    pub keys: usize,
    /// How many of the roles trust `mediaconvert.amazonaws.com` (the first ones).
    pub mediaconvert_trusting_roles: usize,
    /// Every how many users one holds an escalation (an inline policy on itself, a role passed
    /// to Lambda, a new version of its managed policy, in turn); 0 for none.
    pub escalating_every: usize,
}

impl SyntheticSpec {
    /// 10,000 principals and 20,000 policies (10,000 managed, 10,000 inline), the size the
    /// loading benchmark measures.
    pub const LARGE: SyntheticSpec = SyntheticSpec {
        profile: Profile::Varied,
        users: 6_000,
        groups: 200,
        roles: 4_000,
        managed_policies: 10_000,
        buckets: 300,
        keys: 50,
        mediaconvert_trusting_roles: 200,
        escalating_every: 33,
    };

    /// The scale the query benchmark promises answers at: 2,000 users, 200 groups, 1,000 roles
    /// (50 trust MediaConvert), 3,000 customer managed policies, 500 buckets, 50 keys.
    pub const QUERY: SyntheticSpec = SyntheticSpec {
        profile: Profile::Varied,
        users: 2_000,
        groups: 200,
        roles: 1_000,
        managed_policies: 3_000,
        buckets: 500,
        keys: 50,
        mediaconvert_trusting_roles: 50,
        escalating_every: 33,
    };

    /// A broad account of the size of the query benchmark: 2,000 users in 20 groups, 1,000
    /// roles (20 trust MediaConvert, about 600 the account root), 3,000 customer managed
    /// policies, 500 buckets, 50 keys; one user in 49 holds an escalation.
    pub const BROAD_2K: SyntheticSpec = SyntheticSpec {
        profile: Profile::Broad,
        users: 2_000,
        groups: 20,
        roles: 1_000,
        managed_policies: 3_000,
        buckets: 500,
        keys: 50,
        mediaconvert_trusting_roles: 20,
        escalating_every: 49,
    };

    /// A broad account five times larger: 10,000 users in 40 groups, 5,000 roles (100 trust
    /// MediaConvert, about 3,000 the account root), 20,000 customer managed policies, 2,000
    /// buckets, 100 keys; one user in 49 holds an escalation.
    pub const BROAD_10K: SyntheticSpec = SyntheticSpec {
        profile: Profile::Broad,
        users: 10_000,
        groups: 40,
        roles: 5_000,
        managed_policies: 20_000,
        buckets: 2_000,
        keys: 100,
        mediaconvert_trusting_roles: 100,
        escalating_every: 49,
    };

    /// The number of policy documents written: managed (default versions) and inline
    /// (escalations left out).
    pub fn policy_count(&self) -> usize {
        match self.profile {
            Profile::Varied => self.managed_policies + self.users + self.groups + self.roles,
            Profile::Broad => {
                self.managed_policies
                    + broad::users_with_inline(self.users)
                    + self.groups
                    + self.roles.div_ceil(2)
            }
        }
    }
}

/// AWS managed policies some principals attach without the snapshot including them, as real
/// output often does (they come from the bundled copy).
const AWS_MANAGED: [&str; 4] = [
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AWSElementalMediaConvertFullAccess",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonAPIGatewayInvokeFullAccess",
];

/// Writes what every synthetic snapshot holds besides its IAM and resources: the folder, the
/// caller identity and the region.
fn write_account_frame(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir.join("iam"))?;
    write_json(
        &dir.join("caller-identity.json"),
        &json!({"UserId": "AIDASYNTHETIC0000000", "Account": SYNTHETIC_ACCOUNT,
                "Arn": format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:user/admin")}),
    )?;
    std::fs::write(dir.join("region.txt"), format!("{SYNTHETIC_REGION}\n"))?;
    Ok(())
}

/// Writes a snapshot folder for `spec` into `dir` (created if needed).
pub fn write_account(dir: &Path, spec: &SyntheticSpec) -> io::Result<()> {
    let generator = Generator { spec: *spec };
    write_account_frame(dir)?;
    generator.write_authorization_details(&dir.join("iam/account-authorization-details.json"))?;
    for bucket in 0..spec.buckets {
        generator.write_bucket(dir, bucket)?;
    }
    for key in 0..spec.keys {
        generator.write_key(dir, key)?;
    }
    if spec.keys > 0 {
        generator.write_aliases(dir)?;
    }
    generator.write_mediaconvert(dir)
}

fn write_json(path: &Path, value: &Value) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut out = BufWriter::new(File::create(path)?);
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes the items of one JSON list, one at a time.
fn write_list(
    out: &mut impl Write,
    name: &str,
    count: usize,
    item: impl Fn(usize) -> Value,
) -> io::Result<()> {
    write!(out, "\"{name}\":[")?;
    for index in 0..count {
        if index > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &item(index))?;
    }
    out.write_all(b"]")
}

struct Generator {
    spec: SyntheticSpec,
}

/// Percent-encodes everything but letters and digits, as the raw IAM API does.
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One of the three encodings AWS uses, chosen by `index`.
fn encoded(document: Value, index: usize) -> Value {
    match index % 3 {
        0 => document,
        1 => Value::String(document.to_string()),
        _ => Value::String(url_encode(&document.to_string())),
    }
}

impl Generator {
    fn arn(&self, resource: &str) -> String {
        format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:{resource}")
    }

    fn bucket_name(&self, index: usize) -> String {
        format!("synthetic-bucket-{index:04}")
    }

    /// A bucket name for statement `index`; there is always one, even with no buckets.
    fn some_bucket(&self, index: usize) -> String {
        self.bucket_name(index % self.spec.buckets.max(1))
    }

    fn key_id(&self, index: usize) -> String {
        format!("{index:08x}-0000-4000-8000-{:012x}", index * 7919)
    }

    fn key_arn(&self, index: usize) -> String {
        format!(
            "arn:aws:kms:{SYNTHETIC_REGION}:{SYNTHETIC_ACCOUNT}:key/{}",
            self.key_id(index)
        )
    }

    fn managed_arn(&self, index: usize) -> String {
        if let Some(name) = self.wide_name(index) {
            return self.arn(&format!("policy/platform/{name}"));
        }
        self.arn(&format!("policy/team-{}/Policy{index:05}", index % 50))
    }

    fn role_arn(&self, index: usize) -> String {
        self.arn(&format!(
            "role{}{}",
            self.role_path(index),
            self.role_name(index)
        ))
    }

    fn role_path(&self, index: usize) -> &'static str {
        match self.spec.profile {
            Profile::Varied => "/",
            Profile::Broad => self.broad_role_path(index),
        }
    }

    fn role_name(&self, index: usize) -> String {
        if self.spec.profile == Profile::Broad {
            return self.broad_role_name(index);
        }
        if index < self.spec.mediaconvert_trusting_roles {
            format!("MediaConvertRole{index:05}")
        } else {
            format!("Role{index:05}")
        }
    }

    /// A permissions policy with a few statements of the kinds real accounts have.
    fn permissions(&self, seed: usize) -> Value {
        let bucket = self.some_bucket(seed);
        let other = self.some_bucket(seed * 31 + 7);
        let mut statements = vec![
            json!({"Sid": "ReadInputs", "Effect": "Allow",
                   "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                   "Resource": format!("arn:aws:s3:::{bucket}/input/*")}),
            json!({"Sid": "WriteOutputs", "Effect": "Allow", "Action": "s3:PutObject",
                   "Resource": [format!("arn:aws:s3:::{other}/out/${{aws:username}}/*"),
                                format!("arn:aws:s3:::{other}/shared/*")],
                   "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                                 "Bool": {"aws:SecureTransport": "true"}}}),
        ];
        match seed % 4 {
            0 => statements.push(json!({"Sid": "SubmitJobs", "Effect": "Allow",
                "Action": ["mediaconvert:CreateJob", "mediaconvert:Get*", "mediaconvert:List*"],
                "Resource": format!("arn:aws:mediaconvert:{SYNTHETIC_REGION}:{SYNTHETIC_ACCOUNT}:*")})),
            1 => statements.push(json!({"Sid": "PassToMediaConvert", "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": self.role_arn(seed % self.spec.roles.max(1)),
                "Condition": {"StringEquals": {"iam:PassedToService": "mediaconvert.amazonaws.com"}}})),
            2 => statements.push(json!({"Sid": "UseKeysThroughS3", "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
                "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}})),
            _ => statements.push(json!({"Sid": "NoIam", "Effect": "Deny",
                "NotAction": ["s3:*", "mediaconvert:*", "kms:*"], "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7"]}}})),
        }
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn inline(&self, name: &str, seed: usize) -> Value {
        json!([{"PolicyName": name, "PolicyDocument": encoded(self.permissions(seed), seed)}])
    }

    fn attached(&self, arns: Vec<String>) -> Value {
        Value::Array(
            arns.into_iter()
                .map(|arn| {
                    let name = arn.rsplit('/').next().unwrap_or_default().to_string();
                    json!({"PolicyName": name, "PolicyArn": arn})
                })
                .collect(),
        )
    }

    /// Managed policies for principal `index` (customer ones, and now and then an AWS one).
    fn attachments(&self, index: usize) -> Vec<String> {
        let mut arns = Vec::new();
        if self.spec.managed_policies > 0 {
            arns.push(self.managed_arn(index % self.spec.managed_policies));
            arns.push(self.managed_arn((index * 7 + 3) % self.spec.managed_policies));
            arns.dedup();
        }
        if index.is_multiple_of(10) {
            arns.push(AWS_MANAGED[(index / 10) % AWS_MANAGED.len()].to_string());
        }
        arns
    }

    fn boundary(&self, index: usize) -> Option<Value> {
        (self.spec.managed_policies > 0 && index.is_multiple_of(7)).then(|| {
            json!({"PermissionsBoundaryType": "Policy",
                   "PermissionsBoundaryArn": self.managed_arn((index * 13) % self.spec.managed_policies)})
        })
    }

    fn user(&self, index: usize) -> Value {
        let name = format!("user{index:05}");
        let path = format!("/team-{}/", index % 50);
        let groups: Vec<String> = if self.spec.groups == 0 {
            Vec::new()
        } else {
            let mut names = vec![format!("group{:04}", index % self.spec.groups)];
            if index.is_multiple_of(3) {
                names.push(format!("group{:04}", (index / 3) % self.spec.groups));
                names.dedup();
            }
            names
        };
        let mut user = json!({
            "Path": path, "UserName": name, "UserId": format!("AIDASYNTH{index:011}"),
            "Arn": self.arn(&format!("user{path}{name}")), "CreateDate": "2024-01-01T00:00:00+00:00",
            "UserPolicyList": self.inline(&format!("{name}-inline"), index),
            "GroupList": groups, "AttachedManagedPolicies": self.attached(self.attachments(index)),
            "Tags": [{"Key": "team", "Value": format!("team-{}", index % 50)}]});
        if let (Some(boundary), Some(object)) = (self.boundary(index), user.as_object_mut()) {
            object.insert("PermissionsBoundary".to_string(), boundary);
        }
        if let (Some(escalation), Some(list)) = (
            self.escalation(index),
            user["UserPolicyList"].as_array_mut(),
        ) {
            list.push(json!({"PolicyName": format!("{name}-escalation"),
                             "PolicyDocument": encoded(escalation, index)}));
        }
        user
    }

    /// The escalation user `index` holds, if any: a few percent of users, as in real accounts.
    fn escalation(&self, index: usize) -> Option<Value> {
        let every = self.spec.escalating_every;
        if every == 0 || !index.is_multiple_of(every) {
            return None;
        }
        let statements = match (index / every) % 3 {
            0 => json!([{"Effect": "Allow", "Action": "iam:PutUserPolicy",
                         "Resource": self.arn("user/*/${aws:username}")}]),
            1 => {
                json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": self.arn("role/*"),
                         "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
                        {"Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"],
                         "Resource": "*"}])
            }
            _ => json!([{"Effect": "Allow", "Action": "iam:CreatePolicyVersion",
                         "Resource": self.arn("policy/*")}]),
        };
        Some(json!({"Version": "2012-10-17", "Statement": statements}))
    }

    fn group(&self, index: usize) -> Value {
        let name = format!("group{index:04}");
        json!({"Path": "/", "GroupName": name, "GroupId": format!("AGPASYNTH{index:011}"),
               "Arn": self.arn(&format!("group/{name}")), "CreateDate": "2024-01-01T00:00:00+00:00",
               "GroupPolicyList": self.inline(&format!("{name}-inline"), index + 1),
               "AttachedManagedPolicies": self.attached(self.attachments(index + 5))})
    }

    fn trust_policy(&self, index: usize) -> Value {
        if index < self.spec.mediaconvert_trusting_roles {
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "mediaconvert.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": SYNTHETIC_ACCOUNT},
                              "ArnLike": {"aws:SourceArn": format!(
                                  "arn:aws:mediaconvert:{SYNTHETIC_REGION}:{SYNTHETIC_ACCOUNT}:queues/*")}}}]})
        } else if index.is_multiple_of(2) {
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:root")},
                "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})
        } else {
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]},
                "Action": "sts:AssumeRole"}]})
        }
    }

    fn role(&self, index: usize) -> Value {
        let name = self.role_name(index);
        let mut role = json!({
            "Path": "/", "RoleName": name, "RoleId": format!("AROASYNTH{index:011}"),
            "Arn": self.role_arn(index), "CreateDate": "2024-01-01T00:00:00+00:00",
            "AssumeRolePolicyDocument": encoded(self.trust_policy(index), index),
            "InstanceProfileList": [], "RolePolicyList": self.inline(&format!("{name}-inline"), index + 2),
            "AttachedManagedPolicies": self.attached(self.attachments(index + 11)), "Tags": [],
            "RoleLastUsed": {}});
        if let (Some(boundary), Some(object)) = (self.boundary(index + 3), role.as_object_mut()) {
            object.insert("PermissionsBoundary".to_string(), boundary);
        }
        role
    }

    fn managed_policy(&self, index: usize) -> Value {
        let arn = self.managed_arn(index);
        let (prefix, name) = arn.rsplit_once('/').unwrap_or_default();
        let path = format!("{}/", &prefix[prefix.find('/').unwrap_or(prefix.len())..]);
        let document = match self.spec.profile {
            Profile::Varied => self.permissions(index + 3),
            Profile::Broad => self.broad_managed_document(index),
        };
        json!({"PolicyName": name, "PolicyId": format!("ANPASYNTH{index:011}"), "Arn": arn,
               "Path": path, "DefaultVersionId": "v2", "AttachmentCount": 1,
               "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
               "CreateDate": "2024-01-01T00:00:00+00:00", "UpdateDate": "2024-02-01T00:00:00+00:00",
               "PolicyVersionList": [
                   {"Document": encoded(document, index), "VersionId": "v2",
                    "IsDefaultVersion": true, "CreateDate": "2024-02-01T00:00:00+00:00"},
                   {"Document": url_encode(&json!({"Version": "2012-10-17",
                        "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}).to_string()),
                    "VersionId": "v1", "IsDefaultVersion": false, "CreateDate": "2024-01-01T00:00:00+00:00"}]})
    }

    /// The authorization details as two pages (users and groups; roles and policies).
    fn write_authorization_details(&self, path: &Path) -> io::Result<()> {
        let mut out = BufWriter::new(File::create(path)?);
        out.write_all(b"[{")?;
        let broad = self.spec.profile == Profile::Broad;
        write_list(&mut out, "UserDetailList", self.spec.users, |i| {
            if broad {
                self.broad_user(i)
            } else {
                self.user(i)
            }
        })?;
        out.write_all(b",")?;
        write_list(&mut out, "GroupDetailList", self.spec.groups, |i| {
            if broad {
                self.broad_group(i)
            } else {
                self.group(i)
            }
        })?;
        out.write_all(b",\"RoleDetailList\":[],\"Policies\":[],\"IsTruncated\":true,\"Marker\":\"page-2\"},{\"UserDetailList\":[],\"GroupDetailList\":[],")?;
        write_list(&mut out, "RoleDetailList", self.spec.roles, |i| {
            if broad {
                self.broad_role(i)
            } else {
                self.role(i)
            }
        })?;
        out.write_all(b",")?;
        write_list(&mut out, "Policies", self.spec.managed_policies, |i| {
            self.managed_policy(i)
        })?;
        out.write_all(b",\"IsTruncated\":false}]\n")?;
        out.flush()
    }

    /// The statements every bucket policy opens with: no insecure transport, and a role that
    /// may read.
    fn bucket_statements(&self, index: usize) -> Vec<Value> {
        let name = self.bucket_name(index);
        let reader = self.role_arn(index % self.spec.roles.max(1));
        vec![
            json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                   "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")],
                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
            json!({"Sid": "AllowReader", "Effect": "Allow", "Principal": {"AWS": reader},
                   "Action": ["s3:GetObject", "s3:ListBucket"],
                   "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")]}),
        ]
    }

    fn write_bucket(&self, dir: &Path, index: usize) -> io::Result<()> {
        let name = self.bucket_name(index);
        let folder = dir.join("s3").join(&name);
        let statements = match self.spec.profile {
            Profile::Varied => Some(self.bucket_statements(index)),
            Profile::Broad => self.broad_bucket_statements(index),
        };
        if let Some(statements) = statements {
            let policy = json!({"Version": "2012-10-17", "Statement": statements});
            write_json(
                &folder.join("policy.json"),
                &json!({"Policy": policy.to_string()}),
            )?;
        }
        let default = if index.is_multiple_of(3) && self.spec.keys > 0 {
            json!({"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": self.key_arn(index % self.spec.keys)})
        } else {
            json!({"SSEAlgorithm": "AES256"})
        };
        write_json(
            &folder.join("encryption.json"),
            &json!({"ServerSideEncryptionConfiguration": {"Rules": [
                {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": index.is_multiple_of(3)}]}}),
        )?;
        write_json(
            &folder.join("ownership-controls.json"),
            &json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}),
        )?;
        write_json(
            &folder.join("public-access-block.json"),
            &json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true,
                    "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}),
        )?;
        write_json(
            &folder.join("tags.json"),
            &json!({"TagSet": [{"Key": "index", "Value": index.to_string()}]}),
        )
    }

    fn write_key(&self, dir: &Path, index: usize) -> io::Result<()> {
        let id = self.key_id(index);
        let folder = dir.join("kms").join(&id);
        write_json(
            &folder.join("key.json"),
            &json!({"KeyMetadata": {"AWSAccountId": SYNTHETIC_ACCOUNT, "KeyId": id, "Arn": self.key_arn(index),
                "Enabled": true, "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled", "Origin": "AWS_KMS",
                "KeyManager": "CUSTOMER", "KeySpec": "SYMMETRIC_DEFAULT", "MultiRegion": false}}),
        )?;
        let user = self.role_arn(index % self.spec.roles.max(1));
        let policy = json!({"Version": "2012-10-17", "Id": "key-policy", "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "Allow use through S3", "Effect": "Allow", "Principal": {"AWS": user},
             "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{SYNTHETIC_REGION}.amazonaws.com"),
                                            "kms:CallerAccount": SYNTHETIC_ACCOUNT}}}]});
        write_json(
            &folder.join("policy.json"),
            &json!({"Policy": serde_json::to_string_pretty(&policy).unwrap_or_default(), "PolicyName": "default"}),
        )
    }

    fn write_aliases(&self, dir: &Path) -> io::Result<()> {
        let aliases: Vec<Value> = (0..self.spec.keys)
            .map(|index| {
                json!({"AliasName": format!("alias/synthetic-{index:04}"),
                       "AliasArn": format!("arn:aws:kms:{SYNTHETIC_REGION}:{SYNTHETIC_ACCOUNT}:alias/synthetic-{index:04}"),
                       "TargetKeyId": self.key_id(index)})
            })
            .collect();
        write_json(
            &dir.join("kms/aliases.json"),
            &json!({ "Aliases": aliases }),
        )
    }

    fn write_mediaconvert(&self, dir: &Path) -> io::Result<()> {
        let queue = |name: &str| {
            json!({"Arn": format!("arn:aws:mediaconvert:{SYNTHETIC_REGION}:{SYNTHETIC_ACCOUNT}:queues/{name}"),
                   "Name": name, "Type": if name == "Default" { "SYSTEM" } else { "CUSTOM" }, "Status": "ACTIVE"})
        };
        write_json(
            &dir.join("mediaconvert/queues.json"),
            &json!({"Queues": [queue("Default"), queue("premium")]}),
        )
    }
}

/// The bucket the questions on the chain accounts below ask about; its objects are
/// `arn:aws:s3:::stress-bucket/*`.
pub const STRESS_BUCKET: &str = "stress-bucket";

/// Ten glob values that one string satisfies together (`proj-a-x1-prod`, and `us-east-1` is not
/// needed: these are for any free string key).
const JOINT_GLOBS: [&str; 10] = [
    "proj-*", "*-prod", "proj-?-*", "*a*", "*-x?-*", "p*d", "*j-a*", "proj-a-*", "*x1*", "*-*-*-*",
];
/// A glob that no string matching `proj-*` matches.
const DISJOINT_GLOB: &str = "team?-*";
/// Regions: all five hold `us-east-1`; with [`DISJOINT_REGION`] instead of the third, none.
const REGION_GLOBS: [&str; 5] = ["us-*", "*-1", "us-east-*", "*east*", "??-*-?"];
const DISJOINT_REGION: &str = "eu-*";
/// Role session ids (`ROLEID:session`): all five hold a session named `ci-buildx`.
const USERID_GLOBS: [&str; 5] = ["AROA*", "*:*", "AROASTRESS*:*", "*:ci-*", "*:ci-build*"];

/// A `Deny` of everything unless `key` is like `glob`.
fn deny_unless_like(sid: String, key: &str, glob: &str) -> Value {
    json!({"Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*",
           "Condition": {"StringNotLike": {key: glob}}})
}

fn write_bucket_statement() -> Value {
    json!({"Sid": "WriteBucket", "Effect": "Allow", "Action": "s3:PutObject",
           "Resource": format!("arn:aws:s3:::{STRESS_BUCKET}/*")})
}

fn stress_user(name: &str, statements: Vec<Value>, tags: Value) -> Value {
    json!({"Path": "/", "UserName": name, "UserId": format!("AIDASTRESS{:011}", name.len()),
           "Arn": format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:user/{name}"),
           "CreateDate": "2024-01-01T00:00:00+00:00", "GroupList": [], "AttachedManagedPolicies": [],
           "UserPolicyList": [{"PolicyName": format!("{name}-inline"),
               "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
           "Tags": tags})
}

fn stress_role(index: usize, name: &str, trusted: &str, statements: Vec<Value>) -> Value {
    json!({"Path": "/", "RoleName": name, "RoleId": format!("AROASTRESS{index:011}"),
           "Arn": format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:role/{name}"),
           "CreateDate": "2024-01-01T00:00:00+00:00",
           "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
               "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]},
           "InstanceProfileList": [], "AttachedManagedPolicies": [], "Tags": [], "RoleLastUsed": {},
           "RolePolicyList": [{"PolicyName": format!("{name}-inline"),
               "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]})
}

/// Writes a one-page snapshot with these users and roles and the bucket [`STRESS_BUCKET`]
/// (no bucket policy, so only identity policies grant writes to it).
fn write_stress_account(dir: &Path, users: Vec<Value>, roles: Vec<Value>) -> io::Result<()> {
    write_account_frame(dir)?;
    write_json(
        &dir.join("iam/account-authorization-details.json"),
        &json!({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": roles,
                "Policies": [], "IsTruncated": false}),
    )?;
    let bucket = dir.join("s3").join(STRESS_BUCKET);
    write_json(
        &bucket.join("encryption.json"),
        &json!({"ServerSideEncryptionConfiguration": {"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": false}]}}),
    )?;
    write_json(
        &bucket.join("ownership-controls.json"),
        &json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}),
    )
}

/// An account whose one user may write [`STRESS_BUCKET`] but has ten `Deny` statements, each
/// with `StringNotLike` on `key` and a different glob. When `reachable`, one value matches all
/// ten globs (`proj-a-x1-prod`, which is also the user's `project` tag); otherwise the last
/// glob excludes the others. Returns the user's ARN.
pub fn write_deny_globs_account(dir: &Path, key: &str, reachable: bool) -> io::Result<String> {
    let mut globs = JOINT_GLOBS;
    if !reachable {
        globs[9] = DISJOINT_GLOB;
    }
    let mut statements = vec![write_bucket_statement()];
    statements.extend(
        globs
            .iter()
            .enumerate()
            .map(|(i, glob)| deny_unless_like(format!("Deny{i}"), key, glob)),
    );
    let tags = json!([{"Key": "project", "Value": "proj-a-x1-prod"}]);
    write_stress_account(dir, vec![stress_user("writer", statements, tags)], vec![])?;
    Ok(format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:user/writer"))
}

/// An account where a user assumes `Hop1`, which assumes `Hop2`, which assumes `Hop3`, which
/// may write [`STRESS_BUCKET`]. Each role has ten `Deny` statements with `StringNotLike`: five
/// on `aws:RequestedRegion` and five on `aws:userid`; the user has the five on the region.
/// When not `reachable`, the last role's region globs exclude one another. Returns the user's
/// ARN.
pub fn write_denied_role_chain_account(dir: &Path, reachable: bool) -> io::Result<String> {
    let role_arn = |i: usize| format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:role/Hop{i}");
    let user_arn = format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:user/starter");
    let denies = |last: bool| -> Vec<Value> {
        let mut regions = REGION_GLOBS;
        if last && !reachable {
            regions[2] = DISJOINT_REGION;
        }
        regions
            .iter()
            .enumerate()
            .map(|(i, glob)| deny_unless_like(format!("Region{i}"), "aws:RequestedRegion", glob))
            .collect()
    };
    let mut user = vec![json!({"Sid": "AssumeFirst", "Effect": "Allow",
                                "Action": "sts:AssumeRole", "Resource": role_arn(1)})];
    user.extend(denies(false));
    let roles = (1..=3)
        .map(|i| {
            let mut statements = vec![if i < 3 {
                json!({"Sid": "AssumeNext", "Effect": "Allow", "Action": "sts:AssumeRole",
                       "Resource": role_arn(i + 1)})
            } else {
                write_bucket_statement()
            }];
            statements.extend(denies(i == 3));
            statements.extend(
                USERID_GLOBS
                    .iter()
                    .enumerate()
                    .map(|(j, glob)| deny_unless_like(format!("UserId{j}"), "aws:userid", glob)),
            );
            let trusted = if i == 1 {
                user_arn.clone()
            } else {
                role_arn(i - 1)
            };
            stress_role(i, &format!("Hop{i}"), &trusted, statements)
        })
        .collect();
    write_stress_account(dir, vec![stress_user("starter", user, json!([]))], roles)?;
    Ok(user_arn)
}

/// An account of `roles` roles `Mesh00000`... that may all assume one another (each trusts
/// the account root and may assume `*`), a user who may assume `Mesh00000` only, and a role
/// `Writer`, trusting the last mesh role only, that may write [`STRESS_BUCKET`] when
/// `reachable`, and another bucket otherwise. Returns the user's ARN.
pub fn write_role_mesh_account(dir: &Path, roles: usize, reachable: bool) -> io::Result<String> {
    let root = format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:root");
    let assume_any = json!({"Sid": "AssumeAny", "Effect": "Allow", "Action": "sts:AssumeRole",
                            "Resource": "*"});
    let mut list: Vec<Value> = (0..roles)
        .map(|i| stress_role(i, &format!("Mesh{i:05}"), &root, vec![assume_any.clone()]))
        .collect();
    let write = if reachable {
        write_bucket_statement()
    } else {
        json!({"Sid": "WriteElsewhere", "Effect": "Allow", "Action": "s3:PutObject",
               "Resource": "arn:aws:s3:::elsewhere/*"})
    };
    let last = format!(
        "arn:aws:iam::{SYNTHETIC_ACCOUNT}:role/Mesh{:05}",
        roles.saturating_sub(1)
    );
    list.push(stress_role(roles, "Writer", &last, vec![write]));
    let user = stress_user(
        "entrant",
        vec![
            json!({"Sid": "AssumeFirst", "Effect": "Allow", "Action": "sts:AssumeRole",
                    "Resource": format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:role/Mesh00000")}),
        ],
        json!([]),
    );
    write_stress_account(dir, vec![user], list)?;
    Ok(format!("arn:aws:iam::{SYNTHETIC_ACCOUNT}:user/entrant"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_synthetic_account_loads_without_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let spec = SyntheticSpec {
            profile: Profile::Varied,
            users: 30,
            groups: 4,
            roles: 20,
            managed_policies: 25,
            buckets: 6,
            keys: 3,
            mediaconvert_trusting_roles: 5,
            escalating_every: 7,
        };
        write_account(dir.path(), &spec).unwrap();
        let model = crate::snapshot::load(&[dir.path().to_path_buf()]).unwrap();
        assert!(model.warnings.is_empty(), "{:#?}", model.warnings);
        assert_eq!(model.users.len(), 30);
        assert_eq!(model.groups.len(), 4);
        assert_eq!(model.roles.len(), 20);
        assert_eq!(
            model.managed_policies.len(),
            25 + AWS_MANAGED.len(),
            "customer policies and the bundled AWS ones in use"
        );
        assert_eq!(model.buckets.len(), 6);
        assert_eq!(model.keys.len(), 3);
        let effective = model
            .effective_policies(&format!(
                "arn:aws:iam::{SYNTHETIC_ACCOUNT}:user/team-0/user00000"
            ))
            .unwrap();
        assert!(effective.is_complete());
        assert!(effective.boundary.is_some());
        assert_eq!(spec.policy_count(), 25 + 30 + 4 + 20);
        let second = tempfile::tempdir().unwrap();
        write_account(second.path(), &spec).unwrap();
        let details = "iam/account-authorization-details.json";
        assert_eq!(
            std::fs::read(dir.path().join(details)).unwrap(),
            std::fs::read(second.path().join(details)).unwrap(),
            "deterministic"
        );
    }

    /// Every file under `dir`, by path relative to it.
    fn files(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
        let mut out = std::collections::BTreeMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
                }
            }
        }
        out
    }

    #[test]
    fn a_small_broad_account_is_deterministic_and_loads() {
        let spec = SyntheticSpec {
            profile: Profile::Broad,
            users: 60,
            groups: 12,
            roles: 40,
            managed_policies: 20,
            buckets: 10,
            keys: 2,
            mediaconvert_trusting_roles: 2,
            escalating_every: 25,
        };
        let dir = tempfile::tempdir().unwrap();
        write_account(dir.path(), &spec).unwrap();
        let second = tempfile::tempdir().unwrap();
        write_account(second.path(), &spec).unwrap();
        let written = files(dir.path());
        assert!(written.len() > 40, "{:?}", written.keys());
        assert!(written == files(second.path()), "deterministic");

        let model = crate::snapshot::load(&[dir.path().to_path_buf()]).unwrap();
        assert!(model.warnings.is_empty(), "{:#?}", model.warnings);
        assert_eq!(
            (model.users.len(), model.groups.len(), model.roles.len()),
            (60, 12, 40)
        );
        assert_eq!(
            model.managed_policies.len(),
            20 + 3,
            "customer policies and AdministratorAccess, ReadOnlyAccess, AmazonS3ReadOnlyAccess"
        );
        let inline = model
            .users
            .values()
            .filter(|u| {
                u.inline_policies
                    .iter()
                    .any(|p| p.name.ends_with("-inline"))
            })
            .count();
        assert_eq!(spec.policy_count(), 20 + inline + 12 + 20);
        assert_eq!(model.buckets.len(), 10);
        assert!(model.buckets["synthetic-bucket-0006"].policy.is_none());
        assert!(model.buckets["synthetic-bucket-0009"].policy.is_some());
        for user in model.users.values() {
            let ordinary = user.groups.iter().filter(|g| *g != "Admins").count();
            assert!(
                (1..=3).contains(&ordinary),
                "{}: {:?}",
                user.arn,
                user.groups
            );
        }

        // A developer may assume every role that trusts the account root, and so can write a
        // bucket though no policy of its own grants `s3:PutObject`.
        let developer = model
            .users
            .values()
            .find(|u| {
                u.groups.iter().any(|g| g == "Developers")
                    && !u
                        .groups
                        .iter()
                        .any(|g| g == "DataEngineers" || g == "Admins")
            })
            .expect("a developer");
        let graph = crate::graph::DelegationGraph::build(&model);
        let assumed: std::collections::BTreeSet<&str> = graph
            .steps_from(&developer.arn)
            .iter()
            .filter(|s| matches!(s, crate::graph::Step::AssumeRole { .. }))
            .map(|s| s.target())
            .collect();
        let generator = Generator { spec };
        let root_trusting: Vec<String> = (2..40)
            .filter(|i| i % 10 <= 4)
            .map(|i| generator.role_arn(i))
            .collect();
        for role in &root_trusting {
            assert!(assumed.contains(role.as_str()), "{role}: {assumed:?}");
        }
        let engine = crate::query::Engine::new(&model, crate::query::Options::default());
        let answer = engine
            .can(&crate::query::Question {
                principal: developer.arn.clone(),
                action: "s3:PutObject".into(),
                resource: "arn:aws:s3:::synthetic-bucket-0003/*".into(),
                context: crate::policy::Context::new(),
            })
            .unwrap();
        assert_eq!(answer.verdict, crate::query::Verdict::Reachable);
        assert!(answer.chain.len() >= 2, "{:#?}", answer.chain);
        assert_ne!(answer.chain.last().unwrap().principal, developer.arn);
    }

    #[test]
    fn the_chain_accounts_load_and_answer_as_documented() {
        use crate::query::{Engine, Options, Question, Verdict};
        let ask = |dir: &Path, principal: String| {
            let model = crate::snapshot::load(&[dir.to_path_buf()]).unwrap();
            assert!(model.warnings.is_empty(), "{:#?}", model.warnings);
            let engine = Engine::new(&model, Options::default());
            let question = Question {
                principal,
                action: "s3:PutObject".into(),
                resource: format!("arn:aws:s3:::{STRESS_BUCKET}/*"),
                context: crate::policy::Context::new(),
            };
            engine.can(&question).unwrap().verdict
        };
        for reachable in [true, false] {
            let expected = if reachable {
                Verdict::Reachable
            } else {
                Verdict::Unreachable
            };
            let dir = tempfile::tempdir().unwrap();
            let user = write_deny_globs_account(dir.path(), "aws:SourceVpce", reachable).unwrap();
            assert_eq!(ask(dir.path(), user), expected, "deny globs");
            let dir = tempfile::tempdir().unwrap();
            let user = write_denied_role_chain_account(dir.path(), reachable).unwrap();
            assert_eq!(ask(dir.path(), user), expected, "role chain");
            let dir = tempfile::tempdir().unwrap();
            let user = write_role_mesh_account(dir.path(), 5, reachable).unwrap();
            assert_eq!(ask(dir.path(), user), expected, "role mesh");
        }
    }
}
