//! The paper's CNN (Tran et al. 2022, reference `NgnCnn`): six 3x3 convolutions with ReLU and a
//! 2x2 max-pool after every second one, hidden fully connected layers with ReLU, and a linear
//! output layer without bias.
//!
//! Parameters are named as in the reference PyTorch model (`conv1.weight` … `conv6.bias`,
//! `fcs.0.weight`, `fcs.0.bias`, …, `fc3.weight`) with PyTorch's shapes (`[out, in, kh, kw]`
//! for convolutions, `[out, in]` for linear layers), so checkpoints load into PyTorch.
use candle_core::{DType, Device, Tensor, Var, D};
use rand::SeedableRng;

use crate::config::ModelConfig;
use crate::error::{ModelError, Result};
use crate::init::{default_bound, uniform};
use crate::kernels;
use crate::regularizer::{ForwardCtx, NoRegularizer, Regularizer};

/// A weight and an optional bias.
#[derive(Debug, Clone)]
struct Layer {
    weight: Var,
    bias: Option<Var>,
}

/// The output of a forward pass.
#[derive(Debug, Clone)]
pub struct ForwardOutput {
    /// Class scores (logits), `[batch, num_classes]`.
    pub logits: Tensor,
    /// Each hidden layer's activations after all hooks, `[batch, width]`.
    pub hidden: Vec<Tensor>,
}

/// The network: parameters as candle [`Var`]s, on one device.
#[derive(Debug, Clone)]
pub struct Cnn {
    config: ModelConfig,
    device: Device,
    dtype: DType,
    convs: Vec<Layer>,
    fcs: Vec<Layer>,
    out: Layer,
}

