//! What each resource type of the AWS provider does to the model: one row per type.
//!
//! Principals, managed policies, buckets and keys (entities) are made first; what names them
//! (inline policies, attachments, memberships, bucket and key policies, bucket settings) is
//! made next, so that a plan lists its resources in any order. An entity the plan updates
//! keeps what other resources of the account attach to it, as AWS keeps it; a relation the
//! plan updates or deletes is removed as it was before.
//!
//! Attribute names are those of the AWS provider's resources (registry.terraform.io/hashicorp/aws).

mod organizations;

use super::{warning, Plan, Resource};
use crate::input::InputError;
use crate::model::{
    inline_policy_name, Account, Bucket, BucketEncryption, Group, InlinePolicy, KmsKey,
    ManagedPolicy, Model, ObjectOwnership, Origin, PolicySource, PublicAccessBlock, Role,
    SseAlgorithm, User,
};
use crate::policy::Policy;
use crate::snapshot::document::policy_document;
use crate::snapshot::json::Node;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Whether a resource type makes something others name, or names something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Entity,
    Relation,
}

/// What one resource type does.
pub(crate) struct ResourceType {
    pub kind: &'static str,
    pub stage: Stage,
    /// Makes the resource with these values (after the plan).
    pub make: fn(&mut Builder, &Resource, &Node) -> Result<(), InputError>,
    /// Undoes the resource with these values (before the plan).
    pub remove: fn(&mut Builder, &Resource, &Node) -> Result<(), InputError>,
}

/// The resource types read, with what they do.
pub(crate) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType {
        kind: "aws_iam_user",
        stage: Stage::Entity,
        make: make_user,
        remove: remove_user,
    },
    ResourceType {
        kind: "aws_iam_group",
        stage: Stage::Entity,
        make: make_group,
        remove: remove_group,
    },
    ResourceType {
        kind: "aws_iam_role",
        stage: Stage::Entity,
        make: make_role,
        remove: remove_role,
    },
    ResourceType {
        kind: "aws_iam_policy",
        stage: Stage::Entity,
        make: make_policy,
        remove: remove_policy,
    },
    ResourceType {
        kind: "aws_s3_bucket",
        stage: Stage::Entity,
        make: make_bucket,
        remove: remove_bucket,
    },
    ResourceType {
        kind: "aws_kms_key",
        stage: Stage::Entity,
        make: make_key,
        remove: remove_key,
    },
    ResourceType {
        kind: "aws_media_convert_queue",
        stage: Stage::Entity,
        make: make_queue,
        remove: remove_queue,
    },
    ResourceType {
        kind: "aws_iam_user_policy",
        stage: Stage::Relation,
        make: |b, r, v| make_inline(b, r, v, "user"),
        remove: |b, r, v| remove_inline(b, r, v, "user"),
    },
    ResourceType {
        kind: "aws_iam_group_policy",
        stage: Stage::Relation,
        make: |b, r, v| make_inline(b, r, v, "group"),
        remove: |b, r, v| remove_inline(b, r, v, "group"),
    },
    ResourceType {
        kind: "aws_iam_role_policy",
        stage: Stage::Relation,
        make: |b, r, v| make_inline(b, r, v, "role"),
        remove: |b, r, v| remove_inline(b, r, v, "role"),
    },
    ResourceType {
        kind: "aws_iam_user_policy_attachment",
        stage: Stage::Relation,
        make: |b, r, v| make_attachment(b, r, v, "user"),
        remove: |b, r, v| remove_attachment(b, r, v, "user"),
    },
    ResourceType {
        kind: "aws_iam_group_policy_attachment",
        stage: Stage::Relation,
        make: |b, r, v| make_attachment(b, r, v, "group"),
        remove: |b, r, v| remove_attachment(b, r, v, "group"),
    },
    ResourceType {
        kind: "aws_iam_role_policy_attachment",
        stage: Stage::Relation,
        make: |b, r, v| make_attachment(b, r, v, "role"),
        remove: |b, r, v| remove_attachment(b, r, v, "role"),
    },
    ResourceType {
        kind: "aws_iam_policy_attachment",
        stage: Stage::Relation,
        make: make_policy_attachment,
        remove: remove_policy_attachment,
    },
    ResourceType {
        kind: "aws_iam_user_group_membership",
        stage: Stage::Relation,
        make: |b, r, v| user_groups(b, r, v, true),
        remove: |b, r, v| user_groups(b, r, v, false),
    },
    ResourceType {
        kind: "aws_iam_group_membership",
        stage: Stage::Relation,
        make: |b, r, v| group_users(b, r, v, true),
        remove: |b, r, v| group_users(b, r, v, false),
    },
    ResourceType {
        kind: "aws_s3_bucket_policy",
        stage: Stage::Relation,
        make: make_bucket_policy,
        remove: remove_bucket_policy,
    },
    ResourceType {
        kind: "aws_s3_bucket_server_side_encryption_configuration",
        stage: Stage::Relation,
        make: make_bucket_encryption,
        remove: remove_bucket_encryption,
    },
    ResourceType {
        kind: "aws_s3_bucket_ownership_controls",
        stage: Stage::Relation,
        make: make_bucket_ownership,
        remove: remove_bucket_ownership,
    },
    ResourceType {
        kind: "aws_s3_bucket_public_access_block",
        stage: Stage::Relation,
        make: make_public_access_block,
        remove: remove_public_access_block,
    },
    ResourceType {
        kind: "aws_kms_key_policy",
        stage: Stage::Relation,
        make: make_key_policy,
        remove: remove_key_policy,
    },
    ResourceType {
        kind: "aws_organizations_policy",
        stage: Stage::Entity,
        make: organizations::make_policy,
        remove: organizations::remove_policy,
    },
    ResourceType {
        kind: "aws_organizations_policy_attachment",
        stage: Stage::Relation,
        make: organizations::make_attachment,
        remove: organizations::remove_attachment,
    },
    ResourceType {
        kind: "aws_organizations_account",
        stage: Stage::Relation,
        make: organizations::make_account,
        remove: |_, _, _| Ok(()),
    },
];

/// Resource types that can grant or restrict access but are not read: a plan that holds one
/// leaves refutations `unknown`. Types are matched by prefix.
const UNREAD_GRANTING: &[&str] = &[
    "aws_iam_",
    "aws_kms_grant",
    "aws_kms_replica_key",
    "aws_lambda_permission",
    "aws_s3_access_point",
    "aws_s3control_",
    "aws_s3_bucket_acl",
];

