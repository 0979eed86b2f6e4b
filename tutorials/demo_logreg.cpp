// The first demo: logistic regression trained by minirec's autograd on a synthetic problem.
// We plant a known weight vector w*, draw x ~ N(0, I) and clicks y ~ Bernoulli(sigmoid(w*.x + b*)),
// then learn (w, b) by minibatch gradient descent on the logistic loss and print it falling,
// then the test AUC next to the AUC of the true model (the best any model can do).
// Deliberately left out: layers, optimizers and metrics from nn/ (this demo uses core/ only).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>

#include "core/kernels.h"
#include "core/ops.h"
#include "core/rng.h"

using namespace minirec;

struct Data {
    Tensor x;  // (N, D)
    Tensor y;  // (N, 1) in {0, 1}
    Tensor p;  // (N, 1) the true click probability
};

// x ~ N(0, I), y ~ Bernoulli(sigmoid(x w* + b*)).
static Data make_data(int n, const Tensor& w_true, float b_true, Rng& rng) {
    const int d = w_true.dim(0);
    Data data{Tensor::normal({n, d}, rng), Tensor({n, 1}), Tensor({n, 1})};
    for (int i = 0; i < n; ++i) {
        float z = b_true;
        for (int j = 0; j < d; ++j) z += data.x[static_cast<size_t>(i) * d + j] * w_true[j];
        data.p[i] = 1.0f / (1.0f + std::exp(-z));
        data.y[i] = rng.uniform() < data.p[i] ? 1.0f : 0.0f;
    }
    return data;
}

// AUC = P(score of a random positive > score of a random negative), ties count one half.
static double auc(const Tensor& score, const Tensor& label) {
    std::vector<int> idx(score.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](int a, int b) { return score[a] < score[b]; });
    double rank_sum = 0.0, pos = 0.0;
    for (size_t i = 0; i < idx.size();) {  // average ranks over groups of equal scores
        size_t j = i;
        while (j < idx.size() && score[idx[j]] == score[idx[i]]) ++j;
        const double avg_rank = 0.5 * static_cast<double>(i + 1 + j);
        for (size_t k = i; k < j; ++k)
            if (label[idx[k]] > 0.5f) { rank_sum += avg_rank; pos += 1.0; }
        i = j;
    }
    const double neg = static_cast<double>(idx.size()) - pos;
    return (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg);
}

// Mean logistic loss from logits z: log(1 + e^z) - y z, written with softplus so it is stable.
static Var logistic_loss(const Var& z, const Var& y) { return mean(softplus(z) - y * z); }

int main(int argc, char** argv) {
    int epochs = 5, dim = 20, batch = 128;
    uint64_t seed = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::printf("demo_logreg: logistic regression on synthetic clicks, trained by minirec\n"
                        "  --seed N     random seed (default 1)\n  --epochs N   passes over the data (default 5)\n");
            return 0;
        } else if (a == "--seed" && i + 1 < argc) {
            seed = std::stoull(argv[++i]);
        } else if (a == "--epochs" && i + 1 < argc) {
            epochs = std::stoi(argv[++i]);
        } else {
            std::fprintf(stderr, "demo_logreg: unknown flag '%s' (valid: --help, --seed N, --epochs N)\n", a.c_str());
            return 2;
        }
    }
    std::printf("minirec demo: logistic regression (kernels: %s)\n\n", kernels::active().name);

    Rng rng(seed);
    const Tensor w_true = Tensor::normal({dim}, rng, 0.0f, 0.5f);
    const Data train = make_data(20000, w_true, -1.0f, rng), test = make_data(5000, w_true, -1.0f, rng);

    Var w = parameter(Tensor({dim, 1}));  // the model: p = sigmoid(x w + b)
    Var b = parameter(Tensor({1}));
    const float lr = 0.5f;
    const int n = train.x.dim(0);

    std::printf("| epoch | train loss |\n|---|---|\n");
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        std::vector<int> order = rng.permutation(n);
        double loss_sum = 0.0;
        int steps = 0;
        for (int start = 0; start < n; start += batch) {
            const int m = std::min(batch, n - start);
            Tensor xb({m, dim}), yb({m, 1});
            for (int i = 0; i < m; ++i) {
                const int r = order[static_cast<size_t>(start + i)];
                std::copy_n(train.x.data() + static_cast<size_t>(r) * dim, dim, xb.data() + static_cast<size_t>(i) * dim);
                yb[static_cast<size_t>(i)] = train.y[static_cast<size_t>(r)];
            }
            Var loss = logistic_loss(matmul(constant(xb), w) + b, constant(yb));  // forward
            w.zero_grad();
            b.zero_grad();
            backward(loss);                                                      // backward
            w.value_mut() -= w.grad() * lr;                                      // SGD step
            b.value_mut() -= b.grad() * lr;
            loss_sum += loss.item();
            ++steps;
        }
        std::printf("| %d | %.4f |\n", epoch, loss_sum / steps);
    }

    NoGrad no_grad;
    const Var test_logits = matmul(constant(test.x), w) + b;
    std::printf("\ntest AUC %.4f (the true model scores %.4f)\n", auc(test_logits.value(), test.y),
                auc(test.p, test.y));
    return 0;
}
