//! Which runs are still to do: the (group, repeat) pairs of a figure not yet in `runs.csv`
//! (resuming), in batches of one group's repeats trained together as replicas (with
//! [`RunOptions::mix_groups`], of any groups that can train together), with progress bars; each
//! batch's rows are written to `runs.csv` at once. With a shard
//! ([`RunOptions::shard`]), only the shard's batches ([`super::shard`]), recorded in the
//! shard's own `runs.csv`.
//!
//! The engine's part (the run store, resuming, batching, the per-batch record and the progress
//! events) is [`neurogen_lab`]'s; this module makes the figure's runs and trains them, and
//! draws the events as progress bars and lines ([`FigureProgress`]).
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use neurogen_lab::events::{duration, Event, Observer};
use neurogen_lab::schedule::{batch_label, repeat_major, run_batches};
use neurogen_lab::{Arm, RunError, RunStore};
use neurogen_regularizers::RunPlan;

use super::record::{record, BatchTiming};
use super::shard;
use super::{train, FigureData, RunOptions, RunRecord, RunSpec, RunStatus};
use crate::common::{progress_line, ProgressObserver};
use crate::regs;
use crate::reproduce::figure::Group;

/// Runs every (group, repeat) not yet in `runs.csv`; returns all rows of this figure's groups.
/// With [`RunOptions::shard`], only the shard's runs, recorded in the shard's `runs.csv`
/// (`figN/shards/I-of-N/`, with its [`neurogen_lab::shard::PLAN_FILE`]); returns the shard's rows.
pub fn run_groups(
    opts: &RunOptions,
    data: &FigureData,
    groups: &[Group],
    repeats: usize,
) -> anyhow::Result<Vec<RunRecord>> {
    std::fs::create_dir_all(opts.dir.join("checkpoints"))
        .with_context(|| format!("cannot create {}", opts.dir.display()))?;
    std::fs::create_dir_all(opts.dir.join("curves"))?;
    let mut specs = run_specs(opts, data, groups, repeats);
    let store = match opts.shard {
        None => RunStore::new(&opts.dir),
        Some(s) => {
            let batches = replica_batches(&specs, groups, opts)?;
            let mine = shard::select(batches, s);
            let sdir = s.dir(&opts.dir);
            std::fs::create_dir_all(&sdir)
                .with_context(|| format!("cannot create {}", sdir.display()))?;
            shard::write_plan(&sdir, &opts.figure, s, opts.replicas.max(1), &mine)?;
            specs = mine.into_iter().flatten().collect();
            eprintln!(
                "{}: shard {s}: {} runs of {}",
                opts.figure,
                specs.len(),
                groups.len() * repeats
            );
            RunStore::new(&sdir)
        }
    };
    let rows: Vec<RunRecord> = store.read()?;
    // Validate every spec before any training, so a typo fails at once; say once per group
    // when a regulariser's schedule cannot act in the planned run (e.g. `every` longer than the
    // run): the run still trains as asked.
    let mut warned: Vec<&str> = Vec::new();
    for s in &specs {
        let set = regs::parse_set(&s.specs, None, s.reference_quirks)
            .with_context(|| format!("group {:?}", s.group))?;
        if warned.contains(&s.group.as_str()) {
            continue;
        }
        warned.push(&s.group);
        let plan = RunPlan::new(
            s.epochs,
            neurogen_model::training_batches(data.train.len(), s.batch_size.max(1), 0, 0).len(),
        );
        for w in set.schedule_warnings(&plan) {
            eprintln!("{}: warning: group {:?}: {w}", opts.figure, s.group);
        }
    }
    let todo = store.still_to_do(&specs, &rows)?;
    let total = specs.len();
    let mut progress = FigureProgress {
        opts,
        bar: overall_bar(opts, total, total - todo.len()),
    };
    // The batch's own error, as it was (the engine's error would only wrap it).
    let mut failed: Option<anyhow::Error> = None;
    let batches = replica_batches(&todo, groups, opts)?;
    let rows = run_batches(&store, rows, batches, total, &mut progress, |batch, _| {
        run_batch(opts, data, batch).map_err(|e| {
            let msg = e.to_string();
            failed = Some(e);
            msg.into()
        })
    })
    .map_err(|e| match (e, failed.take()) {
        (RunError::Batch { .. }, Some(own)) => own,
        (e, _) => e.into(),
    })?;
    if opts.shard.is_some() {
        let keys: Vec<(&str, usize)> = specs.iter().map(|s| (s.group.as_str(), s.repeat)).collect();
        return Ok(rows
            .into_iter()
            .filter(|r| keys.contains(&(r.group.as_str(), r.repeat)))
            .collect());
    }
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    Ok(rows
        .into_iter()
        .filter(|r| names.contains(&r.group.as_str()) && r.repeat < repeats)
        .collect())
}