/// Resource types read elsewhere or that grant nothing on their own.
const READ_AS_PART_OF_OTHERS: &[&str] = &[
    "aws_iam_instance_profile",
    "aws_iam_openid_connect_provider",
    "aws_iam_saml_provider",
    "aws_iam_service_linked_role",
    "aws_iam_access_key",
    "aws_iam_user_login_profile",
    "aws_iam_account_password_policy",
    "aws_iam_account_alias",
];

/// The value of an attribute: known, known only after apply, or absent.
enum Attribute<'a> {
    Known(Node<'a>),
    Unknown,
    Absent,
}

/// Makes a plan's resources in a model.
pub(crate) struct Builder<'m, 'p> {
    model: &'m mut Model,
    plan: &'p Plan<'p>,
    account: Account,
    /// The ARN (and name) of each IAM entity the plan makes, by configuration address, for
    /// the values known only after apply that refer to them; `None` when several instances
    /// share the address.
    made: BTreeMap<String, Option<(String, String)>>,
    /// The organization policies of the plan, and the levels it detaches policies from.
    org: organizations::State,
}

impl<'m, 'p> Builder<'m, 'p> {
    pub fn new(model: &'m mut Model, plan: &'p Plan<'p>, account: &Account) -> Self {
        Builder {
            model,
            plan,
            account: account.clone(),
            made: BTreeMap::new(),
            org: organizations::State::default(),
        }
    }

    /// A plan that holds an OIDC provider may change the audiences the snapshot records: the
    /// account's providers are taken to accept any.
    fn forget_audiences(&mut self) {
        let account = self.account.id.clone();
        for provider in self.model.identity_providers.values_mut() {
            if crate::model::arn_account(&provider.arn) == Some(account.as_str()) {
                provider.audiences = None;
            }
        }
    }

    pub fn run(&mut self) -> Result<(), InputError> {
        let plan = self.plan;
        for resource in &plan.resources {
            if !RESOURCE_TYPES.iter().any(|row| row.kind == resource.kind) {
                self.note_unread(resource);
            }
            if resource.kind == "aws_iam_openid_connect_provider" {
                self.forget_audiences();
            }
        }
        let rows = |stage: Stage| {
            plan.resources.iter().filter_map(move |resource| {
                RESOURCE_TYPES
                    .iter()
                    .find(|row| row.kind == resource.kind && row.stage == stage)
                    .map(|row| (row, resource))
            })
        };
        for (row, resource) in rows(Stage::Entity) {
            // An entity the plan updates keeps what is attached to it; one it replaces or
            // deletes does not; one it forgets stays in AWS.
            let replaced = resource.actions.iter().any(|a| a == "delete");
            if let (Some(before), true) = (&resource.before, replaced && !resource.forgets()) {
                (row.remove)(self, resource, before)?;
            }
            if let (Some(before), true) = (&resource.before, resource.forgets()) {
                (row.make)(self, resource, before)?;
            }
            if let Some(after) = &resource.after {
                (row.make)(self, resource, after)?;
            }
        }
        // Relations: every removal before any addition, and an attachment both removed and
        // made by different resources of one plan is in an order Terraform does not fix.
        let mut removed = BTreeMap::new();
        for (row, resource) in rows(Stage::Relation) {
            if let (Some(before), false) =
                (&resource.before, resource.unchanged() || resource.forgets())
            {
                removed.insert(relation_key(resource, before), resource.address.clone());
                (row.remove)(self, resource, before)?;
            }
        }
        for (row, resource) in rows(Stage::Relation) {
            if let (Some(before), true) = (&resource.before, resource.forgets()) {
                (row.make)(self, resource, before)?;
            }
            if let Some(after) = &resource.after {
                let key = relation_key(resource, after);
                if removed
                    .get(&key)
                    .is_some_and(|other| other != &resource.address)
                {
                    self.unordered(resource, after);
                }
                (row.make)(self, resource, after)?;
            }
        }
        organizations::finish(self);
        Ok(())
    }

    /// Marks the principal of a relation that another resource of the plan removes: which of
    /// the two AWS sees last is not fixed.
    fn unordered(&mut self, resource: &Resource, values: &Node) {
        for kind in ["user", "group", "role"] {
            let name = values.value.get(kind).and_then(Value::as_str);
            if let Some(arn) = name.and_then(|name| self.principal_named(kind, name)) {
                self.pending(
                    &arn,
                    resource,
                    "(made and removed by the plan in no fixed order)",
                );
            }
        }
    }

    fn note_unread(&mut self, resource: &Resource) {
        let kind = resource.kind.as_str();
        if READ_AS_PART_OF_OTHERS.contains(&kind) {
            return;
        }
        if UNREAD_GRANTING
            .iter()
            .any(|prefix| kind.starts_with(prefix))
        {
            self.model.unread.push(format!(
                "{}: {} is not read ({kind}), and what it grants may give a way",
                self.plan.file, resource.address
            ));
            self.model.warnings.push(warning(
                self.plan.file,
                &resource.address,
                format!("{kind} is not read: refutations that it could change are unknown"),
            ));
        }
    }

    /// Records that `resource` declares the policy answers call `policy`.
    fn declared(&mut self, policy: String, resource: &Resource) {
        let address = if self.plan.template {
            let logical = resource.address.split('.').next();
            logical.unwrap_or(&resource.address).to_string()
        } else {
            resource.address.clone()
        };
        let origin = Origin {
            file: self.plan.file.to_string(),
            line: self.plan.lines.get(&address).copied(),
            address,
            template: self.plan.template,
        };
        self.model.origins.insert(policy, origin);
    }

    fn partition(&self) -> &str {
        &self.account.partition
    }

    fn iam_arn(&self, kind: &str, path: &str, name: &str) -> String {
        format!(
            "arn:{}:iam::{}:{kind}{path}{name}",
            self.partition(),
            self.account.id
        )
    }

