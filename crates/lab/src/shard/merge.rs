//! Merging a study's shards ([`merge()`]) into its `runs.csv`, refusing anything that would make
//! the merged store differ from one machine's: a run recorded with another configuration, a
//! run recorded twice with different results, a missing run, or a run whose saved files are
//! not where the study reads them.
use std::collections::BTreeMap;
use std::path::Path;

use super::{find_shards, read_plan, Refusal, Shard, ShardError, SHARDS_DIR};
use crate::store::{read_rows, write_rows, Row, RunStatus, RUNS_FILE};
use crate::study::RunSpec;

/// At most this many runs are listed in a refusal, then a count of the rest.
pub const MAX_LISTED: usize = 20;

/// How a refused merge tells the user what to do: the words of the program that runs shards.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeHints {
    /// What the merge is, for the lock it takes on each shard (shown to a shard that starts
    /// meanwhile), e.g. `reproduce merge fig2`.
    pub holder: String,
    /// How shard `I` of `N` is run, for a merge before any shard ran, e.g.
    /// `reproduce fig2 --shard I/N`.
    pub run_shard: String,
    /// How one shard is named when it is to be rerun: `{flag} 2/3`, e.g. `--shard`.
    pub shard_flag: String,
    /// What the shards and the merge must agree on, for a merge that finds other
    /// configuration hashes than the specs', e.g. `the shards and the merge must use the same
    /// settings`.
    pub same_settings: String,
    /// What a successful run saves ([`Row::saved_files`]), e.g. `checkpoint`.
    pub saved: String,
}

impl MergeHints {
    /// Plain words for the study `study`.
    pub fn new(study: &str) -> MergeHints {
        MergeHints {
            holder: format!("merge {study}"),
            run_shard: format!("{study} shard I/N"),
            shard_flag: "shard".into(),
            same_settings: "the shards and the merge must use the same settings".into(),
            saved: "saved file".into(),
        }
    }
}

/// Where a row came from: a shard's `runs.csv` or the study's own.
struct Source {
    /// The file, relative to the study directory (for messages).
    name: String,
    shard: Option<Shard>,
}

/// The row's fields as written to `runs.csv`, without its [`Row::VOLATILE_COLUMNS`]: equal
/// for two recordings of the same run.
fn results_of<R: Row>(row: &R) -> Result<Vec<String>, ShardError> {
    let mut w = ::csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let err = |source| {
        ShardError::Store(crate::store::StoreError::Write {
            path: RUNS_FILE.into(),
            source,
        })
    };
    w.serialize(row).map_err(err)?;
    let bytes = w
        .into_inner()
        .map_err(|e| err(::csv::Error::from(e.into_error())))?;
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let mut record = ::csv::StringRecord::new();
    rdr.read_record(&mut record).map_err(err)?;
    Ok(record
        .iter()
        .zip(R::COLUMNS)
        .filter(|(_, c)| !R::VOLATILE_COLUMNS.contains(c))
        .map(|(v, _)| v.to_string())
        .collect())
}

