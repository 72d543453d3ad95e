//! Probe (issue #14, item 2): would Winograd F(2x2, 3x3) beat im2col + gemm for the paper's
//! convolutions on this CPU? Times, on one thread, the forward pass of each of the six layers
//! for a minibatch of 4 images both ways — (a) per image: im2col, one gemm `[Co x Ci*9] x
//! [Ci*9 x H*W]` (what kernels::conv does), (b) Winograd: input transform of every 4x4 tile of
//! all images, 16 gemms `[Co x Ci] x [Ci x tiles]`, output transform — and prints the ratio and
//! the largest difference between the two outputs. Not part of the library.
//!
//!     cargo run --release -p neurogen-model --example winograd_probe
// The transforms read as the matrices they implement: indices, not iterators.
#![allow(clippy::needless_range_loop)]
use std::time::Instant;

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

fn main() {
    let mut seed = 12345u64;
    let mut rnd = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    };
    println!("layer (Ci->Co, HxW): im2col+gemm us, winograd us (filter transform included), ratio, max |diff|, winograd's gemms alone");
    let (mut total_a, mut total_b) = (0.0, 0.0);
    for &(ci, co, hw) in &LAYERS {
        let x: Vec<f32> = (0..BATCH * ci * hw * hw).map(|_| rnd()).collect();
        let wt: Vec<f32> = (0..co * ci * 9).map(|_| rnd() * 0.3).collect();
        let mut ya = vec![0f32; BATCH * co * hw * hw];
        let mut yb = vec![0f32; BATCH * co * hw * hw];
        let reps = 200;
        let (mut best_a, mut best_b, mut best_g) = (f64::MAX, f64::MAX, f64::MAX);
        // Interleaved: the machine is shared, so take the best of several alternating rounds.
        for _ in 0..5 {
            let t0 = Instant::now();
            for _ in 0..reps {
                direct(&x, &wt, (ci, co, hw), &mut ya);
            }
            best_a = best_a.min(t0.elapsed().as_secs_f64() / reps as f64);
            let t0 = Instant::now();
            let mut g = 0.0;
            for _ in 0..reps {
                let u = filter_transform(&wt, ci, co);
                winograd(&u, &x, (ci, co, hw), &mut yb, &mut g);
            }
            best_b = best_b.min(t0.elapsed().as_secs_f64() / reps as f64);
            best_g = best_g.min(g / reps as f64);
        }
        let diff = ya
            .iter()
            .zip(&yb)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        total_a += best_a;
        total_b += best_b;
        println!(
            "{ci:2}->{co:2}, {hw:2}x{hw:2}: {:8.1} {:8.1} {:5.2}x {diff:.2e}  (its 16 gemms alone {:8.1} us)",
            best_a * 1e6,
            best_b * 1e6,
            best_a / best_b,
            best_g * 1e6
        );
    }
    println!(
        "all six layers, forward of 4 images: {:.1} us vs {:.1} us, {:.2}x",
        total_a * 1e6,
        total_b * 1e6,
        total_a / total_b
    );
}
