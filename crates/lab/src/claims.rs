//! Claims: what a study expects, how each expectation is tested, and the verdict.
//!
//! A study declares the values it measures as [`Value`] descriptors (key, label, unit, digits,
//! direction), so a new metric needs no change to the engine; [`Value::TEST_ACCURACY`],
//! [`Value::TRAIN_ACCURACY`] and [`Value::GAP`] are ready made. A [`Claim`] is a sentence of
//! the paper and a [`Test`] that decides it:
//!
//! | test | input | verdict from |
//! |---|---|---|
//! | [`Test::Welch`] | two groups | the paired t-test by repeat (the Welch test is the paper's own, printed beside it) |
//! | [`Test::Paired`] | two groups, paired by repeat | the paired t-test (Wilcoxon and d_z beside it) |
//! | [`Test::Anova`] | several groups | one-way ANOVA (Tukey's HSD names the pairs) |
//! | [`Test::Correlation`] | two values over the runs of some groups | Pearson's r or Spearman's ρ with its CI |
//! | [`Test::Threshold`] | one group against a fixed bound | a one-sample t-test |
//! | [`Test::Analysis`] | the study's own code | the study's own verdict |
//!
//! Claims read plain numbers: an [`Observations`] gives each (value, group) as values by
//! repeat, so claims depend on no row type ([`Samples`] is a ready-made one). Evaluating a
//! claim gives a [`Finding`] (the text of the test, the paired comparison where there is one,
//! and a [`Verdict`]); [`holm`] adjusts the paired tests of a table for multiple comparisons.
//! A test that cannot be computed on what was recorded (too few runs, no variance; an interim
//! report) is a finding that says why, with [`Verdict::Untestable`]: never a panic, never "NaN".
use std::collections::BTreeMap;

use neurogen_analysis::stats;
use neurogen_analysis::AnalysisError;

/// Significance level of every verdict.
pub const ALPHA: f64 = 0.05;

/// What went wrong with a claim's input or declaration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// A value that is NaN or infinite.
    #[error("{value} of group {group:?}, repeat {repeat}, is not finite ({x})")]
    NonFinite {
        /// The value's label.
        value: String,
        /// The group's key.
        group: String,
        /// The repeat.
        repeat: usize,
        /// The offending number.
        x: f64,
    },
    /// The same (value, group, repeat) given twice.
    #[error("{value} of group {group:?}, repeat {repeat}, was given twice")]
    DuplicateRepeat {
        /// The value's label.
        value: String,
        /// The group's key.
        group: String,
        /// The repeat.
        repeat: usize,
    },
    /// A statistical test refused its input (too few values, unequal lengths, no variance, …).
    #[error("{what}: {source}")]
    Stats {
        /// Which test.
        what: String,
        /// The reason.
        #[source]
        source: AnalysisError,
    },
    /// A [`Test::Analysis`] claim has no verdict from the study's analysis.
    #[error("claim {0:?} was not analysed")]
    NotAnalysed(String),
    /// A verdict was given for a claim that is not an analysis claim of the study.
    #[error("no analysis claim {0:?} in the study")]
    NoSuchAnalysisClaim(String),
    /// A claim names a group the study does not have.
    #[error("claim {claim:?} names no group {group:?}")]
    NoSuchGroup {
        /// The claim's text.
        claim: String,
        /// The key it names.
        group: String,
    },
}

fn stats_err(what: &str) -> impl FnOnce(AnalysisError) -> ClaimError + '_ {
    move |source| ClaimError::Stats {
        what: what.to_string(),
        source,
    }
}

/// A value measured on each run that claims compare: a descriptor, so a study declares its own
/// metrics as constants.
///
/// ```
/// use neurogen_lab::claims::Value;
/// const ROBUSTNESS: Value = Value::new("ablation_auc", "ablation robustness", "", 3, true);
/// assert_eq!(ROBUSTNESS.short, "ablation robustness");
/// assert!(!Value::GAP.higher_is_better);
/// assert_eq!(Value::GAP.short, "gap");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Value {
    /// Stable key (e.g. `test_accuracy`): how a study's observations find the value.
    pub key: &'static str,
    /// Name in test lines and claims (`test accuracy`).
    pub label: &'static str,
    /// Name in summary table headers (`mean {short}`); the label unless set.
    pub short: &'static str,
    /// Unit of the value and of differences of it (`points`), or empty for a unit-less value.
    pub unit: &'static str,
    /// Digits after the point of differences in the claims table.
    pub digits: usize,
    /// Whether a higher value is what the paper calls better.
    pub higher_is_better: bool,
}

