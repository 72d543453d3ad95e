//! `reproduce modular --scale smoke` end to end through the binary on real Fashion-MNIST
//! (skips with a message when the IDX files are absent): every run is recorded, the report
//! decides both claims, a second call trains nothing, and foreign flags are refused.
mod common;

use common::study::{
    fashion_mnist_or_skip, refuses_bad_flags, reproduce, smoke_report_on_mnist_names,
    smoke_runs_and_resumes, text, EPOCHS, MNIST_WITHOUT_DATA, NO_SUCH_DATA, ONE_REPEAT,
};

#[test]
fn modular_runs_at_smoke_scale_and_resumes() {
    let Some(data) = fashion_mnist_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = data.display().to_string();
    smoke_runs_and_resumes(
        "modular",
        &["--scale", "smoke", "--data", data.as_str()],
        &tmp.path().join("out"),
        6,
        &["| Specialization is higher at the sparsest p than dense"],
    );
}

#[test]
fn bad_modular_flags_are_refused_with_a_clear_message() {
    refuses_bad_flags(
        "modular",
        &[
            ONE_REPEAT,
            (&["--scale", "smoke", "--scheme", "dense"][..], "--scheme"),
            EPOCHS,
            NO_SUCH_DATA,
            MNIST_WITHOUT_DATA,
        ],
    );
}

/// `--scheme` replaces the scale's interconnections and writes into `OUT/modular-SCHEME`,
/// whose report says which scheme ran.
#[test]
fn the_scheme_flag_writes_its_own_directory() {
    let Some(data) = fashion_mnist_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let data = data.display().to_string();
    let args = [
        "--scale",
        "smoke",
        "--scheme",
        "deep-r",
        "--data",
        data.as_str(),
    ];
    let o = reproduce("modular", &args, &out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!out.join("modular").exists());
    let report = std::fs::read_to_string(out.join("modular-deep-r/report.md")).unwrap();
    assert!(
        report.contains("Deep-R interconnections, as the authors'"),
        "{report}"
    );
    assert!(!report.contains("fixed random mask"), "{report}");
}

/// `--dataset mnist --data DIR` reads MNIST's IDX files (here Fashion-MNIST's files under
/// MNIST's identical names, since MNIST is not installed: the read path is what is tested) and
/// the report says the runs are MNIST's.
#[test]
fn modular_reads_mnist_idx_files_from_data() {
    let Some(report) = smoke_report_on_mnist_names("modular") else {
        return;
    };
    assert!(
        report.contains("MNIST's digits, as the authors"),
        "{report}"
    );
}
