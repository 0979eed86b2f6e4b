// Helpers for the tests that kill a writer mid-run: fork a child that does the writing, stop it
// with SIGKILL (from the parent, or from the child itself at a chosen step through
// atomic_file_test_hook), and look at what is left on disk. POSIX only, like the rest of minirec.
#pragma once
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

namespace minirec {
namespace testing {

// Runs f in a forked child, which leaves with _exit (no atexit handlers, no doctest report):
// status 0 when f returns, 1 when it throws. Returns the child's pid.
inline pid_t fork_child(const std::function<void()>& f) {
    std::fflush(nullptr);  // nothing buffered is written twice
    const pid_t pid = fork();
    if (pid == 0) {
        int status = 0;
        try {
            f();
        } catch (...) {
            status = 1;
        }
        _exit(status);
    }
    return pid;
}

// How a child ended.
enum class Ended { returned, threw, killed, other };
inline Ended wait_child(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return Ended::other;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return Ended::killed;
    if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? Ended::returned : Ended::threw;
    return Ended::other;
}

inline bool file_exists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }

inline std::string read_all(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// A tiny pipe so the parent can wait until the child has reached a chosen point.
struct Signal {
    int fd[2] = {-1, -1};
    Signal() {
        if (pipe(fd) != 0) fd[0] = fd[1] = -1;
    }
    ~Signal() {
        if (fd[0] >= 0) close(fd[0]);
        if (fd[1] >= 0) close(fd[1]);
    }
    void send() const {  // in the child
        const char c = 1;
        if (write(fd[1], &c, 1) != 1) _exit(3);
    }
    bool wait() {  // in the parent: true once the child sent, false if it exited first
        close(fd[1]);
        fd[1] = -1;
        char c;
        return read(fd[0], &c, 1) == 1;
    }
};

}  // namespace testing
}  // namespace minirec
