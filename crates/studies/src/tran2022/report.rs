//! Tran et al.'s `report.md`: the paper-reproduction header (scale, neurogenesis schedule,
//! published-code quirks), the interim notice, and the figures' report steps on [`Results`]
//! ([`FigureReport`]). The report builder, its claims table with Holm's correction and the
//! verdict rule are the engine's ([`neurogen_lab::report`], [`neurogen_lab::claims`]).
use std::fmt::Write as _;

use neurogen_lab::claims::{decide, Claim, ClaimError, Comparison, Value, Verdict};
use neurogen_lab::report::{ClaimRow, Report, TwoColumns};

use super::figure::Results;
use super::scale::Scale;
use crate::cnn::{RunRecord, RunStatus};

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

/// Repeat indices as ranges with their count: `[0, 1, 2, 5]` → "r0–r2, r5 (4 runs)".
fn repeat_ranges(repeats: &[usize]) -> String {
    let n = repeats.len();
    format!(
        "{} ({n} run{})",
        neurogen_lab::interim::repeat_ranges(repeats),
        if n == 1 { "" } else { "s" }
    )
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

/// Which claim column Tran et al.'s claims tables name.
const CLAIM_COLUMN: &str = "claim (Tran et al. 2022)";

/// Starts a figure's report with its title and what was run (Tran et al.'s header: scale,
/// neurogenesis schedule, published-code quirks, failed runs), its claims table naming the
/// paper.
pub fn header(
    title: &str,
    scale: &Scale,
    rows: &[RunRecord],
    mode: Mode,
    data_source: &str,
    device: &str,
) -> Report {
    let mut text = String::new();
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
    let mut rep = Report::new(title);
    rep.push_str(&text);
    rep.style_mut().claim_column = CLAIM_COLUMN.to_string();
    rep
}

/// The two columns of a `--compare-reference` claims table.
fn method_and_published() -> TwoColumns {
    TwoColumns {
        heading: "The paper's claims: the method and the published code".to_string(),
        intro: "Each cell: paired difference a − b by repeat [95 % CI], paired t-test p (Holm-adjusted across this column's claims), and the verdict. \
                \"(shared)\" marks a claim whose groups the quirks do not change, so both columns are the same test.".to_string(),
        first: "the method as described".to_string(),
        second: "the published code's behaviour".to_string(),
        first_details: "The method as described".to_string(),
        second_details: "The published code's behaviour".to_string(),
        shared: "(shared) same test".to_string(),
    }
}

/// A figure's report steps on its [`Results`] (values found by group key).
pub trait FigureReport {
    /// A table of mean ± SD of `value` for the groups `keys`.
    fn summary(&mut self, res: &Results, value: Value, keys: &[&str]);

    /// One-way ANOVA and Tukey's HSD of `value` over the groups `keys`.
    fn anova(&mut self, res: &Results, value: Value, keys: &[&str]);

    /// The Welch t-test line of each comparison (groups by their short names).
    fn welch_lines(&mut self, res: &Results, cmps: &[&Comparison]);

    /// Decides every claim, in order, for the claims table: a test claim by its test on
    /// `res`, an analysis claim by the (claim text, finding, verdict) the figure's analysis
    /// gives in `analysed`. With published-code variants, each claim on a group the quirks
    /// change is also decided on the variants, in a second column. Fails if an analysis claim
    /// has no verdict, or a verdict no claim.
    fn claims(
        &mut self,
        res: &Results,
        claims: &[Claim],
        analysed: Vec<(&str, String, Verdict)>,
    ) -> Result<(), ClaimError>;

    /// Sets the published-code column of the analysis claim `text` (after
    /// [`FigureReport::claims`]), from the figure's own analysis of the published-code variants.
    fn published_analysis(
        &mut self,
        text: &str,
        found: String,
        verdict: Verdict,
    ) -> Result<(), ClaimError>;
}

impl FigureReport for Report {
    fn summary(&mut self, res: &Results, value: Value, keys: &[&str]) {
        self.summary_table(value.short, &res.table(value, keys));
    }

    fn anova(&mut self, res: &Results, value: Value, keys: &[&str]) {
        self.anova_tukey(value.label, &res.table(value, keys));
    }

    fn welch_lines(&mut self, res: &Results, cmps: &[&Comparison]) {
        for c in cmps {
            let (a, b) = (res.group(&c.a), res.group(&c.b));
            self.welch_line(
                c.value.label,
                &a.short,
                &res.values(c.value, &c.a),
                &b.short,
                &res.values(c.value, &c.b),
            );
        }
    }

    fn claims(
        &mut self,
        res: &Results,
        claims: &[Claim],
        analysed: Vec<(&str, String, Verdict)>,
    ) -> Result<(), ClaimError> {
        for (claim, main) in decide(res, claims, analysed)? {
            let variant = match claim.comparison().and_then(|c| res.published_comparison(c)) {
                Some(p) => claim
                    .with_comparison(p)
                    .map(|c| c.evaluate(res))
                    .transpose()?,
                None => None,
            };
            self.push_claim(ClaimRow {
                claim: claim.text,
                how: claim.how,
                main,
                variant,
            });
        }
        if res.compares_published() {
            self.style_mut().two_columns = Some(method_and_published());
        }
        Ok(())
    }

    fn published_analysis(
        &mut self,
        text: &str,
        found: String,
        verdict: Verdict,
    ) -> Result<(), ClaimError> {
        self.set_variant_analysis(text, found, verdict)
    }
}

#[cfg(test)]
mod tests {
    use neurogen_lab::claims::{Comparison, Expect};

    use super::super::figure::tests::row;
    use super::super::figure::{Figure, Group};
    use super::super::scale::ScaleName;
    use super::*;
    use crate::cnn::RunStatus;

    fn two_groups() -> Results {
        let s = Scale::new(ScaleName::Smoke);
        let groups = vec![
            Group::new("control", "Control", &[], &s).unwrap(),
            Group::new("ngn", "Random neurogenesis", &[s.neurogenesis("")], &s)
                .unwrap()
                .with_short("Random"),
        ];
        let mut rows = Vec::new();
        for (r, (c, n)) in [(10.0, 21.0), (12.0, 22.0), (11.0, 20.0)]
            .into_iter()
            .enumerate()
        {
            rows.push(row("Control", r, c, c, RunStatus::Ok));
            rows.push(row("Random neurogenesis", r, n, n, RunStatus::Ok));
        }
        Results::new(groups, rows)
    }

    fn smoke_header() -> Report {
        header(
            "t",
            &Scale::new(ScaleName::Smoke),
            &[],
            Mode::Method,
            "data",
            "cpu",
        )
    }

    #[test]
    fn the_claims_table_follows_the_figure_claims_in_order() {
        let res = two_groups();
        let claims = vec![
            Claim::analysis("Decided by hand"),
            Claim::welch(
                "Neurogenesis beats control",
                "{d} points vs control",
                Value::TEST_ACCURACY,
                "ngn",
                "control",
                Expect::Better,
            ),
        ];
        let mut rep = smoke_header();
        rep.welch_lines(&res, &[claims[1].comparison().unwrap()]);
        rep.claims(
            &res,
            &claims,
            vec![("Decided by hand", "found so".into(), Verdict::DoesNotHold)],
        )
        .unwrap();
        let text = rep.finish();
        assert!(
            text.contains("Welch's t-test, test accuracy, Random vs Control: difference 10.00,"),
            "{text}"
        );
        let by_hand = text
            .find("| Decided by hand | found so | – | does not hold at this scale |")
            .expect("analysis claim");
        let welch = text
            .find("| Neurogenesis beats control | +10.00 points vs control, Welch p = 0.0")
            .expect("welch claim");
        assert!(by_hand < welch, "{text}");
        let line = text[welch..].lines().next().unwrap();
        // The paired comparison by repeat, with the Holm-adjusted p of the only paired test.
        assert!(line.contains("| +10.00 ["), "{line}");
        assert!(line.contains("paired t p = "), "{line}");
        assert!(line.contains("Wilcoxon p = "), "{line}");
        assert!(line.contains("Holm p = "), "{line}");
        assert!(line.ends_with("| holds |"), "{line}");
    }

    #[test]
    fn a_claim_whose_group_has_no_runs_yet_is_not_testable_and_prints_no_nan() {
        // An interim report: the excitability group has not trained yet.
        let s = Scale::new(ScaleName::Smoke);
        let mut res = two_groups();
        res.groups
            .push(Group::new("exc", "Excitability", &[s.neurogenesis("")], &s).unwrap());
        let claims = vec![Claim::welch(
            "Excitability beats neurogenesis",
            "{d} points vs neurogenesis",
            Value::TEST_ACCURACY,
            "exc",
            "ngn",
            Expect::Better,
        )];
        let mut rep = smoke_header();
        rep.claims(&res, &claims, vec![]).unwrap();
        let text = rep.finish();
        assert!(!text.contains("NaN"), "{text}");
        let line = text
            .lines()
            .find(|l| {
                l.starts_with("| Excitability beats neurogenesis | Welch test not computed (")
            })
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            line.ends_with("| not testable (too few runs, or no variance) |"),
            "{line}"
        );
    }

    #[test]
    fn published_variants_are_added_for_neurogenesis_groups_only_and_get_their_own_column() {
        let s = Scale::new(ScaleName::Smoke);
        let fig = Figure {
            title: "t",
            validation: false,
            groups: vec![
                Group::new("control", "Control", &[], &s).unwrap(),
                Group::new("ngn", "Random neurogenesis", &[s.neurogenesis("")], &s)
                    .unwrap()
                    .with_published_specs(&[s.neurogenesis_with(10, "mode=random")]),
                Group::new(
                    "wd",
                    "Weight decay",
                    &["weight-decay:lambda=1e-5".into()],
                    &s,
                )
                .unwrap(),
            ],
            claims: vec![
                Claim::welch(
                    "ngn",
                    "{d}",
                    Value::TEST_ACCURACY,
                    "ngn",
                    "control",
                    Expect::Better,
                ),
                Claim::welch(
                    "wd",
                    "{d}",
                    Value::TEST_ACCURACY,
                    "wd",
                    "control",
                    Expect::Better,
                ),
            ],
        };
        let both = fig.with_published(&s).unwrap();
        both.check().unwrap();
        let keys: Vec<&str> = both.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["control", "ngn", "ngn@published", "wd"]);
        let v = &both.groups[2];
        assert_eq!(v.name, "Random neurogenesis (published code)");
        assert!(v.quirks && !both.groups[1].quirks);
        assert_eq!(v.variant_of.as_deref(), Some("ngn"));
        assert!(
            v.specs[0].starts_with("neurogenesis:n=10,"),
            "{:?}",
            v.specs
        );

        let mut rows = Vec::new();
        for r in 0..3 {
            let x = r as f64;
            rows.push(row("Control", r, 10.0 + x, 10.0 + x, RunStatus::Ok));
            rows.push(row(
                "Random neurogenesis",
                r,
                20.0 + x * x,
                20.0 + x * x,
                RunStatus::Ok,
            ));
            rows.push(row(
                "Random neurogenesis (published code)",
                r,
                9.0 + x,
                9.0 - x,
                RunStatus::Ok,
            ));
            rows.push(row(
                "Weight decay",
                r,
                11.0 + x,
                11.0 + 2.0 * x,
                RunStatus::Ok,
            ));
        }
        let res = Results::new(both.groups.clone(), rows);
        assert!(res.compares_published());
        assert_eq!(res.method_keys(), ["control", "ngn", "wd"]);
        assert_eq!(
            res.published_keys(&["control", "ngn"]),
            ["control", "ngn@published"]
        );
        let cmp = Comparison::new(Value::TEST_ACCURACY, "ngn", "control");
        assert_eq!(
            res.published_comparison(&cmp),
            Some(Comparison::new(
                Value::TEST_ACCURACY,
                "ngn@published",
                "control"
            ))
        );
        let wd = Comparison::new(Value::TEST_ACCURACY, "wd", "control");
        assert_eq!(res.published_comparison(&wd), None);

        let mut rep = smoke_header();
        rep.claims(&res, &fig.claims, vec![]).unwrap();
        let text = rep.finish();
        assert!(text.contains("| claim (Tran et al. 2022) | the method as described | the published code's behaviour |"), "{text}");
        // ngn: +10.67 by the method; the published variant is worse than control.
        let line = text
            .lines()
            .find(|l| l.starts_with("| ngn | +"))
            .expect("ngn row");
        assert!(line.contains("**holds**"), "{line}");
        assert!(line.contains("| -3.00 ["), "{line}");
        assert!(
            line.ends_with("**does not hold at this scale** |"),
            "{line}"
        );
        let line = text
            .lines()
            .find(|l| l.starts_with("| wd | +"))
            .expect("wd row");
        assert!(line.ends_with("| (shared) same test |"), "{line}");
        assert!(text.contains("### The published code's behaviour: every test"));
    }

    #[test]
    fn an_analysis_claim_needs_exactly_its_verdict() {
        let res = two_groups();
        let claims = vec![Claim::analysis("A")];
        assert!(smoke_header().claims(&res, &claims, vec![]).is_err());
        let stray = vec![
            ("A", String::new(), Verdict::Holds),
            ("B", String::new(), Verdict::Holds),
        ];
        assert!(smoke_header().claims(&res, &claims, stray).is_err());
        let ok = vec![("A", String::new(), Verdict::Holds)];
        smoke_header().claims(&res, &claims, ok).unwrap();
    }

    #[test]
    fn an_anova_with_a_group_short_of_runs_names_that_group() {
        let mut rep = header(
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