    /// The attribute `name` of `values`, with whether it is known only after apply.
    fn attribute<'a>(
        &self,
        resource: &Resource,
        values: &Node<'a>,
        name: &str,
    ) -> Result<Attribute<'a>, InputError> {
        if let Some(node) = values.field(name)? {
            return Ok(Attribute::Known(node));
        }
        let unknown = resource
            .unknown
            .get(name)
            .is_some_and(|u| u != &Value::Bool(false))
            && resource.sets(name);
        let after = resource
            .after
            .as_ref()
            .is_some_and(|after| std::ptr::eq(after.value, values.value));
        Ok(if unknown && after {
            Attribute::Unknown
        } else {
            Attribute::Absent
        })
    }

    fn optional_string(
        &self,
        resource: &Resource,
        values: &Node,
        name: &str,
    ) -> Result<Option<String>, InputError> {
        match self.attribute(resource, values, name)? {
            Attribute::Known(node) => Ok(Some(node.str()?.to_string()).filter(|s| !s.is_empty())),
            _ => Ok(None),
        }
    }

    /// A string attribute that names an IAM entity or its ARN: known, or computed from the
    /// resource the configuration says it comes from.
    fn reference(
        &self,
        resource: &Resource,
        values: &Node,
        name: &str,
        want_arn: bool,
    ) -> Result<Option<String>, InputError> {
        match self.attribute(resource, values, name)? {
            Attribute::Known(node) => Ok(Some(node.str()?.to_string())),
            Attribute::Absent => Ok(None),
            Attribute::Unknown => Ok(self.referenced(resource, name, want_arn)),
        }
    }

    /// The ARN or name of the entity an attribute's expression refers to, when the plan makes
    /// exactly one.
    /// The ARN or name of the entity an attribute's expression refers to, when the plan makes
    /// exactly one it could be (a conditional expression may name several: then none).
    fn referenced(&self, resource: &Resource, name: &str, want_arn: bool) -> Option<String> {
        let references = resource.references.get(name)?;
        let candidates: BTreeSet<String> = references
            .iter()
            .filter_map(|reference| {
                let (address, attribute) = reference.rsplit_once('.')?;
                let known = self.made.get(address);
                // A reference to something the plan does not make: the value is not known.
                let Some(Some((arn, entity_name))) = known else {
                    return (known.is_some() || self.plan_makes(address)).then(String::new);
                };
                match (attribute, want_arn) {
                    ("arn", _) => Some(arn.clone()),
                    ("name" | "id" | "key_id" | "bucket", false) => Some(entity_name.clone()),
                    ("id", true) if address.contains("aws_iam_policy.") => Some(arn.clone()),
                    _ => Some(String::new()),
                }
            })
            .collect();
        match candidates.len() {
            1 => candidates.into_iter().next().filter(|c| !c.is_empty()),
            _ => None,
        }
    }

    /// Whether a configuration address is one of the plan's resources.
    fn plan_makes(&self, address: &str) -> bool {
        self.plan
            .resources
            .iter()
            .any(|r| super::config_address(&r.address) == address)
    }

    fn remember(&mut self, resource: &Resource, arn: &str, name: &str) {
        let address = super::config_address(&resource.address);
        let entry = (arn.to_string(), name.to_string());
        self.made
            .entry(address)
            .and_modify(|known| {
                if known.as_ref() != Some(&entry) {
                    *known = None;
                }
            })
            .or_insert(Some(entry));
    }

    /// Marks `owner` (a principal's or resource's ARN) as depending on `what`.
    fn pending(&mut self, owner: &str, resource: &Resource, attribute: &str) {
        self.model
            .pending
            .entry(owner.to_string())
            .or_default()
            .insert(format!(
                "{}.{attribute}, {}",
                resource.address, self.plan.known_when
            ));
    }

    /// A policy document attribute: `None` when absent or empty, an error naming the path when
    /// it does not parse; when known only after apply, `owner` is marked pending.
    fn policy(
        &mut self,
        resource: &Resource,
        values: &Node,
        name: &str,
        owner: &str,
    ) -> Result<Option<Policy>, InputError> {
        match self.attribute(resource, values, name)? {
            Attribute::Known(node) if node.value.as_str() == Some("") => Ok(None),
            Attribute::Known(node) => policy_document(&node)
                .map(Some)
                .map_err(|e| located(resource, e)),
            Attribute::Unknown => {
                self.pending(owner, resource, name);
                Ok(None)
            }
            Attribute::Absent => Ok(None),
        }
    }

    /// The name of an entity: known, or the address when known only after apply
    /// (`name_prefix`), with the entity marked pending.
    fn entity_name(
        &mut self,
        resource: &Resource,
        values: &Node,
    ) -> Result<(String, bool), InputError> {
        match self.attribute(resource, values, "name")? {
            Attribute::Known(node) => Ok((node.str()?.to_string(), true)),
            // The placeholder starts with what is known of the name, as the real one will.
            _ => {
                let prefix = self
                    .optional_string(resource, values, "name_prefix")?
                    .unwrap_or_default();
                let address = resource.address.replace(['[', ']', '"'], "_");
                Ok((format!("{prefix}{address}"), false))
            }
        }
    }

    /// Records that an entity's name is chosen at creation: `name_prefix` and what comes
    /// before the name in its ARN are known.
    fn generated(
        &mut self,
        resource: &Resource,
        values: &Node,
        arn: &str,
        placeholder: &str,
    ) -> Result<(), InputError> {
        let prefix = self
            .optional_string(resource, values, "name_prefix")?
            .unwrap_or_default();
        let before_name = arn.strip_suffix(placeholder).unwrap_or(arn);
        let known_prefix = format!("{before_name}{prefix}");
        debug_assert!(arn.starts_with(&known_prefix));
        self.model.generated.push(crate::terraform::GeneratedName {
            what: format!("{}: {}", self.plan.file, resource.address),
            placeholder_arn: arn.to_string(),
            known_prefix,
            infix: String::new(),
        });
        Ok(())
    }

    fn path(&self, resource: &Resource, values: &Node) -> Result<String, InputError> {
        Ok(self
            .optional_string(resource, values, "path")?
            .unwrap_or_else(|| "/".to_string()))
    }

    fn tags(&self, values: &Node) -> Result<BTreeMap<String, String>, InputError> {
        let mut tags = BTreeMap::new();
        let source = match values.field("tags_all")? {
            Some(all) => Some(all),
            None => values.field("tags")?,
        };
        if let Some(node) = source {
            for (key, value) in node.object()? {
                if let Some(text) = value.as_str() {
                    tags.insert(key.clone(), text.to_string());
                }
            }
        }
        Ok(tags)
    }

    /// The ARN of a user, group or role of the plan's account named `name`.
    fn principal_named(&self, kind: &str, name: &str) -> Option<String> {
        let account = &self.account.id;
        match kind {
            "user" => self
                .model
                .users
                .values()
                .find(|u| &u.account == account && u.name == name)
                .map(|u| u.arn.clone()),
            "group" => self
                .model
                .groups
                .values()
                .find(|g| &g.account == account && g.name == name)
                .map(|g| g.arn.clone()),
            _ => self
                .model
                .roles
                .values()
                .find(|r| &r.account == account && r.name == name)
                .map(|r| r.arn.clone()),
        }
    }

    /// The principal a relation names (`user`, `group`, `role`), which must exist.
    fn named_principal(
        &mut self,
        resource: &Resource,
        values: &Node,
        attribute: &str,
    ) -> Result<Option<String>, InputError> {
        let unknown = matches!(
            self.attribute(resource, values, attribute)?,
            Attribute::Unknown
        );
        let Some(name) = self.reference(resource, values, attribute, false)? else {
            if unknown {
                self.unknown_target(resource, attribute);
                return Ok(None);
            }
            return Err(located(
                resource,
                values.error(format!("{attribute} is missing")),
            ));
        };
        // The provider accepts a name; an ARN is read as the name it ends with.
        let name = name.rsplit('/').next().unwrap_or(&name).to_string();
        match self.principal_named(attribute, &name) {
            Some(arn) => Ok(Some(arn)),
            None => {
                self.model.warnings.push(warning(
                    self.plan.file,
                    &resource.address,
                    format!("{attribute} {name} is neither in the plan nor in a snapshot; ignored"),
                ));
                Ok(None)
            }
        }
    }

    /// A relation whose principal, bucket or key is known only after apply, and that the
    /// configuration does not tell: something the plan does not say gets it.
    fn unknown_target(&mut self, resource: &Resource, attribute: &str) {
        self.model.unread.push(format!(
            "{}: {}.{attribute} is {}, and what it names may give a way",
            self.plan.file, resource.address, self.plan.known_when
        ));
    }

    fn bucket_named<'b>(
        &'b mut self,
        resource: &Resource,
        values: &Node,
    ) -> Result<Option<&'b mut Bucket>, InputError> {
        let name = match self.attribute(resource, values, "bucket")? {
            Attribute::Known(node) => node.str()?.to_string(),
            _ => match self.referenced(resource, "bucket", false) {
                Some(name) => name,
                None => {
                    // Any bucket of the account may get it, a deny as well as an allow.
                    self.unknown_target(resource, "bucket");
                    let partition = self.account.partition.clone();
                    let buckets: Vec<String> = self
                        .model
                        .buckets
                        .values()
                        .filter(|b| b.account == self.account.id)
                        .map(|b| format!("arn:{partition}:s3:::{}", b.name))
                        .collect();
                    for arn in buckets {
                        self.pending(&arn, resource, "bucket");
                    }
                    return Ok(None);
                }
            },
        };
        if !self.model.buckets.contains_key(&name) {
            self.model.warnings.push(warning(
                self.plan.file,
                &resource.address,
                format!("bucket {name} is neither in the plan nor in a snapshot; ignored"),
            ));
        }
        Ok(self.model.buckets.get_mut(&name))
    }

    fn key_for<'b>(
        &'b mut self,
        resource: &Resource,
        values: &Node,
    ) -> Result<Option<&'b mut KmsKey>, InputError> {
        let id = self.reference(resource, values, "key_id", false)?;
        let Some(id) = id else {
            // Any key of the account may get it.
            self.unknown_target(resource, "key_id");
            let keys: Vec<String> = self
                .model
                .keys
                .values()
                .filter(|k| k.account == self.account.id)
                .map(|k| k.arn.clone())
                .collect();
            for arn in keys {
                self.pending(&arn, resource, "key_id");
            }
            return Ok(None);
        };
        let found = self
            .model
            .keys
            .values()
            .find(|k| k.id == id || k.arn == id)
            .map(|k| k.arn.clone());
        Ok(found.and_then(|arn| self.model.keys.get_mut(&arn)))
    }
}

