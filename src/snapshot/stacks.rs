//! The CloudFormation stacks of a snapshot: `cloudformation/stacks/<name>.json`, the output of
//! `aws cloudformation list-stack-resources --stack-name NAME`, one file per stack. A template
//! given over the snapshot as an update of one of them ([`crate::cloudformation`]) deletes the
//! resources the stack has that the template no longer holds; this says which they are.

use super::json::Node;
use super::read_json;
use crate::input::InputError;
use crate::model::{Stack, StackResource};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The resources of each stack, by stack name. Resources already deleted are left out; a
/// listing with a `NextToken` is marked partial.
pub(super) fn read(
    files: &BTreeMap<String, PathBuf>,
) -> Result<BTreeMap<String, Stack>, InputError> {
    let mut stacks = BTreeMap::new();
    for (name, path) in files {
        let (file, value) = read_json(path)?;
        let root = Node::root(&file, &value);
        let mut resources = Vec::new();
        for summary in root.required("StackResourceSummaries")?.list()? {
            if summary.optional_str("ResourceStatus")? == Some("DELETE_COMPLETE") {
                continue;
            }
            resources.push(StackResource {
                logical_id: summary.required_str("LogicalResourceId")?.to_string(),
                physical_id: summary
                    .optional_str("PhysicalResourceId")?
                    .filter(|id| !id.is_empty())
                    .map(str::to_string),
                kind: summary.required_str("ResourceType")?.to_string(),
            });
        }
        // A page of a longer listing (`--max-items`, `--no-paginate`) ends with its token.
        let partial = root
            .optional_str("NextToken")?
            .is_some_and(|t| !t.is_empty());
        stacks.insert(name.clone(), Stack { resources, partial });
    }
    Ok(stacks)
}
