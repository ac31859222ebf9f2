//! Property tests of the policy language and the evaluator: laws that must hold for any
//! input, checked on random ones.

use iamproof::eval::{evaluate, Decision, NamedPolicy, PolicySet, Principal, Request};
use iamproof::policy::pattern::Glob;
use iamproof::policy::{Context, Policy};
use proptest::prelude::*;
use serde_json::json;

fn small_text() -> impl Strategy<Value = String> {
    "[a-c/:]{0,8}"
}

proptest! {
    #[test]
    fn a_literal_pattern_matches_exactly_itself(text in small_text(), other in small_text()) {
        let glob = Glob::parse(&text);
        prop_assert!(glob.matches(&text));
        prop_assert_eq!(glob.matches(&other), text == other);
    }

    #[test]
    fn a_star_matches_any_infix(prefix in small_text(), infix in small_text(), suffix in small_text()) {
        let glob = Glob::parse(&format!("{prefix}*{suffix}"));
        let text = format!("{prefix}{infix}{suffix}");
        prop_assert!(glob.matches(&text));
    }

    #[test]
    fn question_marks_match_exactly_one_character(text in "[a-c]{1,8}") {
        let glob = Glob::parse(&"?".repeat(text.chars().count()));
        prop_assert!(glob.matches(&text));
        let longer = format!("{text}x");
        prop_assert!(!glob.matches(&longer));
    }

    /// `Action` elements index their patterns by service; the index must never change what an
    /// element covers.
    #[test]
    fn an_action_element_covers_what_its_patterns_match(
        patterns in proptest::collection::vec("[sSkK*?:\u{212A}]{0,5}", 0..6),
        action in "[sSkK:\u{212A}]{0,5}",
        negated in any::<bool>(),
    ) {
        let element = if negated { "NotAction" } else { "Action" };
        let policy = Policy::from_value(&json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", element: patterns, "Resource": "*"}}));
        // An empty list is refused by the parser; nothing to compare then.
        if let Ok(policy) = policy {
            let scanned = patterns.iter().any(|p| Glob::parse(p).matches_ignore_case(&action));
            prop_assert_eq!(policy.statements[0].action.covers(&action), scanned != negated);
        }
    }

    #[test]
    fn negated_string_operators_are_complements_on_present_keys(value in "[a-c]{0,4}", policy_value in "[a-c*?]{0,4}") {
        for (positive, negative) in [("StringEquals", "StringNotEquals"), ("StringLike", "StringNotLike"),
                                     ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase")] {
            let holds = |op: &str| {
                let policy = Policy::from_value(&json!({"Version": "2012-10-17", "Statement": {
                    "Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {op: {"k": policy_value}}}})).unwrap();
                policy.statements[0].conditions_hold(&Context::new().with("k", &value))
            };
            prop_assert_ne!(holds(positive), holds(negative));
        }
    }
}

fn statement() -> impl Strategy<Value = serde_json::Value> {
    let effect = prop_oneof![Just("Allow"), Just("Deny")];
    let action = prop_oneof![
        Just("s3:*"),
        Just("s3:Get*"),
        Just("s3:PutObject"),
        Just("*"),
        Just("kms:*")
    ];
    let resource = prop_oneof![
        Just("*"),
        Just("arn:aws:s3:::media-out/*"),
        Just("arn:aws:s3:::finance/*")
    ];
    (effect, action, resource, any::<bool>()).prop_map(|(effect, action, resource, negate)| {
        let action_key = if negate { "NotAction" } else { "Action" };
        json!({"Effect": effect, action_key: action, "Resource": resource})
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    prop::collection::vec(statement(), 1..4).prop_map(|statements| {
        Policy::from_value(&json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
    })
}

fn call() -> impl Strategy<Value = Request> {
    let action = prop_oneof![
        Just("s3:GetObject"),
        Just("s3:PutObject"),
        Just("kms:Decrypt")
    ];
    let resource = prop_oneof![
        Just("arn:aws:s3:::media-out/a"),
        Just("arn:aws:s3:::finance/b")
    ];
    (action, resource).prop_map(|(action, resource)| Request {
        principal: Principal::parse("arn:aws:iam::111122223333:user/alice").unwrap(),
        action: action.to_string(),
        resource: resource.to_string(),
        resource_account: Some("111122223333".into()),
        context: Context::new(),
    })
}

fn rank(decision: Decision) -> u8 {
    match decision {
        Decision::ExplicitlyDenied => 0,
        Decision::ImplicitlyDenied => 1,
        Decision::Allowed => 2,
    }
}

proptest! {
    #[test]
    fn adding_a_boundary_never_grants_more(identity in policy(), boundary in policy(), request in call()) {
        let without = PolicySet { identity: vec![NamedPolicy::new("identity", identity)], ..PolicySet::default() };
        let with = PolicySet { boundaries: vec![NamedPolicy::new("boundary", boundary)], ..without.clone() };
        prop_assert!(rank(evaluate(&request, &with).decision) <= rank(evaluate(&request, &without).decision));
    }

    #[test]
    fn adding_an_identity_policy_never_turns_allow_into_implicit_deny(first in policy(), second in policy(), request in call()) {
        let one = PolicySet { identity: vec![NamedPolicy::new("a", first)], ..PolicySet::default() };
        let mut two = one.clone();
        two.identity.push(NamedPolicy::new("b", second));
        let before = evaluate(&request, &one).decision;
        let after = evaluate(&request, &two).decision;
        if before == Decision::Allowed {
            prop_assert_ne!(after, Decision::ImplicitlyDenied);
        }
        if before == Decision::ExplicitlyDenied {
            prop_assert_eq!(after, Decision::ExplicitlyDenied);
        }
    }

    #[test]
    fn allowed_decisions_name_the_statements_they_rest_on(identity in policy(), request in call()) {
        let policies = PolicySet { identity: vec![NamedPolicy::new("identity", identity)], ..PolicySet::default() };
        let evaluation = evaluate(&request, &policies);
        prop_assert_eq!(evaluation.decision == Decision::Allowed, !evaluation.allowed_by.is_empty());
    }
}