impl Value {
    /// Percentage points: the unit of accuracies in percent and of their differences.
    pub const POINTS: &'static str = "points";

    /// Final test accuracy, percent.
    pub const TEST_ACCURACY: Value =
        Value::new("test_accuracy", "test accuracy", Value::POINTS, 2, true);
    /// Final training accuracy (evaluation mode), percent.
    pub const TRAIN_ACCURACY: Value = Value::new(
        "train_accuracy",
        "training accuracy",
        Value::POINTS,
        2,
        true,
    );
    /// Training minus test accuracy, points (lower is better).
    pub const GAP: Value =
        Value::new("gap", "generalisation gap", Value::POINTS, 2, false).with_short("gap");

    /// The value `key`, named `label`, in `unit`, whose differences are written with `digits`
    /// digits after the point; `higher_is_better` gives the direction claims expect.
    pub const fn new(
        key: &'static str,
        label: &'static str,
        unit: &'static str,
        digits: usize,
        higher_is_better: bool,
    ) -> Value {
        Value {
            key,
            label,
            short: label,
            unit,
            digits,
            higher_is_better,
        }
    }

    /// The same value, named `short` in summary table headers.
    pub const fn with_short(mut self, short: &'static str) -> Value {
        self.short = short;
        self
    }
}

/// Whether a claim of the paper holds in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The effect has the paper's direction and is significant (p < 0.05).
    Holds,
    /// The direction matches but the test is not significant at this scale.
    DirectionOnly,
    /// The effect is absent or reversed.
    DoesNotHold,
    /// Not enough successful runs to test.
    Untestable,
}

impl Verdict {
    /// The verdict rule: from an effect `diff`, its p-value `p` and whether the paper expects
    /// it to be positive. The right sign with p < [`ALPHA`] holds, the right sign alone is
    /// [`Verdict::DirectionOnly`], anything else does not hold; a non-finite `diff` or `p`
    /// cannot be tested.
    ///
    /// ```
    /// use neurogen_lab::claims::Verdict;
    /// assert_eq!(Verdict::from_test(1.5, 0.01, true), Verdict::Holds);
    /// assert_eq!(Verdict::from_test(1.5, 0.20, true), Verdict::DirectionOnly);
    /// assert_eq!(Verdict::from_test(1.5, 0.01, false), Verdict::DoesNotHold);
    /// assert_eq!(Verdict::from_test(f64::NAN, 0.01, true), Verdict::Untestable);
    /// ```
    pub fn from_test(diff: f64, p: f64, expected_positive: bool) -> Verdict {
        if !diff.is_finite() || !p.is_finite() {
            return Verdict::Untestable;
        }
        let right_way = if expected_positive {
            diff > 0.0
        } else {
            diff < 0.0
        };
        match (right_way, p < ALPHA) {
            (true, true) => Verdict::Holds,
            (true, false) => Verdict::DirectionOnly,
            _ => Verdict::DoesNotHold,
        }
    }

    /// The text used in reports.
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::DirectionOnly => "same direction, not significant at this scale",
            Verdict::DoesNotHold => "does not hold at this scale",
            Verdict::Untestable => "not testable (too few runs, or no variance)",
        }
    }
}

/// The direction a claim expects group `a` to differ from group `b` (or a group from a bound),
/// in terms of [`Value::higher_is_better`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expect {
    /// `a` is better than `b`: holds if the difference has that sign and p < 0.05.
    Better,
    /// `a` is worse than `b`: holds if the difference has that sign and p < 0.05.
    Worse,
    /// `a` is not significantly worse than `b`: holds unless `a` is worse with p < 0.05.
    NotWorse,
}

impl Expect {
    /// The verdict for a difference `diff` (a − b) of `value` with p-value `p`.
    pub fn verdict(self, value: Value, diff: f64, p: f64) -> Verdict {
        let up = value.higher_is_better;
        match self {
            Expect::Better => Verdict::from_test(diff, p, up),
            Expect::Worse => Verdict::from_test(diff, p, !up),
            Expect::NotWorse => {
                let not_worse = if up { diff >= 0.0 } else { diff <= 0.0 };
                if not_worse || p >= ALPHA {
                    Verdict::Holds
                } else {
                    Verdict::DoesNotHold
                }
            }
        }
    }
}

/// A comparison of one value between two groups (differences are a − b).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The value compared.
    pub value: Value,
    /// Key of the first group.
    pub a: String,
    /// Key of the second group.
    pub b: String,
}

impl Comparison {
    /// `value` of group `a` against group `b` (keys).
    pub fn new(value: Value, a: &str, b: &str) -> Comparison {
        Comparison {
            value,
            a: a.to_string(),
            b: b.to_string(),
        }
    }
}

