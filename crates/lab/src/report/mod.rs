//! A study's `report.md`, built in order: a title, the study's own header, sections,
//! paragraphs, tables of mean ± SD, ANOVA with Tukey's HSD, Welch test lines, figures, and at
//! the end the claims table (paired comparisons by repeat, Holm-adjusted) with the figures that
//! follow it.
//!
//! The header is the study's: a study writes what was run with [`Report::para`] (or
//! [`Report::push_str`]) right after [`Report::new`].
//!
//! ```
//! use neurogen_lab::claims::{decide, Claim, Expect, Samples, Value};
//! use neurogen_lab::report::Report;
//!
//! let mut obs = Samples::new();
//! obs.set(Value::TEST_ACCURACY, "ngn", &[(0, 71.0), (1, 72.5), (2, 70.0), (3, 73.0)])?;
//! obs.set(Value::TEST_ACCURACY, "control", &[(0, 69.0), (1, 70.0), (2, 69.5), (3, 70.5)])?;
//! let claims = vec![Claim::welch(
//!     "Neurogenesis raises test accuracy",
//!     "difference {d} points",
//!     Value::TEST_ACCURACY,
//!     "ngn",
//!     "control",
//!     Expect::Better,
//! )];
//!
//! let mut rep = Report::new("A toy study");
//! rep.para("Four repeats of two groups.");
//! rep.add_claims(decide(&obs, &claims, vec![])?);
//! let md = rep.finish();
//! assert!(md.starts_with("# A toy study\n\nFour repeats of two groups.\n\n"));
//! let row = md.lines().find(|l| l.starts_with("| Neurogenesis raises")).unwrap();
//! assert!(row.contains("| +1.88 [+0.37, +3.38], n = 4, paired t p = 0.0287") && row.contains("Holm p = "), "{row}");
//! assert!(row.ends_with("| holds |"), "{row}");
//! # Ok::<(), neurogen_lab::claims::ClaimError>(())
//! ```
use std::collections::BTreeSet;
use std::fmt::Write as _;

use neurogen_analysis::plot::{ForestPlot, Labels};
use neurogen_analysis::stats::{summarize, welch_t_test};

use crate::claims::{Claim, ClaimError, Finding, Value, Verdict};

mod table;

pub use table::{ClaimRow, TableStyle, TwoColumns, DEFAULT_NOTE};

/// A markdown report under construction.
#[derive(Debug, Clone)]
pub struct Report {
    text: String,
    claims: Vec<ClaimRow>,
    style: TableStyle,
    /// Figures placed after the claims table: (file, caption).
    closing_figures: Vec<(String, String)>,
}

impl Report {
    /// Starts a report titled `title` (`# title`).
    pub fn new(title: &str) -> Report {
        Report {
            text: format!("# {title}\n\n"),
            claims: Vec::new(),
            style: TableStyle::default(),
            closing_figures: Vec::new(),
        }
    }

    /// The markdown written so far (without the claims table, which [`Report::finish`] adds).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Appends markdown as it is.
    pub fn push_str(&mut self, markdown: &str) {
        self.text.push_str(markdown);
    }

    /// Adds a section heading (`## title`).
    pub fn section(&mut self, title: &str) {
        let _ = writeln!(self.text, "## {title}\n");
    }

    /// Adds a paragraph.
    pub fn para(&mut self, s: &str) {
        let _ = writeln!(self.text, "{s}\n");
    }

    /// Adds a table of mean ± SD (and n, 95 % CI) per group of `groups` (display name,
    /// values); `what` names the value in the header (`mean {what}`). A group without values,
    /// or with one, gets dashes where a statistic needs more.
    pub fn summary_table(&mut self, what: &str, groups: &[(String, Vec<f64>)]) {
        let _ = writeln!(
            self.text,
            "| group | n | mean {what} | SD | 95 % CI |\n|---|---|---|---|---|"
        );
        for (name, xs) in groups {
            match summarize(xs) {
                Ok(s) => {
                    let _ = writeln!(
                        self.text,
                        "| {name} | {} | {:.2} | {:.2} | [{:.2}, {:.2}] |",
                        s.n, s.mean, s.sd, s.ci95.0, s.ci95.1
                    );
                }
                Err(_) if xs.is_empty() => {
                    let _ = writeln!(self.text, "| {name} | 0 | – | – | – |");
                }
                Err(_) => {
                    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
                    let _ = writeln!(self.text, "| {name} | {} | {mean:.2} | – | – |", xs.len());
                }
            }
        }
        let _ = writeln!(self.text);
    }

