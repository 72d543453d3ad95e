//! The biological-plausibility report of a network, from its weights and activations alone,
//! so that any network of the workspace can produce one: for each synaptic matrix, Dale
//! compliance, weight sparsity, a histogram and maximum-likelihood fits of the weight
//! *magnitudes* (`|w|` of the weights above `tol`: normal vs log-normal vs exponential, AIC and
//! KS; `neurogen_analysis::plausibility`); for each hidden layer, activity sparsity; and, when
//! the caller measured them, FGSM and PGD accuracy against `ε` ([`super::fgsm`](mod@super::fgsm),
//! [`super::pgd`](mod@super::pgd)) and
//! few-shot accuracy against `k` ([`super::few_shot`]). The report serialises to JSON.
use std::path::Path;

use candle_core::{DType, Tensor};
use neurogen_analysis::plausibility::{
    activity_sparsity, dale_compliance, fit_families, histogram, weight_sparsity, ActivitySparsity,
    DaleCompliance, FitSummary, Histogram, OutgoingAxis, WeightSparsity,
};
use serde::Serialize;

use super::error::{DaleError, Result};
use super::few_shot::FewShotPoint;
use super::fgsm::FgsmPoint;
use super::net::DaleNet;

/// Bins of each weight histogram.
pub const HISTOGRAM_BINS: usize = 50;

/// One synaptic matrix's measures.
#[derive(Debug, Clone, Serialize)]
pub struct SynapseReport {
    /// The matrix's name (e.g. `fc0.E<-x`).
    pub name: String,
    /// `[out, in]`; presynaptic units are the columns.
    pub shape: [usize; 2],
    /// Fraction of presynaptic units whose outgoing weights share one sign.
    pub dale: DaleCompliance,
    /// Fraction of (near-)zero weights and Hoyer sparsity.
    pub sparsity: WeightSparsity,
    /// Fits of `|w|` over the weights with `|w| > tol`; `None` with a reason in `fit_note`.
    pub magnitude_fits: Option<FitSummary>,
    /// Why the magnitudes were not fitted, if they were not.
    pub fit_note: Option<String>,
    /// Histogram of the signed weights.
    pub histogram: Histogram,
}

/// One hidden layer's activity sparsity.
#[derive(Debug, Clone, Serialize)]
pub struct LayerActivityReport {
    /// Hidden layer index (0 = first).
    pub layer: usize,
    /// The measures on the probe inputs.
    pub sparsity: ActivitySparsity,
}

/// A network's plausibility report.
#[derive(Debug, Clone, Serialize)]
pub struct PlausibilityReport {
    /// The network's name.
    pub network: String,
    /// The magnitude at or below which weights and activations count as zero.
    pub tol: f64,
    /// Per synaptic matrix.
    pub synapses: Vec<SynapseReport>,
    /// Per hidden layer.
    pub activity: Vec<LayerActivityReport>,
    /// FGSM accuracy against `ε` (empty if not measured).
    pub fgsm: Vec<FgsmPoint>,
    /// PGD accuracy against `ε` ([`super::pgd_curve`]; empty if not measured, and then left
    /// out of the JSON).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pgd: Vec<FgsmPoint>,
    /// Few-shot accuracy against `k` (empty if not measured).
    pub few_shot: Vec<FewShotPoint>,
}

impl PlausibilityReport {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Writes the report as JSON to `path`, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        neurogen_io::write_atomic(path, self.to_json()?.as_bytes())?;
        Ok(())
    }
}

fn to_f64(t: &Tensor) -> Result<Vec<f64>> {
    Ok(t.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?)
}

/// The measures of one signed synaptic matrix `w` (`[out, in]`, presynaptic units in columns).
pub fn synapse_report(name: &str, w: &Tensor, tol: f64) -> Result<SynapseReport> {
    let (rows, cols) = w.dims2().map_err(|_| DaleError::Shape {
        what: format!("synaptic matrix {name}"),
        expected: "[out, in]".into(),
        got: w.dims().to_vec(),
    })?;
    let v = to_f64(w)?;
    let dale = dale_compliance(&v, rows, cols, OutgoingAxis::Columns, tol)?;
    let sparsity = weight_sparsity(&v, tol)?;
    let magnitudes: Vec<f64> = v.iter().map(|x| x.abs()).filter(|&m| m > tol).collect();
    let (magnitude_fits, fit_note) = match fit_families(&magnitudes) {
        Ok(f) => (Some(f), None),
        Err(e) => (None, Some(format!("magnitudes not fitted: {e}"))),
    };
    Ok(SynapseReport {
        name: name.into(),
        shape: [rows, cols],
        dale,
        sparsity,
        magnitude_fits,
        fit_note,
        histogram: histogram(&v, HISTOGRAM_BINS)?,
    })
}

/// A convolution's weight `[out, in, kh, kw]` as a synaptic matrix `[out·kh·kw, in]`: column
/// `c` holds every weight through which input channel `c` acts, so Dale compliance counts input
/// channels as the presynaptic units (the paper's CNN, with the same measures as a dense layer).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_studies::cornford2021_dale::conv_as_synapses;
/// let w = Tensor::zeros((8, 3, 5, 5), candle_core::DType::F32, &Device::Cpu).unwrap();
/// assert_eq!(conv_as_synapses(&w).unwrap().dims(), &[200, 3]);
/// ```
pub fn conv_as_synapses(w: &Tensor) -> Result<Tensor> {
    let (out, inp, kh, kw) = w.dims4().map_err(|_| DaleError::Shape {
        what: "convolution weight".into(),
        expected: "[out, in, kh, kw]".into(),
        got: w.dims().to_vec(),
    })?;
    Ok(w.permute((0, 2, 3, 1))?
        .contiguous()?
        .reshape((out * kh * kw, inp))?)
}

