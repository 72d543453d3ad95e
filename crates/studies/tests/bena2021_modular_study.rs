//! The modular study (`bena2021_modular::study`) at smoke scale on real Fashion-MNIST, end to
//! end into a temporary directory (skips with a message when the IDX files are absent, fails
//! then under `NEUROGEN_REQUIRE_DATA=1`): every run is recorded with its three metrics, the claims are decided, the plot drawn, and a
//! second call resumes, training nothing and writing the same report.
use neurogen_lab::events::{Event, Recorder};
use neurogen_lab::store::RunStatus;
use neurogen_studies::bena2021_modular::study::{run, ModularScale, ModularSettings, ModularStudy};

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
    let study = ModularStudy::new(ModularSettings::new(ModularScale::Smoke), &data).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("modular");

    let mut rec = Recorder::default();
    let first = run(&study, &out, "Fashion-MNIST", &mut rec).unwrap();
    assert_eq!(trained(&rec), 6, "3 values of p × 2 repeats train");
    assert_eq!(first.rows.len(), 6);
    for r in &first.rows {
        assert_eq!(r.status, RunStatus::Ok, "{r:?}");
        assert!((0.0..=1.0).contains(&r.accuracy.unwrap()), "{r:?}");
        assert!(r.specialization.unwrap().is_finite(), "{r:?}");
        assert!(r.q.unwrap().is_finite(), "{r:?}");
        assert!(r.bottleneck.unwrap().is_finite(), "{r:?}");
        assert!(r.mask.unwrap().is_finite(), "{r:?}");
    }
    for ext in ["svg", "png"] {
        let f = out.join(format!("specialization_vs_p.{ext}"));
        assert!(
            std::fs::metadata(&f).unwrap().len() > 1000,
            "{}",
            f.display()
        );
    }
    // Q falls as p grows: the sparsest community is the more modular one, seed by seed.
    for rep in 0..2 {
        let q = |p: f64| {
            first
                .rows
                .iter()
                .find(|r| r.repeat == rep && r.p == p)
                .unwrap()
                .q
                .unwrap()
        };
        assert!(q(0.01) > q(0.999), "seed {rep}");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_eq!(report, first.report);
    for want in [
        "Specialization is higher at the sparsest p than dense",
        "Specialization decreases with p",
        "fixed random mask",
        "weight-mask metric",
        "The metrics agree",
        "specialization_vs_p.svg",
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