/// `reproduce merge`: combines the figure's shards into its `runs.csv` ([`shard::merge`]) and
/// returns every run's row; trains nothing. Fails, naming the runs, when any is missing or
/// recorded inconsistently.
pub fn merge_groups(
    opts: &RunOptions,
    data: &FigureData,
    groups: &[Group],
    repeats: usize,
) -> anyhow::Result<Vec<RunRecord>> {
    // Group-major, as a single machine records them (batch after batch).
    let specs: Vec<RunSpec> =
        replica_batches(&run_specs(opts, data, groups, repeats), groups, opts)?
            .into_iter()
            .flatten()
            .collect();
    let batches = replica_batches(&specs, groups, opts)?;
    Ok(shard::merge(&opts.dir, &opts.figure, &specs, |n| {
        shard::owners(&specs, &batches, n)
    })?)
}

/// `reproduce interim`: the rows of the runs of `groups` recorded so far, in the figure's
/// `runs.csv` and in its shards' (a figure still training, or carried unfinished); trains and
/// writes nothing, takes no lock (every `runs.csv` is replaced atomically, so a reader sees
/// whole files). Each recorded run is checked against its spec as a resume checks it (a run
/// with another configuration hash is refused, not reported); a run recorded in several
/// places counts once. Fails when none of the figure's runs is recorded yet.
pub fn recorded_groups(
    opts: &RunOptions,
    data: &FigureData,
    groups: &[Group],
    repeats: usize,
) -> anyhow::Result<Vec<RunRecord>> {
    let specs = run_specs(opts, data, groups, repeats);
    let mut rows: Vec<RunRecord> = neurogen_lab::shard::interim_rows(&opts.dir, &specs)?;
    anyhow::ensure!(
        !rows.is_empty(),
        "{}: no run of this figure is recorded yet in {} (nor in its shards): nothing to report",
        opts.figure,
        opts.dir.join("runs.csv").display()
    );
    // Group by group, repeats in order: the order a finished figure records (and merges) them.
    rows.sort_by_key(|r| (groups.iter().position(|g| g.name == r.group), r.repeat));
    Ok(rows)
}

/// The shard (1-based) that records each of `specs` when split into `n` shards (for tests).
#[cfg(test)]
fn owners_of(specs: &[RunSpec], groups: &[Group], k: usize, n: usize) -> Vec<usize> {
    let batches = batches_of(specs, groups, k, false).unwrap();
    let mut out = Vec::new();
    for s in specs {
        for sh in 1..=n {
            let mine = shard::select(
                batches.clone(),
                shard::Shard {
                    index: sh,
                    count: n,
                },
            );
            if mine
                .iter()
                .flatten()
                .any(|x| x.group == s.group && x.repeat == s.repeat)
            {
                out.push(sh);
            }
        }
    }
    out
}

/// Every run of `groups` for `repeats` repeats, repeat-major (all groups of repeat 0 first:
/// [`repeat_major`]).
fn run_specs(
    opts: &RunOptions,
    data: &FigureData,
    groups: &[Group],
    repeats: usize,
) -> Vec<RunSpec> {
    let arms: Vec<Arm<RunSpec>> = groups
        .iter()
        .map(|g| {
            Arm::new(&g.key, &g.name, repeats, |r| RunSpec {
                figure: opts.figure.clone(),
                group: g.name.clone(),
                repeat: r,
                specs: g.specs.clone(),
                reference_quirks: opts.reference_quirks || g.quirks,
                epochs: g.epochs,
                batch_size: opts.batch_size,
                lr: opts.lr,
                dataset: data.dataset.clone(),
                train_images: data.train.len(),
                test_images: data.test.len(),
                curve_split: data.curve_name.clone(),
                model: data.model.clone(),
            })
        })
        .collect();
    repeat_major(&arms)
}

/// The engine's progress events as the figure's overall bar and per-run lines.
struct FigureProgress<'a> {
    opts: &'a RunOptions<'a>,
    bar: ProgressBar,
}

