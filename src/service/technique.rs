//! Techniques: every way one principal can act as another, or widen what a principal may do,
//! as plain data that one generic search reads.
//!
//! A technique names the requests an actor must be allowed to make (each an action on a
//! resource, with the context AWS sets on it), the principals or roles it applies to, and what
//! the actor gains when every request is allowed: a session of a role whose code it controls,
//! a job of a service that does only what jobs do, a user's credentials, or an edit of the
//! account (a policy added, a boundary removed, a trust policy opened). Each service's file in
//! [`crate::service`] holds its own rows; [`all`] gathers them. The search in
//! [`crate::query::chain`] and the filters in [`crate::graph`] know no technique by name.
//!
//! Rows are taken from the public catalogues of escalation paths (Rhino Security Labs,
//! Bishop Fox's IAMVulnerable, pathfinding.cloud) and the actions' pages in the AWS service
//! authorization reference; `docs/techniques.md` maps each catalogue path to its row.

/// The resource a request of a technique acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// The technique's target: the role passed or taken over, or the user, group, role or
    /// managed policy edited.
    Target,
    /// A resource the actor creates and names, of this ARN format (the service authorization
    /// reference's, with `${Partition}`, `${Region}` and `${Account}` filled in and the rest
    /// the actor's choice).
    Created(&'static str),
    /// An existing resource that runs with the target role, of this ARN format; a snapshot's
    /// listing names it, else any resource of the format stands for it.
    Running(&'static str),
    /// An existing resource of this ARN format: one the snapshots hold, or one of these names,
    /// which every account has in every region (MediaConvert's `Default` queue).
    Existing {
        format: &'static str,
        always: &'static [&'static str],
    },
    /// A resource AWS provides, of this ARN format with `${Partition}` and `${Region}` filled
    /// in (a document AWS owns).
    Named(&'static str),
    /// `*`: the action takes no resource.
    Any,
}

impl On {
    /// The ARN format of a resource the request creates, uses or names.
    pub fn format(&self) -> Option<&'static str> {
        match self {
            On::Created(format) | On::Running(format) | On::Named(format) => Some(format),
            On::Existing { format, .. } => Some(format),
            On::Target | On::Any => None,
        }
    }
}

/// An ARN format with its partition, region and account filled in and every other part
/// (the names the actor or AWS chooses) a wildcard.
pub fn arn_glob(format: &str, partition: &str, region: &str, account: &str) -> String {
    arn_named(format, partition, region, account, "*")
}

/// The ARNs a resource of a format may have: its partition, region and account filled in and
/// every name at least one character long (AWS refuses empty names).
pub fn arn_shape(format: &str, partition: &str, region: &str, account: &str) -> String {
    arn_named(format, partition, region, account, "?*")
}

/// An ARN format with its partition, region and account filled in and every other part
/// `name`.
pub fn arn_named(format: &str, partition: &str, region: &str, account: &str, name: &str) -> String {
    let filled = format
        .replace("${Partition}", partition)
        .replace("${Region}", region)
        .replace("${Account}", account);
    let mut out = String::new();
    let mut rest = filled.as_str();
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        out.push_str(name);
        rest = rest[start..].split_once('}').map(|(_, r)| r).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// What a request of a technique carries about its target or the attacker's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// The ARN of the target's permissions boundary; absent when it has none.
    TargetBoundary,
    /// The ARN of `AdministratorAccess`, the policy the attacker attaches or makes a boundary.
    AdministratorAccess,
}

