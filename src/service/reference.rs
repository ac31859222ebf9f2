//! The AWS service authorization reference: which actions each service defines, the resource
//! types each action takes (with their ARN formats) and the condition keys that apply.
//!
//! A question about an action no service defines, or about a resource that no resource type of
//! the action can be, has a vacuous answer: nobody can, whatever the policies say. Answering
//! `unreachable` there would read as a proof while it only reflects a typo, so such questions
//! are rejected before any solving, and `inspect` warns about policies that name such actions.
//!
//! The data is the project's bundled copy (`data/service-reference.json.gz`, see
//! `data/README.md`; `scripts/refresh-service-reference.sh` regenerates it). It is decompressed
//! and indexed once, on first use. Action names, service prefixes and resource type names are
//! compared ignoring ASCII case, as AWS does for actions.

use crate::policy::pattern::{Glob, GlobToken};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::OnceLock;

const BUNDLE: &[u8] = include_bytes!("../../data/service-reference.json.gz");

/// The bundled reference, indexed.
#[derive(Debug)]
pub struct ServiceReference {
    /// Where the data comes from (package, version, licence).
    pub source: String,
    /// The version of the package the data was taken from.
    pub version: String,
    /// The date the package's data was collected (`YYYY-MM-DD`).
    pub updated: String,
    /// Services by lowercase prefix.
    services: BTreeMap<String, Service>,
}

/// One service: its actions, resource types and condition keys.
#[derive(Debug)]
pub struct Service {
    /// The prefix as AWS spells it (`s3`, `execute-api`).
    pub prefix: String,
    /// Its name in the reference (`Amazon S3`), when given.
    pub name: Option<String>,
    /// Actions by lowercase name.
    actions: BTreeMap<String, Action>,
    /// Resource types by lowercase name.
    resource_types: BTreeMap<String, ResourceType>,
    /// Condition keys the service defines, with their types (`String`, `ArrayOfString`, ...).
    pub condition_keys: BTreeMap<String, String>,
}

/// One action of a service.
#[derive(Debug)]
pub struct Action {
    /// The service prefix (`s3`).
    pub service: String,
    /// The action name as AWS spells it (`PutObject`).
    pub name: String,
    /// The resource types the action takes; none means it takes only `*`.
    pub resource_types: Vec<ActionResource>,
    /// Condition keys of the action itself (not tied to a resource type).
    pub condition_keys: Vec<String>,
}

/// A resource type an action takes.
#[derive(Debug)]
pub struct ActionResource {
    /// The resource type's name (`object`).
    pub name: String,
    /// Whether the reference marks it required (`object*`).
    pub required: bool,
    /// Condition keys that apply when the action acts on this resource type.
    pub condition_keys: Vec<String>,
}

/// A resource type of a service.
#[derive(Debug)]
pub struct ResourceType {
    pub name: String,
    /// ARN formats with `${...}` placeholders (`arn:${Partition}:s3:::${BucketName}`).
    pub arn_formats: Vec<String>,
    /// Condition keys of resources of this type (`aws:ResourceTag/${TagKey}`).
    pub condition_keys: Vec<String>,
}

/// The bundled data cannot be read: a defect of the build, not of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bundled AWS service authorization reference cannot be read: {0}")]
pub struct ReferenceError(pub String);

/// What a pattern of a policy's `Action` or `NotAction` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionCheck {
    /// At least one defined action matches.
    Defined,
    /// No service has this prefix (for a prefix without wildcards).
    UnknownService(String),
    /// The service exists but defines no action by this name; with the closest defined
    /// action, when one is close.
    UnknownAction { suggestion: Option<String> },
    /// A wildcard pattern that matches no action of the services its prefix matches.
    MatchesNothing,
}

mod bundle {
    //! The file's layout (see `scripts/refresh-service-reference.sh`).
    use std::collections::BTreeMap;

    #[derive(serde::Deserialize)]
    pub struct Bundle {
        pub source: String,
        pub version: String,
        pub updated: String,
        pub services: BTreeMap<String, Service>,
    }

    #[derive(serde::Deserialize)]
    pub struct Service {
        pub name: Option<String>,
        #[serde(default)]
        pub actions: BTreeMap<String, Action>,
        #[serde(default)]
        pub resource_types: BTreeMap<String, ResourceType>,
        #[serde(default)]
        pub condition_keys: BTreeMap<String, String>,
    }