/// How a claim is decided.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Test {
    /// The paper's Welch t-test of a comparison, and beside it the paired comparison by repeat,
    /// whose paired t-test decides the verdict (the Welch test where no pair can be made).
    /// `found` says what was found, with `{d}` standing for the signed difference (", Welch p =
    /// …" is appended).
    Welch {
        /// The comparison tested.
        cmp: Comparison,
        /// The paper's direction.
        expect: Expect,
        /// The "found here" text, e.g. `difference {d} points`.
        found: String,
    },
    /// The paired comparison by repeat alone: paired t-test (verdict), Wilcoxon signed-rank
    /// test, Cohen's d_z and the difference detectable at 80 % power. `found` as for Welch
    /// (", paired t p = …" is appended).
    Paired {
        /// The comparison tested.
        cmp: Comparison,
        /// The paper's direction.
        expect: Expect,
        /// The "found here" text, e.g. `difference {d} points`.
        found: String,
    },
    /// One-way ANOVA of `value` over `groups`, with Tukey's HSD naming the pairs that differ.
    Anova {
        /// The value compared.
        value: Value,
        /// Keys of the groups (at least two).
        groups: Vec<String>,
        /// true: the claim is that the groups differ (holds if p < 0.05); false: that they do
        /// not (holds unless p < 0.05).
        differ: bool,
    },
    /// Correlation of `x` with `y` over the runs of `groups` (a run counts where it has both
    /// values), with its 95 % CI (Fisher z) and the correlation detectable at 80 % power.
    Correlation {
        /// First value.
        x: Value,
        /// Second value.
        y: Value,
        /// Keys of the groups whose runs are pooled.
        groups: Vec<String>,
        /// Whether the paper expects a positive correlation.
        positive: bool,
        /// Spearman's rank correlation instead of Pearson's.
        spearman: bool,
    },
    /// A one-sample t-test of `value` in `group` against `bound` (e.g. chance level): `expect`
    /// says on which side of it (in terms of [`Value::higher_is_better`]) the paper puts it.
    Threshold {
        /// The value tested.
        value: Value,
        /// Key of the group.
        group: String,
        /// The bound.
        bound: f64,
        /// The paper's direction relative to the bound.
        expect: Expect,
    },
    /// Decided by the study's own analysis, which gives the finding and the verdict.
    Analysis,
}

/// A claim of the paper and how this study tests it.
///
/// ```
/// use neurogen_lab::claims::{Claim, Expect, Samples, Value, Verdict};
/// let mut obs = Samples::new();
/// obs.set(Value::TEST_ACCURACY, "ngn", &[(0, 71.0), (1, 72.5), (2, 70.0)]).unwrap();
/// obs.set(Value::TEST_ACCURACY, "control", &[(0, 69.0), (1, 70.0), (2, 69.5)]).unwrap();
/// let claim = Claim::paired("Neurogenesis raises test accuracy", "difference {d} points",
///                           Value::TEST_ACCURACY, "ngn", "control", Expect::Better);
/// let f = claim.evaluate(&obs).unwrap();
/// assert!(f.found.starts_with("difference +1.67 points, paired t p = "));
/// assert_eq!(f.verdict, Verdict::DirectionOnly);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The claim as the report states it.
    pub text: String,
    /// How it is decided.
    pub test: Test,
    /// What exactly this row tests, in words (e.g. `CNN: Spearman ρ(f, ablation AUC) < 0`),
    /// for a claim tested several ways; shown in the claims table's test column where the
    /// report has one ([`crate::report::TableStyle::how_column`]).
    pub how: Option<String>,
}

impl Claim {
    /// A claim decided by the paper's Welch t-test of `value`, group `a` against group `b`
    /// (keys), with the paired comparison by repeat beside it ([`Test::Welch`]).
    pub fn welch(text: &str, found: &str, value: Value, a: &str, b: &str, expect: Expect) -> Claim {
        Claim {
            text: text.to_string(),
            how: None,
            test: Test::Welch {
                cmp: Comparison::new(value, a, b),
                expect,
                found: found.to_string(),
            },
        }
    }

    /// A claim decided by the paired comparison by repeat of `value`, `a` against `b`.
    pub fn paired(
        text: &str,
        found: &str,
        value: Value,
        a: &str,
        b: &str,
        expect: Expect,
    ) -> Claim {
        Claim {
            text: text.to_string(),
            how: None,
            test: Test::Paired {
                cmp: Comparison::new(value, a, b),
                expect,
                found: found.to_string(),
            },
        }
    }