/// What a relation links, to tell when two resources of a plan link the same things: its
/// values without Terraform's own id.
fn relation_key(resource: &Resource, values: &Node) -> String {
    let mut object = values.value.as_object().cloned().unwrap_or_default();
    object.remove("id");
    format!("{} {}", resource.kind, Value::Object(object))
}

/// Adds the resource address to an error from inside it.
fn located(resource: &Resource, mut error: InputError) -> InputError {
    error.message = format!("{} (in {})", error.message, resource.address);
    error
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn put_inline(list: &mut Vec<InlinePolicy>, name: String, policy: Policy) {
    list.retain(|p| p.name != name);
    list.push(InlinePolicy {
        name,
        policy: Arc::new(policy),
    });
}

/// Makes a managed policy ARN resolvable: AWS managed policies come from the bundled copy.
fn resolve_managed(builder: &mut Builder, resource: &Resource, arn: &str) {
    if builder.model.managed_policies.contains_key(arn) {
        return;
    }
    match crate::snapshot::managed::bundled_policy(arn) {
        Ok(Some(policy)) => {
            builder.model.managed_policies.insert(arn.to_string(), policy);
        }
        _ => builder.model.warnings.push(warning(
            builder.plan.file,
            &resource.address,
            format!("policy {arn} is neither in the plan, nor in a snapshot, nor an AWS managed policy iamproof bundles: answers that depend on it are unknown"),
        )),
    }
}

// --- principals -------------------------------------------------------------------------

fn make_user(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let (name, known) = b.entity_name(r, values)?;
    let path = b.path(r, values)?;
    let arn = b.iam_arn("user", &path, &name);
    if !known {
        b.generated(r, values, &arn, &name)?;
    }
    b.remember(r, &arn, &name);
    let boundary = boundary_of(b, r, values, &arn)?;
    let tags = b.tags(values)?;
    let unique_id = b.optional_string(r, values, "unique_id")?;
    // A user renamed or moved in place (`UpdateUser`) keeps its policies and groups.
    if let Some(mut user) = renamed(b, r, values, "user").and_then(|old| b.model.users.remove(&old))
    {
        user.arn = arn.clone();
        user.name = name.clone();
        user.path = path.clone();
        b.model.users.insert(arn.clone(), user);
    }
    let user = b.model.users.entry(arn.clone()).or_insert_with(|| User {
        arn: arn.clone(),
        name: name.clone(),
        path: path.clone(),
        account: b.account.id.clone(),
        inline_policies: Vec::new(),
        managed_policy_arns: Vec::new(),
        permissions_boundary: None,
        tags: BTreeMap::new(),
        groups: Vec::new(),
        unique_id: None,
    });
    user.permissions_boundary = boundary;
    user.tags = tags;
    user.unique_id = unique_id.or(user.unique_id.take());
    Ok(())
}

/// The permissions boundary of a user or role: known, computed from the policy the
/// configuration names, or pending.
fn boundary_of(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
    owner: &str,
) -> Result<Option<String>, InputError> {
    let unknown = matches!(
        b.attribute(r, values, "permissions_boundary")?,
        Attribute::Unknown
    );
    let boundary = b
        .reference(r, values, "permissions_boundary", true)?
        .filter(|s| !s.is_empty());
    match &boundary {
        Some(boundary) => resolve_managed(b, r, boundary),
        None if unknown => b.pending(owner, r, "permissions_boundary"),
        None => {}
    }
    Ok(boundary)
}

/// The ARN a user or group had before the plan renamed or moved it, when it did.
fn renamed(b: &Builder, r: &Resource, values: &Node, kind: &str) -> Option<String> {
    let before = r.before.as_ref()?;
    let is_after = r
        .after
        .as_ref()
        .is_some_and(|after| std::ptr::eq(after.value, values.value));
    let old_name = before.value.get("name")?.as_str()?;
    let old_path = before
        .value
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or("/");
    let new_name = values.value.get("name").and_then(Value::as_str);
    let new_path = values
        .value
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or("/");
    let moved = new_name != Some(old_name) || new_path != old_path;
    (is_after && moved)
        .then(|| b.principal_named(kind, old_name))
        .flatten()
}

fn remove_user(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let (name, _) = b.entity_name(r, values)?;
    if let Some(arn) = b.principal_named("user", &name) {
        b.model.users.remove(&arn);
    }
    Ok(())
}

fn make_group(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let (name, known) = b.entity_name(r, values)?;
    let path = b.path(r, values)?;
    let arn = b.iam_arn("group", &path, &name);
    if !known {
        b.generated(r, values, &arn, &name)?;
    }
    b.remember(r, &arn, &name);
    let account = b.account.id.clone();
    // A group renamed or moved in place (`UpdateGroup`) keeps its policies and members.
    if let Some(mut group) =
        renamed(b, r, values, "group").and_then(|old| b.model.groups.remove(&old))
    {
        for user in b.model.users.values_mut().filter(|u| u.account == account) {
            for member_of in user.groups.iter_mut().filter(|g| **g == group.name) {
                *member_of = name.clone();
            }
        }
        group.arn = arn.clone();
        group.name = name.clone();
        group.path = path.clone();
        b.model.groups.insert(arn.clone(), group);
    }
    b.model.groups.entry(arn.clone()).or_insert_with(|| Group {
        arn: arn.clone(),
        name,
        path,
        account,
        inline_policies: Vec::new(),
        managed_policy_arns: Vec::new(),
    });
    Ok(())
}

fn remove_group(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let (name, _) = b.entity_name(r, values)?;
    if let Some(arn) = b.principal_named("group", &name) {
        b.model.groups.remove(&arn);
    }
    Ok(())
}

fn make_role(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let (name, known) = b.entity_name(r, values)?;
    let path = b.path(r, values)?;
    let arn = b.iam_arn("role", &path, &name);
    if !known {
        b.generated(r, values, &arn, &name)?;
    }
    b.remember(r, &arn, &name);
    // A trust policy known only after apply may admit anyone: the role is assumable by every
    // caller, and answers through it are unknown.
    let trust = match b.policy(r, values, "assume_role_policy", &arn)? {
        Some(policy) => policy,
        None if b.model.pending.get(&arn).is_some_and(|p| p.iter().any(|w| w.contains(".assume_role_policy,"))) => {
            Policy::from_json_text(r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["sts:AssumeRole", "sts:TagSession"]}]}"#)
                .expect("a constant policy parses")
        }
        None => return Err(located(r, values.error("assume_role_policy is missing"))),
    };
    let boundary = boundary_of(b, r, values, &arn)?;
    let mut inline = Vec::new();
    for (index, block) in values.optional_list("inline_policy")?.iter().enumerate() {
        let unknown = |field: &str| {
            r.unknown
                .pointer(&format!("/inline_policy/{index}/{field}"))
                == Some(&Value::Bool(true))
        };
        let policy_name = match block.optional_str("name")? {
            Some(name) if !name.is_empty() => name.to_string(),
            // A name known only after apply: the policy is put all the same.
            _ if unknown("name") => format!("{}.inline_policy[{index}]", r.address),
            // `inline_policy {}`: the way to say the role has none.
            _ => continue,
        };
        match block.field("policy")? {
            Some(document) if document.value.as_str() != Some("") => {
                let policy = policy_document(&document).map_err(|e| located(r, e))?;
                inline.push((policy_name, policy));
            }
            _ if unknown("policy") => b.pending(&arn, r, &format!("inline_policy[{index}].policy")),
            _ => {}
        }
    }
    // Where the configuration sets them, `inline_policy` and `managed_policy_arns` are all the
    // role has: the provider removes the others (registry.terraform.io/providers/hashicorp/aws,
    // aws_iam_role). A state lists all the role has.
    let exclusive_inline = values.field("inline_policy")?.is_some() && r.sets("inline_policy");
    let (managed, managed_unknown) = strings_with_unknowns(
        values.field("managed_policy_arns")?,
        r.unknown.get("managed_policy_arns"),
    )?;
    let exclusive_managed =
        values.field("managed_policy_arns")?.is_some() && r.sets("managed_policy_arns");
    for policy in &managed {
        resolve_managed(b, r, policy);
    }
    if managed_unknown && r.sets("managed_policy_arns") {
        b.pending(&arn, r, "managed_policy_arns");
    }
    let tags = b.tags(values)?;
    let unique_id = b.optional_string(r, values, "unique_id")?;
    let role = b.model.roles.entry(arn.clone()).or_insert_with(|| Role {
        arn: arn.clone(),
        name: name.clone(),
        path: path.clone(),
        account: b.account.id.clone(),
        trust_policy: Arc::new(trust.clone()),
        inline_policies: Vec::new(),
        managed_policy_arns: Vec::new(),
        permissions_boundary: None,
        tags: BTreeMap::new(),
        unique_id: None,
    });
    role.trust_policy = Arc::new(trust);
    role.permissions_boundary = boundary;
    role.tags = tags;
    role.unique_id = unique_id.or(role.unique_id.take());
    if exclusive_inline {
        role.inline_policies.clear();
    }
    if exclusive_managed {
        role.managed_policy_arns.clear();
    }
    let declared: Vec<String> = inline.iter().map(|(name, _)| name.clone()).collect();
    for (policy_name, policy) in inline {
        put_inline(&mut role.inline_policies, policy_name, policy);
    }
    for policy in managed {
        push_unique(&mut role.managed_policy_arns, policy);
    }
    b.declared(format!("trust policy of {arn}"), r);
    for name in declared {
        b.declared(inline_policy_name(&arn, &name), r);
    }
    Ok(())
}

