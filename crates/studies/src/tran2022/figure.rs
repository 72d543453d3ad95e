//! A figure as data: its groups (each with a stable key), the values compared, and the paper's
//! claims, each a test of one group against another.
//!
//! The claims vocabulary (values, expectations, tests, verdicts) is the engine's,
//! [`neurogen_lab::claims`]; what is Tran et al.'s here is the group (regularisers, dropout
//! epochs, published-code variants) and the results of the paper's CNN runs.
//!
//! A figure module declares a [`Figure`] (groups and claims); the command line trains it
//! (`cargo xtask reproduce figN`) and gets [`Results`], in which every value is found by group
//! key (never by display name or position); [`Results`] is the claims' [`Observations`]. The
//! report ([`super::report::FigureReport`]) turns comparisons into Welch test lines and claims
//! into the claims table. Only analyses that are truly a figure's own (fig3's pair z-scores,
//! fig5's ablation, selectivity and new units) are code; they add their per-group numbers to
//! [`Results`] as values of their own ([`Value`] descriptors), or decide a
//! [`neurogen_lab::claims::Test::Analysis`] claim.
//!
//! The run layer ([`crate::cnn`] and the engine's store) knows groups only by display name,
//! which is `runs.csv`'s `group` column and part of each run's configuration hash; figures
//! know them only by key.
//! A second variant of a group (e.g. trained again with reference quirks) is thus one more
//! `Group` with its own key and name, and every table, plot and claim can address it.
//!
//! ```ignore
//! // a group: key, display name, regularisers
//! Group::new("ngn-excite", "Neurogenesis + excitability", &[s.neurogenesis("excite=2")], s)?,
//! // a claim: text, what "found" says ({d} = the difference), value, a, b, expected direction
//! Claim::welch("Neurogenesis raises test accuracy over control", "difference {d} points",
//!              Value::TEST_ACCURACY, "neurogenesis", "control", Expect::Better),
//! ```
use std::collections::BTreeMap;

use neurogen_lab::claims::{Claim, Comparison, Observations, Value};
use neurogen_regularizers::{RegularizerSet, RegularizerSpec};

use super::error::TranError;
use super::scale::Scale;
use crate::cnn::csv::ok_values;
use crate::cnn::{slug, RunRecord, RunStatus};

/// One group of a figure: a stable key, a display name and its regularisers.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Stable key figures and claims use to find the group (e.g. `ngn+dropout`).
    pub key: String,
    /// Display name (e.g. `Neurogenesis + Dropout`), in tables, plots, `runs.csv`'s `group`
    /// column and (as a slug) file names; part of each run's configuration hash.
    pub name: String,
    /// Name in Welch test lines (the display name unless [`Group::with_short`] set one).
    pub short: String,
    /// Regulariser specs (as for `--regularizer`), combined in order.
    pub specs: Vec<String>,
    /// Whether the parsed specs hold dropout (such groups train longer, as in the reference).
    pub dropout: bool,
    /// Epochs for this group ([`Scale::epochs_for`]).
    pub epochs: usize,
    /// Whether the parsed specs hold neurogenesis, the only regulariser the published code's
    /// quirks change (so only such groups get a published-code variant).
    pub neurogenesis: bool,
    /// Trained with the published code's quirks (a published-code variant, or every group
    /// under `--reference-quirks`).
    pub quirks: bool,
    /// For a published-code variant: the key of the group it is the variant of.
    pub variant_of: Option<String>,
    /// The specs the published scripts use for this group where they differ from the paper's
    /// description (fig. 4's 10 units and portion 0.032); None: the same specs.
    pub published_specs: Option<Vec<String>>,
}

/// Suffix of a published-code variant's key (`neurogenesis@published`).
pub const PUBLISHED_KEY: &str = "@published";

impl Group {
    /// The group `key` displayed as `name`, with regularisers `specs`, at `scale`; fails if a
    /// spec does not parse.
    pub fn new(key: &str, name: &str, specs: &[String], scale: &Scale) -> Result<Group, TranError> {
        let set = RegularizerSet::from_specs(specs, false).map_err(|source| TranError::Group {
            key: key.to_string(),
            source,
        })?;
        let has = |f: fn(&RegularizerSpec) -> bool| set.specs.iter().any(f);
        let dropout = has(|s| matches!(s, RegularizerSpec::Dropout(_)));
        let neurogenesis = has(|s| matches!(s, RegularizerSpec::Neurogenesis(_)));
        Ok(Group {
            key: key.to_string(),
            name: name.to_string(),
            short: name.to_string(),
            specs: specs.to_vec(),
            dropout,
            epochs: scale.epochs_for(dropout),
            neurogenesis,
            quirks: false,
            variant_of: None,
            published_specs: None,
        })
    }

