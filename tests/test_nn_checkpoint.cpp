// Checkpoints: bit-exact round trips (parameters, buffers, optimizer state), and files that are
// truncated, corrupted, of another version, or that do not match the model all throw a clear
// error and leave every value untouched: every truncation length and every flipped byte is tried.
// A save killed at any step (SIGKILL in a forked child) leaves the previous file at the target.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "core/rng.h"
#include "core/atomic_file.h"
#include "nn/checkpoint.h"
#include "tests/kill_util.h"

using namespace minirec;

namespace {

std::string tmp_path(const char* tag) {
    return "/tmp/minirec_test_ckpt_" + std::string(tag) + "_" + std::to_string(static_cast<long>(getpid())) + ".bin";
}

std::vector<unsigned char> read_bytes(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::vector<unsigned char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& p, const std::vector<unsigned char>& b) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

bool same_bits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// A small "model": two parameters and a buffer, with awkward values (denormal, -0, NaN bits).
struct Model {
    Var w, b;
    Tensor running;
    explicit Model(uint64_t seed) {
        Rng rng(seed);
        w = parameter(Tensor::normal(Shape{3, 4}, rng));
        b = parameter(Tensor::normal(Shape{4}, rng));
        running = Tensor::uniform(Shape{2}, rng, 0.0f, 1.0f);
    }
    NamedParams params() const { return {{"layer.weight", w}, {"layer.bias", b}}; }
    NamedBuffers buffers() { return {{"norm.running_mean", &running}}; }
};

}  // namespace

