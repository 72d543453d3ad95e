//! The study's networks: a stack of layers of one kind (DANN, ColumnEI or MLP) with ReLU
//! between them and a linear read-out, built as `build_densenet` / `build_model` in the
//! authors' `run_exp.py` build them.
//!
//! | kind | hidden layer | output layer | lr (paper, MNIST) |
//! |---|---|---|---|
//! | MLP | 500 units | 10 | 0.2976 |
//! | DANN | 500 E + 50 I (only E project on) | 10 E + 1 I | 0.1107 (corrected SGD) |
//! | ColumnEI | 550 units = 500 E + 50 I | 10 | 0.05273 |
//!
//! Three hidden layers, batch 32, 50 epochs, inputs in `[0, 1]` (pixels / 255), mean
//! cross-entropy. The settings are the paper's and the code's (`exp_configs/test_mnist_*.yaml`).
use candle_core::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::column_ei::ColumnEiLayer;
use super::dann::DannLayer;
use super::error::{DaleError, Result};
use super::layer::Layer;
use super::mlp::DenseLayer;

/// The batch size of all the paper's runs.
pub const PAPER_BATCH_SIZE: usize = 32;

/// The mean pixel of Fashion-MNIST's training images in `[0, 1]`, as the authors' code uses it
/// for ColumnEI's first-layer bias.
pub const FASHION_MNIST_PIXEL_MEAN: f64 = 0.2860;

/// The learning rate of the paper's DANN without the corrected-SGD scaling
/// (`exp_configs/test_mnist_DANN_no_correction.yaml`; set [`NetConfig::corrected_sgd`] false).
pub const DANN_NO_CORRECTION_LR: f64 = 0.003981;

/// The mean pixel of MNIST's training images in `[0, 1]` (the code's value).
pub const MNIST_PIXEL_MEAN: f64 = 0.1307;

/// The mean pixel of CIFAR-10's training images in `[0, 1]` over the three channels (ours:
/// the mean of the usual per-channel means 0.4914, 0.4822, 0.4465), for ColumnEI's first-layer
/// bias on colour images flattened to 3,072 inputs.
pub const CIFAR10_PIXEL_MEAN: f64 = 0.4734;

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetKind {
    /// Unconstrained multilayer perceptron.
    Mlp,
    /// Dale's ANN (excitatory units with feed-forward inhibitory interneurons).
    Dann,
    /// Sign-constrained columns (`W = W₊·D`).
    ColumnEi,
}

impl NetKind {
    /// All three kinds.
    pub const ALL: [NetKind; 3] = [NetKind::Mlp, NetKind::Dann, NetKind::ColumnEi];

    /// The paper's learning rate for this kind (MNIST, chosen by the authors' search).
    pub fn paper_lr(self) -> f64 {
        match self {
            NetKind::Mlp => 0.2976,
            NetKind::Dann => 0.1107,
            NetKind::ColumnEi => 0.05273,
        }
    }

    /// The kind's name (`mlp`, `dann`, `column_ei`).
    pub fn name(self) -> &'static str {
        match self {
            NetKind::Mlp => "mlp",
            NetKind::Dann => "dann",
            NetKind::ColumnEi => "column_ei",
        }
    }
}

/// A network's shape and initialisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    /// Which network.
    pub kind: NetKind,
    /// Input width (784 for 28×28 images).
    pub n_input: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Number of hidden layers (paper: 3).
    pub hidden_layers: usize,
    /// Excitatory units per hidden layer (paper: 500; the MLP's width).
    pub ne: usize,
    /// Inhibitory units per hidden layer (paper: 50; ColumnEI's hidden width is `ne + ni` at
    /// ratio `ne / ni`).
    pub ni: usize,
    /// DANN only: the corrected-SGD gradient scaling (paper: on).
    pub corrected_sgd: bool,
    /// ColumnEI only: the dataset's mean pixel in `[0, 1]`, for the first layer's bias.
    pub pixel_mean: f64,
    /// Seed of the initialisation.
    pub seed: u64,
}

impl NetConfig {
    /// The paper's network of `kind` for 28×28 Fashion-MNIST images (3 hidden layers of
    /// 500 E + 50 I).
    pub fn paper(kind: NetKind, seed: u64) -> Self {
        NetConfig {
            kind,
            n_input: 784,
            n_classes: 10,
            hidden_layers: 3,
            ne: 500,
            ni: 50,
            corrected_sgd: true,
            pixel_mean: FASHION_MNIST_PIXEL_MEAN,
            seed,
        }
    }
}

/// A network of one kind.
pub struct DaleNet {
    config: NetConfig,
    layers: Vec<Box<dyn Layer>>,
}

