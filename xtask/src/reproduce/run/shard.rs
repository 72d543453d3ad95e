//! Shards (`reproduce figN --shard I/N`) and merging them (`reproduce merge figN`).
//!
//! A figure's runs are split into replica batches (one group's repeats trained together, see
//! [`super::schedule`]); [`assign`] gives every batch to one of `N` shards, longest batches
//! first, each to the shard with the least work so far (epochs × runs), so that shards take
//! about the same time and a shard keeps the speed of replicas. The split depends only on the
//! figure, the scale and `--replicas`, so every shard computes the same one on its own.
//!
//! Shard `I` of `N` records its runs in a directory of its own, `figN/shards/I-of-N/` (its
//! `runs.csv`, its [`PLAN_FILE`], and the lock file that stops the same shard from running
//! twice), so shards on a shared file system never write the same file: their checkpoints and
//! curves go to the figure's `checkpoints/` and `curves/` under the run's own name, as without
//! shards. [`merge`] combines every shard's rows (and those of an existing `figN/runs.csv`)
//! into `figN/runs.csv`, refusing, with the runs named, any configuration-hash disagreement,
//! any run recorded twice with different results and any missing run (naming the shard that
//! should have recorded it).
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{read_runs, write_runs, RunRecord, RunSpec, RunStatus};
use crate::common::write_json_atomic;

/// The directory of a figure that holds the shard directories.
pub const SHARDS_DIR: &str = "shards";

/// The file in a shard's directory that lists the runs the shard is to record.
pub const PLAN_FILE: &str = "plan.json";

/// The file in a shard's directory that records the settings the shard ran with (the command
/// line's, e.g. the data and the scale), so that [`merge`] and an interim report need no flag
/// repeated ([`write_settings`], [`recorded_settings`]).
pub const SETTINGS_FILE: &str = "settings.json";

/// Shard `index` of `count` (both from 1: `--shard 2/3` is the second of three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    /// Which shard, 1 ..= `count`.
    pub index: usize,
    /// How many shards the figure is split into (>= 1).
    pub count: usize,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `I/N` with `1 <= I <= N`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let form = "expected I/N, shard I of N shards, with 1 <= I <= N (e.g. 1/4)";
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("--shard {s}: {form}"))?;
        let num = |x: &str, what: &str| {
            x.trim()
                .parse::<usize>()
                .map_err(|_| format!("--shard {s}: {what} {x:?} is not a whole number; {form}"))
        };
        let (index, count) = (num(i, "I")?, num(n, "N")?);
        if count == 0 {
            return Err(format!("--shard {s}: N must be at least 1; {form}"));
        }
        if index == 0 {
            return Err(format!(
                "--shard {s}: shards are numbered from 1 (1/{count} ... {count}/{count})"
            ));
        }
        if index > count {
            return Err(format!(
                "--shard {s}: there is no shard {index} of {count} (1/{count} ... {count}/{count})"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The shard's directory name (`2-of-3`).
    pub fn dir_name(&self) -> String {
        format!("{}-of-{}", self.index, self.count)
    }

    /// The shard's directory in the figure directory `fig_dir` (`fig_dir/shards/2-of-3`).
    pub fn dir(&self, fig_dir: &Path) -> PathBuf {
        fig_dir.join(SHARDS_DIR).join(self.dir_name())
    }

    /// Reads a directory name written by [`Shard::dir_name`].
    fn from_dir_name(name: &str) -> Option<Shard> {
        let (i, n) = name.split_once("-of-")?;
        format!("{i}/{n}").parse().ok()
    }
}

/// Gives each of the items of `costs` to one of `count` shards (returned: the 0-based shard of
/// each item): the costliest item first (ties: in order), each to the shard with the least
/// cost so far (ties: the lowest). Deterministic.
pub fn assign(costs: &[u64], count: usize) -> Vec<usize> {
    let count = count.max(1);
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(costs[i]));
    let mut load = vec![0u64; count];
    let mut out = vec![0; costs.len()];
    for i in order {
        let s = (0..count)
            .min_by_key(|&s| (load[s], s))
            .expect("count >= 1");
        out[i] = s;
        load[s] += costs[i];
    }
    out
}

/// The cost of training a replica batch: epochs × runs.
pub fn batch_cost(batch: &[RunSpec]) -> u64 {
    batch.iter().map(|s| s.epochs as u64).sum()
}

/// The batches of `batches` that belong to `shard`.
pub fn select(batches: Vec<Vec<RunSpec>>, shard: Shard) -> Vec<Vec<RunSpec>> {
    let costs: Vec<u64> = batches.iter().map(|b| batch_cost(b)).collect();
    let owner = assign(&costs, shard.count);
    batches
        .into_iter()
        .zip(owner)
        .filter(|(_, o)| *o + 1 == shard.index)
        .map(|(b, _)| b)
        .collect()
}

/// One run in a [`Plan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRun {
    /// Group display name.
    pub group: String,
    /// Repeat index.
    pub repeat: usize,
    /// Configuration hash the shard computed.
    pub config_hash: String,
}

