//! Deferring the edits of the account to the end of a search's round gives the answers of
//! solving them where the queue meets them, to the byte: a differential test over random small
//! accounts rich in escalations.
//!
//! `Options::defer_edits` solves the edit steps a round meets (an inline policy written, a
//! managed policy attached or given a new version, a group joined, a boundary removed, a trust
//! policy opened, a bucket policy rewritten) when the round ends, those that may change the
//! principal's own permissions first; it tries the next round's first request with those
//! alone, and solves the rest only when that fails. Its answers must be those of the eager
//! search in every detail, which fixtures alone do not pin down:
//! - the reasons of an `unknown`, in the order the queue met them (an edit's reasons go back
//!   where the queue met the edit, among reasons of steps and actors met after it);
//! - the explanation of a refutation, the blocked path that got furthest, of two equally far
//!   the one met first (an edit's blocked path ranks as if recorded where the queue met it);
//! - the edits a witness lists, and their order: an edit is listed when a later request of
//!   the witness is one it bears on, so an edit the probe leaves out, or one it solves only
//!   later, shows in the witness.
//!
//! So the accounts here are built from the techniques' own permissions, with what makes them
//! fail: denies, conditions the caller cannot meet (`aws:username`, a principal tag), a
//! condition on `iam:PolicyARN` (a refused attach is then `unknown`: the search tries only
//! `AdministratorAccess`), boundaries, and references to policies or groups the snapshot does
//! not hold (an actor that reaches them is `unknown`). Three users, two groups, four roles,
//! two customer managed policies and a bucket, written as a snapshot folder and loaded with
//! the project's loader. Every principal is asked `can` (refutations explained) and the
//! account is asked `who-can` (refutations not explained, and shared between principals when
//! searches are lazy), for writes and reads of the bucket's objects, on an engine that defers
//! and shares and on one that does neither; the answers, as JSON, must be equal. The test also
//! checks that the accounts give every kind of answer: reached through several edits,
//! `unknown` for several reasons, refuted with an explanation.
//!
//! Accounts the random search found, each where one shortcut of the deferral would change an
//! answer (an edit's reasons put last, a tie broken for the later blocked path, a group join
//! left out of the probe, the edits a witness goes through left unsolved), are pinned as plain
//! tests at the end, so that every run tries them.
//!
//! `DEFERRED_EDITS_CASES` sets the number of random accounts (default: 300 in release builds,
//! 128 in debug builds); `PROPTEST_RNG_SEED` fixes them.

use iamproof::policy::Context;
use iamproof::query::{Answer, Engine, Options, Question, Verdict};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::fmt;
use std::path::Path;

const ACCOUNT: &str = "111122223333";
const BUCKET: &str = "media";
const USERS: [&str; 3] = ["alice", "bob", "carol"];
const GROUPS: [&str; 2] = ["dev", "ops"];
const ROLES: [&str; 4] = ["R0", "R1", "R2", "R3"];
const POLICIES: [&str; 2] = ["P0", "P1"];
/// A policy, and a group, that accounts name but the snapshot does not hold.
const MISSING_POLICY: &str = "gone";
const MISSING_GROUP: &str = "ghosts";
const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const QUESTIONS: [(&str, &str); 2] = [
    ("s3:PutObject", "arn:aws:s3:::media/*"),
    ("s3:GetObject", "arn:aws:s3:::media/*"),
];

/// What an action applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    User,
    Role,
    Group,
    Policy,
    Bucket,
    Objects,
    /// A role passed to an instance, and the instance run: those steps come after the edits
    /// among an actor's, so what they reach is met after the edits.
    Launch,
}

/// The actions statements grant or deny, some listed more than once to come up more often:
/// the techniques that edit the account, the ways to become another principal (a role's
/// trust, a user's access key, an instance run with a role), and the questions' own.
const ACTIONS: &[(&[&str], Kind)] = &[
    (&["sts:AssumeRole"], Kind::Role),
    (&["sts:AssumeRole"], Kind::Role),
    (&["s3:PutObject"], Kind::Objects),
    (&["s3:GetObject"], Kind::Objects),
    (&["iam:PutUserPolicy"], Kind::User),
    (&["iam:AttachUserPolicy"], Kind::User),
    (&["iam:AttachUserPolicy"], Kind::User),
    (&["iam:CreatePolicyVersion"], Kind::Policy),
    (&["iam:AddUserToGroup"], Kind::Group),
    (&["iam:AddUserToGroup"], Kind::Group),
    (&["iam:UpdateAssumeRolePolicy"], Kind::Role),
    (&["iam:PutRolePolicy"], Kind::Role),
    (&["iam:AttachRolePolicy"], Kind::Role),
    (&["iam:DeleteUserPermissionsBoundary"], Kind::User),
    (&["iam:DeleteRolePermissionsBoundary"], Kind::Role),
    (&["iam:PutGroupPolicy"], Kind::Group),
    (&["iam:CreateAccessKey"], Kind::User),
    (&["s3:PutBucketPolicy"], Kind::Bucket),
    (&["iam:PassRole", "ec2:RunInstances"], Kind::Launch),
    (&["iam:PassRole", "ec2:RunInstances"], Kind::Launch),
    (&["iam:PassRole", "ec2:RunInstances"], Kind::Launch),
];

