//! `analyze_csv` (behind `cargo xtask analyze`) on hand-written CSV files. The groups are the
//! samples A, B, C of `stats_reference.rs`, so the expected ANOVA/Tukey/Welch values are the
//! scipy references from `tests/reference/make_reference.py`.
use std::io::Write;

use neurogen_analysis::report::analyze_csv;
use neurogen_analysis::AnalysisError;

fn write_csv(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    p
}

fn results_csv() -> String {
    let a = [5.1, 4.9, 6.2, 5.8, 6.0, 5.5, 5.3, 6.1];
    let b = [6.8, 7.1, 6.5, 7.4, 6.9, 7.7, 6.6];
    let c = [5.9, 6.3, 6.0, 6.6, 5.7, 6.4, 6.2, 6.1, 5.8];
    let mut s = String::from("seed, regulariser ,test_acc,note\n");
    // Interleave the groups so grouping, not row order, matters. Names sort as A < B < C.
    let mut rows: Vec<(String, f64)> = Vec::new();
    rows.extend(c.iter().map(|v| ("C".to_string(), *v)));
    rows.extend(a.iter().map(|v| ("A".to_string(), *v)));
    rows.extend(b.iter().map(|v| ("B".to_string(), *v)));
    rows.sort_by(|x, y| x.1.total_cmp(&y.1));
    for (i, (g, v)) in rows.iter().enumerate() {
        s.push_str(&format!("{i},{g},{v},\"free, text\"\n"));
    }
    s
}

#[test]
fn analyses_a_results_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_csv(&dir, "results.csv", &results_csv());
    let r = analyze_csv(&path, "test_acc", "regulariser").unwrap();
    let names: Vec<&str> = r.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["A", "B", "C"]);
    assert_eq!(r.groups[0].summary.n, 8);
    assert!((r.groups[0].summary.mean - 5.6125).abs() < 1e-12);
    // stats.f_oneway(A, B, C) = 22.204579232777665, p = 6.593221971360164e-06
    assert!((r.anova.f - 22.204579232777665).abs() < 1e-6 * 22.2);
    // stats.tukey_hsd(A, B, C).pvalue[0, 2] = 0.04915627269838663
    assert_eq!(
        (r.tukey[1].group_a.as_str(), r.tukey[1].group_b.as_str()),
        ("A", "C")
    );
    assert!((r.tukey[1].p_adj - 0.04915627269838663).abs() < 1e-4);
    // stats.ttest_ind(A, B, equal_var=False): t = -5.857579016292012
    assert!((r.welch[0].test.t + 5.857579016292012).abs() < 1e-6 * 5.86);
    assert_eq!(r.welch.len(), 3);
    let table = r.to_table();
    assert!(
        table.contains("One-way ANOVA: F(2, 21) = 22.2046"),
        "{table}"
    );
    assert!(table.contains("Tukey HSD"), "{table}");
    assert!(table.contains("A - C"), "{table}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["groups"][1]["name"], "B");
    assert!(json["tukey"][0]["p_adj"].as_f64().unwrap() < 1e-4);
}

#[test]
fn clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let e = analyze_csv(&missing, "v", "g").unwrap_err();
    assert!(
        matches!(e, AnalysisError::Io { .. }) && e.to_string().contains("nope.csv"),
        "{e}"
    );

    let path = write_csv(&dir, "r.csv", &results_csv());
    let e = analyze_csv(&path, "accuracy", "regulariser").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, AnalysisError::MissingColumn { .. }), "{msg}");
    assert!(
        msg.contains("\"accuracy\"") && msg.contains("\"test_acc\"") && msg.contains("\"seed\""),
        "{msg}"
    );

    let bad = write_csv(&dir, "bad.csv", "g,v\na,1\na,2\nb,3\nb,oops\n");
    let e = analyze_csv(&bad, "v", "g").unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            AnalysisError::NonNumeric {
                row: 4,
                line: 5,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("\"oops\"") && msg.contains("row 4"), "{msg}");

    let nan = write_csv(&dir, "nan.csv", "g,v\na,1\na,NaN\nb,3\nb,4\n");
    assert!(matches!(
        analyze_csv(&nan, "v", "g"),
        Err(AnalysisError::NonNumeric { row: 2, .. })
    ));

    let one = write_csv(&dir, "one.csv", "g,v\na,1\na,2\na,3\n");
    let e = analyze_csv(&one, "v", "g").unwrap_err();
    assert!(
        matches!(e, AnalysisError::TooFewObservations { got: 1, .. }),
        "{e}"
    );

    let tiny = write_csv(&dir, "tiny.csv", "g,v\na,1\na,2\nb,3\n");
    let e = analyze_csv(&tiny, "v", "g").unwrap_err();
    assert!(e.to_string().contains("group \"b\""), "{e}");

    let ragged = write_csv(&dir, "ragged.csv", "g,v\na,1\na,2,3\n");
    assert!(matches!(
        analyze_csv(&ragged, "v", "g"),
        Err(AnalysisError::Csv { .. })
    ));
}