/// A list of strings some of whose elements may be known only after apply (printed as `null`,
/// with `true` at their place in `after_unknown`): the known ones, and whether any is unknown.
fn strings_with_unknowns(
    node: Option<Node>,
    unknown: Option<&Value>,
) -> Result<(Vec<String>, bool), InputError> {
    let mut any_unknown = unknown == Some(&Value::Bool(true))
        || unknown
            .and_then(Value::as_array)
            .is_some_and(|items| items.contains(&Value::Bool(true)));
    let mut known = Vec::new();
    for item in node.map(|n| n.list()).transpose()?.unwrap_or_default() {
        match item.value {
            Value::Null => any_unknown = true,
            _ => known.push(item.str()?.to_string()),
        }
    }
    Ok((known, any_unknown))
}

fn remove_role(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let (name, _) = b.entity_name(r, values)?;
    if let Some(arn) = b.principal_named("role", &name) {
        b.model.roles.remove(&arn);
    }
    Ok(())
}

fn make_policy(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let (name, known) = b.entity_name(r, values)?;
    let path = b.path(r, values)?;
    let arn = match b.optional_string(r, values, "arn")? {
        Some(arn) => arn,
        None => b.iam_arn("policy", &path, &name),
    };
    b.remember(r, &arn, &name);
    if !known {
        b.generated(r, values, &arn, &name)?;
    }
    // A document known only after apply marks the policy pending, and so whoever it is
    // attached to.
    let policy = match b.policy(r, values, "policy", &arn)? {
        Some(policy) => policy,
        None => Policy::from_json_text(r#"{"Version": "2012-10-17", "Statement": []}"#)
            .expect("a constant policy parses"),
    };
    b.model.managed_policies.insert(
        arn.clone(),
        ManagedPolicy {
            arn: arn.clone(),
            name,
            path,
            account: b.account.id.clone(),
            version: None,
            policy: Arc::new(policy),
            source: PolicySource::Snapshot,
            other_versions: false,
        },
    );
    b.declared(arn, r);
    Ok(())
}

fn remove_policy(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    if let Some(arn) = b.reference(r, values, "arn", true)? {
        b.model.managed_policies.remove(&arn);
    }
    Ok(())
}

// --- inline policies ----------------------------------------------------------------------

fn inline_target(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
    kind: &str,
) -> Result<Option<(String, String)>, InputError> {
    let Some(owner) = b.named_principal(r, values, kind)? else {
        return Ok(None);
    };
    let name = match b.attribute(r, values, "name")? {
        Attribute::Known(node) => node.str()?.to_string(),
        _ => r.address.clone(),
    };
    Ok(Some((owner, name)))
}

fn inline_list<'b>(model: &'b mut Model, owner: &str) -> Option<&'b mut Vec<InlinePolicy>> {
    if let Some(user) = model.users.get_mut(owner) {
        return Some(&mut user.inline_policies);
    }
    if let Some(group) = model.groups.get_mut(owner) {
        return Some(&mut group.inline_policies);
    }
    model
        .roles
        .get_mut(owner)
        .map(|role| &mut role.inline_policies)
}

