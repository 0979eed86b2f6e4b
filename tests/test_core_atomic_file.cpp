// Atomic outputs: AtomicFile / write_file_atomic, and the CSV logger and text (SVG) writer built
// on them. The kill tests fork a child that writes and stop it with SIGKILL, either from the
// parent at a moment it does not choose, or from the child itself at each step of the write;
// afterwards the target must be absent, or the old file, or the complete new one.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "tutorials/common/plot.h"
#include "nn/train.h"
#include "tests/kill_util.h"

using namespace minirec;
using namespace minirec::testing;

namespace {

std::string tmp_name(const std::string& tag) {
    return "/tmp/minirec_test_atomic_" + tag + "_" + std::to_string(static_cast<long>(getpid()));
}

// The CSV the kill tests write: a header and rows 0 .. n-1.
std::string expected_csv(int n) {
    std::string s = "step,value\n";
    for (int i = 0; i < n; ++i) s += std::to_string(i) + "," + std::to_string(2 * i) + "\n";
    return s;
}

void write_csv(const std::string& path, int n, const std::function<void(int)>& after_row) {
    CsvLogger log(path, {"step", "value"});
    for (int i = 0; i < n; ++i) {
        log.row(std::vector<double>{double(i), double(2 * i)});
        after_row(i);
    }
}

// A text of about `bytes` bytes whose last line says it is complete.
std::string big_text(size_t bytes, char fill) {
    std::string s;
    s.reserve(bytes + 16);
    while (s.size() < bytes) s += std::string(79, fill) + "\n";
    return s + "</end>\n";
}

// Set in a forked child only: the step at which it kills itself.
const char* g_kill_at = nullptr;
void kill_at_stage(const char* stage, const std::string&) {
    if (g_kill_at && std::string(stage) == g_kill_at) raise(SIGKILL);
}

}  // namespace

