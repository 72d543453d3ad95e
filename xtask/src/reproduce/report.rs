//! Writing a figure's `report.md`: what was run, tables of mean ± SD, statistical tests, and
//! the paper's claims beside what this run found.
use std::fmt::Write as _;

use neurogen_analysis::plot::{ForestPlot, Labels};
use neurogen_analysis::stats::{one_way_anova, summarize, tukey_hsd, welch_t_test};

use super::figure::{Claim, Comparison, Expect, Results, Test, Value};
use super::run::{RunRecord, RunStatus};
use super::scale::Scale;

/// Whether a claim of the paper holds in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// A verdict from an effect's sign (`expected_positive`) and its p-value.
    pub fn from_test(diff: f64, p: f64, expected_positive: bool) -> Verdict {
        if !diff.is_finite() || !p.is_finite() {
            return Verdict::Untestable;
        }
        let right_way = if expected_positive {
            diff > 0.0
        } else {
            diff < 0.0
        };
        match (right_way, p < 0.05) {
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

/// The notice at the top of an interim report (`reproduce interim`): `recorded` of `total`
/// runs, and each group's repeats still `missing` (as ranges: "r4–r7").
pub fn interim_notice(recorded: usize, total: usize, missing: &[(String, Vec<usize>)]) -> String {
    let mut s = format!(
        "**Interim report: {recorded} of {total} runs recorded; not a result.** The figure is still training (or was carried unfinished). \
         Every table, test and verdict below uses only the runs recorded so far (a paired test the repeats both groups have), so they will change as runs finish; \
         a claim whose groups have fewer than two runs is \"not testable\". The figure's report is written to `report.md` when every run is in."
    );
    if missing.is_empty() {
        s.push_str(" Every run is now recorded: rerun the figure's command (it trains nothing more; `reproduce merge` for a sharded figure) to write its report.");
    } else {
        s.push_str("\n\nStill to train:");
        for (group, repeats) in missing {
            let _ = write!(s, "\n- {group}: {}", repeat_ranges(repeats));
        }
    }
    s
}

/// Repeat indices as ranges: `[0, 1, 2, 5]` → "r0–r2, r5".
fn repeat_ranges(repeats: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < repeats.len() {
        let mut j = i;
        while j + 1 < repeats.len() && repeats[j + 1] == repeats[j] + 1 {
            j += 1;
        }
        parts.push(if j == i {
            format!("r{}", repeats[i])
        } else {
            format!("r{}–r{}", repeats[i], repeats[j])
        });
        i = j + 1;
    }
    let n = repeats.len();
    format!(
        "{} ({n} run{})",
        parts.join(", "),
        if n == 1 { "" } else { "s" }
    )
}

/// A markdown report under construction.
pub struct Report {
    /// The markdown text.
    pub text: String,
    claims: Vec<ClaimRow>,
    side_by_side: bool,
    /// Figures placed after the claims table: (file, caption).
    closing_figures: Vec<(String, String)>,
}

/// Which behaviour a report's runs have: the method, the published code, or both side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The method as the paper describes it.
    Method,
    /// Every group with the published code's quirks (`--reference-quirks`).
    Published,
    /// The groups the quirks change trained both ways (`--compare-reference`).
    SideBySide,
}

/// One test of a claim: in one column of the claims table.
#[derive(Debug, Clone)]
struct Cell {
    /// What the paper's own test (Welch) found, or the figure's analysis.
    found: String,
    /// The paired comparison by repeat: (text without the Holm p, short text, paired t p).
    paired: Option<(String, String, f64)>,
    /// The differences a − b by repeat behind `paired`, for the forest plot.
    diffs: Option<Diffs>,
    verdict: Verdict,
}

/// One claim's paired differences a − b by repeat, named for a plot.
#[derive(Debug, Clone)]
struct Diffs {
    /// "A − B" with the groups' display names.
    label: String,
    /// The compared value (its unit decides the plot the row goes to).
    value: Value,
    /// One difference per repeat both groups have.
    values: Vec<f64>,
}

/// One row of the claims table.
struct ClaimRow {
    claim: String,
    /// The method as described (or every group with quirks under `--reference-quirks`).
    method: Cell,
    /// With `--compare-reference`: the same claim as the published code runs it (None when
    /// the quirks change neither group, or for an analysis claim).
    published: Option<Cell>,
}

impl Report {
    /// Starts a report with the figure's title and what was run.
    pub fn new(
        title: &str,
        scale: &Scale,
        rows: &[RunRecord],
        mode: Mode,
        data_source: &str,
        device: &str,
    ) -> Report {
        let mut text = String::new();
        let _ = writeln!(text, "# {title}\n");
        let ok = rows.iter().filter(|r| r.status == RunStatus::Ok).count();
        let failed = rows.len() - ok;
        let wall: f64 = rows.iter().map(RunRecord::share_of_wall).sum();
        let _ = writeln!(
            text,
            "Scale **{:?}**: {} training images, {} test images, batch {}, learning rate {}, {} epochs (+{} for dropout groups), {} repeats; \
             neurogenesis {} units every {} steps until epoch {}.\n",
            scale.name,
            rows.first().map(|r| r.train_images).unwrap_or(0),
            rows.first().map(|r| r.test_images).unwrap_or(0),
            scale.batch_size,
            scale.lr,
            scale.epochs,
            scale.dropout_extra_epochs,
            scale.repeats,
            scale.ngn_units,
            scale.ngn_every,
            scale.ngn_until_epoch
        );
        let _ = writeln!(
            text,
            "Data: `{data_source}`. Device: {device}. Runs: {} ({ok} ok, {failed} failed), {:.0} s of training in all. \
             Published-code quirks: **{}**.\n",
            rows.len(),
            wall,
            match mode {
                Mode::Published => "on (`--reference-quirks`: batch neurogenesis only in epoch 0, frozen optimiser state after the first event, excitability at the removed units' indices, the reference's targeted selection)",
                Mode::Method => "off (the method as described in the paper)",
                Mode::SideBySide => "side by side (`--compare-reference`: every group with neurogenesis is trained twice on the same seeds, as the paper describes it and as the published code runs it — \"(published code)\": events before every minibatch of epoch 0 only, `fcs.1` and `fcs.2.weight` never trained after the first event, excitability at the removed units' indices, the reference's targeted selection and the published scripts' settings; groups without neurogenesis are shared)",
            }
        );
        if failed > 0 {
            let _ = writeln!(text, "Failed runs (excluded from the statistics):\n");
            for r in rows.iter().filter(|r| r.status != RunStatus::Ok) {
                let _ = writeln!(text, "- {} repeat {}: {}", r.group, r.repeat, r.message);
            }
            let _ = writeln!(text);
        }
        Report {
            text,
            claims: Vec::new(),
            side_by_side: false,
            closing_figures: Vec::new(),
        }
    }

    /// A report with only a title, for a figure that writes its own header and claims table
    /// (`single-directions`); [`Report::finish`] is not for it (its claims table is Tran et
    /// al.'s), its text is the report.
    pub fn titled(title: &str) -> Report {
        Report {
            text: format!("# {title}\n\n"),
            claims: Vec::new(),
            side_by_side: false,
            closing_figures: Vec::new(),
        }
    }

    /// Adds a section heading.
    pub fn section(&mut self, title: &str) {
        let _ = writeln!(self.text, "## {title}\n");
    }

    /// Adds a paragraph.
    pub fn para(&mut self, s: &str) {
        let _ = writeln!(self.text, "{s}\n");
    }

    /// Adds a table of mean ± SD (and n, 95 % CI) per group of `values`.
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

    /// One-way ANOVA and Tukey's HSD over `groups`, written as tables.
    pub fn anova_tukey(&mut self, what: &str, groups: &[(String, Vec<f64>)]) {
        // A group short of runs (an interim report): name it, not its index.
        if let Some((name, v)) = groups.iter().find(|(_, v)| v.len() < 2) {
            let why = format!("\"{name}\" has {} run(s); at least 2 are needed", v.len());
            let _ = writeln!(
                self.text,
                "One-way ANOVA of {what}: not computed ({why}).\n\nTukey's HSD: not computed ({why}).\n"
            );
            return;
        }
        let slices: Vec<&[f64]> = groups.iter().map(|(_, v)| v.as_slice()).collect();
        match one_way_anova(&slices) {
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
        match tukey_hsd(&named, 0.05) {
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

    /// A table of mean ± SD of `value` for the groups `keys` (display names).
    pub fn summary(&mut self, res: &Results, value: Value, keys: &[&str]) {
        self.summary_table(value.table_label(), &res.table(value, keys));
    }

    /// One-way ANOVA and Tukey's HSD of `value` over the groups `keys`.
    pub fn anova(&mut self, res: &Results, value: Value, keys: &[&str]) {
        self.anova_tukey(value.label(), &res.table(value, keys));
    }

    /// A Welch t-test of `a` against `b`, written as a line.
    fn welch(&mut self, what: &str, a_name: &str, a: &[f64], b_name: &str, b: &[f64]) {
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

    /// The Welch t-test line of each comparison (groups by their short names).
    pub fn welch_lines(&mut self, res: &Results, cmps: &[&Comparison]) {
        for c in cmps {
            let (a, b) = (res.group(&c.a), res.group(&c.b));
            self.welch(
                c.value.label(),
                &a.short,
                &res.values(c.value, &c.a),
                &b.short,
                &res.values(c.value, &c.b),
            );
        }
    }

    /// Decides every claim, in order, for the claims table: a Welch claim by its test on
    /// `res`, a [`Test::Analysis`] claim by the (claim text, finding, verdict) the figure's
    /// analysis gives in `analysed`. Fails if an analysis claim has no verdict, or a verdict
    /// no claim.
    pub fn claims(
        &mut self,
        res: &Results,
        claims: &[Claim],
        analysed: Vec<(&str, String, Verdict)>,
    ) -> anyhow::Result<()> {
        for (text, ..) in &analysed {
            anyhow::ensure!(
                claims
                    .iter()
                    .any(|c| c.text == *text && c.test == Test::Analysis),
                "no analysis claim {text:?} in the figure"
            );
        }
        for c in claims {
            let row = match &c.test {
                Test::Welch { cmp, expect, found } => ClaimRow {
                    claim: c.text.clone(),
                    method: welch_cell(res, cmp, *expect, found),
                    published: res
                        .published_comparison(cmp)
                        .map(|p| welch_cell(res, &p, *expect, found)),
                },
                Test::Analysis => {
                    let (_, f, v) = analysed
                        .iter()
                        .find(|(t, ..)| *t == c.text)
                        .ok_or_else(|| anyhow::anyhow!("claim {:?} was not analysed", c.text))?;
                    ClaimRow {
                        claim: c.text.clone(),
                        method: Cell {
                            found: f.clone(),
                            paired: None,
                            diffs: None,
                            verdict: *v,
                        },
                        published: None,
                    }
                }
            };
            self.claims.push(row);
        }
        self.side_by_side = res.compares_published();
        Ok(())
    }

    /// Sets the published-code column of the analysis claim `text` (after [`Report::claims`]),
    /// from the figure's own analysis of the published-code variants.
    pub fn published_analysis(
        &mut self,
        text: &str,
        found: String,
        verdict: Verdict,
    ) -> anyhow::Result<()> {
        let row = self
            .claims
            .iter_mut()
            .find(|c| c.claim == text && c.method.paired.is_none())
            .ok_or_else(|| anyhow::anyhow!("no analysis claim {text:?} in the report"))?;
        row.published = Some(Cell {
            found,
            paired: None,
            diffs: None,
            verdict,
        });
        Ok(())
    }

    /// The paired differences behind the claims table, one forest plot per kind of compared
    /// value: `(file stem, plot)`, the stem `paired_differences` for values in points
    /// (accuracies, gap) and `paired_differences-<value>` for a figure's own values. With
    /// published-code variants both columns' comparisons are rows. Call after
    /// [`Report::claims`]; empty when no claim has a paired comparison.
    pub fn paired_plots(&self) -> Vec<(String, ForestPlot)> {
        let mut plots: Vec<(String, ForestPlot)> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.claims {
            let cells = [Some(&c.method), c.published.as_ref()];
            for cell in cells.into_iter().flatten() {
                let Some(d) = &cell.diffs else { continue };
                // A label already drawn (a claim the quirks leave alone) is not drawn twice.
                if d.values.is_empty() || !seen.insert(d.label.clone() + d.value.label()) {
                    continue;
                }
                let (stem, unit) = match d.value {
                    Value::Custom(v) => (
                        format!("paired_differences-{}", super::run::slug(v.name)),
                        format!("difference in {} (a − b)", v.name),
                    ),
                    _ => (
                        "paired_differences".to_string(),
                        "difference a − b (points)".to_string(),
                    ),
                };
                let row = (
                    format!("{}: {}", d.value.label(), d.label),
                    d.values.clone(),
                );
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

    /// Adds an image link after the claims table (where [`Report::finish`] puts it).
    pub fn closing_figure(&mut self, file: &str, caption: &str) {
        self.closing_figures
            .push((file.to_string(), caption.to_string()));
    }

    /// Adds an image link.
    pub fn figure(&mut self, file: &str, caption: &str) {
        let _ = writeln!(
            self.text,
            "![{caption}]({file})\n\n*{caption}* (also as `{}`)\n",
            file.replace(".svg", ".png")
        );
    }

    /// The finished markdown, with the claims table at the end: the paper's own test, the
    /// paired comparison by repeat (mean difference a − b with its 95 % CI, paired t-test,
    /// Wilcoxon signed-rank test, Cohen's d_z, Holm-adjusted p across the figure's paired
    /// tests) and the verdict, which uses the paired t-test where there is one. With published
    /// code variants (`--compare-reference`), a first table gives both columns side by side
    /// (Holm-adjusted within each column), and the detailed table follows for each.
    pub fn finish(mut self) -> String {
        let method: Vec<Option<&Cell>> = self.claims.iter().map(|c| Some(&c.method)).collect();
        let method_holm = holm(&method);
        if !self.side_by_side {
            let _ = writeln!(self.text, "## The paper's claims and this run\n");
            detail_table(&mut self.text, &self.claims, &method, &method_holm);
        } else {
            // The published column: a claim whose groups the quirks leave alone is the same test.
            let published: Vec<Option<&Cell>> = self
                .claims
                .iter()
                .map(|c| Some(c.published.as_ref().unwrap_or(&c.method)))
                .collect();
            let published_holm = holm(&published);
            let _ = writeln!(
                self.text,
                "## The paper's claims: the method and the published code\n\n\
                 Each cell: paired difference a − b by repeat [95 % CI], paired t-test p (Holm-adjusted across this column's claims), and the verdict. \
                 \"(shared)\" marks a claim whose groups the quirks do not change, so both columns are the same test.\n\n\
                 | claim (Tran et al. 2022) | the method as described | the published code's behaviour |\n|---|---|---|"
            );
            let mut rows = Vec::new();
            for (i, c) in self.claims.iter().enumerate() {
                let cell = |x: &Cell, h: &Option<f64>| -> String {
                    match (&x.paired, h) {
                        (Some((_, short, _)), Some(h)) => {
                            format!("{short}, Holm p = {h:.4}: **{}**", x.verdict.text())
                        }
                        (Some((_, short, _)), None) => format!("{short}: **{}**", x.verdict.text()),
                        (None, _) => format!("{}: **{}**", x.found, x.verdict.text()),
                    }
                };
                let m = cell(&c.method, &method_holm[i]);
                let p = match &c.published {
                    Some(pc) => cell(pc, &published_holm[i]),
                    None if c.method.paired.is_some() => "(shared) same test".to_string(),
                    None => "–".to_string(),
                };
                rows.push(format!("| {} | {m} | {p} |", c.claim));
            }
            for r in rows {
                let _ = writeln!(self.text, "{r}");
            }
            let _ = writeln!(self.text, "\n### The method as described: every test\n");
            detail_table(&mut self.text, &self.claims, &method, &method_holm);
            let _ = writeln!(
                self.text,
                "\n### The published code's behaviour: every test\n"
            );
            detail_table(&mut self.text, &self.claims, &published, &published_holm);
        }
        let _ = writeln!(
            self.text,
            "\n\"Holds\" means the paper's direction with p < 0.05 in the paired t-test (unadjusted; the Holm column adjusts for the figure's several claims), or in the figure's own analysis where no pairing applies. \"Detects ±X at 80 % power\": the smallest true mean difference these n pairs find with probability 0.8 (two-sided paired t-test, α = 0.05, noncentral t; the observed SD of the differences), so a claim that does not hold with a detectable difference larger than the paper's effect says \"too few repeats\", not \"no effect\". Small scales have little power: a claim that does not hold at smoke or quick scale says little about the paper's."
        );
        for (file, caption) in std::mem::take(&mut self.closing_figures) {
            self.text.push('\n');
            self.figure(&file, &caption);
        }
        self.text
    }
}

/// Writes to `text` the detailed claims table of one column (`cells`, one per claim of `claims`;
/// None: not in it).
fn detail_table(
    text: &mut String,
    claims: &[ClaimRow],
    cells: &[Option<&Cell>],
    holm: &[Option<f64>],
) {
    let _ = writeln!(text, "| claim (Tran et al. 2022) | found here (paper's test) | paired by repeat: a − b [95 % CI], tests, d_z, Holm p | verdict |\n|---|---|---|---|");
    for ((c, cell), h) in claims.iter().zip(cells).zip(holm) {
        let Some(cell) = cell else { continue };
        let paired = match (&cell.paired, h) {
            (Some((t, ..)), Some(h)) => format!("{t}, Holm p = {h:.4}"),
            (Some((t, ..)), None) => t.clone(),
            (None, _) => "–".to_string(),
        };
        let _ = writeln!(
            text,
            "| {} | {} | {paired} | {} |",
            c.claim,
            cell.found,
            cell.verdict.text()
        );
    }
}

/// Holm-adjusted paired-t p-values of `cells` (None where a cell has no finite paired p).
fn holm(cells: &[Option<&Cell>]) -> Vec<Option<f64>> {
    let ps: Vec<(usize, f64)> = cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.and_then(|c| c.paired.as_ref()).map(|(_, _, p)| (i, *p)))
        .filter(|(_, p)| p.is_finite())
        .collect();
    let raw: Vec<f64> = ps.iter().map(|(_, p)| *p).collect();
    let adjusted = neurogen_analysis::stats::holm_bonferroni(&raw).unwrap_or_default();
    let mut out = vec![None; cells.len()];
    for ((i, _), h) in ps.iter().zip(adjusted) {
        out[*i] = Some(h);
    }
    out
}

/// The smallest paired difference that `n` pairs whose differences have the sample SD `sd`
/// detect with 80 % power (two-sided paired t-test, α = 0.05), as report text: "detects ±X at
/// 80 % power" (the SD is the observed one, so this is the design's sensitivity as run).
fn detectable(n: usize, sd: f64, digits: usize) -> String {
    match neurogen_analysis::stats::paired_mde(n, 0.05, 0.8) {
        Ok(d) if sd.is_finite() => format!("detects ±{:.*} at 80 % power", digits, d * sd),
        _ => "detectable difference not computed".to_string(),
    }
}

/// The test of one Welch claim's comparison `cmp` on `res`: the paper's Welch test, and the
/// paired comparison by repeat, whose paired t-test decides the verdict.
fn welch_cell(res: &Results, cmp: &Comparison, expect: Expect, found: &str) -> Cell {
    let digits = cmp.value.digits();
    // Too few runs (an interim report) or no variance: say so rather than print "NaN".
    let (welch, d, p) = match welch_t_test(
        &res.values(cmp.value, &cmp.a),
        &res.values(cmp.value, &cmp.b),
    ) {
        Ok(t) => {
            let d_text = format!("{:+.*}", digits, t.mean_diff);
            let text = format!("{}, Welch p = {:.4}", found.replace("{d}", &d_text), t.p);
            (text, t.mean_diff, t.p)
        }
        Err(e) => (format!("Welch test not computed ({e})"), f64::NAN, f64::NAN),
    };
    let (a, b) = res.paired(cmp.value, &cmp.a, &cmp.b);
    let diffs = Some(Diffs {
        label: format!("{} − {}", res.group(&cmp.a).name, res.group(&cmp.b).name),
        value: cmp.value,
        values: a.iter().zip(&b).map(|(x, y)| x - y).collect(),
    });
    match neurogen_analysis::stats::paired_comparison(&a, &b) {
        Ok(pc) => {
            let diff = format!(
                "{:+.*} [{:+.*}, {:+.*}], n = {}",
                digits, pc.diff.mean, digits, pc.diff.ci95.0, digits, pc.diff.ci95.1, pc.diff.n
            );
            let mde = detectable(pc.diff.n, pc.diff.sd, digits);
            Cell {
                found: welch,
                paired: Some((
                    format!(
                        "{diff}, paired t p = {:.4}, Wilcoxon p = {:.4}, d_z = {:+.2}, {mde}",
                        pc.t_test.p, pc.wilcoxon.p, pc.d_z
                    ),
                    format!("{diff}, p = {:.4} ({mde})", pc.t_test.p),
                    pc.t_test.p,
                )),
                diffs,
                // Verdicts use the paired test (the design pairs groups by repeat).
                verdict: expect.verdict(cmp.value, pc.diff.mean, pc.t_test.p),
            }
        }
        Err(e) => Cell {
            found: welch,
            paired: Some((
                format!("not computed ({e})"),
                format!("not computed ({e})"),
                f64::NAN,
            )),
            diffs,
            verdict: expect.verdict(cmp.value, d, p),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::scale::ScaleName;
    use super::*;

    #[test]
    fn an_anova_with_a_group_short_of_runs_names_that_group() {
        let mut rep = Report::new(
            "t",
            &Scale::new(ScaleName::Smoke),
            &[],
            Mode::Method,
            "data",
            "cpu",
        );
        rep.anova_tukey(
            "test accuracy",
            &[
                ("Control".into(), vec![70.0, 71.0, 72.0]),
                ("Frozen layers".into(), vec![]),
            ],
        );
        let text = rep.finish();
        assert!(
            text.contains(
                "One-way ANOVA of test accuracy: not computed (\"Frozen layers\" has 0 run(s); at least 2 are needed)."
            ),
            "{text}"
        );
        assert!(
            text.contains("Tukey's HSD: not computed (\"Frozen layers\""),
            "{text}"
        );
    }

    #[test]
    fn repeats_are_written_as_ranges() {
        assert_eq!(repeat_ranges(&[4, 5, 6, 7]), "r4–r7 (4 runs)");
        assert_eq!(repeat_ranges(&[0, 2, 3, 5]), "r0, r2–r3, r5 (4 runs)");
        assert_eq!(repeat_ranges(&[3]), "r3 (1 run)");
    }

    #[test]
    fn the_interim_notice_names_the_count_and_the_missing_runs() {
        let n = interim_notice(
            28,
            48,
            &[
                ("Frozen layers".into(), (0..8).collect()),
                ("Neurogenesis + excitability".into(), vec![4, 5, 6, 7]),
            ],
        );
        assert!(
            n.starts_with("**Interim report: 28 of 48 runs recorded; not a result.**"),
            "{n}"
        );
        assert!(n.contains("\n- Frozen layers: r0–r7 (8 runs)"), "{n}");
        assert!(
            n.contains("\n- Neurogenesis + excitability: r4–r7 (4 runs)"),
            "{n}"
        );
        let done = interim_notice(48, 48, &[]);
        assert!(
            done.contains("Every run is now recorded") && !done.contains("Still to train"),
            "{done}"
        );
    }
}