    #[derive(serde::Deserialize)]
    pub struct Action {
        #[serde(default)]
        pub resources: Vec<ActionResource>,
        #[serde(default)]
        pub conditions: Vec<String>,
    }

    #[derive(serde::Deserialize)]
    pub struct ActionResource {
        #[serde(rename = "type")]
        pub name: String,
        pub required: bool,
        #[serde(default)]
        pub conditions: Vec<String>,
    }

    #[derive(serde::Deserialize)]
    pub struct ResourceType {
        pub arns: Vec<String>,
        #[serde(default)]
        pub conditions: Vec<String>,
    }
}

/// The bundled reference, read and indexed on first use.
pub fn bundled() -> Result<&'static ServiceReference, ReferenceError> {
    static REFERENCE: OnceLock<Result<ServiceReference, ReferenceError>> = OnceLock::new();
    REFERENCE
        .get_or_init(|| ServiceReference::from_gzip(BUNDLE))
        .as_ref()
        .map_err(Clone::clone)
}

impl ServiceReference {
    /// Reads a reference from the gzip-compressed layout of the bundled file.
    pub fn from_gzip(bytes: &[u8]) -> Result<ServiceReference, ReferenceError> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .map_err(|e| ReferenceError(e.to_string()))?;
        let bundle: bundle::Bundle =
            serde_json::from_str(&text).map_err(|e| ReferenceError(e.to_string()))?;
        Ok(ServiceReference::index(bundle))
    }

    fn index(bundle: bundle::Bundle) -> ServiceReference {
        let services = bundle
            .services
            .into_iter()
            .map(|(prefix, service)| {
                let actions = service
                    .actions
                    .into_iter()
                    .map(|(name, action)| {
                        let entry = Action {
                            service: prefix.clone(),
                            name: name.clone(),
                            resource_types: action
                                .resources
                                .into_iter()
                                .map(|r| ActionResource {
                                    name: r.name,
                                    required: r.required,
                                    condition_keys: r.conditions,
                                })
                                .collect(),
                            condition_keys: action.conditions,
                        };
                        (name.to_ascii_lowercase(), entry)
                    })
                    .collect();
                let resource_types = service
                    .resource_types
                    .into_iter()
                    .map(|(name, rt)| {
                        let entry = ResourceType {
                            name: name.clone(),
                            arn_formats: rt.arns,
                            condition_keys: rt.conditions,
                        };
                        (name.to_ascii_lowercase(), entry)
                    })
                    .collect();
                let entry = Service {
                    prefix: prefix.clone(),
                    name: service.name,
                    actions,
                    resource_types,
                    condition_keys: service.condition_keys,
                };
                (prefix.to_ascii_lowercase(), entry)
            })
            .collect();
        ServiceReference {
            source: bundle.source,
            version: bundle.version,
            updated: bundle.updated,
            services,
        }
    }

    /// Every service, by prefix.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }

    /// The service with this prefix (`S3` finds `s3`).
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        self.services.get(&prefix.to_ascii_lowercase())
    }

    /// Whether some service has this prefix.
    pub fn has_service(&self, prefix: &str) -> bool {
        self.service(prefix).is_some()
    }

    /// The action `service:Action`, in any case (`s3:putobject` finds `s3:PutObject`).
    pub fn action(&self, name: &str) -> Option<&Action> {
        let (prefix, action) = name.split_once(':')?;
        self.service(prefix)?.action(action)
    }

    /// The defined action closest to a misspelt `service:Action` (`s3:PutObjcet` gives
    /// `s3:PutObject`): the closest action of the same service, else the closest
    /// `service:Action` of any service; `None` when nothing is close.
    pub fn suggest_action(&self, name: &str) -> Option<String> {
        let (prefix, action) = name.split_once(':')?;
        if let Some(service) = self.service(prefix) {
            let wanted = action.to_ascii_lowercase();
            if let Some(found) = closest(
                &wanted,
                service.actions.iter().map(|(key, a)| (key.as_str(), a)),
            ) {
                return Some(found.full_name());
            }
        }
        let wanted = name.to_ascii_lowercase();
        let keys: Vec<(String, &Action)> = self
            .services
            .iter()
            .flat_map(|(prefix, service)| {
                service
                    .actions
                    .iter()
                    .map(move |(key, a)| (format!("{prefix}:{key}"), a))
            })
            .collect();
        closest(&wanted, keys.iter().map(|(key, a)| (key.as_str(), *a))).map(Action::full_name)
    }

    /// The resource type `name` of the action's service.
    pub fn resource_type(&self, action: &Action, name: &str) -> Option<&ResourceType> {
        self.service(&action.service)?.resource_type(name)
    }

    /// The resource types the action takes, each with its ARN formats as globs (placeholders
    /// become `*`). An action without resource types takes `*`: one entry named `*`.
    pub fn resource_globs(&self, action: &Action) -> Vec<(String, Vec<Glob>)> {
        if action.resource_types.is_empty() {
            return vec![("*".to_string(), vec![Glob::parse("*")])];
        }
        action
            .resource_types
            .iter()
            .map(|r| {
                let globs = match self.resource_type(action, &r.name) {
                    Some(rt) => rt.arn_formats.iter().map(|f| arn_format_glob(f)).collect(),
                    // A type the service does not describe: anything may be one.
                    None => vec![Glob::parse("*")],
                };
                (r.name.clone(), globs)
            })
            .collect()
    }

    /// Whether some resource that `resource` (an ARN, possibly with `*` and `?`) matches can
    /// be of a resource type the action takes.
    pub fn resource_may_match(&self, action: &Action, resource: &str) -> bool {
        let pattern = Glob::parse(resource);
        self.resource_globs(action)
            .iter()
            .flat_map(|(_, globs)| globs)
            .any(|glob| crate::smt::encode::arn_globs_intersect(glob, &pattern))
    }

    /// The condition keys the action takes: its own, those of the resource types it takes, and
    /// those of the rows of those resource types; sorted, without repeats. Global `aws:` keys
    /// (`aws:SourceIp`, `aws:PrincipalTag/...`) apply to every action and are not listed.
    pub fn condition_keys(&self, action: &Action) -> Vec<String> {
        let mut keys: std::collections::BTreeSet<String> =
            action.condition_keys.iter().cloned().collect();
        for r in &action.resource_types {
            keys.extend(r.condition_keys.iter().cloned());
            if let Some(rt) = self.resource_type(action, &r.name) {
                keys.extend(rt.condition_keys.iter().cloned());
            }
        }
        keys.into_iter().collect()
    }

    /// What an `Action`/`NotAction` pattern of a policy names (`*` and `?` are wildcards;
    /// `*` alone names every action).
    pub fn check_action_pattern(&self, pattern: &str) -> ActionCheck {
        if pattern == "*" {
            return ActionCheck::Defined;
        }
        let Some((prefix, action)) = pattern.split_once(':') else {
            return ActionCheck::MatchesNothing;
        };
        let wild = |s: &str| s.contains('*') || s.contains('?');
        if !wild(prefix) && !self.has_service(prefix) {
            return ActionCheck::UnknownService(prefix.to_string());
        }
        if !wild(prefix) && !wild(action) {
            return match self.action(pattern) {
                Some(_) => ActionCheck::Defined,
                None => ActionCheck::UnknownAction {
                    suggestion: self.suggest_action(pattern),
                },
            };
        }
        let prefix_glob = Glob::parse(&prefix.to_ascii_lowercase());
        let action_glob = Glob::parse(&action.to_ascii_lowercase());
        let any = self
            .services
            .iter()
            .filter(|(key, _)| prefix_glob.matches(key))
            .any(|(_, service)| service.actions.keys().any(|key| action_glob.matches(key)));
        if any {
            ActionCheck::Defined
        } else {
            ActionCheck::MatchesNothing
        }
    }
}

