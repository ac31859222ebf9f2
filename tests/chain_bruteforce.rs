//! The chain search against a brute force. Random small accounts (one account, up to 3 users, a
//! group, up to 4 roles with trust policies, an optional bucket policy, conditions from a small
//! vocabulary) are written as snapshot folders and loaded with the project's loader. For each
//! user, the brute force tries every chain of `sts:AssumeRole` hops through distinct roles, up to
//! the engine's depth, and then the question's S3 action: each request is built here the way AWS
//! builds it (principal, principal keys, resource, resource keys), is decided by the concrete
//! evaluator, and the keys the caller chooses take every value the conditions tell apart (and
//! absent). Two laws:
//! - what the brute force reaches, `Engine::can` does not refute (`unknown` is counted);
//! - what `can` reaches, the brute force reaches too.
//!
//! The vocabulary leaves out `sts:RoleSessionName` and session ARNs: the engine does not model
//! the session names callers choose (witnesses use a fixed one), so their semantics on a chain
//! would not be the engine's. Sessions here are named `bruteforce`, another name than the
//! engine's, which no condition may notice.
//!
//! Both run the engine with the scope `configured`: the brute force tries no escalation
//! technique (tests/escalation_*.rs hold those against the AWS documentation).
//!
//! `CHAIN_BRUTEFORCE_CASES` sets the number of random accounts per law (default: 1,000 in
//! release builds, 250 in debug builds).

use iamproof::eval::{evaluate, Decision, NamedPolicy, PolicySet, Principal, Request};
use iamproof::policy::{Context, Policy};
use iamproof::query::{Engine, Options, Question, Verdict};

/// The longest chain the brute force tries: the accounts hold at most four roles, and a chain
/// visits each role once, so every chain is tried.
const MAX_CHAIN_STEPS: usize = 4;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

const ACCOUNT: &str = "111122223333";
const BUCKET: &str = "media";
const GROUP: &str = "staff";
const USER_NAMES: [&str; 3] = ["alice", "bob", "carol"];
const ROLE_NAMES: [&str; 4] = ["R0", "R1", "R2", "R3"];
const SESSION: &str = "bruteforce";
const TEAMS: [&str; 2] = ["red", "blue"];

