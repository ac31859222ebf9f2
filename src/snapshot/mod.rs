//! Reading account snapshots, folders of unmodified AWS CLI output (`caller-identity.json`,
//! `iam/account-authorization-details.json`, `s3/<bucket>/policy.json`, ...; `layout` lists
//! them all), into one `Model`.
//!
//! One folder per account; several folders make one model. Loading is strict about what it
//! uses and lenient about what it does not: invalid JSON, a wrong shape or an unparseable
//! policy is an error naming the file and the JSON path (exit code 2 at the command line),
//! while an unknown extra file or an unresolved reference is a warning and loading goes on.
//! A warning never hides an error: the first error ends loading.
//!
//! Submodules: `layout` lists the folder, `json` walks parsed JSON keeping paths, `document`
//! decodes policy documents, `iam`, `organizations` and `resources` read the files, and
//! `managed` holds the bundled AWS managed policies that unresolved ARNs are looked up in.

pub(crate) mod document;
mod iam;
pub(crate) mod json;
mod layout;
pub mod managed;
pub(crate) mod organizations;
mod resources;
mod stacks;

use crate::input::{parse_json, InputError};
use crate::model::is_account_id;
use crate::model::{is_aws_managed_policy_arn, Account, Model, Warning};
use iam::{AccountClaim, IamDetails, Reference};
use json::Node;
use resources::AccountContext;
use serde_json::Value;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A snapshot that cannot be read: the file, the JSON path inside it, and what is wrong.
pub type SnapshotError = InputError;

/// The region of a snapshot without `region.txt`.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Reads the snapshot folders `dirs`, one per account, into one model.
pub fn load(dirs: &[PathBuf]) -> Result<Model, SnapshotError> {
    let mut loader = Loader::default();
    for dir in dirs {
        loader.load_account(dir)?;
    }
    Ok(loader.finish())
}

/// Reads and parses one JSON file; returns its name for messages and its content.
pub(crate) fn read_json(path: &Path) -> Result<(String, Value), InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(&file, "", format!("cannot read: {e}")))?;
    // Some editors and shells on Windows write a byte-order mark; JSON parsers refuse it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let value = parse_json(&file, text)?;
    Ok((file, value))
}

#[derive(Default)]
struct Loader {
    model: Model,
    policy_references: Vec<Reference>,
    group_references: Vec<Reference>,
}

impl Loader {
    fn load_account(&mut self, dir: &Path) -> Result<(), InputError> {
        let layout = layout::scan(dir)?;
        let mut claim = AccountClaim::default();
        if let Some(path) = &layout.caller_identity {
            claim = caller_identity(path)?;
        }
        let region = match &layout.region {
            Some(path) => read_region(path)?,
            None => DEFAULT_REGION.to_string(),
        };
        let Some(details_path) = &layout.authorization_details else {
            return Err(InputError::new(
                &dir.join(layout::AUTHORIZATION_DETAILS).display().to_string(),
                "",
                "missing; every snapshot needs it (the output of `aws iam get-account-authorization-details`)",
            ));
        };
        let (details_file, details) = {
            let (file, value) = read_json(details_path)?;
            let details = iam::parse(&file, &value, &mut claim)?;
            (file, details)
        };
        let Some(account_id) = claim.id.clone() else {
            return Err(InputError::new(
                &dir.display().to_string(),
                "",
                "cannot tell the account id: there is no caller-identity.json and no ARN with an account in iam/account-authorization-details.json",
            ));
        };
        if let Some(other) = self
            .model
            .accounts
            .iter()
            .find(|account| account.id == account_id)
        {
            return Err(InputError::new(
                &dir.display().to_string(),
                "",
                format!(
                    "account {account_id} is already loaded from {}; give one snapshot per account",
                    other.source.display()
                ),
            ));
        }
        let context = AccountContext {
            id: account_id.clone(),
            partition: claim.partition.clone().unwrap_or_else(|| "aws".to_string()),
            region,
        };
        for path in &layout.unknown {
            self.warn(
                &path.display().to_string(),
                "",
                "not part of the snapshot layout; ignored",
            );
        }
        if let Some(path) = &layout.collect_errors {
            self.warn(
                &path.display().to_string(),
                "",
                "scripts/collect.sh could not make some AWS CLI calls: the snapshot is incomplete, and answers may miss what those calls would have shown",
            );
        }
        for (path, reason) in &layout.skipped {
            self.warn(&path.display().to_string(), "", reason);
        }
        self.add_iam(details, &details_file);
        let organization = organizations::levels(
            &layout.scps,
            &layout.rcps,
            layout.targets.as_deref(),
            layout.organization.as_deref(),
            &account_id,
            &mut self.model.warnings,
        )?;
        self.add_resources(&layout, &context)?;
        let stacks = layout.stacks.as_ref().map(stacks::read).transpose()?;
        self.model.stacks.insert(account_id.clone(), stacks);
        self.add_identity_providers(&layout, &account_id)?;
        let collected_at = layout
            .collected_at
            .as_deref()
            .map(read_instant)
            .transpose()?;
        self.model.accounts.push(Account {
            id: account_id,
            partition: context.partition,
            region: context.region,
            source: dir.to_path_buf(),
            collected_at,
            organization,
        });
        Ok(())
    }

