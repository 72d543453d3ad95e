//! neurogen's command line (`cargo xtask ...`).
use clap::{Parser, Subcommand};

mod analyze;
mod bench;
mod common;
mod data;
mod eval;
mod plausibility;
mod regs;
mod reproduce;
mod train;

/// neurogen: reproduce Tran et al. (PNAS 2022) and study brain-inspired regularisers.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect datasets (CIFAR-10, Fashion-MNIST).
    Data(data::DataArgs),
    /// Compare groups in a results CSV: one-way ANOVA, Tukey's HSD, pairwise Welch t-tests.
    Analyze(analyze::AnalyzeArgs),
    /// Train one network; writes model.safetensors and metrics.json.
    Train(train::TrainArgs),
    /// Loss and accuracy of a checkpoint on a split.
    Eval(eval::EvalArgs),
    /// Reproduce a study end to end: the figures of Tran et al. (PNAS 2022), FlyModel, single
    /// directions (one subcommand each, with only its own flags).
    Reproduce(Box<reproduce::ReproduceArgs>),
    /// Measure speed: training and evaluation images per second.
    Bench(bench::BenchArgs),
    /// Biological-plausibility report of a checkpoint of the paper's CNN: Dale compliance,
    /// weight and activity sparsity, weight-magnitude fits.
    Plausibility(plausibility::PlausibilityArgs),
}

fn main() -> anyhow::Result<()> {
    // Before any thread exists: keep candle's spin-waiting pool from competing with rayon
    // (about 3x faster training at batch 4 on 2 cores; see docs/performance.md).
    neurogen_model::runtime::prefer_rayon_threads();
    neurogen_model::runtime::tune_allocator();
    let cli = Cli::parse();
    match cli.command {
        Command::Data(args) => data::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Plausibility(args) => plausibility::run(args),
        Command::Reproduce(args) => reproduce::run(*args),
        Command::Bench(args) => bench::run(args),
    }
}

