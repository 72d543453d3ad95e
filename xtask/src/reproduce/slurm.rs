//! `cargo xtask reproduce slurm figN --array N ...`: a Slurm array job that trains one shard of
//! the figure per task (`reproduce figN --shard I/N`) and a merge job (`reproduce merge figN`)
//! that runs once every task has succeeded (`--dependency=afterok`).
//!
//! Writes into `OUT/slurm/`: `figN-shards.sbatch` (the array; `--requeue`, so a preempted or
//! failed node's task is queued again, and rerunning a shard resumes it: the runs it already
//! recorded are kept), `figN-merge.sbatch`, and `figN-submit.sh`, which submits both, and prints
//! the commands. Every path in the scripts is absolute; the xtask binary and `--out` must be on
//! a file system the nodes share (docs/scale-out.md).
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::args::scale_name;
use super::{scale_of, FigureName, SlurmArgs, TranArgs};

/// The files [`run`] writes for one figure.
#[derive(Debug, Clone)]
pub struct SlurmScripts {
    /// The array job (`figN-shards.sbatch`).
    pub array: PathBuf,
    /// The merge job (`figN-merge.sbatch`).
    pub merge: PathBuf,
    /// Submits both, the merge after the array (`figN-submit.sh`).
    pub submit: PathBuf,
}

/// Writes the scripts and prints how to submit them.
pub fn run(args: &SlurmArgs) -> anyhow::Result<()> {
    let s = write(args)?;
    println!("wrote {}", s.array.display());
    println!("wrote {}", s.merge.display());
    println!("wrote {}", s.submit.display());
    println!("submit both (the merge job waits for every shard to succeed):");
    println!("  sh {}", quote(&s.submit.display().to_string()));
    println!("or by hand:");
    println!(
        "  jid=$(sbatch --parsable {}) && sbatch --dependency=afterok:${{jid%%;*}} {}",
        quote(&s.array.display().to_string()),
        quote(&s.merge.display().to_string())
    );
    Ok(())
}

