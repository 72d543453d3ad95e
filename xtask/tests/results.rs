//! The committed results (`docs/results/<name>/`) are what their command makes from their
//! `runs.csv` (and, for `flymodel` on CIFAR-10, `features.json`; for `single-directions`, `analysis/`): rerunning the command recorded in `command.txt` on a copy of the directory trains
//! nothing (every run is recorded, with the configuration hash this code computes) and writes
//! the same `report.md`, byte for byte except the line naming the data path and the device.
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::copy_dir;

fn results_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/results")
}

/// `report.md` without the line that names where the data was read and on which device
/// (`Data: ...` in the paper's figures, `- Data: ...` in the fruit-fly reports): the data's path
/// differs from machine to machine.
fn comparable(report: &str) -> String {
    report
        .lines()
        .filter(|l| !l.trim_start_matches("- ").starts_with("Data: "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn committed_results_are_rederived_from_their_runs_csv() {
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(results_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("command.txt").is_file())
        .collect();
    entries.sort();
    for dir in entries {
        let command = std::fs::read_to_string(dir.join("command.txt")).unwrap();
        let args: Vec<&str> = command.split_whitespace().collect();
        assert_eq!(
            args.first(),
            Some(&"reproduce"),
            "{}: {command}",
            dir.display()
        );
        let fig = args[1];
        // The paper's figures read CIFAR-10; the fruit-fly benchmark Fashion-MNIST unless
        // `--dataset` says otherwise, and writes into `flymodel[-DATASET]`.
        let dataset = args
            .iter()
            .position(|a| *a == "--dataset")
            .and_then(|i| args.get(i + 1).copied());
        let (data, sub) = match (fig, dataset) {
            ("flymodel", None | Some("fashion-mnist")) => {
                (neurogen_data::fashion_mnist_dir(), fig.to_string())
            }
            ("flymodel", Some("cifar10")) => {
                (neurogen_data::cifar10_archive(), format!("{fig}-cifar10"))
            }
            ("flymodel", Some(other)) => panic!(
                "{}: no data on these machines for --dataset {other}",
                dir.display()
            ),
            // Clark et al.'s GEVB study writes into `gevb[-conv][-signed][-cifar10]`, after its
            // flags (Fashion-MNIST unless --dataset cifar10).
            ("gevb", Some("mnist")) => panic!(
                "{}: no MNIST on these machines to re-derive it",
                dir.display()
            ),
            ("gevb", _) => {
                let flag = |f: &str| args.contains(&f);
                let sub = format!(
                    "{fig}{}{}{}",
                    if flag("--conv") { "-conv" } else { "" },
                    if flag("--signed") { "-signed" } else { "" },
                    if dataset == Some("cifar10") {
                        "-cifar10"
                    } else {
                        ""
                    },
                );
                let data = if dataset == Some("cifar10") {
                    neurogen_data::cifar10_archive()
                } else {
                    neurogen_data::fashion_mnist_dir()
                };
                (data, sub)
            }
            // Cornford et al.'s Dale study reads CIFAR-10 with --dataset cifar10 (into `dale`).
            ("dale", Some("cifar10")) => (neurogen_data::cifar10_archive(), fig.to_string()),
            // Cornford et al.'s Dale study and Lei et al.'s attention study read Fashion-MNIST
            // (--data).
            ("dale" | "attention", _) => (neurogen_data::fashion_mnist_dir(), fig.to_string()),
            // Béna & Goodman's modular study reads Fashion-MNIST (--data) and writes into
            // `modular[-SCHEME]`.
            ("modular", _) => {
                let scheme = args
                    .iter()
                    .position(|a| *a == "--scheme")
                    .and_then(|i| args.get(i + 1));
                let sub = match scheme {
                    Some(s) => format!("{fig}-{s}"),
                    None => fig.to_string(),
                };
                (neurogen_data::fashion_mnist_dir(), sub)
            }
            // CIFAR-10 for the CNN (--data); the MLP's Fashion-MNIST from its default place.
            ("single-directions", _) => (
                neurogen_data::fashion_mnist_dir().and(neurogen_data::cifar10_archive()),
                fig.to_string(),
            ),
            _ => (neurogen_data::cifar10_archive(), fig.to_string()),
        };
        let Some(data) = neurogen_testkit::data::or_skip(
            data,
            &format!("{}: its dataset is absent", dir.display()),
        ) else {
            continue;
        };
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join(&sub);
        copy_dir(&dir, &out);
        let before = std::fs::read(out.join("runs.csv")).unwrap();
        let want = std::fs::read_to_string(dir.join("report.md")).unwrap();
        let res = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .env(
                "NEUROGEN_CACHE_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-cache"),
            )
            .args(&args)
            .arg("--quiet")
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(tmp.path())
            .output()
            .unwrap();
        assert!(
            res.status.success(),
            "{}: {command} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&res.stderr)
        );
        assert_eq!(
            before,
            std::fs::read(out.join("runs.csv")).unwrap(),
            "{}: the command trained or changed runs; the committed runs.csv is not what this code records",
            dir.display()
        );
        let got = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert_eq!(
            comparable(&want),
            comparable(&got),
            "{}: report.md is not what the command makes from runs.csv",
            dir.display()
        );
        checked += 1;
    }
    if checked == 0 {
        eprintln!("SKIP: no docs/results/*/command.txt yet");
    }
}