    /// A claim that `value` differs (`differ`) or does not differ between `groups`.
    pub fn anova(text: &str, value: Value, groups: &[&str], differ: bool) -> Claim {
        Claim {
            text: text.to_string(),
            how: None,
            test: Test::Anova {
                value,
                groups: groups.iter().map(|g| g.to_string()).collect(),
                differ,
            },
        }
    }

    /// A claim that `x` and `y` correlate (positively if `positive`) over the runs of
    /// `groups` (Pearson; [`Test::Correlation`] with `spearman` for ranks).
    pub fn correlation(text: &str, x: Value, y: Value, groups: &[&str], positive: bool) -> Claim {
        Claim {
            text: text.to_string(),
            how: None,
            test: Test::Correlation {
                x,
                y,
                groups: groups.iter().map(|g| g.to_string()).collect(),
                positive,
                spearman: false,
            },
        }
    }

    /// A claim that `x` and `y` rank-correlate (Spearman's ρ, positively if `positive`) over
    /// the runs of `groups`.
    pub fn spearman(text: &str, x: Value, y: Value, groups: &[&str], positive: bool) -> Claim {
        let mut c = Claim::correlation(text, x, y, groups, positive);
        if let Test::Correlation { spearman, .. } = &mut c.test {
            *spearman = true;
        }
        c
    }

    /// A claim that `value` in `group` lies on the `expect` side of `bound`.
    pub fn threshold(text: &str, value: Value, group: &str, bound: f64, expect: Expect) -> Claim {
        Claim {
            text: text.to_string(),
            how: None,
            test: Test::Threshold {
                value,
                group: group.to_string(),
                bound,
                expect,
            },
        }
    }

    /// A claim decided by the study's own analysis.
    pub fn analysis(text: &str) -> Claim {
        Claim {
            text: text.to_string(),
            how: None,
            test: Test::Analysis,
        }
    }

    /// The same claim, saying in words what exactly this row tests ([`Claim::how`]).
    pub fn with_how(mut self, how: &str) -> Claim {
        self.how = Some(how.to_string());
        self
    }

    /// The comparison a Welch or paired claim tests.
    pub fn comparison(&self) -> Option<&Comparison> {
        match &self.test {
            Test::Welch { cmp, .. } | Test::Paired { cmp, .. } => Some(cmp),
            _ => None,
        }
    }

    /// The same claim testing `cmp` instead (a Welch or paired claim on other groups, e.g. a
    /// variant of each); None for a claim that tests no comparison.
    pub fn with_comparison(&self, cmp: Comparison) -> Option<Claim> {
        let mut c = self.clone();
        match &mut c.test {
            Test::Welch { cmp: old, .. } | Test::Paired { cmp: old, .. } => *old = cmp,
            _ => return None,
        }
        Some(c)
    }

    /// Every group key the claim names.
    pub fn groups(&self) -> Vec<&str> {
        match &self.test {
            Test::Welch { cmp, .. } | Test::Paired { cmp, .. } => vec![&cmp.a, &cmp.b],
            Test::Anova { groups, .. } | Test::Correlation { groups, .. } => {
                groups.iter().map(String::as_str).collect()
            }
            Test::Threshold { group, .. } => vec![group],
            Test::Analysis => vec![],
        }
    }

    /// Decides the claim on `obs`. A test that cannot be computed on what was recorded gives a
    /// finding that says why, with [`Verdict::Untestable`]; an analysis claim is an error
    /// ([`ClaimError::NotAnalysed`]): its finding comes from the study ([`Finding::analysis`]).
    pub fn evaluate(&self, obs: &dyn Observations) -> Result<Finding, ClaimError> {
        Ok(match &self.test {
            Test::Welch { cmp, expect, found } => welch_finding(obs, cmp, *expect, found),
            Test::Paired { cmp, expect, found } => paired_finding(obs, cmp, *expect, found),
            Test::Anova {
                value,
                groups,
                differ,
            } => anova_finding(obs, *value, groups, *differ),
            Test::Correlation {
                x,
                y,
                groups,
                positive,
                spearman,
            } => correlation_finding(obs, *x, *y, groups, *positive, *spearman),
            Test::Threshold {
                value,
                group,
                bound,
                expect,
            } => threshold_finding(obs, *value, group, *bound, *expect),
            Test::Analysis => return Err(ClaimError::NotAnalysed(self.text.clone())),
        })
    }
}

/// The numbers claims read: each (value, group) as values by repeat.
pub trait Observations {
    /// The values of `value` in group `group`, by repeat (empty if none were recorded).
    fn by_repeat(&self, value: Value, group: &str) -> BTreeMap<usize, f64>;