impl Cnn {
    /// Builds the network with PyTorch's default initialisation drawn from `seed`, in f32.
    ///
    /// ```
    /// use candle_core::{Device, Tensor};
    /// use neurogen_model::{Cnn, ModelConfig};
    /// let model = Cnn::new(&ModelConfig::cifar10(), 0, &Device::Cpu)?;
    /// let x = Tensor::zeros((2, 3, 32, 32), candle_core::DType::F32, &Device::Cpu)?;
    /// let logits = model.predict(&x)?;
    /// assert_eq!(logits.dims(), &[2, 10]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: &ModelConfig, seed: u64, device: &Device) -> Result<Self> {
        Self::new_with_dtype(config, seed, device, DType::F32)
    }

    /// Like [`Cnn::new`] with a chosen floating-point type (f64 for gradient checks).
    pub fn new_with_dtype(
        config: &ModelConfig,
        seed: u64,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        config.validate()?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        // Draw in PyTorch's module order: each layer's weight, then its bias.
        let mut convs = Vec::new();
        let mut c_in = config.in_channels;
        for &c_out in &config.conv_channels {
            let fan_in = c_in * 9;
            let b = default_bound(fan_in);
            let weight = uniform(&mut rng, &[c_out, c_in, 3, 3], b, dtype, device)?;
            let bias = uniform(&mut rng, &[c_out], b, dtype, device)?;
            convs.push(Layer {
                weight: Var::from_tensor(&weight)?,
                bias: Some(Var::from_tensor(&bias)?),
            });
            c_in = c_out;
        }
        let mut fcs = Vec::new();
        let mut fan_in = config.flatten_dim();
        for &width in &config.hidden_sizes {
            fcs.push(Self::fresh_linear(
                &mut rng, fan_in, width, true, dtype, device,
            )?);
            fan_in = width;
        }
        let out = Self::fresh_linear(&mut rng, fan_in, config.num_classes, false, dtype, device)?;
        Ok(Cnn {
            config: config.clone(),
            device: device.clone(),
            dtype,
            convs,
            fcs,
            out,
        })
    }

    fn fresh_linear(
        rng: &mut rand_chacha::ChaCha8Rng,
        fan_in: usize,
        fan_out: usize,
        bias: bool,
        dtype: DType,
        device: &Device,
    ) -> Result<Layer> {
        let b = default_bound(fan_in);
        let weight = Var::from_tensor(&uniform(rng, &[fan_out, fan_in], b, dtype, device)?)?;
        let bias = if bias {
            Some(Var::from_tensor(&uniform(
                rng,
                &[fan_out],
                b,
                dtype,
                device,
            )?)?)
        } else {
            None
        };
        Ok(Layer { weight, bias })
    }

    /// The network's shape (hidden widths follow additive growth).
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The parameters' floating-point type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Number of hidden fully connected layers.
    pub fn num_hidden(&self) -> usize {
        self.fcs.len()
    }

    /// Width of hidden layer `layer`.
    pub fn hidden_width(&self, layer: usize) -> Result<usize> {
        self.check_hidden(layer)?;
        Ok(self.fcs[layer].weight.dim(0)?)
    }

    fn check_hidden(&self, layer: usize) -> Result<()> {
        if layer >= self.fcs.len() {
            return Err(ModelError::Config(format!(
                "hidden layer {layer} does not exist (the network has {} hidden layers, 0..{})",
                self.fcs.len(),
                self.fcs.len()
            )));
        }
        Ok(())
    }

    /// Names of the parameters of hidden layer `layer`: `(incoming weight, bias, outgoing weight)`,
    /// e.g. `("fcs.1.weight", "fcs.1.bias", "fcs.2.weight")`.
    pub fn hidden_param_names(&self, layer: usize) -> Result<(String, String, String)> {
        self.check_hidden(layer)?;
        let next = if layer + 1 < self.fcs.len() {
            format!("fcs.{}.weight", layer + 1)
        } else {
            "fc3.weight".to_string()
        };
        Ok((
            format!("fcs.{layer}.weight"),
            format!("fcs.{layer}.bias"),
            next,
        ))
    }

    /// All parameters in a fixed order (conv1 … conv6, fcs.0 …, fc3), with their PyTorch names.
    pub fn named_params(&self) -> Vec<(String, &Var)> {
        let mut v = Vec::new();
        for (i, l) in self.convs.iter().enumerate() {
            v.push((format!("conv{}.weight", i + 1), &l.weight));
            if let Some(b) = &l.bias {
                v.push((format!("conv{}.bias", i + 1), b));
            }
        }
        for (i, l) in self.fcs.iter().enumerate() {
            v.push((format!("fcs.{i}.weight"), &l.weight));
            if let Some(b) = &l.bias {
                v.push((format!("fcs.{i}.bias"), b));
            }
        }
        v.push(("fc3.weight".to_string(), &self.out.weight));
        v
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Result<&Var> {
        self.named_params()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| ModelError::UnknownParam(name.to_string()))
    }

    fn param_slot(&mut self, name: &str) -> Result<&mut Var> {
        let unknown = || ModelError::UnknownParam(name.to_string());
        let (layer, field) = name.rsplit_once('.').ok_or_else(unknown)?;
        let l: &mut Layer = if let Some(i) = layer.strip_prefix("conv") {
            let i: usize = i.parse().map_err(|_| unknown())?;
            if i == 0 {
                return Err(unknown());
            }
            self.convs.get_mut(i - 1).ok_or_else(unknown)?
        } else if let Some(i) = layer.strip_prefix("fcs.") {
            let i: usize = i.parse().map_err(|_| unknown())?;
            self.fcs.get_mut(i).ok_or_else(unknown)?
        } else if layer == "fc3" {
            &mut self.out
        } else {
            return Err(unknown());
        };
        match field {
            "weight" => Ok(&mut l.weight),
            "bias" => l.bias.as_mut().ok_or_else(unknown),
            _ => Err(unknown()),
        }
    }

    /// Replaces the value of parameter `name`. The shape may change only for the parameters of
    /// hidden layers (additive growth); the network's hidden widths follow the new shapes, and
    /// consistency is checked when all parameters have been replaced (see [`Cnn::check_shapes`]).
    /// A same-shape update keeps the existing [`Var`] (its identity and gradients stay valid).
    pub fn set_param(&mut self, name: &str, value: &Tensor) -> Result<()> {
        let dtype = self.dtype;
        let device = self.device.clone();
        let value = value.to_dtype(dtype)?.to_device(&device)?.detach();
        let var = self.param_slot(name)?;
        if var.shape() == value.shape() {
            var.set(&value)?;
        } else {
            if name.starts_with("conv") {
                return Err(ModelError::Config(format!(
                    "parameter {name} has shape {:?}; convolution shapes cannot change (got {:?})",
                    var.dims(),
                    value.dims()
                )));
            }
            *var = Var::from_tensor(&value)?;
        }
        self.config.hidden_sizes = self
            .fcs
            .iter()
            .map(|l| l.weight.dim(0).unwrap_or(0))
            .collect();
        Ok(())
    }

    /// Checks that every parameter's shape fits its neighbours (after growth or loading).
    pub fn check_shapes(&self) -> Result<()> {
        let mut fan_in = self.config.flatten_dim();
        for (i, l) in self.fcs.iter().enumerate() {
            let (o, inn) = l.weight.dims2()?;
            if inn != fan_in {
                return Err(ModelError::Config(format!(
                    "fcs.{i}.weight has {inn} inputs but the previous layer has {fan_in} units"
                )));
            }
            if let Some(b) = &l.bias {
                if b.dims() != [o] {
                    return Err(ModelError::Config(format!(
                        "fcs.{i}.bias has shape {:?}, expected [{o}]",
                        b.dims()
                    )));
                }
            }
            fan_in = o;
        }
        let (_, inn) = self.out.weight.dims2()?;
        if inn != fan_in {
            return Err(ModelError::Config(format!(
                "fc3.weight has {inn} inputs but the last hidden layer has {fan_in} units"
            )));
        }
        Ok(())
    }

    /// The convolutional feature extractor, flattened to `[batch, flatten_dim]`.
    pub fn features(&self, x: &Tensor) -> Result<Tensor> {
        let c = &self.config;
        let dims = x.dims();
        if dims.len() != 4
            || dims[1] != c.in_channels
            || dims[2] != c.in_height
            || dims[3] != c.in_width
        {
            return Err(ModelError::Config(format!(
                "input has shape {dims:?}; this network takes [batch, {}, {}, {}]",
                c.in_channels, c.in_height, c.in_width
            )));
        }
        let mut h = x.to_dtype(self.dtype)?;
        if kernels::gpu_kernel_ok(&h) && self.convs.iter().all(|l| l.bias.is_some()) {
            // GPU: im2col + one matrix product per layer (one replica of the replica path).
            let _cache = kernels::cuda_param_cache(h.device());
            let layers = self
                .convs
                .iter()
                .filter_map(|l| {
                    l.bias
                        .as_ref()
                        .map(|b| (l.weight.as_tensor(), b.as_tensor()))
                })
                .map(|(w, b)| Ok((w.unsqueeze(0)?, b.unsqueeze(0)?)))
                .collect::<candle_core::Result<Vec<_>>>()?;
            let cnhw = h.unsqueeze(0)?.transpose(1, 2)?.contiguous()?;
            let f = crate::replica::features_cnhw(&cnhw, layers.into_iter())?;
            return Ok(f
                .squeeze(0)?
                .transpose(0, 1)?
                .contiguous()?
                .flatten_from(1)?);
        }
        for (i, l) in self.convs.iter().enumerate() {
            h = match &l.bias {
                Some(b) => kernels::conv2d_bias_relu(&h, l.weight.as_tensor(), b.as_tensor(), 1)?,
                None => kernels::relu(&h.conv2d(l.weight.as_tensor(), 1, 1, 1, 1)?)?,
            };
            if i % 2 == 1 {
                h = kernels::max_pool2x2(&h)?;
            }
        }
        Ok(h.flatten_from(1)?)
    }

    /// Full forward pass with regulariser hooks on every hidden layer (see
    /// [`Regularizer`] for the order).
    pub fn forward(
        &self,
        x: &Tensor,
        reg: &mut dyn Regularizer,
        ctx: &ForwardCtx,
    ) -> Result<ForwardOutput> {
        let mut h = self.features(x)?;
        let mut hidden = Vec::with_capacity(self.fcs.len());
        for (i, l) in self.fcs.iter().enumerate() {
            let mut z = kernels::linear(&h, l.weight.as_tensor())?;
            if let Some(b) = &l.bias {
                z = z.broadcast_add(b.as_tensor())?;
            }
            let z = reg.pre_activation(i, z, ctx)?;
            let a = reg.activation(i, kernels::relu(&z)?, ctx)?;
            hidden.push(a.clone());
            h = a;
        }
        let logits = kernels::linear(&h, self.out.weight.as_tensor())?;
        Ok(ForwardOutput { logits, hidden })
    }

    /// Evaluation-mode logits, no regulariser.
    pub fn predict(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self
            .forward(x, &mut NoRegularizer, &ForwardCtx::eval())?
            .logits)
    }

    /// Total number of scalar parameters.
    pub fn num_parameters(&self) -> usize {
        self.named_params()
            .iter()
            .map(|(_, v)| v.elem_count())
            .sum()
    }

    /// Copies every parameter to `device` (e.g. to evaluate a GPU-trained model on the CPU).
    pub fn to_device(&self, device: &Device) -> Result<Cnn> {
        let mv = |l: &Layer| -> Result<Layer> {
            Ok(Layer {
                weight: Var::from_tensor(&l.weight.as_tensor().to_device(device)?)?,
                bias: match &l.bias {
                    Some(b) => Some(Var::from_tensor(&b.as_tensor().to_device(device)?)?),
                    None => None,
                },
            })
        };
        Ok(Cnn {
            config: self.config.clone(),
            device: device.clone(),
            dtype: self.dtype,
            convs: self.convs.iter().map(mv).collect::<Result<_>>()?,
            fcs: self.fcs.iter().map(mv).collect::<Result<_>>()?,
            out: mv(&self.out)?,
        })
    }

    /// A network whose parameters are `tensors`, given in [`Cnn::named_params`] order with the
    /// shapes of `config` (hidden widths included); no random draw. Used by replica training to
    /// hand out one replica as a network of its own.
    pub(crate) fn from_ordered(
        config: &ModelConfig,
        dtype: DType,
        device: &Device,
        tensors: Vec<Tensor>,
    ) -> Result<Cnn> {
        let n_conv = config.conv_channels.len();
        let n_fc = config.hidden_sizes.len();
        if tensors.len() != 2 * n_conv + 2 * n_fc + 1 {
            return Err(ModelError::Config(format!(
                "{} tensors given, the network has {} parameters",
                tensors.len(),
                2 * n_conv + 2 * n_fc + 1
            )));
        }
        let var = |t: &Tensor| -> Result<Var> { Ok(Var::from_tensor(&t.to_dtype(dtype)?)?) };
        let layer = |i: usize| -> Result<Layer> {
            Ok(Layer {
                weight: var(&tensors[i])?,
                bias: Some(var(&tensors[i + 1])?),
            })
        };
        let convs = (0..n_conv).map(|l| layer(2 * l)).collect::<Result<_>>()?;
        let fcs = (0..n_fc)
            .map(|l| layer(2 * n_conv + 2 * l))
            .collect::<Result<_>>()?;
        let out = Layer {
            weight: var(&tensors[2 * n_conv + 2 * n_fc])?,
            bias: None,
        };
        let model = Cnn {
            config: config.clone(),
            device: device.clone(),
            dtype,
            convs,
            fcs,
            out,
        };
        model.check_shapes()?;
        Ok(model)
    }

    /// Builds a network from named tensors (as read from a checkpoint), checking names and shapes.
    pub fn from_tensors(
        config: &ModelConfig,
        tensors: &std::collections::HashMap<String, Tensor>,
        device: &Device,
    ) -> Result<Cnn> {
        let mut model = Cnn::new(config, 0, device)?;
        let expected: Vec<(String, Vec<usize>)> = model
            .named_params()
            .into_iter()
            .map(|(n, v)| (n, v.dims().to_vec()))
            .collect();
        for (name, dims) in &expected {
            let t = tensors
                .get(name)
                .ok_or_else(|| ModelError::Config(format!("missing tensor {name}")))?;
            if t.dims() != dims.as_slice() {
                return Err(ModelError::Config(format!(
                    "tensor {name} has shape {:?}, the model config needs {:?}",
                    t.dims(),
                    dims
                )));
            }
            if !t.dtype().is_float() {
                return Err(ModelError::Config(format!(
                    "tensor {name} has dtype {:?}, expected a float type",
                    t.dtype()
                )));
            }
            model.set_param(name, t)?;
        }
        let mut extra: Vec<&String> = tensors
            .keys()
            .filter(|k| !expected.iter().any(|(n, _)| n == *k))
            .collect();
        extra.sort();
        if let Some(k) = extra.first() {
            return Err(ModelError::Config(format!(
                "unexpected tensor {k} (the model has conv1..conv{}, fcs.0..fcs.{}, fc3)",
                config.conv_channels.len(),
                config.hidden_sizes.len() - 1
            )));
        }
        model.check_shapes()?;
        Ok(model)
    }
}

