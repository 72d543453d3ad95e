//! Probe (issue #14, item 2): would Winograd F(2x2, 3x3) beat the library's im2col + gemm for
//! the paper's convolutions on this CPU? Times the forward pass (conv + bias + ReLU) of each of
//! the six layers at batch 4 and batch 128: (a) the library's fused kernel,
//! `kernels::conv2d_bias_relu`; (b) a plain F(2x2, 3x3) (scalar transforms, buffers allocated
//! per call); (c) F(2x2, 3x3) as a training path would run it (scratch reused, transforms as
//! contiguous loops the compiler vectorises; batch 128 in chunks of 8 images on rayon's
//! threads), and its 16 gemms alone; and prints the ratios and the largest difference from the
//! library's outputs. Results: docs/performance.md. Not part of the library.
//!
//!     RAYON_NUM_THREADS=1 cargo run --release -p neurogen-model --example winograd_probe
// The transforms read as the matrices they implement: indices, not iterators.
#![allow(clippy::needless_range_loop)]
use std::time::Instant;

use candle_core::{Device, Tensor};
use neurogen_model::kernels::conv2d_bias_relu;
use rayon::prelude::*;

/// (Ci, Co, H=W) of the six 3x3 convolutions on CIFAR-10.
const LAYERS: [(usize, usize, usize); 6] = [
    (3, 16, 32),
    (16, 16, 32),
    (16, 32, 16),
    (32, 32, 16),
    (32, 64, 8),
    (64, 64, 8),
];
const BATCH: usize = 4;

