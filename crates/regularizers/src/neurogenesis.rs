//! Neurogenesis (Tran et al., PNAS 2022): turnover or additive growth of units in one hidden
//! fully connected layer, with optional excitability of the new units.
//!
//! # The rule (default, `reference_quirks = false`)
//! Every `every` optimiser steps (after the step; global step counter `s`, fires when
//! `s % every == 0`) while the epoch is below `until_epoch`, an *event* happens in hidden layer
//! `layer` (`fcs.{layer}`, width `W`, `F` inputs, next layer with `O` outputs):
//! - **which units**: `n` units (a count, or a fraction of `W` rounded down), chosen uniformly at
//!   random (`mode = random`), or uniformly at random among the `round(portion·W)` least
//!   (`targeted-low`) or most (`targeted-high`, the paper's positive control) important units,
//!   importance being the L1 norm of a unit's incoming weights (its row of `fcs.{layer}.weight`);
//! - **turnover** (`growth = turnover`): each chosen unit keeps its position and gets a fresh
//!   incoming weight row and bias, drawn `U(±1/sqrt(F))`, and a fresh outgoing weight column,
//!   drawn `U(±1/sqrt(W))` — PyTorch's default `nn.Linear` initialisation of the layer and of the
//!   next layer ([`neurogen_model::init`]). Adam's first and second moments of exactly those rows
//!   (incoming weight, bias) and columns (outgoing weight) are set to zero; Adam's per-parameter
//!   step count is unchanged (PyTorch keeps one count per parameter tensor). Every other weight
//!   and moment is left bit-identical;
//! - **additive growth** (`growth = additive`): `n` units are appended at the end of the layer
//!   (fresh rows, biases and columns as above, the outgoing bound using the new width), and Adam's
//!   moments are extended with zeros, so the optimiser updates the new parameters from the next
//!   step on;
//! - **excitability** (`excite = c`): in training, while the epoch is below `until_epoch`, the
//!   activations (after the ReLU) of the units created by the latest event are multiplied by `c`.
//!
//! Every event is recorded ([`NeurogenesisEvent`]) and counted in [`Regularizer::report`].
//!
//! # Reference quirks (`reference_quirks = true`)
//! The authors' code (`neurodl/cnn.py`, `train_model` and `NgnCnn.add_new`) differs from the
//! rule above; quirks mode reproduces it:
//! - **(a) schedule**: the batch-level check is `epoch % frequency == 0`, made *before* every
//!   minibatch, so neurogenesis fires before every minibatch of epoch 0 (and of any epoch that is
//!   a multiple of `every`, below `until_epoch`) and never otherwise. Quirks mode runs events in
//!   [`neurogen_model::Phase::BeforeBatch`] under exactly that condition.
//! - **(b) optimiser**: `add_new` wraps the new weights in new `nn.Parameter` objects, which the
//!   Adam optimiser built before training does not know; from the first event on,
//!   `fcs.{layer}.weight`, `fcs.{layer}.bias` and the next layer's weight are no longer updated
//!   (only replaced by later events). Quirks mode freezes ([`StepCx::set_frozen`]) those three
//!   parameters at the first event and leaves their (stale) moments alone.
//! - **turnover layout**: `add_new` deletes the chosen units (`np.delete`), so the surviving units
//!   move up, in order, to positions `0..W-n`, and the `n` fresh units are placed at the end,
//!   positions `W-n..W` (fresh rows, biases and columns drawn as above). Quirks mode does the same.
//! - **(c) excitability**: the excitability mask is applied at `self.idx`, the indices of the
//!   *removed* units, while the new units sit at the end of the layer; so (after compaction) the
//!   factor hits surviving units. Quirks mode applies `c` at the removed indices of the latest
//!   event. (The reference hard-codes the excitability to hidden layer 1, the default `layer`;
//!   quirks mode applies it to `layer`.) In the reference, additive growth never sets `self.idx`
//!   and excitability then fails with an `AttributeError`; quirks mode rejects that combination.
//!
//! - **targeted selection** (`targeted_neurogenesis` and the size logic of `add_new`): with
//!   `k = round(portion·W)` (Python's rounding), the event size is cut to `k − 3` when `k ≤ n`
//!   ([`reference_event_size`]; fig. 4's published settings, `n = 10`, portion 0.032 of 250 units,
//!   give 5), and the candidates are the units whose importance is strictly below
//!   `sort(importance)[-(k − 1)]`, i.e. all but the `k − 1` most important
//!   ([`reference_candidates`]: 243 of 250 for portion 0.032). For `targeted-high`, which the
//!   published scripts never run, quirks mode flips the comparison (`>`, the reference's `TODO`),
//!   i.e. the `k − 2` most important units.
//!
//! Not reproduced (documented in `docs/regularizers.md`): for `layer != 1` the reference copies
//! layer 1's bias into the neurogenesis layer.
use candle_core::{DType, Device, Tensor};
use neurogen_model::{HookSite, HookStep, ModelError, Phase, Point, Regularizer, StepCx};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::RegError;
use crate::plan::{RunPlan, ScheduleWarning};
use crate::units::UnitCount;