/// What an identity statement names: everything, every resource of the action's kind, or
/// one (by index, taken modulo the kind's count).
#[derive(Debug, Clone, Copy)]
enum Scope {
    Everything,
    EveryOne,
    One(usize),
}

/// The conditions statements carry: none, one the caller chooses (MFA, the ACL of a new
/// object), one the principal decides (its name, its tag), and one on the policy an attach
/// names.
#[derive(Debug, Clone, Copy)]
enum Cond {
    None,
    Mfa,
    UserName(usize),
    TeamRed,
    PolicyArn { administrator: bool },
    PrivateAcl,
}

#[derive(Debug, Clone)]
struct Statement {
    allow: bool,
    action: usize,
    scope: Scope,
    cond: Cond,
}

/// Whom a trust or bucket policy statement names.
#[derive(Debug, Clone, Copy)]
enum Who {
    Root,
    User(usize),
    Role(usize),
    Everyone,
    /// EC2 (for roles): an actor that may pass the role and run an instance becomes it.
    Ec2,
}

#[derive(Debug, Clone)]
struct Grant {
    allow: bool,
    /// For bucket policies: 0 `s3:PutObject`, 1 `s3:GetObject`, 2 `s3:*`.
    action: usize,
    who: Who,
    cond: Cond,
}

/// A boundary: one of the customer managed policies, or one the snapshot does not hold.
#[derive(Debug, Clone, Copy)]
enum Boundary {
    Policy(usize),
    Missing,
}

