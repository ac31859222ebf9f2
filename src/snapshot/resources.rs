//! The resource part of a snapshot: S3 buckets, KMS keys and aliases, MediaConvert queues, job
//! templates and presets, and API Gateway REST APIs, each read from the output of the AWS CLI
//! command that describes it.

use super::document::{escaped_policy_document, wrapped_policy};
use super::iam::tags;
use super::json::Node;
use super::layout::{BucketFiles, KeyFiles};
use super::read_json;
use crate::input::InputError;
use crate::model::{
    Bucket, BucketEncryption, JobTemplate, KeyManager, KmsAlias, KmsKey, ObjectOwnership, Preset,
    PublicAccessBlock, Queue, RestApi, SseAlgorithm, Warning,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The account a snapshot describes: what resources without an ARN of their own belong to.
#[derive(Debug, Clone)]
pub(crate) struct AccountContext {
    pub id: String,
    pub partition: String,
    pub region: String,
}

impl AccountContext {
    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.id
        )
    }
}

/// The region segment of an ARN, or the snapshot's region.
fn region_of(arn: &str, context: &AccountContext) -> String {
    match arn.split(':').nth(3) {
        Some(region) if !region.is_empty() => region.to_string(),
        _ => context.region.clone(),
    }
}

/// One bucket folder, `s3/<name>/`.
pub(crate) fn bucket(
    name: &str,
    files: &BucketFiles,
    context: &AccountContext,
) -> Result<Bucket, InputError> {
    let mut bucket = Bucket {
        name: name.to_string(),
        account: context.id.clone(),
        policy: None,
        encryption: None,
        ownership: None,
        public_access_block: None,
        tags: BTreeMap::new(),
    };
    if let Some(path) = &files.policy {
        let (file, value) = read_json(path)?;
        bucket.policy = Some(Arc::new(wrapped_policy(&Node::root(&file, &value))?));
    }
    if let Some(path) = &files.encryption {
        let (file, value) = read_json(path)?;
        bucket.encryption = encryption(&Node::root(&file, &value))?;
    }
    if let Some(path) = &files.ownership_controls {
        let (file, value) = read_json(path)?;
        bucket.ownership = ownership(&Node::root(&file, &value))?;
    }
    if let Some(path) = &files.public_access_block {
        let (file, value) = read_json(path)?;
        bucket.public_access_block = Some(public_access_block(&Node::root(&file, &value))?);
    }
    if let Some(path) = &files.tags {
        let (file, value) = read_json(path)?;
        bucket.tags = tags(&Node::root(&file, &value), "TagSet")?;
    }
    Ok(bucket)
}

/// `get-bucket-encryption`: the first rule that sets a default.
fn encryption(root: &Node) -> Result<Option<BucketEncryption>, InputError> {
    let rules = root
        .required("ServerSideEncryptionConfiguration")?
        .required("Rules")?;
    for rule in rules.list()? {
        let Some(default) = rule.field("ApplyServerSideEncryptionByDefault")? else {
            continue;
        };
        let algorithm_node = default.required("SSEAlgorithm")?;
        let algorithm_text = algorithm_node.str()?;
        let algorithm = SseAlgorithm::parse(algorithm_text).ok_or_else(|| {
            algorithm_node.error(format!(
                "unknown SSEAlgorithm {algorithm_text:?} (expected \"AES256\", \"aws:kms\" or \"aws:kms:dsse\")"
            ))
        })?;
        return Ok(Some(BucketEncryption {
            algorithm,
            kms_key_id: default.optional_str("KMSMasterKeyID")?.map(str::to_string),
            bucket_key_enabled: rule.optional_bool("BucketKeyEnabled")?.unwrap_or(false),
        }));
    }
    Ok(None)
}

/// `get-bucket-ownership-controls`: the first rule (S3 allows exactly one).
fn ownership(root: &Node) -> Result<Option<ObjectOwnership>, InputError> {
    let rules = root.required("OwnershipControls")?.required("Rules")?;
    let Some(rule) = rules.list()?.into_iter().next() else {
        return Ok(None);
    };
    let node = rule.required("ObjectOwnership")?;
    let text = node.str()?;
    ObjectOwnership::parse(text).map(Some).ok_or_else(|| {
        node.error(format!(
            "unknown ObjectOwnership {text:?} (expected \"BucketOwnerEnforced\", \"BucketOwnerPreferred\" or \"ObjectWriter\")"
        ))
    })
}

