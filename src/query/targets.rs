//! The resources a question can be about: the buckets, keys and roles (for trust actions) of the
//! model that the resource pattern reaches, one stand-in for everything of that kind outside the
//! snapshots (whose policies are unknown and assumed to admit the caller), and a generic
//! resource for services without resource policies in the model.

use crate::eval::NamedPolicy;
use crate::model::Model;
use crate::policy::pattern::Glob;
use crate::policy::{Context, Policy};
use crate::smt::encode::arn_globs_intersect;
use std::sync::Arc;

/// An account id for resources outside every snapshot.
pub const OUTSIDE_ACCOUNT: &str = "000000000000";

/// One place the question's resource may be.
#[derive(Debug, Clone)]
pub struct Target {
    /// What the answer calls it: a bucket, a key, or a description of the outside.
    pub label: String,
    /// Globs the resource must match (besides the question's pattern).
    pub shapes: Vec<Glob>,
    /// Globs the resource must not match (resources the model describes elsewhere).
    pub excluded: Vec<Glob>,
    /// A fixed resource ARN, when there is only one.
    pub fixed: Option<String>,
    pub account: Option<String>,
    pub resource_policy: Option<NamedPolicy>,
    pub rcps: Vec<Vec<NamedPolicy>>,
    /// Context keys the resource determines.
    pub context: Context,
    /// Said with any answer that relies on this target.
    pub assumption: Option<String>,
    /// The bucket, for S3 targets of the model.
    pub bucket: Option<String>,
}

/// S3 actions on objects (the rest act on buckets or on no resource): those whose resource
/// type is `object` in the AWS service authorization reference (`s3:ReplicateDelete` is one,
/// `s3:PutBucketObjectLockConfiguration` is not); for an action the reference does not know,
/// those whose name says so.
pub fn is_object_action(action: &str) -> bool {
    let described = crate::service::reference::bundled()
        .ok()
        .and_then(|reference| reference.action(action))
        .filter(|found| !found.resource_types.is_empty());
    if let Some(found) = described {
        let takes = |kind: &str| found.resource_types.iter().any(|r| r.name == kind);
        if takes("object") || takes("bucket") {
            return takes("object");
        }
    }
    let name = action
        .split_once(':')
        .map(|(_, n)| n.to_ascii_lowercase())
        .unwrap_or_default();
    name.contains("object")
        || matches!(
            name.as_str(),
            "abortmultipartupload" | "listmultipartuploadparts"
        )
}

/// The bucket that `pattern` pins, when its bucket name has no wildcard.
fn literal_bucket(pattern: &Glob, partition: &str) -> Option<String> {
    use crate::policy::pattern::GlobToken;
    let prefix = format!("arn:{partition}:s3:::");
    let tokens = pattern.tokens();
    let literal_prefix = tokens.len() >= prefix.len()
        && tokens
            .iter()
            .zip(prefix.chars())
            .all(|(t, c)| *t == GlobToken::Literal(c));
    if !literal_prefix {
        return None;
    }
    let mut name = String::new();
    for token in &tokens[prefix.len()..] {
        match token {
            GlobToken::Literal('/') => break,
            GlobToken::Literal(c) => name.push(*c),
            _ => return None,
        }
    }
    Some(name)
}

pub(crate) fn allow_all(name: &str) -> NamedPolicy {
    let policy = Policy::from_value(&serde_json::json!({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}));
    NamedPolicy {
        name: name.to_string(),
        policy: Arc::new(policy.unwrap_or(Policy {
            version: None,
            id: None,
            statements: Vec::new(),
        })),
    }
}

fn rcps_of(model: &Model, account: &str) -> Vec<Vec<NamedPolicy>> {
    model
        .account(account)
        .map(|a| a.rcp_levels())
        .unwrap_or_default()
}

/// The targets of `action` on resources matching `pattern`.
pub fn targets(
    model: &Model,
    action: &str,
    pattern: &Glob,
    actor_account: &str,
    partition: &str,
) -> Vec<Target> {
    let service = action
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let trust = crate::eval::TRUST_ACTIONS.contains(&action.to_ascii_lowercase().as_str());
    match service.as_str() {
        "s3" => s3_targets(model, action, pattern, partition),
        "kms" => kms_targets(model, pattern, partition),
        "execute-api" => api_targets(model, pattern, actor_account),
        _ if trust => role_targets(model, pattern, partition),
        // IAM has no resource policies (trust policies aside): nothing admits another account.
        "iam" => vec![generic_target(pattern, actor_account, false)],
        _ => vec![generic_target(pattern, actor_account, true)],
    }
}