/// The keys IAM sets on its requests, by action (the service authorization reference's
/// `iam:PermissionsBoundary` and `iam:PolicyARN`): the target's boundary on a policy edit, the
/// policy attached or made a boundary.
const REQUEST_FACTS: &[(&str, &str, Fact)] = &[
    (
        "iam:PutUserPolicy",
        "iam:PermissionsBoundary",
        Fact::TargetBoundary,
    ),
    (
        "iam:PutRolePolicy",
        "iam:PermissionsBoundary",
        Fact::TargetBoundary,
    ),
    (
        "iam:AttachUserPolicy",
        "iam:PermissionsBoundary",
        Fact::TargetBoundary,
    ),
    (
        "iam:AttachRolePolicy",
        "iam:PermissionsBoundary",
        Fact::TargetBoundary,
    ),
    (
        "iam:AttachUserPolicy",
        "iam:PolicyARN",
        Fact::AdministratorAccess,
    ),
    (
        "iam:AttachRolePolicy",
        "iam:PolicyARN",
        Fact::AdministratorAccess,
    ),
    (
        "iam:AttachGroupPolicy",
        "iam:PolicyARN",
        Fact::AdministratorAccess,
    ),
    (
        "iam:PutUserPermissionsBoundary",
        "iam:PermissionsBoundary",
        Fact::AdministratorAccess,
    ),
    (
        "iam:PutRolePermissionsBoundary",
        "iam:PermissionsBoundary",
        Fact::AdministratorAccess,
    ),
    (
        "iam:DeleteUserPermissionsBoundary",
        "iam:PermissionsBoundary",
        Fact::TargetBoundary,
    ),
    (
        "iam:DeleteRolePermissionsBoundary",
        "iam:PermissionsBoundary",
        Fact::TargetBoundary,
    ),
];

/// The facts a request of `action` carries.
pub fn request_facts(action: &str) -> impl Iterator<Item = (&'static str, Fact)> + '_ {
    REQUEST_FACTS
        .iter()
        .filter(move |(a, _, _)| a.eq_ignore_ascii_case(action))
        .map(|(_, key, fact)| (*key, *fact))
}

/// Whether a technique's request names a policy of the attacker's choice
/// (`AdministratorAccess` in the model): a policy that restricts which one leaves other
/// choices the model does not try.
pub fn chooses_policy(action: &str) -> Option<&'static str> {
    REQUEST_FACTS
        .iter()
        .find(|(a, _, fact)| a.eq_ignore_ascii_case(action) && *fact == Fact::AdministratorAccess)
        .map(|(_, key, _)| *key)
}

/// The value of `iam:PassedToService` when a role is passed to a service whose principal is
/// `service`: the principal itself, except where the service documents another (App
/// Runner's instance role trusts `tasks.apprunner.amazonaws.com`, but AWS's own policy for
/// passing it names `apprunner.amazonaws.com`).
pub fn passed_to_service(service: &str) -> &str {
    const PASSED_TO: &[(&str, &str)] =
        &[("tasks.apprunner.amazonaws.com", "apprunner.amazonaws.com")];
    PASSED_TO
        .iter()
        .find(|(trusted, _)| *trusted == service)
        .map(|(_, passed)| *passed)
        .unwrap_or(service)
}

/// One request a technique needs.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    pub action: &'static str,
    pub on: On,
}

const fn needs(action: &'static str, on: On) -> Needs {
    Needs { action, on }
}

/// `iam:PassRole` of the target role, to the technique's service.
pub const PASS_ROLE: Needs = needs("iam:PassRole", On::Target);

/// A request on the technique's target.
pub const fn on_target(action: &'static str) -> Needs {
    needs(action, On::Target)
}

/// A request on a resource the actor creates.
pub const fn on_created(action: &'static str, arn_format: &'static str) -> Needs {
    needs(action, On::Created(arn_format))
}

/// A request on an existing resource that runs with the target role.
pub const fn on_running(action: &'static str, arn_format: &'static str) -> Needs {
    needs(action, On::Running(arn_format))
}

/// A request on an existing resource.
pub const fn on_existing(
    action: &'static str,
    format: &'static str,
    always: &'static [&'static str],
) -> Needs {
    needs(action, On::Existing { format, always })
}

/// A request on a resource AWS provides.
pub const fn on_named(action: &'static str, arn_format: &'static str) -> Needs {
    needs(action, On::Named(arn_format))
}

/// A request that takes no resource.
pub const fn on_any(action: &'static str) -> Needs {
    needs(action, On::Any)
}

