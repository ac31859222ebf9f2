//! `sweep`: who can read, write or decrypt every bucket and key of a model, as one `who-can`
//! question per bucket or key and access, all asked of one engine so that the steps solved
//! for one question serve the next.
//!
//! The accesses are data ([`ACCESSES`]): a name, the action it asks about, the kind of
//! resource it applies to, and how the question's resource is made from the bucket's or key's
//! ARN. The resource types come from the Service Authorization Reference: `s3:GetObject` and
//! `s3:PutObject` take the `object` resource type, `arn:${Partition}:s3:::${BucketName}/${ObjectName}`
//! ("Actions, resources, and condition keys for Amazon S3",
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>), so
//! a bucket is asked about as `BUCKET_ARN/*`; `kms:Decrypt` takes the `key` resource type,
//! `arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}` ("Actions, resources, and
//! condition keys for AWS Key Management Service",
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html>),
//! so a key is asked about as its own ARN.
//!
//! The answers are `who-can`'s, unchanged: principals of the model that can or may, then the
//! callers from outside the account. Pairs come in a fixed order: resources by ARN, then
//! accesses in the order of the table. [`render`] writes a sweep as text, JSON, CSV or a
//! proof file that pins it.

pub mod render;

use crate::model::Model;
use crate::policy::pattern::Glob;
use crate::policy::Context;
use crate::query::{Answer, Engine, QueryError, Verdict};

/// The kinds of resource a sweep covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An S3 bucket of the model.
    Bucket,
    /// A KMS key of the model.
    Key,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Bucket => "bucket",
            Kind::Key => "key",
        }
    }
}

/// One access a sweep asks about.
#[derive(Debug, PartialEq, Eq)]
pub struct Access {
    /// Its name on the command line and in every report (`read`).
    pub name: &'static str,
    /// The action `who-can` is asked about.
    pub action: &'static str,
    /// The kind of resource it applies to.
    pub kind: Kind,
    /// The question's resource: `{arn}` stands for the bucket's or key's ARN.
    pub resource: &'static str,
}

impl Access {
    /// The resource `who-can` is asked about for the bucket or key `arn`.
    pub fn question_resource(&self, arn: &str) -> String {
        self.resource.replace("{arn}", arn)
    }
}

/// The accesses, in the order a sweep asks them; adding one is adding a row.
pub const ACCESSES: &[Access] = &[
    Access {
        name: "read",
        action: "s3:GetObject",
        kind: Kind::Bucket,
        resource: "{arn}/*",
    },
    Access {
        name: "write",
        action: "s3:PutObject",
        kind: Kind::Bucket,
        resource: "{arn}/*",
    },
    Access {
        name: "decrypt",
        action: "kms:Decrypt",
        kind: Kind::Key,
        resource: "{arn}",
    },
];

/// The access named `name`.
pub fn access(name: &str) -> Option<&'static Access> {
    ACCESSES.iter().find(|a| a.name == name)
}

/// A bucket or key of the model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub arn: String,
    pub kind: Kind,
    /// For a key, the aliases that name it (`alias/media-out`).
    pub aliases: Vec<String>,
}

/// Every bucket and key of the model, sorted by ARN.
pub fn targets(model: &Model) -> Vec<Target> {
    let buckets = model.buckets.values().map(|bucket| {
        let partition = model
            .account(&bucket.account)
            .map_or("aws", |a| a.partition.as_str());
        Target {
            arn: bucket.arn(partition),
            kind: Kind::Bucket,
            aliases: Vec::new(),
        }
    });
    let keys = model.keys.values().map(|key| Target {
        arn: key.arn.clone(),
        kind: Kind::Key,
        aliases: key.aliases.clone(),
    });
    let mut out: Vec<Target> = buckets.chain(keys).collect();
    out.sort();
    out.dedup();
    out
}

/// What a sweep asks about.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The accesses by name; empty for every access of [`ACCESSES`].
    pub accesses: Vec<String>,
    /// Only the buckets and keys whose ARN matches one of these patterns (`*` and `?` as in
    /// IAM); empty for all of them.
    pub patterns: Vec<String>,
    /// Context keys every question fixes.
    pub context: Context,
}

/// One bucket or key and one access, with `who-can`'s answers.
#[derive(Debug, Clone)]
pub struct Pair {
    pub target: Target,
    pub access: &'static Access,
    /// The resource the question asked about (`arn:aws:s3:::media-in/*`).
    pub question: String,
    /// `who-can`'s answers: who can or may, the callers from outside the account last.
    pub answers: Vec<Answer>,
}

impl Pair {
    /// The answers that are `reachable`.
    pub fn reachable(&self) -> impl Iterator<Item = &Answer> {
        self.answers
            .iter()
            .filter(|a| a.verdict == Verdict::Reachable)
    }

    /// The answers that are `unknown`.
    pub fn unknown(&self) -> impl Iterator<Item = &Answer> {
        self.answers
            .iter()
            .filter(|a| a.verdict == Verdict::Unknown)
    }
}

/// A whole sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub pairs: Vec<Pair>,
    /// The context every question fixed.
    pub context: Context,
    /// The accounts of the model.
    pub accounts: Vec<String>,
}

impl Sweep {
    /// The buckets and keys the sweep asked about.
    pub fn targets(&self) -> Vec<&Target> {
        let mut out: Vec<&Target> = self.pairs.iter().map(|p| &p.target).collect();
        out.dedup();
        out
    }

