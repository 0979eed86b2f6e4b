// Checkpoints: bit-exact round trips (parameters, buffers, optimizer state), and files that are
// truncated, corrupted, of another version, or that do not match the model all throw a clear
// error and leave every value untouched.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "core/rng.h"
#include "nn/checkpoint.h"

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

}  // TEST_SUITE