impl std::fmt::Debug for DaleNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let widths: Vec<(usize, usize)> = self
            .layers
            .iter()
            .map(|l| (l.n_input(), l.n_output()))
            .collect();
        f.debug_struct("DaleNet")
            .field("config", &self.config)
            .field("layers", &widths)
            .finish()
    }
}

/// What a forward pass computed: the logits and each hidden layer's activations.
#[derive(Debug, Clone)]
pub struct Forward {
    /// `[batch, n_classes]`.
    pub logits: Tensor,
    /// `h = relu(z)` of each hidden layer, `[batch, width]`.
    pub hidden: Vec<Tensor>,
}

impl DaleNet {
    /// Builds and initialises the network `config` describes (seeded ChaCha8 draws).
    ///
    /// ```
    /// use neurogen_studies::cornford2021_dale::{DaleNet, NetConfig, NetKind};
    /// let cfg = NetConfig { n_input: 4, n_classes: 3, ne: 10, ni: 1, hidden_layers: 2,
    ///                       ..NetConfig::paper(NetKind::Dann, 0) };
    /// let net = DaleNet::new(&cfg, &candle_core::Device::Cpu).unwrap();
    /// let x = candle_core::Tensor::ones((5, 4), candle_core::DType::F32, &candle_core::Device::Cpu).unwrap();
    /// assert_eq!(net.forward(&x).unwrap().logits.dims(), &[5, 3]);
    /// ```
    pub fn new(config: &NetConfig, device: &Device) -> Result<Self> {
        let c = config;
        if c.n_input == 0 || c.n_classes < 2 || c.ne == 0 {
            return Err(DaleError::InvalidArgument(format!(
                "network needs n_input >= 1, n_classes >= 2, ne >= 1 (got {}, {}, {})",
                c.n_input, c.n_classes, c.ne
            )));
        }
        if c.kind != NetKind::Mlp && c.ni == 0 {
            return Err(DaleError::InvalidArgument(format!(
                "{} needs ni >= 1 inhibitory units per layer",
                c.kind.name()
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(c.seed);
        let mut layers: Vec<Box<dyn Layer>> = Vec::new();
        let mut n_in = c.n_input;
        for l in 0..=c.hidden_layers {
            let last = l == c.hidden_layers;
            let first = l == 0;
            let layer: Box<dyn Layer> = match c.kind {
                NetKind::Mlp => {
                    let out = if last { c.n_classes } else { c.ne };
                    Box::new(DenseLayer::init(n_in, out, first, &mut rng, device)?)
                }
                NetKind::Dann => {
                    // The output layer always has one inhibitory unit (run_exp.py).
                    let (ne, ni) = if last { (c.n_classes, 1) } else { (c.ne, c.ni) };
                    Box::new(DannLayer::init(
                        n_in,
                        ne,
                        ni,
                        first,
                        c.corrected_sgd,
                        &mut rng,
                        device,
                    )?)
                }
                NetKind::ColumnEi => {
                    if c.ne % c.ni != 0 {
                        return Err(DaleError::InvalidArgument(format!(
                            "ColumnEI needs ne divisible by ni for its E:I ratio (got {} and {})",
                            c.ne, c.ni
                        )));
                    }
                    let out = if last { c.n_classes } else { c.ne + c.ni };
                    if first {
                        Box::new(ColumnEiLayer::init_first(
                            n_in,
                            out,
                            c.pixel_mean,
                            &mut rng,
                            device,
                        )?)
                    } else {
                        Box::new(ColumnEiLayer::init(
                            n_in,
                            out,
                            c.ne / c.ni,
                            &mut rng,
                            device,
                        )?)
                    }
                }
            };
            n_in = layer.n_output();
            layers.push(layer);
        }
        Ok(DaleNet {
            config: config.clone(),
            layers,
        })
    }

    /// The network's configuration.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// The layers, input first; the last is the linear read-out.
    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    /// Forward pass of `x` (`[batch, n_input]`, f32): ReLU after every layer but the last.
    pub fn forward(&self, x: &Tensor) -> Result<Forward> {
        let mut h = x.clone();
        let mut hidden = Vec::with_capacity(self.layers.len() - 1);
        for (i, layer) in self.layers.iter().enumerate() {
            let z = layer.forward(&h)?;
            if i + 1 == self.layers.len() {
                return Ok(Forward { logits: z, hidden });
            }
            h = z.relu()?;
            hidden.push(h.clone());
        }
        unreachable!("a network has at least one layer")
    }

    /// Named synaptic matrices of every layer (`fc{i}.{population}`), `out × in`, signed.
    pub fn synapses(&self) -> Result<Vec<(String, Tensor)>> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            for (name, w) in layer.synapses()? {
                out.push((format!("fc{i}.{name}"), w));
            }
        }
        Ok(out)
    }
}