fn make_inline(b: &mut Builder, r: &Resource, values: &Node, kind: &str) -> Result<(), InputError> {
    let Some((owner, name)) = inline_target(b, r, values, kind)? else {
        return Ok(());
    };
    if let Some(policy) = b.policy(r, values, "policy", &owner)? {
        if let Some(list) = inline_list(b.model, &owner) {
            put_inline(list, name.clone(), policy);
            b.declared(inline_policy_name(&owner, &name), r);
        }
    }
    Ok(())
}

fn remove_inline(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
    kind: &str,
) -> Result<(), InputError> {
    if let Some((owner, name)) = inline_target(b, r, values, kind)? {
        if let Some(list) = inline_list(b.model, &owner) {
            list.retain(|p| p.name != name);
        }
        b.model.origins.remove(&inline_policy_name(&owner, &name));
    }
    Ok(())
}

// --- attachments and memberships ----------------------------------------------------------

fn attached_list<'b>(model: &'b mut Model, owner: &str) -> Option<&'b mut Vec<String>> {
    if let Some(user) = model.users.get_mut(owner) {
        return Some(&mut user.managed_policy_arns);
    }
    if let Some(group) = model.groups.get_mut(owner) {
        return Some(&mut group.managed_policy_arns);
    }
    model
        .roles
        .get_mut(owner)
        .map(|role| &mut role.managed_policy_arns)
}

/// The policy an attachment names; when it is known only after apply and the configuration
/// does not say which, every principal named is marked pending.
fn attached_policy(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
    owners: &[String],
) -> Result<Option<String>, InputError> {
    match b.reference(r, values, "policy_arn", true)? {
        Some(arn) => {
            resolve_managed(b, r, &arn);
            Ok(Some(arn))
        }
        None => {
            for owner in owners {
                b.pending(owner, r, "policy_arn");
            }
            Ok(None)
        }
    }
}

fn make_attachment(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
    kind: &str,
) -> Result<(), InputError> {
    let Some(owner) = b.named_principal(r, values, kind)? else {
        return Ok(());
    };
    if let Some(arn) = attached_policy(b, r, values, std::slice::from_ref(&owner))? {
        if let Some(list) = attached_list(b.model, &owner) {
            push_unique(list, arn);
        }
    }
    Ok(())
}

fn remove_attachment(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
    kind: &str,
) -> Result<(), InputError> {
    let Some(owner) = b.named_principal(r, values, kind)? else {
        return Ok(());
    };
    if let Some(arn) = b.reference(r, values, "policy_arn", true)? {
        if let Some(list) = attached_list(b.model, &owner) {
            list.retain(|a| a != &arn);
        }
    }
    Ok(())
}

/// The principals an `aws_iam_policy_attachment` names, by kind.
fn policy_attachment_owners(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
) -> Result<Vec<String>, InputError> {
    let mut owners = Vec::new();
    for (attribute, kind) in [("users", "user"), ("groups", "group"), ("roles", "role")] {
        let (names, unknown) =
            strings_with_unknowns(values.field(attribute)?, r.unknown.get(attribute))?;
        for name in names {
            match b.principal_named(kind, &name) {
                Some(arn) => owners.push(arn),
                None => b.model.warnings.push(warning(
                    b.plan.file,
                    &r.address,
                    format!("{kind} {name} is neither in the plan nor in a snapshot; ignored"),
                )),
            }
        }
        if unknown {
            b.unknown_target(r, attribute);
        }
    }
    Ok(owners)
}

fn make_policy_attachment(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let owners = policy_attachment_owners(b, r, values)?;
    if let Some(arn) = attached_policy(b, r, values, &owners)? {
        for owner in &owners {
            if let Some(list) = attached_list(b.model, owner) {
                push_unique(list, arn.clone());
            }
        }
    }
    Ok(())
}

