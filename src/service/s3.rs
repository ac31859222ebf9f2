//! Amazon S3 as a technique: a bucket policy rewritten by a principal of the bucket's
//! account. AWS lets only the owner account's principals set a bucket policy
//! (PutBucketPolicy, https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html).

use super::technique::{on_target, Edit, Gain, Targets, Technique};

pub const TECHNIQUES: &[Technique] = &[Technique {
    id: "s3-put-bucket-policy",
    step: "bucket policy rewritten on",
    summary: "rewrites the bucket policy to allow its account's principals",
    targets: Targets::Bucket,
    needs: &[on_target("s3:PutBucketPolicy")],
    gain: Gain::Edits(Edit::RewriteResourcePolicy),
    assumes: &[],
    sets_source: false,
}];
