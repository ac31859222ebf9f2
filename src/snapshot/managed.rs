//! The bundled copy of the AWS managed policies, and the resolution of managed policy ARNs.
//!
//! `get-account-authorization-details` often leaves AWS managed policies out (always when they
//! serve only as permissions boundaries), so the project ships their documents
//! (`data/aws-managed-policies.json.gz`, see `data/README.md`). The file is decompressed and
//! indexed on first use only, and only the documents that some principal references are
//! parsed, so loading a snapshot stays fast.

use super::document::aws_managed_policy;
use crate::model::{is_aws_managed_policy_arn, ManagedPolicy, PolicySource};
use crate::policy::PolicyError;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, OnceLock};

const BUNDLE: &[u8] = include_bytes!("../../data/aws-managed-policies.json.gz");

#[derive(serde::Deserialize)]
struct Bundle {
    source: String,
    policies: HashMap<String, BundledEntry>,
}

#[derive(serde::Deserialize)]
struct BundledEntry {
    name: String,
    version: Option<String>,
    #[serde(default)]
    deprecated: bool,
    document: Box<RawValue>,
}

/// What can go wrong with one bundled policy (a defect of the bundle, not of the input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("the bundled AWS managed policies cannot be read: {0}")]
    Unreadable(String),
    #[error("the bundled copy of {arn} does not parse: {error}")]
    Unparseable { arn: String, error: PolicyError },
}

fn bundle() -> Result<&'static Bundle, BundleError> {
    static BUNDLE_INDEX: OnceLock<Result<Bundle, String>> = OnceLock::new();
    BUNDLE_INDEX
        .get_or_init(|| {
            let mut text = String::new();
            flate2::read::GzDecoder::new(BUNDLE)
                .read_to_string(&mut text)
                .map_err(|e| e.to_string())?;
            serde_json::from_str(&text).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|message| BundleError::Unreadable(message.clone()))
}

/// Where the bundled documents come from, as the bundle records it.
pub fn bundle_source() -> Result<&'static str, BundleError> {
    Ok(bundle()?.source.as_str())
}

/// Every ARN in the bundle, sorted.
pub fn bundled_arns() -> Result<Vec<&'static str>, BundleError> {
    let mut arns: Vec<&str> = bundle()?.policies.keys().map(String::as_str).collect();
    arns.sort_unstable();
    Ok(arns)
}

/// Every action the bundled policies name without a wildcard, sorted: real action names, so
/// that answers can speak of an action a reader recognises.
pub fn known_actions() -> Result<&'static [String], BundleError> {
    static ACTIONS: OnceLock<Vec<String>> = OnceLock::new();
    let bundle = bundle()?;
    Ok(ACTIONS.get_or_init(|| {
        let mut actions = std::collections::BTreeSet::new();
        for entry in bundle.policies.values() {
            let Ok(document) = serde_json::from_str::<serde_json::Value>(entry.document.get())
            else {
                continue;
            };
            let statements = match document.get("Statement") {
                Some(serde_json::Value::Array(list)) => list.iter().collect(),
                Some(one) => vec![one],
                None => Vec::new(),
            };
            for statement in statements {
                for key in ["Action", "NotAction"] {
                    let names = match statement.get(key) {
                        Some(serde_json::Value::Array(list)) => list.iter().collect(),
                        Some(one) => vec![one],
                        None => Vec::new(),
                    };
                    actions.extend(
                        names
                            .into_iter()
                            .filter_map(serde_json::Value::as_str)
                            .filter(|a| !a.contains(['*', '?']))
                            .filter_map(|a| a.split_once(':'))
                            // Service prefixes are lowercase; a few documents capitalise them.
                            .map(|(service, name)| format!("{}:{name}", service.to_lowercase())),
                    );
                }
            }
        }
        actions.into_iter().collect()
    }))
}

/// Whether the bundle marks the policy deprecated (AWS keeps deprecated policies working for
/// the principals that already have them).
pub fn is_deprecated(arn: &str) -> Result<bool, BundleError> {
    Ok(bundle()?
        .policies
        .get(&bundle_key(arn))
        .is_some_and(|entry| entry.deprecated))
}

/// The bundle keys ARNs in the `aws` partition; the same policies exist in the others.
fn bundle_key(arn: &str) -> String {
    match arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(':'))
    {
        Some((_, rest)) => format!("arn:aws:{rest}"),
        None => arn.to_string(),
    }
}

/// The bundled AWS managed policy `arn`, parsed; `Ok(None)` when the bundle does not have it.
pub fn bundled_policy(arn: &str) -> Result<Option<ManagedPolicy>, BundleError> {
    if !is_aws_managed_policy_arn(arn) {
        return Ok(None);
    }
    let Some(entry) = bundle()?.policies.get(&bundle_key(arn)) else {
        return Ok(None);
    };
    let unparseable = |error| BundleError::Unparseable {
        arn: arn.to_string(),
        error,
    };
    let document: serde_json::Value = serde_json::from_str(entry.document.get()).map_err(|e| {
        unparseable(PolicyError {
            path: "(document)".to_string(),
            message: format!("not valid JSON: {e}"),
        })
    })?;
    let policy = aws_managed_policy(&document).map_err(unparseable)?;
    let path = arn
        .split_once(":policy")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.rsplit_once('/'))
        .map(|(path, _)| format!("{path}/"))
        .unwrap_or_else(|| "/".to_string());
    Ok(Some(ManagedPolicy {
        arn: arn.to_string(),
        name: entry.name.clone(),
        path,
        account: "aws".to_string(),
        version: entry.version.clone(),
        policy: Arc::new(policy),
        source: PolicySource::Bundled,
        other_versions: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_parses_bundled_policies() {
        let policy = bundled_policy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
            .unwrap()
            .unwrap();
        assert_eq!(policy.name, "AmazonS3ReadOnlyAccess");
        assert_eq!(policy.path, "/");
        assert_eq!(policy.source, PolicySource::Bundled);
        assert!(policy
            .policy
            .statements
            .iter()
            .any(|s| s.action.covers("s3:GetObject")));
        assert!(
            bundled_policy("arn:aws:iam::aws:policy/NoSuchPolicyForTesting")
                .unwrap()
                .is_none()
        );
        assert!(
            bundled_policy("arn:aws:iam::111122223333:policy/AmazonS3ReadOnlyAccess")
                .unwrap()
                .is_none()
        );
        let china = bundled_policy("arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess")
            .unwrap()
            .unwrap();
        assert_eq!(
            china.arn,
            "arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess"
        );
    }

    #[test]
    fn keeps_the_path_of_service_role_policies() {
        let arn = bundled_arns()
            .unwrap()
            .into_iter()
            .find(|arn| arn.contains(":policy/service-role/"))
            .unwrap();
        assert_eq!(bundled_policy(arn).unwrap().unwrap().path, "/service-role/");
    }

    #[test]
    fn every_bundled_policy_parses() {
        let failures: Vec<String> = bundled_arns()
            .unwrap()
            .into_iter()
            .filter_map(|arn| bundled_policy(arn).err().map(|e| e.to_string()))
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
        assert!(bundle_source()
            .unwrap()
            .contains("AWS managed policy documents"));
    }
}
