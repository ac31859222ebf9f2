//! The request context of each hop of a chain: which condition keys AWS sets, to which value,
//! which the caller chooses, and which are absent.
//!
//! The evaluator is exact once it is given a request; what a chain needs is the request AWS
//! would really build on each hop. A key of a hop is in one of four classes ([`KeyClass`]):
//! - set by AWS from facts the model holds (the principal's ARN, type, id and tags; the
//!   resource's account; what a service adds to its own calls; the clock): the planner puts the
//!   value in the hop, and a key it does not put there is absent;
//! - set by AWS to a fact the snapshots do not record (a person's source address, the
//!   organization id, VPC endpoints): free, and a witness that relies on its value says so;
//! - chosen by the caller (request headers and parameters, session names and tags at
//!   `AssumeRole`): free;
//! - absent: keys AWS sets only in other situations (MFA on sessions a service creates, a
//!   service's network, the caller's VPC on a forwarded call).
//!
//! Which class a key is in depends on who makes the call ([`Origin`]): a principal with
//! credentials it holds, a service with a role session it made for itself, a service
//! principal, or a service forwarding the caller's credentials (S3 calling KMS for an SSE-KMS
//! write). The facts behind each rule are AWS's "AWS global condition context keys" page
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)
//! and its "Forward access sessions" page
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html).
//!
//! Time is one clock per question: `aws:CurrentTime` and `aws:EpochTime` are the same instant
//! on every hop ([`Clock`]).

use crate::policy::Context;

/// Who makes a hop's request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A principal's own call with credentials it holds: a user's keys, or a session of a role
    /// it assumed.
    Own,
    /// A service's call with a session of a role it assumed for itself (a MediaConvert job
    /// writing its output with the job's role).
    ServiceRole,
    /// A service principal's own call (MediaConvert assuming the job's role).
    Service,
    /// A service's call with the caller's credentials, on the caller's behalf (a forward access
    /// session: S3 calling KMS for an SSE-KMS write). `of_service_session` when those
    /// credentials are a session a service made for itself (a job's write), which carries no
    /// person's sign-in or network.
    Forwarded { of_service_session: bool },
}

impl Origin {
    /// Whether a service, not a person, stands at the start of the call: then nothing about a
    /// person's network or sign-in reaches it.
    pub fn is_service_made(&self) -> bool {
        matches!(
            self,
            Origin::ServiceRole
                | Origin::Service
                | Origin::Forwarded {
                    of_service_session: true
                }
        )
    }
}

/// The class of one condition key on one hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyClass {
    /// AWS sets it from facts of the model; the hop fixes its value, or it is absent.
    Fact,
    /// AWS sets it to a fact the snapshots do not record: free, stated as an assumption.
    Unrecorded,
    /// The caller chooses it: free.
    CallerChosen,
    /// Not in the request.
    Absent,
}

impl KeyClass {
    /// Whether the solver may choose the key's value when the hop does not fix it.
    pub fn is_free(self) -> bool {
        matches!(self, KeyClass::Unrecorded | KeyClass::CallerChosen)
    }
}

/// Keys whose value follows from the principal, the resource, the service or the clock: the
/// hop fixes them, else they are absent.
const FACT_PREFIXES: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:principaltag/",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:username",
    "aws:userid",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:resourceaccount",
    "aws:resourcetag/",
    "iam:resourcetag/",
    "s3:resourceaccount",
    "aws:calledvia",
    "aws:viaawsservice",
    "kms:calleraccount",
    "kms:viaservice",
    "iam:passedtoservice",
    "aws:federatedprovider",
    "aws:currenttime",
    "aws:epochtime",
];

/// Keys KMS sets from the key's own properties.
const KMS_KEY_PROPERTIES: &[&str] = &[
    "kms:keyorigin",
    "kms:keyspec",
    "kms:keyusage",
    "kms:multiregion",
    "kms:multiregionkeytype",
    "kms:resourcealiases",
    "kms:keyagreementalgorithm",
];