    /// One-way ANOVA and Tukey's HSD over `groups` (display name, values), written as tables;
    /// a group short of values (an interim report) is named in place of the tables.
    pub fn anova_tukey(&mut self, what: &str, groups: &[(String, Vec<f64>)]) {
        if let Some((name, v)) = groups.iter().find(|(_, v)| v.len() < 2) {
            let why = format!("\"{name}\" has {} run(s); at least 2 are needed", v.len());
            let _ = writeln!(
                self.text,
                "One-way ANOVA of {what}: not computed ({why}).\n\nTukey's HSD: not computed ({why}).\n"
            );
            return;
        }
        let slices: Vec<&[f64]> = groups.iter().map(|(_, v)| v.as_slice()).collect();
        match neurogen_analysis::stats::one_way_anova(&slices) {
            Ok(a) => {
                let _ = writeln!(
                    self.text,
                    "One-way ANOVA of {what}: F({:.0}, {:.0}) = {:.3}, p = {:.4}.\n",
                    a.df_between, a.df_within, a.f, a.p
                );
            }
            Err(e) => {
                let _ = writeln!(self.text, "One-way ANOVA of {what}: not computed ({e}).\n");
            }
        }
        let named: Vec<(&str, &[f64])> = groups
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        match neurogen_analysis::stats::tukey_hsd(&named, crate::claims::ALPHA) {
            Ok(pairs) => {
                let _ = writeln!(
                    self.text,
                    "Tukey's HSD (α = 0.05):\n\n| A | B | mean A − B | 95 % CI | q | p adj | significant |\n|---|---|---|---|---|---|---|"
                );
                for p in pairs {
                    let _ = writeln!(
                        self.text,
                        "| {} | {} | {:.2} | [{:.2}, {:.2}] | {:.3} | {:.4} | {} |",
                        p.group_a,
                        p.group_b,
                        p.mean_diff,
                        p.ci_low,
                        p.ci_high,
                        p.q,
                        p.p_adj,
                        if p.reject { "yes" } else { "no" }
                    );
                }
                let _ = writeln!(self.text);
            }
            Err(e) => {
                let _ = writeln!(self.text, "Tukey's HSD: not computed ({e}).\n");
            }
        }
    }

    /// A line with the Welch t-test of `a` against `b` on `what` (e.g. `test accuracy`).
    pub fn welch_line(&mut self, what: &str, a_name: &str, a: &[f64], b_name: &str, b: &[f64]) {
        match welch_t_test(a, b) {
            Ok(t) => {
                let _ = writeln!(
                    self.text,
                    "Welch's t-test, {what}, {a_name} vs {b_name}: difference {:.2}, t({:.1}) = {:.3}, p = {:.4}.\n",
                    t.mean_diff, t.df, t.t, t.p
                );
            }
            Err(e) => {
                let _ = writeln!(
                    self.text,
                    "Welch's t-test, {what}, {a_name} vs {b_name}: not computed ({e}).\n"
                );
            }
        }
    }

    /// Adds an image link with its caption (and the PNG's name, as [`crate::plot::save_plot`]
    /// writes both).
    pub fn figure(&mut self, file: &str, caption: &str) {
        let _ = writeln!(
            self.text,
            "![{caption}]({file})\n\n*{caption}* (also as `{}`)\n",
            file.replace(".svg", ".png")
        );
    }

    /// Adds an image link after the claims table (where [`Report::finish`] puts it).
    pub fn closing_figure(&mut self, file: &str, caption: &str) {
        self.closing_figures
            .push((file.to_string(), caption.to_string()));
    }