#[derive(Debug, Clone)]
struct UserSpec {
    red: bool,
    groups: [bool; 2],
    in_missing_group: bool,
    managed: [bool; 2],
    boundary: Option<Boundary>,
    policy: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct GroupSpec {
    managed: [bool; 2],
    policy: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct RoleSpec {
    red: bool,
    managed: [bool; 2],
    missing_managed: bool,
    boundary: Option<Boundary>,
    policy: Vec<Statement>,
    trust: Vec<Grant>,
}

/// An account: `users[i]` is the user named `USERS[i]` when it exists, and so on, so that
/// shrinking may drop one without renaming the others.
#[derive(Clone)]
struct Account {
    users: Vec<Option<UserSpec>>,
    groups: Vec<GroupSpec>,
    roles: Vec<Option<RoleSpec>>,
    policies: Vec<Vec<Statement>>,
    bucket_policy: Option<Vec<Grant>>,
}

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
}

fn user_arn(i: usize) -> String {
    arn("user", USERS[i])
}

fn role_arn(i: usize) -> String {
    arn("role", ROLES[i])
}

fn group_arn(i: usize) -> String {
    arn("group", GROUPS[i])
}

fn policy_arn(i: usize) -> String {
    arn("policy", POLICIES[i])
}

fn boundary_arn(boundary: Boundary) -> String {
    match boundary {
        Boundary::Policy(i) => policy_arn(i),
        Boundary::Missing => arn("policy", MISSING_POLICY),
    }
}

fn condition_json(cond: Cond) -> Option<Value> {
    Some(match cond {
        Cond::None => return None,
        Cond::Mfa => json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
        Cond::UserName(i) => json!({"StringEquals": {"aws:username": USERS[i]}}),
        Cond::TeamRed => json!({"StringEquals": {"aws:PrincipalTag/team": "red"}}),
        Cond::PolicyArn { administrator } => json!({"ArnEquals": {"iam:PolicyARN":
            if administrator { ADMINISTRATOR_ACCESS.to_string() } else { policy_arn(0) }}}),
        Cond::PrivateAcl => json!({"StringEquals": {"s3:x-amz-acl": "private"}}),
    })
}

fn statement_json(statement: &Statement) -> Value {
    let (actions, kind) = ACTIONS[statement.action];
    let instances = format!("arn:aws:ec2:*:{ACCOUNT}:instance/*");
    let resource = match (statement.scope, kind) {
        (Scope::Everything, _) => json!("*"),
        (Scope::EveryOne, Kind::User) => json!(arn("user", "*")),
        (Scope::EveryOne, Kind::Role) => json!(arn("role", "*")),
        (Scope::EveryOne, Kind::Group) => json!(arn("group", "*")),
        (Scope::EveryOne, Kind::Policy) => json!(arn("policy", "*")),
        (Scope::EveryOne, Kind::Launch) => json!([arn("role", "*"), instances]),
        (Scope::One(i), Kind::User) => json!(user_arn(i % USERS.len())),
        (Scope::One(i), Kind::Role) => json!(role_arn(i % ROLES.len())),
        (Scope::One(i), Kind::Group) => json!(group_arn(i % GROUPS.len())),
        (Scope::One(i), Kind::Policy) => json!(policy_arn(i % POLICIES.len())),
        (Scope::One(i), Kind::Launch) => json!([role_arn(i % ROLES.len()), instances]),
        (_, Kind::Bucket) => json!(format!("arn:aws:s3:::{BUCKET}")),
        (_, Kind::Objects) => json!(format!("arn:aws:s3:::{BUCKET}/*")),
    };
    let action = match actions {
        [one] => json!(one),
        several => json!(several),
    };
    let mut out = json!({
        "Effect": if statement.allow { "Allow" } else { "Deny" },
        "Action": action,
        "Resource": resource,
    });
    if let Some(condition) = condition_json(statement.cond) {
        out["Condition"] = condition;
    }
    out
}

fn grant_json(grant: &Grant, actions: &[&str]) -> Value {
    let principal = match grant.who {
        Who::Root => json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
        Who::User(i) => json!({"AWS": user_arn(i)}),
        Who::Role(i) => json!({"AWS": role_arn(i)}),
        Who::Everyone => json!("*"),
        Who::Ec2 => json!({"Service": "ec2.amazonaws.com"}),
    };
    let mut out = json!({
        "Effect": if grant.allow { "Allow" } else { "Deny" },
        "Principal": principal,
        "Action": actions[grant.action % actions.len()],
    });
    if actions[0].starts_with("s3:") {
        out["Resource"] = json!(format!("arn:aws:s3:::{BUCKET}/*"));
    }
    if let Some(condition) = condition_json(grant.cond) {
        out["Condition"] = condition;
    }
    out
}

fn document(statements: impl Iterator<Item = Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements.collect::<Vec<_>>()})
}

fn identity_document(statements: &[Statement]) -> Value {
    document(statements.iter().map(statement_json))
}

const TRUST_ACTIONS: [&str; 1] = ["sts:AssumeRole"];
const BUCKET_ACTIONS: [&str; 3] = ["s3:PutObject", "s3:GetObject", "s3:*"];

fn inline(name: &str, statements: &[Statement]) -> Value {
    if statements.is_empty() {
        json!([])
    } else {
        json!([{"PolicyName": name, "PolicyDocument": identity_document(statements)}])
    }
}

fn attached(managed: [bool; 2], missing: bool) -> Value {
    let mut out: Vec<Value> = (0..POLICIES.len())
        .filter(|&i| managed[i])
        .map(|i| json!({"PolicyName": POLICIES[i], "PolicyArn": policy_arn(i)}))
        .collect();
    if missing {
        out.push(json!({"PolicyName": MISSING_POLICY, "PolicyArn": arn("policy", MISSING_POLICY)}));
    }
    json!(out)
}

fn tags(red: bool) -> Value {
    if red {
        json!([{"Key": "team", "Value": "red"}])
    } else {
        json!([])
    }
}

impl Account {
    fn users(&self) -> impl Iterator<Item = (usize, &UserSpec)> {
        self.users
            .iter()
            .enumerate()
            .filter_map(|(i, user)| Some((i, user.as_ref()?)))
    }

    fn roles(&self) -> impl Iterator<Item = (usize, &RoleSpec)> {
        self.roles
            .iter()
            .enumerate()
            .filter_map(|(i, role)| Some((i, role.as_ref()?)))
    }

