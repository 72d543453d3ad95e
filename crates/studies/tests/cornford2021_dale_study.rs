//! The Dale study (`cornford2021_dale::study`) at smoke scale on real Fashion-MNIST, end to end
//! into a temporary directory (skips with a message when the IDX files are absent, fails then
//! under `NEUROGEN_REQUIRE_DATA=1`): every run is recorded with its plausibility report, both
//! claims are decided, and a second call resumes, training nothing and writing the same report.
use neurogen_lab::events::{Event, Recorder};
use neurogen_lab::store::RunStatus;
use neurogen_studies::cornford2021_dale::study::{run, DaleScale, DaleSettings, DaleStudy};

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
    let study = DaleStudy::new(DaleSettings::new(DaleScale::Smoke), &data).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dale");

    let mut rec = Recorder::default();
    let first = run(&study, &out, "Fashion-MNIST", &mut rec).unwrap();
    assert_eq!(trained(&rec), 6, "3 networks × 2 repeats train");
    assert_eq!(first.rows.len(), 6);
    for r in &first.rows {
        assert_eq!(r.status, RunStatus::Ok, "{r:?}");
        let acc = r.test_accuracy.unwrap();
        assert!((0.0..=1.0).contains(&acc), "{r:?}");
        let fgsm = r.fgsm_accuracy.unwrap();
        assert!((0.0..=1.0).contains(&fgsm), "{r:?}");
        assert!(r.train_loss.unwrap().is_finite(), "{r:?}");
        let stem = neurogen_lab::store::stem(&r.group, r.repeat);
        let json =
            std::fs::read_to_string(out.join("plausibility").join(format!("{stem}.json"))).unwrap();
        assert!(json.contains("\"fgsm\""), "{stem}.json has no FGSM curve");
    }
    // DANN's and ColumnEI's sign constraints hold: every unit's outgoing weights share one sign.
    for r in first.rows.iter().filter(|r| r.group != "MLP") {
        assert_eq!(r.dale_fraction, Some(1.0), "{r:?}");
    }
    // The MLP and DANN learn in 63 steps (chance is 0.1).
    for r in first.rows.iter().filter(|r| r.group != "ColumnEI") {
        assert!(r.test_accuracy.unwrap() > 0.3, "{r:?}");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_eq!(report, first.report);
    for want in [
        "DANNs learn as well as standard networks",
        "ColumnEI learns worse than standard networks",
        "Fashion-MNIST in place of MNIST",
    ] {
        assert!(report.contains(want), "report lacks {want:?}:\n{report}");
    }
    println!("{report}");

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
