//! Amazon SageMaker: notebooks, training jobs and processing jobs run code with their
//! execution role.
//!
//! A new notebook instance, training job or processing job with a passed role; an existing
//! notebook instance opened through a presigned URL (Rhino Security Labs' SageMaker paths,
//! pathfinding.cloud).

use super::technique::{on_created, on_running, Gain, Targets, Technique, PASS_ROLE};

pub const SERVICE: &str = "sagemaker.amazonaws.com";
pub const NOTEBOOK: &str =
    "arn:${Partition}:sagemaker:${Region}:${Account}:notebook-instance/${NotebookInstanceName}";
pub const TRAINING_JOB: &str =
    "arn:${Partition}:sagemaker:${Region}:${Account}:training-job/${TrainingJobName}";
pub const PROCESSING_JOB: &str =
    "arn:${Partition}:sagemaker:${Region}:${Account}:processing-job/${ProcessingJobName}";

pub const TECHNIQUES: &[Technique] = &[
    Technique {
        id: "sagemaker-create-notebook",
        step: "SageMaker notebook with",
        summary: "creates a SageMaker notebook instance with the role and opens it",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[
            PASS_ROLE,
            on_created("sagemaker:CreateNotebookInstance", NOTEBOOK),
            on_created("sagemaker:CreatePresignedNotebookInstanceUrl", NOTEBOOK),
        ],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
    Technique {
        id: "sagemaker-create-training-job",
        step: "SageMaker training job with",
        summary: "creates a SageMaker training job with the role and a container of its choosing",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[
            PASS_ROLE,
            on_created("sagemaker:CreateTrainingJob", TRAINING_JOB),
        ],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
    Technique {
        id: "sagemaker-create-processing-job",
        step: "SageMaker processing job with",
        summary: "creates a SageMaker processing job with the role and a container of its choosing",
        targets: Targets::PassedRole { service: SERVICE },
        needs: &[
            PASS_ROLE,
            on_created("sagemaker:CreateProcessingJob", PROCESSING_JOB),
        ],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
    Technique {
        id: "sagemaker-presigned-notebook-url",
        step: "presigned URL of a SageMaker notebook with",
        summary: "opens an existing SageMaker notebook instance through a presigned URL",
        targets: Targets::RunningRole { service: SERVICE },
        needs: &[on_running(
            "sagemaker:CreatePresignedNotebookInstanceUrl",
            NOTEBOOK,
        )],
        gain: Gain::RunsAs,
        assumes: &[],
        sets_source: false,
    },
];
