//! The attention study (`lei2021_attention::study`) at smoke scale on real Fashion-MNIST, end
//! to end into a temporary directory (skips with a message when the IDX files are absent):
//! every run is recorded, both claims are decided, and a second call resumes, training nothing
//! and writing the same report.
use neurogen_lab::events::{Event, Recorder};
use neurogen_lab::store::RunStatus;
use neurogen_studies::lei2021_attention::study::{
    run, AttentionScale, AttentionSettings, AttentionStudy, CONTROL, GATED,
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
    let study = AttentionStudy::new(AttentionSettings::new(AttentionScale::Smoke), &data).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("attention");

    let mut rec = Recorder::default();
    let first = run(&study, &out, "Fashion-MNIST", &mut rec).unwrap();
    assert_eq!(trained(&rec), 4, "2 networks × 2 repeats train");
    assert_eq!(first.rows.len(), 4);
    for r in &first.rows {
        assert_eq!(r.status, RunStatus::Ok, "{r:?}");
        assert!((0.0..=1.0).contains(&r.accuracy.unwrap()), "{r:?}");
        let masks = [r.mask_attended, r.mask_unattended];
        if r.group == GATED {
            for m in masks {
                assert!((-1.0..=1.0).contains(&m.unwrap()), "{r:?}");
            }
        } else {
            assert_eq!(r.group, CONTROL);
            assert_eq!(masks, [None, None], "{r:?}");
        }
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_eq!(report, first.report);
    for want in [
        "Top-down gating beats the feed-forward control on accuracy",
        "Inhibition is lower on the attended object than on the unattended one",
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