    /// `iam get-account-authorization-details` for the account.
    fn details(&self) -> Value {
        let with_boundary = |mut entry: Value, boundary: Option<Boundary>| {
            if let Some(boundary) = boundary {
                entry["PermissionsBoundary"] = json!({"PermissionsBoundaryType": "Policy",
                    "PermissionsBoundaryArn": boundary_arn(boundary)});
            }
            entry
        };
        let users: Vec<Value> = self
            .users()
            .map(|(i, user)| {
                let mut groups: Vec<&str> = (0..GROUPS.len())
                    .filter(|&g| user.groups[g])
                    .map(|g| GROUPS[g])
                    .collect();
                if user.in_missing_group {
                    groups.push(MISSING_GROUP);
                }
                with_boundary(
                    json!({"Path": "/", "UserName": USERS[i], "UserId": format!("AIDAUSER{i}"),
                           "Arn": user_arn(i), "UserPolicyList": inline("own", &user.policy),
                           "GroupList": groups,
                           "AttachedManagedPolicies": attached(user.managed, false),
                           "Tags": tags(user.red)}),
                    user.boundary,
                )
            })
            .collect();
        let groups: Vec<Value> = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, group)| {
                json!({"Path": "/", "GroupName": GROUPS[i], "GroupId": format!("AGPAGROUP{i}"),
                       "Arn": group_arn(i), "GroupPolicyList": inline("shared", &group.policy),
                       "AttachedManagedPolicies": attached(group.managed, false)})
            })
            .collect();
        let roles: Vec<Value> = self
            .roles()
            .map(|(i, role)| {
                let trust = document(role.trust.iter().map(|g| grant_json(g, &TRUST_ACTIONS)));
                with_boundary(
                    json!({"Path": "/", "RoleName": ROLES[i], "RoleId": format!("AROAROLE{i}"),
                           "Arn": role_arn(i), "AssumeRolePolicyDocument": trust,
                           "RolePolicyList": inline("own", &role.policy),
                           "AttachedManagedPolicies": attached(role.managed, role.missing_managed),
                           "InstanceProfileList": [], "Tags": tags(role.red)}),
                    role.boundary,
                )
            })
            .collect();
        let policies: Vec<Value> = self
            .policies
            .iter()
            .enumerate()
            .map(|(i, statements)| {
                json!({"PolicyName": POLICIES[i], "PolicyId": format!("ANPAPOLICY{i}"),
                       "Arn": policy_arn(i), "Path": "/", "DefaultVersionId": "v1",
                       "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0,
                       "IsAttachable": true,
                       "PolicyVersionList": [{"Document": identity_document(statements),
                                              "VersionId": "v1", "IsDefaultVersion": true}]})
            })
            .collect();
        json!({"UserDetailList": users, "GroupDetailList": groups,
               "RoleDetailList": roles, "Policies": policies})
    }

    fn bucket_document(&self) -> Option<Value> {
        let grants = self.bucket_policy.as_ref()?;
        Some(document(
            grants.iter().map(|g| grant_json(g, &BUCKET_ACTIONS)),
        ))
    }

    /// The snapshot folder of the account.
    fn write(&self, dir: &Path) {
        let write = |relative: &str, value: &Value| {
            let path = dir.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
        };
        write(
            "caller-identity.json",
            &json!({"UserId": "AIDAADMIN", "Account": ACCOUNT, "Arn": arn("user", "admin")}),
        );
        write("iam/account-authorization-details.json", &self.details());
        std::fs::create_dir_all(dir.join("s3").join(BUCKET)).unwrap();
        if let Some(policy) = self.bucket_document() {
            let text = serde_json::to_string(&policy).unwrap();
            write(
                &format!("s3/{BUCKET}/policy.json"),
                &json!({ "Policy": text }),
            );
        }
    }
}

