//! The study's report and plot, from its `runs.csv` rows alone (and `features.json` for the
//! extractor): the settings, the seen-class accuracy after each task, final accuracy and memory
//! loss, the accuracy matrices, the papers' published numbers, and the claims decided by the
//! engine ([`neurogen_lab::claims::decide`]: one verdict rule, Holm across the paired claims).
use std::fmt::Write as _;
use std::path::Path;

use neurogen_analysis::plot::{Curve, Labels, LinePlot};
use neurogen_analysis::stats::summarize;
use neurogen_lab::claims::{decide, Claim, Expect, Samples, Value};
use neurogen_lab::report::Report;

use super::data::{FeatureRecord, EXTRACTOR_SPLIT_SEED};
use super::error::Result;
use super::settings::{Benchmark, FlyScale, Method};
use super::study::FlyRow;

/// Final accuracy on all classes after the last task.
pub const FINAL_ACCURACY: Value = Value::new("final_accuracy", "final accuracy", "", 3, true);
/// Mean memory loss over the tasks before the last (lower is better).
pub const MEMORY_LOSS: Value = Value::new("memory_loss", "memory loss", "", 3, false);
/// The offline MLP's final accuracy minus FlyModel's, by repeat (lower is closer).
pub const OFFLINE_GAP: Value = Value::new(
    "offline_gap",
    "offline − FlyModel final accuracy",
    "",
    3,
    false,
);

/// The bound of the two thresholded claims (ours: the paper states no number).
pub const THRESHOLD: f64 = 0.10;

/// Where the data was read, for the report's `Data:` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sources {
    /// The benchmark's dataset.
    pub main: String,
    /// MNIST-20's Fashion-MNIST.
    pub fashion: Option<String>,
}

/// The rows of `method`, by repeat.
fn runs_of(rows: &[FlyRow], m: Method) -> Vec<&FlyRow> {
    let mut v: Vec<&FlyRow> = rows.iter().filter(|r| r.method == m.key()).collect();
    v.sort_by_key(|r| r.repeat);
    v
}

/// Mean and SD over repeats of `f(run)`, and n.
fn stats(runs: &[&FlyRow], f: impl Fn(&FlyRow) -> f64) -> (f64, f64, usize) {
    let v: Vec<f64> = runs.iter().map(|r| f(r)).collect();
    match summarize(&v) {
        Ok(s) => (s.mean, s.sd, s.n),
        Err(_) => (v.first().copied().unwrap_or(f64::NAN), f64::NAN, v.len()),
    }
}

/// Seen-class accuracy after task `i` (NaN where the run has none).
fn seen(r: &FlyRow, i: usize) -> f64 {
    r.seen_accuracy().get(i).copied().unwrap_or(f64::NAN)
}

fn pm(mean: f64, sd: f64) -> String {
    if sd.is_finite() {
        format!("{mean:.3} ± {sd:.3}")
    } else {
        format!("{mean:.3}")
    }
}

/// `n` with thousands separators (`60,000`).
pub fn thousands(n: usize) -> String {
    let d: Vec<char> = n.to_string().chars().collect();
    let head = d.len() - 3 * ((d.len() - 1) / 3);
    let mut o: String = d[..head].iter().collect();
    for group in d[head..].chunks(3) {
        o.push(',');
        o.extend(group);
    }
    o
}

/// Draws the seen-class accuracy after each task (mean ± SD per method) as
/// `dir/seen_accuracy.{svg,png}`; returns the SVG's name.
pub fn plot(dir: &Path, s: &FlyScale, benchmark: Benchmark, rows: &[FlyRow]) -> Result<String> {
    let t = s.tasks(benchmark);
    let mut curves = Vec::new();
    for m in Method::ALL {
        let runs = runs_of(rows, m);
        if runs.is_empty() {
            continue;
        }
        let finite = |sd: f64| if sd.is_finite() { sd } else { 0.0 };
        let (x, y, err): (Vec<f64>, Vec<f64>, Vec<f64>) = if m == Method::Offline {
            let (mean, sd, _) = stats(&runs, |r| r.final_accuracy);
            (
                (1..=t).map(|i| i as f64).collect(),
                vec![mean; t],
                vec![finite(sd); t],
            )
        } else {
            let mut x = Vec::new();
            let mut y = Vec::new();
            let mut e = Vec::new();
            for i in 0..t {
                let (mean, sd, _) = stats(&runs, |r| seen(r, i));
                x.push((i + 1) as f64);
                y.push(mean);
                e.push(finite(sd));
            }
            (x, y, e)
        };
        curves.push(Curve {
            label: m.name().into(),
            x,
            y,
            err: Some(err),
        });
    }
    let fig = LinePlot {
        curves,
        labels: Labels::new(
            "Class-incremental accuracy on all classes seen so far (mean ± SD)",
            "tasks learnt",
            "accuracy on seen classes",
        ),
    };
    Ok(neurogen_lab::plot::save_plot(dir, "seen_accuracy", &fig)?)
}