impl Observer for FigureProgress<'_> {
    fn event(&mut self, event: &Event) {
        let opts = self.opts;
        match event {
            Event::Started {
                file,
                total,
                recorded,
            } if *recorded > 0 => {
                let msg = format!(
                    "{}: resuming, {recorded} of {total} runs already recorded in {}",
                    opts.figure,
                    file.display()
                );
                // A shard says so even when quiet: its log is where a resume after preemption
                // shows.
                if opts.quiet && opts.shard.is_some() {
                    eprintln!("{msg}");
                } else {
                    progress_line(&self.bar, opts.quiet, &msg);
                }
            }
            Event::BatchStarted { label, .. } => self.bar.set_message(label.clone()),
            Event::BatchRecorded {
                runs,
                recorded,
                total,
                seconds_left,
                summaries,
            } => {
                self.bar.inc(*runs as u64);
                let eta = match seconds_left {
                    Some(s) => {
                        let eta = format!("about {} left", duration(*s));
                        self.bar.set_message(eta.clone());
                        format!(", {eta}")
                    }
                    None => String::new(),
                };
                for s in summaries {
                    let line = format!(
                        "{}: {s} ({recorded} of {total} runs recorded{eta})",
                        opts.figure
                    );
                    progress_line(&self.bar, opts.quiet, &line);
                }
            }
            Event::Finished { .. } => self.bar.finish_and_clear(),
            _ => {}
        }
    }
}

/// The figure's overall progress bar (hidden when quiet), at `done` of `total` runs.
fn overall_bar(opts: &RunOptions, total: usize, done: usize) -> ProgressBar {
    let overall = opts.progress.add(if opts.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total as u64)
    });
    overall.set_style(
        ProgressStyle::with_template(
            "{prefix} runs {pos}/{len} [{elapsed_precise}, about {eta} left] {msg}",
        )
        .expect("valid template"),
    );
    overall.set_prefix(opts.figure.clone());
    overall.set_position(done as u64);
    overall
}

/// The runs still to do, as batches trained together as replicas ([`batches_of`] with
/// `--replicas` and `--mix-groups`).
fn replica_batches(
    todo: &[RunSpec],
    groups: &[Group],
    opts: &RunOptions,
) -> anyhow::Result<Vec<Vec<RunSpec>>> {
    batches_of(todo, groups, opts.replicas.max(1), opts.mix_groups)
}

/// `todo` as batches of at most `k` runs, groups in figure order, repeats in order
/// ([`neurogen_lab::schedule::batches`]). Without `mix`, a batch holds repeats of one group.
/// With `mix`, a batch holds consecutive runs of the groups of one [`batch_class`] (e.g. all
/// of fig. 2's groups), so that one batch can be a whole figure.
fn batches_of(
    todo: &[RunSpec],
    groups: &[Group],
    k: usize,
    mix: bool,
) -> anyhow::Result<Vec<Vec<RunSpec>>> {
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    neurogen_lab::schedule::batches(todo, &names, k, |s| {
        if mix {
            batch_class(s)
        } else {
            Ok(s.group.clone())
        }
    })
}

/// Which runs can train as replicas of one model: those with the same epochs, minibatch size
/// and optimiser settings after their regularisers' `configure_optimizer` (weight decay changes
/// Adam's), as `train_replicas` requires; a group with additive growth only with itself (all
/// replicas of a model must keep one shape).
fn batch_class(spec: &RunSpec) -> anyhow::Result<String> {
    let set = regs::parse_set(&spec.specs, None, spec.reference_quirks)
        .with_context(|| format!("group {:?}", spec.group))?;
    let mut adam = neurogen_model::AdamConfig {
        lr: spec.lr,
        ..neurogen_model::AdamConfig::default()
    };
    regs::build(&set, 0)?.configure_optimizer(&mut adam);
    let grows = set.specs.iter().any(|r| {
        matches!(r, neurogen_regularizers::RegularizerSpec::Neurogenesis(c)
            if c.growth == neurogen_regularizers::Growth::Additive)
    });
    let own = if grows {
        format!(", group {}", spec.group)
    } else {
        String::new()
    };
    Ok(format!(
        "epochs {}, batch {}, {adam:?}{own}",
        spec.epochs, spec.batch_size
    ))
}

