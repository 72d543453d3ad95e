//! The plausibility report ([`super::plausibility_report`]) of Clark et al.'s GEVB networks
//! (`crate::clark2021_gevb`, NeurIPS 2021): the vectorized [`VecFc`] and the conventional
//! [`Fc`] of its baselines, trained or not. Nothing here trains; the adapters only say which
//! matrices are the synapses and which tensors are the hidden activity.
//!
//! - **Synapses.** Every weight matrix `[out, in]`, presynaptic units in columns, named
//!   `fc0`, `fc1`, … as the networks name their parameters (without `.weight`). `VecFc`'s
//!   first layer is K separate `d → n` blocks (`[K, n, d]`, one per vector component); it
//!   enters as one `[K·n, d]` matrix, so an input pixel is one presynaptic unit whose outgoing
//!   weights are all its weights into every block (Dale compliance asks whether the pixel
//!   drives every component of every unit with one sign). Past the first layer a `VecFc`
//!   weight is one scalar shared by the K components and enters as it is (`[n_ℓ, n_{ℓ−1}]`,
//!   the output layer's `[1, n_L]`).
//! - **Activity.** `VecFc`'s hidden layer `ℓ` is `[B, K, n_ℓ]`; it enters flattened to
//!   `[B, K·n_ℓ]` (each component a value; a closed gate silences all K components of its
//!   unit). `Fc`'s `aReLU` layers enter as `[B, n_ℓ]`; their even units pass negative values,
//!   so activity sparsity counts magnitudes.
//!
//! In a "+" network (`mono`) every weight past the first layer starts and stays `≥ 0` (the
//! authors' clamp), so those matrices are Dale-compliant by construction (every unit
//! excitatory); the first layer is signed, and is not.
use candle_core::Tensor;

use super::error::{DaleError, Result};
use super::report::{plausibility_report, PlausibilityReport};
use crate::clark2021_gevb::{Fc, GevbError, VecFc};

fn gevb(e: GevbError) -> DaleError {
    DaleError::InvalidArgument(format!("GEVB network: {e}"))
}

/// `VecFc`'s synaptic matrices: `fc0` as `[K·n_1, d]` (its K blocks stacked), then `fcℓ`
/// `[n_ℓ, n_{ℓ−1}]` as they are.
///
/// ```
/// use candle_core::Device;
/// use neurogen_studies::clark2021_gevb::{VecFc, VecFcConfig};
/// use neurogen_studies::cornford2021_dale::gevb_report::vec_fc_synapses;
/// let cfg = VecFcConfig { classes: 3, input_dim: 4, hidden: vec![6, 2], mono: true };
/// let net = VecFc::new(&cfg, 0, &Device::Cpu)?;
/// let dims: Vec<_> = vec_fc_synapses(&net)?.into_iter().map(|(n, w)| (n, w.dims().to_vec())).collect();
/// assert_eq!(dims, [("fc0".into(), vec![18, 4]), ("fc1".into(), vec![2, 6]), ("fc2".into(), vec![1, 2])]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn vec_fc_synapses(net: &VecFc) -> Result<Vec<(String, Tensor)>> {
    let (k, d) = (net.config().classes, net.config().input_dim);
    (0..net.layers())
        .map(|l| {
            let w = net.weight(l).map_err(gevb)?.as_tensor().clone();
            let w = if l == 0 {
                let n = w.dim(1)?;
                w.reshape((k * n, d))?
            } else {
                w
            };
            Ok((format!("fc{l}"), w))
        })
        .collect()
}

/// `Fc`'s synaptic matrices `fcℓ` `[n_ℓ, n_{ℓ−1}]`, the output layer's `[K, n_L]`.
pub fn fc_synapses(net: &Fc) -> Result<Vec<(String, Tensor)>> {
    (0..net.layers())
        .map(|l| {
            Ok((
                format!("fc{l}"),
                net.weight(l).map_err(gevb)?.as_tensor().clone(),
            ))
        })
        .collect()
}

fn check_probe(probe: &Tensor, d: usize) -> Result<()> {
    match probe.dims() {
        [n, w] if *n > 0 && *w == d => Ok(()),
        got => Err(DaleError::Shape {
            what: "probe inputs of the GEVB network".into(),
            expected: format!("[n ≥ 1, {d}]"),
            got: got.to_vec(),
        }),
    }
}

/// The report of a vectorized network: [`vec_fc_synapses`] and each hidden layer's activity
/// on `probe` (`[n, d]` f32, as the network takes it), flattened to `[n, K·n_ℓ]`, zero below
/// `tol`. The network's name in the report is `vec-fc+` or `vec-fc`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_studies::clark2021_gevb::{VecFc, VecFcConfig};
/// use neurogen_studies::cornford2021_dale::gevb_report::vec_fc_plausibility_report;
/// let cfg = VecFcConfig { classes: 2, input_dim: 5, hidden: vec![4, 4], mono: true };
/// let net = VecFc::new(&cfg, 1, &Device::Cpu)?;
/// let probe = Tensor::rand(0f32, 1f32, (8, 5), &Device::Cpu)?;
/// let r = vec_fc_plausibility_report(&net, &probe, 0.0)?;
/// assert_eq!((r.synapses.len(), r.activity.len()), (3, 2));
/// assert_eq!(r.synapses[1].dale.fraction, Some(1.0)); // "+": fc1 ≥ 0
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn vec_fc_plausibility_report(
    net: &VecFc,
    probe: &Tensor,
    tol: f64,
) -> Result<PlausibilityReport> {
    check_probe(probe, net.config().input_dim)?;
    let fwd = net.forward(probe).map_err(gevb)?;
    let hidden = fwd.inputs[1..]
        .iter()
        .map(|h| Ok(h.flatten_from(1)?))
        .collect::<Result<Vec<_>>>()?;
    let name = if net.config().mono {
        "vec-fc+"
    } else {
        "vec-fc"
    };
    plausibility_report(name, &vec_fc_synapses(net)?, &hidden, tol)
}

