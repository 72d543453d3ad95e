//! What claims read: each (value, group) as plain values by repeat.
use std::collections::BTreeMap;

use super::{ClaimError, Value};

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