/// The report of any network given its named synaptic matrices (`[out, in]`, signed) and its
/// hidden activations on probe inputs (`[n, width]` each); FGSM and few-shot results are
/// left empty for the caller to fill. A convolution enters through [`conv_as_synapses`]; a
/// convolutional layer's activations `[n, C, H, W]` enter flattened to `[n, C·H·W]`.
pub fn plausibility_report(
    network: &str,
    synapses: &[(String, Tensor)],
    hidden: &[Tensor],
    tol: f64,
) -> Result<PlausibilityReport> {
    let synapses = synapses
        .iter()
        .map(|(name, w)| synapse_report(name, w, tol))
        .collect::<Result<Vec<_>>>()?;
    let mut activity = Vec::with_capacity(hidden.len());
    for (layer, h) in hidden.iter().enumerate() {
        let (_, width) = h.dims2().map_err(|_| DaleError::Shape {
            what: format!("hidden activations of layer {layer}"),
            expected: "[n, width]".into(),
            got: h.dims().to_vec(),
        })?;
        activity.push(LayerActivityReport {
            layer,
            sparsity: activity_sparsity(&to_f64(h)?, width, tol)?,
        });
    }
    Ok(PlausibilityReport {
        network: network.into(),
        tol,
        synapses,
        activity,
        fgsm: Vec::new(),
        pgd: Vec::new(),
        few_shot: Vec::new(),
    })
}

/// The report of one network of the paper's CNN ([`neurogen_model::Cnn`] with one replica, e.g.
/// a checkpoint of figs 2–5 loaded by `neurogen_model::checkpoint::load`): every weight matrix
/// (the convolutions `conv1`… through [`conv_as_synapses`], `fcs.*` and `fc3` as they are,
/// named as in the checkpoint without `.weight`) and each fully connected hidden layer's
/// activations on every image of `probe` (evaluation mode, no hooks, minibatches of
/// `batch_size`), zero below `tol`. `cargo xtask plausibility` runs it on a checkpoint.
///
/// ```
/// use candle_core::Device;
/// use neurogen_data::{ImageShape, Split};
/// use neurogen_model::{Cnn, ModelConfig};
/// use neurogen_studies::cornford2021_dale::cnn_plausibility_report;
///
/// let cfg = ModelConfig {
///     in_channels: 1,
///     in_height: 8,
///     in_width: 8,
///     conv_channels: vec![2, 2],
///     hidden_sizes: vec![6, 5],
///     num_classes: 3,
/// };
/// let model = Cnn::new(&cfg, 0, &Device::Cpu).unwrap();
/// let shape = ImageShape { channels: 1, height: 8, width: 8 };
/// let images: Vec<u8> = (0..4 * 64).map(|i| (i * 37 % 256) as u8).collect();
/// let probe = Split::new(shape, images, vec![0, 1, 2, 0]).unwrap();
/// let r = cnn_plausibility_report(&model, &probe, 2, 0.0).unwrap();
/// let names: Vec<&str> = r.synapses.iter().map(|s| s.name.as_str()).collect();
/// assert_eq!(names, ["conv1", "conv2", "fcs.0", "fcs.1", "fc3"]);
/// assert_eq!(r.synapses[0].shape, [2 * 3 * 3, 1]); // each kernel position a unit
/// assert_eq!(r.activity.len(), 2);
/// ```
pub fn cnn_plausibility_report(
    model: &neurogen_model::Cnn,
    probe: &neurogen_data::Split,
    batch_size: usize,
    tol: f64,
) -> Result<PlausibilityReport> {
    if model.replicas() != 1 {
        return Err(DaleError::InvalidArgument(format!(
            "the plausibility report takes one network, this model has {} replicas",
            model.replicas()
        )));
    }
    if probe.is_empty() {
        return Err(DaleError::InvalidArgument(
            "the probe split is empty: the activity measures need at least one image".into(),
        ));
    }
    let mut synapses = Vec::new();
    for (name, var) in model.named_params() {
        let Some(stem) = name.strip_suffix(".weight") else {
            continue;
        };
        let w = var.as_tensor().get(0)?;
        let w = match w.rank() {
            4 => conv_as_synapses(&w)?,
            2 => w,
            _ => {
                return Err(DaleError::Shape {
                    what: format!("weight {name}"),
                    expected: "[out, in] or [out, in, kh, kw]".into(),
                    got: w.dims().to_vec(),
                })
            }
        };
        synapses.push((stem.to_string(), w));
    }
    let device = model.device().clone();
    let mut hidden = Vec::new();
    for (layer, &width) in model.config().hidden_sizes.iter().enumerate() {
        let rows =
            neurogen_model::eval::hidden_activations(model, probe, layer, batch_size.max(1))?;
        hidden.push(Tensor::from_vec(rows, (probe.len(), width), &device)?);
    }
    plausibility_report("paper-cnn", &synapses, &hidden, tol)
}

impl DaleNet {
    /// This network's report: its synapses ([`DaleNet::synapses`]) and its hidden activations
    /// on `probe` (`[n, n_input]`), zero below `tol`.
    pub fn plausibility_report(&self, probe: &Tensor, tol: f64) -> Result<PlausibilityReport> {
        let hidden = self.forward(probe)?.hidden;
        plausibility_report(self.config().kind.name(), &self.synapses()?, &hidden, tol)
    }
}