/// Writes the array, merge and submit scripts of `args` into `OUT/slurm/` (atomically).
pub fn write(args: &SlurmArgs) -> anyhow::Result<SlurmScripts> {
    anyhow::ensure!(
        args.array >= 1,
        "--array {}: the array needs at least one task (one shard each)",
        args.array
    );
    // The flags are checked here, on the login node, not an hour later in the queue.
    scale_of(&args.tran)?;
    if args.tran.compare_reference && args.figure == FigureName::Fig5 {
        anyhow::bail!("--compare-reference covers fig2, fig3 and fig4, not fig5");
    }
    if args.tran.training.replicas() != "auto" {
        super::parse_replicas(args.tran.training.replicas(), &candle_core::Device::Cpu)?;
    }
    for (flag, v) in [
        ("--time", &args.time),
        ("--partition", &args.partition),
        ("--account", &args.account),
    ] {
        if let Some(v) = v {
            anyhow::ensure!(
                !v.is_empty() && !v.chars().any(|c| c.is_whitespace() || c == '#'),
                "{flag} {v:?}: expected one word (no spaces or #)"
            );
        }
    }
    for (flag, v) in [
        ("--cpus-per-task", args.cpus_per_task),
        ("--gpus-per-task", args.gpus_per_task),
    ] {
        if let Some(0) = v {
            anyhow::bail!("{flag} 0: give at least 1, or leave the flag out");
        }
    }
    if args.gpus_per_task.is_some() && args.tran.common.device == "cpu" {
        eprintln!(
            "note: --gpus-per-task without --device cuda: the tasks get GPUs but train on the CPU"
        );
    }
    if args.cpus_per_task.is_none() {
        eprintln!(
            "note: without --cpus-per-task each task gets the cluster's default (often 1 core) and trains with as many threads as the node has cores"
        );
    }
    let out = crate::common::ensure_dir(&args.tran.common.out)?;
    let out = absolute(&out)?;
    let mut opts = args.tran.clone();
    opts.common.out = out.clone();
    opts.data = opts.data.as_deref().map(absolute).transpose()?;
    opts.common.cache_dir = opts.common.cache_dir.as_deref().map(absolute).transpose()?;
    let bin = match &args.xtask {
        Some(b) => absolute(b)?,
        None => std::env::current_exe().context("cannot find the running xtask binary")?,
    };
    anyhow::ensure!(
        bin.is_file(),
        "--xtask {}: no such file (the binary the jobs run)",
        bin.display()
    );
    let name = args.figure.name();
    let dir = out.join("slurm");
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let flags = to_flags(&opts).join(" ");
    let bin = quote(&bin.display().to_string());
    let n = args.array;
    let logs = dir.join("logs");
    let mut resources = String::new();
    if let Some(c) = args.cpus_per_task {
        resources += &format!("#SBATCH --cpus-per-task={c}\n");
    }
    if let Some(g) = args.gpus_per_task {
        resources += &format!("#SBATCH --gpus-per-task={g}\n");
    }
    if let Some(t) = &args.time {
        resources += &format!("#SBATCH --time={t}\n");
    }
    if let Some(p) = &args.partition {
        resources += &format!("#SBATCH --partition={p}\n");
    }
    if let Some(a) = &args.account {
        resources += &format!("#SBATCH --account={a}\n");
    }
    let threads = "# Rayon threads: the task's cores (CPU results depend on the thread count, so every\n\
                   # shard of a figure must get the same number).\n\
                   if [ -z \"${RAYON_NUM_THREADS:-}\" ] && [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then\n  \
                   export RAYON_NUM_THREADS=\"$SLURM_CPUS_PER_TASK\"\nfi\n";
    let array = format!(
        "#!/bin/bash\n\
         # Written by `cargo xtask reproduce slurm {name} --array {n}`: shard I of {n} of {name} in\n\
         # array task I. Submit with {submit} (or see docs/scale-out.md).\n\
         #SBATCH --job-name=neurogen-{name}\n\
         #SBATCH --array=1-{n}\n\
         #SBATCH --requeue\n\
         #SBATCH --open-mode=append\n\
         #SBATCH --output={log}\n\
         {resources}\
         set -euo pipefail\n\
         shard=\"${{SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is an array job}}/{n}\"\n\
         {threads}\
         echo \"== $(date -u) {name} shard $shard on $(hostname), job ${{SLURM_JOB_ID:-?}}, restart ${{SLURM_RESTART_COUNT:-0}}\"\n\
         # Resume: a requeued (preempted) or resubmitted task runs this again, and the shard goes\n\
         # on from the runs already recorded in {out}/figN/shards/I-of-{n}/runs.csv.\n\
         exec {bin} reproduce {name} --shard \"$shard\" {flags}\n",
        submit = dir.join(format!("{name}-submit.sh")).display(),
        log = directive_path(&logs.join(format!("{name}-shard-%a-of-{n}.log"))),
        out = out.display(),
    );
    let merge = format!(
        "#!/bin/bash\n\
         # Written by `cargo xtask reproduce slurm {name} --array {n}`: merges the {n} shards of\n\
         # {name} into runs.csv and writes the report; submitted with\n\
         # --dependency=afterok:ARRAY_JOB, so it starts once every shard has succeeded.\n\
         #SBATCH --job-name=neurogen-{name}-merge\n\
         #SBATCH --open-mode=append\n\
         #SBATCH --output={log}\n\
         {resources}\
         set -euo pipefail\n\
         {threads}\
         echo \"== $(date -u) {name} merge on $(hostname), job ${{SLURM_JOB_ID:-?}}\"\n\
         exec {bin} reproduce merge {name} {flags}\n",
        log = directive_path(&logs.join(format!("{name}-merge.log"))),
    );
    let paths = SlurmScripts {
        array: dir.join(format!("{name}-shards.sbatch")),
        merge: dir.join(format!("{name}-merge.sbatch")),
        submit: dir.join(format!("{name}-submit.sh")),
    };
    let submit = format!(
        "#!/bin/sh\n\
         # Written by `cargo xtask reproduce slurm {name} --array {n}`: submits the array job and\n\
         # the merge job that waits for it. Extra arguments go to both sbatch calls.\n\
         set -eu\n\
         array=$(sbatch --parsable \"$@\" {a})\n\
         array=${{array%%;*}}\n\
         merge=$(sbatch --parsable \"$@\" --dependency=afterok:\"$array\" {m})\n\
         merge=${{merge%%;*}}\n\
         echo \"{name}: array job $array ({n} shards), merge job $merge (after all of them succeed)\"\n\
         echo \"logs: {logs}\"\n",
        a = quote(&paths.array.display().to_string()),
        m = quote(&paths.merge.display().to_string()),
        logs = logs.display(),
    );
    for (p, text) in [
        (&paths.array, &array),
        (&paths.merge, &merge),
        (&paths.submit, &submit),
    ] {
        neurogen_io::write_atomic(p, text.as_bytes())?;
        make_executable(p)?;
    }
    Ok(paths)
}