/// What a technique applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    /// Roles of the actor's account whose trust policy admits `service`; the actor passes one
    /// (`iam:PassRole` with `iam:PassedToService`) to a resource it creates.
    PassedRole { service: &'static str },
    /// Roles that existing resources of a service run with: those a snapshot's listing
    /// names, else every role of the account whose trust admits `service`.
    RunningRole { service: &'static str },
    /// Users of the actor's account.
    User,
    /// Groups of the actor's account.
    Group,
    /// Roles of the actor's account, other than those AWS reserves.
    Role,
    /// Customer managed policies of the actor's account.
    ManagedPolicy,
    /// Buckets of the actor's account (only the owner's principals may set a bucket policy).
    Bucket,
    /// KMS keys: of the actor's account only, or of any account (a key policy may let
    /// another account create grants).
    Key { other_accounts: bool },
}

/// An edit of the account a technique makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edit {
    /// An inline policy of the attacker's writing on the target user, group or role; it
    /// replaces the target's inline policies, since one name overwrites another.
    PutInlinePolicy,
    /// `AdministratorAccess` attached to the target user, group or role.
    AttachAdministratorAccess,
    /// A new default version of the target managed policy, of the attacker's writing.
    ReplacePolicyVersion,
    /// Any user the attacker chooses added to the target group.
    AddUserToGroup,
    /// The target's permissions boundary removed (or replaced by `AdministratorAccess`).
    RemoveBoundary,
    /// The target role's trust policy extended to admit the account's principals and the
    /// services of the launching techniques.
    OpenTrust,
    /// The target bucket's or key's policy rewritten: its denies dropped, its allows kept, and
    /// every principal of the actor's account allowed everything.
    RewriteResourcePolicy,
    /// A grant on the target key for the actor's account: the grant operations.
    GrantKeyUse,
}

/// What the actor gains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gain {
    /// Code the actor writes runs with a session of the target role: every permission of the
    /// role. The service names the session, so a policy that reads the name is not decided.
    RunsAs,
    /// A job of the service runs with the target role and makes only the requests of `does`
    /// (action, why a job makes it), in a session the service names `session`.
    Job {
        does: &'static [(&'static str, &'static str)],
        session: &'static str,
    },
    /// The actor holds credentials of the target user.
    BecomesUser,
    /// The account is edited.
    Edits(Edit),
}

/// One technique.
#[derive(Debug, Clone, Copy)]
pub struct Technique {
    /// Stable identifier (`lambda-create-invoke`), used by scopes, proofs and `docs/techniques.md`.
    pub id: &'static str,
    /// What the actor does, in a phrase for witnesses.
    pub summary: &'static str,
    /// The step in a chain, before the target's name: `user/a -> MediaConvert job with role/b`.
    pub step: &'static str,
    pub targets: Targets,
    /// The requests, in the order the actor makes them.
    pub needs: &'static [Needs],
    pub gain: Gain,
    /// What a witness assumes beyond the requests checked.
    pub assumes: &'static [&'static str],
    /// Whether the service documents the `aws:SourceAccount` and `aws:SourceArn` it sets when
    /// it assumes the role (the account and the first resource of the requests); else they
    /// are left to the solver.
    pub sets_source: bool,
}

impl Technique {
    /// Whether the technique is part of the account as configured (role assumption, group
    /// membership, and the services that act with roles they are given for a job), rather
    /// than an escalation that changes the account or runs an attacker's code.
    pub fn is_configured_chain(&self) -> bool {
        matches!(self.gain, Gain::Job { .. })
    }

    /// The service principal the target role's trust must admit, for techniques that hand a
    /// role to a service.
    pub fn service(&self) -> Option<&'static str> {
        match self.targets {
            Targets::PassedRole { service } | Targets::RunningRole { service } => Some(service),
            _ => None,
        }
    }

    /// Whether the actor acts as the target afterwards (rather than editing the account).
    pub fn becomes_target(&self) -> bool {
        !matches!(self.gain, Gain::Edits(_))
    }
}

/// When an action no technique models bears on a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bears {
    /// When an identity policy in the actor's account denies something: it removes denies.
    OnIdentityDenies,
    /// When a customer managed policy of the actor's account has versions besides the one in
    /// force.
    OnPolicyVersions,
    /// On questions about a bucket whose policy denies something (removing a policy removes
    /// its allows too, so only its denies can matter), of the actor's account or letting
    /// others change its policy.
    OnQuestionBucket,
    /// From an account of an organization that is, or may be, its management account (or a
    /// delegated administrator), when some SCP or RCP applies in the model.
    FromManagementAccount,
    /// From an account of an organization that is, or may be, its management account.
    FromOrganization,
}

/// What [`Bears`] looks at.
pub struct Question<'q> {
    pub model: &'q crate::model::Model,
    pub action: &'q str,
    pub resource: &'q str,
    /// The account of the actor that may be allowed the unmodelled action.
    pub actor_account: &'q str,
}