/// The roles a trust action (`sts:AssumeRole`, ...) may act on: those of the snapshots, each
/// with its trust policy, and one stand-in for roles of accounts no snapshot describes.
fn role_targets(model: &Model, pattern: &Glob, partition: &str) -> Vec<Target> {
    let mut out = Vec::new();
    for role in model.roles.values() {
        if !pattern.matches_arn(&role.arn) {
            continue;
        }
        out.push(Target {
            label: format!("role {}", role.arn),
            shapes: Vec::new(),
            excluded: Vec::new(),
            fixed: Some(role.arn.clone()),
            account: Some(role.account.clone()),
            resource_policy: Some(NamedPolicy {
                name: format!("trust policy of {}", role.arn),
                policy: role.trust_policy.clone(),
            }),
            rcps: rcps_of(model, &role.account),
            context: Context::new().with("aws:ResourceAccount", &role.account),
            assumption: None,
            bucket: None,
        });
    }
    // A snapshot lists every role of its account; roles elsewhere are unknown.
    let generic = Glob::parse(&format!("arn:{partition}:iam::?*:role/?*"));
    let outside_possible = literal_account(pattern).is_none_or(|a| model.account(&a).is_none())
        && arn_globs_intersect(pattern, &generic);
    if outside_possible {
        out.push(Target {
            label: "a role in no snapshot".into(),
            shapes: vec![generic],
            excluded: model
                .accounts
                .iter()
                .map(|a| Glob::parse(&format!("arn:{partition}:iam::{}:*", a.id)))
                .collect(),
            fixed: None,
            account: Some(OUTSIDE_ACCOUNT.into()),
            resource_policy: Some(allow_all(
                "(assumed) trust policy of a role outside the snapshots",
            )),
            rcps: Vec::new(),
            context: Context::new().with("aws:ResourceAccount", OUTSIDE_ACCOUNT),
            assumption: Some(
                "the role is in no snapshot: its trust policy is unknown and may admit the caller"
                    .into(),
            ),
            bucket: None,
        });
    }
    out
}

fn s3_targets(model: &Model, action: &str, pattern: &Glob, partition: &str) -> Vec<Target> {
    let object = is_object_action(action);
    let shape_of = |bucket: &str| {
        if object {
            Glob::parse(&format!("arn:{partition}:s3:::{}/?*", bucket))
        } else {
            Glob::parse(&format!("arn:{partition}:s3:::{}", bucket))
        }
    };
    let mut out = Vec::new();
    let mut known = Vec::new();
    // A pattern that names its bucket can only reach that bucket: no need to try the others.
    let named = literal_bucket(pattern, partition);
    for bucket in model.buckets.values() {
        let shape = shape_of(&bucket.name);
        known.push(shape.clone());
        let elsewhere = named.as_ref().is_some_and(|name| *name != bucket.name);
        if elsewhere || !arn_globs_intersect(pattern, &shape) {
            continue;
        }
        let mut context = Context::new()
            .with("aws:ResourceAccount", &bucket.account)
            .with("s3:ResourceAccount", &bucket.account);
        for (key, value) in &bucket.tags {
            context = context.with(&format!("s3:BucketTag/{key}"), value);
        }
        let pending =
            model.pending_resource_policy(&format!("arn:{partition}:s3:::{}", bucket.name));
        out.push(Target {
            label: format!("bucket {}", bucket.name),
            shapes: vec![shape],
            excluded: Vec::new(),
            fixed: None,
            account: Some(bucket.account.clone()),
            resource_policy: match &pending {
                Some(_) => Some(allow_all("(assumed) bucket policy, not known before it is applied")),
                None => bucket.policy.as_ref().map(|p| NamedPolicy {
                    name: format!("bucket policy of {}", bucket.name),
                    policy: p.clone(),
                }),
            },
            rcps: rcps_of(model, &bucket.account),
            context,
            assumption: pending.map(|what| {
                format!("the bucket policy of {} is not known before it is applied ({what}): it may admit the caller", bucket.name)
            }),
            bucket: Some(bucket.name.clone()),
        });
    }
    let generic = if object {
        Glob::parse(&format!("arn:{partition}:s3:::?*/?*"))
    } else {
        Glob::parse(&format!("arn:{partition}:s3:::?*"))
    };
    // A pattern that names its bucket reaches outside the snapshots only when that bucket is
    // not in them; a wildcard bucket name always may.
    let outside_possible = match literal_bucket(pattern, partition) {
        Some(name) => !model.buckets.contains_key(&name) && arn_globs_intersect(pattern, &generic),
        None => arn_globs_intersect(pattern, &generic),
    };
    if outside_possible {
        let known: Vec<Glob> = known
            .into_iter()
            .filter(|shape| arn_globs_intersect(pattern, shape))
            .collect();
        out.push(Target {
            label: "a bucket in no snapshot".into(),
            shapes: vec![generic],
            excluded: known,
            fixed: None,
            account: Some(OUTSIDE_ACCOUNT.into()),
            resource_policy: Some(allow_all("(assumed) bucket policy of a bucket outside the snapshots")),
            rcps: Vec::new(),
            context: Context::new().with("aws:ResourceAccount", OUTSIDE_ACCOUNT).with("s3:ResourceAccount", OUTSIDE_ACCOUNT),
            assumption: Some(
                "the bucket is in no snapshot: its owner is an unknown account whose bucket policy may admit the caller".into(),
            ),
            bucket: None,
        });
    }
    out
}