fn remove_policy_attachment(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
) -> Result<(), InputError> {
    let owners = policy_attachment_owners(b, r, values)?;
    if let Some(arn) = b.reference(r, values, "policy_arn", true)? {
        for owner in &owners {
            if let Some(list) = attached_list(b.model, owner) {
                list.retain(|a| a != &arn);
            }
        }
    }
    Ok(())
}

fn set_membership(b: &mut Builder, r: &Resource, user: &str, groups: &[String], member: bool) {
    let Some(user_arn) = b.principal_named("user", user) else {
        b.model.warnings.push(warning(
            b.plan.file,
            &r.address,
            format!("user {user} is neither in the plan nor in a snapshot; ignored"),
        ));
        return;
    };
    for group in groups {
        if member && b.principal_named("group", group).is_none() {
            b.model.warnings.push(warning(b.plan.file, &r.address, format!("group {group} is neither in the plan nor in a snapshot; answers that depend on it are unknown")));
        }
        if let Some(user) = b.model.users.get_mut(&user_arn) {
            if member {
                push_unique(&mut user.groups, group.clone());
            } else {
                user.groups.retain(|g| g != group);
            }
        }
    }
}

fn user_groups(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
    member: bool,
) -> Result<(), InputError> {
    let Some(user) = b.reference(r, values, "user", false)? else {
        if matches!(b.attribute(r, values, "user")?, Attribute::Unknown) {
            b.unknown_target(r, "user");
            return Ok(());
        }
        return Err(located(r, values.error("user is missing")));
    };
    let (groups, unknown) =
        strings_with_unknowns(values.field("groups")?, r.unknown.get("groups"))?;
    if member && unknown {
        if let Some(arn) = b.principal_named("user", &user) {
            b.pending(&arn, r, "groups");
        }
    }
    set_membership(b, r, &user, &groups, member);
    Ok(())
}

fn group_users(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
    member: bool,
) -> Result<(), InputError> {
    let Some(group) = b.reference(r, values, "group", false)? else {
        if matches!(b.attribute(r, values, "group")?, Attribute::Unknown) {
            b.unknown_target(r, "group");
            return Ok(());
        }
        return Err(located(r, values.error("group is missing")));
    };
    let (users, unknown) = strings_with_unknowns(values.field("users")?, r.unknown.get("users"))?;
    for user in users {
        set_membership(b, r, &user, std::slice::from_ref(&group), member);
    }
    if member && unknown {
        b.unknown_target(r, "users");
    }
    Ok(())
}

// --- buckets ------------------------------------------------------------------------------

fn make_bucket(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let name = match b.attribute(r, values, "bucket")? {
        Attribute::Known(node) => node.str()?.to_string(),
        _ => {
            b.unknown_target(r, "bucket");
            return Ok(());
        }
    };
    let arn = format!("arn:{}:s3:::{name}", b.partition());
    b.remember(r, &arn, &name);
    // ACL grants are not modelled: a bucket whose deprecated `acl` or `grant` grants more than
    // its owner's full control leaves refutations unknown.
    let acl = values
        .value
        .get("acl")
        .and_then(Value::as_str)
        .unwrap_or("private");
    let grants = values
        .value
        .get("grant")
        .and_then(Value::as_array)
        .is_some_and(|g| !g.is_empty());
    if !matches!(acl, "private" | "") || grants {
        b.unknown_target(r, if grants { "grant" } else { "acl" });
    }
    // The bucket's own `policy` argument is deprecated but still honoured.
    let policy = b.policy(r, values, "policy", &arn)?;
    let tags = b.tags(values)?;
    let account = b.account.id.clone();
    let bucket = b
        .model
        .buckets
        .entry(name.clone())
        .or_insert_with(|| Bucket {
            name,
            account,
            policy: None,
            encryption: None,
            ownership: None,
            public_access_block: None,
            tags: BTreeMap::new(),
        });
    bucket.tags = tags;
    if let Some(policy) = policy {
        bucket.policy = Some(Arc::new(policy));
        let name = bucket.name.clone();
        b.declared(format!("bucket policy of {name}"), r);
    }
    Ok(())
}

fn remove_bucket(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    if let Some(name) = b.optional_string(r, values, "bucket")? {
        b.model.buckets.remove(&name);
    }
    Ok(())
}

fn make_bucket_policy(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let partition = b.partition().to_string();
    let Some(name) = b.bucket_named(r, values)?.map(|bucket| bucket.name.clone()) else {
        return Ok(());
    };
    let arn = format!("arn:{partition}:s3:::{name}");
    let policy = b.policy(r, values, "policy", &arn)?;
    if let Some(bucket) = b.model.buckets.get_mut(&name) {
        bucket.policy = policy.map(Arc::new);
        b.declared(format!("bucket policy of {name}"), r);
    }
    Ok(())
}

fn remove_bucket_policy(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    if let Some(bucket) = b.bucket_named(r, values)? {
        bucket.policy = None;
        let name = bucket.name.clone();
        b.model.origins.remove(&format!("bucket policy of {name}"));
    }
    Ok(())
}

fn first_rule<'a>(values: &Node<'a>) -> Result<Option<Node<'a>>, InputError> {
    Ok(values.optional_list("rule")?.into_iter().next())
}

fn make_bucket_encryption(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let mut encryption = None;
    if let Some(rule) = first_rule(values)? {
        let bucket_key_enabled = rule.optional_bool("bucket_key_enabled")?.unwrap_or(false);
        if let Some(default) = rule
            .optional_list("apply_server_side_encryption_by_default")?
            .into_iter()
            .next()
        {
            let algorithm_node = default.required("sse_algorithm")?;
            let algorithm = SseAlgorithm::parse(algorithm_node.str()?).ok_or_else(|| {
                located(
                    r,
                    algorithm_node.error("expected AES256, aws:kms or aws:kms:dsse"),
                )
            })?;
            let kms_key_id = default
                .optional_str("kms_master_key_id")?
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            encryption = Some(BucketEncryption {
                algorithm,
                kms_key_id,
                bucket_key_enabled,
            });
        }
    }
    if let Some(bucket) = b.bucket_named(r, values)? {
        bucket.encryption = encryption;
    }
    Ok(())
}

fn remove_bucket_encryption(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
) -> Result<(), InputError> {
    if let Some(bucket) = b.bucket_named(r, values)? {
        bucket.encryption = None;
    }
    Ok(())
}

fn make_bucket_ownership(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let mut ownership = None;
    if let Some(rule) = first_rule(values)? {
        let node = rule.required("object_ownership")?;
        ownership = Some(ObjectOwnership::parse(node.str()?).ok_or_else(|| {
            located(
                r,
                node.error("expected BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter"),
            )
        })?);
    }
    if let Some(bucket) = b.bucket_named(r, values)? {
        bucket.ownership = ownership;
    }
    Ok(())
}

