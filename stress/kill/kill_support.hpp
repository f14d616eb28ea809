// What both kill tests (kill_test.cpp: one pool file; wallet_kill_test.cpp:
// a WalletSet directory) do the same way: the child's announcements on a
// pipe, the fork / sleep / SIGKILL / collect round, and the parsing of the
// command line's numbers.
#ifndef ADDRPOOL_STRESS_KILL_KILL_SUPPORT_HPP
#define ADDRPOOL_STRESS_KILL_KILL_SUPPORT_HPP

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

namespace addrpool::kill_support {

// Writes one announcement line from the child. One write() of at most
// PIPE_BUF bytes: the parent never sees half a line.
inline void say(int fd, const std::string& line) {
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::_exit(5);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

// The child reports a failure ("E what") and exits with status 3.
[[noreturn]] inline void child_fail(int fd, const std::string& what) {
    say(fd, "E " + what + "\n");
    ::_exit(3);
}

// A decimal number from the command line or the environment; anything else
// ends the program with status 2, naming `what`.
inline std::uint64_t parse_u64(const char* program, const char* s, const char* what) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        std::fprintf(stderr, "%s: %s must be a decimal number\n", program, what);
        std::exit(2);
    }
    return v;
}

// One round: what the child wrote before it died, and its wait status.
struct Round {
    std::string text;
    int status = 0;
};

// Forks; the child runs child(fd) (which must not return) with the write end
// of a pipe; the parent sleeps `delay`, SIGKILLs it, reaps it and reads
// everything it wrote. nullopt (after perror) if the pipe or fork failed.
template <class Child>
std::optional<Round> run_and_kill(std::chrono::microseconds delay, Child&& child) {
    int fds[2];
    if (::pipe(fds) != 0) {
        std::perror("pipe");
        return std::nullopt;
    }
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::perror("fork");
        return std::nullopt;
    }
    if (pid == 0) {
        ::close(fds[0]);
        child(fds[1]);
        ::_exit(4);  // child() must not return
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    Round r;
    while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
    }
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) r.text.append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR) break;
    }
    ::close(fds[0]);
    return r;
}

}  // namespace addrpool::kill_support

#endif  // ADDRPOOL_STRESS_KILL_KILL_SUPPORT_HPP