/// The report of a conventional network: [`fc_synapses`] and each `aReLU` hidden layer's
/// activity on `probe` (`[n, d]` f32), zero below `tol`. Named `fc+` or `fc`.
pub fn fc_plausibility_report(net: &Fc, probe: &Tensor, tol: f64) -> Result<PlausibilityReport> {
    check_probe(probe, net.config().input_dim)?;
    let fwd = net.forward(probe).map_err(gevb)?;
    let name = if net.config().mono { "fc+" } else { "fc" };
    plausibility_report(name, &fc_synapses(net)?, &fwd.inputs[1..], tol)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clark2021_gevb::{paper_adam, FcConfig, Rule, RuleTrainer, VecFcConfig};
    use candle_core::{DType, Device};

    fn data(n: usize, d: usize, k: u32) -> (Tensor, Tensor) {
        let x = (Tensor::arange(0u32, (n * d) as u32, &Device::Cpu)
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap()
            * 0.37)
            .unwrap()
            .sin()
            .unwrap()
            .abs()
            .unwrap()
            .reshape((n, d))
            .unwrap();
        let y: Vec<u32> = (0..n as u32).map(|i| i % k).collect();
        (x, Tensor::from_vec(y, n, &Device::Cpu).unwrap())
    }

    fn dale(r: &PlausibilityReport, name: &str) -> Option<f64> {
        r.synapses
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .dale
            .fraction
    }

    /// A "+" VecFc trained by GEVB for a few steps: every layer past the first is
    /// Dale-compliant (all weights ≥ 0, every unit excitatory), the first (signed) is not,
    /// and its K blocks enter as one `[K·n, d]` matrix; a plain network's later layers are
    /// not compliant.
    #[test]
    fn a_plus_vec_fc_is_dale_compliant_past_its_first_layer() {
        let cfg = VecFcConfig {
            classes: 4,
            input_dim: 12,
            hidden: vec![16, 8],
            mono: true,
        };
        let (x, y) = data(32, 12, 4);
        let mut t = RuleTrainer::new(
            VecFc::new(&cfg, 3, &Device::Cpu).unwrap(),
            Rule::Gevb,
            paper_adam(),
        )
        .unwrap();
        for _ in 0..5 {
            t.step(&x, &y).unwrap();
        }
        let r = vec_fc_plausibility_report(t.net(), &x, 0.0).unwrap();
        assert_eq!(r.network, "vec-fc+");
        assert_eq!(r.synapses[0].shape, [4 * 16, 12]);
        assert_eq!(dale(&r, "fc1"), Some(1.0));
        assert_eq!(dale(&r, "fc2"), Some(1.0));
        let s = &r.synapses[1].dale;
        assert_eq!(s.excitatory + s.silent, s.n_units);
        assert!(dale(&r, "fc0").unwrap() < 0.5, "{:?}", r.synapses[0].dale);
        assert_eq!(r.activity.len(), 2);
        assert_eq!(r.activity[0].sparsity.n_units, 4 * 16);

        let plain = VecFc::new(
            &VecFcConfig {
                mono: false,
                ..cfg.clone()
            },
            3,
            &Device::Cpu,
        )
        .unwrap();
        let r = vec_fc_plausibility_report(&plain, &x, 0.0).unwrap();
        assert_eq!(r.network, "vec-fc");
        assert!(dale(&r, "fc1").unwrap() < 0.5, "{:?}", r.synapses[1].dale);
    }

    /// The conventional "+" network likewise: layers past the first ≥ 0.
    #[test]
    fn a_plus_fc_is_dale_compliant_past_its_first_layer() {
        let cfg = FcConfig {
            classes: 4,
            input_dim: 12,
            hidden: vec![16, 8],
            mono: true,
        };
        let net = Fc::new(&cfg, 5, &Device::Cpu).unwrap();
        let (x, _) = data(16, 12, 4);
        let r = fc_plausibility_report(&net, &x, 0.0).unwrap();
        assert_eq!(r.network, "fc+");
        let shapes: Vec<_> = r.synapses.iter().map(|s| s.shape).collect();
        assert_eq!(shapes, [[16, 12], [8, 16], [4, 8]]);
        assert_eq!(dale(&r, "fc1"), Some(1.0));
        assert_eq!(dale(&r, "fc2"), Some(1.0));
        assert!(dale(&r, "fc0").unwrap() < 0.5);
    }

    /// A probe of the wrong width is a shape error naming the probe, not a panic.
    #[test]
    fn a_probe_of_the_wrong_width_is_refused() {
        let cfg = VecFcConfig {
            classes: 2,
            input_dim: 6,
            hidden: vec![4],
            mono: true,
        };
        let net = VecFc::new(&cfg, 0, &Device::Cpu).unwrap();
        let (x, _) = data(4, 5, 2);
        let e = vec_fc_plausibility_report(&net, &x, 0.0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("probe inputs") && e.contains("[n ≥ 1, 6]"),
            "{e}"
        );
        let fc = Fc::new(
            &FcConfig {
                classes: 2,
                input_dim: 6,
                hidden: vec![4],
                mono: false,
            },
            0,
            &Device::Cpu,
        )
        .unwrap();
        assert!(fc_plausibility_report(&fc, &x, 0.0).is_err());
    }
}