/// The account as a reader wants it when answers differ: each policy one statement a line.
impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let statements = |f: &mut fmt::Formatter<'_>, label: &str, list: Vec<Value>| {
            if list.is_empty() {
                return Ok(());
            }
            writeln!(f, "  {label}:")?;
            for statement in list {
                writeln!(f, "    {statement}")?;
            }
            Ok(())
        };
        let managed = |managed: [bool; 2], missing: bool| {
            let mut names: Vec<&str> = (0..POLICIES.len())
                .filter(|&i| managed[i])
                .map(|i| POLICIES[i])
                .collect();
            if missing {
                names.push("gone (not in the snapshot)");
            }
            names.join(", ")
        };
        let boundary = |boundary: Option<Boundary>| match boundary {
            None => "none".to_string(),
            Some(Boundary::Policy(i)) => POLICIES[i].to_string(),
            Some(Boundary::Missing) => "gone (not in the snapshot)".to_string(),
        };
        writeln!(f, "account {ACCOUNT}, bucket {BUCKET}")?;
        for (i, user) in self.users() {
            let mut groups: Vec<&str> = (0..GROUPS.len())
                .filter(|&g| user.groups[g])
                .map(|g| GROUPS[g])
                .collect();
            if user.in_missing_group {
                groups.push("ghosts (not in the snapshot)");
            }
            writeln!(
                f,
                "user {}{}: groups [{}], managed [{}], boundary {}",
                USERS[i],
                if user.red { " (team red)" } else { "" },
                groups.join(", "),
                managed(user.managed, false),
                boundary(user.boundary)
            )?;
            statements(
                f,
                "inline",
                user.policy.iter().map(statement_json).collect(),
            )?;
        }
        for (i, group) in self.groups.iter().enumerate() {
            writeln!(
                f,
                "group {}: managed [{}]",
                GROUPS[i],
                managed(group.managed, false)
            )?;
            statements(
                f,
                "inline",
                group.policy.iter().map(statement_json).collect(),
            )?;
        }
        for (i, role) in self.roles() {
            writeln!(
                f,
                "role {}{}: managed [{}], boundary {}",
                ROLES[i],
                if role.red { " (team red)" } else { "" },
                managed(role.managed, role.missing_managed),
                boundary(role.boundary)
            )?;
            statements(
                f,
                "inline",
                role.policy.iter().map(statement_json).collect(),
            )?;
            statements(
                f,
                "trust",
                role.trust
                    .iter()
                    .map(|g| grant_json(g, &TRUST_ACTIONS))
                    .collect(),
            )?;
        }
        for (i, policy) in self.policies.iter().enumerate() {
            writeln!(f, "managed policy {}", POLICIES[i])?;
            statements(
                f,
                "default version",
                policy.iter().map(statement_json).collect(),
            )?;
        }
        match &self.bucket_policy {
            Some(grants) => statements(
                f,
                "bucket policy",
                grants
                    .iter()
                    .map(|g| grant_json(g, &BUCKET_ACTIONS))
                    .collect(),
            ),
            None => writeln!(f, "no bucket policy"),
        }
    }
}

// ---- Generators ----

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        8 => Just(Cond::None),
        1 => Just(Cond::Mfa),
        1 => (0..USERS.len()).prop_map(Cond::UserName),
        1 => Just(Cond::TeamRed),
        2 => any::<bool>().prop_map(|administrator| Cond::PolicyArn { administrator }),
        1 => Just(Cond::PrivateAcl),
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        3 => Just(Scope::Everything),
        2 => Just(Scope::EveryOne),
        4 => (0..ROLES.len()).prop_map(Scope::One),
    ]
}

fn effect() -> impl Strategy<Value = bool> {
    prop_oneof![5 => Just(true), 1 => Just(false)]
}

fn statement() -> impl Strategy<Value = Statement> {
    // An attach is often restricted to one policy: refused for `AdministratorAccess`, the one
    // policy the search tries, it is `unknown`.
    let attach_cond = prop_oneof![
        1 => Just(Cond::None),
        2 => Just(Cond::PolicyArn { administrator: false }),
        1 => Just(Cond::PolicyArn { administrator: true }),
    ];
    (effect(), 0..ACTIONS.len(), scope(), cond(), attach_cond).prop_map(
        |(allow, action, scope, cond, attach_cond)| Statement {
            allow,
            action,
            scope,
            cond: if ACTIONS[action].0[0].starts_with("iam:Attach") {
                attach_cond
            } else {
                cond
            },
        },
    )
}

fn statements(least: usize, most: usize) -> impl Strategy<Value = Vec<Statement>> {
    prop::collection::vec(statement(), least..=most)
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        4 => Just(Who::Root),
        3 => (0..USERS.len()).prop_map(Who::User),
        3 => (0..ROLES.len()).prop_map(Who::Role),
        1 => Just(Who::Everyone),
        // Reached by passing the role to an instance: after the actor's edits.
        3 => Just(Who::Ec2),
    ]
}

fn grant() -> impl Strategy<Value = Grant> {
    (effect(), 0..3usize, who(), cond()).prop_map(|(allow, action, who, cond)| Grant {
        allow,
        action,
        who,
        cond,
    })
}

fn boundary() -> impl Strategy<Value = Option<Boundary>> {
    prop_oneof![
        8 => Just(None),
        3 => (0..POLICIES.len()).prop_map(|i| Some(Boundary::Policy(i))),
        1 => Just(Some(Boundary::Missing)),
    ]
}

fn pair() -> impl Strategy<Value = [bool; 2]> {
    (prop::bool::weighted(0.3), prop::bool::weighted(0.3)).prop_map(|(a, b)| [a, b])
}