/// How the units of an event are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Selection {
    /// Uniformly at random among all units of the layer.
    #[default]
    Random,
    /// At random among the `portion` least important units (L1 norm of incoming weights).
    TargetedLow,
    /// At random among the `portion` most important units (the paper's positive control).
    TargetedHigh,
}

impl Selection {
    /// The name used in specifications (`random`, `targeted-low`, `targeted-high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Selection::Random => "random",
            Selection::TargetedLow => "targeted-low",
            Selection::TargetedHigh => "targeted-high",
        }
    }
}

/// Whether new units replace old ones or are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Growth {
    /// `n` chosen units are replaced by fresh ones; the width stays the same.
    #[default]
    Turnover,
    /// `n` fresh units are appended; the layer grows.
    Additive,
}

impl Growth {
    /// The name used in specifications (`turnover`, `additive`).
    pub fn as_str(self) -> &'static str {
        match self {
            Growth::Turnover => "turnover",
            Growth::Additive => "additive",
        }
    }
}

/// Neurogenesis settings. `Default` is the paper's / reference's: 8 units of `fcs.1` every 640
/// steps until epoch 10, random turnover, no excitability, targeted portion 0.5.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NeurogenesisConfig {
    /// Units per event: a count (`8`) or a fraction of the layer's width (`0.05`).
    pub n: UnitCount,
    /// Optimiser steps between events (at least 1).
    pub every: usize,
    /// Neurogenesis (and excitability) stops at this zero-based epoch: active while
    /// `epoch < until_epoch`.
    pub until_epoch: usize,
    /// The hidden layer (`fcs.{layer}`).
    pub layer: usize,
    /// How units are chosen.
    pub mode: Selection,
    /// Fraction of the layer from which targeted modes choose, in (0, 1].
    pub portion: f64,
    /// Turnover or additive growth.
    pub growth: Growth,
    /// Excitability factor `c` of the new units' activations (training only), if any.
    pub excite: Option<f64>,
}

impl Default for NeurogenesisConfig {
    fn default() -> Self {
        NeurogenesisConfig {
            n: UnitCount::Count(8),
            every: 640,
            until_epoch: 10,
            layer: 1,
            mode: Selection::Random,
            portion: 0.5,
            growth: Growth::Turnover,
            excite: None,
        }
    }
}

impl NeurogenesisConfig {
    /// Checks every setting that does not depend on the network (the width is checked in
    /// [`neurogen_model::Phase::Start`]).
    pub fn validate(&self) -> Result<(), RegError> {
        let bad = |m: String| Err(RegError::invalid("neurogenesis", m));
        self.n.validate("neurogenesis", "n")?;
        if self.every == 0 {
            return bad("every must be a whole number of optimiser steps >= 1, got 0".into());
        }
        if !(self.portion.is_finite() && self.portion > 0.0 && self.portion <= 1.0) {
            return bad(format!(
                "portion must be in (0, 1] (the fraction of the layer targeted modes choose from), got {}",
                self.portion
            ));
        }
        if let Some(c) = self.excite {
            if !(c.is_finite() && c > 0.0) {
                return bad(format!(
                    "excite must be a finite factor > 0 (or absent), got {c}"
                ));
            }
        }
        if self.growth == Growth::Additive && self.mode != Selection::Random {
            return bad(format!(
                "mode={} chooses units to replace, which needs growth=turnover (additive growth removes no units; use mode=random)",
                self.mode.as_str()
            ));
        }
        Ok(())
    }