/// Trains one batch of runs (one group's repeats, or with `--mix-groups` runs of several) and
/// records each (checkpoint, curves, row).
fn run_batch(
    opts: &RunOptions,
    data: &FigureData,
    batch: &[RunSpec],
) -> anyhow::Result<Vec<RunRecord>> {
    let mut runs = batch
        .iter()
        .map(|s| train::prepare(&opts.device, data, s))
        .collect::<Result<Vec<_>, _>>()?;
    let spec0 = &batch[0];
    let steps =
        neurogen_model::train::training_batches(data.train.len(), spec0.batch_size, 0, 0).len();
    let label = batch_label(batch);
    let mut obs = ProgressObserver::new(
        spec0.epochs,
        steps,
        spec0.batch_size * batch.len(),
        &format!("  {label}"),
        opts.quiet,
    )
    .in_multi(opts.progress);
    let t0 = Instant::now();
    let outcomes = train::train(&mut runs, data, &mut obs, &label)?;
    obs.finish();
    let timing = BatchTiming {
        wall_seconds: t0.elapsed().as_secs_f64(),
        replicas: batch.len(),
    };
    let mut rows = Vec::with_capacity(batch.len());
    for ((spec, run), outcome) in batch.iter().zip(runs).zip(outcomes) {
        let row = record(&opts.dir, &opts.device, data, spec, run, outcome, timing)?;
        if row.status == RunStatus::Failed {
            opts.progress
                .println(format!(
                    "  {} r{}: FAILED: {}",
                    row.group, row.repeat, row.message
                ))
                .ok();
        }
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurogen_model::ModelConfig;
    use neurogen_studies::tran2022::scale::{Scale, ScaleName};
    use std::path::Path;

    /// The runs of `specs` not yet recorded in `rows` (read from `csv_path`); fails if a
    /// recorded run has another configuration hash than its spec now
    /// ([`neurogen_lab::store::still_to_do`]).
    fn still_to_do(
        specs: &[RunSpec],
        rows: &[RunRecord],
        csv_path: &Path,
    ) -> anyhow::Result<Vec<RunSpec>> {
        Ok(neurogen_lab::store::still_to_do(csv_path, specs, rows)?)
    }

    fn spec(group: &str, repeat: usize) -> RunSpec {
        RunSpec {
            figure: "fig3".into(),
            group: group.into(),
            repeat,
            specs: vec![],
            reference_quirks: false,
            epochs: 1,
            batch_size: 4,
            lr: 2e-4,
            dataset: "cifar10".into(),
            train_images: 8,
            test_images: 8,
            curve_split: "test".into(),
            model: ModelConfig::cifar10(),
        }
    }

    #[test]
    fn durations_read_as_a_person_would_say_them() {
        assert_eq!(duration(0.4), "0 s");
        assert_eq!(duration(99.0), "99 s");
        assert_eq!(duration(100.0), "2 min");
        assert_eq!(duration(5_999.0), "100 min");
        assert_eq!(duration(6_000.0), "1 h 40 min");
        assert_eq!(duration(11.0 * 3600.0 + 29.0), "11 h 00 min");
        assert_eq!(duration(-3.0), "0 s");
    }

    #[test]
    fn batches_hold_one_group_and_at_most_k_repeats() {
        let groups: Vec<Group> = ["A", "B"]
            .iter()
            .map(|n| Group::new(&n.to_lowercase(), n, &[], &Scale::new(ScaleName::Smoke)).unwrap())
            .collect();
        // Repeat-major, as run_groups lists them; repeat 1 of A already done.
        let todo = vec![
            spec("A", 0),
            spec("B", 0),
            spec("B", 1),
            spec("A", 2),
            spec("B", 2),
        ];
        let b = batches_of(&todo, &groups, 2, false).unwrap();
        let names: Vec<String> = b.iter().map(|x| batch_label(x)).collect();
        assert_eq!(names, ["A r0-r2", "B r0-r1", "B r2"]);
        assert_eq!(batches_of(&todo, &groups, 1, false).unwrap().len(), 5);
    }

    #[test]
    fn mixed_batches_join_only_groups_that_can_train_together() {
        let scale = Scale::new(ScaleName::Smoke);
        let groups: Vec<Group> = [
            ("a", "A", vec![]),
            (
                "b",
                "B",
                vec!["neurogenesis:n=2,every=4,until_epoch=1".to_string()],
            ),
            ("c", "C", vec!["weight-decay:lambda=0.001".to_string()]),
            (
                "d",
                "D",
                vec!["neurogenesis:n=2,every=4,until_epoch=1,growth=additive".to_string()],
            ),
            ("e", "E", vec!["freeze".to_string()]),
        ]
        .iter()
        .map(|(id, n, specs)| Group::new(id, n, specs, &scale).unwrap())
        .collect();
        let with = |g: &Group, r: usize| RunSpec {
            specs: g.specs.clone(),
            ..spec(&g.name, r)
        };
        let mut todo: Vec<RunSpec> = (0..2)
            .flat_map(|r| groups.iter().map(move |g| (g, r)))
            .map(|(g, r)| with(g, r))
            .collect();
        // A group with more epochs (dropout's extra ones) is a class of its own.
        let mut longer = spec("F", 0);
        longer.epochs = 3;
        todo.push(longer);
        let mut all_groups = groups.clone();
        all_groups.push(Group::new("f", "F", &[], &scale).unwrap());
        let names = |k: usize| -> Vec<String> {
            batches_of(&todo, &all_groups, k, true)
                .unwrap()
                .iter()
                .map(|x| batch_label(x))
                .collect()
        };
        // A, B and E (no regulariser, turnover, frozen layers) share settings; C's weight decay
        // changes Adam's, D grows, F trains longer.
        assert_eq!(
            names(64),
            ["6 runs: A r0 … E r1", "C r0-r1", "D r0-r1", "F r0"]
        );
        assert_eq!(
            names(4),
            [
                "4 runs: A r0 … B r1",
                "E r0-r1",
                "C r0-r1",
                "D r0-r1",
                "F r0"
            ]
        );
        // Without mixing: one group per batch, as before.
        assert_eq!(batches_of(&todo, &all_groups, 64, false).unwrap().len(), 6);
    }

    #[test]
    fn every_run_belongs_to_exactly_one_shard_in_whole_batches() {
        let groups: Vec<Group> = ["A", "B", "C"]
            .iter()
            .map(|n| Group::new(&n.to_lowercase(), n, &[], &Scale::new(ScaleName::Smoke)).unwrap())
            .collect();
        let specs: Vec<RunSpec> = (0..5)
            .flat_map(|r| ["A", "B", "C"].map(|g| spec(g, r)))
            .collect();
        for n in 1..=4 {
            let owners = owners_of(&specs, &groups, 2, n);
            // Exactly one shard per run.
            assert_eq!(owners.len(), specs.len(), "{n} shards");
            // Replica batches are not split: repeats 0-1, 2-3 of a group share a shard.
            for g in ["A", "B", "C"] {
                let of = |r: usize| {
                    owners[specs
                        .iter()
                        .position(|s| s.group == g && s.repeat == r)
                        .unwrap()]
                };
                assert_eq!(of(0), of(1));
                assert_eq!(of(2), of(3));
            }
        }
    }

    fn row_of(s: &RunSpec) -> RunRecord {
        let mut text = String::from(
            "figure,group,repeat,seed,config_hash,regularizers,reference_quirks,epochs,batch_size,lr,\
             train_images,test_images,device,status,message,train_accuracy,train_loss,test_accuracy,\
             test_loss,neurogenesis_events,wall_seconds,images_per_second,checkpoint,replicas\n",
        );
        text += &format!(
            "fig3,{},{},0,{},none,false,1,4,0.001,8,8,cpu,ok,,50.0,1.0,40.0,1.2,0,1.0,8.0,c,1\n",
            s.group,
            s.repeat,
            s.hash()
        );
        let mut rdr = ::csv::Reader::from_reader(text.as_bytes());
        rdr.deserialize().next().unwrap().unwrap()
    }

    #[test]
    fn recorded_runs_are_skipped_and_changed_ones_refused() {
        let specs = vec![spec("A", 0), spec("B", 0), spec("A", 1)];
        let rows = vec![row_of(&specs[1])];
        let todo = still_to_do(&specs, &rows, Path::new("runs.csv")).unwrap();
        let left: Vec<String> = todo.iter().map(|s| s.stem()).collect();
        assert_eq!(left, ["a-r00", "a-r01"]);
        let mut changed = specs.clone();
        changed[1].epochs = 2;
        let err = still_to_do(&changed, &rows, Path::new("runs.csv")).unwrap_err();
        assert!(err.to_string().contains("different configuration"), "{err}");
    }
}
