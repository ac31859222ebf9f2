//! Names AWS chooses when a resource is created (a CloudFormation physical id, a Terraform
//! `name_prefix`), held in the model by a placeholder.
//!
//! A placeholder answers like the real name wherever no policy tells names apart beyond the
//! part known in advance (`stack-Role-` of `stack-Role-1A2B3C4D5E6F`). A policy pattern that
//! does (`role/stack-Role-1*`, or a literal ARN that could be the real one) could match the
//! real name and not the placeholder: then refutations are `unknown`, naming the pattern, and
//! the user can name the resource.

use crate::model::Model;
use crate::policy::pattern::Glob;
use crate::policy::{Policy, PrincipalSet};

/// A name chosen at creation, held by a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedName {
    /// What it names, for messages (`AWS::IAM::Role MediaRole in template.yaml`).
    pub what: String,
    /// The ARN the model gives it; it starts with `known_prefix`, and what follows is text no
    /// real name holds.
    pub placeholder_arn: String,
    /// The part of the ARN known before creation (`arn:aws:iam::111122223333:role/stack-MediaRole-`).
    pub known_prefix: String,
    /// Text every real name holds after the known prefix (`-MediaRole-` when the stack's name
    /// is not given); empty when nothing more is known.
    pub infix: String,
}

/// Marks refutations `unknown` where a policy of the model may tell a generated name from
/// its placeholder.
pub fn check(model: &mut Model) {
    if model.generated.is_empty() {
        return;
    }
    // Every pattern of the model, gathered once for all names.
    let patterns: Vec<String> = model
        .all_policies()
        .into_iter()
        .flat_map(patterns_of)
        .collect();
    let generated = std::mem::take(&mut model.generated);
    for name in &generated {
        let telling = patterns
            .iter()
            // A pattern made from a reference to the resource names it as the real one will.
            .filter(|pattern| !pattern.contains(placeholder_name(name)))
            .find(|pattern| may_tell_apart(pattern, &name.known_prefix, &name.infix));
        if let Some(pattern) = telling {
            model.unread.push(format!(
                "{}: its name is chosen at creation, and the policy pattern {pattern} may tell it apart; give it a name",
                name.what
            ));
        }
    }
    model.generated = generated;
}

/// The placeholder's part after the known prefix: what no real name contains.
fn placeholder_name(name: &GeneratedName) -> &str {
    name.placeholder_arn
        .strip_prefix(&name.known_prefix)
        .filter(|rest| !rest.is_empty())
        .unwrap_or(&name.placeholder_arn)
}

/// Every resource, principal and condition value pattern of a policy.
fn patterns_of(policy: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    for statement in &policy.statements {
        if let Some(resource) = &statement.resource {
            out.extend(resource.patterns.iter().map(|p| p.raw().to_string()));
        }
        if let Some(principal) = &statement.principal {
            if let PrincipalSet::Entries(entries) = &principal.set {
                out.extend(entries.iter().map(|e| e.value.clone()));
            }
        }
        for condition in &statement.conditions {
            out.extend(condition.values.iter().map(|v| v.raw().to_string()));
        }
    }
    out
}

/// Whether `pattern` may match some names that start with `prefix` (and hold `infix` after
/// it) and not others.
fn may_tell_apart(pattern: &str, prefix: &str, infix: &str) -> bool {
    // Policy variables stand for values not known here: treated as wildcards.
    let glob_text: String = if pattern.contains("${") {
        let mut text = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            text.push_str(&rest[..start]);
            text.push('*');
            rest = rest[start..]
                .find('}')
                .map_or("", |end| &rest[start + end + 1..]);
        }
        text.push_str(rest);
        text
    } else {
        pattern.to_string()
    };
    let first_wildcard = glob_text.find(['*', '?']);
    let literal = &glob_text[..first_wildcard.unwrap_or(glob_text.len())];
    // A pattern that is a literal, or a literal and one trailing `*`, covers all such names
    // or none, unless its literal reaches into the part chosen at creation.
    let covers_all_or_none = match first_wildcard {
        None => !literal.starts_with(prefix),
        Some(at) if &glob_text[at..] == "*" => {
            prefix.starts_with(literal) || !literal.starts_with(prefix)
        }
        Some(_) => false,
    };
    if covers_all_or_none {
        return false;
    }
    let names = match infix {
        "" => Glob::parse(&format!("{prefix}*")),
        _ => Glob::parse(&format!("{prefix}*{infix}*")),
    };
    crate::smt::encode::arn_globs_intersect(&Glob::parse(&glob_text), &names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "arn:aws:iam::111122223333:role/stack-MediaRole-";

    #[test]
    fn patterns_that_cover_every_name_or_none_tell_nothing_apart() {
        for pattern in [
            "*",
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::111122223333:role/stack-*",
            "arn:aws:iam::111122223333:role/stack-MediaRole-*",
            "arn:aws:iam::111122223333:role/other-*",
            "arn:aws:iam::111122223333:role/OtherRole",
            "arn:aws:s3:::media-out/*",
        ] {
            assert!(!may_tell_apart(pattern, PREFIX, ""), "{pattern}");
        }
    }

    #[test]
    fn patterns_that_reach_into_the_chosen_part_tell_names_apart() {
        for pattern in [
            "arn:aws:iam::111122223333:role/stack-MediaRole-1*",
            "arn:aws:iam::111122223333:role/stack-MediaRole-1A2B3C",
            "arn:aws:iam::111122223333:role/*-prod",
            "arn:aws:iam::*:role/stack-*-1*",
            "arn:aws:iam::111122223333:role/stack-MediaRole-${aws:username}-*",
        ] {
            assert!(may_tell_apart(pattern, PREFIX, ""), "{pattern}");
        }
    }
}
