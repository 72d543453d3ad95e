//! `reproduce attention --scale smoke` end to end through the binary on real Fashion-MNIST
//! (skips with a message when the IDX files are absent): every run is recorded, the report
//! decides both claims, a second call trains nothing and rewrites the same report, and bad flags
//! are refused with a clear message.
mod common;

use common::study::{
    fashion_mnist_or_skip, refuses_bad_flags, smoke_report_on_mnist_names, smoke_runs_and_resumes,
    CUDA, EPOCHS, MNIST_WITHOUT_DATA, NO_SUCH_DATA, ONE_REPEAT,
};

#[test]
fn attention_runs_at_smoke_scale_and_resumes() {
    let Some(data) = fashion_mnist_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = data.display().to_string();
    smoke_runs_and_resumes(
        "attention",
        &["--scale", "smoke", "--data", data.as_str()],
        &tmp.path().join("out"),
        4,
        &[
            "| Top-down gating beats the feed-forward control on accuracy (Gated vs FeedForward) |",
            "| Inhibition is lower on the attended object than on the unattended one (Gated, attended − unattended < 0) |",
        ],
    );
}

#[test]
fn bad_attention_flags_are_refused_with_a_clear_message() {
    refuses_bad_flags(
        "attention",
        &[
            (&["--scale", "paper"][..], "has scales smoke and quick only"),
            ONE_REPEAT,
            CUDA,
            NO_SUCH_DATA,
            MNIST_WITHOUT_DATA,
            EPOCHS,
        ],
    );
}

/// `--dataset mnist --data DIR` reads MNIST's IDX files (here Fashion-MNIST's files under
/// MNIST's identical names, since MNIST is not installed: the read path is what is tested) and
/// the report says the runs are MNIST's.
#[test]
fn attention_reads_mnist_idx_files_from_data() {
    let Some(report) = smoke_report_on_mnist_names("attention") else {
        return;
    };
    assert!(report.contains("Ours: MNIST, as the paper"), "{report}");
}
