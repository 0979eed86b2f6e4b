// Outputs that appear whole or not at all: bytes go to a temporary file in the target's directory,
// which is flushed to disk and renamed over the target only once everything is written (rename is
// atomic on POSIX). A run killed mid-write leaves the temporary file, never a short target.
// Deliberately left out: Windows, fsync of the directory (after a power cut the rename may be lost,
// but the target is then the old file or the new one, never a mixture).
#pragma once
#include <cstddef>
#include <string>

namespace minirec {

// A file under construction: written to `path + suffix`, renamed to `path` by commit().
//     AtomicFile f(path, ".partial");  f.write(...);  f.commit();
class AtomicFile {
public:
    // Creates (truncates) the temporary file; throws std::runtime_error naming it on failure.
    AtomicFile(std::string path, std::string suffix);
    AtomicFile(AtomicFile&& other) noexcept;
    AtomicFile& operator=(AtomicFile&& other) noexcept;
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    // Closes the temporary file if it is still open and leaves it where it is (not committed).
    ~AtomicFile();

    // Appends n bytes; they reach the OS at once (a killed process keeps them in the temp file).
    void write(const void* data, size_t n);
    void write(const std::string& text) { write(text.data(), text.size()); }
    // fsync, close, rename onto the target. Throws std::runtime_error (and removes the temporary
    // file) on failure. Once committed, further calls do nothing.
    void commit();
    // Closes and removes the temporary file (the target is not touched).
    void discard();

    bool committed() const { return committed_; }
    const std::string& path() const { return path_; }
    const std::string& temp_path() const { return temp_; }

private:
    void close_fd();
    std::string path_, temp_;
    int fd_ = -1;
    bool committed_ = false;
};

// The whole of `data` to `path` at once: a temporary "<path>.tmp<pid>", then commit(). On failure
// the temporary file is removed, the target is left as it was, and std::runtime_error is thrown.
void write_file_atomic(const std::string& path, const void* data, size_t n);
inline void write_file_atomic(const std::string& path, const std::string& text) {
    write_file_atomic(path, text.data(), text.size());
}

// For tests only: when set, called at each step of AtomicFile ("opened", "wrote", "synced",
// "renamed") with the target path, so a test can kill the process exactly there. Null otherwise.
extern void (*atomic_file_test_hook)(const char* stage, const std::string& path);

}  // namespace minirec
