//! The account model: what the snapshots say about accounts, principals, policies and
//! resources, as plain data with no I/O.
//!
//! `snapshot` fills it from AWS CLI output; the analyses only read it (what-if works on a
//! copy). Collections are `BTreeMap`s keyed by ARN (buckets by name) so that every walk over
//! the model is in a stable order and every report built from it is deterministic. Policy
//! documents are held in `Arc`s: a managed policy is parsed once and shared by every
//! principal it is attached to.

use crate::eval::{NamedPolicy, PolicySet};
use crate::policy::Policy;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything loaded from one or more account snapshots.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// One entry per snapshot, sorted by account id.
    pub accounts: Vec<Account>,
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    pub roles: BTreeMap<String, Role>,
    /// Managed policies by ARN: those of the snapshots, plus the bundled AWS managed policies
    /// that some principal references and no snapshot includes.
    pub managed_policies: BTreeMap<String, ManagedPolicy>,
    /// Buckets by name (bucket names are global).
    pub buckets: BTreeMap<String, Bucket>,
    pub keys: BTreeMap<String, KmsKey>,
    /// KMS aliases by alias ARN.
    pub aliases: BTreeMap<String, KmsAlias>,
    pub queues: BTreeMap<String, Queue>,
    pub job_templates: BTreeMap<String, JobTemplate>,
    pub presets: BTreeMap<String, Preset>,
    /// API Gateway REST APIs by their `execute-api` ARN prefix (`arn:aws:execute-api:R:A:ID`).
    pub rest_apis: BTreeMap<String, RestApi>,
    /// The identity providers of the snapshots that record them (`iam/oidc-providers.json`,
    /// `iam/saml-providers.json`), by ARN.
    pub identity_providers: BTreeMap<String, IdentityProvider>,
    /// The accounts whose snapshots record their identity providers.
    pub provider_listings: BTreeSet<String>,
    /// What the loader could not use or resolve, sorted.
    pub warnings: Vec<Warning>,
    /// Authorization details files whose last page says `IsTruncated: true`: the model misses
    /// principals or policies, so refutations are `unknown`.
    pub truncated: Vec<String>,
    /// Values a Terraform plan leaves unknown until apply, by the ARN of what they are part
    /// of: answers through a user, group or role, or one of its managed policies, are
    /// `unknown`; a bucket's or key's policy is taken to admit the caller, as an assumption.
    pub pending: BTreeMap<String, BTreeSet<String>>,
    /// What plans and templates hold that may grant access but that iamproof does not read
    /// or cannot tell before they are applied, each a full reason
    /// (`plan.json: aws_iam_role_policies_exclusive.media is not read ...`): refutations are
    /// `unknown`.
    pub unread: Vec<String>,
    /// Names AWS chooses at creation, held by placeholders.
    pub generated: Vec<crate::terraform::GeneratedName>,
    /// Where the policies that plans and templates make are declared, by the name answers
    /// give them (`<ARN>#inline/<name>`, `trust policy of <ARN>`, a managed or control policy
    /// ARN, `bucket policy of <bucket>`, `key policy of <ARN>`). A policy of a snapshot has
    /// none: [`crate::report::locate`] finds it in the snapshot's files.
    pub origins: BTreeMap<String, Origin>,
    /// The CloudFormation stacks each snapshot records (`cloudformation/stacks/<name>.json`),
    /// by account and stack name; `None` for a snapshot that does not record them. Accounts of
    /// no snapshot are absent.
    pub stacks: BTreeMap<String, Option<BTreeMap<String, Stack>>>,
}

/// One stack of a snapshot, as `list-stack-resources` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stack {
    /// The resources listed, without those already deleted.
    pub resources: Vec<StackResource>,
    /// Whether the listing carries a `NextToken`: it is one page of a longer one, and the
    /// stack may have resources it does not list.
    pub partial: bool,
}

/// One resource of a CloudFormation stack, as `list-stack-resources` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    pub logical_id: String,
    /// The name, ARN or id AWS gave it; `None` before it is created.
    pub physical_id: Option<String>,
    /// `AWS::IAM::Role`.
    pub kind: String,
}

/// The resource of a Terraform plan or CloudFormation template that declares a policy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    /// The plan or template, as given on the command line or in the proof file.
    pub file: String,
    /// The Terraform resource address (`module.media.aws_iam_role_policy.writer`) or the
    /// template's logical id (`WriterPolicy`).
    pub address: String,
    /// Whether `address` is a template's logical id rather than a Terraform address.
    pub template: bool,
    /// The 1-based line the resource starts on, when the reader kept it (YAML templates); the
    /// JSON of plans and templates is placed when a report needs it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
}

/// An IAM OIDC or SAML identity provider of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    pub arn: String,
    /// For an OIDC provider, the audiences (client ids) STS accepts in a token's `aud`; `None`
    /// where they are not known (a SAML provider, or a change that may alter them).
    pub audiences: Option<Vec<String>>,
}

