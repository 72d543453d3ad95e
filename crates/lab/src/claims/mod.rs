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
use neurogen_analysis::AnalysisError;

mod finding;
mod observations;

use finding::{
    anova_finding, correlation_finding, paired_finding, threshold_finding, welch_finding,
};
pub use finding::{
    anova_test, correlation_test, detectable, holm, paired_test, paired_values, threshold_test,
    Diffs, Finding, PairedText,
};
pub use observations::{Observations, Samples};

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

pub(crate) fn stats_err(what: &str) -> impl FnOnce(AnalysisError) -> ClaimError + '_ {
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