    /// Whether some answer is `unknown`.
    pub fn has_unknown(&self) -> bool {
        self.pairs.iter().any(|p| p.unknown().next().is_some())
    }
}

/// A sweep that cannot be made of this model (exit code 2 at the command line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    #[error("--access {0}: no such access; the accesses are {names}", names = access_names().join(", "))]
    UnknownAccess(String),
    #[error(
        "--resource {pattern} matches no {kinds} of the model ({counts}){applies}; patterns match the \
         ARNs of buckets (arn:aws:s3:::NAME) and keys (arn:aws:kms:REGION:ACCOUNT:key/ID), and \
         `iamproof inspect` lists them"
    )]
    NoMatch {
        pattern: String,
        /// What the accesses asked about apply to (`bucket or key`).
        kinds: String,
        /// When only some accesses are asked about, which (`, the kind --access decrypt
        /// applies to`).
        applies: String,
        /// What the model has (`3 buckets, 1 key`).
        counts: String,
    },
    #[error(transparent)]
    Query(#[from] QueryError),
}

/// The names of the accesses, in table order.
pub fn access_names() -> Vec<&'static str> {
    ACCESSES.iter().map(|a| a.name).collect()
}

/// The pairs a sweep asks about, in its order, without answers.
pub fn plan(model: &Model, scope: &Scope) -> Result<Vec<(Target, &'static Access)>, SweepError> {
    for name in &scope.accesses {
        if access(name).is_none() {
            return Err(SweepError::UnknownAccess(name.clone()));
        }
    }
    let accesses: Vec<&'static Access> = ACCESSES
        .iter()
        .filter(|a| scope.accesses.is_empty() || scope.accesses.iter().any(|n| n == a.name))
        .collect();
    let applies = |target: &Target| accesses.iter().any(|a| a.kind == target.kind);
    let all = targets(model);
    let globs: Vec<Glob> = scope.patterns.iter().map(|p| Glob::parse(p)).collect();
    for (pattern, glob) in scope.patterns.iter().zip(&globs) {
        if !all.iter().any(|t| applies(t) && glob.matches_arn(&t.arn)) {
            return Err(no_match(&all, &accesses, pattern));
        }
    }
    let chosen = all
        .into_iter()
        .filter(|t| globs.is_empty() || globs.iter().any(|g| g.matches_arn(&t.arn)));
    let mut out = Vec::new();
    for target in chosen {
        for access in accesses.iter().filter(|a| a.kind == target.kind) {
            out.push((target.clone(), *access));
        }
    }
    Ok(out)
}

fn no_match(all: &[Target], accesses: &[&Access], pattern: &str) -> SweepError {
    let mut kinds: Vec<Kind> = accesses.iter().map(|a| a.kind).collect();
    kinds.sort();
    kinds.dedup();
    let count = |kind: Kind| {
        let n = all.iter().filter(|t| t.kind == kind).count();
        format!("{n} {}{}", kind.word(), if n == 1 { "" } else { "s" })
    };
    let applies = if accesses.len() < ACCESSES.len() {
        let names: Vec<&str> = accesses.iter().map(|a| a.name).collect();
        match kinds.len() {
            1 => format!(", the kind --access {} applies to", names.join(", ")),
            _ => format!(", the kinds --access {} apply to", names.join(", ")),
        }
    } else {
        String::new()
    };
    SweepError::NoMatch {
        pattern: pattern.to_string(),
        applies,
        kinds: kinds
            .iter()
            .map(|k| k.word())
            .collect::<Vec<_>>()
            .join(" or "),
        counts: [Kind::Bucket, Kind::Key]
            .into_iter()
            .map(count)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Asks `who-can` for every pair of the scope on `engine`, in order, reporting each pair as a
/// step of one stage.
pub fn sweep(engine: &Engine, scope: &Scope) -> Result<Sweep, SweepError> {
    let planned = plan(engine.model, scope)?;
    engine.progress.stage(
        &format!("sweep: {} who-can questions", planned.len()),
        Some(planned.len() as u64),
    );
    let mut pairs = Vec::with_capacity(planned.len());
    for (target, access) in planned {
        let question = access.question_resource(&target.arn);
        let answers = engine.who_can_reporting(access.action, &question, &scope.context, false)?;
        engine.progress.step();
        pairs.push(Pair {
            target,
            access,
            question,
            answers,
        });
    }
    Ok(Sweep {
        pairs,
        context: scope.context.clone(),
        accounts: engine.model.accounts.iter().map(|a| a.id.clone()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_names_are_unique() {
        let mut names = access_names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ACCESSES.len());
    }

    #[test]
    fn every_action_takes_the_resource_it_is_asked_about() {
        let reference = crate::service::reference::bundled().expect("the bundled reference");
        let examples = [
            (Kind::Bucket, "arn:aws:s3:::media-in"),
            (
                Kind::Key,
                "arn:aws:kms:us-east-1:111122223333:key/3f1c9a52-7d84-4b6e-a0c3-9e2d5b7f1a68",
            ),
        ];
        for access in ACCESSES {
            let (_, arn) = examples
                .iter()
                .find(|(kind, _)| *kind == access.kind)
                .expect("an example of every kind");
            let action = reference.action(access.action).expect("a defined action");
            let resource = access.question_resource(arn);
            assert!(
                reference.resource_may_match(action, &resource),
                "{} takes {resource}",
                access.action
            );
            // The bucket itself is not an object.
            if access.kind == Kind::Bucket {
                assert!(
                    !reference.resource_may_match(action, arn),
                    "{}",
                    access.action
                );
            }
        }
    }
}
