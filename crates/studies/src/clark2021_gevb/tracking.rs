//! The study's alignment measurement (issue #42, item 2): during every GEVB+ and DFA+ run, before
//! the first step and then every quarter epoch, the angle and the sign agreement between the
//! rule's update and the exact gradient of each parameter ([`rule_alignment`]) on one fixed probe
//! minibatch (the first `batch_size` training images; nothing in the network changes). Each run
//! saves its measurements as `alignment/STEM.json` ([`RunAlignment`]) before its row is
//! recorded; the report's alignment table, plots and claims read only those files.
use std::path::{Path, PathBuf};

use candle_core::Tensor;
use neurogen_analysis::plot::{Curve, Labels, LinePlot};
use neurogen_analysis::stats::summarize;
use neurogen_lab::claims::{Claim, Expect, Samples, Value};
use neurogen_lab::report::Report;
use neurogen_lab::study::BoxError;
use serde::{Deserialize, Serialize};

use super::alignment::{rule_alignment, ParamAlignment};
use super::error::{GevbError, Result};
use super::rules::{Rule, RuleNetwork};

/// Measurements per epoch (plus one before training).
pub const MEASURES_PER_EPOCH: usize = 4;

/// The folder of the per-run files, inside the study's output directory.
pub const ALIGNMENT_DIR: &str = "alignment";

/// The global step counts after which a run of `epochs` epochs of `steps_per_epoch` steps
/// measures: 0 (before training), then every quarter epoch, the last one after the last step.
///
/// ```
/// use neurogen_studies::clark2021_gevb::tracking::measure_steps;
/// assert_eq!(measure_steps(8, 1), vec![0, 2, 4, 6, 8]);
/// assert_eq!(measure_steps(5, 2), vec![0, 1, 2, 3, 5, 6, 7, 8, 10]);
/// ```
pub fn measure_steps(steps_per_epoch: usize, epochs: usize) -> Vec<usize> {
    let mut steps = vec![0];
    for e in 0..epochs {
        for q in 1..=MEASURES_PER_EPOCH {
            let s = e * steps_per_epoch + q * steps_per_epoch / MEASURES_PER_EPOCH;
            if steps.last() != Some(&s) {
                steps.push(s);
            }
        }
    }
    steps
}

/// One measurement: every parameter's alignment after `step` steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignmentPoint {
    /// Optimiser steps taken before the measurement.
    pub step: usize,
    /// The same in epochs (`step / steps_per_epoch`).
    pub epoch: f64,
    /// Per parameter, in the network's order.
    pub params: Vec<ParamAlignment>,
}

/// What one run measured: its rule's alignment with the exact gradient during training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunAlignment {
    /// The arm's display name.
    pub group: String,
    /// The repeat.
    pub repeat: usize,
    /// The rule compared with the exact gradient.
    pub rule: Rule,
    /// Images in the probe minibatch.
    pub probe_images: usize,
    /// The measurements, in order of `step`.
    pub points: Vec<AlignmentPoint>,
}

impl RunAlignment {
    /// The file of run (`group`, `repeat`) under the study's directory `dir`.
    pub fn path(dir: &Path, group: &str, repeat: usize) -> PathBuf {
        dir.join(ALIGNMENT_DIR)
            .join(format!("{}.json", neurogen_lab::store::stem(group, repeat)))
    }

    /// Writes the file atomically (creating the folder).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| GevbError::Json {
            what: "a run's alignment".into(),
            source,
        })?;
        let folder = dir.join(ALIGNMENT_DIR);
        std::fs::create_dir_all(&folder)
            .map_err(|e| GevbError::File(format!("{}: {e}", folder.display())))?;
        neurogen_io::write_atomic(&Self::path(dir, &self.group, self.repeat), &bytes)?;
        Ok(())
    }

    /// The file of run (`group`, `repeat`), `None` when there is none; a damaged file, or one of
    /// another run, is an error naming it.
    pub fn load(dir: &Path, group: &str, repeat: usize) -> Result<Option<Self>> {
        let path = Self::path(dir, group, repeat);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(GevbError::File(format!("{}: {e}", path.display()))),
        };
        let run: RunAlignment = serde_json::from_slice(&bytes)
            .map_err(|e| GevbError::File(format!("{}: {e}", path.display())))?;
        if run.group != group || run.repeat != repeat {
            return Err(GevbError::File(format!(
                "{} holds run {} r{}, not {group} r{repeat}",
                path.display(),
                run.group,
                run.repeat
            )));
        }
        Ok(Some(run))
    }

    /// At `point`, the mean over the hidden layers' weight matrices (every layer but the output
    /// layer, whose GEVB update is the exact gradient) of `measure` (`None` where undefined).
    pub fn hidden_weights_mean(
        point: &AlignmentPoint,
        measure: impl Fn(&ParamAlignment) -> Option<f64>,
    ) -> Option<f64> {
        let out = point.params.iter().map(|p| p.layer).max()?;
        let xs: Vec<f64> = point
            .params
            .iter()
            .filter(|p| p.layer < out && p.name.ends_with(".weight"))
            .filter_map(&measure)
            .collect();
        (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
    }
}

