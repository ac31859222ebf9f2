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
    /// Session tags passed when the session was made: they override the role's tags of the
    /// same key.
    pub tags: BTreeMap<String, String>,
    /// Tags the caller's own session passed on as transitive (role chaining): they too
    /// override the role's, and no new tag may have their key.
    pub inherited: BTreeMap<String, String>,
}

impl Session {
    /// A session with `name` and no tags.
    pub fn named(name: &str) -> Session {
        Session {
            name: name.to_string(),
            tags: BTreeMap::new(),
            inherited: BTreeMap::new(),
        }
    }

    /// Every tag of the session: inherited ones and those passed when it was made.
    pub fn all_tags(&self) -> BTreeMap<String, String> {
        let mut all = self.inherited.clone();
        all.extend(self.tags.clone());
        all
    }

    /// Whether the session has any tag, inherited or its own: [`all_tags`](Self::all_tags)
    /// is not empty, told without building it.
    pub fn has_tags(&self) -> bool {
        !self.tags.is_empty() || !self.inherited.is_empty()
    }

    /// This session carrying `from`'s tags on as transitive ones, unless a tag of its own
    /// has the same key (AWS refuses that).
    pub fn inheriting(&self, from: &Session) -> Option<Session> {
        let inherited = from.all_tags();
        if inherited.is_empty() || self.tags.keys().any(|k| inherited.contains_key(k)) {
            return None;
        }
        Some(Session {
            inherited,
            ..self.clone()
        })
    }
}

/// The session names the model's policies mention, by `(account, role name)`, and the
/// principal tag values they test.
#[derive(Debug, Default)]
pub struct SessionNames {
    mentioned: BTreeMap<(String, String), BTreeSet<String>>,
    /// `aws:PrincipalTag/KEY` values the policies test, by key as written.
    tag_values: BTreeMap<String, BTreeSet<String>>,
    /// Roles whose sessions no policy tells apart: only the default session is tried.
    plain: std::collections::HashSet<String>,
    /// Session name patterns that apply to any role (`sts:RoleSessionName` values, `aws:userid`
    /// values without a role id).
    any_role: Vec<String>,
    /// Whether a policy uses `${aws:PrincipalTag/...}` as a variable.
    tag_variables: bool,
}