impl Bears {
    /// Whether the unmodelled action bears on the question.
    pub fn applies(&self, question: &Question, unmodelled: &str) -> bool {
        let model = question.model;
        let account = question.actor_account;
        let prefix = question.action.split(':').next().unwrap_or_default();
        let may_manage = || {
            model.account(account).is_some_and(|a| {
                a.organization
                    .as_ref()
                    .is_some_and(|o| o.management_account.as_deref().is_none_or(|m| m == account))
            })
        };
        match self {
            Bears::OnIdentityDenies => model.has_identity_denies_in(account),
            Bears::OnPolicyVersions => model
                .managed_policies
                .values()
                .any(|p| p.account == account && p.other_versions),
            Bears::OnQuestionBucket => {
                if !prefix.eq_ignore_ascii_case("s3") {
                    return false;
                }
                let name = question
                    .resource
                    .strip_prefix("arn:aws:s3:::")
                    .map(|r| r.split('/').next().unwrap_or_default())
                    .unwrap_or_default();
                match model.buckets.values().find(|b| b.name == name) {
                    Some(bucket) => {
                        let Some(policy) = bucket.policy.as_ref() else {
                            return false;
                        };
                        let denies = policy
                            .statements
                            .iter()
                            .any(|s| s.effect == crate::policy::Effect::Deny);
                        let others_may = policy.statements.iter().any(|s| {
                            s.effect == crate::policy::Effect::Allow && s.action.covers(unmodelled)
                        });
                        denies && (bucket.account == account || others_may)
                    }
                    // A pattern over several buckets, or a bucket of no snapshot.
                    None => true,
                }
            }
            Bears::FromManagementAccount => {
                may_manage()
                    && model
                        .accounts
                        .iter()
                        .any(|a| !a.scp_levels().is_empty() || !a.rcp_levels().is_empty())
            }
            Bears::FromOrganization => may_manage(),
        }
    }
}

/// Actions that change who may do what, but that no technique models: an answer whose
/// search meets one of them allowed is `unknown`, naming it. Each with what it would do, and
/// when it bears on a question.
pub const UNMODELLED: &[(&str, &str, Bears)] = &[
    (
        "iam:SetDefaultPolicyVersion",
        "puts another version of a managed policy in force",
        Bears::OnPolicyVersions,
    ),
    (
        "iam:DetachUserPolicy",
        "removes a managed policy, and its denies, from a user",
        Bears::OnIdentityDenies,
    ),
    (
        "iam:DetachGroupPolicy",
        "removes a managed policy, and its denies, from a group",
        Bears::OnIdentityDenies,
    ),
    (
        "iam:DetachRolePolicy",
        "removes a managed policy, and its denies, from a role",
        Bears::OnIdentityDenies,
    ),
    (
        "iam:DeleteUserPolicy",
        "removes an inline policy, and its denies, from a user",
        Bears::OnIdentityDenies,
    ),
    (
        "iam:DeleteGroupPolicy",
        "removes an inline policy, and its denies, from a group",
        Bears::OnIdentityDenies,
    ),
    (
        "iam:DeleteRolePolicy",
        "removes an inline policy, and its denies, from a role",
        Bears::OnIdentityDenies,
    ),
    (
        "iam:RemoveUserFromGroup",
        "removes a user from a group, and its denies",
        Bears::OnIdentityDenies,
    ),
    (
        "s3:DeleteBucketPolicy",
        "removes a bucket policy and its denies",
        Bears::OnQuestionBucket,
    ),
    (
        "organizations:DetachPolicy",
        "removes an SCP or RCP",
        Bears::FromManagementAccount,
    ),
    (
        "organizations:UpdatePolicy",
        "rewrites an SCP or RCP",
        Bears::FromManagementAccount,
    ),
    (
        "sso:CreateAccountAssignment",
        "gives an IAM Identity Center user a permission set in an account of the organization",
        Bears::FromOrganization,
    ),
];

/// Every technique of every service, in a stable order.
pub fn all() -> &'static [Technique] {
    static ALL: std::sync::OnceLock<Vec<Technique>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        [
            super::iam::TECHNIQUES,
            super::s3::TECHNIQUES,
            super::kms::TECHNIQUES,
            super::mediaconvert::TECHNIQUES,
            super::ec2::TECHNIQUES,
            super::lambda::TECHNIQUES,
            super::glue::TECHNIQUES,
            super::cloudformation::TECHNIQUES,
            super::codebuild::TECHNIQUES,
            super::sagemaker::TECHNIQUES,
            super::ecs::TECHNIQUES,
            super::apprunner::TECHNIQUES,
            super::bedrock::TECHNIQUES,
            super::datapipeline::TECHNIQUES,
            super::ssm::TECHNIQUES,
        ]
        .concat()
    })
}