    /// The same group, named `short` in Welch test lines.
    pub fn with_short(mut self, short: &str) -> Group {
        self.short = short.to_string();
        self
    }

    /// The same group, whose published-code variant runs `specs` (the settings of the
    /// published scripts, where they differ from the paper's description).
    pub fn with_published_specs(mut self, specs: &[String]) -> Group {
        self.published_specs = Some(specs.to_vec());
        self
    }

    /// This group as the published code runs it: key `KEY@published`, name `NAME (published
    /// code)`, its published specs, trained with the quirks. None for a group the quirks do not
    /// change (no neurogenesis), which both columns of a comparison share.
    pub fn published(&self, scale: &Scale) -> Result<Option<Group>, TranError> {
        if !self.neurogenesis || self.variant_of.is_some() {
            return Ok(None);
        }
        let specs = self.published_specs.as_ref().unwrap_or(&self.specs);
        let mut g = Group::new(
            &format!("{}{PUBLISHED_KEY}", self.key),
            &format!("{} (published code)", self.name),
            specs,
            scale,
        )?;
        g.short = format!("{} (published)", self.short);
        g.quirks = true;
        g.variant_of = Some(self.key.clone());
        Ok(Some(g))
    }
}

/// A figure: its title, its groups and the paper's claims it tests.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The report's title.
    pub title: &'static str,
    /// Whether per-epoch curves use a validation split held out of the training images
    /// (fig2) rather than the test split.
    pub validation: bool,
    /// The groups, in the order they are trained and shown.
    pub groups: Vec<Group>,
    /// The claims, in the order of the claims table.
    pub claims: Vec<Claim>,
}

impl Figure {
    /// The figure with the published-code variant of every group the quirks change, each right
    /// after its group (`--compare-reference`). Groups without neurogenesis are shared by both
    /// columns and trained once; claims are unchanged (the report derives their second column
    /// from [`Results::published_of`]).
    pub fn with_published(&self, scale: &Scale) -> Result<Figure, TranError> {
        let mut fig = self.clone();
        fig.groups.clear();
        for g in &self.groups {
            fig.groups.push(g.clone());
            if let Some(v) = g.published(scale)? {
                fig.groups.push(v);
            }
        }
        Ok(fig)
    }

    /// Checks that keys, display names and file names are unique and that every claim names
    /// existing groups.
    pub fn check(&self) -> Result<(), TranError> {
        let mut seen = BTreeMap::new();
        for g in &self.groups {
            for (what, v) in [
                ("key", &g.key),
                ("name", &g.name),
                ("file name", &slug(&g.name)),
            ] {
                if let Some(other) = seen.insert((what, v.clone()), &g.key) {
                    return Err(TranError::Figure(format!(
                        "{}: groups {other:?} and {:?} have the same {what} {v:?}",
                        self.title, g.key
                    )));
                }
            }
        }
        let keys: Vec<&str> = self.groups.iter().map(|g| g.key.as_str()).collect();
        neurogen_lab::claims::check_groups(&self.claims, &keys)
            .map_err(|e| TranError::Figure(format!("{}: {e}", self.title)))?;
        Ok(())
    }
}

/// A trained figure's runs, with every value found by group key.
pub struct Results {
    /// The figure's groups.
    pub groups: Vec<Group>,
    /// The rows of this figure's runs (ok and failed).
    pub rows: Vec<RunRecord>,
    /// Values a figure computed itself, by (value, group key), each by repeat.
    custom: BTreeMap<(Value, String), BTreeMap<usize, f64>>,
}

impl Results {
    /// The results of `groups` from their `rows`.
    pub fn new(groups: Vec<Group>, rows: Vec<RunRecord>) -> Results {
        Results {
            groups,
            rows,
            custom: BTreeMap::new(),
        }
    }

    /// The group `key`.
    ///
    /// # Panics
    /// If the figure has no such group: keys are written in the figure's code, so this is a
    /// programming error (which the smoke-scale tests reach).
    pub fn group(&self, key: &str) -> &Group {
        self.groups
            .iter()
            .find(|g| g.key == key)
            .unwrap_or_else(|| panic!("no group with key {key:?}"))
    }

    /// Every group's key, in figure order (published-code variants included).
    pub fn keys(&self) -> Vec<&str> {
        self.groups.iter().map(|g| g.key.as_str()).collect()
    }