    /// The account's OIDC providers (with their audiences, from each provider's own file) and
    /// SAML providers, when the snapshot records them.
    fn add_identity_providers(
        &mut self,
        layout: &layout::Layout,
        account: &str,
    ) -> Result<(), InputError> {
        let mut audiences: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for path in &layout.oidc_provider_details {
            let (file, value) = read_json(path)?;
            let url = crate::input::string_at(&file, "Url", &value["Url"])?;
            let ids = crate::input::list_at(&file, "ClientIDList", &value["ClientIDList"])?
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    crate::input::string_at(&file, &format!("ClientIDList[{i}]"), id)
                        .map(str::to_string)
                })
                .collect::<Result<Vec<_>, _>>()?;
            audiences.insert(url.trim_start_matches("https://").to_string(), ids);
        }
        let files = [
            (&layout.oidc_providers, "OpenIDConnectProviderList"),
            (&layout.saml_providers, "SAMLProviderList"),
        ];
        for (path, list) in files {
            let Some(path) = path else { continue };
            let (file, value) = read_json(path)?;
            self.model.provider_listings.insert(account.to_string());
            for (i, entry) in crate::input::list_at(&file, list, &value[list])?
                .iter()
                .enumerate()
            {
                let at = format!("{list}[{i}].Arn");
                let arn = crate::input::string_at(&file, &at, &entry["Arn"])?;
                if !crate::eval::principal::is_provider_arn(arn) {
                    return Err(InputError::new(
                        &file,
                        &at,
                        format!("{arn:?} is not the ARN of an IAM identity provider"),
                    ));
                }
                let url = crate::query::outside::provider_name(arn);
                self.model.identity_providers.insert(
                    arn.to_string(),
                    crate::model::IdentityProvider {
                        arn: arn.to_string(),
                        audiences: audiences.get(url).cloned(),
                    },
                );
            }
        }
        Ok(())
    }

    fn warn(&mut self, file: &str, path: &str, message: impl Into<String>) {
        self.model.warnings.push(Warning {
            file: file.to_string(),
            path: path.to_string(),
            message: message.into(),
        });
    }

    fn add_iam(&mut self, details: IamDetails, file: &str) {
        let IamDetails {
            users,
            groups,
            roles,
            policies,
            policy_references,
            group_references,
            truncated_at,
        } = details;
        if let Some(path) = truncated_at {
            self.warn(
                file,
                &path,
                "the authorization details are truncated (IsTruncated: true on the last page): users, groups, roles or policies are missing, so no answer that needs the whole account (a refutation, an `only` proof, who-can) is given; collect every page (the AWS CLI paginates by itself unless --max-items is given)",
            );
            self.model.truncated.push(file.to_string());
        }
        for user in users {
            if self.model.users.contains_key(&user.arn) {
                self.duplicate(file, "user", &user.arn);
            } else {
                self.model.users.insert(user.arn.clone(), user);
            }
        }
        for group in groups {
            if self.model.groups.contains_key(&group.arn) {
                self.duplicate(file, "group", &group.arn);
            } else {
                self.model.groups.insert(group.arn.clone(), group);
            }
        }
        for role in roles {
            if self.model.roles.contains_key(&role.arn) {
                self.duplicate(file, "role", &role.arn);
            } else {
                self.model.roles.insert(role.arn.clone(), role);
            }
        }
        for policy in policies {
            // AWS managed policies are global: several snapshots may include the same one.
            if self.model.managed_policies.contains_key(&policy.arn) {
                if !policy.is_aws_managed() {
                    self.duplicate(file, "managed policy", &policy.arn);
                }
            } else {
                self.model
                    .managed_policies
                    .insert(policy.arn.clone(), policy);
            }
        }
        self.policy_references.extend(policy_references);
        self.group_references.extend(group_references);
    }

    fn duplicate(&mut self, file: &str, kind: &str, arn: &str) {
        self.warn(
            file,
            "",
            format!("{kind} {arn} is listed twice; the first entry is used"),
        );
    }

    fn add_resources(
        &mut self,
        layout: &layout::Layout,
        context: &AccountContext,
    ) -> Result<(), InputError> {
        for (name, files) in &layout.buckets {
            let bucket = resources::bucket(name, files, context)?;
            if let Some(other) = self.model.buckets.get(name) {
                return Err(InputError::new(
                    &files.folder.display().to_string(),
                    "",
                    format!(
                        "bucket {name} is already described by the snapshot of account {}; bucket names are global",
                        other.account
                    ),
                ));
            }
            self.model.buckets.insert(name.clone(), bucket);
        }
        for (folder, files) in &layout.keys {
            let key = resources::key(folder, files, context, &mut self.model.warnings)?;
            self.model.keys.insert(key.arn.clone(), key);
        }
        if let Some(path) = &layout.kms_aliases {
            for alias in resources::aliases(path, context)? {
                if let Some(target) = &alias.target_key_id {
                    if let Some(key) = self.model.keys.values_mut().find(|key| {
                        &key.id == target
                            && key.account == alias.account
                            && key.region == alias.region
                    }) {
                        key.aliases.push(alias.name.clone());
                    }
                }
                self.model.aliases.insert(alias.arn.clone(), alias);
            }
        }
        for queue in resources::queues(layout.queues.as_deref(), context)? {
            self.model.queues.insert(queue.arn.clone(), queue);
        }
        if let Some(path) = &layout.job_templates {
            for template in resources::job_templates(path, context)? {
                self.model
                    .job_templates
                    .insert(template.arn.clone(), template);
            }
        }
        if let Some(path) = &layout.presets {
            for preset in resources::presets(path, context)? {
                self.model.presets.insert(preset.arn.clone(), preset);
            }
        }
        if let Some(path) = &layout.rest_apis {
            for api in resources::rest_apis(path, context)? {
                self.model.rest_apis.insert(api.arn.clone(), api);
            }
        }
        Ok(())
    }

    /// Resolves group memberships and managed policy ARNs across all snapshots, then sorts.
    fn finish(mut self) -> Model {
        let group_references = std::mem::take(&mut self.group_references);
        for reference in &group_references {
            if self
                .model
                .group_named(&reference.account, &reference.target)
                .is_none()
            {
                self.warn(
                    &reference.file,
                    &reference.path,
                    format!(
                        "group {} is not in the snapshot; answers that depend on its policies are unknown",
                        reference.target
                    ),
                );
            }
        }
        let policy_references = std::mem::take(&mut self.policy_references);
        let mut seen = BTreeSet::new();
        for reference in &policy_references {
            let arn = &reference.target;
            if self.model.managed_policies.contains_key(arn) || !seen.insert(arn.clone()) {
                continue;
            }
            let message = match managed::bundled_policy(arn) {
                Ok(Some(policy)) => {
                    self.model.managed_policies.insert(arn.clone(), policy);
                    continue;
                }
                Ok(None) if is_aws_managed_policy_arn(arn) => format!(
                    "managed policy {arn} is in neither the snapshot nor the bundled AWS managed policies; answers that depend on it are unknown"
                ),
                Ok(None) => format!(
                    "managed policy {arn} is not in the snapshot's Policies list; answers that depend on it are unknown"
                ),
                Err(error) => format!("{error}; answers that depend on {arn} are unknown"),
            };
            self.warn(&reference.file, &reference.path, message);
        }
        self.model.accounts.sort_by(|a, b| a.id.cmp(&b.id));
        self.model.warnings.sort();
        self.model.warnings.dedup();
        self.model
    }
}