/// Every string a statement writes: principals, resources, condition keys and values.
pub(crate) fn statement_strings(statement: &Statement) -> Vec<&str> {
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

/// Whether AWS accepts `name` as a session name: 2 to 64 of `[\w+=,.@-]` (the STS API
/// reference, `RoleSessionName`).
fn is_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// A string that a pattern admits: wildcards become letters. `None` for a pattern with a
/// policy variable, whose value is the caller's.
fn representative(pattern: &str) -> Option<String> {
    if pattern.contains("${") || pattern.is_empty() {
        return None;
    }
    Some(pattern.replace(['*', '?'], "x"))
}

/// A session name that a pattern admits, with `${aws:username}` read as the caller's user
/// name; `None` when no valid name comes of it.
fn session_name_for(pattern: &str, caller_username: Option<&str>) -> Option<String> {
    let pattern = match caller_username {
        Some(name) => replace_ignore_case(pattern, "${aws:username}", name),
        None => pattern.to_string(),
    };
    representative(&pattern).filter(|name| is_session_name(name))
}

fn replace_ignore_case(text: &str, from: &str, to: &str) -> String {
    let lower = text.to_ascii_lowercase();
    match lower.find(&from.to_ascii_lowercase()) {
        Some(at) => format!("{}{to}{}", &text[..at], &text[at + from.len()..]),
        None => text.to_string(),
    }
}

/// A name no policy mentions, for conditions that exclude the mentioned ones.
pub const FRESH_SESSION_NAME: &str = "iamproof-fresh";

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
                    names.note_tag_variables(text);
                }
                for condition in &statement.conditions {
                    names.note_condition(condition, &role_by_id);
                }
            }
        }
        names.plain = model
            .roles
            .values()
            .filter(|role| {
                names.any_role.is_empty()
                    && !names
                        .mentioned
                        .contains_key(&(role.account.clone(), role.name.clone()))
                    && !allows_tagging(&role.trust_policy)
            })
            .map(|role| role.arn.clone())
            .collect();
        names
    }

    /// Notes what one condition says of session names and tags.
    fn note_condition(
        &mut self,
        condition: &crate::policy::condition::Condition,
        role_by_id: &BTreeMap<&str, &Role>,
    ) {
        let lower = condition.key.to_ascii_lowercase();
        if let Some(tag) = lower.strip_prefix("aws:principaltag/") {
            let tag = &condition.key[condition.key.len() - tag.len()..];
            let values = self.tag_values.entry(tag.to_string()).or_default();
            values.extend(
                condition
                    .values
                    .iter()
                    .filter_map(|v| representative(v.raw())),
            );
        } else if lower == "sts:rolesessionname" {
            // Any policy of the call (the caller's own, a boundary, an SCP, the trust) may
            // ask for a name, for any role.
            self.any_role
                .extend(condition.values.iter().map(|v| v.raw().to_string()));
        } else if lower == "aws:userid" {
            for value in &condition.values {
                match value.raw().rsplit_once(':') {
                    Some((id, name)) => {
                        let id = crate::policy::pattern::Glob::parse(id);
                        let roles = role_by_id.iter().filter(|(role_id, _)| id.matches(role_id));
                        for (_, role) in roles {
                            self.add(&role.account, &role.name, name);
                        }
                    }
                    // `*-deploy`: the role id and the colon fall in the wildcard.
                    None => self.any_role.push(value.raw().to_string()),
                }
            }
        }
    }

    /// A `${aws:PrincipalTag/KEY}` variable in a policy: the tag's value decides what the
    /// statement covers, so a tag of that key is worth trying, and values the search does not
    /// enumerate may matter.
    fn note_tag_variables(&mut self, text: &str) {
        let lower = text.to_ascii_lowercase();
        let mut rest = lower.as_str();
        let mut offset = 0;
        while let Some(at) = rest.find("${aws:principaltag/") {
            let start = offset + at + "${aws:principaltag/".len();
            let Some(end) = text[start..].find('}') else {
                break;
            };
            let key = &text[start..start + end];
            self.tag_values
                .entry(key.to_string())
                .or_default()
                .insert("x".to_string());
            self.tag_variables = true;
            offset = start + end;
            rest = &lower[offset..];
        }
    }

    /// Whether no policy tells the sessions of `role` apart (by name or by tags).
    pub fn is_plain(&self, role: &Role) -> bool {
        self.plain.contains(&role.arn)
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
        self.mentioned
            .entry((account.to_string(), role.to_string()))
            .or_default()
            .insert(name.to_string());
    }

    /// The names to try for a session of `role` assumed by a caller whose user name (for
    /// users) is `caller_username`: the default first, then every valid name the policies'
    /// patterns admit, then a name none mentions.
    pub fn for_role(&self, role: &Role, caller_username: Option<&str>) -> Vec<String> {
        let mentioned = self
            .mentioned
            .get(&(role.account.clone(), role.name.clone()))
            .into_iter()
            .flatten();
        let mut names: BTreeSet<String> = mentioned
            .chain(&self.any_role)
            .filter_map(|pattern| session_name_for(pattern, caller_username))
            .collect();
        names.remove(DEFAULT_SESSION_NAME);
        names.remove(FRESH_SESSION_NAME);
        std::iter::once(DEFAULT_SESSION_NAME.to_string())
            .chain(names)
            .chain(std::iter::once(FRESH_SESSION_NAME.to_string()))
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

    /// Whether the tag choices of a taggable role leave some out: the policies test more
    /// than one tag key (combinations are not tried), or use a tag as a policy variable (its
    /// values are not enumerated).
    pub fn tags_incomplete(&self, role: &Role) -> bool {
        allows_tagging(&role.trust_policy) && (self.tag_values.len() > 1 || self.tag_variables)
    }
}

/// Whether a trust policy has an Allow that covers `sts:TagSession`.
pub(crate) fn allows_tagging(trust: &Policy) -> bool {
    trust.statements.iter().any(|statement| {
        statement.effect == crate::policy::Effect::Allow
            && statement.action.covers("sts:TagSession")
    })
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
    fn names_from_session_arns_conditions_and_the_callers_name() {
        let trust = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"sts:RoleSessionName": ["${aws:username}-*", "ci-*", "?"]},
                          "StringEquals": {"aws:userid": "*-deploy"}}}}"#;
        let role = role(trust);
        let mut names = SessionNames::default();
        names.note_session_arn("arn:aws:sts::111122223333:assumed-role/R/alice");
        names.note_session_arn("arn:aws:sts::111122223333:assumed-role/Other/bob");
        for condition in role
            .trust_policy
            .statements
            .iter()
            .flat_map(|s| &s.conditions)
        {
            names.note_condition(condition, &BTreeMap::new());
        }
        // "?" admits only one-character names, which STS refuses.
        assert_eq!(
            names.for_role(&role, Some("carol")),
            [
                "iamproof",
                "alice",
                "carol-x",
                "ci-x",
                "x-deploy",
                "iamproof-fresh"
            ]
        );
        assert_eq!(
            names.for_role(&role, None),
            ["iamproof", "alice", "ci-x", "x-deploy", "iamproof-fresh"]
        );
    }

    #[test]
    fn tag_variables_leave_tag_choices_incomplete() {
        let trust = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]}}"#;
        let mut names = SessionNames::default();
        names.note_tag_variables("arn:aws:s3:::b/${aws:PrincipalTag/team}/*");
        assert_eq!(names.tag_choices(&role(trust)).len(), 2);
        assert!(names.tags_incomplete(&role(trust)));
    }
}