/// One AWS account, as one snapshot folder describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    /// `aws`, `aws-cn` or `aws-us-gov`, as the snapshot's ARNs say.
    pub partition: String,
    pub region: String,
    /// The snapshot folder, as given on the command line.
    pub source: PathBuf,
    /// When the snapshot was collected (`collected-at.txt`), when it says.
    pub collected_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The organization above this account; `None` when the snapshot has no
    /// `organizations/targets.json` (no SCPs or RCPs apply).
    pub organization: Option<Organization>,
}

impl Account {
    /// The SCPs of each organization level, root first; empty when no SCP applies (not in an
    /// organization, or SCPs not enabled).
    pub fn scp_levels(&self) -> Vec<Vec<NamedPolicy>> {
        match &self.organization {
            Some(organization) if organization.scps_enabled && !self.is_management() => {
                levels_of(&organization.levels, |level| &level.scps)
            }
            _ => Vec::new(),
        }
    }

    /// The RCPs of each organization level, root first; empty when no RCP applies.
    /// `RCPFullAWSAccess` is implied at every level, as the evaluator assumes.
    pub fn rcp_levels(&self) -> Vec<Vec<NamedPolicy>> {
        match &self.organization {
            Some(organization) if organization.rcps_enabled && !self.is_management() => {
                levels_of(&organization.levels, |level| &level.rcps)
            }
            _ => Vec::new(),
        }
    }

    /// Whether this is its organization's management account, which SCPs and RCPs do not
    /// restrict ("Service control policies", "Resource control policies" in the AWS
    /// Organizations User Guide).
    pub fn is_management(&self) -> bool {
        self.organization
            .as_ref()
            .and_then(|o| o.management_account.as_deref())
            == Some(self.id.as_str())
    }

    /// Organization policies that the levels name but the snapshot does not hold.
    pub fn missing_organization_policies(&self) -> Vec<String> {
        let mut missing: Vec<String> = self
            .organization
            .iter()
            .flat_map(|organization| &organization.levels)
            .flat_map(|level| level.missing.iter().cloned())
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }
}

fn levels_of(
    levels: &[OrganizationLevel],
    pick: impl Fn(&OrganizationLevel) -> &Vec<OrganizationPolicy>,
) -> Vec<Vec<NamedPolicy>> {
    levels
        .iter()
        .map(|level| pick(level).iter().map(OrganizationPolicy::named).collect())
        .collect()
}

/// The organization levels above and at one account, root first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub levels: Vec<OrganizationLevel>,
    /// False when no level has an SCP: the SCP policy type is not enabled in the organization
    /// (AWS keeps at least one SCP at every level while it is), so SCPs restrict nothing.
    pub scps_enabled: bool,
    /// False when no level has an RCP: the RCP policy type is not enabled.
    pub rcps_enabled: bool,
    /// The organization id (`o-...`), when `organizations/organization.json` says.
    pub id: Option<String>,
    /// The management account, when `organizations/organization.json` says: neither SCPs
    /// nor RCPs restrict it.
    pub management_account: Option<String>,
}

/// One level of the organization tree (root, an OU, or the account) and the policies attached
/// there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationLevel {
    /// `r-...`, `ou-...` or the account id.
    pub target: String,
    pub scps: Vec<OrganizationPolicy>,
    pub rcps: Vec<OrganizationPolicy>,
    /// Policy ids listed for this level that the snapshot does not describe.
    pub missing: Vec<String>,
}

/// A service or resource control policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationPolicy {
    /// `p-...`
    pub id: String,
    pub name: Option<String>,
    pub arn: String,
    pub aws_managed: bool,
    pub policy: Arc<Policy>,
}

impl OrganizationPolicy {
    /// The policy under its ARN, as explanations name it.
    pub fn named(&self) -> NamedPolicy {
        NamedPolicy {
            name: self.arn.clone(),
            policy: Arc::clone(&self.policy),
        }
    }
}

/// An inline policy of a user, group or role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinePolicy {
    pub name: String,
    pub policy: Arc<Policy>,
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub arn: String,
    pub name: String,
    pub path: String,
    pub account: String,
    pub inline_policies: Vec<InlinePolicy>,
    pub managed_policy_arns: Vec<String>,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Group names, as `GroupList` gives them (not ARNs).
    pub groups: Vec<String>,
    /// `UserId` (`AIDA...`): the value of `aws:userid`; `None` when the snapshot omits it.
    pub unique_id: Option<String>,
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub arn: String,
    pub name: String,
    pub path: String,
    pub account: String,
    pub inline_policies: Vec<InlinePolicy>,
    pub managed_policy_arns: Vec<String>,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub arn: String,
    pub name: String,
    pub path: String,
    pub account: String,
    pub trust_policy: Arc<Policy>,
    pub inline_policies: Vec<InlinePolicy>,
    pub managed_policy_arns: Vec<String>,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// `RoleId` (`AROA...`): `aws:userid` of a session is `RoleId:session-name`; `None` when
    /// the snapshot omits it.
    pub unique_id: Option<String>,
}