/// What a shard is to record ([`PLAN_FILE`]), written when it starts, read by [`merge`] to
/// name the shard of a missing run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The figure.
    pub figure: String,
    /// `I/N`.
    pub shard: String,
    /// Replicas per batch the split was made with.
    pub replicas: usize,
    /// The shard's runs.
    pub runs: Vec<PlannedRun>,
}

/// Writes `shard`'s plan (the runs of `batches`) into its directory (atomically).
pub fn write_plan(
    dir: &Path,
    figure: &str,
    shard: Shard,
    replicas: usize,
    batches: &[Vec<RunSpec>],
) -> anyhow::Result<()> {
    let plan = Plan {
        figure: figure.to_string(),
        shard: shard.to_string(),
        replicas,
        runs: batches
            .iter()
            .flatten()
            .map(|s| PlannedRun {
                group: s.group.clone(),
                repeat: s.repeat,
                config_hash: s.hash(),
            })
            .collect(),
    };
    write_json_atomic(&dir.join(PLAN_FILE), &plan)
}

/// Writes the settings a shard runs with into its directory `shard_dir` ([`SETTINGS_FILE`],
/// atomically).
pub fn write_settings<T: Serialize>(shard_dir: &Path, settings: &T) -> anyhow::Result<()> {
    write_json_atomic(&shard_dir.join(SETTINGS_FILE), settings)
}

/// The settings the shards of the figure in `fig_dir` ran with ([`write_settings`]); None when
/// no shard recorded any (there are none, or they come from an xtask that did not record
/// them). Fails, naming the files, when one does not parse or two shards ran with different
/// settings.
pub fn recorded_settings<T: DeserializeOwned + PartialEq>(
    fig_dir: &Path,
) -> anyhow::Result<Option<T>> {
    let mut first: Option<(Shard, T)> = None;
    for (s, dir) in find_shards(fig_dir)? {
        let path = dir.join(SETTINGS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let settings: T = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged (the settings shard {s} ran with)",
                path.display()
            )
        })?;
        match &first {
            None => first = Some((s, settings)),
            Some((f, theirs)) => anyhow::ensure!(
                *theirs == settings,
                "{}: shards {f} and {s} ran with different settings (see their {SETTINGS_FILE}): \
                 a figure's shards must run with the same flags; rerun the wrong one",
                fig_dir.display()
            ),
        }
    }
    Ok(first.map(|(_, t)| t))
}