    /// The values of `value` in group `group` for the unpaired tests, ordered by repeat.
    fn values(&self, value: Value, group: &str) -> Vec<f64> {
        self.by_repeat(value, group).into_values().collect()
    }

    /// The display name of group `group` (in plot labels); the key unless overridden.
    fn name(&self, group: &str) -> String {
        group.to_string()
    }
}

/// Plain observations: values by (value, group, repeat), each checked to be finite.
///
/// ```
/// use neurogen_lab::claims::{Observations, Samples, Value};
/// let mut s = Samples::new();
/// s.set(Value::TEST_ACCURACY, "a", &[(1, 70.0), (0, 68.0)]).unwrap();
/// assert_eq!(s.values(Value::TEST_ACCURACY, "a"), [68.0, 70.0]);
/// assert!(s.set(Value::TEST_ACCURACY, "b", &[(0, f64::NAN)]).is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Samples {
    values: BTreeMap<(Value, String), BTreeMap<usize, f64>>,
    names: BTreeMap<String, String>,
}

impl Samples {
    /// No observations yet.
    pub fn new() -> Samples {
        Samples::default()
    }

    /// Records `value` of `group` as `(repeat, x)` pairs, replacing what was there. Fails on
    /// a non-finite `x` or a repeat given twice.
    pub fn set(
        &mut self,
        value: Value,
        group: &str,
        xs: &[(usize, f64)],
    ) -> Result<&mut Samples, ClaimError> {
        let mut m = BTreeMap::new();
        for &(repeat, x) in xs {
            if !x.is_finite() {
                return Err(ClaimError::NonFinite {
                    value: value.label.to_string(),
                    group: group.to_string(),
                    repeat,
                    x,
                });
            }
            if m.insert(repeat, x).is_some() {
                return Err(ClaimError::DuplicateRepeat {
                    value: value.label.to_string(),
                    group: group.to_string(),
                    repeat,
                });
            }
        }
        self.values.insert((value, group.to_string()), m);
        Ok(self)
    }

    /// Names group `group` `name` in labels.
    pub fn name_group(&mut self, group: &str, name: &str) -> &mut Samples {
        self.names.insert(group.to_string(), name.to_string());
        self
    }
}

impl Observations for Samples {
    fn by_repeat(&self, value: Value, group: &str) -> BTreeMap<usize, f64> {
        self.values
            .get(&(value, group.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    fn name(&self, group: &str) -> String {
        self.names
            .get(group)
            .cloned()
            .unwrap_or_else(|| group.to_string())
    }
}

/// The paired comparison behind a finding, as report text.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedText {
    /// Difference with its CI, n, paired t p, Wilcoxon p, d_z and the detectable difference (without
    /// the Holm-adjusted p, which the table adds).
    pub long: String,
    /// Difference with its CI, n, paired t p and the detectable difference (the side-by-side table).
    pub short: String,
    /// The paired t-test's p (NaN when not computed): what [`holm`] adjusts.
    pub p: f64,
}

/// A claim's paired differences a − b by repeat, named for a plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Diffs {
    /// "A − B" with the groups' display names.
    pub label: String,
    /// The compared value (its unit decides the plot the row goes to).
    pub value: Value,
    /// One difference per repeat both groups have.
    pub values: Vec<f64>,
}

/// What the test of one claim found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The claim's own test, as text (for a Welch claim: the paper's Welch test).
    pub found: String,
    /// The paired comparison by repeat, where the claim has one.
    pub paired: Option<PairedText>,
    /// The paired differences behind `paired`, for a forest plot.
    pub diffs: Option<Diffs>,
    /// The verdict.
    pub verdict: Verdict,
}

impl Finding {
    /// The finding of an analysis claim: the study's own text and verdict.
    pub fn analysis(found: String, verdict: Verdict) -> Finding {
        Finding {
            found,
            paired: None,
            diffs: None,
            verdict,
        }
    }
}

/// Holm-adjusted paired-t p-values of `findings` (None where a finding has no finite paired p,
/// or is absent): Holm's step-down correction across one table's paired tests.
///
/// ```
/// use neurogen_lab::claims::{holm, Finding, PairedText, Verdict};
/// let f = |p: f64| Finding {
///     found: String::new(),
///     paired: Some(PairedText { long: String::new(), short: String::new(), p }),
///     diffs: None,
///     verdict: Verdict::Holds,
/// };
/// let (a, b) = (f(0.01), f(0.04));
/// let h = holm(&[Some(&a), None, Some(&b)]);
/// assert_eq!(h, [Some(0.02), None, Some(0.04)]);
/// ```
pub fn holm(findings: &[Option<&Finding>]) -> Vec<Option<f64>> {
    let ps: Vec<(usize, f64)> = findings
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.and_then(|c| c.paired.as_ref()).map(|t| (i, t.p)))
        .filter(|(_, p)| p.is_finite())
        .collect();
    let raw: Vec<f64> = ps.iter().map(|(_, p)| *p).collect();
    let adjusted = stats::holm_bonferroni(&raw).unwrap_or_default();
    let mut out = vec![None; findings.len()];
    for ((i, _), h) in ps.iter().zip(adjusted) {
        out[*i] = Some(h);
    }
    out
}