impl Role {
    /// Whether AWS created the role for a service (path `/aws-service-role/`); SCPs do not
    /// restrict such roles.
    pub fn is_service_linked(&self) -> bool {
        self.path.starts_with("/aws-service-role/")
    }
}

/// Where a managed policy document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicySource {
    /// The snapshot's `Policies` list.
    Snapshot,
    /// The project's bundled copy of the AWS managed policies.
    Bundled,
}

/// A managed policy: its default version, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub path: String,
    /// The owning account id, or `aws` for AWS managed policies.
    pub account: String,
    /// The version in force (`v3`), when known.
    pub version: Option<String>,
    pub policy: Arc<Policy>,
    pub source: PolicySource,
    /// Whether the snapshot holds versions other than the one in force, which
    /// `iam:SetDefaultPolicyVersion` could put in force.
    pub other_versions: bool,
}

impl ManagedPolicy {
    pub fn is_aws_managed(&self) -> bool {
        self.account == "aws"
    }
}

/// True for ARNs of AWS managed policies (`arn:aws:iam::aws:policy/...`).
pub fn is_aws_managed_policy_arn(arn: &str) -> bool {
    arn_account(arn) == Some("aws") && arn_resource(arn).is_some_and(|r| r.starts_with("policy/"))
}

/// A 12-digit AWS account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The account segment of an ARN, when the text is an ARN with one.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn_segments(arn)
        .map(|segments| segments.account)
        .filter(|a| !a.is_empty())
}

/// The partition segment of an ARN.
pub fn arn_partition(arn: &str) -> Option<&str> {
    arn_segments(arn).map(|segments| segments.partition)
}

pub fn arn_resource(arn: &str) -> Option<&str> {
    arn_segments(arn).map(|segments| segments.resource)
}

struct ArnSegments<'a> {
    partition: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn arn_segments(arn: &str) -> Option<ArnSegments<'_>> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, _service, _region, account, resource] => Some(ArnSegments {
            partition,
            account,
            resource,
        }),
        _ => None,
    }
}

/// S3 default encryption (`get-bucket-encryption`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BucketEncryption {
    pub algorithm: SseAlgorithm,
    /// `KMSMasterKeyID` as written: a key id, key ARN, alias name or alias ARN.
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum SseAlgorithm {
    #[serde(rename = "AES256")]
    Aes256,
    #[serde(rename = "aws:kms")]
    AwsKms,
    #[serde(rename = "aws:kms:dsse")]
    AwsKmsDsse,
}

impl SseAlgorithm {
    pub fn parse(text: &str) -> Option<SseAlgorithm> {
        match text {
            "AES256" => Some(SseAlgorithm::Aes256),
            "aws:kms" => Some(SseAlgorithm::AwsKms),
            "aws:kms:dsse" => Some(SseAlgorithm::AwsKmsDsse),
            _ => None,
        }
    }

    /// Whether writes under this default encryption go through KMS.
    pub fn uses_kms(self) -> bool {
        !matches!(self, SseAlgorithm::Aes256)
    }
}

/// S3 Object Ownership (`get-bucket-ownership-controls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ObjectOwnership {
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
}

impl ObjectOwnership {
    pub fn parse(text: &str) -> Option<ObjectOwnership> {
        match text {
            "BucketOwnerEnforced" => Some(ObjectOwnership::BucketOwnerEnforced),
            "BucketOwnerPreferred" => Some(ObjectOwnership::BucketOwnerPreferred),
            "ObjectWriter" => Some(ObjectOwnership::ObjectWriter),
            _ => None,
        }
    }
}

/// S3 Block Public Access for one bucket (`get-public-access-block`); a missing flag is false.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

/// An S3 bucket of one of the snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub name: String,
    pub account: String,
    /// `None`: the bucket has no bucket policy.
    pub policy: Option<Arc<Policy>>,
    pub encryption: Option<BucketEncryption>,
    pub ownership: Option<ObjectOwnership>,
    pub public_access_block: Option<PublicAccessBlock>,
    pub tags: BTreeMap<String, String>,
}

impl Bucket {
    pub fn arn(&self, partition: &str) -> String {
        format!("arn:{partition}:s3:::{}", self.name)
    }
}

/// Who manages a KMS key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum KeyManager {
    #[serde(rename = "AWS")]
    Aws,
    #[serde(rename = "CUSTOMER")]
    Customer,
}

