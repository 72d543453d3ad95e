//! The conventional convolutional network of the baselines (the authors'
//! `nonvec_models.make_*_nonvec_conv`), trained by DFA or backprop.
//!
//! Convolution → `aReLU` (alternating signs over channels, `t = −1, +1, −1, ...`) → optional
//! average pooling, then flattening in PyTorch's `(c, y, x)` order (`nn.Flatten`), gated FC
//! layers and a K-unit output. Initialisation is the authors' `init_conv` / `init_linear`
//! (plain or "+", biases zero). DFA projects the output error through one fixed random matrix
//! `F` (`[K, max size]`, the largest hidden layer's `C·H·W` or width) onto every hidden layer
//! (a convolution's error is the first `O·H'·W'` columns, reshaped to its feature map, before
//! pooling), as TinyDFA's hooks after each `aReLU` do. Quirk kept from the code: in a "+"
//! network the first FC layer's ON/OFF-paired columns pair neighbouring positions of one
//! channel (the flattening is `(c, y, x)`), not ON/OFF channels as in Conv-Vec.
use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::conv::{conv_outer, conv_weight, VecConvConfig, VecConvLayer};
use super::data::check_image_batch;
use super::error::{GevbError, Result};
use super::fc::arelu_layers;
use super::init::{linear_weight, uniform};
use super::rules::{dfa_layers, rule_output, Rule, RuleNetwork, RuleOutput, Updates};

/// The shape of a conventional convolutional network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvNetConfig {
    /// Number of classes (output units).
    pub classes: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// The convolutions (channels even: alternating signs in pairs), each with its pooling.
    pub convs: Vec<VecConvLayer>,
    /// Widths of the FC hidden layers after flattening.
    pub hidden: Vec<usize>,
    /// "+" network: weights past the first layer start and stay ≥ 0, DFA's feedback is ≥ 0.
    pub mono: bool,
}

impl ConvNetConfig {
    /// The authors' MNIST Conv (`make_mnist_nonvec_conv`): the shapes of
    /// [`VecConvConfig::mnist`] with K output units.
    pub fn mnist(mono: bool) -> Self {
        Self::like(&VecConvConfig::mnist(mono))
    }

    /// The authors' CIFAR-10 Conv (`make_cifar_nonvec_conv`).
    pub fn cifar10(mono: bool) -> Self {
        Self::like(&VecConvConfig::cifar10(mono))
    }

    /// The conventional network of a Conv-Vec network's shapes.
    pub fn like(v: &VecConvConfig) -> Self {
        ConvNetConfig {
            classes: v.classes,
            in_channels: v.in_channels,
            height: v.height,
            width: v.width,
            convs: v.convs.clone(),
            hidden: v.hidden.clone(),
            mono: v.mono,
        }
    }

    fn as_vec(&self) -> VecConvConfig {
        VecConvConfig {
            classes: self.classes,
            in_channels: self.in_channels,
            height: self.height,
            width: self.width,
            convs: self.convs.clone(),
            hidden: self.hidden.clone(),
            mono: self.mono,
        }
    }

    /// Checks the shapes as [`VecConvConfig`] does (the output width K must also be even in
    /// a "+" network).
    pub fn validate(&self) -> Result<()> {
        super::FcConfig {
            classes: self.classes,
            input_dim: self.as_vec().flat_dim()?,
            hidden: self.hidden.clone(),
            mono: self.mono,
        }
        .validate()
    }
}

/// What a forward pass of the conventional CNN saw.
#[derive(Debug, Clone)]
pub struct ConvNetForward {
    /// `[B, K]` logits.
    pub logits: Tensor,
    /// Input of each convolution, `[B, C, H, W]`.
    pub conv_inputs: Vec<Tensor>,
    /// `aReLU` mask of each convolution, `[B, O, H', W']` (before pooling).
    pub conv_masks: Vec<Tensor>,
    /// Input of each FC layer, `[B, n]`.
    pub fc_inputs: Vec<Tensor>,
    /// `aReLU` mask of each hidden FC layer, `[B, n]`.
    pub fc_masks: Vec<Tensor>,
}