/// `get-public-access-block`.
fn public_access_block(root: &Node) -> Result<PublicAccessBlock, InputError> {
    let config = root.required("PublicAccessBlockConfiguration")?;
    let flag = |name: &str| {
        config
            .optional_bool(name)
            .map(|value| value.unwrap_or(false))
    };
    Ok(PublicAccessBlock {
        block_public_acls: flag("BlockPublicAcls")?,
        ignore_public_acls: flag("IgnorePublicAcls")?,
        block_public_policy: flag("BlockPublicPolicy")?,
        restrict_public_buckets: flag("RestrictPublicBuckets")?,
    })
}

/// One key folder, `kms/<key-id>/`.
pub(crate) fn key(
    folder_name: &str,
    files: &KeyFiles,
    context: &AccountContext,
    warnings: &mut Vec<Warning>,
) -> Result<KmsKey, InputError> {
    let mut key = KmsKey {
        id: folder_name.to_string(),
        arn: context.arn("kms", &format!("key/{folder_name}")),
        account: context.id.clone(),
        region: context.region.clone(),
        policy: None,
        key_manager: None,
        enabled: None,
        key_state: None,
        key_usage: None,
        properties: BTreeMap::new(),
        description: None,
        aliases: Vec::new(),
    };
    if let Some(path) = &files.key {
        let (file, value) = read_json(path)?;
        let metadata = Node::root(&file, &value).required("KeyMetadata")?;
        let id = metadata.required_str("KeyId")?;
        if id != folder_name {
            warnings.push(Warning {
                file: file.clone(),
                path: "KeyMetadata.KeyId".to_string(),
                message: format!("the key id {id} differs from its folder name {folder_name}; the key id is used"),
            });
        }
        key.id = id.to_string();
        key.arn = match metadata.optional_str("Arn")? {
            Some(arn) => arn.to_string(),
            None => context.arn("kms", &format!("key/{id}")),
        };
        key.region = region_of(&key.arn, context);
        if let Some(account) = crate::model::arn_account(&key.arn) {
            key.account = account.to_string();
        }
        if let Some(node) = metadata.field("KeyManager")? {
            key.key_manager = Some(match node.str()? {
                "AWS" => KeyManager::Aws,
                "CUSTOMER" => KeyManager::Customer,
                other => {
                    return Err(node.error(format!(
                        "unknown KeyManager {other:?} (expected \"AWS\" or \"CUSTOMER\")"
                    )))
                }
            });
        }
        key.enabled = metadata.optional_bool("Enabled")?;
        key.key_state = metadata.optional_str("KeyState")?.map(str::to_string);
        key.key_usage = metadata.optional_str("KeyUsage")?.map(str::to_string);
        for (field, condition_key) in [
            ("Origin", "kms:KeyOrigin"),
            ("KeySpec", "kms:KeySpec"),
            ("KeyUsage", "kms:KeyUsage"),
        ] {
            if let Some(value) = metadata.optional_str(field)? {
                key.properties
                    .insert(condition_key.to_string(), value.to_string());
            }
        }
        if let Some(multi) = metadata.optional_bool("MultiRegion")? {
            key.properties
                .insert("kms:MultiRegion".to_string(), multi.to_string());
        }
        if let Some(config) = metadata.field("MultiRegionConfiguration")? {
            if let Some(kind) = config.optional_str("MultiRegionKeyType")? {
                key.properties
                    .insert("kms:MultiRegionKeyType".to_string(), kind.to_string());
            }
        }
        key.description = metadata.optional_str("Description")?.map(str::to_string);
    }
    if let Some(path) = &files.policy {
        let (file, value) = read_json(path)?;
        key.policy = Some(Arc::new(wrapped_policy(&Node::root(&file, &value))?));
    }
    Ok(key)
}

/// `kms/aliases.json` (`list-aliases`).
pub(crate) fn aliases(path: &Path, context: &AccountContext) -> Result<Vec<KmsAlias>, InputError> {
    let (file, value) = read_json(path)?;
    let root = Node::root(&file, &value);
    root.required("Aliases")?
        .list()?
        .iter()
        .map(|node| {
            let name = node.required_str("AliasName")?.to_string();
            let arn = match node.optional_str("AliasArn")? {
                Some(arn) => arn.to_string(),
                None => context.arn("kms", &name),
            };
            Ok(KmsAlias {
                region: region_of(&arn, context),
                account: crate::model::arn_account(&arn)
                    .unwrap_or(&context.id)
                    .to_string(),
                target_key_id: node.optional_str("TargetKeyId")?.map(str::to_string),
                name,
                arn,
            })
        })
        .collect()
}

