//! The folder layout of one account snapshot: which file holds what.
//!
//! The folder is listed once, in sorted order, and each file is classified by its path. Files
//! that the layout does not name are reported (and otherwise ignored) so that a typo in a file
//! name is seen rather than silently taken as "this account has none of that".

use crate::input::InputError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How deep the layout goes (`kms/<key-id>/policy.json` is three levels); deeper folders are
/// listed only as far as this, so a link loop cannot run away.
const MAX_DEPTH: usize = 6;

/// The file that every snapshot must have.
pub(crate) const AUTHORIZATION_DETAILS: &str = "iam/account-authorization-details.json";

/// What one snapshot folder holds, by role. Paths are full paths (the folder joined with the
/// file's place in it).
#[derive(Debug, Default)]
pub(crate) struct Layout {
    pub caller_identity: Option<PathBuf>,
    pub region: Option<PathBuf>,
    /// `collected-at.txt`: when the snapshot was collected.
    pub collected_at: Option<PathBuf>,
    pub authorization_details: Option<PathBuf>,
    /// Bucket name to its folder's files.
    pub buckets: BTreeMap<String, BucketFiles>,
    /// Key id to its folder's files.
    pub keys: BTreeMap<String, KeyFiles>,
    pub kms_aliases: Option<PathBuf>,
    pub queues: Option<PathBuf>,
    pub job_templates: Option<PathBuf>,
    pub presets: Option<PathBuf>,
    pub rest_apis: Option<PathBuf>,
    /// `iam/oidc-providers.json` and `iam/saml-providers.json`: the account's identity
    /// providers.
    pub oidc_providers: Option<PathBuf>,
    pub saml_providers: Option<PathBuf>,
    /// `iam/oidc-providers/*.json`: one OIDC provider each (its URL and client ids).
    pub oidc_provider_details: Vec<PathBuf>,
    /// Policy file name (without `.json`) to path.
    pub scps: BTreeMap<String, PathBuf>,
    pub rcps: BTreeMap<String, PathBuf>,
    pub targets: Option<PathBuf>,
    /// `organizations/organization.json`: the organization and its management account.
    pub organization: Option<PathBuf>,
    /// `cloudformation/stacks/<name>.json` (`list-stack-resources`), by stack name; `None`
    /// when the snapshot has no `cloudformation/stacks` folder (it does not record stacks).
    pub stacks: Option<BTreeMap<String, PathBuf>>,
    /// `collect-errors.txt`: `scripts/collect.sh` writes it when some calls failed.
    pub collect_errors: Option<PathBuf>,
    /// Files the layout does not name.
    pub unknown: Vec<PathBuf>,
    /// Folders that could not be listed or went too deep, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

#[derive(Debug, Default)]
pub(crate) struct BucketFiles {
    /// The bucket's folder, `s3/<bucket>`.
    pub folder: PathBuf,
    pub policy: Option<PathBuf>,
    pub encryption: Option<PathBuf>,
    pub ownership_controls: Option<PathBuf>,
    pub public_access_block: Option<PathBuf>,
    pub tags: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub(crate) struct KeyFiles {
    pub key: Option<PathBuf>,
    pub policy: Option<PathBuf>,
}

/// Lists `dir` and sorts its files into a `Layout`.
pub(crate) fn scan(dir: &Path) -> Result<Layout, InputError> {
    let display = dir.display().to_string();
    let metadata = std::fs::metadata(dir).map_err(|e| {
        InputError::new(
            &display,
            "",
            format!("cannot open the snapshot folder: {e}"),
        )
    })?;
    if !metadata.is_dir() {
        return Err(InputError::new(
            &display,
            "",
            "not a folder (a snapshot is a folder of AWS CLI output)",
        ));
    }
    let mut layout = Layout::default();
    let mut entries = Vec::new();
    list(dir, &mut Vec::new(), &mut entries, &mut layout.skipped)?;
    for entry in entries {
        let parts: Vec<&str> = entry.relative.iter().map(String::as_str).collect();
        let full = dir.join(entry.relative.join("/"));
        if entry.is_dir {
            match parts.as_slice() {
                ["s3", bucket] => {
                    layout
                        .buckets
                        .entry((*bucket).to_string())
                        .or_default()
                        .folder = full;
                }
                ["kms", key] => {
                    layout.keys.entry((*key).to_string()).or_default();
                }
                ["cloudformation", "stacks"] => {
                    layout.stacks.get_or_insert_with(BTreeMap::new);
                }
                _ => {}
            }
            continue;
        }
        if !layout.classify(&parts, full.clone()) {
            layout.unknown.push(full);
        }
    }
    Ok(layout)
}

impl Layout {
    /// Records a file the layout names; false for any other file.
    fn classify(&mut self, parts: &[&str], full: PathBuf) -> bool {
        let slot = match parts {
            ["caller-identity.json"] => &mut self.caller_identity,
            ["region.txt"] => &mut self.region,
            ["collected-at.txt"] => &mut self.collected_at,
            ["iam", "account-authorization-details.json"] => &mut self.authorization_details,
            ["kms", "aliases.json"] => &mut self.kms_aliases,
            ["mediaconvert", "queues.json"] => &mut self.queues,
            ["mediaconvert", "job-templates.json"] => &mut self.job_templates,
            ["mediaconvert", "presets.json"] => &mut self.presets,
            ["apigateway", "rest-apis.json"] => &mut self.rest_apis,
            ["iam", "oidc-providers.json"] => &mut self.oidc_providers,
            ["iam", "saml-providers.json"] => &mut self.saml_providers,
            ["organizations", "targets.json"] => &mut self.targets,
            ["organizations", "organization.json"] => &mut self.organization,
            ["collect-errors.txt"] => &mut self.collect_errors,
            ["s3", bucket, file] => {
                let files = self.buckets.entry((*bucket).to_string()).or_default();
                if let Some(folder) = full.parent() {
                    files.folder = folder.to_path_buf();
                }
                match *file {
                    "policy.json" => &mut files.policy,
                    "encryption.json" => &mut files.encryption,
                    "ownership-controls.json" => &mut files.ownership_controls,
                    "public-access-block.json" => &mut files.public_access_block,
                    "tags.json" => &mut files.tags,
                    _ => return false,
                }
            }
            ["kms", key, file] => {
                let files = self.keys.entry((*key).to_string()).or_default();
                match *file {
                    "key.json" => &mut files.key,
                    "policy.json" => &mut files.policy,
                    _ => return false,
                }
            }
            ["cloudformation", "stacks", file] => {
                let Some(name) = file.strip_suffix(".json").filter(|n| !n.is_empty()) else {
                    return false;
                };
                let stacks = self.stacks.get_or_insert_with(BTreeMap::new);
                stacks.insert(name.to_string(), full);
                return true;
            }
            ["iam", "oidc-providers", file] if file.ends_with(".json") => {
                self.oidc_provider_details.push(full);
                return true;
            }
            ["organizations", kind @ ("scps" | "rcps"), file] => {
                let Some(id) = file.strip_suffix(".json").filter(|id| !id.is_empty()) else {
                    return false;
                };
                let map = if *kind == "scps" {
                    &mut self.scps
                } else {
                    &mut self.rcps
                };
                map.insert(id.to_string(), full);
                return true;
            }
            _ => return false,
        };
        *slot = Some(full);
        true
    }
}

struct Entry {
    relative: Vec<String>,
    is_dir: bool,
}

/// Lists every file and folder under `base/relative`, depth first, in name order.
fn list(
    base: &Path,
    relative: &mut Vec<String>,
    out: &mut Vec<Entry>,
    skipped: &mut Vec<(PathBuf, String)>,
) -> Result<(), InputError> {
    let here = relative
        .iter()
        .fold(base.to_path_buf(), |path, part| path.join(part));
    if relative.len() > MAX_DEPTH {
        skipped.push((
            here,
            format!("more than {MAX_DEPTH} folders deep; not read"),
        ));
        return Ok(());
    }
    let reader = match std::fs::read_dir(&here) {
        Ok(reader) => reader,
        Err(e) if relative.is_empty() => {
            return Err(InputError::new(
                &here.display().to_string(),
                "",
                format!("cannot list the folder: {e}"),
            ))
        }
        Err(e) => {
            skipped.push((here, format!("cannot list the folder: {e}")));
            return Ok(());
        }
    };
    let mut names: Vec<(String, bool)> = Vec::new();
    for entry in reader.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Follows links, like the shell scripts that build snapshots would.
        let is_dir = std::fs::metadata(entry.path())
            .map(|m| m.is_dir())
            .unwrap_or(false);
        names.push((name, is_dir));
    }
    names.sort();
    for (name, is_dir) in names {
        relative.push(name);
        out.push(Entry {
            relative: relative.clone(),
            is_dir,
        });
        if is_dir {
            list(base, relative, out, skipped)?;
        }
        relative.pop();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_files_by_role_and_reports_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "caller-identity.json",
            "iam/account-authorization-details.json",
            "iam/credential-report.csv",
            "s3/b/policy.json",
            "s3/b/lifecycle.json",
            "kms/k1/key.json",
            "organizations/scps/p-1.json",
            "notes.txt",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "{}").unwrap();
        }
        std::fs::create_dir_all(dir.path().join("s3/empty-bucket")).unwrap();
        let layout = scan(dir.path()).unwrap();
        assert!(layout.caller_identity.is_some());
        assert!(layout.authorization_details.is_some());
        assert_eq!(
            layout.buckets.keys().collect::<Vec<_>>(),
            ["b", "empty-bucket"]
        );
        assert!(layout.buckets["b"].policy.is_some());
        assert!(layout.keys["k1"].key.is_some());
        assert!(layout.scps.contains_key("p-1"));
        let unknown: Vec<String> = layout
            .unknown
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            unknown,
            [
                "iam/credential-report.csv",
                "notes.txt",
                "s3/b/lifecycle.json"
            ]
        );
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let error = scan(Path::new("/nonexistent/snapshot")).unwrap_err();
        assert_eq!(error.file, "/nonexistent/snapshot");
        assert!(
            error.message.starts_with("cannot open the snapshot folder"),
            "{}",
            error.message
        );
    }
}
