// Atomic file writes with POSIX calls (open, write, fsync, rename): no stdio buffer sits between
// our write() and the kernel, so what a killed process wrote is in the temporary file.
#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace minirec {

void (*atomic_file_test_hook)(const char* stage, const std::string& path) = nullptr;

namespace {

void hook(const char* stage, const std::string& path) {
    if (atomic_file_test_hook) atomic_file_test_hook(stage, path);
}

[[noreturn]] void fail(const std::string& what, int err) {
    throw std::runtime_error(what + ": " + std::strerror(err));
}

}  // namespace

AtomicFile::AtomicFile(std::string path, std::string suffix) : path_(std::move(path)), temp_(path_ + suffix) {
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);  // minus the umask, as fopen
    if (fd_ < 0) fail("cannot open '" + temp_ + "' for writing", errno);
    hook("opened", path_);
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : path_(std::move(o.path_)), temp_(std::move(o.temp_)), fd_(std::exchange(o.fd_, -1)), committed_(o.committed_) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& o) noexcept {
    if (this != &o) {
        close_fd();
        path_ = std::move(o.path_);
        temp_ = std::move(o.temp_);
        fd_ = std::exchange(o.fd_, -1);
        committed_ = o.committed_;
    }
    return *this;
}

AtomicFile::~AtomicFile() { close_fd(); }

void AtomicFile::close_fd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void AtomicFile::write(const void* data, size_t n) {
    if (committed_) throw std::runtime_error("'" + path_ + "' is already committed: no more writes");
    if (fd_ < 0) throw std::runtime_error("'" + temp_ + "' is closed: no more writes");
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t k = ::write(fd_, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) fail("writing '" + temp_ + "' failed", errno);
        p += k;
        n -= static_cast<size_t>(k);
    }
    hook("wrote", path_);
}

void AtomicFile::commit() {
    if (committed_) return;
    if (fd_ < 0) throw std::runtime_error("'" + temp_ + "' is closed: cannot commit it");
    // The data reaches the disk before the rename makes it visible under the real name.
    const int sync_err = ::fsync(fd_) == 0 ? 0 : errno;
    const int close_err = ::close(fd_) == 0 ? 0 : errno;
    fd_ = -1;
    if (sync_err || close_err) {
        std::remove(temp_.c_str());
        fail("writing '" + temp_ + "' failed (disk full?)", sync_err ? sync_err : close_err);
    }
    hook("synced", path_);
    if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        std::remove(temp_.c_str());
        fail("cannot rename '" + temp_ + "' to '" + path_ + "'", err);
    }
    committed_ = true;
    hook("renamed", path_);
}

void AtomicFile::discard() {
    if (committed_) return;
    close_fd();
    std::remove(temp_.c_str());
}

void write_file_atomic(const std::string& path, const void* data, size_t n) {
    AtomicFile f(path, ".tmp" + std::to_string(static_cast<long>(getpid())));
    try {
        f.write(data, n);
        f.commit();
    } catch (...) {
        f.discard();
        throw;
    }
}

}  // namespace minirec