fn account() -> impl Strategy<Value = Account> {
    let user = (
        prop::bool::weighted(0.3),
        pair(),
        prop::bool::weighted(0.12),
        pair(),
        boundary(),
        statements(0, 4),
    )
        .prop_map(
            |(red, groups, in_missing_group, managed, boundary, policy)| UserSpec {
                red,
                groups,
                in_missing_group,
                managed,
                boundary,
                policy,
            },
        );
    let group =
        (pair(), statements(0, 2)).prop_map(|(managed, policy)| GroupSpec { managed, policy });
    // A role that names a managed policy the snapshot does not hold is `unknown` to whoever
    // reaches it: often, so that such reasons come after those of edits met earlier.
    let role = (
        prop::bool::weighted(0.3),
        pair(),
        prop::bool::weighted(0.3),
        boundary(),
        statements(0, 3),
        prop::collection::vec(grant(), 1..=2),
    )
        .prop_map(
            |(red, managed, missing_managed, boundary, policy, trust)| RoleSpec {
                red,
                managed,
                missing_managed,
                boundary,
                policy,
                trust,
            },
        );
    (
        prop::collection::vec(prop::option::weighted(0.85, user), USERS.len()),
        prop::collection::vec(group, GROUPS.len()),
        prop::collection::vec(prop::option::weighted(0.8, role), ROLES.len()),
        // A managed policy holds at least one statement.
        prop::collection::vec(statements(1, 2), POLICIES.len()),
        prop::option::weighted(0.6, prop::collection::vec(grant(), 1..=2)),
    )
        .prop_map(|(users, groups, roles, policies, bucket_policy)| Account {
            users,
            groups,
            roles,
            policies,
            bucket_policy,
        })
}

// ---- The comparison ----

/// The options of the search that solves every edit where its queue meets it.
fn eager() -> Options {
    Options {
        threads: 1,
        share_refutations: false,
        defer_edits: false,
        ..Options::default()
    }
}

/// The options of the search that defers its edits and shares its refutations.
fn lazy() -> Options {
    Options {
        threads: 1,
        ..Options::default()
    }
}

/// The techniques that edit the account (the others become another principal).
const EDITS: &[&str] = &[
    "iam-put-user-policy",
    "iam-attach-user-policy",
    "iam-put-group-policy",
    "iam-attach-group-policy",
    "iam-put-role-policy",
    "iam-attach-role-policy",
    "iam-create-policy-version",
    "iam-add-user-to-group",
    "iam-delete-user-permissions-boundary",
    "iam-delete-role-permissions-boundary",
    "iam-update-assume-role-policy",
    "s3-put-bucket-policy",
];

/// How the answers of the accounts came out, to check that they are not all alike.
#[derive(Default, Debug)]
struct Tally {
    answers: usize,
    reachable: usize,
    /// Reached through an edit of the account.
    by_edits: usize,
    /// Reached through several edits (which the witness lists, in the order made).
    by_several_edits: usize,
    unknown: usize,
    /// `unknown` for more than one reason (whose order the deferral must keep).
    unknown_several: usize,
    /// `unknown` for a refused edit, then for an actor met after it: the edit's reason must
    /// go back before the actor's.
    unknown_edit_first: usize,
    unreachable: usize,
    /// Refuted with a blocked path, not for want of any path.
    explained: usize,
}

/// The edits of a witness.
fn edits_of(answer: &Answer) -> usize {
    answer
        .chain
        .iter()
        .filter_map(|link| link.change.as_deref()?.split(':').next())
        .filter(|technique| EDITS.contains(technique))
        .count()
}

/// Whether an `unknown` gives a refused edit's reason before an unresolved actor's.
fn edit_reason_first(answer: &Answer) -> bool {
    let reason = answer.reason.as_deref().unwrap_or_default();
    let edit = reason.find("the search tries only AdministratorAccess");
    let actor = reason.rfind("depends on policies no snapshot describes");
    answer.verdict == Verdict::Unknown
        && matches!((edit, actor), (Some(edit), Some(actor)) if edit < actor)
}

impl Tally {
    fn count(&mut self, answer: &Answer) {
        self.answers += 1;
        let reason = answer.reason.as_deref().unwrap_or_default();
        match answer.verdict {
            Verdict::Reachable => {
                self.reachable += 1;
                let edits = edits_of(answer);
                self.by_edits += usize::from(edits > 0);
                self.by_several_edits += usize::from(edits > 1);
            }
            Verdict::Unknown => {
                self.unknown += 1;
                self.unknown_several += usize::from(reason.contains("; "));
                self.unknown_edit_first += usize::from(edit_reason_first(answer));
            }
            Verdict::Unreachable => {
                self.unreachable += 1;
                self.explained += usize::from(reason.starts_with("closest path"));
            }
        }
    }
}