    /// Number of events this schedule makes in the planned run: without quirks, one after
    /// every `every`-th optimiser step of the epochs below `until_epoch`; with
    /// `reference_quirks`, one before every minibatch of the epochs below `until_epoch` that
    /// are multiples of `every` (module documentation, quirk (a)).
    ///
    /// ```
    /// use neurogen_regularizers::{NeurogenesisConfig, RunPlan};
    /// let paper = NeurogenesisConfig::default(); // every 640 steps until epoch 10
    /// assert_eq!(paper.planned_events(&RunPlan::new(14, 390), false), 6); // 3900 / 640
    /// assert_eq!(paper.planned_events(&RunPlan::new(1, 500), false), 0);
    /// assert_eq!(paper.planned_events(&RunPlan::new(1, 500), true), 500); // epoch 0
    /// ```
    pub fn planned_events(&self, plan: &RunPlan, reference_quirks: bool) -> usize {
        let active_epochs = plan.epochs.min(self.until_epoch);
        if reference_quirks {
            plan.steps_per_epoch * active_epochs.div_ceil(self.every.max(1))
        } else {
            active_epochs.saturating_mul(plan.steps_per_epoch) / self.every.max(1)
        }
    }

    /// The settings that do nothing in the planned run: an `until_epoch` of 0, a schedule that
    /// makes no event (`every` above the run's steps, or the first event at or after
    /// `until_epoch`), and, for a schedule that makes events, an `until_epoch` past the run's
    /// last epoch (neurogenesis, and excitability, never stop). Empty for a schedule that acts
    /// as set.
    ///
    /// ```
    /// use neurogen_regularizers::{NeurogenesisConfig, RunPlan};
    /// let paper = NeurogenesisConfig::default();
    /// assert!(paper.schedule_warnings(&RunPlan::new(14, 390), false).is_empty());
    /// let w = paper.schedule_warnings(&RunPlan::new(1, 500), false);
    /// assert_eq!(w[0].setting, "every");
    /// assert!(w[0].message.contains("every=640"), "{}", w[0]);
    /// ```
    pub fn schedule_warnings(
        &self,
        plan: &RunPlan,
        reference_quirks: bool,
    ) -> Vec<ScheduleWarning> {
        let warn =
            |setting: &str, message: String| ScheduleWarning::new("neurogenesis", setting, message);
        let (epochs, total) = (plan.epochs, plan.total_steps());
        let run = format!(
            "the run's {epochs} epoch{} of {} steps ({total} optimiser steps)",
            if epochs == 1 { "" } else { "s" },
            plan.steps_per_epoch
        );
        let mut out = Vec::new();
        if total == 0 {
            return out;
        }
        if self.until_epoch == 0 {
            out.push(warn(
                "until_epoch",
                "until_epoch=0 stops neurogenesis before the first epoch: no event happens; \
                 raise until_epoch or drop neurogenesis"
                    .into(),
            ));
            return out;
        }
        let events = self.planned_events(plan, reference_quirks);
        if events == 0 {
            // Only without quirks: with them, epoch 0 always has events when until_epoch > 0.
            let message = if self.every > total {
                format!(
                    "every={} is more than {run}: no neurogenesis event happens \
                     (the layer keeps its units{}); lower every or train longer",
                    self.every,
                    if self.excite.is_some() {
                        ", and excite acts on no unit"
                    } else {
                        ""
                    }
                )
            } else {
                format!(
                    "every={} puts the first event after step {}, in epoch {}, but \
                     until_epoch={} stops neurogenesis after {} step(s) of {run}: \
                     no neurogenesis event happens; lower every or raise until_epoch",
                    self.every,
                    self.every,
                    (self.every - 1) / plan.steps_per_epoch,
                    self.until_epoch,
                    self.until_epoch * plan.steps_per_epoch
                )
            };
            out.push(warn("every", message));
        }
        // (Said only when there are events: with none, the warning above says all.)
        if self.until_epoch >= epochs && events > 0 {
            out.push(warn(
                "until_epoch",
                format!(
                    "until_epoch={} is past the last epoch ({}) of {run}: neurogenesis{} never \
                     stops, it acts in every epoch; set until_epoch below {epochs} to stop it \
                     before the end",
                    self.until_epoch,
                    epochs - 1,
                    if self.excite.is_some() {
                        " (and excitability)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        out
    }
}

/// One neurogenesis event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeurogenesisEvent {
    /// Global optimiser steps taken when the event happened.
    pub step: usize,
    /// Zero-based epoch.
    pub epoch: usize,
    /// The hidden layer.
    pub layer: usize,
    /// Positions of the new units in the layer after the event, ascending.
    pub units: Vec<usize>,
    /// Units removed (positions before the event, ascending); empty for additive growth. Equal
    /// to `units` for turnover without quirks (units are replaced in place).
    pub removed: Vec<usize>,
    /// Width of the layer after the event.
    pub width: usize,
}

/// The neurogenesis regulariser (see the module documentation for the rule).
#[derive(Debug, Clone)]
pub struct Neurogenesis {
    config: NeurogenesisConfig,
    quirks: bool,
    rng: ChaCha8Rng,
    events: Vec<NeurogenesisEvent>,
    excited: Vec<usize>,
    warnings: Vec<ScheduleWarning>,
}

impl Neurogenesis {
    /// A neurogenesis regulariser drawing all its randomness (unit choice, fresh weights) from
    /// `rng`. `reference_quirks` reproduces the reference code's behaviour (module docs).
    pub fn new(
        config: NeurogenesisConfig,
        reference_quirks: bool,
        rng: ChaCha8Rng,
    ) -> Result<Self, RegError> {
        config.validate()?;
        if reference_quirks && config.growth == Growth::Additive && config.excite.is_some() {
            return Err(RegError::invalid(
                "neurogenesis",
                "reference_quirks with growth=additive and excite cannot be reproduced: the reference code never sets the excited indices for additive growth and fails; drop excite or reference_quirks",
            ));
        }
        Ok(Neurogenesis {
            config,
            quirks: reference_quirks,
            rng,
            events: Vec::new(),
            excited: Vec::new(),
            warnings: Vec::new(),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &NeurogenesisConfig {
        &self.config
    }

    /// Whether the reference code's quirks are reproduced.
    pub fn reference_quirks(&self) -> bool {
        self.quirks
    }

    /// Every event so far.
    pub fn events(&self) -> &[NeurogenesisEvent] {
        &self.events
    }

    /// Checks the schedule against the planned run
    /// ([`NeurogenesisConfig::schedule_warnings`]) and keeps the warnings, which
    /// [`Regularizer::report`] then carries (field `warnings`); returns them.
    pub fn plan_run(&mut self, plan: &RunPlan) -> &[ScheduleWarning] {
        self.warnings = self.config.schedule_warnings(plan, self.quirks);
        &self.warnings
    }

    /// The warnings of the latest [`Neurogenesis::plan_run`] (empty before one).
    pub fn warnings(&self) -> &[ScheduleWarning] {
        &self.warnings
    }

    /// The units whose activations are multiplied by `excite` (when excitability is on).
    pub fn excited_units(&self) -> &[usize] {
        &self.excited
    }

    /// Checks the settings against the model of `cx` (layer exists, `n` fits the layer).
    pub fn check_model(&self, cx: &StepCx) -> Result<(), RegError> {
        let model = cx;
        let c = &self.config;
        if c.layer >= model.num_hidden() {
            return Err(RegError::invalid(
                "neurogenesis",
                format!(
                    "layer={} does not exist: the network has hidden layers 0..{}",
                    c.layer,
                    model.num_hidden()
                ),
            ));
        }
        let width = model.hidden_width(c.layer)?;
        let n = self.event_size(width)?;
        if n == 0 {
            return Err(RegError::invalid(
                "neurogenesis",
                format!(
                    "n={} is 0 units of the {width}-unit layer {}; use a larger fraction or a count >= 1",
                    c.n, c.layer
                ),
            ));
        }
        if n > width {
            return Err(RegError::invalid(
                "neurogenesis",
                format!(
                    "n={n} is larger than layer {} ({width} units); allowed: 1..={width} or a fraction in (0, 1)",
                    c.layer
                ),
            ));
        }
        if c.mode != Selection::Random && !self.quirks {
            let k = candidate_count(width, c.portion);
            if k < n {
                return Err(RegError::invalid(
                    "neurogenesis",
                    format!(
                        "mode={} draws n={n} units from the round({}·{width}) = {k} candidates; raise portion or lower n",
                        c.mode.as_str(),
                        c.portion
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether neurogenesis (and excitability) is on at `epoch`.
    pub fn active(&self, epoch: usize) -> bool {
        epoch < self.config.until_epoch
    }

    /// Runs one event now on the replica of `cx`, whatever the schedule, and returns it.
    /// `cx.ctx.step` and `cx.ctx.epoch` are only recorded.
    pub fn event(&mut self, cx: &mut StepCx) -> Result<&NeurogenesisEvent, RegError> {
        self.check_model(cx)?;
        let (step, epoch) = (cx.ctx.step, cx.ctx.epoch);
        let model = &mut *cx;
        let layer = self.config.layer;
        let width = model.hidden_width(layer)?;
        let n = self.event_size(width)?;
        let (w_name, b_name, out_name) = model.hidden_param_names(layer)?;
        let w = model.param(&w_name)?;
        let b = model.param(&b_name)?;
        let out = model.param(&out_name)?;
        let (_, fan_in) = w.dims2()?;
        let (fan_out, _) = out.dims2()?;
        let dtype = model.dtype();
        let device = model.device().clone();

        let ev = match (self.config.growth, self.quirks) {
            (Growth::Turnover, false) => {
                let units = self.choose(&w, n)?;
                let fresh = self.draw(units.len(), fan_in, fan_out, width);
                let w2 = replace(&w, 0, &units, &fresh.w_in)?;
                let b2 = replace(&b, 0, &units, &fresh.b_in)?;
                let out2 = replace(&out, 1, &units, &fresh.w_out)?;
                model.set_param(&w_name, &w2)?;
                model.set_param(&b_name, &b2)?;
                model.set_param(&out_name, &out2)?;
                for (name, axis) in [(&w_name, 0), (&b_name, 0), (&out_name, 1)] {
                    if let Some(mut st) = model.optim_state(name)? {
                        st.m = zero_units(&st.m, axis, &units)?;
                        st.v = zero_units(&st.v, axis, &units)?;
                        model.set_optim_state(name, st)?;
                    }
                }
                self.excited = units.clone();
                NeurogenesisEvent {
                    step,
                    epoch,
                    layer,
                    units: units.clone(),
                    removed: units,
                    width,
                }
            }
            (Growth::Turnover, true) => {
                let removed = self.choose(&w, n)?;
                let keep: Vec<u32> = (0..width)
                    .filter(|u| removed.binary_search(u).is_err())
                    .map(|u| u as u32)
                    .collect();
                let fresh = self.draw(n, fan_in, fan_out, width);
                let new_rows = cpu(&fresh.w_in, &[n, fan_in], dtype, &device)?;
                let new_b = cpu(&fresh.b_in, &[n], dtype, &device)?;
                let new_cols = column_block(&fresh.w_out, n, fan_out, dtype, &device)?;
                let (w2, b2, out2) = if keep.is_empty() {
                    (new_rows, new_b, new_cols)
                } else {
                    let keep = Tensor::from_vec(keep, width - n, &device)?;
                    (
                        Tensor::cat(&[&w.index_select(&keep, 0)?, &new_rows], 0)?,
                        Tensor::cat(&[&b.index_select(&keep, 0)?, &new_b], 0)?,
                        Tensor::cat(&[&out.index_select(&keep, 1)?, &new_cols], 1)?,
                    )
                };
                model.set_param(&w_name, &w2)?;
                model.set_param(&b_name, &b2)?;
                model.set_param(&out_name, &out2)?;
                for name in [&w_name, &b_name, &out_name] {
                    model.set_frozen(name, true)?;
                }
                self.excited = removed.clone();
                NeurogenesisEvent {
                    step,
                    epoch,
                    layer,
                    units: (width - n..width).collect(),
                    removed,
                    width,
                }
            }
            (Growth::Additive, quirks) => {
                let new_width = width + n;
                let fresh = self.draw(n, fan_in, fan_out, new_width);
                let new_rows = cpu(&fresh.w_in, &[n, fan_in], dtype, &device)?;
                let new_b = cpu(&fresh.b_in, &[n], dtype, &device)?;
                let new_cols = column_block(&fresh.w_out, n, fan_out, dtype, &device)?;
                model.set_param(&w_name, &Tensor::cat(&[&w, &new_rows], 0)?)?;
                model.set_param(&b_name, &Tensor::cat(&[&b, &new_b], 0)?)?;
                model.set_param(&out_name, &Tensor::cat(&[&out, &new_cols], 1)?)?;
                let units: Vec<usize> = (width..new_width).collect();
                if quirks {
                    for name in [&w_name, &b_name, &out_name] {
                        model.set_frozen(name, true)?;
                    }
                } else {
                    for (name, axis) in [(&w_name, 0), (&b_name, 0), (&out_name, 1)] {
                        if let Some(mut st) = model.optim_state(name)? {
                            st.m = grow_zeros(&st.m, axis, n)?;
                            st.v = grow_zeros(&st.v, axis, n)?;
                            model.set_optim_state(name, st)?;
                        }
                    }
                    self.excited = units.clone();
                }
                NeurogenesisEvent {
                    step,
                    epoch,
                    layer,
                    units,
                    removed: Vec::new(),
                    width: new_width,
                }
            }
        };
        self.events.push(ev);
        Ok(self.events.last().expect("just pushed"))
    }

    /// Units per event for a layer of `width` units: `n`, or in quirks mode with targeted
    /// selection the reference's reduced size ([`reference_event_size`]).
    fn event_size(&self, width: usize) -> Result<usize, RegError> {
        let n = self.config.n.resolve(width);
        if !self.quirks || self.config.mode == Selection::Random {
            return Ok(n);
        }
        reference_event_size(n, width, self.config.portion).ok_or_else(|| {
            RegError::invalid(
                "neurogenesis",
                format!(
                    "reference_quirks: the reference's size logic cuts n={n} to round({}·{width}) − 3 < 1 units per event, which its code cannot run; raise portion",
                    self.config.portion
                ),
            )
        })
    }

    /// Chooses `n` distinct units of the layer whose incoming weights are `w`, ascending.
    fn choose(&mut self, w: &Tensor, n: usize) -> Result<Vec<usize>, RegError> {
        let width = w.dim(0)?;
        let pool: Vec<usize> = match self.config.mode {
            Selection::Random => (0..width).collect(),
            mode if self.quirks => reference_candidates(&importance(w)?, self.config.portion, mode),
            mode => candidates(&importance(w)?, self.config.portion, mode),
        };
        if n > pool.len() {
            return Err(RegError::invalid(
                "neurogenesis",
                format!("cannot choose {n} units from {} candidates", pool.len()),
            ));
        }
        let mut chosen: Vec<usize> = rand::seq::index::sample(&mut self.rng, pool.len(), n)
            .into_iter()
            .map(|i| pool[i])
            .collect();
        chosen.sort_unstable();
        Ok(chosen)
    }

    /// Draws fresh parameters for `n` units: incoming rows and biases `U(±1/sqrt(fan_in))`,
    /// outgoing columns `U(±1/sqrt(width))` (unit by unit, `fan_out` values each).
    fn draw(&mut self, n: usize, fan_in: usize, fan_out: usize, width: usize) -> Fresh {
        let b_in = neurogen_model::init::default_bound(fan_in) as f32;
        let b_out = neurogen_model::init::default_bound(width) as f32;
        let rng = &mut self.rng;
        let w_in = (0..n * fan_in)
            .map(|_| rng.random_range(-b_in..b_in))
            .collect();
        let bias = (0..n).map(|_| rng.random_range(-b_in..b_in)).collect();
        let w_out = (0..n * fan_out)
            .map(|_| rng.random_range(-b_out..b_out))
            .collect();
        Fresh {
            w_in,
            b_in: bias,
            w_out,
        }
    }

    /// The per-unit factors of excitability for a layer of `width` units (None: no
    /// excitability configured).
    fn excitability_factors(&self, width: usize) -> Option<Vec<f32>> {
        let c = self.config.excite?;
        let mut m = vec![1f32; width];
        for &u in &self.excited {
            if u < width {
                m[u] = c as f32;
            }
        }
        Some(m)
    }

    /// Whether the excitability hook acts at `site`.
    fn excites(&self, site: &HookSite) -> bool {
        site.is(self.config.layer, Point::Activation)
            && site.ctx.train
            && self.active(site.ctx.epoch)
            && !self.events.is_empty()
            && !self.excited.is_empty()
    }
}

/// Fresh values for the units of one event, unit by unit.
struct Fresh {
    /// `n × fan_in`, row-major.
    w_in: Vec<f32>,
    /// `n`.
    b_in: Vec<f32>,
    /// `n × fan_out`: unit `k`'s outgoing column is `w_out[k*fan_out..(k+1)*fan_out]`.
    w_out: Vec<f32>,
}

/// Number of candidates targeted modes choose from: `round(portion·width)`, at least 1.
pub fn candidate_count(width: usize, portion: f64) -> usize {
    ((portion * width as f64).round() as usize).clamp(1, width.max(1))
}

/// The importance of every unit of a layer whose incoming weights are `w` (`[units, inputs]`):
/// the L1 norm of its incoming weights (as in the reference's `targeted_neurogenesis`).
pub fn importance(w: &Tensor) -> candle_core::Result<Vec<f64>> {
    w.abs()?
        .sum(1)?
        .to_dtype(DType::F64)?
        .to_device(&Device::Cpu)?
        .to_vec1::<f64>()
}

/// The units targeted selection draws from: the `round(portion·W)` least (`TargetedLow`) or
/// most (`TargetedHigh`) important units, ties broken by index; ascending. For `Random`, every
/// unit.
pub fn candidates(importance: &[f64], portion: f64, mode: Selection) -> Vec<usize> {
    let width = importance.len();
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by(|&a, &b| importance[a].total_cmp(&importance[b]).then(a.cmp(&b)));
    let k = candidate_count(width, portion);
    let mut pool: Vec<usize> = match mode {
        Selection::Random => order,
        Selection::TargetedLow => order[..k].to_vec(),
        Selection::TargetedHigh => order[width - k..].to_vec(),
    };
    pool.sort_unstable();
    pool
}

/// The event size of the reference's `add_new` with `targeted_portion` set, for `n` units per
/// event in a layer of `width`: with `k = round(portion·width)` (Python's `round`, ties to
/// even), `n` if `k > n`, else `k − 3` (`n + (k − n) − 3`). None when that is below 1 (the
/// reference cannot draw a negative number of units; 0 units is no event).
///
/// ```
/// use neurogen_regularizers::neurogenesis::reference_event_size;
/// // fig. 4's published settings: 10 units, portion 0.032 of 250 → 5 units per event
/// assert_eq!(reference_event_size(10, 250, 0.032), Some(5));
/// assert_eq!(reference_event_size(8, 250, 0.2), Some(8));
/// assert_eq!(reference_event_size(8, 250, 0.01), None);
/// ```
pub fn reference_event_size(n: usize, width: usize, portion: f64) -> Option<usize> {
    let k = (portion * width as f64).round_ties_even() as i64;
    let n = n as i64;
    let size = if k - n <= 0 { k - 3 } else { n };
    (size >= 1).then_some(size as usize)
}

/// The units the reference's `targeted_neurogenesis` draws from, ascending: with
/// `k = round(portion·W)` and the threshold `t = sort(importance)[-(k − 1)]` (Python indexing:
/// `[-0]` is the smallest), the units with importance `< t` (`TargetedLow`: all but the `k − 1`
/// most important, when importances are distinct), or `> t` for `TargetedHigh` (the comparison
/// the reference's `TODO` flips; the published scripts never run it). For `Random`, every unit.
pub fn reference_candidates(importance: &[f64], portion: f64, mode: Selection) -> Vec<usize> {
    let width = importance.len();
    if mode == Selection::Random || width == 0 {
        return (0..width).collect();
    }
    let mut sorted = importance.to_vec();
    sorted.sort_by(f64::total_cmp);
    let k = (portion * width as f64).round_ties_even() as i64;
    let idx = k - 1;
    // Python's sorted[-idx]: idx = 0 is element 0; a negative idx counts from the front.
    let pos = if idx <= 0 {
        (-idx) as usize
    } else {
        width.saturating_sub(idx as usize)
    };
    let Some(&t) = sorted.get(pos) else {
        return Vec::new();
    };
    (0..width)
        .filter(|&u| match mode {
            Selection::TargetedHigh => importance[u] > t,
            _ => importance[u] < t,
        })
        .collect()
}

fn cpu(
    values: &[f32],
    shape: &[usize],
    dtype: DType,
    device: &Device,
) -> candle_core::Result<Tensor> {
    Tensor::from_slice(values, shape, &Device::Cpu)?
        .to_dtype(dtype)?
        .to_device(device)
}

/// `[fan_out, n]` from unit-by-unit columns.
fn column_block(
    cols: &[f32],
    n: usize,
    fan_out: usize,
    dtype: DType,
    device: &Device,
) -> candle_core::Result<Tensor> {
    cpu(cols, &[n, fan_out], dtype, device)?.t()?.contiguous()
}

/// Layout of a 1-D or 2-D tensor for per-unit masks along `axis`: (rows, cols).
fn dims(t: &Tensor) -> candle_core::Result<(usize, usize)> {
    match t.rank() {
        1 => Ok((t.dim(0)?, 1)),
        _ => t.dims2(),
    }
}

/// Flat indices of unit `u` along `axis` in a (rows, cols) tensor, in unit-major order.
fn unit_positions(rows: usize, cols: usize, axis: usize, u: usize) -> Vec<usize> {
    if axis == 0 {
        (0..cols).map(|c| u * cols + c).collect()
    } else {
        (0..rows).map(|r| r * cols + u).collect()
    }
}

/// `t` with the slices of `units` along `axis` (rows for 0, columns for 1) replaced by `fresh`
/// (unit by unit); every other element is selected bit-for-bit from `t`.
fn replace(t: &Tensor, axis: usize, units: &[usize], fresh: &[f32]) -> candle_core::Result<Tensor> {
    let (rows, cols) = dims(t)?;
    let mut mask = vec![0u8; rows * cols];
    let mut vals = vec![0f32; rows * cols];
    let per = if axis == 0 { cols } else { rows };
    for (k, &u) in units.iter().enumerate() {
        for (j, p) in unit_positions(rows, cols, axis, u).into_iter().enumerate() {
            mask[p] = 1;
            vals[p] = fresh[k * per + j];
        }
    }
    let mask = Tensor::from_vec(mask, t.dims(), &Device::Cpu)?.to_device(t.device())?;
    let vals = cpu(&vals, t.dims(), t.dtype(), t.device())?;
    mask.where_cond(&vals, t)
}

/// `t` with the slices of `units` along `axis` set to zero (moments of new units).
fn zero_units(t: &Tensor, axis: usize, units: &[usize]) -> candle_core::Result<Tensor> {
    let (rows, cols) = dims(t)?;
    let per = if axis == 0 { cols } else { rows };
    replace(t, axis, units, &vec![0f32; units.len() * per])
}

/// `t` extended by `n` zero rows (axis 0) or columns (axis 1).
fn grow_zeros(t: &Tensor, axis: usize, n: usize) -> candle_core::Result<Tensor> {
    let mut shape = t.dims().to_vec();
    shape[axis] = n;
    let z = Tensor::zeros(shape, t.dtype(), t.device())?;
    Tensor::cat(&[t, &z], axis)
}

fn hook_err(e: RegError) -> ModelError {
    e.into()
}

impl Regularizer for Neurogenesis {
    fn name(&self) -> String {
        "neurogenesis".into()
    }

    fn hook(&mut self, site: &HookSite) -> neurogen_model::Result<Vec<HookStep>> {
        if !self.excites(site) {
            return Ok(Vec::new());
        }
        Ok(self
            .excitability_factors(site.layer.width)
            .map(|m| vec![HookStep::ScaleUnits(m)])
            .unwrap_or_default())
    }

    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> neurogen_model::Result<()> {
        let (epoch, step) = (cx.ctx.epoch, cx.ctx.step);
        let fires = match phase {
            Phase::Start => return self.check_model(cx).map_err(hook_err),
            // Quirk (a): the reference checks `epoch % frequency == 0` before every minibatch.
            Phase::BeforeBatch => {
                self.quirks && self.active(epoch) && epoch % self.config.every == 0
            }
            Phase::AfterStep => !self.quirks && self.active(epoch) && step % self.config.every == 0,
            // No event at the end of an epoch, on the gradients, or in a phase still to come.
            _ => false,
        };
        if fires {
            self.event(cx).map_err(hook_err)?;
        }
        Ok(())
    }

    fn report(&self) -> serde_json::Value {
        let units: usize = self.events.iter().map(|e| e.units.len()).sum();
        let mut report = serde_json::json!({
            "events": self.events.len(),
            "units": units,
            "final_width": self.events.last().map(|e| e.width),
            "reference_quirks": self.quirks,
            "event_log": self.events,
        });
        // Only when there is one, so the reports of schedules that act are unchanged.
        if !self.warnings.is_empty() {
            report["warnings"] = serde_json::json!(self.warnings);
        }
        report
    }
}
