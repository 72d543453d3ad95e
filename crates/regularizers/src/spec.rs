//! Regulariser specifications: the command line's `--regularizer NAME[:KEY=VALUE,...]`
//! (repeatable, combined), TOML files, validation, and [`build`].
//!
//! | name | keys (paper defaults) |
//! |---|---|
//! | `neurogenesis` | `n=8` (count, or fraction in (0,1)), `every=640`, `until_epoch=10`, `layer=1`, `mode=random\|targeted-low\|targeted-high`, `portion=0.5`, `growth=turnover\|additive`, `excite=none` |
//! | `dropout` | `p=0.2` (in [0, 1)), `max_norm=3` (0 = off), `eval_renorm=true` |
//! | `weight-decay` | `lambda=1e-5` |
//! | `noise` | `mean=-0.2`, `std=0.5`, `layer=0` |
//! | `freeze` | `layer=1` (the control that freezes `fcs.{layer}` and the next layer's weight) |
//! | `kwta` | `k=0.05` (winners per example: count, or fraction in (0,1)), `layer=all` (or an index) |
//!
//! A bare name (`dropout`) gives the paper's defaults. TOML:
//! ```toml
//! reference_quirks = false
//! [[regularizer]]
//! kind = "neurogenesis"
//! n = 8
//! every = 640
//! [[regularizer]]
//! kind = "dropout"
//! p = 0.2
//! ```
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use neurogen_model::Regularizer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::dropout::{Dropout, DropoutConfig};
use crate::error::{RegError, Result};
use crate::freeze::{Freeze, FreezeConfig};
use crate::kwta::{Kwta, KwtaConfig};
use crate::neural_noise::{NeuralNoise, NeuralNoiseConfig};
use crate::neurogenesis::{Growth, Neurogenesis, NeurogenesisConfig, Selection};
use crate::plan::{RunPlan, ScheduleWarning};
use crate::stack::Stack;
use crate::units::UnitCount;
use crate::weight_decay::{WeightDecay, WeightDecayConfig};

/// One regulariser and its settings.
///
/// ```
/// use neurogen_regularizers::RegularizerSpec;
/// let s: RegularizerSpec = "neurogenesis:n=8,every=640,until_epoch=10".parse()?;
/// assert_eq!(s.to_string().parse::<RegularizerSpec>()?, s);
/// assert!("dropout:p=1".parse::<RegularizerSpec>().is_err());
/// # Ok::<(), neurogen_regularizers::RegError>(())
/// ```
///
/// More regularisers may come (`#[non_exhaustive]`): a `match` outside this crate needs a `_`
/// arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RegularizerSpec {
    /// Neurogenesis (turnover or additive growth, optional excitability).
    Neurogenesis(NeurogenesisConfig),
    /// Dropout with max-norm renormalisation.
    Dropout(DropoutConfig),
    /// Adam's L2 weight decay.
    #[serde(alias = "weight_decay")]
    WeightDecay(WeightDecayConfig),
    /// Multiplicative log-normal noise on pre-activations.
    #[serde(rename = "noise", alias = "neural-noise", alias = "neural_noise")]
    NeuralNoise(NeuralNoiseConfig),
    /// The frozen-layers control: no neurogenesis, the layers it would leave untrained frozen.
    Freeze(FreezeConfig),
    /// k-winner-take-all on hidden activations (training and evaluation).
    Kwta(KwtaConfig),
}

/// The names a specification may start with.
pub const NAMES: &str = "neurogenesis, dropout, weight-decay, noise, freeze, kwta";

