//! The names a caller may give the session of a role it assumes.
//!
//! A caller chooses the session name at `sts:AssumeRole` (`sts:RoleSessionName`), and the
//! name then shows in the session's ARN (`assumed-role/ROLE/NAME`) and in `aws:userid`
//! (`ROLEID:NAME`), which later policies may test. A search that tried one fixed name would
//! miss the chains that need a particular one, so it tries one name of every kind the
//! policies of the model tell apart: the names they write out (a session ARN in a `Principal`
//! or a resource, a `sts:RoleSessionName` or `aws:userid` condition value), one string for
//! each pattern they write, the caller's user name where a trust policy asks for
//! `${aws:username}`, and a name no policy mentions.
//!
//! Where a role's trust policy lets callers tag its sessions (`sts:TagSession`), the caller
//! also chooses the session's principal tags, which override the role's own. The search tries
//! no tags, and each single tag with each value the policies test
//! (`aws:PrincipalTag/KEY`); several tags at once are not tried, so a refutation over such a
//! session is `unknown` when the policies test more than one tag key.

use crate::model::{Model, Role};
use crate::policy::{Policy, Statement};
use std::collections::{BTreeMap, BTreeSet};

/// The session name tried when no policy asks for another.
pub const DEFAULT_SESSION_NAME: &str = crate::graph::ASSUMED_SESSION_NAME;

/// The session of a role that a chain reaches: the name and the tags its caller gave it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Session {
    pub name: String,
    /// Session tags: they override the role's tags of the same key.
    pub tags: BTreeMap<String, String>,
}

impl Session {
    /// A session with `name` and no tags.
    pub fn named(name: &str) -> Session {
        Session {
            name: name.to_string(),
            tags: BTreeMap::new(),
        }
    }
}

/// The session names the model's policies mention, by `(account, role name)`, and the
/// principal tag values they test.
#[derive(Debug, Default)]
pub struct SessionNames {
    mentioned: BTreeMap<(String, String), BTreeSet<String>>,
    /// `aws:PrincipalTag/KEY` values the policies test, by key as written.
    tag_values: BTreeMap<String, BTreeSet<String>>,
}

/// Every string a statement writes: principals, resources, condition keys and values.
fn statement_strings(statement: &Statement) -> Vec<&str> {
    let mut strings: Vec<&str> = Vec::new();
    if let Some(element) = &statement.principal {
        if let crate::policy::PrincipalSet::Entries(entries) = &element.set {
            strings.extend(entries.iter().map(|e| e.value.as_str()));
        }
    }
    if let Some(resource) = &statement.resource {
        strings.extend(resource.patterns.iter().map(|p| p.raw()));
    }
    for condition in &statement.conditions {
        strings.push(&condition.key);
        strings.extend(condition.values.iter().map(|v| v.raw()));
    }
    strings
}

/// A name that a pattern of session names admits: wildcards become letters. `None` for a
/// pattern with a policy variable, whose value is the caller's.
fn representative(pattern: &str) -> Option<String> {
    if pattern.contains("${") || pattern.is_empty() {
        return None;
    }
    Some(pattern.replace(['*', '?'], "x"))
}

impl SessionNames {
    /// The session names the policies of `model` mention.
    pub fn of(model: &Model) -> SessionNames {
        let mut names = SessionNames::default();
        let role_by_id: BTreeMap<&str, &Role> = model
            .roles
            .values()
            .filter_map(|role| role.unique_id.as_deref().map(|id| (id, role)))
            .collect();
        for policy in model.all_policies() {
            for statement in &policy.statements {
                for text in statement_strings(statement) {
                    names.note_session_arn(text);
                }
                for condition in &statement.conditions {
                    let lower = condition.key.to_ascii_lowercase();
                    if let Some(tag) = lower.strip_prefix("aws:principaltag/") {
                        let tag = &condition.key[condition.key.len() - tag.len()..];
                        let values = names.tag_values.entry(tag.to_string()).or_default();
                        values.extend(
                            condition
                                .values
                                .iter()
                                .filter_map(|v| representative(v.raw())),
                        );
                        continue;
                    }
                    if lower != "aws:userid" {
                        continue;
                    }
                    for value in &condition.values {
                        let Some((id, name)) = value.raw().split_once(':') else {
                            continue;
                        };
                        let roles = role_by_id.iter().filter(|(role_id, _)| {
                            crate::policy::pattern::Glob::parse(id).matches(role_id)
                        });
                        for (_, role) in roles {
                            names.add(&role.account, &role.name, name);
                        }
                    }
                }
            }
        }
        names
    }