/// `caller-identity.json` (`aws sts get-caller-identity`).
fn caller_identity(path: &Path) -> Result<AccountClaim, InputError> {
    let (file, value) = read_json(path)?;
    let root = Node::root(&file, &value);
    let account_node = root.required("Account")?;
    let account = account_node.str()?;
    if !is_account_id(account) {
        return Err(account_node.error(format!("{account:?} is not an AWS account id (12 digits)")));
    }
    let partition = root
        .optional_str("Arn")?
        .and_then(crate::model::arn_partition)
        .map(str::to_string);
    Ok(AccountClaim {
        id: Some(account.to_string()),
        partition,
        origin: file,
    })
}

/// `collected-at.txt`: one line, the instant the snapshot was collected
/// (`2026-12-03T17:00:00Z`, as `date -u +%Y-%m-%dT%H:%M:%SZ` prints it).
fn read_instant(path: &Path) -> Result<chrono::DateTime<chrono::Utc>, InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(&file, "", format!("cannot read: {e}")))?;
    let line = text.trim();
    crate::context_model::Clock::parse(line).ok_or_else(|| {
        InputError::new(
            &file,
            "",
            format!("{line:?} is not an instant (expected one line such as 2026-12-03T17:00:00Z)"),
        )
    })
}

/// `region.txt`: one line such as `us-east-1`.
fn read_region(path: &Path) -> Result<String, InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(&file, "", format!("cannot read: {e}")))?;
    let region = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default();
    let well_formed = !region.is_empty()
        && region.contains('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !well_formed {
        return Err(InputError::new(
            &file,
            "",
            format!("{region:?} is not a region name (expected one line such as us-east-1)"),
        ));
    }
    Ok(region.to_string())
}