/// A conventional CNN with `aReLU` units and DFA's fixed feedback matrix.
///
/// Parameters: `convℓ.weight` `[O, C, k, k]`, `convℓ.bias` `[O]`, then `fcℓ.weight`
/// `[n_ℓ, n_{ℓ−1}]`, `fcℓ.bias` `[n_ℓ]` (the last is the `[K, n]` output layer).
#[derive(Debug, Clone)]
pub struct ConvNet {
    config: ConvNetConfig,
    conv_w: Vec<Var>,
    conv_b: Vec<Var>,
    conv_t: Vec<Tensor>,
    fc_w: Vec<Var>,
    fc_b: Vec<Var>,
    fc_t: Vec<Tensor>,
    feedback: Tensor,
}

fn alternating(n: usize, device: &Device) -> Result<Tensor> {
    let t: Vec<f32> = (0..n)
        .map(|i| if i % 2 == 0 { -1.0 } else { 1.0 })
        .collect();
    Ok(Tensor::from_vec(t, n, device)?)
}

impl ConvNet {
    /// A network with the authors' initialisation and the feedback matrix (`U[0, 1)` in a
    /// "+" network, `U[−1, 1)` otherwise), seeded.
    pub fn new(config: &ConvNetConfig, seed: u64, device: &Device) -> Result<Self> {
        config.validate()?;
        let shapes = config.as_vec().shapes()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut conv_w, mut conv_b, mut conv_t) = (Vec::new(), Vec::new(), Vec::new());
        let mut sizes = Vec::new();
        let (mut c_in, mut h, mut w) = (config.in_channels, config.height, config.width);
        for (l, c) in config.convs.iter().enumerate() {
            let kw = conv_weight(&mut rng, c.channels, c_in, c.kernel, l == 0, config.mono)?;
            let t = Tensor::from_vec(kw, (c.channels, c_in, c.kernel, c.kernel), device)?;
            conv_w.push(Var::from_tensor(&t)?);
            conv_b.push(Var::zeros(c.channels, DType::F32, device)?);
            conv_t.push(alternating(c.channels, device)?.reshape((1, c.channels, 1, 1))?);
            h = (h + 2 * c.padding - c.kernel) / c.stride + 1;
            w = (w + 2 * c.padding - c.kernel) / c.stride + 1;
            sizes.push(c.channels * h * w);
            (c_in, h, w) = shapes[l];
        }
        let mut widths = vec![c_in * h * w];
        widths.extend(&config.hidden);
        widths.push(config.classes);
        let (mut fc_w, mut fc_b, mut fc_t) = (Vec::new(), Vec::new(), Vec::new());
        for l in 1..widths.len() {
            let (out, inp) = (widths[l], widths[l - 1]);
            let wv = linear_weight(&mut rng, out, inp, false, config.mono)?;
            fc_w.push(Var::from_tensor(&Tensor::from_vec(
                wv,
                (out, inp),
                device,
            )?)?);
            fc_b.push(Var::zeros(out, DType::F32, device)?);
            if l < widths.len() - 1 {
                fc_t.push(alternating(out, device)?);
                sizes.push(out);
            }
        }
        let widest = sizes.iter().copied().max().unwrap_or(1);
        let lo = if config.mono { 0.0 } else { -1.0 };
        let fb = uniform(&mut rng, config.classes * widest, lo, 1.0)?;
        Ok(ConvNet {
            config: config.clone(),
            conv_w,
            conv_b,
            conv_t,
            fc_w,
            fc_b,
            fc_t,
            feedback: Tensor::from_vec(fb, (config.classes, widest), device)?,
        })
    }

    /// The network's shape.
    pub fn config(&self) -> &ConvNetConfig {
        &self.config
    }

    /// DFA's fixed feedback matrix `[K, max size]`.
    pub fn feedback(&self) -> &Tensor {
        &self.feedback
    }

    /// Convolution `ℓ`'s kernel.
    pub fn conv_weight(&self, l: usize) -> Result<&Var> {
        self.conv_w.get(l).ok_or_else(|| {
            GevbError::Config(format!(
                "convolution {l} does not exist (the network has {})",
                self.conv_w.len()
            ))
        })
    }

    /// Parameters with their names, in the order of the type's documentation.
    pub fn named_params(&self) -> Vec<(String, Var)> {
        let mut v = Vec::new();
        for (l, (w, b)) in self.conv_w.iter().zip(&self.conv_b).enumerate() {
            v.push((format!("conv{l}.weight"), w.clone()));
            v.push((format!("conv{l}.bias"), b.clone()));
        }
        for (l, (w, b)) in self.fc_w.iter().zip(&self.fc_b).enumerate() {
            v.push((format!("fc{l}.weight"), w.clone()));
            v.push((format!("fc{l}.bias"), b.clone()));
        }
        v
    }

    /// The forward pass on `[B, C, H, W]` f32 images (checked).
    pub fn forward(&self, x: &Tensor) -> Result<ConvNetForward> {
        let cfg = &self.config;
        let dims = x.dims();
        if dims.len() != 4
            || dims[1..] != [cfg.in_channels, cfg.height, cfg.width]
            || dims[0] == 0
            || x.dtype() != DType::F32
        {
            return Err(GevbError::Shape(format!(
                "images must be f32 [batch ≥ 1, {}, {}, {}], got {:?} {dims:?}",
                cfg.in_channels,
                cfg.height,
                cfg.width,
                x.dtype()
            )));
        }
        let b = dims[0];
        let (mut conv_inputs, mut conv_masks) = (Vec::new(), Vec::new());
        let mut h = x.clone();
        for (l, c) in cfg.convs.iter().enumerate() {
            conv_inputs.push(h.clone());
            let o = c.channels;
            let z = h
                .conv2d(self.conv_w[l].as_tensor(), c.padding, c.stride, 1, 1)?
                .broadcast_add(&self.conv_b[l].as_tensor().reshape((1, o, 1, 1))?)?;
            let m = z
                .detach()
                .broadcast_mul(&self.conv_t[l])?
                .ge(0f64)?
                .to_dtype(DType::F32)?;
            let mut a = (z * &m)?;
            if c.pool > 1 {
                a = a.avg_pool2d(c.pool)?;
            }
            conv_masks.push(m);
            h = a;
        }
        let tail = arelu_layers(h.reshape((b, ()))?, &self.fc_w, &self.fc_b, &self.fc_t)?;
        Ok(ConvNetForward {
            logits: tail.logits,
            conv_inputs,
            conv_masks,
            fc_inputs: tail.inputs,
            fc_masks: tail.gates,
        })
    }

    /// The "+" constraint: `clamp(W, min = 0)` past the first convolution; nothing otherwise.
    pub fn clamp(&self) -> Result<()> {
        if self.config.mono {
            for w in self.conv_w[1..].iter().chain(&self.fc_w) {
                w.set(&w.as_tensor().relu()?)?;
            }
        }
        Ok(())
    }
}