/// Whether KMS sets `key` from the key's own properties.
pub fn is_key_property(key: &str) -> bool {
    KMS_KEY_PROPERTIES.contains(&key.to_ascii_lowercase().as_str())
}

/// Keys AWS sets from facts the snapshots do not record, on a principal's own calls.
const UNRECORDED_OWN: &[&str] = &[
    "aws:sourceip",
    "aws:vpcsourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:tokenissuetime",
];

/// Keys about the caller's network and sign-in: a service's calls carry none of the caller's.
const CALLERS_ORIGIN: &[&str] = &[
    "aws:sourceip",
    "aws:vpcsourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:referer",
    "aws:sourceidentity",
];

/// Keys set only where a caller establishes a session (`sts:AssumeRole` and its kin).
const SESSION_REQUEST_KEYS: &[&str] = &[
    "sts:rolesessionname",
    "sts:sourceidentity",
    "sts:transitivetagkeys",
    "aws:requesttag/",
    "aws:tagkeys",
];

fn starts_with_any(key: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| key.starts_with(p))
}

/// The class of `key` on a hop of `origin` that makes `action`.
pub fn classify(key: &str, origin: &Origin, action: &str) -> KeyClass {
    let key = key.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    if is_identity_claim(&key, &action) {
        return KeyClass::CallerChosen;
    }
    let class = classify_by_origin(&key, origin, &action);
    if class == KeyClass::CallerChosen && !takes_lowercase(&action, &key) {
        return KeyClass::Absent;
    }
    class
}

/// Whether `key` is a claim of the token or assertion a federated caller presents: the
/// provider's keys (`token.actions.githubusercontent.com:sub`, `accounts.google.com:aud`) on
/// `sts:AssumeRoleWithWebIdentity`, the `saml:` keys on `sts:AssumeRoleWithSAML` ("Available
/// keys for AWS OIDC federation" and "for SAML-based AWS STS federation",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html).
/// The provider issues them, to whoever it signs in: free, as far as the policies can tell.
fn is_identity_claim(key: &str, action: &str) -> bool {
    let oidc = || {
        key.rsplit_once(':')
            .is_some_and(|(provider, _)| provider.contains('.'))
    };
    match action {
        "sts:assumerolewithwebidentity" => oidc(),
        "sts:assumerolewithsaml" => key.starts_with("saml:"),
        // Checked in the same call as the federated one, on the same token or assertion.
        "sts:tagsession" | "sts:setsourceidentity" => oidc() || key.starts_with("saml:"),
        _ => false,
    }
}

/// Claims every token or assertion carries, whatever the provider: a witness must give them a
/// value (an OIDC token's subject and audience; a SAML assertion's audience, issuer and
/// subject).
pub fn always_claimed(key: &str, action: &str) -> bool {
    let key = key.to_ascii_lowercase();
    match action.to_ascii_lowercase().as_str() {
        "sts:assumerolewithwebidentity" => {
            is_identity_claim(&key, "sts:assumerolewithwebidentity")
                && (key.ends_with(":sub") || key.ends_with(":aud"))
        }
        "sts:assumerolewithsaml" => {
            matches!(
                key.as_str(),
                "saml:aud" | "saml:iss" | "saml:sub" | "saml:sub_type"
            )
        }
        _ => false,
    }
}

/// Whether `action` takes the service-specific condition key `key`, by the service
/// authorization reference: a request carries only the keys its action takes. Global keys
/// (`aws:`) and actions the reference does not define are taken to take any key.
pub fn action_takes(action: &str, key: &str) -> bool {
    takes_lowercase(&action.to_ascii_lowercase(), &key.to_ascii_lowercase())
}

/// [`action_takes`], on names already in lowercase.
fn takes_lowercase(action: &str, key: &str) -> bool {
    if key.starts_with("aws:") {
        return true;
    }
    thread_local! {
        static KEYS: std::cell::RefCell<std::collections::HashMap<String, Option<Vec<crate::policy::pattern::Glob>>>> =
            Default::default();
    }
    KEYS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let globs = cache.entry(action.to_string()).or_insert_with(|| {
            let reference = crate::service::reference::bundled().ok()?;
            let defined = reference.action(action)?;
            Some(
                reference
                    .condition_keys(defined)
                    .iter()
                    .map(|k| crate::service::reference::arn_format_glob(&k.to_ascii_lowercase()))
                    .collect(),
            )
        });
        match globs {
            Some(globs) => globs.iter().any(|glob| glob.matches(key)),
            None => true,
        }
    })
}