/// The report's lines on the data and the features.
fn data_lines(
    s: &FlyScale,
    benchmark: Benchmark,
    record: Option<&FeatureRecord>,
    sources: &Sources,
    dim: usize,
) -> String {
    let count = |n: Option<usize>, full: usize| match n {
        Some(n) => n.to_string(),
        None => format!("all {}", thousands(full)),
    };
    match benchmark {
        Benchmark::FashionMnist | Benchmark::Mnist | Benchmark::Kmnist => format!(
            "- Data: {} IDX files at `{}`; {} training / {} test images.\n- Features: raw pixels ({dim} values in [0, 1]); no extractor (ours: the paper uses 84-d LeNet-5 features for MNIST-20 and ResNet-18 features for CIFAR-100).\n",
            benchmark.display(),
            sources.main,
            count(s.train_images, 60_000),
            count(s.test_images, 10_000)
        ),
        Benchmark::Mnist20 => format!(
            "- Data: MNIST IDX files at `{}` (classes 0–9) and Fashion-MNIST at `{}` (classes 10–19); {} training / {} test images of each.\n- Features: raw pixels ({dim} values in [0, 1]); no extractor (ours: the paper uses 84-d features of a LeNet-5 trained on KMNIST).\n",
            sources.main,
            sources.fashion.as_deref().unwrap_or("?"),
            count(s.train_images, 60_000),
            count(s.test_images, 10_000)
        ),
        Benchmark::Cifar10 => {
            let (tr, te) = record.map_or((0, 0), |r| (r.train_images, r.test_images));
            let mut o = format!(
                "- Data: CIFAR-10 at `{}`. A seeded half of the 50,000 training images (seed {EXTRACTOR_SPLIT_SEED}) trains the feature extractor; the learners train on {} images of the other half and are tested on {} test images.\n",
                sources.main,
                thousands(tr),
                thousands(te)
            );
            match record.and_then(|r| r.extractor.as_ref()) {
                Some(e) => {
                    let c = &e.config;
                    o += &format!(
                        "- Features: the last hidden layer ({dim} units, after ReLU, eval mode) of the paper's CNN (six convolutions, hidden layers of {:?}), trained from seed {} on {} images of the extractor half only ({} epochs, batch {}, Adam lr {}), then frozen. Its accuracy on the {} test images (all 10 classes): **{:.3}**. It never saw a benchmark training or test image, but it did see all 10 classes (other images of them), so the features favour every method more than a class-agnostic extractor would (the paper's CIFAR-100 features come from ResNet-18). Feature cache key `{}`.\n",
                        c.model.hidden_sizes,
                        c.seed,
                        thousands(e.train_images),
                        c.epochs,
                        c.batch_size,
                        c.lr,
                        thousands(e.eval_images),
                        e.eval_accuracy,
                        &e.key[..16.min(e.key.len())]
                    );
                }
                None => o += "- Features: (no extractor record)\n",
            }
            o
        }
    }
}

/// A table row `| cells |` of `n` cells.
fn table_head(o: &mut String, first: &str, t: usize) {
    let _ = write!(o, "| {first} |");
    for i in 1..=t {
        let _ = write!(o, " task {i} |");
    }
    let _ = write!(o, "\n|---|");
    for _ in 0..t {
        let _ = write!(o, "---|");
    }
    o.push('\n');
}