/// `dst[m x n] = lhs[m x k] . rhs[k x n]`, row-major, contiguous.
fn gemm(m: usize, n: usize, k: usize, dst: &mut [f32], lhs: &[f32], rhs: &[f32]) {
    assert!(dst.len() >= m * n && lhs.len() >= m * k && rhs.len() >= k * n);
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// im2col of one image `[ci, h, w]` (pad 1) into `[ci*9, h*w]`.
fn im2col(x: &[f32], ci: usize, h: usize, w: usize, cols: &mut [f32]) {
    for c in 0..ci {
        for ky in 0..3 {
            for kx in 0..3 {
                let row = (c * 9 + ky * 3 + kx) * h * w;
                for y in 0..h {
                    let sy = y as isize + ky as isize - 1;
                    for xx in 0..w {
                        let sx = xx as isize + kx as isize - 1;
                        cols[row + y * w + xx] =
                            if sy < 0 || sy >= h as isize || sx < 0 || sx >= w as isize {
                                0.0
                            } else {
                                x[c * h * w + sy as usize * w + sx as usize]
                            };
                    }
                }
            }
        }
    }
}

fn direct(x: &[f32], wt: &[f32], (ci, co, hw): (usize, usize, usize), out: &mut [f32]) {
    let mut cols = vec![0f32; ci * 9 * hw * hw];
    for n in 0..BATCH {
        im2col(&x[n * ci * hw * hw..], ci, hw, hw, &mut cols);
        gemm(co, hw * hw, ci * 9, &mut out[n * co * hw * hw..], wt, &cols);
    }
}

/// Filter transform U = G g G^T for every (co, ci): `[16][co][ci]`.
fn filter_transform(wt: &[f32], ci: usize, co: usize) -> Vec<f32> {
    let g = [
        [1.0, 0.0, 0.0],
        [0.5, 0.5, 0.5],
        [0.5, -0.5, 0.5],
        [0.0, 0.0, 1.0f32],
    ];
    let mut u = vec![0f32; 16 * co * ci];
    for o in 0..co {
        for i in 0..ci {
            let k = &wt[(o * ci + i) * 9..][..9];
            let mut gk = [[0f32; 3]; 4];
            for a in 0..4 {
                for b in 0..3 {
                    gk[a][b] = (0..3).map(|j| g[a][j] * k[j * 3 + b]).sum();
                }
            }
            for a in 0..4 {
                for b in 0..4 {
                    let v: f32 = (0..3).map(|j| gk[a][j] * g[b][j]).sum();
                    u[(a * 4 + b) * co * ci + o * ci + i] = v;
                }
            }
        }
    }
    u
}

fn winograd(
    u: &[f32],
    x: &[f32],
    (ci, co, hw): (usize, usize, usize),
    out: &mut [f32],
    gemm_secs: &mut f64,
) {
    let t = hw / 2; // tiles per side
    let tiles = BATCH * t * t;
    let mut v = vec![0f32; 16 * ci * tiles];
    for n in 0..BATCH {
        for c in 0..ci {
            let img = &x[(n * ci + c) * hw * hw..][..hw * hw];
            for ty in 0..t {
                for tx in 0..t {
                    let mut d = [[0f32; 4]; 4];
                    for (a, row) in d.iter_mut().enumerate() {
                        let sy = (2 * ty + a) as isize - 1;
                        if sy < 0 || sy >= hw as isize {
                            continue;
                        }
                        for (b, e) in row.iter_mut().enumerate() {
                            let sx = (2 * tx + b) as isize - 1;
                            if sx >= 0 && sx < hw as isize {
                                *e = img[sy as usize * hw + sx as usize];
                            }
                        }
                    }
                    // B^T d B with B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]].
                    let mut bd = [[0f32; 4]; 4];
                    for b in 0..4 {
                        bd[0][b] = d[0][b] - d[2][b];
                        bd[1][b] = d[1][b] + d[2][b];
                        bd[2][b] = d[2][b] - d[1][b];
                        bd[3][b] = d[1][b] - d[3][b];
                    }
                    let tile = (n * t + ty) * t + tx;
                    for a in 0..4 {
                        let r = bd[a];
                        let vals = [r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3]];
                        for (b, val) in vals.into_iter().enumerate() {
                            v[((a * 4 + b) * ci + c) * tiles + tile] = val;
                        }
                    }
                }
            }
        }
    }
    let mut m = vec![0f32; 16 * co * tiles];
    let tg = Instant::now();
    tile_gemms(u, &v, (ci, co), tiles, &mut m);
    *gemm_secs += tg.elapsed().as_secs_f64();
    // Y = A^T M A with A^T = [[1,1,1,0],[0,1,-1,-1]].
    for o in 0..co {
        for n in 0..BATCH {
            for ty in 0..t {
                for tx in 0..t {
                    let tile = (n * t + ty) * t + tx;
                    let e = |a: usize, b: usize| m[((a * 4 + b) * co + o) * tiles + tile];
                    let mut am = [[0f32; 4]; 2];
                    for b in 0..4 {
                        am[0][b] = e(0, b) + e(1, b) + e(2, b);
                        am[1][b] = e(1, b) - e(2, b) - e(3, b);
                    }
                    let dst = &mut out[(n * co + o) * hw * hw..];
                    for a in 0..2 {
                        let r = am[a];
                        dst[(2 * ty + a) * hw + 2 * tx] = r[0] + r[1] + r[2];
                        dst[(2 * ty + a) * hw + 2 * tx + 1] = r[1] - r[2] - r[3];
                    }
                }
            }
        }
    }
}

/// Scratch of [`winograd_fast`], allocated once and reused (as a training path would).
struct Scratch {
    /// One padded image channel, `(hw + 2)^2`.
    pad: Vec<f32>,
    /// Column transform `B^T d` of one tile row's 4 padded rows: `[4][hw + 2]`.
    cols: Vec<f32>,
    /// Transformed input `[16][ci][tiles]`.
    v: Vec<f32>,
    /// Products `[16][co][tiles]`.
    m: Vec<f32>,
}

impl Scratch {
    fn new((ci, co, hw): (usize, usize, usize), images: usize) -> Self {
        let t = hw / 2;
        let tiles = images * t * t;
        Self {
            pad: vec![0.0; (hw + 2) * (hw + 2)],
            cols: vec![0.0; 4 * (hw + 2)],
            v: vec![0.0; 16 * ci * tiles],
            m: vec![0.0; 16 * co * tiles],
        }
    }
}

