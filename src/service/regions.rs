//! The AWS Regions of each partition, as AWS lists them ("AWS Regions and Availability
//! Zones", https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).
//!
//! A service that exists in every region (a MediaConvert `Default` queue, an STS endpoint) can
//! be called in any of them, so a search that asks "in which region?" must try one region of
//! every kind the policies tell apart, not only the snapshot's own region.

/// The regions of the `aws` partition.
const COMMERCIAL: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
];

const CHINA: &[&str] = &["cn-north-1", "cn-northwest-1"];

const GOVCLOUD: &[&str] = &["us-gov-west-1", "us-gov-east-1"];

/// The regions of a partition (`aws`, `aws-cn`, `aws-us-gov`); the commercial ones for any
/// other name.
pub fn of_partition(partition: &str) -> &'static [&'static str] {
    match partition {
        "aws-cn" => CHINA,
        "aws-us-gov" => GOVCLOUD,
        _ => COMMERCIAL,
    }
}

/// The region of a partition's global endpoints (IAM's): `aws:RequestedRegion` of a call to
/// a global service ("AWS global condition context keys", aws:RequestedRegion,
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion).
pub fn global_endpoint_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

/// One region of every class that `tells_apart` distinguishes: regions with the same answers
/// to it behave alike for the policies it reads, so one of them stands for all. `first` (the
/// snapshot's own region) represents its class; the others are taken in list order.
pub fn representatives<K: Ord>(
    partition: &str,
    first: &str,
    tells_apart: impl Fn(&str) -> K,
) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    std::iter::once(first)
        .chain(of_partition(partition).iter().copied())
        .filter(|region| seen.insert(tells_apart(region)))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_region_per_class_with_the_own_region_first() {
        let picked = representatives("aws", "us-east-1", |r| r.starts_with("eu-"));
        assert_eq!(picked, vec!["us-east-1".to_string(), "eu-central-1".into()]);
        let all = representatives("aws", "us-east-1", |r| r.to_string());
        assert_eq!(all.len(), COMMERCIAL.len());
    }

    #[test]
    fn partitions_have_their_own_regions() {
        assert!(of_partition("aws-cn").contains(&"cn-north-1"));
        assert!(!of_partition("aws").contains(&"cn-north-1"));
    }
}
