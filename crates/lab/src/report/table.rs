//! The claims table: one row per claim, the paired comparison by repeat with Holm's correction
//! across the table, and optionally a second column (a variant of every group, e.g. the
//! published code's behaviour beside the method as described).
use std::fmt::Write as _;

use crate::claims::{holm, Finding};

/// One row of the claims table.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRow {
    /// The claim's text.
    pub claim: String,
    /// What exactly this row tests ([`crate::claims::Claim::how`]), for the test column.
    pub how: Option<String>,
    /// What this run found.
    pub main: Finding,
    /// With a second column ([`TwoColumns`]): the same claim on the variant groups (None when
    /// the variant changes neither group, so both columns are the same test, or for an
    /// analysis claim with no second finding).
    pub variant: Option<Finding>,
}

/// The claims table's headings and closing note: the study's words.
#[derive(Debug, Clone, PartialEq)]
pub struct TableStyle {
    /// Heading of the claim column, e.g. `claim (Tran et al. 2022)`.
    pub claim_column: String,
    /// The section heading of a one-column table.
    pub heading: String,
    /// The paragraph after the table (what "holds" means).
    pub note: String,
    /// Two columns side by side, with their words; None: one column.
    pub two_columns: Option<TwoColumns>,
    /// Heading of a column, after the claim, saying what each row tests
    /// ([`ClaimRow::how`]); None: no such column.
    pub how_column: Option<String>,
    /// Whether the detailed table writes verdicts in bold.
    pub bold_verdicts: bool,
}

/// The words of a two-column claims table.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoColumns {
    /// The section heading.
    pub heading: String,
    /// The paragraph that explains the cells.
    pub intro: String,
    /// Heading of the first column (e.g. `the method as described`).
    pub first: String,
    /// Heading of the second column.
    pub second: String,
    /// Name of the first column's detailed table (`### {first_details}: every test`).
    pub first_details: String,
    /// Name of the second column's detailed table.
    pub second_details: String,
    /// A second-column cell whose test is the first column's (e.g. `(shared) same test`).
    pub shared: String,
}

/// The note after a claims table, as the paper-reproduction reports write it.
pub const DEFAULT_NOTE: &str = "\"Holds\" means the paper's direction with p < 0.05 in the paired t-test (unadjusted; the Holm column adjusts for the figure's several claims), or in the figure's own analysis where no pairing applies. \"Detects ±X at 80 % power\": the smallest true mean difference these n pairs find with probability 0.8 (two-sided paired t-test, α = 0.05, noncentral t; the observed SD of the differences), so a claim that does not hold with a detectable difference larger than the paper's effect says \"too few repeats\", not \"no effect\". Small scales have little power: a claim that does not hold at smoke or quick scale says little about the paper's.";

impl Default for TableStyle {
    fn default() -> TableStyle {
        TableStyle {
            claim_column: "claim".to_string(),
            heading: "The paper's claims and this run".to_string(),
            note: DEFAULT_NOTE.to_string(),
            two_columns: None,
            how_column: None,
            bold_verdicts: false,
        }
    }
}

/// Writes the claims table of `rows` in `style` to `text`.
pub(crate) fn write_table(text: &mut String, rows: &[ClaimRow], style: &TableStyle) {
    let main: Vec<Option<&Finding>> = rows.iter().map(|c| Some(&c.main)).collect();
    let main_holm = holm(&main);
    match &style.two_columns {
        None => {
            let _ = writeln!(text, "## {}\n", style.heading);
            detail_table(text, style, rows, &main, &main_holm);
        }
        Some(two) => {
            // The second column: a claim whose groups the variant leaves alone is the same test.
            let variant: Vec<Option<&Finding>> = rows
                .iter()
                .map(|c| Some(c.variant.as_ref().unwrap_or(&c.main)))
                .collect();
            let variant_holm = holm(&variant);
            let _ = writeln!(
                text,
                "## {}\n\n{}\n\n| {} | {} | {} |\n|---|---|---|",
                two.heading, two.intro, style.claim_column, two.first, two.second
            );
            for (i, c) in rows.iter().enumerate() {
                let cell = |x: &Finding, h: &Option<f64>| -> String {
                    match (&x.paired, h) {
                        (Some(t), Some(h)) => {
                            format!("{}, Holm p = {h:.4}: **{}**", t.short, x.verdict.text())
                        }
                        (Some(t), None) => format!("{}: **{}**", t.short, x.verdict.text()),
                        (None, _) => format!("{}: **{}**", x.found, x.verdict.text()),
                    }
                };
                let m = cell(&c.main, &main_holm[i]);
                let p = match &c.variant {
                    Some(pc) => cell(pc, &variant_holm[i]),
                    None if c.main.paired.is_some() => two.shared.clone(),
                    None => "–".to_string(),
                };
                let _ = writeln!(text, "| {} | {m} | {p} |", c.claim);
            }
            let _ = writeln!(text, "\n### {}: every test\n", two.first_details);
            detail_table(text, style, rows, &main, &main_holm);
            let _ = writeln!(text, "\n### {}: every test\n", two.second_details);
            detail_table(text, style, rows, &variant, &variant_holm);
        }
    }
    let _ = writeln!(text, "\n{}", style.note);
}

/// Writes to `text` the detailed claims table of one column (`cells`, one per row of `rows`;
/// None: not in it).
fn detail_table(
    text: &mut String,
    style: &TableStyle,
    rows: &[ClaimRow],
    cells: &[Option<&Finding>],
    holm: &[Option<f64>],
) {
    let how_head = match &style.how_column {
        Some(h) => format!(" {h} |"),
        None => String::new(),
    };
    let _ = writeln!(
        text,
        "| {} |{how_head} found here (paper's test) | paired by repeat: a − b [95 % CI], tests, d_z, Holm p | verdict |\n|---|---|---|---|{}",
        style.claim_column,
        if style.how_column.is_some() { "---|" } else { "" }
    );
    for ((c, cell), h) in rows.iter().zip(cells).zip(holm) {
        let Some(cell) = cell else { continue };
        let paired = match (&cell.paired, h) {
            (Some(t), Some(h)) => format!("{}, Holm p = {h:.4}", t.long),
            (Some(t), None) => t.long.clone(),
            (None, _) => "–".to_string(),
        };
        let how = match &style.how_column {
            Some(_) => format!(" {} |", c.how.as_deref().unwrap_or("–")),
            None => String::new(),
        };
        let verdict = if style.bold_verdicts {
            format!("**{}**", cell.verdict.text())
        } else {
            cell.verdict.text().to_string()
        };
        let _ = writeln!(
            text,
            "| {} |{how} {} | {paired} | {verdict} |",
            c.claim, cell.found
        );
    }
}