/// A KMS key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKey {
    pub id: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    /// `None` when the snapshot has no `policy.json` for the key: the key policy is unknown.
    pub policy: Option<Arc<Policy>>,
    /// `None` when the snapshot has no `key.json` for the key.
    pub key_manager: Option<KeyManager>,
    pub enabled: Option<bool>,
    pub key_state: Option<String>,
    pub key_usage: Option<String>,
    /// The condition keys KMS sets from the key's own properties, as `describe-key` shows
    /// them (`kms:KeyOrigin`, `kms:KeySpec`, `kms:KeyUsage`, `kms:MultiRegion`,
    /// `kms:MultiRegionKeyType`).
    pub properties: BTreeMap<String, String>,
    pub description: Option<String>,
    /// Alias names (`alias/media-out`) that point at this key.
    pub aliases: Vec<String>,
}

impl KmsKey {
    /// The context KMS sets from the key: its properties and its aliases
    /// (`kms:ResourceAliases`).
    pub fn context(&self) -> crate::policy::Context {
        let mut context = crate::policy::Context::new();
        for (key, value) in &self.properties {
            context = context.with(key, value);
        }
        if !self.aliases.is_empty() {
            context.insert(
                "kms:ResourceAliases",
                crate::policy::ContextValue::Multi(self.aliases.clone()),
            );
        }
        context
    }

    /// Why the key refuses cryptographic operations now, when its state says it does
    /// (`Disabled`, `PendingDeletion`, `PendingImport`, `Unavailable`, ...).
    pub fn refusal(&self) -> Option<String> {
        let state = self.key_state.as_deref();
        let disabled = self.enabled == Some(false)
            || state.is_some_and(|s| s != crate::service::kms::USABLE_STATE);
        disabled.then(|| {
            format!(
                "key {} is in state {}: it refuses cryptographic operations whatever its policies allow",
                self.arn,
                state.unwrap_or("Disabled")
            )
        })
    }

    /// Whether AWS manages the key: `KeyManager: AWS`, or an `alias/aws/...` alias.
    pub fn is_aws_managed(&self) -> bool {
        self.key_manager == Some(KeyManager::Aws)
            || self
                .aliases
                .iter()
                .any(|a| a.starts_with(crate::service::kms::AWS_MANAGED_ALIAS_PREFIX))
    }
}

/// A KMS alias (`list-aliases`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsAlias {
    /// `alias/...`
    pub name: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    /// The key id it points at; AWS lists predefined `alias/aws/...` aliases without one until
    /// the key is first used.
    pub target_key_id: Option<String>,
}

/// A MediaConvert queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub region: String,
    /// True for the `Default` queue that exists although `queues.json` does not list it.
    pub implicit: bool,
}

/// A MediaConvert job template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTemplate {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub region: String,
    /// The queue ARN the template sends jobs to, when it names one.
    pub queue: Option<String>,
}

/// A MediaConvert output preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub region: String,
}

/// An API Gateway REST API (the SPEKE and Nielsen endpoints MediaConvert calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestApi {
    pub id: String,
    pub name: Option<String>,
    pub account: String,
    pub region: String,
    /// `arn:aws:execute-api:REGION:ACCOUNT:ID`; `execute-api:Invoke` resources extend it with
    /// `/STAGE/VERB/path`.
    pub arn: String,
    pub policy: Option<Arc<Policy>>,
    pub endpoint_types: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// Something the loader ignored or could not resolve. Loading goes on; answers that depend on
/// an unresolved reference are `unknown`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Warning {
    pub file: String,
    /// The JSON path inside `file`; empty for the whole file.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A policy or group that a principal depends on and that no snapshot (nor the bundled AWS
/// managed policies) describes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnresolvedReference {
    ManagedPolicy {
        arn: String,
    },
    Group {
        account: String,
        name: String,
    },
    OrganizationPolicy {
        account: String,
        id: String,
    },
    /// A value known only once a plan or template is applied, in words
    /// (`aws_iam_role_policy.writer.policy, known only after apply`).
    Pending {
        what: String,
    },
}

impl fmt::Display for UnresolvedReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnresolvedReference::ManagedPolicy { arn } => write!(f, "{arn}"),
            UnresolvedReference::Group { account, name } => {
                write!(f, "group {name} of account {account}")
            }
            UnresolvedReference::OrganizationPolicy { account, id } => {
                write!(f, "organizations policy {id} above account {account}")
            }
            UnresolvedReference::Pending { what } => write!(f, "{what}"),
        }
    }
}

/// Whether a principal is a user or a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalType {
    User,
    Role,
}

/// How an identity policy reaches a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachment {
    /// An inline policy of the principal, or of the group `via_group`.
    Inline,
    /// An attached managed policy.
    Managed(PolicySource),
}