/// [`classify`] before the service reference has its say, on names in lowercase.
fn classify_by_origin(key: &str, origin: &Origin, action: &str) -> KeyClass {
    // A principal that passes a role names the service and the resource itself; one that
    // calls KMS directly may name any service endpoint it reaches KMS through.
    if origin == &Origin::Own {
        if action == "iam:passrole"
            && (key == "iam:passedtoservice" || key == "iam:associatedresourcearn")
        {
            return KeyClass::CallerChosen;
        }
        if action.starts_with("kms:") && key == "kms:viaservice" {
            return KeyClass::CallerChosen;
        }
    }
    if UNRECORDED_OWN.contains(&key) && origin == &Origin::Own {
        return KeyClass::Unrecorded;
    }
    if starts_with_any(key, FACT_PREFIXES) {
        return KeyClass::Fact;
    }
    // The tags of a session being made are the search's choice of session (with the
    // sts:TagSession hop it needs); no tags chosen, none in the request.
    if action.starts_with("sts:assumerole")
        && (key.starts_with("aws:requesttag/")
            || key == "aws:tagkeys"
            || key == "sts:transitivetagkeys")
    {
        return KeyClass::Fact;
    }
    // Properties of a KMS key that describe-key shows but the model does not keep.
    if KMS_KEY_PROPERTIES.contains(&key) {
        return KeyClass::Unrecorded;
    }
    // S3 names the object (or, with a Bucket Key, the bucket) in the encryption context of
    // its calls to KMS; a caller calling KMS itself names what it likes.
    if key == "kms:encryptioncontext:aws:s3:arn" && origin != &Origin::Own {
        return KeyClass::Fact;
    }
    match origin {
        Origin::Own => KeyClass::CallerChosen,
        Origin::Forwarded { of_service_session } => {
            // The caller's credentials carry its sign-in and its address; the forwarding
            // service's network is its own.
            if *of_service_session && CALLERS_ORIGIN.contains(&key) {
                KeyClass::Absent
            } else if matches!(
                key,
                "aws:sourceip" | "aws:multifactorauthpresent" | "aws:multifactorauthage"
            ) || key == "aws:tokenissuetime"
                || key.starts_with("aws:principalorg")
                || key.starts_with("aws:resourceorg")
            {
                KeyClass::Unrecorded
            } else if CALLERS_ORIGIN.contains(&key) {
                KeyClass::Absent
            } else if key == "aws:requestedregion" || key == "aws:useragent" {
                KeyClass::Unrecorded
            } else if starts_with_any(key, SESSION_REQUEST_KEYS) {
                KeyClass::Absent
            } else {
                KeyClass::CallerChosen
            }
        }
        Origin::ServiceRole | Origin::Service => {
            if CALLERS_ORIGIN.contains(&key) {
                // aws:SourceIp is fixed by the planner to a service address; left unfixed it
                // is absent.
                KeyClass::Absent
            } else if key == "aws:tokenissuetime"
                || key.starts_with("aws:principalorg")
                || key.starts_with("aws:resourceorg")
                || key == "aws:useragent"
                || key == "aws:requestedregion"
                // The name a service gives the session it makes is its own, undocumented.
                || origin == &Origin::Service && key == "sts:rolesessionname"
            {
                KeyClass::Unrecorded
            } else if starts_with_any(key, SESSION_REQUEST_KEYS) {
                KeyClass::Absent
            } else {
                // The request's own parameters, which the job's settings (the caller's
                // choice) determine.
                KeyClass::CallerChosen
            }
        }
    }
}

