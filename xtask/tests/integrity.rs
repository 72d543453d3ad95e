//! What `reproduce` does with an output directory it must not touch: one that another process
//! is writing (the directory lock), and a `runs.csv` it cannot read as a whole. Both fail
//! before any training, so a small CIFAR-10 binary release written here is enough (big enough
//! for the smoke scale's subsets where the check comes after them).
mod common;
use common::tiny_cifar;
use std::path::Path;
use std::process::Command;

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-integrity-cache");
    c.env("NEUROGEN_CACHE_DIR", cache);
    c
}

/// `reproduce fig2 --scale smoke` on `data` into `out`; expects failure, returns stderr.
fn reproduce_fails(data: &Path, out: &Path) -> String {
    let o = xtask()
        .args(["reproduce", "fig2", "--scale", "smoke", "--quiet", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .output()
        .expect("xtask runs");
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        !o.status.success(),
        "reproduce succeeded but should fail\nstderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn assert_mentions(stderr: &str, parts: &[&str]) {
    for p in parts {
        assert!(stderr.contains(p), "expected {p:?} in the error:\n{stderr}");
    }
}

#[test]
fn a_second_reproduce_on_the_same_out_refuses_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 4);
    let out = dir.path().join("out");
    let fig = out.join("fig2");
    std::fs::create_dir_all(&fig).unwrap();
    // This test process plays the first `reproduce`.
    let lock = neurogen_io::DirLock::acquire(&fig, "reproduce fig2").unwrap();
    let e = reproduce_fails(&data, &out);
    assert_mentions(
        &e,
        &[
            &fig.display().to_string(),
            "is in use",
            &format!("pid {}", std::process::id()),
            &format!("host {}", neurogen_io::host_name()),
            &fig.join(".lock").display().to_string(),
        ],
    );
    assert!(!fig.join("runs.csv").exists(), "nothing was written");
    // The refused process did not disturb the holder's lock.
    let text = std::fs::read_to_string(lock.path()).unwrap();
    assert!(
        text.contains(&format!("pid={}", std::process::id())),
        "{text}"
    );
    drop(lock);
}

#[test]
fn a_garbage_runs_csv_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 200);
    let out = dir.path().join("out");
    let fig = out.join("fig2");
    std::fs::create_dir_all(&fig).unwrap();
    let csv = fig.join("runs.csv");
    let garbage = "garbage,\"unterminated";
    std::fs::write(&csv, garbage).unwrap();
    let e = reproduce_fails(&data, &out);
    assert_mentions(
        &e,
        &[
            &csv.display().to_string(),
            "not a runs.csv written by reproduce",
            "left unchanged",
        ],
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), garbage);
    // The lock was released when the refusing process exited.
    neurogen_io::DirLock::acquire(&fig, "the test").unwrap();
}

/// Every file of the repository (relative, `/`-separated), without hidden and build folders.
fn repository_files(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || name == "target" || name == "__pycache__" {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// `line` without its URLs (a file in another repository is not ours to check).
fn without_urls(line: &str) -> String {
    let mut s = line.to_string();
    while let Some(i) = s.find("http://").or_else(|| s.find("https://")) {
        let end = s[i..]
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '>' | '`' | '"'))
            .map_or(s.len(), |e| i + e);
        s.replace_range(i..end, "");
    }
    s
}

/// Whether crate `krate` (`crates/KRATE`, its sources `src`: every `.rs` file of its `src/`
/// concatenated) has a module or a lower-case item `name` (a function, macro or re-export): what
/// `neurogen_KRATE::name` may mean.
fn crate_has(root: &Path, krate: &str, src: &str, name: &str) -> bool {
    let dir = root.join(format!("crates/{krate}/src"));
    if dir.join(format!("{name}.rs")).is_file() || dir.join(name).is_dir() {
        return true;
    }
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for kw in ["fn ", "mod ", "macro_rules! "] {
        let def = format!("{kw}{name}");
        let mut rest = src;
        while let Some(i) = rest.find(&def) {
            rest = &rest[i + def.len()..];
            if !rest.starts_with(ident) {
                return true;
            }
        }
    }
    let mut rest = src;
    while let Some(i) = rest.find("pub use ") {
        let end = rest[i..].find(';').map_or(rest.len(), |e| i + e);
        if rest[i..end]
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|w| w == name)
        {
            return true;
        }
        rest = &rest[end..];
    }
    false
}