/// The paper's claims as this study tests them; A-GEM's only when `gem`.
pub fn claims(gem: bool) -> Vec<Claim> {
    let fly = Method::Fly.key();
    let mut c = vec![
        Claim::paired(
            "FlyModel's final accuracy is above EWC's",
            "difference {d}",
            FINAL_ACCURACY,
            fly,
            Method::Ewc.key(),
            Expect::Better,
        ),
        Claim::paired(
            "FlyModel's final accuracy is above vanilla's",
            "difference {d}",
            FINAL_ACCURACY,
            fly,
            Method::Vanilla.key(),
            Expect::Better,
        ),
        Claim::paired(
            "FlyModel forgets less than vanilla (memory loss vanilla − FlyModel > 0)",
            "difference {d}",
            MEMORY_LOSS,
            Method::Vanilla.key(),
            fly,
            Expect::Worse,
        ),
        Claim::paired(
            "FlyModel forgets less than EWC (memory loss EWC − FlyModel > 0)",
            "difference {d}",
            MEMORY_LOSS,
            Method::Ewc.key(),
            fly,
            Expect::Worse,
        ),
    ];
    if gem {
        c.push(Claim::paired(
            "FlyModel's final accuracy is above A-GEM's",
            "difference {d}",
            FINAL_ACCURACY,
            fly,
            Method::Gem.key(),
            Expect::Better,
        ));
    }
    c.push(Claim::threshold(
        "FlyModel's memory loss is small (ours: mean below 0.10)",
        MEMORY_LOSS,
        fly,
        THRESHOLD,
        Expect::Better,
    ));
    c.push(Claim::threshold(
        "FlyModel is close to offline (ours: offline − FlyModel final accuracy below 0.10)",
        OFFLINE_GAP,
        fly,
        THRESHOLD,
        Expect::Better,
    ));
    c
}

/// What the claims read: final accuracy and memory loss of every method by repeat, and the
/// offline MLP's lead over FlyModel by repeat (as FlyModel's [`OFFLINE_GAP`]).
pub fn observations(rows: &[FlyRow]) -> Result<Samples> {
    let mut obs = Samples::new();
    for m in Method::ALL {
        let runs = runs_of(rows, m);
        let fin: Vec<(usize, f64)> = runs.iter().map(|r| (r.repeat, r.final_accuracy)).collect();
        let mem: Vec<(usize, f64)> = runs
            .iter()
            .filter_map(|r| r.memory_loss.map(|x| (r.repeat, x)))
            .collect();
        obs.set(FINAL_ACCURACY, m.key(), &fin)?;
        obs.set(MEMORY_LOSS, m.key(), &mem)?;
        obs.name_group(m.key(), m.name());
    }
    let offline = runs_of(rows, Method::Offline);
    let gap: Vec<(usize, f64)> = runs_of(rows, Method::Fly)
        .iter()
        .filter_map(|f| {
            offline
                .iter()
                .find(|o| o.repeat == f.repeat)
                .map(|o| (f.repeat, o.final_accuracy - f.final_accuracy))
        })
        .collect();
    obs.set(OFFLINE_GAP, Method::Fly.key(), &gap)?;
    Ok(obs)
}

