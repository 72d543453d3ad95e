//! Exports of a toy study's directory.
use super::*;
use crate::store::RunStatus;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Toy {
    group: String,
    repeat: usize,
    config_hash: String,
    status: RunStatus,
}

impl Row for Toy {
    const COLUMNS: &'static [&'static str] = &["group", "repeat", "config_hash", "status"];
    crate::row_identity!();
}

const HEADER: &str = "group,repeat,config_hash,status\n";

/// Drops every `log` key at the top of an object.
fn drop_log(v: &mut serde_json::Value) -> usize {
    v.as_object_mut()
        .and_then(|m| m.remove("log"))
        .and_then(|l| l.as_array().map(Vec::len))
        .unwrap_or(0)
}

fn rules() -> ExportRules {
    ExportRules {
        skip_dirs: vec!["scratch".into()],
        rewrite_json: vec![("curves".into(), drop_log)],
    }
}

/// Every file under `dir`, relative, with `/`, sorted.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().to_string();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()).into_iter().map(|f| format!("{name}/{f}")));
        } else {
            out.push(name);
        }
    }
    out.sort();
    out
}

/// A study directory with results, checkpoints, shards, a scratch folder and locks.
fn study(dir: &Path) -> PathBuf {
    let s = dir.join("toy");
    for d in [
        "curves",
        "checkpoints",
        "shards/1-of-2",
        "scratch",
        "analysis",
    ] {
        std::fs::create_dir_all(s.join(d)).unwrap();
    }
    std::fs::write(s.join("runs.csv"), format!("{HEADER}A,0,ab,ok\n")).unwrap();
    std::fs::write(s.join("report.md"), "# Toy\n").unwrap();
    std::fs::write(s.join("plot.svg"), "<svg/>").unwrap();
    std::fs::write(s.join(neurogen_io::LOCK_FILE), "pid").unwrap();
    std::fs::write(s.join("checkpoints/a-r00.bin"), "x").unwrap();
    std::fs::write(s.join("shards/1-of-2/runs.csv"), HEADER).unwrap();
    std::fs::write(s.join("scratch/tmp"), "x").unwrap();
    std::fs::write(s.join("analysis/a.json"), "{}").unwrap();
    std::fs::write(s.join(format!("analysis/{}", neurogen_io::LOCK_FILE)), "1").unwrap();
    std::fs::write(
        s.join("curves/a-r00.json"),
        r#"{"loss": [1.0], "log": [{}, {}]}"#,
    )
    .unwrap();
    s
}

#[test]
fn export_copies_results_not_checkpoints_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let s = study(dir.path());
    let to = dir.path().join("docs/toy-quick");
    let done = export(&s, &to, "  toy --scale quick ", &rules()).unwrap();
    assert_eq!(
        walk(&to),
        [
            "analysis/a.json",
            "command.txt",
            "curves/a-r00.json",
            "plot.svg",
            "report.md",
            "runs.csv"
        ]
    );
    assert_eq!((done.files, done.dropped), (6, 2));
    let bytes: u64 = walk(&to)
        .iter()
        .map(|f| std::fs::metadata(to.join(f)).unwrap().len())
        .sum();
    assert_eq!(done.bytes, bytes);
    assert_eq!(
        std::fs::read_to_string(to.join(COMMAND_FILE)).unwrap(),
        "toy --scale quick\n"
    );
    let curve: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(to.join("curves/a-r00.json")).unwrap())
            .unwrap();
    assert_eq!(curve, serde_json::json!({"loss": [1.0]}));
    let e = export(&s, &to, "toy", &rules()).unwrap_err();
    assert!(matches!(e, ExportError::NotEmpty { .. }), "{e}");
    let e = export(
        &dir.path().join("absent"),
        &dir.path().join("new"),
        "t",
        &rules(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            ExportError::Unfinished {
                missing: "runs.csv",
                ..
            }
        ),
        "{e}"
    );
    let e = export(&s, &s.join("copy"), "toy", &rules()).unwrap_err();
    assert!(e.to_string().contains("is inside"), "{e}");
    // Without the study's rules the scratch folder is copied, the curves as they are.
    let plain = dir.path().join("plain");
    let done = export(&s, &plain, "toy", &ExportRules::default()).unwrap();
    assert_eq!(done.dropped, 0);
    assert!(plain.join("scratch/tmp").is_file());
    assert_eq!(
        std::fs::read(plain.join("curves/a-r00.json")).unwrap(),
        std::fs::read(s.join("curves/a-r00.json")).unwrap()
    );
}