/// `lines` as a refusal lists them: one per line, indented, at most [`MAX_LISTED`], then a
/// count.
pub fn listing(lines: &[String]) -> String {
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

/// Merges the shards of the study in `dir` (and its `runs.csv`, if any) into `dir/runs.csv`
/// and returns the rows of `specs`, in `specs`' order. `specs` are every run of the study;
/// `owners_for(n)` gives the shard (1-based, 0: none) of each spec when the study is split
/// into `n` shards ([`super::owners`]), to name the shard of a missing run no plan lists.
/// Rows of `runs.csv` that are runs of no spec (other repeats, say) are kept, after the
/// merged ones.
///
/// Fails, writing nothing, when a shard is still running (its lock is held:
/// [`ShardError::Running`]), or ([`ShardError::Refused`]) when a recorded run's configuration
/// hash is not its spec's (naming where each hash was found), when a run is recorded twice
/// with different results, when runs are missing (naming them and the shard to rerun), or
/// when a successful run's saved files are missing. The caller holds the study's lock.
pub fn merge<S: RunSpec, R: Row>(
    dir: &Path,
    study: &str,
    specs: &[S],
    owners_for: impl Fn(usize) -> Vec<usize>,
    hints: &MergeHints,
) -> Result<Vec<R>, ShardError> {
    merge_with(dir, study, specs, owners_for, hints, true)
}

/// Folds what the shards of the study in `dir` recorded into `dir/runs.csv`, for a run on one
/// machine that goes on where the shards left off: as [`merge()`], with the same refusals
/// (a shard still running, another configuration hash, a run recorded twice with different
/// results, lost saved files), except that runs recorded nowhere are no error: they are left
/// out (the caller trains them). Returns the rows of `specs` recorded somewhere, in `specs`'
/// order. The caller holds the study's lock.
pub fn fold<S: RunSpec, R: Row>(
    dir: &Path,
    study: &str,
    specs: &[S],
    hints: &MergeHints,
) -> Result<Vec<R>, ShardError> {
    merge_with(dir, study, specs, |_| Vec::new(), hints, false)
}

/// [`merge()`] (`every_run`: runs recorded nowhere are refused) or [`fold`] (they are left out).
fn merge_with<S: RunSpec, R: Row>(
    dir: &Path,
    study: &str,
    specs: &[S],
    owners_for: impl Fn(usize) -> Vec<usize>,
    hints: &MergeHints,
    every_run: bool,
) -> Result<Vec<R>, ShardError> {
    let shards = find_shards(dir)?;
    // A shard still training would add runs after the merge: refuse while any holds its lock.
    for (s, shard_dir) in &shards {
        if let Err(lock) = neurogen_io::DirLock::acquire(shard_dir, &hints.holder) {
            return Err(ShardError::Running {
                study: study.to_string(),
                shard: *s,
                lock,
            });
        }
    }
    let main_csv = dir.join(RUNS_FILE);
    let mut sources: Vec<(Source, Vec<R>)> = vec![(
        Source {
            name: RUNS_FILE.into(),
            shard: None,
        },
        read_rows(&main_csv)?,
    )];
    let mut plans: BTreeMap<(String, usize), Vec<Shard>> = BTreeMap::new();
    for (s, shard_dir) in &shards {
        let name = format!("{SHARDS_DIR}/{}/{RUNS_FILE}", s.dir_name());
        sources.push((
            Source {
                name,
                shard: Some(*s),
            },
            read_rows(&shard_dir.join(RUNS_FILE))?,
        ));
        if let Some(plan) = read_plan(shard_dir)? {
            for r in plan.runs {
                plans.entry((r.group, r.repeat)).or_default().push(*s);
            }
        }
    }

    let mut hash_conflicts = Vec::new();
    let mut result_conflicts = Vec::new();
    let mut missing: Vec<(&S, String)> = Vec::new();
    let mut lost = Vec::new();
    let mut merged = Vec::with_capacity(specs.len());
    let mut counts: Vec<usize> = shards.iter().map(|(s, _)| s.count).collect();
    counts.dedup();
    let owners: Vec<(usize, Vec<usize>)> = counts.iter().map(|&n| (n, owners_for(n))).collect();
    for (k, spec) in specs.iter().enumerate() {
        let hash = spec.hash()?;
        let (group, repeat) = (spec.group(), spec.repeat());
        let found: Vec<(&Source, &R)> = sources
            .iter()
            .flat_map(|(src, rows)| rows.iter().map(move |r| (src, r)))
            .filter(|(_, r)| r.group() == group && r.repeat() == repeat)
            .collect();
        let wrong: Vec<String> = found
            .iter()
            .filter(|(_, r)| r.config_hash() != hash)
            .map(|(src, r)| format!("{} in {}", r.config_hash(), src.name))
            .collect();
        if !wrong.is_empty() {
            hash_conflicts.push(format!(
                "{group:?} repeat {repeat}: hash {}; these flags give {hash}",
                wrong.join(", ")
            ));
            continue;
        }
        let Some((first_src, first)) = found.first() else {
            let owner = match plans.get(&(group.to_string(), repeat)) {
                Some(s) => s
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                None => owners
                    .iter()
                    .map(|(n, o)| format!("{}/{n}", o.get(k).copied().unwrap_or(0)))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            missing.push((spec, owner));
            continue;
        };
        let theirs = results_of(*first)?;
        let mut differ = false;
        for (_, r) in &found[1..] {
            differ |= results_of(*r)? != theirs;
        }
        if differ {
            let names: Vec<&str> = found.iter().map(|(s, _)| s.name.as_str()).collect();
            result_conflicts.push(format!(
                "{group:?} repeat {repeat}: recorded in {} with different results",
                names.join(", ")
            ));
            continue;
        }
        if first.status() == RunStatus::Ok {
            for f in first.saved_files() {
                if !dir.join(&f).exists() {
                    lost.push(format!(
                        "{group:?} repeat {repeat}: {f} (recorded in {})",
                        first_src.name
                    ));
                }
            }
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

    let refused = |why, problem: String, lines: &[String]| ShardError::Refused {
        why,
        study: study.to_string(),
        dir: dir.to_path_buf(),
        problem,
        listing: listing(lines),
    };
    if !hash_conflicts.is_empty() {
        return Err(refused(
            Refusal::ChangedConfig,
            format!(
                "{} runs have another configuration hash than these flags give ({})",
                hash_conflicts.len(),
                hints.same_settings
            ),
            &hash_conflicts,
        ));
    }
    if !result_conflicts.is_empty() {
        return Err(refused(
            Refusal::DifferentResults,
            format!(
                "{} runs are recorded twice with different results (different machines or \
                 thread counts?); delete the wrong recording and its shard's row",
                result_conflicts.len()
            ),
            &result_conflicts,
        ));
    }
    if every_run && !missing.is_empty() {
        let lines: Vec<String> = missing
            .iter()
            .map(|(s, owner)| {
                if owner.is_empty() {
                    format!("{:?} repeat {}", s.group(), s.repeat())
                } else {
                    format!("{:?} repeat {} (shard {owner})", s.group(), s.repeat())
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
                "no shard has run yet ({}/{SHARDS_DIR} holds none): run `{}` for I = 1 .. N first",
                dir.display(),
                hints.run_shard
            )
        } else {
            format!(
                "rerun {} (with the same flags), then merge again",
                rerun
                    .iter()
                    .map(|s| format!("`{} {s}`", hints.shard_flag))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(refused(
            Refusal::Missing,
            format!(
                "{} of {} runs are missing; {hint}",
                missing.len(),
                specs.len()
            ),
            &lines,
        ));
    }
    if !lost.is_empty() {
        return Err(refused(
            Refusal::LostFiles,
            format!(
                "{} recorded runs have no {} in {} (did the shards write to another file system?)",
                lost.len(),
                hints.saved,
                dir.display()
            ),
            &lost,
        ));
    }
    let mut all = merged.clone();
    all.extend(
        sources[0]
            .1
            .iter()
            .filter(|r| {
                !specs
                    .iter()
                    .any(|s| s.group() == r.group() && s.repeat() == r.repeat())
            })
            .cloned(),
    );
    write_rows(&main_csv, &all)?;
    Ok(merged)
}