/// The command-line flags that give `a` again (shell-quoted), for the jobs' command lines.
pub fn to_flags(a: &TranArgs) -> Vec<String> {
    let (c, t) = (&a.common, &a.training);
    let mut v = Vec::new();
    let mut push = |flag: &str, value: String| {
        v.push(flag.to_string());
        v.push(quote(&value));
    };
    if let Some(d) = &a.data {
        push("--data", d.display().to_string());
    }
    push("--scale", scale_name(c.scale()).to_string());
    push("--device", c.device.clone());
    if let Some(r) = c.repeats {
        push("--repeats", r.to_string());
    }
    if let Some(e) = t.epochs {
        push("--epochs", e.to_string());
    }
    if let Some(lr) = t.lr {
        push("--lr", format!("{lr:?}"));
    }
    if let Some(d) = &c.cache_dir {
        push("--cache-dir", d.display().to_string());
    }
    push("--out", c.out.display().to_string());
    push("--replicas", t.replicas().to_string());
    if t.mix_groups {
        v.push("--mix-groups".into());
    }
    if a.reference_quirks {
        v.push("--reference-quirks".into());
    }
    if a.compare_reference {
        v.push("--compare-reference".into());
    }
    if c.quiet {
        v.push("--quiet".into());
    }
    v
}

/// `s` quoted for a POSIX shell (bare when it is plainly safe).
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A path as an `#SBATCH` directive's value: double-quoted when it holds spaces (sbatch splits
/// directives at whitespace outside quotes).
fn directive_path(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars().any(char::is_whitespace) {
        format!("\"{s}\"")
    } else {
        s
    }
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("cannot make {} absolute", p.display()))
}

#[cfg(unix)]
fn make_executable(p: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", p.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_the_shell() {
        assert_eq!(quote("/a/b-c_d.e"), "/a/b-c_d.e");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn job_flags_give_the_same_settings_again() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            opts: TranArgs,
        }
        let parse = |args: &[String]| {
            Cli::try_parse_from(
                std::iter::once("reproduce".to_string()).chain(args.iter().cloned()),
            )
            .unwrap()
            .opts
        };
        let given: Vec<String> = [
            "--scale",
            "smoke",
            "--replicas",
            "60",
            "--mix-groups",
            "--compare-reference",
            "--out",
            "some dir",
        ]
        .map(String::from)
        .to_vec();
        let a = parse(&given);
        // The jobs' flags are shell-quoted; unquote the one value that needed it.
        let flags: Vec<String> = to_flags(&a)
            .into_iter()
            .map(|f| f.trim_matches('\'').to_string())
            .collect();
        let b = parse(&flags);
        assert!(b.training.mix_groups && b.compare_reference && !b.reference_quirks);
        assert_eq!(
            (b.training.replicas(), b.common.out.as_path()),
            ("60", Path::new("some dir"))
        );
        assert!(
            !parse(&["--replicas".into(), "8".into()])
                .training
                .mix_groups
        );
    }
}