fn kms_targets(model: &Model, pattern: &Glob, partition: &str) -> Vec<Target> {
    let mut out = Vec::new();
    let mut known = Vec::new();
    for key in model.keys.values() {
        known.push(Glob::literal(&key.arn));
        if !pattern.matches_arn(&key.arn) {
            continue;
        }
        let pending = model.pending_resource_policy(&key.arn);
        out.push(Target {
            label: format!("key {}", key.arn),
            shapes: Vec::new(),
            excluded: Vec::new(),
            fixed: Some(key.arn.clone()),
            account: Some(key.account.clone()),
            resource_policy: match &pending {
                Some(_) => Some(allow_all("(assumed) key policy, not known before it is applied")),
                None => key.policy.as_ref().map(|p| NamedPolicy {
                    name: format!("key policy of {}", key.arn),
                    policy: p.clone(),
                }),
            },
            rcps: model.key_rcp_levels(key),
            context: key.context().with("aws:ResourceAccount", &key.account),
            assumption: pending.map(|what| {
                format!("the key policy of {} is not known before it is applied ({what}): it may admit the caller", key.arn)
            }),
            bucket: None,
        });
    }
    let generic = Glob::parse(&format!("arn:{partition}:kms:*:*:key/?*"));
    let known: Vec<Glob> = known
        .into_iter()
        .filter(|k| arn_globs_intersect(pattern, k))
        .collect();
    let all_known = pattern.is_literal() && known.iter().any(|k| k.matches_arn(&pattern.to_text()));
    if !all_known && arn_globs_intersect(pattern, &generic) {
        out.push(Target {
            label: "a key in no snapshot".into(),
            shapes: vec![generic],
            excluded: known,
            fixed: None,
            account: Some(OUTSIDE_ACCOUNT.into()),
            resource_policy: Some(allow_all(
                "(assumed) key policy of a key outside the snapshots",
            )),
            rcps: Vec::new(),
            context: Context::new().with("aws:ResourceAccount", OUTSIDE_ACCOUNT),
            assumption: Some(
                "the key is in no snapshot: its key policy is unknown and may admit the caller"
                    .into(),
            ),
            bucket: None,
        });
    }
    out
}

/// The methods of API Gateway REST APIs: those of the snapshots' APIs, each judged with the
/// API's resource policy, and the others as any resource of an unrecorded service.
fn api_targets(model: &Model, pattern: &Glob, actor_account: &str) -> Vec<Target> {
    let mut out = Vec::new();
    let mut known = Vec::new();
    for api in model.rest_apis.values() {
        let methods = Glob::parse(&format!("{}/*", api.arn));
        known.push(methods.clone());
        if !arn_globs_intersect(pattern, &methods) {
            continue;
        }
        out.push(Target {
            label: format!("REST API {}", api.arn),
            shapes: vec![methods],
            excluded: Vec::new(),
            fixed: None,
            account: Some(api.account.clone()),
            resource_policy: api.policy.as_ref().map(|p| NamedPolicy {
                name: format!("resource policy of REST API {}", api.arn),
                policy: p.clone(),
            }),
            rcps: rcps_of(model, &api.account),
            context: Context::new().with("aws:ResourceAccount", &api.account),
            assumption: None,
            bucket: None,
        });
    }
    let all_known = pattern.is_literal() && known.iter().any(|k| k.matches_arn(&pattern.to_text()));
    if !all_known {
        let mut other = generic_target(pattern, actor_account, true);
        other.excluded = known;
        out.push(other);
    }
    out
}

/// A resource of a service whose resource policies the snapshots do not record.
/// `may_have_policy`: whether the service has resource policies at all.
fn generic_target(pattern: &Glob, actor_account: &str, may_have_policy: bool) -> Target {
    // A resource the pattern places in another account may have a policy that admits the
    // caller: assume it does, and say so. Elsewhere the caller's own account stands for every
    // account: identity policies decide there, as they do across accounts once the resource
    // policy admits the caller.
    let other_account = literal_account(pattern).filter(|account| account != actor_account);
    let account = other_account
        .clone()
        .unwrap_or_else(|| actor_account.to_string());
    let assumed = other_account.as_ref().filter(|_| may_have_policy);
    Target {
        label: match &other_account {
            Some(account) => format!("a resource of account {account}"),
            None => "a resource of the caller's account".into(),
        },
        shapes: Vec::new(),
        excluded: Vec::new(),
        fixed: pattern.is_literal().then(|| pattern.to_text()),
        account: Some(account.clone()),
        resource_policy: assumed
            .map(|_| allow_all("(assumed) resource policy, which no snapshot records")),
        rcps: Vec::new(),
        context: Context::new().with("aws:ResourceAccount", &account),
        assumption: assumed.map(|account| {
            format!(
                "the resource is in account {account}, whose resource policies for this service \
                 are not modelled: assumed to admit the caller"
            )
        }),
        bucket: None,
    }
}

/// The account segment of an ARN pattern, when it is a literal account id.
fn literal_account(pattern: &Glob) -> Option<String> {
    let text = pattern.to_text();
    let account = text.split(':').nth(4)?;
    // Wildcards print as `*` and `?`, so twelve digits are a literal account.
    crate::model::is_account_id(account).then(|| account.to_string())
}