/// One identity policy in force for a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPolicy {
    /// Named by the managed policy ARN, or `<user/role/group ARN>#inline/<PolicyName>`.
    pub policy: NamedPolicy,
    pub attachment: Attachment,
    /// The group ARN the policy comes through, for a user's group policies.
    pub via_group: Option<String>,
}

/// Every principal-side policy that bears on a user's or role's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectivePolicies {
    pub principal: String,
    pub principal_type: PrincipalType,
    pub account: String,
    /// Group ARNs of a user, in `GroupList` order (resolved groups only).
    pub groups: Vec<String>,
    /// The principal's own inline and managed policies, then each group's, without duplicates.
    pub identity: Vec<IdentityPolicy>,
    /// The boundary's ARN, even when the document is unresolved.
    pub boundary_arn: Option<String>,
    pub boundary: Option<(NamedPolicy, PolicySource)>,
    /// The SCPs of the principal's account, one list per level, root first (none for a
    /// service-linked role).
    pub scps: Vec<Vec<NamedPolicy>>,
    /// What the principal depends on that nobody describes, sorted; answers that depend on it
    /// are `unknown`.
    pub unresolved: Vec<UnresolvedReference>,
}

impl EffectivePolicies {
    /// The identity policies alone, as the evaluator takes them.
    pub fn identity_policies(&self) -> Vec<NamedPolicy> {
        self.identity
            .iter()
            .map(|entry| entry.policy.clone())
            .collect()
    }

    /// The principal's side of a request's policy set: identity policies, boundary and SCPs.
    pub fn policy_set(&self) -> PolicySet {
        PolicySet {
            identity: self.identity_policies(),
            boundaries: self
                .boundary
                .iter()
                .map(|(named, _)| named.clone())
                .collect(),
            scps: self.scps.clone(),
            ..PolicySet::default()
        }
    }

    /// True when every policy the principal depends on is known.
    pub fn is_complete(&self) -> bool {
        self.unresolved.is_empty()
    }
}

/// The name an inline policy carries in explanations.
pub fn inline_policy_name(owner_arn: &str, policy_name: &str) -> String {
    format!("{owner_arn}#inline/{policy_name}")
}

impl Model {
    /// How much the model holds, in one line for logs and benchmarks.
    pub fn counts(&self) -> String {
        format!(
            "{} users, {} groups, {} roles, {} managed policies, {} buckets, {} keys",
            self.users.len(),
            self.groups.len(),
            self.roles.len(),
            self.managed_policies.len(),
            self.buckets.len(),
            self.keys.len()
        )
    }

    /// The RCPs over a key, root first: those of its account, except for AWS managed keys,
    /// which RCPs do not restrict.
    pub fn key_rcp_levels(&self, key: &KmsKey) -> Vec<Vec<NamedPolicy>> {
        if key.is_aws_managed() {
            return Vec::new();
        }
        self.account(&key.account)
            .map(|a| a.rcp_levels())
            .unwrap_or_default()
    }