/// 2x2 max-pooling with stride 2 (floor mode, as `nn.MaxPool2d(2, 2)`), written as a reshape and
/// two max-reductions so that its gradient is right.
///
/// candle 0.11's `Tensor::max_pool2d` scales its gradient by (number of maxima)/4 instead of
/// dividing by the number of maxima, so with a single maximum per window every gradient
/// upstream of a pool comes out 4x too small (16x before two pools); the finite-difference test
/// in `tests/gradients.rs` catches this. Ties (rare with continuous inputs) pass the gradient
/// to every tied position, where PyTorch picks one.
pub fn max_pool2x2(x: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let (h2, w2) = (h / 2, w / 2);
    let x = if h % 2 == 1 || w % 2 == 1 {
        x.narrow(2, 0, h2 * 2)?.narrow(3, 0, w2 * 2)?.contiguous()?
    } else {
        x.contiguous()?
    };
    Ok(x.reshape((b, c, h2, 2, w2, 2))?.max(5)?.max(3)?)
}

/// Index of the largest logit per row (`[batch]`, u32).
pub fn argmax(logits: &Tensor) -> Result<Tensor> {
    Ok(logits.argmax(D::Minus1)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_names_and_shapes_match_pytorch() {
        let m = Cnn::new(&ModelConfig::cifar10(), 0, &Device::Cpu).unwrap();
        let names: Vec<(String, Vec<usize>)> = m
            .named_params()
            .into_iter()
            .map(|(n, v)| (n, v.dims().to_vec()))
            .collect();
        assert_eq!(names.len(), 19);
        assert_eq!(names[0], ("conv1.weight".into(), vec![16, 3, 3, 3]));
        assert_eq!(names[11], ("conv6.bias".into(), vec![64]));
        assert_eq!(names[12], ("fcs.0.weight".into(), vec![250, 1024]));
        assert_eq!(names[17], ("fcs.2.bias".into(), vec![250]));
        assert_eq!(names[18], ("fc3.weight".into(), vec![10, 250]));
        // PyTorch's parameter count for NgnCnn(layer_size=250).
        assert_eq!(m.num_parameters(), 72_080 + 256_250 + 2 * 62_750 + 2_500);
    }

    #[test]
    fn init_within_pytorch_bounds() {
        let m = Cnn::new(&ModelConfig::cifar10(), 1, &Device::Cpu).unwrap();
        for (name, v) in m.named_params() {
            let fan_in: usize = if name.starts_with("conv") {
                let w = m.param(&name.replace("bias", "weight")).unwrap();
                w.dims()[1..].iter().product()
            } else {
                m.param(&name.replace("bias", "weight")).unwrap().dims()[1]
            };
            let bound = 1.0 / (fan_in as f32).sqrt();
            let max = v
                .as_tensor()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(max <= bound, "{name}: {max} > {bound}");
            assert!(
                max > 0.8 * bound,
                "{name}: {max} too small for bound {bound}"
            );
        }
    }

    #[test]
    fn max_pool_matches_candle_forward() {
        for (h, w) in [(8, 8), (7, 7), (6, 5)] {
            let x = Tensor::randn(0f32, 1.0, (2, 3, h, w), &Device::Cpu).unwrap();
            let a: Vec<f32> = max_pool2x2(&x)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let b: Vec<f32> = x
                .max_pool2d(2)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn wrong_input_shape_is_a_clear_error() {
        let m = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu).unwrap();
        let x = Tensor::zeros((2, 3, 32, 32), DType::F32, &Device::Cpu).unwrap();
        let e = m.predict(&x).unwrap_err().to_string();
        assert!(e.contains("[batch, 1, 28, 28]"), "{e}");
        let x = Tensor::zeros((2, 1, 28, 28), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(m.predict(&x).unwrap().dims(), &[2, 10]);
    }

    #[test]
    fn set_param_grows_hidden_layer() {
        let mut m = Cnn::new(
            &ModelConfig::cifar10().with_hidden_width(20),
            0,
            &Device::Cpu,
        )
        .unwrap();
        let w = Tensor::zeros((22, 20), DType::F32, &Device::Cpu).unwrap();
        m.set_param("fcs.1.weight", &w).unwrap();
        assert!(m.check_shapes().is_err());
        m.set_param(
            "fcs.1.bias",
            &Tensor::zeros(22, DType::F32, &Device::Cpu).unwrap(),
        )
        .unwrap();
        m.set_param(
            "fcs.2.weight",
            &Tensor::zeros((20, 22), DType::F32, &Device::Cpu).unwrap(),
        )
        .unwrap();
        m.check_shapes().unwrap();
        assert_eq!(m.config().hidden_sizes, vec![20, 22, 20]);
        assert!(m.set_param("conv1.weight", &w).is_err());
        assert!(matches!(
            m.param("conv9.weight"),
            Err(ModelError::UnknownParam(_))
        ));
    }
}
