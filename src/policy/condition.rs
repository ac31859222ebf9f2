//! Condition operators and their concrete meaning.
//!
//! An operator name is a base operator (`StringLike`), optionally qualified by a set prefix
//! (`ForAllValues:`, `ForAnyValue:`) and the `IfExists` suffix. Evaluation follows the IAM
//! User Guide: a missing key makes positive operators false and negated ones true; `IfExists`
//! makes a missing key true; `ForAllValues` is true on an empty or missing set and `ForAnyValue`
//! false; several values for one key are ORed (for negated operators: none may match).

use super::context::{Context, ContextValue};
use super::template::{Template, VariableSource};
use std::net::IpAddr;

/// The base operators of the policy language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperatorKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// Operator families, which decide how values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorFamily {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

const ALL_OPERATORS: [OperatorKind; 27] = {
    use OperatorKind::*;
    [
        StringEquals,
        StringNotEquals,
        StringEqualsIgnoreCase,
        StringNotEqualsIgnoreCase,
        StringLike,
        StringNotLike,
        NumericEquals,
        NumericNotEquals,
        NumericLessThan,
        NumericLessThanEquals,
        NumericGreaterThan,
        NumericGreaterThanEquals,
        DateEquals,
        DateNotEquals,
        DateLessThan,
        DateLessThanEquals,
        DateGreaterThan,
        DateGreaterThanEquals,
        Bool,
        BinaryEquals,
        IpAddress,
        NotIpAddress,
        ArnEquals,
        ArnLike,
        ArnNotEquals,
        ArnNotLike,
        Null,
    ]
};

impl OperatorKind {
    pub fn name(self) -> &'static str {
        use OperatorKind::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    /// Looks a base operator up by its exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<OperatorKind> {
        ALL_OPERATORS.iter().copied().find(|op| op.name() == name)
    }

    pub fn family(self) -> OperatorFamily {
        use OperatorKind::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => OperatorFamily::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => OperatorFamily::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => OperatorFamily::Date,
            Bool => OperatorFamily::Bool,
            BinaryEquals => OperatorFamily::Binary,
            IpAddress | NotIpAddress => OperatorFamily::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => OperatorFamily::Arn,
            Null => OperatorFamily::Null,
        }
    }

    /// Negated operators are true when no policy value matches (and when the key is missing).
    pub fn is_negated(self) -> bool {
        use OperatorKind::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// `ForAllValues:` or `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

/// A full operator: base, set qualifier and `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    pub kind: OperatorKind,
    pub set: Option<SetQualifier>,
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name such as `ForAnyValue:StringLikeIfExists`.
    pub fn parse(name: &str) -> Option<Operator> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, name)
        };
        if let Some(kind) = OperatorKind::from_name(rest) {
            return Some(Operator {
                kind,
                set,
                if_exists: false,
            });
        }
        let base = rest.strip_suffix("IfExists")?;
        let kind = OperatorKind::from_name(base)?;
        if kind == OperatorKind::Null {
            return None;
        }
        Some(Operator {
            kind,
            set,
            if_exists: true,
        })
    }

    pub fn name(&self) -> String {
        let prefix = match self.set {
            Some(SetQualifier::ForAllValues) => "ForAllValues:",
            Some(SetQualifier::ForAnyValue) => "ForAnyValue:",
            None => "",
        };
        let suffix = if self.if_exists { "IfExists" } else { "" };
        format!("{prefix}{}{suffix}", self.kind.name())
    }
}

/// One key test inside a `Condition` block: operator, key and the policy's values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    pub operator: Operator,
    pub key: String,
    pub values: Vec<Template>,
}

impl Condition {
    /// Whether this condition holds for `context`.
    pub fn holds(&self, context: &Context) -> bool {
        let op = self.operator;
        if op.kind == OperatorKind::Null {
            return self.null_holds(context);
        }
        let present: Option<&[String]> = context
            .get(&self.key)
            .map(ContextValue::as_slice)
            .filter(|values| !values.is_empty());
        match (op.set, present) {
            (_, None) if op.if_exists => true,
            (None, None) => op.kind.is_negated(),
            (Some(SetQualifier::ForAnyValue), None) => false,
            (Some(SetQualifier::ForAllValues), None) => true,
            (Some(SetQualifier::ForAllValues), Some(values)) => {
                values.iter().all(|value| self.value_holds(value, context))
            }
            (Some(SetQualifier::ForAnyValue), Some(values)) => {
                values.iter().any(|value| self.value_holds(value, context))
            }
            // A set under a plain operator: AWS leaves this unspecified. Positive operators hold
            // when some member matches, negated ones when every member passes.
            (None, Some(values)) if op.kind.is_negated() => {
                values.iter().all(|value| self.value_holds(value, context))
            }
            (None, Some(values)) => values.iter().any(|value| self.value_holds(value, context)),
        }
    }