    /// When the snapshots were collected: the earliest instant any of them records.
    pub fn collected_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.accounts.iter().filter_map(|a| a.collected_at).min()
    }

    /// Every policy document of the model: identity (inline and managed), trust, bucket, key,
    /// SCP and RCP.
    pub fn all_policies(&self) -> Vec<&Policy> {
        fn inline(policies: &[InlinePolicy]) -> impl Iterator<Item = &Policy> {
            policies.iter().map(|p| p.policy.as_ref())
        }
        let mut all: Vec<&Policy> = Vec::new();
        for user in self.users.values() {
            all.extend(inline(&user.inline_policies));
        }
        for group in self.groups.values() {
            all.extend(inline(&group.inline_policies));
        }
        for role in self.roles.values() {
            all.push(&role.trust_policy);
            all.extend(inline(&role.inline_policies));
        }
        all.extend(self.managed_policies.values().map(|p| p.policy.as_ref()));
        all.extend(self.buckets.values().filter_map(|b| b.policy.as_deref()));
        all.extend(self.keys.values().filter_map(|k| k.policy.as_deref()));
        for account in &self.accounts {
            for level in account.organization.iter().flat_map(|o| &o.levels) {
                all.extend(
                    level
                        .scps
                        .iter()
                        .chain(&level.rcps)
                        .map(|p| p.policy.as_ref()),
                );
            }
        }
        all
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|account| account.id == id)
    }

    /// The group called `name` in `account` (group names are unique within an account).
    pub fn group_named(&self, account: &str, name: &str) -> Option<&Group> {
        self.groups
            .values()
            .find(|group| group.account == account && group.name == name)
    }

    /// The KMS key that `reference` names for a caller in `account` and `region`: a key ARN, an
    /// alias ARN, or a key id or alias name (those two resolve in the caller's account and
    /// region, as KMS resolves them). `None` when no snapshot describes the key.
    pub fn resolve_key(&self, reference: &str, account: &str, region: &str) -> Option<&KmsKey> {
        let key_in = |account: &str, region: &str, id: &str| {
            self.keys
                .values()
                .find(|key| key.account == account && key.region == region && key.id == id)
        };
        if reference.starts_with("arn:") {
            if let Some(key) = self.keys.get(reference) {
                return Some(key);
            }
            let alias = self.aliases.get(reference)?;
            return key_in(
                &alias.account,
                &alias.region,
                alias.target_key_id.as_deref()?,
            );
        }
        if reference.starts_with("alias/") {
            let alias = self.aliases.values().find(|alias| {
                alias.account == account && alias.region == region && alias.name == reference
            })?;
            return key_in(account, region, alias.target_key_id.as_deref()?);
        }
        key_in(account, region, reference)
    }

    /// Whether `arn` is a user or a role of the model.
    pub fn principal_type(&self, arn: &str) -> Option<PrincipalType> {
        if self.users.contains_key(arn) {
            Some(PrincipalType::User)
        } else if self.roles.contains_key(arn) {
            Some(PrincipalType::Role)
        } else {
            None
        }
    }

    /// The policies in force for the user or role `principal_arn`; `None` when the model has no
    /// such principal.
    pub fn effective_policies(&self, principal_arn: &str) -> Option<EffectivePolicies> {
        let mut gathered = Gathered::default();
        let (principal_type, account, boundary_arn) =
            if let Some(user) = self.users.get(principal_arn) {
                self.gather_own(
                    &mut gathered,
                    &user.arn,
                    &user.inline_policies,
                    &user.managed_policy_arns,
                    None,
                );
                for name in &user.groups {
                    match self.group_named(&user.account, name) {
                        Some(group) => {
                            gathered.groups.push(group.arn.clone());
                            self.gather_own(
                                &mut gathered,
                                &group.arn,
                                &group.inline_policies,
                                &group.managed_policy_arns,
                                Some(&group.arn),
                            );
                        }
                        None => {
                            gathered.unresolved.insert(UnresolvedReference::Group {
                                account: user.account.clone(),
                                name: name.clone(),
                            });
                        }
                    }
                }
                (
                    PrincipalType::User,
                    &user.account,
                    &user.permissions_boundary,
                )
            } else {
                let role = self.roles.get(principal_arn)?;
                self.gather_own(
                    &mut gathered,
                    &role.arn,
                    &role.inline_policies,
                    &role.managed_policy_arns,
                    None,
                );
                (
                    PrincipalType::Role,
                    &role.account,
                    &role.permissions_boundary,
                )
            };
        if let Some(arn) = boundary_arn {
            for what in self.pending.get(arn).into_iter().flatten() {
                gathered
                    .unresolved
                    .insert(UnresolvedReference::Pending { what: what.clone() });
            }
        }
        let boundary = boundary_arn
            .as_ref()
            .and_then(|arn| match self.managed_policies.get(arn) {
                Some(managed) => Some((
                    NamedPolicy {
                        name: arn.clone(),
                        policy: Arc::clone(&managed.policy),
                    },
                    managed.source,
                )),
                None => {
                    gathered
                        .unresolved
                        .insert(UnresolvedReference::ManagedPolicy { arn: arn.clone() });
                    None
                }
            });
        // SCPs do not apply to service-linked roles (path `/aws-service-role/`).
        let service_linked = self
            .roles
            .get(principal_arn)
            .is_some_and(Role::is_service_linked);
        let scps = match self.account(account) {
            Some(_) if service_linked => Vec::new(),
            Some(account_record) => {
                for id in account_record.missing_organization_policies() {
                    gathered
                        .unresolved
                        .insert(UnresolvedReference::OrganizationPolicy {
                            account: account.clone(),
                            id,
                        });
                }
                account_record.scp_levels()
            }
            None => Vec::new(),
        };
        Some(EffectivePolicies {
            principal: principal_arn.to_string(),
            principal_type,
            account: account.clone(),
            groups: gathered.groups,
            identity: gathered.identity,
            boundary_arn: boundary_arn.clone(),
            boundary,
            scps,
            unresolved: gathered.unresolved.into_iter().collect(),
        })
    }

    /// What a Terraform plan leaves unknown about the policy of the bucket or key `arn`,
    /// joined: `None` when nothing.
    pub fn pending_resource_policy(&self, arn: &str) -> Option<String> {
        let pending = self.pending.get(arn)?;
        Some(pending.iter().cloned().collect::<Vec<_>>().join(", "))
    }

    /// The unresolved references the user or role `principal_arn` depends on; `None` when the
    /// model has no such principal.
    pub fn unresolved_for(&self, principal_arn: &str) -> Option<Vec<UnresolvedReference>> {
        self.effective_policies(principal_arn)
            .map(|effective| effective.unresolved)
    }

    /// Whether some identity policy of a user, group or role of `account` (inline, or
    /// managed and attached) has a Deny statement.
    pub fn has_identity_denies_in(&self, account: &str) -> bool {
        let users = self.users.values().filter(|u| u.account == account);
        let groups = self.groups.values().filter(|g| g.account == account);
        let roles = self.roles.values().filter(|r| r.account == account);
        let attached: BTreeSet<&String> = users
            .clone()
            .flat_map(|u| &u.managed_policy_arns)
            .chain(groups.clone().flat_map(|g| &g.managed_policy_arns))
            .chain(roles.clone().flat_map(|r| &r.managed_policy_arns))
            .collect();
        let inline = users
            .flat_map(|u| &u.inline_policies)
            .chain(groups.flat_map(|g| &g.inline_policies))
            .chain(roles.flat_map(|r| &r.inline_policies))
            .map(|p| &p.policy);
        let managed = attached
            .into_iter()
            .filter_map(|arn| self.managed_policies.get(arn))
            .map(|m| &m.policy);
        inline.chain(managed).any(|policy| {
            policy
                .statements
                .iter()
                .any(|s| s.effect == crate::policy::Effect::Deny)
        })
    }

    /// A group's own inline and managed policies (those the model resolves), as a member
    /// would hold them.
    pub fn group_policies(&self, group: &Group) -> Vec<NamedPolicy> {
        let mut gathered = Gathered::default();
        self.gather_own(
            &mut gathered,
            &group.arn,
            &group.inline_policies,
            &group.managed_policy_arns,
            Some(&group.arn),
        );
        gathered
            .identity
            .into_iter()
            .map(|entry| entry.policy)
            .collect()
    }

    fn gather_own(
        &self,
        gathered: &mut Gathered,
        owner_arn: &str,
        inline: &[InlinePolicy],
        managed: &[String],
        via_group: Option<&String>,
    ) {
        for what in self.pending.get(owner_arn).into_iter().flatten() {
            gathered
                .unresolved
                .insert(UnresolvedReference::Pending { what: what.clone() });
        }
        for entry in inline {
            gathered.push(IdentityPolicy {
                policy: NamedPolicy {
                    name: inline_policy_name(owner_arn, &entry.name),
                    policy: Arc::clone(&entry.policy),
                },
                attachment: Attachment::Inline,
                via_group: via_group.cloned(),
            });
        }
        for arn in managed {
            for what in self.pending.get(arn).into_iter().flatten() {
                gathered
                    .unresolved
                    .insert(UnresolvedReference::Pending { what: what.clone() });
            }
            match self.managed_policies.get(arn) {
                Some(policy) => gathered.push(IdentityPolicy {
                    policy: NamedPolicy {
                        name: arn.clone(),
                        policy: Arc::clone(&policy.policy),
                    },
                    attachment: Attachment::Managed(policy.source),
                    via_group: via_group.cloned(),
                }),
                None => {
                    gathered
                        .unresolved
                        .insert(UnresolvedReference::ManagedPolicy { arn: arn.clone() });
                }
            }
        }
    }
}