/// The docs and the Python package name repository files (`xtask/src/reproduce/run/csv.rs`,
/// `net.rs`) and modules (`neurogen_model::hooks`); each must exist, so that a move or a
/// rename updates them. Checked: paths of `.rs`, `.py` and `.md` files that start at a
/// top-level entry of the repository (relative to the repository, to the naming file's folder,
/// or as the tail of a repository path such as `tests/cuda.rs`), bare `*.rs` names, and
/// `neurogen_CRATE::name` for a crate of this workspace. Not checked: URLs, outputs such as
/// `OUT/figN/report.md`, other projects' files.
#[test]
fn every_repository_path_named_in_docs_and_python_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let files = repository_files(root);
    let top: std::collections::BTreeSet<&str> =
        files.iter().filter_map(|f| f.split('/').next()).collect();
    let named = |f: &str| {
        (f.starts_with("docs/") && f.ends_with(".md"))
            || (f.starts_with("python/") && (f.ends_with(".py") || f.ends_with(".md")))
    };
    let (mut stale, mut checked) = (Vec::new(), 0usize);
    let mut sources: std::collections::BTreeMap<String, Option<String>> = Default::default();
    for doc in files.iter().filter(|f| named(f)) {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        let dir = Path::new(doc).parent().unwrap();
        for (i, line) in text.lines().enumerate() {
            let line = without_urls(line);
            let at = format!("{doc}:{}", i + 1);
            for tok in line.split(|c: char| !(c.is_ascii_alphanumeric() || "_./-".contains(c))) {
                let tok = tok.trim_end_matches('.');
                let tok = tok.strip_prefix("./").unwrap_or(tok);
                // docs.rs is the documentation host, not a file.
                if tok == "docs.rs" {
                    continue;
                }
                let Some(ext) = [".rs", ".py", ".md"].into_iter().find(|e| tok.ends_with(e)) else {
                    continue;
                };
                let ours = match tok.split_once('/') {
                    Some((first, _)) => top.contains(first),
                    None => ext == ".rs" && tok.len() > ext.len(),
                };
                if !ours {
                    continue;
                }
                checked += 1;
                let tail = format!("/{tok}");
                if !(root.join(tok).exists()
                    || root.join(dir).join(tok).exists()
                    || files.iter().any(|f| f.ends_with(&tail)))
                {
                    stale.push(format!("{at}: `{tok}`"));
                }
            }
            let mut rest = line.as_str();
            while let Some(i) = rest.find("neurogen_") {
                rest = &rest[i + "neurogen_".len()..];
                let krate: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase())
                    .collect();
                let Some(after) = rest[krate.len()..].strip_prefix("::") else {
                    continue;
                };
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if name.is_empty() {
                    continue;
                }
                // A crate of this workspace (not, say, a crate still to come).
                let src = sources.entry(krate.clone()).or_insert_with(|| {
                    let prefix = format!("crates/{krate}/src/");
                    let mine: Vec<&String> = files
                        .iter()
                        .filter(|f| f.starts_with(&prefix) && f.ends_with(".rs"))
                        .collect();
                    (!mine.is_empty()).then(|| {
                        mine.iter()
                            .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                });
                if let Some(src) = src {
                    checked += 1;
                    if !crate_has(root, &krate, src, &name) {
                        stale.push(format!("{at}: `neurogen_{krate}::{name}`"));
                    }
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} paths found: is the scan broken?"
    );
    assert!(
        stale.is_empty(),
        "paths and modules named in docs/ and python/ that do not exist:\n{}",
        stale.join("\n")
    );
}