#[test]
fn a_damaged_json_to_rewrite_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let s = study(dir.path());
    std::fs::write(s.join("curves/b-r00.json"), "{").unwrap();
    let e = export(&s, &dir.path().join("out"), "toy", &rules()).unwrap_err();
    assert!(
        matches!(&e, ExportError::DamagedJson { path, .. } if path.ends_with("curves/b-r00.json")),
        "{e}"
    );
}

#[test]
fn a_partial_export_carries_the_recorded_runs_and_the_resume_note() {
    let dir = tempfile::tempdir().unwrap();
    let s = study(dir.path());
    std::fs::remove_file(s.join("report.md")).unwrap();
    let to = dir.path().join("carry");
    let e = export(&s, &to, "toy", &rules()).unwrap_err();
    assert!(
        matches!(
            e,
            ExportError::Unfinished {
                missing: "report.md",
                ..
            }
        ),
        "{e}"
    );
    let done = export_partial::<Toy>(&s, &to, &rules(), |runs, interim| {
        format!("# {runs} runs, interim {interim}\n")
    })
    .unwrap();
    assert_eq!((done.runs, done.interim.clone()), (1, InterimReport::None));
    assert_eq!(
        walk(&to),
        [
            "RESUME.md",
            "analysis/a.json",
            "curves/a-r00.json",
            "plot.svg",
            "runs.csv"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(to.join(RESUME_FILE)).unwrap(),
        "# 1 runs, interim false\n"
    );
    // No runs.csv: nothing to carry; a damaged one is refused before anything is copied.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = export_partial::<Toy>(&empty, &dir.path().join("x"), &rules(), |_, _| {
        String::new()
    })
    .unwrap_err();
    assert!(matches!(e, ExportError::NothingRecorded { .. }), "{e}");
    std::fs::write(s.join("runs.csv"), "group\nA\n").unwrap();
    let fresh = dir.path().join("fresh");
    let e = export_partial::<Toy>(&s, &fresh, &rules(), |_, _| String::new()).unwrap_err();
    assert!(matches!(e, ExportError::Store(_)), "{e}");
    assert!(!fresh.exists());
}

#[test]
fn an_interim_report_is_carried_only_while_it_is_current() {
    let dir = tempfile::tempdir().unwrap();
    let s = study(dir.path());
    std::fs::create_dir_all(s.join(INTERIM_DIR)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(s.join("interim/report.md"), "# interim\n").unwrap();
    std::fs::write(s.join(format!("interim/{}", neurogen_io::LOCK_FILE)), "1").unwrap();
    let to = dir.path().join("carry");
    let done = export_partial::<Toy>(&s, &to, &rules(), |n, i| format!("{n} {i}")).unwrap();
    assert_eq!(done.interim, InterimReport::Carried);
    assert!(to.join("interim/report.md").is_file());
    assert!(!to
        .join(format!("interim/{}", neurogen_io::LOCK_FILE))
        .exists());
    assert_eq!(
        std::fs::read_to_string(to.join(RESUME_FILE)).unwrap(),
        "1 true"
    );
    // A run recorded since: stale, left behind and named.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(s.join("runs.csv"), format!("{HEADER}A,0,ab,ok\n")).unwrap();
    let to2 = dir.path().join("carry2");
    let done = export_partial::<Toy>(&s, &to2, &rules(), |n, i| format!("{n} {i}")).unwrap();
    assert_eq!(
        done.interim,
        InterimReport::Stale(s.join("interim/report.md"))
    );
    assert!(!to2.join(INTERIM_DIR).exists());
    // A full export never carries it.
    let to3 = dir.path().join("final");
    export(&s, &to3, "toy", &rules()).unwrap();
    assert!(!to3.join(INTERIM_DIR).exists());
}

#[test]
fn an_engine_studys_interim_report_is_never_exported() {
    let dir = tempfile::tempdir().unwrap();
    let s = study(dir.path());
    std::fs::write(
        s.join(crate::interim::INTERIM_REPORT_FILE),
        "# Toy (interim)\n",
    )
    .unwrap();
    let to = dir.path().join("full");
    export(&s, &to, "toy", &rules()).unwrap();
    assert!(to.join("report.md").is_file());
    assert!(!to.join(crate::interim::INTERIM_REPORT_FILE).exists());
    let to = dir.path().join("partial");
    export_partial::<Toy>(&s, &to, &rules(), |runs, _| format!("# {runs} runs\n")).unwrap();
    assert!(to.join("runs.csv").is_file());
    assert!(!to.join(crate::interim::INTERIM_REPORT_FILE).exists());
}
