//! The command line of `cargo xtask reproduce`: each study takes only its own flags, so a flag
//! of another study is clap's usage error (exit code 2), and `--help` lists only the study's
//! flags. (That every committed `command.txt`, the docs' commands and the Slurm jobs' command
//! lines parse is checked by the unit tests in xtask/src/main.rs.)
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

#[test]
fn a_flag_of_another_study_is_a_usage_error() {
    for (args, flag) in [
        (&["reproduce", "fig2", "--gem"][..], "--gem"),
        (&["reproduce", "fig2", "--dataset", "kmnist"], "--dataset"),
        (&["reproduce", "fig2", "--mlp-data", "x"], "--mlp-data"),
        (&["reproduce", "single-directions", "--gem"], "--gem"),
        (
            &["reproduce", "flymodel", "--compare-reference"],
            "--compare-reference",
        ),
        (&["reproduce", "merge", "fig2", "--gem"], "--gem"),
    ] {
        let o = xtask(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("unexpected argument '{flag}'")),
            "{args:?}: {err}"
        );
        // Nothing was written: the error comes before any work.
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_lists_only_the_studys_own_flags() {
    let help = |study: &str| {
        let o = xtask(&["reproduce", study, "--help"]);
        assert!(o.status.success(), "{study}");
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let fig2 = help("fig2");
    for own in [
        "--shard",
        "--data",
        "--scale",
        "--compare-reference",
        "--replicas",
        "--out",
    ] {
        assert!(fig2.contains(own), "fig2 --help lacks {own}:\n{fig2}");
    }
    for foreign in [
        "--gem",
        "--dataset",
        "--mlp-data",
        "--ewc-lambda",
        "--save-learners",
    ] {
        assert!(
            !fig2.contains(foreign),
            "fig2 --help lists {foreign}:\n{fig2}"
        );
    }
    let fly = help("flymodel");
    for own in [
        "--gem",
        "--dataset",
        "--ewc-lambda",
        "--scale",
        "--out",
        "--shard",
    ] {
        assert!(fly.contains(own), "flymodel --help lacks {own}:\n{fly}");
    }
    for foreign in [
        "--compare-reference",
        "--epochs",
        "--mix-groups",
        "--mlp-data",
    ] {
        assert!(
            !fly.contains(foreign),
            "flymodel --help lists {foreign}:\n{fly}"
        );
    }
    let sd = help("single-directions");
    assert!(sd.contains("--mlp-data") && sd.contains("--epochs"), "{sd}");
    for foreign in ["--shard", "--gem", "--reference-quirks", "--ewc-lambda"] {
        assert!(
            !sd.contains(foreign),
            "single-directions --help lists {foreign}:\n{sd}"
        );
    }
}
