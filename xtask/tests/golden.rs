//! Golden results: `reproduce --scale smoke` as main produced it at ddc1b56, before the redesign
//! of issue #13 (`golden/smoke-runs.csv`, `golden/smoke-quirks-runs.csv`: every column that a
//! result determines; `golden/*-events.json`: every neurogenesis event, by run). A refactor
//! must reproduce them bit for bit on the CPU; a change that is meant to alter results updates
//! them knowingly (say so in the commit).
//!
//! CPU results depend on the number of rayon threads (the convolution's weight gradient sums
//! per-thread partial sums), so the reproductions run with [`THREADS`] threads; they may
//! also depend on the CPU's SIMD width (gemm's micro-kernels): the files were made on a 2-core AMD
//! EPYC with AVX-512 and pass unchanged on the 2-core AVX2 (Zen 3) EPYC of 2026-12-01 and the
//! 2-core Intel Xeon with AVX-512 (2 MiB L2 per core) of 2026-12-05.
use std::collections::BTreeMap;
use std::path::Path;

/// Rayon threads the golden files were made with.
pub const THREADS: &str = "2";

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden"))
}

/// The columns compared: those of the golden file `tag` (every column that a run's training
/// determines, as main wrote them at ddc1b56; not the timing, the device, the configuration
/// hash, whose inputs have grown since, or the checkpoint's path).
fn golden_columns(tag: &str) -> Vec<String> {
    let path = dir().join(format!("{tag}-runs.csv"));
    let mut rdr =
        csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    rdr.headers().unwrap().iter().map(String::from).collect()
}

/// Rows of `path` keyed by (figure, group, repeat), values in `columns` order.
fn rows(path: &Path, columns: &[String]) -> BTreeMap<(String, String, String), Vec<String>> {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = rdr.headers().unwrap().clone();
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == c)
                .unwrap_or_else(|| panic!("{}: no column {c}", path.display()))
        })
        .collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let v: Vec<String> = idx.iter().map(|&i| r[i].to_string()).collect();
            ((v[0].clone(), v[1].clone(), v[2].clone()), v)
        })
        .collect()
}

/// File-name stem of a run, as the runner writes it.
fn stem(group: &str, repeat: &str) -> String {
    let mut s = String::new();
    for c in group.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    format!(
        "{}-r{:02}",
        s.trim_matches('-'),
        repeat.parse::<usize>().unwrap()
    )
}

/// Every `event_log` entry found in a regulariser report.
fn events(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k == "event_log" {
                    out.extend(x.as_array().cloned().unwrap_or_default());
                } else {
                    events(x, out);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| events(x, out)),
        _ => {}
    }
}

/// Checks that the figures `figs` under `out` hold exactly the golden rows and events of `tag`.
pub fn assert_matches(out: &Path, figs: &[&str], tag: &str) {
    let columns = golden_columns(tag);
    let want = rows(&dir().join(format!("{tag}-runs.csv")), &columns);
    let mut got = BTreeMap::new();
    for f in figs {
        got.extend(rows(&out.join(f).join("runs.csv"), &columns));
    }
    for (key, w) in &want {
        let g = got
            .get(key)
            .unwrap_or_else(|| panic!("{tag}: run {key:?} is missing from the output"));
        for ((c, a), b) in columns.iter().zip(w).zip(g) {
            assert_eq!(a, b, "{tag}: run {key:?}, column {c}: golden {a}, now {b}");
        }
    }
    let text = std::fs::read_to_string(dir().join(format!("{tag}-events.json"))).unwrap();
    let want_events: BTreeMap<String, Vec<serde_json::Value>> =
        serde_json::from_str(&text).unwrap();
    for (fig, group, repeat) in want.keys() {
        let s = stem(group, repeat);
        let path = out.join(fig).join("curves").join(format!("{s}.json"));
        let curves: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut ev = Vec::new();
        events(&curves["regularizer"], &mut ev);
        let w = want_events
            .get(&format!("{fig}/{s}"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(ev, w, "{tag}: neurogenesis events of {fig}/{s} differ");
    }
}

/// Checks that every golden run of `tag` (made with `--reference-quirks`) whose group has a
/// published-code variant under `out` (`--compare-reference`: group `NAME (published code)`)
/// equals that variant in every column but the group's name: the side-by-side column is the
/// published code's behaviour, not an approximation of it. Returns how many runs matched.
pub fn assert_published_variants_match(out: &Path, figs: &[&str], tag: &str) -> usize {
    let columns = golden_columns(tag);
    let want = rows(&dir().join(format!("{tag}-runs.csv")), &columns);
    let mut got = BTreeMap::new();
    for f in figs {
        got.extend(rows(&out.join(f).join("runs.csv"), &columns));
    }
    let mut matched = 0;
    for ((fig, group, repeat), w) in &want {
        let key = (
            fig.clone(),
            format!("{group} (published code)"),
            repeat.clone(),
        );
        let Some(g) = got.get(&key) else { continue };
        for ((c, a), b) in columns.iter().zip(w).zip(g) {
            if *c != "group" {
                assert_eq!(a, b, "{tag}: run {key:?}, column {c}: golden {a}, now {b}");
            }
        }
        matched += 1;
    }
    matched
}