/// The smallest paired difference that `n` pairs whose differences have the sample SD `sd`
/// detect with 80 % power (two-sided paired t-test, α = 0.05), as report text: "detects ±X at
/// 80 % power" (the SD is the observed one, so this is the design's sensitivity as run).
pub fn detectable(n: usize, sd: f64, digits: usize) -> String {
    match stats::paired_mde(n, ALPHA, 0.8) {
        Ok(d) if sd.is_finite() => format!("detects ±{:.*} at 80 % power", digits, d * sd),
        _ => "detectable difference not computed".to_string(),
    }
}

/// The paired comparison by repeat of `cmp` on `obs`: values of `a` and `b` at the repeats
/// both have.
pub fn paired_values(obs: &dyn Observations, cmp: &Comparison) -> (Vec<f64>, Vec<f64>) {
    let (ma, mb) = (
        obs.by_repeat(cmp.value, &cmp.a),
        obs.by_repeat(cmp.value, &cmp.b),
    );
    ma.iter()
        .filter_map(|(r, x)| mb.get(r).map(|y| (*x, *y)))
        .unzip()
}

/// The paired comparison of `a` against `b` (same repeats, in order): difference with its CI, paired
/// t-test, Wilcoxon signed-rank test and Cohen's d_z. Fails on unequal lengths, fewer than two
/// pairs, a non-finite value or constant differences.
pub fn paired_test(a: &[f64], b: &[f64]) -> Result<stats::PairedComparison, ClaimError> {
    stats::paired_comparison(a, b).map_err(stats_err("paired comparison"))
}

/// The paired part of a Welch or paired claim: the text, the differences and the comparison.
fn paired_part(
    obs: &dyn Observations,
    cmp: &Comparison,
) -> (
    PairedText,
    Diffs,
    Result<stats::PairedComparison, ClaimError>,
) {
    let digits = cmp.value.digits;
    let (a, b) = paired_values(obs, cmp);
    let diffs = Diffs {
        label: format!("{} − {}", obs.name(&cmp.a), obs.name(&cmp.b)),
        value: cmp.value,
        values: a.iter().zip(&b).map(|(x, y)| x - y).collect(),
    };
    let pc = stats::paired_comparison(&a, &b);
    let text = match &pc {
        Ok(pc) => {
            let diff = format!(
                "{:+.*} [{:+.*}, {:+.*}], n = {}",
                digits, pc.diff.mean, digits, pc.diff.ci95.0, digits, pc.diff.ci95.1, pc.diff.n
            );
            let mde = detectable(pc.diff.n, pc.diff.sd, digits);
            PairedText {
                long: format!(
                    "{diff}, paired t p = {:.4}, Wilcoxon p = {:.4}, d_z = {:+.2}, {mde}",
                    pc.t_test.p, pc.wilcoxon.p, pc.d_z
                ),
                short: format!("{diff}, p = {:.4} ({mde})", pc.t_test.p),
                p: pc.t_test.p,
            }
        }
        Err(e) => PairedText {
            long: format!("not computed ({e})"),
            short: format!("not computed ({e})"),
            p: f64::NAN,
        },
    };
    (text, diffs, pc.map_err(stats_err("paired comparison")))
}

fn welch_finding(obs: &dyn Observations, cmp: &Comparison, expect: Expect, found: &str) -> Finding {
    let digits = cmp.value.digits;
    // Too few runs (an interim report) or no variance: say so rather than print "NaN".
    let (welch, d, p) = match stats::welch_t_test(
        &obs.values(cmp.value, &cmp.a),
        &obs.values(cmp.value, &cmp.b),
    ) {
        Ok(t) => {
            let d_text = format!("{:+.*}", digits, t.mean_diff);
            let text = format!("{}, Welch p = {:.4}", found.replace("{d}", &d_text), t.p);
            (text, t.mean_diff, t.p)
        }
        Err(e) => (format!("Welch test not computed ({e})"), f64::NAN, f64::NAN),
    };
    let (paired, diffs, pc) = paired_part(obs, cmp);
    // Verdicts use the paired test (the design pairs groups by repeat).
    let verdict = match pc {
        Ok(pc) => expect.verdict(cmp.value, pc.diff.mean, pc.t_test.p),
        Err(_) => expect.verdict(cmp.value, d, p),
    };
    Finding {
        found: welch,
        paired: Some(paired),
        diffs: Some(diffs),
        verdict,
    }
}

