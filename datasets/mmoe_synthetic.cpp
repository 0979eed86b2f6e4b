// The MMoE paper's synthetic task-correlation data: weights at a chosen cosine, sum-of-sines
// labels, Gaussian noise. Deliberately left out: any task count other than two.
#include "datasets/mmoe_synthetic.h"

#include <cmath>

#include "core/error.h"
#include "datasets/sampling.h"

namespace minirec {
namespace datasets {

static double dot(const Tensor& a, const Tensor& b) {
    double s = 0.0;
    for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
    return s;
}

// Two orthonormal vectors: we draw two Gaussian vectors, remove from the second its component
// along the first (Gram-Schmidt), and normalise both. We compute in double and store float.
static void orthonormal_pair(int d, Rng& rng, Tensor& u1, Tensor& u2) {
    std::vector<double> a(d), b(d);
    for (int i = 0; i < d; ++i) a[i] = rng.normal();
    for (int i = 0; i < d; ++i) b[i] = rng.normal();
    double na = 0.0;
    for (double v : a) na += v * v;
    na = std::sqrt(na);
    for (double& v : a) v /= na;
    double proj = 0.0;
    for (int i = 0; i < d; ++i) proj += a[i] * b[i];
    double nb = 0.0;
    for (int i = 0; i < d; ++i) b[i] -= proj * a[i], nb += b[i] * b[i];
    nb = std::sqrt(nb);
    u1 = Tensor({d});
    u2 = Tensor({d});
    for (int i = 0; i < d; ++i) u1[i] = static_cast<float>(a[i]), u2[i] = static_cast<float>(b[i] / nb);
}

static void check(MMoEOptions& o) {
    if (!(o.rho >= -1.0 && o.rho <= 1.0)) arg_fail("mmoe_synthetic", "rho must be in [-1, 1]");
    if (o.input_dim < 2) arg_fail("mmoe_synthetic", "input_dim must be >= 2 (two orthogonal vectors)");
    if (o.num_sines < 0) arg_fail("mmoe_synthetic", "num_sines must be >= 0");
    if (o.noise_std < 0) arg_fail("mmoe_synthetic", "noise_std must be >= 0");
    // The defaults the chapter issue recommends: alpha_j = j / 2, beta_j = j^2.
    if (o.alpha.empty())
        for (int j = 1; j <= o.num_sines; ++j) o.alpha.push_back(j / 2.0);
    if (o.beta.empty())
        for (int j = 1; j <= o.num_sines; ++j) o.beta.push_back(static_cast<double>(j) * j);
    if (static_cast<int>(o.alpha.size()) != o.num_sines || static_cast<int>(o.beta.size()) != o.num_sines)
        arg_fail("mmoe_synthetic", "alpha and beta must each hold num_sines values");
}

MMoEStream::MMoEStream(const MMoEOptions& opts) : opts_(opts), rng_(opts.seed) {
    check(opts_);
    orthonormal_pair(opts_.input_dim, rng_, u1_, u2_);
    const float c = static_cast<float>(opts_.c), rho = static_cast<float>(opts_.rho);
    const float rest = static_cast<float>(std::sqrt(1.0 - opts_.rho * opts_.rho));
    w1_ = u1_ * c;                             // w1 = c u1
    w2_ = (u1_ * rho + u2_ * rest) * c;        // w2 = c (rho u1 + sqrt(1 - rho^2) u2)
}

double mmoe_label(const float* x, const Tensor& w, const std::vector<double>& alpha,
                  const std::vector<double>& beta) {
    double wx = 0.0;
    for (size_t i = 0; i < w.size(); ++i) wx += static_cast<double>(w[i]) * x[i];
    double y = wx;
    for (size_t j = 0; j < alpha.size(); ++j) y += std::sin(alpha[j] * wx + beta[j]);
    return y;
}

MMoEData MMoEStream::next(int batch) {
    if (batch <= 0) arg_fail("MMoEStream::next", "batch must be positive");
    const int d = opts_.input_dim;
    MMoEData out;
    out.x = Tensor({batch, d});
    out.y = Tensor({batch, 2});
    std::vector<float> y1(batch), y2(batch);
    for (int r = 0; r < batch; ++r) {
        float* x = out.x.data() + static_cast<size_t>(r) * d;
        for (int i = 0; i < d; ++i) x[i] = rng_.normal();
        y1[r] = static_cast<float>(mmoe_label(x, w1_, opts_.alpha, opts_.beta) + opts_.noise_std * rng_.normal());
        y2[r] = static_cast<float>(mmoe_label(x, w2_, opts_.alpha, opts_.beta) + opts_.noise_std * rng_.normal());
        out.y[2 * r] = y1[r];
        out.y[2 * r + 1] = y2[r];
    }
    out.w1 = w1_;
    out.w2 = w2_;
    out.u1 = u1_;
    out.u2 = u2_;
    out.alpha = opts_.alpha;
    out.beta = opts_.beta;
    double n1 = std::sqrt(dot(w1_, w1_)), n2 = std::sqrt(dot(w2_, w2_));
    out.weight_cosine = (n1 > 0 && n2 > 0) ? dot(w1_, w2_) / (n1 * n2) : 0.0;
    out.label_pearson = batch > 1 ? pearson(y1, y2) : 0.0;
    return out;
}

MMoEData mmoe_synthetic(const MMoEOptions& opts) {
    MMoEStream stream(opts);
    return stream.next(opts.n);
}

}  // namespace datasets
}  // namespace minirec