impl RegularizerSpec {
    /// The regulariser's name as written in specifications.
    pub fn name(&self) -> &'static str {
        match self {
            RegularizerSpec::Neurogenesis(_) => "neurogenesis",
            RegularizerSpec::Dropout(_) => "dropout",
            RegularizerSpec::WeightDecay(_) => "weight-decay",
            RegularizerSpec::NeuralNoise(_) => "noise",
            RegularizerSpec::Freeze(_) => "freeze",
            RegularizerSpec::Kwta(_) => "kwta",
        }
    }

    /// The keys this regulariser accepts.
    pub fn keys(&self) -> &'static [&'static str] {
        match self {
            RegularizerSpec::Neurogenesis(_) => &[
                "n",
                "every",
                "until_epoch",
                "layer",
                "mode",
                "portion",
                "growth",
                "excite",
            ],
            RegularizerSpec::Dropout(_) => &["p", "max_norm", "eval_renorm"],
            RegularizerSpec::WeightDecay(_) => &["lambda"],
            RegularizerSpec::NeuralNoise(_) => &["mean", "std", "layer"],
            RegularizerSpec::Freeze(_) => &["layer"],
            RegularizerSpec::Kwta(_) => &["k", "layer"],
        }
    }

    /// Checks every setting's range.
    pub fn validate(&self) -> Result<()> {
        match self {
            RegularizerSpec::Neurogenesis(c) => c.validate(),
            RegularizerSpec::Dropout(c) => c.validate(),
            RegularizerSpec::WeightDecay(c) => c.validate(),
            RegularizerSpec::NeuralNoise(c) => c.validate(),
            RegularizerSpec::Freeze(_) => Ok(()),
            RegularizerSpec::Kwta(c) => c.validate(),
        }
    }

    /// Sets `key` to `value`, or says what is allowed.
    fn set(&mut self, key: &str, value: &str) -> std::result::Result<(), String> {
        let allowed = self.keys().join(", ");
        let name = self.name();
        let unknown = || format!("unknown key `{key}` for {name} (allowed: {allowed})");
        match self {
            RegularizerSpec::Neurogenesis(c) => match key {
                "n" => c.n = value.parse::<UnitCount>().map_err(|e| format!("n: {e}"))?,
                "every" => c.every = int(key, value, "a number of optimiser steps >= 1")?,
                "until_epoch" => c.until_epoch = int(key, value, "a zero-based epoch")?,
                "layer" => c.layer = int(key, value, "a hidden layer index (0, 1, 2, ...)")?,
                "mode" => {
                    c.mode = match value {
                        "random" => Selection::Random,
                        "targeted-low" | "targeted" | "targeted_low" => Selection::TargetedLow,
                        "targeted-high" | "targeted_high" => Selection::TargetedHigh,
                        _ => {
                            return Err(format!(
                                "mode must be random, targeted-low or targeted-high, got `{value}`"
                            ))
                        }
                    }
                }
                "portion" => c.portion = float(key, value)?,
                "growth" => {
                    c.growth = match value {
                        "turnover" => Growth::Turnover,
                        "additive" => Growth::Additive,
                        _ => {
                            return Err(format!(
                                "growth must be turnover or additive, got `{value}`"
                            ))
                        }
                    }
                }
                "excite" => {
                    c.excite = match value {
                        "none" | "off" => None,
                        v => Some(float(key, v)?),
                    }
                }
                _ => return Err(unknown()),
            },
            RegularizerSpec::Dropout(c) => match key {
                "p" => c.p = float(key, value)?,
                "max_norm" => c.max_norm = float(key, value)?,
                "eval_renorm" => {
                    c.eval_renorm = value
                        .parse()
                        .map_err(|_| format!("eval_renorm must be true or false, got `{value}`"))?
                }
                _ => return Err(unknown()),
            },
            RegularizerSpec::WeightDecay(c) => match key {
                "lambda" => c.lambda = float(key, value)?,
                _ => return Err(unknown()),
            },
            RegularizerSpec::NeuralNoise(c) => match key {
                "mean" => c.mean = float(key, value)?,
                "std" => c.std = float(key, value)?,
                "layer" => c.layer = int(key, value, "a hidden layer index (0, 1, 2, ...)")?,
                _ => return Err(unknown()),
            },
            RegularizerSpec::Freeze(c) => match key {
                "layer" => c.layer = int(key, value, "a hidden layer index (0, 1, 2, ...)")?,
                _ => return Err(unknown()),
            },
            RegularizerSpec::Kwta(c) => match key {
                "k" => c.k = value.parse::<UnitCount>().map_err(|e| format!("k: {e}"))?,
                "layer" => {
                    c.layer = match value {
                        "all" => None,
                        v => Some(int(key, v, "a hidden layer index (0, 1, 2, ...) or all")?),
                    }
                }
                _ => return Err(unknown()),
            },
        }
        Ok(())
    }
}