/// The report of `rows` run with settings `s` on `benchmark` (`record`: `features.json`;
/// `plot`: the SVG [`plot`] wrote).
pub fn report(
    s: &FlyScale,
    benchmark: Benchmark,
    rows: &[FlyRow],
    record: Option<&FeatureRecord>,
    sources: &Sources,
    plot: &str,
) -> Result<String> {
    let t = s.tasks(benchmark);
    let classes = benchmark.classes();
    let dim = s.feature_dim(benchmark);
    let gem_run = !runs_of(rows, Method::Gem).is_empty();
    let mut rep = Report::new(&format!(
        "FlyModel: class-incremental learning ({} scale)",
        s.name
    ));
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Shen, Dasgupta & Navlakha, \"Algorithmic insights on continual learning from fruit flies\" (arXiv 2107.07617), measured with `cargo xtask reproduce flymodel --scale {}{}{}`.\n",
        s.name,
        if s.gem.is_some() { " --gem" } else { "" },
        match benchmark {
            Benchmark::FashionMnist => String::new(),
            b => format!(" --dataset {}", b.cli_name()),
        }
    );
    o += &data_lines(s, benchmark, record, sources, dim);
    let _ = writeln!(o, "- Tasks: {t} tasks of {} classes; repeat r draws its own class order (seed r) and seeds every method with r, so methods are paired by repeat. After each task every learner predicts among the classes seen so far.", s.classes_per_task);
    let _ = writeln!(o, "- n = {} repeats per method.\n", s.repeats);
    rep.push_str(&o);

    rep.section("Settings");
    let mut o = String::from("| setting | value | whose |\n|---|---|---|\n");
    let _ = writeln!(
        o,
        "| Kenyon cells m | {} (= {} · d) | paper (m ≈ 40 · d) |",
        s.cells_per_input * dim,
        s.cells_per_input
    );
    let _ = writeln!(
        o,
        "| inputs per Kenyon cell | 10 | paper (10 of 84); ours to keep 10 of {dim} |"
    );
    let _ = writeln!(o, "| winner-take-all | top 5 %, divided by the max; also the adaptive threshold (1.7 × mean response) | paper; adaptive: the authors' notebooks |");
    let _ = writeln!(
        o,
        "| β, α, passes | 0.01, 0 (frozen rows), one pass per task | paper (MNIST-20) |"
    );
    let _ = writeln!(o, "| input scaling | min-max per sample | paper |");
    let _ = writeln!(
        o,
        "| MLP | {dim} → {:?} → {classes}, ReLU, PyTorch init, Adam lr {}, batch {} | ours |",
        s.hidden, s.lr, s.batch_size
    );
    let _ = writeln!(
        o,
        "| vanilla / EWC epochs per task | {} | ours |",
        s.backprop_epochs
    );
    let _ = writeln!(o, "| EWC | λ = {}, empirical Fisher on each task's first {} training examples, one anchor per task | ours |", s.ewc_lambda, s.fisher_samples);
    if let Some(g) = &s.gem {
        let _ = writeln!(o, "| A-GEM | episodic memory of each finished task's first {} training examples; each step's gradient projected against the gradient on {} memory examples drawn at random (A-GEM's single constraint, not GEM's quadratic program); the vanilla MLP, Adam, batch and epochs | ours (A-GEM's defaults 256 / 256; the papers use SGD) |", g.memory_per_task, g.memory_batch);
    }
    let _ = writeln!(
        o,
        "| offline (i.i.d.) | the same MLP, all classes shuffled together, {} epochs | ours |\n",
        s.offline_epochs
    );
    rep.push_str(&o);

    rep.section(&format!(
        "Accuracy on all seen classes after each task (mean ± SD, n = {})",
        s.repeats
    ));
    let mut o = String::new();
    table_head(&mut o, "method", t);
    for m in Method::ALL {
        let runs = runs_of(rows, m);
        if runs.is_empty() {
            continue;
        }
        let _ = write!(o, "| {} |", m.name());
        for i in 0..t {
            if m == Method::Offline {
                if i + 1 == t {
                    let (a, b, _) = stats(&runs, |r| r.final_accuracy);
                    let _ = write!(o, " {} |", pm(a, b));
                } else {
                    let _ = write!(o, " — |");
                }
            } else {
                let (a, b, _) = stats(&runs, |r| seen(r, i));
                let _ = write!(o, " {} |", pm(a, b));
            }
        }
        o.push('\n');
    }
    o.push('\n');
    rep.push_str(&o);
    rep.figure(
        plot,
        "Class-incremental accuracy on all classes seen so far (mean ± SD)",
    );
    rep.para("The offline MLP is trained once on all classes; its row shows its final accuracy.");

    rep.section(&format!(
        "Final accuracy and memory loss (mean ± SD, n = {})",
        s.repeats
    ));
    rep.para(&format!("Memory loss: accuracy on a task right after learning it minus at the end, averaged over the first {} tasks.", t - 1));
    let mut o = String::from(
        "| method | n | final accuracy | memory loss | seconds per run |\n|---|---|---|---|---|\n",
    );
    for m in Method::ALL {
        let runs = runs_of(rows, m);
        if runs.is_empty() {
            continue;
        }
        let (fa, fs, n) = stats(&runs, |r| r.final_accuracy);
        let ml = if m == Method::Offline {
            "—".to_string()
        } else {
            let (a, b, _) = stats(&runs, |r| r.memory_loss.unwrap_or(f64::NAN));
            pm(a, b)
        };
        let (sec, _, _) = stats(&runs, |r| r.seconds);
        let _ = writeln!(
            o,
            "| {} | {n} | {} | {ml} | {sec:.0} |",
            m.name(),
            pm(fa, fs)
        );
    }
    rep.push_str(&o);

    // Per-task accuracy matrices, averaged over repeats.
    for m in [Method::Fly, Method::Vanilla, Method::Ewc, Method::Gem] {
        let runs = runs_of(rows, m);
        if runs.is_empty() {
            continue;
        }
        let matrices = runs
            .iter()
            .map(|r| r.accuracy_matrix())
            .collect::<Result<Vec<_>>>()?;
        let mut o = format!("\n### Accuracy matrix, {} (row: after task t; column: task j's classes; mean over repeats)\n\n", m.name());
        table_head(&mut o, "after", t);
        for row in 0..t {
            let _ = write!(o, "| task {} |", row + 1);
            for j in 0..t {
                if j <= row {
                    let v: Vec<f64> = matrices
                        .iter()
                        .map(|a| {
                            a.get(row)
                                .and_then(|r| r.get(j))
                                .copied()
                                .unwrap_or(f64::NAN)
                        })
                        .collect();
                    let a = match summarize(&v) {
                        Ok(s) => s.mean,
                        Err(_) => v.first().copied().unwrap_or(f64::NAN),
                    };
                    let _ = write!(o, " {a:.3} |");
                } else {
                    let _ = write!(o, " |");
                }
            }
            o.push('\n');
        }
        rep.push_str(&o);
    }

    rep.push_str("\n");
    rep.section("Published numbers (other datasets)");
    let features = if record.is_some_and(|r| r.extractor.is_some()) {
        "features of a frozen CNN trained on the other half of the training set"
    } else {
        "raw pixels"
    };
    rep.para(&format!("Class-incremental accuracy on all classes after the last task. The papers' benchmarks differ from ours: MNIST-20 is 10 tasks of 2 classes (MNIST + Fashion-MNIST) on 84-d features of a LeNet-5 trained on KMNIST, CIFAR-100 25 tasks of 4 on ResNet-18 features; ours is {} in {t} tasks of {} on {features}, so only the ordering of the methods is comparable, not the numbers.", benchmark.display(), s.classes_per_task));
    let ours = |m: Method| {
        let r = runs_of(rows, m);
        if r.is_empty() {
            "—".to_string()
        } else {
            let (a, b, _) = stats(&r, |r| r.final_accuracy);
            pm(a, b)
        }
    };
    let gem = if gem_run {
        format!("{} (A-GEM)", ours(Method::Gem))
    } else {
        "not run".to_string()
    };
    let mut o = format!("| method | MNIST-20, arXiv v1 | MNIST-20, authors' repository | CIFAR-100, arXiv v1 | ours ({}) |\n|---|---|---|---|---|\n", benchmark.display());
    let _ = writeln!(
        o,
        "| FlyModel | 0.86 | 0.751 | 0.414 | {} |",
        ours(Method::Fly)
    );
    let _ = writeln!(o, "| BI-R | 0.77 | 0.563 | — | not run |");
    let _ = writeln!(o, "| GEM | 0.69 | 0.430 | 0.262 | {gem} |");
    let _ = writeln!(o, "| EWC | 0.58 | 0.443 | — | {} |", ours(Method::Ewc));
    let _ = writeln!(
        o,
        "| vanilla | 0.19 | 0.113 | — | {} |",
        ours(Method::Vanilla)
    );
    let _ = writeln!(
        o,
        "| offline / i.i.d. | — | — | 0.541 | {} |\n",
        ours(Method::Offline)
    );
    rep.push_str(&o);

    // The claims, decided by the engine.
    let claims = claims(gem_run);
    let paired = claims.iter().filter(|c| c.comparison().is_some()).count();
    let count = ["no", "one", "two", "three", "four", "five", "six"]
        .get(paired)
        .map_or(paired.to_string(), |w| w.to_string());
    let decided = decide(&observations(rows)?, &claims, vec![])?;
    let style = rep.style_mut();
    style.heading = "Claims".into();
    style.note = format!("Paired by repeat (same seed and class order); each difference is the claim's first group minus its second. A claim holds when the difference has the expected sign and the paired t-test's two-sided p is below 0.05 (the study engine's one verdict rule); the Holm p beside it is that p Holm-adjusted over the {count} paired claims, for reading the table as a family. The Wilcoxon signed-rank p is shown too (with n = 5 its smallest possible two-sided p is 0.0625). \"Detects ±X at 80 % power\": the smallest true mean difference these pairs find with probability 0.8 (two-sided paired t-test, α = 0.05, the observed SD of the differences), so a claim that does not hold can be read as \"no effect that large\" or \"too few repeats\". The two thresholds are ours (the paper states no number): a one-sample t-test by repeat of FlyModel's memory loss, and of the offline MLP's final accuracy minus FlyModel's, against {THRESHOLD:.2}.");
    rep.add_claims(decided);
    let mut md = rep.finish();
    let _ = writeln!(
        md,
        "\nFiles: `runs.csv` (one row per run, with its accuracy matrix), `{plot}` and its PNG."
    );
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shen2021_flymodel::FlyScaleName;
    use neurogen_learners::IncrementalResult;

    fn fake(method: Method, repeat: usize, fin: f64) -> FlyRow {
        let result = IncrementalResult {
            learner: method.key().into(),
            tasks: (0..5).map(|t| vec![2 * t, 2 * t + 1]).collect(),
            accuracy: (0..5)
                .map(|t| (0..=t).map(|j| if j == t { 0.95 } else { fin }).collect())
                .collect(),
            seen_accuracy: vec![0.95, 0.8, 0.7, 0.6, fin],
        };
        FlyRow::new(method, repeat, "0".into(), &result, 1.0).unwrap()
    }

    #[test]
    fn thousands_separators() {
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (25_000, "25,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), want);
        }
    }

    /// The claims are decided from the rows alone, by the engine's rule.
    #[test]
    fn the_report_decides_the_claims_from_the_rows() {
        let mut rows = Vec::new();
        for r in 0..5 {
            let e = r as f64 * 0.01;
            rows.push(fake(Method::Fly, r, 0.7 + e));
            rows.push(fake(Method::FlyAdaptive, r, 0.68 + e));
            rows.push(fake(Method::Vanilla, r, 0.19 + 0.5 * e));
            rows.push(fake(Method::Ewc, r, 0.2 + 0.3 * e));
            rows.push(fake(Method::Offline, r, 0.85 - e));
        }
        let s = FlyScale::new(FlyScaleName::Quick, Benchmark::FashionMnist);
        let sources = Sources {
            main: "/data".into(),
            fashion: None,
        };
        let text = report(
            &s,
            Benchmark::FashionMnist,
            &rows,
            None,
            &sources,
            "seen_accuracy.svg",
        )
        .unwrap();
        let claim = |start: &str| -> &str {
            text.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no {start:?} in\n{text}"))
        };
        assert!(text.contains("0.720 ± 0.016"), "{text}");
        // Above EWC, above vanilla, forgets less (x2): hold, each with its detectable
        // difference and the Holm p over the four paired claims.
        for start in [
            "| FlyModel's final accuracy is above EWC's |",
            "| FlyModel's final accuracy is above vanilla's |",
            "| FlyModel forgets less than vanilla",
            "| FlyModel forgets less than EWC",
        ] {
            let l = claim(start);
            assert!(l.ends_with("| holds |"), "{l}");
            assert!(
                l.contains("at 80 % power") && l.contains("Holm p = "),
                "{l}"
            );
        }
        assert!(
            text.contains("Holm-adjusted over the four paired claims"),
            "{text}"
        );
        // Memory loss 0.23 is not small; offline is 0.11 ahead on average: not close.
        let small = claim("| FlyModel's memory loss is small");
        assert!(small.contains("mean − 0.100 = +0.130"), "{small}");
        assert!(
            small.ends_with("| does not hold at this scale |"),
            "{small}"
        );
        let close = claim("| FlyModel is close to offline");
        assert!(
            close.ends_with("| does not hold at this scale |"),
            "{close}"
        );
        // No A-GEM run, no A-GEM claim.
        assert!(!text.contains("above A-GEM's"), "{text}");
        assert!(
            text.contains("| GEM | 0.69 | 0.430 | 0.262 | not run |"),
            "{text}"
        );
    }
}