/// The shard directories under `fig_dir/shards`, in order.
pub fn find_shards(fig_dir: &Path) -> anyhow::Result<Vec<(Shard, PathBuf)>> {
    let root = fig_dir.join(SHARDS_DIR);
    if !root.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(&root).with_context(|| format!("reading {}", root.display()))? {
        let e = e?;
        if let Some(s) = e.file_name().to_str().and_then(Shard::from_dir_name) {
            if e.path().is_dir() {
                out.push((s, e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Where a row came from: a shard's `runs.csv` or the figure's own.
#[derive(Debug, Clone)]
struct Source {
    /// The file, relative to the figure directory (for messages).
    name: String,
    shard: Option<Shard>,
}

/// The columns a run's results determine: equal for two recordings of the same run on the
/// same machine class, whatever the timing or the replicas it was batched with.
fn results_of(r: &RunRecord) -> impl PartialEq + fmt::Debug + '_ {
    (
        (&r.figure, &r.group, r.repeat, r.seed, &r.config_hash),
        (&r.regularizers, r.reference_quirks, r.epochs, r.batch_size),
        (r.lr.to_bits(), r.train_images, r.test_images),
        (r.status, &r.message, &r.checkpoint, r.neurogenesis_events),
        (
            r.train_accuracy.map(f64::to_bits),
            r.train_loss.map(f64::to_bits),
            r.test_accuracy.map(f64::to_bits),
            r.test_loss.map(f64::to_bits),
        ),
    )
}

/// What a problem list looks like in an error: at most `MAX_LISTED` lines, then a count.
const MAX_LISTED: usize = 20;

fn listing(lines: &[String]) -> String {
    let mut s: String = lines
        .iter()
        .take(MAX_LISTED)
        .map(|l| format!("\n  {l}"))
        .collect();
    if lines.len() > MAX_LISTED {
        s += &format!("\n  ... and {} more", lines.len() - MAX_LISTED);
    }
    s
}

/// Merges the shards of the figure in `fig_dir` (and its `runs.csv`, if any) into
/// `fig_dir/runs.csv` and returns the rows of `specs`, in `specs`' order. `specs` are every
/// run of the figure; `batches_for(n)` gives the shard (1-based) of each spec when the figure
/// is split into `n` shards (to name the shard of a missing run no plan lists).
///
/// Fails, writing nothing, when a shard is still running (its lock is held), when a recorded
/// run's configuration hash is not its spec's (naming where each hash was found), when a run is
/// recorded twice with different results, when a successful run's checkpoint is missing, or
/// when runs are missing (naming them and the shard to rerun). The caller holds the figure's
/// lock.
pub fn merge(
    fig_dir: &Path,
    figure: &str,
    specs: &[RunSpec],
    batches_for: impl Fn(usize) -> Vec<usize>,
) -> anyhow::Result<Vec<RunRecord>> {
    let shards = find_shards(fig_dir)?;
    // A shard still training would add runs after the merge: refuse while any holds its lock.
    for (s, dir) in &shards {
        if let Err(e) = neurogen_io::DirLock::acquire(dir, &format!("reproduce merge {figure}")) {
            anyhow::bail!("{figure}: shard {s} is still running, merge once it has finished ({e})");
        }
    }
    let main_csv = fig_dir.join("runs.csv");
    let mut sources: Vec<(Source, Vec<RunRecord>)> = vec![(
        Source {
            name: "runs.csv".into(),
            shard: None,
        },
        read_runs(&main_csv)?,
    )];
    let mut plans: BTreeMap<(String, usize), Vec<Shard>> = BTreeMap::new();
    for (s, dir) in &shards {
        let rel = format!("{SHARDS_DIR}/{}/runs.csv", s.dir_name());
        sources.push((
            Source {
                name: rel,
                shard: Some(*s),
            },
            read_runs(&dir.join("runs.csv"))?,
        ));
        let plan_path = dir.join(PLAN_FILE);
        if plan_path.exists() {
            let text = std::fs::read_to_string(&plan_path)
                .with_context(|| format!("reading {}", plan_path.display()))?;
            let plan: Plan = serde_json::from_str(&text)
                .with_context(|| format!("{} is damaged", plan_path.display()))?;
            for r in plan.runs {
                plans.entry((r.group, r.repeat)).or_default().push(*s);
            }
        }
    }

    let mut hash_conflicts = Vec::new();
    let mut result_conflicts = Vec::new();
    let mut missing: Vec<(&RunSpec, String)> = Vec::new();
    let mut lost_checkpoints = Vec::new();
    let mut merged = Vec::with_capacity(specs.len());
    let counts: Vec<usize> = {
        let mut c: Vec<usize> = shards.iter().map(|(s, _)| s.count).collect();
        c.dedup();
        c
    };
    let owners: Vec<(usize, Vec<usize>)> = counts.iter().map(|&n| (n, batches_for(n))).collect();
    for (k, spec) in specs.iter().enumerate() {
        let hash = spec.hash();
        let found: Vec<(&Source, &RunRecord)> = sources
            .iter()
            .flat_map(|(src, rows)| rows.iter().map(move |r| (src, r)))
            .filter(|(_, r)| r.group == spec.group && r.repeat == spec.repeat)
            .collect();
        let wrong: Vec<String> = found
            .iter()
            .filter(|(_, r)| r.config_hash != hash)
            .map(|(src, r)| format!("{} in {}", r.config_hash, src.name))
            .collect();
        if !wrong.is_empty() {
            hash_conflicts.push(format!(
                "{:?} repeat {}: hash {}; these flags give {hash}",
                spec.group,
                spec.repeat,
                wrong.join(", ")
            ));
            continue;
        }
        let Some((_, first)) = found.first() else {
            let owner = match plans.get(&(spec.group.clone(), spec.repeat)) {
                Some(s) => s
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                None => owners
                    .iter()
                    .map(|(n, o)| format!("{}/{n}", o[k]))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            missing.push((spec, owner));
            continue;
        };
        let differing: Vec<&str> = found
            .iter()
            .filter(|(_, r)| results_of(r) != results_of(first))
            .map(|(src, _)| src.name.as_str())
            .collect();
        if !differing.is_empty() {
            let names: Vec<&str> = found.iter().map(|(s, _)| s.name.as_str()).collect();
            result_conflicts.push(format!(
                "{:?} repeat {}: recorded in {} with different results",
                spec.group,
                spec.repeat,
                names.join(", ")
            ));
            continue;
        }
        if first.status == RunStatus::Ok && !fig_dir.join(&first.checkpoint).exists() {
            lost_checkpoints.push(format!(
                "{:?} repeat {}: {} (recorded in {})",
                spec.group, spec.repeat, first.checkpoint, found[0].0.name
            ));
        }
        // Prefer a shard's row (the freshest) over an old one of runs.csv: they are equal in
        // every result column anyway.
        let best = found
            .iter()
            .rev()
            .find(|(s, _)| s.shard.is_some())
            .unwrap_or(&found[0]);
        merged.push(best.1.clone());
    }

    let dir = fig_dir.display();
    if !hash_conflicts.is_empty() {
        anyhow::bail!(
            "{figure}: cannot merge {dir}: {} runs have another configuration hash than these flags give \
             (the shards and the merge must use the same --scale, --data, --repeats, --epochs, --lr, \
             --reference-quirks and --compare-reference: leave them out, and merge reads the \
             shards' own); nothing was written:{}",
            hash_conflicts.len(),
            listing(&hash_conflicts)
        );
    }
    if !result_conflicts.is_empty() {
        anyhow::bail!(
            "{figure}: cannot merge {dir}: {} runs are recorded twice with different results \
             (different machines or thread counts?); delete the wrong recording and its shard's \
             row; nothing was written:{}",
            result_conflicts.len(),
            listing(&result_conflicts)
        );
    }
    if !missing.is_empty() {
        let lines: Vec<String> = missing
            .iter()
            .map(|(s, owner)| {
                if owner.is_empty() {
                    format!("{:?} repeat {}", s.group, s.repeat)
                } else {
                    format!("{:?} repeat {} (shard {owner})", s.group, s.repeat)
                }
            })
            .collect();
        let mut rerun: Vec<&str> = missing
            .iter()
            .flat_map(|(_, o)| o.split(", "))
            .filter(|o| !o.is_empty())
            .collect();
        rerun.sort();
        rerun.dedup();
        let hint = if shards.is_empty() {
            format!(
                "no shard has run yet ({dir}/{SHARDS_DIR} holds none): run `reproduce {figure} --shard I/N` for I = 1 .. N first"
            )
        } else {
            format!(
                "rerun {} (with the same flags), then merge again",
                rerun
                    .iter()
                    .map(|s| format!("`--shard {s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        anyhow::bail!(
            "{figure}: cannot merge {dir}: {} of {} runs are missing; {hint}; nothing was written:{}",
            missing.len(),
            specs.len(),
            listing(&lines)
        );
    }
    if !lost_checkpoints.is_empty() {
        anyhow::bail!(
            "{figure}: cannot merge {dir}: {} recorded runs have no checkpoint in {dir} (did the shards \
             write to another file system?); nothing was written:{}",
            lost_checkpoints.len(),
            listing(&lost_checkpoints)
        );
    }
    // Rows of runs.csv that are not runs of this configuration (other repeats) are kept.
    let mut all = merged.clone();
    all.extend(
        sources[0]
            .1
            .iter()
            .filter(|r| {
                !specs
                    .iter()
                    .any(|s| s.group == r.group && s.repeat == r.repeat)
            })
            .cloned(),
    );
    write_runs(&main_csv, &all)?;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_bad_ones_are_named() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
        for (bad, says) in [
            ("0/2", "numbered from 1"),
            ("3/2", "no shard 3 of 2"),
            ("x", "expected I/N"),
            ("1/0", "N must be at least 1"),
            ("a/2", "\"a\" is not a whole number"),
            ("1/-2", "\"-2\" is not a whole number"),
        ] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains(says) && e.contains(bad), "{bad}: {e}");
        }
        let s = Shard { index: 2, count: 3 };
        assert_eq!(Shard::from_dir_name(&s.dir_name()), Some(s));
        assert_eq!(Shard::from_dir_name("4-of-3"), None);
    }

    #[test]
    fn assignment_is_balanced_complete_and_deterministic() {
        // Dropout groups' batches cost more (more epochs).
        let costs = [8, 8, 8, 8, 11, 11, 4, 8, 8, 2];
        for n in 1..=5 {
            let a = assign(&costs, n);
            assert_eq!(a, assign(&costs, n));
            assert!(a.iter().all(|&s| s < n));
            let mut load = vec![0; n];
            for (i, &s) in a.iter().enumerate() {
                load[s] += costs[i];
            }
            let (lo, hi) = (load.iter().min().unwrap(), load.iter().max().unwrap());
            // Greedy longest-first: no shard exceeds another by more than the largest item.
            assert!(hi - lo <= 11, "{n} shards: loads {load:?}");
        }
        assert_eq!(assign(&[5, 3, 3], 2), vec![0, 1, 1]);
        // More shards than items: the extra ones get nothing.
        assert_eq!(assign(&[1, 1], 3), vec![0, 1]);
    }
}