fn int(key: &str, value: &str, what: &str) -> std::result::Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("{key} must be a whole number ({what}), got `{value}`"))
}

fn float(key: &str, value: &str) -> std::result::Result<f64, String> {
    value
        .parse()
        .map_err(|_| format!("{key} must be a number, got `{value}`"))
}

impl FromStr for RegularizerSpec {
    type Err = RegError;

    /// Parses `NAME[:KEY=VALUE,...]`; missing keys keep the paper's defaults.
    fn from_str(s: &str) -> Result<Self> {
        let err = |message: String| RegError::Parse {
            spec: s.to_string(),
            message,
        };
        let (name, rest) = match s.trim().split_once(':') {
            Some((n, r)) => (n.trim(), Some(r)),
            None => (s.trim(), None),
        };
        let mut spec = match name {
            "neurogenesis" => RegularizerSpec::Neurogenesis(Default::default()),
            "dropout" => RegularizerSpec::Dropout(Default::default()),
            "weight-decay" | "weight_decay" => RegularizerSpec::WeightDecay(Default::default()),
            "noise" | "neural-noise" | "neural_noise" => {
                RegularizerSpec::NeuralNoise(Default::default())
            }
            "freeze" => RegularizerSpec::Freeze(FreezeConfig::reference()),
            "kwta" | "k-wta" => RegularizerSpec::Kwta(KwtaConfig::default()),
            _ => {
                return Err(err(format!(
                    "unknown regulariser `{name}` (allowed: {NAMES})"
                )))
            }
        };
        let mut seen: Vec<&str> = Vec::new();
        for kv in rest.unwrap_or("").split(',').map(str::trim) {
            if kv.is_empty() {
                if rest.is_some_and(|r| !r.trim().is_empty()) {
                    return Err(err("empty setting (two commas in a row?)".into()));
                }
                continue;
            }
            let Some((k, v)) = kv.split_once('=') else {
                return Err(err(format!(
                    "setting `{kv}` is not KEY=VALUE (allowed keys: {})",
                    spec.keys().join(", ")
                )));
            };
            let (k, v) = (k.trim(), v.trim());
            if seen.contains(&k) {
                return Err(err(format!("key `{k}` is given twice")));
            }
            seen.push(k);
            spec.set(k, v).map_err(err)?;
        }
        spec.validate().map_err(|e| match e {
            RegError::Invalid { message, .. } => err(message),
            other => other,
        })?;
        Ok(spec)
    }
}

impl fmt::Display for RegularizerSpec {
    /// The canonical `NAME:KEY=VALUE,...` form, with every key; parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegularizerSpec::Neurogenesis(c) => {
                write!(
                    f,
                    "neurogenesis:n={},every={},until_epoch={},layer={},mode={},portion={},growth={}",
                    c.n,
                    c.every,
                    c.until_epoch,
                    c.layer,
                    c.mode.as_str(),
                    c.portion,
                    c.growth.as_str()
                )?;
                if let Some(e) = c.excite {
                    write!(f, ",excite={e}")?;
                }
                Ok(())
            }
            RegularizerSpec::Dropout(c) => write!(
                f,
                "dropout:p={},max_norm={},eval_renorm={}",
                c.p, c.max_norm, c.eval_renorm
            ),
            RegularizerSpec::WeightDecay(c) => write!(f, "weight-decay:lambda={}", c.lambda),
            RegularizerSpec::NeuralNoise(c) => {
                write!(f, "noise:mean={},std={},layer={}", c.mean, c.std, c.layer)
            }
            RegularizerSpec::Freeze(c) => write!(f, "freeze:layer={}", c.layer),
            RegularizerSpec::Kwta(c) => match c.layer {
                Some(l) => write!(f, "kwta:k={},layer={l}", c.k),
                None => write!(f, "kwta:k={},layer=all", c.k),
            },
        }
    }
}

/// A run's regularisers: the specifications (combined) and whether the reference code's quirks
/// are reproduced. Serialised as `{"regularizer": [...], "reference_quirks": false}` (TOML:
/// `[[regularizer]]` tables with a `kind` key).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegularizerSet {
    /// The regularisers, each with its settings.
    #[serde(default, rename = "regularizer")]
    pub specs: Vec<RegularizerSpec>,
    /// Reproduce the reference code's behaviour (see [`crate::neurogenesis`]); off by default.
    #[serde(default)]
    pub reference_quirks: bool,
}