impl Service {
    /// The action `name` (any case) of this service.
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.get(&name.to_ascii_lowercase())
    }

    /// Every action, sorted by lowercase name.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.actions.values()
    }

    /// The resource type `name` (any case) of this service.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types.get(&name.to_ascii_lowercase())
    }

    /// Every resource type, sorted by lowercase name.
    pub fn resource_types(&self) -> impl Iterator<Item = &ResourceType> {
        self.resource_types.values()
    }
}

impl Action {
    /// `service:Action`, as AWS spells it.
    pub fn full_name(&self) -> String {
        format!("{}:{}", self.service, self.name)
    }
}

/// An ARN format as a glob: each `${Placeholder}` becomes `*`, and a `*` or `?` that the
/// format itself contains stays a wildcard.
pub fn arn_format_glob(format: &str) -> Glob {
    let mut tokens = Vec::new();
    let mut rest = format;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${") {
            if let Some(end) = after.find('}') {
                if tokens.last() != Some(&GlobToken::AnyRun) {
                    tokens.push(GlobToken::AnyRun);
                }
                rest = &after[end + 1..];
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        tokens.push(match c {
            '*' => GlobToken::AnyRun,
            '?' => GlobToken::AnyChar,
            other => GlobToken::Literal(other),
        });
        rest = &rest[c.len_utf8()..];
    }
    Glob::from_tokens(tokens)
}

/// The entry whose key is closest to `wanted` by edit distance (a swap of two neighbours
/// counts as one edit), if it is close enough for a typo; ties go to the first key.
fn closest<'a, 'k>(
    wanted: &str,
    candidates: impl Iterator<Item = (&'k str, &'a Action)>,
) -> Option<&'a Action> {
    let limit = match wanted.chars().count() {
        0..=4 => 1,
        5..=10 => 2,
        _ => 3,
    };
    let wanted_len = wanted.chars().count();
    let mut best: Option<(usize, &Action)> = None;
    for (key, action) in candidates {
        if key.chars().count().abs_diff(wanted_len) > limit {
            continue;
        }
        let distance = edit_distance(wanted, key);
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, action));
        }
    }
    best.map(|(_, action)| action)
}