/// Every answer about the account, in the order asked, as JSON: `who-can` of each question,
/// then `can` of each principal and question. The answers of one engine, as a sweep asks them.
fn answers(
    model: &iamproof::model::Model,
    options: Options,
    mut tally: Option<&mut Tally>,
) -> Vec<(String, String)> {
    let engine = Engine::new(model, options);
    let mut out = Vec::new();
    for (action, resource) in QUESTIONS {
        let answers = engine
            .who_can(action, resource, &Context::new())
            .expect("who-can takes the question");
        if let Some(tally) = tally.as_deref_mut() {
            answers.iter().for_each(|a| tally.count(a));
        }
        out.push((
            format!("who-can {action} {resource}"),
            serde_json::to_string_pretty(&answers).unwrap(),
        ));
    }
    for principal in model.users.keys().chain(model.roles.keys()) {
        for (action, resource) in QUESTIONS {
            let question = Question {
                principal: principal.clone(),
                action: action.into(),
                resource: resource.into(),
                context: Context::new(),
            };
            let answer = engine.can(&question).expect("can takes the question");
            if let Some(tally) = tally.as_deref_mut() {
                tally.count(&answer);
            }
            out.push((
                format!("can {principal} {action} {resource}"),
                serde_json::to_string_pretty(&answer).unwrap(),
            ));
        }
    }
    out
}

/// Asks everything of the account on both engines; the first answer that differs.
fn compare(account: &Account, tally: Option<&mut Tally>) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    account.write(dir.path());
    let model = iamproof::snapshot::load(&[dir.path().to_path_buf()])
        .map_err(|e| format!("the snapshot does not load: {e}"))?;
    let deferred = answers(&model, lazy(), tally);
    let eager = answers(&model, eager(), None);
    for ((question, lazy), (_, eager)) in deferred.iter().zip(&eager) {
        if lazy != eager {
            return Err(format!(
                "{question}: the answers differ\n--- deferred edits:\n{lazy}\n--- eager:\n{eager}"
            ));
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("DEFERRED_EDITS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 128 } else { 300 })
}

#[test]
fn deferring_edits_answers_as_solving_them_where_met() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    });
    let tally = RefCell::new(Tally::default());
    let result = runner.run(&account(), |account| {
        compare(&account, Some(&mut tally.borrow_mut())).map_err(TestCaseError::fail)
    });
    let tally = tally.into_inner();
    eprintln!("answers of the random accounts: {tally:?}");
    if let Err(error) = result {
        panic!("{error}");
    }
    // Shrinking runs failing cases too, so the tally is checked only when all passed. A
    // refused edit's reason before a later actor's is rarer (a few accounts in a hundred):
    // the pinned case below holds it, and the tally only reports it.
    assert!(
        tally.by_several_edits > 0,
        "no answer was reached through several edits"
    );
    assert!(
        tally.unknown_several > 0,
        "no answer was unknown for several reasons"
    );
    assert!(tally.explained > 0, "no refutation named a blocked path");
}

// ---- Pinned cases ----

/// An allow of the menu: its action (the first entry of the menu that begins with it), what
/// it names and its condition.
fn allow(action: &str, scope: Scope, cond: Cond) -> Statement {
    Statement {
        allow: true,
        action: ACTIONS
            .iter()
            .position(|(actions, _)| actions[0] == action)
            .expect("an action of the menu"),
        scope,
        cond,
    }
}

/// A user in no group, with no managed policy and no boundary.
fn user(policy: Vec<Statement>) -> UserSpec {
    UserSpec {
        red: false,
        groups: [false; 2],
        in_missing_group: false,
        managed: [false; 2],
        boundary: None,
        policy,
    }
}

/// A role with one trust statement, no managed policy and no boundary.
fn role(policy: Vec<Statement>, trusted: Who) -> RoleSpec {
    RoleSpec {
        red: false,
        managed: [false; 2],
        missing_managed: false,
        boundary: None,
        policy,
        trust: vec![Grant {
            allow: true,
            action: 0,
            who: trusted,
            cond: Cond::None,
        }],
    }
}

/// An account of groups without policies, managed policies `policies`, and no user or role.
fn account_with(policies: [Vec<Statement>; 2]) -> Account {
    Account {
        users: vec![None; USERS.len()],
        groups: vec![
            GroupSpec {
                managed: [false; 2],
                policy: Vec::new(),
            };
            GROUPS.len()
        ],
        roles: vec![None; ROLES.len()],
        policies: policies.into(),
        bucket_policy: None,
    }
}