TEST_SUITE("nn") {

TEST_CASE("checkpoint round trip is bit-exact, including optimizer state") {
    const std::string path = tmp_path("roundtrip");
    Model a(1);
    a.w.value_mut()[0] = 1e-42f;   // a denormal
    a.w.value_mut()[1] = -0.0f;
    a.b.value_mut()[2] = std::nanf("");
    Adam opt(vars_of(a.params()), AdamOptions{});
    a.w.accumulate_grad(Tensor(Shape{3, 4}, 0.5f));
    a.b.accumulate_grad(Tensor(Shape{4}, -0.25f));
    opt.step();
    save_checkpoint(path, a.params(), &opt, a.buffers());

    Model b(2);
    Adam opt_b(vars_of(b.params()), AdamOptions{});
    load_checkpoint(path, b.params(), &opt_b, b.buffers());
    CHECK(same_bits(a.w.value(), b.w.value()));
    CHECK(same_bits(a.b.value(), b.b.value()));
    CHECK(same_bits(a.running, b.running));
    auto sa = opt.state(), sb = opt_b.state();
    REQUIRE(sa.size() == sb.size());
    for (size_t i = 0; i < sa.size(); ++i) {
        CAPTURE(sa[i].first);
        CHECK(same_bits(*sa[i].second, *sb[i].second));
    }
    // The next step from the loaded state equals the next step of the original.
    a.w.zero_grad(), a.b.zero_grad(), b.w.zero_grad(), b.b.zero_grad();
    a.w.accumulate_grad(Tensor(Shape{3, 4}, 0.1f));
    b.w.accumulate_grad(Tensor(Shape{3, 4}, 0.1f));
    opt.step();
    opt_b.step();
    CHECK(same_bits(a.w.value(), b.w.value()));
    std::remove(path.c_str());
}

TEST_CASE("bad checkpoint files throw and leave the model untouched") {
    const std::string path = tmp_path("bad");
    Model a(1);
    save_checkpoint(path, a.params(), nullptr, a.buffers());
    const std::vector<unsigned char> good = read_bytes(path);

    Model b(2);
    const Tensor w0 = b.w.value(), b0 = b.b.value(), r0 = b.running;
    auto untouched = [&] {
        return same_bits(b.w.value(), w0) && same_bits(b.b.value(), b0) && same_bits(b.running, r0);
    };
    auto load_b = [&] { load_checkpoint(path, b.params(), nullptr, b.buffers()); };

    SUBCASE("truncated") {
        for (size_t cut : {size_t(3), size_t(15), good.size() / 2, good.size() - 5, good.size() - 1}) {
            CAPTURE(cut);
            write_bytes(path, std::vector<unsigned char>(good.begin(), good.begin() + static_cast<long>(cut)));
            CHECK_THROWS_AS(load_b(), CheckpointError);
            CHECK(untouched());
        }
        write_bytes(path, std::vector<unsigned char>(good.begin(), good.end() - 5));
        CHECK_THROWS_WITH(load_b(), doctest::Contains("truncated"));
    }
    SUBCASE("a flipped bit in the values") {
        std::vector<unsigned char> bad = good;
        bad[bad.size() - 12] ^= 0x10;
        write_bytes(path, bad);
        CHECK_THROWS_WITH_AS(load_b(), doctest::Contains("checksum mismatch"), CheckpointError);
        CHECK(untouched());
    }
    SUBCASE("a corrupted length field") {
        std::vector<unsigned char> bad = good;
        bad[16 + 3] = 0x7f;  // the first entry's name length becomes huge
        write_bytes(path, bad);
        CHECK_THROWS_WITH_AS(load_b(), doctest::Contains("truncated or corrupted"), CheckpointError);
        CHECK(untouched());
    }
    SUBCASE("wrong magic and wrong version") {
        std::vector<unsigned char> bad = good;
        bad[0] = 'X';
        write_bytes(path, bad);
        CHECK_THROWS_WITH_AS(load_b(), doctest::Contains("not a minirec checkpoint"), CheckpointError);
        bad = good;
        bad[8] = 9;
        write_bytes(path, bad);
        CHECK_THROWS_WITH_AS(load_b(), doctest::Contains("format version 9, this build reads version 1"), CheckpointError);
        CHECK(untouched());
    }
    SUBCASE("wrong shape, missing and extra names") {
        Var w_wrong = parameter(Tensor(Shape{4, 3}, 7.0f));
        NamedParams wrong = {{"layer.weight", w_wrong}, {"layer.bias", b.b}};
        CHECK_THROWS_WITH_AS(load_checkpoint(path, wrong, nullptr, b.buffers()),
                             doctest::Contains("entry 'param:layer.weight': file has [3,4], model has [4,3]"), CheckpointError);
        CHECK(w_wrong.value()[0] == 7.0f);
        CHECK(untouched());  // layer.bias matched, but nothing is loaded unless everything matches
        NamedParams more = b.params();
        more.push_back({"layer2.weight", parameter(Tensor(Shape{1}))});
        CHECK_THROWS_WITH_AS(load_checkpoint(path, more, nullptr, b.buffers()),
                             doctest::Contains("missing entry 'param:layer2.weight'"), CheckpointError);
        CHECK_THROWS_WITH_AS(load_checkpoint(path, b.params()),  // no buffers this time
                             doctest::Contains("file has entry 'buffer:norm.running_mean' that the model does not"),
                             CheckpointError);
        CHECK(untouched());
    }
    SUBCASE("missing file") {
        std::remove(path.c_str());
        CHECK_THROWS_WITH_AS(load_b(), doctest::Contains("cannot open"), CheckpointError);
    }
    std::remove(path.c_str());
}

TEST_CASE("save_tensors refuses duplicate names and leaves no temporary file") {
    const std::string path = tmp_path("dup");
    Tensor t(Shape{2}, 1.0f);
    CHECK_THROWS_AS(save_tensors(path, {{"a", &t}, {"a", &t}}), CheckpointError);
    save_tensors(path, {{"a", &t}});
    CHECK(std::ifstream(path).good());
    CHECK_FALSE(std::ifstream(path + ".tmp" + std::to_string(static_cast<long>(getpid()))).good());
    std::remove(path.c_str());
    const unsigned char abc[3] = {'a', 'b', 'c'};
    CHECK(fnv1a32(abc, 3) == 0x1a47e90bu);  // the published FNV-1a 32 value of "abc"
}

namespace {

// Every value the checkpoint holds (parameters, buffers, optimizer state), copied.
std::vector<Tensor> snapshot(const TensorRefs& entries) {
    std::vector<Tensor> out;
    for (const auto& e : entries) out.push_back(*e.second);
    return out;
}

bool same_as(const TensorRefs& entries, const std::vector<Tensor>& snap) {
    if (entries.size() != snap.size()) return false;
    for (size_t i = 0; i < snap.size(); ++i)
        if (!same_bits(*entries[i].second, snap[i])) return false;
    return true;
}

// A model with its Adam state after one step (so the moments are not zeros).
struct Trained {
    Model m;
    Adam opt;
    explicit Trained(uint64_t seed) : m(seed), opt(vars_of(m.params()), AdamOptions{}) {
        m.w.accumulate_grad(Tensor(Shape{3, 4}, 0.5f));
        m.b.accumulate_grad(Tensor(Shape{4}, -0.25f));
        opt.step();
    }
    TensorRefs entries() { return checkpoint_entries(m.params(), m.buffers(), &opt); }
};

// Recomputes the trailing checksum, so a test reaches the check behind it (version, shapes).
void reseal(std::vector<unsigned char>& b) {
    const uint32_t h = fnv1a32(b.data(), b.size() - 4);
    for (int k = 0; k < 4; ++k) b[b.size() - 4 + k] = static_cast<unsigned char>(h >> (8 * k));
}

}  // namespace

TEST_CASE("every damaged checkpoint is rejected with a clear error, and nothing is loaded") {
    const std::string path = tmp_path("damage");
    Trained a(1);
    save_tensors(path, a.entries());
    const std::vector<unsigned char> good = read_bytes(path);
    REQUIRE(good.size() > 100);

    Trained b(2);
    const TensorRefs into = b.entries();
    const std::vector<Tensor> before = snapshot(into);
    const std::string prefix = "checkpoint '" + path + "': ";
    // Loads `bytes` into b: must throw a CheckpointError naming the file, with `why` in the
    // message, and leave every value of b as it was. Returns the message.
    auto rejected = [&](const std::vector<unsigned char>& bytes, const char* why) {
        write_bytes(path, bytes);
        std::string msg;
        try {
            load_tensors(path, into);
            msg = "(loaded without an error)";
        } catch (const CheckpointError& e) {
            msg = e.what();
        }
        const bool ok = msg.rfind(prefix, 0) == 0 && msg.find(why) != std::string::npos && same_as(into, before);
        if (!ok) MESSAGE("unexpected: " << msg);
        return ok;
    };

    SUBCASE("empty file") { CHECK(rejected({}, "empty file (0 bytes)")); }
    SUBCASE("truncated at every length") {
        int bad = 0;
        for (size_t len = 1; len < good.size(); ++len)
            if (!rejected(std::vector<unsigned char>(good.begin(), good.begin() + long(len)), "truncated")) {
                ++bad;
                MESSAGE("truncated to " << len << " bytes of " << good.size());
            }
        CHECK(bad == 0);
    }
    SUBCASE("one flipped byte at every offset (all bits, and the lowest bit alone)") {
        int bad = 0;
        for (unsigned char mask : {0xFF, 0x01})
            for (size_t at = 0; at < good.size(); ++at) {
                std::vector<unsigned char> d = good;
                d[at] ^= mask;
                // Whatever part is hit, some check catches it: magic, version, a length, the checksum.
                if (!rejected(d, "")) {
                    ++bad;
                    MESSAGE("byte " << at << " ^ " << int(mask));
                }
            }
        CHECK(bad == 0);
        std::vector<unsigned char> d = good;
        d[good.size() - 12] ^= 0x01;  // inside the last values: only the checksum can tell
        CHECK(rejected(d, "checksum mismatch"));
    }
    SUBCASE("wrong magic, wrong version (with a valid checksum)") {
        std::vector<unsigned char> d = good;
        d[0] = 'X';
        CHECK(rejected(d, "not a minirec checkpoint (bad magic bytes)"));
        CHECK(rejected({'h', 'i'}, "not a minirec checkpoint"));
        for (unsigned char v : {0, 2, 255}) {
            d = good;
            d[8] = v;
            reseal(d);
            CHECK(rejected(d, ("format version " + std::to_string(v) + ", this build reads version 1").c_str()));
        }
    }
    SUBCASE("a checkpoint of another model (other shapes, valid file)") {
        Var w = parameter(Tensor(Shape{4, 3}, 1.0f)), bias = parameter(Tensor(Shape{3}, 1.0f));
        Tensor running(Shape{2}, 0.0f);
        save_tensors(path, checkpoint_entries({{"layer.weight", w}, {"layer.bias", bias}},
                                              {{"norm.running_mean", &running}}));
        const std::vector<unsigned char> other = read_bytes(path);  // every problem is listed at once:
        CHECK(rejected(other, "entry 'param:layer.weight': file has [4,3], model has [3,4]"));
        CHECK(rejected(other, "entry 'param:layer.bias': file has [3], model has [4]"));
        CHECK(rejected(other, "missing entry 'optim:"));  // no optimizer state saved
    }
    SUBCASE("one trailing extra byte") {
        for (unsigned char extra : {0, 0x5A}) {
            std::vector<unsigned char> d = good;
            d.push_back(extra);
            CHECK(rejected(d, "1 unexpected byte(s) after the entries"));
        }
    }
    // The untouched file still loads: the failures above came from the damage alone.
    write_bytes(path, good);
    load_tensors(path, into);
    CHECK(same_as(into, snapshot(a.entries())));
    std::remove(path.c_str());
}

TEST_CASE("a save killed at any step leaves the previous checkpoint intact at the target") {
    const std::string path = tmp_path("killed");
    Trained old_model(1), new_model(2);
    save_tensors(path, old_model.entries());
    const std::vector<unsigned char> old_bytes = read_bytes(path);
    const std::string new_path = path + ".new";
    save_tensors(new_path, new_model.entries());
    const std::vector<unsigned char> new_bytes = read_bytes(new_path);
    std::remove(new_path.c_str());
    REQUIRE(old_bytes != new_bytes);

    // 1. The child kills itself (SIGKILL) exactly at each step of the atomic write. This is a
    //    simulated crash point, chosen through atomic_file_test_hook; the kill itself is real.
    static const char* kill_at = nullptr;
    for (const char* stage : {"opened", "wrote", "synced", "renamed"}) {
        CAPTURE(stage);
        write_bytes(path, old_bytes);
        const pid_t pid = testing::fork_child([&] {
            kill_at = stage;
            atomic_file_test_hook = [](const char* s, const std::string&) {
                if (std::string(s) == kill_at) raise(SIGKILL);
            };
            save_tensors(path, new_model.entries());
        });
        REQUIRE(pid > 0);
        CHECK(testing::wait_child(pid) == testing::Ended::killed);
        CHECK(read_bytes(path) == (std::string(stage) == "renamed" ? new_bytes : old_bytes));
        std::remove((path + ".tmp" + std::to_string(static_cast<long>(pid))).c_str());
    }

    // 2. Killed by the parent at moments the child does not choose, while it saves over and
    //    over: the target always holds one whole checkpoint, the old or the new, and it loads.
    int old_seen = 0, new_seen = 0;
    for (int trial = 0; trial < 10; ++trial) {
        CAPTURE(trial);
        write_bytes(path, old_bytes);
        testing::Signal started;
        const pid_t pid = testing::fork_child([&] {
            started.send();
            for (int i = 0; i < 100000; ++i) save_tensors(path, new_model.entries());
        });
        REQUIRE(pid > 0);
        REQUIRE(started.wait());
        usleep(static_cast<useconds_t>(trial * 300));  // 0 .. 2.7 ms
        kill(pid, SIGKILL);
        testing::wait_child(pid);
        const std::vector<unsigned char> now = read_bytes(path);
        CHECK((now == old_bytes || now == new_bytes));
        (now == old_bytes ? old_seen : new_seen) += 1;
        Trained c(3);
        CHECK_NOTHROW(load_tensors(path, c.entries()));
        std::remove((path + ".tmp" + std::to_string(static_cast<long>(pid))).c_str());
    }
    MESSAGE("killed savers: the target was the old checkpoint " << old_seen << " times, the new one " << new_seen);
    std::remove(path.c_str());
}

}  // TEST_SUITE