impl RegularizerSet {
    /// A one-line description, e.g. `neurogenesis:n=8,... + dropout:p=0.2`, with
    /// ` (reference quirks)` when they are on; `control (no regulariser)` for an empty set.
    ///
    /// ```
    /// use neurogen_regularizers::RegularizerSet;
    /// assert_eq!(RegularizerSet::default().describe(), "control (no regulariser)");
    /// let set = RegularizerSet::from_specs(["dropout"], true)?;
    /// assert!(set.describe().starts_with("dropout:") && set.describe().ends_with(" (reference quirks)"));
    /// # Ok::<(), neurogen_regularizers::RegError>(())
    /// ```
    pub fn describe(&self) -> String {
        if self.specs.is_empty() {
            return "control (no regulariser)".into();
        }
        let s: Vec<String> = self.specs.iter().map(|r| r.to_string()).collect();
        format!(
            "{}{}",
            s.join(" + "),
            if self.reference_quirks {
                " (reference quirks)"
            } else {
                ""
            }
        )
    }

    /// A set from command-line specifications (`--regularizer` values).
    ///
    /// ```
    /// use neurogen_regularizers::RegularizerSet;
    /// let set = RegularizerSet::from_specs(["neurogenesis:n=8,every=640", "dropout:p=0.2"], false)?;
    /// assert_eq!(set.specs.len(), 2);
    /// # Ok::<(), neurogen_regularizers::RegError>(())
    /// ```
    pub fn from_specs<I, S>(specs: I, reference_quirks: bool) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let set = RegularizerSet {
            specs: specs
                .into_iter()
                .map(|s| s.as_ref().parse())
                .collect::<Result<_>>()?,
            reference_quirks,
        };
        set.validate()?;
        Ok(set)
    }

    /// Parses a TOML configuration (see the module documentation) and validates it.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        Self::parse_toml(text, "<string>")
    }

    /// Reads and parses a TOML configuration file.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| RegError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_toml(&text, &path.display().to_string())
    }

    fn parse_toml(text: &str, source_name: &str) -> Result<Self> {
        let set: RegularizerSet = toml::from_str(text).map_err(|e| RegError::Toml {
            source_name: source_name.to_string(),
            message: format!(
                "{} (regularizer kinds: {NAMES}; top-level keys: regularizer, reference_quirks)",
                e.to_string().trim_end()
            ),
        })?;
        set.validate()?;
        Ok(set)
    }

    /// The configuration as TOML (parses back with [`RegularizerSet::from_toml_str`]).
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| RegError::Toml {
            source_name: "<output>".into(),
            message: e.to_string(),
        })
    }

    /// The settings that do nothing in the planned run, regulariser by regulariser (see
    /// [`crate::plan`]); empty when every schedule acts as set. [`build_for_run`] returns the
    /// same warnings and puts them in the regularisers' reports.
    pub fn schedule_warnings(&self, plan: &RunPlan) -> Vec<ScheduleWarning> {
        self.specs
            .iter()
            .flat_map(|s| match s {
                RegularizerSpec::Neurogenesis(c) => {
                    c.schedule_warnings(plan, self.reference_quirks)
                }
                _ => Vec::new(),
            })
            .collect()
    }

    /// Checks every specification, and that dropout and weight decay appear at most once.
    pub fn validate(&self) -> Result<()> {
        for s in &self.specs {
            s.validate()?;
        }
        for name in ["dropout", "weight-decay"] {
            if self.specs.iter().filter(|s| s.name() == name).count() > 1 {
                return Err(RegError::invalid(
                    name,
                    format!("{name} is given more than once; give it once"),
                ));
            }
        }
        Ok(())
    }
}

/// Position of a kind in the reference's order (weight decay, noise, neurogenesis, dropout;
/// then the frozen-layers control, which has no forward hook; then k-WTA, which acts on what the
/// others produced).
fn canonical_rank(s: &RegularizerSpec) -> u64 {
    match s {
        RegularizerSpec::WeightDecay(_) => 0,
        RegularizerSpec::NeuralNoise(_) => 1,
        RegularizerSpec::Neurogenesis(_) => 2,
        RegularizerSpec::Dropout(_) => 3,
        RegularizerSpec::Freeze(_) => 4,
        RegularizerSpec::Kwta(_) => 5,
    }
}