/// F(2x2, 3x3) as a training path would run it: buffers reused, each transform written as
/// contiguous loops over the tiles of a tile row (which the compiler vectorises), no bounds
/// tests inside (the image is padded once per channel). `images` images of `x`; the output
/// transform adds `bias` and applies the ReLU, as the library's fused kernel does.
fn winograd_fast(
    u: &[f32],
    bias: &[f32],
    x: &[f32],
    (ci, co, hw): (usize, usize, usize),
    images: usize,
    s: &mut Scratch,
    out: &mut [f32],
) {
    let t = hw / 2;
    let tiles = images * t * t;
    let pw = hw + 2;
    let Scratch { pad, cols, v, m } = s;
    for n in 0..images {
        for ch in 0..ci {
            let img = &x[(n * ci + ch) * hw * hw..][..hw * hw];
            for y in 0..hw {
                pad[(y + 1) * pw + 1..][..hw].copy_from_slice(&img[y * hw..][..hw]);
            }
            for ty in 0..t {
                // Column transform B^T d of the padded rows 2ty..2ty+4, contiguous over columns.
                let rows = &pad[2 * ty * pw..][..4 * pw];
                let (d0, d1, d2, d3) = (
                    &rows[..pw],
                    &rows[pw..2 * pw],
                    &rows[2 * pw..3 * pw],
                    &rows[3 * pw..],
                );
                let (c0, rest) = cols.split_at_mut(pw);
                let (c1, rest) = rest.split_at_mut(pw);
                let (c2, c3) = rest.split_at_mut(pw);
                for j in 0..pw {
                    c0[j] = d0[j] - d2[j];
                    c1[j] = d1[j] + d2[j];
                    c2[j] = d2[j] - d1[j];
                    c3[j] = d1[j] - d3[j];
                }
                // Row transform (. B) of each tile's 4 columns 2tx..2tx+4, contiguous over tiles.
                let base = (n * t + ty) * t;
                for a in 0..4 {
                    let c = &cols[a * pw..][..pw];
                    let at = |b: usize| ((a * 4 + b) * ci + ch) * tiles + base;
                    let (r0, r1, r2, r3) = (at(0), at(1), at(2), at(3));
                    for tx in 0..t {
                        let (p0, p1, p2, p3) =
                            (c[2 * tx], c[2 * tx + 1], c[2 * tx + 2], c[2 * tx + 3]);
                        v[r0 + tx] = p0 - p2;
                        v[r1 + tx] = p1 + p2;
                        v[r2 + tx] = p2 - p1;
                        v[r3 + tx] = p1 - p3;
                    }
                }
            }
        }
    }
    tile_gemms(u, v, (ci, co), tiles, m);
    // Y = A^T M A, contiguous over the tiles of a tile row.
    for o in 0..co {
        let b = bias[o];
        for n in 0..images {
            let dst = &mut out[(n * co + o) * hw * hw..][..hw * hw];
            for ty in 0..t {
                let base = (n * t + ty) * t;
                let e = |a: usize, b: usize| &m[((a * 4 + b) * co + o) * tiles + base..][..t];
                let (y0, y1) = dst[2 * ty * hw..][..2 * hw].split_at_mut(hw);
                let (e00, e01, e02, e03) = (e(0, 0), e(0, 1), e(0, 2), e(0, 3));
                let (e10, e11, e12, e13) = (e(1, 0), e(1, 1), e(1, 2), e(1, 3));
                let (e20, e21, e22, e23) = (e(2, 0), e(2, 1), e(2, 2), e(2, 3));
                let (e30, e31, e32, e33) = (e(3, 0), e(3, 1), e(3, 2), e(3, 3));
                for tx in 0..t {
                    let a0 = [
                        e00[tx] + e10[tx] + e20[tx],
                        e01[tx] + e11[tx] + e21[tx],
                        e02[tx] + e12[tx] + e22[tx],
                        e03[tx] + e13[tx] + e23[tx],
                    ];
                    let a1 = [
                        e10[tx] - e20[tx] - e30[tx],
                        e11[tx] - e21[tx] - e31[tx],
                        e12[tx] - e22[tx] - e32[tx],
                        e13[tx] - e23[tx] - e33[tx],
                    ];
                    let relu = |v: f32| if v < 0.0 { 0.0 } else { v };
                    y0[2 * tx] = relu(a0[0] + a0[1] + a0[2] + b);
                    y0[2 * tx + 1] = relu(a0[1] - a0[2] - a0[3] + b);
                    y1[2 * tx] = relu(a1[0] + a1[1] + a1[2] + b);
                    y1[2 * tx + 1] = relu(a1[1] - a1[2] - a1[3] + b);
                }
            }
        }
    }
}