/// Unrecorded keys a witness relied on: each becomes an assumption of the answer.
pub fn assumption_for(key: &str, origin: &Origin, action: &str) -> Option<String> {
    if classify(key, origin, action) != KeyClass::Unrecorded {
        return None;
    }
    Some(format!(
        "{key} is not recorded in the snapshots; the witness picks its value"
    ))
}

/// What AWS always sets on a service's calls: they use TLS, and they say whether the caller's
/// credentials were forwarded.
pub fn service_facts(origin: &Origin, forwarding_service: Option<&str>) -> Context {
    match origin {
        Origin::Own => Context::new().with("aws:ViaAWSService", "false"),
        Origin::Forwarded { .. } => {
            let mut context = Context::new()
                .with("aws:ViaAWSService", "true")
                .with("aws:SecureTransport", "true");
            if origin.is_service_made() {
                context = context.with("aws:MultiFactorAuthPresent", "false");
            }
            if let Some(service) = forwarding_service {
                context.insert(
                    "aws:CalledVia",
                    crate::policy::ContextValue::Multi(vec![service.to_string()]),
                );
                context = context
                    .with("aws:CalledViaFirst", service)
                    .with("aws:CalledViaLast", service);
            }
            context
        }
        // A session a service made for itself is temporary credentials signed in without
        // MFA: the key is present, and false.
        Origin::ServiceRole => Context::new()
            .with("aws:ViaAWSService", "false")
            .with("aws:SecureTransport", "true")
            .with("aws:MultiFactorAuthPresent", "false"),
        Origin::Service => Context::new()
            .with("aws:ViaAWSService", "false")
            .with("aws:SecureTransport", "true"),
    }
}

/// An address of AWS's own networks (Amazon's 52.94.0.0/22) that stands for where a
/// service's call comes from when the policies name only ranges no AWS address is in.
pub const SERVICE_ADDRESS: &str = "52.94.0.10";

/// Whether no AWS address can lie in `range`: private (RFC 1918, RFC 6598, unique local),
/// loopback, link-local and documentation ranges (RFC 5737, RFC 3849).
pub fn is_never_aws_range(range: &ipnet::IpNet) -> bool {
    const NEVER: &[&str] = &[
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
        "2001:db8::/32",
    ];
    NEVER
        .iter()
        .filter_map(|text| text.parse::<ipnet::IpNet>().ok())
        .any(|never| never.contains(range))
}

/// The longest any temporary credentials live: 36 hours (GetSessionToken and
/// GetFederationToken; a role session lasts at most 12 hours). A session in use now was issued
/// at most this long ago ("Compare AWS STS credentials",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html).
pub const LONGEST_SESSION_MS: i64 = 36 * 3600 * 1000;

/// The instant of a question: one clock for every hop of every chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub at: chrono::DateTime<chrono::Utc>,
    /// Where the instant comes from, for the answer to say.
    pub source: ClockSource,
}

/// Where a question's instant comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockSource {
    /// `--at`.
    Given,
    /// The time the snapshot was collected.
    Snapshot,
    /// The time of the run.
    Now,
}

impl Clock {
    /// The instant given with `--at`, else the one the snapshots were collected at, else now.
    pub fn of(
        given: Option<chrono::DateTime<chrono::Utc>>,
        collected: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Clock {
        match (given, collected) {
            (Some(at), _) => Clock {
                at,
                source: ClockSource::Given,
            },
            (None, Some(at)) => Clock {
                at,
                source: ClockSource::Snapshot,
            },
            (None, None) => Clock {
                at: chrono::DateTime::from(std::time::SystemTime::now()),
                source: ClockSource::Now,
            },
        }
    }

    /// Parses an ISO 8601 instant (`2026-12-03T17:00:00Z`) or a date (`2026-12-03`, midnight).
    pub fn parse(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
            return Some(at.with_timezone(&chrono::Utc));
        }
        let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        Some(date.and_hms_opt(0, 0, 0)?.and_utc())
    }

    /// `aws:CurrentTime` and `aws:EpochTime`.
    pub fn context(&self) -> Context {
        Context::new()
            .with(
                "aws:CurrentTime",
                &self.at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            )
            .with("aws:EpochTime", &self.at.timestamp().to_string())
    }