/// The random stream of the `occurrence`-th regulariser of a kind: ChaCha8 seeded with `seed`,
/// on stream `(rank + 1) << 32 | occurrence`, so each regulariser's randomness depends only on
/// the seed, its kind and how many of that kind precede it — not on the other regularisers.
pub fn stream(seed: u64, rank: u64, occurrence: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(((rank + 1) << 32) | occurrence);
    r
}

/// Builds the regularisers of `set`, in the reference code's order (weight decay, neural noise,
/// neurogenesis, dropout; a kind given several times keeps its given order). All randomness
/// (dropout masks, noise, unit choice, fresh weights) comes from per-regulariser ChaCha8 streams
/// derived from `seed` ([`stream`]) and is generated on the CPU, so runs are reproducible on
/// every device.
///
/// ```
/// use neurogen_regularizers::{build, RegularizerSet, Regularizer};
/// let set = RegularizerSet::from_specs(["dropout", "neurogenesis:excite=2"], false)?;
/// let stack = build(&set, 7)?;
/// assert_eq!(stack.name(), "neurogenesis+dropout");
/// # Ok::<(), neurogen_regularizers::RegError>(())
/// ```
pub fn build(set: &RegularizerSet, seed: u64) -> Result<Stack> {
    build_planned(set, seed, None).map(|(stack, _)| stack)
}

/// [`build`] for a planned run: the same stack (same seeds, same results), whose regularisers
/// also check their schedules against `plan` and carry what does nothing in their reports
/// (field `warnings`), and those warnings, to show before training
/// ([`RegularizerSet::schedule_warnings`]).
///
/// ```
/// use neurogen_regularizers::{build_for_run, RegularizerSet, Regularizer, RunPlan};
/// let set = RegularizerSet::from_specs(["neurogenesis:every=640", "dropout"], false)?;
/// let (stack, warnings) = build_for_run(&set, 0, &RunPlan::new(1, 500))?;
/// for w in &warnings {
///     eprintln!("warning: {w}"); // neurogenesis: every=640 is more than the run's ...
/// }
/// assert_eq!(warnings[0].setting, "every");
/// assert_eq!(stack.report()[0]["report"]["warnings"][0]["setting"], "every");
/// # Ok::<(), neurogen_regularizers::RegError>(())
/// ```
pub fn build_for_run(
    set: &RegularizerSet,
    seed: u64,
    plan: &RunPlan,
) -> Result<(Stack, Vec<ScheduleWarning>)> {
    build_planned(set, seed, Some(plan))
}

fn build_planned(
    set: &RegularizerSet,
    seed: u64,
    plan: Option<&RunPlan>,
) -> Result<(Stack, Vec<ScheduleWarning>)> {
    set.validate()?;
    let mut warnings = Vec::new();
    let mut specs: Vec<&RegularizerSpec> = set.specs.iter().collect();
    specs.sort_by_key(|s| canonical_rank(s));
    let mut counts = [0u64; 6];
    let mut stack = Stack::default();
    for s in specs {
        let rank = canonical_rank(s);
        let rng = stream(seed, rank, counts[rank as usize]);
        counts[rank as usize] += 1;
        let reg: Box<dyn Regularizer> = match s {
            RegularizerSpec::Neurogenesis(c) => {
                let mut n = Neurogenesis::new(*c, set.reference_quirks, rng)?;
                if let Some(plan) = plan {
                    warnings.extend_from_slice(n.plan_run(plan));
                }
                Box::new(n)
            }
            RegularizerSpec::Dropout(c) => Box::new(Dropout::new(*c, rng)?),
            RegularizerSpec::WeightDecay(c) => Box::new(WeightDecay::new(*c)?),
            RegularizerSpec::NeuralNoise(c) => Box::new(NeuralNoise::new(*c, rng)?),
            RegularizerSpec::Freeze(c) => Box::new(Freeze::new(*c)),
            RegularizerSpec::Kwta(c) => Box::new(Kwta::new(*c)?),
        };
        stack.push(reg);
    }
    Ok((stack, warnings))
}