fn paired_finding(
    obs: &dyn Observations,
    cmp: &Comparison,
    expect: Expect,
    found: &str,
) -> Finding {
    let digits = cmp.value.digits;
    let (paired, diffs, pc) = paired_part(obs, cmp);
    let (found, verdict) = match pc {
        Ok(pc) => (
            format!(
                "{}, paired t p = {:.4}",
                found.replace("{d}", &format!("{:+.*}", digits, pc.diff.mean)),
                pc.t_test.p
            ),
            expect.verdict(cmp.value, pc.diff.mean, pc.t_test.p),
        ),
        Err(e) => (
            format!("paired test not computed ({e})"),
            Verdict::Untestable,
        ),
    };
    Finding {
        found,
        paired: Some(paired),
        diffs: Some(diffs),
        verdict,
    }
}

/// One-way ANOVA and Tukey's HSD of `groups` (display name, values); fails on a group with
/// fewer than two values (naming it), non-finite values or no variance.
pub fn anova_test(
    groups: &[(String, Vec<f64>)],
) -> Result<(stats::Anova, Vec<stats::TukeyPair>), ClaimError> {
    if let Some((name, v)) = groups.iter().find(|(_, v)| v.len() < 2) {
        return Err(ClaimError::Stats {
            what: "one-way ANOVA".into(),
            source: AnalysisError::TooFewObservations {
                what: format!("group {name:?}"),
                min: 2,
                got: v.len(),
            },
        });
    }
    let slices: Vec<&[f64]> = groups.iter().map(|(_, v)| v.as_slice()).collect();
    let a = stats::one_way_anova(&slices).map_err(stats_err("one-way ANOVA"))?;
    let named: Vec<(&str, &[f64])> = groups
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let t = stats::tukey_hsd(&named, ALPHA).map_err(stats_err("Tukey's HSD"))?;
    Ok((a, t))
}

fn anova_finding(obs: &dyn Observations, value: Value, groups: &[String], differ: bool) -> Finding {
    let data: Vec<(String, Vec<f64>)> = groups
        .iter()
        .map(|g| (obs.name(g), obs.values(value, g)))
        .collect();
    match anova_test(&data) {
        Ok((a, pairs)) => {
            let sig: Vec<String> = pairs
                .iter()
                .filter(|p| p.reject)
                .map(|p| {
                    format!(
                        "{} − {} {:+.*} (p adj = {:.4})",
                        p.group_a, p.group_b, value.digits, p.mean_diff, p.p_adj
                    )
                })
                .collect();
            let tukey = if sig.is_empty() {
                "no pair differs".to_string()
            } else {
                sig.join(", ")
            };
            let verdict = if !a.p.is_finite() {
                Verdict::Untestable
            } else if (a.p < ALPHA) == differ {
                Verdict::Holds
            } else {
                Verdict::DoesNotHold
            };
            Finding {
                found: format!(
                    "F({:.0}, {:.0}) = {:.3}, p = {:.4}; Tukey's HSD: {tukey}",
                    a.df_between, a.df_within, a.f, a.p
                ),
                paired: None,
                diffs: None,
                verdict,
            }
        }
        Err(e) => Finding::analysis(format!("ANOVA not computed ({e})"), Verdict::Untestable),
    }
}

/// The correlation of `x` with `y` (Pearson, or Spearman if `spearman`) with its 95 % CI;
/// fails on unequal lengths, fewer than four pairs, non-finite values or a constant input.
pub fn correlation_test(
    x: &[f64],
    y: &[f64],
    spearman: bool,
) -> Result<stats::correlation::CorrelationCi, ClaimError> {
    let r = if spearman {
        stats::correlation::spearman_ci(x, y, 0.95)
    } else {
        stats::correlation::pearson_ci(x, y, 0.95)
    };
    r.map_err(stats_err("correlation"))
}

