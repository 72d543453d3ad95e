// CUDA kernels of neurogen-model (feature `cuda`), compiled to PTX by build.rs with nvcc
// (`--fmad=false`, so every result equals the CPU code's f32 arithmetic bit for bit).
//
// Layouts (all buffers contiguous f32):
//   activations  [K, C, N, H, W]          replica, channel, image, row, column
//   columns      [K, C*kh*kw, N*Ho*Wo]    column (c*kh + ky)*kw + kx, then image, row, column
// Every kernel is a grid-stride loop over its output, one element per thread.
#include <stddef.h>

extern "C" __global__ void ng_im2col_f32(const float *x, float *cols, int K, int C, int N, int H,
                                         int W, int kh, int kw, int pad, int Ho, int Wo) {
    size_t total = (size_t)K * C * kh * kw * N * Ho * Wo;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t t = i;
        int ox = t % Wo; t /= Wo;
        int oy = t % Ho; t /= Ho;
        int n = t % N; t /= N;
        int kx = t % kw; t /= kw;
        int ky = t % kh; t /= kh;
        int c = t % C; t /= C;
        size_t k = t;
        int y = oy + ky - pad, xx = ox + kx - pad;
        float v = 0.0f;
        if (y >= 0 && y < H && xx >= 0 && xx < W) {
            v = x[(((k * C + c) * N + n) * H + y) * W + xx];
        }
        cols[i] = v;
    }
}

// The adjoint of ng_im2col_f32: every activation sums the columns it was copied to, in the
// order ky, kx (as the CPU code does).
extern "C" __global__ void ng_col2im_f32(const float *cols, float *x, int K, int C, int N, int H,
                                         int W, int kh, int kw, int pad, int Ho, int Wo) {
    size_t total = (size_t)K * C * N * H * W;
    size_t J = (size_t)C * kh * kw;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t t = i;
        int xx = t % W; t /= W;
        int y = t % H; t /= H;
        int n = t % N; t /= N;
        int c = t % C; t /= C;
        size_t k = t;
        float s = 0.0f;
        for (int ky = 0; ky < kh; ++ky) {
            int oy = y - ky + pad;
            if (oy < 0 || oy >= Ho) continue;
            for (int kx = 0; kx < kw; ++kx) {
                int ox = xx - kx + pad;
                if (ox < 0 || ox >= Wo) continue;
                size_t j = ((size_t)c * kh + ky) * kw + kx;
                s += cols[((k * J + j) * N + n) * Ho * Wo + (size_t)oy * Wo + ox];
            }
        }
        x[i] = s;
    }
}

// 2x2 max pooling with stride 2 over planes of H x W (odd last rows and columns are dropped).
extern "C" __global__ void ng_max_pool2x2_f32(const float *x, float *y, size_t planes, int H,
                                              int W) {
    int H2 = H / 2, W2 = W / 2;
    size_t total = planes * H2 * W2;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t t = i;
        int ox = t % W2; t /= W2;
        int oy = t % H2; t /= H2;
        const float *p = x + t * H * W + (size_t)(2 * oy) * W + 2 * ox;
        float m = p[0];
        float v[3] = {p[1], p[W], p[W + 1]};
        for (int q = 0; q < 3; ++q) {
            if (v[q] > m) m = v[q];
        }
        y[i] = m;
    }
}

// Gradient of ng_max_pool2x2_f32: every input equal to its window's maximum gets the window's
// output gradient (as the CPU kernel and candle's max do); inputs outside all windows get 0.
extern "C" __global__ void ng_max_pool2x2_bwd_f32(const float *x, const float *y, const float *dy,
                                                  float *dx, size_t planes, int H, int W) {
    int H2 = H / 2, W2 = W / 2;
    size_t total = planes * H * W;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t t = i;
        int xx = t % W; t /= W;
        int yy = t % H; t /= H;
        int oy = yy / 2, ox = xx / 2;
        float g = 0.0f;
        if (oy < H2 && ox < W2) {
            size_t o = (t * H2 + oy) * W2 + ox;
            if (x[i] == y[o]) g = dy[o];
        }
        dx[i] = g;
    }
}

// One Adam step (PyTorch's rule, see src/kernels/adam.rs): p is updated in place, the new
// moments are written to mo and vo.
extern "C" __global__ void ng_adam_f32(size_t n, float *p, const float *g, const float *m,
                                       const float *v, float *mo, float *vo, float beta1,
                                       float one_minus_beta1, float beta2, float one_minus_beta2,
                                       float inv_bias_correction2_sqrt, float eps,
                                       float step_size, float weight_decay) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float gi = g[i];
        if (weight_decay != 0.0f) gi += p[i] * weight_decay;
        float mi = m[i] * beta1 + gi * one_minus_beta1;
        float vi = v[i] * beta2 + (gi * gi) * one_minus_beta2;
        // Subnormal moments are stored as zero, as on the CPU (crate::adam, "Subnormal
        // moments"); 1.17549435e-38f is FLT_MIN, the smallest normal float.
        if (fabsf(mi) < 1.17549435e-38f) mi = 0.0f;
        if (fabsf(vi) < 1.17549435e-38f) vi = 0.0f;
        float denom = sqrtf(vi) * inv_bias_correction2_sqrt + eps;
        p[i] -= (mi / denom) * step_size;
        mo[i] = mi;
        vo[i] = vi;
    }
}
