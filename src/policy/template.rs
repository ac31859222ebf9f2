//! Policy strings that may hold policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`,
//! `${aws:username, 'default'}`) and the escapes `${*}`, `${?}` and `${$}`.
//!
//! A template is parsed once, when the policy is read; it is resolved against a request context
//! each time it is evaluated. A variable whose key is absent (and has no default) makes the whole
//! string unresolved: AWS treats it as a value that matches nothing.

use super::pattern::{Glob, GlobToken};

/// One piece of a policy string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TemplatePart {
    /// Plain text; in `*Like` and `Resource` contexts its `*` and `?` are wildcards.
    Text(String),
    /// A character produced by `${*}`, `${?}` or `${$}`: always literal.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`.
    Variable {
        key: String,
        default: Option<String>,
    },
}

/// A policy string, parsed into text, escapes and variables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Template {
    raw: String,
    parts: Vec<TemplatePart>,
}

/// Looks up single-valued context keys for variable substitution.
pub trait VariableSource {
    /// The value of `key` (case-insensitive), or `None` when it is absent or multi-valued.
    fn variable(&self, key: &str) -> Option<&str>;
}

/// A source with no keys at all: every variable is unresolved.
pub struct NoVariables;

impl VariableSource for NoVariables {
    fn variable(&self, _key: &str) -> Option<&str> {
        None
    }
}

impl Template {
    /// Parses `raw`. With `variables` false (policy version 2008-10-17 or none) the text is
    /// taken literally, as AWS does.
    pub fn parse(raw: &str, variables: bool) -> Template {
        let parts = if variables {
            parse_parts(raw)
        } else {
            vec![TemplatePart::Text(raw.to_string())]
        };
        Template {
            raw: raw.to_string(),
            parts,
        }
    }

    /// The string as written in the policy.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn parts(&self) -> &[TemplatePart] {
        &self.parts
    }

    /// True when the template refers to at least one context key.
    pub fn has_variables(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, TemplatePart::Variable { .. }))
    }

    /// The literal string after substitution, or `None` when a variable is unresolved.
    pub fn resolve_literal(&self, source: &dyn VariableSource) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text(text) => out.push_str(text),
                TemplatePart::Escaped(c) => out.push(*c),
                TemplatePart::Variable { key, default } => {
                    out.push_str(source.variable(key).or(default.as_deref())?)
                }
            }
        }
        Some(out)
    }

    /// The glob pattern after substitution, or `None` when a variable is unresolved.
    /// Substituted values are literal: a `*` inside a user name is not a wildcard.
    pub fn resolve_glob(&self, source: &dyn VariableSource) -> Option<Glob> {
        let mut tokens = Vec::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text(text) => {
                    tokens.extend(Glob::parse(text).tokens().iter().cloned())
                }
                TemplatePart::Escaped(c) => tokens.push(GlobToken::Literal(*c)),
                TemplatePart::Variable { key, default } => {
                    let value = source.variable(key).or(default.as_deref())?;
                    tokens.extend(value.chars().map(GlobToken::Literal));
                }
            }
        }
        Some(Glob::from_tokens(tokens))
    }
}

fn parse_parts(raw: &str) -> Vec<TemplatePart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        let part = match inner {
            "*" => Some(TemplatePart::Escaped('*')),
            "?" => Some(TemplatePart::Escaped('?')),
            "$" => Some(TemplatePart::Escaped('$')),
            _ => parse_variable(inner),
        };
        match part {
            Some(part) => {
                text.push_str(&rest[..start]);
                if !text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                }
                parts.push(part);
            }
            None => text.push_str(&rest[..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() || parts.is_empty() {
        parts.push(TemplatePart::Text(text));
    }
    parts
}

/// `key` or `key, 'default'`; keys are names with a service prefix such as `aws:username`.
fn parse_variable(inner: &str) -> Option<TemplatePart> {
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let default = default
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))?;
            (key.trim(), Some(default.to_string()))
        }
        None => (inner.trim(), None),
    };
    let valid = key.contains(':')
        && !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/-_.@+=".contains(c));
    valid.then(|| TemplatePart::Variable {
        key: key.to_string(),
        default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<String, String>);
    impl VariableSource for Map {
        fn variable(&self, key: &str) -> Option<&str> {
            self.0.get(&key.to_ascii_lowercase()).map(|s| s.as_str())
        }
    }
    fn source(pairs: &[(&str, &str)]) -> Map {
        Map(pairs
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect())
    }

    #[test]
    fn substitutes_variables() {
        let t = Template::parse("arn:aws:s3:::home/${aws:username}/*", true);
        let glob = t
            .resolve_glob(&source(&[("aws:username", "alice")]))
            .unwrap();
        assert!(glob.matches("arn:aws:s3:::home/alice/x"));
        assert!(!glob.matches("arn:aws:s3:::home/bob/x"));
        assert_eq!(t.resolve_glob(&NoVariables), None);
    }

    #[test]
    fn key_names_are_case_insensitive() {
        let t = Template::parse("${AWS:UserName}", true);
        assert_eq!(
            t.resolve_literal(&source(&[("aws:username", "alice")])),
            Some("alice".into())
        );
    }

    #[test]
    fn defaults_apply_to_absent_keys() {
        let t = Template::parse("${aws:PrincipalTag/team, 'none'}", true);
        assert_eq!(t.resolve_literal(&NoVariables), Some("none".into()));
    }

    #[test]
    fn escapes_are_literal() {
        let t = Template::parse("a${*}b${?}${$}", true);
        let glob = t.resolve_glob(&NoVariables).unwrap();
        assert!(glob.matches("a*b?$"));
        assert!(!glob.matches("axb?$"));
    }

    #[test]
    fn old_version_takes_text_literally() {
        let t = Template::parse("${aws:username}", false);
        assert_eq!(
            t.resolve_literal(&NoVariables),
            Some("${aws:username}".into())
        );
    }

    #[test]
    fn substituted_values_are_not_wildcards() {
        let t = Template::parse("${aws:username}", true);
        let glob = t.resolve_glob(&source(&[("aws:username", "a*")])).unwrap();
        assert!(!glob.matches("abc"));
        assert!(glob.matches("a*"));
    }
}