    /// The operator applied to one context value against all the policy's values (one member
    /// of a set, for the set operators).
    pub fn value_holds(&self, context_value: &str, variables: &dyn VariableSource) -> bool {
        let any_match = self.values.iter().any(|policy_value| {
            base_matches(self.operator.kind, context_value, policy_value, variables)
        });
        any_match != self.operator.kind.is_negated()
    }

    fn null_holds(&self, context: &Context) -> bool {
        let present = context
            .get(&self.key)
            .is_some_and(|value| !value.as_slice().is_empty());
        self.values.iter().any(|value| {
            match value
                .resolve_literal(context)
                .map(|v| v.to_ascii_lowercase())
            {
                Some(v) if v == "true" => !present,
                Some(v) if v == "false" => present,
                _ => false,
            }
        })
    }
}

/// The positive form of `kind` applied to one context value and one policy value.
fn base_matches(
    kind: OperatorKind,
    context_value: &str,
    policy_value: &Template,
    variables: &dyn VariableSource,
) -> bool {
    use OperatorKind::*;
    match kind {
        StringLike | StringNotLike => policy_value
            .resolve_glob(variables)
            .is_some_and(|glob| glob.matches(context_value)),
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
            policy_value.resolve_glob(variables).is_some_and(|glob| {
                context_value.splitn(6, ':').count() == 6 && glob.matches_arn(context_value)
            })
        }
        _ => match policy_value.resolve_literal(variables) {
            Some(policy_value) => literal_matches(kind, context_value, &policy_value),
            None => false,
        },
    }
}

fn literal_matches(kind: OperatorKind, context_value: &str, policy_value: &str) -> bool {
    use OperatorKind::*;
    match kind {
        StringEquals | StringNotEquals => context_value == policy_value,
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
            context_value.to_lowercase() == policy_value.to_lowercase()
        }
        NumericEquals | NumericNotEquals => {
            compare_numbers(context_value, policy_value, |o| o.is_eq())
        }
        NumericLessThan => compare_numbers(context_value, policy_value, |o| o.is_lt()),
        NumericLessThanEquals => compare_numbers(context_value, policy_value, |o| o.is_le()),
        NumericGreaterThan => compare_numbers(context_value, policy_value, |o| o.is_gt()),
        NumericGreaterThanEquals => compare_numbers(context_value, policy_value, |o| o.is_ge()),
        DateEquals | DateNotEquals => compare_dates(context_value, policy_value, |o| o.is_eq()),
        DateLessThan => compare_dates(context_value, policy_value, |o| o.is_lt()),
        DateLessThanEquals => compare_dates(context_value, policy_value, |o| o.is_le()),
        DateGreaterThan => compare_dates(context_value, policy_value, |o| o.is_gt()),
        DateGreaterThanEquals => compare_dates(context_value, policy_value, |o| o.is_ge()),
        Bool => context_value.eq_ignore_ascii_case(policy_value),
        BinaryEquals => context_value == policy_value,
        IpAddress | NotIpAddress => ip_in_range(context_value, policy_value),
        StringLike | StringNotLike | ArnEquals | ArnLike | ArnNotEquals | ArnNotLike | Null => {
            false
        }
    }
}

fn compare_numbers(
    context_value: &str,
    policy_value: &str,
    accept: impl Fn(std::cmp::Ordering) -> bool,
) -> bool {
    match (parse_number(context_value), parse_number(policy_value)) {
        (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(accept),
        _ => false,
    }
}

/// A numeric condition value: an integer or a decimal number.
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty()
        || !text
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
    {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn compare_dates(
    context_value: &str,
    policy_value: &str,
    accept: impl Fn(std::cmp::Ordering) -> bool,
) -> bool {
    match (
        parse_date_millis(context_value),
        parse_date_millis(policy_value),
    ) {
        (Some(a), Some(b)) => accept(a.cmp(&b)),
        _ => false,
    }
}

/// A date condition value as milliseconds since the epoch: ISO 8601 (with or without time and
/// offset) or epoch seconds.
pub fn parse_date_millis(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit() || c == '-')
        && !text[1..].contains('-')
    {
        return text.parse::<i64>().ok()?.checked_mul(1000);
    }
    if let Ok(instant) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(instant.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), format)
        {
            return Some(naive.and_utc().timestamp_millis());
        }
    }
    if let Ok(instant) = chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(instant.timestamp_millis());
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// Whether `address` lies in `range` (a CIDR block or a single address), IPv4 or IPv6.
pub fn ip_in_range(address: &str, range: &str) -> bool {
    let Ok(address) = address.trim().parse::<IpAddr>() else {
        return false;
    };
    match parse_ip_range(range) {
        Some(network) => network.contains(&address),
        None => false,
    }
}

