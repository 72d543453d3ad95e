//! `reproduce dale --scale smoke` end to end through the binary on real Fashion-MNIST (skips
//! with a message when the IDX files are absent): every run is recorded, the report decides both
//! claims, a second call trains nothing and rewrites the same report, `--local-rule` adds the
//! local rule's runs and the seed's claims (and resumes too), and bad flags are refused with a
//! clear message.
mod common;

use common::study::{
    copy_into, fashion_mnist_or_skip, idx_files, refuses_bad_flags, reproduce,
    smoke_runs_and_resumes, text, tiny_cifar10, Recorded, CUDA, EPOCHS, MNIST_WITHOUT_DATA,
    NO_SUCH_DATA, ONE_REPEAT,
};

#[test]
fn dale_runs_at_smoke_scale_and_resumes() {
    let Some(data) = fashion_mnist_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let data = data.display().to_string();
    let args = ["--scale", "smoke", "--data", data.as_str()];
    let dir = smoke_runs_and_resumes(
        "dale",
        &args,
        &out,
        6,
        &[
            "| DANNs learn as well as standard networks (DANN vs MLP) |",
            "| ColumnEI learns worse than standard networks (ColumnEI vs MLP) |",
        ],
    )
    .dir;
    assert!(dir.join("plausibility/dann-r01.json").is_file());

    // --local-rule adds only the local rule's two runs to the recorded ones, and the seed's
    // claims to the report; a second call resumes.
    let args = ["--scale", "smoke", "--local-rule", "--data", data.as_str()];
    let local = reproduce("dale", &args, &out);
    assert!(local.status.success(), "{}", text(&local));
    assert!(
        text(&local).contains("6 of 8 runs recorded")
            && text(&local).matches("training ").count() == 2,
        "{}",
        text(&local)
    );
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for want in [
        "stand-in for the seed paper's rule",
        "| LocalRule | 2 |",
        "| Seed 1: the local rule's weights are log-normal",
        "| Seed 4: the local rule generalises better from few examples",
    ] {
        assert!(report.contains(want), "report lacks {want:?}:\n{report}");
    }
    assert!(dir.join("plausibility/localrule-r01.json").is_file());
    let again = reproduce("dale", &args, &out);
    assert!(again.status.success(), "{}", text(&again));
    assert!(!text(&again).contains("training "), "{}", text(&again));
    assert_eq!(
        std::fs::read_to_string(dir.join("report.md")).unwrap(),
        report
    );
}

#[test]
fn bad_dale_flags_are_refused_with_a_clear_message() {
    refuses_bad_flags(
        "dale",
        &[
            (
                &["--scale", "paper", "--dataset", "kmnist"][..],
                "--dataset",
            ),
            ONE_REPEAT,
            CUDA,
            NO_SUCH_DATA,
            EPOCHS,
            MNIST_WITHOUT_DATA,
        ],
    );
}

/// `--dataset mnist` reads MNIST's IDX files from `--data` (here Fashion-MNIST's files under
/// MNIST's identical names, since MNIST is not installed: the read path is what is tested),
/// records `MNIST` in the specs and says so in the report; a folder missing one of the four
/// files is refused with an error naming it.
#[test]
fn dale_reads_mnist_idx_files_from_data() {
    let Some(fashion) = fashion_mnist_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    std::fs::create_dir(&mnist).unwrap();
    let files = idx_files(&fashion);
    // Only the training images: the error names the first missing file.
    let train_images = files
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("train-images")
        })
        .unwrap();
    copy_into(std::slice::from_ref(train_images), &mnist);
    let out = tmp.path().join("out");
    let m = mnist.display().to_string();
    let args = [
        "--scale",
        "smoke",
        "--dataset",
        "mnist",
        "--data",
        m.as_str(),
    ];
    let o = reproduce("dale", &args, &out);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("train-labels-idx1-ubyte"), "{}", text(&o));
    copy_into(&files, &mnist);
    let o = reproduce("dale", &args, &out);
    assert!(o.status.success(), "{}", text(&o));
    let report = std::fs::read_to_string(out.join("dale/report.md")).unwrap();
    assert!(
        report.contains("Ours: MNIST (the paper's dataset)"),
        "{report}"
    );
    let csv = std::fs::read_to_string(out.join("dale/runs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7, "{csv}");
}

/// `--dataset cifar10` trains the same arms on CIFAR-10 flattened to 3,072 inputs (here a
/// tiny CIFAR-10 binary release of the test kit, 1,000 images per batch file), records
/// `CIFAR-10` in the specs, says so in the report and resumes; Fashion-MNIST runs are then
/// refused in the same directory (their specs differ), and `--data` holding another dataset is
/// refused.
#[test]
fn dale_runs_on_cifar10() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let c = tiny_cifar10(tmp.path());
    let args = ["--scale", "smoke", "--dataset", "cifar10", "--data", &c];
    let Recorded { dir, csv, .. } = smoke_runs_and_resumes(
        "dale",
        &args,
        &out,
        6,
        &[
            "Ours: CIFAR-10 in place of MNIST, in colour",
            "3072 inputs",
            "the MLP's learning rate 0.05",
        ],
    );

    if let Some(fashion) = neurogen_data::fashion_mnist_dir() {
        let f = fashion.display().to_string();
        // Fashion-MNIST into the CIFAR-10 directory: the recorded specs differ.
        let o = reproduce("dale", &["--scale", "smoke", "--data", f.as_str()], &out);
        assert!(!o.status.success(), "{}", text(&o));
        assert_eq!(std::fs::read_to_string(dir.join("runs.csv")).unwrap(), csv);
        // --dataset cifar10 with Fashion-MNIST's files.
        let o = reproduce(
            "dale",
            &[
                "--scale",
                "smoke",
                "--dataset",
                "cifar10",
                "--data",
                f.as_str(),
            ],
            &tmp.path().join("other"),
        );
        assert!(!o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("loading CIFAR-10 from"), "{}", text(&o));
    }
}
