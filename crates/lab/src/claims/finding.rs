//! The tests behind claims: each on plain numbers (with a typed error for bad input), and as
//! a [`Finding`] of a claim on [`Observations`] (where a test that cannot be computed is a
//! finding that says why).
use neurogen_analysis::stats;
use neurogen_analysis::AnalysisError;

use super::{stats_err, ClaimError, Comparison, Expect, Observations, Value, Verdict, ALPHA};

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

pub(super) fn welch_finding(
    obs: &dyn Observations,
    cmp: &Comparison,
    expect: Expect,
    found: &str,
) -> Finding {
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

pub(super) fn paired_finding(
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

pub(super) fn anova_finding(
    obs: &dyn Observations,
    value: Value,
    groups: &[String],
    differ: bool,
) -> Finding {
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

pub(super) fn correlation_finding(
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

pub(super) fn threshold_finding(
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