/// Measures `net`'s `rule` against the exact gradient on the probe minibatch after `step`
/// steps.
pub fn measure<N: RuleNetwork + ?Sized>(
    net: &N,
    rule: Rule,
    probe: (&Tensor, &Tensor),
    step: usize,
    steps_per_epoch: usize,
) -> Result<AlignmentPoint> {
    Ok(AlignmentPoint {
        step,
        epoch: step as f64 / steps_per_epoch.max(1) as f64,
        params: rule_alignment(net, rule, probe.0, probe.1)?,
    })
}

/// Angle between update and gradient before training (hidden layers' weights, mean over
/// layers).
pub const ANGLE_INIT: Value = Value::new(
    "angle_init",
    "angle to the gradient at initialisation",
    "degrees",
    1,
    false,
);
/// The same after training.
pub const ANGLE_END: Value = Value::new(
    "angle_end",
    "angle to the gradient after training",
    "degrees",
    1,
    false,
);
/// Fraction of the hidden layers' weight entries whose update has the gradient's sign, after
/// training (mean over layers).
pub const SIGN_END: Value = Value::new(
    "sign_end",
    "sign agreement with the gradient after training",
    "",
    3,
    true,
);

/// Pixels of the alignment plots (wider than the default, so the legend covers less).
const PLOT_SIZE: (u32, u32) = (1000, 650);

/// Display name of layer `layer` of a network whose output layer is `out`.
fn layer_name(layer: usize, out: usize) -> String {
    if layer == out {
        "output layer".into()
    } else {
        format!("hidden layer {}", layer + 1)
    }
}

/// `mean [lo, hi]` of `xs` (the 95 % CI; the mean alone below two values, a dash for none).
fn mean_ci(xs: &[f64], digits: usize) -> String {
    match summarize(xs) {
        Ok(s) => format!(
            "{:.d$} [{:.d$}, {:.d$}]",
            s.mean,
            s.ci95.0,
            s.ci95.1,
            d = digits
        ),
        Err(_) if xs.is_empty() => "–".into(),
        Err(_) => format!(
            "{:.d$}",
            xs.iter().sum::<f64>() / xs.len() as f64,
            d = digits
        ),
    }
}

