// Chapter 62's world: events whose label depends on the user and item (known at serving) and on a
// per-event intent that only a post-event reading, the privileged feature X*, reveals (dwell time
// for CVR, say). Deliberately left out: more than one privileged feature, time, position.
//   s(u, i) = base + q_i + <p_u, v_i>          what the serving features can know
//   e ~ N(0, intent_std^2), fresh per event   the user's intent in this one visit
//   y ~ Bernoulli(sigmoid(s(u, i) + e))
//   X* = s(u, i) + e + N(0, reading_noise^2)   the privileged reading, logged after the event
// With a small reading_noise X* is almost a readout of the label's logit; a large one makes it a
// weakly informative feature (chapter 62's control world). Ranking by s(u, i) is the best any
// servable model can do. Events become model inputs with gather().
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace minirec {
namespace datasets {

struct PrivilegedOptions {
    int users = 200, items = 100, latent_dim = 4;
    int train_events = 40000, test_events = 20000;
    double base = -1.0, quality_std = 0.7, affinity_std = 0.8;
    double intent_std = 1.0;       // how much of the label the serving features cannot know
    double reading_noise = 0.5;    // how well X* reads the visit's interest s + e (0 = exactly)
};

struct PrivilegedEvent {
    int32_t user, item;
    float privileged, label;
};

struct PrivilegedWorld {
    int users = 0, items = 0;
    std::vector<double> truth;     // (users x items) s(u, i)
    std::vector<PrivilegedEvent> train, test;
    double click_rate = 0.0;       // of the training events
};

PrivilegedWorld privileged_events(const PrivilegedOptions& o, uint64_t seed);

// Events as model inputs: ids (n * 2) user and item (one vocabulary, users then items: item i is
// w.users + i); X* (n, 1); labels (n, 1).
struct PrivilegedBatch {
    Ids user_item;
    Tensor privileged, label;
};
PrivilegedBatch gather(const PrivilegedWorld& w, const std::vector<PrivilegedEvent>& events, const std::vector<int>& rows);
PrivilegedBatch gather_all(const PrivilegedWorld& w, const std::vector<PrivilegedEvent>& events);   // every event, in order
// The oracle's scores: s(u, i) of every event.
std::vector<float> truth_scores(const PrivilegedWorld& w, const std::vector<PrivilegedEvent>& events);

}  // namespace datasets
}  // namespace minirec