/// The command line keeps its syntax (issue #39): every committed `command.txt`, every
/// `cargo xtask reproduce` command in the docs' code blocks and the Slurm jobs' command lines
/// parse with this clap definition, and a flag of another study is refused.
#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use clap::Parser;

    use super::{Cli, Command};
    use crate::reproduce::{FigureName, Study};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask is in the workspace")
            .to_path_buf()
    }

    /// `line` split into words as a POSIX shell does for plain words, '...' and "..." (no
    /// expansions: the lines tested hold none but `"$shard"`, substituted before).
    fn words(line: &str) -> Vec<String> {
        let (mut out, mut word, mut quote, mut any) = (Vec::new(), String::new(), None, false);
        for c in line.chars() {
            match (quote, c) {
                (None, '\'' | '"') => (quote, any) = (Some(c), true),
                (Some(q), c) if c == q => quote = None,
                (None, c) if c.is_whitespace() => {
                    if any {
                        out.push(std::mem::take(&mut word));
                    }
                    any = false;
                }
                (_, c) => (word, any) = (word + &c.to_string(), true),
            }
        }
        assert!(quote.is_none(), "unbalanced quotes in {line:?}");
        if any {
            out.push(word);
        }
        out
    }

    fn parse(line: &str) -> Result<Study, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("xtask".to_string()).chain(words(line)))?;
        match cli.command {
            Command::Reproduce(r) => Ok(r.study),
            _ => panic!("{line:?} is not a reproduce command"),
        }
    }

    fn command_txts(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                command_txts(&p, out);
            } else if p.file_name().is_some_and(|n| n == "command.txt") {
                out.push(p);
            }
        }
    }

    #[test]
    fn every_committed_command_parses() {
        let mut files = Vec::new();
        command_txts(&root().join("docs/results"), &mut files);
        assert!(files.len() >= 8, "{files:?}");
        for f in files {
            let line = std::fs::read_to_string(&f).unwrap();
            if let Err(e) = parse(line.trim()) {
                panic!("{}: {line:?} no longer parses:\n{e}", f.display());
            }
        }
    }

    /// The `cargo xtask reproduce` commands of the docs' code blocks, continuation lines
    /// joined, without those that show a synopsis (`[--flag]`, `figN`, `STUDY`, `...`).
    fn doc_commands() -> Vec<(String, String)> {
        let root = root();
        let mut docs = vec![root.join("README.md")];
        for dir in ["docs", "docs/results"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "md") {
                    docs.push(p);
                }
            }
        }
        let mut out = Vec::new();
        for doc in docs {
            let text = std::fs::read_to_string(&doc).unwrap();
            let mut lines = text.lines();
            let mut fenced = false;
            while let Some(l) = lines.next() {
                if l.trim_start().starts_with("```") {
                    fenced = !fenced;
                }
                let Some((_, cmd)) = l.split_once("cargo xtask reproduce") else {
                    continue;
                };
                let mut cmd = format!("reproduce{cmd}");
                while cmd.trim_end().ends_with('\\') {
                    let next = lines.next().unwrap_or_default();
                    cmd = format!("{} {}", cmd.trim_end().trim_end_matches('\\'), next.trim());
                }
                let cmd = cmd.split(" #").next().unwrap().trim().to_string();
                let synopsis = ["[", "<", "...", "…", "figN", "STUDY", "I/N", "|", "`"]
                    .iter()
                    .any(|x| cmd.contains(x));
                if fenced && !synopsis {
                    out.push((doc.display().to_string(), cmd));
                }
            }
        }
        out
    }

    #[test]
    fn every_reproduce_command_in_the_docs_parses() {
        let cmds = doc_commands();
        assert!(cmds.len() >= 10, "{cmds:?}");
        for (doc, cmd) in cmds {
            if let Err(e) = parse(&cmd) {
                panic!("{doc}: {cmd:?} does not parse:\n{e}");
            }
        }
    }

    #[test]
    fn the_slurm_jobs_command_lines_parse_to_the_same_settings() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out dir");
        let bin = std::env::current_exe().unwrap();
        let line = format!(
            "reproduce slurm fig4 --array 3 --scale smoke --repeats 3 --epochs 1 --lr 0.002 \
             --replicas 8 --mix-groups --compare-reference --quiet --data '{}' --out '{}' --xtask '{}'",
            dir.path().join("cifar 10").display(),
            out.display(),
            bin.display()
        );
        let Study::Slurm(s) = parse(&line).unwrap() else {
            panic!("not slurm")
        };
        let scripts = crate::reproduce::slurm::write(&s).unwrap();
        let want = crate::reproduce::slurm::to_flags(&s.tran);
        let exec_line = |p: &Path| -> String {
            let text = std::fs::read_to_string(p).unwrap();
            let l = text.lines().find(|l| l.starts_with("exec ")).unwrap();
            let w = words(&l.replace("\"$shard\"", "2/3"));
            assert_eq!(Path::new(&w[1]), bin, "{l}");
            w[2..].join("\u{0}")
        };
        let shard = exec_line(&scripts.array);
        let Study::Fig4(a) = parse_words(&shard) else {
            panic!("{shard:?}")
        };
        assert_eq!(a.shard.map(|s| s.to_string()).as_deref(), Some("2/3"));
        let merge = exec_line(&scripts.merge);
        let Study::Merge(m) = parse_words(&merge) else {
            panic!("{merge:?}")
        };
        assert_eq!(m.figure, FigureName::Fig4);
        // The same settings as given (paths made absolute), in both jobs.
        for tran in [&a.tran, &m.tran] {
            assert_eq!(crate::reproduce::slurm::to_flags(tran), want);
        }
    }

    /// Parses words joined by NUL (already split by the shell).
    fn parse_words(joined: &str) -> Study {
        let cli = Cli::try_parse_from(std::iter::once("xtask").chain(joined.split('\u{0}')))
            .unwrap_or_else(|e| panic!("{joined:?}:\n{e}"));
        match cli.command {
            Command::Reproduce(r) => r.study,
            _ => panic!("not reproduce"),
        }
    }

    #[test]
    fn a_flag_of_another_study_is_refused() {
        for line in [
            "reproduce fig2 --gem",
            "reproduce fig2 --dataset kmnist",
            "reproduce fig2 --mlp-data x",
            "reproduce fig2 --ewc-lambda 1",
            "reproduce all --save-learners",
            "reproduce merge fig2 --shard 1/2",
            "reproduce slurm fig2 --array 2 --shard 1/2",
            "reproduce single-directions --gem",
            "reproduce single-directions --reference-quirks",
            "reproduce single-directions --compare-reference",
            "reproduce single-directions --ewc-lambda 1",
            "reproduce single-directions --shard 1/2",
            "reproduce flymodel --epochs 3",
            "reproduce flymodel --lr 0.1",
            "reproduce flymodel --mix-groups",
            "reproduce flymodel --replicas 4",
            "reproduce flymodel --reference-quirks",
            "reproduce flymodel --mlp-data x",
        ] {
            let flag = line
                .split_whitespace()
                .find(|w| w.starts_with("--"))
                .unwrap();
            let flag = if line.starts_with("reproduce slurm") || line.starts_with("reproduce merge")
            {
                "--shard"
            } else {
                flag
            };
            match parse(line) {
                Ok(s) => panic!("{line:?} was accepted: {s:?}"),
                Err(e) => {
                    assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument, "{line}");
                    assert!(
                        e.to_string()
                            .contains(&format!("unexpected argument '{flag}'")),
                        "{line}: {e}"
                    );
                }
            }
        }
        // Studies that are not sharded have no merge or Slurm jobs.
        for line in [
            "reproduce merge single-directions",
            "reproduce slurm single-directions --array 2",
            "reproduce interim single-directions",
        ] {
            let e = parse(line).unwrap_err();
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::InvalidValue,
                "{line}: {e}"
            );
        }
    }
}