/// The lazy engine's `can` of a principal, writing the bucket's objects.
fn can_write(account: &Account, principal: &str) -> Answer {
    let dir = tempfile::tempdir().unwrap();
    account.write(dir.path());
    let model = iamproof::snapshot::load(&[dir.path().to_path_buf()]).unwrap();
    let question = Question {
        principal: principal.into(),
        action: QUESTIONS[0].0.into(),
        resource: QUESTIONS[0].1.into(),
        context: Context::new(),
    };
    Engine::new(&model, lazy()).can(&question).unwrap()
}

fn assume_anything() -> Vec<Statement> {
    vec![allow("sts:AssumeRole", Scope::Everything, Cond::None)]
}

/// R2 may attach only P0, and its boundary refuses the attach anyway: each attach is
/// `unknown`, met when R2's steps are taken; R2 then reaches R1, and R1 reaches R0, whose
/// managed policy the snapshot does not hold. The attaches' reasons come first.
#[test]
fn a_refused_edit_s_reasons_come_before_those_of_actors_met_after_it() {
    let mut account = account_with([
        assume_anything(),
        vec![allow(
            "iam:AttachUserPolicy",
            Scope::Everything,
            Cond::PolicyArn {
                administrator: false,
            },
        )],
    ]);
    account.users[2] = Some(user(Vec::new()));
    account.roles[0] = Some(RoleSpec {
        missing_managed: true,
        ..role(Vec::new(), Who::Role(1))
    });
    account.roles[1] = Some(role(Vec::new(), Who::Role(2)));
    account.roles[2] = Some(RoleSpec {
        managed: [false, true],
        boundary: Some(Boundary::Policy(0)),
        ..role(Vec::new(), Who::Root)
    });
    assert!(edit_reason_first(&can_write(&account, &role_arn(2))));
    compare(&account, None).unwrap();
}

/// carol may give P0 and P1 a new version only as alice: both edits are refused, at the
/// same hop of equally long paths, and the first met (P0) explains the refutation.
#[test]
fn of_two_refused_edits_equally_far_the_first_met_explains() {
    let mut account = account_with([
        assume_anything(),
        vec![allow(
            "iam:CreatePolicyVersion",
            Scope::Everything,
            Cond::UserName(0),
        )],
    ]);
    account.users[2] = Some(UserSpec {
        managed: [false, true],
        ..user(Vec::new())
    });
    let answer = can_write(&account, &user_arn(2));
    assert_eq!(answer.verdict, Verdict::Unreachable);
    let reason = answer.reason.unwrap();
    let first = format!("new default version of {}", policy_arn(0));
    assert!(reason.contains(&first), "{reason}");
    compare(&account, None).unwrap();
}

/// alice may write her own policy and join any group: joining changes what a user may do,
/// so the witness lists it among the edits, though the policy she writes is enough.
#[test]
fn a_group_the_principal_may_join_is_among_the_edits_its_witness_lists() {
    let mut account = account_with([
        assume_anything(),
        vec![allow("iam:AddUserToGroup", Scope::Everything, Cond::None)],
    ]);
    account.users[0] = Some(UserSpec {
        managed: [false, true],
        ..user(vec![allow(
            "iam:PutUserPolicy",
            Scope::Everything,
            Cond::None,
        )])
    });
    let answer = can_write(&account, &user_arn(0));
    assert!(
        answer
            .chain
            .iter()
            .any(|l| l.action == "iam:AddUserToGroup"),
        "{answer:?}"
    );
    compare(&account, None).unwrap();
}

/// carol may attach AdministratorAccess to anyone and take alice's access keys; alice, by
/// her group, may write carol's policy. carol's witness goes through alice, so the edits of
/// alice found in the same round (carol's attach) are among those it lists.
#[test]
fn edits_of_the_actors_an_escalation_goes_through_are_listed() {
    let mut account = account_with([assume_anything(), assume_anything()]);
    account.groups[0].policy = vec![allow("iam:PutUserPolicy", Scope::Everything, Cond::None)];
    account.users[0] = Some(UserSpec {
        groups: [true, false],
        ..user(Vec::new())
    });
    account.users[2] = Some(user(vec![
        allow("iam:CreateAccessKey", Scope::Everything, Cond::None),
        allow(
            "iam:AttachUserPolicy",
            Scope::Everything,
            Cond::PolicyArn {
                administrator: true,
            },
        ),
    ]));
    let answer = can_write(&account, &user_arn(2));
    assert!(
        answer
            .chain
            .iter()
            .any(|l| l.action == "iam:AttachUserPolicy" && l.resource == user_arn(0)),
        "{answer:?}"
    );
    compare(&account, None).unwrap();
}