fn correlation_finding(
    obs: &dyn Observations,
    x: Value,
    y: Value,
    groups: &[String],
    positive: bool,
    spearman: bool,
) -> Finding {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for g in groups {
        let (mx, my) = (obs.by_repeat(x, g), obs.by_repeat(y, g));
        for (r, a) in &mx {
            if let Some(b) = my.get(r) {
                xs.push(*a);
                ys.push(*b);
            }
        }
    }
    let name = if spearman { "Spearman ρ" } else { "Pearson r" };
    match correlation_test(&xs, &ys, spearman) {
        Ok(c) => {
            let mde = match stats::correlation_mde(c.corr.n, ALPHA, 0.8, spearman) {
                Ok(m) => format!(
                    "detects |{}| ≥ {m:.2} at 80 % power",
                    if spearman { "ρ" } else { "r" }
                ),
                Err(_) => "detectable correlation not computed".to_string(),
            };
            Finding {
                found: format!(
                    "{name} = {:+.3} [95 % CI {:+.3}, {:+.3}], p = {:.4}, n = {}; {mde}",
                    c.corr.r, c.lo, c.hi, c.corr.p, c.corr.n
                ),
                paired: None,
                diffs: None,
                verdict: Verdict::from_test(c.corr.r, c.corr.p, positive),
            }
        }
        Err(e) => Finding::analysis(format!("{name} not computed ({e})"), Verdict::Untestable),
    }
}

/// A one-sample t-test of `xs` against `bound` (as `scipy.stats.ttest_1samp(xs, bound)`):
/// the summary of `xs − bound` and the test. Fails on fewer than two values, a non-finite
/// value or no variance.
pub fn threshold_test(
    xs: &[f64],
    bound: f64,
) -> Result<(stats::Summary, stats::PairedTTest), ClaimError> {
    let b = vec![bound; xs.len()];
    let t = stats::paired_t_test(xs, &b).map_err(stats_err("one-sample t-test"))?;
    let s = stats::paired_summary(xs, &b).map_err(stats_err("one-sample t-test"))?;
    Ok((s, t))
}

fn threshold_finding(
    obs: &dyn Observations,
    value: Value,
    group: &str,
    bound: f64,
    expect: Expect,
) -> Finding {
    let digits = value.digits;
    match threshold_test(&obs.values(value, group), bound) {
        Ok((s, t)) => Finding {
            found: format!(
                "mean − {bound:.*} = {:+.*} [{:+.*}, {:+.*}], n = {}, t({:.0}) = {:.3}, p = {:.4}",
                digits, digits, s.mean, digits, s.ci95.0, digits, s.ci95.1, s.n, t.df, t.t, t.p
            ),
            paired: None,
            diffs: None,
            verdict: expect.verdict(value, s.mean, t.p),
        },
        Err(e) => Finding::analysis(
            format!("one-sample t-test not computed ({e})"),
            Verdict::Untestable,
        ),
    }
}

/// Checks that every claim names only groups of `groups` (keys).
///
/// ```
/// use neurogen_lab::claims::{check_groups, Claim, Expect, Value};
/// let c = Claim::welch("x", "{d}", Value::TEST_ACCURACY, "ngn", "dropout", Expect::Better);
/// let e = check_groups(&[c], &["ngn", "control"]).unwrap_err();
/// assert_eq!(e.to_string(), "claim \"x\" names no group \"dropout\"");
/// ```
pub fn check_groups(claims: &[Claim], groups: &[&str]) -> Result<(), ClaimError> {
    for c in claims {
        if let Some(g) = c.groups().into_iter().find(|g| !groups.contains(g)) {
            return Err(ClaimError::NoSuchGroup {
                claim: c.text.clone(),
                group: g.to_string(),
            });
        }
    }
    Ok(())
}

/// Decides `claims` in order on `obs`: each test claim by its test, each [`Test::Analysis`]
/// claim by the `(claim text, finding, verdict)` the study's analysis gives in `analysed`.
/// Fails if an analysis claim has no verdict, or a verdict names no analysis claim.
pub fn decide(
    obs: &dyn Observations,
    claims: &[Claim],
    analysed: Vec<(&str, String, Verdict)>,
) -> Result<Vec<(Claim, Finding)>, ClaimError> {
    for (text, ..) in &analysed {
        if !claims
            .iter()
            .any(|c| c.text == *text && c.test == Test::Analysis)
        {
            return Err(ClaimError::NoSuchAnalysisClaim(text.to_string()));
        }
    }
    claims
        .iter()
        .map(|c| {
            let f = match &c.test {
                Test::Analysis => {
                    let (_, f, v) = analysed
                        .iter()
                        .find(|(t, ..)| *t == c.text)
                        .ok_or_else(|| ClaimError::NotAnalysed(c.text.clone()))?;
                    Finding::analysis(f.clone(), *v)
                }
                _ => c.evaluate(obs)?,
            };
            Ok((c.clone(), f))
        })
        .collect()
}