/// A CIDR block or a single address as a network.
pub fn parse_ip_range(range: &str) -> Option<ipnet::IpNet> {
    let range = range.trim();
    if let Ok(network) = range.parse::<ipnet::IpNet>() {
        return Some(network.trunc());
    }
    range.parse::<IpAddr>().ok().map(ipnet::IpNet::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator: Operator::parse(op).expect("operator"),
            key: key.into(),
            values: values.iter().map(|v| Template::parse(v, true)).collect(),
        }
    }

    fn ctx(pairs: &[(&str, &str)]) -> Context {
        pairs.iter().fold(Context::new(), |c, (k, v)| c.with(k, v))
    }

    fn set_ctx(key: &str, values: &[&str]) -> Context {
        let mut c = Context::new();
        c.insert(
            key,
            ContextValue::Multi(values.iter().map(|s| s.to_string()).collect()),
        );
        c
    }

    #[test]
    fn operator_names_round_trip() {
        for name in [
            "StringLike",
            "ForAllValues:StringEqualsIfExists",
            "ForAnyValue:ArnLike",
            "Null",
        ] {
            assert_eq!(Operator::parse(name).unwrap().name(), name);
        }
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(Operator::parse("stringequals").is_none());
    }

    #[test]
    fn missing_keys() {
        let empty = Context::new();
        assert!(!cond("StringEquals", "k", &["a"]).holds(&empty));
        assert!(cond("StringNotEquals", "k", &["a"]).holds(&empty));
        assert!(cond("StringEqualsIfExists", "k", &["a"]).holds(&empty));
        assert!(cond("StringNotEqualsIfExists", "k", &["a"]).holds(&empty));
        assert!(cond("ForAllValues:StringEquals", "k", &["a"]).holds(&empty));
        assert!(!cond("ForAnyValue:StringEquals", "k", &["a"]).holds(&empty));
        assert!(cond("Null", "k", &["true"]).holds(&empty));
        assert!(!cond("Null", "k", &["false"]).holds(&empty));
    }

    #[test]
    fn strings() {
        let c = ctx(&[("aws:username", "Alice")]);
        assert!(cond("StringEquals", "aws:username", &["bob", "Alice"]).holds(&c));
        assert!(!cond("StringEquals", "aws:username", &["alice"]).holds(&c));
        assert!(cond("StringEqualsIgnoreCase", "AWS:UserName", &["alice"]).holds(&c));
        assert!(cond("StringNotEquals", "aws:username", &["bob"]).holds(&c));
        assert!(!cond("StringNotEquals", "aws:username", &["bob", "Alice"]).holds(&c));
        assert!(cond("StringLike", "aws:username", &["A*"]).holds(&c));
        assert!(!cond("StringLike", "aws:username", &["a*"]).holds(&c));
        assert!(cond("StringNotLike", "aws:username", &["b*"]).holds(&c));
        assert!(!cond("StringNotEqualsIgnoreCase", "aws:username", &["ALICE"]).holds(&c));
    }

    #[test]
    fn numbers() {
        let c = ctx(&[("s3:max-keys", "10")]);
        assert!(cond("NumericLessThan", "s3:max-keys", &["11"]).holds(&c));
        assert!(!cond("NumericLessThan", "s3:max-keys", &["10"]).holds(&c));
        assert!(cond("NumericLessThanEquals", "s3:max-keys", &["10"]).holds(&c));
        assert!(cond("NumericGreaterThan", "s3:max-keys", &["9.5"]).holds(&c));
        assert!(cond("NumericGreaterThanEquals", "s3:max-keys", &["10.0"]).holds(&c));
        assert!(cond("NumericEquals", "s3:max-keys", &["10"]).holds(&c));
        assert!(cond("NumericNotEquals", "s3:max-keys", &["11"]).holds(&c));
        assert!(!cond("NumericEquals", "s3:max-keys", &["ten"]).holds(&c));
    }

    #[test]
    fn dates_compare_instants_across_formats() {
        let c = ctx(&[("aws:CurrentTime", "2023-01-01T00:00:00Z")]);
        assert!(cond("DateLessThan", "aws:CurrentTime", &["1700000000"]).holds(&c));
        assert!(cond("DateGreaterThan", "aws:CurrentTime", &["2022-12-31"]).holds(&c));
        assert!(cond(
            "DateEquals",
            "aws:CurrentTime",
            &["2023-01-01T01:00:00+01:00"]
        )
        .holds(&c));
        assert!(cond(
            "DateLessThanEquals",
            "aws:CurrentTime",
            &["2023-01-01T00:00:00Z"]
        )
        .holds(&c));
        assert!(!cond(
            "DateGreaterThanEquals",
            "aws:CurrentTime",
            &["2023-01-01T00:00:01Z"]
        )
        .holds(&c));
        assert!(cond("DateNotEquals", "aws:CurrentTime", &["2024-01-01"]).holds(&c));
        let epoch = ctx(&[("aws:EpochTime", "1672531200")]);
        assert!(cond("DateEquals", "aws:EpochTime", &["2023-01-01T00:00:00Z"]).holds(&epoch));
    }

    #[test]
    fn bools_binaries_and_ips() {
        let c = ctx(&[
            ("aws:SecureTransport", "true"),
            ("aws:SourceIp", "203.0.113.9"),
            ("k", "QUJD"),
        ]);
        assert!(cond("Bool", "aws:SecureTransport", &["TRUE"]).holds(&c));
        assert!(!cond("Bool", "aws:SecureTransport", &["false"]).holds(&c));
        assert!(cond("BinaryEquals", "k", &["QUJD"]).holds(&c));
        assert!(cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]).holds(&c));
        assert!(cond("IpAddress", "aws:SourceIp", &["203.0.113.9"]).holds(&c));
        assert!(!cond("IpAddress", "aws:SourceIp", &["198.51.100.0/24"]).holds(&c));
        assert!(cond("NotIpAddress", "aws:SourceIp", &["198.51.100.0/24"]).holds(&c));
        assert!(!cond("IpAddress", "aws:SourceIp", &["2001:db8::/32"]).holds(&c));
        let v6 = ctx(&[("aws:SourceIp", "2001:db8::1")]);
        assert!(cond("IpAddress", "aws:SourceIp", &["2001:db8::/32"]).holds(&v6));
    }

    #[test]
    fn arns_match_per_segment() {
        let c = ctx(&[(
            "aws:SourceArn",
            "arn:aws:mediaconvert:us-east-1:111122223333:queues/Default",
        )]);
        assert!(cond(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:mediaconvert:*:111122223333:queues/*"]
        )
        .holds(&c));
        assert!(!cond(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:mediaconvert:*:444455556666:*"]
        )
        .holds(&c));
        assert!(cond("ArnNotLike", "aws:SourceArn", &["arn:aws:s3:::*"]).holds(&c));
        assert!(cond(
            "ArnEquals",
            "aws:SourceArn",
            &["arn:aws:mediaconvert:us-east-1:111122223333:queues/Default"]
        )
        .holds(&c));
        let not_arn = ctx(&[("aws:SourceArn", "queues/Default")]);
        assert!(!cond("ArnLike", "aws:SourceArn", &["*"]).holds(&not_arn));
    }

    #[test]
    fn set_operators() {
        let c = set_ctx("aws:TagKeys", &["a", "b"]);
        assert!(cond("ForAllValues:StringEquals", "aws:TagKeys", &["a", "b", "c"]).holds(&c));
        assert!(!cond("ForAllValues:StringEquals", "aws:TagKeys", &["a"]).holds(&c));
        assert!(cond("ForAnyValue:StringEquals", "aws:TagKeys", &["b"]).holds(&c));
        assert!(!cond("ForAnyValue:StringEquals", "aws:TagKeys", &["z"]).holds(&c));
        assert!(cond("ForAllValues:StringNotEquals", "aws:TagKeys", &["z"]).holds(&c));
        assert!(cond("ForAnyValue:StringNotEquals", "aws:TagKeys", &["a"]).holds(&c));
        let empty = set_ctx("aws:TagKeys", &[]);
        assert!(cond("ForAllValues:StringEquals", "aws:TagKeys", &["a"]).holds(&empty));
        assert!(!cond("ForAnyValue:StringEquals", "aws:TagKeys", &["a"]).holds(&empty));
    }

    #[test]
    fn variables_in_values() {
        let c = ctx(&[("aws:username", "alice"), ("s3:prefix", "home/alice/docs")]);
        assert!(cond("StringLike", "s3:prefix", &["home/${aws:username}/*"]).holds(&c));
        // An unresolved variable matches nothing: positive false, negated true.
        assert!(!cond(
            "StringLike",
            "s3:prefix",
            &["home/${aws:PrincipalTag/team}/*"]
        )
        .holds(&c));
        assert!(cond(
            "StringNotLike",
            "s3:prefix",
            &["home/${aws:PrincipalTag/team}/*"]
        )
        .holds(&c));
    }
}