/// Condition keys and the values policies test them with.
const KEYS: &[(&str, &[&str])] = &[
    ("aws:PrincipalTag/team", &["red", "blue", "r*"]),
    ("aws:username", &["alice", "bob", "a*"]),
    (
        "aws:PrincipalArn",
        &[
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:user/*",
            "arn:aws:iam::111122223333:role/R0",
            "arn:aws:iam::111122223333:role/svc/R1",
            "arn:aws:iam::111122223333:role/*",
        ],
    ),
    ("aws:PrincipalType", &["User", "AssumedRole"]),
    ("aws:PrincipalAccount", &["111122223333", "444455556666"]),
    (
        "aws:ResourceTag/team",
        &["red", "blue", "${aws:PrincipalTag/team}"],
    ),
    ("aws:RequestedRegion", &["us-east-1", "eu-west-1", "us-*"]),
    ("s3:x-amz-acl", &["private", "public-read", "public-*"]),
];

const OPERATORS: [&str; 5] = [
    "StringEquals",
    "StringLike",
    "StringNotEquals",
    "StringNotLike",
    "Null",
];

/// Values the caller may give `aws:RequestedRegion` (`None`: absent): every class of strings
/// that the pool above tells apart, the pool's patterns taken literally among them.
const REGIONS: [Option<&str>; 6] = [
    None,
    Some("us-east-1"),
    Some("eu-west-1"),
    Some("us-*"),
    Some("us-west-2"),
    Some("ap-south-1"),
];

/// Values the caller may give `s3:x-amz-acl` on an `s3:PutObject` (other requests carry none).
const ACLS: [Option<&str>; 6] = [
    None,
    Some("private"),
    Some("public-read"),
    Some("public-*"),
    Some("public-read-write"),
    Some("bucket-owner-full-control"),
];

/// Resources identity statements name.
const RESOURCES: [&str; 6] = [
    "*",
    "arn:aws:s3:::media/*",
    "arn:aws:s3:::media/obj",
    "arn:aws:s3:::media/tmp/*",
    "arn:aws:s3:::media/${aws:username}/*",
    "arn:aws:s3:::other/*",
];

/// The questions, each with the objects the brute force tries: one of every class of object
/// names that the resources above tell apart.
const QUESTIONS: [(&str, &str, &[&str]); 4] = [
    ("s3:PutObject", "arn:aws:s3:::media/obj", &["obj"]),
    (
        "s3:PutObject",
        "arn:aws:s3:::media/*",
        &["obj", "tmp/x", "zzz", "alice/x", "bob/x", "carol/x"],
    ),
    ("s3:GetObject", "arn:aws:s3:::media/tmp/*", &["tmp/x"]),
    (
        "s3:GetObject",
        "arn:aws:s3:::media/*",
        &["obj", "tmp/x", "zzz", "alice/x", "bob/x", "carol/x"],
    ),
];

#[derive(Debug, Clone)]
struct Condition {
    operator: &'static str,
    key: &'static str,
    values: Vec<&'static str>,
}

/// Whom a resource policy statement names.
#[derive(Debug, Clone, Copy)]
enum Who {
    Root,
    AccountId,
    User(usize),
    Role(usize),
    Everyone,
}

/// What an identity statement names.
#[derive(Debug, Clone, Copy)]
enum Resource {
    Pattern(&'static str),
    Role(usize),
}

#[derive(Debug, Clone)]
struct Statement {
    allow: bool,
    action: &'static str,
    /// Identity statements name a resource, resource policy statements a principal.
    resource: Option<Resource>,
    principal: Option<Who>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
struct UserSpec {
    tag: Option<&'static str>,
    in_group: bool,
    policy: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct RoleSpec {
    in_svc_path: bool,
    tag: Option<&'static str>,
    policy: Vec<Statement>,
    trust: Vec<Statement>,
}

/// An account: `users[i]` is the user named `USER_NAMES[i]` (when it exists), `roles[i]` the
/// role named `ROLE_NAMES[i]`, so that shrinking may drop one without renaming the others.
#[derive(Clone)]
struct Account {
    users: Vec<Option<UserSpec>>,
    group: Vec<Statement>,
    roles: Vec<Option<RoleSpec>>,
    bucket_policy: Option<Vec<Statement>>,
    question: usize,
}

fn user_arn(index: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{}", USER_NAMES[index])
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

    /// The ARN of role `index` (policies may name a role that does not exist).
    fn role_arn(&self, index: usize) -> String {
        let path = match &self.roles[index] {
            Some(role) if role.in_svc_path => "svc/",
            _ => "",
        };
        format!("arn:aws:iam::{ACCOUNT}:role/{path}{}", ROLE_NAMES[index])
    }

    fn statement_json(&self, statement: &Statement) -> Value {
        let mut out = serde_json::Map::new();
        out.insert(
            "Effect".into(),
            json!(if statement.allow { "Allow" } else { "Deny" }),
        );
        if let Some(who) = statement.principal {
            let principal = match who {
                Who::Root => json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
                Who::AccountId => json!({"AWS": ACCOUNT}),
                Who::User(i) => json!({"AWS": user_arn(i)}),
                Who::Role(i) => json!({"AWS": self.role_arn(i)}),
                Who::Everyone => json!("*"),
            };
            out.insert("Principal".into(), principal);
        }
        out.insert("Action".into(), json!(statement.action));
        let resource = match (statement.resource, statement.principal) {
            (Some(Resource::Pattern(pattern)), _) => Some(pattern.to_string()),
            (Some(Resource::Role(i)), _) => Some(self.role_arn(i)),
            (None, Some(_)) if statement.action.starts_with("s3:") => {
                Some(format!("arn:aws:s3:::{BUCKET}/*"))
            }
            _ => None,
        };
        if let Some(resource) = resource {
            out.insert("Resource".into(), json!(resource));
        }
        if !statement.conditions.is_empty() {
            let mut blocks: BTreeMap<&str, serde_json::Map<String, Value>> = BTreeMap::new();
            for condition in &statement.conditions {
                blocks
                    .entry(condition.operator)
                    .or_default()
                    .insert(condition.key.to_string(), json!(condition.values));
            }
            out.insert("Condition".into(), json!(blocks));
        }
        Value::Object(out)
    }

    fn document(&self, statements: &[Statement]) -> Value {
        let statements: Vec<Value> = statements.iter().map(|s| self.statement_json(s)).collect();
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn policy(&self, statements: &[Statement]) -> Policy {
        Policy::from_value(&self.document(statements)).expect("generated policies parse")
    }

    /// The snapshot folder of the account.
    fn write(&self, dir: &Path) {
        let tags = |tag: Option<&str>| -> Value {
            match tag {
                Some(team) => json!([{"Key": "team", "Value": team}]),
                None => json!([]),
            }
        };
        let inline = |name: &str, statements: &[Statement]| -> Value {
            if statements.is_empty() {
                json!([])
            } else {
                json!([{"PolicyName": name, "PolicyDocument": self.document(statements)}])
            }
        };
        let users: Vec<Value> = self
            .users()
            .map(|(i, user)| {
                json!({"Path": "/", "UserName": USER_NAMES[i], "UserId": format!("AIDAUSER{i}"),
                       "Arn": user_arn(i), "UserPolicyList": inline("own", &user.policy),
                       "GroupList": if user.in_group { json!([GROUP]) } else { json!([]) },
                       "AttachedManagedPolicies": [], "Tags": tags(user.tag)})
            })
            .collect();
        let groups = json!([{"Path": "/", "GroupName": GROUP, "GroupId": "AGPAGROUP",
            "Arn": format!("arn:aws:iam::{ACCOUNT}:group/{GROUP}"),
            "GroupPolicyList": inline("shared", &self.group), "AttachedManagedPolicies": []}]);
        let roles: Vec<Value> = self
            .roles()
            .map(|(i, role)| {
                json!({"Path": if role.in_svc_path { "/svc/" } else { "/" }, "RoleName": ROLE_NAMES[i],
                       "RoleId": format!("AROAROLE{i}"), "Arn": self.role_arn(i),
                       "AssumeRolePolicyDocument": self.document(&role.trust),
                       "RolePolicyList": inline("own", &role.policy), "AttachedManagedPolicies": [],
                       "InstanceProfileList": [], "Tags": tags(role.tag)})
            })
            .collect();
        let details = json!({"UserDetailList": users, "GroupDetailList": groups,
                             "RoleDetailList": roles, "Policies": []});
        let write = |relative: &str, value: &Value| {
            let path = dir.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
        };
        write(
            "caller-identity.json",
            &json!({"UserId": "AIDAUSER0", "Account": ACCOUNT, "Arn": user_arn(0)}),
        );
        write("iam/account-authorization-details.json", &details);
        std::fs::create_dir_all(dir.join("s3").join(BUCKET)).unwrap();
        if let Some(statements) = &self.bucket_policy {
            let text = serde_json::to_string(&self.document(statements)).unwrap();
            write(
                &format!("s3/{BUCKET}/policy.json"),
                &json!({ "Policy": text }),
            );
        }
    }
}

/// The account as a reader wants it when a law fails: each policy one statement a line.
impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (action, resource, _) = QUESTIONS[self.question];
        writeln!(f, "account {ACCOUNT}, question {action} on {resource}")?;
        let statements = |f: &mut fmt::Formatter<'_>, label: &str, list: &[Statement]| {
            writeln!(f, "  {label}:")?;
            if list.is_empty() {
                writeln!(f, "    (none)")?;
            }
            for statement in list {
                writeln!(f, "    {}", self.statement_json(statement))?;
            }
            Ok(())
        };
        for (i, user) in self.users() {
            writeln!(
                f,
                "user {} tag team={} {}",
                user_arn(i),
                user.tag.unwrap_or("(none)"),
                if user.in_group {
                    "in group staff"
                } else {
                    "in no group"
                }
            )?;
            statements(f, "identity policy", &user.policy)?;
        }
        if self.users().any(|(_, u)| u.in_group) {
            writeln!(f, "group staff")?;
            statements(f, "identity policy", &self.group)?;
        }
        for (i, role) in self.roles() {
            writeln!(
                f,
                "role {} tag team={}",
                self.role_arn(i),
                role.tag.unwrap_or("(none)")
            )?;
            statements(f, "identity policy", &role.policy)?;
            statements(f, "trust policy", &role.trust)?;
        }
        match &self.bucket_policy {
            Some(list) => {
                writeln!(f, "bucket {BUCKET}")?;
                statements(f, "bucket policy", list)
            }
            None => writeln!(f, "bucket {BUCKET} without a bucket policy"),
        }
    }
}

// ---- Generators ----

fn condition() -> impl Strategy<Value = Condition> {
    (
        prop::sample::select(&OPERATORS[..]),
        prop::sample::select(KEYS),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(operator, (key, pool), first, second, two)| {
            let values = if operator == "Null" {
                vec![if two { "true" } else { "false" }]
            } else {
                let mut values = vec![*first.get(pool)];
                let other = *second.get(pool);
                if two && other != values[0] {
                    values.push(other);
                }
                values
            };
            Condition {
                operator,
                key,
                values,
            }
        })
}

fn conditions() -> impl Strategy<Value = Vec<Condition>> {
    prop_oneof![
        3 => Just(Vec::new()),
        3 => prop::collection::vec(condition(), 0..=2),
    ]
}

fn effect() -> impl Strategy<Value = bool> {
    prop_oneof![3 => Just(true), 1 => Just(false)]
}

fn identity_statement() -> impl Strategy<Value = Statement> {
    let assume_target = prop_oneof![
        2 => Just(Resource::Pattern("*")),
        1 => Just(Resource::Pattern("arn:aws:iam::111122223333:role/*")),
        1 => Just(Resource::Pattern("arn:aws:iam::111122223333:role/svc/*")),
        3 => (0..ROLE_NAMES.len()).prop_map(Resource::Role),
    ];
    let assume = (Just("sts:AssumeRole"), assume_target);
    let s3 = (
        prop::sample::select(&["s3:PutObject", "s3:GetObject", "s3:*"][..]),
        prop::sample::select(&RESOURCES[..]).prop_map(Resource::Pattern),
    );
    (effect(), prop_oneof![assume, s3], conditions()).prop_map(
        |(allow, (action, resource), conditions)| Statement {
            allow,
            action,
            resource: Some(resource),
            principal: None,
            conditions,
        },
    )
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        2 => Just(Who::Root),
        1 => Just(Who::AccountId),
        2 => (0..USER_NAMES.len()).prop_map(Who::User),
        3 => (0..ROLE_NAMES.len()).prop_map(Who::Role),
        1 => Just(Who::Everyone),
    ]
}

fn trust_statement() -> impl Strategy<Value = Statement> {
    (
        prop_oneof![4 => Just(true), 1 => Just(false)],
        who(),
        conditions(),
    )
        .prop_map(|(allow, who, conditions)| Statement {
            allow,
            action: "sts:AssumeRole",
            resource: None,
            principal: Some(who),
            conditions,
        })
}

fn bucket_statement() -> impl Strategy<Value = Statement> {
    (
        effect(),
        prop::sample::select(&["s3:PutObject", "s3:GetObject", "s3:*"][..]),
        who(),
        conditions(),
    )
        .prop_map(|(allow, action, who, conditions)| Statement {
            allow,
            action,
            resource: None,
            principal: Some(who),
            conditions,
        })
}

fn tag() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(&TEAMS[..]))
}

fn account() -> impl Strategy<Value = Account> {
    let user = (
        tag(),
        any::<bool>(),
        prop::collection::vec(identity_statement(), 0..=3),
    )
        .prop_map(|(tag, in_group, policy)| UserSpec {
            tag,
            in_group,
            policy,
        });
    let role = (
        any::<bool>(),
        tag(),
        prop::collection::vec(identity_statement(), 0..=3),
        prop::collection::vec(trust_statement(), 1..=2),
    )
        .prop_map(|(in_svc_path, tag, policy, trust)| RoleSpec {
            in_svc_path,
            tag,
            policy,
            trust,
        });
    (
        prop::collection::vec(prop::option::weighted(0.7, user), USER_NAMES.len()),
        prop::collection::vec(identity_statement(), 0..=2),
        prop::collection::vec(prop::option::weighted(0.7, role), ROLE_NAMES.len()),
        prop::option::of(prop::collection::vec(bucket_statement(), 1..=2)),
        0..QUESTIONS.len(),
    )
        .prop_map(|(users, group, roles, bucket_policy, question)| Account {
            users,
            group,
            roles,
            bucket_policy,
            question,
        })
}

// ---- The brute force ----

/// A user or a session of a role, as requests carry it.
struct Actor {
    label: String,
    principal: Principal,
    /// The keys AWS derives from the principal.
    context: Context,
    identity: Vec<NamedPolicy>,
}

/// The actors of an account, by slot: the users, then sessions of the roles.
fn actors(account: &Account) -> Vec<Option<Actor>> {
    let mut out: Vec<Option<Actor>> = (0..USER_NAMES.len() + ROLE_NAMES.len())
        .map(|_| None)
        .collect();
    let group = (!account.group.is_empty())
        .then(|| NamedPolicy::new("group staff", account.policy(&account.group)));
    for (i, user) in account.users() {
        let arn = user_arn(i);
        let mut context = Context::new()
            .with("aws:PrincipalArn", &arn)
            .with("aws:PrincipalAccount", ACCOUNT)
            .with("aws:PrincipalType", "User")
            .with("aws:PrincipalIsAWSService", "false")
            .with("aws:username", USER_NAMES[i]);
        if let Some(team) = user.tag {
            context = context.with("aws:PrincipalTag/team", team);
        }
        let mut identity = Vec::new();
        if !user.policy.is_empty() {
            identity.push(NamedPolicy::new(
                format!("policy of user {}", USER_NAMES[i]),
                account.policy(&user.policy),
            ));
        }
        if let (true, Some(group)) = (user.in_group, &group) {
            identity.push(group.clone());
        }
        out[i] = Some(Actor {
            label: format!("user/{}", USER_NAMES[i]),
            principal: Principal::parse(&arn).unwrap(),
            context,
            identity,
        });
    }
    for (i, role) in account.roles() {
        let arn = account.role_arn(i);
        let session = format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/{}/{SESSION}",
            ROLE_NAMES[i]
        );
        let mut context = Context::new()
            .with("aws:PrincipalArn", &arn)
            .with("aws:PrincipalAccount", ACCOUNT)
            .with("aws:PrincipalType", "AssumedRole")
            .with("aws:PrincipalIsAWSService", "false");
        if let Some(team) = role.tag {
            context = context.with("aws:PrincipalTag/team", team);
        }
        let identity = if role.policy.is_empty() {
            Vec::new()
        } else {
            vec![NamedPolicy::new(
                format!("policy of role {}", ROLE_NAMES[i]),
                account.policy(&role.policy),
            )]
        };
        out[USER_NAMES.len() + i] = Some(Actor {
            label: format!("session of role {}", ROLE_NAMES[i]),
            principal: Principal::parse(&session).unwrap(),
            context,
            identity,
        });
    }
    out
}

/// A request allowed for some choice of the caller's keys: the context that allows it.
fn allowed(
    actor: &Actor,
    action: &str,
    resource: &str,
    resource_keys: &Context,
    resource_policy: Option<NamedPolicy>,
) -> Option<Context> {
    let policies = PolicySet {
        identity: actor.identity.clone(),
        resource: resource_policy,
        ..PolicySet::default()
    };
    let acls: &[Option<&str>] = if action == "s3:PutObject" {
        &ACLS
    } else {
        &[None]
    };
    for region in REGIONS {
        for acl in acls {
            let mut context = actor.context.clone();
            for (key, value) in resource_keys.iter() {
                context.insert(key, value.clone());
            }
            if let Some(region) = region {
                context = context.with("aws:RequestedRegion", region);
            }
            if let Some(acl) = acl {
                context = context.with("s3:x-amz-acl", acl);
            }
            let request = Request {
                principal: actor.principal.clone(),
                action: action.to_string(),
                resource: resource.to_string(),
                resource_account: Some(ACCOUNT.to_string()),
                context: context.clone(),
            };
            if evaluate(&request, &policies).decision == Decision::Allowed {
                return Some(context);
            }
        }
    }
    None
}

/// The brute force's word on one user: a chain of requests that works, or none.
fn brute_force(account: &Account, actors: &[Option<Actor>], user: usize) -> Option<Vec<String>> {
    let (action, _, objects) = QUESTIONS[account.question];
    // Hops depend only on who calls and what: decide each once.
    let assume: Vec<Vec<Option<Context>>> = actors
        .iter()
        .map(|actor| {
            account
                .roles
                .iter()
                .enumerate()
                .map(|(r, role)| {
                    let (actor, role) = (actor.as_ref()?, role.as_ref()?);
                    let mut keys = Context::new().with("aws:ResourceAccount", ACCOUNT);
                    if let Some(team) = role.tag {
                        keys = keys.with("aws:ResourceTag/team", team);
                    }
                    let trust = NamedPolicy::new(
                        format!("trust policy of {}", ROLE_NAMES[r]),
                        account.policy(&role.trust),
                    );
                    allowed(
                        actor,
                        "sts:AssumeRole",
                        &account.role_arn(r),
                        &keys,
                        Some(trust),
                    )
                })
                .collect()
        })
        .collect();
    let bucket_policy = account
        .bucket_policy
        .as_ref()
        .map(|list| NamedPolicy::new("bucket policy", account.policy(list)));
    let finals: Vec<Option<String>> = actors
        .iter()
        .map(|actor| {
            let actor = actor.as_ref()?;
            objects.iter().find_map(|object| {
                let resource = format!("arn:aws:s3:::{BUCKET}/{object}");
                let keys = Context::new()
                    .with("aws:ResourceAccount", ACCOUNT)
                    .with("s3:ResourceAccount", ACCOUNT);
                allowed(actor, action, &resource, &keys, bucket_policy.clone()).map(|context| {
                    format!(
                        "{} {action} on {resource} with {}",
                        actor.label,
                        caller_keys(&context)
                    )
                })
            })
        })
        .collect();
    Chains {
        actors,
        assume: &assume,
        finals: &finals,
    }
    .walk(user, &mut Vec::new(), &mut Vec::new())
}

/// The decided hops of an account, for the walk over its chains.
struct Chains<'a> {
    actors: &'a [Option<Actor>],
    /// By actor and role: the context that lets the actor assume the role, if any.
    assume: &'a [Vec<Option<Context>>],
    /// By actor: the question's request that the actor may make, if any.
    finals: &'a [Option<String>],
}

impl Chains<'_> {
    /// Every chain of distinct roles from actor `at`, up to the engine's depth, depth first:
    /// the first that ends in an allowed request.
    fn walk(
        &self,
        at: usize,
        path: &mut Vec<String>,
        seen: &mut Vec<usize>,
    ) -> Option<Vec<String>> {
        if let Some(last) = &self.finals[at] {
            let mut chain = path.clone();
            chain.push(last.clone());
            return Some(chain);
        }
        if path.len() >= MAX_CHAIN_STEPS {
            return None;
        }
        for (role, hop) in self.assume[at].iter().enumerate() {
            let Some(context) = hop else { continue };
            if seen.contains(&role) {
                continue;
            }
            path.push(format!(
                "{} sts:AssumeRole on role {} with {}",
                self.actors[at].as_ref().map_or("?", |a| a.label.as_str()),
                ROLE_NAMES[role],
                caller_keys(context)
            ));
            seen.push(role);
            if let Some(chain) = self.walk(USER_NAMES.len() + role, path, seen) {
                return Some(chain);
            }
            seen.pop();
            path.pop();
        }
        None
    }
}

/// The keys a caller chose, for the brute force's chains.
fn caller_keys(context: &Context) -> String {
    let chosen: Vec<String> = ["aws:RequestedRegion", "s3:x-amz-acl"]
        .iter()
        .map(|key| match context.get(key) {
            Some(value) => format!("{key}={}", value.as_slice().join(",")),
            None => format!("{key} absent"),
        })
        .collect();
    chosen.join(", ")
}

// ---- The laws ----

#[derive(Default)]
struct Tally {
    questions: usize,
    reachable: usize,
    unknown: usize,
}

fn cases() -> u32 {
    std::env::var("CHAIN_BRUTEFORCE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 250 } else { 1000 })
}

/// Runs `law` on each user of random accounts: the brute force's chain (or none) and the
/// engine's answer, for one user.
fn check(name: &str, law: fn(Option<&[String]>, &iamproof::query::Answer) -> Result<(), String>) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    });
    let tally = std::cell::RefCell::new(Tally::default());
    let result = runner.run(&account(), |account| {
        let dir = tempfile::tempdir().unwrap();
        account.write(dir.path());
        let model = iamproof::snapshot::load(&[dir.path().to_path_buf()])
            .map_err(|e| TestCaseError::fail(format!("the snapshot does not load: {e}")))?;
        // The brute force knows role chains only: the engine searches the account as
        // configured, without the escalations that edit it.
        let options = Options {
            scope: iamproof::query::Scope::Configured,
            ..Options::default()
        };
        let engine = Engine::new(&model, options);
        let actors = actors(&account);
        let (action, resource, _) = QUESTIONS[account.question];
        for (user, _) in account.users() {
            let question = Question {
                principal: user_arn(user),
                action: action.into(),
                resource: resource.into(),
                context: Context::new(),
            };
            let answer = engine.can(&question).unwrap();
            let chain = brute_force(&account, &actors, user);
            {
                let mut tally = tally.borrow_mut();
                tally.questions += 1;
                tally.reachable += usize::from(chain.is_some());
                tally.unknown += usize::from(answer.verdict == Verdict::Unknown);
            }
            if let Err(message) = law(chain.as_deref(), &answer) {
                return Err(TestCaseError::fail(format!(
                    "{name}, for {}:\n{message}\nbrute force: {}\nengine: {:?}: {}\n{}",
                    user_arn(user),
                    match &chain {
                        Some(chain) => format!("reachable\n    {}", chain.join("\n    ")),
                        None => "unreachable".into(),
                    },
                    answer.verdict,
                    answer.reason.clone().unwrap_or_default(),
                    answer
                        .chain
                        .iter()
                        .map(|l| format!(
                            "    {} {} on {} context {}",
                            l.principal, l.action, l.resource, l.context
                        ))
                        .collect::<Vec<_>>()
                        .join("\n")
                )));
            }
        }
        Ok(())
    });
    let tally = tally.into_inner();
    eprintln!(
        "{name}: {} questions, {} reachable by the brute force, {} unknown to the engine",
        tally.questions, tally.reachable, tally.unknown
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Known to fail when a trust policy names the caller's role by its ARN and the role's own
/// policies do not allow `sts:AssumeRole`: the trust policy alone grants that call in the same
/// account, and the evaluator allows it, but the delegation graph leaves the edge out.
#[test]
fn what_the_brute_force_reaches_is_never_refuted() {
    check(
        "a chain the brute force finds is refuted",
        |chain, answer| match (chain, answer.verdict) {
            (Some(_), Verdict::Unreachable) => Err("the engine refutes a working chain".into()),
            _ => Ok(()),
        },
    );
}

/// Known to fail when a policy tests a service key (`s3:x-amz-acl`) on a request that cannot
/// carry it (`sts:AssumeRole`, `s3:GetObject`): the engine lets the caller choose any key on
/// any request.
#[test]
fn what_the_engine_reaches_the_brute_force_reaches() {
    check(
        "the engine reaches what the brute force cannot",
        |chain, answer| match (chain, answer.verdict) {
            (None, Verdict::Reachable) => {
                Err("the engine's witness is no chain AWS would allow".into())
            }
            _ => Ok(()),
        },
    );
}
