//! What AWS KMS does with a key beyond its policy: a key that is not enabled refuses every
//! cryptographic operation, whatever the policies allow ("Key states of AWS KMS keys",
//! https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html), and resource control
//! policies do not apply to AWS managed keys ("Resource control policies in AWS KMS",
//! https://docs.aws.amazon.com/kms/latest/developerguide/resource-control-policy.html).

/// The operations a key refuses unless it is enabled (the key-state table's cryptographic
/// operations, and `CreateGrant`).
pub const CRYPTOGRAPHIC_OPERATIONS: &[&str] = &[
    "kms:decrypt",
    "kms:encrypt",
    "kms:generatedatakey",
    "kms:generatedatakeypair",
    "kms:generatedatakeypairwithoutplaintext",
    "kms:generatedatakeywithoutplaintext",
    "kms:generatemac",
    "kms:verifymac",
    "kms:reencryptfrom",
    "kms:reencryptto",
    "kms:sign",
    "kms:verify",
    "kms:derivesharedsecret",
    "kms:creategrant",
];

/// The one key state in which a key serves cryptographic operations.
pub const USABLE_STATE: &str = "Enabled";

/// Whether `action` is refused by a key that is not enabled.
pub fn needs_enabled_key(action: &str) -> bool {
    CRYPTOGRAPHIC_OPERATIONS.contains(&action.to_ascii_lowercase().as_str())
}

/// Alias names that only AWS managed keys carry.
pub const AWS_MANAGED_ALIAS_PREFIX: &str = "alias/aws/";