    /// Whether `key` is read from the clock.
    pub fn is_clock_key(key: &str) -> bool {
        key.eq_ignore_ascii_case("aws:CurrentTime") || key.eq_ignore_ascii_case("aws:EpochTime")
    }

    /// The sentence an answer carries when a policy it rests on reads the time.
    pub fn statement(&self) -> String {
        let source = match self.source {
            ClockSource::Given => "given with --at",
            ClockSource::Snapshot => "when the snapshot was collected",
            ClockSource::Now => "the time of the run",
        };
        format!(
            "aws:CurrentTime is {} ({source})",
            self.at.format("%Y-%m-%dT%H:%M:%SZ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_s_own_session_has_no_mfa_and_no_customer_network() {
        for key in [
            "aws:MultiFactorAuthPresent",
            "aws:SourceVpce",
            "aws:SourceIp",
        ] {
            assert_eq!(
                classify(key, &Origin::ServiceRole, "s3:PutObject"),
                KeyClass::Absent
            );
            assert_eq!(
                classify(key, &Origin::Service, "sts:AssumeRole"),
                KeyClass::Absent
            );
        }
        assert!(classify("aws:MultiFactorAuthPresent", &Origin::Own, "s3:PutObject").is_free());
    }

    #[test]
    fn a_person_s_address_is_unrecorded_and_headers_are_chosen() {
        assert_eq!(
            classify("aws:SourceIp", &Origin::Own, "s3:PutObject"),
            KeyClass::Unrecorded
        );
        assert_eq!(
            classify("s3:x-amz-acl", &Origin::Own, "s3:PutObject"),
            KeyClass::CallerChosen
        );
        assert_eq!(
            classify("aws:PrincipalTag/team", &Origin::Own, "s3:PutObject"),
            KeyClass::Fact
        );
    }

    #[test]
    fn a_forwarded_call_keeps_the_callers_sign_in_but_not_its_vpc() {
        assert!(classify(
            "aws:SourceIp",
            &Origin::Forwarded {
                of_service_session: false
            },
            "kms:GenerateDataKey"
        )
        .is_free());
        assert_eq!(
            classify(
                "aws:SourceVpce",
                &Origin::Forwarded {
                    of_service_session: false
                },
                "kms:GenerateDataKey"
            ),
            KeyClass::Absent
        );
        let facts = service_facts(
            &Origin::Forwarded {
                of_service_session: false,
            },
            Some("s3.amazonaws.com"),
        );
        assert_eq!(
            facts
                .get("aws:ViaAWSService")
                .map(|v| v.as_slice().to_vec()),
            Some(vec!["true".to_string()])
        );
    }

    #[test]
    fn a_request_carries_only_the_keys_its_action_takes() {
        // S3 API Reference, PutObject: x-amz-acl is a header of object writes; an AssumeRole
        // request has no such parameter (Service Authorization Reference, AWS STS).
        assert_eq!(
            classify("s3:x-amz-acl", &Origin::Own, "s3:PutObject"),
            KeyClass::CallerChosen
        );
        assert_eq!(
            classify("s3:x-amz-acl", &Origin::Own, "sts:AssumeRole"),
            KeyClass::Absent
        );
        assert!(action_takes(
            "kms:GenerateDataKey",
            "kms:EncryptionContext:Department"
        ));
        assert!(action_takes("madeup:Action", "madeup:Key"));
    }

    #[test]
    fn the_clock_is_one_instant_in_both_forms() {
        let at = Clock::parse("2026-12-03T17:00:00Z").unwrap();
        let clock = Clock {
            at,
            source: ClockSource::Given,
        };
        let context = clock.context();
        assert_eq!(
            context.get("aws:EpochTime").unwrap().as_slice(),
            ["1796317200".to_string()]
        );
        assert!(Clock::parse("yesterday").is_none());
        assert_eq!(
            Clock::parse("2026-12-03"),
            Clock::parse("2026-12-03T00:00:00Z")
        );
    }
}