fn remove_bucket_ownership(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    if let Some(bucket) = b.bucket_named(r, values)? {
        bucket.ownership = None;
    }
    Ok(())
}

fn make_public_access_block(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
) -> Result<(), InputError> {
    let flag = |name: &str| -> Result<bool, InputError> {
        Ok(values.optional_bool(name)?.unwrap_or(false))
    };
    let block = PublicAccessBlock {
        block_public_acls: flag("block_public_acls")?,
        ignore_public_acls: flag("ignore_public_acls")?,
        block_public_policy: flag("block_public_policy")?,
        restrict_public_buckets: flag("restrict_public_buckets")?,
    };
    if let Some(bucket) = b.bucket_named(r, values)? {
        bucket.public_access_block = Some(block);
    }
    Ok(())
}

fn remove_public_access_block(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
) -> Result<(), InputError> {
    if let Some(bucket) = b.bucket_named(r, values)? {
        bucket.public_access_block = None;
    }
    Ok(())
}

// --- keys ---------------------------------------------------------------------------------

fn make_key(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let id = b.optional_string(r, values, "key_id")?;
    let arn = b.optional_string(r, values, "arn")?;
    let (id, arn) = match (id, arn) {
        (Some(id), Some(arn)) => (id, arn),
        (Some(id), None) => {
            let arn = format!(
                "arn:{}:kms:{}:{}:key/{id}",
                b.partition(),
                b.account.region,
                b.account.id
            );
            (id, arn)
        }
        _ => {
            // A new key's id is chosen by KMS: the key stands for itself under its address.
            let id = r.address.replace(['[', ']', '"'], "_");
            let arn = format!(
                "arn:{}:kms:{}:{}:key/{id}",
                b.partition(),
                b.account.region,
                b.account.id
            );
            (id, arn)
        }
    };
    b.remember(r, &arn, &id);
    // A key policy known only after apply leaves the key's policy unknown, as a snapshot
    // without `policy.json` does.
    let pending_before = b.model.pending.contains_key(&arn);
    let policy = match b.policy(r, values, "policy", &arn)? {
        Some(policy) => Some(policy),
        None if !pending_before && b.model.pending.contains_key(&arn) => None,
        // Without a policy of its own, KMS gives a key the default key policy.
        None => Some(default_key_policy(&b.account)),
    };
    // A key whose state is known only after deployment: taken as enabled, with its policy
    // pending so that a witness through it says so.
    if matches!(b.attribute(r, values, "is_enabled")?, Attribute::Unknown) {
        b.pending(&arn, r, "is_enabled");
    }
    let enabled = values.optional_bool("is_enabled")?.unwrap_or(true);
    let key_usage = b
        .optional_string(r, values, "key_usage")?
        .or(Some("ENCRYPT_DECRYPT".into()));
    let mut properties = BTreeMap::new();
    if let Some(spec) = b.optional_string(r, values, "customer_master_key_spec")? {
        properties.insert("kms:KeySpec".to_string(), spec);
    }
    if let Some(usage) = &key_usage {
        properties.insert("kms:KeyUsage".to_string(), usage.clone());
    }
    properties.insert("kms:KeyOrigin".to_string(), "AWS_KMS".to_string());
    let key = KmsKey {
        id,
        arn: arn.clone(),
        account: b.account.id.clone(),
        region: b.account.region.clone(),
        policy: policy.map(Arc::new),
        key_manager: Some(crate::model::KeyManager::Customer),
        enabled: Some(enabled),
        key_state: Some(if enabled { "Enabled" } else { "Disabled" }.to_string()),
        key_usage,
        properties,
        description: b.optional_string(r, values, "description")?,
        aliases: Vec::new(),
    };
    b.model.keys.insert(arn.clone(), key);
    b.declared(format!("key policy of {arn}"), r);
    Ok(())
}

/// The key policy KMS gives a key created without one: the account may use it through IAM
/// policies (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
fn default_key_policy(account: &Account) -> Policy {
    let text = format!(
        r#"{{"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {{"AWS": "arn:{}:iam::{}:root"}}, "Action": "kms:*", "Resource": "*"}}]}}"#,
        account.partition, account.id
    );
    Policy::from_json_text(&text).expect("the default key policy parses")
}

fn remove_key(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    if let Some(arn) = b.optional_string(r, values, "arn")? {
        b.model.keys.remove(&arn);
    }
    Ok(())
}

fn make_key_policy(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let Some(arn) = b.key_for(r, values)?.map(|k| k.arn.clone()) else {
        b.model.warnings.push(warning(
            b.plan.file,
            &r.address,
            "the key is neither in the plan nor in a snapshot; ignored",
        ));
        return Ok(());
    };
    let policy = b.policy(r, values, "policy", &arn)?;
    if let Some(key) = b.model.keys.get_mut(&arn) {
        key.policy = policy.map(Arc::new);
        b.declared(format!("key policy of {arn}"), r);
    }
    Ok(())
}

fn remove_key_policy(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    // Deleting the resource puts the default key policy back (the provider's
    // aws_kms_key_policy: "the default policy will be applied").
    let default = default_key_policy(&b.account);
    if let Some(key) = b.key_for(r, values)? {
        key.policy = Some(Arc::new(default));
    }
    Ok(())
}

// --- MediaConvert queues ------------------------------------------------------------------

fn queue_arn(
    b: &mut Builder,
    r: &Resource,
    values: &Node,
) -> Result<Option<(String, String)>, InputError> {
    let Attribute::Known(name) = b.attribute(r, values, "name")? else {
        return Ok(None);
    };
    let name = name.str()?.to_string();
    let arn = match b.optional_string(r, values, "arn")? {
        Some(arn) => arn,
        None => format!(
            "arn:{}:mediaconvert:{}:{}:queues/{name}",
            b.partition(),
            b.account.region,
            b.account.id
        ),
    };
    Ok(Some((name, arn)))
}

fn make_queue(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    let Some((name, arn)) = queue_arn(b, r, values)? else {
        return Ok(());
    };
    let region = arn
        .split(':')
        .nth(3)
        .unwrap_or(&b.account.region)
        .to_string();
    b.model.queues.insert(
        arn.clone(),
        crate::model::Queue {
            arn,
            name,
            account: b.account.id.clone(),
            region,
            implicit: false,
        },
    );
    Ok(())
}

fn remove_queue(b: &mut Builder, r: &Resource, values: &Node) -> Result<(), InputError> {
    if let Some((_, arn)) = queue_arn(b, r, values)? {
        b.model.queues.remove(&arn);
    }
    Ok(())
}