    fn note_session_arn(&mut self, text: &str) {
        let Some((head, rest)) = text.split_once(":assumed-role/") else {
            return;
        };
        let Some(account) = head.rsplit(':').next() else {
            return;
        };
        if let Some((role, name)) = rest.split_once('/') {
            self.add(account, role, name);
        }
    }

    fn add(&mut self, account: &str, role: &str, name: &str) {
        if let Some(name) = representative(name) {
            self.mentioned
                .entry((account.to_string(), role.to_string()))
                .or_default()
                .insert(name);
        }
    }

    /// The names to try for a session of `role` assumed by a caller whose user name (for
    /// users) is `caller_username`: the default first, then the others in order.
    pub fn for_role(&self, role: &Role, caller_username: Option<&str>) -> Vec<String> {
        let mut names = BTreeSet::new();
        if let Some(mentioned) = self
            .mentioned
            .get(&(role.account.clone(), role.name.clone()))
        {
            names.extend(mentioned.iter().cloned());
        }
        names.extend(trust_session_names(&role.trust_policy, caller_username));
        names.remove(DEFAULT_SESSION_NAME);
        std::iter::once(DEFAULT_SESSION_NAME.to_string())
            .chain(names)
            .collect()
    }
}

impl SessionNames {
    /// The tag sets to try for a session of `role`: none, then each single tag value the
    /// policies test, when the trust policy lets callers tag sessions.
    pub fn tag_choices(&self, role: &Role) -> Vec<BTreeMap<String, String>> {
        let mut choices = vec![BTreeMap::new()];
        if !allows_tagging(&role.trust_policy) {
            return choices;
        }
        for (key, values) in &self.tag_values {
            for value in values {
                choices.push(BTreeMap::from([(key.clone(), value.clone())]));
            }
        }
        choices
    }

    /// Whether the tag choices of a taggable role leave combinations out: the policies test
    /// more than one tag key.
    pub fn tags_incomplete(&self, role: &Role) -> bool {
        allows_tagging(&role.trust_policy) && self.tag_values.len() > 1
    }
}

/// Whether a trust policy has an Allow that covers `sts:TagSession`.
pub(crate) fn allows_tagging(trust: &Policy) -> bool {
    trust.statements.iter().any(|statement| {
        statement.effect == crate::policy::Effect::Allow
            && statement.action.covers("sts:TagSession")
    })
}

/// The session names a trust policy's `sts:RoleSessionName` conditions write.
fn trust_session_names(trust: &Policy, caller_username: Option<&str>) -> Vec<String> {
    trust
        .statements
        .iter()
        .flat_map(|statement| &statement.conditions)
        .filter(|condition| condition.key.eq_ignore_ascii_case("sts:RoleSessionName"))
        .flat_map(|condition| &condition.values)
        .filter_map(|value| {
            let raw = value.raw();
            if raw.eq_ignore_ascii_case("${aws:username}") {
                caller_username.map(str::to_string)
            } else {
                representative(raw)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn role(trust: &str) -> Role {
        Role {
            arn: "arn:aws:iam::111122223333:role/R".into(),
            name: "R".into(),
            path: "/".into(),
            account: "111122223333".into(),
            trust_policy: Arc::new(Policy::from_json_text(trust).unwrap()),
            inline_policies: Vec::new(),
            managed_policy_arns: Vec::new(),
            permissions_boundary: None,
            tags: BTreeMap::new(),
            unique_id: Some("AROAEXAMPLE".into()),
        }
    }

    #[test]
    fn names_from_session_arns_trust_conditions_and_the_callers_name() {
        let trust = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"sts:RoleSessionName": ["${aws:username}", "ci-*"]}}}}"#;
        let mut names = SessionNames::default();
        names.note_session_arn("arn:aws:sts::111122223333:assumed-role/R/alice");
        names.note_session_arn("arn:aws:sts::111122223333:assumed-role/Other/bob");
        assert_eq!(
            names.for_role(&role(trust), Some("carol")),
            ["iamproof", "alice", "carol", "ci-x"]
        );
        assert_eq!(
            names.for_role(&role(trust), None),
            ["iamproof", "alice", "ci-x"]
        );
    }
}