/// The 16 gemms of F(2x2, 3x3): `m[xi] = u[xi] . v[xi]`, `[co x ci] x [ci x tiles]` each.
fn tile_gemms(u: &[f32], v: &[f32], (ci, co): (usize, usize), tiles: usize, m: &mut [f32]) {
    for xi in 0..16 {
        gemm(
            co,
            tiles,
            ci,
            &mut m[xi * co * tiles..],
            &u[xi * co * ci..],
            &v[xi * ci * tiles..],
        );
    }
}

/// The 16 gemms of [`winograd_fast`] alone (on whatever its scratch holds), for the split of
/// its time between multiplications and transforms.
fn winograd_gemms(u: &[f32], (ci, co, hw): (usize, usize, usize), images: usize, s: &mut Scratch) {
    let tiles = images * (hw / 2) * (hw / 2);
    tile_gemms(u, &s.v, (ci, co), tiles, &mut s.m);
}

/// Times `f` as the best of `rounds` rounds of `reps` calls, seconds per call.
fn best_of(rounds: usize, reps: usize, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..reps {
                f();
            }
            t0.elapsed().as_secs_f64() / reps as f64
        })
        .fold(f64::MAX, f64::min)
}

/// The library's fused kernel (`kernels::conv2d_bias_relu`, im2col + gemm per image, images in
/// parallel on rayon's threads), forward only.
fn library(x: &Tensor, w: &Tensor, b: &Tensor) -> Tensor {
    conv2d_bias_relu(x, w, b, 1).expect("library convolution")
}

/// Fast Winograd over `images` images in chunks of `chunk`, chunks in parallel on rayon's
/// threads (each thread its own scratch), filter transform included.
fn winograd_parallel(
    wt: &[f32],
    bias: &[f32],
    x: &[f32],
    (ci, co, hw): (usize, usize, usize),
    chunk: usize,
    out: &mut [f32],
) {
    let u = filter_transform(wt, ci, co);
    x.par_chunks(chunk * ci * hw * hw)
        .zip(out.par_chunks_mut(chunk * co * hw * hw))
        .for_each_init(
            || Scratch::new((ci, co, hw), chunk),
            |s, (xc, yc)| winograd_fast(&u, bias, xc, (ci, co, hw), chunk, s, yc),
        );
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max)
}