/// Whether a step of some technique makes a request on a bucket, other than the rewrite of
/// that bucket's own policy. When none does, a bucket's policy decides only the last request
/// of a chain (the question's own), so rewriting the policy of a bucket the question's
/// resource is not in changes no answer.
pub fn steps_request_buckets() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| {
        all().iter().any(|technique| {
            let rewrites_bucket = matches!(technique.targets, Targets::Bucket)
                && technique.gain == Gain::Edits(Edit::RewriteResourcePolicy);
            technique.needs.iter().any(|needed| match needed.on {
                On::Target => matches!(technique.targets, Targets::Bucket) && !rewrites_bucket,
                _ => needed
                    .on
                    .format()
                    .is_some_and(|format| format.contains(":s3:")),
            })
        })
    })
}

/// The technique of an identifier.
pub fn by_id(id: &str) -> Option<&'static Technique> {
    all().iter().find(|t| t.id == id)
}

/// Whether a role lives under a path AWS reserves: service-linked roles
/// (`/aws-service-role/`), which IAM lets no one edit and only their service assume, and the
/// roles IAM Identity Center manages (`/aws-reserved/`), which IAM refuses to edit.
pub fn is_reserved_role_path(path: &str) -> bool {
    path.starts_with("/aws-service-role/") || path.starts_with("/aws-reserved/")
}

/// Whether the resource ARN of a request is a role under a reserved path.
pub fn is_reserved_role_arn(arn: &str) -> bool {
    let Some(resource) = crate::model::arn_resource(arn) else {
        return false;
    };
    resource
        .strip_prefix("role")
        .is_some_and(is_reserved_role_path)
}

/// The actions by which IAM edits a role's permissions or trust: refused on reserved roles.
pub const ROLE_EDITS: &[&str] = &[
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:DeleteRole",
];

/// Why IAM refuses a request whatever the policies say: an edit of a role under a reserved
/// path.
pub fn refusal(action: &str, resource: &str) -> Option<String> {
    let edits = ROLE_EDITS.iter().any(|a| a.eq_ignore_ascii_case(action));
    (edits && is_reserved_role_arn(resource)).then(|| {
        format!("IAM refuses {action} on {resource}: AWS reserves roles under /aws-service-role/ and /aws-reserved/ for the services that made them")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The search leaves out rewrites of the policies of buckets the question's resource is
    // not in, because no step of the table requests a bucket but such a rewrite. A technique
    // that reads or writes a bucket (code or a template taken from S3) turns that off.
    #[test]
    fn no_step_requests_a_bucket_but_the_rewrite_of_its_policy() {
        assert!(!steps_request_buckets());
        assert!(all().iter().any(|t| matches!(t.targets, Targets::Bucket)));
    }

    #[test]
    fn identifiers_are_unique_and_every_request_names_a_defined_action() {
        let reference = crate::service::reference::bundled().unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for technique in all() {
            assert!(seen.insert(technique.id), "duplicate id {}", technique.id);
            assert!(
                !technique.needs.is_empty(),
                "{} needs nothing",
                technique.id
            );
            for needed in technique.needs {
                assert!(
                    reference.action(needed.action).is_some(),
                    "{}: {} is defined by no service",
                    technique.id,
                    needed.action
                );
            }
        }
        for (action, _, _) in UNMODELLED {
            assert!(reference.action(action).is_some(), "{action} is undefined");
        }
    }

    #[test]
    fn reserved_paths_are_recognised_in_arns() {
        assert!(is_reserved_role_arn(
            "arn:aws:iam::111122223333:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk"
        ));
        assert!(is_reserved_role_arn(
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123"
        ));
        assert!(!is_reserved_role_arn(
            "arn:aws:iam::111122223333:role/app/aws-service-role-ish"
        ));
        assert!(refusal("iam:PutRolePolicy", "arn:aws:iam::1:role/aws-reserved/x/y").is_some());
        assert!(refusal("iam:PassRole", "arn:aws:iam::1:role/aws-reserved/x/y").is_none());
    }
}
