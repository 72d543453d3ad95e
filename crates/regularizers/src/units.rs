//! How many units a neurogenesis event touches: a count, or a fraction of the layer's width
//! (the reference's `add_new(p_new)`: a whole number is a count, otherwise
//! `int(layer_size · p_new)`, i.e. rounded down).
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::RegError;

/// A number of units: `Count(8)` or `Fraction(0.05)` (5% of the layer, rounded down).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UnitCount {
    /// Exactly this many units.
    Count(usize),
    /// This fraction of the layer's current width, in (0, 1), rounded down.
    Fraction(f64),
}

impl UnitCount {
    /// The number of units for a layer of `width` units.
    pub fn resolve(&self, width: usize) -> usize {
        match *self {
            UnitCount::Count(n) => n,
            UnitCount::Fraction(f) => (width as f64 * f).floor() as usize,
        }
    }

    /// Checks the range: a count >= 1 or a fraction in (0, 1).
    pub fn validate(&self, name: &str, key: &str) -> Result<(), RegError> {
        let ok = match *self {
            UnitCount::Count(n) => n >= 1,
            UnitCount::Fraction(f) => f.is_finite() && f > 0.0 && f < 1.0,
        };
        if ok {
            Ok(())
        } else {
            Err(RegError::invalid(
                name,
                format!(
                    "{key} must be a count of units >= 1 (e.g. 8) or a fraction of the layer in (0, 1) (e.g. 0.05), got {self}"
                ),
            ))
        }
    }
}

impl fmt::Display for UnitCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitCount::Count(n) => write!(f, "{n}"),
            UnitCount::Fraction(x) => write!(f, "{x}"),
        }
    }
}

impl FromStr for UnitCount {
    type Err = String;

    /// `8` is a count; `0.05` a fraction; a whole number written as `8.0` is a count (as in
    /// the reference's `p_new % 1 == 0`).
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(n) = s.parse::<usize>() {
            return Ok(UnitCount::Count(n));
        }
        match s.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 1.0 && x.fract() == 0.0 => {
                Ok(UnitCount::Count(x as usize))
            }
            Ok(x) => Ok(UnitCount::Fraction(x)),
            Err(_) => Err(format!(
                "expected a count of units (e.g. 8) or a fraction of the layer in (0, 1) (e.g. 0.05), got `{s}`"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_fractions() {
        assert_eq!("8".parse::<UnitCount>().unwrap(), UnitCount::Count(8));
        assert_eq!("8.0".parse::<UnitCount>().unwrap(), UnitCount::Count(8));
        assert_eq!(
            "0.05".parse::<UnitCount>().unwrap(),
            UnitCount::Fraction(0.05)
        );
        assert_eq!(UnitCount::Fraction(0.05).resolve(250), 12);
        assert_eq!(UnitCount::Count(8).resolve(250), 8);
        assert!("x".parse::<UnitCount>().is_err());
        assert!(UnitCount::Fraction(1.5)
            .validate("neurogenesis", "n")
            .is_err());
        assert!(UnitCount::Count(0).validate("neurogenesis", "n").is_err());
        assert_eq!(
            UnitCount::Fraction(0.05)
                .to_string()
                .parse::<UnitCount>()
                .unwrap(),
            UnitCount::Fraction(0.05)
        );
    }
}