fn main() {
    let mut seed = 12345u64;
    let mut rnd = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    };
    // Batch 4 (one training minibatch) and batch 128, Winograd over chunks of CHUNK images so
    // that its buffers stay near the caches. Set RAYON_NUM_THREADS to choose the threads of the
    // library kernel and of the parallel Winograd.
    const BIG: usize = 128;
    const CHUNK: usize = 8;
    println!(
        "forward (conv + bias + ReLU) of every layer, best of 5 interleaved rounds (us), {} rayon threads",
        rayon::current_num_threads()
    );
    println!(
        "layer | b4: library | plain winograd | fast winograd (its 16 gemms alone) | library / fast \
         | b128: library | fast winograd (chunks of {CHUNK}) | library / fast | max |diff| vs library"
    );
    let dev = Device::Cpu;
    let mut totals = [0.0f64; 6];
    let mut no_first = [0.0f64; 6];
    for (layer, &(ci, co, hw)) in LAYERS.iter().enumerate() {
        let x: Vec<f32> = (0..BIG * ci * hw * hw).map(|_| rnd()).collect();
        let wt: Vec<f32> = (0..co * ci * 9).map(|_| rnd() * 0.3).collect();
        let bias: Vec<f32> = (0..co).map(|_| rnd() * 0.1).collect();
        let per = ci * hw * hw;
        let per_out = co * hw * hw;
        let xt = Tensor::from_slice(&x, (BIG, ci, hw, hw), &dev).unwrap();
        let x4 = Tensor::from_slice(&x[..BATCH * per], (BATCH, ci, hw, hw), &dev).unwrap();
        let wt_t = Tensor::from_slice(&wt, (co, ci, 3, 3), &dev).unwrap();
        let b_t = Tensor::from_slice(&bias, co, &dev).unwrap();
        let mut yb = vec![0f32; BATCH * per_out];
        let mut yc = vec![0f32; BIG * per_out];
        let mut s4 = Scratch::new((ci, co, hw), BATCH);
        let reps = 100;
        let mut best = [f64::MAX; 6];
        let u4 = filter_transform(&wt, ci, co);
        // Interleaved: the machine is shared, so take the best of several alternating rounds.
        for _ in 0..5 {
            let t = [
                best_of(1, reps, || {
                    library(&x4, &wt_t, &b_t);
                }),
                best_of(1, reps, || {
                    let u = filter_transform(&wt, ci, co);
                    winograd(&u, &x, (ci, co, hw), &mut yb, &mut 0.0);
                }),
                best_of(1, reps, || {
                    let u = filter_transform(&wt, ci, co);
                    winograd_fast(&u, &bias, &x, (ci, co, hw), BATCH, &mut s4, &mut yc);
                }),
                best_of(1, 3, || {
                    library(&xt, &wt_t, &b_t);
                }),
                best_of(1, 3, || {
                    winograd_parallel(&wt, &bias, &x, (ci, co, hw), CHUNK, &mut yc);
                }),
                best_of(1, reps, || {
                    winograd_gemms(&u4, (ci, co, hw), BATCH, &mut s4)
                }),
            ];
            for (b, t) in best.iter_mut().zip(t) {
                *b = b.min(t);
            }
        }
        // Values: fast Winograd of all 128 images against the library's; the plain version
        // (no bias, no ReLU) against im2col + gemm of the first 4 images.
        let reference: Vec<f32> = library(&xt, &wt_t, &b_t)
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        winograd_parallel(&wt, &bias, &x, (ci, co, hw), CHUNK, &mut yc);
        let diff = max_diff(&reference, &yc);
        let mut ya = vec![0f32; BATCH * per_out];
        direct(&x, &wt, (ci, co, hw), &mut ya);
        let diff_plain = max_diff(&ya, &yb);
        for (t, v) in totals.iter_mut().zip(best) {
            *t += v;
        }
        if layer > 0 {
            for (t, v) in no_first.iter_mut().zip(best) {
                *t += v;
            }
        }
        let [b4, plain, fast, b128, fast128, gemms] = best;
        println!(
            "{ci:2}->{co:2}, {hw:2}x{hw:2} | {:8.1} | {:8.1} | {:8.1} (gemms {:6.1}) | {:5.2}x | {:9.1} | {:9.1} | {:5.2}x | {diff:.1e} (plain {diff_plain:.1e})",
            b4 * 1e6,
            plain * 1e6,
            fast * 1e6,
            gemms * 1e6,
            b4 / fast,
            b128 * 1e6,
            fast128 * 1e6,
            b128 / fast128
        );
    }
    for (label, [b4, plain, fast, b128, fast128, gemms]) in
        [("all six", totals), ("layers 2-6", no_first)]
    {
        println!(
            "{label} | {:.1} | {:.1} ({:.2}x) | {:.1} (gemms {:.1}) | {:.2}x | {:.1} | {:.1} | {:.2}x |",
            b4 * 1e6,
            plain * 1e6,
            b4 / plain,
            fast * 1e6,
            gemms * 1e6,
            b4 / fast,
            b128 * 1e6,
            fast128 * 1e6,
            b128 / fast128
        );
    }
}
