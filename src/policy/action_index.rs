//! An index of an `Action` element's patterns by service prefix, so that asking whether a
//! statement covers an action looks at the few patterns of that action's service instead of
//! every pattern: AWS managed policies such as `ReadOnlyAccess` list thousands of them, and
//! the delegation graph and the search ask about every statement of every principal.
//!
//! The index only narrows which patterns are tried, never what they match: a pattern whose
//! literal start does not settle its service (a wildcard or a non-ASCII character before the
//! first `:`) is tried for every action, and an action that is not plain ASCII with a service
//! prefix is matched against every pattern.

use super::pattern::{Glob, GlobToken};
use std::collections::HashMap;

/// Services longer than this are not indexed (no AWS service prefix comes close).
const LONGEST_SERVICE: usize = 64;

/// Which patterns of an element may match actions of each service.
#[derive(Clone, Default)]
pub struct ActionIndex {
    /// Patterns whose literal start is `service:`, by the service in ASCII lower case.
    by_service: HashMap<Box<str>, Vec<u32>>,
    /// Patterns that may match actions of any service.
    general: Vec<u32>,
}

impl ActionIndex {
    pub fn of(patterns: &[Glob]) -> ActionIndex {
        let mut index = ActionIndex::default();
        for (position, pattern) in patterns.iter().enumerate() {
            let position = position as u32;
            match literal_service(pattern) {
                Some(service) => index.by_service.entry(service).or_default().push(position),
                None => index.general.push(position),
            }
        }
        index
    }

    /// The positions of the patterns that may match `action`, in no particular order, or
    /// `None` when every pattern may.
    pub fn candidates(&self, action: &str) -> Option<impl Iterator<Item = usize> + '_> {
        let service = action_service(action)?;
        let mut buffer = [0u8; LONGEST_SERVICE];
        let lower = &mut buffer[..service.len()];
        lower.copy_from_slice(service.as_bytes());
        lower.make_ascii_lowercase();
        let lower = std::str::from_utf8(lower).ok()?;
        let indexed = self.by_service.get(lower).map(Vec::as_slice);
        Some(
            indexed
                .unwrap_or_default()
                .iter()
                .chain(&self.general)
                .map(|&p| p as usize),
        )
    }
}

/// The service of a plain ASCII action (`s3` of `s3:GetObject`), when the index can be used.
fn action_service(action: &str) -> Option<&str> {
    if !action.is_ascii() {
        return None;
    }
    let (service, _) = action.split_once(':')?;
    (service.len() <= LONGEST_SERVICE).then_some(service)
}

/// The service a pattern's literal start names (`s3` of `s3:Get*`), in lower case; `None` when
/// a wildcard or a non-ASCII character comes before the first `:`, or there is none.
fn literal_service(pattern: &Glob) -> Option<Box<str>> {
    let mut service = String::new();
    for token in pattern.tokens() {
        match token {
            GlobToken::Literal(':') => {
                return (service.len() <= LONGEST_SERVICE).then(|| service.into_boxed_str())
            }
            GlobToken::Literal(c) if c.is_ascii() => service.push(c.to_ascii_lowercase()),
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers_by_index(patterns: &[&str], action: &str) -> bool {
        let globs: Vec<Glob> = patterns.iter().map(|p| Glob::parse(p)).collect();
        let index = ActionIndex::of(&globs);
        let covered = match index.candidates(action) {
            Some(mut positions) => positions.any(|p| globs[p].matches_ignore_case(action)),
            None => globs.iter().any(|g| g.matches_ignore_case(action)),
        };
        covered
    }

    fn covers_by_scan(patterns: &[&str], action: &str) -> bool {
        patterns
            .iter()
            .any(|p| Glob::parse(p).matches_ignore_case(action))
    }

    #[test]
    fn the_index_agrees_with_a_scan_of_every_pattern() {
        let patterns = [
            "s3:Get*",
            "S3:PutObject",
            "*",
            "iam:*",
            "*:Describe*",
            "ec2?:Run*",
            "kms*:Decrypt",
            "sts:AssumeRole",
            "nocolon",
            "\u{212A}ms:Decrypt",
        ];
        let actions = [
            "s3:GetObject",
            "S3:getobject",
            "s3:putobject",
            "iam:PassRole",
            "ec2:DescribeInstances",
            "ec2x:RunInstances",
            "kms:Decrypt",
            "KMS:decrypt",
            "sts:assumerole",
            "nocolon",
            "\u{212A}MS:Decrypt",
            "lambda:InvokeFunction",
            "",
            ":",
        ];
        for action in actions {
            for size in 0..=patterns.len() {
                for start in 0..patterns.len() - size.min(patterns.len() - 1) {
                    let chosen = &patterns[start..(start + size).min(patterns.len())];
                    assert_eq!(
                        covers_by_index(chosen, action),
                        covers_by_scan(chosen, action),
                        "{chosen:?} on {action:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_action_of_another_service_tries_only_the_general_patterns() {
        let globs: Vec<Glob> = ["s3:*", "iam:*", "*:List*"]
            .iter()
            .map(|p| Glob::parse(p))
            .collect();
        let index = ActionIndex::of(&globs);
        let tried: Vec<usize> = index.candidates("kms:ListKeys").unwrap().collect();
        assert_eq!(tried, vec![2]);
        assert!(index.candidates("n\u{e9}:Thing").is_none());
    }
}