/// What `effective_policies` collects while it walks a principal and its groups.
#[derive(Default)]
struct Gathered {
    groups: Vec<String>,
    identity: Vec<IdentityPolicy>,
    names: BTreeSet<String>,
    unresolved: BTreeSet<UnresolvedReference>,
}

impl Gathered {
    /// Adds a policy unless one of the same name is already there (a managed policy attached
    /// both to a user and to one of its groups counts once).
    fn push(&mut self, entry: IdentityPolicy) {
        if self.names.insert(entry.policy.name.clone()) {
            self.identity.push(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(action: &str) -> Arc<Policy> {
        Arc::new(
            Policy::from_value(&json!({"Version": "2012-10-17",
                "Statement": {"Effect": "Allow", "Action": action, "Resource": "*"}}))
            .unwrap(),
        )
    }

    fn managed(arn: &str, account: &str, action: &str) -> ManagedPolicy {
        ManagedPolicy {
            arn: arn.to_string(),
            name: arn.rsplit('/').next().unwrap().to_string(),
            path: "/".to_string(),
            account: account.to_string(),
            version: Some("v1".to_string()),
            policy: policy(action),
            source: PolicySource::Snapshot,
            other_versions: false,
        }
    }

    fn sample() -> Model {
        let mut model = Model::default();
        let account = "111122223333".to_string();
        model.accounts.push(Account {
            id: account.clone(),
            partition: "aws".to_string(),
            region: "us-east-1".to_string(),
            source: PathBuf::from("x"),
            collected_at: None,
            organization: Some(Organization {
                scps_enabled: true,
                rcps_enabled: false,
                id: None,
                management_account: None,
                levels: vec![OrganizationLevel {
                    target: "r-1".to_string(),
                    scps: vec![OrganizationPolicy {
                    id: "p-FullAWSAccess".to_string(),
                    name: Some("FullAWSAccess".to_string()),
                    arn: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
                        .to_string(),
                    aws_managed: true,
                    policy: policy("*"),
                }],
                    rcps: Vec::new(),
                    missing: vec!["p-gone".to_string()],
                }],
            }),
        });
        let shared = "arn:aws:iam::111122223333:policy/Shared";
        model
            .managed_policies
            .insert(shared.to_string(), managed(shared, &account, "s3:*"));
        model.groups.insert(
            "arn:aws:iam::111122223333:group/team/devs".to_string(),
            Group {
                arn: "arn:aws:iam::111122223333:group/team/devs".to_string(),
                name: "devs".to_string(),
                path: "/team/".to_string(),
                account: account.clone(),
                inline_policies: vec![InlinePolicy {
                    name: "g".to_string(),
                    policy: policy("ec2:*"),
                }],
                managed_policy_arns: vec![shared.to_string()],
            },
        );
        model.users.insert(
            "arn:aws:iam::111122223333:user/alice".to_string(),
            User {
                arn: "arn:aws:iam::111122223333:user/alice".to_string(),
                name: "alice".to_string(),
                path: "/".to_string(),
                account,
                inline_policies: vec![InlinePolicy {
                    name: "own".to_string(),
                    policy: policy("sqs:*"),
                }],
                managed_policy_arns: vec![
                    shared.to_string(),
                    "arn:aws:iam::aws:policy/Gone".to_string(),
                ],
                permissions_boundary: Some("arn:aws:iam::aws:policy/AlsoGone".to_string()),
                tags: BTreeMap::new(),
                groups: vec!["devs".to_string(), "ghosts".to_string()],
                unique_id: None,
            },
        );
        model
    }

    #[test]
    fn gathers_user_and_group_policies_once_each() {
        let model = sample();
        let effective = model
            .effective_policies("arn:aws:iam::111122223333:user/alice")
            .unwrap();
        let names: Vec<&str> = effective
            .identity
            .iter()
            .map(|p| p.policy.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "arn:aws:iam::111122223333:user/alice#inline/own",
                "arn:aws:iam::111122223333:policy/Shared",
                "arn:aws:iam::111122223333:group/team/devs#inline/g",
            ]
        );
        assert_eq!(
            effective.groups,
            ["arn:aws:iam::111122223333:group/team/devs"]
        );
        assert_eq!(effective.scps.len(), 1);
        assert!(effective.boundary.is_none());
        let unresolved: Vec<String> = effective
            .unresolved
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            unresolved,
            [
                "arn:aws:iam::aws:policy/AlsoGone",
                "arn:aws:iam::aws:policy/Gone",
                "group ghosts of account 111122223333",
                "organizations policy p-gone above account 111122223333",
            ]
        );
        assert!(!effective.is_complete());
        assert_eq!(effective.policy_set().identity.len(), 3);
    }

    #[test]
    fn scps_do_not_restrict_service_linked_roles() {
        let mut model = sample();
        for (path, name) in [
            ("/aws-service-role/support.amazonaws.com/", "Linked"),
            ("/", "Plain"),
        ] {
            let arn = format!("arn:aws:iam::111122223333:role{path}{name}");
            model.roles.insert(
                arn.clone(),
                Role {
                    arn,
                    name: name.to_string(),
                    path: path.to_string(),
                    account: "111122223333".to_string(),
                    trust_policy: policy("sts:AssumeRole"),
                    inline_policies: Vec::new(),
                    managed_policy_arns: Vec::new(),
                    permissions_boundary: None,
                    tags: BTreeMap::new(),
                    unique_id: None,
                },
            );
        }
        let linked = "arn:aws:iam::111122223333:role/aws-service-role/support.amazonaws.com/Linked";
        assert!(model.effective_policies(linked).unwrap().scps.is_empty());
        let plain = "arn:aws:iam::111122223333:role/Plain";
        assert_eq!(model.effective_policies(plain).unwrap().scps.len(), 1);
    }

    #[test]
    fn unknown_principals_have_no_policies() {
        assert!(sample()
            .effective_policies("arn:aws:iam::111122223333:user/bob")
            .is_none());
    }

    #[test]
    fn recognises_aws_managed_policy_arns() {
        assert!(is_aws_managed_policy_arn(
            "arn:aws:iam::aws:policy/service-role/X"
        ));
        assert!(!is_aws_managed_policy_arn(
            "arn:aws:iam::111122223333:policy/X"
        ));
        assert!(!is_aws_managed_policy_arn("not an arn"));
        assert_eq!(arn_account("arn:aws:s3:::bucket"), None);
        assert_eq!(
            arn_partition("arn:aws-cn:iam::111122223333:root"),
            Some("aws-cn")
        );
    }
}