/// The optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// adjacent characters each cost one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, cell) in d.iter_mut().step_by(width).enumerate() {
        *cell = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = value;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> &'static ServiceReference {
        bundled().expect("the bundled reference reads")
    }

    #[test]
    fn the_bundle_reads_and_covers_the_services_the_project_models() {
        let r = reference();
        assert!(
            r.services().count() > 400,
            "{} services",
            r.services().count()
        );
        for prefix in ["s3", "kms", "iam", "sts", "mediaconvert", "execute-api"] {
            assert!(r.has_service(prefix), "{prefix}");
        }
        assert!(!r.has_service("s4"));
        assert!(r.source.contains(&r.version));
    }

    #[test]
    fn actions_are_found_in_any_case() {
        let r = reference();
        let action = r.action("s3:putobject").expect("s3:PutObject");
        assert_eq!(action.full_name(), "s3:PutObject");
        assert_eq!(
            r.action("S3:GETOBJECT").map(Action::full_name).as_deref(),
            Some("s3:GetObject")
        );
        assert!(r.action("s3:PutObjcet").is_none());
        assert!(r.action("s3").is_none());
        assert!(r.action("nosuchservice:PutObject").is_none());
    }

    #[test]
    fn misspelt_actions_get_the_closest_defined_one() {
        let r = reference();
        assert_eq!(
            r.suggest_action("s3:PutObjcet").as_deref(),
            Some("s3:PutObject")
        );
        assert_eq!(
            r.suggest_action("s3:getobjet").as_deref(),
            Some("s3:GetObject")
        );
        // A misspelt prefix: the closest action across services.
        assert_eq!(
            r.suggest_action("s4:PutObject").as_deref(),
            Some("s3:PutObject")
        );
        assert_eq!(
            r.suggest_action("kms:Decrpyt").as_deref(),
            Some("kms:Decrypt")
        );
        // Nothing close: no suggestion.
        assert_eq!(r.suggest_action("s3:FlyToTheMoonAndBack"), None);
    }

    #[test]
    fn arn_formats_become_globs() {
        assert_eq!(
            arn_format_glob("arn:${Partition}:s3:::${BucketName}/${ObjectName}").to_text(),
            "arn:*:s3:::*/*"
        );
        assert_eq!(
            arn_format_glob("arn:${Partition}:dms:${Region}:${Account}:cert:*").to_text(),
            "arn:*:dms:*:*:cert:*"
        );
        assert_eq!(
            arn_format_glob("arn:aws:x:::a${B}${C}").to_text(),
            "arn:aws:x:::a*"
        );
        assert_eq!(arn_format_glob("a${unclosed").to_text(), "a${unclosed");
    }

    #[test]
    fn put_object_takes_objects_not_buckets() {
        let r = reference();
        let put = r.action("s3:PutObject").expect("s3:PutObject");
        assert!(!r.resource_may_match(put, "arn:aws:s3:::finance"));
        assert!(r.resource_may_match(put, "arn:aws:s3:::b/*"));
        assert!(r.resource_may_match(put, "arn:aws:s3:::finance/reports/q1.csv"));
        assert!(r.resource_may_match(put, "*"));
        assert!(r.resource_may_match(put, "arn:aws:s3:::fin*"));
        assert!(!r.resource_may_match(put, "arn:aws:kms:us-east-1:111122223333:key/k"));
        let types: Vec<String> = r.resource_globs(put).into_iter().map(|(n, _)| n).collect();
        assert!(types.contains(&"object".to_string()), "{types:?}");
    }

    #[test]
    fn list_bucket_takes_buckets() {
        let r = reference();
        let list = r.action("s3:ListBucket").expect("s3:ListBucket");
        assert!(r.resource_may_match(list, "arn:aws:s3:::finance"));
        assert!(!r.resource_may_match(list, "arn:aws:iam::111122223333:role/r"));
    }

    #[test]
    fn actions_without_resource_types_take_star() {
        let r = reference();
        let who = r
            .action("sts:GetCallerIdentity")
            .expect("sts:GetCallerIdentity");
        assert!(who.resource_types.is_empty());
        assert_eq!(
            r.resource_globs(who),
            vec![("*".to_string(), vec![Glob::parse("*")])]
        );
        assert!(r.resource_may_match(who, "*"));
    }

    #[test]
    fn the_actions_the_project_models_take_their_resources() {
        let r = reference();
        for (action, resource) in [
            ("sts:AssumeRole", "arn:aws:iam::111122223333:role/editor"),
            ("iam:PassRole", "arn:aws:iam::111122223333:role/path/editor"),
            (
                "kms:GenerateDataKey",
                "arn:aws:kms:us-east-1:111122223333:key/8b2e4d17-c6a9-4f35-9d01-7a5c3e9b2f4d",
            ),
            (
                "mediaconvert:CreateJob",
                "arn:aws:mediaconvert:us-east-1:111122223333:queues/premium",
            ),
            (
                "execute-api:Invoke",
                "arn:aws:execute-api:us-east-1:111122223333:k3x9q2m7vb/*",
            ),
        ] {
            let a = r.action(action).expect(action);
            assert!(r.resource_may_match(a, resource), "{action} on {resource}");
        }
    }

    #[test]
    fn condition_keys_join_the_action_and_its_resource_types() {
        let r = reference();
        let put = r.action("s3:PutObject").expect("s3:PutObject");
        let keys = r.condition_keys(put);
        assert!(
            keys.iter().any(|k| k == "s3:x-amz-server-side-encryption"),
            "{keys:?}"
        );
        // From the object resource type.
        assert!(
            keys.iter().any(|k| k == "s3:BucketTag/${TagKey}"),
            "{keys:?}"
        );
        let s3 = r.service("s3").expect("s3");
        assert_eq!(
            s3.condition_keys.get("s3:TlsVersion").map(String::as_str),
            Some("Numeric")
        );
    }

    #[test]
    fn action_patterns_of_policies() {
        let r = reference();
        assert_eq!(r.check_action_pattern("*"), ActionCheck::Defined);
        assert_eq!(r.check_action_pattern("s3:*"), ActionCheck::Defined);
        assert_eq!(r.check_action_pattern("s3:Put*"), ActionCheck::Defined);
        assert_eq!(r.check_action_pattern("S3:putobject"), ActionCheck::Defined);
        assert_eq!(r.check_action_pattern("*:GetObject"), ActionCheck::Defined);
        assert_eq!(
            r.check_action_pattern("s3:Putt*"),
            ActionCheck::MatchesNothing
        );
        assert_eq!(
            r.check_action_pattern("s4:GetObject"),
            ActionCheck::UnknownService("s4".to_string())
        );
        assert_eq!(
            r.check_action_pattern("s3:PutObjcet"),
            ActionCheck::UnknownAction {
                suggestion: Some("s3:PutObject".to_string())
            }
        );
    }

    #[test]
    fn edit_distance_counts_swaps_once() {
        assert_eq!(edit_distance("putobjcet", "putobject"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
