//! The third-party example runs end to end on the engine into a temporary directory, and a
//! second call resumes with nothing left to do.
#[allow(dead_code)]
#[path = "../examples/third_party_study.rs"]
mod third_party_study;

use neurogen_lab::events::Silent;
use neurogen_lab::store::RunStore;

#[test]
fn the_third_party_study_runs_end_to_end_and_resumes_with_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pi");
    let first = third_party_study::run(&out, &mut Silent).unwrap();
    assert_eq!(first.trained, 2 * third_party_study::REPEATS);
    assert_eq!(first.rows.len(), 2 * third_party_study::REPEATS);
    // 10 000 points estimate π within a few hundredths, 100 within a few tenths.
    for r in &first.rows {
        let bound = if r.samples == 100 { 0.6 } else { 0.06 };
        assert!(r.abs_error < bound, "{r:?}");
    }
    assert!(first.claim_holds, "{}", first.report);
    let csv = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert!(csv.starts_with("group,repeat,config_hash,status,samples,estimate,abs_error\n"));
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        first.report
    );

    let second = third_party_study::run(&out, &mut Silent).unwrap();
    assert_eq!(second.trained, 0, "every run was recorded");
    assert_eq!(second.rows, first.rows);
    assert_eq!(second.report, first.report);
    assert_eq!(std::fs::read_to_string(out.join("runs.csv")).unwrap(), csv);
    let stored: Vec<third_party_study::PiRow> = RunStore::new(&out).read().unwrap();
    assert_eq!(stored, first.rows);
}