    /// The keys of the groups the figure declares (without published-code variants).
    pub fn method_keys(&self) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|g| g.variant_of.is_none())
            .map(|g| g.key.as_str())
            .collect()
    }

    /// The key of the published-code variant of group `key`, if the figure trained one.
    pub fn published_of(&self, key: &str) -> Option<&str> {
        self.groups
            .iter()
            .find(|g| g.variant_of.as_deref() == Some(key))
            .map(|g| g.key.as_str())
    }

    /// Whether the figure holds published-code variants (`--compare-reference`).
    pub fn compares_published(&self) -> bool {
        self.groups.iter().any(|g| g.variant_of.is_some())
    }

    /// `keys` as the published code runs them: each group replaced by its variant where there
    /// is one (shared groups stay).
    pub fn published_keys<'a>(&'a self, keys: &[&'a str]) -> Vec<&'a str> {
        keys.iter()
            .map(|k| self.published_of(k).unwrap_or(k))
            .collect()
    }

    /// The comparison `cmp` as the published code runs it: groups replaced by their variants;
    /// None if neither group has one (the comparison is the same in both columns).
    pub fn published_comparison(&self, cmp: &Comparison) -> Option<Comparison> {
        let (a, b) = (self.published_of(&cmp.a), self.published_of(&cmp.b));
        if a.is_none() && b.is_none() {
            return None;
        }
        Some(Comparison::new(
            cmp.value,
            a.unwrap_or(&cmp.a),
            b.unwrap_or(&cmp.b),
        ))
    }

    /// The values of group `key`'s successful runs, ordered by repeat (a figure's own value
    /// the figure did not set is empty).
    pub fn values(&self, value: Value, key: &str) -> Vec<f64> {
        let name = &self.group(key).name;
        if value == Value::TEST_ACCURACY {
            ok_values(&self.rows, name, |r| r.test_accuracy)
        } else if value == Value::TRAIN_ACCURACY {
            ok_values(&self.rows, name, |r| r.train_accuracy)
        } else if value == Value::GAP {
            let train = ok_values(&self.rows, name, |r| r.train_accuracy);
            let test = ok_values(&self.rows, name, |r| r.test_accuracy);
            train.iter().zip(&test).map(|(a, b)| a - b).collect()
        } else {
            self.custom
                .get(&(value, key.to_string()))
                .map(|m| m.values().copied().collect())
                .unwrap_or_default()
        }
    }

    /// (display name, values) of each group in `keys`, for tables and plots.
    pub fn table(&self, value: Value, keys: &[&str]) -> Vec<(String, Vec<f64>)> {
        keys.iter()
            .map(|k| (self.group(k).name.clone(), self.values(value, k)))
            .collect()
    }

    /// Sets a figure's own value of group `key`: `(repeat, value)` for each successful run
    /// (so paired claims pair it by repeat).
    pub fn set_custom(&mut self, value: Value, key: &str, values: Vec<(usize, f64)>) {
        self.group(key);
        self.custom
            .insert((value, key.to_string()), values.into_iter().collect());
    }
}

/// How a value of the paper's CNN runs is read from a row of `runs.csv`; None for a figure's
/// own value (set with [`Results::set_custom`]).
fn from_row(value: Value) -> Option<fn(&RunRecord) -> Option<f64>> {
    if value == Value::TEST_ACCURACY {
        Some(|r| r.test_accuracy)
    } else if value == Value::TRAIN_ACCURACY {
        Some(|r| r.train_accuracy)
    } else if value == Value::GAP {
        Some(|r| r.train_accuracy.zip(r.test_accuracy).map(|(t, e)| t - e))
    } else {
        None
    }
}

/// The figure's runs as the claims read them: test and training accuracy and the gap from the
/// successful rows, a figure's own values as it set them; groups named by display name.
impl Observations for Results {
    fn by_repeat(&self, value: Value, key: &str) -> BTreeMap<usize, f64> {
        let Some(pick) = from_row(value) else {
            return self
                .custom
                .get(&(value, key.to_string()))
                .cloned()
                .unwrap_or_default();
        };
        let name = &self.group(key).name;
        self.rows
            .iter()
            .filter(|r| &r.group == name && r.status == RunStatus::Ok)
            .filter_map(|r| pick(r).map(|v| (r.repeat, v)))
            .collect()
    }

    fn values(&self, value: Value, key: &str) -> Vec<f64> {
        Results::values(self, value, key)
    }