    /// The claims table's words (heading, claim column, note, two columns).
    pub fn style_mut(&mut self) -> &mut TableStyle {
        &mut self.style
    }

    /// Adds claims, in order, with what was found ([`crate::claims::decide`] gives them).
    pub fn add_claims(&mut self, decided: Vec<(Claim, Finding)>) {
        self.claims
            .extend(decided.into_iter().map(|(c, f)| ClaimRow {
                claim: c.text,
                how: c.how,
                main: f,
                variant: None,
            }));
    }

    /// Adds one row of the claims table.
    pub fn push_claim(&mut self, row: ClaimRow) {
        self.claims.push(row);
    }

    /// The claims table's rows so far.
    pub fn claim_rows(&self) -> &[ClaimRow] {
        &self.claims
    }

    /// Sets the second column of the analysis claim `text` (one without a paired comparison).
    pub fn set_variant_analysis(
        &mut self,
        text: &str,
        found: String,
        verdict: Verdict,
    ) -> Result<(), ClaimError> {
        let row = self
            .claims
            .iter_mut()
            .find(|c| c.claim == text && c.main.paired.is_none())
            .ok_or_else(|| ClaimError::NoSuchAnalysisClaim(text.to_string()))?;
        row.variant = Some(Finding::analysis(found, verdict));
        Ok(())
    }

    /// The paired differences behind the claims table, one forest plot per kind of compared
    /// value: `(file stem, plot)`. Values in [`Value::POINTS`] share `paired_differences`; a
    /// value in another unit shares `paired_differences-<unit>`, and a unit-less value gets
    /// `paired_differences-<label>` (as file-name-safe slugs). Both columns' comparisons are
    /// rows, each label drawn once. Empty when no claim has a paired comparison.
    pub fn paired_plots(&self) -> Vec<(String, ForestPlot)> {
        let mut plots: Vec<(String, ForestPlot)> = Vec::new();
        let mut seen = BTreeSet::new();
        for c in &self.claims {
            for cell in [Some(&c.main), c.variant.as_ref()].into_iter().flatten() {
                let Some(d) = &cell.diffs else { continue };
                // A label already drawn (a claim the variant leaves alone) is not drawn twice.
                if d.values.is_empty() || !seen.insert(d.label.clone() + d.value.label) {
                    continue;
                }
                let (stem, unit) = plot_of(d.value);
                let row = (format!("{}: {}", d.value.label, d.label), d.values.clone());
                match plots.iter_mut().find(|(s, _)| *s == stem) {
                    Some((_, p)) => p.rows.push(row),
                    None => plots.push((
                        stem,
                        ForestPlot {
                            rows: vec![row],
                            labels: Labels::new(
                                "Each claim by repeat: differences and mean with 95 % CI",
                                unit,
                                "",
                            ),
                        },
                    )),
                }
            }
        }
        plots
    }

    /// The finished markdown: the text, then the claims table (if any claim was added) in the
    /// report's [`TableStyle`], then the closing figures.
    pub fn finish(mut self) -> String {
        if !self.claims.is_empty() {
            table::write_table(&mut self.text, &self.claims, &self.style);
        }
        for (file, caption) in std::mem::take(&mut self.closing_figures) {
            self.text.push('\n');
            self.figure(&file, &caption);
        }
        self.text
    }
}

/// The forest plot a value's paired differences go to: (file stem, x-axis label).
fn plot_of(v: Value) -> (String, String) {
    if v.unit == Value::POINTS {
        (
            "paired_differences".to_string(),
            "difference a − b (points)".to_string(),
        )
    } else if !v.unit.is_empty() {
        (
            format!("paired_differences-{}", crate::plot::slug(v.unit)),
            format!("difference a − b ({})", v.unit),
        )
    } else {
        (
            format!("paired_differences-{}", crate::plot::slug(v.label)),
            format!("difference in {} (a − b)", v.label),
        )
    }
}