TEST_SUITE("nn") {

TEST_CASE("AtomicFile: nothing under the target until commit; discard and failures leave nothing") {
    const std::string path = tmp_name("basic");
    {
        AtomicFile f(path, ".partial");
        f.write("hello ");
        f.write(std::string("world"));
        CHECK_FALSE(file_exists(path));
        CHECK(read_all(path + ".partial") == "hello world");  // written through, no buffer in between
        f.commit();
        CHECK(f.committed());
        f.commit();  // a second commit does nothing
        CHECK_THROWS_AS(f.write("x"), std::runtime_error);
    }
    CHECK(read_all(path) == "hello world");
    CHECK_FALSE(file_exists(path + ".partial"));
    {
        AtomicFile f(path, ".partial");
        f.write("not kept");
    }  // destroyed without commit: the temporary file stays, the target is the old one
    CHECK(read_all(path) == "hello world");
    CHECK(read_all(path + ".partial") == "not kept");
    {
        AtomicFile f(path, ".partial");
        f.discard();
    }
    CHECK_FALSE(file_exists(path + ".partial"));
    write_file_atomic(path, std::string("replaced"));
    CHECK(read_all(path) == "replaced");
    CHECK_FALSE(file_exists(path + ".tmp" + std::to_string(static_cast<long>(getpid()))));
    CHECK_THROWS_WITH_AS(write_file_atomic("/nonexistent_dir_minirec/x.svg", std::string("x")),
                         doctest::Contains("cannot open '/nonexistent_dir_minirec/x.svg.tmp"), std::runtime_error);
    std::remove(path.c_str());
}

TEST_CASE("CsvLogger: rows go to <path>.partial, renamed on close or a clean end, kept .partial on an exception") {
    const std::string path = tmp_name("csv") + ".csv";
    {
        CsvLogger log(path, {"step", "value"});
        log.row(std::vector<double>{0, 0});
        CHECK_FALSE(file_exists(path));
        CHECK(read_all(path + ".partial") == "step,value\n0,0\n");
    }
    CHECK(read_all(path) == expected_csv(1));
    CHECK_FALSE(file_exists(path + ".partial"));
    {
        CsvLogger log(path, {"step", "value"});
        log.close();
        CHECK(read_all(path) == "step,value\n");
        CHECK_THROWS_AS(log.row(std::vector<double>{1, 2}), std::runtime_error);
    }
    std::remove(path.c_str());
    try {
        CsvLogger log(path, {"step", "value"});
        log.row(std::vector<double>{0, 0});
        throw std::runtime_error("the run failed");
    } catch (const std::runtime_error&) {
    }
    CHECK_FALSE(file_exists(path));
    CHECK(read_all(path + ".partial") == "step,value\n0,0\n");
    std::remove((path + ".partial").c_str());
}

TEST_CASE("CsvLogger killed mid-run: the target is absent or complete, the .partial keeps the rows") {
    const std::string path = tmp_name("csvkill") + ".csv";
    const int n = 200;
    // 1. Killed while it waits after row k: the target must be absent; the rows so far are in .partial.
    for (int k : {0, 1, 57, n - 1}) {
        CAPTURE(k);
        std::remove(path.c_str());
        std::remove((path + ".partial").c_str());
        Signal at_row;
        const pid_t pid = fork_child([&] {
            write_csv(path, n, [&](int i) {
                if (i == k) {
                    at_row.send();
                    pause();  // until the parent's SIGKILL
                }
            });
        });
        REQUIRE(pid > 0);
        REQUIRE(at_row.wait());
        kill(pid, SIGKILL);
        CHECK(wait_child(pid) == Ended::killed);
        CHECK_FALSE(file_exists(path));
        CHECK(read_all(path + ".partial") == expected_csv(k + 1));
    }
    // 2. Killed at a moment the child does not choose (from right after the first row to well
    //    after the end): whatever is under the target is the complete log.
    int absent = 0, complete = 0;
    for (int trial = 0; trial < 12; ++trial) {
        CAPTURE(trial);
        std::remove(path.c_str());
        std::remove((path + ".partial").c_str());
        Signal started;
        const pid_t pid = fork_child([&] {
            write_csv(path, n, [&](int i) {
                if (i == 0) started.send();
                usleep(20);
            });
        });
        REQUIRE(pid > 0);
        REQUIRE(started.wait());
        usleep(static_cast<useconds_t>(trial * trial * 300));  // 0 .. 36 ms
        kill(pid, SIGKILL);
        wait_child(pid);
        if (file_exists(path)) {
            CHECK(read_all(path) == expected_csv(n));
            ++complete;
        } else {
            ++absent;
        }
    }
    MESSAGE("killed CSV writers: " << absent << " left no target, " << complete << " finished first");
    CHECK(absent + complete == 12);
    std::remove(path.c_str());
    std::remove((path + ".partial").c_str());
}

TEST_CASE("write_text_file (SVG) killed at any step: the target is the old file or the whole new one") {
    const std::string path = tmp_name("svg") + ".svg";
    const std::string old_text = big_text(1000, 'o'), new_text = big_text(1 << 20, 'n');
    // 1. The child kills itself exactly at each step of the write.
    for (const char* stage : {"opened", "wrote", "synced", "renamed"}) {
        CAPTURE(stage);
        write_text_file(path, old_text);
        const pid_t pid = fork_child([&] {
            g_kill_at = stage;
            atomic_file_test_hook = kill_at_stage;
            write_text_file(path, new_text);
        });
        REQUIRE(pid > 0);
        CHECK(wait_child(pid) == Ended::killed);
        const std::string now = read_all(path);
        if (std::string(stage) == "renamed") CHECK(now == new_text);
        else CHECK(now == old_text);
        std::remove((path + ".tmp" + std::to_string(static_cast<long>(pid))).c_str());
    }
    // 2. Killed by the parent at a moment the child does not choose, while it writes 1 MiB
    //    files over and over: the target is always one whole file.
    int old_seen = 0, new_seen = 0;
    for (int trial = 0; trial < 10; ++trial) {
        CAPTURE(trial);
        write_text_file(path, old_text);
        Signal started;
        const pid_t pid = fork_child([&] {
            started.send();
            for (int i = 0; i < 1000; ++i) write_text_file(path, new_text);
        });
        REQUIRE(pid > 0);
        REQUIRE(started.wait());
        usleep(static_cast<useconds_t>(trial * 1500));  // 0 .. 13.5 ms
        kill(pid, SIGKILL);
        wait_child(pid);
        const std::string now = read_all(path);
        CHECK((now == old_text || now == new_text));
        (now == old_text ? old_seen : new_seen) += 1;
        std::remove((path + ".tmp" + std::to_string(static_cast<long>(pid))).c_str());
    }
    MESSAGE("killed text writers: target was the old file " << old_seen << " times, the new one " << new_seen);
    std::remove(path.c_str());
}

}  // TEST_SUITE