    fn name(&self, key: &str) -> String {
        self.group(key).name.clone()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use neurogen_lab::claims::Expect;

    use super::super::scale::ScaleName;
    use super::*;

    /// A row of `runs.csv` for tests.
    pub(crate) fn row(
        group: &str,
        repeat: usize,
        train: f64,
        test: f64,
        status: RunStatus,
    ) -> RunRecord {
        RunRecord {
            figure: "figX".into(),
            group: group.into(),
            repeat,
            seed: repeat as u64,
            config_hash: String::new(),
            regularizers: String::new(),
            reference_quirks: false,
            epochs: 1,
            batch_size: 4,
            lr: 1e-3,
            train_images: 8,
            test_images: 8,
            device: "cpu".into(),
            status,
            message: String::new(),
            train_accuracy: Some(train),
            train_loss: Some(1.0),
            test_accuracy: Some(test),
            test_loss: Some(1.0),
            neurogenesis_events: 0,
            wall_seconds: 0.0,
            images_per_second: 0.0,
            checkpoint: String::new(),
            replicas: 1,
        }
    }

    #[test]
    fn dropout_groups_are_found_from_the_parsed_specs_and_train_longer() {
        let s = Scale::new(ScaleName::Paper);
        let g = |specs: &[&str]| {
            let specs: Vec<String> = specs.iter().map(|x| x.to_string()).collect();
            Group::new("k", "K", &specs, &s).unwrap()
        };
        assert!(!g(&[]).dropout);
        assert_eq!(g(&[]).epochs, 15);
        let with = g(&["neurogenesis:n=8", "dropout:p=0.1"]);
        assert!(with.dropout);
        assert_eq!(with.epochs, 22);
        assert!(!g(&["weight-decay:lambda=1e-5"]).dropout);
        assert!(Group::new("k", "K", &["dropuot:p=0.1".to_string()], &s).is_err());
    }

    #[test]
    fn values_are_found_by_key_and_skip_failed_runs() {
        let s = Scale::new(ScaleName::Smoke);
        let groups = vec![
            Group::new("control", "Control", &[], &s).unwrap(),
            Group::new("ngn", "Neurogenesis", &[s.neurogenesis("")], &s).unwrap(),
        ];
        let rows = vec![
            row("Neurogenesis", 1, 60.0, 50.0, RunStatus::Ok),
            row("Neurogenesis", 0, 40.0, 35.0, RunStatus::Ok),
            row("Control", 0, 30.0, 20.0, RunStatus::Ok),
            row("Control", 1, 90.0, 90.0, RunStatus::Failed),
        ];
        let mut res = Results::new(groups, rows);
        assert_eq!(res.values(Value::TEST_ACCURACY, "ngn"), [35.0, 50.0]);
        assert_eq!(res.values(Value::TRAIN_ACCURACY, "control"), [30.0]);
        assert_eq!(res.values(Value::GAP, "ngn"), [5.0, 10.0]);
        let auc = Value::new("auc", "auc", "", 3, true);
        assert!(res.values(auc, "ngn").is_empty());
        res.set_custom(auc, "ngn", vec![(1, 0.7), (0, 0.5)]);
        assert_eq!(res.values(auc, "ngn"), [0.5, 0.7]);
        res.set_custom(auc, "control", vec![(0, 0.25)]);
        assert_eq!(
            neurogen_lab::claims::paired_values(&res, &Comparison::new(auc, "ngn", "control")),
            (vec![0.5], vec![0.25])
        );
        assert_eq!(
            res.table(Value::TEST_ACCURACY, &["control"]),
            [("Control".to_string(), vec![20.0])]
        );
    }

    #[test]
    fn a_figure_with_a_claim_on_a_missing_group_or_a_duplicate_name_is_refused() {
        let s = Scale::new(ScaleName::Smoke);
        let mut fig = Figure {
            title: "t",
            validation: false,
            groups: vec![
                Group::new("control", "Control", &[], &s).unwrap(),
                Group::new("ngn", "Neurogenesis", &[s.neurogenesis("")], &s).unwrap(),
            ],
            claims: vec![Claim::welch(
                "c",
                "{d}",
                Value::TEST_ACCURACY,
                "ngn",
                "control",
                Expect::Better,
            )],
        };
        fig.check().unwrap();
        fig.claims.push(Claim::welch(
            "d",
            "{d}",
            Value::TEST_ACCURACY,
            "ngn",
            "dropout",
            Expect::Better,
        ));
        assert!(fig.check().unwrap_err().to_string().contains("dropout"));
        fig.claims.pop();
        fig.groups
            .push(Group::new("ngn2", "Neurogenesis!", &[], &s).unwrap());
        assert!(fig.check().unwrap_err().to_string().contains("file name"));
    }
}