/// The alignment section of the report, from the files of `runs` ((group, repeat) of every
/// successful run of a measured arm, arms in display order) under `dir`: a table per arm and
/// weight matrix, the angle and sign-agreement plots (saved in `dir`), the per-run values
/// ([`ANGLE_INIT`], [`ANGLE_END`], [`SIGN_END`]) set in `obs`, and the paper's alignment
/// claims on `gevb_group` when at least two of its runs were measured.
pub fn report_section(
    rep: &mut Report,
    dir: &Path,
    runs: &[(String, usize)],
    gevb_group: &str,
    obs: &mut Samples,
) -> std::result::Result<Vec<Claim>, BoxError> {
    rep.section("Alignment of the update with the exact gradient");
    let mut measured: Vec<(String, Vec<RunAlignment>)> = Vec::new();
    let mut missing = Vec::new();
    for (group, repeat) in runs {
        match RunAlignment::load(dir, group, *repeat)? {
            Some(run) => match measured.iter_mut().find(|(g, _)| g == group) {
                Some((_, v)) => v.push(run),
                None => measured.push((group.clone(), vec![run])),
            },
            None => missing.push(format!("{group} r{repeat}")),
        }
    }
    rep.para(
        "Per weight matrix, the angle between the rule's update and the exact gradient of the \
         same network (0° = the gradient's direction, 90° = orthogonal) and the fraction of \
         entries whose signs agree, on a fixed probe minibatch (the first minibatch's worth of \
         training images), before training and every quarter epoch. BP+ is the exact gradient \
         (0°). The output layer's update is the exact gradient under both rules; the claims use \
         the mean over the hidden layers' weight matrices (hidden layer 1 is GEVB+'s \
         vectorized input layer). Sign agreement counts, among the entries where update or \
         gradient is nonzero, those of the same sign: an entry whose gradient is exactly 0 and \
         whose update is not (a unit whose outgoing weights are all 0, as half of the output \
         weights are at the \"+\" initialisation) counts as a disagreement. Mean [95 % CI] \
         over runs.",
    );
    if !missing.is_empty() {
        rep.para(&format!(
            "Runs without an alignment file, left out of this section: {}.",
            missing.join(", ")
        ));
    }
    if measured.is_empty() {
        rep.para("No run's alignment was measured.");
        return Ok(Vec::new());
    }
    let mut table = String::from(
        "| arm | weights | n | angle at initialisation (°) | angle after training (°) | sign agreement after training |\n|---|---|---|---|---|---|\n",
    );
    let mut angle_curves = Vec::new();
    let mut sign_curves = Vec::new();
    for (group, group_runs) in &measured {
        for (value, f) in [(ANGLE_INIT, 0usize), (ANGLE_END, 1), (SIGN_END, 2)] {
            let xs: Vec<(usize, f64)> = group_runs
                .iter()
                .filter_map(|r| {
                    let point = if f == 0 {
                        r.points.first()
                    } else {
                        r.points.last()
                    }?;
                    let v = if f == 2 {
                        RunAlignment::hidden_weights_mean(point, |a| a.sign_agreement)
                    } else {
                        RunAlignment::hidden_weights_mean(point, |a| a.angle_degrees)
                    };
                    v.map(|v| (r.repeat, v))
                })
                .collect();
            obs.set(value, group, &xs)?;
        }
        let first = &group_runs[0];
        let Some(p0) = first.points.first() else {
            continue;
        };
        let out = p0.params.iter().map(|p| p.layer).max().unwrap_or(0);
        let n_points = group_runs.iter().map(|r| r.points.len()).min().unwrap_or(0);
        for param in p0.params.iter().filter(|p| p.name.ends_with(".weight")) {
            let of = |r: &RunAlignment, i: usize, sign: bool| {
                r.points.get(i).and_then(|pt| {
                    pt.params
                        .iter()
                        .find(|a| a.name == param.name)
                        .and_then(|a| {
                            if sign {
                                a.sign_agreement
                            } else {
                                a.angle_degrees
                            }
                        })
                })
            };
            let column = |i: usize, sign: bool| -> Vec<f64> {
                group_runs.iter().filter_map(|r| of(r, i, sign)).collect()
            };
            let last = n_points.saturating_sub(1);
            table.push_str(&format!(
                "| {group} | {} | {} | {} | {} | {} |\n",
                layer_name(param.layer, out),
                group_runs.len(),
                mean_ci(&column(0, false), 1),
                mean_ci(&column(last, false), 1),
                mean_ci(&column(last, true), 3),
            ));
            // The output layers' update is exact (0°, agreement 1) under both rules: in the
            // table, not drawn.
            let curves_of = if param.layer == out {
                vec![]
            } else {
                vec![(false, &mut angle_curves), (true, &mut sign_curves)]
            };
            for (sign, curves) in curves_of {
                let (mut x, mut y, mut err) = (Vec::new(), Vec::new(), Vec::new());
                for i in 0..n_points {
                    let v = column(i, sign);
                    if v.is_empty() {
                        continue;
                    }
                    let m = v.iter().sum::<f64>() / v.len() as f64;
                    let sd = summarize(&v).map(|s| s.sd).unwrap_or(0.0);
                    x.push(first.points[i].epoch);
                    y.push(m);
                    err.push(sd);
                }
                if !x.is_empty() {
                    curves.push(Curve {
                        label: format!("{group} {}", layer_name(param.layer, out)),
                        x,
                        y,
                        err: Some(err),
                    });
                }
            }
        }
    }
    rep.push_str(&table);
    rep.push_str("\n");
    let plot = |curves: Vec<Curve>, title: &str, y: &str| LinePlot {
        curves,
        labels: Labels::new(title, "epoch", y),
    };
    let file = neurogen_lab::plot::save_plot_sized(
        dir,
        "alignment-angle",
        &plot(
            angle_curves,
            "Angle between the rule's update and the gradient",
            "angle (degrees)",
        ),
        PLOT_SIZE,
    )?;
    rep.figure(
        &file,
        "Angle between each rule's update of the hidden layers' weights and the exact gradient on the probe minibatch, mean ± SD over runs (output layers: 0°, not drawn)",
    );
    let file = neurogen_lab::plot::save_plot_sized(
        dir,
        "alignment-sign",
        &plot(
            sign_curves,
            "Sign agreement of the rule's update with the gradient",
            "fraction of weights with the gradient's sign",
        ),
        PLOT_SIZE,
    )?;
    rep.figure(
        &file,
        "Fraction of the hidden layers' weight entries whose update has the exact gradient's sign, mean ± SD over runs (output layers: 1, not drawn)",
    );
    let gevb_runs = measured
        .iter()
        .find(|(g, _)| g == gevb_group)
        .map_or(0, |(_, v)| v.len());
    if gevb_runs < 2 {
        return Ok(Vec::new());
    }
    Ok(vec![
        Claim::threshold(
            &format!("{gevb_group}'s update is aligned with the gradient at initialisation (hidden weights, angle < 90°)"),
            ANGLE_INIT,
            gevb_group,
            90.0,
            Expect::Better,
        ),
        Claim::threshold(
            &format!("{gevb_group}'s update is sign-matched to the gradient (hidden weights after training, agreement > 0.5)"),
            SIGN_END,
            gevb_group,
            0.5,
            Expect::Better,
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, layer: usize, angle: f64) -> ParamAlignment {
        ParamAlignment {
            name: name.into(),
            layer,
            numel: 4,
            angle_degrees: Some(angle),
            sign_agreement: Some(1.0),
        }
    }

    #[test]
    fn the_schedule_measures_before_training_and_each_quarter_epoch() {
        assert_eq!(measure_steps(4, 2), vec![0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(measure_steps(2, 1), vec![0, 1, 2]);
        assert_eq!(measure_steps(79, 3).len(), 13);
        assert_eq!(measure_steps(79, 3).last(), Some(&237));
    }

    #[test]
    fn the_hidden_mean_leaves_out_biases_and_the_output_layer() {
        let p = AlignmentPoint {
            step: 0,
            epoch: 0.0,
            params: vec![
                param("fc0.weight", 0, 10.0),
                param("fc0.bias", 0, 80.0),
                param("fc1.weight", 1, 30.0),
                param("fc2.weight", 2, 0.0),
            ],
        };
        let m = RunAlignment::hidden_weights_mean(&p, |a| a.angle_degrees);
        assert_eq!(m, Some(20.0));
    }

    #[test]
    fn files_round_trip_and_a_foreign_or_damaged_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunAlignment {
            group: "GEVB+".into(),
            repeat: 3,
            rule: Rule::Gevb,
            probe_images: 2,
            points: vec![],
        };
        assert_eq!(RunAlignment::load(tmp.path(), "GEVB+", 3).unwrap(), None);
        run.save(tmp.path()).unwrap();
        assert!(tmp.path().join("alignment/gevb-r03.json").is_file());
        assert_eq!(
            RunAlignment::load(tmp.path(), "GEVB+", 3).unwrap(),
            Some(run.clone())
        );
        std::fs::copy(
            tmp.path().join("alignment/gevb-r03.json"),
            tmp.path().join("alignment/gevb-r04.json"),
        )
        .unwrap();
        let e = RunAlignment::load(tmp.path(), "GEVB+", 4).unwrap_err();
        assert!(e.to_string().contains("holds run GEVB+ r3"), "{e}");
        std::fs::write(tmp.path().join("alignment/gevb-r03.json"), b"{").unwrap();
        let e = RunAlignment::load(tmp.path(), "GEVB+", 3).unwrap_err();
        assert!(e.to_string().contains("gevb-r03.json"), "{e}");
    }
}