/// Name and ARN of one MediaConvert listing entry; the ARN is built from the name when absent.
fn named_entry(
    node: &Node,
    context: &AccountContext,
    kind: &str,
) -> Result<(String, String), InputError> {
    let name = node.required_str("Name")?.to_string();
    let arn = match node.optional_str("Arn")? {
        Some(arn) => arn.to_string(),
        None => context.arn("mediaconvert", &format!("{kind}/{name}")),
    };
    Ok((name, arn))
}

/// `mediaconvert/queues.json` (`list-queues`), plus the `Default` queue that always exists.
pub(crate) fn queues(
    path: Option<&Path>,
    context: &AccountContext,
) -> Result<Vec<Queue>, InputError> {
    let mut queues = Vec::new();
    if let Some(path) = path {
        let (file, value) = read_json(path)?;
        for node in Node::root(&file, &value).optional_list("Queues")? {
            let (name, arn) = named_entry(&node, context, "queues")?;
            queues.push(Queue {
                region: region_of(&arn, context),
                account: context.id.clone(),
                implicit: false,
                name,
                arn,
            });
        }
    }
    if !queues.iter().any(|queue| queue.name == "Default") {
        queues.push(Queue {
            arn: context.arn("mediaconvert", "queues/Default"),
            name: "Default".to_string(),
            account: context.id.clone(),
            region: context.region.clone(),
            implicit: true,
        });
    }
    Ok(queues)
}

/// `mediaconvert/job-templates.json` (`list-job-templates`).
pub(crate) fn job_templates(
    path: &Path,
    context: &AccountContext,
) -> Result<Vec<JobTemplate>, InputError> {
    let (file, value) = read_json(path)?;
    Node::root(&file, &value)
        .optional_list("JobTemplates")?
        .iter()
        .map(|node| {
            let (name, arn) = named_entry(node, context, "jobTemplates")?;
            Ok(JobTemplate {
                region: region_of(&arn, context),
                account: context.id.clone(),
                queue: node.optional_str("Queue")?.map(str::to_string),
                name,
                arn,
            })
        })
        .collect()
}

/// `mediaconvert/presets.json` (`list-presets`).
pub(crate) fn presets(path: &Path, context: &AccountContext) -> Result<Vec<Preset>, InputError> {
    let (file, value) = read_json(path)?;
    Node::root(&file, &value)
        .optional_list("Presets")?
        .iter()
        .map(|node| {
            let (name, arn) = named_entry(node, context, "presets")?;
            Ok(Preset {
                region: region_of(&arn, context),
                account: context.id.clone(),
                name,
                arn,
            })
        })
        .collect()
}

/// `apigateway/rest-apis.json` (`get-rest-apis`).
pub(crate) fn rest_apis(path: &Path, context: &AccountContext) -> Result<Vec<RestApi>, InputError> {
    let (file, value) = read_json(path)?;
    Node::root(&file, &value)
        .optional_list("items")?
        .iter()
        .map(|node| {
            let id = node.required_str("id")?.to_string();
            let policy = match node.field("policy")? {
                Some(policy) => Some(Arc::new(escaped_policy_document(&policy)?)),
                None => None,
            };
            let mut tags = BTreeMap::new();
            if let Some(tag_node) = node.field("tags")? {
                for key in tag_node.object()?.keys() {
                    let value = tag_node.required_str(key)?;
                    tags.insert(key.clone(), value.to_string());
                }
            }
            let endpoint_types = match node.field("endpointConfiguration")? {
                Some(config) => match config.field("types")? {
                    Some(types) => types.strings()?,
                    None => Vec::new(),
                },
                None => Vec::new(),
            };
            Ok(RestApi {
                arn: context.arn("execute-api", &id),
                name: node.optional_str("name")?.map(str::to_string),
                account: context.id.clone(),
                region: context.region.clone(),
                policy,
                endpoint_types,
                tags,
                id,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_bucket_settings() {
        let value = json!({"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault":
            {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/media"}, "BucketKeyEnabled": true}]}});
        let parsed = encryption(&Node::root("f", &value)).unwrap().unwrap();
        assert_eq!(parsed.algorithm, SseAlgorithm::AwsKms);
        assert_eq!(parsed.kms_key_id.as_deref(), Some("alias/media"));
        let value = json!({"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault":
            {"SSEAlgorithm": "rot13"}}]}});
        assert_eq!(
            encryption(&Node::root("f", &value)).unwrap_err().to_string(),
            "f: ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm: unknown SSEAlgorithm \"rot13\" (expected \"AES256\", \"aws:kms\" or \"aws:kms:dsse\")"
        );
        let value = json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true}});
        let block = public_access_block(&Node::root("f", &value)).unwrap();
        assert!(block.block_public_acls && !block.restrict_public_buckets);
    }
}
