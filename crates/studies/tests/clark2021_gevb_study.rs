//! The GEVB study (`clark2021_gevb::study`) at smoke scale on real Fashion-MNIST, end to end
//! into a temporary directory (skips with a message when the IDX files are absent, fails then
//! under `NEUROGEN_REQUIRE_DATA=1`): every run is recorded, both claims are decided, and a
//! second call resumes, training nothing and writing the same report.
use neurogen_lab::events::{Event, Recorder};
use neurogen_lab::store::RunStatus;
use neurogen_studies::clark2021_gevb::study::{
    run, ConvShape, GevbScale, GevbSettings, GevbStudy, CONV_STUDY_ID,
};

fn trained(rec: &Recorder) -> usize {
    rec.events
        .iter()
        .map(|e| match e {
            Event::BatchRecorded { runs, .. } => *runs,
            _ => 0,
        })
        .sum()
}

#[test]
fn the_smoke_study_runs_decides_its_claims_and_resumes() {
    let Some(dir) = neurogen_testkit::data::or_skip(
        neurogen_data::fashion_mnist_dir(),
        "no Fashion-MNIST (package dataset-fashion-mnist or $NEUROGEN_FASHION_MNIST)",
    ) else {
        return;
    };
    let data = neurogen_data::load_as(
        &dir,
        neurogen_data::DatasetKind::FashionMnist,
        &neurogen_data::LoadOptions::no_cache(),
    )
    .unwrap()
    .dataset;
    let study = GevbStudy::new(GevbSettings::new(GevbScale::Smoke), &data).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("gevb");

    let mut rec = Recorder::default();
    let first = run(&study, &out, "Fashion-MNIST", &mut rec).unwrap();
    assert_eq!(trained(&rec), 8, "4 arms × 2 repeats train");
    assert_eq!(first.rows.len(), 8);
    for r in &first.rows {
        assert_eq!(r.status, RunStatus::Ok, "{r:?}");
        let acc = r.test_accuracy.unwrap();
        assert!((0.0..=1.0).contains(&acc), "{r:?}");
        assert!(r.train_loss.unwrap().is_finite(), "{r:?}");
    }
    // GEVB+ and BP+ learn in 32 steps (chance is 0.1).
    for r in first.rows.iter().filter(|r| r.group != "DFA+") {
        assert!(r.test_accuracy.unwrap() > 0.3, "{r:?}");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_eq!(report, first.report);
    for want in [
        "GEVB+ learns as well as BP+ in vectorized nets",
        "GEVB+ in vectorized nets learns better than DFA+",
        "Fashion-MNIST in place of MNIST",
    ] {
        assert!(report.contains(want), "report lacks {want:?}:\n{report}");
    }
    println!("{report}");
    // Every GEVB+ and DFA+ run saved its alignment (before training and each quarter epoch of
    // 32 steps), BP+ none; the report tables and plots it and decides the alignment claims.
    for (stem, rule) in [
        ("gevb-r00", "Gevb"),
        ("gevb-r01", "Gevb"),
        ("dfa-r01", "Dfa"),
    ] {
        let text = std::fs::read_to_string(out.join(format!("alignment/{stem}.json"))).unwrap();
        let run: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(run["rule"], rule, "{stem}");
        let steps: Vec<u64> = run["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["step"].as_u64().unwrap())
            .collect();
        assert_eq!(steps, vec![0, 8, 16, 24, 32], "{stem}");
    }
    assert!(!out.join("alignment/bp-r00.json").exists());
    for want in [
        "| GEVB+ | hidden layer 1 | 2 |",
        "| DFA+ | output layer | 2 |",
        "alignment-angle.svg",
        "alignment-sign.svg",
        "GEVB+'s update is aligned with the gradient at initialisation",
        "GEVB+'s update is sign-matched to the gradient",
    ] {
        assert!(report.contains(want), "report lacks {want:?}:\n{report}");
    }
    assert!(out.join("alignment-angle.png").is_file());

    let mut rec = Recorder::default();
    let again = run(&study, &out, "Fashion-MNIST", &mut rec).unwrap();
    assert_eq!(
        trained(&rec),
        0,
        "the second call resumes and trains nothing"
    );
    assert_eq!(again.rows, first.rows);
    assert_eq!(again.report, first.report);
}

/// `--conv`: the convolutional arms (GEVB+ Conv-Vec, BP+ Conv-Vec, DFA+ Conv) train beside the
/// FC arms into their own directory; their claims are decided; they measure no alignment.
#[test]
fn the_convolutional_arms_train_at_smoke_scale() {
    let Some(dir) = neurogen_testkit::data::or_skip(
        neurogen_data::fashion_mnist_dir(),
        "no Fashion-MNIST (package dataset-fashion-mnist or $NEUROGEN_FASHION_MNIST)",
    ) else {
        return;
    };
    let data = neurogen_data::load_as(
        &dir,
        neurogen_data::DatasetKind::FashionMnist,
        &neurogen_data::LoadOptions::no_cache(),
    )
    .unwrap()
    .dataset;
    let settings = GevbSettings {
        conv: Some(ConvShape::smoke()),
        ..GevbSettings::new(GevbScale::Smoke)
    };
    let study = GevbStudy::new(settings, &data).unwrap();
    assert_eq!(study.id(), CONV_STUDY_ID);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join(study.id());
    let done = run(&study, &out, "Fashion-MNIST", &mut Recorder::default()).unwrap();
    assert_eq!(done.rows.len(), 16, "8 arms × 2 repeats");
    for r in done.rows.iter().filter(|r| r.group.contains("Conv")) {
        assert_eq!(r.status, RunStatus::Ok, "{r:?}");
        assert!(r.test_accuracy.unwrap() > 0.0, "{r:?}");
    }
    // Conv-Vec+ learns in 32 steps of GEVB or of backprop (chance is 0.1).
    for r in done.rows.iter().filter(|r| r.group.ends_with("Conv-Vec")) {
        assert!(r.test_accuracy.unwrap() > 0.3, "{r:?}");
    }
    assert!(!out.join("alignment/gevb-conv-vec-r00.json").exists());
    assert!(out.join("alignment/gevb-r00.json").is_file());
    for want in [
        "| GEVB+ trains convolutional layers where DFA fails (GEVB+ Conv-Vec vs DFA+ Conv) |",
        "| GEVB+ learns as well as BP+ in vectorized convolutional nets (GEVB+ Conv-Vec vs BP+ Conv-Vec) |",
        "| Vectorized convolutions make GEVB+ learn better than vectorized FC layers (GEVB+ Conv-Vec vs GEVB+) |",
        "| GEVB+ Conv-Vec | 2 |",
        "| BP+ Conv-Vec | 2 |",
        "Convolutional arms: Conv-Vec+ trained by GEVB and by exact backprop",
    ] {
        assert!(
            done.report.contains(want),
            "report lacks {want:?}:\n{}",
            done.report
        );
    }
    println!("{}", done.report);
}