/// DFA's updates of a conventional CNN from a forward pass and the output error `e`.
pub fn dfa_conv_updates(net: &ConvNet, fwd: &ConvNetForward, e: &Tensor) -> Result<Updates> {
    let b = e.dim(0)?;
    let inv_b = 1.0 / b as f64;
    let project = |n: usize| -> Result<Tensor> { Ok(e.matmul(&net.feedback.narrow(1, 0, n)?)?) };
    let mut pairs = Vec::new();
    for (l, c) in net.config.convs.iter().enumerate() {
        let m = &fwd.conv_masks[l];
        let (_, o, ho, wo) = m.dims4()?;
        let delta = (project(o * ho * wo)?.reshape((b, o, ho, wo))? * m)?;
        let dw = (conv_outer(&fwd.conv_inputs[l], &delta, c.kernel, c.padding, c.stride)? * inv_b)?;
        pairs.push((format!("conv{l}.weight"), dw));
        pairs.push((format!("conv{l}.bias"), (delta.sum((0, 2, 3))? * inv_b)?));
    }
    dfa_layers(e, &net.feedback, &fwd.fc_inputs, &fwd.fc_masks, &mut pairs)?;
    Updates::new(pairs)
}

impl RuleNetwork for ConvNet {
    fn rules(&self) -> &'static [Rule] {
        &[Rule::Backprop, Rule::Dfa]
    }

    fn classes(&self) -> usize {
        self.config.classes
    }

    fn named_params(&self) -> Vec<(String, Var)> {
        ConvNet::named_params(self)
    }

    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward(x)?.logits)
    }

    fn check_batch(&self, x: &Tensor, y: &Tensor) -> Result<Vec<u32>> {
        let c = &self.config;
        check_image_batch(x, y, [c.in_channels, c.height, c.width], c.classes)
    }

    fn updates(&self, rule: Rule, x: &Tensor, y: &Tensor) -> Result<RuleOutput> {
        rule_output(
            self,
            "conventional convolutional network",
            rule,
            (x, y),
            |x| {
                self.forward(x).map(|f| {
                    let l = f.logits.clone();
                    (f, l)
                })
            },
            |fwd, e| dfa_conv_updates(self, fwd, e),
        )
    }

    fn after_step(&self) -> Result<()> {
        self.clamp()
    }
}
