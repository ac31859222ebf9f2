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

/// KMS as a technique: a key policy rewritten by a principal of the key's account
/// (PutKeyPolicy is not allowed across accounts), or a grant a principal creates for its own
/// account where a key policy lets it (CreateGrant,
/// https://docs.aws.amazon.com/kms/latest/developerguide/grants.html).
pub const TECHNIQUES: &[super::technique::Technique] = &[
    super::technique::Technique {
        id: "kms-put-key-policy",
        step: "key policy rewritten on",
        summary: "rewrites the key policy to allow its account's principals",
        targets: super::technique::Targets::Key {
            other_accounts: false,
        },
        needs: &[super::technique::on_target("kms:PutKeyPolicy")],
        gain: super::technique::Gain::Edits(super::technique::Edit::RewriteResourcePolicy),
        assumes: &[],
        sets_source: false,
    },
    super::technique::Technique {
        id: "kms-create-grant",
        step: "grant created on",
        summary: "creates a grant of the key's grant operations for its account",
        targets: super::technique::Targets::Key {
            other_accounts: true,
        },
        needs: &[super::technique::on_target("kms:CreateGrant")],
        gain: super::technique::Gain::Edits(super::technique::Edit::GrantKeyUse),
        assumes: &["the grant's operations are those KMS allows in grants"],
        sets_source: false,
    },
];

/// The operations a grant may allow ("Grant operations",
/// https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grant-operations).
pub const GRANT_OPERATIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:Sign",
    "kms:Verify",
    "kms:GetPublicKey",
    "kms:GenerateMac",
    "kms:VerifyMac",
    "kms:DeriveSharedSecret",
    "kms:DescribeKey",
    "kms:CreateGrant",
    "kms:RetireGrant",
];
